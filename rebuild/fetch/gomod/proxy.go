package gomod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/reprove/reprove/rebuild/fetch"
	"golang.org/x/mod/module"
)

// DefaultProxy returns the GOPROXY list the go command on this machine uses:
// $GOPROXY when set, else the output of `go env GOPROXY`.
func DefaultProxy(ctx context.Context) (string, error) {
	if p := os.Getenv("GOPROXY"); p != "" {
		return p, nil
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOPROXY").Output()
	if err != nil {
		return "", fmt.Errorf("reading GOPROXY with `go env GOPROXY`: %w; set GOPROXY or pass the proxy explicitly", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// proxyEntry is one usable element of a GOPROXY list.
type proxyEntry struct {
	base       *url.URL
	anyErrNext bool // separated by '|': fall through on any error, not only "not found"
}

// errNotFound is what a proxy answers for a module version it does not have.
var errNotFound = errors.New("not found")

// parseProxyList keeps the proxy URLs of a GOPROXY value (http, https and
// file), skipping "direct" and stopping at "off", as the go command does.
func parseProxyList(list string) ([]proxyEntry, error) {
	var out []proxyEntry
	for list != "" {
		var elem string
		sep := strings.IndexAny(list, ",|")
		anyErr := false
		if sep < 0 {
			elem, list = list, ""
		} else {
			elem, anyErr, list = list[:sep], list[sep] == '|', list[sep+1:]
		}
		elem = strings.TrimSpace(elem)
		switch elem {
		case "":
			continue
		case "direct":
			continue
		case "off":
			list = ""
			continue
		}
		u, err := url.Parse(elem)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") {
			return nil, fmt.Errorf("GOPROXY entry %q: want an https://, http:// or file:// URL", elem)
		}
		out = append(out, proxyEntry{base: u, anyErrNext: anyErr})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("GOPROXY %q names no module proxy (direct and off cannot serve verified zips); set GOPROXY to a proxy URL or a file:// folder", list)
	}
	return out, nil
}

// proxy downloads files of the module proxy protocol from a GOPROXY list.
type proxy struct {
	entries []proxyEntry
	client  *http.Client
}

func newProxy(list string, client *http.Client) (*proxy, error) {
	e, err := parseProxyList(list)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = fetch.DefaultHTTPClient()
	}
	return &proxy{entries: e, client: client}, nil
}

// open returns the body of MODULE/@v/VERSION.EXT ("zip", "mod", "info")
// from the first proxy that has it.
func (p *proxy) open(ctx context.Context, m module.Version, ext string) (io.ReadCloser, int64, error) {
	ep, err := module.EscapePath(m.Path)
	if err != nil {
		return nil, 0, err
	}
	ev, err := module.EscapeVersion(m.Version)
	if err != nil {
		return nil, 0, err
	}
	rel := ep + "/@v/" + ev + "." + ext
	var errs []error
	for _, e := range p.entries {
		rc, n, err := p.openOne(ctx, e.base, rel)
		if err == nil {
			return rc, n, nil
		}
		errs = append(errs, err)
		if !e.anyErrNext && !errors.Is(err, errNotFound) {
			break
		}
	}
	return nil, 0, fmt.Errorf("downloading %s@%s %s from GOPROXY: %w", m.Path, m.Version, ext, errors.Join(errs...))
}

func (p *proxy) openOne(ctx context.Context, base *url.URL, rel string) (io.ReadCloser, int64, error) {
	if base.Scheme == "file" {
		name := filepath.Join(filepath.FromSlash(base.Path), filepath.FromSlash(rel))
		f, err := os.Open(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, 0, fmt.Errorf("%s: %w", name, errNotFound)
			}
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, fi.Size(), nil
	}
	u := strings.TrimSuffix(base.String(), "/") + "/" + rel
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.Body, resp.ContentLength, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, 0, fmt.Errorf("%s: %s %s: %w", u, resp.Status, bytes.TrimSpace(msg), errNotFound)
	default:
		resp.Body.Close()
		return nil, 0, fmt.Errorf("%s: %s", u, resp.Status)
	}
}

// readAll reads a small proxy file (.mod, .info), refusing huge ones.
func (p *proxy) readAll(ctx context.Context, m module.Version, ext string) ([]byte, error) {
	rc, _, err := p.open(ctx, m, ext)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	const max = 16 << 20 // the go command's limit for go.mod files
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("downloading %s@%s %s: %w", m.Path, m.Version, ext, err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("downloading %s@%s %s: larger than %d bytes", m.Path, m.Version, ext, max)
	}
	return b, nil
}
