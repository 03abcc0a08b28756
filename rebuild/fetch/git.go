package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// gitScheme fetches git+https://, git+http:// and git+file: URIs at a full
// commit id. The checkout keeps .git (Go's vcs stamping reads it) and is
// cached under trees/git/<commit>; its digest is the commit id.
type gitScheme struct{}

var gitPrefixes = []string{"git+https://", "git+http://", "git+file:"}

func (gitScheme) Handles(uri string) bool {
	for _, p := range gitPrefixes {
		if strings.HasPrefix(uri, p) {
			return true
		}
	}
	return false
}

var fullCommit = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

func (gitScheme) Fetch(ctx context.Context, c *Cache, req Request) (*Item, error) {
	rev := req.Rev
	switch {
	case rev == "":
		return nil, fmt.Errorf("%s: %w: no rev declared; add rev: <full commit id> (git rev-parse TAG^{commit})", req.URI, ErrUnpinned)
	case !fullCommit.MatchString(rev):
		return nil, fmt.Errorf("%s: %w: rev %q is not a full commit id; pin the 40-hex commit (git rev-parse %s^{commit}), never a branch, tag or short id", req.URI, ErrUnpinned, rev, rev)
	case req.Digest != "" && req.Digest != rev:
		return nil, fmt.Errorf("%s: git sources are pinned by rev alone; remove digest %q", req.URI, req.Digest)
	}
	item := &Item{URI: req.URI, Digest: rev, Rev: rev, Source: SourceCache}
	found, q, err := c.Tree(ctx, "git", rev)
	if err != nil {
		return nil, err
	}
	item.quarantined(q)
	if found != nil {
		item.Path, item.TreeDigest = found.Root, found.Record.Digest
		return item, nil
	}
	if req.Offline {
		return nil, NewOfflineError(req.URI, q)
	}
	remote := strings.TrimPrefix(req.URI, "git+")
	if rest, ok := strings.CutPrefix(remote, "file:"); ok {
		p, err := filePath(req.URI, rest, req.Dir)
		if err != nil {
			return nil, err
		}
		if remote, err = ConfinedDir(p, req); err != nil {
			return nil, err
		}
	}
	c.progress(Event{URI: req.URI, Phase: "clone", Done: 0, Total: -1})
	e, err := c.PutTree(ctx, "git", rev, "git commit "+rev+" of "+req.URI, func(dir string) error {
		return gitCheckout(ctx, req.URI, remote, rev, dir)
	})
	if err != nil {
		return nil, err
	}
	item.Path, item.TreeDigest, item.Source = e.Root, e.Record.Digest, SourceNetwork
	item.quarantined(e.Quarantined)
	return item, nil
}

// gitCheckout clones remote into dir and checks out rev, detached.
func gitCheckout(ctx context.Context, uri, remote, rev, dir string) error {
	if _, err := exec.LookPath("git"); err != nil {
		return fmt.Errorf("fetching %s: git is not installed; install it (apt-get install -y git)", uri)
	}
	if _, err := runGit(ctx, "", "clone", "--quiet", "--no-checkout", "--no-hardlinks", "--", remote, dir); err != nil {
		return fmt.Errorf("fetching %s: cloning: %w; check the URL and that the repository is reachable", uri, err)
	}
	if !hasCommit(ctx, dir, rev) {
		// Not reachable from the branches a clone brings: ask for it by id.
		if _, err := runGit(ctx, dir, "fetch", "--quiet", "origin", rev); err != nil || !hasCommit(ctx, dir, rev) {
			return fmt.Errorf("fetching %s: commit %s not found in the repository; check rev (it must be a full commit id that was pushed to this repository)", uri, rev)
		}
	}
	if _, err := runGit(ctx, dir, "checkout", "--quiet", "--detach", rev); err != nil {
		return fmt.Errorf("fetching %s: checking out %s: %w", uri, rev, err)
	}
	head, err := runGit(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return fmt.Errorf("fetching %s: reading HEAD: %w", uri, err)
	}
	if head != rev {
		return fmt.Errorf("fetching %s: checked out %s but HEAD is %s; the clone is not trustworthy, try again", uri, rev, head)
	}
	return nil
}

func hasCommit(ctx context.Context, dir, rev string) bool {
	got, err := runGit(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	return err == nil && got == rev
}

// runGit runs git with settings that keep the checkout independent of the
// user's configuration and that never prompt. It returns trimmed stdout.
func runGit(ctx context.Context, dir string, args ...string) (string, error) {
	base := []string{
		"-c", "core.autocrlf=false",
		"-c", "core.symlinks=true",
		"-c", "advice.detachedHead=false",
		"-c", "protocol.file.allow=always",
	}
	if dir != "" {
		base = append(base, "-C", dir)
	}
	cmd := exec.CommandContext(ctx, "git", append(base, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_LFS_SKIP_SMUDGE=1",
		"GIT_CONFIG_NOSYSTEM=1",
		"LC_ALL=C",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return "", fmt.Errorf("git %s: %s", args[0], msg)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return strings.TrimSpace(stdout.String()), nil
}
