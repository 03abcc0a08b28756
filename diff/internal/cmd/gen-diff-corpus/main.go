// Command gen-diff-corpus writes the agreement corpus of
// scripts/bench_diff.sh: one pair per format and per cause the diff
// engine names, plus renamed members, old cpio formats and .deb packages
// with differently compressed control archives, each generated in code.
// Usage: gen-diff-corpus DIR. Each pair is DIR/NAME/a.EXT and DIR/NAME/b.EXT.
package main

import (
	"archive/tar"
	"debug/elf"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ulikunitz/xz"

	"github.com/reprove/reprove/diff/archive/archivetest"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen-diff-corpus DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	tmp, err := os.MkdirTemp("", "gen-diff-corpus")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-diff-corpus:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)
	for _, p := range pairs(tmp) {
		dt.WriteFile(dir, filepath.Join(p.name, "a"+p.ext), p.a)
		dt.WriteFile(dir, filepath.Join(p.name, "b"+p.ext), p.b)
		if archives[p.name] {
			dt.WriteFile(dir, filepath.Join(p.name, "ARCHIVE"), nil)
		}
	}
}

// archives are the pairs whose sets of differing members are compared.
var archives = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`tar-content tar-mtime tar-order tar-owner tar-mode tar-added-removed tar-gz-header-mtime
		tar-gz-member tar-xz-member tar-bz2-member zip-content-mtime jar-class-debug deb-data-member deb-control-gz-vs-xz ar-member
		cpio-newc cpio-odc cpio-binary renamed-top-folder renamed-similar-file rpm squashfs iso9660`) {
		archives[n] = true
	}
}

type pair struct {
	name, ext string
	a, b      []byte
}

var (
	day1 = time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	day2 = time.Date(2024, 2, 2, 11, 30, 0, 0, time.UTC)
)

func file(name, body string) dt.Entry { return dt.Entry{Name: name, Body: []byte(body)} }

func pairs(tmp string) []pair {
	base := []dt.Entry{file("./etc/conf", "a=1\n"), file("./usr/bin/tool", "binary\x00\x01\x02"), file("./usr/share/doc/README", "docs\n")}
	mod := func(f func(es []dt.Entry)) []dt.Entry {
		es := append([]dt.Entry(nil), base...)
		f(es)
		return es
	}
	changed := mod(func(es []dt.Entry) { es[0].Body = []byte("a=2\n") })
	later := mod(func(es []dt.Entry) {
		for i := range es {
			es[i].ModTime = day2
		}
	})
	baseTar, changedTar := dt.Tar(tar.FormatPAX, base...), dt.Tar(tar.FormatPAX, changed...)
	cpioA := []archivetest.CpioEntry{{Name: "etc/x", Mode: 0o100644, Body: []byte("one\n")}, {Name: "bin", Mode: 0o040755}}
	cpioB := []archivetest.CpioEntry{{Name: "etc/x", Mode: 0o100644, Body: []byte("two\n")}, {Name: "bin", Mode: 0o040755}}
	control := func(v string) []byte {
		return dt.Tar(tar.FormatGNU, file("./control", "Package: hello\nVersion: "+v+"\n"), file("./md5sums", "x\n"))
	}
	debWith := func(name string, ctl, data []byte) []byte {
		return dt.Ar(dt.Entry{Name: "debian-binary", Body: []byte("2.0\n")}, dt.Entry{Name: name, Body: ctl}, dt.Entry{Name: "data.tar.xz", Body: dt.XZ(data, xz.CRC64)})
	}
	renamedTop := func(top, v string) []byte {
		return dt.Tar(tar.FormatPAX, dt.Entry{Name: top + "/", Type: tar.TypeDir}, file(top+"/bin/hello", "#!/bin/sh\necho "+v+"\n"), file(top+"/share/doc", "same\n"))
	}
	lib := dt.Random(64<<10, 5)
	lib2 := append(append(append([]byte(nil), lib[:40000]...), "\x00libfoo 1.3\x00"...), lib[40000:]...)
	elfBase := dt.ELFSpec{Text: []byte{0xb8, 1, 0, 0, 0, 0xc3, 0x90, 0x90}, Rodata: []byte("hello\x00"), BuildID: dt.Hex("0123456789abcdef0123456789abcdef01234567"),
		Symbols: []string{"main"}, Relocs: []dt.Reloc{{Offset: 1, Type: elf.R_X86_64_PC32, Sym: 1, Addend: -4}},
		Unit: &dt.Unit{Name: "main.c", Producer: "GNU C17 12.2.0 -O2", CompDir: "/home/x/src"}}
	elfWith := func(f func(*dt.ELFSpec)) []byte { s := elfBase; f(&s); return dt.ELF(s) }
	binBody := dt.Random(256<<10, 9)
	for i := 0; i < len(binBody); i += 997 {
		binBody[i] = 0
	}
	withStr := append(append(append([]byte(nil), binBody[:100000]...), "\x00curl 7.88.1-10+deb12u5 (x86_64-pc-linux-gnu)\x00"...), binBody[100000:]...)
	return []pair{
		{"tar-content", ".tar", baseTar, changedTar},
		{"tar-mtime", ".tar", baseTar, dt.Tar(tar.FormatPAX, later...)},
		{"tar-order", ".tar", baseTar, dt.Tar(tar.FormatPAX, base[2], base[0], base[1])},
		{"tar-owner", ".tar", baseTar, dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[0].UID, es[0].Uname = 1000, "builder" })...)},
		{"tar-mode", ".tar", baseTar, dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[1].Mode = 0o755 })...)},
		{"tar-added-removed", ".tar", baseTar, dt.Tar(tar.FormatPAX, base[0], base[1], file("./new", "x"))},
		{"tar-gz-header-mtime", ".tar.gz", dt.Gzip(baseTar, 6, "", day1), dt.Gzip(baseTar, 6, "", day2)},
		{"tar-gz-member", ".tar.gz", dt.Gzip(baseTar, 6, "", day1), dt.Gzip(changedTar, 6, "", day1)},
		{"tar-xz-member", ".tar.xz", dt.XZ(baseTar, xz.CRC64), dt.XZ(changedTar, xz.CRC64)},
		{"tar-bz2-member", ".tar.bz2", dt.Bzip2(baseTar, 9), dt.Bzip2(changedTar, 9)},
		{"zip-content-mtime", ".zip", dt.Zip(6, file("x.txt", "one\n"), file("y.txt", "same\n")),
			dt.Zip(6, file("x.txt", "two\n"), dt.Entry{Name: "y.txt", Body: []byte("same\n"), ModTime: day2})},
		{"jar-class-debug", ".jar", dt.Zip(6, dt.Entry{Name: "com/example/Hello.class", Body: dt.Class(dt.ClassSpec{Name: "com/example/Hello", Debug: "all", Const: "hi"})}),
			dt.Zip(6, dt.Entry{Name: "com/example/Hello.class", Body: dt.Class(dt.ClassSpec{Name: "com/example/Hello", Debug: "none", Const: "hi"})})},
		{"deb-data-member", ".deb", dt.Deb(control("1.0"), baseTar), dt.Deb(control("1.0"), changedTar)},
		{"deb-control-gz-vs-xz", ".deb", debWith("control.tar.gz", dt.Gzip(control("1.0"), 9, "", time.Time{}), baseTar),
			debWith("control.tar.xz", dt.XZ(control("1.1"), xz.CRC64), baseTar)},
		{"ar-member", ".a", dt.Ar(file("a.o", "obj1"), file("b.o", "x")), dt.Ar(file("a.o", "obj2"), file("b.o", "x"))},
		{"cpio-newc", ".cpio", dt.Cpio(file("init", "#!/bin/sh\necho 1\n")), dt.Cpio(file("init", "#!/bin/sh\necho 2\n"))},
		{"cpio-odc", ".cpio", archivetest.CpioODC(cpioA...), archivetest.CpioODC(cpioB...)},
		{"cpio-binary", ".cpio", archivetest.CpioBinary(cpioA...), archivetest.CpioBinary(cpioB...)},
		{"renamed-top-folder", ".tar", renamedTop("hello-1.0", "1"), renamedTop("hello-1.1", "2")},
		{"renamed-similar-file", ".tar", dt.Tar(tar.FormatPAX, dt.Entry{Name: "usr/lib/libfoo.so.1.2", Body: lib}, file("usr/share/x", "same\n")),
			dt.Tar(tar.FormatPAX, dt.Entry{Name: "usr/lib/libfoo.so.1.3", Body: lib2}, file("usr/share/x", "same\n"))},
		{"elf-build-id", "", elfBase2(elfWith, "ffffffffffffffffffffffffffffffffffffffff", false), elfBase2(elfWith, "", false)},
		{"elf-code", "", dt.ELF(elfBase), elfWith(func(s *dt.ELFSpec) { s.Text = []byte{0xb8, 2, 0, 0, 0, 0xc3, 0x90, 0x90} })},
		{"elf-dwarf-build-path", "", dt.ELF(elfBase), elfWith(func(s *dt.ELFSpec) {
			s.Unit = &dt.Unit{Name: "main.c", Producer: "GNU C17 12.2.0 -O2", CompDir: "/tmp/build"}
		})},
		{"elf-stripped", "", dt.ELF(elfBase), elfWith(func(s *dt.ELFSpec) { s.Symbols, s.Relocs, s.Unit = nil, nil, nil })},
		{"pe-timestamp", ".exe", dt.PE(dt.PESpec{Stamp: day1, Text: []byte{0xc3}}), dt.PE(dt.PESpec{Stamp: day2, Text: []byte{0xc3}})},
		{"macho-uuid", ".macho", dt.MachO(dt.MachOSpec{UUID: [16]byte{1}, Text: []byte{0xc3}}), dt.MachO(dt.MachOSpec{UUID: [16]byte{2}, Text: []byte{0xc3}})},
		{"class-debug-info", ".class", dt.Class(dt.ClassSpec{Name: "com/example/Hello", Debug: "all", Const: "hi"}), dt.Class(dt.ClassSpec{Name: "com/example/Hello", Debug: "none", Const: "hi"})},
		{"pyc-mtime", ".pyc", dt.Pyc(day1, 120, []byte("\xe3\x00\x00code")), dt.Pyc(day2, 120, []byte("\xe3\x00\x00code"))},
		{"rpm", ".rpm", dt.RPM(dt.RPMSpec{Name: "hello", Version: "1.0", Release: "1", BuildTime: day1, BuildHost: "builder-a", Files: []dt.Entry{file("./usr/bin/hello", "echo 1\n")}}),
			dt.RPM(dt.RPMSpec{Name: "hello", Version: "1.0", Release: "1", BuildTime: day2, BuildHost: "builder-b", Files: []dt.Entry{file("./usr/bin/hello", "echo 2\n")}})},
		{"squashfs", ".sqfs", dt.Squashfs(mkdir(tmp, "sa"), day1, file("etc/motd", "hello 1\n")), dt.Squashfs(mkdir(tmp, "sb"), day2, file("etc/motd", "hello 2\n"))},
		{"iso9660", ".iso", dt.ISO("CDROM", day1, file("readme.txt", "version 1\n")), dt.ISO("CDROM", day1, file("readme.txt", "version 2\n"))},
		{"png-time", ".png", dt.PNG(dt.PNGSpec{Time: day1}), dt.PNG(dt.PNGSpec{Time: day2})},
		{"pdf-dates", ".pdf", dt.PDF(dt.PDFSpec{Created: "D:20240101100000Z", Modified: "D:20240101100000Z", ID: "0a0b", Text: "hi", XMP: true}),
			dt.PDF(dt.PDFSpec{Created: "D:20240202113000Z", Modified: "D:20240202113000Z", ID: "0c0d", Text: "hi", XMP: true})},
		{"sqlite-rows", ".db", dt.SQLite(mkdir(tmp, "qa"), "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t VALUES (1, 'one')"),
			dt.SQLite(mkdir(tmp, "qb"), "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t VALUES (1, 'two')")},
		{"gettext-mo", ".mo", dt.Mo(map[string]string{"": "PO-Revision-Date: 2024-01-01 10:00+0000\n", "Hello": "Bonjour"}),
			dt.Mo(map[string]string{"": "PO-Revision-Date: 2024-02-02 11:30+0000\n", "Hello": "Salut"})},
		{"json-key-order", ".json", []byte(`{"a":1,"b":[1,2]}`), []byte("{\n  \"b\": [1, 2],\n  \"a\": 1\n}\n")},
		{"text-build-path", ".txt", []byte("built in /home/x/src/hello\nsame\n"), []byte("built in /tmp/build/src/hello\nsame\n")},
		{"text-hostname", ".txt", []byte("Built by builder@buildd-x86-03\nsame\n"), []byte("Built by builder@laptop-7\nsame\n")},
		{"md5sums", "", []byte("d41d8cd98f00b204e9800998ecf8427e  usr/bin/x\n"), []byte("9e107d9d372bb6826bd81d3542a419d6  usr/bin/x\n")},
		{"binary-inserted-string", ".bin", binBody, withStr},
		{"file-type-deb-vs-tgz", "", dt.Deb(control("1.0"), baseTar), dt.Gzip(baseTar, 6, "", day1)},
		{"compression-gz-vs-xz", "", dt.Gzip(baseTar, 6, "", day1), dt.XZ(changedTar, xz.CRC64)},
		{"png-recompressed", ".png", dt.PNG(dt.PNGSpec{Level: png.BestSpeed}), dt.PNG(dt.PNGSpec{Level: png.BestCompression})},
		{"identical", ".txt", []byte("same\n"), []byte("same\n")},
	}
}

func elfBase2(with func(func(*dt.ELFSpec)) []byte, id string, _ bool) []byte {
	if id == "" {
		return with(func(*dt.ELFSpec) {})
	}
	return with(func(s *dt.ELFSpec) { s.BuildID = dt.Hex(strings.Repeat(id[:2], 20)) })
}

func mkdir(parent, name string) string {
	p := filepath.Join(parent, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		panic(err)
	}
	return p
}
