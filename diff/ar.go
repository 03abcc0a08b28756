package diff

import (
	"bytes"

	"github.com/reprove/reprove/diff/archive"
)

// arFormat compares Unix ar archives (GNU and BSD long names) and Debian
// packages, which are ar archives whose first member is debian-binary.
type arFormat struct{}

func (arFormat) Name() string { return "ar" }

// Detect: the "!<arch>\n" global header.
func (arFormat) Detect(h []byte) bool { return bytes.HasPrefix(h, []byte("!<arch>\n")) }

func (arFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	la, lb, err := listBoth(c, a, b, listAr)
	if err != nil {
		return nil, err
	}
	return c.compareArchives(a, b, la, lb, la.format, depth,
		"the archives hold the same members with the same metadata; their bytes differ in header encoding or padding")
}

func listAr(c *comparer, in *input) (*listing, error) {
	l := &listing{format: "ar", mtimePass: "ar-mtime"}
	err := c.listArchive(in, l, func(h *archive.Header, m *member) {
		if len(l.members) == 0 && h.Name == "debian-binary" {
			l.format = "deb"
		}
	})
	return l, err
}
