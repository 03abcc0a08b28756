package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// hostile is a loopback server that misbehaves the way a compromised or
// broken vendor server would. It counts requests and bytes sent.
type hostile struct {
	*httptest.Server
	requests atomic.Int32
	sent     atomic.Int64
}

func newHostile(t *testing.T, h func(s *hostile, w http.ResponseWriter, r *http.Request, n int32)) *hostile {
	t.Helper()
	s := &hostile{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(s, w, r, s.requests.Add(1))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hostile) write(w http.ResponseWriter, b []byte) error {
	n, err := w.Write(b)
	s.sent.Add(int64(n))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return err
}

func TestDownloadsAreBounded(t *testing.T) {
	body := []byte("hello\n")
	want := digest.FromBytes(body)
	stall := 200 * time.Millisecond
	chunk := make([]byte, 64<<10)
	cases := []struct {
		name    string
		handler func(s *hostile, w http.ResponseWriter, r *http.Request, n int32)
		size    int64 // declared size
		max     int64 // --max-download-size
		wantErr error
		errText string
		reqs    int32 // requests the server must have seen
	}{
		{
			name: "stalls after the headers",
			handler: func(s *hostile, w http.ResponseWriter, r *http.Request, _ int32) {
				w.Header().Set("Content-Length", "6")
				s.write(w, body[:3])
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			},
			wantErr: ErrStalled, errText: "no bytes for 200ms", reqs: DefaultAttempts,
		},
		{
			name: "stalls before the headers",
			handler: func(s *hostile, w http.ResponseWriter, r *http.Request, _ int32) {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			},
			wantErr: ErrStalled, errText: "no answer for 200ms", reqs: DefaultAttempts,
		},
		{
			name: "sends forever past the declared size",
			handler: func(s *hostile, w http.ResponseWriter, r *http.Request, _ int32) {
				for s.write(w, chunk) == nil && s.sent.Load() < 1<<30 {
				}
			},
			size: 6, errText: "past the declared size", reqs: 1,
		},
		{
			name: "sends forever past --max-download-size",
			handler: func(s *hostile, w http.ResponseWriter, r *http.Request, _ int32) {
				for s.write(w, chunk) == nil && s.sent.Load() < 1<<30 {
				}
			},
			max: 1 << 20, errText: "past --max-download-size", reqs: 1,
		},
		{
			name: "announces more than the limit",
			handler: func(s *hostile, w http.ResponseWriter, r *http.Request, _ int32) {
				w.Header().Set("Content-Length", fmt.Sprint(int64(1)<<40))
				s.write(w, chunk)
			},
			errText: "the server announces 1099511627776 bytes", reqs: 1,
		},
		{
			name: "answers 404",
			handler: func(s *hostile, w http.ResponseWriter, r *http.Request, _ int32) {
				http.NotFound(w, r)
			},
			errText: "404 Not Found", reqs: 1,
		},
		{
			name: "answers 503, then the bytes",
			handler: func(s *hostile, w http.ResponseWriter, r *http.Request, n int32) {
				if n == 1 {
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return
				}
				s.write(w, body)
			},
			reqs: 2,
		},
		{
			name: "resets mid-body, then the bytes",
			handler: func(s *hostile, w http.ResponseWriter, r *http.Request, n int32) {
				if n == 1 {
					w.Header().Set("Content-Length", "6")
					s.write(w, body[:2])
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						conn.Close()
					}
					return
				}
				s.write(w, body)
			},
			reqs: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHostile(t, tc.handler)
			c := newCache(t)
			c.MaxDownloadSize = tc.max
			client := NewHTTPClient(HTTPOptions{StallTimeout: stall})
			b, err := c.Download(context.Background(), client, srv.URL+"/a", PutOptions{Want: want, Size: tc.size})
			if tc.errText == "" {
				if err != nil || b.Digest != want {
					t.Fatalf("Download: %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.errText) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("Download error = %v, want one containing %q (wrapping %v)", err, tc.errText, tc.wantErr)
				}
				if got := cacheFiles(t, c); len(got) != 0 {
					t.Errorf("a failed download left %v in the cache", got)
				}
			}
			if got := srv.requests.Load(); got != tc.reqs {
				t.Errorf("the server saw %d requests, want %d (retries only for 5xx, resets and stalls)", got, tc.reqs)
			}
			// The limit bites early: far less than the 1 GiB the server
			// would send (the socket buffers hold a few MiB at most).
			if sent := srv.sent.Load(); sent > 64<<20 {
				t.Errorf("the server sent %d bytes before the client gave up", sent)
			}
		})
	}
}

// One fetcher asked for the same input by several verifications at once
// (reprove batch) fetches it once.
func TestIdenticalFetchesShareOneDownload(t *testing.T) {
	body := []byte("shared input\n")
	release := make(chan struct{})
	srv := newHostile(t, func(s *hostile, w http.ResponseWriter, r *http.Request, _ int32) {
		<-release
		s.write(w, body)
	})
	f := New(newCache(t))
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			// Not Fresh: a caller that comes late finds the blob cached,
			// so only callers that overlapped could make a second request.
			_, err := f.Fetch(context.Background(), Request{URI: srv.URL + "/in", Digest: sha(body)})
			errs <- err
		}()
	}
	time.Sleep(200 * time.Millisecond) // let the callers overlap
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("%d identical concurrent fetches made %d requests, want 1", n, got)
	}
}
