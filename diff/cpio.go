package diff

import (
	"github.com/reprove/reprove/diff/archive"
)

// cpioFormat compares cpio archives: SVR4 "newc" (with or without CRC, as
// initramfs and RPM payloads use), POSIX "odc" and the old binary format.
type cpioFormat struct{}

func (cpioFormat) Name() string { return "cpio" }

// Detect: a cpio header of any of the formats that parses.
func (cpioFormat) Detect(h []byte) bool { return archive.DetectFormat(h) == archive.Cpio }

func (cpioFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	la, lb, err := listBoth(c, a, b, listCpio)
	if err != nil {
		return nil, err
	}
	return c.compareArchives(a, b, la, lb, "cpio", depth,
		"the archives hold the same members with the same metadata; their bytes differ in inode numbers, link counts or padding")
}

func listCpio(c *comparer, in *input) (*listing, error) {
	l := &listing{format: "cpio", mtimePass: "cpio-mtime"}
	return l, c.listArchive(in, l, func(h *archive.Header, m *member) {
		for _, f := range h.Extra {
			if f.Key == "nlink" {
				m.extra = append(m.extra, metaField{key: f.Key, value: f.Value, cause: CauseArchiveFormat})
			}
		}
	})
}
