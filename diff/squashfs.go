package diff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/diskfs/go-diskfs/filesystem/squashfs"

	"github.com/reprove/reprove/diff/archive"
)

// squashfsFormat compares squashfs images: the superblock (its mkfs time
// is an embedded date), then the file listing and contents through the
// member comparison, read with go-diskfs.
type squashfsFormat struct{}

func (squashfsFormat) Name() string { return "squashfs" }

// Detect: the little-endian "hsqs" magic of squashfs 4.
func (squashfsFormat) Detect(h []byte) bool {
	return len(h) >= 96 && bytes.HasPrefix(h, []byte("hsqs")) && binary.LittleEndian.Uint16(h[28:]) == 4
}

var squashCompressors = map[uint16]string{1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}

// squashSuper is a decoded superblock.
type squashSuper struct {
	lines []string
	mkfs  string
}

// parseSquashSuper decodes the superblock and bounds the tables the
// reader loads whole (fragments, ids) by the table size limit.
func parseSquashSuper(c *comparer, in *input) (squashSuper, error) {
	h, err := in.head(96)
	if err != nil {
		return squashSuper{}, err
	}
	if len(h) < 96 || !bytes.HasPrefix(h, []byte("hsqs")) {
		return squashSuper{}, errors.New("no squashfs 4 superblock")
	}
	le := binary.LittleEndian
	inodes, mkfs, block, frags := le.Uint32(h[4:]), le.Uint32(h[8:]), le.Uint32(h[12:]), le.Uint32(h[16:])
	comp, flags, ids := le.Uint16(h[20:]), le.Uint16(h[24:]), le.Uint16(h[26:])
	if n := int64(frags)*16 + int64(ids)*4; n > c.opts.Limits.MaxTableSize {
		return squashSuper{}, &archive.LimitError{Input: in.name, Entry: "fragment and id tables", Limit: "table size", Max: c.opts.Limits.MaxTableSize,
			Got: archive.Size(n), Flag: "max-table-size"}
	}
	name := squashCompressors[comp]
	if name == "" {
		name = fmt.Sprintf("id %d", comp)
	}
	s := squashSuper{mkfs: fmt.Sprintf("%s (%d)", time.Unix(int64(mkfs), 0).UTC().Format(time.RFC3339), mkfs)}
	s.lines = []string{"mkfs time " + s.mkfs, "compression " + name, fmt.Sprintf("block size %d", block),
		fmt.Sprintf("flags 0x%04x", flags), fmt.Sprintf("inodes %d, fragments %d, ids %d", inodes, frags, ids)}
	return s, nil
}

func listSquashfs(c *comparer, in *input) (*listing, error) {
	st, ca := newImageStorage(in)
	fsys, err := squashfs.Read(st, in.size, 0, 0)
	if err != nil {
		return nil, err
	}
	l := &listing{format: "squashfs", ignoreOrder: true}
	return l, c.listImage(in, fsys, ca, l, func(sys any) (int, int, string, bool) {
		if s, ok := sys.(*squashfs.StatT); ok && s != nil {
			return int(s.UID), int(s.GID), s.LinkTarget, true
		}
		return 0, 0, "", false
	})
}

func (squashfsFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	sa, sb, err := bothInputs(a, b, func(in *input) (squashSuper, error) { return parseSquashSuper(c, in) })
	if err != nil {
		return nil, err
	}
	la, lb, err := listBoth(c, a, b, func(c *comparer, in *input) (l *listing, err error) {
		defer recoverParser(&err)
		return listSquashfs(c, in)
	})
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "squashfs", []view{{"unsquashfs -s {}", "superblock", sa.lines}}, []view{{"unsquashfs -s {}", "superblock", sb.lines}}, false)
	if len(details) > 0 {
		valueChange(details[0], CauseEmbeddedDate, "mkfs time", sa.mkfs, sb.mkfs)
	}
	members, err := c.compareListings(a, b, la, lb, depth)
	if err != nil {
		return nil, err
	}
	return c.finishFormat(a, b, "squashfs", before, append(details, members...), "the images hold the same files with the same metadata; their bytes differ in layout or compression"), nil
}

// recoverParser turns a panic in a library reading untrusted bytes into
// an error, as the engine's guard does, so a listing run in its own
// goroutine cannot crash the process.
func recoverParser(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("parser failed: %v", r)
	}
}
