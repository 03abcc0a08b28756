package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// diffoscopeNode is one node of diffoscope's JSON report, fields in
// diffoscope's order.
type diffoscopeNode struct {
	Magic       *int              `json:"diffoscope-json-version,omitempty"`
	Source1     string            `json:"source1"`
	Source2     string            `json:"source2"`
	Comments    []string          `json:"comments,omitempty"`
	InternalNos bool              `json:"has_internal_linenos,omitempty"`
	Unified     *string           `json:"unified_diff"`
	Details     []*diffoscopeNode `json:"details,omitempty"`
}

// WriteDiffoscopeJSON writes s in diffoscope's JSON format (version 1), so
// tools that read diffoscope reports read ours. Members are named as
// diffoscope names them, relative to their container; per-member metadata,
// order and added or removed members are gathered into the container's
// "file list" node, as diffoscope does. Like diffoscope, it writes nothing
// when there is no difference (s.Root is nil).
func WriteDiffoscopeJSON(w io.Writer, s *Summary) error {
	version := 1
	if s.Root == nil {
		return nil
	}
	root := toDiffoscope(s.Root, true)
	root.Magic = &version
	if len(s.Limits) > 0 {
		root.Comments = append(root.Comments, s.Limits...)
	}
	for _, cs := range s.Causes {
		root.Comments = append(root.Comments, fmt.Sprintf("likely cause: %s (%d): %s; try: %s", cs.ID, cs.Weight, cs.Title, cs.Fix))
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("writing diffoscope JSON: %w", err)
	}
	return nil
}

func toDiffoscope(n *Node, top bool) *diffoscopeNode {
	d := &diffoscopeNode{Source1: n.Name1, Source2: n.Name2, Comments: append([]string(nil), n.Comments...)}
	if top || d.Source1 == "" {
		d.Source1, d.Source2 = n.Source1, n.Source2
	}
	switch {
	case n.Unified != "":
		u := n.Unified
		d.Unified = &u
	case n.Hex != "":
		u := n.Hex
		d.Unified = &u
		d.InternalNos = true
	}
	var fileList []string
	var listComments []string
	for _, ch := range n.Details {
		if ch.Format == "file-list" {
			if ch.Unified != "" {
				fileList = append(fileList, renumberHunk(ch.Unified, len(fileList)+1))
			}
			for _, cm := range ch.Comments {
				listComments = append(listComments, ch.Name1+": "+cm)
			}
			continue
		}
		d.Details = append(d.Details, toDiffoscope(ch, false))
	}
	if len(fileList) > 0 || len(listComments) > 0 {
		u := strings.Join(fileList, "")
		fl := &diffoscopeNode{Source1: "file list", Source2: "file list", Comments: listComments}
		if u != "" {
			fl.Unified = &u
		}
		d.Details = append([]*diffoscopeNode{fl}, d.Details...)
	}
	return d
}

// renumberHunk gives a one-member hunk a distinct line number so the joined
// file list reads as one unified diff.
func renumberHunk(h string, line int) string {
	if !strings.HasPrefix(h, "@@ ") {
		return h
	}
	end := strings.Index(h, " @@\n")
	if end < 0 {
		return h
	}
	body := h[end+4:]
	var minus, plus int
	for _, l := range strings.Split(body, "\n") {
		switch {
		case strings.HasPrefix(l, "-"):
			minus++
		case strings.HasPrefix(l, "+"):
			plus++
		}
	}
	return fmt.Sprintf("@@ -%s +%s @@\n", hunkRange(line-1, minus), hunkRange(line-1, plus)) + body
}
