package golang

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// binaryFacts is what a Go binary shows about link flags that build info
// does not record under -trimpath.
type binaryFacts struct {
	ELF      bool
	Symtab   bool              // has .symtab (not linked with -s)
	DWARF    bool              // has .debug_*/.zdebug_* sections (not linked with -w)
	StrVars  map[string]string // string vars of interest and their values, from the symbol table
	Contains func(s string) bool
}

// modinfo sentinels, from cmd/go/internal/modload: the build info string in
// the binary is framed by them.
var (
	infoStart = []byte("0w\xaf\x0c\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6")
	infoEnd   = []byte("\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2")
)

// stampVarRe names the variables release tooling commonly sets with -X.
var stampVarRe = regexp.MustCompile(`^main\.(?i:version|commit|gitcommit|revision|date|builddate|buildtime|tag)$`)

// inspectBinary reads the facts from the file at path. Untrusted input: it
// never panics and bounds what it reads.
func inspectBinary(path string) (facts binaryFacts, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading %s as ELF: malformed file (%v)", path, r)
		}
	}()
	data, err := readBounded(path, 2<<30)
	if err != nil {
		return facts, err
	}
	// Occurrences inside the build info string do not count as evidence
	// of -X: the build info repeats the version and revision itself.
	scrubbed := scrubModinfo(data)
	facts.Contains = func(s string) bool { return s != "" && bytes.Contains(scrubbed, []byte(s)) }
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return facts, nil // not ELF: nothing more to learn
	}
	facts.ELF = true
	for _, s := range f.Sections {
		switch {
		case s.Name == ".symtab":
			facts.Symtab = true
		case strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"):
			facts.DWARF = true
		}
	}
	if facts.Symtab {
		facts.StrVars = stringVars(f)
	}
	return facts, nil
}

func readBounded(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("reading %s: larger than %d bytes", path, max)
	}
	return b, nil
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

// stringVars reads the values of main.version-style string variables: a Go
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
		if !stampVarRe.MatchString(s.Name) || s.Size != uint64(2*ptr) {
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
