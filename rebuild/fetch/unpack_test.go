package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/diff/archive/archivetest"
)

// snapshot describes every path under dir: "dir 0755", "file 0644 body",
// "link -> target".
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			got[rel] = "link -> " + target
		case fi.IsDir():
			got[rel] = fmt.Sprintf("dir %04o", fi.Mode().Perm())
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got[rel] = fmt.Sprintf("file %04o %s", fi.Mode().Perm(), b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return got
}

// sandboxDirs makes base/{archive,dst,outside/sentinel} and returns a check
// that nothing was written beside dst.
func sandboxDirs(t testing.TB, archive []byte) (arch, dst, outside string, check func()) {
	t.Helper()
	base := t.TempDir()
	arch = filepath.Join(base, "archive")
	dst = filepath.Join(base, "dst")
	outside = filepath.Join(base, "outside")
	if err := os.WriteFile(arch, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "sentinel"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	return arch, dst, outside, func() {
		t.Helper()
		var names []string
		ents, err := os.ReadDir(base)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		want := []string{"archive", "dst", "outside"}
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			want = []string{"archive", "outside"} // refused before dst was made
		}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("something was written beside dst (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"sentinel": "file 0644 keep"}, snapshot(t, outside)); diff != "" {
			t.Errorf("the folder beside dst changed (-want +got):\n%s", diff)
		}
		if b, _ := os.ReadFile(filepath.Join(outside, "sentinel")); string(b) != "keep" {
			t.Errorf("sentinel outside dst = %q, want %q", b, "keep")
		}
	}
}

func TestUnpackFormats(t *testing.T) {
	entries := []entry{
		dir("pkg/", 0o755),
		dir("pkg/bin/", 0o750),
		file("pkg/bin/tool", "#!/bin/sh\necho hi\n", 0o755),
		file("pkg/README", "read me", 0o644),
		file("pkg/secret", "ro", 0o400),
		symlink("pkg/bin/alias", "tool"),
		symlink("pkg/docs", "README"),
		symlink("pkg/bin/up", "../README"),
	}
	want := map[string]string{
		"pkg":           "dir 0755",
		"pkg/bin":       "dir 0750",
		"pkg/bin/tool":  "file 0755 #!/bin/sh\necho hi\n",
		"pkg/README":    "file 0644 read me",
		"pkg/secret":    "file 0400 ro",
		"pkg/bin/alias": "link -> tool",
		"pkg/docs":      "link -> README",
		"pkg/bin/up":    "link -> ../README",
	}
	for _, format := range allFormats {
		t.Run(string(format), func(t *testing.T) {
			data := makeArchive(t, format, entries)
			if got := DetectFormat(data); got != format {
				t.Errorf("DetectFormat = %q, want %q", got, format)
			}
			arch, dst, _, check := sandboxDirs(t, data)
			if err := Unpack(context.Background(), arch, dst); err != nil {
				t.Fatalf("Unpack: %v", err)
			}
			check()
			if diff := cmp.Diff(want, snapshot(t, dst)); diff != "" {
				t.Errorf("unpacked tree (-want +got):\n%s", diff)
			}
			fi, err := os.Stat(filepath.Join(dst, "pkg/bin/tool"))
			if err != nil {
				t.Fatal(err)
			}
			if !fi.ModTime().Equal(epoch) {
				t.Errorf("mtime of pkg/bin/tool = %v, want %v", fi.ModTime(), epoch)
			}
		})
	}
}

func TestUnpackHardlinkAndReplace(t *testing.T) {
	data := makeTar(t, []entry{
		file("a", "first", 0o644),
		hardlink("b", "a"),
		file("b", "second", 0o600), // replaces the link; must not write through it into a
		file("c", "old", 0o644),
		file("c", "new", 0o644),
		hardlink("./d", "./a"),
	})
	arch, dst, _, check := sandboxDirs(t, data)
	if err := Unpack(context.Background(), arch, dst); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	check()
	want := map[string]string{
		"a": "file 0644 first",
		"b": "file 0600 second",
		"c": "file 0644 new",
		"d": "file 0644 first",
	}
	if diff := cmp.Diff(want, snapshot(t, dst)); diff != "" {
		t.Errorf("unpacked tree (-want +got):\n%s", diff)
	}
	a, _ := os.Stat(filepath.Join(dst, "a"))
	d, _ := os.Stat(filepath.Join(dst, "d"))
	if !os.SameFile(a, d) {
		t.Errorf("d is not a hard link to a")
	}
}

// hostile archives: each must be refused, naming the entry, with nothing
// written outside dst.
func TestUnpackHostile(t *testing.T) {
	absOutside := "/ABS_OUTSIDE/x" // replaced by the real path beside dst
	tests := []struct {
		name    string
		entries []entry
		zip     bool   // also build it as a zip
		entry   string // the entry the error must name
		unsafe  bool   // wraps ErrUnsafeEntry
	}{
		{"dotdot file", []entry{file("../x", "evil", 0o644)}, true, "../x", true},
		{"dotdot inside", []entry{dir("a/", 0o755), file("a/../../outside/x", "evil", 0o644)}, true, "a/../../outside/x", true},
		{"absolute etc", []entry{file("/etc/x", "evil", 0o644)}, true, "/etc/x", true},
		{"absolute beside", []entry{file(absOutside, "evil", 0o644)}, true, absOutside, true},
		{"symlink out then file through it", []entry{symlink("l", "../outside"), file("l/x", "evil", 0o644)}, true, "l", true},
		{"absolute symlink then file through it", []entry{symlink("l", "/ABS_OUTSIDE"), file("l/x", "evil", 0o644)}, true, "l", true},
		{"symlink to dotdot", []entry{symlink("l", ".."), file("l/outside/x", "evil", 0o644)}, true, "l", true},
		{"deep symlink climbing too far", []entry{symlink("a/b/l", "../../../outside")}, true, "a/b/l", true},
		{"symlink chain", []entry{symlink("a", "."), symlink("b", "a/.."), file("b/outside/x", "evil", 0o644)}, true, "b", true},
		{"inside symlink then file through it", []entry{dir("d/", 0o755), symlink("l", "d"), file("l/x", "evil", 0o644)}, true, "l/x", true},
		{"hardlink out", []entry{hardlink("h", "../outside/sentinel")}, false, "h", true},
		{"hardlink absolute", []entry{hardlink("h", "/ABS_OUTSIDE/sentinel")}, false, "h", true},
		{"hardlink through symlink", []entry{symlink("l", "."), hardlink("h", "l/../outside/sentinel")}, false, "h", true},
		{"hardlink to symlink", []entry{symlink("l", "x"), hardlink("h", "l")}, false, "h", true},
		{"dir replacing symlink", []entry{symlink("l", "x"), dir("l/", 0o755)}, true, "l/", false},
		{"file replacing dir", []entry{dir("d/", 0o755), file("d", "x", 0o644)}, true, "d", false},
		{"device", []entry{{name: "dev", typ: '3', mode: 0o644}}, false, "dev", false},
	}
	for _, tt := range tests {
		formats := []Format{FormatTar, FormatTarGzip}
		if tt.zip {
			formats = append(formats, FormatZip)
		}
		for _, format := range formats {
			t.Run(tt.name+"/"+string(format), func(t *testing.T) {
				// Absolute names point at the real folder beside dst, so a
				// naive extractor would visibly write there.
				arch, dst, outside, check := sandboxDirs(t, nil)
				var entries []entry
				for _, e := range tt.entries {
					e.name = strings.ReplaceAll(e.name, "/ABS_OUTSIDE", outside)
					e.link = strings.ReplaceAll(e.link, "/ABS_OUTSIDE", outside)
					entries = append(entries, e)
				}
				wantEntry := strings.ReplaceAll(tt.entry, "/ABS_OUTSIDE", outside)
				if err := os.WriteFile(arch, makeArchive(t, format, entries), 0o644); err != nil {
					t.Fatal(err)
				}
				err := Unpack(context.Background(), arch, dst)
				check()
				if _, serr := os.Lstat("/etc/x"); serr == nil && tt.name == "absolute etc" {
					t.Errorf("/etc/x exists after unpacking")
				}
				if err == nil {
					t.Fatalf("Unpack succeeded, want it refused; tree: %v", snapshot(t, dst))
				}
				var ee *EntryError
				if !errors.As(err, &ee) {
					t.Fatalf("error %v is not an *EntryError", err)
				}
				if diff := cmp.Diff(struct{ Archive, Entry string }{arch, wantEntry}, struct{ Archive, Entry string }{ee.Archive, ee.Entry}); diff != "" {
					t.Errorf("error names (-want +got):\n%s\nerror: %v", diff, err)
				}
				if got := errors.Is(err, ErrUnsafeEntry); got != tt.unsafe {
					t.Errorf("errors.Is(err, ErrUnsafeEntry) = %v, want %v; error: %v", got, tt.unsafe, err)
				}
				if !strings.Contains(err.Error(), arch) || !strings.Contains(err.Error(), wantEntry) {
					t.Errorf("error %q does not name the archive and the entry", err)
				}
			})
		}
	}
}

func TestUnpackNotAnArchive(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"text", []byte("just some text\n"), "not a tar, tar.gz"},
		{"gzip of text", compress(t, FormatTarGzip, []byte("plain text, not a tar")), "the gzip stream holds no archive"},
		{"truncated gzip", compress(t, FormatTarGzip, makeTar(t, []entry{file("a", strings.Repeat("x", 4096), 0o644)}))[:40], "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arch, dst, _, check := sandboxDirs(t, tt.data)
			err := Unpack(context.Background(), arch, dst)
			check()
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), arch) {
				t.Errorf("Unpack error = %v, want one naming %s and containing %q", err, arch, tt.want)
			}
		})
	}
}

// FuzzUnpack feeds arbitrary bytes to Unpack: it must never panic and never
// write outside dst, and every link left in dst must resolve inside it.
func FuzzUnpack(f *testing.F) {
	good := []entry{
		dir("p/", 0o755), file("p/a", "hello", 0o755), symlink("p/l", "a"),
		hardlink("p/h", "p/a"), symlink("p/q/up", "../a"),
	}
	hostile := [][]entry{
		{file("../x", "evil", 0o644)},
		{file("/tmp/reprove-fuzz-abs", "evil", 0o644)},
		{symlink("l", "../outside"), file("l/x", "evil", 0o644)},
		{symlink("a", "."), symlink("b", "a/.."), file("b/outside/x", "evil", 0o644)},
		{hardlink("h", "../outside/sentinel")},
		{file("a", "x", 0o644), hardlink("b", "a"), file("b", "y", 0o644)},
	}
	for _, format := range allFormats {
		f.Add(makeArchive(f, format, good))
	}
	for _, h := range hostile {
		f.Add(makeTar(f, h))
		f.Add(makeZip(f, h))
		f.Add(compress(f, FormatTarGzip, makeTar(f, h)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		arch, dst, _, check := sandboxDirs(t, data)
		// Errors are fine; escapes are not. The small limit keeps bombs
		// (sparse entries, compression) from filling the disk.
		_ = UnpackWith(context.Background(), arch, dst, UnpackOptions{MaxBytes: 8 << 20})
		check()
		if _, err := os.Lstat("/tmp/reprove-fuzz-abs"); err == nil {
			t.Fatalf("an absolute entry was written")
		}
		if _, err := os.Stat(dst); err != nil {
			return
		}
		root, err := os.OpenRoot(dst)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		err = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return err
			}
			rel, _ := filepath.Rel(dst, p)
			// os.Root refuses to follow a link out of dst.
			if _, err := root.Stat(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("link %s does not stay inside dst: %v", rel, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// A small archive that claims many bytes is refused at the limit, naming
// the entry, whether the bytes come from compression or a sparse entry.
func TestUnpackLimit(t *testing.T) {
	base := t.TempDir()
	big := filepath.Join(base, "src", "big")
	if err := os.MkdirAll(filepath.Dir(big), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(createEmpty(t, big), 64<<20); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(base, "sparse.tar")
	if out, err := exec.Command("tar", "--sparse", "-C", filepath.Dir(big), "-cf", sparse, "big").CombinedOutput(); err != nil {
		t.Fatalf("GNU tar --sparse (apt-get install -y tar): %v\n%s", err, out)
	}
	zeros := compress(t, FormatTarZstd, makeTar(t, []entry{file("zeros", string(make([]byte, 16<<20)), 0o644)}))
	tests := []struct {
		name  string
		data  func() []byte
		entry string
	}{
		{"sparse tar", func() []byte { b, _ := os.ReadFile(sparse); return b }, "big"},
		{"zstd of zeros", func() []byte { return zeros }, "zeros"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data()
			if len(data) > 1<<20 {
				t.Fatalf("the archive is %d bytes; the test wants a small one", len(data))
			}
			arch, dst, _, check := sandboxDirs(t, data)
			err := UnpackWith(context.Background(), arch, dst, UnpackOptions{MaxBytes: 1 << 20})
			check()
			var le *archive.LimitError
			if !errors.As(err, &le) || le.Entry != tt.entry || le.Input != arch || le.Flag != "max-unpack-size" ||
				!strings.Contains(err.Error(), "--max-unpack-size") {
				t.Fatalf("UnpackWith error = %v, want a limit error naming %s, %q and --max-unpack-size", err, arch, tt.entry)
			}
			// The same archive unpacks under a limit it fits in.
			dst2 := filepath.Join(t.TempDir(), "dst")
			if err := UnpackWith(context.Background(), arch, dst2, UnpackOptions{MaxBytes: 128 << 20}); err != nil {
				t.Fatalf("UnpackWith a large enough limit: %v", err)
			}
		})
	}
}

func createEmpty(t testing.TB, p string) string {
	t.Helper()
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tenGiBSparse is a 10 KiB GNU sparse tar whose one member claims 10 GiB.
func tenGiBSparse() []byte {
	return archivetest.SparseTar("big", 10<<30, bytes.Repeat([]byte("data"), 2048))
}

// A 10 KiB sparse tar claiming 10 GiB, as a source with unpack: true, is
// refused by the ratio limit naming the entry and the flag, with no tree
// left in the cache and its holes never written as blocks.
func TestUnpackSparseBomb(t *testing.T) {
	data := tenGiBSparse()
	arch, dst, _, check := sandboxDirs(t, data)
	err := Unpack(context.Background(), arch, dst)
	check()
	var le *archive.LimitError
	if !errors.As(err, &le) || le.Entry != "big" || le.Limit != "compression ratio" || !strings.Contains(err.Error(), "--max-unpack-ratio") {
		t.Fatalf("Unpack error = %v, want a compression ratio limit error naming big and --max-unpack-ratio", err)
	}
	if n := diskUsage(t, dst); n > 1<<20 {
		t.Errorf("%d bytes of disk used by the refused tree, want under 1 MiB", n)
	}

	c := newCache(t)
	p := filepath.Join(t.TempDir(), "src.tar")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = New(c).Fetch(context.Background(), Request{URI: "file://" + p, Digest: sha(data), Unpack: true, Dir: filepath.Dir(p)})
	if !errors.As(err, &le) || le.Entry != "big" {
		t.Fatalf("Fetch with unpack error = %v, want the ratio limit error", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(c.Root, "trees", "unpack")); len(ents) != 0 {
		t.Errorf("a refused archive left %d trees in the cache", len(ents))
	}
}

// diskUsage is the disk space the files under dir take.
func diskUsage(t testing.TB, dir string) int64 {
	t.Helper()
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		var st syscall.Stat_t
		if err == nil && syscall.Lstat(p, &st) == nil {
			total += st.Blocks * 512
		}
		return nil
	})
	return total
}
