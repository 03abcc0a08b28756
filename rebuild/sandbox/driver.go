package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Engine is the engine-specific half of a Backend: it makes the container
// for one build. Drive does the rest.
type Engine interface {
	// Prepare makes (but does not start) the container for b. Drive
	// closes what it returns, whatever happens next.
	Prepare(ctx context.Context, b *Build) (Container, error)
}

// Container is one prepared build.
type Container interface {
	// Run runs the build to its end, its stdout and stderr going to log,
	// and returns the script's exit code. When ctx ends, Run kills the
	// build, waits for it to die and returns.
	Run(ctx context.Context, log *os.File) (code int, err error)
	// Close removes the container and everything it held. It is safe to
	// call whatever state the build reached.
	Close() error
}

// Build is one build as Drive hands it to an Engine.
type Build struct {
	Spec   Spec   // validated
	RunDir string // absolute; holds build.log and out/
	OutDir string // the host folder behind /out
}

// Drive runs spec with engine: it validates spec, makes the run folder and
// the build log, lets the engine prepare and run the container under the
// timeout, and finds the output. Whatever happens, the container is closed
// when Drive returns; RunDir keeps build.log and out/. With ErrBuildFailed,
// ErrTimeout and ErrNoOutput the Result comes back too (Log, ExitCode,
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
	prepared := time.Now()

	runCtx := ctx
	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, spec.Timeout)
		defer cancel()
	}
	code, runErr := c.Run(runCtx, logFile)
	finished := time.Now()
	res = &Result{Log: logPath, ExitCode: code, Prepare: prepared.Sub(start), Run: finished.Sub(prepared)}
	if err := logFile.Sync(); err != nil {
		return nil, fmt.Errorf("writing build log: %w", err)
	}

	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("build cancelled after %s, container killed: %w", res.Run.Round(time.Millisecond), ctx.Err())
	case runCtx.Err() != nil:
		return res, fmt.Errorf("%w after %s, container killed; log %s ends:\n%s", ErrTimeout, spec.Timeout, logPath, LogTail(logPath, 20))
	case runErr != nil:
		return nil, runErr
	case code != 0:
		return res, fmt.Errorf("%w: script exited with code %d; log %s ends:\n%s", ErrBuildFailed, code, logPath, LogTail(logPath, 20))
	}
	out, err := findOutput(b, logPath)
	if errors.Is(err, ErrNoOutput) {
		return res, err
	} else if err != nil {
		return nil, err
	}
	res.Output = out
	return res, nil
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
	return &Build{Spec: spec, RunDir: runDir, OutDir: outDir}, nil
}

// findOutput resolves Spec.Output inside the out folder the way the
// container saw it, never leaving the folder.
func findOutput(b *Build, logPath string) (string, error) {
	rel, _ := OutputRel(b.Spec.Output)
	out, err := ResolveIn(b.OutDir, rel, "/out", true)
	if err != nil {
		return "", fmt.Errorf("build output %s: %w", b.Spec.Output, err)
	}
	if _, err := os.Stat(out); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: nothing at %s; log %s ends:\n%s", ErrNoOutput, b.Spec.Output, logPath, LogTail(logPath, 20))
	} else if err != nil {
		return "", fmt.Errorf("build output %s: %w", b.Spec.Output, err)
	}
	return out, nil
}
