// Package report holds the one result model of a verification and renders it
// for people (text, HTML, Markdown) and machines (JSON, JUnit, in-toto).
package report

import (
	"time"

	"github.com/reprove/reprove/diff"
)

// SchemaVersion is the version of the JSON form of Result. Bump the major
// part when a field changes meaning or goes away.
const SchemaVersion = "reprove.result/v1"

// Verdict is the answer to "was it built from the source it claims?".
type Verdict string

const (
	// Reproducible: the rebuild is bit for bit the published artifact.
	Reproducible Verdict = "reproducible"
	// ReproducibleAfterNormalization: only the normalizations the user named differ.
	ReproducibleAfterNormalization Verdict = "reproducible-after-normalization"
	// NotReproducible: the rebuild differs from the published artifact.
	NotReproducible Verdict = "not-reproducible"
	// Error: the check itself could not be made.
	Error Verdict = "error"
)

// LogTailLines is how many of the build log's last lines a Result keeps.
const LogTailLines = 100

// Result is everything one verification found. Every renderer reads it.
type Result struct {
	SchemaVersion string   `json:"schemaVersion"`
	Tool          Tool     `json:"tool"`
	Name          string   `json:"name"`
	Manifest      Manifest `json:"manifest"`
	Verdict       Verdict  `json:"verdict"`
	Error         string   `json:"error,omitempty"` // set when Verdict is Error
	// ErrorClass says what kind of failure an Error verdict is: "usage" or
	// "input" (how reprove was called, what it was given) or "fetch",
	// "build" or "compare" (the check could not be made). The exit code
	// follows from it.
	ErrorClass  string    `json:"errorClass,omitempty"`
	Artifact    Artifact  `json:"artifact"`
	Rebuilt     *File     `json:"rebuilt,omitempty"` // the rebuild's output, compared with Artifact
	Inputs      []Input   `json:"inputs"`            // every declared source and dependency
	Builder     Builder   `json:"builder"`
	Backend     string    `json:"backend"`
	Environment []string  `json:"environment"` // KEY=VALUE the build saw, sorted
	StartedAt   time.Time `json:"startedAt"`
	FinishedAt  time.Time `json:"finishedAt"`
	Timings     []Timing  `json:"timings"`
	BuildLog    string    `json:"buildLog,omitempty"` // path of the kept build log
	// BuildScript is the script the build ran, as the manifest declares it.
	BuildScript string `json:"buildScript,omitempty"`
	// BuildLogTail is the end of the build log (at most LogTailLines
	// lines), for reports read where the log is not.
	BuildLogTail []string `json:"buildLogTail,omitempty"`
	// Sandbox is what the build ran under: its limits, which of them this
	// host could not enforce, how much log was dropped, and the cache
	// entries found damaged and set aside. Nil when no build ran.
	Sandbox *Sandbox `json:"sandbox,omitempty"`
	// FirstDifference is the offset of the first differing byte, -1 when equal.
	FirstDifference int64         `json:"firstDifference"`
	Diff            *diff.Summary `json:"diff,omitempty"`    // nil when digests are equal
	Adapter         *Adapter      `json:"adapter,omitempty"` // set when the manifest was inferred
	// Mode says what produced the result: ModeVerify (also when empty) for a
	// rebuild, ModeDiff for a plain comparison of two files.
	Mode Mode `json:"mode,omitempty"`
	// Offline says the run used only the cache (--offline): the artifact
	// was not read from its URI again.
	Offline bool `json:"offline,omitempty"`
	// Quarantined lists cache entries found damaged in this run and moved
	// aside (re-derived from verified bytes, never used).
	Quarantined []string `json:"quarantined,omitempty"`
	// Approximated names what could not be pinned to the inputs the
	// artifact was built from (a derived .buildinfo): the inputs are
	// approximated, and every report says so.
	Approximated []string `json:"approximated,omitempty"`
	// Also are the other published files the same build makes, each
	// compared with its rebuilt file (the other .debs of a source package).
	// Verdict covers them too; Diff is the artifact's, or else the first
	// differing one's.
	Also []Also `json:"also,omitempty"`
}

// Also is one more published file compared with the rebuild.
type Also struct {
	URI     string        `json:"uri"`
	Digest  string        `json:"digest"` // sha256 of its bytes as hashed in this run
	Output  string        `json:"output"` // the build's file it was compared with
	Rebuilt *File         `json:"rebuilt,omitempty"`
	Verdict Verdict       `json:"verdict"`
	Diff    *diff.Summary `json:"diff,omitempty"`
}

// Mode says what produced a Result.
type Mode string

const (
	// ModeVerify is a rebuild compared with the published artifact.
	ModeVerify Mode = "verify"
	// ModeDiff is a comparison of two given files, with no rebuild.
	ModeDiff Mode = "diff"
)

// Tool names the verifier.
type Tool struct {
	Name    string `json:"name"`    // "reprove"
	Version string `json:"version"` // module version or "devel"
	ID      string `json:"id"`      // verifier id for attestations
}

// Manifest identifies the declared-inputs file that drove the run.
type Manifest struct {
	Path   string `json:"path,omitempty"` // where it was read, empty when inferred
	Digest string `json:"digest"`         // sha256 of its canonical bytes
	Body   any    `json:"body,omitempty"` // the manifest itself, as parsed
}

// Artifact is the published thing under test.
type Artifact struct {
	URI string `json:"uri"`
	// Digest is the sha256 of the artifact's bytes as hashed in this run
	// (the declared digest until they were fetched).
	Digest   string `json:"digest"`
	Declared string `json:"declared,omitempty"` // the digest the manifest declares
	Member   string `json:"member,omitempty"`   // file inside the artifact that was compared
	File     *File  `json:"file,omitempty"`     // what was compared: the artifact, or its member, hashed in this run
	// FetchedAt is when the artifact's bytes were read in this run.
	FetchedAt time.Time `json:"fetchedAt,omitzero"`
	// Source says where those bytes came from: "network" or "file" (read
	// from the artifact's URI in this run), or "cache" (--offline).
	Source string `json:"source,omitempty"`
}

// File is a local file with its digest and size.
type File struct {
	Path   string `json:"path,omitempty"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Input is one declared source or dependency set.
type Input struct {
	Kind   string `json:"kind"` // "source", "deps"
	URI    string `json:"uri"`
	Digest string `json:"digest,omitempty"` // sha256:… of the fetched bytes or tree
	Rev    string `json:"rev,omitempty"`    // commit id for git sources
	Dest   string `json:"dest"`             // where the build saw it
	// Fetched says the input was fetched and verified in this run; an
	// error result shows how far fetching got.
	Fetched bool `json:"fetched,omitempty"`
}

// Builder is the image the rebuild ran in.
type Builder struct {
	Image  string `json:"image"`  // as declared
	Digest string `json:"digest"` // sha256:… manifest digest
}

// Timing is how long one phase took.
type Timing struct {
	Phase    string        `json:"phase"` // "fetch", "build", "compare"
	Duration time.Duration `json:"durationNs"`
}

// Adapter records how a manifest was inferred from the artifact itself.
type Adapter struct {
	Name string `json:"name"` // "go"
	// Check says what kind of check the candidates make (a program rebuilt
	// with its own toolchain, a whole distribution rebuilt from a bootstrap).
	Check   string   `json:"check,omitempty"`
	Tried   []string `json:"tried"`             // candidates in the order tried
	Matched string   `json:"matched,omitempty"` // the candidate that reproduced, if any
	Notes   []string `json:"notes,omitempty"`   // what was inferred and from where
	// Candidates are the candidates tried, in order, with where each came
	// from and how its rebuild went.
	Candidates []AdapterCandidate `json:"candidates,omitempty"`
}

// AdapterCandidate is one candidate manifest an adapter inferred, as tried.
type AdapterCandidate struct {
	Name     string        `json:"name"`
	From     string        `json:"from,omitempty"` // e.g. ".goreleaser.yaml builds[0]", "source search"
	Verdict  Verdict       `json:"verdict"`
	Build    time.Duration `json:"buildNs,omitempty"` // the build phase
	BuildLog string        `json:"buildLog,omitempty"`
}

// Sandbox is what the build ran under.
type Sandbox struct {
	Limits Limits `json:"limits"`
	// LogDropped is how many bytes of the build log's beginning were
	// dropped to keep its last 64 MiB.
	LogDropped  int64         `json:"logDropped,omitempty"`
	Quarantined []Quarantined `json:"quarantined,omitempty"`
}

// Limits are the limits a build ran under.
type Limits struct {
	Timeout     time.Duration `json:"timeoutNs"`   // 0: none
	Memory      int64         `json:"memoryBytes"` // bytes
	Pids        int64         `json:"pids"`
	Disk        int64         `json:"diskBytes"`  // what /out and /tmp hold together
	DiskMethod  string        `json:"diskMethod"` // "filesystem" (size-limited, ENOSPC) or "watch" (usage watched, build killed)
	NotEnforced []NotEnforced `json:"notEnforced,omitempty"`
}

// NotEnforced is a limit the host could not apply, and why.
type NotEnforced struct {
	Limit  string `json:"limit"`
	Reason string `json:"reason"`
}

// Quarantined is a damaged cache entry set aside and derived again.
type Quarantined struct {
	Entry   string `json:"entry"`
	MovedTo string `json:"movedTo"`
	Reason  string `json:"reason"`
}
