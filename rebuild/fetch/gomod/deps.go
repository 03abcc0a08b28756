package gomod

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/reprove/reprove/rebuild/fetch"
)

// Kind is the manifest deps kind the Resolver handles.
const Kind = "gomod"

// BuildEnv is the environment a build needs to use a resolved tree mounted
// at dest as its only module source. GOFLAGS=-mod=mod lets go resolve the
// build list from go.mod (a vendor folder is ignored); GOSUMDB=off keeps go
// off the network, while every module it downloads is still checked against
// go.sum (go.sum checks do not depend on GOSUMDB, and the read-only source
// means a module missing from go.sum fails the build instead of being added).
// GONOSUMDB and GOPRIVATE are unset so no module escapes that check.
func BuildEnv(dest string) map[string]string {
	return map[string]string{
		"GOPROXY":    "file://" + dest,
		"GOFLAGS":    "-mod=mod",
		"GOSUMDB":    "off",
		"GONOSUMDB":  "",
		"GOPRIVATE":  "",
		"GONOPROXY":  "",
		"GOINSECURE": "",
	}
}

// Resolver is the fetch.DepsResolver of kind "gomod": it reads the go.sum
// of a fetched source, downloads every module version it lists through
// GOPROXY, checks each against go.sum, and lays them out as a file GOPROXY
// (MODULE/@v/VERSION.{info,mod,zip} and MODULE/@v/list). The tree is cached
// under the sha256 of go.sum, which is also the Item's Digest.
//
// A version listed only with a /go.mod hash gets its .mod file alone (that
// is all go needs of it). The .info files are written from the version
// alone ({"Version":"…"}): the proxy's time stamp is not covered by go.sum,
// so nothing unverified enters the tree.
type Resolver struct {
	cfg  config
	jobs int
}

// NewResolver returns the gomod deps resolver.
func NewResolver(opts ...Option) *Resolver { return &Resolver{cfg: newConfig(opts), jobs: 4} }

var _ fetch.DepsResolver = (*Resolver)(nil)

// Kind returns "gomod".
func (r *Resolver) Kind() string { return Kind }

// Resolve builds (or finds in the cache) the module tree for the go.sum in
// req.SourceDir/req.Dir.
func (r *Resolver) Resolve(ctx context.Context, c *fetch.Cache, req fetch.DepsRequest) (*fetch.Item, error) {
	dir := req.Dir
	if dir == "" {
		dir = "."
	}
	sumName := path.Join(dir, "go.sum")
	root, err := os.OpenRoot(req.SourceDir)
	if err != nil {
		return nil, fmt.Errorf("resolving Go modules: opening source %s: %w", req.SourceDir, err)
	}
	defer root.Close()
	data, err := readLimited(root, sumName, 64<<20)
	if errors.Is(err, os.ErrNotExist) {
		// No go.sum: a module without dependencies. Its tree is empty.
		data, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolving Go modules: reading %s in the source: %w", sumName, err)
	}
	entries, err := ParseGoSum(data)
	if err != nil {
		return nil, fmt.Errorf("resolving Go modules from %s: %w", sumName, err)
	}
	h := sha256.Sum256(data)
	key := "sha256:" + hex.EncodeToString(h[:])
	uri := "gomod-deps:" + sumName
	it := &fetch.Item{URI: uri, Digest: key, Dest: req.Dest, Source: fetch.SourceCache}
	if req.Offline {
		found, q, err := c.Tree(ctx, "gomod-deps", key)
		addQuarantined(it, q)
		if err != nil {
			return nil, err
		}
		if found == nil {
			return nil, fmt.Errorf("resolving Go modules from %s: %w", sumName, fetch.NewOfflineError(uri, it.Quarantined...))
		}
		it.Path, it.TreeDigest = found.Root, found.Record.Digest
		return it, nil
	}
	e, err := c.PutTree(ctx, "gomod-deps", key, "modules of go.sum "+key, func(out string) error {
		it.Source = fetch.SourceNetwork
		return r.fill(ctx, c, uri, out, entries)
	})
	if err != nil {
		return nil, fmt.Errorf("resolving Go modules from %s: %w", sumName, err)
	}
	it.Path, it.TreeDigest = e.Root, e.Record.Digest
	addQuarantined(it, e.Quarantined)
	return it, nil
}

func (r *Resolver) fill(ctx context.Context, c *fetch.Cache, uri, out string, entries []SumEntry) error {
	if len(entries) == 0 {
		return nil
	}
	p, err := r.cfg.openProxy(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		errs  []error
		done  int64
		wg    sync.WaitGroup
		slots = make(chan struct{}, r.jobs)
	)
	for _, e := range entries {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			err := r.one(ctx, p, out, e)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				cancel()
				return
			}
			done++
			if c.Progress != nil {
				c.Progress(fetch.Event{URI: uri, Phase: "download", Done: done, Total: int64(len(entries))})
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return writeLists(out, entries)
}

// one downloads and verifies one module version into the tree.
func (r *Resolver) one(ctx context.Context, p *proxy, out string, e SumEntry) error {
	m := e.Module
	ep, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	ev, err := module.EscapeVersion(m.Version)
	if err != nil {
		return err
	}
	base := filepath.Join(out, filepath.FromSlash(ep), "@v", ev)
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return err
	}
	if e.GoMod != "" {
		mod, err := p.readAll(ctx, m, "mod")
		if err != nil {
			return err
		}
		got, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(mod)), nil
		})
		if err != nil {
			return err
		}
		if got != e.GoMod {
			return &fetch.DigestMismatchError{URI: Prefix + m.Path + "@" + m.Version + "/go.mod", Want: e.GoMod, Got: got}
		}
		if err := os.WriteFile(base+".mod", mod, 0o444); err != nil {
			return err
		}
	}
	if e.Zip != "" {
		rc, _, err := p.open(ctx, m, "zip")
		if err != nil {
			return err
		}
		err = writeFile(base+".zip", rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("downloading %s@%s zip: %w", m.Path, m.Version, err)
		}
		got, err := dirhash.HashZip(base+".zip", dirhash.Hash1)
		if err != nil {
			return fmt.Errorf("hashing %s@%s zip: %w", m.Path, m.Version, err)
		}
		if got != e.Zip {
			return &fetch.DigestMismatchError{URI: Prefix + m.Path + "@" + m.Version, Want: e.Zip, Got: got}
		}
		if e.GoMod == "" {
			// go needs the .mod of every module it downloads; take it
			// from the verified zip.
			if err := goModFromZip(base+".zip", m, base+".mod"); err != nil {
				return err
			}
		}
	}
	info, _ := json.Marshal(struct{ Version string }{m.Version})
	return os.WriteFile(base+".info", append(info, '\n'), 0o444)
}

// writeLists writes MODULE/@v/list, the versions go may list, in go.sum order.
func writeLists(out string, entries []SumEntry) error {
	lists := map[string][]string{}
	var order []string
	for _, e := range entries {
		ep, _ := module.EscapePath(e.Module.Path)
		if _, ok := lists[ep]; !ok {
			order = append(order, ep)
		}
		lists[ep] = append(lists[ep], e.Module.Version)
	}
	for _, ep := range order {
		name := filepath.Join(out, filepath.FromSlash(ep), "@v", "list")
		if err := os.WriteFile(name, []byte(strings.Join(lists[ep], "\n")+"\n"), 0o444); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(name string, r io.Reader) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readLimited(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return b, nil
}
