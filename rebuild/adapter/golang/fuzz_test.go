package golang

import (
	"github.com/reprove/reprove/rebuild/adapter/golang/golangtest"

	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseGoImport(f *testing.F) {
	f.Add([]byte(`<meta name="go-import" content="example.com/m git https://git.example/m.git">`), "example.com/m/sub")
	f.Add([]byte(`<META NAME='go-import' CONTENT='example.com hg https://x'>`), "example.com/m")
	f.Add([]byte(`<meta content="a git https://a" name="go-import"><meta name="go-import" content="a/b git https://ab">`), "a/b/c")
	f.Fuzz(func(t *testing.T, page []byte, mod string) {
		r, err := parseGoImport(page, mod)
		if err != nil {
			return
		}
		if !strings.HasPrefix(r.URL, "https://") || (mod != r.Prefix && !strings.HasPrefix(mod, r.Prefix+"/")) {
			t.Fatalf("parseGoImport(%q) = %+v: not an https repository holding the module", mod, r)
		}
	})
}

func FuzzInspectBinary(f *testing.F) {
	self, err := os.ReadFile(os.Args[0])
	if err == nil && len(self) > 0 {
		f.Add(self[:min(len(self), 4096)])
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add(append(append([]byte("x"), infoStart...), infoEnd...))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		inspectBinary(p) // must not panic or hang
	})
}

// vcsVersionTags writes shell lines from a version and revision read out of
// untrusted build info: whatever it accepts must come out as plain words.
func FuzzVCSVersionTags(f *testing.F) {
	const rev = "d68769566d191cf20080eaf13eb29a5dd89f7a09"
	f.Add("v1.2.3", "", rev)
	f.Add("v1.2.4-0.20261124155530-d68769566d19+dirty", "sub", rev)
	f.Add("v2.0.0+incompatible.dirty", "a/b", rev)
	f.Add("v1.0.0-rc.1.0.20261124155530-d68769566d19", "", rev)
	f.Add("v1.2.3$(reboot)", "x;y", "`id`")
	f.Add("v0.0.0", "0", "\" ")
	f.Fuzz(func(t *testing.T, version, sub, rev string) {
		script, _, err := vcsVersionTags(version, sub, rev, "/src", "/tmp/src")
		if err != nil {
			return
		}
		// What it accepts is checked so well that nothing needs quoting.
		if strings.ContainsAny(script, "$`;&|<>()\\\"'*?[]{}#!\t\r") {
			t.Fatalf("vcsVersionTags(%q, %q, %q) wrote a shell metacharacter:\n%s", version, sub, rev, script)
		}
	})
}

// FuzzReleaseConfig: a goreleaser configuration from the source is hostile;
// reading it and rendering its ldflags never panics and stays bounded.
func FuzzReleaseConfig(f *testing.F) {
	f.Add([]byte(golangtest.NonMainConfig("example.com/m")))
	f.Add([]byte(golangtest.DefaultConfig))
	f.Add([]byte("version: 2\nbuilds:\n  - ldflags: '{{ readFile \"/etc/passwd\" }}'\n"))
	f.Add([]byte("builds:\n  - ldflags: ['{{ range split .Version \"\" }}{{ . }}{{ end }}']\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nbuilds:\n  - env: *b\n"))
	f.Add([]byte("builds:\n  - overrides:\n      - goos: linux\n        goarch: amd64\n        ldflags: -X main.x={{.Env.X}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseReleaseConfig(b)
		if err != nil {
			return
		}
		for _, build := range c.Builds {
			build.matches("cmd/x", target{"linux", "amd64", "v1"})
			ld, env := build.details(target{"linux", "amd64", "v1"})
			e := releaseEnv(append(append([]string(nil), c.Env...), env...), ld)
			data := testData(e)
			for _, l := range ld {
				out, err := renderTemplate(l, data, e)
				if err == nil && len(out) > maxTemplateOutput {
					t.Fatalf("rendered %d bytes, past the %d bound", len(out), maxTemplateOutput)
				}
			}
		}
	})
}
