package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/report"
)

// Config says how a batch runs and where its evidence goes.
type Config struct {
	// Jobs is how many targets are verified at once; DefaultJobs when 0.
	Jobs int
	// Out is the folder that receives DIR/<name>/result.json, report.html,
	// report.md and build.log per target, plus index.html and summary.json.
	// Nothing is written when empty.
	Out string
	// KeepRuns keeps each target's run folder (rebuilt output and log) in
	// the cache; by default it is removed once its reports are written.
	KeepRuns bool
	// Select, when set, keeps only the targets it returns true for (a shard).
	Select func(t Target) bool
	// Classify gives an outcome its exit class (0 reproducible, 1 not
	// reproducible, 2 usage or input error, 3 fetch or build failure) and
	// may mark its Result (the error class); it is the caller's exit
	// policy. Required.
	Classify func(res *report.Result, err error) int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultJobs is half the CPUs, at least one: a build takes a core or more.
func DefaultJobs() int { return max(1, runtime.NumCPU()/2) }

// Outcome is one target's verification.
type Outcome struct {
	Target   Target
	Folder   string         // its folder name under Config.Out
	Result   *report.Result // always set; verdict error when the check could not be made
	Err      error          // why the check could not be made, when it could not
	Class    int            // 0 reproducible, 1 not reproducible, 2 usage or input error, 3 fetch or build failure
	Duration time.Duration
}

// Summary is what a batch did.
type Summary struct {
	Started, Finished time.Time
	Outcomes          []Outcome // in target order
	Skipped           int       // targets left to other shards
}

// Run verifies targets with env, Jobs at a time, and calls done (which may
// be nil) for each outcome as it finishes, from one goroutine at a time.
// Reports are written under cfg.Out before done is called. The error is
// only for failures of the batch itself (writing the index); each target's
// own failure is in its Outcome.
func Run(ctx context.Context, env *rebuild.Env, targets []Target, cfg Config, done func(Outcome)) (*Summary, error) {
	if cfg.Classify == nil {
		return nil, errors.New("batch: Config.Classify is required")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	jobs := cfg.Jobs
	if jobs <= 0 {
		jobs = DefaultJobs()
	}
	sum := &Summary{Started: now().UTC()}
	var selected []Target
	for _, t := range targets {
		if cfg.Select == nil || cfg.Select(t) {
			selected = append(selected, t)
		} else {
			sum.Skipped++
		}
	}
	folders := folderNames(selected)
	sum.Outcomes = make([]Outcome, len(selected))
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		slots = make(chan struct{}, jobs)
	)
	for i, t := range selected {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			o := verifyOne(ctx, env, t, now)
			o.Class = cfg.Classify(o.Result, o.Err)
			o.Folder = folders[i]
			finish(env, cfg, &o)
			mu.Lock()
			defer mu.Unlock()
			sum.Outcomes[i] = o
			if done != nil {
				done(o)
			}
		}()
	}
	wg.Wait()
	sum.Finished = now().UTC()
	if cfg.Out != "" {
		if err := writeIndex(cfg.Out, sum); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// verifyOne verifies one target; a failure before a Result exists (a
// manifest that does not load, nothing to infer) still yields one.
func verifyOne(ctx context.Context, env *rebuild.Env, t Target, now func() time.Time) Outcome {
	start := now()
	o := Outcome{Target: t}
	var res *report.Result
	err := t.Err
	if err == nil {
		res, err = env.VerifyTarget(ctx, t.Ref)
	}
	if res == nil {
		res = errorResult(t, err, start, now())
	}
	o.Result, o.Err, o.Duration = res, err, now().Sub(start)
	return o
}

// errorResult is the evidence of a target whose check could not start.
func errorResult(t Target, err error, start, end time.Time) *report.Result {
	res := &report.Result{
		SchemaVersion:   report.SchemaVersion,
		Name:            t.Name,
		Verdict:         report.Error,
		Error:           err.Error(),
		Inputs:          []report.Input{},
		Timings:         []report.Timing{},
		Environment:     []string{},
		StartedAt:       start.UTC(),
		FinishedAt:      end.UTC(),
		FirstDifference: -1,
	}
	if rebuild.IsManifest(t.Ref) {
		res.Manifest.Path = t.Ref
	} else {
		res.Artifact.URI = t.Ref
	}
	return res
}

// finish writes a target's reports and, unless KeepRuns, removes its run
// folder from the cache (its build log is kept with the reports first).
func finish(env *rebuild.Env, cfg Config, o *Outcome) {
	runDir := runFolder(env, o.Result)
	if cfg.Out != "" {
		dir := filepath.Join(cfg.Out, o.Folder)
		if err := writeTarget(dir, runDir, o); err != nil && o.Err == nil {
			o.Err, o.Class = err, 3
		}
	}
	if !cfg.KeepRuns && runDir != "" {
		os.RemoveAll(runDir)
	}
}

// runFolder is the run folder a result's build log lives in, when it is one
// of this cache's run folders.
func runFolder(env *rebuild.Env, res *report.Result) string {
	if res.BuildLog == "" || env == nil {
		return ""
	}
	dir := filepath.Dir(res.BuildLog)
	runs := filepath.Join(env.Cache.Root, "runs") + string(filepath.Separator)
	if !strings.HasPrefix(dir, runs) {
		return ""
	}
	return dir
}
