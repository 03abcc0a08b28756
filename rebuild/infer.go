package rebuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/fetch/npm"
)

// IsManifest reports whether path is a manifest file rather than an
// artifact: a text file that names an apiVersion near its start.
func IsManifest(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	return bytes.Contains(head, []byte("apiVersion"))
}

// Infer pins the artifact named by target (ARTIFACT[#MEMBER]), fetches it
// and asks the adapters for a plan. It also returns the fetcher the plan's
// manifests must be verified with: one that may read the artifact file and
// builder image layout the user named, wherever they are.
func (e *Env) Infer(ctx context.Context, target string) (*adapter.Plan, *fetch.Fetcher, error) {
	uri, member := SplitMember(target)
	uri, dgst, err := e.pin(ctx, uri)
	if err != nil {
		return nil, nil, inStage(StageFetch, err)
	}
	fetcher := e.Fetcher.With(fetch.WithAllowPaths(userPaths(uri, e.cfg.BuilderImage)...))
	item, err := fetcher.Fetch(ctx, fetch.Request{URI: uri, Digest: dgst})
	if err != nil {
		return nil, nil, inStage(StageFetch, fmt.Errorf("artifact: %w", err))
	}
	path, member, err := inferMember(ctx, fetcher, uri, item.Path, member)
	if err != nil {
		return nil, nil, inStage(StageFetch, err)
	}
	in := adapter.Input{
		Artifact: adapter.Artifact{Path: path, URI: uri, Digest: dgst, Member: member, Name: suggestedName(uri)},
		Env:      e.AdapterEnv(fetcher),
	}
	plan, err := adapter.Infer(ctx, in)
	if errors.Is(err, adapter.ErrNotApplicable) && member == "" {
		// An archive named whole: say which members could be verified.
		kind, members, lerr := e.recognisedMembers(ctx, fetcher, path)
		if lerr != nil {
			return nil, nil, inStage(StageFetch, lerr)
		}
		if len(members) > 0 {
			return nil, nil, inStage(StageInfer, &MembersError{Target: target, Kind: kind, Members: members})
		}
	}
	var fe *adapter.FetchError
	switch {
	case errors.As(err, &fe):
		return nil, nil, inStage(StageFetch, err)
	case err != nil:
		return nil, nil, inStage(StageInfer, err)
	case len(plan.Candidates) == 0:
		return nil, nil, inStage(StageInfer, fmt.Errorf("%w: the %s adapter found nothing to rebuild in %s", adapter.ErrCannotInfer, plan.Adapter, target))
	}
	return plan, fetcher, nil
}

// inferMember extracts the named member, letting it be named from the
// root of what a registry's archive holds: a module zip's MODULE@VERSION/
// (gomod:…toolchain@…#bin/gofmt), an npm tarball's package/ (#bin/tool).
func inferMember(ctx context.Context, f *fetch.Fetcher, uri, archive, member string) (string, string, error) {
	if member == "" {
		return archive, "", nil
	}
	if strings.HasPrefix(uri, gomod.Prefix) {
		if ref, err := gomod.ParseURI(uri); err == nil && !strings.HasPrefix(member, ref.ZipPrefix()) {
			member = ref.ZipPrefix() + member
		}
	}
	p, err := f.Member(ctx, archive, member)
	if err != nil && strings.HasPrefix(uri, npm.Prefix) && !strings.HasPrefix(member, "package/") {
		if p2, err2 := f.Member(ctx, archive, "package/"+member); err2 == nil {
			p, err, member = p2, nil, "package/"+member
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("artifact member: %w", err)
	}
	return p, member, nil
}

// userPaths are the folders of the artifact file and the builder image
// layout the user named on the command line (or in REPROVE_BUILDER_IMAGE):
// an inferred manifest has no folder of its own, and these may be read
// wherever they are.
func userPaths(artifactURI, builder string) []string {
	var dirs []string
	if local, ok := strings.CutPrefix(artifactURI, "file://"); ok {
		dirs = append(dirs, filepath.Dir(local))
	}
	if builder == "" {
		builder = os.Getenv(adapter.BuilderImageEnv)
	}
	if rest, ok := strings.CutPrefix(builder, "oci-layout:"); ok {
		if at := strings.LastIndex(rest, "@"); at > 0 {
			dirs = append(dirs, rest[:at])
		}
	}
	return dirs
}

// suggestedName names a manifest after the registry package or module the
// user named: npm:@acme/hello-linux-x64@1.0.0 → hello-linux-x64@1.0.0,
// gomod:example.com/tool@v1.2.3 → tool@v1.2.3. Other artifacts (a file, a
// URL, a Go toolchain) suggest none: the adapter names them.
func suggestedName(uri string) string {
	if ref, err := npm.ParseURI(uri); err == nil {
		return path.Base(ref.Name) + "@" + ref.Version
	}
	if ref, err := gomod.ParseURI(uri); err == nil && !ref.IsToolchain() {
		return path.Base(ref.Module.Path) + "@" + ref.Module.Version
	}
	return ""
}

// SplitMember splits ARTIFACT#MEMBER.
func SplitMember(target string) (string, string) {
	if i := strings.LastIndex(target, "#"); i >= 0 {
		return target[:i], target[i+1:]
	}
	return target, ""
}

// pin finds the digest of an artifact named on the command line: it is
// trusted on first use, like any digest a person would copy into a
// manifest, and recorded in the report.
func (e *Env) pin(ctx context.Context, uri string) (string, string, error) {
	if e.pinnable(uri) {
		p, err := e.Pin(ctx, uri)
		return uri, p.Digest, err
	}
	path := strings.TrimPrefix(strings.TrimPrefix(uri, "file://"), "file:")
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	d, _, err := FileDigest(abs)
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe) && pe.Op == "open":
		return "", "", fmt.Errorf("%w: artifact %s: %v", ErrUsage, uri, err)
	case err != nil:
		return "", "", fmt.Errorf("reading artifact %s: %w", uri, err)
	}
	return "file://" + abs, d, nil
}

// pinnable says whether Pin downloads uri (http(s) or a registry scheme).
func (e *Env) pinnable(uri string) bool {
	if strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://") {
		return true
	}
	for _, p := range e.pinners {
		if p.Handles(uri) {
			return true
		}
	}
	return false
}

// Pin downloads an input named without a digest (an http(s) URL or a
// registry URI such as gomod:…) into the cache and says what it is. The
// --replace-source rewrites apply, as when fetching; the URI returned is
// the one asked for, made canonical by its scheme (gomod: gains ?sum=).
// Adapters pin what their manifests need through it.
func (e *Env) Pin(ctx context.Context, uri string) (adapter.Pinned, error) {
	to := e.Fetcher.Rewrite(uri)
	if e.cfg.Offline {
		return adapter.Pinned{}, fmt.Errorf("%s: %w: pinning downloads it, and --offline forbids the network; write a manifest that declares its digest", uri, fetch.ErrOffline)
	}
	p, err := e.pinRewritten(ctx, to)
	if err != nil {
		if to != uri {
			return adapter.Pinned{}, fmt.Errorf("%w (rewritten from %s)", err, uri)
		}
		return adapter.Pinned{}, err
	}
	if rest, ok := strings.CutPrefix(p.URI, to); ok {
		p.URI = uri + rest
	} else {
		p.URI = uri
	}
	return p, nil
}

func (e *Env) pinRewritten(ctx context.Context, uri string) (adapter.Pinned, error) {
	if strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://") {
		b, err := e.Cache.Pin(ctx, e.Client, uri)
		if err != nil {
			return adapter.Pinned{}, err
		}
		return adapter.Pinned{URI: uri, Digest: b.Digest.String(), Path: b.Path}, nil
	}
	for _, p := range e.pinners {
		if p.Handles(uri) {
			return p.Pin(ctx, e.Cache, uri)
		}
	}
	if local, ok := strings.CutPrefix(uri, "file:"); ok {
		// A rewrite to a local file the user named: unconfined, as when
		// fetching a rewritten URI.
		local = strings.TrimPrefix(local, "//")
		d, _, err := FileDigest(local)
		if err != nil {
			return adapter.Pinned{}, fmt.Errorf("pinning %s: %w", uri, err)
		}
		return adapter.Pinned{URI: uri, Digest: d, Path: local}, nil
	}
	return adapter.Pinned{}, fmt.Errorf("%s: cannot find its digest by downloading it; name an https://, gomod: or npm: URI, or write a manifest that declares its digest", uri)
}
