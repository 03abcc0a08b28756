// Command reprove-diff is a small driver of the diff package for benchmarks
// and debugging: reprove-diff [flags] A B. It exits 0 when A and B are
// identical (or equivalent after --normalize), 1 when they differ, 2 on
// error. The product CLI is `reprove diff`; this stays for scripts/bench_diff.sh.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reprove/reprove/diff"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	format := flag.String("format", "text", "text, json or diffoscope-json")
	output := flag.String("output", "-", "file to write, - for stdout")
	maxDepth := flag.Int("max-depth", 0, "container depth limit")
	var norm, excl list
	flag.Var(&norm, "normalize", "normalization pass (repeatable)")
	flag.Var(&excl, "exclude", "glob of member paths to skip (repeatable)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: reprove-diff [flags] A B")
		os.Exit(2)
	}
	opts := diff.DefaultOptions()
	opts.Normalize, opts.Exclude, opts.MaxDepth = norm, excl, *maxDepth
	s, err := diff.Run(context.Background(), flag.Arg(0), flag.Arg(1), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reprove-diff:", err)
		os.Exit(2)
	}
	var w io.Writer = os.Stdout
	if *output != "-" {
		f, err := os.Create(*output)
		if err != nil {
			fmt.Fprintln(os.Stderr, "reprove-diff:", err)
			os.Exit(2)
		}
		defer f.Close()
		w = f
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(s)
	case "diffoscope-json":
		err = diff.WriteDiffoscopeJSON(w, s)
	default:
		err = writeText(w, s)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reprove-diff:", err)
		os.Exit(2)
	}
	if !s.Equivalent {
		os.Exit(1)
	}
}

func writeText(w io.Writer, s *diff.Summary) error {
	if s.Identical {
		_, err := fmt.Fprintln(w, "identical")
		return err
	}
	var walk func(n *diff.Node, indent string)
	walk = func(n *diff.Node, indent string) {
		fmt.Fprintf(w, "%s%s [%s %s] %v\n", indent, n.Source1, n.Kind, n.Format, n.Causes)
		for _, c := range n.Comments {
			fmt.Fprintf(w, "%s  # %s\n", indent, c)
		}
		for _, l := range strings.Split(strings.TrimSuffix(n.Unified+n.Hex, "\n"), "\n") {
			if l != "" {
				fmt.Fprintf(w, "%s  %s\n", indent, l)
			}
		}
		for _, d := range n.Details {
			walk(d, indent+"  ")
		}
	}
	if s.Root != nil {
		walk(s.Root, "")
	}
	for _, c := range s.Causes {
		fmt.Fprintf(w, "cause %s (%d): %s — %s\n", c.ID, c.Weight, c.Title, strings.Join(c.Members, ", "))
	}
	for _, l := range s.Limits {
		fmt.Fprintln(w, "limit:", l)
	}
	for _, n := range s.Normalizations {
		fmt.Fprintln(w, "normalized:", n)
	}
	return nil
}
