package runc

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoopDisk is setting up and tearing down one build's disk in
// root mode: a sparse 16 GiB ext4 image copied from its template (made in
// the first round), attached to a loop device, mounted with out/ and
// tmp/, then unmounted and removed.
func BenchmarkLoopDisk(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("root mode only")
	}
	dir := b.TempDir()
	ids := IDMap{UID: DefaultHostID, GID: DefaultHostID, Size: DefaultIDs}
	for b.Loop() {
		d, err := newLoopDisk(context.Background(), dir, filepath.Join(dir, "img"), filepath.Join(dir, "disk"), 16<<30, ids)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// The loop disk refuses writes past its size with ENOSPC and reports
// itself full; closing it leaves neither mount nor image.
func TestLoopDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("root mode only")
	}
	dir := t.TempDir()
	d, err := newLoopDisk(context.Background(), dir, filepath.Join(dir, "img"), filepath.Join(dir, "disk"), 32<<20, IDMap{UID: DefaultHostID, GID: DefaultHostID, Size: DefaultIDs})
	if err != nil {
		t.Fatal(err)
	}
	if d.Full() {
		t.Fatal("a new disk says it is full")
	}
	f, err := os.Create(filepath.Join(d.Dir(), "tmp", "fill"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := f.Write(buf)
		n += int64(k)
		if err != nil {
			break
		}
	}
	f.Close()
	if n > 32<<20 || !d.Full() {
		t.Errorf("wrote %d bytes on a 32 MiB disk, Full() = %v; want at most 32 MiB and full", n, d.Full())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != ".disk-33554432.img" {
		t.Errorf("after Close the folder holds %v; want only the disk template", ents)
	}
}

func TestParseSubID(t *testing.T) {
	cases := []struct {
		line string
		want [2]uint32
		ok   bool
	}{
		{"reprove:200000:65536", [2]uint32{200000, 65536}, true},
		{"  reprove:200000:65536  ", [2]uint32{200000, 65536}, true},
		{"alice:100000:65536", [2]uint32{}, false},
		{"reprove:x:65536", [2]uint32{}, false},
		{"reprove:200000:0", [2]uint32{}, false},
		{"reprove:4294967295:2", [2]uint32{}, false},
		{"reprove:1:2:3", [2]uint32{}, false},
	}
	for _, c := range cases {
		got, ok := parseSubID(c.line, "reprove")
		if got != c.want || ok != c.ok {
			t.Errorf("parseSubID(%q) = %v, %v; want %v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}
