// Command diff-members prints the members a diffoscope JSON report (from
// diffoscope --json or reprove diff --format diffoscope-json) shows as
// differing, one path a line, sorted: the names of its nodes below the
// root, joined by "/", leaving out views that are no member (file lists,
// file(1) types, tool output such as "readelf --wide --symbols {}",
// headers and metadata in brackets or parentheses). scripts/bench_diff.sh
// compares these sets between reprove and diffoscope.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type node struct {
	Source2 string  `json:"source2"`
	Details []*node `json:"details"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: diff-members REPORT.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "diff-members:", err)
		os.Exit(1)
	}
	var root node
	if len(data) > 0 {
		if err := json.Unmarshal(data, &root); err != nil {
			fmt.Fprintln(os.Stderr, "diff-members:", err)
			os.Exit(1)
		}
	}
	set := map[string]bool{}
	// walk records the member paths below n; a view (a decompressed
	// stream's content, a tool's output) is transparent.
	var walk func(n *node, prefix string) bool
	walk = func(n *node, prefix string) bool {
		found := false
		for _, d := range n.Details {
			if !isMember(d.Source2) {
				found = walk(d, prefix) || found
				continue
			}
			p := strings.TrimPrefix(prefix+"/"+strings.TrimLeft(strings.TrimPrefix(d.Source2, "./"), "/"), "/")
			if !walk(d, p) {
				set[p] = true
			}
			found = true
		}
		return found
	}
	walk(&root, "")
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	for _, p := range out {
		fmt.Println(p)
	}
}

// isMember tells member names from views of a file.
func isMember(name string) bool {
	switch {
	case name == "", name == "file list", strings.HasPrefix(name, "filetype from"), strings.Contains(name, "{}"),
		strings.HasSuffix(name, "-content") && !strings.Contains(name, "/"):
		return false
	case strings.Contains(name, " ") && !strings.Contains(name, "/"):
		return false // "image data", "encoding", "archive metadata"
	}
	return true
}
