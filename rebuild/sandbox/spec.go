package sandbox

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// BaseEnv is the environment every build starts from; Spec.Env is laid
// over it.
var BaseEnv = map[string]string{
	"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME": "/tmp",
	"TZ":   "UTC",
	"LANG": "C.UTF-8",
}

// DefaultHostname is the container's hostname when Spec.Hostname is empty.
const DefaultHostname = "reprove"

// ReservedDests are container paths the sandbox itself mounts.
var ReservedDests = []string{"/", "/proc", "/dev", "/sys", "/out", "/tmp"}

// ValidateSpec checks the fields the sandbox relies on; errors name the field.
func ValidateSpec(s Spec) error {
	if s.ImageLayout == "" || s.ImageDigest == "" {
		return fmt.Errorf("sandbox: Spec.ImageLayout and Spec.ImageDigest are required (the builder image as an OCI layout and its manifest digest)")
	}
	if s.RunDir == "" {
		return fmt.Errorf("sandbox: Spec.RunDir is empty; give a folder for this run's log and output")
	}
	if strings.TrimSpace(s.Script) == "" {
		return fmt.Errorf("sandbox: Spec.Script is empty; the build needs a script")
	}
	if s.Workdir != "" && !path.IsAbs(s.Workdir) {
		return fmt.Errorf("sandbox: Spec.Workdir %q must be an absolute container path", s.Workdir)
	}
	if _, err := OutputRel(s.Output); err != nil {
		return err
	}
	for k := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("sandbox: Spec.Env has a bad variable name %q", k)
		}
	}
	for i, m := range s.Mounts {
		if err := validateMount(i, m); err != nil {
			return err
		}
	}
	if err := validateScratch(s); err != nil {
		return err
	}
	if err := validateChroot(s); err != nil {
		return err
	}
	if s.Memory < 0 || s.Pids < 0 || s.Disk < 0 || s.Timeout < 0 {
		return fmt.Errorf("sandbox: Spec.Memory, Spec.Pids, Spec.Disk and Spec.Timeout must not be negative")
	}
	return nil
}

func validateMount(i int, m Mount) error {
	if !path.IsAbs(m.Source) {
		return fmt.Errorf("sandbox: Spec.Mounts[%d].Source %q must be an absolute host path", i, m.Source)
	}
	if !path.IsAbs(m.Dest) {
		return fmt.Errorf("sandbox: Spec.Mounts[%d].Dest %q must be an absolute container path", i, m.Dest)
	}
	return notReserved(fmt.Sprintf("Spec.Mounts[%d].Dest", i), m.Dest, path.Clean(m.Dest))
}

// notReserved checks that the clean container path d is not inside a
// folder the sandbox provides itself.
func notReserved(field, raw, d string) error {
	for _, r := range ReservedDests {
		if d == r || (r != "/" && strings.HasPrefix(d, r+"/")) {
			return fmt.Errorf("sandbox: %s %q is inside %s, which the sandbox provides itself", field, raw, r)
		}
	}
	return nil
}

// validateScratch checks that each Spec.Scratch folder is an absolute
// path of its own, neither the sandbox's nor a mount's.
func validateScratch(s Spec) error {
	taken := map[string]bool{}
	for _, m := range s.Mounts {
		taken[path.Clean(m.Dest)] = true
	}
	for i, d := range s.Scratch {
		field := fmt.Sprintf("Spec.Scratch[%d]", i)
		if !path.IsAbs(d) {
			return fmt.Errorf("sandbox: %s %q must be an absolute container path", field, d)
		}
		c := path.Clean(d)
		if err := notReserved(field, d, c); err != nil {
			return err
		}
		if taken[c] {
			return fmt.Errorf("sandbox: %s %q is also a mount's Dest or another scratch folder", field, d)
		}
		taken[c] = true
	}
	return nil
}

// OutputRel returns Spec.Output relative to /out ("" for /out itself).
func OutputRel(output string) (string, error) {
	if output == "" {
		return "", fmt.Errorf("sandbox: Spec.Output is empty; name the file or folder under /out the build leaves")
	}
	c := path.Clean(output)
	if c == "/out" {
		return "", nil
	}
	if !strings.HasPrefix(c, "/out/") {
		return "", fmt.Errorf("sandbox: Spec.Output %q must be /out or a path under /out", output)
	}
	return strings.TrimPrefix(c, "/out/"), nil
}

// BuildEnv is BaseEnv overlaid by env, sorted, as KEY=VALUE.
func BuildEnv(env map[string]string) []string {
	all := map[string]string{}
	for k, v := range BaseEnv {
		all[k] = v
	}
	for k, v := range env {
		all[k] = v
	}
	out := make([]string, 0, len(all))
	for k, v := range all {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// SortedMounts returns the mounts parents first, whatever order they were
// declared in, with clean destinations.
func SortedMounts(ms []Mount) []Mount {
	out := append([]Mount(nil), ms...)
	for i := range out {
		out[i].Dest = path.Clean(out[i].Dest)
	}
	sort.SliceStable(out, func(i, j int) bool {
		di, dj := out[i].Dest, out[j].Dest
		ni, nj := strings.Count(di, "/"), strings.Count(dj, "/")
		if ni != nj {
			return ni < nj
		}
		return di < dj
	})
	return out
}
