package fetch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// git runs the git CLI in dir for a test and returns trimmed stdout.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	// An empty global config of our own: the user's (or a broken
	// /dev/null) must not change what the repositories hold.
	empty := filepath.Join(os.TempDir(), "reprove-fetch-test-gitconfig")
	if _, err := os.Stat(empty); err != nil {
		if err := os.WriteFile(empty, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
		"GIT_AUTHOR_DATE=2023-11-14T22:13:20Z", "GIT_COMMITTER_DATE=2023-11-14T22:13:20Z",
		"GIT_CONFIG_GLOBAL="+empty, "GIT_CONFIG_NOSYSTEM=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitRepo makes a repository at base/repo with three commits: c1 (a.txt),
// c2 (a.txt, b.txt) on main, and c3 reachable only from refs/hidden/x.
func gitRepo(t testing.TB, base string) (dir string, c1, c2, c3 string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed (apt-get install -y git): %v", err)
	}
	dir = filepath.Join(base, "repo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q", "-b", "main")
	write := func(name, body string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		git(t, dir, "add", name)
	}
	write("a.txt", "one\n", 0o644)
	git(t, dir, "commit", "-q", "-m", "one")
	c1 = git(t, dir, "rev-parse", "HEAD")
	write("b.sh", "echo two\n", 0o755)
	git(t, dir, "commit", "-q", "-m", "two")
	c2 = git(t, dir, "rev-parse", "HEAD")
	write("c.txt", "hidden\n", 0o644)
	git(t, dir, "commit", "-q", "-m", "three")
	c3 = git(t, dir, "rev-parse", "HEAD")
	git(t, dir, "update-ref", "refs/hidden/x", c3)
	git(t, dir, "reset", "-q", "--hard", c2)
	return dir, c1, c2, c3
}

func TestFetchGit(t *testing.T) {
	base := t.TempDir()
	repo, c1, c2, c3 := gitRepo(t, base)
	tests := []struct {
		name     string
		req      Request
		files    []string // files expected in the checkout (besides .git)
		wantErr  string
		unpinned bool
	}{
		{name: "relative at first commit", req: Request{URI: "git+file:repo", Rev: c1, Dir: base}, files: []string{"a.txt"}},
		{name: "file URL at head", req: Request{URI: "git+file://" + repo, Rev: c2, Dir: base}, files: []string{"a.txt", "b.sh"}},
		{name: "commit only on another ref", req: Request{URI: "git+file:" + repo, Rev: c3, Dir: base}, files: []string{"a.txt", "b.sh", "c.txt"}},
		{name: "short rev", req: Request{URI: "git+file:repo", Rev: c1[:12], Dir: base}, wantErr: "not a full commit id", unpinned: true},
		{name: "branch name", req: Request{URI: "git+file:repo", Rev: "main", Dir: base}, wantErr: "not a full commit id", unpinned: true},
		{name: "no rev", req: Request{URI: "git+file:repo", Dir: base}, wantErr: "no rev declared", unpinned: true},
		{name: "unknown rev", req: Request{URI: "git+file:repo", Rev: strings.Repeat("ab", 20), Dir: base}, wantErr: "commit abababababababababababababababababababab not found in the repository"},
		{name: "no such repository", req: Request{URI: "git+file:nope", Rev: c1, Dir: base}, wantErr: "no such file or directory"},
		{name: "digest too", req: Request{URI: "git+file:repo", Rev: c1, Digest: "sha256:" + strings.Repeat("0", 64), Dir: base}, wantErr: "remove digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			it, err := New(c).Fetch(context.Background(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.req.URI) {
					t.Fatalf("Fetch error = %v, want one naming %s and containing %q", err, tt.req.URI, tt.wantErr)
				}
				if got := errors.Is(err, ErrUnpinned); got != tt.unpinned {
					t.Errorf("errors.Is(err, ErrUnpinned) = %v, want %v", got, tt.unpinned)
				}
				if ents, _ := os.ReadDir(filepath.Join(c.Root, "trees", "git")); len(ents) != 0 {
					t.Errorf("a failed clone left %d trees in the cache", len(ents))
				}
				if got := cacheFiles(t, c); len(got) != 0 {
					t.Errorf("a failed clone left %v in the cache", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want := &Item{URI: tt.req.URI, Digest: tt.req.Rev, Rev: tt.req.Rev, Path: filepath.Join(c.TreePath("git", tt.req.Rev), "root"), Source: SourceNetwork}
			if !strings.HasPrefix(it.TreeDigest, "sha256:") {
				t.Errorf("TreeDigest = %q, want the checkout's content digest", it.TreeDigest)
			}
			if diff := cmp.Diff(want, it, cmpopts.IgnoreFields(Item{}, "TreeDigest")); diff != "" {
				t.Errorf("item (-want +got):\n%s", diff)
			}
			var files []string
			ents, err := os.ReadDir(it.Path)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if e.Name() != ".git" {
					files = append(files, e.Name())
				}
			}
			if diff := cmp.Diff(tt.files, files); diff != "" {
				t.Errorf("checked out files (-want +got):\n%s", diff)
			}
			if head := git(t, it.Path, "rev-parse", "HEAD"); head != tt.req.Rev {
				t.Errorf("HEAD = %s, want %s", head, tt.req.Rev)
			}
			if st := git(t, it.Path, "status", "--porcelain"); st != "" {
				t.Errorf("checkout is not clean (Go's vcs stamping would say modified):\n%s", st)
			}
			if fi, err := os.Stat(filepath.Join(it.Path, "b.sh")); err == nil && fi.Mode().Perm()&0o100 == 0 {
				t.Errorf("b.sh lost its exec bit: %v", fi.Mode())
			}
		})
	}
}

func TestFetchGitCached(t *testing.T) {
	base := t.TempDir()
	repo, c1, _, _ := gitRepo(t, base)
	c := newCache(t)
	req := Request{URI: "git+file:" + repo, Rev: c1, Dir: filepath.Dir(repo)}
	it, err := New(c).Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	// With the repository gone, the cached checkout still serves.
	if err := os.RemoveAll(repo); err != nil {
		t.Fatal(err)
	}
	it2, err := New(c).Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("cached Fetch: %v", err)
	}
	it.Source = SourceCache // checked against its record, not cloned again
	if diff := cmp.Diff(it, it2); diff != "" {
		t.Errorf("cached item (-want +got):\n%s", diff)
	}
}

// TestFetchGitHTTP clones over real smart HTTP (git http-backend behind
// net/http/cgi on loopback), including a commit no branch reaches, which
// must be asked for by id.
func TestFetchGitHTTP(t *testing.T) {
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		t.Fatalf("%s is needed (apt-get install -y git): %v", backend, err)
	}
	base := t.TempDir()
	_, c1, _, c3 := gitRepo(t, base)
	var requests atomic.Int64
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + base, "GIT_HTTP_EXPORT_ALL=1"}, Stderr: io.Discard}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := newCache(t)
	uri := "git+" + srv.URL + "/repo"
	for _, rev := range []string{c1, c3} {
		it, err := New(c, WithAllowPaths("/")).Fetch(context.Background(), Request{URI: uri, Rev: rev})
		if err != nil {
			t.Fatalf("Fetch %s at %s: %v", uri, rev, err)
		}
		if head := git(t, it.Path, "rev-parse", "HEAD"); head != rev {
			t.Errorf("HEAD = %s, want %s", head, rev)
		}
	}
	before := requests.Load()
	if _, err := New(c, WithAllowPaths("/")).Fetch(context.Background(), Request{URI: uri, Rev: c3}); err != nil {
		t.Fatalf("cached Fetch: %v", err)
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("cached git Fetch made %d requests, want 0", n)
	}
	_, err := New(c, WithAllowPaths("/")).Fetch(context.Background(), Request{URI: uri, Rev: strings.Repeat("cd", 20)})
	if err == nil || !strings.Contains(err.Error(), "not found in the repository") {
		t.Errorf("unknown rev over http: %v, want not found", err)
	}
}
