package deb

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/reprove/reprove/internal/bounded"
)

// DefaultKeyring is the Debian archive keyring as the
// debian-archive-keyring package installs it.
const DefaultKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// maxKeyring bounds a keyring file.
const maxKeyring = 16 << 20

// Keyring is a set of OpenPGP public keys and where they were read from.
type Keyring struct {
	Entities openpgp.EntityList
	From     string // a file name, or "inline key" for a deb822 Signed-By block
}

// LoadKeyring reads the keys a source's Signed-By names: an armored key
// block, or a keyring file (binary or armored). An empty signedBy reads
// DefaultKeyring; it returns nil, nil when that is not installed (the
// caller then says the index is unverified).
func LoadKeyring(signedBy string) (*Keyring, error) {
	signedBy = strings.TrimSpace(signedBy)
	if strings.HasPrefix(signedBy, "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
		el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(signedBy))
		if err != nil {
			return nil, fmt.Errorf("reading the inline Signed-By key: %w", err)
		}
		return &Keyring{Entities: el, From: "inline key"}, nil
	}
	path := signedBy
	if path == "" {
		path = DefaultKeyring
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("Signed-By %q: only keyring files (absolute paths) and inline keys are read, not fingerprints", signedBy)
	}
	data, err := readFile(path, maxKeyring)
	if errors.Is(err, fs.ErrNotExist) && signedBy == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading keyring %s: %w", path, err)
	}
	var el openpgp.EntityList
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("reading keyring %s: %w", path, err)
	}
	if len(el) == 0 {
		return nil, fmt.Errorf("keyring %s holds no key", path)
	}
	return &Keyring{Entities: el, From: path}, nil
}

// readFile reads a regular file of at most max bytes, naming it in errors.
func readFile(path string, max int64) ([]byte, error) {
	data, err := bounded.ReadFile(path, max)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}
