package diff

import (
	"bytes"
	"debug/elf"
	"fmt"
	"sort"
	"strings"
)

// Go near-misses: two Go binaries that differ by a string stamped with -X
// into one of them, or by the folder they were built in. An offset-aligned
// hex dump of .rodata shows thousands of shifted bytes for a 40-character
// string missing from one side; these findings name the string, or the two
// folders, instead.
//
// Strings are read exactly, by the Go string headers (pointer, length) in
// .data and .noptrdata that point into read-only data (a variable set with
// -X is one); file names from the NUL-terminated absolute paths of the line
// table (builds without -trimpath).

// Bounds on what near-miss detection reads of each binary.
const (
	nearMissMaxSection = 64 << 20 // bytes of one section read
	nearMissMaxString  = 4096     // a string header longer than this is ignored
	nearMissMaxShown   = 8        // findings quoted per kind
	nearMissMaxFiles   = 10000    // file names compared per binary
	nearMissMaxDepth   = 32       // folders of a file name paired by their tails
)

// goNearMiss compares the Go strings and file names of two ELF binaries and
// returns a node naming what one side has and the other not, or nil. It
// also stops the shifted .rodata hex dump from being blamed on
// random-looking identifiers when a stamped string explains the shift.
func goNearMiss(a, b *input, fa, fb *elf.File, secs []*Node) *Node {
	if fa.Section(".go.buildinfo") == nil || fb.Section(".go.buildinfo") == nil {
		return nil
	}
	n := newNode(a, b, KindContent, "go-near-miss")
	n.Name1, n.Name2 = "Go strings and file names", "Go strings and file names"
	n.Source1, n.Source2 = a.name+" [go strings]", b.name+" [go strings]"
	sa, sb := goStrings(fa), goStrings(fb)
	onlyA, onlyB := multisetDiff(sa, sb)
	onlyA, onlyB = dropPaths(onlyA), dropPaths(onlyB)
	var stamped []string
	for _, side := range []struct {
		name string
		only []string
	}{{a.name, onlyA}, {b.name, onlyB}} {
		for i, s := range side.only {
			if i == nearMissMaxShown {
				n.Comments = append(n.Comments, fmt.Sprintf("… and %d more strings only in %s", len(side.only)-i, side.name))
				break
			}
			line := fmt.Sprintf("stamped string only in %s: %q", side.name, s)
			n.Comments = append(n.Comments, line)
			stamped = append(stamped, line)
		}
	}
	for _, e := range stamped {
		addCause(n, CauseGoStampedString, e)
	}
	if len(stamped) > 0 {
		for _, s := range secs {
			if strings.HasSuffix(s.Source1, "[section .rodata]") {
				removeCause(s, CauseRandomIDs)
				addCause(s, CauseGoStampedString, stamped[0])
			}
		}
	}
	for _, d := range buildPathDiffs(goFileNames(fa), goFileNames(fb)) {
		n.Comments = append(n.Comments, fmt.Sprintf("build path differs: %s vs %s", d[0], d[1]))
		addCause(n, CauseBuildPath, "build path: "+d[0]+" → "+d[1])
	}
	if len(n.Comments) == 0 {
		return nil
	}
	return n
}

// removeCause takes a cause and its evidence off a node.
func removeCause(n *Node, id CauseID) {
	causes := n.Causes[:0]
	for _, c := range n.Causes {
		if c != id {
			causes = append(causes, c)
		}
	}
	n.Causes = causes
	ev := n.Evidence[:0]
	for _, e := range n.Evidence {
		if e.Cause != id {
			ev = append(ev, e)
		}
	}
	n.Evidence = ev
}

// sectionData reads a section, bounded.
func sectionData(f *elf.File, name string) []byte {
	s := f.Section(name)
	if s == nil || s.Type == elf.SHT_NOBITS || s.Size > nearMissMaxSection {
		return nil
	}
	b, err := s.Data()
	if err != nil {
		return nil
	}
	return b
}

// goStrings are the printable strings Go string headers in .data and
// .noptrdata point at in read-only data, as a sorted multiset.
func goStrings(f *elf.File) (out []string) {
	defer func() {
		if recover() != nil {
			out = nil // a malformed binary: no findings
		}
	}()
	ro := f.Section(".rodata")
	if ro == nil || ro.Type == elf.SHT_NOBITS {
		return nil
	}
	rodata := sectionData(f, ".rodata")
	ptr := 8
	if f.Class == elf.ELFCLASS32 {
		ptr = 4
	}
	word := func(b []byte) uint64 {
		if ptr == 4 {
			return uint64(f.ByteOrder.Uint32(b))
		}
		return f.ByteOrder.Uint64(b)
	}
	for _, name := range []string{".data", ".noptrdata"} {
		d := sectionData(f, name)
		for i := 0; i+2*ptr <= len(d); i += ptr {
			p, l := word(d[i:]), word(d[i+ptr:])
			if l < 4 || l > nearMissMaxString || p < ro.Addr || p+l > ro.Addr+uint64(len(rodata)) {
				continue
			}
			if s := rodata[p-ro.Addr : p-ro.Addr+l]; printableString(s) {
				out = append(out, string(s))
			}
		}
	}
	sort.Strings(out)
	return out
}

func printableString(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// multisetDiff returns what each sorted multiset holds more of than the other.
func multisetDiff(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i, j = i+1, j+1
		}
	}
	return dedupeStrings(onlyA), dedupeStrings(onlyB)
}

func dedupeStrings(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// dropPaths leaves out absolute paths: build paths are reported apart.
func dropPaths(s []string) []string {
	var out []string
	for _, x := range s {
		if !strings.HasPrefix(x, "/") {
			out = append(out, x)
		}
	}
	return out
}

// goFileNames are the absolute source file names of the binary's line
// table (NUL-terminated in .gopclntab), sorted.
func goFileNames(f *elf.File) []string {
	d := sectionData(f, ".gopclntab")
	if d == nil {
		d = sectionData(f, ".data.rel.ro")
	}
	var out []string
	for _, part := range bytes.Split(d, []byte{0}) {
		if len(part) > 1 && part[0] == '/' && len(part) <= nearMissMaxString && printableString(part) &&
			bytes.Count(part, []byte("/")) <= nearMissMaxDepth &&
			(bytes.HasSuffix(part, []byte(".go")) || bytes.HasSuffix(part, []byte(".s")) || bytes.HasSuffix(part, []byte(".c"))) {
			out = append(out, string(part))
			if len(out) == nearMissMaxFiles {
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// buildPathDiffs pairs file names found on one side only by their longest
// common tail and returns the folder pairs they differ by, most frequent
// first (/home/x/src vs /tmp/src; /usr/local/go vs /opt/go).
func buildPathDiffs(a, b []string) [][2]string {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	onlyA, onlyB := multisetDiff(a, b)
	tailsB := map[string]string{}
	for _, p := range onlyB {
		for t := p; len(t) > 1; {
			i := strings.Index(t[1:], "/")
			if i < 0 {
				break
			}
			t = t[i+1:]
			if _, ok := tailsB[t]; !ok {
				tailsB[t] = strings.TrimSuffix(p, t)
			}
		}
	}
	count := map[[2]string]int{}
	for _, p := range onlyA {
		for t := p; len(t) > 1; {
			i := strings.Index(t[1:], "/")
			if i < 0 {
				break
			}
			t = t[i+1:]
			if pb, ok := tailsB[t]; ok {
				// Name folders, not stubs: /home/x/src vs /tmp/src rather
				// than /home/x vs /tmp, when the tail goes on below.
				pa := strings.TrimSuffix(p, t)
				if elem, rest, ok := strings.Cut(t[1:], "/"); ok && rest != "" {
					pa, pb = pa+"/"+elem, pb+"/"+elem
				}
				count[[2]string{pa, pb}]++
				break
			}
		}
	}
	var out [][2]string
	for k := range count {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if count[out[i]] != count[out[j]] {
			return count[out[i]] > count[out[j]]
		}
		return out[i][0] < out[j][0]
	})
	if len(out) > nearMissMaxShown {
		out = out[:nearMissMaxShown]
	}
	return out
}
