package tree_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reprove/reprove/rebuild/tree"
)

// newEntry makes an entry folder with a small tree under root/.
func newEntry(t *testing.T) string {
	t.Helper()
	entry := t.TempDir()
	root := filepath.Join(entry, tree.RootName)
	for _, d := range []string{"bin", "src/pkg"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, data string, mode fs.FileMode) {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("bin/tool", "#!/bin/sh\necho hi\n", 0o755)
	write("src/pkg/a.go", "package pkg\n", 0o644)
	write("src/pkg/b.go", "package pkg // b\n", 0o644)
	if err := os.Symlink("../bin/tool", filepath.Join(root, "src/tool")); err != nil {
		t.Fatal(err)
	}
	return entry
}

func seal(t *testing.T, entry string) *tree.Record {
	t.Helper()
	rec, err := tree.Seal(context.Background(), entry, tree.Record{Kind: "unpack", Key: "k", From: "blob sha256:x"}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestVerifyAcceptsASealedTree(t *testing.T) {
	entry := newEntry(t)
	rec := seal(t, entry)
	if rec.Files != 7 || rec.Bytes != int64(len("#!/bin/sh\necho hi\n")+len("package pkg\n")+len("package pkg // b\n")) {
		t.Errorf("record counts: files %d bytes %d", rec.Files, rec.Bytes)
	}
	got, err := tree.Verify(context.Background(), entry, testKey)
	if err != nil {
		t.Fatalf("Verify of an untouched entry: %v", err)
	}
	if got.Digest != rec.Digest || got.From != "blob sha256:x" {
		t.Errorf("Verify returned %+v, want the sealed record %+v", got, rec)
	}
}

// Each way of poisoning a cached tree must be caught.
func TestVerifyCatchesEveryChange(t *testing.T) {
	root := func(e string) string { return filepath.Join(e, tree.RootName) }
	cases := map[string]func(t *testing.T, entry string){
		"content, same size": func(t *testing.T, e string) {
			os.Chmod(filepath.Join(root(e), "src/pkg/a.go"), 0o644)
			must(t, os.WriteFile(filepath.Join(root(e), "src/pkg/a.go"), []byte("package evl\n"), 0o644))
		},
		"mode": func(t *testing.T, e string) { must(t, os.Chmod(filepath.Join(root(e), "src/pkg/a.go"), 0o755)) },
		"link target": func(t *testing.T, e string) {
			must(t, os.Remove(filepath.Join(root(e), "src/tool")))
			must(t, os.Symlink("/bin/sh", filepath.Join(root(e), "src/tool")))
		},
		"added file":   func(t *testing.T, e string) { must(t, os.WriteFile(filepath.Join(root(e), "src/evil.go"), nil, 0o644)) },
		"removed file": func(t *testing.T, e string) { must(t, os.Remove(filepath.Join(root(e), "src/pkg/b.go"))) },
		"file replaced by a link": func(t *testing.T, e string) {
			must(t, os.Remove(filepath.Join(root(e), "src/pkg/b.go")))
			must(t, os.Symlink("a.go", filepath.Join(root(e), "src/pkg/b.go")))
		},
		"record digest rewritten": func(t *testing.T, e string) {
			must(t, os.Chmod(filepath.Join(e, tree.RecordName), 0o644))
			must(t, os.WriteFile(filepath.Join(e, tree.RecordName), []byte(`{"digest":"sha256:00"}`), 0o644))
		},
		"record removed": func(t *testing.T, e string) { must(t, os.Remove(filepath.Join(e, tree.RecordName))) },
		// The attacker rewrites the tree and a matching record, but cannot
		// sign it with the key kept outside the cache.
		"tree and record rewritten together": func(t *testing.T, e string) {
			must(t, os.WriteFile(filepath.Join(root(e), "src/evil.go"), nil, 0o644))
			must(t, os.Remove(filepath.Join(e, tree.RecordName)))
			_, err := tree.Seal(context.Background(), e, tree.Record{Kind: "unpack", Key: "k", From: "blob sha256:x"}, tree.Key("attacker-key-attacker-key-attack"))
			must(t, err)
		},
		"fifo added": func(t *testing.T, e string) {
			must(t, syscall.Mkfifo(filepath.Join(root(e), "src/fifo"), 0o644))
		},
	}
	for name, poison := range cases {
		t.Run(name, func(t *testing.T) {
			entry := newEntry(t)
			seal(t, entry)
			poison(t, entry)
			_, err := tree.Verify(context.Background(), entry, testKey)
			var ce *tree.CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, tree.ErrCorrupt) {
				t.Fatalf("Verify after %s: got %v, want a *CorruptError", name, err)
			}
			if ce.Entry != entry {
				t.Errorf("CorruptError.Entry = %q, want %q", ce.Entry, entry)
			}
		})
	}
}

func TestSealDropsDangerousBits(t *testing.T) {
	entry := newEntry(t)
	r := filepath.Join(entry, tree.RootName)
	must(t, os.Chmod(filepath.Join(r, "bin/tool"), 0o4755|fs.ModeSetuid))
	must(t, os.Chmod(filepath.Join(r, "bin/tool"), 0o755|fs.ModeSetuid|fs.ModeSetgid))
	must(t, os.Chmod(filepath.Join(r, "src/pkg/a.go"), 0o666))
	must(t, os.Chmod(filepath.Join(r, "src"), 0o777|fs.ModeSticky))
	seal(t, entry)
	for name, want := range map[string]fs.FileMode{
		"bin/tool":     0o755,
		"src/pkg/a.go": 0o664,
		"src":          fs.ModeDir | 0o775,
	} {
		fi, err := os.Stat(filepath.Join(r, name))
		if err != nil {
			t.Fatal(err)
		}
		got := fi.Mode() & (fs.ModeDir | fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		if got != want {
			t.Errorf("%s: mode %v after Seal, want %v", name, got, want)
		}
	}
}

func TestQuarantineKeepsTheEntry(t *testing.T) {
	entry := newEntry(t)
	seal(t, entry)
	qdir := filepath.Join(t.TempDir(), "quarantine")
	dst, err := tree.Quarantine(entry, qdir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(entry); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("entry still at %s after quarantine (err %v)", entry, err)
	}
	if filepath.Dir(dst) != qdir {
		t.Errorf("quarantined to %s, want a folder in %s", dst, qdir)
	}
	if _, err := tree.Verify(context.Background(), dst, testKey); err != nil {
		t.Errorf("the quarantined copy should be intact (it was not poisoned here): %v", err)
	}
}

func TestDigestIgnoresOwnersAndTimes(t *testing.T) {
	a, b := newEntry(t), newEntry(t)
	must(t, os.Chtimes(filepath.Join(b, tree.RootName, "bin/tool"), fsTime, fsTime))
	da, _, _, err := tree.Digest(context.Background(), filepath.Join(a, tree.RootName))
	must(t, err)
	db, _, _, err := tree.Digest(context.Background(), filepath.Join(b, tree.RootName))
	must(t, err)
	if da != db {
		t.Errorf("equal trees with different times have digests %s and %s", da, db)
	}
}

var (
	fsTime  = time.Unix(1700000000, 0)
	testKey = tree.Key("0123456789abcdef0123456789abcdef")
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkVerifyGoroot measures a warm Verify of the Go installation this
// test runs with (about the size of a toolchain tree: the target is
// ≤ 0.5 s for ~250 MB). It copies nothing: GOROOT is sealed in place into a
// record outside it.
func BenchmarkDigestGoroot(b *testing.B) {
	root := runtime.GOROOT()
	d, files, n, err := tree.Digest(context.Background(), root)
	if err != nil {
		b.Skipf("GOROOT %s cannot be hashed: %v", root, err)
	}
	b.SetBytes(n)
	b.ResetTimer()
	for b.Loop() {
		got, _, _, err := tree.Digest(context.Background(), root)
		if err != nil || got != d {
			b.Fatalf("digest changed: %s %v", got, err)
		}
	}
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(n)/(1<<20), "MiB")
}

func TestLoadKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cfg", "cache.key")
	k1, err := tree.LoadKey(p)
	must(t, err)
	k2, err := tree.LoadKey(p)
	must(t, err)
	if string(k1) != string(k2) || len(k1) < 32 {
		t.Fatalf("LoadKey made %x then read %x", k1, k2)
	}
	fi, err := os.Stat(p)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	must(t, os.Chmod(p, 0o644))
	if _, err := tree.LoadKey(p); err == nil || !strings.Contains(err.Error(), "readable or writable by others") {
		t.Errorf("LoadKey of a world-readable key: %v, want a refusal", err)
	}
}
