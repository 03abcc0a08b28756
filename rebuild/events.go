package rebuild

import "time"

// Event is what the pipeline tells its caller while it works, for live
// progress on a terminal (library code never prints). It is one of the
// types below; Config.Events receives them, in order, from the goroutine
// doing the work (BuildOutput from the sandbox's log reader).
type Event interface{ event() }

// BuildStarted says a build began; its log is being written at Log.
type BuildStarted struct {
	Name    string // the manifest's name
	Log     string // host path of the build log, growing as the build runs
	Backend string
	Timeout time.Duration
}

// BuildOutput is the latest line the build wrote to its log.
type BuildOutput struct{ Line string }

// BuildFinished says a build ended; Err is nil when it left its output.
type BuildFinished struct {
	Duration time.Duration
	Err      error
}

// CandidateStarted says an inferred candidate manifest is being tried:
// the Index-th (from 1) of Total.
type CandidateStarted struct {
	Index, Total int
	Name         string // what distinguishes it: "ldflags=-s -w"
}

// ComparePhase says a phase of comparing the rebuild with the artifact began.
type ComparePhase struct {
	Phase string // "hashing the rebuild", "finding the first difference", "deep diff"
}

func (BuildStarted) event()     {}
func (BuildOutput) event()      {}
func (BuildFinished) event()    {}
func (CandidateStarted) event() {}
func (ComparePhase) event()     {}

// emit sends e to the Events callback, if any.
func (o *Options) emit(e Event) {
	if o.Events != nil {
		o.Events(e)
	}
}
