// Command gen-bench-pairs writes the input pairs of scripts/bench_diff.sh
// into a directory: gen-bench-pairs DIR [identical-size-MiB]. Each pair is
// DIR/NAME/a.EXT and DIR/NAME/b.EXT.
package main

import (
	"archive/tar"
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	dt "github.com/reprove/reprove/diff/internal/difftest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gen-bench-pairs DIR [identical-size-MiB]")
		os.Exit(2)
	}
	dir := os.Args[1]
	identMiB := 1024
	if len(os.Args) > 2 {
		n, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen-bench-pairs: bad size:", err)
			os.Exit(2)
		}
		identMiB = n
	}
	if err := run(dir, identMiB); err != nil {
		fmt.Fprintln(os.Stderr, "gen-bench-pairs:", err)
		os.Exit(1)
	}
}

func pair(dir, name, ext string, a, b []byte) {
	dt.WriteFile(dir, filepath.Join(name, "a"+ext), a)
	dt.WriteFile(dir, filepath.Join(name, "b"+ext), b)
}

func run(dir string, identMiB int) error {
	// One 50 MiB member, one byte changed.
	big := dt.Random(50<<20, 1)
	big2 := append([]byte(nil), big...)
	big2[len(big2)/2] ^= 1
	pair(dir, "tar-50MiB-one-byte", ".tar",
		dt.Tar(tar.FormatPAX, dt.Entry{Name: "data.bin", Body: big}),
		dt.Tar(tar.FormatPAX, dt.Entry{Name: "data.bin", Body: big2}))
	// The same member fully different.
	pair(dir, "tar-50MiB-all-different", ".tar",
		dt.Tar(tar.FormatPAX, dt.Entry{Name: "data.bin", Body: big}),
		dt.Tar(tar.FormatPAX, dt.Entry{Name: "data.bin", Body: dt.Random(50<<20, 2)}))
	big, big2 = nil, nil
	// 10,000 members of 4 KiB, one changed.
	var ea, eb []dt.Entry
	for i := 0; i < 10000; i++ {
		body := dt.Random(4096, uint64(i+10))
		name := fmt.Sprintf("files/%04d/member-%05d.bin", i/100, i)
		ea = append(ea, dt.Entry{Name: name, Body: body})
		if i == 5000 {
			body = append([]byte(nil), body...)
			body[100] ^= 0xff
		}
		eb = append(eb, dt.Entry{Name: name, Body: body})
	}
	pair(dir, "tar-10000x4KiB-one-changed", ".tar", dt.Tar(tar.FormatPAX, ea...), dt.Tar(tar.FormatPAX, eb...))
	// A .deb pair: a text file changed, a timestamp changed.
	var da, db []dt.Entry
	for i := 0; i < 300; i++ {
		body := []byte(fmt.Sprintf("# file %d\n%s\n", i, dt.Random(64, uint64(i))))
		name := fmt.Sprintf("./usr/share/pkg/file-%03d.txt", i)
		da = append(da, dt.Entry{Name: name, Body: body})
		e := dt.Entry{Name: name, Body: body}
		if i == 7 {
			e.Body = []byte(fmt.Sprintf("# file %d built in /tmp/build-xyz\n", i))
		}
		if i == 8 {
			e.ModTime = dt.Epoch.Add(3600e9)
		}
		db = append(db, e)
	}
	ctl := dt.Tar(tar.FormatGNU, dt.Entry{Name: "./control", Body: []byte("Package: pkg\nVersion: 1.0\n")})
	pair(dir, "deb", ".deb", dt.Deb(ctl, dt.Tar(tar.FormatGNU, da...)), dt.Deb(ctl, dt.Tar(tar.FormatGNU, db...)))
	// Identical artifacts.
	return identical(dir, identMiB)
}

func identical(dir string, mib int) error {
	p := filepath.Join(dir, "identical", "a.bin")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 4<<20)
	for i := 0; i < mib; i++ {
		if _, err := w.Write(dt.Random(1<<20, uint64(i+100))); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return nil
}
