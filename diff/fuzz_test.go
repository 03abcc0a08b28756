package diff

import (
	"archive/tar"
	"context"
	"debug/elf"
	"os"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/reprove/reprove/diff/archive/archivetest"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

// Fuzz targets: each feeds arbitrary bytes to one format's parser, compared
// against a valid seed, calling the format directly (not through the
// engine's panic guard) so that any panic is found.

func fuzzFormat(f *testing.F, format Format, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	ref := seeds[0]
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := newComparer(ctx, "a", "b", Options{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		format.Detect(data)
		a := memInput("a", "a", data)
		b := memInput("b", "b", ref)
		_, _ = format.compare(c, a, b, 0)
		_, _ = format.compare(c, b, a, 0)
	})
}

var fuzzTar = dt.Tar(tar.FormatPAX, dt.Entry{Name: "a/x", Body: []byte("hello\n")}, dt.Entry{Name: "a/d", Type: tar.TypeDir}, dt.Entry{Name: "a/l", Type: tar.TypeSymlink, Linkname: "x"})

func FuzzTar(f *testing.F) {
	fuzzFormat(f, tarFormat{}, fuzzTar, dt.Tar(tar.FormatGNU, dt.Entry{Name: "x", Body: []byte("y")}), dt.Tar(tar.FormatUSTAR))
}

func FuzzGzip(f *testing.F) {
	fuzzFormat(f, gzipFormat{}, dt.Gzip(fuzzTar, 9, "x.tar", dt.Epoch), dt.Gzip([]byte("hi"), 1, "", time.Time{}))
}

func FuzzBzip2(f *testing.F) { fuzzFormat(f, bzip2Format{}, dt.Bzip2(fuzzTar, 9), dt.Bzip2(nil, 1)) }

func FuzzXZ(f *testing.F) {
	fuzzFormat(f, xzFormat{}, dt.XZ(fuzzTar, xz.CRC64), dt.XZ([]byte("x"), xz.CRC32))
}

func FuzzZstd(f *testing.F) {
	fuzzFormat(f, zstdFormat{}, dt.Zstd(fuzzTar, zstd.SpeedDefault, true), dt.Zstd([]byte("x"), zstd.SpeedFastest, false))
}

func FuzzLZMA(f *testing.F) {
	fuzzFormat(f, lzmaFormat{}, dt.LZMA(fuzzTar, 1<<16), dt.LZMA([]byte("x"), 1<<12))
}

func FuzzZip(f *testing.F) {
	fuzzFormat(f, zipFormat{}, dt.Zip(6, dt.Entry{Name: "META-INF/MANIFEST.MF", Body: []byte("M: 1\n")}, dt.Entry{Name: "x", Body: []byte("hello"), Store: true}),
		append([]byte("JM\x01\x00"), dt.Zip(1, dt.Entry{Name: "classes/A.class", Body: []byte("x")})...))
}

func FuzzAr(f *testing.F) {
	fuzzFormat(f, arFormat{}, dt.Deb(fuzzTar, fuzzTar), dt.Ar(dt.Entry{Name: "a-long-member-name.o", Body: []byte("x")}), []byte("!<arch>\n#1/8            0           0     0     644     9         `\nname.o\x00\x00x"))
}

func FuzzCpio(f *testing.F) {
	fuzzFormat(f, cpioFormat{}, dt.Cpio(dt.Entry{Name: "init", Body: []byte("#!/bin/sh\n")}, dt.Entry{Name: "l", Type: tar.TypeSymlink, Linkname: "init"}),
		archivetest.CpioODC(archivetest.CpioEntry{Name: "init", Mode: 0o100755, Body: []byte("#!/bin/sh\n")}),
		archivetest.CpioBinary(archivetest.CpioEntry{Name: "init", Mode: 0o100755, Body: []byte("#!/bin/sh\n")}))
}

var fuzzELF = dt.ELF(dt.ELFSpec{Text: []byte{0x90, 0xc3}, Rodata: []byte("x"), BuildID: []byte{1, 2, 3, 4}, Symbols: []string{"main"},
	GoVers: "go1.22.0", GoMod: "path\tx\nmod\tx\t(devel)\t\nbuild\tCGO_ENABLED=0\n", Dynamics: []string{"libc.so.6"},
	Relocs: []dt.Reloc{{Offset: 1, Type: elf.R_X86_64_PC32, Sym: 1, Addend: -4}}, Unit: &dt.Unit{Name: "a.c", Producer: "cc", CompDir: "/src"}})

func FuzzELF(f *testing.F) {
	fuzzFormat(f, elfFormat{}, fuzzELF, dt.ELF(dt.ELFSpec{Text: []byte{0xc3}}))
}

func FuzzGoBuildInfo(f *testing.F) {
	f.Add(fuzzELF)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := newComparer(context.Background(), "a", "b", Options{})
		if err != nil {
			t.Fatal(err)
		}
		goBuildInfoLines(memInput("a", "a", data))
		compareGoBuildInfo(c, memInput("a", "a", data), memInput("b", "b", fuzzELF))
	})
}

func FuzzJSON(f *testing.F) {
	fuzzFormat(f, jsonFormat{}, []byte(`{"a":[1,2,{"b":null}],"c":"d"}`), []byte(`[1e400, "\u00e9"]`))
}

func FuzzText(f *testing.F) {
	fuzzFormat(f, textFormat{}, []byte("line one\nline two 2024-01-01 /tmp/x/y\n"), []byte("no newline"))
}

func FuzzBinary(f *testing.F) {
	fuzzFormat(f, binaryFormat{}, dt.Random(100, 1), []byte{0})
}

func FuzzOCITar(f *testing.F) {
	dir := f.TempDir()
	layout := dt.OCILayout(dir, dt.Config("2024-01-01T00:00:00Z"), fuzzTar)
	var entries []dt.Entry
	for _, p := range []string{"oci-layout", "index.json"} {
		b, err := os.ReadFile(layout + "/" + p)
		if err != nil {
			f.Fatal(err)
		}
		entries = append(entries, dt.Entry{Name: p, Body: b})
	}
	blobs, err := os.ReadDir(layout + "/blobs/sha256")
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range blobs {
		data, err := os.ReadFile(layout + "/blobs/sha256/" + b.Name())
		if err != nil {
			f.Fatal(err)
		}
		entries = append(entries, dt.Entry{Name: "blobs/sha256/" + b.Name(), Body: data})
	}
	fuzzFormat(f, tarFormat{}, dt.Tar(tar.FormatPAX, entries...), dt.Tar(tar.FormatPAX, dt.Entry{Name: "manifest.json", Body: []byte(`[{"Config":"c.json","Layers":["l.tar"]}]`)}, dt.Entry{Name: "c.json", Body: []byte(`{}`)}, dt.Entry{Name: "l.tar", Body: fuzzTar}))
}

func FuzzClass(f *testing.F) {
	fuzzFormat(f, classFormat{}, dt.Class(dt.ClassSpec{Name: "a/B", Debug: "all", Const: "x"}), dt.Class(dt.ClassSpec{Name: "C", Debug: "none", Const: ""}))
}

func FuzzPyc(f *testing.F) {
	fuzzFormat(f, pycFormat{}, dt.Pyc(dt.Epoch, 10, []byte("\xe3code")), append([]byte{0x03, 0xf3, '\r', '\n'}, make([]byte, 12)...))
}

func FuzzMo(f *testing.F) {
	fuzzFormat(f, moFormat{}, dt.Mo(map[string]string{"": "PO-Revision-Date: 2024-01-01\n", "a": "b"}), dt.Mo(nil))
}

func FuzzPNG(f *testing.F) {
	fuzzFormat(f, pngFormat{}, dt.PNG(dt.PNGSpec{Time: dt.Epoch, Texts: map[string]string{"k": "v"}}), dt.PNG(dt.PNGSpec{}))
}

func FuzzPDF(f *testing.F) {
	fuzzFormat(f, pdfFormat{}, dt.PDF(dt.PDFSpec{Created: "D:2024", ID: "00", XMP: true, Compress: true}), dt.PDF(dt.PDFSpec{}))
}

func FuzzPE(f *testing.F) {
	fuzzFormat(f, peFormat{}, dt.PE(dt.PESpec{Stamp: dt.Epoch, Text: []byte{0xc3}}), dt.PE(dt.PESpec{}))
}

func FuzzMachO(f *testing.F) {
	fuzzFormat(f, machoFormat{}, dt.MachO(dt.MachOSpec{UUID: [16]byte{1}, Text: []byte{0xc3}}), dt.MachO(dt.MachOSpec{}))
}

func FuzzRPM(f *testing.F) {
	fuzzFormat(f, rpmFormat{}, dt.RPM(dt.RPMSpec{Name: "x", Version: "1", Release: "1", BuildTime: dt.Epoch, BuildHost: "h", Files: []dt.Entry{{Name: "./a", Body: []byte("b")}}}),
		dt.RPM(dt.RPMSpec{}))
}

func FuzzSquashfs(f *testing.F) {
	fuzzFormat(f, squashfsFormat{}, dt.Squashfs(f.TempDir(), dt.Epoch, dt.Entry{Name: "a/b", Body: []byte("c")}), dt.Squashfs(f.TempDir(), dt.Epoch))
}

func FuzzISO9660(f *testing.F) {
	fuzzFormat(f, iso9660Format{}, dt.ISO("V", dt.Epoch, dt.Entry{Name: "a.txt", Body: []byte("b")}), dt.ISO("W", dt.Epoch))
}

func FuzzSQLite(f *testing.F) {
	dir := f.TempDir()
	fuzzFormat(f, sqliteFormat{}, dt.SQLite(dir, "CREATE TABLE t (a, b)", "INSERT INTO t VALUES (1, 'x')"), dt.SQLite(dir, "CREATE TABLE u (a)"))
}
