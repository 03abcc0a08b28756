package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinkHops bounds symlink resolution, as the kernel's ELOOP does.
const maxLinkHops = 40

// ErrEscapes is returned when a path or link would leave its root.
var ErrEscapes = errors.New("leaves its root")

// ResolveIn resolves the relative path rel inside the host folder root the
// way the container sees it, following symlinks without ever leaving root,
// and returns the host path. Components that do not exist are kept as they
// are.
//
// absPrefix is the container path root is mounted at ("/" for a rootfs,
// "/out" for the output folder). When strict is false, ".." at the root
// stays at the root and absolute link targets start again at the root, as
// the kernel does inside the container. When strict is true, a ".." above the
// root or an absolute target outside absPrefix is an error wrapping
// ErrEscapes.
func ResolveIn(root, rel, absPrefix string, strict bool) (string, error) {
	parts := splitPath(rel)
	var cur []string // resolved components, all existing non-links or missing
	hops := 0
	for len(parts) > 0 {
		p := parts[0]
		parts = parts[1:]
		switch p {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				if strict {
					return "", fmt.Errorf("%s: %w", rel, ErrEscapes)
				}
				continue
			}
			cur = cur[:len(cur)-1]
			continue
		}
		next := append(cur[:len(cur):len(cur)], p)
		host := filepath.Join(root, filepath.Join(next...))
		fi, err := os.Lstat(host)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			cur = next
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		hops++
		if hops > maxLinkHops {
			return "", fmt.Errorf("%s: too many levels of symlinks", rel)
		}
		target, err := os.Readlink(host)
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			if absPrefix != "/" {
				r, ok := strings.CutPrefix(path.Clean(target), absPrefix)
				if !ok || (r != "" && !strings.HasPrefix(r, "/")) {
					if strict {
						return "", fmt.Errorf("%s: link %s → %s: %w", rel, filepath.Join(next...), target, ErrEscapes)
					}
					r = target
				}
				target = r
			}
			cur = nil
		}
		parts = append(splitPath(target), parts...)
	}
	return filepath.Join(root, filepath.Join(cur...)), nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}
