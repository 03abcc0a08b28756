package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/reprove/reprove/rebuild/fetch/deb"
)

// Lock pins every package of an image: name, version, sha256 (and size
// and pool path, to fetch it). The same lock, recipe files and
// SOURCE_DATE_EPOCH give the same image.
type Lock struct {
	Suite        string
	Architecture string
	Request      string // the recipe request it was resolved for
	// Helper is the package the maintainer-script step runs in
	// (busybox-static: a static shell and chroot).
	Helper   Locked
	Packages []Locked // sorted by name
	Notes    []string // where it was resolved from, written as comments
}

// Locked is one pinned package.
type Locked struct {
	Name     string
	Version  string
	SHA256   string // hex
	Size     int64
	Filename string // pool path below an archive root
}

func (l Locked) String() string {
	return fmt.Sprintf("%s %s sha256:%s %d %s", l.Name, l.Version, l.SHA256, l.Size, l.Filename)
}

func lockedOf(p *deb.Package) Locked {
	return Locked{Name: p.Name, Version: p.Version, SHA256: p.SHA256, Size: p.Size, Filename: p.Filename}
}

// Encode writes the lock in its text form.
func (l *Lock) Encode(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("# reprove image lock: name version sha256 size pool-path of every package.\n")
	b.WriteString("# The same lock gives the same image; `reprove image build --update` resolves again.\n")
	for _, n := range l.Notes {
		b.WriteString("# " + strings.ReplaceAll(n, "\n", " ") + "\n")
	}
	fmt.Fprintf(&b, "suite: %s\narchitecture: %s\nrequest: %s\n", l.Suite, l.Architecture, l.Request)
	if l.Helper.Name != "" {
		fmt.Fprintf(&b, "helper: %s\n", l.Helper)
	}
	for _, p := range l.Packages {
		b.WriteString(p.String() + "\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Digest is the sha256 of what in the lock makes the image: every line but
// the comments.
func (l *Lock) Digest() string {
	c := *l
	c.Notes = nil
	var b bytes.Buffer
	c.Encode(&b)
	sum := sha256.Sum256(b.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// LockFits reports whether l was resolved for recipe r as it is now.
func LockFits(l *Lock, r *Recipe) bool {
	return l.Request == r.request() && l.Suite == r.Suite && l.Architecture == r.Architecture
}

// maxLock bounds a lock file.
const maxLock = 4 << 20

// ReadLock reads a lock file.
func ReadLock(p string) (*Lock, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l, err := parseLock(io.LimitReader(f, maxLock))
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w; delete it or run with --update to resolve again", p, err)
	}
	return l, nil
}

func parseLock(r io.Reader) (*Lock, error) {
	l := &Lock{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// A header is "key: value" (the value may be empty: "request:");
		// a package line has a space before any colon ("hello 1:2.10-3 …").
		if key, val, ok := strings.Cut(line, ":"); ok && !strings.Contains(key, " ") {
			if err := l.header(key, strings.TrimSpace(val)); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			continue
		}
		p, err := parseLocked(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		l.Packages = append(l.Packages, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if l.Suite == "" || l.Architecture == "" || len(l.Packages) == 0 {
		return nil, fmt.Errorf("no suite, architecture or package")
	}
	sort.Slice(l.Packages, func(i, j int) bool { return l.Packages[i].Name < l.Packages[j].Name })
	return l, nil
}

func (l *Lock) header(key, val string) error {
	var err error
	switch key {
	case "suite":
		l.Suite = val
	case "architecture":
		l.Architecture = val
	case "request":
		l.Request = val
	case "helper":
		l.Helper, err = parseLocked(val)
	default:
		err = fmt.Errorf("unknown field %q", key)
	}
	return err
}

// parseLocked reads "NAME VERSION sha256:HEX SIZE POOLPATH".
func parseLocked(line string) (Locked, error) {
	f := strings.Fields(line)
	if len(f) != 5 {
		return Locked{}, fmt.Errorf("%q: want NAME VERSION sha256:HEX SIZE POOL-PATH", line)
	}
	hexsum, ok := strings.CutPrefix(f[2], "sha256:")
	if b, err := hex.DecodeString(hexsum); !ok || err != nil || len(b) != 32 || strings.ToLower(hexsum) != hexsum {
		return Locked{}, fmt.Errorf("%q: %q is not sha256: and 64 lowercase hex digits", line, f[2])
	}
	size, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || size <= 0 {
		return Locked{}, fmt.Errorf("%q: bad size %q", line, f[3])
	}
	p := Locked{Name: f[0], Version: f[1], SHA256: hexsum, Size: size, Filename: f[4]}
	if !pkgRe.MatchString(p.Name+"="+p.Version) || !cleanPool(p.Filename) {
		return Locked{}, fmt.Errorf("%q: bad package name, version or pool path", line)
	}
	return p, nil
}

func cleanPool(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\?#") || filepath.Clean(p) != p {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

// WriteLock writes l to p atomically.
func WriteLock(p string, l *Lock) error {
	var b bytes.Buffer
	if err := l.Encode(&b); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing lock %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("writing lock %s: %w", p, err)
	}
	return nil
}
