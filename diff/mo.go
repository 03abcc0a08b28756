package diff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// moFormat compares GNU gettext message catalogues (.mo) as msgunfmt
// shows them: the header entry's fields, then each message and its
// translation; the header's dates are named as timestamps.
type moFormat struct{}

func (moFormat) Name() string { return "gettext-mo" }

// Detect: the magic 0x950412de in either byte order, revision 0 or 1.
func (moFormat) Detect(h []byte) bool {
	if len(h) < 28 {
		return false
	}
	bo, ok := moOrder(h)
	return ok && bo.Uint32(h[4:])>>16 <= 1
}

func moOrder(h []byte) (binary.ByteOrder, bool) {
	switch binary.LittleEndian.Uint32(h) {
	case 0x950412de:
		return binary.LittleEndian, true
	case 0xde120495:
		return binary.BigEndian, true
	}
	return nil, false
}

func parseMo(data []byte) ([]view, error) {
	if len(data) < 28 {
		return nil, errors.New("not a .mo catalogue: shorter than its header")
	}
	bo, ok := moOrder(data)
	if !ok {
		return nil, errors.New("not a .mo catalogue")
	}
	n, orig, trans := int64(bo.Uint32(data[8:])), int64(bo.Uint32(data[12:])), int64(bo.Uint32(data[16:]))
	if n > int64(len(data))/16 {
		return nil, fmt.Errorf("%d messages cannot fit in %d bytes", n, len(data))
	}
	str := func(table, i int64) (string, error) {
		at := table + 8*i
		if at < 0 || at+8 > int64(len(data)) {
			return "", fmt.Errorf("message %d: table entry past the end", i)
		}
		l, off := int64(bo.Uint32(data[at:])), int64(bo.Uint32(data[at+4:]))
		if off+l > int64(len(data)) {
			return "", fmt.Errorf("message %d: string past the end", i)
		}
		return string(data[off : off+l]), nil
	}
	var header, msgs []string
	for i := range n {
		id, err := str(orig, i)
		if err != nil {
			return nil, err
		}
		tr, err := str(trans, i)
		if err != nil {
			return nil, err
		}
		if id == "" {
			header = strings.Split(strings.TrimRight(tr, "\n"), "\n")
			continue
		}
		msgs = append(msgs, "msgid "+strconv.Quote(id), "msgstr "+strconv.Quote(tr))
	}
	return []view{{"msgunfmt {} (header)", "catalogue header", header}, {"msgunfmt {}", "messages", msgs}}, nil
}

func (moFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	parse := func(in *input) ([]view, error) {
		data, err := c.readTable(in, "message catalogue")
		if err != nil {
			return nil, err
		}
		return parseMo(data)
	}
	va, vb, err := bothInputs(a, b, parse)
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "gettext-mo", va, vb, true)
	return c.finishFormat(a, b, "gettext-mo", before, details, "the catalogues hold the same messages; their bytes differ in order or hash table"), nil
}
