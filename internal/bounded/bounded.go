// Package bounded reads whole files that may be hostile or misplaced (a
// result another machine wrote, a release's config, a keyring, a
// .buildinfo) into memory, refusing anything that is not a regular file
// and anything larger than the caller's limit, without ever waiting on a
// FIFO put where a file was expected.
package bounded

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// TooLargeError is a file over the limit a caller gave.
type TooLargeError struct {
	Size int64 // bytes seen (at least Max+1 when the file grew while read)
	Max  int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%d bytes, over the %d-byte limit", e.Size, e.Max)
}

// ReadFile reads the regular file at path, at most max bytes. It opens
// without blocking, so a FIFO is refused rather than waited on.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f, max)
}

// ReadFileIn reads the regular file name below root, at most max bytes,
// never following a link out of root.
func ReadFileIn(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f, max)
}

func read(f *os.File, max int64) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if fi.Size() > max {
		return nil, &TooLargeError{Size: fi.Size(), Max: max}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Size: int64(len(data)), Max: max}
	}
	return data, nil
}
