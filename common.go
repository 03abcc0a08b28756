package main

import (
	"os"
	"runtime/debug"

	"golang.org/x/term"

	"github.com/reprove/reprove/rebuild/fetch"
)

// versionOverride, when set with -ldflags "-X main.versionOverride=…",
// is the version reprove reports; the module version from build info is
// used otherwise.
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
