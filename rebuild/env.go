package rebuild

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/adapter/debian"
	"github.com/reprove/reprove/rebuild/adapter/golang"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/fetch/npm"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
	"github.com/reprove/reprove/rebuild/tree"
	"github.com/reprove/reprove/report"
)

// Config is everything a pipeline environment is built from: what the CLI's
// flags say, as plain values. The zero value of each field is its default.
type Config struct {
	CacheDir string // the cache folder (required)
	// Backend names the sandbox backend ("runc"); empty builds no backend,
	// for commands that never build (init).
	Backend string
	// Replace are --replace-source rewrites, OLD=NEW.
	Replace []string
	// AllowPaths widen the folders a manifest's local paths may name.
	AllowPaths []string
	// Offline uses only the (re-verified) cache.
	Offline         bool
	StallTimeout    time.Duration // no bytes for this long fails a download
	MaxDownloadSize int64         // bytes; fetch.DefaultMaxDownloadSize when 0
	// GOPROXY is the module proxy list; empty asks `go env GOPROXY`.
	GOPROXY string
	// BuilderImage is the image inferred manifests build in.
	BuilderImage string
	// BuildInfo is the .buildinfo (file or URL) of a .deb to verify.
	BuildInfo string
	// Limits bound every archive reprove reads (sources, members); zero
	// fields take archive's defaults.
	Limits archive.Limits
	// Debian says where Debian packages come from (images, .deb verifies).
	Debian DebianConfig
	Diff   diff.Options
	Tool   report.Tool
	// Progress receives download events; Step phase changes; Events what
	// happens in builds, candidates and comparisons (events.go). Each may
	// be nil.
	Progress fetch.Progress
	Step     func(phase, detail string)
	Events   func(Event)
}

// Env is one pipeline environment: a cache, a fetcher with every
// registered scheme, the dependency resolvers, a sandbox backend and the
// adapters. verify, init and batch share it; it is safe for concurrent
// verifications (batch runs several over one cache).
type Env struct {
	cfg      Config
	Cache    *fetch.Cache
	Fetcher  *fetch.Fetcher
	Client   *http.Client
	Backend  sandbox.Backend // nil when Config.Backend is empty
	Deps     []fetch.DepsResolver
	Rewrites []fetch.Rewrite
	pinners  []Pinner
	release  func() // the cache's use lock
}

// Pinner finds the digest of an input named without one (trust on first
// use, recorded in the report). Schemes that download implement it.
type Pinner interface {
	Handles(uri string) bool
	// Pin downloads uri into c; the returned URI is uri made canonical.
	Pin(ctx context.Context, c *fetch.Cache, uri string) (adapter.Pinned, error)
}

// SchemeSet is what one registered registry scheme contributes.
type SchemeSet struct {
	Scheme fetch.Scheme
	Pinner Pinner             // nil when the scheme cannot pin
	Deps   fetch.DepsResolver // nil when it resolves no deps kind
}

// SchemeConfig is what a scheme constructor is given.
type SchemeConfig struct {
	Client  *http.Client
	GOPROXY string
	Config  Config // the whole environment's configuration
}

var (
	registryMu sync.Mutex
	schemes    = map[string]func(SchemeConfig) SchemeSet{}
	backends   = map[string]func(BackendConfig) (sandbox.Backend, error){}
)

// RegisterScheme adds a URI scheme (gomod:, npm:…) to every Env.
func RegisterScheme(name string, f func(SchemeConfig) SchemeSet) {
	registryMu.Lock()
	defer registryMu.Unlock()
	schemes[name] = f
}

// BackendConfig is what a backend is made with.
type BackendConfig struct {
	CacheDir string   // the cache (a backend may keep unpacked images there)
	TreeKey  tree.Key // authenticates derived trees' records; nil: tree's default key
}

// RegisterBackend adds a sandbox backend, selected by name.
func RegisterBackend(name string, f func(BackendConfig) (sandbox.Backend, error)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	backends[name] = f
}

// Backends lists the registered backends' names, sorted.
func Backends() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	var names []string
	for n := range backends {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func init() {
	RegisterScheme("gomod", func(c SchemeConfig) SchemeSet {
		opts := []gomod.Option{gomod.WithHTTPClient(c.Client)}
		if c.GOPROXY != "" {
			opts = append(opts, gomod.WithProxy(c.GOPROXY))
		}
		s := gomod.NewScheme(opts...)
		return SchemeSet{Scheme: s, Pinner: gomodPinner{s}, Deps: gomod.NewResolver(opts...)}
	})
	RegisterScheme("npm", func(c SchemeConfig) SchemeSet {
		s := npm.NewScheme(npm.WithHTTPClient(c.Client))
		return SchemeSet{Scheme: s, Pinner: npmPinner{s}}
	})
	RegisterBackend("runc", func(c BackendConfig) (sandbox.Backend, error) {
		return runc.New(runc.Options{CacheDir: c.CacheDir, TreeKey: c.TreeKey})
	})
	RegisterScheme("deb", debScheme)
	adapter.Register(golang.Adapter{})
	adapter.Register(debian.Adapter{})
}

type gomodPinner struct{ s *gomod.Scheme }

func (p gomodPinner) Handles(uri string) bool { return p.s.Handles(uri) }
func (p gomodPinner) Pin(ctx context.Context, c *fetch.Cache, uri string) (adapter.Pinned, error) {
	pinned, err := p.s.Pin(ctx, c, uri)
	if err != nil {
		return adapter.Pinned{}, err
	}
	return adapter.Pinned{URI: pinned.Ref.String(), Digest: pinned.Digest, Path: pinned.Path}, nil
}

type npmPinner struct{ s *npm.Scheme }

func (p npmPinner) Handles(uri string) bool { return p.s.Handles(uri) }
func (p npmPinner) Pin(ctx context.Context, c *fetch.Cache, uri string) (adapter.Pinned, error) {
	pinned, err := p.s.Pin(ctx, c, uri)
	if err != nil {
		return adapter.Pinned{}, err
	}
	return adapter.Pinned{URI: uri, Digest: pinned.Digest, Path: pinned.Path}, nil
}

// NewEnv builds the environment: the cache, one HTTP client for every
// scheme, the fetcher, and (when cfg.Backend is set) the backend.
func NewEnv(cfg Config) (*Env, error) {
	if cfg.CacheDir == "" {
		return nil, fmt.Errorf("%w: no cache folder; set --cache-dir or REPROVE_CACHE_DIR", ErrUsage)
	}
	rewrites, err := ParseRewrites(cfg.Replace)
	if err != nil {
		return nil, err
	}
	if cfg.GOPROXY == "" {
		cfg.GOPROXY = os.Getenv("GOPROXY")
	}
	e := &Env{
		cfg:      cfg,
		Cache:    &fetch.Cache{Root: cfg.CacheDir, Progress: cfg.Progress, MaxDownloadSize: cfg.MaxDownloadSize},
		Client:   fetch.NewHTTPClient(fetch.HTTPOptions{StallTimeout: cfg.StallTimeout}),
		Rewrites: rewrites,
	}
	fopts := []fetch.Option{fetch.WithRewrites(rewrites), fetch.WithProgress(cfg.Progress),
		fetch.WithHTTPClient(e.Client), fetch.WithAllowPaths(cfg.AllowPaths...), fetch.WithLimits(cfg.Limits)}
	for _, name := range sortedSchemes() {
		set := schemes[name](SchemeConfig{Client: e.Client, GOPROXY: cfg.GOPROXY, Config: cfg})
		fopts = append(fopts, fetch.WithSchemes(set.Scheme))
		if set.Pinner != nil {
			e.pinners = append(e.pinners, set.Pinner)
		}
		if set.Deps != nil {
			e.Deps = append(e.Deps, set.Deps)
		}
	}
	if cfg.Offline {
		fopts = append(fopts, fetch.WithOffline())
	}
	e.Fetcher = fetch.New(e.Cache, fopts...)
	// Marks the cache in use: cache gc never removes what this run reads.
	if e.release, err = e.Cache.Hold(); err != nil {
		return nil, err
	}
	if cfg.Backend != "" {
		if e.Backend, err = newBackend(cfg.Backend, BackendConfig{CacheDir: cfg.CacheDir, TreeKey: e.Cache.Key}); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Close releases the environment's hold on the cache.
func (e *Env) Close() error {
	if e.release != nil {
		e.release()
		e.release = nil
	}
	return nil
}

func sortedSchemes() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := make([]string, 0, len(schemes))
	for n := range schemes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func newBackend(name string, cfg BackendConfig) (sandbox.Backend, error) {
	registryMu.Lock()
	f := backends[name]
	registryMu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("%w: --backend %q is not available; this reprove has: %s", ErrUsage, name, strings.Join(Backends(), ", "))
	}
	b, err := f(cfg)
	return b, inStage(StageBuild, err)
}

// ParseRewrites reads --replace-source OLD=NEW values.
func ParseRewrites(list []string) ([]fetch.Rewrite, error) {
	var rw []fetch.Rewrite
	for _, r := range list {
		old, new, ok := strings.Cut(r, "=")
		if !ok || old == "" {
			return nil, fmt.Errorf("%w: --replace-source %q: write OLD=NEW, e.g. git+https://github.com/acme/=git+file:///mirror/acme/", ErrUsage, r)
		}
		rw = append(rw, fetch.Rewrite{Old: old, New: new})
	}
	return rw, nil
}

// Options are the Verify options of this environment.
func (e *Env) Options() Options {
	return Options{
		Cache:   e.Cache,
		Fetcher: e.Fetcher,
		Backend: e.Backend,
		Deps:    e.Deps,
		Diff:    e.cfg.Diff,
		Tool:    e.cfg.Tool,
		Step:    e.cfg.Step,
		Events:  e.cfg.Events,
	}
}

// VerifyManifest loads the manifest at path and verifies it.
func (e *Env) VerifyManifest(ctx context.Context, path string) (*report.Result, error) {
	m, dgst, err := manifest.Load(path)
	if err != nil {
		return nil, err
	}
	if e.Backend == nil {
		return nil, errors.New("rebuild: this Env has no backend (Config.Backend)")
	}
	opts := e.Options()
	opts.ManifestDigest = dgst
	return Verify(ctx, m, opts)
}

// VerifyTarget verifies a manifest file, or an artifact with no manifest:
// its manifest is inferred and the candidates tried in order. It always
// returns a Result: when the check could not be made its verdict is
// report.Error and it holds whatever was known (the manifest path or
// artifact URI, the inputs fetched so far), so every outcome leaves
// evidence.
func (e *Env) VerifyTarget(ctx context.Context, target string) (*report.Result, error) {
	started := time.Now().UTC()
	var (
		res *report.Result
		err error
	)
	if IsManifest(target) {
		res, err = e.VerifyManifest(ctx, target)
	} else {
		res, err = e.verifyInferred(ctx, target)
	}
	if res == nil && err != nil {
		res = e.errorResult(target, started, err)
	}
	return res, err
}

func (e *Env) verifyInferred(ctx context.Context, target string) (*report.Result, error) {
	plan, fetcher, err := e.Infer(ctx, target)
	if err != nil {
		return nil, err
	}
	opts := e.Options()
	opts.Fetcher = fetcher
	return VerifyPlan(ctx, plan, opts)
}

// ErrorResult is the Result of a check that stopped before it had a
// manifest to verify (the manifest did not load, nothing could be
// inferred, a flag was wrong): verdict report.Error, with the target as
// the manifest path or the artifact URI.
func ErrorResult(tool report.Tool, target string, started time.Time, err error) *report.Result {
	res := &report.Result{
		SchemaVersion:   report.SchemaVersion,
		Tool:            tool,
		Name:            targetName(target),
		Verdict:         report.Error,
		StartedAt:       started.UTC(),
		FinishedAt:      time.Now().UTC(),
		FirstDifference: -1,
		Inputs:          []report.Input{},
		Timings:         []report.Timing{},
		Environment:     []string{},
	}
	if err != nil {
		res.Error = err.Error()
	}
	if ext := filepath.Ext(target); IsManifest(target) || ext == ".yaml" || ext == ".yml" {
		res.Manifest.Path = absPath(target)
	} else {
		res.Artifact.URI = target
	}
	return res
}

func (e *Env) errorResult(target string, started time.Time, err error) *report.Result {
	res := ErrorResult(e.cfg.Tool, target, started, err)
	res.Offline = e.cfg.Offline
	if e.Backend != nil {
		res.Backend = e.Backend.Name()
	}
	return res
}

// targetName names a check by what the user gave: the manifest's folder
// (reprove.yaml says little) or the artifact's file name.
func targetName(target string) string {
	uri, _ := SplitMember(target)
	base := filepath.Base(uri)
	if IsManifest(target) && strings.HasPrefix(base, "reprove.") {
		base = filepath.Base(filepath.Dir(absPath(target)))
	}
	if i := strings.LastIndex(base, ":"); i >= 0 && i < len(base)-1 {
		base = base[i+1:]
	}
	return base
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// AdapterEnv is what adapters are given of this environment: fetcher (the
// one a verification of their manifests uses), pinner and HTTP client.
func (e *Env) AdapterEnv(f *fetch.Fetcher) adapter.Env {
	return adapter.Env{Fetcher: f, Pinner: e, Client: e.Client, BuilderImage: e.cfg.BuilderImage, BuildInfo: e.cfg.BuildInfo, Debian: debianEnv{e}}
}
