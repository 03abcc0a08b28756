package debian

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/reprove/reprove/rebuild/image"
	"github.com/reprove/reprove/rebuild/manifest"
)

// image builds the image of exactly the build's Installed-Build-Depends.
func (x *inference) image(ctx context.Context) (*image.Image, error) {
	r, err := image.Exact("buildinfo-"+x.srcName+"-"+stripEpoch(x.srcVersion), x.suite, x.host, x.bi.Depends)
	if err != nil {
		return nil, fmt.Errorf("%w: Installed-Build-Depends: %v", ErrBadBuildInfo, err)
	}
	idx, err := x.archive.Index(ctx)
	if err != nil {
		return nil, err
	}
	lock, err := image.ResolveIn(idx, r)
	if err != nil {
		return nil, fmt.Errorf("the build image of %s %s: %w", x.srcName, x.srcVersion, err)
	}
	img, err := x.in.Env.Debian.BuildImage(ctx, r, lock, x.archive)
	if err != nil {
		return nil, fmt.Errorf("building the image of the Installed-Build-Depends: %w", err)
	}
	what := "exactly the .buildinfo's Installed-Build-Depends"
	if x.derived {
		what = "the derived build dependencies"
	}
	x.note("build image %s: %d packages, %s (lock %s)", img.Digest, len(lock.Packages), what, lock.Digest())
	return img, nil
}

// manifest is the rebuild: the source package unpacked at Build-Path,
// dpkg-buildpackage with the recorded environment, every .deb compared.
func (x *inference) manifest(ctx context.Context, files []srcFile, img *image.Image) (*manifest.Manifest, error) {
	bp := x.bi.Path
	if bp == "" {
		bp = "/build/reprove/" + x.srcName + "-" + upstreamVersion(x.srcVersion)
		x.approx = append(x.approx, "Build-Path: not recorded in the .buildinfo; "+bp+" is used")
	}
	parent := path.Dir(bp)
	if parent == "/" {
		return nil, fmt.Errorf("%w: Build-Path %s: its folder must not be the root", ErrBadBuildInfo, bp)
	}
	m := &manifest.Manifest{
		APIVersion: manifest.APIVersion,
		Name:       strings.TrimSuffix(x.debName, ".deb"),
		Artifact:   manifest.Artifact{URI: x.in.Artifact.URI, Digest: x.in.Artifact.Digest},
		Builder:    manifest.Builder{Image: img.Ref},
		Build: manifest.Build{
			Workdir: "/", Env: x.bi.Environment, Output: "/out/" + x.debName,
			Timeout: manifest.Duration(BuildTimeout), Script: x.script(files[0].name, bp),
		},
	}
	if !strings.HasPrefix(bp, "/tmp/") {
		m.Build.Writable = []string{parent}
	}
	for _, f := range files {
		m.Sources = append(m.Sources, manifest.Source{URI: f.uri, Digest: "sha256:" + f.hash.SHA256, Dest: SourceDest + "/" + f.name, Size: manifest.ByteSize(f.hash.Size)})
	}
	x.also(ctx, m)
	m.Approximated = x.approx
	x.note("Build-Path %s; environment %s", bp, envList(x.bi.Environment))
	return m, manifest.Validate(m)
}

// also adds the other .debs the .buildinfo lists, when they are beside
// the asked one, to be compared too.
func (x *inference) also(ctx context.Context, m *manifest.Manifest) {
	if x.derived {
		return
	}
	loc, ok := besideArtifact(x.in.Artifact.URI)
	compared := []string{x.debName}
	for _, name := range x.bi.Debs(x.debName)[1:] {
		if !ok || !x.exists(ctx, loc, name) {
			x.note("%s is listed in the .buildinfo but not beside the .deb: not compared", name)
			continue
		}
		h := x.bi.Files[name]
		m.Also = append(m.Also, manifest.Also{URI: loc.uri(name), Digest: "sha256:" + h.SHA256, Output: "/out/" + name, Size: manifest.ByteSize(h.Size)})
		compared = append(compared, name)
	}
	x.note("compared: %s", strings.Join(compared, ", "))
}

// script unpacks the source package at the build path and builds the
// binary packages as the .buildinfo says, keeping the .debs.
func (x *inference) script(dsc, bp string) string {
	return fmt.Sprintf(`set -e
mkdir -p %[1]s
dpkg-source --no-copy -x %[2]s/%[3]s %[4]s
cd %[4]s
dpkg-buildpackage %[5]s -uc -us
cp ../*.deb /out/
`, shellQuote(path.Dir(bp)), SourceDest, shellQuote(dsc), shellQuote(bp), x.bi.BuildFlag())
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func envList(env map[string]string) string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "(none recorded)"
	}
	return strings.Join(out, " ")
}
