package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
)

// httpScheme fetches https:// and http:// URIs.
type httpScheme struct{ client *http.Client }

func (httpScheme) Handles(uri string) bool {
	return strings.HasPrefix(uri, "https://") || strings.HasPrefix(uri, "http://")
}

func (s httpScheme) Fetch(ctx context.Context, c *Cache, req Request) (*Item, error) {
	want, it, done, err := cachedFile(ctx, c, req)
	if done || err != nil {
		return it, err
	}
	b, err := c.Download(ctx, s.client, req.URI, PutOptions{URI: req.URI, Want: want, Size: req.Size})
	if err != nil {
		return nil, err
	}
	it.Path, it.Size, it.Source = b.Path, b.Size, SourceNetwork
	it.quarantined(b.Quarantined)
	return it, nil
}

// cachedFile starts the fetch of a file pinned by digest: the Item to fill,
// and, unless req.Fresh, the cached blob hashed again (done is then true).
// Offline, a blob that is not cached is an error.
func cachedFile(ctx context.Context, c *Cache, req Request) (digest.Digest, *Item, bool, error) {
	want, err := parseDigest(req.URI, req.Digest)
	if err != nil {
		return "", nil, false, err
	}
	it := &Item{URI: req.URI, Digest: want.String(), Source: SourceCache}
	if !req.Fresh {
		b, q, err := c.Blob(ctx, want)
		if err != nil {
			return "", nil, false, err
		}
		it.quarantined(q)
		if b != nil {
			it.Path, it.Size = b.Path, b.Size
			return want, it, true, nil
		}
	}
	if req.Offline {
		return "", nil, false, NewOfflineError(req.URI, it.Quarantined...)
	}
	return want, it, false, nil
}

// HTTPOptions bound every request reprove makes.
type HTTPOptions struct {
	// StallTimeout fails a transfer that receives no bytes for this long
	// (--fetch-stall-timeout); DefaultStallTimeout when zero.
	StallTimeout time.Duration
	// Attempts is how many times a request is tried when the server
	// answers 5xx or the connection breaks; DefaultAttempts when zero.
	Attempts int
}

// Defaults of HTTPOptions.
const (
	DefaultStallTimeout = 60 * time.Second
	DefaultAttempts     = 3
	connectTimeout      = 30 * time.Second
	headerTimeout       = 60 * time.Second
)

// NewHTTPClient returns the client every scheme downloads with: connect,
// TLS and response-header timeouts, a stall timeout on every body, and
// retries with backoff for 5xx answers and broken connections (never for
// 4xx). Proxies come from the environment, as for other tools.
func NewHTTPClient(o HTTPOptions) *http.Client {
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   connectTimeout,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   8,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: &boundedTransport{base: base, stall: o.StallTimeout, attempts: o.Attempts}}
}

// boundedTransport retries idempotent requests and watches bodies for stalls.
type boundedTransport struct {
	base     http.RoundTripper
	stall    time.Duration
	attempts int
}

// ErrStalled is wrapped when a transfer received nothing for the stall timeout.
var ErrStalled = errors.New("the transfer stalled")

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	idempotent := req.Method == http.MethodGet || req.Method == http.MethodHead
	var (
		resp *http.Response
		err  error
	)
	for attempt := 1; ; attempt++ {
		resp, err = t.roundTrip(req)
		retry := idempotent && attempt < t.attempts && req.Body == nil &&
			((err != nil && retryable(err)) || (err == nil && resp.StatusCode >= 500))
		if !retry {
			break
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if werr := backoff(req.Context(), attempt); werr != nil {
			return nil, werr
		}
	}
	return resp, err
}

// roundTrip makes one attempt; its header wait is bounded by the stall
// timeout too, so a server that never answers is given up on.
func (t *boundedTransport) roundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(t.stall, func() { cancel(ErrStalled) })
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timer.Stop()
		if cause := context.Cause(ctx); errors.Is(cause, ErrStalled) {
			err = fmt.Errorf("%w: no answer for %s (--fetch-stall-timeout)", ErrStalled, t.stall)
		}
		cancel(nil)
		return nil, err
	}
	resp.Body = &stallBody{rc: resp.Body, timer: timer, stall: t.stall, ctx: ctx, cancel: cancel}
	timer.Reset(t.stall)
	return resp, nil
}

// retryable reports whether err is a broken or refused connection or a
// timeout rather than a permanent failure.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) && !errors.Is(err, ErrStalled) {
		return false
	}
	var ne net.Error
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, ErrStalled) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// backoff waits before attempt+1: 0.5 s, 1 s, 2 s…
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(500<<(attempt-1)) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// stallBody fails a body read when no byte arrived for the stall timeout.
type stallBody struct {
	rc     io.ReadCloser
	timer  *time.Timer
	stall  time.Duration
	ctx    context.Context
	cancel context.CancelCauseFunc
	once   sync.Once
}

func (b *stallBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.stall)
	}
	if err != nil && err != io.EOF && errors.Is(context.Cause(b.ctx), ErrStalled) {
		err = fmt.Errorf("%w: no bytes for %s (--fetch-stall-timeout)", ErrStalled, b.stall)
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.once.Do(func() { b.timer.Stop() })
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// Download brings the bytes at url into the cache through Put (o.URI
// defaults to url). A transfer that breaks or stalls mid-body is tried
// again from the start, up to DefaultAttempts times; a digest mismatch,
// a size past the limit and a 4xx answer are not. A nil client gets
// NewHTTPClient's defaults.
func (c *Cache) Download(ctx context.Context, client *http.Client, url string, o PutOptions) (*Blob, error) {
	if client == nil {
		client = defaultClient()
	}
	if o.URI == "" {
		o.URI = url
	}
	var err error
	for attempt := 1; attempt <= DefaultAttempts; attempt++ {
		var b *Blob
		b, err = c.download(ctx, client, url, o)
		var re *requestError
		// The transport already retried what failed before an answer.
		if err == nil || ctx.Err() != nil || errors.As(err, &re) || !retryable(err) {
			return b, err
		}
		if werr := backoff(ctx, attempt); werr != nil {
			return nil, werr
		}
	}
	return nil, err
}

// requestError is a failure before the server's answer arrived.
type requestError struct{ err error }

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

func (c *Cache) download(ctx context.Context, client *http.Client, url string, o PutOptions) (*Blob, error) {
	body, length, err := get(ctx, client, url)
	if err != nil {
		return nil, &requestError{err}
	}
	defer body.Close()
	limit := c.maxSize()
	if o.Size > 0 && o.Size < limit {
		limit = o.Size
	}
	if length > limit {
		return nil, &SizeError{URI: o.URI, Limit: limit, What: fmt.Sprintf("the limit (the server announces %d bytes)", length)}
	}
	o.Total = length
	b, err := c.Put(ctx, body, o)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	return b, nil
}

var (
	defaultClientOnce sync.Once
	defaultClientVal  *http.Client
)

// DefaultHTTPClient is the shared client with NewHTTPClient's defaults, for
// schemes not given one.
func DefaultHTTPClient() *http.Client { return defaultClient() }

func defaultClient() *http.Client {
	defaultClientOnce.Do(func() { defaultClientVal = NewHTTPClient(HTTPOptions{}) })
	return defaultClientVal
}

// get starts a download of url and returns its body and announced length.
func get(ctx context.Context, client *http.Client, url string) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: not a valid URL: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetching %s: %w; check the URL and the network, or use --replace-source to fetch it from elsewhere", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("fetching %s: server answered %s; check the URL, or use --replace-source to fetch it from a mirror", url, resp.Status)
	}
	return resp.Body, resp.ContentLength, nil
}

// Pin downloads url into the cache under the digest of what arrives (trust
// on first use), for an artifact named on the command line without a
// digest; that digest then goes into the report.
func (c *Cache) Pin(ctx context.Context, client *http.Client, url string) (*Blob, error) {
	return c.Download(ctx, client, url, PutOptions{URI: url})
}
