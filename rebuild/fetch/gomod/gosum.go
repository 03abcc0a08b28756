package gomod

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// SumEntry is what go.sum says about one module version.
type SumEntry struct {
	Module module.Version
	Zip    string // h1: hash of the module zip; empty when go.sum lists only its go.mod
	GoMod  string // h1: hash of its go.mod; empty when go.sum lacks the /go.mod line
}

// ParseGoSum reads a go.sum file. Lines with hash algorithms other than h1
// are skipped (the go command does not check them either); malformed lines,
// invalid module paths or versions, and conflicting hashes are errors.
// Entries come back sorted by module path, then semantic version.
func ParseGoSum(data []byte) ([]SumEntry, error) {
	byMod := map[module.Version]*SumEntry{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("go.sum line %d: want \"MODULE VERSION HASH\", got %q", n, line)
		}
		ver, isMod := strings.CutSuffix(f[1], "/go.mod")
		if err := module.Check(f[0], ver); err != nil {
			return nil, fmt.Errorf("go.sum line %d: %w", n, err)
		}
		if !strings.HasPrefix(f[2], "h1:") {
			continue
		}
		m := module.Version{Path: f[0], Version: ver}
		e := byMod[m]
		if e == nil {
			e = &SumEntry{Module: m}
			byMod[m] = e
		}
		dst := &e.Zip
		if isMod {
			dst = &e.GoMod
		}
		if *dst != "" && *dst != f[2] {
			return nil, fmt.Errorf("go.sum line %d: %s %s has two different hashes (%s and %s); fix go.sum", n, f[0], f[1], *dst, f[2])
		}
		*dst = f[2]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading go.sum: %w", err)
	}
	out := make([]SumEntry, 0, len(byMod))
	for _, e := range byMod {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Module, out[j].Module
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return semver.Compare(a.Version, b.Version) < 0
	})
	return out, nil
}
