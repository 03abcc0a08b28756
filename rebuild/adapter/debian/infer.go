package debian

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/reprove/reprove/internal/bounded"
	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/image"
)

// Adapter infers manifests for Debian binary packages.
type Adapter struct{}

// Name is "debian".
func (Adapter) Name() string { return "debian" }

// ErrNoSourcePackage is wrapped when the source package cannot be found.
var ErrNoSourcePackage = errors.New("source package not found")

// Where the build sees its inputs.
const (
	SourceDest   = "/src"
	BuildTimeout = 3 * time.Hour
)

// inference is one Infer.
type inference struct {
	in                   adapter.Input
	ctl                  *deb.Control
	pkg, version, arch   string // the asked .deb
	srcName, srcVersion  string
	bi                   *BuildInfo
	derived              bool
	archive              *deb.Archive
	notes, approx        []string
	debName, suite, host string
}

func (x *inference) note(format string, args ...any) {
	x.notes = append(x.notes, fmt.Sprintf(format, args...))
}

// Infer reads the .deb's control file and its .buildinfo (or derives one),
// pins the source package, builds the image of the build dependencies and
// returns one manifest.
func (a Adapter) Infer(ctx context.Context, in adapter.Input) (*adapter.Plan, error) {
	x, err := newInference(ctx, in)
	if err != nil {
		return nil, err
	}
	plan, err := a.infer(ctx, x)
	if err != nil {
		// Past reading the .deb, what fails is fetching (the .buildinfo,
		// the archives, the source package) or building (the image of the
		// build dependencies), not the artifact; the errors that blame
		// what reprove was given (a bad .buildinfo, a digest mismatch, a
		// source package or versions the archives lack) stay typed.
		return nil, &adapter.FetchError{Err: err}
	}
	return plan, nil
}

func (a Adapter) infer(ctx context.Context, x *inference) (*adapter.Plan, error) {
	in := x.in
	var err error
	if in.Env.Debian == nil || in.Env.Fetcher == nil {
		return nil, errors.New("the Debian adapter needs the pipeline's archives, image builder and cache")
	}
	if err := x.loadBuildInfo(ctx); err != nil {
		return nil, err
	}
	if x.archive, err = in.Env.Debian.Archive(x.suite, x.host, x.snapshotTime()); err != nil {
		return nil, err
	}
	dsc, files, err := x.sourcePackage(ctx)
	if err != nil {
		return nil, err
	}
	if x.derived {
		if err := x.deriveBuildInfo(ctx, dsc); err != nil {
			return nil, err
		}
	}
	img, err := x.image(ctx)
	if err != nil {
		return nil, err
	}
	m, err := x.manifest(ctx, files, img)
	if err != nil {
		return nil, err
	}
	return &adapter.Plan{Adapter: a.Name(), Notes: x.notes, Candidates: []adapter.Candidate{{Name: x.candidateName(), Manifest: m}}}, nil
}

// newInference reads the artifact's control file, or says it is not a .deb.
func newInference(ctx context.Context, in adapter.Input) (*inference, error) {
	head := make([]byte, 8)
	f, err := os.Open(in.Artifact.Path)
	if err != nil {
		return nil, err
	}
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || !bytes.Equal(head, []byte("!<arch>\n")) {
		return nil, fmt.Errorf("%s is not a Debian package: %w", in.Artifact.URI, adapter.ErrNotApplicable)
	}
	lim := in.Env.Debian.Limits()
	ctl, err := deb.ReadDeb(ctx, in.Artifact.Path, lim, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", in.Artifact.URI, err, adapter.ErrNotApplicable)
	}
	x := &inference{in: in, ctl: ctl, pkg: ctl.Field("Package"), version: ctl.Field("Version"), arch: ctl.Field("Architecture")}
	if x.pkg == "" || x.version == "" || x.arch == "" || strings.ContainsAny(x.pkg+x.version+x.arch, "/ \n") {
		return nil, fmt.Errorf("%w: the control file's Package, Version or Architecture is missing or malformed", ErrBadBuildInfo)
	}
	x.srcName, x.srcVersion = x.pkg, x.version
	if s := strings.TrimSpace(ctl.Field("Source")); s != "" {
		name, ver, hasVer := strings.Cut(s, " ")
		x.srcName = name
		if hasVer {
			x.srcVersion = strings.Trim(strings.TrimSpace(ver), "()")
		}
	}
	x.debName = fmt.Sprintf("%s_%s_%s.deb", x.pkg, stripEpoch(x.version), x.arch)
	x.suite, x.host = image.HostSuite(), x.arch
	if x.arch == "all" {
		x.host = image.HostArch()
	}
	return x, nil
}

func (x *inference) snapshotTime() time.Time {
	if x.bi != nil {
		return x.bi.Date
	}
	return time.Time{}
}

// loadBuildInfo reads --buildinfo and checks it is this .deb's, or marks
// the inference derived.
func (x *inference) loadBuildInfo(ctx context.Context) error {
	if x.in.Env.BuildInfo == "" {
		x.derived = true
		x.approx = append(x.approx, "no .buildinfo: the build environment is derived from today's archive, not recorded from the published build")
		return nil
	}
	data, where, err := x.readBuildInfo(ctx)
	if err != nil {
		return err
	}
	if x.bi, err = ParseBuildInfo(data); err != nil {
		return fmt.Errorf("--buildinfo %s: %w", x.in.Env.BuildInfo, err)
	}
	h, ok := x.bi.Files[x.debName]
	want := strings.TrimPrefix(x.in.Artifact.Digest, "sha256:")
	switch {
	case x.bi.Source != x.srcName:
		return fmt.Errorf("--buildinfo %s is for source %s, the .deb is built from %s: %w", x.in.Env.BuildInfo, x.bi.Source, x.srcName, ErrBadBuildInfo)
	case !ok:
		return fmt.Errorf("--buildinfo %s does not list %s: %w", x.in.Env.BuildInfo, x.debName, ErrBadBuildInfo)
	case h.SHA256 != want:
		return fmt.Errorf("--buildinfo %s lists %s with sha256:%s, the artifact is sha256:%s: %w", x.in.Env.BuildInfo, x.debName, h.SHA256, want, fetch.ErrDigestMismatch)
	}
	if x.bi.BuildArch != "" {
		x.host = x.bi.BuildArch
	}
	signed := "unsigned"
	if x.bi.Signed {
		signed = "clearsigned (signature not checked: reprove has no keyring of Debian's builders)"
	}
	x.note(".buildinfo %s, sha256:%s, %s; it lists %s with the artifact's sha256", where, sha256Hex(data), signed, x.debName)
	return nil
}

// readBuildInfo reads --buildinfo, a file or a URL, bounded.
func (x *inference) readBuildInfo(ctx context.Context) ([]byte, string, error) {
	src := x.in.Env.BuildInfo
	if strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://") {
		b, err := x.in.Env.Fetcher.Cache().Download(ctx, x.client(), x.in.Env.Fetcher.Rewrite(src), fetch.PutOptions{})
		if err != nil {
			return nil, "", fmt.Errorf("--buildinfo: %w", err)
		}
		data, err := bounded.ReadFile(b.Path, MaxBuildInfo)
		return data, src, err
	}
	p := strings.TrimPrefix(strings.TrimPrefix(src, "file://"), "file:")
	data, err := bounded.ReadFile(p, MaxBuildInfo)
	if err != nil {
		return nil, "", fmt.Errorf("%w: --buildinfo %s: %v", ErrBadBuildInfo, src, err)
	}
	return data, p, nil
}

func sha256Hex(b []byte) string { return digest.FromBytes(b).Encoded() }

func (x *inference) candidateName() string {
	if x.derived {
		return "derived .buildinfo"
	}
	return ".buildinfo"
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
