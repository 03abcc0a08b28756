package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// ErrInvalid is wrapped by every error about a manifest's content.
var ErrInvalid = errors.New("invalid manifest")

// Problem is one thing wrong with a manifest, at a field path such as
// "sources[1].digest".
type Problem struct {
	Field string
	Msg   string
}

// Error lists every problem found in one manifest.
type Error struct {
	Source   string // file name, or "manifest" when not read from a file
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		fmt.Fprintf(&b, "%s: %s: %s", e.Source, e.Problems[0].Field, e.Problems[0].Msg)
		return b.String()
	}
	fmt.Fprintf(&b, "%s: %d problems:", e.Source, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Field, p.Msg)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

// MaxSize is the largest manifest Load and Parse read: a manifest lists a
// few inputs, and a hostile one must not cost gigabytes to parse.
const MaxSize = 4 << 20

// tooLarge is the error for a manifest of size bytes.
func tooLarge(name string, size int64) error {
	return &Error{Source: name, Problems: []Problem{{Field: "(file)", Msg: fmt.Sprintf(
		"the manifest is %d bytes, more than the %d bytes (4 MiB) a manifest may be; it is refused before parsing: a manifest declares inputs, it does not carry them", size, MaxSize)}}}
}

// Load reads a manifest file (YAML or JSON), checks its shape and validates
// it. It also returns the sha256 digest of the file's bytes. A file over
// MaxSize is refused before it is read.
func Load(path string) (*Manifest, string, error) {
	b, err := readManifest(path)
	if err != nil {
		return nil, "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	m, err := Parse(b, path)
	if err != nil {
		return nil, "", err
	}
	m.Path = abs
	m.Dir = filepath.Dir(abs)
	sum := sha256.Sum256(b)
	return m, "sha256:" + hex.EncodeToString(sum[:]), nil
}

// readManifest reads at most MaxSize bytes of path.
func readManifest(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxSize {
		return nil, tooLarge(path, fi.Size())
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	if len(b) > MaxSize {
		return nil, tooLarge(path, int64(len(b)))
	}
	return b, nil
}

// Parse reads a manifest from bytes; name is used in errors. It rejects
// unknown fields and wrong types with the field's path, then validates.
func Parse(b []byte, name string) (*Manifest, error) {
	if len(b) > MaxSize {
		return nil, tooLarge(name, int64(len(b)))
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, &Error{Source: name, Problems: []Problem{{Field: "(file)", Msg: fmt.Sprintf("not valid YAML or JSON: %v", err)}}}
	}
	var doc any
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, &Error{Source: name, Problems: []Problem{{Field: "(file)", Msg: err.Error()}}}
	}
	if doc == nil {
		return nil, &Error{Source: name, Problems: []Problem{{Field: "(file)", Msg: "empty manifest: start from `reprove init ARTIFACT` or the example in the README"}}}
	}
	var probs []Problem
	checkShape(manifestShape, doc, "", &probs)
	if len(probs) > 0 {
		return nil, &Error{Source: name, Problems: probs}
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, &Error{Source: name, Problems: []Problem{{Field: "(file)", Msg: err.Error()}}}
	}
	if err := validate(&m, name); err != nil {
		return nil, err
	}
	return &m, nil
}

type kind int

const (
	kObject kind = iota
	kList
	kString
	kBool
	kInt
	kDuration
	kSize
	kStringMap
)

type shape struct {
	kind   kind
	fields map[string]*shape
	elem   *shape
}

var (
	str  = &shape{kind: kString}
	obj  = func(f map[string]*shape) *shape { return &shape{kind: kObject, fields: f} }
	list = func(e *shape) *shape { return &shape{kind: kList, elem: e} }
)

// manifestShape is read off the Manifest type's JSON names, so that every
// field the decoder takes (and reprove init writes) is known here too.
var manifestShape = shapeOf(reflect.TypeFor[Manifest]())

func shapeOf(t reflect.Type) *shape {
	switch t {
	case reflect.TypeFor[Duration]():
		return &shape{kind: kDuration}
	case reflect.TypeFor[ByteSize]():
		return &shape{kind: kSize}
	}
	switch t.Kind() {
	case reflect.String:
		return str
	case reflect.Bool:
		return &shape{kind: kBool}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &shape{kind: kInt}
	case reflect.Slice:
		return list(shapeOf(t.Elem()))
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return &shape{kind: kStringMap}
		}
	case reflect.Struct:
		fields := map[string]*shape{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = shapeOf(f.Type)
		}
		return obj(fields)
	}
	panic("manifest: no shape for " + t.String())
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case bool:
		return "true/false"
	case float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func checkShape(s *shape, v any, path string, probs *[]Problem) {
	bad := func(want string) {
		*probs = append(*probs, Problem{Field: path, Msg: fmt.Sprintf("want %s, got %s", want, typeName(v))})
	}
	switch s.kind {
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			bad("a mapping")
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fs, ok := s.fields[k]
			if !ok {
				msg := "unknown field"
				if near := nearest(k, s.fields); near != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", near)
				} else {
					msg += "; known fields: " + strings.Join(fieldNames(s.fields), ", ")
				}
				*probs = append(*probs, Problem{Field: join(path, k), Msg: msg})
				continue
			}
			checkShape(fs, m[k], join(path, k), probs)
		}
	case kList:
		l, ok := v.([]any)
		if !ok {
			bad("a list")
			return
		}
		for i, e := range l {
			checkShape(s.elem, e, fmt.Sprintf("%s[%d]", path, i), probs)
		}
	case kString:
		if _, ok := v.(string); !ok {
			bad("a string (quote it)")
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			bad("true or false")
		}
	case kInt:
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			bad("a whole number")
		}
	case kDuration:
		var d Duration
		b, _ := json.Marshal(v)
		if err := d.UnmarshalJSON(b); err != nil {
			*probs = append(*probs, Problem{Field: path, Msg: err.Error()})
		}
	case kSize:
		var n ByteSize
		b, _ := json.Marshal(v)
		if err := n.UnmarshalJSON(b); err != nil {
			*probs = append(*probs, Problem{Field: path, Msg: err.Error()})
		}
	case kStringMap:
		m, ok := v.(map[string]any)
		if !ok {
			bad("a mapping of names to strings")
			return
		}
		for k, e := range m {
			if _, ok := e.(string); !ok {
				*probs = append(*probs, Problem{Field: join(path, k), Msg: fmt.Sprintf("want a string (quote it: %s: \"…\"), got %s", k, typeName(e))})
			}
		}
	}
}

func fieldNames(f map[string]*shape) []string {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// nearest returns the known field closest to k when it is a likely typo.
func nearest(k string, fields map[string]*shape) string {
	best, bestD := "", 3
	for _, f := range fieldNames(fields) {
		if d := editDistance(strings.ToLower(k), strings.ToLower(f)); d < bestD {
			best, bestD = f, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
