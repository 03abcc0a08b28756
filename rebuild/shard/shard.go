// Package shard splits targets among N workers by a stable hash of each
// target's key, so that workers started by an existing engine (a Kubernetes
// Indexed Job, a CI matrix) each take their own share with no coordinator:
// every worker reads the same list and keeps the keys of its shard.
package shard

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// EnvIndex is the variable Kubernetes Indexed Jobs set to each pod's index
// (0 to completions-1).
const EnvIndex = "JOB_COMPLETION_INDEX"

// ErrInvalid marks a shard that was asked for wrongly (a usage error).
var ErrInvalid = errors.New("invalid shard")

// Shard is shard Index of Count, 0 <= Index < Count. The zero Shard means
// no sharding: it holds every key.
type Shard struct {
	Index, Count int
}

// Of is the shard, 0 to count-1, that key belongs to: the first 8 bytes of
// sha256(key), big-endian, modulo count. It never changes between reprove
// versions or machines, so workers of different versions agree.
func Of(key string, count int) int {
	if count <= 1 {
		return 0
	}
	sum := sha256.Sum256([]byte(key))
	return int(binary.BigEndian.Uint64(sum[:8]) % uint64(count))
}

// Has is whether key belongs to s.
func (s Shard) Has(key string) bool {
	return s.Count == 0 || Of(key, s.Count) == s.Index
}

// String is "I/N", or "" for no sharding.
func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Parse reads "I/N" (--shard I/N).
func Parse(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%w: --shard %q: write I/N, e.g. 0/3 for the first of three shards", ErrInvalid, s)
	}
	count, err := number(n)
	if err != nil || count < 1 {
		return Shard{}, fmt.Errorf("%w: --shard %q: N must be a whole number of at least 1", ErrInvalid, s)
	}
	index, err := number(i)
	if err != nil || index >= count {
		return Shard{}, fmt.Errorf("%w: --shard %q: I must be a whole number from 0 to %d", ErrInvalid, s, count-1)
	}
	return Shard{Index: index, Count: count}, nil
}

// number reads a plain decimal number: digits only, no sign or spaces.
func number(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" || len(s) > 9 {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}

// Config is what the command line says about sharding.
type Config struct {
	Shard  string              // --shard I/N
	Count  int                 // --shard-count N: the index comes from EnvIndex
	Getenv func(string) string // os.Getenv
}

// Resolve turns the flags into a Shard: --shard I/N as given, or
// --shard-count N with the index from JOB_COMPLETION_INDEX; neither is no
// sharding. Both at once is an error.
func Resolve(c Config) (Shard, error) {
	switch {
	case c.Shard != "" && c.Count != 0:
		return Shard{}, fmt.Errorf("%w: give --shard I/N or --shard-count N, not both", ErrInvalid)
	case c.Shard != "":
		return Parse(c.Shard)
	case c.Count < 0:
		return Shard{}, fmt.Errorf("%w: --shard-count %d: give a number of at least 1", ErrInvalid, c.Count)
	case c.Count == 0:
		return Shard{}, nil
	}
	v := ""
	if c.Getenv != nil {
		v = c.Getenv(EnvIndex)
	}
	if v == "" {
		return Shard{}, fmt.Errorf("%w: --shard-count %d needs this worker's index in %s (Kubernetes Indexed Jobs set it), or give --shard I/%d", ErrInvalid, c.Count, EnvIndex, c.Count)
	}
	index, err := number(v)
	if err != nil || index >= c.Count {
		return Shard{}, fmt.Errorf("%w: %s=%q with --shard-count %d: want a whole number from 0 to %d", ErrInvalid, EnvIndex, v, c.Count, c.Count-1)
	}
	return Shard{Index: index, Count: c.Count}, nil
}
