package diff

import (
	"debug/elf"
	"fmt"
	"strings"
)

// elfDebugLinkLines shows .gnu_debuglink: the separate debug file's name
// and CRC32. The CRC follows from the debug file, whose DWARF holds the
// build path: with everything else equal, a build path is its usual cause.
func elfDebugLinkLines(f *elf.File) []string {
	s := f.Section(debugLinkSection)
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

// debugLinkCause names build-path for a differing debug link (both sides
// have one: see debugOnly).
func debugLinkCause(n *Node, la, lb []string) {
	addCause(n, CauseBuildPath, "debug link: "+strings.Join(la, " ")+" → "+strings.Join(lb, " "))
	n.Comments = append(n.Comments, "the separate debug file differs: its DWARF records the build path (honour the .buildinfo's Build-Path), or the code differs too")
}

// debugOnly are the views compared only when both sides have them: on one
// side only, another view already says the binary was stripped.
var debugOnly = map[string]bool{"debug link": true}

// debugLinkSection holds the separate debug file's name and CRC: its
// bytes differ for the reasons the debug link view names, not at random.
const debugLinkSection = ".gnu_debuglink"
