package rebuild

import "errors"

// Stage is a phase of the pipeline. Errors say which stage they come from,
// so a caller can tell a failure to fetch or build (the check could not be
// made) from a bad input (the manifest, a pin, a digest, the artifact).
type Stage string

const (
	StageInfer   Stage = "infer"   // reading what an artifact declares about itself
	StageFetch   Stage = "fetch"   // bringing the artifact and inputs into the cache
	StageBuild   Stage = "build"   // running the build in the sandbox
	StageCompare Stage = "compare" // comparing the rebuild with the artifact
)

// StageError is an error and the stage it happened in. Its message is the
// wrapped error's.
type StageError struct {
	Stage Stage
	Err   error
}

func (e *StageError) Error() string { return e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// ErrorStage is the stage err happened in, or "" when it happened outside
// the stages (validating a manifest, reading configuration).
func ErrorStage(err error) Stage {
	var se *StageError
	if errors.As(err, &se) {
		return se.Stage
	}
	return ""
}

// inStage marks err as happening in stage s, unless it already names one.
func inStage(s Stage, err error) error {
	if err == nil || ErrorStage(err) != "" {
		return err
	}
	return &StageError{Stage: s, Err: err}
}

// ErrUsage marks errors in how reprove was called (a flag's value).
var ErrUsage = errors.New("usage")
