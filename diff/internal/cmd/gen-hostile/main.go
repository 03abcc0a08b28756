// Command gen-hostile writes the hostile inputs of scripts/bench_hostile.sh
// into a directory: gen-hostile DIR. Each is small on disk and costly if
// read without limits.
package main

import (
	"archive/tar"
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reprove/reprove/diff/archive/archivetest"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen-hostile DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	must(os.MkdirAll(dir, 0o755))
	write := func(name string, data []byte) { must(os.WriteFile(filepath.Join(dir, name), data, 0o644)) }
	sparse := archivetest.SparseTar("big", 10<<30, []byte(strings.Repeat("data", 2048)))
	write("sparse.tar", sparse)
	write("sparse-b.tar", archivetest.SparseTar("big", 10<<30, []byte(strings.Repeat("DATA", 2048))))
	write("bomb.tar.gz", archivetest.GzipBomb("zeros", 5<<30))
	write("bomb-b.tar.gz", archivetest.GzipBomb("zeros", 5<<30-512))
	elf := dt.ELF(dt.ELFSpec{Text: []byte{0x90, 0xc3}, Rodata: []byte("x"), Symbols: []string{"main", "helper"}})
	write("normal.elf", elf)
	write("symtab-bomb.elf", dt.CompressSection(elf, ".symtab", dt.ZlibZeros(2<<30), 2<<30))
	sameName(filepath.Join(dir, "same-a.tar"), 20000, "")
	sameName(filepath.Join(dir, "same-b.tar"), 20000, "changed")
	mtimes(filepath.Join(dir, "mtime-a.tar"), 200000, dt.Epoch)
	mtimes(filepath.Join(dir, "mtime-b.tar"), 200000, dt.Epoch.Add(time.Hour))
	write("manifest-5mib.yaml", []byte("apiVersion: reprove/v1\n# "+strings.Repeat("x", 5<<20)+"\n"))
}

// sameName writes n members all named "same", the middle one changed.
func sameName(p string, n int, change string) {
	streamTar(p, func(tw *tar.Writer) {
		for i := range n {
			body := fmt.Sprintf("%d\n", i)
			if i == n/2 && change != "" {
				body = change + "\n"
			}
			must(tw.WriteHeader(&tar.Header{Name: "same", Mode: 0o644, Size: int64(len(body)), ModTime: dt.Epoch, Typeflag: tar.TypeReg}))
			_, err := tw.Write([]byte(body))
			must(err)
		}
	})
}

// mtimes writes n empty members with the given mtime.
func mtimes(p string, n int, mtime time.Time) {
	streamTar(p, func(tw *tar.Writer) {
		for i := range n {
			must(tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d/%06d", i), Mode: 0o644, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}))
		}
	})
}

func streamTar(p string, fill func(*tar.Writer)) {
	f, err := os.Create(p)
	must(err)
	bw := bufio.NewWriter(f)
	tw := tar.NewWriter(bw)
	fill(tw)
	must(tw.Close())
	must(bw.Flush())
	must(f.Close())
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-hostile:", err)
		os.Exit(1)
	}
}
