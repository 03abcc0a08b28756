package fetch

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"github.com/reprove/reprove/diff/archive"
)

// ErrUnsafeEntry is wrapped when an archive entry would land outside the
// destination: an absolute path, a ".." component, a link that escapes, or a
// path that passes through a symbolic link.
var ErrUnsafeEntry = archive.ErrUnsafeEntry

// EntryError names the archive and the entry that could not be extracted.
type EntryError = archive.EntryError

// Format is an archive or compression format recognised by its magic bytes.
type Format string

// The formats Unpack and Member read.
const (
	FormatTar      Format = "tar"
	FormatTarGzip  Format = "tar.gz"
	FormatTarXz    Format = "tar.xz"
	FormatTarZstd  Format = "tar.zst"
	FormatTarBzip2 Format = "tar.bz2"
	FormatZip      Format = "zip"
)

var compressedTar = map[archive.Compression]Format{
	archive.Gzip: FormatTarGzip, archive.XZ: FormatTarXz, archive.Zstd: FormatTarZstd, archive.Bzip2: FormatTarBzip2,
}

// DetectFormat names the archive format of the bytes that start with head
// (at least 512 bytes when the file has them), or "" when it is none of
// them. Compressed streams are reported as tar.*; whether the stream holds a
// tar is only known when it is read. It asks archive's one sniffer.
func DetectFormat(head []byte) Format {
	if f, ok := compressedTar[archive.DetectCompression(head)]; ok {
		return f
	}
	switch archive.DetectFormat(head) {
	case archive.Zip:
		return FormatZip
	case archive.Tar:
		return FormatTar
	}
	return ""
}

// Unpack extracts archive (tar, tar.gz, tar.xz, tar.zst, tar.bz2 or zip,
// recognised by content) into dst, creating dst if needed, with the
// default limits; see archive.Extract for what is kept and refused. On
// error dst holds what was extracted so far: extract into a fresh folder
// (Cache.PutTree does).
func Unpack(ctx context.Context, archive, dst string) error {
	return UnpackWith(ctx, archive, dst, UnpackOptions{})
}

// UnpackOptions tunes UnpackWith.
type UnpackOptions struct {
	// Limits bound what the archive may cost; zero fields take defaults.
	Limits archive.Limits
	// MaxBytes, when set, overrides Limits.MaxBytes.
	MaxBytes int64
}

// WithLimits sets the limits archives are unpacked under (sources with
// unpack: true, artifact members).
func WithLimits(l archive.Limits) Option {
	return func(f *Fetcher) { f.limits = l }
}

// UnpackWith is Unpack with options.
func UnpackWith(ctx context.Context, path, dst string, opts UnpackOptions) error {
	lim := opts.Limits
	if opts.MaxBytes > 0 {
		lim.MaxBytes = opts.MaxBytes
	}
	if err := checkUnpackable(path, "unpacking %s: not a tar, tar.gz, tar.xz, tar.zst, tar.bz2 or zip archive; set unpack: false to use the file as it is"); err != nil {
		return err
	}
	return archive.ExtractFile(ctx, path, dst, archive.ExtractOptions{Limits: lim, Formats: unpackFormats})
}

// unpackFormats are the archive formats sources and members may be.
var unpackFormats = []archive.Format{archive.Tar, archive.Zip}

// checkUnpackable refuses a file that is no archive Unpack reads, with
// msg (which takes the path).
func checkUnpackable(path, msg string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", path, err)
	}
	defer f.Close()
	head, _ := bufio.NewReaderSize(f, 4096).Peek(512)
	if DetectFormat(head) == "" {
		return fmt.Errorf(msg, path)
	}
	return nil
}
