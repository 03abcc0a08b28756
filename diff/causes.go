package diff

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// CauseID names one likely reason for a difference. Every ID the engine
// can emit is one of the constants below and has an entry in the
// catalogue (Causes); formats name causes only through these constants.
type CauseID string

// The causes the engine names.
const (
	CauseTimestamps         CauseID = "timestamps"
	CauseEmbeddedDate       CauseID = "embedded-date"
	CauseBuildDate          CauseID = "build-date"
	CauseFileOrder          CauseID = "file-order"
	CauseBuildPath          CauseID = "build-path"
	CauseHostname           CauseID = "hostname"
	CauseUIDGID             CauseID = "uid-gid"
	CauseFileMode           CauseID = "file-mode"
	CauseFileType           CauseID = "file-type"
	CauseRenamed            CauseID = "renamed"
	CauseCompression        CauseID = "compression"
	CauseCompressionChanged CauseID = "compression-changed"
	CauseStrippedSymbols    CauseID = "stripped-symbols"
	CauseJavaDebugInfo      CauseID = "java-debug-info"
	CauseGoBuildSettings    CauseID = "go-build-settings"
	CauseGoToolchain        CauseID = "go-toolchain"
	CauseGoModuleVersions   CauseID = "go-module-versions"
	CauseGoVCSModified      CauseID = "go-vcs-modified"
	CauseGoStampedString    CauseID = "go-stamped-string"
	CauseBuildID            CauseID = "build-id"
	CauseChecksums          CauseID = "checksums"
	CauseRandomIDs          CauseID = "random-ids"
	CauseArchiveFormat      CauseID = "archive-format"
	CauseSerialization      CauseID = "serialization"
)

// CauseInfo is one entry of the cause catalogue.
type CauseInfo struct {
	ID    CauseID `json:"id"`
	Title string  `json:"title"` // one line for people
	Fix   string  `json:"fix"`   // what to try
	// Consequence marks a cause that follows from any other difference
	// (a build ID hashes every input, a checksum list every file): it
	// ranks after the causes it may follow from.
	Consequence bool `json:"consequence,omitempty"`
}

// causeCatalogue is every cause the engine can name, with the fix to try.
var causeCatalogue = []CauseInfo{
	{CauseTimestamps, "Timestamps embedded (archive mtimes, header dates, dates in files)",
		"Set SOURCE_DATE_EPOCH and clamp times: tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime, gzip -n, zip -X or strip-nondeterminism; avoid __DATE__/__TIME__ and `date` in build scripts", false},
	{CauseEmbeddedDate, "A date or time recorded inside a binary format (PNG tIME, PDF CreationDate/ModDate, XMP dates, .pyc source mtime, squashfs mkfs time, ISO 9660 volume dates, PE timestamp)",
		"Make the tool honour SOURCE_DATE_EPOCH or strip the field: optipng -strip all or strip-nondeterminism for PNG, FORCE_SOURCE_DATE=1 for PDF producers, python -m compileall --invalidation-mode checked-hash, mksquashfs -mkfs-time and -all-time, xorriso -volume_date all_file_dates, link PE files with /Brepro", false},
	{CauseBuildDate, "A date or year taken from the build's clock",
		"Derive it from SOURCE_DATE_EPOCH instead of the clock: date -u -d @$SOURCE_DATE_EPOCH (dpkg-buildpackage sets it from debian/changelog); avoid __DATE__, __TIME__ and `date` in build scripts", false},
	{CauseFileOrder, "Entries are in a different order",
		"Sort entries when archiving: tar --sort=name, `find | sort` before zip/cpio; do not rely on readdir order", false},
	{CauseBuildPath, "Build directory path embedded",
		"Build in a fixed path, or strip it: go build -trimpath, -ffile-prefix-map=$PWD=., -fdebug-prefix-map, RUSTFLAGS=--remap-path-prefix", false},
	{CauseHostname, "Build host name embedded",
		"Build on a fixed host name (the sandbox sets one) or keep `hostname`/`uname -n` out of generated files", false},
	{CauseUIDGID, "Owners differ (uid/gid or user and group names)",
		"Archive with fixed owners: tar --owner=0 --group=0 --numeric-owner; run the build as the same user", false},
	{CauseFileMode, "File permissions differ",
		"Set umask 022 for the build and chmod explicitly before archiving (tar --mode=go-w,u+rw)", false},
	{CauseFileType, "The two sides are different kinds of file (e.g. a .deb against a .tar.gz)",
		"Compare the same artifact: check the published name, the build's output path and the packaging step", false},
	{CauseRenamed, "Members were renamed (a versioned top folder or file name)",
		"Name folders and files without build-specific parts, or compare the artifacts of the same version", false},
	{CauseCompression, "Compression level, method or implementation differs",
		"Pin the compressor, its version and level (gzip -9n, xz -6, zstd -19, zip -9 -X); avoid multi-threaded compressors whose output depends on the core count", false},
	{CauseCompressionChanged, "A different compression format is used (gzip against xz, zstd…)",
		"Use the same compressor as the published artifact (dpkg-deb -Zxz, tar --zstd…); its content is compared below", false},
	{CauseStrippedSymbols, "One side is stripped (symbol table or debug sections missing)",
		"Strip the same way on both sides (go build -ldflags='-s -w', strip --strip-debug) or keep both unstripped", false},
	{CauseJavaDebugInfo, "Java debug information level differs (javac -g, -g:none, -g:source,lines)",
		"Compile with the same -g option as the published classes (Maven: maven.compiler.debug / debuglevel)", false},
	{CauseGoBuildSettings, "Go build settings differ (flags, -ldflags, tags, CGO, GOOS/GOARCH, VCS stamping)",
		"Build with the same go build flags as the published binary: -trimpath, -ldflags, -tags, -buildvcs, CGO_ENABLED and GO* variables (see `go version -m`)", false},
	{CauseGoToolchain, "Different Go toolchain version",
		"Build with the exact Go version recorded in the binary (GOTOOLCHAIN=goX.Y.Z)", false},
	{CauseGoModuleVersions, "Go module dependency versions differ",
		"Build from the same go.mod/go.sum and vendor tree; check replace directives and GOFLAGS=-mod", false},
	{CauseGoVCSModified, "Go binary built from a checkout with uncommitted changes (vcs.modified=true)",
		"Its recorded commit is not its whole source: rebuild and publish from a clean checkout of a pushed commit, or get the exact source from the publisher", false},
	{CauseGoStampedString, "A string stamped into the Go binary (go build -ldflags=-X) is in one side only",
		"Build with the same -ldflags -X flags as the published binary (goreleaser's ldflags, a Makefile's VERSION/COMMIT/DATE): the string shown is the value set", false},
	{CauseBuildID, "Build IDs differ",
		"Build IDs are derived from the inputs: fix the other differences first; for C use --build-id=sha1, for Go do not pass -ldflags=-buildid=<random>", true},
	{CauseChecksums, "Checksums listed for files that differ (md5sums, SHA256SUMS, RECORD)",
		"These follow from the files they list: fix those differences first", true},
	{CauseRandomIDs, "Random-looking identifiers differ (UUIDs, hashes, nonces)",
		"Derive identifiers from content or SOURCE_DATE_EPOCH and seed random generators deterministically", false},
	{CauseArchiveFormat, "Archive or stream encoding differs (header format, padding, extra fields)",
		"Use the same archiver, version and format option on both sides (tar --format=gnu|pax|ustar, zip -X)", false},
	{CauseSerialization, "Same data serialized differently (JSON key order or whitespace)",
		"Serialize with sorted keys and a fixed indentation", false},
}

// Causes lists every cause the engine can name, in catalogue order.
func Causes() []CauseInfo { return append([]CauseInfo(nil), causeCatalogue...) }

// LookupCause returns the catalogue entry of id.
func LookupCause(id CauseID) (CauseInfo, bool) {
	for _, ci := range causeCatalogue {
		if ci.ID == id {
			return ci, true
		}
	}
	return CauseInfo{}, false
}

// maxCauseMembers bounds the members a cause lists: the report names a
// few, and Weight still counts every node.
const maxCauseMembers = 200

// maxCauseEvidence bounds the evidence lines a ranked cause quotes.
const maxCauseEvidence = 5

// rankCauses collects the causes named in the tree, each with the members it
// covers and a few pieces of evidence, most explaining first. Weight counts
// the nodes a cause explains.
func rankCauses(root *Node) []Cause {
	byID := map[CauseID]*Cause{}
	seen := map[CauseID]map[string]bool{}
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, id := range n.Causes {
			cs := byID[id]
			if cs == nil {
				ci, _ := LookupCause(id)
				cs = &Cause{ID: id, Title: ci.Title, Fix: ci.Fix, Members: []string{}}
				byID[id] = cs
				seen[id] = map[string]bool{}
			}
			cs.Weight++
			if len(cs.Members) < maxCauseMembers && !seen[id][n.Source2] {
				seen[id][n.Source2] = true
				cs.Members = append(cs.Members, n.Source2)
			}
			for _, e := range n.Evidence {
				if e.Cause == id && len(cs.Evidence) < maxCauseEvidence && !contains(cs.Evidence, e.Text) {
					cs.Evidence = append(cs.Evidence, e.Text)
				}
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
		ci, _ := LookupCause(out[i].ID)
		cj, _ := LookupCause(out[j].ID)
		if ci.Consequence != cj.Consequence {
			return cj.Consequence
		}
		if out[i].Weight != out[j].Weight {
			return out[i].Weight > out[j].Weight
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// maxEvidenceLen bounds one piece of evidence: it quotes untrusted bytes.
const maxEvidenceLen = 300

// addCause names cause id on n with the evidence that triggered it
// ("build path: /home/x/src → /tmp/src"). A cause already named keeps its
// first evidence; more evidence for it is added up to a few lines.
func addCause(n *Node, id CauseID, evidence string) {
	if len(evidence) > maxEvidenceLen {
		evidence = evidence[:maxEvidenceLen] + "…"
	}
	if !hasCause(n, id) {
		n.Causes = append(n.Causes, id)
	}
	count := 0
	for _, e := range n.Evidence {
		if e.Cause == id {
			if e.Text == evidence {
				return
			}
			count++
		}
	}
	if count < maxCauseEvidence {
		n.Evidence = append(n.Evidence, Evidence{Cause: id, Text: evidence})
	}
}

// addFindings names each finding's cause on n.
func addFindings(n *Node, fs []finding) {
	for _, f := range fs {
		addCause(n, f.cause, f.evidence)
	}
}

// copyCauses names on dst every cause of src, with its evidence.
func copyCauses(dst, src *Node) {
	for _, id := range src.Causes {
		found := false
		for _, e := range src.Evidence {
			if e.Cause == id {
				addCause(dst, id, e.Text)
				found = true
			}
		}
		if !found {
			addCause(dst, id, src.Source2)
		}
	}
}

// clearCauses removes the causes of n and everything below it.
func clearCauses(n *Node) {
	for _, d := range n.Details {
		clearCauses(d)
	}
	n.Causes, n.Evidence = nil, nil
}

func hasCause(n *Node, id CauseID) bool {
	for _, c := range n.Causes {
		if c == id {
			return true
		}
	}
	return false
}

// finding is one cause with its evidence, before it is put on a node.
type finding struct {
	cause    CauseID
	evidence string
}

type textPattern struct {
	cause CauseID
	what  string // how evidence names the values: "build path"
	re    *regexp.Regexp
}

// textPatterns, applied in order: each masks what it matched before the
// next runs, so a date inside a path is not also counted as a path, and a
// checksum list's hashes are not random identifiers.
var textPatterns = []textPattern{
	{CauseChecksums, "checksum", regexp.MustCompile(`(?m)^[0-9a-f]{32,128}[ \t]+\*?[^\s].*$`)},
	{CauseRandomIDs, "UUID", regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)},
	{CauseHostname, "host name", regexp.MustCompile(`(?i)\b(?:build[ _-]?host|host[ _-]?name|hostname|built on host|built on|on host|uname -n|nodename)\s*[:=]?\s*["']?[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*|\b[a-z_][a-z0-9_-]{0,31}@[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\b`)},
	{CauseTimestamps, "date", regexp.MustCompile(`\b(19|20)\d\d[-/.](0[1-9]|1[0-2])[-/.](0[1-9]|[12]\d|3[01])([T ]\d{1,2}:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:?\d\d)?)?`)},
	{CauseTimestamps, "date", regexp.MustCompile(`\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? +(\d{1,2} +)?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d{1,2}( +\d\d:\d\d:\d\d)?( +\d{4})?|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d{1,2},? +(\d{4}|\d\d:\d\d(:\d\d)?)`)},
	{CauseTimestamps, "time", regexp.MustCompile(`\b\d{1,2}:\d\d:\d\d\b`)},
	{CauseTimestamps, "Unix time", regexp.MustCompile(`\b1[0-9]{9}\b`)},
	{CauseRandomIDs, "hex identifier", regexp.MustCompile(`(?i)\b[0-9a-f]{16,}\b`)},
	{CauseBuildPath, "build path", regexp.MustCompile(`(/[A-Za-z0-9._+@~-]+){2,}/?|\b[A-Z]:\\[^\s"']+`)},
}

// classifyText names the causes that explain why the removed lines became
// the added ones, each with the first pair of values that differ. A cause
// is named when the values it matches differ between the sides; when
// masking them all makes the sides equal, they explain the whole change.
func classifyText(removed, added []string) []finding {
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
	var out []finding
	have := map[CauseID]bool{}
	for _, p := range textPatterns {
		ma := p.re.FindAllString(ra, 64)
		mb := p.re.FindAllString(rb, 64)
		if !equalStrings(ma, mb) && !have[p.cause] {
			have[p.cause] = true
			out = append(out, finding{p.cause, p.what + ": " + firstChange(ma, mb)})
		}
		mask := "\x00" + string(p.cause) + "\x00"
		ra = p.re.ReplaceAllLiteralString(ra, mask)
		rb = p.re.ReplaceAllLiteralString(rb, mask)
	}
	// "built 2024-05-01 09:00 on buildd-3": a name right after a date,
	// which only shows once the date is masked.
	if !have[CauseHostname] {
		ma, mb := submatches(hostAfterDate, ra), submatches(hostAfterDate, rb)
		if !equalStrings(ma, mb) {
			out = append(out, finding{CauseHostname, "host name after a date: " + firstChange(ma, mb)})
		}
	}
	return out
}

// hostAfterDate is a date or time (masked by classifyText) followed by
// "on HOST": the shape of `echo "built $(date) on $(hostname)"`.
var hostAfterDate = regexp.MustCompile(`\x00timestamps\x00\s+(?:on|@)\s+([A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*)`)

// submatches returns the first group of each match of re in s.
func submatches(re *regexp.Regexp, s string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, 64) {
		out = append(out, m[1])
	}
	return out
}

// firstChange says the first value that differs between two lists of
// matches: "old → new", "(none) → new".
func firstChange(a, b []string) string {
	inB := map[string]bool{}
	for _, s := range b {
		inB[s] = true
	}
	inA := map[string]bool{}
	for _, s := range a {
		inA[s] = true
	}
	var x, y string
	for _, s := range a {
		if !inB[s] {
			x = s
			break
		}
	}
	for _, s := range b {
		if !inA[s] {
			y = s
			break
		}
	}
	if x == "" && y == "" {
		return fmt.Sprintf("%d values → %d values", len(a), len(b))
	}
	return orNone(strings.TrimSpace(x)) + " → " + orNone(strings.TrimSpace(y))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
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
