package deb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"syscall"

	"github.com/reprove/reprove/diff/archive"
)

// openFile opens a regular file without following a link.
func openFile(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

// fileSHA256 is the hex sha256 of the file at p.
func fileSHA256(ctx context.Context, p string) (string, error) {
	f, err := openFile(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, archive.ReaderContext(ctx, f)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
