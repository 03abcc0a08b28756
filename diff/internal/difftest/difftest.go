// Package difftest builds archive, compressed, ELF and image fixtures in
// code for the diff package's tests, fuzz seeds and benchmarks. Every
// builder is deterministic: the same arguments give the same bytes.
package difftest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cavaliergopher/cpio"
	dsbzip2 "github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Epoch is the default modification time of generated members.
var Epoch = time.Unix(1700000000, 0).UTC()

// Entry is one member of a generated archive.
type Entry struct {
	Name     string
	Body     []byte
	Mode     int64 // permission bits; default 0644 (0755 for directories)
	UID, GID int
	Uname    string
	Gname    string
	ModTime  time.Time // default Epoch
	Type     byte      // tar type flag; default regular file ('0'), tar.TypeDir, tar.TypeSymlink…
	Linkname string
	PAX      map[string]string // extra PAX records (tar)
	Store    bool              // zip: store the member uncompressed instead of deflating it
	Extra    []byte            // zip: extra field
}

func (e Entry) mode() int64 {
	if e.Mode != 0 {
		return e.Mode
	}
	if e.Type == tar.TypeDir {
		return 0o755
	}
	return 0o644
}

func (e Entry) mtime() time.Time {
	if e.ModTime.IsZero() {
		return Epoch
	}
	return e.ModTime
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Tar builds a tar archive in the given format (tar.FormatUnknown lets
// archive/tar choose).
func Tar(format tar.Format, entries ...Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.Name, Mode: e.mode(), Uid: e.UID, Gid: e.GID, Uname: e.Uname, Gname: e.Gname,
			ModTime: e.mtime(), Typeflag: typ, Linkname: e.Linkname, PAXRecords: e.PAX, Format: format}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		must(tw.WriteHeader(hdr))
		if typ == tar.TypeReg {
			_, err := tw.Write(e.Body)
			must(err)
		}
	}
	must(tw.Close())
	return buf.Bytes()
}

// Gzip compresses data with the given level, header name and mtime.
func Gzip(data []byte, level int, name string, mtime time.Time) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	must(err)
	zw.Name = name
	zw.ModTime = mtime
	_, err = zw.Write(data)
	must(err)
	must(zw.Close())
	return buf.Bytes()
}

// Bzip2 compresses data at level 1–9.
func Bzip2(data []byte, level int) []byte {
	var buf bytes.Buffer
	zw, err := dsbzip2.NewWriter(&buf, &dsbzip2.WriterConfig{Level: level})
	must(err)
	_, err = zw.Write(data)
	must(err)
	must(zw.Close())
	return buf.Bytes()
}

// XZ compresses data with the given integrity check (xz.CRC32, xz.CRC64, xz.SHA256).
func XZ(data []byte, check byte) []byte {
	var buf bytes.Buffer
	zw, err := xz.WriterConfig{CheckSum: check}.NewWriter(&buf)
	must(err)
	_, err = zw.Write(data)
	must(err)
	must(zw.Close())
	return buf.Bytes()
}

// Zstd compresses data at the given level, with or without a checksum.
func Zstd(data []byte, level zstd.EncoderLevel, checksum bool) []byte {
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(checksum), zstd.WithEncoderConcurrency(1))
	must(err)
	out := zw.EncodeAll(data, nil)
	must(zw.Close())
	return out
}

// LZMA compresses data in the legacy .lzma format with the given dictionary size.
func LZMA(data []byte, dict int) []byte {
	var buf bytes.Buffer
	zw, err := lzma.WriterConfig{DictCap: dict, SizeInHeader: true, Size: int64(len(data))}.NewWriter(&buf)
	must(err)
	_, err = zw.Write(data)
	must(err)
	must(zw.Close())
	return buf.Bytes()
}

// Zip builds a zip archive; level is the deflate level for deflated members.
func Zip(level int, entries ...Entry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, level) })
	for _, e := range entries {
		method := zip.Deflate
		if e.Store || e.Type == tar.TypeDir {
			method = zip.Store
		}
		fh := &zip.FileHeader{Name: e.Name, Method: method, Modified: e.mtime(), Extra: e.Extra}
		mode := os.FileMode(e.mode())
		if e.Type == tar.TypeDir {
			mode |= os.ModeDir
		}
		fh.SetMode(mode)
		w, err := zw.CreateHeader(fh)
		must(err)
		_, err = w.Write(e.Body)
		must(err)
	}
	must(zw.Close())
	return buf.Bytes()
}

// Ar builds a GNU ar archive (names longer than 15 bytes go to the "//" table).
func Ar(entries ...Entry) []byte {
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	var table bytes.Buffer
	names := make([]string, len(entries))
	for i, e := range entries {
		if len(e.Name) > 15 {
			names[i] = "/" + itoa(table.Len())
			table.WriteString(e.Name + "/\n")
		} else {
			names[i] = e.Name + "/"
		}
	}
	header := func(name string, mtime int64, uid, gid int, mode int64, size int) {
		h := padRight(name, 16) + padRight(itoa(int(mtime)), 12) + padRight(itoa(uid), 6) + padRight(itoa(gid), 6) +
			padRight(otoa(mode), 8) + padRight(itoa(size), 10) + "`\n"
		buf.WriteString(h)
	}
	if table.Len() > 0 {
		header("//", 0, 0, 0, 0, table.Len())
		buf.Write(table.Bytes())
		if table.Len()%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	for i, e := range entries {
		header(names[i], e.mtime().Unix(), e.UID, e.GID, 0o100000|e.mode(), len(e.Body))
		buf.Write(e.Body)
		if len(e.Body)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

// Deb builds a Debian package: debian-binary, control.tar.gz and data.tar.xz.
func Deb(control, data []byte) []byte {
	return Ar(
		Entry{Name: "debian-binary", Body: []byte("2.0\n")},
		Entry{Name: "control.tar.gz", Body: Gzip(control, 9, "", time.Time{})},
		Entry{Name: "data.tar.xz", Body: XZ(data, xz.CRC64)},
	)
}

// Cpio builds a newc cpio archive.
func Cpio(entries ...Entry) []byte {
	var buf bytes.Buffer
	w := cpio.NewWriter(&buf)
	for i, e := range entries {
		mode := cpio.FileMode(e.mode()) | cpio.TypeReg
		switch e.Type {
		case tar.TypeDir:
			mode = cpio.FileMode(e.mode()) | cpio.TypeDir
		case tar.TypeSymlink:
			mode = cpio.FileMode(0o777) | cpio.TypeSymlink
		}
		h := &cpio.Header{Name: e.Name, Mode: mode, Uid: e.UID, Guid: e.GID, ModTime: e.mtime(), Size: int64(len(e.Body)), Links: 1, Inode: int64(i + 1), Linkname: e.Linkname}
		if e.Type == tar.TypeSymlink {
			h.Size = int64(len(e.Linkname))
		}
		must(w.WriteHeader(h))
		if e.Type == tar.TypeSymlink {
			_, err := w.Write([]byte(e.Linkname))
			must(err)
		} else {
			_, err := w.Write(e.Body)
			must(err)
		}
	}
	must(w.Close())
	return buf.Bytes()
}

// WriteFile writes data to dir/name (creating parents) and returns the path.
func WriteFile(dir, name string, data []byte) string {
	p := filepath.Join(dir, filepath.FromSlash(name))
	must(os.MkdirAll(filepath.Dir(p), 0o755))
	must(os.WriteFile(p, data, 0o644))
	return p
}

// Random returns n deterministic pseudo-random bytes from seed.
func Random(n int, seed uint64) []byte {
	out := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := 0; i < n; i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := 0; j < 8 && i+j < n; j++ {
			out[i+j] = byte(x >> (8 * j))
		}
	}
	return out
}

func padRight(s string, n int) string {
	for len(s) < n {
		s += " "
	}
	return s
}

func itoa(i int) string   { return strconv.Itoa(i) }
func otoa(i int64) string { return strconv.FormatInt(i, 8) }
