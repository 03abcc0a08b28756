package golang

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// releaseFacts are the values goreleaser's template fields can have had for
// this binary, best first, read from what the binary records: the build
// info (module version, vcs.revision, vcs.time, GOOS…), strings in the
// binary (a build date, a short commit), and the tags of the pinned commit.
type releaseFacts struct {
	values map[string][]string // Version, Tag, ShortCommit, Date… → candidates
	fixed  map[string]any      // fields with one value (ints, bools, Runtime)
}

// goreleaser fields that no build records: rendered as named unknowns.
var unrecordedFields = []string{"Branch", "PreviousTag", "GitURL", "Summary", "TagSubject", "TagContents",
	"TagBody", "ReleaseURL", "ReleaseNotes", "Now", "FirstCommit"}

// newReleaseFacts gathers the values; tags are the repository's tags at the
// commit, then the nearest tag before it (goreleaser's current tag).
func newReleaseFacts(b *buildInfo, f binaryFacts, tags []string, project string) *releaseFacts {
	rf := emptyReleaseFacts()
	rf.tags(b, f, tags)
	rf.commits(b, f)
	rf.dates(b, f)
	t := b.target()
	rf.fixed["Os"], rf.fixed["Arch"], rf.fixed["Amd64"], rf.fixed["Target"] = t.goos, t.goarch, t.goamd64, t.String()
	rf.fixed["Runtime"] = map[string]string{"Goos": t.goos, "Goarch": t.goarch}
	rf.fixed["ProjectName"], rf.fixed["ModulePath"] = project, b.Main.Path
	dirty := b.set["vcs.modified"] == "true"
	rf.fixed["IsGitDirty"], rf.fixed["IsGitClean"] = dirty, !dirty
	rf.fixed["GitTreeState"] = map[bool]string{true: "dirty", false: "clean"}[dirty]
	return rf
}

// emptyReleaseFacts knows nothing but what no release records.
func emptyReleaseFacts() *releaseFacts {
	rf := &releaseFacts{values: map[string][]string{}, fixed: map[string]any{}}
	for _, k := range []string{"IsSnapshot", "IsNightly", "IsDraft", "IsSingleTarget"} {
		rf.fixed[k] = false
	}
	for _, k := range unrecordedFields {
		rf.fixed[k] = unknownMark(k)
	}
	return rf
}

// tags: {{.Tag}} is the tag at the commit (or the nearest before it), and
// {{.Version}} that tag without its v. A release module version the go
// command stamped from the tag comes first; tags found in the binary next.
func (rf *releaseFacts) tags(b *buildInfo, f binaryFacts, tags []string) {
	var cands []string
	if v := b.Main.Version; semver.IsValid(v) && !isPseudo(v) {
		cands = append(cands, strings.TrimSuffix(strings.TrimSuffix(v, "+dirty"), "+incompatible"))
	}
	cands = append(cands, tags...)
	cands = dedupe(cands)
	sort.SliceStable(cands, func(i, j int) bool {
		return f.evidence(strings.TrimPrefix(cands[i], "v")) > f.evidence(strings.TrimPrefix(cands[j], "v"))
	})
	for _, t := range cands {
		rf.values["Tag"] = append(rf.values["Tag"], t)
		rf.values["Version"] = append(rf.values["Version"], strings.TrimPrefix(t, "v"))
	}
}

// commits: {{.Commit}} and {{.FullCommit}} are vcs.revision; {{.ShortCommit}}
// is git's abbreviation (7 characters or more in large repositories): the
// lengths the binary holds as a string of their own first.
func (rf *releaseFacts) commits(b *buildInfo, f binaryFacts) {
	rev := b.set["vcs.revision"]
	if rev == "" {
		return
	}
	rf.values["Commit"], rf.values["FullCommit"] = []string{rev}, []string{rev}
	var short []string
	for n := 7; n <= 12 && n < len(rev); n++ {
		short = append(short, rev[:n])
	}
	sort.SliceStable(short, func(i, j int) bool { return f.evidence(short[i]) > f.evidence(short[j]) })
	rf.values["ShortCommit"] = short
}

// rfc3339Re is goreleaser's {{.Date}} and {{.CommitDate}}: RFC 3339 in UTC.
var rfc3339Re = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z`)

// dates: {{.CommitDate}} is vcs.time; {{.Date}}, the build's time, is read
// off the binary (RFC 3339 strings outside the build info), else taken to
// be the commit's; {{.Timestamp}} likewise as Unix seconds.
func (rf *releaseFacts) dates(b *buildInfo, f binaryFacts) {
	var commit time.Time
	if vt := b.set["vcs.time"]; vt != "" {
		if t, err := time.Parse(time.RFC3339Nano, vt); err == nil {
			commit = t.UTC()
			rf.values["CommitDate"] = []string{commit.Format(time.RFC3339)}
			rf.fixed["CommitTimestamp"] = commit.Unix()
		}
	}
	found := f.find(rfc3339Re, 16)
	sort.SliceStable(found, func(i, j int) bool { return f.evidence(found[i]) > f.evidence(found[j]) })
	dates := found
	if !commit.IsZero() {
		dates = append(dates, commit.Format(time.RFC3339))
	}
	rf.values["Date"] = dedupe(dates)
	var stamps []string
	for _, d := range rf.values["Date"] {
		if t, err := time.Parse(time.RFC3339, d); err == nil {
			stamps = append(stamps, strconv.FormatInt(t.Unix(), 10))
		}
	}
	rf.values["Timestamp"] = stamps
}

// data is the template data for one choice of each field's value (index
// into its candidates; missing means the first).
func (rf *releaseFacts) data(choice map[string]int, env map[string]string) map[string]any {
	d := map[string]any{}
	for k, v := range rf.fixed {
		d[k] = v
	}
	for k, vs := range rf.values {
		if len(vs) == 0 {
			d[k] = unknownMark(k)
			continue
		}
		d[k] = vs[min(choice[k], len(vs)-1)]
	}
	for _, k := range []string{"Version", "Tag", "Commit", "FullCommit", "ShortCommit", "Date", "CommitDate", "Timestamp"} {
		if _, ok := d[k]; !ok {
			d[k] = unknownMark(k)
		}
	}
	if _, ok := d["CommitTimestamp"]; !ok {
		d["CommitTimestamp"] = unknownMark("CommitTimestamp")
	}
	v, _ := d["Version"].(string)
	rf.semverParts(d, v)
	d["Env"] = env
	return d
}

// semverParts sets Major, Minor, Patch, Prerelease and RawVersion from Version.
func (rf *releaseFacts) semverParts(d map[string]any, v string) {
	core, pre, _ := strings.Cut(v, "-")
	parts := strings.Split(core, ".")
	d["Prerelease"] = pre
	if len(parts) != 3 {
		for _, k := range []string{"Major", "Minor", "Patch", "RawVersion"} {
			d[k] = unknownMark(k)
		}
		return
	}
	for i, k := range []string{"Major", "Minor", "Patch"} {
		n, err := strconv.ParseUint(parts[i], 10, 64)
		if err != nil {
			d[k] = unknownMark(k)
			continue
		}
		d[k] = n
	}
	d["RawVersion"] = core
}

func isPseudo(v string) bool {
	return strings.Count(v, "-") >= 2 && regexp.MustCompile(`[0-9]{14}-[0-9a-f]{12}`).MatchString(v)
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// fieldRe finds the fields a template names.
var fieldRe = regexp.MustCompile(`\.([A-Z][A-Za-z0-9]*)`)

// choices are the assignments to render a template with: every field at its
// best value, then each field the template names that has other values
// moved to each of them in turn; at most max.
func (rf *releaseFacts) choices(tmpl string, max int) []map[string]int {
	out := []map[string]int{{}}
	var used []string
	for _, m := range fieldRe.FindAllStringSubmatch(tmpl, -1) {
		used = append(used, m[1])
	}
	for _, k := range dedupe(used) {
		for i := 1; i < len(rf.values[k]) && len(out) < max; i++ {
			out = append(out, map[string]int{k: i})
		}
	}
	return out
}

// projectName is goreleaser's default project name: the repository's name.
func projectName(modulePath, repoURL string) string {
	name := path.Base(strings.TrimSuffix(repoURL, ".git"))
	if repoURL == "" {
		name = path.Base(modulePath)
		if isMajorSuffix(name) {
			name = path.Base(path.Dir(modulePath))
		}
	}
	return name
}

// describeChoice says which non-best values a choice takes, for notes.
func (rf *releaseFacts) describeChoice(c map[string]int) string {
	var parts []string
	for k, i := range c {
		if i > 0 && i < len(rf.values[k]) {
			parts = append(parts, fmt.Sprintf(".%s=%s", k, rf.values[k][i]))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
