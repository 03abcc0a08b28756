package golang

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"

	"github.com/reprove/reprove/internal/bounded"
)

// binaryFacts is what a Go binary shows about link flags that build info
// does not record under -trimpath.
type binaryFacts struct {
	ELF     bool
	Symtab  bool              // has .symtab (not linked with -s)
	DWARF   bool              // has .debug_*/.zdebug_* sections (not linked with -w)
	StrVars map[string]string // stamp-named string vars and their values, from the symbol table
	Comment string            // the .comment section: the C compiler of a cgo binary
	// scrubbed is the file with its build info zeroed: occurrences inside
	// it do not count as evidence of -X, for the build info repeats the
	// version and revision itself.
	scrubbed []byte
	loaded   []loadedSection // where file offsets are in memory
	data     [][]byte        // .data and .noptrdata: where string variables live
	order    binary.ByteOrder
	ptr      int // pointer size
}

// loadedSection maps a section's file bytes to its address.
type loadedSection struct{ off, addr, size uint64 }

// Contains says whether s appears in the binary outside its build info.
func (f binaryFacts) Contains(s string) bool {
	return s != "" && bytes.Contains(f.scrubbed, []byte(s))
}

// evidence grades what the binary shows of s being a string value of its
// own: 2 when a Go string header (pointer, length) in a data section points
// at an occurrence with exactly s's length (a variable set with -X is one),
// 1 when s only appears, 0 when it does not.
func (f binaryFacts) evidence(s string) int {
	if !f.Contains(s) {
		return 0
	}
	if f.ptr == 0 {
		return 1
	}
	hdr := make([]byte, 2*f.ptr)
	for i, n := 0, 0; n < 32; n++ {
		j := bytes.Index(f.scrubbed[i:], []byte(s))
		if j < 0 {
			break
		}
		off := uint64(i + j)
		i += j + 1
		addr, ok := f.addrOf(off)
		if !ok {
			continue
		}
		f.putWord(hdr, addr)
		f.putWord(hdr[f.ptr:], uint64(len(s)))
		for _, d := range f.data {
			if bytes.Contains(d, hdr) {
				return 2
			}
		}
	}
	return 1
}

func (f binaryFacts) putWord(b []byte, v uint64) {
	if f.ptr == 4 {
		f.order.PutUint32(b, uint32(v))
		return
	}
	f.order.PutUint64(b, v)
}

// addrOf is the address file offset off is loaded at.
func (f binaryFacts) addrOf(off uint64) (uint64, bool) {
	for _, s := range f.loaded {
		if off >= s.off && off < s.off+s.size {
			return s.addr + off - s.off, true
		}
	}
	return 0, false
}

// find returns up to max distinct matches of re in the binary outside its
// build info, in order.
func (f binaryFacts) find(re *regexp.Regexp, max int) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range re.FindAll(f.scrubbed, 4*max) {
		if s := string(m); !seen[s] && len(out) < max {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// modinfo sentinels, from cmd/go/internal/modload: the build info string in
// the binary is framed by them.
var (
	infoStart = []byte("0w\xaf\x0c\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6")
	infoEnd   = []byte("\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2")
)

// stampNameRe names the variables release tooling commonly sets with -X:
// version, commit, date, buildDate, GitCommit, BuildTime, CommitHash…
var stampNameRe = regexp.MustCompile(`^(?i:(app|build|git|release|short|full|main|commit)?_?(version|ver|commit|commithash|hash|sha|gitsha|revision|rev|date|time|timestamp|tag|built|builtat|builtby))$`)

// stampVar says whether a symbol names a stamp-named variable, in any
// package: github.com/o/r/internal/version.Commit, main.date.
func stampVar(sym string) bool {
	first, _, _ := strings.Cut(sym, "/")
	if !strings.HasPrefix(sym, "main.") && !strings.Contains(first, ".") {
		return false // the standard library's (runtime.buildVersion)
	}
	slash := strings.LastIndex(sym, "/")
	dot := strings.Index(sym[slash+1:], ".")
	if dot < 0 {
		return false
	}
	return stampNameRe.MatchString(sym[slash+1+dot+1:])
}

// inspectBinary reads the facts from the file at path. Untrusted input: it
// never panics and bounds what it reads.
func inspectBinary(path string) (facts binaryFacts, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading %s as ELF: malformed file (%v)", path, r)
		}
	}()
	data, err := bounded.ReadFile(path, 2<<30)
	if err != nil {
		return facts, fmt.Errorf("reading %s: %w", path, err)
	}
	facts.scrubbed = scrubModinfo(data)
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return facts, nil // not ELF: nothing more to learn
	}
	facts.ELF, facts.order, facts.ptr = true, f.ByteOrder, 8
	if f.Class == elf.ELFCLASS32 {
		facts.ptr = 4
	}
	for _, s := range f.Sections {
		facts.section(s)
	}
	if facts.Symtab {
		facts.StrVars = stringVars(f)
	}
	return facts, nil
}

// section records what one ELF section tells.
func (facts *binaryFacts) section(s *elf.Section) {
	switch {
	case s.Name == ".symtab":
		facts.Symtab = true
	case strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"):
		facts.DWARF = true
	case s.Name == ".comment" && s.Size <= 1<<16:
		if b, err := s.Data(); err == nil {
			facts.Comment = strings.TrimSpace(strings.Map(func(r rune) rune {
				if r < ' ' || r > '~' {
					return ' '
				}
				return r
			}, string(b)))
		}
	}
	if s.Type != elf.SHT_NOBITS && s.Addr != 0 && s.Flags&elf.SHF_ALLOC != 0 {
		facts.loaded = append(facts.loaded, loadedSection{off: s.Offset, addr: s.Addr, size: s.Size})
	}
	if (s.Name == ".data" || s.Name == ".noptrdata") && s.Type != elf.SHT_NOBITS && s.Size <= 256<<20 {
		if b, err := s.Data(); err == nil {
			facts.data = append(facts.data, b)
		}
	}
}

// scrubModinfo returns data with every framed build info string zeroed.
func scrubModinfo(data []byte) []byte {
	out := bytes.Clone(data)
	for i := 0; ; {
		s := bytes.Index(out[i:], infoStart)
		if s < 0 {
			return out
		}
		s += i
		e := bytes.Index(out[s:], infoEnd)
		if e < 0 {
			return out
		}
		e += s + len(infoEnd)
		clear(out[s:e])
		i = e
	}
}

// stringVars reads the values of stamp-named string variables: a Go
// string is a (pointer, length) pair in a data section pointing into another.
func stringVars(f *elf.File) map[string]string {
	syms, err := f.Symbols()
	if err != nil {
		return nil
	}
	bo := f.ByteOrder
	ptr := 8
	if f.Class == elf.ELFCLASS32 {
		ptr = 4
	}
	word := func(b []byte) uint64 {
		if ptr == 4 {
			return uint64(bo.Uint32(b))
		}
		return bo.Uint64(b)
	}
	out := map[string]string{}
	for _, s := range syms {
		if !stampVar(s.Name) || s.Size != uint64(2*ptr) {
			continue
		}
		hdr := readAt(f, s.Value, uint64(2*ptr))
		if hdr == nil {
			continue
		}
		p, n := word(hdr), word(hdr[ptr:])
		if n == 0 || n > 256 {
			continue
		}
		v := readAt(f, p, n)
		if v == nil || !printable(v) {
			continue
		}
		out[s.Name] = string(v)
	}
	return out
}

// readAt reads n bytes at virtual address addr from the section holding it.
func readAt(f *elf.File, addr, n uint64) []byte {
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS || s.Addr == 0 || addr < s.Addr || addr+n > s.Addr+s.Size || addr+n < addr {
			continue
		}
		b := make([]byte, n)
		if _, err := s.ReadAt(b, int64(addr-s.Addr)); err != nil {
			return nil
		}
		return b
	}
	return nil
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
