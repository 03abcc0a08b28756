package manifest

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

var (
	sha256Re  = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	commitRe  = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
	envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// DepKinds are the deps kinds this reprove resolves.
var DepKinds = []string{"gomod"}

// IsGit reports whether uri names a git repository (git+https:, git+http:, git+file:).
func IsGit(uri string) bool { return strings.HasPrefix(uri, "git+") }

// fileSchemes are the URI prefixes that name one file, pinned by digest.
var fileSchemes = []string{"https://", "http://", "file:", "gomod:", "npm:", "deb:"}

func hasScheme(uri string, schemes []string) bool {
	for _, s := range schemes {
		if strings.HasPrefix(uri, s) {
			return true
		}
	}
	return false
}

// Validate checks a manifest that was built in code (an inferred one, say)
// the same way Parse checks a file.
func Validate(m *Manifest) error { return validate(m, "manifest") }

func validate(m *Manifest, name string) error {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	checkDigest := func(field, d, what string) {
		switch {
		case d == "":
			add(field, "required: pin %s by its sha256, e.g. digest: sha256:<64 hex digits> (sha256sum prints them)", what)
		case !sha256Re.MatchString(d):
			add(field, "%q is not a sha256 digest: write sha256: followed by 64 lowercase hex digits", d)
		}
	}

	if m.APIVersion != APIVersion {
		if m.APIVersion == "" {
			add("apiVersion", "required: write apiVersion: %s", APIVersion)
		} else {
			add("apiVersion", "%q is not supported: this reprove reads %s", m.APIVersion, APIVersion)
		}
	}
	if strings.TrimSpace(m.Name) == "" {
		add("name", "required: a short name for reports, e.g. hello-1.0")
	}

	a := m.Artifact
	switch {
	case a.URI == "":
		add("artifact.uri", "required: where the published artifact is (https://…, file:…, gomod:…, npm:…)")
	case !hasScheme(a.URI, fileSchemes):
		add("artifact.uri", "%q: unsupported scheme for an artifact; use https://, http://, file:, gomod: or npm:", a.URI)
	}
	checkDigest("artifact.digest", a.Digest, "the published artifact")
	if a.Member != "" && !cleanRelative(a.Member) {
		add("artifact.member", "%q must be a relative path inside the archive, without .. (e.g. hello-1.0/bin/hello)", a.Member)
	}
	if a.Size < 0 {
		add("artifact.size", "%d is negative: write the size in bytes (stat -c %%s FILE), or leave it out", a.Size)
	}

	dests := map[string]string{}
	claimDest := func(field, dest string) {
		switch {
		case dest == "":
			add(field, "required: the absolute path where the build sees this input, e.g. /src")
		case !path.IsAbs(dest) || path.Clean(dest) != dest:
			add(field, "%q must be a clean absolute path, e.g. /src", dest)
		case dest == "/" || reserved(dest):
			add(field, "%q is reserved by the sandbox (/, /out, /tmp, /proc, /dev, /sys): pick another path such as /src", dest)
		default:
			if other, ok := dests[dest]; ok {
				add(field, "%q is already used by %s: give each input its own dest", dest, other)
			}
			dests[dest] = field
		}
	}
	for i, s := range m.Sources {
		f := fmt.Sprintf("sources[%d]", i)
		switch {
		case s.URI == "":
			add(f+".uri", "required: where this source is (git+https://…, https://…, file:…, gomod:…, npm:…)")
		case IsGit(s.URI):
			if !hasScheme(s.URI, []string{"git+https://", "git+http://", "git+file:"}) {
				add(f+".uri", "%q: unsupported git transport; use git+https://, git+http:// or git+file:", s.URI)
			}
			switch {
			case s.Rev == "":
				add(f+".rev", "required for git sources: the full commit id (git rev-parse HEAD), never a branch or tag")
			case !commitRe.MatchString(s.Rev):
				add(f+".rev", "%q is not a full commit id: write all 40 hex digits (git rev-parse %s); tags and branches can move", s.Rev, s.Rev)
			}
			if s.Digest != "" {
				add(f+".digest", "git sources are pinned by rev, not digest: remove digest")
			}
			if s.Unpack {
				add(f+".unpack", "git sources are checked out, not unpacked: remove unpack")
			}
			if s.Size != 0 {
				add(f+".size", "git sources are pinned by rev and have no size: remove size")
			}
		case !hasScheme(s.URI, fileSchemes):
			add(f+".uri", "%q: unsupported scheme; use git+https://, git+file:, https://, http://, file:, gomod: or npm:", s.URI)
		default:
			if s.Rev != "" {
				add(f+".rev", "rev is only for git sources; pin this one with digest")
			}
			checkDigest(f+".digest", s.Digest, "this source")
			if s.Size < 0 {
				add(f+".size", "%d is negative: write the size in bytes, or leave it out", s.Size)
			}
		}
		claimDest(f+".dest", s.Dest)
	}
	for i, d := range m.Deps {
		f := fmt.Sprintf("deps[%d]", i)
		if !contains(DepKinds, d.Kind) {
			add(f+".kind", "%q is not a known deps kind; known: %s", d.Kind, strings.Join(DepKinds, ", "))
		}
		found := false
		for _, s := range m.Sources {
			found = found || s.Dest == d.Source
		}
		if !found {
			add(f+".source", "%q must be the dest of one of the sources (the one that carries the lock file)", d.Source)
		}
		if d.Dir != "" && !cleanRelative(d.Dir) && d.Dir != "." {
			add(f+".dir", "%q must be a relative folder inside the source, without ..", d.Dir)
		}
		claimDest(f+".dest", d.Dest)
	}

	img := m.Builder.Image
	switch {
	case img == "":
		add("builder.image", "required: the builder image by digest, e.g. oci://registry.example/debian@sha256:… or oci-layout:images/builder@sha256:…")
	case !strings.HasPrefix(img, "oci://") && !strings.HasPrefix(img, "oci-layout:"):
		add("builder.image", "%q: use oci://REGISTRY/REPO@sha256:… or oci-layout:DIR@sha256:…", img)
	default:
		at := strings.LastIndex(img, "@")
		if at < 0 || !sha256Re.MatchString(img[at+1:]) {
			add("builder.image", "%q is not pinned: append @sha256:<manifest digest>; tags can move", img)
		}
	}

	b := m.Build
	if strings.TrimSpace(b.Script) == "" {
		add("build.script", "required: the shell commands that rebuild the artifact")
	}
	switch {
	case b.Output == "":
		add("build.output", "required: the file or folder the build leaves under /out, e.g. /out/hello")
	case !path.IsAbs(b.Output) || path.Clean(b.Output) != b.Output || !(b.Output == "/out" || strings.HasPrefix(b.Output, "/out/")):
		add("build.output", "%q must be a clean absolute path under /out (the only place kept after the build), e.g. /out/hello", b.Output)
	}
	if b.Workdir != "" && (!path.IsAbs(b.Workdir) || path.Clean(b.Workdir) != b.Workdir) {
		add("build.workdir", "%q must be a clean absolute path, e.g. /src", b.Workdir)
	}
	for k := range b.Env {
		if !envNameRe.MatchString(k) {
			add("build.env."+k, "%q is not a valid variable name (letters, digits and _; not starting with a digit)", k)
		}
	}
	if b.Timeout < 0 {
		add("build.timeout", "must be positive, e.g. 30m")
	}
	if b.Resources.Memory < 0 {
		add("build.resources.memory", "must be positive, e.g. 4GiB")
	}
	if b.Resources.Pids < 0 {
		add("build.resources.pids", "must be positive, e.g. 4096")
	}
	if b.Resources.Disk != 0 && b.Resources.Disk < MinDisk {
		add("build.resources.disk", "%d bytes is too small: at least 16MiB, e.g. 40GiB (16GiB when unset)", int64(b.Resources.Disk))
	}
	validateExtras(m, add, checkDigest, claimDest)
	if len(probs) > 0 {
		return &Error{Source: name, Problems: probs}
	}
	return nil
}

func reserved(p string) bool {
	for _, r := range []string{"/out", "/tmp", "/proc", "/dev", "/sys"} {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

func cleanRelative(p string) bool {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == "." {
		return false
	}
	return !strings.HasPrefix(p, "../") && p != ".."
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
