package archive

import (
	"errors"
	"fmt"
	"strconv"
)

// Limits bounds what reading one untrusted input may cost. The zero value
// of every field means its default (see DefaultLimits); one Limits value is
// passed down from the command line to every reader, so that the source
// unpacker, artifact members and the diff refuse the same things.
type Limits struct {
	// MaxBytes bounds the bytes of content one input unpacks to: entry
	// contents by their logical size (a sparse file counts whole), or the
	// output of a compressed stream.
	MaxBytes int64
	// MaxRatio bounds output bytes per input byte read, once more than
	// RatioGrace bytes came out: a decompression bomb is refused early.
	MaxRatio int64
	// RatioGrace is how many output bytes are allowed before MaxRatio is
	// checked, so that small, very compressible inputs pass.
	RatioGrace int64
	// MaxEntries bounds the entries of one archive.
	MaxEntries int64
	// MaxNameLen bounds the bytes of one entry name or link target.
	MaxNameLen int64
	// MaxDepth bounds how many containers (archives, compressed streams)
	// may be nested in one another.
	MaxDepth int64
	// MaxDecoderMemory bounds the memory one decoder may ask for: the xz
	// and lzma dictionary, the zstd window.
	MaxDecoderMemory int64
	// MaxTableSize bounds one table or listing decoded whole into memory
	// (an ELF symbol or string table, a note section).
	MaxTableSize int64
}

// Limit describes one field of Limits: its name for people, the command-line
// flag that sets it, and its default. The CLI builds its flags and the
// README its table from this catalogue, so the three never drift apart.
type Limit struct {
	Name    string // "total bytes"
	Flag    string // "max-unpack-size", without dashes
	Usage   string // one line for --help
	Default int64
	field   func(*Limits) *int64
}

// DefaultMaxDepth is the default nesting depth, which the diff's depth
// limit shares.
const DefaultMaxDepth = 16

var catalogue = []Limit{
	{"total bytes", "max-unpack-size", "`BYTES` of content one archive or compressed stream may unpack to (sparse files count whole)", 16 << 30,
		func(l *Limits) *int64 { return &l.MaxBytes }},
	{"compression ratio", "max-unpack-ratio", "at most `RATIO` output bytes per input byte past the first --unpack-ratio-grace bytes; more is refused as a decompression bomb", 1000,
		func(l *Limits) *int64 { return &l.MaxRatio }},
	{"ratio grace", "unpack-ratio-grace", "`BYTES` an input may unpack to before --max-unpack-ratio is checked", 64 << 20,
		func(l *Limits) *int64 { return &l.RatioGrace }},
	{"entry count", "max-entries", "at most `N` entries in one archive", 1_000_000,
		func(l *Limits) *int64 { return &l.MaxEntries }},
	{"name length", "max-name-length", "`BYTES` of one entry name or link target", 4096,
		func(l *Limits) *int64 { return &l.MaxNameLen }},
	{"nesting depth", "max-depth", "at most `N` archives and compressed streams nested in one another", DefaultMaxDepth,
		func(l *Limits) *int64 { return &l.MaxDepth }},
	{"decoder memory", "max-decoder-memory", "`BYTES` one decoder may allocate: xz and lzma dictionary, zstd window", 128 << 20,
		func(l *Limits) *int64 { return &l.MaxDecoderMemory }},
	{"table size", "max-table-size", "`BYTES` of one table decoded whole into memory (ELF symbol, string and note tables)", 64 << 20,
		func(l *Limits) *int64 { return &l.MaxTableSize }},
}

// Catalogue lists every limit with its flag and default.
func Catalogue() []Limit { return append([]Limit(nil), catalogue...) }

// Get returns the value of this limit in l (after defaults).
func (c Limit) Get(l Limits) int64 {
	l = l.WithDefaults()
	return *c.field(&l)
}

// Set sets this limit in l; v <= 0 means the default.
func (c Limit) Set(l *Limits, v int64) { *c.field(l) = v }

// DefaultLimits returns Limits with every default filled in.
func DefaultLimits() Limits { return Limits{}.WithDefaults() }

// WithDefaults returns l with every zero or negative field set to its default.
func (l Limits) WithDefaults() Limits {
	for _, c := range catalogue {
		if p := c.field(&l); *p <= 0 {
			*p = c.Default
		}
	}
	return l
}

func limitByName(name string) Limit {
	for _, c := range catalogue {
		if c.Name == name {
			return c
		}
	}
	panic("archive: no limit named " + name)
}

// ErrLimit is wrapped by every *LimitError.
var ErrLimit = errors.New("limit exceeded")

// LimitError says which input passed which limit, where, and how to raise
// it. Nothing past the limit was written.
type LimitError struct {
	Input string // the archive or stream, as its reader was named
	Entry string // the entry being read, "" for a stream
	Limit string // the limit's name: "total bytes", "compression ratio"…
	Max   int64  // the limit's value
	Got   string // what was found, said for people: "65 MiB from 10 KiB"
	Flag  string // the flag that raises it, without dashes
}

func (e *LimitError) Error() string {
	where := e.Input
	if e.Entry != "" {
		where += ": entry " + strconv.Quote(e.Entry)
	}
	return fmt.Sprintf("%s: %s limit of %s passed (%s); refusing it as hostile or broken input (raise --%s if it is genuine)",
		where, e.Limit, formatLimit(e.Limit, e.Max), e.Got, e.Flag)
}

// Unwrap makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Unwrap() error { return ErrLimit }

func newLimitError(input, entry, name string, lim Limits, got string) *LimitError {
	c := limitByName(name)
	return &LimitError{Input: input, Entry: entry, Limit: name, Max: c.Get(lim), Got: got, Flag: c.Flag}
}

func formatLimit(name string, v int64) string {
	switch name {
	case "compression ratio":
		return strconv.FormatInt(v, 10) + ":1"
	case "entry count", "nesting depth":
		return strconv.FormatInt(v, 10)
	}
	return Size(v)
}

// Size is n bytes for people: "64 MiB", "10 KiB", "17 bytes".
func Size(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	f := float64(n)
	u := -1
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d %s", int64(f), units[u])
	}
	return fmt.Sprintf("%.1f %s", f, units[u])
}
