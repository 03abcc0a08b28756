package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format is an output format of a Result.
type Format string

const (
	FormatText     Format = "text"     // for terminals, optionally colored
	FormatJSON     Format = "json"     // the schema-versioned result (schema.json)
	FormatHTML     Format = "html"     // one self-contained page
	FormatMarkdown Format = "markdown" // for a pull-request comment or an issue
	FormatJUnit    Format = "junit"    // JUnit XML, one test case per result
)

// Formats lists every format Render knows, in the order the CLI documents them.
func Formats() []Format {
	return []Format{FormatText, FormatJSON, FormatHTML, FormatMarkdown, FormatJUnit}
}

// ParseFormat reads a format name as given on a command line ("md" and
// "xml" are accepted for markdown and junit).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "text", "txt":
		return FormatText, nil
	case "json":
		return FormatJSON, nil
	case "html":
		return FormatHTML, nil
	case "markdown", "md":
		return FormatMarkdown, nil
	case "junit", "xml":
		return FormatJUnit, nil
	}
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown report format %q: use one of %s", s, strings.Join(names, ", "))
}

// RenderOptions tune how a result is rendered. The zero value is a good
// default for every format.
type RenderOptions struct {
	// Color turns on ANSI colors in the text format. The caller decides
	// (NO_COLOR, is stdout a terminal); nothing global is read or changed.
	Color bool
	// MaxDiffLines bounds the lines shown of each unified or hex diff:
	// 0 picks the format's default, a negative value shows everything.
	MaxDiffLines int
	// MaxNodes bounds the diff-tree nodes shown: 0 picks the format's
	// default, a negative value shows everything.
	MaxNodes int
}

// Render writes res to w in the given format.
func Render(w io.Writer, format Format, res *Result, opts RenderOptions) error {
	if res == nil {
		return errors.New("rendering report: no result")
	}
	switch format {
	case FormatText:
		return RenderText(w, res, opts)
	case FormatJSON:
		return WriteJSON(w, res)
	case FormatHTML:
		return RenderHTML(w, res, opts)
	case FormatMarkdown:
		return RenderMarkdown(w, res, opts)
	case FormatJUnit:
		return RenderJUnit(w, []*Result{res})
	}
	_, err := ParseFormat(string(format))
	return fmt.Errorf("rendering report: %w", err)
}

// errWriter remembers the first write error so renderers can write freely
// and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
