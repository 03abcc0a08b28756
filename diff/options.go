package diff

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/reprove/reprove/diff/archive"
)

// Options tunes one comparison. The zero value of every field means its
// default (see DefaultOptions).
type Options struct {
	// Name1 and Name2 are the names reports show for a and b; default the paths.
	Name1, Name2 string
	// MaxDepth bounds how deep containers are opened; deeper pairs are
	// compared as bytes and the limit is stated in Summary.Limits.
	// Default: Limits.MaxDepth.
	MaxDepth int
	// MaxReportSize bounds the bytes of diff text (unified and hex) kept in
	// the whole tree; past it, nodes keep their comments but drop the text.
	MaxReportSize int64
	// MaxDiffLines bounds the lines of one unified or hex diff.
	MaxDiffLines int
	// Context is the number of context lines around each change.
	Context int
	// Exclude lists globs (doublestar syntax: "*" within one path segment,
	// "**" across any number) of members to skip: a pattern with a "/" is
	// matched against member paths inside containers ("**/BUILDINFO",
	// "*/BUILDINFO" for one level), one without against base names. A
	// pattern that matched nothing is said in Summary.Warnings.
	Exclude []string
	// Normalize lists normalization passes to apply (see Normalizations).
	Normalize []string
	// TempDir is where differing compressed members are unpacked while they
	// are compared; default os.TempDir(). Everything made there is removed
	// before Compare returns.
	TempDir string
	// MaxTempSize bounds the bytes of temporary copies in TempDir at any
	// one time, so a decompression bomb cannot fill the disk; a member
	// whose unpacking would pass it is compared as bytes and the limit is
	// stated in Summary.Limits.
	MaxTempSize int64
	// Limits bound what reading the inputs' archives and compressed
	// streams may cost (archive.Limits); zero fields take defaults. A pair
	// past a limit is compared as bytes and the limit is stated in
	// Summary.Limits.
	Limits archive.Limits
	// Progress, when set, is called with the member being compared.
	Progress func(stage, name string)
	// Times are when the rebuild ran and its SOURCE_DATE_EPOCH, when known:
	// a differing date or year that matches them is named build-date.
	Times BuildTimes
}

// Defaults used for zero Options fields.
const (
	DefaultMaxDepth      = archive.DefaultMaxDepth
	DefaultMaxReportSize = 64 << 20
	DefaultMaxDiffLines  = 2000
	DefaultContext       = 7
	DefaultMaxTempSize   = 8 << 30
)

// DefaultOptions returns Options with every default filled in.
func DefaultOptions() Options {
	return Options{
		MaxDepth:      DefaultMaxDepth,
		MaxReportSize: DefaultMaxReportSize,
		MaxDiffLines:  DefaultMaxDiffLines,
		Context:       DefaultContext,
		TempDir:       os.TempDir(),
		MaxTempSize:   DefaultMaxTempSize,
	}
}

func (o Options) withDefaults(a, b string) Options {
	d := DefaultOptions()
	o.Limits = o.Limits.WithDefaults()
	if o.MaxDepth <= 0 {
		o.MaxDepth = int(o.Limits.MaxDepth)
	}
	if o.MaxReportSize <= 0 {
		o.MaxReportSize = d.MaxReportSize
	}
	if o.MaxDiffLines <= 0 {
		o.MaxDiffLines = d.MaxDiffLines
	}
	if o.Context <= 0 {
		o.Context = d.Context
	}
	if o.TempDir == "" {
		o.TempDir = d.TempDir
	}
	if o.MaxTempSize <= 0 {
		o.MaxTempSize = d.MaxTempSize
	}
	if o.Name1 == "" {
		o.Name1 = a
	}
	if o.Name2 == "" {
		o.Name2 = b
	}
	return o
}

// NormalizationInfo names one normalization pass and says what it ignores.
type NormalizationInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

var normalizations = []NormalizationInfo{
	{"tar-mtime", "ignore modification times of tar members (and PAX atime/ctime records)"},
	{"tar-order", "ignore the order of tar members"},
	{"tar-owner", "ignore uid, gid, user and group names of tar members"},
	{"gzip-header", "ignore the gzip header (mtime, original name, comment, OS, extra field, level flag)"},
	{"zip-mtime", "ignore modification times of zip members, including extended-timestamp extra fields"},
	{"zip-order", "ignore the order of zip members"},
	{"cpio-mtime", "ignore modification times of cpio members"},
	{"ar-mtime", "ignore modification times of ar members (and .deb members)"},
}

// Normalizations lists the passes Options.Normalize accepts.
func Normalizations() []NormalizationInfo {
	return append([]NormalizationInfo(nil), normalizations...)
}

// UnknownNormalizationError is returned when Options.Normalize names a pass
// that does not exist.
type UnknownNormalizationError struct {
	Name  string
	Valid []string
}

func (e *UnknownNormalizationError) Error() string {
	return fmt.Sprintf("unknown normalization %q: valid passes are %s", e.Name, strings.Join(e.Valid, ", "))
}

// ValidateNormalizations returns an *UnknownNormalizationError for the first
// name that is not a known pass.
func ValidateNormalizations(names []string) error {
	valid := make([]string, 0, len(normalizations))
	for _, n := range normalizations {
		valid = append(valid, n.Name)
	}
	sort.Strings(valid)
	for _, name := range names {
		i := sort.SearchStrings(valid, name)
		if i >= len(valid) || valid[i] != name {
			return &UnknownNormalizationError{Name: name, Valid: valid}
		}
	}
	return nil
}
