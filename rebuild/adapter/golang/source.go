package golang

import (
	"context"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/manifest"
)

// findSource decides where the source comes from and how it is built: the
// toolchain itself, a git checkout at vcs.revision, or the module zip of
// the main module version.
func (r *recipe) findSource(ctx context.Context) error {
	b := r.info
	switch {
	case b.toolchainCmd:
		r.distributionProgram()
	case b.set["vcs.revision"] != "":
		if err := r.gitSource(ctx); err != nil {
			return err
		}
	case b.Main.Version != "" && b.Main.Version != "(devel)" && b.Main.Sum != "":
		if err := r.moduleZipSource(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s records neither vcs.revision nor a module version (main module %s %s): nothing names its source; write a manifest by hand", r.in.Artifact.URI, b.Main.Path, b.Main.Version)
	}
	if b.set["vcs.revision"] == "" && !b.toolchainCmd {
		r.flags = append(r.flags, "-buildvcs=false")
	}
	if !b.toolchainCmd {
		r.deps = []manifest.Dep{{Kind: gomod.Kind, Source: r.sources[1].Dest, Dir: r.depsDir, Dest: DepsDest}}
		if r.deps[0].Dir == "" {
			r.deps[0].Dir = "."
		}
	}
	return nil
}

// gitSource: the repository at vcs.revision, found from the module path.
func (r *recipe) gitSource(ctx context.Context) error {
	b := r.info
	rev := b.set["vcs.revision"]
	if b.set["vcs"] != "git" {
		return fmt.Errorf("built from a %s checkout; only git sources are inferred", b.set["vcs"])
	}
	root, err := discoverRepo(ctx, r.in.Env.HTTPClient(), b.Main.Path)
	if err != nil {
		return err
	}
	sub := strings.TrimPrefix(strings.TrimPrefix(b.Main.Path, root.Prefix), "/")
	if isMajorSuffix(sub) {
		r.note("module %s: assuming its major version lives at the repository root (not in %s/)", b.Main.Path, sub)
		sub = ""
	}
	dest, clone := r.gitPlaces(sub)
	r.sources = append(r.sources, manifest.Source{URI: "git+" + root.URL, Rev: rev, Dest: dest})
	r.src = sourceRef{req: fetch.Request{URI: "git+" + root.URL, Rev: rev}, sub: sub, repoURL: root.URL, git: true}
	r.workdir = path.Join(dest, sub)
	r.depsDir = sub
	r.note("source: git repository %s at vcs.revision %s (module folder %q)", root.URL, rev, sub)
	if b.set["vcs.modified"] == "true" {
		r.note("vcs.modified=true: the binary was built from a checkout with uncommitted changes, which the commit alone cannot reproduce")
	}
	if v := b.Main.Version; v != "" && v != "(devel)" {
		// Go 1.24 and later stamp the version they derive from the
		// repository's tags; the build must see the same tags.
		lines, why, err := vcsVersionTags(v, sub, rev, dest, clone)
		if err != nil {
			return err
		}
		r.prelude = lines
		r.note("%s", why)
	}
	r.flags = append(r.flags, "-buildvcs=true")
	r.env["GIT_CONFIG_COUNT"] = "1"
	r.env["GIT_CONFIG_KEY_0"] = "safe.directory"
	r.env["GIT_CONFIG_VALUE_0"] = "*"
	r.note("vcs stamping needs git in the builder image")
	return nil
}

// moduleZipSource: the main module's zip, pinned by the binary's own h1:
// sum, rebuilt with go install MODULE/PKG@VERSION.
func (r *recipe) moduleZipSource(ctx context.Context) error {
	b := r.info
	if err := module.Check(b.Main.Path, b.Main.Version); err != nil {
		return fmt.Errorf("build info main module %s %s: %v: the build info is damaged or forged", b.Main.Path, b.Main.Version, err)
	}
	ref := gomod.Ref{Module: module.Version{Path: b.Main.Path, Version: b.Main.Version}, Sum: b.Main.Sum}
	p, err := r.in.Env.Pinner.Pin(ctx, ref.String())
	if err != nil {
		return &adapter.FetchError{Err: fmt.Errorf("pinning the main module %s: %w", ref, err)}
	}
	r.sources = append(r.sources,
		manifest.Source{URI: p.URI, Digest: p.Digest, Dest: SourceDest, Unpack: true},
		manifest.Source{URI: p.URI, Digest: p.Digest, Dest: MainZipDest})
	r.src = sourceRef{req: fetch.Request{URI: p.URI, Digest: p.Digest, Unpack: true}}
	r.install = true
	r.workdir = "/tmp"
	r.note("source: module zip %s (h1 from the binary's build info), built with go install %s@%s", ref, b.Path, b.Main.Version)
	return nil
}

// vcsVersionTags returns the script lines that make the checkout a go
// command stamps version from: a clone of the source (at src) in clone holding no
// tag but the one the recorded version was derived from (the tag itself at
// rev for a release, the pseudo-version's base tag on the parent of rev),
// so that tags pushed or moved upstream after the build cannot change the
// rebuild. sub is the module's folder in the repository, which prefixes its
// tags. It also returns a note saying what was inferred.
func vcsVersionTags(version, sub, rev, src, clone string) (string, string, error) {
	if !commitRe.MatchString(rev) {
		return "", "", fmt.Errorf("vcs.revision %q is not a full git commit id", rev)
	}
	if sub != "" {
		if err := module.CheckImportPath(sub); err != nil {
			return "", "", fmt.Errorf("module folder %q in the repository: %v", sub, err)
		}
	}
	tag, at, why, err := versionTag(version, sub, rev)
	if err != nil {
		return "", "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "git clone --quiet --no-tags --no-checkout --shared %s %s\n", shellJoin([]string{src}), shellJoin([]string{clone}))
	fmt.Fprintf(&b, "git -C %s checkout --quiet --detach %s\n", shellJoin([]string{clone}), shellJoin([]string{rev}))
	if tag != "" {
		fmt.Fprintf(&b, "git -C %s tag %s\n", shellJoin([]string{clone}), shellJoin([]string{tag, at}))
	}
	fmt.Fprintf(&b, "cd %s\n", shellJoin([]string{path.Join(clone, sub)}))
	return b.String(), why, nil
}

// versionTag is the tag a recorded main module version was derived from and
// the commit it must be on; "" when none was reachable.
func versionTag(version, sub, rev string) (tag, at, why string, err error) {
	v := strings.TrimSuffix(strings.TrimSuffix(version, "+dirty"), ".dirty")
	v = strings.TrimSuffix(v, "+incompatible")
	prefix := ""
	if sub != "" {
		prefix = sub + "/"
	}
	switch {
	case module.IsPseudoVersion(v):
		base, err := module.PseudoVersionBase(v)
		if err != nil {
			return "", "", "", fmt.Errorf("main module version %s: %w; write a manifest by hand", version, err)
		}
		if r, err := module.PseudoVersionRev(v); err != nil || !strings.HasPrefix(rev, r) {
			return "", "", "", fmt.Errorf("main module version %s does not name vcs.revision %s; write a manifest by hand", version, rev)
		}
		if base == "" {
			return "", "", fmt.Sprintf("version %s: no tag was reachable from the commit; rebuilt in a clone without tags", version), nil
		}
		tag = prefix + base
		return tag, rev + "^", fmt.Sprintf("version %s: derived from tag %s on an ancestor; rebuilt in a clone with only that tag, on the commit's parent", version, tag), nil
	case semver.IsValid(v) && semver.Canonical(v) == v:
		tag = prefix + v
		return tag, rev, fmt.Sprintf("version %s: the commit is tagged %s; rebuilt in a clone with only that tag", version, tag), nil
	}
	return "", "", "", fmt.Errorf("main module version %q is neither a release nor a pseudo-version; write a manifest by hand", version)
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

// gitPlaces says where the checkout is mounted and where the build's clone
// (which controls the tags the go command sees) is made: /src and
// /tmp/src, or, for a build without -trimpath whose folder the binary
// reveals, that folder.
func (r *recipe) gitPlaces(sub string) (dest, clone string) {
	dest, clone = SourceDest, "/tmp/src"
	if r.module == "" {
		return dest, clone
	}
	root := strings.TrimSuffix(r.module, "/"+sub)
	if sub == "" {
		root = r.module
	}
	if root == r.module && sub != "" {
		r.note("the module folder %s is not below %s/: the source stays in %s", sub, r.module, dest)
		return dest, clone
	}
	if underTmp(root) {
		return dest, root
	}
	r.note("%s is outside /tmp, where the build could clone: the checkout is mounted there, with whatever tags it has", root)
	return root, root
}

// sourceRef is how to fetch the source at inference.
type sourceRef struct {
	req     fetch.Request
	sub     string // the module's folder in the repository
	repoURL string
	git     bool
}

// sourceView is what inference reads of the pinned source.
type sourceView struct {
	module  string         // host folder of the main module ("" when unread)
	config  *releaseConfig // the goreleaser configuration, if any
	pkgDir  string         // the package's folder relative to the configuration's
	tags    []string       // the commit's tags, then the nearest before it
	project string         // goreleaser's project name
}

// readSource fetches the source through the pipeline's fetcher (so
// --replace-source and the HTTP settings apply) and reads what link flag
// guesses need. A source that cannot be read leaves guesses to the binary
// alone, and says so.
func (r *recipe) readSource(ctx context.Context) sourceView {
	var v sourceView
	if r.src.req.URI == "" {
		return v
	}
	it, err := r.in.Env.Fetcher.Fetch(ctx, r.src.req)
	if err != nil {
		r.note("the source could not be read at inference (%v): link flags are guessed from the binary alone", err)
		return v
	}
	v.module = filepath.Join(it.Path, filepath.FromSlash(r.src.sub))
	v.project = projectName(r.info.Main.Path, r.src.repoURL)
	rel := strings.TrimPrefix(r.mustPkgRel(), "./")
	cfgDir := it.Path
	v.config, err = readReleaseConfig(cfgDir)
	if v.config == nil && err == nil && r.src.sub != "" {
		cfgDir = v.module
		v.config, err = readReleaseConfig(cfgDir)
	}
	switch {
	case err != nil:
		r.note("goreleaser configuration not used: %v", err)
	case v.config != nil:
		if v.config.ProjectName != "" {
			v.project = v.config.ProjectName
		}
		v.pkgDir = rel
		if cfgDir == it.Path {
			v.pkgDir = pkgDir(r.src.sub, rel)
		}
		r.note("goreleaser configuration %s at the pinned commit: %d builds", v.config.File, len(v.config.Builds))
	}
	if r.src.git {
		v.tags = repoTags(ctx, it.Path, r.src.req.Rev, r.src.sub)
	}
	return v
}

// repoTags are the tags of the commit and then the nearest tag before it
// (what goreleaser takes as the current tag), without the module folder's
// prefix. Tags come from the repository as fetched: they only rank guesses.
func repoTags(ctx context.Context, dir, rev, sub string) []string {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	git := func(args ...string) []string {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		cmd.Env = []string{"GIT_OPTIONAL_LOCKS=0", "GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent", "LC_ALL=C", "PATH=/usr/bin:/bin"}
		out, err := cmd.Output()
		if err != nil {
			return nil
		}
		return strings.Fields(string(out))
	}
	tags := git("tag", "--points-at", rev, "--sort=-version:refname")
	tags = append(tags, git("describe", "--tags", "--abbrev=0", rev)...)
	var out []string
	for _, t := range dedupe(tags) {
		if sub != "" {
			t = strings.TrimPrefix(t, sub+"/")
		}
		if semver.IsValid(t) || semver.IsValid("v"+t) {
			out = append(out, t)
		}
	}
	return out
}
