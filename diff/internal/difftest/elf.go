package difftest

import (
	"bytes"
	"compress/flate"
	"debug/elf"
	"encoding/binary"
)

// ELFSpec describes a small x86-64 ELF executable built byte by byte.
type ELFSpec struct {
	Text     []byte   // .text contents
	Rodata   []byte   // .rodata contents
	BuildID  []byte   // GNU build ID note descriptor; none when empty
	Symbols  []string // function symbols in .text; no .symtab when empty (stripped)
	Debug    []byte   // .debug_info contents; none when empty
	GoVers   string   // Go build info version ("go1.22.0"); none when empty
	GoMod    string   // Go build info modinfo text (as `go version -m` prints it, without the first line)
	Entry    uint64
	Interp   string   // .interp contents; none when empty
	Dynamics []string // DT_NEEDED libraries (adds .dynamic and .dynstr)
	Relocs   []Reloc  // .rela.text entries (need Symbols)
	Unit     *Unit    // one DWARF compilation unit (.debug_abbrev and .debug_info)
	// DebugLink is .gnu_debuglink (a debug file's name, padding, CRC32);
	// none when empty.
	DebugLink []byte
}

// Reloc is one RELA entry against .text; Sym indexes Symbols from 1.
type Reloc struct {
	Offset uint64
	Type   elf.R_X86_64
	Sym    int
	Addend int64
}

// Unit is a DWARF compilation unit without children or line table.
type Unit struct{ Name, Producer, CompDir string }

// dwarfUnit encodes u as DWARF 4 .debug_abbrev and .debug_info.
func dwarfUnit(u *Unit) (abbrev, info []byte) {
	// Abbreviation 1: DW_TAG_compile_unit, no children, three DW_FORM_string
	// attributes: DW_AT_name, DW_AT_producer, DW_AT_comp_dir.
	abbrev = []byte{1, 0x11, 0, 0x03, 0x08, 0x25, 0x08, 0x1b, 0x08, 0, 0, 0}
	var body bytes.Buffer
	binary.Write(&body, binary.LittleEndian, uint16(4))
	binary.Write(&body, binary.LittleEndian, uint32(0))
	body.WriteByte(8)
	body.WriteByte(1)
	for _, v := range []string{u.Name, u.Producer, u.CompDir} {
		body.WriteString(v + "\x00")
	}
	info = binary.LittleEndian.AppendUint32(nil, uint32(body.Len()))
	return abbrev, append(info, body.Bytes()...)
}

const elfBase = 0x400000

// ELF builds the executable: one PT_LOAD segment maps the whole file at
// elfBase, and each section's address is elfBase plus its offset.
func ELF(s ELFSpec) []byte {
	type sec struct {
		name           string
		typ            elf.SectionType
		flags          elf.SectionFlag
		data           []byte
		link, info     uint32
		align, entsize uint64
	}
	var secs []sec
	add := func(x sec) int { secs = append(secs, x); return len(secs) } // index counting the null section
	if s.Interp != "" {
		add(sec{name: ".interp", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, data: append([]byte(s.Interp), 0), align: 1})
	}
	if len(s.BuildID) > 0 {
		var n bytes.Buffer
		binary.Write(&n, binary.LittleEndian, uint32(4))
		binary.Write(&n, binary.LittleEndian, uint32(len(s.BuildID)))
		binary.Write(&n, binary.LittleEndian, uint32(3))
		n.WriteString("GNU\x00")
		n.Write(s.BuildID)
		for n.Len()%4 != 0 {
			n.WriteByte(0)
		}
		add(sec{name: ".note.gnu.build-id", typ: elf.SHT_NOTE, flags: elf.SHF_ALLOC, data: n.Bytes(), align: 4})
	}
	textIdx := add(sec{name: ".text", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, data: s.Text, align: 16})
	add(sec{name: ".rodata", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, data: s.Rodata, align: 16})
	if s.GoVers != "" {
		var b bytes.Buffer
		b.WriteString("\xff Go buildinf:")
		b.WriteByte(8)
		b.WriteByte(2)
		b.Write(make([]byte, 16))
		putStr := func(x string) {
			b.Write(binary.AppendUvarint(nil, uint64(len(x))))
			b.WriteString(x)
		}
		putStr(s.GoVers)
		sentinel := "0123456789abcdef"
		putStr(sentinel + s.GoMod + sentinel)
		add(sec{name: ".go.buildinfo", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: b.Bytes(), align: 16})
	}
	if len(s.Dynamics) > 0 {
		var str bytes.Buffer
		str.WriteByte(0)
		var dyn bytes.Buffer
		for _, lib := range s.Dynamics {
			binary.Write(&dyn, binary.LittleEndian, uint64(elf.DT_NEEDED))
			binary.Write(&dyn, binary.LittleEndian, uint64(str.Len()))
			str.WriteString(lib + "\x00")
		}
		binary.Write(&dyn, binary.LittleEndian, uint64(elf.DT_NULL))
		binary.Write(&dyn, binary.LittleEndian, uint64(0))
		strIdx := add(sec{name: ".dynstr", typ: elf.SHT_STRTAB, flags: elf.SHF_ALLOC, data: str.Bytes(), align: 1})
		add(sec{name: ".dynamic", typ: elf.SHT_DYNAMIC, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: dyn.Bytes(), link: uint32(strIdx), align: 8, entsize: 16})
	}
	if len(s.Debug) > 0 {
		add(sec{name: ".debug_info", typ: elf.SHT_PROGBITS, data: s.Debug, align: 1})
	}
	if s.Unit != nil {
		abbrev, info := dwarfUnit(s.Unit)
		add(sec{name: ".debug_abbrev", typ: elf.SHT_PROGBITS, data: abbrev, align: 1})
		add(sec{name: ".debug_info", typ: elf.SHT_PROGBITS, data: info, align: 1})
	}
	if len(s.DebugLink) > 0 {
		add(sec{name: ".gnu_debuglink", typ: elf.SHT_PROGBITS, data: s.DebugLink, align: 4})
	}
	if len(s.Symbols) > 0 {
		var str bytes.Buffer
		str.WriteByte(0)
		var tab bytes.Buffer
		tab.Write(make([]byte, 24))
		for i, name := range s.Symbols {
			binary.Write(&tab, binary.LittleEndian, uint32(str.Len()))
			str.WriteString(name + "\x00")
			tab.WriteByte(byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC))
			tab.WriteByte(0)
			binary.Write(&tab, binary.LittleEndian, uint16(textIdx))
			binary.Write(&tab, binary.LittleEndian, uint64(i*16))
			binary.Write(&tab, binary.LittleEndian, uint64(16))
		}
		symIdx := len(secs) + 1
		add(sec{name: ".symtab", typ: elf.SHT_SYMTAB, data: tab.Bytes(), link: uint32(symIdx + 1), info: 1, align: 8, entsize: 24})
		add(sec{name: ".strtab", typ: elf.SHT_STRTAB, data: str.Bytes(), align: 1})
		if len(s.Relocs) > 0 {
			var rela bytes.Buffer
			for _, r := range s.Relocs {
				binary.Write(&rela, binary.LittleEndian, r.Offset)
				binary.Write(&rela, binary.LittleEndian, uint64(r.Sym)<<32|uint64(r.Type))
				binary.Write(&rela, binary.LittleEndian, r.Addend)
			}
			add(sec{name: ".rela.text", typ: elf.SHT_RELA, data: rela.Bytes(), link: uint32(symIdx), info: uint32(textIdx), align: 8, entsize: 24})
		}
	}
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	nameOff := make([]uint32, len(secs)+1)
	for i, x := range secs {
		nameOff[i] = uint32(shstr.Len())
		shstr.WriteString(x.name + "\x00")
	}
	nameOff[len(secs)] = uint32(shstr.Len())
	shstr.WriteString(".shstrtab\x00")
	secs = append(secs, sec{name: ".shstrtab", typ: elf.SHT_STRTAB, data: shstr.Bytes(), align: 1})

	const ehsize, phsize, shsize = 64, 56, 64
	var body bytes.Buffer
	body.Write(make([]byte, ehsize+phsize))
	offs := make([]uint64, len(secs))
	for i, x := range secs {
		for uint64(body.Len())%max(x.align, 1) != 0 {
			body.WriteByte(0)
		}
		offs[i] = uint64(body.Len())
		body.Write(x.data)
	}
	for body.Len()%8 != 0 {
		body.WriteByte(0)
	}
	shoff := uint64(body.Len())
	out := body.Bytes()
	le := binary.LittleEndian
	// ELF header.
	copy(out, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	le.PutUint16(out[16:], uint16(elf.ET_EXEC))
	le.PutUint16(out[18:], uint16(elf.EM_X86_64))
	le.PutUint32(out[20:], 1)
	entry := s.Entry
	if entry == 0 {
		entry = elfBase + offs[textIdx-1]
	}
	le.PutUint64(out[24:], entry)
	le.PutUint64(out[32:], ehsize)
	le.PutUint64(out[40:], shoff)
	le.PutUint16(out[52:], ehsize)
	le.PutUint16(out[54:], phsize)
	le.PutUint16(out[56:], 1)
	le.PutUint16(out[58:], shsize)
	le.PutUint16(out[60:], uint16(len(secs)+1))
	le.PutUint16(out[62:], uint16(len(secs)))
	total := shoff + uint64(shsize*(len(secs)+1))
	// One PT_LOAD covering the file, read-write-execute so buildinfo finds its section.
	ph := out[ehsize:]
	le.PutUint32(ph[0:], uint32(elf.PT_LOAD))
	le.PutUint32(ph[4:], uint32(elf.PF_R|elf.PF_W|elf.PF_X))
	le.PutUint64(ph[8:], 0)
	le.PutUint64(ph[16:], elfBase)
	le.PutUint64(ph[24:], elfBase)
	le.PutUint64(ph[32:], total)
	le.PutUint64(ph[40:], total)
	le.PutUint64(ph[48:], 0x1000)
	// Section headers.
	sh := make([]byte, shsize*(len(secs)+1))
	for i, x := range secs {
		h := sh[shsize*(i+1):]
		le.PutUint32(h[0:], nameOff[i])
		le.PutUint32(h[4:], uint32(x.typ))
		le.PutUint64(h[8:], uint64(x.flags))
		if x.flags&elf.SHF_ALLOC != 0 {
			le.PutUint64(h[16:], elfBase+offs[i])
		}
		le.PutUint64(h[24:], offs[i])
		le.PutUint64(h[32:], uint64(len(x.data)))
		le.PutUint32(h[40:], x.link)
		le.PutUint32(h[44:], x.info)
		le.PutUint64(h[48:], x.align)
		le.PutUint64(h[56:], x.entsize)
	}
	return append(out, sh...)
}

// ZlibZeros is a zlib stream that inflates to n zero bytes (n a multiple of
// 16 MiB), built from one compressed 16 MiB block repeated: a 2 GiB stream
// is about 2 MB and takes a tenth of a second to make.
func ZlibZeros(n int64) []byte {
	const chunk = 16 << 20
	var block bytes.Buffer
	fw, _ := flate.NewWriter(&block, flate.BestCompression)
	fw.Write(make([]byte, chunk))
	fw.Flush() // byte-aligned, not final: blocks can follow
	var out bytes.Buffer
	out.Write([]byte{0x78, 0xda})
	for range n / chunk {
		out.Write(block.Bytes())
	}
	out.Write([]byte{0x01, 0x00, 0x00, 0xff, 0xff}) // a final empty stored block
	binary.Write(&out, binary.BigEndian, uint32(n%65521)<<16|1)
	return out.Bytes()
}

// CompressSection rewrites section name of an ELF64 file as SHF_COMPRESSED
// (zlib) holding stream, which claims to inflate to size bytes: its data
// moves to the end of the file.
func CompressSection(file []byte, name string, stream []byte, size uint64) []byte {
	f, err := elf.NewFile(bytes.NewReader(file))
	must(err)
	shoff := binary.LittleEndian.Uint64(file[0x28:])
	out := append([]byte(nil), file...)
	for i, s := range f.Sections {
		if s.Name != name {
			continue
		}
		var chdr bytes.Buffer
		binary.Write(&chdr, binary.LittleEndian, elf.Chdr64{Type: uint32(elf.COMPRESS_ZLIB), Size: size, Addralign: 8})
		off := uint64(len(out))
		out = append(out, chdr.Bytes()...)
		out = append(out, stream...)
		h := out[shoff+uint64(i)*64:]
		binary.LittleEndian.PutUint64(h[8:], uint64(s.Flags|elf.SHF_COMPRESSED))
		binary.LittleEndian.PutUint64(h[24:], off)
		binary.LittleEndian.PutUint64(h[32:], uint64(chdr.Len()+len(stream)))
		return out
	}
	panic("no section " + name)
}
