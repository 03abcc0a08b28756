// Package archivetest builds hostile archives in code for the tests of
// every archive reader: a GNU sparse tar that claims far more than it
// stores, and compression bombs. Nothing here is written to disk by itself.
package archivetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// SparseTar returns an old-GNU tar with one sparse member name whose
// logical size is logical bytes while it stores only stored bytes (the
// last ones; the rest is a hole). The archive is stored+1536 bytes long.
func SparseTar(name string, logical int64, stored []byte) []byte {
	hdr := make([]byte, 512)
	copy(hdr, name)
	octal(hdr[100:108], 0o644)
	octal(hdr[108:116], 0)
	octal(hdr[116:124], 0)
	octal(hdr[124:136], int64(len(stored)))
	octal(hdr[136:148], 1700000000)
	hdr[156] = tar.TypeGNUSparse
	copy(hdr[257:], "ustar  \x00")
	copy(hdr[265:], "root")
	copy(hdr[297:], "root")
	// One sparse map entry: the stored bytes at the end of the file.
	octal(hdr[386:398], logical-int64(len(stored)))
	octal(hdr[398:410], int64(len(stored)))
	octal(hdr[483:495], logical)
	copy(hdr[148:156], "        ")
	var sum int64
	for _, b := range hdr {
		sum += int64(b)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	var buf bytes.Buffer
	buf.Write(hdr)
	buf.Write(stored)
	buf.Write(make([]byte, (512-len(stored)%512)%512+1024))
	return buf.Bytes()
}

// octal writes v as zero-padded octal filling the field (no terminator,
// which archive/tar accepts and lets 12-byte fields hold 2^36).
func octal(field []byte, v int64) {
	s := fmt.Sprintf("%0*o", len(field), v)
	copy(field, s)
}

// Zeros is a reader of n zero bytes.
func Zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TarOf returns a tar stream holding one regular member name of size bytes
// read from body, written as it is read (never held in memory).
func TarOf(w io.Writer, name string, size int64, body io.Reader) error {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, body); err != nil {
		return err
	}
	return tw.Close()
}

// GzipBomb returns a gzip stream of a tar holding one member name of size
// zero bytes: about size/1000 bytes long.
func GzipBomb(name string, size int64) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err := TarOf(zw, name, size, Zeros(size)); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// CpioEntry is one member of a generated odc or binary cpio archive.
type CpioEntry struct {
	Name  string
	Mode  int64 // with the type bits: 0o100644, 0o040755, 0o120777…
	Body  []byte
	MTime int64
}

// CpioODC returns a POSIX odc ("070707") cpio archive of entries.
func CpioODC(entries ...CpioEntry) []byte {
	var buf bytes.Buffer
	for i, e := range append(entries, CpioEntry{Name: "TRAILER!!!"}) {
		fmt.Fprintf(&buf, "070707%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o", 0, i+1, e.Mode, 0, 0, 1, 0, e.MTime, len(e.Name)+1, len(e.Body))
		buf.WriteString(e.Name + "\x00")
		buf.Write(e.Body)
	}
	return buf.Bytes()
}

// CpioBinary returns an old binary cpio archive (little-endian) of entries.
func CpioBinary(entries ...CpioEntry) []byte {
	var buf bytes.Buffer
	w := func(v ...int64) {
		for _, x := range v {
			buf.WriteByte(byte(x))
			buf.WriteByte(byte(x >> 8))
		}
	}
	for i, e := range append(entries, CpioEntry{Name: "TRAILER!!!"}) {
		w(0o070707, 0, int64(i+1), e.Mode, 0, 0, 1, 0, e.MTime>>16, e.MTime&0xffff, int64(len(e.Name)+1), int64(len(e.Body))>>16, int64(len(e.Body))&0xffff)
		buf.WriteString(e.Name + "\x00")
		if (len(e.Name)+1)%2 == 1 {
			buf.WriteByte(0)
		}
		buf.Write(e.Body)
		if len(e.Body)%2 == 1 {
			buf.WriteByte(0)
		}
	}
	return buf.Bytes()
}
