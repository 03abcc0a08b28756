package diff

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/reprove/reprove/diff/archive"
)

// streamSpec describes a single-stream compression format for
// compareCompressed: how to read its header and how to decompress it.
type streamSpec struct {
	format string
	// suffixes maps a file name suffix to its replacement for the inner
	// name (".tgz" → ".tar"); without a match diffoscope's "-content" is used.
	suffixes [][2]string
	// header returns the header's metadata, its length in bytes (the rest is
	// the compressed payload) and a one-line description like file(1)'s.
	header func(h []byte) (fields []metaField, length int64, desc string, err error)
	// compression is the stream's compression, decoded by archive.Decompress.
	compression archive.Compression
}

func innerLabel(label string, suffixes [][2]string) string {
	base := path.Base(label)
	for _, s := range suffixes {
		if strings.HasSuffix(base, s[0]) && len(base) > len(s[0]) {
			return base[:len(base)-len(s[0])] + s[1]
		}
	}
	return base + "-content"
}

// compareCompressed compares two compressed streams: header metadata, then
// the decompressed contents (recursively), then, if those are equal, the
// compressed payloads.
func compareCompressed(c *comparer, a, b *input, depth int, spec streamSpec) (*Node, error) {
	ha, err := a.head(headSize)
	if err != nil {
		return nil, err
	}
	hb, err := b.head(headSize)
	if err != nil {
		return nil, err
	}
	fa, lena, desca, err := spec.header(ha)
	if err != nil {
		return nil, fmt.Errorf("%s header of %s: %w", spec.format, a.name, err)
	}
	fb, lenb, descb, err := spec.header(hb)
	if err != nil {
		return nil, fmt.Errorf("%s header of %s: %w", spec.format, b.name, err)
	}
	before := c.hidden()
	var details []*Node
	if comments, causes := c.diffMetaFields(a.name, fa, fb); len(comments) > 0 {
		n := newNode(a, b, KindMetadata, spec.format)
		n.Name1, n.Name2 = "filetype from file(1)", "filetype from file(1)"
		n.Source1, n.Source2 = a.name+" (header)", b.name+" (header)"
		n.Comments = comments
		addFindings(n, causes)
		c.setUnified(n, "@@ -1 +1 @@\n-"+desca+"\n+"+descb+"\n")
		details = append(details, n)
	}

	la, lb := innerLabel(a.label, spec.suffixes), innerLabel(b.label, spec.suffixes)
	var ia, ib *input
	var erra error
	done := make(chan struct{})
	go func() {
		defer close(done)
		ia, erra = decompressInput(c, a, la, spec.compression)
	}()
	ib, err = decompressInput(c, b, lb, spec.compression)
	<-done
	defer ia.done()
	defer ib.done()
	if erra != nil {
		return nil, erra
	}
	if err != nil {
		return nil, err
	}
	beforeInner := c.hidden()
	inner, err := c.compare(ia, ib, depth+1)
	if err != nil {
		return nil, err
	}
	if inner != nil {
		details = append(details, inner)
	} else if c.hidden() == beforeInner {
		// The contents are equal as bytes: a difference in the compressed
		// data is the compressor's. (When a normalization made them
		// equivalent, the compressed data differs because the content
		// does, and the stream counts as equivalent too.)
		pa := &input{name: a.name, size: a.size - lena, ra: io.NewSectionReader(a.ra, lena, a.size-lena)}
		pb := &input{name: b.name, size: b.size - lenb, ra: io.NewSectionReader(b.ra, lenb, b.size-lenb)}
		same, err := sameContent(pa, pb)
		if err != nil {
			return nil, err
		}
		if !same {
			n := newNode(a, b, KindMetadata, spec.format)
			n.Name1, n.Name2 = "compressed data", "compressed data"
			n.Source1, n.Source2 = a.name+" (compressed data)", b.name+" (compressed data)"
			n.Comments = []string{fmt.Sprintf("compressed data differs (%d → %d bytes) but decompresses to identical content", pa.size, pb.size)}
			addCause(n, CauseCompression, fmt.Sprintf("compressed data: %d → %d bytes with equal content", pa.size, pb.size))
			details = append(details, n)
		}
	}
	if len(details) == 0 {
		if n := c.unexplained(a, b, spec.format, before, "the streams differ outside their header and compressed data"); n != nil {
			details = append(details, n)
		}
	}
	return wrap(a, b, spec.format, details), nil
}

func decompressInput(c *comparer, in *input, label string, comp archive.Compression) (*input, error) {
	rc, err := archive.Decompress(comp, in.reader(), in.name, c.opts.Limits)
	if err != nil {
		return nil, fmt.Errorf("decompressing %s: %w", in.name, err)
	}
	defer rc.Close()
	out, err := c.spill(joinName(in.name, label), label, rc)
	if err != nil {
		return nil, fmt.Errorf("decompressing %s: %w", in.name, err)
	}
	return out, nil
}
