package diff_test

import (
	"debug/elf"
	"strings"
	"testing"

	"github.com/reprove/reprove/diff"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

// findNode returns the first node whose Source2 ends with suffix.
func findNode(n *diff.Node, suffix string) *diff.Node {
	if n == nil {
		return nil
	}
	if strings.HasSuffix(n.Source2, suffix) {
		return n
	}
	for _, d := range n.Details {
		if f := findNode(d, suffix); f != nil {
			return f
		}
	}
	return nil
}

func TestELFCodeRelocationsDWARF(t *testing.T) {
	pad := func(code ...byte) []byte {
		return append(code, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90)
	}
	base := dt.ELFSpec{Text: pad(0xb8, 0x01, 0, 0, 0, 0xc3), Rodata: []byte("x"), Symbols: []string{"main"},
		Relocs: []dt.Reloc{{Offset: 1, Type: elf.R_X86_64_PC32, Sym: 1, Addend: -4}},
		Unit:   &dt.Unit{Name: "main.c", Producer: "GNU C17 12.2.0 -O2", CompDir: "/home/x/src"}}
	with := func(f func(s *dt.ELFSpec)) []byte { s := base; f(&s); return dt.ELF(s) }
	cases := []pairCase{
		{name: "instruction changed", a: dt.ELF(base), b: with(func(s *dt.ELFSpec) { s.Text = pad(0xb8, 0x02, 0, 0, 0, 0xc3) }),
			wantLeaves: []string{"content b [disassembly .text]", "content b [section .text]"},
			check: func(t *testing.T, s *diff.Summary) {
				n := findNode(s.Root, "[disassembly .text]")
				if !strings.Contains(n.Unified, "-  mov eax, 0x1\n+  mov eax, 0x2\n") {
					t.Errorf("disassembly diff:\n%s", n.Unified)
				}
			}},
		{name: "code moved: only an address differs", a: with(func(s *dt.ELFSpec) { s.Text = pad(0x48, 0xb8, 0x00, 0x01, 0x40, 0, 0, 0, 0, 0) }),
			b:          with(func(s *dt.ELFSpec) { s.Text = pad(0x48, 0xb8, 0x10, 0x01, 0x40, 0, 0, 0, 0, 0) }),
			wantLeaves: []string{"content b [section .text]", "metadata b [disassembly .text]"},
			check: func(t *testing.T, s *diff.Summary) {
				n := findNode(s.Root, "[disassembly .text]")
				if !strings.Contains(strings.Join(n.Comments, ""), "same once addresses are normalized: the code moved") {
					t.Errorf("comments %q", n.Comments)
				}
			}},
		{name: "code moved: a RIP-relative operand reaches another address", a: with(func(s *dt.ELFSpec) { s.Text = pad(0x48, 0x8d, 0x05, 0x10, 0, 0, 0) }),
			b:          with(func(s *dt.ELFSpec) { s.Text = pad(0x48, 0x8d, 0x05, 0x20, 0, 0, 0) }),
			wantLeaves: []string{"content b [section .text]", "metadata b [disassembly .text]"}},
		{name: "relocation addend", a: dt.ELF(base), b: with(func(s *dt.ELFSpec) { s.Relocs = []dt.Reloc{{Offset: 1, Type: elf.R_X86_64_PC32, Sym: 1, Addend: 12}} }),
			wantLeaves: []string{"content b [relocations]", "content b [section .rela.text]"},
			check: func(t *testing.T, s *diff.Summary) {
				n := findNode(s.Root, "[relocations]")
				if !strings.Contains(n.Unified, "-0000000000000001 R_X86_64_PC32 main-4\n+0000000000000001 R_X86_64_PC32 main+12\n") {
					t.Errorf("relocations diff:\n%s", n.Unified)
				}
			}},
		{name: "DWARF comp_dir", a: dt.ELF(base), b: with(func(s *dt.ELFSpec) {
			s.Unit = &dt.Unit{Name: "main.c", Producer: "GNU C17 12.2.0 -O2", CompDir: "/tmp/build/src"}
		}),
			wantLeaves: []string{"content b [DWARF]", "content b [program headers]", "content b [section .debug_info]", "content b [section headers]"}, wantCauses: []string{"build-path"},
			check: func(t *testing.T, s *diff.Summary) {
				if ev := s.Causes[0].Evidence; len(ev) == 0 || ev[0] != "build path: /home/x/src → /tmp/build/src" {
					t.Errorf("build-path evidence %q", ev)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkPair(t, tc, runPair(t, tc))
		})
	}
}
