package diff_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/diff/archive"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

// pngWithIDAT replaces a generated PNG's image data by idat.
func pngWithIDAT(idat []byte) []byte {
	p := dt.PNG(dt.PNGSpec{})
	i := bytes.Index(p, []byte("IDAT")) - 4
	n := binary.BigEndian.Uint32(p[i:])
	var chunk bytes.Buffer
	binary.Write(&chunk, binary.BigEndian, uint32(len(idat)))
	c := append([]byte("IDAT"), idat...)
	chunk.Write(c)
	binary.Write(&chunk, binary.BigEndian, crc32.ChecksumIEEE(c))
	return append(append(append([]byte(nil), p[:i]...), chunk.Bytes()...), p[i+12+int(n):]...)
}

func zlibZeros(n int) []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	w.Write(make([]byte, n))
	w.Close()
	return b.Bytes()
}

// Hostile inputs to the new decoders cost bounded memory and say which
// limit stopped them; none crashes the comparison.
func TestHostileFormats(t *testing.T) {
	lim := archive.Limits{MaxTableSize: 1 << 20, MaxBytes: 32 << 20, RatioGrace: 1 << 20}
	squash := dt.Squashfs(t.TempDir(), dt.Epoch, dt.Entry{Name: "a", Body: []byte("b")})
	bomb := append([]byte(nil), squash...)
	binary.LittleEndian.PutUint32(bomb[16:], 0xffffffff) // fragment count
	class := dt.Class(dt.ClassSpec{Name: "A", Debug: "all", Const: "x"})
	hugeAttr := append([]byte(nil), class...)
	binary.BigEndian.PutUint32(hugeAttr[len(hugeAttr)-6:], 0xfffffff0) // SourceFile attribute length
	cases := []struct {
		name, na, nb string
		a, b         []byte
		want         string
	}{
		{"squashfs claiming 4 billion fragments", "a.sqfs", "b.sqfs", squash, bomb, "table size limit of 1 MiB passed"},
		{"class attribute claiming 4 GiB", "a.class", "b.class", class, hugeAttr, "malformed class"},
		{"PNG image data inflating to 256 MiB", "a.png", "b.png", dt.PNG(dt.PNGSpec{}), pngWithIDAT(zlibZeros(256 << 20)), "pixels: not inflated"},
		{"PDF stream inflating past the table size", "a.pdf", "b.pdf", dt.PDF(dt.PDFSpec{ID: "00"}),
			append(dt.PDF(dt.PDFSpec{ID: "00"}), []byte("9 0 obj\n<< /Filter /FlateDecode >>\nstream\n"+string(zlibZeros(8<<20))+"\nendstream\n")...), "table size limit of 1 MiB passed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pa, pb := dt.WriteFile(dir, tc.na, tc.a), dt.WriteFile(dir, tc.nb, tc.b)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			s, err := diff.Run(context.Background(), pa, pb, diff.Options{Limits: lim, TempDir: dir})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
				t.Errorf("comparing allocated %d MiB, want under 200 MiB", alloc>>20)
			}
			js, _ := json.Marshal(s)
			if !strings.Contains(string(js), tc.want) {
				t.Errorf("report does not say %q:\n%.3000s", tc.want, js)
			}
		})
	}
}
