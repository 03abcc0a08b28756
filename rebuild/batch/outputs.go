package batch

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reprove/reprove/report"
)

// SummarySchema is the version of summary.json.
const SummarySchema = "reprove.batch/v1"

// writeTarget writes one target's reports into dir, with its build log
// copied from the run folder (which may be removed afterwards; paths into
// it are then dropped from the result).
func writeTarget(dir, runDir string, o *Outcome) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing reports of %s: %w", o.Target.Name, err)
	}
	res := o.Result
	if res.BuildLog != "" {
		dst := filepath.Join(dir, "build.log")
		if err := copyFile(res.BuildLog, dst); err == nil {
			res.BuildLog = dst
		}
	}
	if runDir != "" && res.Rebuilt != nil && strings.HasPrefix(res.Rebuilt.Path, runDir) {
		res.Rebuilt.Path = "" // the run folder is pruned; its digest and size stay
	}
	outs := []report.Output{
		{Format: report.FormatJSON, Path: filepath.Join(dir, "result.json")},
		{Format: report.FormatHTML, Path: filepath.Join(dir, "report.html")},
		{Format: report.FormatMarkdown, Path: filepath.Join(dir, "report.md")},
	}
	if err := report.WriteOutputs(io.Discard, res, outs, report.RenderOptions{}); err != nil {
		return fmt.Errorf("writing reports of %s: %w", o.Target.Name, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return report.WriteTo(dst, io.Discard, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// SummaryJSON is summary.json: one line per target, for dashboards and jq.
type SummaryJSON struct {
	SchemaVersion string          `json:"schemaVersion"`
	StartedAt     time.Time       `json:"startedAt"`
	FinishedAt    time.Time       `json:"finishedAt"`
	Counts        map[string]int  `json:"counts"`
	Targets       []TargetSummary `json:"targets"`
}

// TargetSummary is one target in summary.json.
type TargetSummary struct {
	Name           string   `json:"name"`
	Ref            string   `json:"ref"`
	Key            string   `json:"key"`
	Verdict        string   `json:"verdict"`
	Class          int      `json:"class"`
	Error          string   `json:"error,omitempty"`
	DurationNs     int64    `json:"durationNs"`
	ArtifactURI    string   `json:"artifactUri,omitempty"`
	ArtifactDigest string   `json:"artifactDigest,omitempty"`
	RebuiltDigest  string   `json:"rebuiltDigest,omitempty"`
	Causes         []string `json:"causes,omitempty"`
	Result         string   `json:"result"` // the target's result.json, relative to summary.json
}

// Summarize turns a batch's outcomes into summary.json's form.
func Summarize(s *Summary) SummaryJSON {
	out := SummaryJSON{SchemaVersion: SummarySchema, StartedAt: s.Started, FinishedAt: s.Finished,
		Counts: map[string]int{"skipped": s.Skipped}, Targets: []TargetSummary{}}
	for _, o := range s.Outcomes {
		r := o.Result
		ts := TargetSummary{Name: o.Target.Name, Ref: o.Target.Ref, Key: o.Target.Key, Verdict: string(r.Verdict),
			Class: o.Class, DurationNs: int64(o.Duration), ArtifactURI: r.Artifact.URI, Result: o.Folder + "/result.json"}
		if o.Err != nil {
			ts.Error = o.Err.Error()
		}
		if r.Artifact.File != nil {
			ts.ArtifactDigest = r.Artifact.File.Digest
		}
		if r.Rebuilt != nil {
			ts.RebuiltDigest = r.Rebuilt.Digest
		}
		for _, c := range r.RankedCauses() {
			ts.Causes = append(ts.Causes, string(c.ID))
		}
		out.Counts[string(r.Verdict)]++
		out.Targets = append(out.Targets, ts)
	}
	return out
}

//go:embed index.html.tmpl
var indexTmpl string

var indexPage = template.Must(template.New("index").Funcs(template.FuncMap{
	"seconds": func(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) },
	"firstline": func(s string) string {
		s, _, _ = strings.Cut(s, "\n")
		return s
	},
	"short": func(s string) string {
		if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+13 {
			return s[:i+13]
		}
		return s
	},
}).Parse(indexTmpl))

// writeIndex writes summary.json and index.html into out.
func writeIndex(out string, s *Summary) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("writing the batch index: %w", err)
	}
	js := Summarize(s)
	err := report.WriteTo(filepath.Join(out, "summary.json"), io.Discard, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(js)
	})
	if err != nil {
		return fmt.Errorf("writing summary.json: %w", err)
	}
	err = report.WriteTo(filepath.Join(out, "index.html"), io.Discard, func(w io.Writer) error {
		return indexPage.Execute(w, struct {
			S *Summary
			J SummaryJSON
		}{s, js})
	})
	if err != nil {
		return fmt.Errorf("writing index.html: %w", err)
	}
	return nil
}
