package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrSchemaVersion is returned by ReadJSON for a result written in a schema
// this reprove cannot read.
var ErrSchemaVersion = errors.New("unsupported result schema version")

// maxResultBytes bounds what ReadJSON reads: a result carries truncated diffs,
// so anything larger is not a result.
const maxResultBytes = 256 << 20

// MarshalJSON writes the result with every list present (empty, never null)
// and with this package's SchemaVersion when none was set, so that whatever
// writes a Result writes a document that report/schema.json accepts.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // drops the methods, so no recursion
	p := plain(r)
	if p.SchemaVersion == "" {
		p.SchemaVersion = SchemaVersion
	}
	if p.Inputs == nil {
		p.Inputs = []Input{}
	}
	if p.Environment == nil {
		p.Environment = []string{}
	}
	if p.Timings == nil {
		p.Timings = []Timing{}
	}
	return json.Marshal(p)
}

// WriteJSON writes res as indented JSON followed by a newline.
func WriteJSON(w io.Writer, res *Result) error {
	if res == nil {
		return errors.New("writing JSON result: no result")
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding result %q as JSON: %w", res.Name, err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing JSON result: %w", err)
	}
	return nil
}

// ReadJSON reads a result written by WriteJSON (reprove verify --json). It
// checks the schema version first, so a result from an incompatible reprove
// is refused with ErrSchemaVersion, then validates the document against
// report/schema.json, naming the first field that does not fit.
func ReadJSON(r io.Reader) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResultBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading result: %w", err)
	}
	if len(data) > maxResultBytes {
		return nil, fmt.Errorf("reading result: larger than %d MiB, not a reprove result", maxResultBytes>>20)
	}
	var head struct {
		SchemaVersion *string `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("reading result: not JSON (%v); pass the file written by reprove verify --json", err)
	}
	if head.SchemaVersion == nil {
		return nil, fmt.Errorf("reading result: no schemaVersion field, so this is not a reprove result; pass the file written by reprove verify --json")
	}
	if err := checkSchemaVersion(*head.SchemaVersion); err != nil {
		return nil, err
	}
	if err := ValidateJSON(data); err != nil {
		return nil, fmt.Errorf("reading result: %w", err)
	}
	var res Result
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("reading result: %w", err)
	}
	return &res, nil
}

// checkSchemaVersion accepts this package's major version and any minor
// revision of it ("reprove.result/v1" or "reprove.result/v1.3"): minor
// revisions only add fields.
func checkSchemaVersion(v string) error {
	if v == SchemaVersion || strings.HasPrefix(v, SchemaVersion+".") {
		return nil
	}
	return fmt.Errorf("%w: the result says %q, this reprove reads %q; re-render it with the reprove that wrote it, or verify again",
		ErrSchemaVersion, v, SchemaVersion)
}
