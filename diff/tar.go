package diff

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/reprove/reprove/diff/archive"
)

// tarFormat compares tar archives (v7, ustar, PAX and GNU headers). Member
// data is read in place from the archive; only sparse members are unpacked.
type tarFormat struct{}

func (tarFormat) Name() string { return "tar" }

// Detect: "ustar" magic at offset 257, or a v7 header whose checksum holds.
func (tarFormat) Detect(h []byte) bool { return archive.IsTarHeader(h) }

func (tarFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	la, lb, err := listBoth(c, a, b, listTar)
	if err != nil {
		return nil, err
	}
	if isOCITar(la) && isOCITar(lb) {
		return ociCompare(c, a, b, listingBlobs(la, a), listingBlobs(lb, b), depth)
	}
	return c.compareArchives(a, b, la, lb, "tar", depth,
		"the archives hold the same members with the same metadata; their bytes differ in header encoding, padding or end-of-archive blocks")
}

// compareArchives compares two listed archives member by member; when no
// member or metadata differs, why says where their bytes must differ.
func (c *comparer) compareArchives(a, b *input, la, lb *listing, format string, depth int, why string) (*Node, error) {
	before := c.hidden()
	details, err := c.compareListings(a, b, la, lb, depth)
	if err != nil {
		return nil, err
	}
	if len(details) == 0 {
		if n := c.unexplained(a, b, format, before, why); n != nil {
			details = append(details, n)
		}
	}
	return wrap(a, b, format, details), nil
}

// memberAt returns an opener for a member whose data starts at off in the
// archive in and runs size bytes, read in place.
func memberAt(in *input, off int64, member string, size int64) (func(string) (*input, error), error) {
	if off < 0 || size < 0 || off+size > in.size {
		return nil, fmt.Errorf("member %s: data runs past the end of the archive", member)
	}
	return func(name string) (*input, error) {
		return &input{name: name, size: size, ra: io.NewSectionReader(in.ra, off, size)}, nil
	}, nil
}

// listBoth lists both sides at once.
func listBoth(c *comparer, a, b *input, list func(*comparer, *input) (*listing, error)) (la, lb *listing, err error) {
	var erra error
	done := make(chan struct{})
	go func() {
		defer close(done)
		la, erra = list(c, a)
	}()
	lb, err = list(c, b)
	<-done
	if erra != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", a.name, erra)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", b.name, err)
	}
	return la, lb, nil
}

func listTar(c *comparer, in *input) (*listing, error) {
	l := &listing{format: "tar", mtimePass: "tar-mtime", ownerPass: "tar-owner", orderPass: "tar-order"}
	return l, c.listArchive(in, l, tarExtra)
}

// tarExtra adds the tar header's own metadata: its format, atime and ctime,
// device numbers and PAX records.
func tarExtra(h *archive.Header, m *member) {
	if m.typ == "other" {
		m.extra = append(m.extra, metaField{key: "typeflag", value: strconv.Quote(string(h.Tar.Typeflag))})
	}
	device := func() {
		if m.typ == "char" || m.typ == "block" {
			m.extra = append(m.extra, metaField{key: "device", value: fmt.Sprintf("%d,%d", h.Devmajor, h.Devminor)})
		}
	}
	for _, f := range h.Extra {
		switch {
		case f.Key == "header":
			m.extra = append(m.extra, metaField{key: f.Key, value: f.Value, cause: CauseArchiveFormat})
		case f.Key == "atime" || f.Key == "ctime":
			m.extra = append(m.extra, metaField{key: f.Key, value: f.Value, cause: CauseTimestamps, pass: "tar-mtime"})
		case strings.HasPrefix(f.Key, "pax:"):
			device()
			device = func() {}
			var cause CauseID
			if strings.Contains(f.Key, "time") {
				cause = CauseTimestamps
			}
			m.extra = append(m.extra, metaField{key: f.Key, value: f.Value, cause: cause})
		}
	}
	device()
}
