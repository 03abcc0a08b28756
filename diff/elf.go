package diff

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/reprove/reprove/diff/archive"
)

// elfFormat compares ELF binaries aspect by aspect, as readelf shows them:
// file header, section headers, program headers, symbols, dynamic section,
// notes (build IDs), then the contents of each differing section and the Go
// build information when there is one.
type elfFormat struct{}

func (elfFormat) Name() string { return "elf" }

// Detect: "\x7fELF" with a valid class and data encoding.
func (elfFormat) Detect(h []byte) bool {
	return len(h) >= 16 && bytes.HasPrefix(h, []byte(elf.ELFMAG)) && (h[4] == 1 || h[4] == 2) && (h[5] == 1 || h[5] == 2)
}

// elfAspect is one readelf-like view of a binary, rendered as lines.
type elfAspect struct {
	label string // diffoscope's name for the view
	short string // our name for it
	lines func(f *elf.File) []string
	// tables are the section types the view decodes whole into memory,
	// with the sections they link to (string tables): each is checked
	// against Limits.MaxTableSize first.
	tables []elf.SectionType
	// bound, when set, says why the view is not decoded (past a limit).
	bound func(c *comparer, f *elf.File) string
	// classify names causes from the view's changed lines.
	classify bool
}

var elfAspects = []elfAspect{
	{"readelf --wide --file-header {}", "file header", elfHeaderLines, nil, nil, false},
	{"readelf --wide --program-header {}", "program headers", elfProgLines, nil, nil, false},
	{"readelf --wide --sections {}", "section headers", elfSectionLines, nil, nil, false},
	{"readelf --wide --symbols {}", "symbols", func(f *elf.File) []string { return elfSymLines(f.Symbols) }, []elf.SectionType{elf.SHT_SYMTAB}, nil, false},
	{"readelf --wide --dyn-syms {}", "dynamic symbols", func(f *elf.File) []string { return elfSymLines(f.DynamicSymbols) },
		[]elf.SectionType{elf.SHT_DYNSYM, elf.SHT_GNU_VERSYM, elf.SHT_GNU_VERDEF, elf.SHT_GNU_VERNEED, elf.SHT_DYNAMIC}, nil, false},
	{"readelf --wide --dynamic {}", "dynamic section", elfDynamicLines, []elf.SectionType{elf.SHT_DYNAMIC}, nil, false},
	{"readelf --wide --notes {}", "notes", elfNoteLines, nil, nil, false},
	{"readelf --wide --relocs {}", "relocations", elfRelocLines,
		[]elf.SectionType{elf.SHT_RELA, elf.SHT_REL, elf.SHT_SYMTAB, elf.SHT_DYNSYM}, nil, false},
	{"readelf --debug-dump=info,rawline {}", "DWARF", elfDWARFLines, nil, (*comparer).dwarfTooLarge, true},
	{"readelf --string-dump=.gnu_debuglink {}", "debug link", elfDebugLinkLines, nil, nil, false},
}

// tooLarge returns a line saying which table of f the aspect would decode
// past Limits.MaxTableSize, or "" when all fit. A compressed section's
// size is the size it claims to decompress to.
func (c *comparer) tooLarge(f *elf.File, asp elfAspect) string {
	max := c.opts.Limits.MaxTableSize
	for _, s := range f.Sections {
		if !slices.Contains(asp.tables, s.Type) {
			continue
		}
		for _, t := range []*elf.Section{s, linked(f, s)} {
			if t != nil && t.Size > uint64(max) {
				c.limit(fmt.Sprintf("table size limit of %s reached: larger ELF tables are not decoded (raise --max-table-size)", archive.Size(max)))
				return fmt.Sprintf("%s: section %s of %s is not decoded: past the table size limit of %s (raise --max-table-size)", asp.short, t.Name, archive.Size(int64(min(t.Size, 1<<62))), archive.Size(max))
			}
		}
	}
	return ""
}

// linked is the section s links to (a symbol table's string table), if any.
func linked(f *elf.File, s *elf.Section) *elf.Section {
	if s.Link > 0 && int(s.Link) < len(f.Sections) {
		return f.Sections[s.Link]
	}
	return nil
}

// aspectLines renders one aspect of f, or says why it was not decoded.
func (c *comparer) aspectLines(f *elf.File, asp elfAspect) []string {
	if why := c.tooLarge(f, asp); why != "" {
		return []string{why}
	}
	if asp.bound != nil {
		if why := asp.bound(c, f); why != "" {
			return []string{why}
		}
	}
	return asp.lines(f)
}

func (elfFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	// Sections are read through counters, so that a compressed one is
	// bounded by the bytes it was inflated from.
	ca, cb := &archive.CountingReaderAt{R: a.ra}, &archive.CountingReaderAt{R: b.ra}
	fa, err := elf.NewFile(ca)
	if err != nil {
		return nil, err
	}
	fb, err := elf.NewFile(cb)
	if err != nil {
		return nil, err
	}
	a, b = &input{name: a.name, label: a.label, size: a.size, ra: ca}, &input{name: b.name, label: b.label, size: b.size, ra: cb}
	before := c.hidden()
	var details []*Node
	for _, asp := range elfAspects {
		la, lb := c.aspectLines(fa, asp), c.aspectLines(fb, asp)
		if equalStrings(la, lb) || (debugOnly[asp.short] && (len(la) == 0 || len(lb) == 0)) {
			continue
		}
		n := newNode(a, b, KindContent, "elf")
		n.Name1, n.Name2 = asp.label, asp.label
		n.Source1, n.Source2 = a.name+" ["+asp.short+"]", b.name+" ["+asp.short+"]"
		c.linesDiff(n, la, lb, asp.classify)
		elfAspectCauses(n, asp.short, fa, fb, la, lb)
		details = append(details, n)
	}
	gobi := compareGoBuildInfo(c, a, b)
	if gobi != nil {
		details = append(details, gobi)
	}
	secs, err := c.compareELFSections(a, b, fa, fb, depth)
	if err != nil {
		return nil, err
	}
	for _, n := range secs {
		if strings.HasSuffix(n.Source1, "[section .go.buildinfo]") {
			// The section's bytes differ for exactly the reasons the
			// decoded build info names; say those, not a guess.
			clearCauses(n)
			if gobi != nil {
				copyCauses(n, gobi)
			}
		}
	}
	if n := goNearMiss(a, b, fa, fb, secs); n != nil {
		details = append(details, n)
	}
	details = append(details, secs...)
	if len(details) == 0 {
		if n := c.unexplained(a, b, "elf", before, "all headers, tables and section contents are equal; the bytes differ outside any section (padding)"); n != nil {
			details = append(details, n)
		}
	}
	return wrap(a, b, "elf", details), nil
}

func elfHeaderLines(f *elf.File) []string {
	return []string{
		"Class: " + f.Class.String(),
		"Data: " + f.Data.String(),
		"Version: " + f.Version.String(),
		"OS/ABI: " + f.OSABI.String(),
		fmt.Sprintf("ABI Version: %d", f.ABIVersion),
		"Type: " + f.Type.String(),
		"Machine: " + f.Machine.String(),
		fmt.Sprintf("Entry point address: 0x%x", f.Entry),
		fmt.Sprintf("Number of program headers: %d", len(f.Progs)),
		fmt.Sprintf("Number of section headers: %d", len(f.Sections)),
	}
}

func elfProgLines(f *elf.File) []string {
	out := []string{"Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align"}
	for _, p := range f.Progs {
		out = append(out, fmt.Sprintf("%s 0x%06x 0x%016x 0x%016x 0x%06x 0x%06x %s 0x%x", p.Type, p.Off, p.Vaddr, p.Paddr, p.Filesz, p.Memsz, p.Flags, p.Align))
	}
	return out
}

func elfSectionLines(f *elf.File) []string {
	out := []string{"[Nr] Name Type Address Off Size ES Flg Lk Inf Al"}
	for i, s := range f.Sections {
		out = append(out, fmt.Sprintf("[%2d] %s %s %016x %06x %06x %02x %s %d %d %d", i, s.Name, s.Type, s.Addr, s.Offset, s.Size, s.Entsize, s.Flags, s.Link, s.Info, s.Addralign))
	}
	return out
}

func elfSymLines(get func() ([]elf.Symbol, error)) []string {
	syms, err := get()
	if errors.Is(err, elf.ErrNoSymbols) {
		return nil
	}
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out := make([]string, 0, len(syms)+1)
	out = append(out, "Value Size Type Bind Vis Ndx Name")
	for _, s := range syms {
		out = append(out, fmt.Sprintf("%016x %5d %s %s %s %s %s%s", s.Value, s.Size,
			strings.TrimPrefix(elf.SymType(s.Info&0xf).String(), "STT_"), strings.TrimPrefix(elf.SymBind(s.Info>>4).String(), "STB_"),
			strings.TrimPrefix(elf.SymVis(s.Other&3).String(), "STV_"), sectionIndex(s.Section), s.Name, symVersion(s)))
	}
	return out
}

func symVersion(s elf.Symbol) string {
	if s.Library == "" && s.Version == "" {
		return ""
	}
	return "@" + s.Version + " (" + s.Library + ")"
}

func sectionIndex(i elf.SectionIndex) string {
	switch i {
	case elf.SHN_UNDEF:
		return "UND"
	case elf.SHN_ABS:
		return "ABS"
	case elf.SHN_COMMON:
		return "COM"
	}
	return fmt.Sprint(int(i))
}

func elfDynamicLines(f *elf.File) []string {
	var out []string
	for _, t := range []elf.DynTag{elf.DT_NEEDED, elf.DT_SONAME, elf.DT_RPATH, elf.DT_RUNPATH} {
		vals, err := f.DynString(t)
		if err != nil {
			continue
		}
		for _, v := range vals {
			out = append(out, fmt.Sprintf("%s [%s]", t, v))
		}
	}
	for _, t := range []elf.DynTag{elf.DT_FLAGS, elf.DT_FLAGS_1} {
		vals, err := f.DynValue(t)
		if err != nil {
			continue
		}
		for _, v := range vals {
			out = append(out, fmt.Sprintf("%s 0x%x", t, v))
		}
	}
	return out
}

// elfNote is one entry of a note section.
type elfNote struct {
	section, owner string
	typ            uint32
	desc           []byte
}

func parseNotes(f *elf.File) []elfNote {
	var out []elfNote
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE || s.Size > 1<<20 {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		for len(data) >= 12 {
			nsz := f.ByteOrder.Uint32(data[0:4])
			dsz := f.ByteOrder.Uint32(data[4:8])
			typ := f.ByteOrder.Uint32(data[8:12])
			data = data[12:]
			na := (uint64(nsz) + 3) &^ 3
			da := (uint64(dsz) + 3) &^ 3
			if na > uint64(len(data)) || uint64(nsz) > uint64(len(data)) {
				break
			}
			owner := strings.TrimRight(string(data[:nsz]), "\x00")
			data = data[na:]
			if uint64(dsz) > uint64(len(data)) {
				break
			}
			desc := data[:dsz]
			if da > uint64(len(data)) {
				da = uint64(len(data))
			}
			data = data[da:]
			out = append(out, elfNote{section: s.Name, owner: owner, typ: typ, desc: desc})
		}
	}
	return out
}

func elfNoteLines(f *elf.File) []string {
	var out []string
	for _, n := range parseNotes(f) {
		switch {
		case n.owner == "GNU" && n.typ == 3:
			out = append(out, fmt.Sprintf("%s: GNU Build ID: %s", n.section, hex.EncodeToString(n.desc)))
		case n.owner == "Go" && n.typ == 4:
			out = append(out, fmt.Sprintf("%s: Go build ID: %q", n.section, n.desc))
		case n.owner == "GNU" && n.typ == 1 && len(n.desc) >= 16:
			out = append(out, fmt.Sprintf("%s: GNU ABI tag: OS %d, ABI %d.%d.%d", n.section, f.ByteOrder.Uint32(n.desc), f.ByteOrder.Uint32(n.desc[4:]), f.ByteOrder.Uint32(n.desc[8:]), f.ByteOrder.Uint32(n.desc[12:])))
		default:
			out = append(out, fmt.Sprintf("%s: %s type 0x%x: %s", n.section, n.owner, n.typ, hex.EncodeToString(n.desc)))
		}
	}
	return out
}

func hasSymbols(f *elf.File) (symtab, debug bool) {
	for _, s := range f.Sections {
		if s.Type == elf.SHT_SYMTAB {
			symtab = true
		}
		if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			debug = true
		}
	}
	return symtab, debug
}

func elfAspectCauses(n *Node, aspect string, fa, fb *elf.File, la, lb []string) {
	sa, da := hasSymbols(fa)
	sb, db := hasSymbols(fb)
	stripped := sa != sb || da != db
	switch aspect {
	case "section headers", "symbols", "file header", "program headers":
		if stripped {
			what := fmt.Sprintf("symbol table: %v → %v; debug sections: %v → %v", sa, sb, da, db)
			addCause(n, CauseStrippedSymbols, what)
			n.Comments = append(n.Comments, what)
		}
	case "debug link":
		debugLinkCause(n, la, lb)
	case "notes":
		var ids [2]string
		for i, ls := range [][]string{la, lb} {
			for _, l := range ls {
				if strings.Contains(l, "Build ID") || strings.Contains(l, "build ID") {
					_, ids[i], _ = strings.Cut(l, "ID: ")
				}
			}
		}
		if ids[0] != ids[1] {
			addCause(n, CauseBuildID, "build ID: "+orNone(ids[0])+" → "+orNone(ids[1]))
		}
	}
}

// buildIDSections hold build IDs; their content differing is the build-id cause.
var buildIDSections = map[string]bool{".note.gnu.build-id": true, ".note.go.buildid": true}

// compareELFSections compares the contents of the sections both sides have,
// by name, reading each in place (decompressing SHF_COMPRESSED ones).
func (c *comparer) compareELFSections(a, b *input, fa, fb *elf.File, depth int) ([]*Node, error) {
	byName := map[string]*elf.Section{}
	for _, s := range fb.Sections {
		if _, dup := byName[s.Name]; !dup {
			byName[s.Name] = s
		}
	}
	var out []*Node
	seen := map[string]bool{}
	for _, sa := range fa.Sections {
		sb := byName[sa.Name]
		if sb == nil || seen[sa.Name] || sa.Type == elf.SHT_NOBITS || sb.Type == elf.SHT_NOBITS || sa.Type == elf.SHT_NULL {
			continue
		}
		seen[sa.Name] = true
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		label := "readelf --wide --decompress --hex-dump=" + sa.Name + " {}"
		ia, err := c.sectionInput(a, sa, label)
		if err != nil {
			if n := c.sectionPastLimit(a, b, sa, err); n != nil {
				out = append(out, n)
				continue
			}
			return nil, err
		}
		ib, err := c.sectionInput(b, sb, label)
		if err != nil {
			ia.done()
			if n := c.sectionPastLimit(a, b, sa, err); n != nil {
				out = append(out, n)
				continue
			}
			return nil, err
		}
		var n *Node
		same, err := sameContent(ia, ib)
		if err == nil && !same {
			if sa.Name == ".go.buildinfo" {
				// Shown by compareGoBuildInfo; keep the bytes for completeness.
				n, err = binaryFormat{}.compare(c, ia, ib, depth+1)
			} else {
				n, err = c.compare(ia, ib, depth+1)
			}
		}
		ia.done()
		ib.done()
		if err != nil {
			return nil, err
		}
		if n == nil {
			continue
		}
		if d := c.disasmNode(a, b, fa, fb, sa, sb); d != nil {
			out = append(out, d)
		}
		if buildIDSections[sa.Name] {
			// A build ID is a hash, not text: slashes in a Go build ID
			// (actionID/contentID) are not a build path.
			clearCauses(n)
			addCause(n, CauseBuildID, "section "+sa.Name+" differs")
		}
		if sa.Name == debugLinkSection {
			// The debug file's name and CRC: the debug link view says why.
			clearCauses(n)
			addCause(n, CauseBuildPath, "section "+sa.Name+" differs: the separate debug file (and the build path its DWARF records) differs")
		}
		out = append(out, n)
	}
	return out, nil
}

// sectionPastLimit is the node for a section that could not be
// decompressed within the limits, or nil when err is another error.
func (c *comparer) sectionPastLimit(a, b *input, s *elf.Section, err error) *Node {
	var le *archive.LimitError
	if !errors.As(err, &le) {
		return nil
	}
	c.limit(fmt.Sprintf("%s limit reached: inputs past it are compared as bytes (raise --%s)", le.Limit, le.Flag))
	n := newNode(a, b, KindContent, "elf")
	n.Name1, n.Name2 = "section "+s.Name, "section "+s.Name
	n.Source1, n.Source2 = a.name+" [section "+s.Name+"]", b.name+" [section "+s.Name+"]"
	n.Size1, n.Size2 = 0, 0
	n.Comments = []string{fmt.Sprintf("section %s not decompressed: %v", s.Name, le)}
	return n
}

func (c *comparer) sectionInput(parent *input, s *elf.Section, label string) (*input, error) {
	name := parent.name + " [section " + s.Name + "]"
	if s.Flags&elf.SHF_COMPRESSED != 0 {
		// Decompressed under the limits: a few bytes may claim gigabytes.
		read := func() int64 { return int64(s.FileSize) }
		if ca, ok := parent.ra.(*archive.CountingReaderAt); ok {
			read = ca.Since()
		}
		in, err := c.spill(name, label, archive.Bound(s.Open(), read, parent.name, "section "+s.Name, c.opts.Limits))
		if err != nil {
			return nil, fmt.Errorf("decompressing section %s: %w", s.Name, err)
		}
		return in, nil
	}
	if s.Offset+s.FileSize > uint64(parent.size) || s.Offset > uint64(parent.size) {
		return nil, fmt.Errorf("section %s runs past the end of the file", s.Name)
	}
	return &input{name: name, label: label, size: int64(s.FileSize), ra: io.NewSectionReader(parent.ra, int64(s.Offset), int64(s.FileSize))}, nil
}
