package adapter

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/manifest"
)

// Where inferred Go builds see their inputs.
const (
	GoToolchainDest = "/opt/go"
	GoSourceDest    = "/src"
	GoDepsDest      = "/deps/gomod"
	// GoMainZipDest holds the main module's zip (not unpacked) when the
	// binary was built with go install MODULE@VERSION.
	GoMainZipDest = "/deps/main.zip"
)

// Go infers manifests for Go binaries from their build info
// (debug/buildinfo), reading the binary itself for what build info does not
// record (link flags under -trimpath).
//
// The toolchain is golang.org/toolchain@v0.0.1-GOVERSION.linux-amd64 from
// GOPROXY, pinned at inference time by downloading it (its sha256 and h1:
// hash go into the manifest; the go command trusts the checksum database for
// it instead, which reprove cannot reach offline). The source is the git
// repository at vcs.revision when the binary is vcs-stamped, else the module
// zip of the main module version (pinned by the binary's own h1: sum). The
// dependencies are a gomod deps entry resolved from the source's go.sum.
type Go struct{}

// Name returns "go".
func (Go) Name() string { return "go" }

// goEnvSettings are build settings that are environment variables.
var goEnvSettings = regexp.MustCompile(`^(CGO_ENABLED|CGO_[A-Z]+FLAGS|GOOS|GOARCH|GOAMD64|GOARM|GOARM64|GO386|GOMIPS|GOMIPS64|GOPPC64|GORISCV64|GOWASM|GOEXPERIMENT|GOFIPS140)$`)

// Infer reads the build info of in.Path.
func (g Go) Infer(ctx context.Context, in Input) (*Plan, error) {
	bi, err := buildinfo.ReadFile(in.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: no Go build info (%v): %w", in.Path, err, ErrNotApplicable)
	}
	if in.Cache == nil {
		return nil, fmt.Errorf("the Go adapter needs a cache to pin the toolchain in")
	}
	image := in.BuilderImage
	if image == "" {
		if image, err = DefaultBuilderImage(); err != nil {
			return nil, err
		}
	}
	client := in.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	plan := &Plan{Adapter: g.Name()}
	note := func(format string, args ...any) { plan.Notes = append(plan.Notes, fmt.Sprintf(format, args...)) }

	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	goVersion, _, _ := strings.Cut(bi.GoVersion, " ")
	if strings.Contains(goVersion, "devel") || !strings.HasPrefix(goVersion, "go") {
		return nil, fmt.Errorf("built with Go %q, which is not a released toolchain reprove can fetch; write a manifest by hand", bi.GoVersion)
	}
	toolchainCmd := bi.Main.Path == "" && strings.HasPrefix(bi.Path, "cmd/")
	if bi.Path == "" || bi.Path == "command-line-arguments" || (bi.Main.Path == "" && !toolchainCmd) {
		return nil, fmt.Errorf("built from files named on the command line (path %q), not from a package: the build info does not say which files; write a manifest by hand", bi.Path)
	}
	// Build info is untrusted and its paths end up in a shell script.
	if err := module.CheckImportPath(bi.Path); err != nil {
		return nil, fmt.Errorf("build info package path %q is not a Go import path (%v): the build info is damaged or forged", bi.Path, err)
	}
	if bi.Main.Path != "" {
		if err := module.CheckImportPath(bi.Main.Path); err != nil {
			return nil, fmt.Errorf("build info main module path %q is not a Go module path (%v): the build info is damaged or forged", bi.Main.Path, err)
		}
	}
	if r := set["vcs.revision"]; r != "" && !commitRe.MatchString(r) {
		return nil, fmt.Errorf("build info vcs.revision %q is not a full git commit id: the build info is damaged or forged", r)
	}
	if set["-compiler"] != "" && set["-compiler"] != "gc" {
		return nil, fmt.Errorf("built with -compiler=%s; only gc builds are inferred", set["-compiler"])
	}
	if toolchainCmd {
		note("build info: %s, package %s of the Go distribution (no main module)", bi.GoVersion, bi.Path)
	} else {
		note("build info: %s, main module %s %s, package %s", bi.GoVersion, bi.Main.Path, bi.Main.Version, bi.Path)
	}

	// The toolchain.
	tcURI := gomod.Prefix + gomod.ToolchainModule + "@v0.0.1-" + goVersion + ".linux-amd64"
	pinned, err := gomod.NewScheme(gomod.WithProxy(in.GOPROXY), gomod.WithHTTPClient(client)).Pin(ctx, in.Cache, tcURI)
	if err != nil {
		return nil, &FetchError{fmt.Errorf("pinning the toolchain %s: %w", tcURI, err)}
	}
	note("toolchain %s pinned at inference by download through GOPROXY: %s, %s", tcURI, pinned.Digest, pinned.Ref.Sum)
	sources := []manifest.Source{{URI: pinned.Ref.String(), Digest: pinned.Digest, Dest: GoToolchainDest, Unpack: true}}

	// The package folder inside the main module.
	pkgRel := "."
	if toolchainCmd {
		pkgRel = bi.Path
	} else if bi.Path != bi.Main.Path {
		rel, ok := strings.CutPrefix(bi.Path, bi.Main.Path+"/")
		if !ok {
			return nil, fmt.Errorf("package %s is not inside main module %s; write a manifest by hand", bi.Path, bi.Main.Path)
		}
		pkgRel = "./" + rel
	}

	// The source.
	env := map[string]string{
		"GOTOOLCHAIN": "local",
		"GOCACHE":     "/tmp/go-cache",
		"GOMODCACHE":  "/tmp/go-modcache",
		"HOME":        "/tmp/home",
		"GOENV":       "off",
		"GOWORK":      "off",
		"PATH":        GoToolchainDest + "/bin:/usr/local/bin:/usr/bin:/bin",
	}
	for k, v := range gomod.BuildEnv(GoDepsDest) {
		env[k] = v
	}
	var (
		workdir, depsDir string
		install          bool // go install MODULE/PKG@VERSION
		flags            []string
		prelude          string // script lines before go build
	)
	vcsRev := set["vcs.revision"]
	switch {
	case toolchainCmd:
		// A program of the Go distribution (gofmt, cmd/go, pkg/tool/…):
		// its source is the toolchain zip itself, and cmd/dist builds it
		// in GOPATH mode, which the recorded DefaultGODEBUG (go1.20
		// defaults) shows. go build in that mode reproduces it.
		for _, k := range []string{"GOFLAGS", "GOSUMDB"} {
			delete(env, k)
		}
		env["GOPROXY"] = "off"
		if set["DefaultGODEBUG"] != "" {
			// Older releases (go1.23): cmd/dist built in GOPATH mode,
			// which the recorded go1.20-compatible DefaultGODEBUG shows.
			env["GO111MODULE"] = "off"
			env["GOPATH"] = "/tmp/gopath"
			workdir = "/tmp"
			note("program of the Go distribution with a recorded DefaultGODEBUG: rebuilt from the toolchain's own sources in GOPATH mode (GO111MODULE=off), as cmd/dist built it")
		} else {
			// Newer releases: module mode inside the cmd module (vendored).
			workdir = GoToolchainDest + "/src/cmd"
			note("program of the Go distribution: rebuilt from the toolchain's own sources in the cmd module, as cmd/dist builds it")
		}
	case vcsRev != "":
		if set["vcs"] != "git" {
			return nil, fmt.Errorf("built from a %s checkout; only git sources are inferred", set["vcs"])
		}
		root, err := discoverRepo(ctx, client, bi.Main.Path)
		if err != nil {
			return nil, err
		}
		sub := strings.TrimPrefix(strings.TrimPrefix(bi.Main.Path, root.Prefix), "/")
		if isMajorSuffix(sub) {
			note("module %s: assuming its major version lives at the repository root (not in %s/)", bi.Main.Path, sub)
			sub = ""
		}
		sources = append(sources, manifest.Source{URI: "git+" + root.URL, Rev: vcsRev, Dest: GoSourceDest})
		workdir = path.Join(GoSourceDest, sub)
		depsDir = sub
		note("source: git repository %s at vcs.revision %s (module folder %q)", root.URL, vcsRev, sub)
		if set["vcs.modified"] == "true" {
			note("vcs.modified=true: the binary was built from a checkout with uncommitted changes, which the commit alone cannot reproduce")
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			// Go 1.24 and later stamp the version they derive from the
			// repository's tags; the build must see the same tags.
			lines, why, err := vcsVersionTags(v, sub, vcsRev)
			if err != nil {
				return nil, err
			}
			prelude = lines
			note("%s", why)
		}
		flags = append(flags, "-buildvcs=true")
		env["GIT_CONFIG_COUNT"] = "1"
		env["GIT_CONFIG_KEY_0"] = "safe.directory"
		env["GIT_CONFIG_VALUE_0"] = "*"
		note("vcs stamping needs git in the builder image")
	case bi.Main.Version != "" && bi.Main.Version != "(devel)" && bi.Main.Sum != "":
		if err := module.Check(bi.Main.Path, bi.Main.Version); err != nil {
			return nil, fmt.Errorf("build info main module %s %s: %v: the build info is damaged or forged", bi.Main.Path, bi.Main.Version, err)
		}
		ref := gomod.Ref{Module: moduleVersion(bi.Main)}
		ref.Sum = bi.Main.Sum
		mp, err := gomod.NewScheme(gomod.WithProxy(in.GOPROXY), gomod.WithHTTPClient(client)).Pin(ctx, in.Cache, ref.String())
		if err != nil {
			return nil, &FetchError{fmt.Errorf("pinning the main module %s: %w", ref, err)}
		}
		sources = append(sources,
			manifest.Source{URI: mp.Ref.String(), Digest: mp.Digest, Dest: GoSourceDest, Unpack: true},
			manifest.Source{URI: mp.Ref.String(), Digest: mp.Digest, Dest: GoMainZipDest})
		install = true
		workdir = "/tmp"
		note("source: module zip %s (h1 from the binary's build info), built with go install %s@%s", ref, bi.Path, bi.Main.Version)
	default:
		return nil, fmt.Errorf("%s records neither vcs.revision nor a module version (main module %s %s): nothing names its source; write a manifest by hand", in.URI, bi.Main.Path, bi.Main.Version)
	}
	if vcsRev == "" && !toolchainCmd {
		flags = append(flags, "-buildvcs=false")
	}

	// Build settings, exactly as recorded.
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ldflags, ldRecorded := set["-ldflags"]
	for _, k := range keys {
		v := set[k]
		switch {
		case goEnvSettings.MatchString(k):
			env[k] = v
		case k == "-trimpath" || k == "-race" || k == "-msan" || k == "-asan":
			if v == "true" {
				flags = append(flags, k)
			}
		case k == "-buildmode":
			if v != "exe" {
				flags = append(flags, "-buildmode="+v)
			}
		case k == "-tags" || k == "-gcflags" || k == "-asmflags":
			flags = append(flags, k+"="+v)
		case k == "-pgo":
			note("-pgo=%s: the build uses the profile the package carries (default.pgo); other profiles are not sources here", v)
		case k == "-cover", k == "-covermode", k == "-coverpkg":
			flags = append(flags, k+"="+v)
		}
	}
	if env["CGO_ENABLED"] == "1" {
		note("CGO_ENABLED=1: the builder image needs the C toolchain the original build used")
	} else if _, ok := env["CGO_ENABLED"]; !ok {
		env["CGO_ENABLED"] = "0"
	}
	if set["-trimpath"] != "true" {
		note("built without -trimpath: the binary holds the original build's folders, so a rebuild in %s matches only if they were the same", workdir)
	}

	name := path.Base(bi.Path)
	if isMajorSuffix(name) {
		name = path.Base(path.Dir(bi.Path))
	}
	out := "/out/" + name
	version := bi.Main.Version
	if toolchainCmd {
		version = goVersion
	} else if version == "" || version == "(devel)" {
		version = shortRev(vcsRev)
	}

	// Link flags: exact when recorded, else candidates from the binary.
	var cands []ldCandidate
	if ldRecorded {
		cands = []ldCandidate{{name: "recorded", flags: ldflags}}
		note("-ldflags recorded in build info: %q", ldflags)
	} else if set["-trimpath"] != "true" {
		cands = []ldCandidate{{name: "none", flags: ""}}
	} else {
		facts, err := inspectBinary(in.Path)
		if err != nil {
			return nil, err
		}
		cands = ldflagCandidates(facts, bi, note)
	}

	for _, c := range cands {
		args := append([]string(nil), flags...)
		if c.flags != "" {
			args = append(args, "-ldflags="+c.flags)
		}
		var script string
		if install {
			script = installScript(bi, args, out)
		} else {
			script = "set -e\n" + prelude + "go build " + shellJoin(args) + " -o " + shellJoin([]string{out, pkgRel}) + "\n"
		}
		deps := []manifest.Dep{{Kind: gomod.Kind, Source: GoSourceDest, Dir: depsDir, Dest: GoDepsDest}}
		if toolchainCmd {
			deps = nil
		}
		m := &manifest.Manifest{
			APIVersion: manifest.APIVersion,
			Name:       name + "-" + version,
			Artifact:   manifest.Artifact{URI: in.URI, Digest: in.Digest, Member: in.Member},
			Sources:    sources,
			Deps:       deps,
			Builder:    manifest.Builder{Image: image},
			Build: manifest.Build{
				Workdir:   workdir,
				Env:       cloneMap(env),
				Script:    script,
				Output:    out,
				Timeout:   manifest.Duration(30 * time.Minute),
				Resources: manifest.Resources{Memory: 4 << 30, Pids: 4096},
			},
		}
		if len(m.Deps) > 0 && m.Deps[0].Dir == "" {
			m.Deps[0].Dir = "."
		}
		if err := manifest.Validate(m); err != nil {
			return nil, fmt.Errorf("the inferred manifest is invalid (a bug in the Go adapter): %w", err)
		}
		plan.Candidates = append(plan.Candidates, Candidate{Name: "ldflags=" + c.display(), Manifest: m})
	}
	return plan, nil
}

// installScript rebuilds a binary made by go install MODULE/PKG@VERSION: the
// main module is served from a file proxy made of its pinned zip, beside the
// resolved dependencies, so that go records the same module version.
func installScript(bi *buildinfo.BuildInfo, args []string, out string) string {
	// Infer checked the path and version with module.Check: they hold no
	// shell metacharacters. File names in a proxy use the escaped forms
	// (v1.0.0-RC1 is stored as v1.0.0-!r!c1).
	m := moduleVersion(bi.Main)
	esc, _ := module.EscapePath(m.Path)
	ev, _ := module.EscapeVersion(m.Version)
	dir := "/tmp/mainproxy/" + esc + "/@v"
	return fmt.Sprintf(`set -e
mkdir -p %[1]s /tmp/bin
cp %[2]s %[1]s/%[10]s.zip
cp %[4]s/go.mod %[1]s/%[10]s.mod
printf '{"Version":"%[3]s"}\n' > %[1]s/%[10]s.info
printf '%[3]s\n' > %[1]s/list
GOPROXY=file:///tmp/mainproxy,file://%[5]s GOBIN=/tmp/bin go install %[6]s %[7]s@%[3]s
cp /tmp/bin/%[8]s %[9]s
`, dir, GoMainZipDest, m.Version, GoSourceDest, GoDepsDest, shellJoin(args), bi.Path, path.Base(out), out, ev)
}

// vcsVersionTags returns the script lines that make the checkout a go
// command stamps version from: a clone of the source in /tmp/src holding no
// tag but the one the recorded version was derived from (the tag itself at
// rev for a release, the pseudo-version's base tag on the parent of rev),
// so that tags pushed or moved upstream after the build cannot change the
// rebuild. sub is the module's folder in the repository, which prefixes its
// tags. It also returns a note saying what was inferred.
func vcsVersionTags(version, sub, rev string) (string, string, error) {
	if !commitRe.MatchString(rev) {
		return "", "", fmt.Errorf("vcs.revision %q is not a full git commit id", rev)
	}
	if sub != "" {
		if err := module.CheckImportPath(sub); err != nil {
			return "", "", fmt.Errorf("module folder %q in the repository: %v", sub, err)
		}
	}
	v := strings.TrimSuffix(strings.TrimSuffix(version, "+dirty"), ".dirty")
	v = strings.TrimSuffix(v, "+incompatible")
	prefix := ""
	if sub != "" {
		prefix = sub + "/"
	}
	var tag, at, why string
	switch {
	case module.IsPseudoVersion(v):
		base, err := module.PseudoVersionBase(v)
		if err != nil {
			return "", "", fmt.Errorf("main module version %s: %w; write a manifest by hand", version, err)
		}
		if r, err := module.PseudoVersionRev(v); err != nil || !strings.HasPrefix(rev, r) {
			return "", "", fmt.Errorf("main module version %s does not name vcs.revision %s; write a manifest by hand", version, rev)
		}
		if base == "" {
			why = fmt.Sprintf("version %s: no tag was reachable from the commit; rebuilt in a clone without tags", version)
		} else {
			tag, at = prefix+base, rev+"^"
			why = fmt.Sprintf("version %s: derived from tag %s on an ancestor; rebuilt in a clone with only that tag, on the commit's parent", version, tag)
		}
	case semver.IsValid(v) && semver.Canonical(v) == v:
		tag, at = prefix+v, rev
		why = fmt.Sprintf("version %s: the commit is tagged %s; rebuilt in a clone with only that tag", version, tag)
	default:
		return "", "", fmt.Errorf("main module version %q is neither a release nor a pseudo-version; write a manifest by hand", version)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "git clone --quiet --no-tags --no-checkout --shared %s /tmp/src\n", GoSourceDest)
	fmt.Fprintf(&b, "git -C /tmp/src checkout --quiet --detach %s\n", shellJoin([]string{rev}))
	if tag != "" {
		fmt.Fprintf(&b, "git -C /tmp/src tag %s\n", shellJoin([]string{tag, at}))
	}
	fmt.Fprintf(&b, "cd %s\n", shellJoin([]string{path.Join("/tmp/src", sub)}))
	return b.String(), why, nil
}

// ldCandidate is one guess at the link flags.
type ldCandidate struct {
	name  string
	flags string
}

func (c ldCandidate) display() string {
	if c.flags == "" {
		return "none"
	}
	return c.flags
}

// ldflagCandidates orders guesses at -ldflags for a -trimpath build, whose
// build info drops them. The strip flags are read off the binary (a build
// without -s always has .symtab, one without -w always has DWARF), so only
// the -X part is guessed: values the binary carries for main.version-style
// variables first, then none.
func ldflagCandidates(f binaryFacts, bi *buildinfo.BuildInfo, note func(string, ...any)) []ldCandidate {
	var strip []string
	if f.ELF {
		if !f.Symtab {
			strip = append(strip, "-s")
		}
		if !f.DWARF {
			strip = append(strip, "-w")
		}
		note("ELF: .symtab %v, DWARF %v → strip flags %q", f.Symtab, f.DWARF, strings.Join(strip, " "))
	} else {
		note("not ELF: strip flags cannot be read off the binary; trying none")
	}
	base := strings.Join(strip, " ")
	join := func(parts ...string) string {
		var nonEmpty []string
		for _, p := range parts {
			if p != "" {
				nonEmpty = append(nonEmpty, p)
			}
		}
		return strings.Join(nonEmpty, " ")
	}
	var cands []ldCandidate
	if len(f.StrVars) > 0 {
		names := make([]string, 0, len(f.StrVars))
		for n := range f.StrVars {
			names = append(names, n)
		}
		sort.Strings(names)
		var xs []string
		for _, n := range names {
			if looksStamped(f.StrVars[n], bi) {
				xs = append(xs, "-X "+n+"="+f.StrVars[n])
			}
		}
		if len(xs) > 0 {
			note("stamped-looking string variables in the symbol table: %s", strings.Join(xs, ", "))
			cands = append(cands, ldCandidate{name: "x-symtab", flags: join(base, strings.Join(xs, " "))})
		}
	} else if !f.Symtab {
		// Stripped: look for stamped values outside the build info.
		for _, v := range stampValues(bi) {
			if !f.Contains(v) {
				continue
			}
			note("%q appears in the binary outside its build info: trying it as main.version", v)
			cands = append(cands,
				ldCandidate{name: "x-version", flags: join(base, "-X main.version="+v)},
				ldCandidate{name: "x-Version", flags: join(base, "-X main.Version="+v)})
			break
		}
	}
	cands = append(cands, ldCandidate{name: "strip", flags: base})
	return cands
}

// stampValues are values a release commonly stamps with -X, most specific first.
func stampValues(bi *buildinfo.BuildInfo) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 5 {
			out = append(out, s)
		}
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		add(v)
		add(strings.TrimPrefix(v, "v"))
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			add(s.Value)
			if len(s.Value) > 12 {
				add(s.Value[:12])
			}
			if len(s.Value) > 7 {
				add(s.Value[:7])
			}
		}
	}
	return out
}

// commitRe is a full git commit id (SHA-1, or SHA-256 repositories).
var commitRe = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

var stampedRe = regexp.MustCompile(`^(v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?|[0-9a-f]{7,64}|[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+Z?)?)$`)

// looksStamped says whether a string variable's value looks set by release
// tooling (a version, a commit id, a date) rather than a source default.
func looksStamped(v string, bi *buildinfo.BuildInfo) bool {
	if stampedRe.MatchString(v) {
		return true
	}
	for _, s := range stampValues(bi) {
		if v == s {
			return true
		}
	}
	return false
}

func moduleVersion(m debug.Module) module.Version {
	return module.Version{Path: m.Path, Version: m.Version}
}

func isMajorSuffix(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != "v0" && s != "v1"
}

func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	if r == "" {
		return "devel"
	}
	return r
}

// shellJoin quotes args for sh.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@^") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
