package archive_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/diff/archive/archivetest"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

// fuzzLimits keep every fuzz input small: a bomb stops at a few MiB.
var fuzzLimits = archive.Limits{MaxBytes: 8 << 20, RatioGrace: 1 << 20, MaxEntries: 1000, MaxDecoderMemory: 8 << 20}

// fuzzSeeds: every format, plus sparse, duplicate-name, nested and
// truncated archives.
func fuzzSeeds(f *testing.F) {
	tarball := dt.Tar(tar.FormatPAX, entries...)
	dup := dt.Tar(tar.FormatGNU, dt.Entry{Name: "x", Body: []byte("1")}, dt.Entry{Name: "x", Body: []byte("2")}, dt.Entry{Name: "./x", Type: tar.TypeDir})
	for _, s := range [][]byte{
		tarball, dup, dt.Zip(6, entries[:2]...), dt.Ar(entries[1]), dt.Cpio(entries...),
		archivetest.CpioODC(cpioEntries(entries...)...), archivetest.CpioBinary(cpioEntries(entries...)...),
		archivetest.SparseTar("s", 1<<40, []byte("tail")),
		dt.Gzip(dt.XZ(tarball, 1), 1, "", dt.Epoch), dt.Zstd(dup, zstd.SpeedFastest, true), dt.LZMA(tarball, 1<<12), dt.Bzip2(tarball, 1),
		tarball[:700], dt.Gzip(tarball, 6, "", dt.Epoch)[:30],
		dt.Tar(tar.FormatPAX, dt.Entry{Name: "../x", Body: []byte("e")}, dt.Entry{Name: "l", Type: tar.TypeSymlink, Linkname: "../.."}, dt.Entry{Name: "h", Type: tar.TypeLink, Linkname: "/etc/passwd"}),
	} {
		f.Add(s)
	}
}

// FuzzReader iterates arbitrary bytes: it never panics, never passes its
// limits, and reports every refusal as an error.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, open := range []func() (*archive.Reader, error){
			func() (*archive.Reader, error) {
				return archive.Open(bytes.NewReader(data), int64(len(data)), "in", fuzzLimits)
			},
			func() (*archive.Reader, error) { return archive.NewReader(bytes.NewReader(data), "in", fuzzLimits) },
		} {
			r, err := open()
			if err != nil {
				continue
			}
			var total int64
			for {
				h, err := r.Next()
				if err != nil {
					break
				}
				if int64(len(h.Name)) > archive.DefaultLimits().MaxNameLen {
					t.Fatalf("a name of %d bytes passed the limit", len(h.Name))
				}
				n, _ := io.Copy(io.Discard, r)
				total += n
			}
			r.Close()
			if total > fuzzLimits.MaxBytes {
				t.Fatalf("%d bytes read past the %d limit", total, fuzzLimits.MaxBytes)
			}
		}
	})
}

// FuzzExtract extracts arbitrary bytes: never a panic, nothing written
// outside the destination, every link left inside it, no set-id or
// world-writable bit on disk.
func FuzzExtract(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		p := filepath.Join(base, "in")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(base, "dst")
		_ = archive.ExtractFile(context.Background(), p, dst, archive.ExtractOptions{Limits: fuzzLimits})
		ents, _ := os.ReadDir(base)
		if len(ents) > 2 {
			t.Fatalf("something was written beside dst: %v", ents)
		}
		root, err := os.OpenRoot(dst)
		if err != nil {
			return
		}
		defer root.Close()
		filepath.WalkDir(dst, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(dst, q)
			fi, err := os.Lstat(q)
			if err != nil {
				return nil
			}
			if fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 || fi.Mode()&fs.ModeSymlink == 0 && fi.Mode().Perm()&0o002 != 0 {
				t.Errorf("%s has mode %v on disk", rel, fi.Mode())
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if _, err := root.Stat(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("link %s does not stay inside dst: %v", rel, err)
				}
			}
			return nil
		})
	})
}

// FuzzReadRPM: the RPM header reader never panics, never reads past its
// input and never holds a header past the table size limit.
func FuzzReadRPM(f *testing.F) {
	f.Add(dt.RPM(dt.RPMSpec{Name: "x", Version: "1", Release: "1", BuildTime: dt.Epoch, BuildHost: "h", Files: entries[:1]}))
	f.Add(dt.RPM(dt.RPMSpec{}))
	lim := archive.Limits{MaxTableSize: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := archive.ReadRPM(bytes.NewReader(data), int64(len(data)), "fuzz.rpm", lim)
		if err == nil && (r.PayloadOffset > int64(len(data)) || r.PayloadOffset < 96) {
			t.Fatalf("payload offset %d outside the %d-byte input", r.PayloadOffset, len(data))
		}
	})
}

// A header claiming more than the table size limit is refused before it
// is read, with the limit and its flag named.
func TestReadRPMTableLimit(t *testing.T) {
	rpm := dt.RPM(dt.RPMSpec{Name: "x", Version: "1", Release: "1", BuildTime: dt.Epoch, BuildHost: "h", Files: entries[:1]})
	_, err := archive.ReadRPM(bytes.NewReader(rpm), int64(len(rpm)), "x.rpm", archive.Limits{MaxTableSize: 64})
	var le *archive.LimitError
	if !errors.As(err, &le) || le.Flag != "max-table-size" || le.Entry != "header" {
		t.Errorf("err = %v, want a table size LimitError for the header", err)
	}
	r, err := archive.ReadRPM(bytes.NewReader(rpm), int64(len(rpm)), "x.rpm", archive.Limits{})
	if err != nil || r.Header[0].Values[0] != "x" || r.Header[3].Values[0] != "1700000000" {
		t.Errorf("ReadRPM = %+v, %v; want NAME x and BUILDTIME 1700000000", r, err)
	}
}
