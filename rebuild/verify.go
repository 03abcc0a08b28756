// Package rebuild is reprove's pipeline: declared inputs → fetch → sandboxed
// rebuild → comparison → one report.Result.
package rebuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/report"
)

// DefaultTimeout bounds a build whose manifest sets no timeout.
const DefaultTimeout = 30 * time.Minute

// Options are what one verification needs besides the manifest.
type Options struct {
	Cache   *fetch.Cache    // where inputs, image rootfs and runs are kept
	Fetcher *fetch.Fetcher  // brings inputs into Cache
	Backend sandbox.Backend // runs the build
	Deps    []fetch.DepsResolver
	Diff    diff.Options // limits and normalizations for the deep diff
	// ManifestDigest is the sha256 of the manifest as read; computed from
	// its encoding when empty.
	ManifestDigest string
	Tool           report.Tool
	// Step, when set, is told when each phase starts, for progress on stderr.
	Step func(phase, detail string)
	// Events, when set, receives what happens as it happens (events.go).
	Events func(Event)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Mounts are bound into the build besides the manifest's inputs (the
	// build cache candidates of one plan share).
	Mounts []sandbox.Mount
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) step(phase, format string, args ...any) {
	if o.Step != nil {
		o.Step(phase, fmt.Sprintf(format, args...))
	}
}

// Verify rebuilds what m declares and compares it with the published
// artifact. It always returns a Result; when the check itself could not be
// made the Result's verdict is report.Error and err says why; errors from
// fetching, building and comparing are *StageError.
func Verify(ctx context.Context, m *manifest.Manifest, opts Options) (*report.Result, error) {
	res := newResult(m, opts)
	err := verify(ctx, m, opts, res)
	res.FinishedAt = opts.now().UTC()
	if err != nil {
		res.Verdict = report.Error
		res.Error = err.Error()
	}
	return res, err
}

func newResult(m *manifest.Manifest, opts Options) *report.Result {
	res := &report.Result{
		SchemaVersion:   report.SchemaVersion,
		Tool:            opts.Tool,
		Name:            m.Name,
		Manifest:        report.Manifest{Path: m.Path, Digest: opts.ManifestDigest, Body: m},
		Artifact:        report.Artifact{URI: m.Artifact.URI, Digest: m.Artifact.Digest, Declared: m.Artifact.Digest, Member: m.Artifact.Member},
		Builder:         report.Builder{Image: m.Builder.Image},
		StartedAt:       opts.now().UTC(),
		FirstDifference: -1,
		Inputs:          []report.Input{},
		Timings:         []report.Timing{},
		Approximated:    m.Approximated,
	}
	if opts.Backend != nil {
		res.Backend = opts.Backend.Name()
	}
	if opts.Fetcher != nil {
		res.Offline = opts.Fetcher.Offline()
	}
	if i := strings.LastIndex(m.Builder.Image, "@"); i >= 0 {
		res.Builder.Digest = m.Builder.Image[i+1:]
	}
	for _, s := range m.Sources {
		in := report.Input{Kind: "source", URI: s.URI, Digest: s.Digest, Rev: s.Rev, Dest: s.Dest}
		if s.Rev != "" && s.Digest == "" {
			in.Digest = commitDigest(s.Rev)
		}
		res.Inputs = append(res.Inputs, in)
	}
	for _, d := range m.Deps {
		res.Inputs = append(res.Inputs, report.Input{Kind: "deps:" + d.Kind, URI: "deps:" + d.Kind + ":" + d.Source, Dest: d.Dest})
	}
	res.Environment = buildEnv(m)
	res.BuildScript = m.Build.Script
	return res
}

// buildEnv is the manifest's env as the sandbox applies it, sorted.
func buildEnv(m *manifest.Manifest) []string {
	env := make([]string, 0, len(m.Build.Env))
	for k, v := range m.Build.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// logLine passes the build's log lines on as BuildOutput events; nil (no
// line splitting in the sandbox) when nobody listens.
func (o *Options) logLine() func(string) {
	if o.Events == nil {
		return nil
	}
	return func(l string) { o.Events(BuildOutput{Line: l}) }
}

func (o *Options) timed(res *report.Result, phase string, fn func() error) error {
	start := time.Now()
	err := fn()
	res.Timings = append(res.Timings, report.Timing{Phase: phase, Duration: time.Since(start)})
	return err
}

func verify(ctx context.Context, m *manifest.Manifest, opts Options, res *report.Result) error {
	if opts.Cache == nil || opts.Fetcher == nil || opts.Backend == nil {
		return errors.New("rebuild: Options needs Cache, Fetcher and Backend")
	}
	if err := manifest.Validate(m); err != nil {
		return err
	}
	var (
		published string
		mounts    []sandbox.Mount
		image     *fetch.Image
	)
	err := opts.timed(res, "fetch", func() error {
		var err error
		published, err = fetchArtifact(ctx, m, opts, res)
		if err != nil {
			return err
		}
		mounts, err = fetchSources(ctx, m, opts, res)
		if err != nil {
			return err
		}
		opts.step("fetch", "builder image %s", m.Builder.Image)
		image, err = opts.Fetcher.FetchImage(ctx, resolveLayout(m.Builder.Image, m.Dir), m.Dir)
		if err != nil {
			return fmt.Errorf("builder.image: %w", err)
		}
		res.Builder.Digest = image.Digest
		res.Quarantined = append(res.Quarantined, image.Quarantined...)
		return nil
	})
	if err != nil {
		return inStage(StageFetch, err)
	}

	runDir, err := newRunDir(opts.Cache, m.Name, opts.now())
	if err != nil {
		return inStage(StageBuild, err)
	}
	timeout := time.Duration(m.Build.Timeout)
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	var out *sandbox.Result
	// With other outputs to compare (also), the whole /out comes out of
	// the sandbox, not only the artifact's.
	output := m.Build.Output
	if len(m.Also) > 0 {
		output = "/out"
	}
	opts.Diff.Times = buildTimes(m, opts.now())
	err = opts.timed(res, "build", func() error {
		opts.step("build", "%s in %s (%s backend, timeout %s)", m.Name, m.Builder.Image, opts.Backend.Name(), timeout)
		opts.emit(BuildStarted{Name: m.Name, Log: filepath.Join(runDir, "build.log"), Backend: opts.Backend.Name(), Timeout: timeout})
		start := time.Now()
		var err error
		out, err = opts.Backend.Run(ctx, sandbox.Spec{
			ImageLayout: image.Layout,
			ImageDigest: image.Digest,
			RunDir:      runDir,
			Mounts:      append(mounts, opts.Mounts...),
			Scratch:     m.Build.Writable,
			Workdir:     m.Build.Workdir,
			Env:         m.Build.Env,
			Script:      m.Build.Script,
			Output:      output,
			Timeout:     timeout,
			Memory:      int64(m.Build.Resources.Memory),
			Pids:        m.Build.Resources.Pids,
			Disk:        int64(m.Build.Resources.Disk),
			OnLogLine:   opts.logLine(),
		})
		opts.emit(BuildFinished{Duration: time.Since(start), Err: err})
		if out != nil {
			res.BuildLog = out.Log
			res.Sandbox = sandboxReport(out)
		}
		return err
	})
	if res.BuildLog == "" {
		if p := filepath.Join(runDir, "build.log"); exists(p) {
			res.BuildLog = p
		}
	}
	if res.BuildLog != "" {
		res.BuildLogTail = logTail(res.BuildLog, report.LogTailLines)
	}
	if err != nil {
		return inStage(StageBuild, fmt.Errorf("building %s: %w", m.Name, err))
	}
	return inStage(StageCompare, opts.timed(res, "compare", func() error {
		opts.step("compare", "%s with the rebuild", m.Artifact.URI)
		rebuilt := out.Output
		if output != m.Build.Output {
			// The whole /out came out: find the artifact's file in it.
			if rebuilt, err = sandbox.FindOutput(filepath.Join(runDir, "out"), m.Build.Output); err != nil {
				return err
			}
		}
		if err := compare(ctx, published, rebuilt, opts, res); err != nil {
			return err
		}
		return compareAlso(ctx, m, filepath.Join(runDir, "out"), opts, res)
	}))
}

// fetchArtifact reads the published artifact from its URI again (never
// from the cache, unless --offline) and hashes the bytes that will be
// compared, in this run.
func fetchArtifact(ctx context.Context, m *manifest.Manifest, opts Options, res *report.Result) (string, error) {
	opts.step("fetch", "artifact %s", m.Artifact.URI)
	item, err := opts.Fetcher.Fetch(ctx, fetch.Request{
		URI: m.Artifact.URI, Digest: m.Artifact.Digest, Dir: m.Dir,
		Size: int64(m.Artifact.Size), Fresh: !opts.Fetcher.Offline(),
	})
	var dm *fetch.DigestMismatchError
	switch {
	case errors.As(err, &dm):
		// What the URI serves now is evidence too: history compares it
		// with earlier runs' (a re-published release).
		res.Artifact.Digest, res.Artifact.FetchedAt = dm.Got, opts.now().UTC()
		res.Artifact.Source = fetch.SourceNetwork
		if strings.HasPrefix(m.Artifact.URI, "file:") {
			res.Artifact.Source = fetch.SourceFile
		}
		return "", fmt.Errorf("artifact: the artifact at %s no longer matches the declared digest: it was replaced or corrupted (declared %s, fetched %s): %w",
			m.Artifact.URI, dm.Want, dm.Got, fetch.ErrDigestMismatch)
	case err != nil:
		res.Quarantined = append(res.Quarantined, fetch.Quarantined(err)...)
		return "", fmt.Errorf("artifact: %w", err)
	}
	res.Artifact.Digest, res.Artifact.Source, res.Artifact.FetchedAt = item.Digest, item.Source, opts.now().UTC()
	res.Quarantined = append(res.Quarantined, item.Quarantined...)
	path := item.Path
	if m.Artifact.Member != "" {
		path, err = opts.Fetcher.Member(ctx, item.Path, m.Artifact.Member)
		if err != nil {
			return "", fmt.Errorf("artifact.member: %w", err)
		}
	}
	d, size, err := FileDigest(path)
	if err != nil {
		return "", fmt.Errorf("artifact: %w", err)
	}
	if m.Artifact.Member == "" && d != m.Artifact.Digest {
		return "", fmt.Errorf("artifact: %s changed in the cache after it was fetched and hashed (now %s, declared %s): another process is writing the cache folder %s; make it private to this user: %w",
			path, d, m.Artifact.Digest, opts.Cache.Root, fetch.ErrDigestMismatch)
	}
	res.Artifact.File = &report.File{Path: path, Digest: d, Size: size}
	return path, nil
}

func fetchSources(ctx context.Context, m *manifest.Manifest, opts Options, res *report.Result) ([]sandbox.Mount, error) {
	var mounts []sandbox.Mount
	byDest := map[string]string{}
	for i, s := range m.Sources {
		opts.step("fetch", "source %s", s.URI)
		item, err := opts.Fetcher.Fetch(ctx, fetch.Request{URI: s.URI, Digest: s.Digest, Rev: s.Rev, Dir: m.Dir, Unpack: s.Unpack, Size: int64(s.Size)})
		if err != nil {
			res.Quarantined = append(res.Quarantined, fetch.Quarantined(err)...)
			return nil, fmt.Errorf("sources[%d]: %w", i, err)
		}
		res.Quarantined = append(res.Quarantined, item.Quarantined...)
		res.Inputs[i].URI, res.Inputs[i].Fetched = item.URI, true
		if strings.HasPrefix(item.Digest, "sha256:") {
			res.Inputs[i].Digest = item.Digest
		}
		byDest[s.Dest] = item.Path
		mounts = append(mounts, sandbox.Mount{Source: item.Path, Dest: s.Dest})
	}
	for i, d := range m.Deps {
		var r fetch.DepsResolver
		for _, c := range opts.Deps {
			if c.Kind() == d.Kind {
				r = c
			}
		}
		if r == nil {
			return nil, fmt.Errorf("deps[%d].kind: no resolver for %q in this reprove", i, d.Kind)
		}
		opts.step("fetch", "%s dependencies of %s", d.Kind, d.Source)
		item, err := r.Resolve(ctx, opts.Cache, fetch.DepsRequest{SourceDir: byDest[d.Source], Dir: d.Dir, Dest: d.Dest, Offline: opts.Fetcher.Offline()})
		if err != nil {
			return nil, fmt.Errorf("deps[%d]: %w", i, err)
		}
		res.Quarantined = append(res.Quarantined, item.Quarantined...)
		in := &res.Inputs[len(m.Sources)+i]
		in.Digest, in.Fetched = item.Digest, true
		if item.URI != "" {
			in.URI = item.URI
		}
		mounts = append(mounts, sandbox.Mount{Source: item.Path, Dest: d.Dest})
	}
	return mounts, nil
}

func compare(ctx context.Context, published, rebuilt string, opts Options, res *report.Result) error {
	fi, err := os.Stat(rebuilt)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		opts.emit(ComparePhase{Phase: "hashing the rebuild"})
		d, size, err := FileDigest(rebuilt)
		if err != nil {
			return err
		}
		res.Rebuilt = &report.File{Path: rebuilt, Digest: d, Size: size}
		if d == res.Artifact.File.Digest {
			// The rebuilt bytes equal the compared bytes, which were hashed
			// in this run and (for a whole artifact) equal the declared
			// digest: fetchArtifact refuses anything else.
			res.Verdict = report.Reproducible
			return nil
		}
		opts.emit(ComparePhase{Phase: "finding the first difference"})
		res.FirstDifference, err = firstDifference(published, rebuilt)
		if err != nil {
			return err
		}
	} else {
		res.Rebuilt = &report.File{Path: rebuilt}
	}
	dopts := opts.Diff
	// Both sides are the same artifact: name them by its file name, so
	// members read hello-1.0.tar.gz/hello-1.0.tar/bin/hello as in diffoscope.
	name := artifactName(res.Artifact)
	if dopts.Name1 == "" {
		dopts.Name1 = name
	}
	if dopts.Name2 == "" {
		dopts.Name2 = name
	}
	opts.emit(ComparePhase{Phase: "deep diff"})
	sum, err := diff.Run(ctx, published, rebuilt, dopts)
	if err != nil {
		return fmt.Errorf("comparing: %w", err)
	}
	res.Diff = sum
	switch {
	case sum.Identical:
		res.Verdict = report.Reproducible
	case sum.Equivalent && len(dopts.Normalize) > 0:
		res.Verdict = report.ReproducibleAfterNormalization
	default:
		res.Verdict = report.NotReproducible
	}
	return nil
}

// artifactName is the file name of the compared artifact or member.
func artifactName(a report.Artifact) string {
	name := a.URI
	if a.Member != "" {
		name = a.Member
	}
	if i := strings.IndexAny(name, "?#"); i >= 0 {
		name = name[:i]
	}
	name = path.Base(strings.TrimRight(name, "/"))
	if name == "." || name == "/" || name == "" {
		return "artifact"
	}
	if i := strings.LastIndex(name, ":"); i >= 0 && i < len(name)-1 {
		name = name[i+1:] // file:hello.tar.gz, npm:left-pad@1.0.0
	}
	return name
}

// commitDigest names a git commit id by the hash that made it: SHA-1 for
// 40 hex digits, SHA-256 for repositories in the sha256 object format.
func commitDigest(rev string) string {
	if len(rev) == 64 {
		return "sha256:" + rev
	}
	return "sha1:" + rev
}

// resolveLayout makes a relative oci-layout: folder relative to the
// manifest's folder, as file: URIs are.
func resolveLayout(ref, dir string) string {
	rest, ok := strings.CutPrefix(ref, "oci-layout:")
	if !ok || filepath.IsAbs(rest) || dir == "" {
		return ref
	}
	return "oci-layout:" + filepath.Join(dir, rest)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// logTailBytes bounds what logTail reads of a log, whatever its size.
const logTailBytes = 64 << 10

// logTail returns the last n lines of the log at p, read from its last
// 64 KiB (a first line cut there is dropped), invalid UTF-8 replaced.
func logTail(p string, n int) []string {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	off := max(fi.Size()-logTailBytes, 0)
	buf := make([]byte, fi.Size()-off)
	k, _ := f.ReadAt(buf, off)
	text := strings.ToValidUTF8(string(buf[:k]), "\uFFFD")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines[max(len(lines)-n, 0):]
}

// newRunDir makes the folder one run keeps its log and output in.
func newRunDir(c *fetch.Cache, name string, now time.Time) (string, error) {
	base := filepath.Join(c.Root, "runs")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("creating run folder: %w", err)
	}
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r < ' ' {
			return '_'
		}
		return r
	}, name)
	return os.MkdirTemp(base, now.UTC().Format("20060102T150405Z")+"-"+safe+"-")
}

// sandboxReport is what the build ran under, for the report.
func sandboxReport(out *sandbox.Result) *report.Sandbox {
	l := out.Limits
	sb := &report.Sandbox{
		Limits:     report.Limits{Timeout: l.Timeout, Memory: l.Memory, Pids: l.Pids, Disk: l.Disk, DiskMethod: l.DiskMethod},
		LogDropped: out.LogDropped,
	}
	for _, n := range l.NotEnforced {
		sb.Limits.NotEnforced = append(sb.Limits.NotEnforced, report.NotEnforced{Limit: n.Limit, Reason: n.Reason})
	}
	for _, q := range out.Quarantined {
		sb.Quarantined = append(sb.Quarantined, report.Quarantined{Entry: q.Entry, MovedTo: q.MovedTo, Reason: q.Reason})
	}
	return sb
}
