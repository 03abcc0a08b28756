package report

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxKeyFileBytes bounds what the key loaders read.
const maxKeyFileBytes = 64 << 10

// GenerateKey writes a new Ed25519 key pair: the private key as PEM PKCS#8
// ("PRIVATE KEY", mode 0600) at privPath and the public key as PEM PKIX
// ("PUBLIC KEY") at pubPath. It refuses to overwrite either file, and leaves
// neither behind when it fails. The key material is never logged.
func GenerateKey(privPath, pubPath string) error {
	if privPath == "" || pubPath == "" {
		return errors.New("generating key: both the private and the public key path are needed")
	}
	if privPath == pubPath {
		return fmt.Errorf("generating key: the private and public key paths are both %s; give two files", privPath)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generating Ed25519 key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encoding private key as PKCS#8: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encoding public key as PKIX: %w", err)
	}
	// The public file first: if it exists, nothing secret was written yet.
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return fmt.Errorf("writing public key: %w", err)
	}
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		os.Remove(pubPath)
		return fmt.Errorf("writing private key: %w", err)
	}
	return nil
}

// writeNew creates path with mode perm, failing if it exists, and removes it
// again when the write does not complete.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; refusing to overwrite a key (remove it first or choose another path)", path)
		}
		return err
	}
	// The umask may have widened nothing, but make the mode exact.
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// LoadPrivateKey reads an Ed25519 private key written by GenerateKey (or by
// openssl genpkey -algorithm ed25519): PEM, PKCS#8, unencrypted.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	block, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("loading private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("loading private key %s: not a PKCS#8 key: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("loading private key %s: a %T, but reprove signs with Ed25519 keys (reprove key generate makes one)", path, k)
	}
	return priv, nil
}

// LoadPublicKey reads an Ed25519 public key as PEM PKIX ("PUBLIC KEY").
func LoadPublicKey(path string) (crypto.PublicKey, error) {
	block, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, fmt.Errorf("loading public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("loading public key %s: not a PKIX public key: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("loading public key %s: a %T, but reprove attestations use Ed25519 keys", path, k)
	}
	return pub, nil
}

func readPEM(path, wantType string) (*pem.Block, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxKeyFileBytes {
		return nil, fmt.Errorf("%s is larger than %d KiB, not a key file", path, maxKeyFileBytes>>10)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block; expected %q", path, wantType)
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, fmt.Errorf("%s is encrypted, which reprove does not read; decrypt it with openssl pkey -in %s -out KEY", path, path)
	}
	if block.Type != wantType {
		return nil, fmt.Errorf("%s holds a %q PEM block; expected %q", path, block.Type, wantType)
	}
	return block, nil
}

// KeyID names a public key: the hex SHA-256 of its PKIX DER encoding. It is
// the keyid reprove puts in DSSE signatures.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("naming public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}
