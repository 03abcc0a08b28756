package deb

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"pault.ag/go/debian/control"

	"github.com/reprove/reprove/rebuild/fetch"
)

// Release is a suite's verified release file: the indices it lists, by
// path below dists/SUITE/, with their sha256 and size.
type Release struct {
	Source   Source
	Suite    string // the Suite field
	Codename string
	Date     time.Time
	ByHash   bool // Acquire-By-Hash: indices may be fetched by their hash
	Files    map[string]FileHash
	Digest   string // sha256 of the InRelease file as fetched
	// Verified names the keyring the signature was checked against; empty
	// when no keyring was there (the index is then trusted on first use).
	Verified string

	validUntil time.Time
}

// FileHash is a file's sha256 (hex) and size, as an index lists it.
type FileHash struct {
	SHA256 string
	Size   int64
}

// maxRelease bounds an InRelease file.
const maxRelease = 64 << 20

// ErrSignature is wrapped when an InRelease signature does not check out.
var ErrSignature = errors.New("bad archive signature")

// fetchRelease downloads dists/SUITE/InRelease from the source's archive
// (always again: it is the one mutable file), checks its signature against
// the keyring, and that it is the suite asked for and still valid.
func (a *Archive) fetchRelease(ctx context.Context, src Source) (*Release, error) {
	url := src.URI + "/dists/" + src.Suite + "/InRelease"
	// A copy of the cache with a smaller cap: a release file is small.
	bounded := *a.Cache
	bounded.MaxDownloadSize = maxRelease
	blob, err := bounded.Download(ctx, a.client(), url, fetch.PutOptions{})
	if err != nil {
		return nil, err
	}
	data, err := readFile(blob.Path, maxRelease)
	if err != nil {
		return nil, err
	}
	kr, err := a.keyring(src)
	if err != nil {
		return nil, err
	}
	rel, err := parseInRelease(data, kr, a.now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	rel.Source, rel.Digest = src, blob.Digest.String()
	if err := rel.check(src, a.now()); err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return rel, nil
}

// parseInRelease checks a clearsigned InRelease against kr (when not nil)
// and parses the signed text only: nothing outside the signature is read.
func parseInRelease(data []byte, kr *Keyring, now time.Time) (*Release, error) {
	block, _ := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: InRelease is not an OpenPGP clearsigned file", ErrSignature)
	}
	rel := &Release{}
	if kr != nil {
		if _, err := block.VerifySignature(kr.Entities, &packet.Config{Time: func() time.Time { return now }}); err != nil {
			return nil, fmt.Errorf("%w: InRelease signature does not verify with %s: %v; the mirror may be compromised, or the keyring (debian-archive-keyring) out of date", ErrSignature, kr.From, err)
		}
		rel.Verified = kr.From
	}
	pr, err := control.NewParagraphReader(bytes.NewReader(block.Plaintext), nil)
	if err != nil {
		return nil, err
	}
	p, err := pr.Next()
	if err != nil {
		return nil, fmt.Errorf("reading the release fields: %w", err)
	}
	rel.Suite, rel.Codename = p.Values["Suite"], p.Values["Codename"]
	rel.ByHash = strings.EqualFold(p.Values["Acquire-By-Hash"], "yes")
	if d := p.Values["Date"]; d != "" {
		rel.Date, _ = parseDebianDate(d)
	}
	if vu := p.Values["Valid-Until"]; vu != "" {
		t, err := parseDebianDate(vu)
		if err != nil {
			return nil, fmt.Errorf("Valid-Until %q: %w", vu, err)
		}
		rel.validUntil = t
	}
	rel.Files, err = parseChecksums(p.Values["SHA256"])
	if err != nil {
		return nil, fmt.Errorf("SHA256: %w", err)
	}
	return rel, nil
}

// check refuses a release file for another suite (a mirror answering with
// the wrong one) and an expired one (a mirror replaying an old index).
func (r *Release) check(src Source, now time.Time) error {
	if r.Suite != src.Suite && r.Codename != src.Suite {
		return fmt.Errorf("the release file is for suite %q (codename %q), not %s", r.Suite, r.Codename, src.Suite)
	}
	if !src.Snapshot && !r.validUntil.IsZero() && now.After(r.validUntil) {
		return fmt.Errorf("the release file expired at %s (Valid-Until): the mirror serves an old index", r.validUntil.Format(time.RFC1123))
	}
	return nil
}

// parseChecksums reads "HEX SIZE PATH" lines.
func parseChecksums(field string) (map[string]FileHash, error) {
	out := map[string]FileHash{}
	for _, line := range strings.Split(field, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %q: want SHA256 SIZE NAME", line)
		}
		if b, err := hex.DecodeString(f[0]); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("line %q: %q is not a sha256", line, f[0])
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("line %q: bad size", line)
		}
		out[f[2]] = FileHash{SHA256: strings.ToLower(f[0]), Size: n}
	}
	return out, nil
}

// parseDebianDate reads an RFC 2822 date as Debian writes them.
func parseDebianDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not an RFC 2822 date")
}
