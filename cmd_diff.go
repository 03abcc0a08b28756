package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/report"
)

type diffCommandConfig struct {
	common
	A, B   string
	Format string // text, json, markdown, html, diffoscope-json
	Output string // file; stdout when empty
	Diff   diffConfig
}

func normalizationHelp() string {
	var b strings.Builder
	for _, n := range diff.Normalizations() {
		fmt.Fprintf(&b, "   %-14s %s\n", n.Name, n.Description)
	}
	return b.String()
}

// warn prints the comparison's warnings (an --exclude that matched
// nothing) on stderr, which carries progress, never results.
func warn(ws []string) {
	for _, w := range ws {
		fmt.Fprintln(os.Stderr, "reprove: warning: "+w)
	}
}

// runDiff compares A and B and writes the report. Its answer (exit.go) is
// 0 when they are identical (or equivalent after the asked
// normalizations) and 1 otherwise.
func runDiff(ctx context.Context, cfg diffCommandConfig) error {
	for _, p := range []string{cfg.A, cfg.B} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("diff: %w", err)
		}
	}
	if cfg.Output != "" && cfg.Output != "-" {
		if err := writable(cfg.Output); err != nil {
			return usagef("--output %s: %v", cfg.Output, err)
		}
	}
	var format report.Format
	switch cfg.Format {
	case "text":
		format = report.FormatText
	case "json":
		format = report.FormatJSON
	case "markdown":
		format = report.FormatMarkdown
	case "html":
		format = report.FormatHTML
	case "diffoscope-json":
	default:
		return usagef("--format %q: use text, json, markdown, html or diffoscope-json", cfg.Format)
	}
	opts := cfg.Diff.options()
	opts.Name1, opts.Name2 = cfg.A, cfg.B
	sum, err := diff.Run(ctx, cfg.A, cfg.B, opts)
	if err != nil {
		return err
	}
	warn(sum.Warnings)
	out := cfg.Output
	if out == "" {
		out = "-"
	}
	err = report.WriteTo(out, os.Stdout, func(w io.Writer) error {
		if cfg.Format == "diffoscope-json" {
			return diff.WriteDiffoscopeJSON(w, sum)
		}
		res := report.ForDiff(cfg.A, cfg.B, sum)
		res.Tool = tool()
		return report.Render(w, format, res, report.RenderOptions{Color: cfg.Color && out == "-"})
	})
	if err != nil {
		return err
	}
	if sum.Identical || (sum.Equivalent && len(opts.Normalize) > 0) {
		return nil
	}
	return answer(exitNotReproducible)
}
