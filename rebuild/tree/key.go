package tree

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Key authenticates tree records. It must never be stored in the cache it
// protects.
type Key []byte

const minKeyLen = 32

// KeyFileEnv names the environment variable that overrides DefaultKeyPath.
const KeyFileEnv = "REPROVE_CACHE_KEY_FILE"

// DefaultKeyPath is $REPROVE_CACHE_KEY_FILE, else reprove/cache.key in the
// user's configuration folder ($XDG_CONFIG_HOME or ~/.config): a place that
// a restored or shared cache folder does not bring along.
func DefaultKeyPath() (string, error) {
	if p := os.Getenv(KeyFileEnv); p != "" {
		return filepath.Abs(p)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the cache key (%v); set %s", err, KeyFileEnv)
	}
	return filepath.Join(dir, "reprove", "cache.key"), nil
}

// LoadKey reads the key at path, creating it (32 random bytes, hex, mode
// 0600) when it does not exist. A key file that others may read or write is
// refused: with it, anyone could forge a record.
func LoadKey(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cache key %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the cache key %s is readable or writable by others (mode %v): anyone could forge cache records with it; chmod 600 it (or delete it: the cache is then re-derived)", path, fi.Mode().Perm())
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) < minKeyLen {
		return nil, fmt.Errorf("the cache key %s is damaged; delete it (the cache's derived folders are then re-derived)", path)
	}
	return k, nil
}

func createKey(path string) (Key, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the cache key: %w", err)
	}
	k := make([]byte, minKeyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	// Written aside, then linked into place: a concurrent reader never
	// sees a half-written key, and of two creators the first one wins.
	f, err := os.CreateTemp(filepath.Dir(path), ".cache.key-")
	if err != nil {
		return nil, fmt.Errorf("creating the cache key: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("writing the cache key %s: %w", path, werr)
	}
	if err := os.Link(f.Name(), path); errors.Is(err, fs.ErrExist) {
		return LoadKey(path)
	} else if err != nil {
		return nil, fmt.Errorf("creating the cache key %s: %w", path, err)
	}
	return k, nil
}
