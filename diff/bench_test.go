package diff_test

import (
	"archive/tar"
	"context"
	"fmt"
	"testing"

	"github.com/reprove/reprove/diff"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

func benchRun(b *testing.B, pa, pb string, size int64) {
	b.Helper()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		s, err := diff.Run(context.Background(), pa, pb, diff.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if s.Identical && pa != pb && size < 0 {
			b.Fatal("unexpected")
		}
	}
}

// BenchmarkIdentical measures the identical-artifact path: both files
// hashed at once. Compare its MB/s with `openssl dgst -sha256`.
func BenchmarkIdentical(b *testing.B) {
	dir := b.TempDir()
	data := dt.Random(64<<20, 3)
	pa := dt.WriteFile(dir, "a", data)
	pb := dt.WriteFile(dir, "b", data)
	benchRun(b, pa, pb, 2*int64(len(data)))
}

// BenchmarkTarOneByte: one 50 MiB member with one byte changed.
func BenchmarkTarOneByte(b *testing.B) {
	dir := b.TempDir()
	big := dt.Random(50<<20, 1)
	pa := dt.WriteFile(dir, "a.tar", dt.Tar(tar.FormatPAX, dt.Entry{Name: "data.bin", Body: big}))
	big[len(big)/2] ^= 1
	pb := dt.WriteFile(dir, "b.tar", dt.Tar(tar.FormatPAX, dt.Entry{Name: "data.bin", Body: big}))
	benchRun(b, pa, pb, 2*int64(len(big)))
}

// BenchmarkTarManySmall: 10,000 members of 4 KiB, one changed.
func BenchmarkTarManySmall(b *testing.B) {
	dir := b.TempDir()
	var ea, eb []dt.Entry
	for i := 0; i < 10000; i++ {
		body := dt.Random(4096, uint64(i))
		name := fmt.Sprintf("f/%05d", i)
		ea = append(ea, dt.Entry{Name: name, Body: body})
		if i == 5000 {
			body = append([]byte(nil), body...)
			body[1] ^= 1
		}
		eb = append(eb, dt.Entry{Name: name, Body: body})
	}
	pa := dt.WriteFile(dir, "a.tar", dt.Tar(tar.FormatPAX, ea...))
	pb := dt.WriteFile(dir, "b.tar", dt.Tar(tar.FormatPAX, eb...))
	benchRun(b, pa, pb, 2*10000*4096)
}

// BenchmarkTarGzText: a compressed tar of text files with a few changes.
func BenchmarkTarGzText(b *testing.B) {
	dir := b.TempDir()
	var ea, eb []dt.Entry
	for i := 0; i < 2000; i++ {
		body := []byte(fmt.Sprintf("line %d\n%x\n", i, dt.Random(512, uint64(i))))
		ea = append(ea, dt.Entry{Name: fmt.Sprintf("t/%04d.txt", i), Body: body})
		if i%500 == 0 {
			body = append([]byte("changed 2024-01-01\n"), body...)
		}
		eb = append(eb, dt.Entry{Name: fmt.Sprintf("t/%04d.txt", i), Body: body})
	}
	pa := dt.WriteFile(dir, "a.tar.gz", dt.Gzip(dt.Tar(tar.FormatPAX, ea...), 6, "", dt.Epoch))
	pb := dt.WriteFile(dir, "b.tar.gz", dt.Gzip(dt.Tar(tar.FormatPAX, eb...), 6, "", dt.Epoch))
	benchRun(b, pa, pb, 0)
}

// BenchmarkDuplicateNames: a tar whose members all share one name, one of
// them changed. Matching is linear: ns/op doubles from 10k to 20k members
// (it grew 4× when each repeated name searched for a free "#n").
func BenchmarkDuplicateNames(b *testing.B) {
	for _, n := range []int{5000, 10000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			var ea, eb []dt.Entry
			for i := range n {
				body := []byte(fmt.Sprintf("%d\n", i))
				ea = append(ea, dt.Entry{Name: "same", Body: body})
				if i == n/2 {
					body = []byte("changed\n")
				}
				eb = append(eb, dt.Entry{Name: "same", Body: body})
			}
			pa := dt.WriteFile(dir, "a.tar", dt.Tar(tar.FormatPAX, ea...))
			pb := dt.WriteFile(dir, "b.tar", dt.Tar(tar.FormatPAX, eb...))
			benchRun(b, pa, pb, 0)
		})
	}
}
