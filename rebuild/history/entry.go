package history

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/reprove/reprove/report"
)

// Entry is one recorded result, as the database keeps it.
type Entry struct {
	ID   int64  `json:"id"`
	Key  string `json:"key"` // the target: manifest digest or artifact URI (see KeyOf)
	Name string `json:"name"`
	// At is when the run finished (the result's finishedAt), not when it
	// was recorded: imported results take their place in time.
	At       time.Time      `json:"at"`
	Verdict  report.Verdict `json:"verdict"`
	ExitCode int            `json:"exitCode"` // the exit class: 0, 1, 2 or 3
	// ArtifactURI and ArtifactDigest are what was served at the URI in
	// this run; the digest is empty when the run never fetched it.
	ArtifactURI    string        `json:"artifactUri"`
	ArtifactDigest string        `json:"artifactDigest,omitempty"`
	RebuiltDigest  string        `json:"rebuiltDigest,omitempty"`
	Causes         []string      `json:"causes,omitempty"` // cause ids, most explaining first
	Error          string        `json:"error,omitempty"`
	Duration       time.Duration `json:"durationNs"`
	Version        string        `json:"reproveVersion"`
	// Transition is true when the state (verdict, exit class or artifact
	// digest) differs from the previous run's, or there was none.
	Transition bool       `json:"transition"`
	Regression Regression `json:"regression,omitempty"`
	Prev       *Prior     `json:"previous,omitempty"` // the target's run before this one
	// Existing is set by Record when the same result had been recorded
	// already; nothing was written.
	Existing bool `json:"-"`
}

// Prior is the state of the run before an entry's.
type Prior struct {
	ID       int64          `json:"id"`
	At       time.Time      `json:"at"`
	Verdict  report.Verdict `json:"verdict"`
	ExitCode int            `json:"exitCode"`
	// ArtifactDigest is what the latest earlier run that fetched the
	// artifact was served: the digest this run's is compared with.
	ArtifactDigest string `json:"artifactDigest,omitempty"`
}

// Regression says how an entry regressed from the run before it.
type Regression uint8

const (
	// VerdictRegressed: the previous run passed (reproducible, or
	// reproducible after the asked normalizations: exit 0) and this one is
	// not reproducible or an error.
	VerdictRegressed Regression = 1 << iota
	// DigestChanged: the digest served at the artifact URI differs from the
	// previous run's (a re-published release).
	DigestChanged
)

var regressionNames = []struct {
	r    Regression
	name string
}{{VerdictRegressed, "verdict"}, {DigestChanged, "digest"}}

// Names lists the kinds set, e.g. ["verdict", "digest"].
func (r Regression) Names() []string {
	var names []string
	for _, n := range regressionNames {
		if r&n.r != 0 {
			names = append(names, n.name)
		}
	}
	return names
}

func (r Regression) String() string { return strings.Join(r.Names(), "+") }

// MarshalJSON writes the kinds as a list of names.
func (r Regression) MarshalJSON() ([]byte, error) {
	names := r.Names()
	if names == nil {
		names = []string{}
	}
	return json.Marshal(names)
}

// passed is whether an exit class counts as reproducible.
func passed(exitCode int) bool { return exitCode == 0 }

// derive computes an entry's transition and regression from the run before
// it (nil for a target's first run) and the digest last served before it
// ("" when no earlier run fetched the artifact).
func derive(cur state, prev *state, lastDigest string) (transition bool, reg Regression) {
	if prev == nil {
		return true, 0
	}
	digestChanged := lastDigest != "" && cur.digest != "" && lastDigest != cur.digest
	if passed(prev.exitCode) && !passed(cur.exitCode) {
		reg |= VerdictRegressed
	}
	if digestChanged {
		reg |= DigestChanged
	}
	transition = prev.verdict != cur.verdict || prev.exitCode != cur.exitCode || digestChanged
	return transition, reg
}

// state is what derive compares between two runs of a target.
type state struct {
	verdict  string
	exitCode int
	digest   string
}
