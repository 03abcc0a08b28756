// Package debian infers manifests for Debian binary packages (.deb) from
// their .buildinfo: the source package (.dsc and the files it lists, each
// checked against its Checksums-Sha256), a build image of exactly the
// Installed-Build-Depends, the Build-Path and Environment it records, and
// dpkg-buildpackage in the sandbox; every .deb the .buildinfo lists is
// compared. Without a .buildinfo one is derived from the archive's current
// build dependencies, and the result says its inputs are approximated.
package debian

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"pault.ag/go/debian/dependency"

	"github.com/reprove/reprove/rebuild/fetch/deb"
)

// BuildInfo is what a .buildinfo declares about a build.
type BuildInfo struct {
	Source       string // the source package's name
	Version      string // the source version (binNMUs have the binary version here)
	Architecture []string
	BuildArch    string
	Date         time.Time // Build-Date; zero when not recorded
	Path         string    // Build-Path; empty when not recorded
	Environment  map[string]string
	// Depends are the Installed-Build-Depends as NAME=VERSION.
	Depends []string
	// Files are the Checksums-Sha256 entries by file name.
	Files map[string]deb.FileHash
	// Signed says the file was clearsigned (the signature is not checked:
	// reprove has no keyring of Debian's builders).
	Signed bool
}

// ErrBadBuildInfo is wrapped by every error about a .buildinfo's content.
var ErrBadBuildInfo = errors.New("bad .buildinfo")

// MaxBuildInfo bounds a .buildinfo, .dsc or .changes file.
const MaxBuildInfo = 4 << 20

var (
	envNameRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	fileNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9+.~_-]*$`)
)

// ParseBuildInfo reads a .buildinfo (clearsigned or not).
func ParseBuildInfo(data []byte) (*BuildInfo, error) {
	if len(data) > MaxBuildInfo {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadBuildInfo, MaxBuildInfo)
	}
	bi := &BuildInfo{Environment: map[string]string{}}
	if b, _ := clearsign.Decode(data); b != nil {
		data, bi.Signed = b.Plaintext, true
	}
	paras, err := deb.ParseParagraphs(data)
	if err != nil || len(paras) == 0 {
		return nil, fmt.Errorf("%w: %v", ErrBadBuildInfo, errOr(err, "no fields"))
	}
	v := paras[0].Values
	if v["Format"] == "" || v["Source"] == "" || v["Version"] == "" {
		return nil, fmt.Errorf("%w: Format, Source and Version are required", ErrBadBuildInfo)
	}
	bi.Source, _, _ = strings.Cut(strings.TrimSpace(v["Source"]), " ")
	bi.Version = strings.TrimSpace(v["Version"])
	bi.Architecture = strings.Fields(v["Architecture"])
	bi.BuildArch = strings.TrimSpace(v["Build-Architecture"])
	bi.Path = strings.TrimSpace(v["Build-Path"])
	if d := strings.TrimSpace(v["Build-Date"]); d != "" {
		if bi.Date, err = parseDate(d); err != nil {
			return nil, fmt.Errorf("%w: Build-Date %q: %v", ErrBadBuildInfo, d, err)
		}
	}
	if bi.Path != "" && (!strings.HasPrefix(bi.Path, "/") || strings.Contains(bi.Path, "/..") || strings.ContainsAny(bi.Path, "\x00\n'\"\\$`")) {
		return nil, fmt.Errorf("%w: Build-Path %q is not a plain absolute path", ErrBadBuildInfo, bi.Path)
	}
	if bi.Files, err = checksums(v["Checksums-Sha256"]); err != nil {
		return nil, err
	}
	if bi.Environment, err = environment(v["Environment"]); err != nil {
		return nil, err
	}
	if bi.Depends, err = exactDepends(v["Installed-Build-Depends"]); err != nil {
		return nil, err
	}
	return bi, nil
}

// checksums reads "SHA256 SIZE NAME" lines; names are plain file names.
func checksums(field string) (map[string]deb.FileHash, error) {
	out := map[string]deb.FileHash{}
	for _, line := range strings.Split(field, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !fileNameRe.MatchString(f[2]) {
			return nil, fmt.Errorf("%w: Checksums-Sha256 line %q: want SHA256 SIZE FILE", ErrBadBuildInfo, line)
		}
		if b, err := hex.DecodeString(f[0]); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("%w: Checksums-Sha256 line %q: not a sha256", ErrBadBuildInfo, line)
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: Checksums-Sha256 line %q: bad size", ErrBadBuildInfo, line)
		}
		out[f[2]] = deb.FileHash{SHA256: strings.ToLower(f[0]), Size: n}
	}
	return out, nil
}

// environment reads KEY="VALUE" lines.
func environment(field string) (map[string]string, error) {
	out := map[string]string{}
	for _, line := range strings.Split(field, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok || !envNameRe.MatchString(k) {
			return nil, fmt.Errorf("%w: Environment line %q: want NAME=\"VALUE\"", ErrBadBuildInfo, line)
		}
		if uq, err := strconv.Unquote(val); err == nil {
			val = uq
		} else if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		out[k] = val
	}
	return out, nil
}

// exactDepends reads "name (= version)" relations as NAME=VERSION.
func exactDepends(field string) ([]string, error) {
	if strings.TrimSpace(field) == "" {
		return nil, nil
	}
	dep, err := dependency.Parse(field)
	if err != nil {
		return nil, fmt.Errorf("%w: Installed-Build-Depends: %v", ErrBadBuildInfo, err)
	}
	var out []string
	for _, rel := range dep.Relations {
		if len(rel.Possibilities) != 1 {
			return nil, fmt.Errorf("%w: Installed-Build-Depends %q: want one exact version per package", ErrBadBuildInfo, rel.String())
		}
		p := rel.Possibilities[0]
		if p.Version == nil || p.Version.Operator != "=" {
			return nil, fmt.Errorf("%w: Installed-Build-Depends %q: want NAME (= VERSION)", ErrBadBuildInfo, p.String())
		}
		out = append(out, p.Name+"="+p.Version.Number)
	}
	sort.Strings(out)
	return out, nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 -0700", time.RFC1123} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not an RFC 2822 date")
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// Debs are the .deb files the .buildinfo lists, sorted, with first first.
func (bi *BuildInfo) Debs(first string) []string {
	var out []string
	for n := range bi.Files {
		if strings.HasSuffix(n, ".deb") && n != first {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	if _, ok := bi.Files[first]; ok {
		out = append([]string{first}, out...)
	}
	return out
}

// DSC is the .dsc the .buildinfo lists, if any.
func (bi *BuildInfo) DSC() (string, deb.FileHash, bool) {
	for n, h := range bi.Files {
		if strings.HasSuffix(n, ".dsc") {
			return n, h, true
		}
	}
	return "", deb.FileHash{}, false
}

// BuildFlag is dpkg-buildpackage's option for what the build made: -B
// (architecture-dependent only), -A (architecture-independent only) or -b
// (both).
func (bi *BuildInfo) BuildFlag() string {
	var arch, all bool
	for _, a := range bi.Architecture {
		switch a {
		case "source":
		case "all":
			all = true
		default:
			arch = true
		}
	}
	switch {
	case arch && !all:
		return "-B"
	case all && !arch:
		return "-A"
	}
	return "-b"
}
