package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/fatih/color"
	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/diff"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func renderString(t *testing.T, f Format, res *Result, opts RenderOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, f, res, opts); err != nil {
		t.Fatalf("Render(%s, %s): %v", f, res.Verdict, err)
	}
	return b.String()
}

// TestEveryFormatEveryVerdict renders each verdict in each format, checks
// the verdict is said, and validates JSON output against the schema.
func TestEveryFormatEveryVerdict(t *testing.T) {
	results := map[string]*Result{}
	for _, v := range allVerdicts() {
		results[string(v)] = sampleResult(v)
	}
	results["diff-different"] = ForDiff("a.tar.gz", "b.tar.gz", sampleTree())
	results["diff-identical"] = ForDiff("a.bin", "b.bin", &diff.Summary{Identical: true, Equivalent: true})
	for name, res := range results {
		for _, f := range Formats() {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				out := renderString(t, f, res, RenderOptions{})
				if f != FormatJSON && !strings.Contains(out, htmlEscapeIf(f, res.VerdictLabel())) {
					t.Errorf("output lacks verdict %q:\n%s", res.VerdictLabel(), clip(out))
				}
				if f == FormatJSON {
					if err := ValidateJSON([]byte(out)); err != nil {
						t.Errorf("JSON does not validate: %v", err)
					}
				}
			})
		}
	}
}

func htmlEscapeIf(f Format, s string) string {
	if f == FormatHTML || f == FormatJUnit {
		return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	}
	return s
}

func TestTextNotReproducible(t *testing.T) {
	out := renderString(t, FormatText, sampleResult(NotReproducible), RenderOptions{})
	first, _, _ := strings.Cut(out, "\n")
	if want := "✗ hello-1.0: not reproducible (6 differences; likely cause: Embedded timestamps)"; first != want {
		t.Errorf("verdict line:\n got %q\nwant %q", first, want)
	}
	mustContain(t, "text", out,
		"Likely causes, most explaining first:",
		"1. Embedded timestamps  [timestamps, 3 differences]",
		"fix: Set SOURCE_DATE_EPOCH",
		"2. Build path or toolchain version embedded",
		"in:  hello-1.0/BUILDINFO, hello-1.0/share/doc, hello-1.0.tar.gz",
		"limit: stopped comparing share/",
		"git+https://example.org/hello.git @ 4b825dc642cb6eb9a060e54bf8d69288fbee4904 → /src",
		"builder   oci://registry.example/library/debian@"+builderDigest,
		"backend   runc",
		"12.3s (fetch 1.2s, build 10s, compare 1.1s)",
		"env       CGO_ENABLED=0",
		"log       /var/cache/reprove/logs/hello-1.0.log",
		"limits    memory 4 GiB, pids 4096, disk 16 GiB (watch), timeout 30m0s",
		"          memory limit not enforced: the host uses cgroup v1",
		"          the log keeps its last 64 MiB; 3 MiB before them were dropped",
		"cache     /c/rootfs/sha256-ab was damaged (content sha256:1, record sha256:2); set aside in /c/quarantine/x-sha256-ab and derived again",
		"first difference at byte 4",
		"Differences:\n  hello-1.0.tar.gz ↔ rebuilt.tar.gz  [gzip, members differ, 4096 → 4101 bytes]",
		"    hello-1.0.tar ↔ rebuilt.tar  [tar, members differ]",
		"      hello-1.0/bin/hello  [elf, content differs, 1834 bytes]  cause: build-path",
		"        # section .note.go.buildid differs",
		"        -000000f0: 4743",
		"        +built: 2024-05-01T09:00:00Z",
		"      hello-1.0/.buildstamp  [only in rebuilt, 11 bytes]",
		"      hello-1.0/LICENSE  [only in published, 1067 bytes]",
		"        # mode 0644 → 0755",
		"      (order of entries)  [order differs]  cause: file-order",
	)
	// A comment the node's evidence already quotes is not said twice.
	ev := "# timestamps: hello-1.0/share/doc: mtime 2023-11-14 22:13:20 → 2024-05-01 09:00:00\n"
	if i := strings.Index(out, ev); i < 0 {
		t.Errorf("text lacks the evidence line %q", ev)
	} else {
		for _, l := range strings.Split(out[i+len(ev):], "\n") {
			if l = strings.TrimSpace(l); !strings.HasPrefix(l, "#") {
				break // the node's comments end
			} else if l == "# mtime 2023-11-14 22:13:20 → 2024-05-01 09:00:00" {
				t.Errorf("the comment the evidence quotes is printed again under it")
			}
		}
	}
	// Causes come before inputs, inputs before the tree.
	ci, ii, di := strings.Index(out, "Likely causes"), strings.Index(out, "Inputs:"), strings.Index(out, "Differences:")
	if !(ci < ii && ii < di) {
		t.Errorf("sections out of order: causes@%d inputs@%d differences@%d", ci, ii, di)
	}
	if ansi.MatchString(out) {
		t.Errorf("Color false but output has ANSI escapes")
	}
}

func TestTextVerdictLines(t *testing.T) {
	for _, tc := range []struct {
		res  *Result
		want string
	}{
		{sampleResult(Reproducible), "✓ hello-1.0: reproducible (sha256:9f86d081884c)"},
		{sampleResult(ReproducibleAfterNormalization), "✓ hello-1.0: reproducible after normalization (normalized: gzip-mtime, tar-mtime)"},
		{sampleResult(Error), "! hello-1.0: error: building hello-1.0: script exited with status 2"},
		{ForDiff("a.bin", "b.bin", &diff.Summary{Identical: true, Equivalent: true}), "✓ a.bin ↔ b.bin: identical"},
		{ForDiff("a.tgz", "b.tgz", sampleTree()), "✗ a.tgz ↔ b.tgz: different (6 differences; likely cause: Embedded timestamps)"},
	} {
		out := renderString(t, FormatText, tc.res, RenderOptions{})
		got, _, _ := strings.Cut(out, "\n")
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("verdict line (-want +got):\n%s", diff)
		}
	}
	out := renderString(t, FormatText, sampleResult(Error), RenderOptions{})
	mustContain(t, "error text", out, "  make: *** [Makefile:3: dist] Error 2")
	// Each line of the error once: the headline has the first.
	for _, l := range []string{"script exited with status 2", "make: *** [Makefile:3: dist] Error 2"} {
		if n := strings.Count(out, l); n != 1 {
			t.Errorf("error text shows %q %d times, want once:\n%s", l, n, out)
		}
	}
}

// TestTextColor checks color is forced on or off per call, whatever the
// package-global color.NoColor says, and that the global is left alone.
func TestTextColor(t *testing.T) {
	saved := color.NoColor
	defer func() { color.NoColor = saved }()
	res := sampleResult(NotReproducible)
	for _, global := range []bool{true, false} {
		color.NoColor = global
		on := renderString(t, FormatText, res, RenderOptions{Color: true})
		off := renderString(t, FormatText, res, RenderOptions{Color: false})
		if color.NoColor != global {
			t.Fatalf("rendering changed color.NoColor to %v", color.NoColor)
		}
		if !strings.HasPrefix(on, "\x1b[31;1m✗ hello-1.0") {
			t.Errorf("global NoColor=%v: Color=true verdict line is not bold red: %q", global, strings.SplitN(on, "\n", 2)[0])
		}
		mustContain(t, "colored diff", on, "\x1b[31m-built: 2023", "\x1b[32m+built: 2024", "\x1b[36m@@ -1,3 +1,3 @@")
		if ansi.MatchString(off) {
			t.Errorf("global NoColor=%v: Color=false output has ANSI escapes", global)
		}
		if got := ansi.ReplaceAllString(on, ""); got != off {
			t.Errorf("colored output differs from plain beyond escapes:\n%s", cmp.Diff(off, got))
		}
	}
}

func TestTextTruncation(t *testing.T) {
	res := bigResult(30, 100)
	out := renderString(t, FormatText, res, RenderOptions{MaxDiffLines: 5, MaxNodes: 4})
	mustContain(t, "truncated text", out,
		"… 196 more lines (--json or --html has them all)",
		"… 27 more nodes not shown (--json or --html has the full tree)")
	mustNotContain(t, "truncated text", out, "f0003.txt", "line 10 old")
	all := renderString(t, FormatText, res, RenderOptions{MaxDiffLines: -1, MaxNodes: -1})
	mustContain(t, "untruncated text", all, "  f0029.txt  [text", "+line 99 new")
	mustNotContain(t, "untruncated text", all, "more lines", "more nodes")
	def := renderString(t, FormatText, res, RenderOptions{})
	if n := strings.Count(def, "\n"); n > textMaxNodes*(textMaxDiffLines+3)+100 {
		t.Errorf("default text output has %d lines; defaults do not bound it", n)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, v := range allVerdicts() {
		res := sampleResult(v)
		var b bytes.Buffer
		if err := WriteJSON(&b, res); err != nil {
			t.Fatal(err)
		}
		if err := ValidateJSON(b.Bytes()); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		got, err := ReadJSON(&b)
		if err != nil {
			t.Fatalf("%s: ReadJSON: %v", v, err)
		}
		// Manifest.Body comes back as generic JSON; compare through JSON.
		want := mustJSON(t, res)
		if d := cmp.Diff(want, mustJSON(t, got)); d != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", v, d)
		}
	}
}

func mustJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestJSONNilListsAndVersion(t *testing.T) {
	res := &Result{Name: "x", Verdict: Error, Error: "fetching: no route", FirstDifference: -1,
		Artifact: Artifact{URI: "https://example.org/x", Digest: artifactDigest}}
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "json", b.String(), `"schemaVersion": "reprove.result/v1"`, `"inputs": []`, `"environment": []`, `"timings": []`)
	if err := ValidateJSON(b.Bytes()); err != nil {
		t.Errorf("minimal error result does not validate: %v", err)
	}
}

func TestReadJSONErrors(t *testing.T) {
	good := mustJSON(t, sampleResult(NotReproducible))
	edit := func(f func(m map[string]any)) string {
		m := mustJSON(t, good)
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name, in, want string
		is             error
	}{
		{"not json", "hello", "not JSON", nil},
		{"no version", `{"name":"x"}`, "no schemaVersion field", nil},
		{"future major", edit(func(m map[string]any) { m["schemaVersion"] = "reprove.result/v2" }), `the result says "reprove.result/v2"`, ErrSchemaVersion},
		{"other tool", edit(func(m map[string]any) { m["schemaVersion"] = "diffoscope/1" }), "this reprove reads", ErrSchemaVersion},
		{"bad verdict", edit(func(m map[string]any) { m["verdict"] = "maybe" }), "/verdict", nil},
		{"bad digest", edit(func(m map[string]any) { m["artifact"].(map[string]any)["digest"] = "md5:xyz" }), "/artifact/digest", nil},
		{"error without reason", edit(func(m map[string]any) { m["verdict"] = "error"; delete(m, "error") }), "error", nil},
		{"not reproducible without diff", edit(func(m map[string]any) { delete(m, "diff") }), "diff", nil},
		{"bad node kind", edit(func(m map[string]any) {
			m["diff"].(map[string]any)["root"].(map[string]any)["kind"] = "weird"
		}), "/diff/root/kind", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("ReadJSON accepted %s", tc.name)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
	// A minor revision only adds fields and is read.
	minor := edit(func(m map[string]any) { m["schemaVersion"] = "reprove.result/v1.2"; m["futureField"] = 1 })
	if _, err := ReadJSON(strings.NewReader(minor)); err != nil {
		t.Errorf("minor revision refused: %v", err)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"text": FormatText, "JSON": FormatJSON, "html": FormatHTML, "md": FormatMarkdown, "markdown": FormatMarkdown, "junit": FormatJUnit, "xml": FormatJUnit} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil || !strings.Contains(err.Error(), "text, json, html, markdown, junit") {
		t.Errorf("ParseFormat(pdf) error = %v; want the list of formats", err)
	}
	if err := Render(&bytes.Buffer{}, "pdf", sampleResult(Reproducible), RenderOptions{}); err == nil {
		t.Error("Render accepted format pdf")
	}
}

func TestMarkdown(t *testing.T) {
	out := renderString(t, FormatMarkdown, sampleResult(NotReproducible), RenderOptions{})
	mustContain(t, "markdown", out,
		"### ❌ hello-1.0: not reproducible (6 differences; likely cause: Embedded timestamps)",
		"| Published | `https://example.org/hello-1.0.tar.gz` |",
		"| Rebuilt digest | `"+rebuiltDigest+"  4101 bytes` |",
		"#### Likely causes",
		"1. **Embedded timestamps** (`timestamps`, 3 differences)  \n   Fix: Set SOURCE\\_DATE\\_EPOCH",
		"<details><summary>Inputs (2)</summary>",
		"| source | `git+https://example.org/hello.git @ 4b825dc642cb6eb9a060e54bf8d69288fbee4904` | `"+srcDigest+"` | `/src` |",
		"<details><summary>Differences (8 nodes)</summary>",
		"**`hello-1.0.tar.gz/hello-1.0.tar/hello-1.0/bin/hello`** · elf · content differs · 1834 bytes · cause `build-path`",
		"```diff\n@@ offset 0x0000f0 @@\n-000000f0: 4743",
		"-built: 2023-11-14T22:13:20Z | <b>x</b>",
		"> **Limit reached:** stopped comparing share/",
		"</details>",
		"<sub>reprove v0.3.0</sub>",
	)
	// Every <details> is closed (inputs, build script, build log, diff),
	// and every fence is closed.
	if o, c := strings.Count(out, "<details>"), strings.Count(out, "</details>"); o != c || o != 4 {
		t.Errorf("<details> opened %d closed %d times; want 4 each", o, c)
	}
	if n := strings.Count(out, "```"); n%2 != 0 {
		t.Errorf("odd number (%d) of code fences", n)
	}
}

// TestBuildAndMetadataInReports: the HTML and Markdown reports carry the
// build script and the end of the build log, and members that differ only
// in metadata are one table, not one node each.
func TestBuildAndMetadataInReports(t *testing.T) {
	res := sampleResult(NotReproducible)
	tar := res.Diff.Root.Details[0]
	tar.Details = append(tar.Details, mtimeOnly(8)...)
	md := renderString(t, FormatMarkdown, res, RenderOptions{})
	mustContain(t, "markdown", md,
		"<details><summary>Build script</summary>\n\n```sh\nset -e\nmake dist\n```",
		"<details><summary>Build log, last 2 lines</summary>\n\n```text\ncc -O2 -o hello hello.c\ntar czf hello-1.0.tar.gz hello-1.0\n```",
		"9 members differ only in metadata:\n\n| Member | What changed | Cause |\n|---|---|---|\n",
		"| `hello-1.0/share/man/page7` | mtime 2023-11-14 22:13:20 → 2024-05-01 09:00:00 | `timestamps` |",
	)
	if n := strings.Count(md, "**`hello-1.0.tar.gz/hello-1.0.tar/hello-1.0/share/man/page"); n != 0 {
		t.Errorf("markdown: %d grouped members also shown as nodes", n)
	}
	html := renderString(t, FormatHTML, res, RenderOptions{})
	mustContain(t, "html", html,
		`<details class="env" id="build-script" open><summary>Build script</summary>`+"\n"+`<pre class="diff">set -e`+"\n"+`make dist`,
		`<details class="env" id="build-log" open><summary>Build log, last 2 lines</summary>`,
		`<span class="l">tar czf hello-1.0.tar.gz hello-1.0</span>`,
		`<table class="meta"><caption>9 members differ only in metadata</caption>`,
		`<td class="path">hello-1.0/share/man/page7</td><td>mtime 2023-11-14 22:13:20 → 2024-05-01 09:00:00</td>`,
	)
	if n := strings.Count(html, `<span class="path">hello-1.0/share/man/page`); n != 0 {
		t.Errorf("html: %d grouped members also shown as nodes", n)
	}
	// Two metadata-only members stay nodes.
	few := sampleResult(NotReproducible)
	few.Diff.Root.Details[0].Details = append(few.Diff.Root.Details[0].Details, mtimeOnly(1)...)
	if out := renderString(t, FormatHTML, few, RenderOptions{}); strings.Contains(out, `class="meta"`) {
		t.Error("html: two metadata-only members were grouped")
	}
	// An error result opens the log: it is what the reader needs.
	if out := renderString(t, FormatMarkdown, sampleResult(Error), RenderOptions{}); !strings.Contains(out, "<details open><summary>Build log, last 2 lines</summary>") {
		t.Error("markdown: the build log of a failed build is not open")
	}
}

func TestMarkdownEscaping(t *testing.T) {
	res := sampleResult(NotReproducible)
	res.Diff.Causes[0].Title = "pipes | and <script>alert(1)</script> and *stars*"
	res.Inputs[0].URI = "file:a|b`c"
	res.Diff.Root.Details[0].Details[2].Unified = "@@ -1 +1 @@\n-```\n+````\n"
	out := renderString(t, FormatMarkdown, res, RenderOptions{})
	mustContain(t, "escaped markdown", out,
		`pipes \| and &lt;script&gt;alert(1)&lt;/script&gt; and \*stars\*`,
		"| ``file:a\\|b`c @ 4b825dc642cb6eb9a060e54bf8d69288fbee4904`` |",
		"`````diff\n@@ -1 +1 @@\n-```\n+````\n`````",
	)
	mustNotContain(t, "escaped markdown", out, "<script>")
}

func TestMarkdownSizeBound(t *testing.T) {
	out := renderString(t, FormatMarkdown, bigResult(400, 200), RenderOptions{MaxNodes: -1, MaxDiffLines: -1})
	if len(out) > 65536 {
		t.Errorf("markdown is %d bytes; a pull-request comment holds 65536", len(out))
	}
	mustContain(t, "bounded markdown", out, "more nodes not shown; the JSON or HTML report has the full tree.")
	out = renderString(t, FormatMarkdown, bigResult(3, 200), RenderOptions{})
	mustContain(t, "default line bound", out, "… 341 more lines")
}

func TestJUnit(t *testing.T) {
	var b bytes.Buffer
	results := []*Result{sampleResult(Reproducible), sampleResult(NotReproducible), sampleResult(Error), sampleResult(ReproducibleAfterNormalization)}
	results[1].Name = "hello-broken"
	results[2].Name = "hello-error"
	results[3].Name = "hello-norm"
	if err := RenderJUnit(&b, results); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output is not XML: %v\n%s", err, b.String())
	}
	if got := [3]int{doc.Tests, doc.Failures, doc.Errors}; got != [3]int{4, 1, 1} {
		t.Errorf("tests/failures/errors = %v; want [4 1 1]", got)
	}
	if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 4 {
		t.Fatalf("want one suite with 4 cases, got %+v", doc.Suites)
	}
	cs := doc.Suites[0].Cases
	type caseSum struct{ Name, Class, Time, Failure, Error string }
	var got []caseSum
	for _, c := range cs {
		s := caseSum{Name: c.Name, Class: c.Classname, Time: c.Time}
		if c.Failure != nil {
			s.Failure = c.Failure.Message
		}
		if c.Error != nil {
			s.Error = c.Error.Message
		}
		got = append(got, s)
	}
	want := []caseSum{
		{Name: "hello-1.0", Class: "reprove.verify", Time: "12.300"},
		{Name: "hello-broken", Class: "reprove.verify", Time: "12.300", Failure: "not reproducible: Embedded timestamps; Build path or toolchain version embedded; Archive entries in a different order (+1 more cause)"},
		{Name: "hello-error", Class: "reprove.verify", Time: "12.300", Error: "error: building hello-1.0: script exited with status 2"},
		{Name: "hello-norm", Class: "reprove.verify", Time: "12.300"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("test cases (-want +got):\n%s", d)
	}
	mustContain(t, "failure body", cs[1].Failure.Body, "fix: Set SOURCE_DATE_EPOCH", "hello-1.0/bin/hello")
	mustContain(t, "system-out", cs[0].SystemOut, "reproducible")
	if doc.Suites[0].Timestamp != "2024-05-01T09:00:00" {
		t.Errorf("suite timestamp = %q", doc.Suites[0].Timestamp)
	}
}

func TestJUnitControlCharacters(t *testing.T) {
	res := sampleResult(NotReproducible)
	res.Diff.Root.Details[0].Details[2].Unified = "@@ -1 +1 @@\n-a\x00\x01b]]>\n+a\x1bc\xff\n"
	var b bytes.Buffer
	if err := RenderJUnit(&b, []*Result{res}); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("control characters in a diff broke the XML: %v", err)
	}
	mustContain(t, "failure body", doc.Suites[0].Cases[0].Failure.Body, `-a\x00\x01b]]>`, `+a\x1bc`+"\uFFFD")
}

func TestForDiff(t *testing.T) {
	for _, tc := range []struct {
		s    *diff.Summary
		want Verdict
	}{
		{&diff.Summary{Identical: true, Equivalent: true}, Reproducible},
		{&diff.Summary{Equivalent: true, Normalizations: []string{"zip-mtime"}}, ReproducibleAfterNormalization},
		{sampleTree(), NotReproducible},
		{nil, Error},
	} {
		res := ForDiff("left.zip", "right.zip", tc.s)
		if res.Verdict != tc.want || res.Mode != ModeDiff || res.SchemaVersion != SchemaVersion {
			t.Errorf("ForDiff verdict/mode/schema = %s/%s/%s; want %s/diff/%s", res.Verdict, res.Mode, res.SchemaVersion, tc.want, SchemaVersion)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateJSON(b); err != nil {
			t.Errorf("ForDiff(%s) JSON does not validate: %v", tc.want, err)
		}
		txt := renderString(t, FormatText, res, RenderOptions{})
		mustNotContain(t, "diff text", txt, "Inputs:", "published", "only in rebuilt")
		mustContain(t, "diff text", txt, "left       left.zip", "right      right.zip")
		if tc.want == NotReproducible {
			mustContain(t, "diff text", txt, "[only in right, 11 bytes]", "[only in left, 1067 bytes]")
		}
	}
}

// TestTextNeutralizesTerminalEscapes: bytes from an artifact cannot drive
// the terminal that shows the report.
func TestTextNeutralizesTerminalEscapes(t *testing.T) {
	res := sampleResult(NotReproducible)
	res.Diff.Root.Details[0].Details[2].Unified = "@@ -1 +1 @@\n-title\x1b]0;pwned\x07\n+clear\x1b[2J\u009b31m\xff\n"
	res.Diff.Root.Details[0].Details[1].Source1 += "\rEVIL"
	res.Diff.Root.Details[0].Details[1].Source2 += "\rEVIL"
	for _, c := range []bool{false, true} {
		out := ansi.ReplaceAllString(renderString(t, FormatText, res, RenderOptions{Color: c}), "")
		mustContain(t, "text", out, `-title\x1b]0;pwned\x07`, `+clear\x1b[2J\x9b31m`+"\uFFFD", `hello\x0dEVIL`)
		for _, bad := range []string{"\x1b", "\x07", "\r", "\u009b"} {
			if strings.Contains(out, bad) {
				t.Errorf("Color=%v: output carries raw %q", c, bad)
			}
		}
	}
}
