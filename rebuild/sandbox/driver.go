package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Engine is the engine-specific half of a Backend: it makes the container
// for one build. Drive does the rest.
type Engine interface {
	// Prepare makes (but does not start) the container for b. Drive
	// closes what it returns, whatever happens next. Prepare records in b
	// the limits it cannot enforce and the cache entries it quarantined.
	Prepare(ctx context.Context, b *Build) (Container, error)
}

// Container is one prepared build.
type Container interface {
	// Run runs the build to its end and returns the script's exit code.
	// The build's stdout and stderr both go to out, one pipe, so the log
	// keeps the order things happened in. When ctx ends, Run kills the
	// build, waits for it to die and returns. A build that filled its disk
	// returns an error wrapping ErrDiskLimit.
	Run(ctx context.Context, out *os.File) (code int, err error)
	// OutDir is the host folder behind the container's /out; Drive copies
	// the output from it after Run and before Close.
	OutDir() string
	// Close removes the container and everything it held. It is safe to
	// call whatever state the build reached.
	Close() error
}

// Build is one build as Drive hands it to an Engine.
type Build struct {
	Spec   Spec   // validated
	RunDir string // absolute; holds build.log and out/
	// Limits are the limits in force, defaults filled in. The engine sets
	// DiskMethod and adds what it cannot enforce to NotEnforced.
	Limits Limits
	// Quarantined is where the engine records damaged cache entries it set aside.
	Quarantined []Quarantined
}

// Drive runs spec with engine: it validates spec, fills in default limits,
// makes the run folder and the build log, lets the engine prepare and run
// the container under the timeout, and copies the output into RunDir/out.
// Whatever happens, the container is closed when Drive returns; RunDir
// keeps build.log and out/. With ErrBuildFailed, ErrTimeout, ErrDiskLimit
// and ErrNoOutput the Result comes back too (Log, ExitCode, limits,
// timings) so callers can point at the log.
func Drive(ctx context.Context, engine Engine, spec Spec) (res *Result, err error) {
	start := time.Now()
	if err := ValidateSpec(spec); err != nil {
		return nil, err
	}
	b, err := newBuild(spec)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(b.RunDir, "build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating build log: %w", err)
	}
	defer logFile.Close()

	c, err := engine.Prepare(ctx, b)
	if c != nil {
		defer func() {
			if cerr := c.Close(); cerr != nil && err == nil {
				res, err = nil, cerr
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	res = &Result{Log: logPath, Limits: b.Limits, Quarantined: b.Quarantined, Prepare: time.Since(start)}
	return drive(ctx, b, c, logFile, res)
}

// drive runs the prepared container and collects what it left.
func drive(ctx context.Context, b *Build, c Container, logFile *os.File, res *Result) (*Result, error) {
	runCtx := ctx
	if b.Spec.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, b.Spec.Timeout)
		defer cancel()
	}
	started := time.Now()
	log := newBuildLog(logFile, MaxLog)
	var w io.Writer = log
	var lines *lineWriter
	if b.Spec.OnLogLine != nil {
		lines = &lineWriter{w: log, fn: b.Spec.OnLogLine}
		w = lines
	}
	code, runErr := runLogged(runCtx, c, w)
	if lines != nil {
		lines.flush() // runLogged returns once the copy is done
	}
	res.ExitCode, res.Run, res.LogDropped = code, time.Since(started), log.dropped()
	if err := log.finish(); err != nil {
		return nil, fmt.Errorf("writing build log: %w", err)
	}
	tail := func() string { return fmt.Sprintf("log %s ends:\n%s", res.Log, LogTail(res.Log, 20)) }
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("build cancelled after %s, container killed: %w", res.Run.Round(time.Millisecond), ctx.Err())
	case runCtx.Err() != nil:
		return res, fmt.Errorf("%w after %s, container killed; %s", ErrTimeout, b.Spec.Timeout, tail())
	case errors.Is(runErr, ErrDiskLimit):
		return res, fmt.Errorf("%w; %s", runErr, tail())
	case runErr != nil:
		return nil, runErr
	case code != 0:
		return res, fmt.Errorf("%w: script exited with code %d; %s", ErrBuildFailed, code, tail())
	}
	out, err := collectOutput(b, c.OutDir())
	if errors.Is(err, ErrNoOutput) {
		return res, fmt.Errorf("%w; %s", err, tail())
	} else if err != nil {
		return nil, err
	}
	res.Output = out
	return res, nil
}

// runLogged runs c with its output on one pipe whose reader writes log.
func runLogged(ctx context.Context, c Container, log io.Writer) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return -1, fmt.Errorf("making the build log pipe: %w", err)
	}
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(log, r)
		copied <- err
	}()
	code, runErr := c.Run(ctx, w)
	w.Close()
	// Every writer is dead once Run returns; a process the kernel has not
	// reaped yet may hold the pipe a moment longer, but not forever.
	var copyErr error
	select {
	case copyErr = <-copied:
	case <-time.After(5 * time.Second):
		copyErr = errors.New("the build's output pipe stayed open after the build ended")
	}
	r.Close()
	if runErr == nil && copyErr != nil {
		runErr = fmt.Errorf("writing build log: %w", copyErr)
	}
	return code, runErr
}

// newBuild makes the run folder and an empty out/ in it.
func newBuild(spec Spec) (*Build, error) {
	runDir, err := filepath.Abs(spec.RunDir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: Spec.RunDir: %w", err)
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating run folder: %w", err)
	}
	outDir := filepath.Join(runDir, "out")
	if err := os.RemoveAll(outDir); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", outDir, err)
	}
	if err := os.Mkdir(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", outDir, err)
	}
	return &Build{Spec: spec, RunDir: runDir, Limits: limitsOf(spec)}, nil
}

// collectOutput resolves Spec.Output inside the container's out folder the
// way the container saw it, never leaving the folder, and copies it into
// RunDir/out.
func collectOutput(b *Build, outDir string) (string, error) {
	resolved, err := FindOutput(outDir, b.Spec.Output)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(outDir, resolved)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(b.RunDir, "out")
	if err := copyOut(outDir, rel, dst); err != nil {
		return "", fmt.Errorf("copying build output %s out of the container: %w", b.Spec.Output, err)
	}
	return filepath.Join(dst, rel), nil
}

// FindOutput is the host path of output (a container path under /out) in
// outDir, a copy of the build's /out: links resolved the way the container
// saw them, never leaving outDir. Nothing there is ErrNoOutput.
func FindOutput(outDir, output string) (string, error) {
	rel, err := OutputRel(output)
	if err != nil {
		return "", err
	}
	resolved, err := ResolveIn(outDir, rel, "/out", true)
	if err != nil {
		return "", fmt.Errorf("build output %s: %w", output, err)
	}
	if _, err := os.Lstat(resolved); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: nothing at %s", ErrNoOutput, output)
	} else if err != nil {
		return "", fmt.Errorf("build output %s: %w", output, err)
	}
	return resolved, nil
}
