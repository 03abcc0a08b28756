package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/tree"
)

// mergedDirs are the top-level folders that are links into /usr on a
// merged-/usr system, as Debian installs it since bookworm (and
// mmdebstrap's merged-usr hook makes it).
var mergedDirs = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32", "libo32"}

// installed is one package laid into the target.
type installed struct {
	locked Locked
	arch   string
	u      *deb.Unpacked
}

// infoName is the package's name in dpkg's info folder: NAME, or
// NAME:ARCH for a Multi-Arch: same package.
func (p *installed) infoName() string {
	if strings.EqualFold(p.u.Control.Field("Multi-Arch"), "same") {
		return p.locked.Name + ":" + p.arch
	}
	return p.locked.Name
}

// target assembles a root filesystem in a host folder, through an os.Root:
// nothing is written outside it, whatever links the packages hold. What
// is on disk grants nothing to anyone: modes go through tree.SafePerm (no
// set-id, sticky or world-write bits) and files stay reprove's. The owner
// and mode each path should have are kept in declared, for the layer.
type target struct {
	dir      string
	root     *os.Root
	declared map[string]Meta
	// ids is the build's id range once the tree was given to it for the
	// maintainer scripts (enterRange); nil before.
	ids *sandbox.IDRange
}

func newTarget(dir string, root *os.Root) *target {
	return &target{dir: dir, root: root, declared: map[string]Meta{}}
}

// declare records what rel should be in the image and writes its mode as
// tree.SafePerm allows on disk (symbolic links have no mode of their own).
func (t *target) declare(rel string, m Meta, kind fs.FileMode) error {
	t.declared[rel] = m
	if kind == fs.ModeSymlink {
		return nil
	}
	return t.root.Chmod(rel, tree.SafePerm(m.Mode|kind))
}

// usrPath maps a package path onto merged /usr: bin/x → usr/bin/x.
func usrPath(p string) string {
	top, _, _ := strings.Cut(p, "/")
	for _, d := range mergedDirs {
		if top == d {
			return "usr/" + p
		}
	}
	return p
}

// layout makes the merged-/usr links for the folders the packages use.
func (t *target) layout(pkgs []*installed) error {
	used := map[string]bool{"bin": true, "sbin": true, "lib": true}
	for _, p := range pkgs {
		for _, e := range p.u.Entries {
			top, _, _ := strings.Cut(e.Path, "/")
			used[top] = true
		}
	}
	for _, d := range mergedDirs {
		if !used[d] {
			continue
		}
		if err := t.mkdirAll("usr/" + d); err != nil {
			return err
		}
		if err := t.root.Symlink("usr/"+d, d); err != nil {
			return err
		}
	}
	return nil
}

// unpack lays a package's files into the target as dpkg --unpack would:
// conffiles as NAME.dpkg-new, owners and modes as the package stores them.
func (t *target) unpack(p *installed) error {
	conf := conffiles(p.u.Control)
	for _, e := range p.u.Entries {
		dst := usrPath(e.Path)
		if conf["/"+e.Path] && e.Type != "dir" {
			// dpkg --configure renames it into place, inode and mode kept.
			t.declared[dst] = entryMeta(e)
			dst += ".dpkg-new"
		}
		if err := t.entry(p.u.DataDir(), e, dst); err != nil {
			return fmt.Errorf("package %s: %s: %w", p.locked.Name, e.Path, err)
		}
	}
	return nil
}

func entryMeta(e deb.Entry) Meta { return Meta{UID: e.UID, GID: e.GID, Mode: osMode(e.Mode)} }

func (t *target) entry(src string, e deb.Entry, dst string) error {
	if err := t.mkdirAll(path.Dir(dst)); err != nil {
		return err
	}
	switch e.Type {
	case "dir":
		return t.mkdir(dst, e)
	case "file":
		if err := t.clear(dst); err != nil {
			return err
		}
		if err := t.copyFile(filepath.Join(src, filepath.FromSlash(e.Path)), dst); err != nil {
			return err
		}
	case "symlink":
		if err := t.clear(dst); err != nil {
			return err
		}
		if err := t.root.Symlink(e.Link, dst); err != nil {
			return err
		}
		return t.declare(dst, Meta{UID: e.UID, GID: e.GID, Mode: 0o777}, fs.ModeSymlink)
	case "hardlink":
		if err := t.clear(dst); err != nil {
			return err
		}
		if err := t.root.Link(usrPath(e.Link), dst); err != nil {
			return err
		}
		t.declared[dst] = entryMeta(e)
		return nil
	default:
		return fmt.Errorf("entry type %q", e.Type)
	}
	return t.declare(dst, entryMeta(e), 0)
}

// mkdirAll makes rel and its missing parents, mode 0755 whatever the
// umask: folders no package lists are root's, 0755, in the image.
func (t *target) mkdirAll(rel string) error {
	if rel == "." || rel == "" {
		return nil
	}
	fi, err := t.root.Lstat(rel)
	if err == nil {
		if !fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 {
			return fmt.Errorf("%s: a folder would replace a file", rel)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := t.mkdirAll(path.Dir(rel)); err != nil {
		return err
	}
	if err := t.root.Mkdir(rel, 0o755); err != nil {
		return err
	}
	return t.root.Chmod(rel, 0o755)
}

// mkdir makes a folder, or keeps the folder (or link to one) there.
func (t *target) mkdir(dst string, e deb.Entry) error {
	fi, err := t.root.Stat(dst)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("a folder would replace a file")
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := t.root.Mkdir(dst, 0o755); err != nil {
		return err
	}
	return t.declare(dst, entryMeta(e), fs.ModeDir)
}

// clear removes a file or link an earlier package left at dst (the later
// one replaces it, as with dpkg's Replaces), but never a folder.
func (t *target) clear(dst string) error { return deb.Replace(t.root, dst) }

func (t *target) copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := t.root.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeFile writes data at rel (parents made), replacing a file there.
func (t *target) writeFile(rel string, data []byte, mode fs.FileMode) error {
	if err := t.mkdirAll(path.Dir(rel)); err != nil {
		return err
	}
	if err := t.clear(rel); err != nil {
		return err
	}
	f, err := t.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return t.declare(rel, Meta{Mode: mode}, 0)
}

// conffiles are the absolute paths the control area's conffiles lists.
func conffiles(c *deb.Control) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(string(c.Files["conffiles"]), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[len(f)-1], "/") {
			out[f[len(f)-1]] = true
		}
	}
	return out
}

// dpkgDB writes dpkg's database for the unpacked packages: each in state
// "install ok unpacked" (so dpkg --configure -a configures them), its file
// list, control files and trigger interests.
func (t *target) dpkgDB(pkgs []*installed) error {
	for _, d := range []string{"info", "updates", "triggers", "alternatives", "parts"} {
		if err := t.mkdirAll("var/lib/dpkg/" + d); err != nil {
			return err
		}
	}
	var status bytes.Buffer
	interests := map[string][]string{} // trigger file → lines
	for _, p := range pkgs {
		if err := t.info(p); err != nil {
			return fmt.Errorf("package %s: %w", p.locked.Name, err)
		}
		status.Write(statusParagraph(p))
		status.WriteByte('\n')
		addInterests(interests, p)
	}
	for _, f := range []string{"available", "diversions", "statoverride", "triggers/Unincorp"} {
		if err := t.writeFile("var/lib/dpkg/"+f, nil, 0o644); err != nil {
			return err
		}
	}
	for name, lines := range interests {
		sort.Strings(lines)
		if err := t.writeFile("var/lib/dpkg/triggers/"+name, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	return t.writeFile("var/lib/dpkg/status", status.Bytes(), 0o644)
}

// info writes var/lib/dpkg/info/NAME.* : the control area's files but
// control itself, and NAME.list.
func (t *target) info(p *installed) error {
	base := "var/lib/dpkg/info/" + p.infoName() + "."
	var names []string
	for n := range p.u.Control.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n == "control" || strings.ContainsAny(n, "/\x00") {
			continue
		}
		mode := fs.FileMode(0o644)
		switch n {
		case "preinst", "postinst", "prerm", "postrm", "config":
			mode = 0o755
		}
		if err := t.writeFile(base+n, p.u.Control.Files[n], mode); err != nil {
			return err
		}
	}
	var list bytes.Buffer
	list.WriteString("/.\n")
	for _, e := range p.u.Entries {
		list.WriteString("/" + e.Path + "\n")
	}
	return t.writeFile(base+"list", list.Bytes(), 0o644)
}

// statusParagraph is the package's control file with dpkg's Status (and
// its new conffiles) added: the control file up to its first blank line,
// so that it is one paragraph whatever it holds.
func statusParagraph(p *installed) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(string(p.u.Control.Files["control"]), "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		b.WriteString(line + "\n")
		if strings.HasPrefix(line, "Package:") {
			b.WriteString("Status: install ok unpacked\n")
		}
	}
	conf := conffiles(p.u.Control)
	if len(conf) > 0 {
		var names []string
		for n := range conf {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteString("Conffiles:\n")
		for _, n := range names {
			b.WriteString(" " + n + " newconffile\n")
		}
	}
	return b.Bytes()
}

// addInterests records a package's trigger interests as dpkg's unpack
// would: file triggers in triggers/File, named ones in triggers/NAME.
func addInterests(out map[string][]string, p *installed) {
	for _, line := range strings.Split(string(p.u.Control.Files["triggers"]), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || !strings.HasPrefix(f[0], "interest") {
			continue
		}
		who := p.infoName()
		if f[0] == "interest-noawait" {
			who += "/noawait"
		}
		name := f[1]
		if strings.ContainsAny(name, "\x00") || name == "File" || name == "Unincorp" || strings.Contains(name, "..") {
			continue
		}
		if strings.HasPrefix(name, "/") {
			out["File"] = append(out["File"], name+" "+who)
		} else if !strings.Contains(name, "/") {
			out[name] = append(out[name], who)
		}
	}
}
