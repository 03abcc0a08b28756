package golang

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// goreleaser's templates come from the configuration, hostile input. They
// are rendered by text/template with a strict set of functions: string
// operations only, none that reads a file, the environment, the clock or
// the network (those render as a named unknown, or fail), no loops or
// template calls, and every string a function returns, and the output, is
// bounded.
const maxTemplateOutput = 64 << 10

// unknownMark stands for a value the binary does not record ({{.Env.X}},
// {{time …}}); marks are found in the rendered flags and named.
func unknownMark(name string) string { return "\x00?" + name + "\x00" }

var markRe = regexp.MustCompile("\x00\\?([^\x00]*)\x00")

// unknownsIn names the unknown values s holds.
func unknownsIn(s string) []string {
	var names []string
	for _, m := range markRe.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	return names
}

// errTooLong is what a function or the output returns past the bound.
var errTooLong = fmt.Errorf("template output longer than %d bytes", maxTemplateOutput)

func withinOutputBound(s string) (string, error) {
	if len(s) > maxTemplateOutput {
		return "", errTooLong
	}
	return s, nil
}

// boundedReplace is strings.ReplaceAll that refuses, before allocating, a
// result past the output bound.
func boundedReplace(s, old, new string) (string, error) {
	n := strings.Count(s, old)
	if int64(len(s))+int64(n)*(int64(len(new))-int64(len(old))) > maxTemplateOutput {
		return "", errTooLong
	}
	return strings.ReplaceAll(s, old, new), nil
}

// notEvaluated refuses a function that would read files or hash them.
func notEvaluated(name, why string) any {
	return func(...any) (string, error) {
		return "", fmt.Errorf("template function %s is not evaluated: it %s", name, why)
	}
}

// templateFuncs is the strict function map; env is what {{envOrDefault}}
// may know.
func templateFuncs(env map[string]string) template.FuncMap {
	str := func(f func(string) string) func(string) (string, error) {
		return func(s string) (string, error) { return withinOutputBound(f(s)) }
	}
	envValue := func(name string) (string, bool) {
		v, ok := env[name]
		if !ok || strings.HasPrefix(v, "\x00?") {
			return unknownMark("Env." + name), false
		}
		return v, true
	}
	return template.FuncMap{
		"replace":       boundedReplace,
		"split":         func(s, sep string) []string { return strings.Split(s, sep) },
		"contains":      strings.Contains,
		"tolower":       str(strings.ToLower),
		"toupper":       str(strings.ToUpper),
		"trim":          str(strings.TrimSpace),
		"trimprefix":    func(s, p string) string { return strings.TrimPrefix(s, p) },
		"trimsuffix":    func(s, p string) string { return strings.TrimSuffix(s, p) },
		"title":         str(titleASCII),
		"dir":           str(path.Dir),
		"base":          str(path.Base),
		"join":          func(p ...string) (string, error) { return withinOutputBound(path.Join(p...)) },
		"incmajor":      func(v string) string { return incSemver(v, 0) },
		"incminor":      func(v string) string { return incSemver(v, 1) },
		"incpatch":      func(v string) string { return incSemver(v, 2) },
		"urlPathEscape": str(url.PathEscape),
		"list":          func(a ...any) []any { return a },
		"time":          func(layout string) string { return unknownMark("time " + layout) },
		"envOrDefault": func(name, def string) string {
			if v, ok := envValue(name); ok {
				return v
			}
			return unknownMark("Env." + name)
		},
		"isEnvSet":     func(name string) bool { _, ok := envValue(name); return ok },
		"readFile":     notEvaluated("readFile", "reads a file"),
		"mustReadFile": notEvaluated("mustReadFile", "reads a file"),
		"abs":          notEvaluated("abs", "reads the working folder"),
		"blake2b":      notEvaluated("blake2b", "reads a file"),
		"blake2s":      notEvaluated("blake2s", "reads a file"),
		"blake3":       notEvaluated("blake3", "reads a file"),
		"crc32":        notEvaluated("crc32", "reads a file"),
		"md5":          notEvaluated("md5", "reads a file"),
		"sha1":         notEvaluated("sha1", "reads a file"),
		"sha224":       notEvaluated("sha224", "reads a file"),
		"sha256":       notEvaluated("sha256", "reads a file"),
		"sha384":       notEvaluated("sha384", "reads a file"),
		"sha512":       notEvaluated("sha512", "reads a file"),
	}
}

// titleASCII upper-cases the first letter of each word.
func titleASCII(s string) string {
	b := []byte(s)
	start := true
	for i, c := range b {
		if start && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		start = c == ' ' || c == '\t' || c == '-' || c == '_'
	}
	return string(b)
}

// incSemver increments part i (0 major, 1 minor, 2 patch) of vX.Y.Z and
// zeroes the parts after it, as goreleaser's incmajor/incminor/incpatch.
func incSemver(v string, i int) string {
	prefix := ""
	if strings.HasPrefix(v, "v") {
		prefix, v = "v", v[1:]
	}
	core, _, _ := strings.Cut(v, "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return unknownMark("inc " + prefix + v)
	}
	var n [3]int
	for j, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil {
			return unknownMark("inc " + prefix + v)
		}
		n[j] = x
	}
	n[i]++
	for j := i + 1; j < 3; j++ {
		n[j] = 0
	}
	return fmt.Sprintf("%s%d.%d.%d", prefix, n[0], n[1], n[2])
}

// limitedBuffer fails writes past the output bound.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxTemplateOutput {
		return 0, errTooLong
	}
	return b.Buffer.Write(p)
}

// renderTemplate renders one goreleaser template string with data. A
// missing field or map key is an error naming it.
func renderTemplate(s string, data map[string]any, env map[string]string) (string, error) {
	if len(s) > maxReleaseString {
		return "", fmt.Errorf("template of %d bytes (at most %d)", len(s), maxReleaseString)
	}
	t, err := template.New("ldflags").Funcs(templateFuncs(env)).Option("missingkey=error").Parse(s)
	if err != nil {
		return "", err
	}
	if err := straightLine(t.Tree.Root); err != nil {
		return "", err
	}
	var out limitedBuffer
	if err := t.Execute(&out, data); err != nil {
		return "", err
	}
	return out.String(), nil
}

// straightLine refuses loops, template calls and definitions: a
// template for flags has no use for them, and they would bound time no
// longer by the template's size.
func straightLine(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := straightLine(c); err != nil {
				return err
			}
		}
	case *parse.IfNode:
		return errors.Join(straightLine(n.List), straightLine(n.ElseList))
	case *parse.WithNode:
		return errors.Join(straightLine(n.List), straightLine(n.ElseList))
	case *parse.RangeNode, *parse.TemplateNode, *parse.BreakNode, *parse.ContinueNode:
		return fmt.Errorf("%s: loops and template calls are not evaluated", n)
	}
	return nil
}
