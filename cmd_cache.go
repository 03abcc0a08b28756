package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/docker/go-units"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/fetch"
)

type cacheGCConfig struct {
	common
	KeepRuns  int
	MaxSize   string
	OlderThan string
	DryRun    bool
	JSON      bool
}

// runCacheLs prints what the cache holds, by kind, with sizes.
func runCacheLs(w io.Writer, g common, asJSON bool) error {
	c := &fetch.Cache{Root: g.CacheDir}
	ents, err := c.Entries()
	if err != nil {
		return err
	}
	if asJSON {
		return writeCacheJSON(w, c.Root, ents)
	}
	printCacheKinds(w, c.Root, ents, false)
	return nil
}

// runCacheGC removes what the rules say and prints what went.
func runCacheGC(w io.Writer, cfg cacheGCConfig) error {
	o := fetch.GCOptions{KeepRuns: cfg.KeepRuns, DryRun: cfg.DryRun}
	if cfg.MaxSize != "" {
		n, err := units.RAMInBytes(cfg.MaxSize)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: --max-size %q: write a size such as 20GiB or 500MiB", rebuild.ErrUsage, cfg.MaxSize)
		}
		o.MaxSize = n
	}
	if cfg.OlderThan != "" {
		d, err := parseAge("--older-than", cfg.OlderThan)
		if err != nil {
			return err
		}
		o.OlderThan = d
	}
	c := &fetch.Cache{Root: cfg.CacheDir}
	ents, err := c.GC(o)
	if err != nil {
		return err
	}
	if cfg.JSON {
		return writeCacheJSON(w, c.Root, ents)
	}
	printCacheKinds(w, c.Root, ents, true)
	return nil
}

type cacheKind struct {
	Kind           string `json:"kind"`
	Entries, Gone  int    `json:"-"`
	Size, GoneSize int64  `json:"-"`
}

// printCacheKinds prints one line per kind; with gc, what went and what is left.
func printCacheKinds(w io.Writer, root string, ents []fetch.Entry, gc bool) {
	by := map[string]*cacheKind{}
	var total, gone int64
	for _, e := range ents {
		k := by[e.Kind]
		if k == nil {
			k = &cacheKind{Kind: e.Kind}
			by[e.Kind] = k
		}
		if e.Removed {
			k.Gone++
			k.GoneSize += e.Size
			gone += e.Size
			continue
		}
		k.Entries++
		k.Size += e.Size
		total += e.Size
	}
	kinds := make([]string, 0, len(by))
	for k := range by {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if gc {
		fmt.Fprintf(w, "%s: removed %s, %s left\n", root, units.BytesSize(float64(gone)), units.BytesSize(float64(total)))
	} else {
		fmt.Fprintf(w, "%s: %s\n", root, units.BytesSize(float64(total)))
	}
	for _, name := range kinds {
		k := by[name]
		line := fmt.Sprintf("  %-16s %6d  %10s", k.Kind, k.Entries, units.BytesSize(float64(k.Size)))
		if gc {
			line += fmt.Sprintf("   removed %d (%s)", k.Gone, units.BytesSize(float64(k.GoneSize)))
		}
		fmt.Fprintln(w, line)
	}
}

func writeCacheJSON(w io.Writer, root string, ents []fetch.Entry) error {
	type entryJSON struct {
		Path    string    `json:"path"`
		Kind    string    `json:"kind"`
		Size    int64     `json:"size"`
		Used    time.Time `json:"used"`
		Removed bool      `json:"removed,omitempty"`
	}
	out := struct {
		Root    string      `json:"root"`
		Entries []entryJSON `json:"entries"`
	}{Root: root, Entries: []entryJSON{}}
	for _, e := range ents {
		out.Entries = append(out.Entries, entryJSON{e.Path, e.Kind, e.Size, e.Used.UTC(), e.Removed})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}
