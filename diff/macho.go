package diff

import (
	"debug/macho"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/reprove/reprove/diff/archive"
)

// machoFormat compares Mach-O executables (and each architecture of a
// universal binary): header, load commands, segments and sections,
// linked libraries, symbols, UUID (a build ID), Go build information,
// then the contents of the sections that differ.
type machoFormat struct{}

func (machoFormat) Name() string { return "macho" }

// Detect: a thin Mach-O magic in either byte order, or the universal
// magic followed by a small architecture count (a Java class file has the
// same magic followed by its version).
func (machoFormat) Detect(h []byte) bool {
	if len(h) < 8 {
		return false
	}
	switch binary.LittleEndian.Uint32(h) {
	case macho.Magic32, macho.Magic64:
		return true
	}
	switch binary.BigEndian.Uint32(h) {
	case macho.Magic32, macho.Magic64:
		return true
	case macho.MagicFat:
		return binary.BigEndian.Uint32(h[4:]) > 0 && binary.BigEndian.Uint32(h[4:]) < 45
	}
	return false
}

// machoFile is a decoded thin binary.
type machoFile struct {
	f     *macho.File
	views []view
	uuid  string
}

const lcUUID = 0x1b

func parseMachO(c *comparer, in *input) (*machoFile, error) {
	f, err := macho.NewFile(in.ra)
	if err != nil {
		return nil, err
	}
	m := &machoFile{f: f}
	header := []string{fmt.Sprintf("cpu %s, subcpu 0x%x, type %s, flags 0x%x, %d load commands", f.Cpu, f.SubCpu, f.Type, f.Flags, f.Ncmd)}
	var loads, sections []string
	for _, l := range f.Loads {
		raw := l.Raw()
		if len(raw) < 8 {
			continue
		}
		cmd := f.ByteOrder.Uint32(raw)
		switch lc := l.(type) {
		case *macho.Segment:
			loads = append(loads, fmt.Sprintf("segment %s addr 0x%x memsz 0x%x offset 0x%x filesz 0x%x prot %d/%d", lc.Name, lc.Addr, lc.Memsz, lc.Offset, lc.Filesz, lc.Maxprot, lc.Prot))
		case *macho.Dylib:
			loads = append(loads, fmt.Sprintf("dylib %s (current %d, compatibility %d)", lc.Name, lc.CurrentVersion, lc.CompatVersion))
		default:
			if cmd == lcUUID && len(raw) >= 24 {
				m.uuid = hex.EncodeToString(raw[8:24])
				loads = append(loads, "uuid "+m.uuid)
				continue
			}
			loads = append(loads, fmt.Sprintf("load command 0x%x (%d bytes)", cmd, len(raw)))
		}
	}
	for _, s := range f.Sections {
		sections = append(sections, fmt.Sprintf("%s,%s addr 0x%x size 0x%x offset 0x%x flags 0x%x", s.Seg, s.Name, s.Addr, s.Size, s.Offset, s.Flags))
	}
	var syms []string
	if f.Symtab != nil {
		if n := int64(len(f.Symtab.Syms)) * 16; n > c.opts.Limits.MaxTableSize {
			return nil, &archive.LimitError{Input: in.name, Entry: "symbol table", Limit: "table size", Max: c.opts.Limits.MaxTableSize, Got: archive.Size(n), Flag: "max-table-size"}
		}
		for _, s := range f.Symtab.Syms {
			syms = append(syms, fmt.Sprintf("%016x %02x %d %s", s.Value, s.Type, s.Sect, s.Name))
		}
	}
	m.views = []view{
		{"otool -h {}", "macho header", header},
		{"otool -l {}", "load commands", loads},
		{"otool -l {} (sections)", "macho sections", sections},
		{"nm {}", "macho symbols", syms},
	}
	return m, nil
}

func (machoFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	if ha, _ := a.head(8); len(ha) == 8 && binary.BigEndian.Uint32(ha) == macho.MagicFat {
		return compareFatMachO(c, a, b, depth)
	}
	ma, mb, err := bothInputs(a, b, func(in *input) (*machoFile, error) { return parseMachO(c, in) })
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "macho", ma.views, mb.views, false)
	for _, n := range details {
		if n.Name1 == "otool -l {}" {
			valueChange(n, CauseBuildID, "uuid", ma.uuid, mb.uuid)
		}
	}
	if gobi := compareGoBuildInfo(c, a, b); gobi != nil {
		details = append(details, gobi)
	}
	secs, err := c.compareNamedSections(a, b, machoSections(ma.f), machoSections(mb.f), depth)
	if err != nil {
		return nil, err
	}
	details = append(details, secs...)
	return c.finishFormat(a, b, "macho", before, details, "headers, tables and section contents are equal; the bytes differ outside any section"), nil
}

func machoSections(f *macho.File) []namedSection {
	var out []namedSection
	for _, s := range f.Sections {
		if s.Offset == 0 { // zero-fill sections have no bytes in the file
			continue
		}
		out = append(out, namedSection{s.Seg + "," + s.Name, int64(s.Offset), int64(s.Size)})
	}
	return out
}

// compareFatMachO compares a universal binary architecture by
// architecture, each as a thin Mach-O.
func compareFatMachO(c *comparer, a, b *input, depth int) (*Node, error) {
	arches := func(in *input) ([]namedSection, error) {
		ff, err := macho.NewFatFile(in.ra)
		if err != nil {
			return nil, err
		}
		var out []namedSection
		for _, fa := range ff.Arches {
			out = append(out, namedSection{fmt.Sprintf("arch %s", fa.Cpu), int64(fa.Offset), int64(fa.Size)})
		}
		return out, nil
	}
	fa, fb, err := bothInputs(a, b, arches)
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	var la, lb []string
	for _, x := range fa {
		la = append(la, fmt.Sprintf("%s offset 0x%x size 0x%x", x.name, x.off, x.size))
	}
	for _, x := range fb {
		lb = append(lb, fmt.Sprintf("%s offset 0x%x size 0x%x", x.name, x.off, x.size))
	}
	details := c.compareViews(a, b, "macho", []view{{"lipo -detailed_info {}", "architectures", la}}, []view{{"lipo -detailed_info {}", "architectures", lb}}, false)
	secs, err := c.compareNamedSections(a, b, fa, fb, depth)
	if err != nil {
		return nil, err
	}
	return c.finishFormat(a, b, "macho", before, append(details, secs...), "the architectures are equal; the bytes differ in padding"), nil
}
