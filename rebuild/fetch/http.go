package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// httpScheme fetches https:// and http:// URIs.
type httpScheme struct{ client *http.Client }

func (httpScheme) Handles(uri string) bool {
	return strings.HasPrefix(uri, "https://") || strings.HasPrefix(uri, "http://")
}

func (s httpScheme) Fetch(ctx context.Context, c *Cache, req Request) (*Item, error) {
	want, err := parseDigest(req.URI, req.Digest)
	if err != nil {
		return nil, err
	}
	p, n, err := c.Download(ctx, s.client, req.URI, want)
	if err != nil {
		return nil, err
	}
	return &Item{URI: req.URI, Digest: want.String(), Path: p, Size: n}, nil
}

// Download brings the bytes at url into the cache as the blob want, unless
// that blob is cached already (then no request is made). The body streams to
// a temporary file that becomes the blob only when its sha256 is want; a
// mismatch returns a *DigestMismatchError and leaves nothing. A nil client
// means http.DefaultClient. Schemes that download (gomod:, npm:) use it.
func (c *Cache) Download(ctx context.Context, client *http.Client, url string, want digest.Digest) (string, int64, error) {
	if p, ok := c.Blob(want); ok {
		return p, blobSize(p), nil
	}
	body, err := c.get(ctx, client, url)
	if err != nil {
		return "", 0, err
	}
	defer body.Close()
	return c.PutBlob(url, want, body)
}

// DownloadPinned downloads url into the cache under the digest of what
// arrives and returns it (see PinBlob): for an artifact named on the
// command line without a digest.
func (c *Cache) DownloadPinned(ctx context.Context, client *http.Client, url string) (string, digest.Digest, int64, error) {
	body, err := c.get(ctx, client, url)
	if err != nil {
		return "", "", 0, err
	}
	defer body.Close()
	return c.PinBlob(url, body)
}

// get starts a download of url and returns its body, reporting progress.
func (c *Cache) get(ctx context.Context, client *http.Client, url string) (io.ReadCloser, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid URL: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w; check the URL and the network, or use --replace-source to fetch it from elsewhere", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("fetching %s: server answered %s; check the URL, or use --replace-source to fetch it from a mirror", url, resp.Status)
	}
	return struct {
		io.Reader
		io.Closer
	}{c.progressReader(resp.Body, url, "download", resp.ContentLength), resp.Body}, nil
}

// progress sends ev to the cache's callback, if any.
func (c *Cache) progress(ev Event) {
	if c.Progress != nil {
		c.Progress(ev)
	}
}

// progressReader reports bytes read from r as events of phase, at most every
// progressEvery and once more at its end.
func (c *Cache) progressReader(r io.Reader, uri, phase string, total int64) io.Reader {
	if c.Progress == nil {
		return r
	}
	if total < 0 {
		total = -1
	}
	c.progress(Event{URI: uri, Phase: phase, Done: 0, Total: total})
	return &progressReader{r: r, emit: c.Progress, ev: Event{URI: uri, Phase: phase, Total: total}}
}

const progressEvery = 100 * time.Millisecond

type progressReader struct {
	r    io.Reader
	emit Progress
	mu   sync.Mutex
	ev   Event
	last time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ev.Done += int64(n)
	now := time.Now()
	if err == io.EOF {
		p.emit(p.ev)
	} else if n > 0 && now.Sub(p.last) >= progressEvery {
		p.last = now
		p.emit(p.ev)
	}
	return n, err
}
