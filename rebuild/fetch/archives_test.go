package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io/fs"
	"os/exec"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// entry is one archive entry built by the test helpers.
type entry struct {
	name string
	typ  byte // tar type flag; zip: TypeDir, TypeSymlink or TypeReg
	body string
	link string
	mode int64
}

var epoch = time.Unix(1700000000, 0)

func file(name, body string, mode int64) entry {
	return entry{name: name, typ: tar.TypeReg, body: body, mode: mode}
}
func dir(name string, mode int64) entry { return entry{name: name, typ: tar.TypeDir, mode: mode} }
func symlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func hardlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeLink, link: target, mode: 0o644}
}

// makeTar writes entries as a tar stream, exactly as given (no cleaning).
func makeTar(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, ModTime: epoch, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// makeZip writes entries as a zip with Unix modes.
func makeZip(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: epoch}
		body := e.body
		switch e.typ {
		case tar.TypeDir:
			h.SetMode(fs.ModeDir | fs.FileMode(e.mode))
			h.Method = zip.Store
		case tar.TypeSymlink:
			h.SetMode(fs.ModeSymlink | 0o777)
			body = e.link
		default:
			h.SetMode(fs.FileMode(e.mode))
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatalf("zip header %q: %v", e.name, err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compress wraps a tar stream in format's compression.
func compress(t testing.TB, format Format, tarball []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch format {
	case FormatTar:
		return tarball
	case FormatTarGzip:
		w := gzip.NewWriter(&buf)
		w.Write(tarball)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case FormatTarXz:
		w, err := xz.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(tarball)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case FormatTarZstd:
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(tarball)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case FormatTarBzip2:
		// The standard library only reads bzip2: use the real tool.
		cmd := exec.Command("bzip2", "-c")
		cmd.Stdin = bytes.NewReader(tarball)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bzip2 (apt-get install -y bzip2): %v", err)
		}
		return out
	default:
		t.Fatalf("compress: unknown format %s", format)
	}
	return buf.Bytes()
}

// makeArchive builds entries in format (zip or a tar flavour).
func makeArchive(t testing.TB, format Format, entries []entry) []byte {
	t.Helper()
	if format == FormatZip {
		return makeZip(t, entries)
	}
	return compress(t, format, makeTar(t, entries))
}

var allFormats = []Format{FormatTar, FormatTarGzip, FormatTarXz, FormatTarZstd, FormatTarBzip2, FormatZip}
