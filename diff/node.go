// Package diff compares two artifacts deeply and explains their differences.
//
// It is a library of its own: it imports no other reprove package. Compare
// walks both inputs, recursing into the members of every container format it
// recognises by content, and returns a tree of Nodes. Each difference may
// carry the IDs of the Causes that explain it.
package diff

// Kind says what sort of difference a Node records.
type Kind string

const (
	// KindContainer is a node whose own bytes differ only through its Details.
	KindContainer Kind = "container"
	// KindContent is a difference in the bytes of a file or member.
	KindContent Kind = "content"
	// KindMetadata is a difference in mode, owner, mtime or similar, never content.
	KindMetadata Kind = "metadata"
	// KindOrder is a difference in the order of entries, with equal entries.
	KindOrder Kind = "order"
	// KindAdded is a member present only on the right side (source2).
	KindAdded Kind = "added"
	// KindRemoved is a member present only on the left side (source1).
	KindRemoved Kind = "removed"
)

// Node is one difference between two inputs, or a container of differences.
// The JSON field names follow diffoscope's report where they mean the same.
type Node struct {
	Source1  string     `json:"source1"`                // path on the left, "a.tar/usr/bin/x" style
	Source2  string     `json:"source2"`                // path on the right
	Format   string     `json:"format,omitempty"`       // format that compared this pair: "tar", "elf", "text"
	Kind     Kind       `json:"kind"`                   // what sort of difference this is
	Comments []string   `json:"comments,omitempty"`     // one-line notes: "mode 0644 → 0755", "limit reached"
	Unified  string     `json:"unified_diff,omitempty"` // unified text diff, when the content is text
	Hex      string     `json:"hex_diff,omitempty"`     // windowed hex dump diff, when the content is binary
	Size1    int64      `json:"size1,omitempty"`        // size of the left content in bytes, when known
	Size2    int64      `json:"size2,omitempty"`        // size of the right content in bytes, when known
	Causes   []CauseID  `json:"causes,omitempty"`       // IDs of the Causes that explain this node
	Evidence []Evidence `json:"evidence,omitempty"`     // for each cause, the values that triggered it
	Details  []*Node    `json:"details,omitempty"`      // differences inside this pair
	Name1    string     `json:"name1,omitempty"`        // name inside the parent on the left, as diffoscope shows it ("usr/bin/x", "file list")
	Name2    string     `json:"name2,omitempty"`        // name inside the parent on the right
}

// Evidence is what made the engine name a cause on a node: the bytes or
// strings that differ, said for people ("build path: /home/x/src → /tmp/src").
type Evidence struct {
	Cause CauseID `json:"cause"`
	Text  string  `json:"text"`
}

// Cause is a likely reason for a set of differences, with the fix to try.
type Cause struct {
	ID       CauseID  `json:"id"`                 // stable identifier: "timestamps", "file-order", "build-path"
	Title    string   `json:"title"`              // one line for people
	Fix      string   `json:"fix"`                // what to try
	Members  []string `json:"members"`            // the member paths it covers
	Weight   int      `json:"weight"`             // how many differences it explains; ranks causes
	Evidence []string `json:"evidence,omitempty"` // a few of the values that triggered it
}

// NormalizationHit is one normalization pass and the inputs whose
// differences it hid, in the order met (at most a few hundred).
type NormalizationHit struct {
	Pass  string   `json:"pass"`
	Paths []string `json:"paths"`
}

// Summary is everything one comparison found: the tree, the ranked causes,
// the limits that were hit and the normalizations that changed bytes.
type Summary struct {
	Identical      bool     `json:"identical"`                // bit for bit, before any normalization
	Equivalent     bool     `json:"equivalent"`               // nothing differs once the asked normalizations ran
	Root           *Node    `json:"root,omitempty"`           // nil when Identical
	Causes         []Cause  `json:"causes,omitempty"`         // most explaining first
	Limits         []string `json:"limits,omitempty"`         // each limit hit, said for people
	Normalizations []string `json:"normalizations,omitempty"` // passes that changed bytes
	// NormalizedAt says, for each pass that changed bytes, where: the
	// inputs (at any depth) whose differences it hid.
	NormalizedAt []NormalizationHit `json:"normalizedAt,omitempty"`
	// Warnings are things the caller should tell the user, such as an
	// --exclude pattern that matched nothing.
	Warnings []string `json:"warnings,omitempty"`
	Digest1  string   `json:"digest1,omitempty"` // "sha256:…" of the left input, when it is a file
	Digest2  string   `json:"digest2,omitempty"` // "sha256:…" of the right input, when it is a file
}
