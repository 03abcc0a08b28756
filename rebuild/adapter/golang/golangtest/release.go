// Package golangtest makes Go programs released the way real ones are, for
// the Go adapter's tests: a module in a git repository, tagged, built with
// the flags goreleaser passes.
package golangtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Release describes a goreleaser-style release of a fixture module.
type Release struct {
	Module string            // module path
	Files  map[string]string // the module's files (go.mod is added)
	Tag    string            // tag on the commit, e.g. v1.2.3; "" for none
	// Date is goreleaser's {{.Date}}: the release run's time, RFC 3339 UTC.
	Date string
}

// Repo commits the files (and go.mod) into a new git repository, tags the
// commit, and returns the folder and the commit id.
func (r Release) Repo(t testing.TB) (string, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"go.mod": "module " + r.Module + "\n\ngo 1.22\n"}
	for k, v := range r.Files {
		files[k] = v
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Git(t, dir, "init", "-q", "-b", "main")
	Git(t, dir, "add", ".")
	Git(t, dir, "commit", "-qm", "release")
	if r.Tag != "" {
		Git(t, dir, "tag", r.Tag)
	}
	return dir, Git(t, dir, "rev-parse", "HEAD")
}

// Git runs git in dir with a fixed identity and commit date
// (2024-01-02T03:04:05Z), returning its trimmed output.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.org", "GIT_AUTHOR_DATE=2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// CommitDate is the fixture commit's date as goreleaser's {{.CommitDate}}.
const CommitDate = "2024-01-02T03:04:05Z"

// Ldflags renders goreleaser ldflags the way goreleaser does for this
// release at commit rev, by plain substitution (an oracle independent of
// the adapter's template engine): {{.Version}} is the tag without its v,
// {{.Tag}} the tag, {{.Commit}} and {{.FullCommit}} the commit,
// {{.ShortCommit}} its first 7 characters, {{.Date}} the release time,
// {{.CommitDate}} the commit's; the entries are joined with spaces.
func (r Release) Ldflags(rev string, entries ...string) string {
	rep := strings.NewReplacer(
		"{{.Version}}", strings.TrimPrefix(r.Tag, "v"), "{{.Tag}}", r.Tag,
		"{{.Commit}}", rev, "{{.FullCommit}}", rev, "{{.ShortCommit}}", rev[:7],
		"{{.Date}}", r.Date, "{{.CommitDate}}", CommitDate)
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = rep.Replace(e)
	}
	return strings.Join(out, " ")
}

// Build runs go build in repo as goreleaser runs it for linux/amd64:
// go build FLAGS -ldflags=LDFLAGS -o OUT ./MAIN, with the build's env, vcs
// stamping on, and returns the binary's path. extraEnv come last.
func Build(t testing.TB, repo, main, ldflags string, flags []string, extraEnv ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(main))
	args := append([]string{"build"}, flags...)
	args = append(args, "-ldflags="+ldflags, "-o", out, "./"+strings.TrimPrefix(main, "./"))
	cmd := exec.Command("go", args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true -modcacherw", "GOTOOLCHAIN=local", "GOWORK=off",
		"GOOS=linux", "GOARCH=amd64", "GOAMD64=v1", "CGO_ENABLED=0")
	cmd.Env = append(cmd.Env, extraEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, b)
	}
	return out
}

// VersionPackage is a package internal/version as Go CLIs have it: the
// variables goreleaser's ldflags set in a non-main package.
const VersionPackage = `package version

import "fmt"

// Set by the release's ldflags.
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)

// String describes the build.
func String() string { return fmt.Sprintf("%s (%s, %s)", Version, Commit, Date) }
`

// MainWithVersionPackage prints the version package's string.
func MainWithVersionPackage(module string) string {
	return fmt.Sprintf(`package main

import "%s/internal/version"

func main() { println("hello", version.String()) }
`, module)
}

// MainWithDefaultVars declares the variables goreleaser's default ldflags set.
const MainWithDefaultVars = `package main

var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
	builtBy = "unknown"
)

func main() { println("hello", version, commit, date, builtBy) }
`

// NonMainConfig is a .goreleaser.yaml (schema v2) whose build stamps the
// version package of module, with the options real projects use.
func NonMainConfig(module string) string {
	return fmt.Sprintf(`version: 2
project_name: hello
before:
  hooks:
    - go mod tidy
builds:
  - id: hello
    main: ./cmd/hello
    binary: hello
    env:
      - CGO_ENABLED=0
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64]
    ignore:
      - goos: windows
        goarch: arm64
    flags:
      - -trimpath
    ldflags:
      - -s -w
      - -X %[1]s/internal/version.Version={{.Version}}
      - -X %[1]s/internal/version.Commit={{.Commit}}
      - -X %[1]s/internal/version.Date={{.Date}}
    mod_timestamp: "{{ .CommitTimestamp }}"
archives:
  - formats: [tar.gz]
checksum:
  name_template: checksums.txt
`, module)
}

// NonMainLdflags are NonMainConfig's ldflags entries.
func NonMainLdflags(module string) []string {
	return []string{"-s -w", "-X " + module + "/internal/version.Version={{.Version}}",
		"-X " + module + "/internal/version.Commit={{.Commit}}", "-X " + module + "/internal/version.Date={{.Date}}"}
}

// DefaultConfig is a goreleaser v1 configuration with no ldflags: goreleaser
// then uses its default, DefaultLdflags.
const DefaultConfig = `builds:
  - main: ./cmd/hello
    env:
      - CGO_ENABLED=0
    flags: -trimpath
    goos:
      - linux
`

// DefaultLdflags are goreleaser's default link flags.
const DefaultLdflags = "-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}} -X main.builtBy=goreleaser"
