package fetch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
)

// barrier lets n requests through together, so fetches really overlap.
func barrier(n int, body []byte) http.HandlerFunc {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		if arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	}
}

// fetchSet is what each concurrent fetcher brings in.
type fetchSet struct {
	Archive *Item
	Git     *Item
	Image   *Image
	Member  string
}

type fetchInputs struct {
	Cache, URL, Digest, GitURI, Rev, Image string
}

func fetchAll(ctx context.Context, in fetchInputs) (*fetchSet, error) {
	f := New(&Cache{Root: in.Cache}, WithAllowPaths("/"))
	var s fetchSet
	var err error
	if s.Archive, err = f.Fetch(ctx, Request{URI: in.URL, Digest: in.Digest, Unpack: true}); err != nil {
		return nil, err
	}
	blob, _, err := f.Cache().Blob(ctx, mustParse(in.Digest))
	if err != nil || blob == nil {
		return nil, fmt.Errorf("blob %s not cached after Fetch: %v", in.Digest, err)
	}
	if s.Member, err = f.Member(ctx, blob.Path, "pkg/tool"); err != nil {
		return nil, err
	}
	if s.Git, err = f.Fetch(ctx, Request{URI: in.GitURI, Rev: in.Rev}); err != nil {
		return nil, err
	}
	if s.Image, err = f.FetchImage(ctx, in.Image, ""); err != nil {
		return nil, err
	}
	return &s, nil
}

func concurrentInputs(t *testing.T, n int) fetchInputs {
	t.Helper()
	tgz := makeArchive(t, FormatTarGzip, []entry{dir("pkg/", 0o755), file("pkg/tool", "#!/bin/sh\n", 0o755)})
	srv := newServer(t, nil, map[string]http.HandlerFunc{"/pkg.tgz": barrier(n, tgz)})
	repo, c1, _, _ := gitRepo(t, t.TempDir())
	host, _ := testRegistry(t)
	img := randomImage(t)
	if err := remoteWrite(t, host+"/test/img:v1", img); err != nil {
		t.Fatal(err)
	}
	return fetchInputs{
		Cache:  filepath.Join(t.TempDir(), "cache"),
		URL:    srv.URL + "/pkg.tgz",
		Digest: sha(tgz),
		GitURI: "git+file:" + repo,
		Rev:    c1,
		Image:  "oci://" + host + "/test/img@" + mustDigest(t, img),
	}
}

// Several goroutines fetching the same inputs into one cache all succeed
// and see the same entries. Run with -race.
func TestFetchConcurrentGoroutines(t *testing.T) {
	const n = 4
	in := concurrentInputs(t, n)
	sets := make([]*fetchSet, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sets[i], errs[i] = fetchAll(context.Background(), in)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("fetcher %d: %v", i, errs[i])
		}
		if diff := cmp.Diff(sets[0], sets[i]); diff != "" {
			t.Errorf("fetcher %d saw other entries (-0 +%d):\n%s", i, i, diff)
		}
	}
	if got := cacheFiles(t, &Cache{Root: in.Cache}); len(got) != 1 {
		t.Errorf("cache blobs and tmp = %v, want the one archive blob and no leftovers", got)
	}
}

// Two processes fetching the same inputs into one cache both succeed.
func TestFetchConcurrentProcesses(t *testing.T) {
	in := concurrentInputs(t, 2)
	spec, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	outs := make([]*syncBuffer, 2)
	for i := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFetchProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "REPROVE_FETCH_HELPER="+string(spec))
		outs[i] = &syncBuffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
		}
	}
	if got := cacheFiles(t, &Cache{Root: in.Cache}); len(got) != 1 {
		t.Errorf("cache blobs and tmp = %v, want the one archive blob and no leftovers", got)
	}
	// And a third run, in this process, finds everything cached.
	if _, err := fetchAll(context.Background(), in); err != nil {
		t.Errorf("fetching after both processes: %v", err)
	}
}

// TestHelperFetchProcess is the body of TestFetchConcurrentProcesses's
// child processes; it does nothing in a normal run.
func TestHelperFetchProcess(t *testing.T) {
	spec := os.Getenv("REPROVE_FETCH_HELPER")
	if spec == "" {
		t.Skip("helper for TestFetchConcurrentProcesses")
	}
	var in fetchInputs
	if err := json.Unmarshal([]byte(spec), &in); err != nil {
		t.Fatal(err)
	}
	if _, err := fetchAll(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func mustParse(s string) digest.Digest { return digest.Digest(s) }

func remoteWrite(t testing.TB, ref string, img v1.Image) error {
	return remote.Write(parseRef(t, ref), img)
}
