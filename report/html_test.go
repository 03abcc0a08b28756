package report

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestHTMLContent(t *testing.T) {
	out := renderString(t, FormatHTML, sampleResult(NotReproducible), RenderOptions{})
	mustContain(t, "html", out,
		`<div id="verdict" class="verdict v-fail" role="status">✗ not reproducible<span class="sub">6 differences; likely cause: Embedded timestamps</span></div>`,
		`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;sha256-`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<li id="cause-timestamps"><span class="cause-title">Embedded timestamps</span>`,
		`<td data-label="Digest" class="digest">`+srcDigest+`</td>`,
		`<details class="node" id="n-1" open>`,
		// html/template writes "+" as "&#43;".
		`<span class="l del">-built: 202<mark>3</mark>-<mark>11</mark>-<mark>14</mark>T<mark>22</mark>:<mark>13</mark>:<mark>2</mark>0Z | &lt;b&gt;x&lt;/b&gt;</span>`,
		`<span class="l hunk">@@ -1,3 &#43;1,3 @@</span>`,
		`<span class="l ctx"> name: hello</span>`,
		// Hex diffs mark exactly the bytes that changed.
		`<span class="l add">&#43;000000f0: 4743 4320 3a20 2844 6562 6961 6e20 313<mark>3</mark>  GCC : (Debian 1<mark>3</mark></span>`,
		`<div class="leaf node" id="n-7"><span class="path">hello-1.0/.buildstamp</span><span class="kind k-added">only in rebuilt</span><span class="facts-inline">11 bytes</span></div>`,
		`Limit reached: stopped comparing share/`,
	)
	// The verdict comes before anything else in the body.
	if v, c := strings.Index(out, `id="verdict"`), strings.Index(out, `id="compared"`); v < 0 || v > c {
		t.Errorf("verdict is not first: verdict@%d compared@%d", v, c)
	}
	// Causes are ranked: timestamps (3) before build-path (2) before file-order (1).
	a, b, c := strings.Index(out, `id="cause-timestamps"`), strings.Index(out, `id="cause-build-path"`), strings.Index(out, `id="cause-file-order"`)
	if !(a < b && b < c) {
		t.Errorf("causes out of rank order: %d %d %d", a, b, c)
	}
	// Self-contained: nothing is loaded from anywhere.
	if m := regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]+(src|href)=`).FindString(out); m != "" {
		t.Errorf("page loads an external resource: %s", m)
	}
	mustNotContain(t, "html", out, "<b>x</b>", "@import", "url(")
}

func TestHTMLEscapesInjection(t *testing.T) {
	res := sampleResult(NotReproducible)
	res.Name = `<script>alert("name")</script>`
	res.Diff.Causes[0].Title = `"><img src=x onerror=alert(1)>`
	res.Diff.Root.Details[0].Details[1].Source1 += "</details><script>alert(2)</script>"
	out := renderString(t, FormatHTML, res, RenderOptions{})
	mustNotContain(t, "html", out, `<script>alert`, `<img src=x`)
	if n := strings.Count(out, "<script"); n != 1 {
		t.Errorf("%d script elements; want only the page's own", n)
	}
}

func TestHTMLTruncation(t *testing.T) {
	out := renderString(t, FormatHTML, bigResult(50, 3000), RenderOptions{MaxNodes: 10})
	mustContain(t, "html", out,
		`<span class="l more">… 4001 more lines not shown; the JSON report has them all.</span>`,
		`<p class="note" id="nodes-truncated">41 more nodes are not shown;`)
	if n := strings.Count(out, `class="node`); n != 10 {
		t.Errorf("%d nodes rendered; want 10", n)
	}
	small := renderString(t, FormatHTML, bigResult(3, 10), RenderOptions{})
	mustNotContain(t, "html", small, "more lines not shown", "nodes-truncated")
}

func TestHTMLVerdicts(t *testing.T) {
	for v, want := range map[Verdict]string{
		Reproducible:                   `class="verdict v-pass" role="status">✓ reproducible<span class="sub">sha256:9f86d081884c</span>`,
		ReproducibleAfterNormalization: `class="verdict v-warn" role="status">✓ reproducible after normalization<span class="sub">normalized: gzip-mtime, tar-mtime</span>`,
		Error:                          `class="verdict v-error" role="status">! error</div>`,
	} {
		out := renderString(t, FormatHTML, sampleResult(v), RenderOptions{})
		mustContain(t, string(v), out, want)
		mustNotContain(t, string(v), out, `id="differences"`)
	}
	out := renderString(t, FormatHTML, sampleResult(Error), RenderOptions{})
	mustContain(t, "error", out, `<div class="error-text">building hello-1.0: script exited with status 2`)
}

// chromium starts a headless Chromium for the test, or skips (fails in CI)
// when it is not installed.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if lp, err := exec.LookPath(p); err == nil {
			path = lp
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (Debian package chromium); CI must run the browser test")
		}
		t.Skip("chromium is not installed (Debian package chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// writePage renders res to DIR/report.html (REPROVE_SCREENSHOT_DIR keeps it).
func writePage(t *testing.T, res *Result) (dir, page string) {
	t.Helper()
	dir = t.TempDir()
	if keep := os.Getenv("REPROVE_SCREENSHOT_DIR"); keep != "" {
		dir = keep
	}
	page = filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := RenderHTML(f, res, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, page
}

// TestHTMLInChromium loads the page in headless Chromium: the verdict shows,
// every changed line is visible without a click, a node still folds on a
// click, text diffs go side by side and back, the page fits a phone's
// width, and screenshots are saved for a person to look at.
func TestHTMLInChromium(t *testing.T) {
	ctx := chromium(t)
	dir, page := writePage(t, sampleResult(NotReproducible))

	const node = "#n-4" // hello-1.0/bin/hello, inside the tar
	isOpen := chromedp.Evaluate[bool](`document.querySelector("` + node + `").open`)
	diffShown := chromedp.Evaluate[bool](`document.querySelector("` + node + ` pre.diff").checkVisibility()`)
	hiddenDiffs := chromedp.Evaluate[int](`[...document.querySelectorAll(".tree pre.diff")].filter(p => !p.checkVisibility()).length`)
	changedShown := chromedp.Evaluate[bool](`[...document.querySelectorAll(".tree pre.unified .l.add")].some(l => l.checkVisibility() && l.textContent.includes("built: 2024-05-01T09:00:00Z"))`)
	sbsShown := chromedp.Evaluate[bool](`[...document.querySelectorAll("table.sbs td.add")].some(l => l.checkVisibility() && l.textContent === "built: 2024-05-01T09:00:00Z | <b>x</b>")`)

	do(t, ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.ID("verdict")))
	verdict := run(t, ctx, chromedp.Text(chromedp.ID("verdict")))
	openBefore, leafVisibleBefore := run(t, ctx, isOpen), run(t, ctx, diffShown)
	hidden, changed := run(t, ctx, hiddenDiffs), run(t, ctx, changedShown)
	desktopPNG := run(t, ctx, chromedp.FullScreenshot(100))
	do(t, ctx, chromedp.Click(chromedp.CSS(node+" > summary")))
	openAfter, leafVisibleAfter := run(t, ctx, isOpen), run(t, ctx, diffShown)
	do(t, ctx, chromedp.Click(chromedp.ID("side-by-side")))
	sbs, unifiedAfterToggle := run(t, ctx, sbsShown), run(t, ctx, changedShown)
	do(t, ctx, chromedp.Click(chromedp.ID("side-by-side")))
	sbsOff := run(t, ctx, sbsShown)
	// Collapse, then expand all (the page's own script, allowed by its CSP
	// hash), then look at it as a phone would.
	do(t, ctx, chromedp.Click(chromedp.ID("collapse-all")))
	do(t, ctx, chromedp.Click(chromedp.ID("expand-all")))
	closed := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".tree details:not([open])").length`))
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	overflow := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	phonePNG := run(t, ctx, chromedp.FullScreenshot(100))

	if want := "✗ not reproducible"; !strings.HasPrefix(strings.TrimSpace(verdict), want) {
		t.Errorf("verdict text %q; want it to start with %q", verdict, want)
	}
	if !openBefore || !leafVisibleBefore || hidden != 0 || !changed {
		t.Errorf("at load: node %s open=%v, its diff visible=%v, %d diffs hidden, changed line visible=%v; want every diff shown without a click",
			node, openBefore, leafVisibleBefore, hidden, changed)
	}
	if openAfter || leafVisibleAfter {
		t.Errorf("node %s open=%v diff visible=%v after a click on it; want it folded", node, openAfter, leafVisibleAfter)
	}
	if !sbs || unifiedAfterToggle || sbsOff {
		t.Errorf("side by side: changed line in the two-column table %v, unified still shown %v, table after toggling back %v", sbs, unifiedAfterToggle, sbsOff)
	}
	if overflow > 0 {
		t.Errorf("on a 390px phone the page is %dpx wider than the screen", overflow)
	}
	if closed != 0 {
		t.Errorf("%d nodes still closed after Expand all: the page's script did not run", closed)
	}
	for name, png := range map[string][]byte{"report-desktop.png": desktopPNG, "report-phone.png": phonePNG} {
		if len(png) < 8 || string(png[1:4]) != "PNG" {
			t.Fatalf("%s is not a PNG (%d bytes)", name, len(png))
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
}

// TestHTMLPrintsToPDF prints the page, after a reader folded the whole
// tree, and finds in the PDF's text the changed line, the grouped
// metadata changes, the build script and the end of the build log.
func TestHTMLPrintsToPDF(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext is not installed (Debian package poppler-utils); CI must run the print test")
		}
		t.Skip("pdftotext is not installed (Debian package poppler-utils)")
	}
	ctx := chromium(t)
	res := sampleResult(NotReproducible)
	res.Diff.Root.Details[0].Details = append(res.Diff.Root.Details[0].Details, mtimeOnly(5)...)
	dir, page := writePage(t, res)
	do(t, ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.ID("verdict")))
	do(t, ctx, chromedp.Click(chromedp.ID("collapse-all")))
	if open := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".tree details[open]").length`)); open != 0 {
		t.Fatalf("%d nodes still open after Collapse all", open)
	}
	pdf := run(t, ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	file := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	for _, want := range []string{
		"+built: 2024-05-01T09:00:00Z | <b>x</b>", // the changed line
		"-built: 2023-11-14T22:13:20Z | <b>x</b>", // and what it was
		"6 members differ only in metadata",       // grouped: five mtimes and a mode
		"page4",                                   // a grouped member
		"mtime 2023-11-14 22:13:20 → 2024-05-01",  // what changed in it
		"make dist",                          // the build script
		"tar czf hello-1.0.tar.gz hello-1.0", // the build log's end
		"SOURCE_DATE_EPOCH=1700000000",       // the environment
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed PDF lacks %q:\n%s", want, text)
		}
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("driving chromium: %v", err)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("driving chromium: %v", err)
	}
	return v
}
