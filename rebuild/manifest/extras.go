package manifest

import (
	"fmt"
	"path"
	"strings"
)

// validateExtras checks the fields a build of several outputs and a
// recorded build path use: also, build.writable.
func validateExtras(m *Manifest, add func(field, format string, args ...any), checkDigest func(field, d, what string), claimDest func(field, dest string)) {
	outputs := map[string]string{m.Build.Output: "build.output"}
	for i, a := range m.Also {
		f := fmt.Sprintf("also[%d]", i)
		if !hasScheme(a.URI, fileSchemes) {
			add(f+".uri", "%q: use https://, http://, file:, gomod:, npm: or deb:", a.URI)
		}
		checkDigest(f+".digest", a.Digest, "this published file")
		switch {
		case !path.IsAbs(a.Output) || path.Clean(a.Output) != a.Output || !strings.HasPrefix(a.Output, "/out/"):
			add(f+".output", "%q must be a clean path of a file under /out, e.g. /out/hello-doc.deb", a.Output)
		case outputs[a.Output] != "":
			add(f+".output", "%q is already compared by %s", a.Output, outputs[a.Output])
		default:
			outputs[a.Output] = f + ".output"
		}
		if a.Size < 0 {
			add(f+".size", "%d is negative: write the size in bytes, or leave it out", a.Size)
		}
	}
	for i, w := range m.Build.Writable {
		claimDest(fmt.Sprintf("build.writable[%d]", i), w)
	}
}
