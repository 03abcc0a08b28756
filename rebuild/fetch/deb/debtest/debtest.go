// Package debtest makes small Debian archives for tests: .deb files built
// in code, a Packages index, a Release file clearsigned with a key made
// for the test, served over loopback HTTP.
package debtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// File is one data.tar entry of a test package.
type File struct {
	Name     string // as stored: "./usr/bin/tool"
	Type     byte   // tar type; tar.TypeReg when zero
	Mode     int64
	UID, GID int
	Body     string
	Link     string
}

// Pkg is a test package.
type Pkg struct {
	Name, Version, Arch string // Arch: amd64 when empty
	Depends, Provides   string
	PreDepends          string
	Essential           bool
	Priority            string
	Files               []File
	Control             map[string]string // extra control members: postinst, conffiles…
	ExtraControlFields  string            // appended to the control file
}

// Control is the package's control file.
func (p Pkg) ControlFile() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <test@example.org>\n", p.Name, p.Version, p.arch())
	if p.Essential {
		b.WriteString("Essential: yes\n")
	}
	if p.PreDepends != "" {
		fmt.Fprintf(&b, "Pre-Depends: %s\n", p.PreDepends)
	}
	if p.Depends != "" {
		fmt.Fprintf(&b, "Depends: %s\n", p.Depends)
	}
	if p.Provides != "" {
		fmt.Fprintf(&b, "Provides: %s\n", p.Provides)
	}
	b.WriteString(p.ExtraControlFields)
	b.WriteString("Description: test package\n a package made by debtest\n")
	return b.String()
}

func (p Pkg) arch() string {
	if p.Arch == "" {
		return "amd64"
	}
	return p.Arch
}

// Deb builds the package's .deb bytes.
func Deb(t testing.TB, p Pkg) []byte {
	t.Helper()
	ctl := map[string]string{"control": p.ControlFile()}
	for k, v := range p.Control {
		ctl[k] = v
	}
	var cfiles []File
	var names []string
	for n := range ctl {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		mode := int64(0o644)
		if n == "postinst" || n == "preinst" || n == "prerm" || n == "postrm" {
			mode = 0o755
		}
		cfiles = append(cfiles, File{Name: "./" + n, Mode: mode, Body: ctl[n]})
	}
	data := p.Files
	if len(data) == 0 {
		data = []File{{Name: "./", Type: tar.TypeDir}} // as dpkg-deb writes an empty package
	}
	return Ar(t, [][2]string{
		{"debian-binary", "2.0\n"},
		{"control.tar.gz", string(TarGz(t, cfiles))},
		{"data.tar.gz", string(TarGz(t, data))},
	})
}

// TarGz writes files as a gzip-compressed tar.
func TarGz(t testing.TB, files []File) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		typ := f.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		h := &tar.Header{Name: f.Name, Typeflag: typ, Mode: mode, Uid: f.UID, Gid: f.GID, Linkname: f.Link, ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeReg {
			h.Size = int64(len(f.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(f.Body))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// Ar writes an ar archive of (name, content) members.
func Ar(t testing.TB, members [][2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&b, "%-16s%-12s%-6s%-6s%-8s%-10d`\n", m[0], "1700000000", "0", "0", "100644", len(m[1]))
		b.WriteString(m[1])
		if len(m[1])%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// Archive is a test archive served over loopback HTTP.
type Archive struct {
	Dir     string // its root folder
	URL     string // its root URL
	Keyring string // armored public key file that signed InRelease
	Suite   string
	prefix  string // folder below the server root the archive is in
	entity  *openpgp.Entity
	srv     *httptest.Server
}

// NewArchive makes an empty archive for suite, served until the test ends.
func NewArchive(t testing.TB, suite string) *Archive {
	t.Helper()
	e, err := openpgp.NewEntity("debtest", "test archive key", "test@example.org", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	a := &Archive{Dir: t.TempDir(), Suite: suite, entity: e}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	e.Serialize(w)
	w.Close()
	a.Keyring = filepath.Join(t.TempDir(), "keyring.asc")
	if err := os.WriteFile(a.Keyring, pub.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	a.srv = httptest.NewServer(http.FileServer(http.Dir(a.Dir)))
	t.Cleanup(a.srv.Close)
	a.URL = a.srv.URL
	return a
}

// NewSnapshot makes an archive served below a time-stamped folder, as a
// snapshot service serves the archive as it was at when: its URL is the
// server root, so that URL+"/{date}" is a --debian-snapshot template.
func NewSnapshot(t testing.TB, suite string, when time.Time) *Archive {
	a := NewArchive(t, suite)
	a.prefix = when.UTC().Format("20060102T150405Z")
	return a
}

// Publish writes the packages' .debs to the pool, a Packages index and a
// signed InRelease (with validUntil when not zero), and returns each
// package's sha256.
func (a *Archive) Publish(t testing.TB, validUntil time.Time, pkgs ...Pkg) map[string]string {
	t.Helper()
	sums := map[string]string{}
	var index strings.Builder
	for _, p := range pkgs {
		data := Deb(t, p)
		pool := path.Join("pool/main", p.Name[:1], p.Name, fmt.Sprintf("%s_%s_%s.deb", p.Name, strings.ReplaceAll(p.Version, ":", "%3a"), p.arch()))
		a.write(t, pool, data)
		sum := sha256.Sum256(data)
		sums[p.Name+"="+p.Version] = hex.EncodeToString(sum[:])
		fmt.Fprintf(&index, "%sFilename: %s\nSize: %d\nSHA256: %s\n\n", p.ControlFile(), pool, len(data), hex.EncodeToString(sum[:]))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(index.String()))
	zw.Close()
	idx := "main/binary-amd64/Packages.gz"
	a.write(t, "dists/"+a.Suite+"/"+idx, gz.Bytes())
	sum := sha256.Sum256(gz.Bytes())
	rel := fmt.Sprintf("Suite: %s\nCodename: %s\nDate: %s\n", a.Suite, a.Suite, time.Now().UTC().Format(time.RFC1123))
	if !validUntil.IsZero() {
		rel += "Valid-Until: " + validUntil.UTC().Format(time.RFC1123) + "\n"
	}
	rel += fmt.Sprintf("SHA256:\n %s %d %s\n", hex.EncodeToString(sum[:]), gz.Len(), idx)
	a.write(t, "dists/"+a.Suite+"/InRelease", a.Sign(t, rel))
	return sums
}

// Sign clearsigns text with the archive's key.
func (a *Archive) Sign(t testing.TB, text string) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, a.entity.PrivateKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(text))
	w.Close()
	return out.Bytes()
}

func (a *Archive) write(t testing.TB, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(a.Dir, a.prefix, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Write puts a file into the archive (to corrupt one, say).
func (a *Archive) Write(t testing.TB, rel string, data []byte) { a.write(t, rel, data) }
