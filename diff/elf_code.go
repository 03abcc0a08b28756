package diff

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/arch/arm64/arm64asm"
	"golang.org/x/arch/x86/x86asm"

	"github.com/reprove/reprove/diff/archive"
)

// ELF views beyond readelf's headers and tables: relocations, DWARF
// producers and line tables, and the disassembly of code sections whose
// bytes differ (amd64, 386 and arm64), with addresses normalized so that
// code that only moved compares equal.

// maxDisasmBytes bounds the code section sizes disassembled.
const maxDisasmBytes = 16 << 20

// elfRelocLines lists each relocation section's entries like readelf -r:
// offset, type, symbol and addend.
func elfRelocLines(f *elf.File) []string {
	syms, _ := f.Symbols()
	dyn, _ := f.DynamicSymbols()
	var out []string
	for _, s := range f.Sections {
		if s.Type != elf.SHT_RELA && s.Type != elf.SHT_REL {
			continue
		}
		data, err := s.Data()
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", s.Name, err))
			continue
		}
		table := syms
		if l := linked(f, s); l != nil && l.Type == elf.SHT_DYNSYM {
			table = dyn
		}
		out = append(out, fmt.Sprintf("Relocation section %s:", s.Name))
		out = append(out, relocEntries(f, data, s.Type == elf.SHT_RELA, table)...)
	}
	return out
}

// relocEntries decodes one relocation table.
func relocEntries(f *elf.File, data []byte, rela bool, syms []elf.Symbol) []string {
	size := map[bool]map[elf.Class]int{true: {elf.ELFCLASS64: 24, elf.ELFCLASS32: 12}, false: {elf.ELFCLASS64: 16, elf.ELFCLASS32: 8}}[rela][f.Class]
	if size == 0 {
		return nil
	}
	var out []string
	bo := f.ByteOrder
	for p := 0; p+size <= len(data); p += size {
		var off, info uint64
		var addend int64
		if f.Class == elf.ELFCLASS64 {
			off, info = bo.Uint64(data[p:]), bo.Uint64(data[p+8:])
			if rela {
				addend = int64(bo.Uint64(data[p+16:]))
			}
		} else {
			off, info = uint64(bo.Uint32(data[p:])), uint64(bo.Uint32(data[p+4:]))
			info = info>>8<<32 | info&0xff
			if rela {
				addend = int64(int32(bo.Uint32(data[p+8:])))
			}
		}
		sym, typ := info>>32, uint32(info)
		name := ""
		if sym > 0 && int(sym) <= len(syms) {
			name = syms[sym-1].Name
		}
		out = append(out, fmt.Sprintf("%016x %s %s%+d", off, relocType(f.Machine, typ), name, addend))
	}
	return out
}

func relocType(m elf.Machine, t uint32) string {
	switch m {
	case elf.EM_X86_64:
		return elf.R_X86_64(t).String()
	case elf.EM_386:
		return elf.R_386(t).String()
	case elf.EM_AARCH64:
		return elf.R_AARCH64(t).String()
	case elf.EM_ARM:
		return elf.R_ARM(t).String()
	case elf.EM_RISCV:
		return elf.R_RISCV(t).String()
	}
	return "type " + strconv.FormatUint(uint64(t), 10)
}

// elfDWARFLines lists, for each compilation unit, its name, producer and
// compilation directory, and the files its line table names. The debug
// sections are decoded only when they fit the table size limit together
// (dwarfTooLarge).
func elfDWARFLines(f *elf.File) []string {
	d, err := f.DWARF()
	if err != nil {
		return nil
	}
	var out []string
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		if e == nil {
			return out
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		str := func(a dwarf.Attr) string { s, _ := e.Val(a).(string); return s }
		out = append(out, fmt.Sprintf("CU %s: producer %q, comp_dir %s", str(dwarf.AttrName), str(dwarf.AttrProducer), str(dwarf.AttrCompDir)))
		if lr, err := d.LineReader(e); err == nil && lr != nil {
			for i, file := range lr.Files() {
				if file != nil && i < 10000 {
					out = append(out, "  file "+file.Name)
				}
			}
		}
		r.SkipChildren()
	}
}

// dwarfTooLarge says why the DWARF view of f is not decoded, or "".
func (c *comparer) dwarfTooLarge(f *elf.File) string {
	var total uint64
	for _, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			total += s.Size
		}
	}
	if max := c.opts.Limits.MaxTableSize; total > uint64(max) {
		c.limit(fmt.Sprintf("table size limit of %s reached: larger ELF tables are not decoded (raise --max-table-size)", archive.Size(max)))
		return fmt.Sprintf("DWARF: the debug sections (%s) are not decoded: past the table size limit of %s (raise --max-table-size)", archive.Size(int64(min(total, 1<<62))), archive.Size(max))
	}
	return ""
}

// disassembler decodes one machine's instructions.
type disassembler func(code []byte, pc uint64, sym func(uint64) (string, uint64)) (text string, size int)

func disassemblerFor(m elf.Machine) disassembler {
	switch m {
	case elf.EM_X86_64, elf.EM_386:
		mode := 64
		if m == elf.EM_386 {
			mode = 32
		}
		return func(code []byte, pc uint64, sym func(uint64) (string, uint64)) (string, int) {
			inst, err := x86asm.Decode(code, mode)
			if err != nil || inst.Len == 0 {
				return "(bad)", 1
			}
			text := x86asm.IntelSyntax(inst, pc, sym)
			for _, arg := range inst.Args {
				// A RIP-relative operand is shown as the address it
				// reaches, which the caller normalizes like any other.
				if m, ok := arg.(x86asm.Mem); ok && m.Base == x86asm.RIP {
					text = ripRelative.ReplaceAllString(text, fmt.Sprintf("0x%x", pc+uint64(inst.Len)+uint64(m.Disp)))
				}
			}
			return text, inst.Len
		}
	case elf.EM_AARCH64:
		return func(code []byte, _ uint64, _ func(uint64) (string, uint64)) (string, int) {
			if len(code) < 4 {
				return "(bad)", len(code)
			}
			inst, err := arm64asm.Decode(code)
			if err != nil {
				return fmt.Sprintf(".inst 0x%08x", binary.LittleEndian.Uint32(code)), 4
			}
			return arm64asm.GNUSyntax(inst), 4
		}
	}
	return nil
}

// symbolizer maps addresses to "symbol" or "symbol+0x10" from f's
// function symbols, and tells where functions start.
type symbolizer struct {
	addrs []uint64
	names []string
}

func newSymbolizer(f *elf.File) *symbolizer {
	syms, _ := f.Symbols()
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].Value < syms[j].Value })
	z := &symbolizer{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Name != "" && s.Value != 0 {
			z.addrs = append(z.addrs, s.Value)
			z.names = append(z.names, s.Name)
		}
	}
	return z
}

func (z *symbolizer) lookup(addr uint64) (string, uint64) {
	i := sort.Search(len(z.addrs), func(i int) bool { return z.addrs[i] > addr }) - 1
	if i < 0 {
		return "", 0
	}
	return z.names[i], z.addrs[i]
}

// ripRelative matches Intel syntax's RIP-relative displacement.
var ripRelative = regexp.MustCompile(`rip[+-]0x[0-9a-f]+`)

// hexAddr matches hex literals that may be addresses.
var hexAddr = regexp.MustCompile(`0x[0-9a-f]{4,}`)

// disasmLines disassembles code at addr: one line per instruction
// without its address, a "<symbol>:" line where a function starts, and
// any literal address inside [lo, hi) (the image) replaced by "<addr>",
// so that moved code compares equal.
func disasmLines(dis disassembler, z *symbolizer, code []byte, addr, lo, hi uint64) []string {
	var out []string
	for p := 0; p < len(code) && len(out) < maxTextLines; {
		pc := addr + uint64(p)
		if name, start := z.lookup(pc); start == pc && name != "" {
			out = append(out, "<"+name+">:")
		}
		text, n := dis(code[p:], pc, z.lookup)
		text = hexAddr.ReplaceAllStringFunc(text, func(h string) string {
			v, err := strconv.ParseUint(h[2:], 16, 64)
			if err == nil && v >= lo && v < hi {
				return "<addr>"
			}
			return h
		})
		out = append(out, "  "+text)
		p += max(n, 1)
	}
	return out
}

// imageRange is the address range f's loaded segments (or, without
// program headers, its loaded sections) cover.
func imageRange(f *elf.File) (lo, hi uint64) {
	lo = ^uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Memsz > 0 {
			lo, hi = min(lo, p.Vaddr), max(hi, p.Vaddr+p.Memsz)
		}
	}
	if hi > 0 {
		return lo, hi
	}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Size > 0 {
			lo, hi = min(lo, s.Addr), max(hi, s.Addr+s.Size)
		}
	}
	return lo, hi
}

// disasmNode compares the instructions of a code section that differs in
// bytes, or returns nil when the sections are not code, too large, or of
// a machine without a disassembler. When only addresses differ, the node
// says the code moved.
func (c *comparer) disasmNode(a, b *input, fa, fb *elf.File, sa, sb *elf.Section) *Node {
	dis := disassemblerFor(fa.Machine)
	if dis == nil || fa.Machine != fb.Machine || sa.Flags&elf.SHF_EXECINSTR == 0 || sa.Type != elf.SHT_PROGBITS || sb.Type != elf.SHT_PROGBITS ||
		sa.Size > maxDisasmBytes || sb.Size > maxDisasmBytes {
		return nil
	}
	read := func(in *input, s *elf.Section) []byte {
		buf := make([]byte, s.Size)
		if s.Offset+s.Size > uint64(in.size) {
			return nil
		}
		if _, err := in.ra.ReadAt(buf, int64(s.Offset)); err != nil && err != io.EOF {
			return nil
		}
		return buf
	}
	ca, cb := read(a, sa), read(b, sb)
	if ca == nil || cb == nil || bytes.Equal(ca, cb) {
		return nil
	}
	loA, hiA := imageRange(fa)
	loB, hiB := imageRange(fb)
	la := disasmLines(dis, newSymbolizer(fa), ca, sa.Addr, loA, hiA)
	lb := disasmLines(dis, newSymbolizer(fb), cb, sb.Addr, loB, hiB)
	label := "objdump --disassemble --section=" + sa.Name + " {}"
	n := newNode(a, b, KindContent, "elf")
	n.Name1, n.Name2 = label, label
	n.Source1, n.Source2 = a.name+" [disassembly "+sa.Name+"]", b.name+" [disassembly "+sa.Name+"]"
	n.Size1, n.Size2 = int64(sa.Size), int64(sb.Size)
	if equalStrings(la, lb) {
		n.Kind = KindMetadata
		n.Comments = []string{fmt.Sprintf("the instructions of %s are the same once addresses are normalized: the code moved (%d instructions)", sa.Name, len(la))}
		return n
	}
	n.Comments = []string{"instructions without their addresses; addresses inside the image shown as <addr>"}
	c.linesDiff(n, la, lb, true)
	return n
}
