package shard

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// targets is a list as batch reads one: manifest paths and artifact URIs.
func targets() []string {
	var keys []string
	for i := 0; i < 500; i++ {
		keys = append(keys, fmt.Sprintf("nightly/pkg-%03d/reprove.yaml", i))
		keys = append(keys, fmt.Sprintf("https://example.org/releases/tool-%d.tar.gz", i))
	}
	return append(keys, "", "gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64#bin/gofmt")
}

func TestShardsCoverEveryTargetOnce(t *testing.T) {
	keys := targets()
	for _, n := range []int{1, 2, 3, 7} {
		seen := map[string]int{}
		sizes := make([]int, n)
		for i := 0; i < n; i++ {
			s, err := Parse(fmt.Sprintf("%d/%d", i, n))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if s.Has(k) {
					seen[k]++
					sizes[i]++
				}
			}
		}
		for _, k := range keys {
			if seen[k] != 1 {
				t.Errorf("%d shards: %q is in %d shards, want exactly 1", n, k, seen[k])
			}
		}
		// A stable hash spreads the targets: no shard is idle or takes
		// most of the work (the keys are fixed, so this cannot flake).
		for i, size := range sizes {
			if want := len(keys) / n; size < want*8/10 || size > want*12/10 {
				t.Errorf("%d shards: shard %d has %d of %d targets, want about %d", n, i, size, len(keys), want)
			}
		}
	}
}

func TestOfIsStable(t *testing.T) {
	// Workers of different reprove versions must agree: these values are
	// the definition (sha256, first 8 bytes big-endian, modulo N), computed
	// apart from Go: printf %s KEY | sha256sum | cut -c1-16, as a number, mod N.
	for _, c := range []struct {
		key   string
		n     int
		shard int
	}{
		{"nightly/pkg-000/reprove.yaml", 3, 1},
		{"nightly/pkg-001/reprove.yaml", 3, 1},
		{"https://example.org/releases/tool-0.tar.gz", 3, 0},
		{"https://example.org/releases/tool-0.tar.gz", 1000, 294},
	} {
		if got := Of(c.key, c.n); got != c.shard {
			t.Errorf("Of(%q, %d) = %d, want %d", c.key, c.n, got, c.shard)
		}
	}
}

func TestResolve(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvIndex {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		cfg  Config
		want Shard
		err  string
	}{
		{Config{}, Shard{}, ""},
		{Config{Shard: "1/3"}, Shard{1, 3}, ""},
		{Config{Shard: "0/1"}, Shard{0, 1}, ""},
		{Config{Count: 3, Getenv: env("2")}, Shard{2, 3}, ""},
		{Config{Count: 3, Getenv: env("")}, Shard{}, "--shard-count 3 needs this worker's index in JOB_COMPLETION_INDEX"},
		{Config{Count: 3, Getenv: env("3")}, Shard{}, `JOB_COMPLETION_INDEX="3" with --shard-count 3: want a whole number from 0 to 2`},
		{Config{Count: 3, Getenv: env("-1")}, Shard{}, "want a whole number from 0 to 2"},
		{Config{Count: -2}, Shard{}, "--shard-count -2"},
		{Config{Shard: "1/3", Count: 3, Getenv: env("1")}, Shard{}, "not both"},
		{Config{Shard: "3/3"}, Shard{}, "I must be a whole number from 0 to 2"},
		{Config{Shard: "1/0"}, Shard{}, "N must be a whole number of at least 1"},
		{Config{Shard: "1"}, Shard{}, "write I/N"},
		{Config{Shard: "+1/3"}, Shard{}, "I must be"},
		{Config{Shard: "1/ 3"}, Shard{}, "N must be"},
		{Config{Shard: "1/99999999999999999999"}, Shard{}, "N must be"},
	} {
		got, err := Resolve(c.cfg)
		if c.err != "" {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Resolve(%+v): %v, want ErrInvalid with %q", c.cfg, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Resolve(%+v) = %v, %v; want %v", c.cfg, got, err, c.want)
		}
	}
	if (Shard{}).String() != "" || (Shard{1, 3}).String() != "1/3" {
		t.Error("String")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0/3", "2/3", "3/3", "a/b", "/", "1/0", "0000000001/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := Parse(s)
		if err != nil {
			return
		}
		if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
			t.Fatalf("Parse(%q) = %+v", s, sh)
		}
		if k := Of(s, sh.Count); k < 0 || k >= sh.Count {
			t.Fatalf("Of out of range: %d", k)
		}
	})
}
