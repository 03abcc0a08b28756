package sandbox

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// buildLog keeps the last max bytes written to it in a file: once the file
// is full it is written round, as a ring, and finish puts the ring back in
// order with a first line saying how much was dropped. Memory stays at one
// copy buffer whatever the build prints.
type buildLog struct {
	f     *os.File
	max   int64
	total int64 // bytes written in all
}

func newBuildLog(f *os.File, max int64) *buildLog { return &buildLog{f: f, max: max} }

func (l *buildLog) Write(p []byte) (int, error) {
	n := len(p)
	if int64(len(p)) > l.max {
		l.total += int64(len(p)) - l.max
		p = p[int64(len(p))-l.max:]
	}
	for len(p) > 0 {
		off := l.total % l.max
		chunk := p[:min(int64(len(p)), l.max-off)]
		if _, err := l.f.WriteAt(chunk, off); err != nil {
			return 0, err
		}
		l.total += int64(len(chunk))
		p = p[len(chunk):]
	}
	return n, nil
}

// dropped is how many bytes from the log's beginning are gone.
func (l *buildLog) dropped() int64 { return max(0, l.total-l.max) }

// finish puts a wrapped ring back in order, oldest byte first, behind a line
// saying what was dropped, and syncs the file.
func (l *buildLog) finish() error {
	if l.dropped() == 0 {
		return l.f.Sync()
	}
	p := l.f.Name()
	tmp, err := os.CreateTemp(filepath.Dir(p), ".build.log-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	off := l.total % l.max
	fmt.Fprintf(tmp, "[reprove: the first %d bytes of this build's log were dropped; the last %d are kept]\n", l.dropped(), l.max)
	if _, err := io.Copy(tmp, io.NewSectionReader(l.f, off, l.max-off)); err != nil {
		tmp.Close()
		return err
	}
	if _, err := io.Copy(tmp, io.NewSectionReader(l.f, 0, off)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
