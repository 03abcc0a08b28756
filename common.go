package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/reprove/reprove/rebuild/fetch"
)

// version is set with -ldflags "-X main.version=…" by release builds; the
// module version from build info is used otherwise.
var versionOverride string

func version() string {
	if versionOverride != "" {
		return versionOverride
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// common holds what every command shares.
type common struct {
	CacheDir string
	Quiet    bool
	Color    bool // color the text written to stdout
}

// colorWanted is true only for a terminal on stdout without NO_COLOR.
func colorWanted(noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(os.Stdout.Fd()))
}

func defaultCacheDir() (string, error) { return fetch.DefaultCacheDir() }

// progress draws phase lines and download progress on stderr.
type progress struct {
	quiet bool
	tty   bool
	mu    sync.Mutex
	last  time.Time
	live  bool // a \r progress line is showing
}

func newProgress(quiet bool) *progress {
	return &progress{quiet: quiet, tty: term.IsTerminal(int(os.Stderr.Fd()))}
}

func (p *progress) clear() {
	if p.live {
		fmt.Fprint(os.Stderr, "\r\033[K")
		p.live = false
	}
}

// Step prints one phase line.
func (p *progress) Step(phase, detail string) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(os.Stderr, "%-8s %s\n", phase, detail)
}

// Fetch shows byte progress of long downloads, on terminals only.
func (p *progress) Fetch(e fetch.Event) {
	if p.quiet || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	done := e.Total > 0 && e.Done >= e.Total
	if !done && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	if e.Total > 0 {
		fmt.Fprintf(os.Stderr, "\r\033[K  %s %s %s / %s (%d%%)", e.Phase, short(e.URI), size(e.Done), size(e.Total), e.Done*100/e.Total)
	} else {
		fmt.Fprintf(os.Stderr, "\r\033[K  %s %s %s", e.Phase, short(e.URI), size(e.Done))
	}
	p.live = true
	if done {
		p.clear()
	}
}

func short(s string) string {
	if len(s) > 60 {
		return "…" + s[len(s)-59:]
	}
	return s
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
