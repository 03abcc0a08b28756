package difftest

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"time"
)

// PESpec is a one-section PE32+ executable.
type PESpec struct {
	Stamp time.Time // COFF TimeDateStamp
	Text  []byte    // .text contents
}

// PE builds the executable: DOS header, PE signature, COFF and optional
// headers, one section header, and .text at 0x200.
func PE(s PESpec) []byte {
	le := binary.LittleEndian
	out := make([]byte, 0x200)
	copy(out, "MZ")
	le.PutUint32(out[0x3c:], 0x40)
	copy(out[0x40:], "PE\x00\x00")
	coff := out[0x44:]
	le.PutUint16(coff[0:], 0x8664)
	le.PutUint16(coff[2:], 1)
	le.PutUint32(coff[4:], uint32(s.Stamp.Unix()))
	le.PutUint16(coff[16:], 240)
	le.PutUint16(coff[18:], 0x22)
	opt := coff[20:]
	le.PutUint16(opt[0:], 0x20b)
	opt[2], opt[3] = 14, 0
	le.PutUint32(opt[4:], uint32(len(s.Text)))
	le.PutUint32(opt[16:], 0x1000)
	le.PutUint32(opt[20:], 0x1000)
	le.PutUint64(opt[24:], 0x140000000)
	le.PutUint32(opt[32:], 0x1000)
	le.PutUint32(opt[36:], 0x200)
	le.PutUint16(opt[40:], 6)
	le.PutUint32(opt[56:], 0x2000)
	le.PutUint32(opt[60:], 0x200)
	le.PutUint16(opt[68:], 3)
	le.PutUint32(opt[108:], 16)
	sec := opt[240:]
	copy(sec, ".text")
	le.PutUint32(sec[8:], uint32(len(s.Text)))
	le.PutUint32(sec[12:], 0x1000)
	raw := (len(s.Text) + 0x1ff) &^ 0x1ff
	le.PutUint32(sec[16:], uint32(raw))
	le.PutUint32(sec[20:], 0x200)
	le.PutUint32(sec[36:], 0x60000020)
	text := make([]byte, raw)
	copy(text, s.Text)
	return append(out, text...)
}

// MachOSpec is a 64-bit x86-64 Mach-O executable with one __TEXT,__text
// section and an LC_UUID.
type MachOSpec struct {
	UUID [16]byte
	Text []byte
}

// MachO builds the executable.
func MachO(s MachOSpec) []byte {
	le := binary.LittleEndian
	const hdr, seg, sect, uuid = 32, 72, 80, 24
	cmds := seg + sect + uuid
	off := (hdr + cmds + 15) &^ 15
	out := make([]byte, off)
	le.PutUint32(out[0:], 0xfeedfacf)
	le.PutUint32(out[4:], 0x01000007)
	le.PutUint32(out[8:], 3)
	le.PutUint32(out[12:], 2)
	le.PutUint32(out[16:], 2)
	le.PutUint32(out[20:], uint32(cmds))
	c := out[hdr:]
	le.PutUint32(c[0:], 0x19)
	le.PutUint32(c[4:], seg+sect)
	copy(c[8:], "__TEXT")
	le.PutUint64(c[24:], 0x100000000)
	le.PutUint64(c[32:], uint64(off+len(s.Text)))
	le.PutUint64(c[48:], uint64(off+len(s.Text)))
	le.PutUint32(c[56:], 5)
	le.PutUint32(c[60:], 5)
	le.PutUint32(c[64:], 1)
	sc := c[seg:]
	copy(sc[0:], "__text")
	copy(sc[16:], "__TEXT")
	le.PutUint64(sc[32:], 0x100000000+uint64(off))
	le.PutUint64(sc[40:], uint64(len(s.Text)))
	le.PutUint32(sc[48:], uint32(off))
	le.PutUint32(sc[64:], 0x80000400)
	u := c[seg+sect:]
	le.PutUint32(u[0:], 0x1b)
	le.PutUint32(u[4:], uuid)
	copy(u[8:], s.UUID[:])
	return append(out, s.Text...)
}

// RPMSpec is a binary RPM package with a gzip-compressed cpio payload.
type RPMSpec struct {
	Name, Version, Release string
	BuildTime              time.Time
	BuildHost              string
	Files                  []Entry
}

type rpmEntry struct {
	tag, typ uint32
	value    any // string, []string, uint32 or []byte
}

// rpmHeaderBytes encodes a header structure (entries sorted by tag).
func rpmHeaderBytes(entries []rpmEntry) []byte {
	var index, store bytes.Buffer
	be := binary.BigEndian
	for _, e := range entries {
		count := uint32(1)
		if e.typ == 4 {
			for store.Len()%4 != 0 {
				store.WriteByte(0)
			}
		}
		at := uint32(store.Len())
		switch v := e.value.(type) {
		case string:
			store.WriteString(v + "\x00")
		case []string:
			count = uint32(len(v))
			for _, x := range v {
				store.WriteString(x + "\x00")
			}
		case uint32:
			binary.Write(&store, be, v)
		case []byte:
			count = uint32(len(v))
			store.Write(v)
		}
		binary.Write(&index, be, [4]uint32{e.tag, e.typ, at, count})
	}
	var out bytes.Buffer
	out.Write([]byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0})
	binary.Write(&out, be, uint32(len(entries)))
	binary.Write(&out, be, uint32(store.Len()))
	out.Write(index.Bytes())
	out.Write(store.Bytes())
	return out.Bytes()
}

// RPM builds the package.
func RPM(s RPMSpec) []byte {
	payload := Gzip(Cpio(s.Files...), 9, "", time.Time{})
	header := rpmHeaderBytes([]rpmEntry{
		{1000, 6, s.Name}, {1001, 6, s.Version}, {1002, 6, s.Release},
		{1006, 4, uint32(s.BuildTime.Unix())}, {1007, 6, s.BuildHost},
		{1022, 6, "x86_64"}, {1124, 6, "cpio"}, {1125, 6, "gzip"},
	})
	sum := md5.Sum(append(append([]byte(nil), header...), payload...))
	sig := rpmHeaderBytes([]rpmEntry{{1000, 4, uint32(len(header) + len(payload))}, {1004, 7, sum[:]}})
	for len(sig)%8 != 0 {
		sig = append(sig, 0)
	}
	lead := make([]byte, 96)
	copy(lead, []byte{0xed, 0xab, 0xee, 0xdb, 3, 0})
	binary.BigEndian.PutUint16(lead[8:], 1)
	copy(lead[10:], s.Name+"-"+s.Version+"-"+s.Release)
	binary.BigEndian.PutUint16(lead[76:], 1)
	binary.BigEndian.PutUint16(lead[78:], 5)
	return append(append(append(lead, sig...), header...), payload...)
}
