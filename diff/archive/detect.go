package archive

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
)

// HeadSize is how many first bytes the detectors look at; pass at least
// that many when the input has them.
const HeadSize = 512

// Format is an archive format: a container of named entries.
type Format string

// The archive formats Open and NewReader read.
const (
	Tar  Format = "tar"  // v7, ustar, PAX and GNU headers
	Zip  Format = "zip"  // also jar, whl, apk… and jmod after its 4-byte prefix
	Ar   Format = "ar"   // GNU and BSD long names; a .deb is an ar archive
	Cpio Format = "cpio" // newc (with or without CRC), odc, old binary (both byte orders)
)

// Compression is a single-stream compression format.
type Compression string

// The compression formats Decompress reads; None is no compression.
const (
	None  Compression = ""
	Gzip  Compression = "gzip"
	XZ    Compression = "xz"
	Zstd  Compression = "zstd"
	Bzip2 Compression = "bzip2"
	LZMA  Compression = "lzma" // the legacy "LZMA alone" format, which has no magic
)

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

// DetectCompression names the compression of the stream that starts with
// head, or None. It is the one compression sniffer of reprove: the diff,
// the source unpacker and artifact members all ask it.
func DetectCompression(head []byte) Compression {
	switch {
	case len(head) >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8:
		return Gzip
	case len(head) >= 12 && bytes.HasPrefix(head, xzMagic):
		return XZ
	case len(head) >= 6 && bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	case isBzip2(head):
		return Bzip2
	case isLZMA(head):
		return LZMA
	}
	return None
}

// isBzip2: "BZh", a block size digit, then a block or end-of-stream magic.
func isBzip2(h []byte) bool {
	if len(h) < 10 || !bytes.HasPrefix(h, []byte("BZh")) || h[3] < '1' || h[3] > '9' {
		return false
	}
	return bytes.HasPrefix(h[4:], []byte("1AY&SY")) || bytes.HasPrefix(h[4:], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90})
}

// isLZMA: the format has no magic; accept a 13-byte header with valid
// properties, a dictionary size of 2^n or 2^n+2^(n-1) and a plausible size.
func isLZMA(h []byte) bool {
	if len(h) < 14 || h[0] >= 9*5*5 {
		return false
	}
	dict := binary.LittleEndian.Uint32(h[1:5])
	if dict < 1<<12 || dict > 1<<30+1<<29 {
		return false
	}
	ok := false
	for n := 12; n <= 30; n++ {
		if dict == 1<<n || dict == 1<<n+1<<(n-1) {
			ok = true
		}
	}
	size := binary.LittleEndian.Uint64(h[5:13])
	return ok && (size == ^uint64(0) || size < 1<<42)
}

// DetectFormat names the archive format of the (uncompressed) bytes that
// start with head, or "" when they are no archive this package reads.
func DetectFormat(head []byte) Format {
	switch {
	case IsZip(head):
		return Zip
	case bytes.HasPrefix(head, arMagic):
		return Ar
	case cpioVariantOf(head) != nil:
		return Cpio
	case IsTarHeader(head):
		return Tar
	}
	return ""
}

// IsZip: a local file header or an empty archive's end record, optionally
// after jmod's "JM\x01\x00".
func IsZip(h []byte) bool {
	h = bytes.TrimPrefix(h, jmodPrefix)
	return bytes.HasPrefix(h, []byte("PK\x03\x04")) || bytes.HasPrefix(h, []byte("PK\x05\x06"))
}

var jmodPrefix = []byte("JM\x01\x00")

// IsTarHeader reports whether h starts with a tar header: "ustar" magic at
// offset 257, or a v7 header, whose checksum must hold either way.
func IsTarHeader(h []byte) bool {
	if len(h) < 512 {
		return false
	}
	if !bytes.HasPrefix(h[257:], []byte("ustar")) && h[0] == 0 {
		return false
	}
	field := strings.TrimRight(strings.TrimLeft(string(h[148:156]), " \x00"), " \x00")
	want, err := strconv.ParseInt(field, 8, 64)
	if err != nil || field == "" {
		return false
	}
	var unsigned, signed int64
	for i, x := range h[:512] {
		if i >= 148 && i < 156 {
			x = ' '
		}
		unsigned += int64(x)
		signed += int64(int8(x))
	}
	return want == unsigned || want == signed
}
