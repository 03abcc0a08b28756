package golang

import (
	"archive/zip"
	"context"
	"fmt"
	goversion "go/version"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/manifest"
)

// A golang.org/toolchain module zip named with no member is rebuilt whole,
// the way gorebuild (golang.org/x/build/cmd/gorebuild) checks a release:
// bootstrapped with the older release the Go project's rule names, built
// with make.bash -distpack from the toolchain's own sources in the sandbox,
// and the module zip it writes compared with the published one, member by
// member. The sources are the published zip's own src/ (the module proxy
// carries no source archive); bin/ and pkg/ and the files cmd/dist
// generates are removed first, as from a source distribution.
const (
	BootstrapDest = "/opt/go-bootstrap"
	DistSrcDest   = "/src/go"
	distBuildDir  = "/tmp/go"
)

// distGenerated are the files make.bash generates, removed from the sources
// as cmd/distpack removes them from a source distribution (both the older
// runtime/internal/sys and the newer internal/runtime/sys places).
var distGenerated = []string{
	"src/cmd/dist/dist", "src/cmd/go/internal/cfg/zdefaultcc.go", "src/go/build/zcgo.go",
	"src/runtime/internal/sys/zversion.go", "src/internal/runtime/sys/zversion.go",
	"src/time/tzdata/zzipdata.go", "src/cmd/cgo/zdefaultcc.go", "src/cmd/internal/objabi/zbootstrap.go",
	"src/internal/buildcfg/zbootstrap.go", "src/cmd/go/internal/cfg/zosarch.go",
}

// toolchainTarget reads a golang.org/toolchain artifact named whole:
// its Go version, GOOS and GOARCH.
func toolchainTarget(a adapter.Artifact) (ref gomod.Ref, goVer, goos, goarch string, ok bool) {
	if a.Member != "" {
		return ref, "", "", "", false
	}
	ref, err := gomod.ParseURI(a.URI)
	if err != nil || !ref.IsToolchain() {
		return ref, "", "", "", false
	}
	rest, found := strings.CutPrefix(ref.Module.Version, "v0.0.1-")
	i := strings.LastIndex(rest, ".")
	if !found || i < 0 {
		return ref, "", "", "", false
	}
	goVer, platform := rest[:i], rest[i+1:]
	goos, goarch, found = strings.Cut(platform, "-")
	if !found || !goRelease.MatchString(goVer) || !platformRe.MatchString(goos) || !platformRe.MatchString(goarch) {
		return ref, "", "", "", false
	}
	return ref, goVer, goos, goarch, true
}

var platformRe = regexp.MustCompile(`^[a-z0-9]+$`)

// BootstrapVersion is the release series the Go project's rule names to
// bootstrap goVer with (as gorebuild applies it): go1.4 before go1.20,
// go1.17 for go1.20 and go1.21, then every other year the release from
// four minor versions before, in even pairs (go1.22 and go1.23 → go1.20,
// go1.24 and go1.25 → go1.22, go1.26 and go1.27 → go1.24).
func BootstrapVersion(goVer string) (string, error) {
	switch {
	case goversion.Compare(goVer, "go1.5") < 0:
		return "", nil
	case goversion.Compare(goVer, "go1.20") < 0:
		return "go1.4", nil
	case goversion.Compare(goVer, "go1.22") < 0:
		return "go1.17", nil
	case goversion.Compare(goVer, "go1.1000") > 0:
		return "", fmt.Errorf("invalid Go version %q", goVer)
	}
	for i := 24; ; i += 2 {
		if goversion.Compare(goVer, "go1."+strconv.Itoa(i)) < 0 {
			return "go1." + strconv.Itoa(i-4), nil
		}
	}
}

// bootgoRe is make.bash's minimum bootstrap version: bootgo=1.24.6.
var bootgoRe = regexp.MustCompile(`(?m)^bootgo=([0-9]+\.[0-9]+\.[0-9]+)$`)

// bootstrapRelease is the exact release to bootstrap with: the minimum the
// toolchain's own make.bash names (bootgo=), which must be of the series
// the rule names.
func bootstrapRelease(zipPath, prefix, goVer string) (boot, series string, err error) {
	if series, err = BootstrapVersion(goVer); err != nil {
		return "", "", err
	}
	script, err := zipMember(zipPath, prefix+"src/make.bash", 1<<20)
	if err != nil {
		return "", "", fmt.Errorf("reading src/make.bash of the toolchain: %w", err)
	}
	m := bootgoRe.FindSubmatch(script)
	if m == nil {
		return "", "", cannot("%s: src/make.bash names no bootgo= minimum bootstrap version; the rule names %s, whose patch release is not known", goVer, series)
	}
	boot = "go" + string(m[1])
	if !strings.HasPrefix(boot, series+".") {
		return "", "", cannot("%s: make.bash names bootstrap %s, but the Go project's rule names %s", goVer, boot, series)
	}
	if goversion.Compare(boot, "go1.21.0") < 0 {
		return "", "", cannot("%s bootstraps with %s, which the module proxy does not carry (golang.org/toolchain starts at go1.21.0); rebuild it with gorebuild", goVer, boot)
	}
	return boot, series, nil
}

// zipMember reads one file of a zip, at most max bytes.
func zipMember(zipPath, name string, max int64) ([]byte, error) {
	z, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, max+1))
		if err == nil && int64(len(b)) > max {
			err = fmt.Errorf("%s is larger than %d bytes", name, max)
		}
		return b, err
	}
	return nil, fmt.Errorf("no %s in %s", name, zipPath)
}

// distribution is the plan for a toolchain zip named whole.
func (a Adapter) distribution(ctx context.Context, in adapter.Input, ref gomod.Ref, goVer, goos, goarch string) (*adapter.Plan, error) {
	image, err := in.Env.Image()
	if err != nil {
		return nil, err
	}
	boot, series, err := bootstrapRelease(in.Artifact.Path, ref.ZipPrefix(), goVer)
	if err != nil {
		return nil, err
	}
	p, err := in.Env.Pinner.Pin(ctx, toolchainURI(boot))
	if err != nil {
		return nil, &adapter.FetchError{Err: fmt.Errorf("pinning the bootstrap toolchain %s: %w", toolchainURI(boot), err)}
	}
	plan := &adapter.Plan{Adapter: a.Name(),
		Check: fmt.Sprintf("the whole %s distribution for %s/%s rebuilt from its source with bootstrap %s (make.bash -distpack, as gorebuild does), its module zip compared with the published one member by member", goVer, goos, goarch, boot)}
	plan.Notes = append(plan.Notes,
		fmt.Sprintf("%s: the Go project's bootstrap rule names the %s series; src/make.bash names %s as the minimum, used here (gorebuild takes that series' latest release)", goVer, series, boot),
		fmt.Sprintf("bootstrap toolchain %s pinned at inference by download through GOPROXY: %s, %s", toolchainURI(boot), p.Digest, sumOf(p.URI)),
		"sources: the published toolchain zip's own files (the module proxy carries no source archive), without bin/, pkg/ and the files make.bash generates")
	out := "/out/" + ref.Module.Version + ".zip"
	m := &manifest.Manifest{
		APIVersion: manifest.APIVersion,
		Name:       goVer + "." + goos + "-" + goarch,
		Artifact:   manifest.Artifact{URI: in.Artifact.URI, Digest: in.Artifact.Digest},
		Sources: []manifest.Source{
			{URI: p.URI, Digest: p.Digest, Dest: BootstrapDest, Unpack: true},
			{URI: in.Artifact.URI, Digest: in.Artifact.Digest, Dest: DistSrcDest, Unpack: true},
		},
		Builder: manifest.Builder{Image: image},
		Build: manifest.Build{
			Workdir: "/tmp",
			Env: map[string]string{"GOROOT_BOOTSTRAP": BootstrapDest, "GOTOOLCHAIN": "local", "GOOS": goos, "GOARCH": goarch,
				"HOME": "/tmp/home", "GOCACHE": "/tmp/go-cache", "PATH": distBuildDir + "/bin:/usr/local/bin:/usr/bin:/bin"},
			Script:    distpackScript(out),
			Output:    out,
			Timeout:   manifest.Duration(2 * time.Hour),
			Resources: manifest.Resources{Memory: 8 << 30, Pids: 4096},
		},
	}
	if err := manifest.Validate(m); err != nil {
		return nil, fmt.Errorf("the inferred manifest is invalid (a bug in the Go adapter): %w", err)
	}
	plan.Candidates = []adapter.Candidate{{Name: "make.bash -distpack, bootstrap " + boot, From: "the Go project's bootstrap rule and src/make.bash", Manifest: m}}
	return plan, nil
}

// distpackScript copies the sources somewhere writable, removes what a
// build makes, runs make.bash -distpack and keeps the module zip.
func distpackScript(out string) string {
	return fmt.Sprintf(`set -e
cp -a %[1]s %[2]s
chmod -R u+w %[2]s
cd %[2]s
rm -rf bin pkg %[3]s
# The module zip stores go.mod files as _go.mod; unpacking restored them.
find . -name _go.mod -type f | while read -r f; do if [ -f "${f%%_go.mod}go.mod" ]; then rm "$f"; fi; done
cd src
sh make.bash -distpack
cp %[2]s/pkg/distpack/%[4]s %[5]s
`, DistSrcDest, distBuildDir, strings.Join(distGenerated, " "), strings.TrimPrefix(out, "/out/"), out)
}
