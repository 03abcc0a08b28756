package diff

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// iso9660Format compares ISO 9660 images (with Rock Ridge names, owners
// and links when present): the primary volume descriptor (its dates are
// embedded dates), then the file listing and contents through the member
// comparison, read with go-diskfs.
type iso9660Format struct{}

func (iso9660Format) Name() string { return "iso9660" }

// isoPVD is where the primary volume descriptor starts.
const isoPVD = 0x8000

// Detect: a volume descriptor "CD001" at 32 KiB (headSize covers it).
func (iso9660Format) Detect(h []byte) bool {
	return len(h) >= isoPVD+6 && bytes.Equal(h[isoPVD+1:isoPVD+6], []byte("CD001"))
}

// isoVolume is a decoded primary volume descriptor.
type isoVolume struct {
	lines []string
	dates map[string]string
}

func parseISOVolume(in *input) (isoVolume, error) {
	h, err := in.head(isoPVD + 2048)
	if err != nil {
		return isoVolume{}, err
	}
	if len(h) < isoPVD+2048 || h[isoPVD] != 1 || !bytes.Equal(h[isoPVD+1:isoPVD+6], []byte("CD001")) {
		return isoVolume{}, errors.New("no primary volume descriptor")
	}
	d := h[isoPVD:]
	text := func(from, n int) string { return strings.TrimRight(string(d[from:from+n]), " \x00") }
	v := isoVolume{dates: map[string]string{}}
	v.lines = []string{"system id " + text(8, 32), "volume id " + text(40, 32), "volume set id " + text(190, 128),
		"publisher " + text(318, 128), "data preparer " + text(446, 128), "application " + text(574, 128)}
	for _, f := range []struct {
		name string
		at   int
	}{{"creation date", 813}, {"modification date", 830}, {"expiration date", 847}, {"effective date", 864}} {
		date := fmt.Sprintf("%s (tz %d)", text(f.at, 16), int8(d[f.at+16]))
		v.dates[f.name] = date
		v.lines = append(v.lines, f.name+" "+date)
	}
	return v, nil
}

func listISO(c *comparer, in *input) (l *listing, err error) {
	defer recoverParser(&err)
	st, ca := newImageStorage(in)
	fsys, err := iso9660.Read(st, in.size, 0, 0)
	if err != nil {
		return nil, err
	}
	l = &listing{format: "iso9660", ignoreOrder: true}
	return l, c.listImage(in, fsys, ca, l, func(sys any) (int, int, string, bool) {
		if s, ok := sys.(*iso9660.StatT); ok && s != nil {
			return int(s.UID), int(s.GID), s.LinkTarget, true
		}
		return 0, 0, "", false
	})
}

func (iso9660Format) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	va, vb, err := bothInputs(a, b, parseISOVolume)
	if err != nil {
		return nil, err
	}
	la, lb, err := listBoth(c, a, b, listISO)
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "iso9660", []view{{"isoinfo -d -i {}", "volume descriptor", va.lines}}, []view{{"isoinfo -d -i {}", "volume descriptor", vb.lines}}, false)
	if len(details) > 0 {
		for _, k := range []string{"creation date", "modification date", "expiration date", "effective date"} {
			valueChange(details[0], CauseEmbeddedDate, k, va.dates[k], vb.dates[k])
		}
	}
	members, err := c.compareListings(a, b, la, lb, depth)
	if err != nil {
		return nil, err
	}
	return c.finishFormat(a, b, "iso9660", before, append(details, members...), "the images hold the same files with the same metadata; their bytes differ in layout"), nil
}
