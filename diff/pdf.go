package diff

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/reprove/reprove/diff/archive"
)

// pdfFormat compares PDF documents by their metadata: the version, the
// document information dictionary (CreationDate, ModDate, Producer…),
// the trailer's document ID and the XMP packet's dates and IDs, found in
// the file and in its Flate-compressed streams (object streams, XMP).
// Changed dates are embedded dates and changed IDs random identifiers.
// When the metadata is the same, the bytes are compared.
type pdfFormat struct{}

func (pdfFormat) Name() string { return "pdf" }

// Detect: "%PDF-" in the first KiB, as readers accept it.
func (pdfFormat) Detect(h []byte) bool { return bytes.Contains(h[:min(len(h), 1024)], []byte("%PDF-")) }

var (
	pdfVersion = regexp.MustCompile(`%PDF-(\d\.\d)`)
	pdfInfo    = regexp.MustCompile(`/(CreationDate|ModDate|Producer|Creator|Title|Author|Subject|Keywords)\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)`)
	pdfID      = regexp.MustCompile(`/ID\s*\[\s*<([0-9A-Fa-f]*)>\s*<([0-9A-Fa-f]*)>\s*\]`)
	pdfXMP     = regexp.MustCompile(`(xmp:CreateDate|xmp:ModifyDate|xmp:MetadataDate|xmpMM:DocumentID|xmpMM:InstanceID|xmp:CreatorTool|pdf:Producer)(?:>([^<]*)<|="([^"]*)")`)
	pdfStream  = regexp.MustCompile(`stream\r?\n`)
)

// pdfMeta is a document's metadata lines, with the values causes look at.
type pdfMeta struct {
	lines []string
	dates map[string]string // key → value, for dates
	ids   map[string]string
}

func (m *pdfMeta) scan(text []byte, where string) {
	for _, g := range pdfInfo.FindAllSubmatch(text, 200) {
		m.add("Info /"+string(g[1]), string(g[2]), where, string(g[1]) == "CreationDate" || string(g[1]) == "ModDate", false)
	}
	for _, g := range pdfID.FindAllSubmatch(text, 10) {
		m.add("trailer /ID", string(g[1])+" "+string(g[2]), where, false, true)
	}
	for _, g := range pdfXMP.FindAllSubmatch(text, 200) {
		k := string(g[1])
		m.add("XMP "+k, string(g[2])+string(g[3]), where, strings.Contains(k, "Date"), strings.HasSuffix(k, "ID"))
	}
}

func (m *pdfMeta) add(key, value, where string, date, id bool) {
	m.lines = append(m.lines, key+" "+value+where)
	if date {
		m.dates[key] = value
	}
	if id {
		m.ids[key] = value
	}
}

func parsePDF(c *comparer, in *input) (*pdfMeta, error) {
	data, err := c.readTable(in, "PDF document")
	if err != nil {
		return nil, err
	}
	m := &pdfMeta{dates: map[string]string{}, ids: map[string]string{}}
	if v := pdfVersion.FindSubmatch(data); v != nil {
		m.lines = append(m.lines, "version "+string(v[1]))
	}
	m.scan(data, "")
	budget := c.opts.Limits.MaxTableSize
	for i, loc := range pdfStream.FindAllIndex(data, 100000) {
		dict := data[max(0, loc[0]-512):loc[0]]
		if !bytes.Contains(dict[max(0, bytes.LastIndex(dict, []byte("<<"))):], []byte("/FlateDecode")) {
			continue
		}
		end := bytes.Index(data[loc[1]:], []byte("endstream"))
		if end < 0 {
			break
		}
		text, err := inflatePDFStream(c, in, data[loc[1]:loc[1]+end], &budget)
		if err != nil {
			return nil, err
		}
		m.scan(text, fmt.Sprintf(" (in stream %d)", i+1))
	}
	return m, nil
}

// inflatePDFStream inflates one stream, counting it against budget: past
// it (the table size limit, for all streams together) a *LimitError.
func inflatePDFStream(c *comparer, in *input, raw []byte, budget *int64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, nil // not a stream we read; its bytes are compared anyway
	}
	r := archive.Bound(zr, func() int64 { return int64(len(raw)) }, in.name, "PDF stream", c.opts.Limits)
	out, err := io.ReadAll(io.LimitReader(r, *budget+1))
	if int64(len(out)) > *budget {
		return nil, &archive.LimitError{Input: in.name, Entry: "PDF streams", Limit: "table size", Max: c.opts.Limits.MaxTableSize,
			Got: "streams inflating past it", Flag: "max-table-size"}
	}
	*budget -= int64(len(out))
	var le *archive.LimitError
	if errors.As(err, &le) {
		return nil, err
	}
	return out, nil
}

func (pdfFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	ma, mb, err := bothInputs(a, b, func(in *input) (*pdfMeta, error) { return parsePDF(c, in) })
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "pdf", []view{{"pdf metadata {}", "pdf metadata", ma.lines}}, []view{{"pdf metadata {}", "pdf metadata", mb.lines}}, false)
	if len(details) > 0 {
		n := details[0]
		for k, v := range ma.dates {
			valueChange(n, CauseEmbeddedDate, k, v, mb.dates[k])
		}
		for k, v := range ma.ids {
			valueChange(n, CauseRandomIDs, k, v, mb.ids[k])
		}
		sortEvidence(n)
		return c.finishFormat(a, b, "pdf", before, details, ""), nil
	}
	n, err := binaryFormat{}.compare(c, a, b, depth)
	if n != nil {
		n.Format = "pdf"
		n.Comments = append([]string{"the metadata (information dictionary, document ID, XMP) is the same: the bytes differ elsewhere"}, n.Comments...)
	}
	return n, err
}
