package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/reprove/reprove/diff"
)

// producedResults is every kind of result the tests make, as reprove would
// write it.
func producedResults() map[string]*Result {
	m := map[string]*Result{}
	for _, v := range allVerdicts() {
		m[string(v)] = sampleResult(v)
	}
	withExtras := sampleResult(Reproducible)
	withExtras.Adapter = &Adapter{Name: "go", Tried: []string{"go1.23.1", "go1.23.2"}, Matched: "go1.23.2", Notes: []string{"toolchain from buildinfo"}}
	withExtras.Artifact.Member = "hello-1.0/bin/hello"
	m["with adapter"] = withExtras
	m["big"] = bigResult(5, 10)
	m["diff"] = ForDiff("a.tar", "b.tar", sampleTree())
	m["diff identical"] = ForDiff("a.tar", "b.tar", &diff.Summary{Identical: true, Equivalent: true})
	m["diff error"] = ForDiff("a.tar", "b.tar", nil)
	m["minimal error"] = &Result{Name: "x", Verdict: Error, Error: "manifest: artifact.digest is required", FirstDifference: -1}
	return m
}

// TestSchemaAcceptsProducedResults: every result the package produces
// validates against report/schema.json, through both WriteJSON and
// json.Marshal.
func TestSchemaAcceptsProducedResults(t *testing.T) {
	for name, res := range producedResults() {
		var b bytes.Buffer
		if err := WriteJSON(&b, res); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := ValidateJSON(b.Bytes()); err != nil {
			t.Errorf("%s: WriteJSON output: %v", name, err)
		}
		raw, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateJSON(raw); err != nil {
			t.Errorf("%s: json.Marshal output: %v", name, err)
		}
	}
}

// TestSchemaRejects makes sure the schema is strict enough to be worth having.
func TestSchemaRejects(t *testing.T) {
	good := mustJSON(t, sampleResult(NotReproducible))
	for name, edit := range map[string]func(m map[string]any){
		"missing inputs":        func(m map[string]any) { delete(m, "inputs") },
		"verify without digest": func(m map[string]any) { m["artifact"].(map[string]any)["digest"] = "" },
		"negative timing":       func(m map[string]any) { m["timings"].([]any)[0].(map[string]any)["durationNs"] = -1 },
		"bad time":              func(m map[string]any) { m["startedAt"] = "yesterday" },
		"bad env":               func(m map[string]any) { m["environment"] = []any{"NOEQUALS"} },
		"bad mode":              func(m map[string]any) { m["mode"] = "rebuild" },
		"bad error class":       func(m map[string]any) { m["errorClass"] = "oops" },
		"too long a log tail":   func(m map[string]any) { m["buildLogTail"] = strings.Split(strings.Repeat("x\n", 100)+"x", "\n") },
		"cause without title": func(m map[string]any) {
			delete(m["diff"].(map[string]any)["causes"].([]any)[0].(map[string]any), "title")
		},
		"nested node kind":      func(m map[string]any) { firstChild(m)["kind"] = "bogus" },
		"firstDifference below": func(m map[string]any) { m["firstDifference"] = -2 },
		"bad disk method": func(m map[string]any) {
			m["sandbox"].(map[string]any)["limits"].(map[string]any)["diskMethod"] = "hope"
		},
		"unenforced without why": func(m map[string]any) {
			delete(m["sandbox"].(map[string]any)["limits"].(map[string]any)["notEnforced"].([]any)[0].(map[string]any), "reason")
		},
	} {
		m := mustJSON(t, good)
		edit(m)
		b, _ := json.Marshal(m)
		if err := ValidateJSON(b); err == nil {
			t.Errorf("%s: schema accepted it", name)
		}
	}
}

func firstChild(m map[string]any) map[string]any {
	root := m["diff"].(map[string]any)["root"].(map[string]any)
	return root["details"].([]any)[0].(map[string]any)
}

func TestSchemaDocument(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(Schema, &s); err != nil {
		t.Fatal(err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", s["$schema"])
	}
	// Every top-level Result field is described in the schema.
	props := s["properties"].(map[string]any)
	for k := range mustJSON(t, producedResults()["with adapter and attestations"]) {
		if _, ok := props[k]; !ok {
			t.Errorf("schema does not describe field %q", k)
		}
	}
	if !strings.Contains(string(Schema), `"pattern": "^reprove\\.result/v1(`) {
		t.Errorf("schema's schemaVersion pattern does not name %s", SchemaVersion)
	}
}

func FuzzReadJSON(f *testing.F) {
	for _, res := range producedResults() {
		b, _ := json.Marshal(res)
		f.Add(b)
	}
	f.Add([]byte(`{"schemaVersion":"reprove.result/v1"}`))
	f.Add([]byte(`{"schemaVersion":"reprove.result/v2"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever ReadJSON accepts renders in every format.
		for _, format := range Formats() {
			var out bytes.Buffer
			if err := Render(&out, format, res, RenderOptions{MaxNodes: 50, MaxDiffLines: 20}); err != nil {
				t.Fatalf("accepted result does not render as %s: %v", format, err)
			}
		}
	})
}
