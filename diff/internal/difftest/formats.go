package difftest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"sort"
	"time"
)

// Builders of the decoded formats' fixtures: Java class files, .pyc,
// gettext .mo, PNG, PDF, PE, Mach-O and RPM, each written byte by byte so
// that tests need no compiler or packaging tool.

// ClassSpec is a Java class with one method, compiled as javac would with
// the debug level given: "none" (-g:none), "default" (SourceFile and
// LineNumberTable) or "all" (-g, adding LocalVariableTable).
type ClassSpec struct {
	Name  string // internal name, "com/example/Hello"
	Debug string
	Const string // a string constant the method loads
}

// Class builds a class file.
func Class(s ClassSpec) []byte {
	var pool bytes.Buffer
	n := uint16(1)
	utf := func(v string) uint16 {
		pool.WriteByte(1)
		binary.Write(&pool, binary.BigEndian, uint16(len(v)))
		pool.WriteString(v)
		n++
		return n - 1
	}
	ref := func(tag byte, to uint16) uint16 {
		pool.WriteByte(tag)
		binary.Write(&pool, binary.BigEndian, to)
		n++
		return n - 1
	}
	this := ref(7, utf(s.Name))
	super := ref(7, utf("java/lang/Object"))
	str := ref(8, utf(s.Const))
	mName, mDesc, code := utf("greeting"), utf("()Ljava/lang/String;"), utf("Code")
	var debugNames [3]uint16
	if s.Debug != "none" {
		debugNames[0], debugNames[1] = utf("SourceFile"), utf("LineNumberTable")
		debugNames[2] = utf(s.Name[bytesLastSlash(s.Name)+1:] + ".java")
	}
	var lvt, thisName, thisDesc uint16
	if s.Debug == "all" {
		lvt, thisName, thisDesc = utf("LocalVariableTable"), utf("this"), utf("L"+s.Name+";")
	}
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.BigEndian, v) }
	w(uint32(0xcafebabe))
	w(uint16(0))
	w(uint16(61))
	w(n)
	b.Write(pool.Bytes())
	w(uint16(0x21))
	w(this)
	w(super)
	w(uint16(0)) // interfaces
	w(uint16(0)) // fields
	w(uint16(1)) // methods
	w(uint16(0x1))
	w(mName)
	w(mDesc)
	w(uint16(1))
	// Code: ldc str; areturn
	var attrs bytes.Buffer
	aw := func(v any) { binary.Write(&attrs, binary.BigEndian, v) }
	nattrs := uint16(0)
	if s.Debug != "none" {
		nattrs++
		aw(debugNames[1])
		aw(uint32(6))
		aw(uint16(1))
		aw(uint16(0))
		aw(uint16(3))
	}
	if s.Debug == "all" {
		nattrs++
		aw(lvt)
		aw(uint32(12))
		aw(uint16(1))
		aw([]uint16{0, 3, thisName, thisDesc, 0})
	}
	body := []byte{0x12, byte(str), 0xb0}
	w(code)
	w(uint32(2 + 2 + 4 + len(body) + 2 + 2 + attrs.Len()))
	w(uint16(1))
	w(uint16(1))
	w(uint32(len(body)))
	b.Write(body)
	w(uint16(0))
	w(nattrs)
	b.Write(attrs.Bytes())
	if s.Debug != "none" {
		w(uint16(1))
		w(debugNames[0])
		w(uint32(2))
		w(debugNames[2])
	} else {
		w(uint16(0))
	}
	return b.Bytes()
}

func bytesLastSlash(s string) int { return bytes.LastIndexByte([]byte(s), '/') }

// Pyc builds a Python 3.12 bytecode cache with a timestamp header.
func Pyc(mtime time.Time, sourceSize uint32, marshal []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint16(3531))
	b.WriteString("\r\n")
	binary.Write(&b, binary.LittleEndian, uint32(0))
	binary.Write(&b, binary.LittleEndian, uint32(mtime.Unix()))
	binary.Write(&b, binary.LittleEndian, sourceSize)
	b.Write(marshal)
	return b.Bytes()
}

// Mo builds a little-endian gettext catalogue of msgid → msgstr pairs
// (the header entry has msgid ""), sorted by msgid as msgfmt writes them.
func Mo(messages map[string]string) []byte {
	ids := make([]string, 0, len(messages))
	for id := range messages {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	n := uint32(len(ids))
	orig, trans := uint32(28), 28+8*n
	data := trans + 8*n
	var tables, strs bytes.Buffer
	le := binary.LittleEndian
	var t2 bytes.Buffer
	for _, id := range ids {
		binary.Write(&tables, le, [2]uint32{uint32(len(id)), data + uint32(strs.Len())})
		strs.WriteString(id + "\x00")
	}
	for _, id := range ids {
		binary.Write(&t2, le, [2]uint32{uint32(len(messages[id])), data + uint32(strs.Len())})
		strs.WriteString(messages[id] + "\x00")
	}
	var b bytes.Buffer
	binary.Write(&b, le, []uint32{0x950412de, 0, n, orig, trans, 0, 0})
	b.Write(tables.Bytes())
	b.Write(t2.Bytes())
	b.Write(strs.Bytes())
	return b.Bytes()
}

// PNGSpec is a small generated image and the chunks added to it.
type PNGSpec struct {
	Seed  uint8
	Time  time.Time         // a tIME chunk when set
	Texts map[string]string // tEXt chunks
	Level png.CompressionLevel
}

// PNG encodes an 16×16 image with the chunks of s before its IDAT.
func PNG(s PNGSpec) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = byte(i*7) + s.Seed
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var enc bytes.Buffer
	e := png.Encoder{CompressionLevel: s.Level}
	must(e.Encode(&enc, img))
	raw := enc.Bytes()
	// The IHDR chunk ends at 8+25; extra chunks go right after it.
	var extra bytes.Buffer
	chunk := func(typ string, data []byte) {
		binary.Write(&extra, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		extra.Write(c)
		binary.Write(&extra, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	if !s.Time.IsZero() {
		t := s.Time.UTC()
		chunk("tIME", []byte{byte(t.Year() >> 8), byte(t.Year()), byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second())})
	}
	keys := make([]string, 0, len(s.Texts))
	for k := range s.Texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		chunk("tEXt", []byte(k+"\x00"+s.Texts[k]))
	}
	return append(append(append([]byte(nil), raw[:33]...), extra.Bytes()...), raw[33:]...)
}

// PDFSpec is a one-page PDF's metadata; XMP puts the dates in an XMP
// packet too, Flate-compressed when Compress is set.
type PDFSpec struct {
	Created, Modified string // "D:20240101000000Z"
	Producer          string
	ID                string // hex
	Text              string // the page's text
	XMP               bool
	Compress          bool
}

// PDF writes the document (offsets in its xref table are right).
func PDF(s PDFSpec) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(body string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	meta := ""
	if s.XMP {
		meta = " /Metadata 6 0 R"
	}
	obj("<< /Type /Catalog /Pages 2 0 R" + meta + " >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>")
	content := fmt.Sprintf("BT /F1 12 Tf 20 100 Td (%s) Tj ET", s.Text)
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	obj(fmt.Sprintf("<< /CreationDate (%s) /ModDate (%s) /Producer (%s) >>", s.Created, s.Modified, s.Producer))
	if s.XMP {
		xmp := fmt.Sprintf(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmp:CreateDate="%s" xmp:ModifyDate="%s"/></rdf:RDF></x:xmpmeta>`, s.Created, s.Modified)
		if s.Compress {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write([]byte(xmp))
			zw.Close()
			obj(fmt.Sprintf("<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", z.Len(), z.Bytes()))
		} else {
			obj(fmt.Sprintf("<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream", len(xmp), xmp))
		}
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /ID [<%s><%s>] >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, s.ID, s.ID, xref)
	return b.Bytes()
}
