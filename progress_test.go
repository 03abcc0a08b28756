package main

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/fetch"
)

// events plays what a verify of an inferred artifact tells its caller.
func events(p *progress, refresh func()) {
	p.Step("fetch", "artifact https://example.org/hello")
	p.Fetch(fetch.Event{URI: "https://example.org/toolchain.zip", Phase: "download", Done: 0, Total: 8 << 20})
	p.Fetch(fetch.Event{URI: "https://example.org/toolchain.zip", Phase: "download", Done: 3 << 20, Total: 8 << 20})
	refresh()
	p.Event(rebuild.CandidateStarted{Index: 2, Total: 3, Name: "ldflags=-s -w"})
	p.Event(rebuild.BuildStarted{Name: "hello", Log: "/cache/runs/1/build.log", Backend: "runc", Timeout: time.Minute})
	p.Event(rebuild.BuildOutput{Line: "go: downloading example.org/dep v1.0.0"})
	p.Event(rebuild.BuildOutput{Line: "compiling cmd/hello \x1b[31mred\x1b[0m"})
	refresh()
	p.Event(rebuild.BuildFinished{Duration: 1500 * time.Millisecond, Err: errors.New("exit 2")})
	p.Event(rebuild.ComparePhase{Phase: "deep diff"})
	refresh()
	p.Close()
}

// TestProgressLines: off a terminal, progress is a few plain lines: the
// log path as the build starts, the candidate, the compare phases; no
// download bars, no build output.
func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	events(newProgressTo(&buf, false, false), func() {})
	want := "fetch    artifact https://example.org/hello\n" +
		"infer    candidate 2/3: ldflags=-s -w\n" +
		"build    log: /cache/runs/1/build.log\n" +
		"build    failed after 1.5s\n" +
		"compare  deep diff\n"
	if buf.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", buf.String(), want)
	}
	var quiet bytes.Buffer
	events(newProgressTo(&quiet, true, true), func() {})
	if quiet.Len() != 0 {
		t.Errorf("-q printed %q", quiet.String())
	}
}

// TestProgressBars: on a terminal, a download shows bytes, rate and ETA,
// and the build its elapsed time and last line of output, cleaned of
// control characters.
func TestProgressBars(t *testing.T) {
	var buf bytes.Buffer
	ch := make(chan any)
	p := newProgressTo(&buf, true, false, mpb.WithManualRefresh(ch), mpb.WithWidth(160))
	events(p, func() { ch <- time.Now() })
	out := buf.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`download https://example.org/toolchain.zip .*3\.0 MiB / 8\.0 MiB\s+\S+ \S*B/s\s+ETA \S+`),
		regexp.MustCompile(`infer    candidate 2/3: ldflags=-s -w`),
		regexp.MustCompile(`build    log: /cache/runs/1/build.log`),
		regexp.MustCompile(`build    hello \d+s.*compiling cmd/hello \[31mred\[0m`),
		regexp.MustCompile(`compare  deep diff`),
	} {
		if !want.MatchString(out) {
			t.Errorf("terminal progress lacks %s:\n%q", want, out)
		}
	}
	if strings.Contains(out, "\x1b[31m") {
		t.Errorf("the build's escape sequence reached the terminal: %q", out)
	}
}
