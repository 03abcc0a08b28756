package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/fetch"
)

// progress shows on stderr what the pipeline is doing, from its callbacks
// (rebuild.Config's Progress, Step and Events). On a terminal: live bars
// (mpb) for downloads with bytes, rate and ETA, and for the build with its
// elapsed time and last line of output. Otherwise: a few plain lines,
// quiet enough for a cron log. With -q: nothing.
type progress struct {
	quiet bool
	mu    sync.Mutex
	w     io.Writer     // where lines go: stderr, or above the bars
	bars  *mpb.Progress // nil when stderr is not a terminal
	fetch map[string]*mpb.Bar
	build *mpb.Bar
	// line is the build's last line of output; its own lock, as the bar's
	// decorator reads it while Event may hold mu waiting on the bars.
	line atomic.Pointer[string]
}

func newProgress(quiet bool) *progress {
	return newProgressTo(os.Stderr, term.IsTerminal(int(os.Stderr.Fd())), quiet)
}

// newProgressTo draws on w; live bars when tty. Extra options are for tests
// (a manual refresh).
func newProgressTo(w io.Writer, tty, quiet bool, opts ...mpb.ContainerOption) *progress {
	p := &progress{quiet: quiet, w: w, fetch: map[string]*mpb.Bar{}}
	if tty && !quiet {
		p.bars = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(w)}, opts...)...)
		p.w = p.bars
	}
	return p
}

// printf writes one line (above the bars on a terminal).
func (p *progress) printf(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", args...)
}

// Step prints one phase line.
func (p *progress) Step(phase, detail string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printf("%-8s %s", phase, detail)
}

// Fetch shows a download's bytes, rate and ETA, on a terminal only.
func (p *progress) Fetch(e fetch.Event) {
	if p.quiet || p.bars == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key := e.Phase + " " + e.URI
	b := p.fetch[key]
	if b == nil {
		b = p.newFetchBar(e)
		p.fetch[key] = b
	}
	if e.Total > 0 && e.Total != b.Current() {
		b.SetTotal(e.Total, false)
	}
	b.SetCurrent(e.Done)
	if e.Total > 0 && e.Done >= e.Total {
		b.SetTotal(e.Total, true)
		delete(p.fetch, key)
	}
}

func (p *progress) newFetchBar(e fetch.Event) *mpb.Bar {
	name := decor.Name(fmt.Sprintf("%-8s %s ", e.Phase, shorten(e.URI, 40)))
	if e.Total <= 0 {
		return p.bars.AddSpinner(0,
			mpb.PrependDecorators(name),
			mpb.AppendDecorators(decor.CurrentKibiByte("% .1f"), decor.Name("  "), decor.AverageSpeed(decor.SizeB1024(0), "% .1f")),
			mpb.BarRemoveOnComplete())
	}
	return p.bars.AddBar(e.Total, mpb.BarWidth(20),
		mpb.PrependDecorators(name),
		mpb.AppendDecorators(
			decor.CountersKibiByte("% .1f / % .1f"), decor.Name("  "),
			decor.AverageSpeed(decor.SizeB1024(0), "% .1f"), decor.Name("  ETA "),
			decor.AverageETA(decor.ET_STYLE_GO)),
		mpb.BarRemoveOnComplete())
}

// Event shows a build, an inferred candidate or a comparison phase.
func (p *progress) Event(e rebuild.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := e.(type) {
	case rebuild.BuildStarted:
		p.printf("%-8s log: %s", "build", e.Log)
		if p.bars != nil {
			p.line.Store(new(string))
			start := time.Now()
			elapsed := func(decor.Statistics) string { return time.Since(start).Round(time.Second).String() + " " }
			p.build = p.bars.AddSpinner(0, mpb.BarWidth(1),
				mpb.PrependDecorators(decor.Name(fmt.Sprintf("%-8s %s ", "build", shorten(e.Name, 32))), decor.Any(elapsed)),
				mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return p.lastLine() })),
				mpb.BarRemoveOnComplete())
		}
	case rebuild.BuildOutput:
		p.line.Store(&e.Line)
	case rebuild.BuildFinished:
		if p.build != nil {
			p.build.SetTotal(-1, true)
			p.build = nil
		}
		if e.Err != nil {
			p.printf("%-8s failed after %s", "build", e.Duration.Round(time.Millisecond))
		} else {
			p.printf("%-8s finished in %s", "build", e.Duration.Round(time.Millisecond))
		}
	case rebuild.CandidateStarted:
		p.printf("%-8s candidate %d/%d: %s", "infer", e.Index, e.Total, e.Name)
	case rebuild.ComparePhase:
		p.printf("%-8s %s", "compare", e.Phase)
	}
}

// lastLine is the build's last line, cleaned for a terminal, for its bar.
func (p *progress) lastLine() string {
	l := p.line.Load()
	if l == nil {
		return ""
	}
	return "  " + shorten(strings.TrimSpace(termLine(*l)), 60)
}

// Close stops the bars; lines printed before it are all out when it returns.
func (p *progress) Close() {
	if p.bars == nil {
		return
	}
	p.mu.Lock()
	for k, b := range p.fetch {
		b.Abort(true)
		delete(p.fetch, k)
	}
	if p.build != nil {
		p.build.Abort(true)
		p.build = nil
	}
	p.mu.Unlock()
	p.bars.Wait()
}

// termLine drops control characters from the build's output (untrusted),
// so it can neither move the cursor nor recolor the terminal.
func termLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return "…" + string(r[len(r)-n+1:])
	}
	return s
}
