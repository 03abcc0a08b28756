package diff

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/reprove/reprove/diff/archive"
)

// peFormat compares Windows PE executables: COFF and optional headers,
// section table, imports, Go build information, then the contents of the
// sections that differ. The link timestamp is an embedded date.
type peFormat struct{}

func (peFormat) Name() string { return "pe" }

// Detect: "MZ", and "PE\0\0" where the DOS header points.
func (peFormat) Detect(h []byte) bool {
	if len(h) < 0x40 || !bytes.HasPrefix(h, []byte("MZ")) {
		return false
	}
	off := int(binary.LittleEndian.Uint32(h[0x3c:]))
	return off > 0 && off+4 <= len(h) && bytes.Equal(h[off:off+4], []byte("PE\x00\x00"))
}

// peFile is a decoded executable.
type peFile struct {
	f     *pe.File
	views []view
	stamp string
}

func parsePE(c *comparer, in *input) (*peFile, error) {
	head, err := in.head(headSize)
	if err != nil {
		return nil, err
	}
	// The COFF symbol and string tables are read whole: bound them first.
	if len(head) < 0x40 {
		return nil, fmt.Errorf("a PE file of %d bytes is truncated", len(head))
	}
	if off := int(binary.LittleEndian.Uint32(head[0x3c:])); off >= 0 && off+24 <= len(head) {
		if n := int64(binary.LittleEndian.Uint32(head[off+16:])) * 18; n > c.opts.Limits.MaxTableSize {
			return nil, &archive.LimitError{Input: in.name, Entry: "COFF symbol table", Limit: "table size", Max: c.opts.Limits.MaxTableSize,
				Got: archive.Size(n), Flag: "max-table-size"}
		}
	}
	f, err := pe.NewFile(in.ra)
	if err != nil {
		return nil, err
	}
	p := &peFile{f: f}
	fh := f.FileHeader
	p.stamp = fmt.Sprintf("%s (%d)", time.Unix(int64(fh.TimeDateStamp), 0).UTC().Format(time.RFC3339), fh.TimeDateStamp)
	header := []string{fmt.Sprintf("Machine 0x%x", fh.Machine), "TimeDateStamp " + p.stamp,
		fmt.Sprintf("Characteristics 0x%x", fh.Characteristics), fmt.Sprintf("NumberOfSymbols %d", fh.NumberOfSymbols)}
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		header = append(header, fmt.Sprintf("PE32+ linker %d.%d, image base 0x%x, subsystem %d, dll characteristics 0x%x, checksum 0x%x, size of image 0x%x",
			oh.MajorLinkerVersion, oh.MinorLinkerVersion, oh.ImageBase, oh.Subsystem, oh.DllCharacteristics, oh.CheckSum, oh.SizeOfImage))
	case *pe.OptionalHeader32:
		header = append(header, fmt.Sprintf("PE32 linker %d.%d, image base 0x%x, subsystem %d, dll characteristics 0x%x, checksum 0x%x, size of image 0x%x",
			oh.MajorLinkerVersion, oh.MinorLinkerVersion, oh.ImageBase, oh.Subsystem, oh.DllCharacteristics, oh.CheckSum, oh.SizeOfImage))
	}
	sections := []string{"Name VirtualSize VirtualAddress Size Offset Characteristics"}
	for _, s := range f.Sections {
		sections = append(sections, fmt.Sprintf("%s 0x%x 0x%x 0x%x 0x%x 0x%x", s.Name, s.VirtualSize, s.VirtualAddress, s.Size, s.Offset, s.Characteristics))
	}
	libs, _ := f.ImportedLibraries()
	syms, _ := f.ImportedSymbols()
	p.views = []view{
		{"objdump --file-headers {}", "pe header", header},
		{"objdump --section-headers {}", "pe sections", sections},
		{"objdump --private-headers {} (imports)", "pe imports", append(libs, syms...)},
	}
	return p, nil
}

func (peFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	pa, pb, err := bothInputs(a, b, func(in *input) (*peFile, error) { return parsePE(c, in) })
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "pe", pa.views, pb.views, false)
	if len(details) > 0 && details[0].Name1 == pa.views[0].label {
		valueChange(details[0], CauseEmbeddedDate, "TimeDateStamp", pa.stamp, pb.stamp)
	}
	if gobi := compareGoBuildInfo(c, a, b); gobi != nil {
		details = append(details, gobi)
	}
	secs, err := c.compareNamedSections(a, b, peSections(pa.f, a), peSections(pb.f, b), depth)
	if err != nil {
		return nil, err
	}
	details = append(details, secs...)
	return c.finishFormat(a, b, "pe", before, details, "headers, tables and section contents are equal; the bytes differ outside any section"), nil
}

func peSections(f *pe.File, in *input) []namedSection {
	var out []namedSection
	for _, s := range f.Sections {
		out = append(out, namedSection{s.Name, int64(s.Offset), int64(s.Size)})
	}
	return out
}

// namedSection is a section's raw bytes in an executable.
type namedSection struct {
	name      string
	off, size int64
}

// compareNamedSections compares the contents of the sections both sides
// have by name, read in place, each with the engine (so a section holding
// a known format is decoded).
func (c *comparer) compareNamedSections(a, b *input, sa, sb []namedSection, depth int) ([]*Node, error) {
	byName := map[string]namedSection{}
	for _, s := range sb {
		if _, dup := byName[s.name]; !dup {
			byName[s.name] = s
		}
	}
	var out []*Node
	seen := map[string]bool{}
	for _, s := range sa {
		o, ok := byName[s.name]
		if !ok || seen[s.name] || s.off < 0 || s.size < 0 || s.off+s.size > a.size || o.off < 0 || o.size < 0 || o.off+o.size > b.size {
			continue
		}
		seen[s.name] = true
		label := "section " + s.name
		ia := &input{name: a.name + " [" + label + "]", label: label, size: s.size, ra: io.NewSectionReader(a.ra, s.off, s.size)}
		ib := &input{name: b.name + " [" + label + "]", label: label, size: o.size, ra: io.NewSectionReader(b.ra, o.off, o.size)}
		n, err := c.compare(ia, ib, depth+1)
		if err != nil {
			return nil, err
		}
		if n != nil {
			out = append(out, n)
		}
	}
	return out, nil
}
