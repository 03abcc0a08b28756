package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonFormat compares JSON documents canonically (sorted keys, fixed
// indentation), so that reordered keys or new whitespace are reported as a
// serialization difference and real changes as a diff of the pretty forms.
type jsonFormat struct{}

func (jsonFormat) Name() string { return "json" }

// Detect: starts (after whitespace) with { or [ and the head parses as the
// beginning of a JSON document.
func (jsonFormat) Detect(h []byte) bool {
	t := bytes.TrimLeft(h, " \t\r\n")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') || !looksText(h) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			// A syntax error at the very end is the head being cut.
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return false
			}
			return errors.Is(err, io.ErrUnexpectedEOF)
		}
	}
}

const maxJSONSize = 64 << 20

func canonicalJSON(in *input) ([]byte, error) {
	if in.size > maxJSONSize {
		return nil, fmt.Errorf("JSON document of %d bytes is larger than %d MiB", in.size, maxJSONSize>>20)
	}
	raw, err := io.ReadAll(in.reader())
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON document")
	}
	return json.MarshalIndent(v, "", "  ")
}

func (jsonFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	ca, erra := canonicalJSON(a)
	cb, errb := canonicalJSON(b)
	if erra != nil || errb != nil {
		n, err := textFormat{}.compare(c, a, b, 0)
		if n != nil {
			n.Comments = append(n.Comments, fmt.Sprintf("not valid JSON on both sides (%v; %v): compared as text", erra, errb))
		}
		return n, err
	}
	n := newNode(a, b, KindContent, "json")
	if bytes.Equal(ca, cb) {
		n.Kind = KindMetadata
		n.Comments = []string{"same JSON value; key order or whitespace differ"}
		addCause(n, CauseSerialization, fmt.Sprintf("same JSON value, %d → %d bytes", a.size, b.size))
		return n, nil
	}
	c.textDiff(n, string(ca)+"\n", string(cb)+"\n")
	n.Comments = append(n.Comments, "compared after sorting keys and pretty-printing")
	return n, nil
}
