// Package gomod fetches Go module zips through a module proxy (the gomod:
// URI scheme) and resolves a source's go.sum into a verified, offline file
// GOPROXY for the build (the "gomod" deps kind).
//
// A gomod: URI names one module version and may carry its go.sum hash:
//
//	gomod:MODULE@VERSION
//	gomod:MODULE@VERSION?sum=h1:BASE64
//
// The declared digest (sha256 of the zip) is always required and always
// checked; the ?sum= hash, when present, is checked too with
// golang.org/x/mod/sumdb/dirhash, the way the go command checks go.sum.
// The query form keeps '#' free for the artifact member
// (gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64#bin/gofmt); module
// paths and versions can never contain '?'.
package gomod

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/mod/module"
)

// Prefix is the URI scheme this package handles.
const Prefix = "gomod:"

// ToolchainModule is the module path of the Go toolchain distribution.
const ToolchainModule = "golang.org/toolchain"

// Ref is a parsed gomod: URI.
type Ref struct {
	Module module.Version
	Sum    string // go.sum hash of the zip ("h1:…"), empty when not declared
}

// ParseURI parses gomod:MODULE@VERSION[?sum=h1:…].
func ParseURI(uri string) (Ref, error) {
	rest, ok := strings.CutPrefix(uri, Prefix)
	if !ok {
		return Ref{}, fmt.Errorf("%s: not a gomod: URI; write gomod:MODULE@VERSION", uri)
	}
	var query string
	rest, query, _ = strings.Cut(rest, "?")
	at := strings.LastIndex(rest, "@")
	if at <= 0 || at == len(rest)-1 {
		return Ref{}, fmt.Errorf("%s: want gomod:MODULE@VERSION, e.g. gomod:golang.org/x/text@v0.14.0", uri)
	}
	m := module.Version{Path: rest[:at], Version: rest[at+1:]}
	if err := module.Check(m.Path, m.Version); err != nil {
		return Ref{}, fmt.Errorf("%s: %w", uri, err)
	}
	r := Ref{Module: m}
	if query != "" {
		// Parse by hand: base64 hashes carry '+' and '/', which
		// url.ParseQuery would turn into spaces.
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "sum":
				if u, err := url.PathUnescape(v); err == nil {
					v = u
				}
				if !strings.HasPrefix(v, "h1:") || len(v) <= 3 {
					return Ref{}, fmt.Errorf("%s: sum=%q: want the go.sum hash of the zip, h1:BASE64", uri, v)
				}
				r.Sum = v
			default:
				return Ref{}, fmt.Errorf("%s: unknown parameter %q; only ?sum=h1:… is understood", uri, k)
			}
		}
	}
	return r, nil
}

// String is the URI form of r.
func (r Ref) String() string {
	s := Prefix + r.Module.Path + "@" + r.Module.Version
	if r.Sum != "" {
		s += "?sum=" + r.Sum
	}
	return s
}

// ZipPrefix is the folder every file of the module zip sits in
// ("MODULE@VERSION/"); an archive member named relative to the module root
// is ZipPrefix()+member inside the zip.
func (r Ref) ZipPrefix() string { return r.Module.Path + "@" + r.Module.Version + "/" }

// IsToolchain reports whether r is a Go toolchain distribution zip.
func (r Ref) IsToolchain() bool { return r.Module.Path == ToolchainModule }
