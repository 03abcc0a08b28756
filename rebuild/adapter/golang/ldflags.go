package golang

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// ldCandidate is one guess at the link flags.
type ldCandidate struct {
	name  string
	flags string
	from  string // where the guess came from, for the report
}

func (c ldCandidate) display() string {
	if c.flags == "" {
		return "none"
	}
	return c.flags
}

// ldflags returns the link flags to try: exactly the recorded ones, none
// for a build without -trimpath (which records them when set), else
// candidates for a -trimpath build, whose build info drops them.
func (r *recipe) ldflags(ctx context.Context) ([]ldCandidate, error) {
	if ld, ok := r.info.set["-ldflags"]; ok {
		r.note("-ldflags recorded in build info: %q", ld)
		return []ldCandidate{{name: "recorded", flags: ld, from: "build info"}}, nil
	}
	if r.info.set["-trimpath"] != "true" {
		return []ldCandidate{{name: "none", flags: "", from: "build info (no -ldflags recorded)"}}, nil
	}
	return r.trimpathCandidates(ctx, r.facts), nil
}

// trimpathCandidates ranks guesses at the link flags of a -trimpath build.
// The strip flags are read off the binary (a build without -s always has
// .symtab, one without -w always has DWARF); the -X part comes, in this
// order, from the release configuration at the pinned commit
// (.goreleaser.yaml), the symbol table, a search of the source for
// stamp-named variables, and last none.
func (r *recipe) trimpathCandidates(ctx context.Context, f binaryFacts) []ldCandidate {
	base := stripFlags(f, r.note)
	var cands []ldCandidate
	src := r.readSource(ctx)
	rf := newReleaseFacts(r.info, f, src.tags, src.project)
	if src.config != nil {
		cands = append(cands, r.configCandidates(src.config, src.pkgDir, rf, f)...)
	}
	if c, ok := symtabCandidate(f, r.info, base, r.note); ok {
		cands = append(cands, c)
	}
	if src.module != "" {
		vars, err := searchStampVars(src.module, r.info.Main.Path, strings.TrimPrefix(r.mustPkgRel(), "./"))
		if err != nil {
			r.note("source search: %v", err)
		}
		cands = append(cands, searchCandidates(vars, rf, f, base)...)
	}
	cands = append(cands, ldCandidate{name: "strip", flags: base, from: "strip flags read off the binary, no -X"})
	return dedupeCandidates(cands)
}

func (r *recipe) mustPkgRel() string {
	p, err := r.info.pkgRel()
	if err != nil {
		return "."
	}
	return p
}

// dedupeCandidates keeps the first candidate of each set of flags.
func dedupeCandidates(cands []ldCandidate) []ldCandidate {
	seen := map[string]bool{}
	var out []ldCandidate
	for _, c := range cands {
		if !seen[c.flags] {
			seen[c.flags] = true
			out = append(out, c)
		}
	}
	return out
}

// joinFlags joins the non-empty parts with spaces.
func joinFlags(parts ...string) string {
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	return strings.Join(nonEmpty, " ")
}

// stripFlags reads -s and -w off the binary: a build without -s always has
// .symtab, one without -w always has DWARF.
func stripFlags(f binaryFacts, note func(string, ...any)) string {
	if !f.ELF {
		note("not ELF: strip flags cannot be read off the binary; trying none")
		return ""
	}
	var strip []string
	if !f.Symtab {
		strip = append(strip, "-s")
	}
	if !f.DWARF {
		strip = append(strip, "-w")
	}
	note("ELF: .symtab %v, DWARF %v → strip flags %q", f.Symtab, f.DWARF, strings.Join(strip, " "))
	return strings.Join(strip, " ")
}

// symtabCandidate sets the stamp-named string variables the symbol table
// shows with stamped-looking values to those values.
func symtabCandidate(f binaryFacts, b *buildInfo, base string, note func(string, ...any)) (ldCandidate, bool) {
	names := make([]string, 0, len(f.StrVars))
	for n := range f.StrVars {
		names = append(names, n)
	}
	sort.Strings(names)
	var xs []string
	for _, n := range names {
		if looksStamped(f.StrVars[n], b) {
			xs = append(xs, "-X "+quoteArg(n+"="+f.StrVars[n]))
		}
	}
	if len(xs) == 0 {
		return ldCandidate{}, false
	}
	note("stamped-looking string variables in the symbol table: %s", strings.Join(xs, ", "))
	return ldCandidate{name: "x-symtab", flags: joinFlags(base, strings.Join(xs, " ")), from: "symbol table"}, true
}

var stampedRe = regexp.MustCompile(`^(v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?|[0-9a-f]{7,64}|[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+Z?)?)$`)

// looksStamped says whether a string variable's value looks set by release
// tooling (a version, a commit id, a date) rather than a source default.
func looksStamped(v string, b *buildInfo) bool {
	if stampedRe.MatchString(v) {
		return true
	}
	for _, s := range b.stampValues() {
		if v == s {
			return true
		}
	}
	return false
}

// maxConfigVariants bounds the renderings tried per goreleaser build.
const maxConfigVariants = 6

// configCandidates renders the link flags of each goreleaser build that
// builds this package for this platform.
func (r *recipe) configCandidates(cfg *releaseConfig, pkgDir string, rf *releaseFacts, f binaryFacts) []ldCandidate {
	t := r.info.target()
	var cands []ldCandidate
	for i, b := range cfg.Builds {
		where := fmt.Sprintf("%s builds[%d]", cfg.File, i)
		if b.ID != "" {
			where += " (id " + b.ID + ")"
		}
		if ok, why := b.matches(pkgDir, t); !ok {
			r.note("%s does not build %s for %s (%s)", where, pkgDir, t, why)
			continue
		}
		ldflags, benv := b.details(t)
		env := releaseEnv(append(append([]string(nil), cfg.Env...), benv...), ldflags)
		for _, choice := range rf.choices(strings.Join(ldflags, "\n"), maxConfigVariants) {
			flags, err := r.renderLdflags(ldflags, rf.data(choice, env), env, f)
			if err != nil {
				r.note("%s: ldflags not rendered: %v", where, err)
				break
			}
			from := where
			if d := rf.describeChoice(choice); d != "" {
				from += " with " + d
			}
			cands = append(cands, ldCandidate{name: "goreleaser", flags: flags, from: from})
		}
	}
	return cands
}

// envRefRe finds the environment variables templates name.
var envRefRe = regexp.MustCompile(`\.Env\.([A-Za-z_][A-Za-z0-9_]*)|index \.Env "([A-Za-z_][A-Za-z0-9_]*)"|(?:envOrDefault|isEnvSet) "([A-Za-z_][A-Za-z0-9_]*)"`)

// releaseEnv is what {{.Env}} holds: the configuration's literal KEY=VALUE
// entries (templated ones stay unknown), and a named unknown for every other
// variable the templates name (the release machine's environment).
func releaseEnv(entries, templates []string) map[string]string {
	env := map[string]string{}
	for _, m := range envRefRe.FindAllStringSubmatch(strings.Join(append(append([]string(nil), entries...), templates...), "\n"), -1) {
		name := m[1] + m[2] + m[3]
		env[name] = unknownMark("Env." + name)
	}
	for _, e := range entries {
		k, v, ok := strings.Cut(e, "=")
		if ok && k != "" && !strings.Contains(v, "{{") {
			env[k] = v
		}
	}
	return env
}

// renderLdflags renders each ldflags entry and joins them, as goreleaser
// does; -X flags whose value is unknown take it from the symbol table when
// it has the variable, and are left out otherwise.
func (r *recipe) renderLdflags(ldflags []string, data map[string]any, env map[string]string, f binaryFacts) (string, error) {
	var parts []string
	for _, l := range ldflags {
		s, err := renderTemplate(l, data, env)
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	args, err := splitQuoted(strings.Join(parts, " "))
	if err != nil {
		return "", err
	}
	return r.resolveUnknowns(args, f), nil
}

// resolveUnknowns rejoins the arguments, each -X with an unknown value
// resolved from the symbol table or left out, other unknown arguments left
// out; each is named in a note.
func (r *recipe) resolveUnknowns(args []string, f binaryFacts) string {
	var out []string
	for i := 0; i < len(args); i++ {
		a, kv, joined := args[i], "", false
		switch {
		case a == "-X" && i+1 < len(args):
			kv, i = args[i+1], i+1
		case strings.HasPrefix(a, "-X="):
			kv, joined = strings.TrimPrefix(a, "-X="), true
		}
		if kv == "" {
			if u := unknownsIn(a); len(u) > 0 {
				r.note("ldflags argument left out: it holds %s, which the binary does not record", strings.Join(u, ", "))
				continue
			}
			out = append(out, quoteArg(a))
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if u := unknownsIn(kv); len(u) > 0 {
			if sv, ok := f.StrVars[k]; ok && len(unknownsIn(k)) == 0 {
				r.note("-X %s: %s unknown; its value %q read from the symbol table", k, strings.Join(u, ", "), sv)
				v = sv
			} else {
				r.note("-X %s left out: its value holds %s, which the binary does not record", k, strings.Join(u, ", "))
				continue
			}
		}
		// The form is kept: the go command hashes the arguments as given
		// into the build ID.
		if joined {
			out = append(out, quoteArg("-X="+k+"="+v))
		} else {
			out = append(out, "-X", quoteArg(k+"="+v))
		}
	}
	return strings.Join(out, " ")
}

// pkgDir is the package's folder relative to the repository root.
func pkgDir(sub, rel string) string {
	return path.Clean(path.Join(orDot(sub), rel))
}
