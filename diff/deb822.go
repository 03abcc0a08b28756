package diff

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// deb822Format compares Debian control-style files field by field: a
// .deb's control file, .buildinfo, .changes and .dsc (clearsigned or not).
// Each differing field is one node with a diff of its value's lines; a
// signature around the fields is compared apart.
type deb822Format struct{}

func (deb822Format) Name() string { return "deb822" }

// deb822First are the fields a Debian control-style file starts with.
var deb822First = regexp.MustCompile(`^(Package|Source|Format|Origin):[ \t]*\S`)

// deb822Line is a field line ("Name: value") or a continuation line.
var deb822Line = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9-]*:|[ \t]|$)`)

// Detect: text whose first field (after a clearsign header) is Package,
// Source, Format or Origin, and whose lines in the head are all field or
// continuation lines of one paragraph.
func (deb822Format) Detect(h []byte) bool {
	if !looksText(h) {
		return false
	}
	body := stripSignedHeader(h)
	if i := bytes.Index(body, []byte("\n-----BEGIN PGP SIGNATURE-----")); i >= 0 {
		body = body[:i+1]
	}
	if !deb822First.Match(body) {
		return false
	}
	lines := strings.Split(string(body), "\n")
	if len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last may be cut by the head
	}
	fields := 0
	for _, l := range lines {
		if !deb822Line.MatchString(l) {
			return false
		}
		if l != "" && l[0] != ' ' && l[0] != '\t' {
			fields++
		}
	}
	return fields >= 2
}

const pgpSigned = "-----BEGIN PGP SIGNED MESSAGE-----\n"

// stripSignedHeader skips a clearsign header (armor line, Hash: lines and
// the blank line after them).
func stripSignedHeader(b []byte) []byte {
	if !bytes.HasPrefix(b, []byte(pgpSigned)) {
		return b
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[i+2:]
	}
	return nil
}

// deb822Field is one field as written: its name and value lines.
type deb822Field struct {
	name  string
	lines []string // the value: first line's text, then continuation lines as written
}

// maxDeb822Size is the largest control-style file compared by field.
const maxDeb822Size = 16 << 20

// parseDeb822 splits a control-style file into its fields (paragraphs
// after the first are numbered: "Package#2") and its signature block.
func parseDeb822(in *input) (fields []deb822Field, signature string, err error) {
	if in.size > maxDeb822Size {
		return nil, "", fmt.Errorf("larger than %d MiB", maxDeb822Size>>20)
	}
	raw, err := io.ReadAll(in.reader())
	if err != nil {
		return nil, "", err
	}
	body := string(stripSignedHeader(raw))
	if i := strings.Index(body, "\n-----BEGIN PGP SIGNATURE-----"); i >= 0 {
		body, signature = body[:i+1], body[i+1:]
	}
	para, seen := 1, map[string]bool{}
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			if len(fields) > 0 {
				para++
			}
		case line[0] == ' ' || line[0] == '\t':
			if len(fields) == 0 {
				return nil, "", fmt.Errorf("continuation line %q before any field", line)
			}
			f := &fields[len(fields)-1]
			f.lines = append(f.lines, line)
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				return nil, "", fmt.Errorf("line %q is neither a field nor a continuation", line)
			}
			if para > 1 {
				name = fmt.Sprintf("%s#%d", name, para)
			}
			for seen[name] {
				name += "'"
			}
			seen[name] = true
			fields = append(fields, deb822Field{name: name, lines: []string{strings.TrimSpace(value)}})
		}
	}
	return fields, signature, nil
}

func (deb822Format) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	fa, sa, err := parseDeb822(a)
	if err != nil {
		return nil, err
	}
	fb, sb, err := parseDeb822(b)
	if err != nil {
		return nil, err
	}
	var details []*Node
	byName := map[string]deb822Field{}
	for _, f := range fb {
		byName[f.name] = f
	}
	for _, f := range fa {
		o, ok := byName[f.name]
		delete(byName, f.name)
		if ok && equalStrings(f.lines, o.lines) {
			continue
		}
		details = append(details, c.deb822FieldNode(a, b, f, o, ok))
	}
	var added []string
	for name := range byName {
		added = append(added, name)
	}
	sort.Strings(added)
	for _, name := range added {
		n := c.deb822FieldNode(a, b, deb822Field{name: name}, byName[name], true)
		n.Kind, n.Comments = KindAdded, []string{"field only on the right"}
		details = append(details, n)
	}
	if sa != sb {
		n := newNode(a, b, KindMetadata, "deb822")
		n.Name1, n.Name2 = "OpenPGP signature", "OpenPGP signature"
		n.Source1, n.Source2 = a.name+" [signature]", b.name+" [signature]"
		n.Comments = []string{"the OpenPGP signatures around the fields differ (expected: a rebuild is not signed by the publisher)"}
		details = append(details, n)
	}
	if len(details) == 0 {
		return c.unexplained(a, b, "deb822", c.suppressed, "the same fields with the same values; the bytes differ in layout (whitespace, field order)"), nil
	}
	return wrap(a, b, "deb822", details), nil
}

// deb822FieldNode is the diff of one field's value lines, with the causes
// its name says (Build-Path, Build-Date) or its lines suggest.
func (c *comparer) deb822FieldNode(a, b *input, fa, fb deb822Field, both bool) *Node {
	n := newNode(a, b, KindContent, "deb822")
	n.Name1, n.Name2 = "field "+fa.name, "field "+fa.name
	n.Source1, n.Source2 = a.name+" ["+fa.name+"]", b.name+" ["+fa.name+"]"
	n.Size1, n.Size2 = 0, 0
	if !both {
		n.Kind, n.Comments = KindRemoved, []string{"field only on the left"}
	}
	c.linesDiff(n, append([]string(nil), fa.lines...), append([]string(nil), fb.lines...), true)
	var cause CauseID
	switch strings.TrimRight(strings.SplitN(fa.name, "#", 2)[0], "'") {
	case "Build-Path":
		cause = CauseBuildPath
	case "Build-Date":
		cause = CauseBuildDate
	default:
		return n
	}
	clearCauses(n)
	addCause(n, cause, fa.name+": "+orNone(strings.Join(fa.lines, " "))+" → "+orNone(strings.Join(fb.lines, " ")))
	return n
}
