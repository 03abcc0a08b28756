package diff

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"strings"
)

// maxDWARFSize bounds the debug sections read to list build paths.
const maxDWARFSize = 64 << 20

// elfBuildPathLines lists the compilation units DWARF records, with the
// folder each was compiled in (DW_AT_comp_dir) and its source name: where
// a build path shows in a binary with debug information.
func elfBuildPathLines(f *elf.File) []string {
	var size uint64
	for _, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			size += s.Size
		}
	}
	if size == 0 {
		return nil
	}
	if size > maxDWARFSize {
		return []string{fmt.Sprintf("debug sections of %d bytes are not read for build paths (more than %d MiB)", size, maxDWARFSize>>20)}
	}
	d, err := f.DWARF()
	if err != nil {
		return []string{"DWARF unreadable: " + err.Error()}
	}
	var out []string
	r := d.Reader()
	for len(out) < 10000 {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit || e.Tag == dwarf.TagPartialUnit {
			dir, _ := e.Val(dwarf.AttrCompDir).(string)
			name, _ := e.Val(dwarf.AttrName).(string)
			out = append(out, fmt.Sprintf("DW_AT_comp_dir %q DW_AT_name %q", dir, name))
		}
		r.SkipChildren()
	}
	return out
}

// elfDebugLinkLines shows .gnu_debuglink: the separate debug file's name
// and CRC32. The CRC follows from the debug file, whose DWARF holds the
// build path: with everything else equal, a build path is its usual cause.
func elfDebugLinkLines(f *elf.File) []string {
	s := f.Section(".gnu_debuglink")
	if s == nil || s.Size > 1<<16 {
		return nil
	}
	b, err := s.Data()
	if err != nil {
		return []string{"unreadable: " + err.Error()}
	}
	i := strings.IndexByte(string(b), 0)
	if i < 0 || len(b) < 4 {
		return []string{fmt.Sprintf("malformed (%d bytes)", len(b))}
	}
	crc := f.ByteOrder.Uint32(b[len(b)-4:])
	return []string{fmt.Sprintf("debug file %q CRC32 0x%08x", b[:i], crc)}
}

// elfBuildPathCauses names build-path for differing build paths or debug
// links (both sides have them: see debugOnly).
func elfBuildPathCauses(n *Node, aspect string, _, _ []string) {
	addCause(n, "build-path")
	if aspect == "debug link" {
		n.Comments = append(n.Comments, "the separate debug file differs: its DWARF records the build path (honour the .buildinfo's Build-Path), or the code differs too")
	}
}

// debugOnly are the views compared only when both sides have them: on one
// side only, another view already says the binary was stripped.
var debugOnly = map[string]bool{"build paths": true, "debug link": true}

// debugLinkSection holds the separate debug file's name and CRC: its
// bytes differ for the reasons the debug link view names, not at random.
const debugLinkSection = ".gnu_debuglink"
