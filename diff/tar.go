package diff

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// tarFormat compares tar archives (v7, ustar, PAX and GNU headers). Member
// data is read in place from the archive; only sparse members are unpacked.
type tarFormat struct{}

func (tarFormat) Name() string { return "tar" }

// Detect: "ustar" magic at offset 257, or a v7 header whose checksum holds.
func (tarFormat) Detect(h []byte) bool {
	if len(h) < 512 {
		return false
	}
	if bytes.HasPrefix(h[257:], []byte("ustar")) {
		return tarChecksumOK(h[:512])
	}
	return h[0] != 0 && tarChecksumOK(h[:512])
}

func tarChecksumOK(blk []byte) bool {
	field := strings.TrimRight(strings.TrimLeft(string(blk[148:156]), " \x00"), " \x00")
	want, err := strconv.ParseInt(field, 8, 64)
	if err != nil || field == "" {
		return false
	}
	var unsigned, signed int64
	for i, x := range blk {
		if i >= 148 && i < 156 {
			x = ' '
		}
		unsigned += int64(x)
		signed += int64(int8(x))
	}
	return want == unsigned || want == signed
}

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
	before := c.suppressed
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

// memberAt returns an opener for a member whose data starts at sr's
// current offset in the archive in and runs size bytes, read in place.
func memberAt(in *input, sr io.Seeker, member string, size int64) (func(string) (*input, error), error) {
	off, err := sr.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	if off+size > in.size {
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

var tarTypes = map[byte]string{
	tar.TypeReg: "file", tar.TypeRegA: "file", tar.TypeGNUSparse: "file", tar.TypeCont: "file",
	tar.TypeDir: "dir", tar.TypeSymlink: "symlink", tar.TypeLink: "hardlink",
	tar.TypeChar: "char", tar.TypeBlock: "block", tar.TypeFifo: "fifo",
}

// paxStandard are PAX records archive/tar folds into Header fields.
var paxStandard = map[string]bool{"path": true, "linkpath": true, "size": true, "uid": true, "gid": true,
	"uname": true, "gname": true, "mtime": true, "atime": true, "ctime": true}

func listTar(c *comparer, in *input) (*listing, error) {
	l := &listing{format: "tar", mtimePass: "tar-mtime", ownerPass: "tar-owner", orderPass: "tar-order"}
	sr := in.reader()
	tr := tar.NewReader(sr)
	for {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar header after %d members: %w", len(l.members), err)
		}
		m := &member{name: hdr.Name, mode: hdr.FileInfo().Mode(), uid: hdr.Uid, gid: hdr.Gid,
			uname: hdr.Uname, gname: hdr.Gname, mtime: hdr.ModTime, hasOwn: true, hasMT: true,
			link: hdr.Linkname, size: hdr.Size}
		m.typ = tarTypes[hdr.Typeflag]
		if m.typ == "" {
			m.typ = "other"
			m.extra = append(m.extra, metaField{key: "typeflag", value: strconv.Quote(string(hdr.Typeflag))})
		}
		m.extra = append(m.extra, metaField{key: "header", value: hdr.Format.String(), cause: "archive-format"})
		if !hdr.AccessTime.IsZero() {
			m.extra = append(m.extra, metaField{key: "atime", value: hdr.AccessTime.UTC().Format("2006-01-02T15:04:05.999999999Z"), cause: "timestamps", pass: "tar-mtime"})
		}
		if !hdr.ChangeTime.IsZero() {
			m.extra = append(m.extra, metaField{key: "ctime", value: hdr.ChangeTime.UTC().Format("2006-01-02T15:04:05.999999999Z"), cause: "timestamps", pass: "tar-mtime"})
		}
		if m.typ == "char" || m.typ == "block" {
			m.extra = append(m.extra, metaField{key: "device", value: fmt.Sprintf("%d,%d", hdr.Devmajor, hdr.Devminor)})
		}
		sparse := hdr.Typeflag == tar.TypeGNUSparse
		var keys []string
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				sparse = true
				continue
			}
			if !paxStandard[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			cause := ""
			if strings.Contains(k, "time") {
				cause = "timestamps"
			}
			m.extra = append(m.extra, metaField{key: "pax:" + k, value: strconv.Quote(hdr.PAXRecords[k]), cause: cause})
		}
		if m.typ == "file" {
			if sparse {
				// Sparse data is not contiguous: unpack it, holes filled.
				name := joinName(in.name, hdr.Name)
				sp, err := c.spill(name, hdr.Name, tr)
				if err != nil {
					return nil, err
				}
				m.size = sp.size
				m.open = func(string) (*input, error) { return sp, nil }
			} else if m.open, err = memberAt(in, sr, hdr.Name, hdr.Size); err != nil {
				return nil, err
			}
		}
		l.members = append(l.members, m)
	}
	return l, nil
}
