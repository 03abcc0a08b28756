package diff

import (
	"regexp"
	"sort"
	"strings"
)

type causeInfo struct{ title, fix string }

// catalogue is every cause the engine can name, with the fix to try.
var catalogue = map[string]causeInfo{
	"timestamps": {"Timestamps embedded (archive mtimes, header dates, dates in files)",
		"Set SOURCE_DATE_EPOCH and clamp times: tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime, gzip -n, zip -X or strip-nondeterminism; avoid __DATE__/__TIME__ and `date` in build scripts"},
	"file-order": {"Entries are in a different order",
		"Sort entries when archiving: tar --sort=name, `find | sort` before zip/cpio; do not rely on readdir order"},
	"build-date": {"A date or year taken from the build's clock",
		"Derive it from SOURCE_DATE_EPOCH instead of the clock: date -u -d @$SOURCE_DATE_EPOCH (dpkg-buildpackage sets it from debian/changelog); avoid __DATE__, __TIME__ and `date` in build scripts"},
	"build-path": {"Build directory path embedded",
		"Build in a fixed path, or strip it: go build -trimpath, -ffile-prefix-map=$PWD=., -fdebug-prefix-map, RUSTFLAGS=--remap-path-prefix"},
	"uid-gid": {"Owners differ (uid/gid or user and group names)",
		"Archive with fixed owners: tar --owner=0 --group=0 --numeric-owner; run the build as the same user"},
	"file-mode": {"File permissions differ",
		"Set umask 022 for the build and chmod explicitly before archiving (tar --mode=go-w,u+rw)"},
	"compression": {"Compression level, method or implementation differs",
		"Pin the compressor, its version and level (gzip -9n, xz -6, zstd -19, zip -9 -X); avoid multi-threaded compressors whose output depends on the core count"},
	"stripped-symbols": {"One side is stripped (symbol table or debug sections missing)",
		"Strip the same way on both sides (go build -ldflags='-s -w', strip --strip-debug) or keep both unstripped"},
	"go-build-settings": {"Go build settings differ (flags, -ldflags, tags, CGO, GOOS/GOARCH, VCS stamping)",
		"Build with the same go build flags as the published binary: -trimpath, -ldflags, -tags, -buildvcs, CGO_ENABLED and GO* variables (see `go version -m`)"},
	"go-toolchain": {"Different Go toolchain version",
		"Build with the exact Go version recorded in the binary (GOTOOLCHAIN=goX.Y.Z)"},
	"go-module-versions": {"Go module dependency versions differ",
		"Build from the same go.mod/go.sum and vendor tree; check replace directives and GOFLAGS=-mod"},
	"go-vcs-modified": {"Go binary built from a checkout with uncommitted changes (vcs.modified=true)",
		"Its recorded commit is not its whole source: rebuild and publish from a clean checkout of a pushed commit, or get the exact source from the publisher"},
	"build-id": {"Build IDs differ",
		"Build IDs are derived from the inputs: fix the other differences first; for C use --build-id=sha1, for Go do not pass -ldflags=-buildid=<random>"},
	"random-ids": {"Random-looking identifiers differ (UUIDs, hashes, nonces)",
		"Derive identifiers from content or SOURCE_DATE_EPOCH and seed random generators deterministically"},
	"archive-format": {"Archive or stream encoding differs (header format, padding, extra fields)",
		"Use the same archiver, version and format option on both sides (tar --format=gnu|pax|ustar, zip -X)"},
	"serialization": {"Same data serialized differently (JSON key order or whitespace)",
		"Serialize with sorted keys and a fixed indentation"},
}

// CauseCatalogue lists every cause the engine can name, with its title and
// fix; Members and Weight are empty.
func CauseCatalogue() []Cause {
	out := make([]Cause, 0, len(catalogue))
	for id, ci := range catalogue {
		out = append(out, Cause{ID: id, Title: ci.title, Fix: ci.fix})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// maxCauseMembers bounds the members a cause lists: the report names a
// few, and Weight still counts every node.
const maxCauseMembers = 200

// rankCauses collects the causes named in the tree, each with the members it
// covers, most explaining first. Weight counts the nodes a cause explains.
func rankCauses(root *Node) []Cause {
	byID := map[string]*Cause{}
	seen := map[string]map[string]bool{}
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, id := range n.Causes {
			cs := byID[id]
			if cs == nil {
				ci := catalogue[id]
				cs = &Cause{ID: id, Title: ci.title, Fix: ci.fix, Members: []string{}}
				byID[id] = cs
				seen[id] = map[string]bool{}
			}
			cs.Weight++
			if len(cs.Members) < maxCauseMembers && !seen[id][n.Source2] {
				seen[id][n.Source2] = true
				cs.Members = append(cs.Members, n.Source2)
			}
		}
		for _, d := range n.Details {
			walk(d)
		}
	}
	if root != nil {
		walk(root)
	}
	out := make([]Cause, 0, len(byID))
	for _, cs := range byID {
		out = append(out, *cs)
	}
	sort.Slice(out, func(i, j int) bool {
		if ci, cj := consequences[out[i].ID], consequences[out[j].ID]; ci != cj {
			return cj
		}
		if out[i].Weight != out[j].Weight {
			return out[i].Weight > out[j].Weight
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// consequences are causes that follow from any other difference (a build
// ID hashes every input): they rank after the causes they may follow from.
var consequences = map[string]bool{"build-id": true}

func addCause(n *Node, ids ...string) {
	for _, id := range ids {
		found := false
		for _, have := range n.Causes {
			if have == id {
				found = true
				break
			}
		}
		if !found {
			n.Causes = append(n.Causes, id)
		}
	}
}

// setCauses replaces the causes of n and everything below it with ids.
func setCauses(n *Node, ids ...string) {
	for _, d := range n.Details {
		setCauses(d)
	}
	n.Causes = nil
	addCause(n, ids...)
}

type textPattern struct {
	cause string
	re    *regexp.Regexp
}

// textPatterns, applied in order: each masks what it matched before the
// next runs, so a date inside a path is not also counted as a path.
var textPatterns = []textPattern{
	{"random-ids", regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)},
	{"timestamps", regexp.MustCompile(`\b(19|20)\d\d[-/.](0[1-9]|1[0-2])[-/.](0[1-9]|[12]\d|3[01])([T ]\d{1,2}:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:?\d\d)?)?`)},
	{"timestamps", regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? +(\d{1,2} +)?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d{1,2}( +\d\d:\d\d:\d\d)?( +\d{4})?|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d{1,2},? +(\d{4}|\d\d:\d\d(:\d\d)?)`)},
	{"timestamps", regexp.MustCompile(`\b\d{1,2}:\d\d:\d\d\b`)},
	{"timestamps", regexp.MustCompile(`\b1[0-9]{9}\b`)},
	{"random-ids", regexp.MustCompile(`(?i)\b[0-9a-f]{16,}\b`)},
	{"build-path", regexp.MustCompile(`(/[A-Za-z0-9._+@~-]+){2,}/?|\b[A-Z]:\\[^\s"']+`)},
}

// classifyText names the causes that explain why the removed lines became
// the added ones. A cause is named when the values it matches differ between
// the sides; when masking them all makes the sides equal, they explain the
// whole change.
func classifyText(removed, added []string) []string {
	if len(removed) == 0 || len(added) == 0 {
		return nil
	}
	ra := strings.Join(removed, "\n")
	rb := strings.Join(added, "\n")
	if len(ra) > 1<<20 {
		ra = ra[:1<<20]
	}
	if len(rb) > 1<<20 {
		rb = rb[:1<<20]
	}
	var ids []string
	for _, p := range textPatterns {
		ma := p.re.FindAllString(ra, 64)
		mb := p.re.FindAllString(rb, 64)
		if !equalStrings(ma, mb) {
			ids = appendUnique(ids, p.cause)
		}
		ra = p.re.ReplaceAllString(ra, "\x00"+p.cause+"\x00")
		rb = p.re.ReplaceAllString(rb, "\x00"+p.cause+"\x00")
	}
	return ids
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func appendUnique(ids []string, id string) []string {
	for _, have := range ids {
		if have == id {
			return ids
		}
	}
	return append(ids, id)
}
