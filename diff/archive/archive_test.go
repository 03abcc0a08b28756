package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/diff/archive/archivetest"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

var entries = []dt.Entry{
	{Name: "p/", Type: tar.TypeDir},
	{Name: "p/a", Body: []byte("hello")},
	{Name: "p/l", Type: tar.TypeSymlink, Linkname: "a"},
}

func TestDetect(t *testing.T) {
	tarball := dt.Tar(tar.FormatPAX, entries...)
	tests := []struct {
		name string
		data []byte
		comp archive.Compression
		fmt  archive.Format
	}{
		{"tar", tarball, archive.None, archive.Tar},
		{"v7 tar", dt.Tar(tar.FormatUSTAR, entries[1]), archive.None, archive.Tar},
		{"zip", dt.Zip(6, entries...), archive.None, archive.Zip},
		{"jmod", append([]byte("JM\x01\x00"), dt.Zip(6, entries[1])...), archive.None, archive.Zip},
		{"ar", dt.Ar(entries[1]), archive.None, archive.Ar},
		{"cpio newc", dt.Cpio(entries...), archive.None, archive.Cpio},
		{"cpio odc", odc(t, entries[1]), archive.None, archive.Cpio},
		{"cpio binary", binCpio(entries[1]), archive.None, archive.Cpio},
		{"gzip", dt.Gzip(tarball, 6, "", dt.Epoch), archive.Gzip, ""},
		{"xz", dt.XZ(tarball, xz.CRC64), archive.XZ, ""},
		{"zstd", dt.Zstd(tarball, zstd.SpeedDefault, true), archive.Zstd, ""},
		{"bzip2", dt.Bzip2(tarball, 9), archive.Bzip2, ""},
		{"lzma", dt.LZMA(tarball, 1<<16), archive.LZMA, ""},
		{"text", []byte("hello, world\n"), archive.None, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := archive.DetectCompression(tt.data); got != tt.comp {
				t.Errorf("DetectCompression = %q, want %q", got, tt.comp)
			}
			if tt.comp == archive.None {
				if got := archive.DetectFormat(tt.data); got != tt.fmt {
					t.Errorf("DetectFormat = %q, want %q", got, tt.fmt)
				}
			}
		})
	}
}

// list reads every entry of data and its content: "name type mode size
// [-> link] body".
func list(t *testing.T, data []byte, lim archive.Limits) ([]string, error) {
	t.Helper()
	r, err := archive.Open(bytes.NewReader(data), int64(len(data)), "in", lim)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []string
	for {
		h, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		body, err := io.ReadAll(r)
		if err != nil {
			return out, err
		}
		line := fmt.Sprintf("%s %s %04o %d", h.Name, h.Type, h.Mode.Perm(), h.Size)
		if h.Linkname != "" {
			line += " -> " + h.Linkname
		}
		if h.Type == archive.TypeFile {
			line += " " + string(body)
		}
		out = append(out, line)
	}
}

// Every format lists the same entries, through Open and through a
// compression layer.
func TestIterate(t *testing.T) {
	want := []string{"p/ dir 0755 0", "p/a file 0644 5 hello", "p/l symlink 0777 1 -> a"}
	tarball := dt.Tar(tar.FormatPAX, entries...)
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"tar", tarball, []string{"p/ dir 0755 0", "p/a file 0644 5 hello", "p/l symlink 0644 0 -> a"}},
		{"tar.gz", dt.Gzip(tarball, 6, "", dt.Epoch), []string{"p/ dir 0755 0", "p/a file 0644 5 hello", "p/l symlink 0644 0 -> a"}},
		{"tar.xz.gz (nested)", dt.Gzip(dt.XZ(tarball, xz.CRC32), 1, "", dt.Epoch), []string{"p/ dir 0755 0", "p/a file 0644 5 hello", "p/l symlink 0644 0 -> a"}},
		{"zip", dt.Zip(6, entries[:2]...), []string{"p/ dir 0755 0", "p/a file 0644 5 hello"}},
		{"cpio newc", dt.Cpio(entries...), want},
		{"cpio odc", odc(t, entries...), want},
		{"cpio binary", binCpio(entries...), want},
		{"ar", dt.Ar(dt.Entry{Name: "a-long-member-name.o", Body: []byte("x")}, dt.Entry{Name: "b", Body: []byte("yz")}),
			[]string{"a-long-member-name.o file 0644 1 x", "b file 0644 2 yz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := list(t, tt.data, archive.Limits{})
			if err != nil {
				t.Fatalf("listing: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

// In-place contents: an uncompressed tar, ar or cpio gives each file's
// offset, so a lister can read it without the iterator.
func TestOffsets(t *testing.T) {
	for name, data := range map[string][]byte{
		"tar": dt.Tar(tar.FormatGNU, entries...), "cpio odc": odc(t, entries...), "cpio newc": dt.Cpio(entries...),
		"cpio binary": binCpio(entries...), "ar": dt.Ar(entries[1]),
	} {
		r, err := archive.Open(bytes.NewReader(data), int64(len(data)), name, archive.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for {
			h, err := r.Next()
			if err != nil {
				break
			}
			if h.Type == archive.TypeFile {
				found = true
				if h.Offset < 0 || string(data[h.Offset:h.Offset+h.Size]) != "hello" {
					t.Errorf("%s: entry %s at offset %d does not hold its content", name, h.Name, h.Offset)
				}
			}
		}
		if !found {
			t.Errorf("%s: no file entry listed", name)
		}
	}
}

func limitErr(t *testing.T, err error, limit string) *archive.LimitError {
	t.Helper()
	var le *archive.LimitError
	if !errors.As(err, &le) || le.Limit != limit || !errors.Is(err, archive.ErrLimit) {
		t.Fatalf("error = %v, want a %q limit error", err, limit)
	}
	if !strings.Contains(err.Error(), "--"+le.Flag) || le.Flag == "" {
		t.Errorf("error %q does not name the flag that raises it", err)
	}
	return le
}

// Each limit refuses an input just past it and lets one at it pass.
func TestLimits(t *testing.T) {
	many := make([]dt.Entry, 11)
	for i := range many {
		many[i] = dt.Entry{Name: fmt.Sprintf("f%d", i), Body: []byte("x")}
	}
	long := strings.Repeat("n", 120)
	var nested = dt.Tar(tar.FormatPAX, entries...)
	for range 3 {
		nested = dt.Gzip(nested, 1, "", dt.Epoch)
	}
	big := dt.Tar(tar.FormatPAX, dt.Entry{Name: "big", Body: bytes.Repeat([]byte("ab"), 1000)})
	tests := []struct {
		name      string
		data      []byte
		limit     string
		tight, ok archive.Limits
		entry     string
	}{
		{"entries", dt.Tar(tar.FormatPAX, many...), "entry count", archive.Limits{MaxEntries: 10}, archive.Limits{MaxEntries: 11}, "f10"},
		{"name length", dt.Tar(tar.FormatPAX, dt.Entry{Name: long}), "name length", archive.Limits{MaxNameLen: 119}, archive.Limits{MaxNameLen: 120}, long},
		{"link length", dt.Tar(tar.FormatPAX, dt.Entry{Name: "l", Type: tar.TypeSymlink, Linkname: long}), "name length", archive.Limits{MaxNameLen: 119}, archive.Limits{MaxNameLen: 120}, "l"},
		{"depth", nested, "nesting depth", archive.Limits{MaxDepth: 2}, archive.Limits{MaxDepth: 3}, ""},
		{"bytes claimed", big, "total bytes", archive.Limits{MaxBytes: 1999}, archive.Limits{MaxBytes: 2000}, "big"},
		// The stream's own meter fires while the first header is peeked: no entry yet.
		{"bytes decompressed", dt.Gzip(big, 9, "", dt.Epoch), "total bytes", archive.Limits{MaxBytes: 2000}, archive.Limits{MaxBytes: 4000}, ""},
		{"ratio", dt.Gzip(big, 9, "", dt.Epoch), "compression ratio", archive.Limits{MaxRatio: 2, RatioGrace: 100}, archive.Limits{MaxRatio: 1000, RatioGrace: 100}, ""},
		{"xz dictionary", xzDict(t, big, 8<<20), "decoder memory", archive.Limits{MaxDecoderMemory: 4 << 20}, archive.Limits{MaxDecoderMemory: 8 << 20}, ""},
		{"lzma dictionary", dt.LZMA(big, 1<<20), "decoder memory", archive.Limits{MaxDecoderMemory: 1 << 19}, archive.Limits{MaxDecoderMemory: 1 << 20}, ""},
		{"zstd window", zstdWindow(t, bytes.Repeat(dt.Random(1<<20, 1), 3), 1<<22), "decoder memory", archive.Limits{MaxDecoderMemory: 1 << 20}, archive.Limits{MaxDecoderMemory: 4 << 20}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := readAll(tt.data, tt.ok); err != nil && !strings.Contains(err.Error(), "holds no archive") {
				t.Fatalf("under a limit it fits: %v", err)
			}
			_, err := readAll(tt.data, tt.tight)
			le := limitErr(t, err, tt.limit)
			if le.Input != "in" || le.Entry != tt.entry {
				t.Errorf("error names %q, entry %q; want %q, entry %q: %v", le.Input, le.Entry, "in", tt.entry, err)
			}
		})
	}
}

// readAll reads every entry's content, or the stream when it holds no archive.
func readAll(data []byte, lim archive.Limits) (int64, error) {
	r, err := archive.NewReader(bytes.NewReader(data), "in", lim)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var n int64
	for {
		if _, err := r.Next(); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		k, err := io.Copy(io.Discard, r)
		n += k
		if err != nil {
			return n, err
		}
	}
}

// blocksOf is the disk space the files under dir take.
func blocksOf(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			var st syscall.Stat_t
			if syscall.Lstat(p, &st) == nil {
				total += st.Blocks * 512
			}
		}
		return nil
	})
	return total
}

// A 10 KiB GNU sparse tar that claims 10 GiB is refused by the ratio
// limit after its grace, and its holes are never written as blocks.
func TestSparseBomb(t *testing.T) {
	data := archivetest.SparseTar("big", 10<<30, bytes.Repeat([]byte("data"), 2048))
	if len(data) > 10<<10+2048 {
		t.Fatalf("the archive is %d bytes; want about 10 KiB", len(data))
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "sparse.tar")
	os.WriteFile(p, data, 0o644)
	dst := filepath.Join(dir, "dst")
	err := archive.ExtractFile(context.Background(), p, dst, archive.ExtractOptions{})
	le := limitErr(t, err, "compression ratio")
	if le.Entry != "big" || le.Input != p {
		t.Errorf("error names %q entry %q, want %q entry big", le.Input, le.Entry, p)
	}
	if n := blocksOf(t, dst); n > 1<<20 {
		t.Errorf("%d bytes of disk written for a refused sparse file; want under 1 MiB", n)
	}
	if _, err := os.Lstat(filepath.Join(dst, "big")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused entry was left behind: %v", err)
	}
}

// A gzip bomb (deflate peaks at 1031:1) is refused by the ratio once the
// grace is spent, long before its whole size is written: the input is read
// in 64 KiB chunks, so the ratio passes 1000:1 within one chunk's worth of
// output (64 MiB) after the grace.
func TestGzipBomb(t *testing.T) {
	data := archivetest.GzipBomb("zeros", 200<<20)
	dir := t.TempDir()
	p := filepath.Join(dir, "bomb.tar.gz")
	os.WriteFile(p, data, 0o644)
	r, err := archive.NewReader(bytes.NewReader(data), p, archive.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	le := limitErr(t, err, "compression ratio")
	if le.Entry != "zeros" {
		t.Errorf("error names entry %q, want zeros", le.Entry)
	}
	grace := archive.DefaultLimits().RatioGrace
	if n > 2*grace {
		t.Errorf("%d bytes read before the refusal, want at most the %d grace and one chunk's output", n, grace)
	}
	err = archive.ExtractFile(context.Background(), p, filepath.Join(dir, "dst"), archive.ExtractOptions{})
	limitErr(t, err, "compression ratio")
}

// Set-id, sticky and world-writable bits never reach the disk; folders
// keep owner rwx.
func TestExtractModes(t *testing.T) {
	data := dt.Tar(tar.FormatPAX,
		dt.Entry{Name: "d/", Type: tar.TypeDir, Mode: 0o1777},
		dt.Entry{Name: "d/suid", Body: []byte("x"), Mode: 0o4755},
		dt.Entry{Name: "d/sgid", Body: []byte("x"), Mode: 0o2755},
		dt.Entry{Name: "d/open", Body: []byte("x"), Mode: 0o666},
		dt.Entry{Name: "ro/", Type: tar.TypeDir, Mode: 0o555},
	)
	dir := t.TempDir()
	p := filepath.Join(dir, "a.tar")
	os.WriteFile(p, data, 0o644)
	dst := filepath.Join(dir, "dst")
	if err := archive.ExtractFile(context.Background(), p, dst, archive.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range []string{"d", "d/suid", "d/sgid", "d/open", "ro"} {
		fi, err := os.Lstat(filepath.Join(dst, n))
		if err != nil {
			t.Fatal(err)
		}
		got[n] = fmt.Sprintf("%v", fi.Mode())
	}
	want := map[string]string{"d": "drwxrwxr-x", "d/suid": "-rwxr-xr-x", "d/sgid": "-rwxr-xr-x", "d/open": "-rw-rw-r--", "ro": "drwxr-xr-x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("modes on disk (-want +got):\n%s", diff)
	}
}

func TestMatchName(t *testing.T) {
	for in, want := range map[string]string{"./a/b": "a/b", "/a//b/": "a/b", "a/./b": "a/b", "../a": "../a", "./": ""} {
		if got := archive.MatchName(in); got != want {
			t.Errorf("MatchName(%q) = %q, want %q", in, got, want)
		}
	}
}

func xzDict(t *testing.T, data []byte, dict int) []byte {
	var buf bytes.Buffer
	w, err := xz.WriterConfig{DictCap: dict}.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func zstdWindow(t *testing.T, data []byte, window int) []byte {
	w, err := zstd.NewWriter(nil, zstd.WithWindowSize(window), zstd.WithEncoderConcurrency(1), zstd.WithSingleSegment(false))
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(data, nil)
}

func cpioEntries(es ...dt.Entry) []archivetest.CpioEntry {
	var out []archivetest.CpioEntry
	for _, e := range es {
		c := archivetest.CpioEntry{Name: e.Name, Mode: 0o100644, Body: e.Body, MTime: dt.Epoch.Unix()}
		switch e.Type {
		case tar.TypeDir:
			c.Mode = 0o040755
		case tar.TypeSymlink:
			c.Mode, c.Body = 0o120777, []byte(e.Linkname)
		}
		out = append(out, c)
	}
	return out
}

func odc(_ *testing.T, es ...dt.Entry) []byte { return archivetest.CpioODC(cpioEntries(es...)...) }
func binCpio(es ...dt.Entry) []byte           { return archivetest.CpioBinary(cpioEntries(es...)...) }
