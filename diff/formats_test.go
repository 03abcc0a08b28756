package diff_test

import (
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/reprove/reprove/diff"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

// evidence is every piece of evidence in the summary's causes.
func evidence(s *diff.Summary) string {
	var out []string
	for _, c := range s.Causes {
		for _, e := range c.Evidence {
			out = append(out, string(c.ID)+": "+e)
		}
	}
	return strings.Join(out, "\n")
}

// wantEvidence checks that the summary quotes each piece of evidence.
func wantEvidence(want ...string) func(t *testing.T, s *diff.Summary) {
	return func(t *testing.T, s *diff.Summary) {
		t.Helper()
		got := evidence(s)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("evidence lacks %q; got:\n%s", w, got)
			}
		}
	}
}

var (
	day1 = time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	day2 = time.Date(2024, 2, 2, 11, 30, 0, 0, time.UTC)
)

func TestFormatPairs(t *testing.T) {
	dir := t.TempDir()
	cases := []pairCase{
		{name: "class debug info", nameA: "a.class", nameB: "b.class",
			a:          dt.Class(dt.ClassSpec{Name: "com/example/Hello", Debug: "all", Const: "hello"}),
			b:          dt.Class(dt.ClassSpec{Name: "com/example/Hello", Debug: "none", Const: "hello"}),
			wantLeaves: []string{"content b.class [class attributes]", "content b.class [constant pool]", "content b.class [fields and methods]"},
			wantCauses: []string{"java-debug-info"},
			check:      wantEvidence("java-debug-info: debug attributes: LineNumberTable, LocalVariableTable, SourceFile → (none)")},
		{name: "class constant", nameA: "a.class", nameB: "b.class",
			a:          dt.Class(dt.ClassSpec{Name: "com/example/Hello", Debug: "default", Const: "built 1.0"}),
			b:          dt.Class(dt.ClassSpec{Name: "com/example/Hello", Debug: "default", Const: "built 1.1"}),
			wantLeaves: []string{"content b.class [constant pool]"}},
		{name: "pyc source mtime", nameA: "a.pyc", nameB: "b.pyc",
			a: dt.Pyc(day1, 120, []byte("\xe3\x00\x00code")), b: dt.Pyc(day2, 120, []byte("\xe3\x00\x00code")),
			wantLeaves: []string{"content b.pyc [pyc header]"}, wantCauses: []string{"embedded-date"},
			check: wantEvidence("source mtime: 2024-01-01T10:00:00Z (1704103200) → 2024-02-02T11:30:00Z (1706873400)")},
		{name: "pyc code", nameA: "a.pyc", nameB: "b.pyc",
			a: dt.Pyc(day1, 120, []byte("\xe3\x00\x00print('one')")), b: dt.Pyc(day1, 120, []byte("\xe3\x00\x00print('two')")),
			wantLeaves: []string{"content b.pyc/marshal data"}},
		{name: "mo revision date", nameA: "a.mo", nameB: "b.mo",
			a:          dt.Mo(map[string]string{"": "Project-Id-Version: x 1.0\nPO-Revision-Date: 2024-01-01 10:00+0000\n", "Hello": "Bonjour"}),
			b:          dt.Mo(map[string]string{"": "Project-Id-Version: x 1.0\nPO-Revision-Date: 2024-02-02 11:30+0000\n", "Hello": "Salut"}),
			wantLeaves: []string{"content b.mo [catalogue header]", "content b.mo [messages]"}, wantCauses: []string{"timestamps"}},
		{name: "png tIME and text", nameA: "a.png", nameB: "b.png",
			a:          dt.PNG(dt.PNGSpec{Time: day1, Texts: map[string]string{"Software": "gimp 2.10"}}),
			b:          dt.PNG(dt.PNGSpec{Time: day2, Texts: map[string]string{"Software": "gimp 2.10"}}),
			wantLeaves: []string{"content b.png [png chunks]"}, wantCauses: []string{"embedded-date"},
			check: wantEvidence("tIME: 2024-01-01 10:00:00 → 2024-02-02 11:30:00")},
		{name: "png recompressed", nameA: "a.png", nameB: "b.png",
			a: dt.PNG(dt.PNGSpec{Level: png.BestSpeed}), b: dt.PNG(dt.PNGSpec{Level: png.BestCompression}),
			wantLeaves: []string{"metadata b.png (image data)"}, wantCauses: []string{"compression"}},
		{name: "png pixels", nameA: "a.png", nameB: "b.png",
			a: dt.PNG(dt.PNGSpec{Seed: 1}), b: dt.PNG(dt.PNGSpec{Seed: 2}),
			wantLeaves: []string{"content b.png [png chunks]"}},
		{name: "pdf dates and id", nameA: "a.pdf", nameB: "b.pdf",
			a:          dt.PDF(dt.PDFSpec{Created: "D:20240101100000Z", Modified: "D:20240101100000Z", ID: "0a0b", Text: "hi", XMP: true, Compress: true}),
			b:          dt.PDF(dt.PDFSpec{Created: "D:20240202113000Z", Modified: "D:20240202113000Z", ID: "0c0d", Text: "hi", XMP: true, Compress: true}),
			wantLeaves: []string{"content b.pdf [pdf metadata]"}, wantCauses: []string{"embedded-date", "random-ids"},
			check: wantEvidence("Info /CreationDate: (D:20240101100000Z) → (D:20240202113000Z)", "XMP xmp:CreateDate: D:20240101100000Z → D:20240202113000Z")},
		{name: "pdf text", nameA: "a.pdf", nameB: "b.pdf",
			a:          dt.PDF(dt.PDFSpec{Created: "D:20240101100000Z", Modified: "D:20240101100000Z", ID: "0a0b", Text: "version 1.0"}),
			b:          dt.PDF(dt.PDFSpec{Created: "D:20240101100000Z", Modified: "D:20240101100000Z", ID: "0a0b", Text: "version 1.1"}),
			wantLeaves: []string{"content b.pdf"}},
		{name: "pe timestamp", nameA: "a.exe", nameB: "b.exe",
			a: dt.PE(dt.PESpec{Stamp: day1, Text: []byte{0xc3}}), b: dt.PE(dt.PESpec{Stamp: day2, Text: []byte{0xc3}}),
			wantLeaves: []string{"content b.exe [pe header]"}, wantCauses: []string{"embedded-date"},
			check: wantEvidence("TimeDateStamp: 2024-01-01T10:00:00Z (1704103200) → 2024-02-02T11:30:00Z (1706873400)")},
		{name: "pe code", nameA: "a.exe", nameB: "b.exe",
			a: dt.PE(dt.PESpec{Stamp: day1, Text: []byte("\x90\xc3version 1.0\x00")}), b: dt.PE(dt.PESpec{Stamp: day1, Text: []byte("\x90\xc3version 1.1\x00")}),
			wantLeaves: []string{"content b.exe [section .text]"}},
		{name: "macho uuid", nameA: "a", nameB: "b",
			a: dt.MachO(dt.MachOSpec{UUID: [16]byte{1}, Text: []byte{0xc3}}), b: dt.MachO(dt.MachOSpec{UUID: [16]byte{2}, Text: []byte{0xc3}}),
			wantLeaves: []string{"content b [load commands]"}, wantCauses: []string{"build-id"}},
		{name: "macho code", nameA: "a", nameB: "b",
			a: dt.MachO(dt.MachOSpec{Text: []byte("\x90\xc3built on 1.0\x00")}), b: dt.MachO(dt.MachOSpec{Text: []byte("\x90\xc3built on 1.1\x00")}),
			wantLeaves: []string{"content b [section __TEXT,__text]"}},
		{name: "rpm build time and host, payload file", nameA: "a.rpm", nameB: "b.rpm",
			a: dt.RPM(dt.RPMSpec{Name: "hello", Version: "1.0", Release: "1", BuildTime: day1, BuildHost: "builder-a.example.org",
				Files: []dt.Entry{{Name: "./usr/bin/hello", Body: []byte("#!/bin/sh\necho 1\n")}}}),
			b: dt.RPM(dt.RPMSpec{Name: "hello", Version: "1.0", Release: "1", BuildTime: day2, BuildHost: "builder-b.example.org",
				Files: []dt.Entry{{Name: "./usr/bin/hello", Body: []byte("#!/bin/sh\necho 2\n")}}}),
			wantLeaves: []string{"content b.rpm [rpm header]", "content b.rpm [rpm signature]", "content b.rpm/payload/payload-content/./usr/bin/hello"},
			wantCauses: []string{"checksums", "embedded-date", "hostname"},
			check:      wantEvidence("BUILDHOST: builder-a.example.org → builder-b.example.org", "BUILDTIME: 1704103200 → 1706873400")},
		{name: "squashfs mkfs time and file", nameA: "a.sqfs", nameB: "b.sqfs",
			a:          dt.Squashfs(t.TempDir(), day1, dt.Entry{Name: "etc/motd", Body: []byte("hello 1\n")}, dt.Entry{Name: "bin/x", Body: []byte("same\n")}),
			b:          dt.Squashfs(t.TempDir(), day2, dt.Entry{Name: "etc/motd", Body: []byte("hello 2\n")}, dt.Entry{Name: "bin/x", Body: []byte("same\n")}),
			wantLeaves: []string{"content b.sqfs [superblock]", "content b.sqfs/etc/motd"}, wantCauses: []string{"embedded-date"},
			check: wantEvidence("mkfs time: 2024-01-01T10:00:00Z (1704103200) → 2024-02-02T11:30:00Z (1706873400)")},
		{name: "iso volume date and file", nameA: "a.iso", nameB: "b.iso",
			a:          dt.ISO("CDROM", day1, dt.Entry{Name: "readme.txt", Body: []byte("version 1\n")}),
			b:          dt.ISO("CDROM", day1.Add(time.Hour), dt.Entry{Name: "readme.txt", Body: []byte("version 2\n")}),
			wantLeaves: []string{"content b.iso [volume descriptor]", "content b.iso/README.TXT", "metadata b.iso/README.TXT"}, wantCauses: []string{"embedded-date", "timestamps"}},
		{name: "sqlite rows", nameA: "a.db", nameB: "b.db",
			a:          dt.SQLite(dir, "CREATE TABLE t (id INTEGER PRIMARY KEY, built TEXT, v BLOB)", "INSERT INTO t VALUES (1, '2024-01-01 10:00:00', x'00ff')"),
			b:          dt.SQLite(dir, "CREATE TABLE t (id INTEGER PRIMARY KEY, built TEXT, v BLOB)", "INSERT INTO t VALUES (1, '2024-02-02 11:30:00', x'00ff')"),
			wantLeaves: []string{"content b.db [sqlite rows]"}, wantCauses: []string{"timestamps"},
			check: func(t *testing.T, s *diff.Summary) {
				n := findNode(s.Root, "[sqlite rows]")
				if !strings.Contains(n.Unified, `-INSERT INTO "t" VALUES(1,'2024-01-01 10:00:00',X'00ff');`) {
					t.Errorf("rows diff:\n%s", n.Unified)
				}
			}},
		{name: "sqlite schema", nameA: "a.db", nameB: "b.db",
			a:          dt.SQLite(dir, "CREATE TABLE t (id INTEGER)"),
			b:          dt.SQLite(dir, "CREATE TABLE t (id INTEGER, extra TEXT)"),
			wantLeaves: []string{"content b.db [sqlite schema]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkPair(t, tc, runPair(t, tc))
		})
	}
}
