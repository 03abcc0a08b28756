package diff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// classFormat compares Java class files as `javap -v` lists them:
// version, constant pool, fields, methods and attributes, with the code
// of each method in hex. Changed debug attributes (javac -g, -g:none) are
// the java-debug-info cause; descriptors such as java/lang/String are not
// read as build paths.
type classFormat struct{}

func (classFormat) Name() string { return "class" }

// Detect: 0xCAFEBABE and a class file major version (a fat Mach-O has the
// same magic followed by a small architecture count).
func (classFormat) Detect(h []byte) bool {
	return len(h) >= 8 && binary.BigEndian.Uint32(h) == 0xcafebabe && binary.BigEndian.Uint16(h[6:]) >= 45 && binary.BigEndian.Uint16(h[6:]) < 100
}

// classFile is a decoded class: its views and the debug attributes found.
type classFile struct {
	views []view
	debug []string
}

func (classFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	parse := func(in *input) (*classFile, error) {
		data, err := c.readTable(in, "class file")
		if err != nil {
			return nil, err
		}
		return parseClass(data)
	}
	ca, cb, err := bothInputs(a, b, parse)
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "class", ca.views, cb.views, false)
	da, db := strings.Join(ca.debug, ", "), strings.Join(cb.debug, ", ")
	if da != db && len(details) > 0 {
		details[0].Comments = append(details[0].Comments, fmt.Sprintf("debug attributes: %s → %s", orNone(da), orNone(db)))
		valueChange(details[0], CauseJavaDebugInfo, "debug attributes", da, db)
	}
	return c.finishFormat(a, b, "class", before, details, "the class files decode the same; their bytes differ in constant pool order or encoding"), nil
}

// classReader reads big-endian fields and fails past the end.
type classReader struct {
	b   []byte
	err error
}

var errClassTruncated = errors.New("truncated class file")

func (r *classReader) take(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errClassTruncated
		return make([]byte, min(n, 8))
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *classReader) u1() uint8  { return r.take(1)[0] }
func (r *classReader) u2() uint16 { return binary.BigEndian.Uint16(r.take(2)) }
func (r *classReader) u4() uint32 { return binary.BigEndian.Uint32(r.take(4)) }

// constant pool entry tags and their names, as javap prints them.
var cpTags = map[uint8]string{1: "Utf8", 3: "Integer", 4: "Float", 5: "Long", 6: "Double", 7: "Class", 8: "String", 9: "Fieldref",
	10: "Methodref", 11: "InterfaceMethodref", 12: "NameAndType", 15: "MethodHandle", 16: "MethodType", 17: "Dynamic",
	18: "InvokeDynamic", 19: "Module", 20: "Package"}

// classDebugAttrs are the attributes javac's -g option controls.
var classDebugAttrs = map[string]bool{"SourceFile": true, "LineNumberTable": true, "LocalVariableTable": true, "LocalVariableTypeTable": true}

func parseClass(data []byte) (*classFile, error) {
	r := &classReader{b: data}
	r.u4()
	minor, major := r.u2(), r.u2()
	pool, lines := parsePool(r)
	if r.err != nil {
		return nil, r.err
	}
	utf := func(i uint16) string {
		if int(i) < len(pool) {
			return pool[i]
		}
		return fmt.Sprintf("#%d", i)
	}
	cf := &classFile{}
	debug := map[string]bool{}
	access, this, super := r.u2(), r.u2(), r.u2()
	header := []string{fmt.Sprintf("version %d.%d", major, minor), fmt.Sprintf("flags 0x%04x", access),
		"this_class " + utf(this), "super_class " + utf(super)}
	for range r.u2() {
		header = append(header, "interface "+utf(r.u2()))
	}
	var members []string
	for _, kind := range []string{"field", "method"} {
		for range r.u2() {
			if r.err != nil {
				return nil, r.err
			}
			acc, name, desc := r.u2(), r.u2(), r.u2()
			members = append(members, fmt.Sprintf("%s %s %s flags 0x%04x", kind, utf(name), utf(desc), acc))
			members = append(members, classAttrs(r, utf, "  ", debug)...)
		}
	}
	attrs := classAttrs(r, utf, "", debug)
	if r.err != nil {
		return nil, r.err
	}
	for k := range debug {
		cf.debug = append(cf.debug, k)
	}
	sort.Strings(cf.debug)
	cf.views = []view{
		{"javap -verbose {} (header)", "class header", header},
		{"javap -verbose {} (constant pool)", "constant pool", lines},
		{"javap -verbose {} (fields and methods)", "fields and methods", members},
		{"javap -verbose {} (attributes)", "class attributes", attrs},
	}
	return cf, nil
}

// parsePool decodes the constant pool: each entry's javap line, and the
// text of Utf8, Class and String entries by index for naming.
func parsePool(r *classReader) (names []string, lines []string) {
	count := int(r.u2())
	raw := make([]string, count)
	refs := make([][2]uint16, count)
	tags := make([]uint8, count)
	for i := 1; i < count && r.err == nil; i++ {
		tag := r.u1()
		tags[i] = tag
		switch tag {
		case 1:
			raw[i] = string(r.take(int(r.u2())))
		case 3:
			raw[i] = fmt.Sprint(int32(r.u4()))
		case 4:
			raw[i] = fmt.Sprint(math.Float32frombits(r.u4()))
		case 5, 6:
			v := uint64(r.u4())<<32 | uint64(r.u4())
			raw[i] = fmt.Sprint(int64(v))
			if tag == 6 {
				raw[i] = fmt.Sprint(math.Float64frombits(v))
			}
			i++ // 8-byte constants take two entries
		case 7, 8, 16, 19, 20:
			refs[i][0] = r.u2()
		case 9, 10, 11, 12, 17, 18:
			refs[i] = [2]uint16{r.u2(), r.u2()}
		case 15:
			refs[i] = [2]uint16{uint16(r.u1()), r.u2()}
		default:
			r.err = fmt.Errorf("constant pool entry %d has unknown tag %d", i, tag)
		}
	}
	name := func(i uint16) string {
		if int(i) < count && tags[i] == 1 {
			return raw[i]
		}
		if int(i) < count && (tags[i] == 7 || tags[i] == 8) && int(refs[i][0]) < count {
			return raw[refs[i][0]]
		}
		return fmt.Sprintf("#%d", i)
	}
	names = make([]string, count)
	for i := 1; i < count; i++ {
		names[i] = name(uint16(i))
		if tags[i] == 0 {
			continue
		}
		v := raw[i]
		switch tags[i] {
		case 1:
			v = fmt.Sprintf("%q", raw[i])
		case 7, 8, 16, 19, 20:
			v = name(refs[i][0])
		case 9, 10, 11, 12, 15, 17, 18:
			v = name(refs[i][0]) + " " + name(refs[i][1])
		}
		lines = append(lines, fmt.Sprintf("#%d = %s %s", i, cpTags[tags[i]], v))
	}
	return names, lines
}

// classAttrs lists attributes: name and length, a Code attribute's
// limits, code (hex) and nested attributes, a SourceFile's name and a
// LineNumberTable's entries. Debug attributes found are recorded.
func classAttrs(r *classReader, utf func(uint16) string, indent string, debug map[string]bool) []string {
	var out []string
	for range r.u2() {
		if r.err != nil {
			return out
		}
		name := utf(r.u2())
		body := &classReader{b: r.take(int(r.u4()))}
		if classDebugAttrs[name] {
			debug[name] = true
		}
		out = append(out, fmt.Sprintf("%sattribute %s (%d bytes)", indent, name, len(body.b)))
		switch name {
		case "Code":
			if len(indent) > 8 {
				r.err = errors.New("Code attributes nested too deep")
				return out
			}
			out = append(out, fmt.Sprintf("%s  stack=%d, locals=%d", indent, body.u2(), body.u2()))
			code := body.take(int(body.u4()))
			for p := 0; p < len(code) && body.err == nil; p += 16 {
				out = append(out, fmt.Sprintf("%s  %04x: % x", indent, p, code[p:min(p+16, len(code))]))
			}
			body.take(8 * int(body.u2())) // exception table
			out = append(out, classAttrs(body, utf, indent+"  ", debug)...)
		case "SourceFile", "Signature":
			out = append(out, indent+"  "+utf(body.u2()))
		case "LineNumberTable":
			for range body.u2() {
				out = append(out, fmt.Sprintf("%s  line %d: %d", indent, body.u2(), body.u2()))
			}
		}
	}
	return out
}
