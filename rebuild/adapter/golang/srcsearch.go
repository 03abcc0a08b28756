package golang

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/reprove/reprove/internal/bounded"
)

// The source search reads the pinned source, hostile input, within bounds:
// files below the module folder only (os.Root), regular files only, and at
// most these many.
const (
	maxSearchFiles    = 20000   // .go files looked at
	maxSearchFileSize = 1 << 20 // bytes of one file; larger ones are skipped
	maxSearchBytes    = 256 << 20
	maxSearchVars     = 64
)

// sourceVar is a package-level string variable of the source whose name
// says a release stamps it with -X.
type sourceVar struct {
	Sym  string // as -X names it: main.version, example.com/m/internal/version.Commit
	Kind string // "version", "commit", "date" or "builtby"
	File string // where it is declared, relative to the module folder
}

// stampKind says what a stamp-named variable holds.
func stampKind(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "builtby"):
		return "builtby"
	case strings.Contains(n, "date") || strings.Contains(n, "time") || strings.Contains(n, "built"):
		return "date"
	case strings.Contains(n, "commit") || strings.Contains(n, "sha") || strings.Contains(n, "hash") || strings.Contains(n, "rev"):
		return "commit"
	}
	return "version"
}

// stampWords pre-selects files worth parsing.
var stampWords = regexp.MustCompile(`(?i)version|commit|date|time|tag|sha|hash|rev|built`)

// searchStampVars finds stamp-named package-level string variables in every
// package of the module at root (module path modPath). mainDir is the
// folder of the package the binary was built from ("." for the module
// root): its variables are main.NAME; other main packages are not linked.
func searchStampVars(root, modPath, mainDir string) ([]sourceVar, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &searcher{root: r, modPath: modPath, mainDir: path.Clean(mainDir)}
	if err := fs.WalkDir(r.FS(), ".", s.visit); err != nil && err != errSearchDone {
		return nil, err
	}
	return s.vars, nil
}

var errSearchDone = fmt.Errorf("source search bound reached")

type searcher struct {
	root    *os.Root
	modPath string
	mainDir string
	files   int
	bytes   int64
	vars    []sourceVar
}

func (s *searcher) visit(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return nil // an unreadable folder is skipped
	}
	name := d.Name()
	if d.IsDir() {
		if p != "." && (name == "vendor" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return fs.SkipDir
		}
		if p != "." {
			if _, err := s.root.Lstat(path.Join(p, "go.mod")); err == nil {
				return fs.SkipDir // another module
			}
		}
		return nil
	}
	if !d.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
		return nil
	}
	if s.files >= maxSearchFiles || s.bytes >= maxSearchBytes || len(s.vars) >= maxSearchVars {
		return errSearchDone
	}
	s.files++
	src, err := bounded.ReadFileIn(s.root, p, maxSearchFileSize)
	if err != nil {
		return nil // too large or not readable: skipped
	}
	s.bytes += int64(len(src))
	if stampWords.Match(src) {
		s.file(p, src)
	}
	return nil
}

// file adds the stamp-named string variables one file declares.
func (s *searcher) file(p string, src []byte) {
	f, err := parser.ParseFile(token.NewFileSet(), p, src, parser.SkipObjectResolution)
	if err != nil {
		return
	}
	dir := path.Dir(p)
	pkg := s.modPath
	if dir != "." {
		pkg += "/" + dir
	}
	if f.Name.Name == "main" {
		if dir != s.mainDir {
			return // another program's main package
		}
		pkg = "main"
	}
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			for _, name := range stringVarNames(spec.(*ast.ValueSpec)) {
				if stampNameRe.MatchString(name) && len(s.vars) < maxSearchVars {
					s.vars = append(s.vars, sourceVar{Sym: pkg + "." + name, Kind: stampKind(name), File: p})
				}
			}
		}
	}
}

// stringVarNames are the names a var spec declares as strings -X can set:
// `var v string`, `var v = "lit"`, `var v string = "lit"`.
func stringVarNames(v *ast.ValueSpec) []string {
	isString := false
	if id, ok := v.Type.(*ast.Ident); ok && id.Name == "string" {
		isString = true
	}
	var out []string
	for i, n := range v.Names {
		ok := isString
		if v.Type == nil && i < len(v.Values) {
			lit, isLit := v.Values[i].(*ast.BasicLit)
			ok = isLit && lit.Kind == token.STRING
		}
		if ok && n.Name != "_" {
			out = append(out, n.Name)
		}
	}
	return out
}

// maxSearchOrders bounds the orders of -X flags tried: the go command
// hashes the flags, in order, into the binary's build ID, and nothing in
// the binary tells their order.
const maxSearchOrders = 6

// assigned is a variable found by the search with the value it is given.
type assigned struct {
	v     sourceVar
	value string
	ev    int // evidence, as binaryFacts.evidence
}

func (a assigned) flag() string { return "-X " + quoteArg(a.v.Sym+"="+a.value) }

// searchCandidates makes link flags from the variables found. Each gets the
// value of its kind the binary holds best (a string of its own first); a
// version-named variable with none takes another stamped value the binary
// holds as a string of its own (a commit stamped as main.version). The
// variables are tried in the order they are declared, then sorted, then in
// the other orders (at most maxSearchOrders in all), and then only those
// whose value the binary holds as a string of its own.
func searchCandidates(vars []sourceVar, rf *releaseFacts, f binaryFacts, base string) []ldCandidate {
	as := assignValues(vars, rf, f)
	if len(as) == 0 {
		return nil
	}
	from := "source search: " + describeVars(as)
	var cands []ldCandidate
	for _, order := range orders(as, maxSearchOrders) {
		var xs []string
		for _, a := range order {
			xs = append(xs, a.flag())
		}
		cands = append(cands, ldCandidate{name: "source-search", flags: joinFlags(base, strings.Join(xs, " ")), from: from})
	}
	var strong []string
	for _, a := range as {
		if a.ev == 2 {
			strong = append(strong, a.flag())
		}
	}
	if len(strong) > 0 && len(strong) < len(as) {
		cands = append(cands, ldCandidate{name: "source-search-strong", flags: joinFlags(base, strings.Join(strong, " ")), from: "source search, only values the binary holds as strings of their own"})
	}
	return cands
}

// assignValues gives each variable its value, in declaration order: values
// of the variable's own kind first, then the spare values to version-named
// variables still without one.
func assignValues(vars []sourceVar, rf *releaseFacts, f binaryFacts) []assigned {
	vals := make([]string, len(vars))
	evs := make([]int, len(vars))
	var used []string
	for i, v := range vars {
		vals[i], evs[i] = rf.valueFor(v.Kind, f)
		if evs[i] > 0 {
			used = append(used, vals[i])
		}
	}
	pool := rf.pool(f)
	for i, v := range vars {
		if evs[i] == 0 && v.Kind == "version" {
			vals[i], evs[i] = pickUnused(pool, used, f)
			used = append(used, vals[i])
		}
	}
	var out []assigned
	for i, v := range vars {
		if evs[i] > 0 {
			out = append(out, assigned{v: v, value: vals[i], ev: evs[i]})
		}
	}
	return out
}

// orders are the orders to try: as given, sorted by symbol, then the other
// permutations, at most max, without repeats.
func orders(as []assigned, max int) [][]assigned {
	sorted := append([]assigned(nil), as...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].v.Sym < sorted[j].v.Sym })
	out := [][]assigned{as, sorted}
	var permute func(prefix, rest []assigned)
	permute = func(prefix, rest []assigned) {
		if len(out) >= 4*max {
			return
		}
		if len(rest) == 0 {
			out = append(out, append([]assigned(nil), prefix...))
			return
		}
		for i := range rest {
			next := append(append([]assigned(nil), rest[:i]...), rest[i+1:]...)
			permute(append(prefix, rest[i]), next)
		}
	}
	permute(nil, as)
	seen := map[string]bool{}
	var uniq [][]assigned
	for _, o := range out {
		var key []string
		for _, a := range o {
			key = append(key, a.v.Sym)
		}
		k := strings.Join(key, " ")
		if !seen[k] && len(uniq) < max {
			seen[k] = true
			uniq = append(uniq, o)
		}
	}
	return uniq
}

func describeVars(as []assigned) string {
	var s []string
	for _, a := range as {
		s = append(s, a.v.Sym+" ("+a.v.File+")")
	}
	return strings.Join(s, ", ")
}

// valueFor is the best value of a kind the binary holds, with its evidence.
func (rf *releaseFacts) valueFor(kind string, f binaryFacts) (string, int) {
	var vals []string
	switch kind {
	case "version":
		vals = append(append(vals, rf.values["Version"]...), rf.values["Tag"]...)
	case "commit":
		vals = append(append(vals, rf.values["Commit"]...), rf.values["ShortCommit"]...)
	case "date":
		vals = append(append(vals, rf.values["Date"]...), rf.values["CommitDate"]...)
		vals = append(vals, rf.values["Timestamp"]...)
	case "builtby":
		vals = []string{"goreleaser"}
	}
	best, bestEv := "", 0
	for _, v := range vals {
		if ev := f.evidence(v); ev > bestEv {
			best, bestEv = v, ev
		}
	}
	return best, bestEv
}

// pool are the values of any kind the binary holds as strings of their own.
func (rf *releaseFacts) pool(f binaryFacts) []string {
	var out []string
	for _, k := range []string{"Version", "Tag", "Commit", "ShortCommit", "Date", "CommitDate"} {
		for _, v := range rf.values[k] {
			if f.evidence(v) == 2 {
				out = append(out, v)
			}
		}
	}
	return dedupe(out)
}

func pickUnused(pool, used []string, f binaryFacts) (string, int) {
	for _, v := range pool {
		taken := false
		for _, u := range used {
			taken = taken || u == v
		}
		if !taken {
			return v, f.evidence(v)
		}
	}
	return "", 0
}

// quoteArg quotes one argument of -ldflags the way the go command splits
// them (cmd/internal/quoted): plain when it has no space or quote.
func quoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\n\r'\"") {
		return a
	}
	if !strings.Contains(a, "'") {
		return "'" + a + "'"
	}
	if !strings.Contains(a, `"`) {
		return `"` + a + `"`
	}
	return strconv.Quote(a) // cannot be split back; the candidate will not match
}

// splitQuoted splits an -ldflags value into arguments as the go command
// does: on spaces, with single or double quotes grouping (no escapes).
func splitQuoted(s string) ([]string, error) {
	var args []string
	var cur bytes.Buffer
	inArg := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %c string", c)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inArg = true
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
