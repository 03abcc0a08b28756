package diff

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reprove/reprove/diff/archive"
)

// zipFormat compares zip archives and their families (jar, whl, apk, epub,
// nupkg, and jmod with its 4-byte prefix): member metadata (mtime, mode,
// method, extra fields, comments), order, and content. Members whose stored
// bytes, method and CRC are equal are not decompressed.
type zipFormat struct{}

func (zipFormat) Name() string { return "zip" }

// Detect: a local file header or an empty archive's end record, optionally
// after jmod's "JM\x01\x00".
func (zipFormat) Detect(h []byte) bool { return archive.IsZip(h) }

func (zipFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	la, lb, err := listBoth(c, a, b, listZip)
	if err != nil {
		return nil, err
	}
	return c.compareArchives(a, b, la, lb, la.format, depth,
		"the archives hold the same members with the same metadata; their bytes differ in headers, data descriptors or the central directory")
}

// zipFamily names the zip-based format by its members.
func zipFamily(prefix bool, r *zip.Reader) string {
	if prefix {
		return "jmod"
	}
	has := map[string]bool{}
	for _, f := range r.File {
		has[f.Name] = true
	}
	switch {
	case has["AndroidManifest.xml"]:
		return "apk"
	case has["mimetype"] && has["META-INF/container.xml"]:
		return "epub"
	case has["[Content_Types].xml"] && hasSuffixMember(r, ".nuspec"):
		return "nupkg"
	case hasSuffixMember(r, ".dist-info/WHEEL"):
		return "whl"
	case has["META-INF/MANIFEST.MF"]:
		return "jar"
	}
	return "zip"
}

func hasSuffixMember(r *zip.Reader, suffix string) bool {
	for _, f := range r.File {
		if strings.HasSuffix(f.Name, suffix) {
			return true
		}
	}
	return false
}

var zipMethods = map[uint16]string{zip.Store: "stored", zip.Deflate: "deflate", 12: "bzip2", 14: "lzma", 93: "zstd", 95: "xz"}

func listZip(c *comparer, in *input) (*listing, error) {
	ra := in.ra
	head, err := in.head(4)
	if err != nil {
		return nil, err
	}
	prefix := bytes.Equal(head, []byte("JM\x01\x00"))
	if prefix {
		ra = io.NewSectionReader(in.ra, 4, in.size-4)
	}
	counted := &archive.CountingReaderAt{R: in.ra} // members are bounded by the bytes they inflate from
	r, err := archive.Open(counted, in.size, in.name, c.opts.Limits)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	zr := r.ZipReader()
	if zr == nil {
		return nil, fmt.Errorf("%s is not a zip archive", in.name)
	}
	l := &listing{format: zipFamily(prefix, zr), mtimePass: "zip-mtime", orderPass: "zip-order"}
	l.extra = []metaField{{key: "archive comment", value: fmt.Sprintf("%q", zr.Comment), cause: CauseArchiveFormat}}
	for {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		h, err := r.Next()
		if err == io.EOF {
			return l, nil
		}
		if err != nil {
			return nil, err
		}
		l.members = append(l.members, zipMember(c, h, ra, counted))
	}
}

// zipMember makes a member of a zip entry: its metadata, and openers that
// decompress it (counted against the limits) or read its stored bytes.
func zipMember(c *comparer, h *archive.Header, ra io.ReaderAt, counted *archive.CountingReaderAt) *member {
	f := h.Zip
	m := &member{name: f.Name, typ: string(h.Type), mode: f.Mode(), mtime: f.Modified, hasMT: true, size: int64(f.UncompressedSize64), link: h.Linkname}
	if m.typ != "dir" && m.typ != "symlink" {
		m.typ = "file"
	}
	method := zipMethods[f.Method]
	if method == "" {
		method = fmt.Sprint(f.Method)
	}
	m.extra = append(m.extra,
		metaField{key: "method", value: method, cause: CauseCompression},
		metaField{key: "created by", value: fmt.Sprintf("%d.%d/%s", f.CreatorVersion&0xff/10, f.CreatorVersion&0xff%10, zipHost(f.CreatorVersion>>8)), cause: CauseArchiveFormat},
		metaField{key: "flags", value: fmt.Sprintf("0x%04x", f.Flags), cause: CauseArchiveFormat},
	)
	if f.Comment != "" {
		m.extra = append(m.extra, metaField{key: "comment", value: fmt.Sprintf("%q", f.Comment)})
	}
	m.extra = append(m.extra, zipExtraFields(f.Extra)...)
	if m.typ != "file" {
		return m
	}
	m.same = func(o *member) bool {
		return o.zf != nil && f.Method == o.zf.Method && f.CRC32 == o.zf.CRC32 && f.CompressedSize64 == o.zf.CompressedSize64 && sameRaw(f, o.zf)
	}
	m.zf = f
	m.open = func(name string) (*input, error) {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return c.spill(name, f.Name, archive.Bound(rc, counted.Since(), name, "", c.opts.Limits))
	}
	m.compressed = func() (*input, error) {
		off, err := f.DataOffset()
		if err != nil {
			return nil, err
		}
		return &input{name: f.Name, size: int64(f.CompressedSize64), ra: io.NewSectionReader(ra, off, int64(f.CompressedSize64))}, nil
	}
	return m
}

// sameRaw reports whether two zip members store the same bytes.
func sameRaw(a, b *zip.File) bool {
	ra, err := a.OpenRaw()
	if err != nil {
		return false
	}
	rb, err := b.OpenRaw()
	if err != nil {
		return false
	}
	same, err := sameStream(ra, rb)
	return err == nil && same
}

func zipHost(h uint16) string {
	switch h {
	case 0:
		return "FAT"
	case 3:
		return "Unix"
	case 10:
		return "NTFS"
	case 19:
		return "OS X"
	}
	return fmt.Sprint(h)
}

// zipExtraFields decodes the extra fields that carry times and owners and
// lists the others by ID.
func zipExtraFields(extra []byte) []metaField {
	var out []metaField
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if len(extra) < 4+n {
			out = append(out, metaField{key: "extra (truncated)", value: fmt.Sprintf("%x", extra), cause: CauseArchiveFormat})
			break
		}
		data := extra[4 : 4+n]
		extra = extra[4+n:]
		switch id {
		case 0x5455: // extended timestamp
			v := fmt.Sprintf("%x", data)
			if len(data) >= 5 && data[0]&1 != 0 {
				v = time.Unix(int64(binary.LittleEndian.Uint32(data[1:5])), 0).UTC().Format(time.RFC3339)
			}
			out = append(out, metaField{key: "extended timestamp", value: v, cause: CauseTimestamps, pass: "zip-mtime"})
		case 0x7875: // Info-ZIP new Unix uid/gid
			out = append(out, metaField{key: "unix owner", value: fmt.Sprintf("%x", data), cause: CauseUIDGID})
		case 0x5855: // Info-ZIP old Unix
			out = append(out, metaField{key: "unix extra", value: fmt.Sprintf("%x", data), cause: CauseTimestamps, pass: "zip-mtime"})
		case 0x000a: // NTFS times
			out = append(out, metaField{key: "ntfs times", value: fmt.Sprintf("%x", data), cause: CauseTimestamps, pass: "zip-mtime"})
		case 0x0001: // zip64 sizes: follow from the sizes
		case 0xcafe: // jar marker
			out = append(out, metaField{key: "jar marker", value: "yes", cause: CauseArchiveFormat})
		default:
			out = append(out, metaField{key: fmt.Sprintf("extra 0x%04x", id), value: fmt.Sprintf("%x", data), cause: CauseArchiveFormat})
		}
	}
	return out
}
