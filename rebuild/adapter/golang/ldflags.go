package golang

import (
	"regexp"
	"sort"
	"strings"
)

// ldCandidate is one guess at the link flags.
type ldCandidate struct {
	name  string
	flags string
}

func (c ldCandidate) display() string {
	if c.flags == "" {
		return "none"
	}
	return c.flags
}

// ldflags returns the link flags to try: exactly the recorded ones, none
// for a build without -trimpath (which records them when set), else guesses
// read off the binary.
func (r *recipe) ldflags() ([]ldCandidate, error) {
	if ld, ok := r.info.set["-ldflags"]; ok {
		r.note("-ldflags recorded in build info: %q", ld)
		return []ldCandidate{{name: "recorded", flags: ld}}, nil
	}
	if r.info.set["-trimpath"] != "true" {
		return []ldCandidate{{name: "none", flags: ""}}, nil
	}
	facts, err := inspectBinary(r.in.Artifact.Path)
	if err != nil {
		return nil, err
	}
	return ldflagCandidates(facts, r.info, r.note), nil
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

// ldflagCandidates orders guesses at -ldflags for a -trimpath build, whose
// build info drops them. The strip flags are read off the binary, so only
// the -X part is guessed: values the binary carries for main.version-style
// variables first, then none.
func ldflagCandidates(f binaryFacts, b *buildInfo, note func(string, ...any)) []ldCandidate {
	base := stripFlags(f, note)
	var cands []ldCandidate
	if len(f.StrVars) > 0 {
		names := make([]string, 0, len(f.StrVars))
		for n := range f.StrVars {
			names = append(names, n)
		}
		sort.Strings(names)
		var xs []string
		for _, n := range names {
			if looksStamped(f.StrVars[n], b) {
				xs = append(xs, "-X "+n+"="+f.StrVars[n])
			}
		}
		if len(xs) > 0 {
			note("stamped-looking string variables in the symbol table: %s", strings.Join(xs, ", "))
			cands = append(cands, ldCandidate{name: "x-symtab", flags: joinFlags(base, strings.Join(xs, " "))})
		}
	} else if !f.Symtab {
		// Stripped: look for stamped values outside the build info.
		for _, v := range b.stampValues() {
			if !f.Contains(v) {
				continue
			}
			note("%q appears in the binary outside its build info: trying it as main.version", v)
			cands = append(cands,
				ldCandidate{name: "x-version", flags: joinFlags(base, "-X main.version="+v)},
				ldCandidate{name: "x-Version", flags: joinFlags(base, "-X main.Version="+v)})
			break
		}
	}
	return append(cands, ldCandidate{name: "strip", flags: base})
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
