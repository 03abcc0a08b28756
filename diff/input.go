package diff

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sync"
)

// input is one side of a comparison: a directory, a file, or a member of a
// container. Every non-directory input has random access to its bytes, so
// members are read in place (tar data offsets, ELF sections) and only
// compressed members are unpacked, into temporary files.
type input struct {
	name  string // path shown in reports ("a.tar/usr/bin/x")
	label string // name inside its parent, as diffoscope shows it
	path  string // on-disk path for directories
	dir   bool
	size  int64
	ra    io.ReaderAt
	// release, when set, frees what backs ra (an open file, a temporary
	// file) once the comparison of this input is done.
	release func()
}

func (in *input) done() {
	if in != nil && in.release != nil {
		in.release()
	}
}

func (in *input) reader() *io.SectionReader { return io.NewSectionReader(in.ra, 0, in.size) }

// head returns up to n first bytes.
func (in *input) head(n int) ([]byte, error) {
	if in.size < int64(n) {
		n = int(in.size)
	}
	buf := make([]byte, n)
	k, err := in.ra.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading %s: %w", in.name, err)
	}
	return buf[:k], nil
}

func memInput(name, label string, b []byte) *input {
	return &input{name: name, label: label, size: int64(len(b)), ra: bytes.NewReader(b)}
}

// subInput is the part of parent from off, size bytes long, read in place.
func subInput(parent *input, label string, off, size int64) *input {
	return &input{name: joinName(parent.name, label), label: label, size: size, ra: io.NewSectionReader(parent.ra, off, size)}
}

func joinName(parent, label string) string {
	if parent == "" {
		return label
	}
	return parent + "/" + label
}

const chunkSize = 1 << 20

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// sameContent reports whether a and b hold the same bytes, reading both at
// once in large chunks and stopping at the first difference.
func sameContent(a, b *input) (bool, error) {
	if a.size != b.size {
		return false, nil
	}
	return sameStream(a.reader(), b.reader())
}

// sameStream compares two streams chunk by chunk; the left side is read in a
// second goroutine so both are pulled (and decompressed) at the same time.
func sameStream(ra, rb io.Reader) (bool, error) {
	pa, pb := chunkPool.Get().(*[]byte), chunkPool.Get().(*[]byte)
	defer chunkPool.Put(pa)
	defer chunkPool.Put(pb)
	ba, bb := *pa, *pb
	type res struct {
		n   int
		err error
	}
	ch := make(chan res, 1)
	for {
		go func() {
			n, err := io.ReadFull(ra, ba)
			ch <- res{n, err}
		}()
		nb, errb := io.ReadFull(rb, bb)
		r := <-ch
		if r.err != nil && r.err != io.EOF && r.err != io.ErrUnexpectedEOF {
			return false, r.err
		}
		if errb != nil && errb != io.EOF && errb != io.ErrUnexpectedEOF {
			return false, errb
		}
		if r.n != nb || !bytes.Equal(ba[:r.n], bb[:nb]) {
			return false, nil
		}
		if r.err != nil || errb != nil {
			return (r.err != nil) == (errb != nil), nil
		}
	}
}

// hashFiles hashes two files at once, one goroutine each, with large
// buffers. It is the whole cost of comparing identical artifacts.
func hashFiles(a, b string) (da, db []byte, err error) {
	var wg sync.WaitGroup
	var erra, errb error
	wg.Add(1)
	go func() {
		defer wg.Done()
		da, erra = hashFile(a)
	}()
	db, errb = hashFile(b)
	wg.Wait()
	if erra != nil {
		return nil, nil, erra
	}
	if errb != nil {
		return nil, nil, errb
	}
	return da, db, nil
}

func hashFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("opening %s to hash it: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 4<<20)
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf); err != nil {
		return nil, fmt.Errorf("hashing %s: %w", name, err)
	}
	return h.Sum(nil), nil
}
