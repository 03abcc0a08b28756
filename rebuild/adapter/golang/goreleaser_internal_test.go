package golang

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/rebuild/adapter/golang/golangtest"
)

func testData(env map[string]string) map[string]any {
	rf := emptyReleaseFacts()
	rf.values = map[string][]string{"Version": {"1.2.3"}, "Tag": {"v1.2.3"}, "Commit": {"abc"}}
	return rf.data(nil, env)
}

// Templates come from the release configuration, hostile input: nothing
// they call reads a file, the environment or the clock, and loops and
// output past the bound are refused.
func TestRenderTemplateHostile(t *testing.T) {
	env := releaseEnv(nil, []string{"{{.Env.GITHUB_SHA}}"})
	env["KNOWN"] = "k"
	data := testData(env)
	tests := []struct {
		tmpl    string
		want    string // rendered, with unknowns named as ?NAME
		wantErr string
	}{
		{tmpl: "-X main.version={{.Version}} -X main.tag={{ .Tag }}", want: "-X main.version=1.2.3 -X main.tag=v1.2.3"},
		{tmpl: "{{.Env.GITHUB_SHA}}-{{.Env.KNOWN}}", want: "?Env.GITHUB_SHA-k"},
		{tmpl: `{{ envOrDefault "HOME" "x" }}`, want: "?Env.HOME"},
		{tmpl: `{{ time "2006" }}`, want: "?time 2006"},
		{tmpl: "{{ .Branch }}", want: "?Branch"},
		{tmpl: "{{ incpatch .Version }} {{ title \"go tool\" }} {{ replace .Tag \"v\" \"\" }}", want: "1.2.4 Go Tool 1.2.3"},
		{tmpl: `{{ readFile "/etc/passwd" }}`, wantErr: "readFile is not evaluated: it reads a file"},
		{tmpl: `{{ sha256 "/etc/shadow" }}`, wantErr: "sha256 is not evaluated"},
		{tmpl: `{{ abs "." }}`, wantErr: "abs is not evaluated"},
		{tmpl: `{{ env "HOME" }}`, wantErr: `function "env" not defined`},
		{tmpl: `{{ range split "a,b" "," }}x{{ end }}`, wantErr: "loops and template calls are not evaluated"},
		{tmpl: `{{ define "x" }}y{{ end }}{{ template "x" }}`, wantErr: "loops and template calls are not evaluated"},
		{tmpl: "{{ .NoSuchField }}", wantErr: `map has no entry for key "NoSuchField"`},
		{tmpl: strings.Repeat("x", maxReleaseString+1), wantErr: "template of 16385 bytes"},
		{tmpl: `{{ $a := replace "` + strings.Repeat("a", 256) + `" "a" "` + strings.Repeat("b", 256) + `" }}{{ replace $a "b" $a }}`, wantErr: errTooLong.Error()},
	}
	for _, tt := range tests {
		got, err := renderTemplate(tt.tmpl, data, env)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("renderTemplate(%.60q): error %v, want one saying %q", tt.tmpl, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("renderTemplate(%.60q): %v", tt.tmpl, err)
			continue
		}
		if got := markRe.ReplaceAllString(got, "?$1"); got != tt.want {
			t.Errorf("renderTemplate(%.60q) = %q, want %q", tt.tmpl, got, tt.want)
		}
	}
}

// The configuration is read from the source, which may hold a symbolic
// link pointing out of it: it is not followed.
func TestReadReleaseConfigConfined(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("project_name: stolen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, ".goreleaser.yaml")); err != nil {
		t.Fatal(err)
	}
	c, err := readReleaseConfig(dir)
	if err == nil || c != nil {
		t.Fatalf("readReleaseConfig through a link out of the source: %+v, %v; want an error", c, err)
	}
	if err := os.Remove(filepath.Join(dir, ".goreleaser.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".goreleaser.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := readReleaseConfig(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a folder named .goreleaser.yaml: error %v, want not a regular file", err)
	}
}

func TestParseReleaseConfig(t *testing.T) {
	c, err := parseReleaseConfig([]byte(golangtest.NonMainConfig("example.com/m")))
	if err != nil {
		t.Fatal(err)
	}
	b := c.Builds[0]
	linux := target{"linux", "amd64", "v1"}
	if ok, why := b.matches("cmd/hello", linux); !ok {
		t.Errorf("builds[0] does not match cmd/hello linux/amd64: %s", why)
	}
	for _, tt := range []struct {
		dir string
		t   target
	}{{"cmd/other", linux}, {"cmd/hello", target{"windows", "arm64", ""}}, {"cmd/hello", target{"linux", "amd64", "v3"}}, {"cmd/hello", target{"freebsd", "amd64", "v1"}}} {
		if ok, _ := b.matches(tt.dir, tt.t); ok {
			t.Errorf("builds[0] matches %s %s", tt.dir, tt.t)
		}
	}
	ld, env := b.details(linux)
	if diff := cmp.Diff(golangtest.NonMainLdflags("example.com/m"), []string(ld)); diff != "" {
		t.Errorf("ldflags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CGO_ENABLED=0"}, []string(env)); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	// v1: a string for flags, no ldflags (the default), a single build
	// in the old build: form.
	c, err = parseReleaseConfig([]byte("build:\n  main: ./cmd/x\n  flags: -trimpath\n  skip: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ld, _ := c.Builds[0].details(linux); len(ld) != 1 || ld[0] != golangtest.DefaultLdflags {
		t.Errorf("default ldflags %q, want %q", ld, golangtest.DefaultLdflags)
	}
	for _, bad := range []string{
		"builds: [" + strings.Repeat("{},", maxReleaseBuilds+1) + "]",
		"builds:\n  - ldflags: {a: b}\n",
		"a: &a [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nbuilds:\n  - env: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
		strings.Repeat("#", maxReleaseConfig+1),
	} {
		if _, err := parseReleaseConfig([]byte(bad)); err == nil {
			t.Errorf("parseReleaseConfig(%.50q): want an error", bad)
		}
	}
}

// splitQuoted splits as cmd/internal/quoted does, and quoteArg joins so
// that it splits back.
func TestSplitQuoted(t *testing.T) {
	got, err := splitQuoted(`-s -w -X "main.a=b c" -X 'main.d=e"f' -X=main.g=h`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-s", "-w", "-X", "main.a=b c", "-X", `main.d=e"f`, "-X=main.g=h"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("splitQuoted (-want +got):\n%s", diff)
	}
	var joined []string
	for _, a := range want {
		joined = append(joined, quoteArg(a))
	}
	back, err := splitQuoted(strings.Join(joined, " "))
	if err != nil || !cmp.Equal(want, back) {
		t.Errorf("quoteArg does not split back: %q → %q (%v)", want, back, err)
	}
	if _, err := splitQuoted(`-X 'main.a=b`); err == nil || !errors.Is(err, err) {
		t.Errorf("an unterminated quote: want an error")
	}
}
