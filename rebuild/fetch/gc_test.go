package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// gcCache holds three run folders, two blobs and a tree, of known ages.
func gcCache(t *testing.T) (*Cache, time.Time) {
	t.Helper()
	c := newCache(t)
	now := time.Now()
	dir := t.TempDir()
	for i, body := range []string{"old input\n", "new input\n"} {
		p := filepath.Join(dir, "in"+string(rune('a'+i)))
		must(t, os.WriteFile(p, []byte(body), 0o644))
		_, err := New(c).Fetch(context.Background(), Request{URI: "file:" + filepath.Base(p), Digest: sha([]byte(body)), Dir: dir})
		must(t, err)
	}
	tgz := makeArchive(t, FormatTarGzip, []entry{file("x", "y", 0o644)})
	must(t, os.WriteFile(filepath.Join(dir, "t.tgz"), tgz, 0o644))
	_, err := New(c).Fetch(context.Background(), Request{URI: "file:t.tgz", Digest: sha(tgz), Unpack: true, Dir: dir})
	must(t, err)
	for _, r := range []string{"r1", "r2", "r3"} {
		must(t, os.MkdirAll(filepath.Join(c.Root, "runs", r, "out"), 0o700))
		must(t, os.WriteFile(filepath.Join(c.Root, "runs", r, "build.log"), []byte("log of "+r), 0o600))
	}
	// Times are set after the walk: a walk lists folders, which may set
	// their access times to now.
	age := func(p string, d time.Duration) {
		var paths []string
		filepath.WalkDir(p, func(q string, _ os.DirEntry, _ error) error {
			paths = append(paths, q)
			return nil
		})
		for _, q := range paths {
			must(t, os.Chtimes(q, now.Add(-d), now.Add(-d)))
		}
	}
	age(c.BlobPath(mustParse(sha([]byte("old input\n")))), 40*24*time.Hour)
	age(filepath.Join(c.Root, "runs", "r1"), 3*time.Hour)
	age(filepath.Join(c.Root, "runs", "r2"), 2*time.Hour)
	age(filepath.Join(c.Root, "runs", "r3"), time.Hour)
	return c, now
}

func removed(ents []Entry, root string) []string {
	var out []string
	for _, e := range ents {
		if e.Removed {
			rel, _ := filepath.Rel(root, e.Path)
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out
}

func TestGC(t *testing.T) {
	c, now := gcCache(t)
	oldBlob, _ := filepath.Rel(c.Root, c.BlobPath(mustParse(sha([]byte("old input\n")))))
	ents, err := c.GC(GCOptions{KeepRuns: 1, OlderThan: 30 * 24 * time.Hour, Now: now, DryRun: true})
	must(t, err)
	want := []string{oldBlob, "runs/r1", "runs/r2"}
	if d := cmp.Diff(want, removed(ents, c.Root)); d != "" {
		t.Fatalf("dry run would remove (-want +got):\n%s", d)
	}
	if _, err := os.Stat(filepath.Join(c.Root, "runs", "r1")); err != nil {
		t.Fatal("a dry run removed something")
	}
	if _, err = c.GC(GCOptions{KeepRuns: 1, OlderThan: 30 * 24 * time.Hour, Now: now}); err != nil {
		t.Fatal(err)
	}
	left, err := c.Entries()
	must(t, err)
	var kinds []string
	for _, e := range left {
		kinds = append(kinds, e.Kind)
	}
	sort.Strings(kinds)
	if d := cmp.Diff([]string{"blob", "blob", "run", "tree/unpack"}, kinds); d != "" {
		t.Errorf("left after gc (-want +got):\n%s", d)
	}
	// A size cap removes the least recently used first.
	ents, err = c.GC(GCOptions{KeepRuns: 10, MaxSize: 1, Now: now, DryRun: true})
	must(t, err)
	if n := len(removed(ents, c.Root)); n != len(left) {
		t.Errorf("a 1-byte cap removes %d of %d entries, want all", n, len(left))
	}
}

// Listing the cache (cache ls, and gc's own walk) is not use: a run
// folder's last use stays what it was, so gc keeps the newest runs.
func TestListingIsNotUse(t *testing.T) {
	c, now := gcCache(t)
	used := func() map[string]time.Time {
		ents, err := c.Entries()
		must(t, err)
		m := map[string]time.Time{}
		for _, e := range ents {
			if e.Kind == "run" {
				m[filepath.Base(e.Path)] = e.Used
			}
		}
		return m
	}
	first, second := used(), used()
	for _, r := range []string{"r1", "r2", "r3"} {
		if !first[r].Equal(second[r]) {
			t.Errorf("%s: last use %v, then %v after the cache was listed", r, first[r], second[r])
		}
	}
	if want := now.Add(-3 * time.Hour); !first["r1"].Equal(want.Truncate(time.Second)) && !first["r1"].Equal(want) {
		t.Errorf("r1 last used %v, want %v", first["r1"], want)
	}
}

// gc never runs while another reprove uses the cache.
func TestGCWaitsForNoOne(t *testing.T) {
	c, now := gcCache(t)
	release, err := c.Hold()
	must(t, err)
	if _, err := c.GC(GCOptions{Now: now}); !errors.Is(err, ErrCacheBusy) {
		t.Fatalf("GC with the cache held: %v, want ErrCacheBusy", err)
	}
	if _, err := os.Stat(filepath.Join(c.Root, "runs", "r1")); err != nil {
		t.Fatal("GC removed a run folder while the cache was held")
	}
	release()
	if _, err := c.GC(GCOptions{Now: now}); err != nil {
		t.Fatalf("GC once released: %v", err)
	}
}
