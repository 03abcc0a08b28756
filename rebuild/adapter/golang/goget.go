package golang

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/reprove/reprove/rebuild/adapter"
)

// repoRoot is where a Go import path's code lives.
type repoRoot struct {
	Prefix string // import path prefix the repository holds
	URL    string // https://… clone URL
}

// discoverRepo finds the git repository of a module path:
// github.com/OWNER/REPO directly, other hosts through the go-import meta
// tag served at https://PATH?go-get=1 (the go command's discovery).
func discoverRepo(ctx context.Context, client *http.Client, modPath string) (repoRoot, error) {
	if parts := strings.Split(modPath, "/"); parts[0] == "github.com" {
		if len(parts) < 3 {
			return repoRoot{}, fmt.Errorf("module path %s: want github.com/OWNER/REPO", modPath)
		}
		prefix := strings.Join(parts[:3], "/")
		return repoRoot{Prefix: prefix, URL: "https://" + prefix}, nil
	}
	u := "https://" + modPath + "?go-get=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return repoRoot{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return repoRoot{}, &adapter.FetchError{Err: fmt.Errorf("finding the repository of %s (GET %s): %w; write the manifest's source by hand", modPath, u, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return repoRoot{}, &adapter.FetchError{Err: fmt.Errorf("finding the repository of %s: GET %s: %s", modPath, u, resp.Status)}
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return repoRoot{}, &adapter.FetchError{Err: fmt.Errorf("finding the repository of %s: %w", modPath, err)}
	}
	return parseGoImport(page, modPath)
}

var (
	metaRe    = regexp.MustCompile(`(?is)<meta\s[^>]*>`)
	nameRe    = regexp.MustCompile(`(?is)\bname\s*=\s*["']go-import["']`)
	contentRe = regexp.MustCompile(`(?is)\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')`)
)

// parseGoImport picks the go-import meta tag whose prefix holds modPath.
// Only git repositories over https qualify.
func parseGoImport(page []byte, modPath string) (repoRoot, error) {
	var best repoRoot
	for _, tag := range metaRe.FindAll(page, -1) {
		if !nameRe.Match(tag) {
			continue
		}
		m := contentRe.FindSubmatch(tag)
		if m == nil {
			continue
		}
		content := string(m[1]) + string(m[2])
		f := strings.Fields(content)
		if len(f) != 3 {
			continue
		}
		prefix, vcs, repo := f[0], f[1], f[2]
		if modPath != prefix && !strings.HasPrefix(modPath, prefix+"/") {
			continue
		}
		if vcs != "git" {
			return repoRoot{}, fmt.Errorf("the repository of %s is %s, not git; write the manifest's source by hand", modPath, vcs)
		}
		if !strings.HasPrefix(repo, "https://") {
			return repoRoot{}, fmt.Errorf("the repository of %s is %s, not an https:// URL; write the manifest's source by hand", modPath, repo)
		}
		if len(prefix) > len(best.Prefix) {
			best = repoRoot{Prefix: prefix, URL: repo}
		}
	}
	if best.URL == "" {
		return repoRoot{}, fmt.Errorf("no go-import meta tag for %s in its ?go-get=1 page; write the manifest's source by hand", modPath)
	}
	return best, nil
}
