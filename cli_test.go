package main

// The command line as a user meets it: exit codes, usage errors, flags
// anywhere, checks before the build, evidence for every outcome, help and
// completion. Each runs the built binary.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/report"
)

// cliFiles makes the files the command-line tests name.
type cliFiles struct {
	dir                                 string
	badManifest, fetchFails, notGo, key string
	pub, result, vsa                    string
}

func newCLIFiles(t *testing.T) cliFiles {
	t.Helper()
	dir := t.TempDir()
	f := cliFiles{dir: dir}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.badManifest = write("bad.yaml", "apiVersion: reprove/v1\nname: bad\nnmae: typo\n")
	// Valid, but its artifact is on a port nothing listens on.
	f.fetchFails = write("fetch.yaml", `apiVersion: reprove/v1
name: unreachable
artifact:
  uri: https://127.0.0.1:1/hello.tar.gz
  digest: sha256:e5404382a78edea0990f1838f9c9724211e0508723f16fd187ce7bbf3eeddd77
builder:
  image: oci-layout:image@sha256:2a34f23bfcdef3115f8600884c58a2178c6651c3f654537278f2713fd6664b98
build:
  script: "true"
  output: /out/hello.tar.gz
`)
	f.notGo = write("not-go.bin", "plain bytes, no Go build info\n")
	f.key, f.pub = filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub")
	if err := report.GenerateKey(f.key, f.pub); err != nil {
		t.Fatal(err)
	}
	f.result = write("result.json", "{not json")
	f.vsa = write("vsa.json", `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"x","sig":"AAAA"}]}`)
	return f
}

// TestExitCodesAndUsageErrors runs every command over every class of
// error it can end with: the exit code is the README's, stdout stays
// empty, and a usage error is one line on stderr pointing at --help.
func TestExitCodesAndUsageErrors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("verify builds its runc backend first, which needs root")
	}
	f := newCLIFiles(t)
	a := filepath.Join("fixtures", "hello", "published", "hello-1.0.tar.gz")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	tests := []struct {
		name  string
		args  []string
		code  int
		usage string // for a usage error: the command whose --help is pointed at
		want  string // on stderr
	}{
		{"no command", nil, 2, "reprove", "no command given"},
		{"unknown command", []string{"frobnicate"}, 2, "reprove", `unknown command "frobnicate"`},
		{"mistyped command", []string{"verfy", "x"}, 2, "reprove", `did you mean "verify"?`},
		{"unknown global flag", []string{"--bogus"}, 2, "reprove", "unknown flag --bogus"},

		{"verify: unknown flag", []string{"verify", "--bogus", "x"}, 2, "reprove verify", "unknown flag --bogus"},
		{"verify: no argument", []string{"verify"}, 2, "reprove verify", "got 0 arguments"},
		{"verify: two arguments", []string{"verify", "a", "b"}, 2, "reprove verify", "got 2 arguments"},
		{"verify: flag without value", []string{"verify", "x", "--json"}, 2, "reprove verify", "flag --json needs a value"},
		{"verify: bad number", []string{"verify", "--max-depth", "x", "m"}, 2, "reprove verify", `--max-depth "x"`},
		{"verify: zero limit", []string{"verify", "--max-entries", "0", f.badManifest}, 2, "reprove verify", "--max-entries 0: give a number above 0"},
		{"verify: unknown normalization", []string{"verify", "--normalize", "nope", f.badManifest}, 2, "reprove verify", `unknown normalization "nope"`},
		{"verify: unknown backend", []string{"verify", "--backend", "lxc", f.badManifest}, 2, "reprove verify", `--backend "lxc" is not available`},
		{"verify: bad --replace-source", []string{"verify", "--replace-source", "x", f.badManifest}, 2, "reprove verify", "write OLD=NEW"},
		{"verify: output folder missing", []string{"verify", "--html", "/nonexistent/x.html", f.badManifest}, 2, "reprove verify", "--html /nonexistent/x.html: the folder /nonexistent does not exist"},
		{"verify: public key to --sign-key", []string{"verify", "--attestation", filepath.Join(f.dir, "a.json"), "--sign-key", f.pub, f.badManifest}, 2, "reprove verify", `holds a "PUBLIC KEY" PEM block`},
		{"verify: attestation without key", []string{"verify", "--attestation", filepath.Join(f.dir, "a.json"), f.badManifest}, 2, "reprove verify", "need --sign-key"},
		{"verify: two reports on stdout", []string{"verify", "--json", "-", "--html", "-", f.badManifest}, 2, "reprove verify", "only one report can go to stdout"},
		{"verify: bad manifest", []string{"verify", f.badManifest}, 2, "", "nmae: unknown field"},
		{"verify: no such artifact", []string{"verify", filepath.Join(f.dir, "missing")}, 2, "", "no such file"},
		{"verify: nothing to infer", []string{"verify", f.notGo}, 2, "", "no Go build info"},
		{"verify: fetch failure", []string{"verify", f.fetchFails}, 3, "", "127.0.0.1:1"},

		{"init: unknown flag", []string{"init", "--bogus", "x"}, 2, "reprove init", "unknown flag --bogus"},
		{"init: no argument", []string{"init"}, 2, "reprove init", "got 0 arguments"},
		{"init: output exists", []string{"init", "-o", f.notGo, f.notGo}, 2, "reprove init", "pass --force"},
		{"init: nothing to infer", []string{"init", f.notGo}, 2, "", "no Go build info"},
		{"init: fetch failure", []string{"init", srv.URL + "/artifact"}, 3, "", "503"},

		{"image: no subcommand", []string{"image"}, 2, "reprove image", "image needs a command: build"},
		{"image build: no argument", []string{"image", "build", "-o", filepath.Join(f.dir, "img")}, 2, "reprove image build", "got 0 arguments"},
		{"image build: no output", []string{"image", "build", "shell"}, 2, "reprove image build", "--output is required"},
		{"image build: bad epoch", []string{"image", "build", "-o", filepath.Join(f.dir, "img"), "--source-date-epoch", "yesterday", "shell"}, 2, "reprove image build", `--source-date-epoch "yesterday"`},
		{"image build: unknown recipe", []string{"image", "build", "-o", filepath.Join(f.dir, "img"), "nope"}, 2, "", "bad recipe"},
		{"image build: bad recipe", []string{"image", "build", "-o", filepath.Join(f.dir, "img"), f.notGo}, 2, "", "bad recipe"},

		{"diff: unknown flag", []string{"diff", "--bogus", "a", "b"}, 2, "reprove diff", "unknown flag --bogus"},
		{"diff: one argument", []string{"diff", a}, 2, "reprove diff", "got 1 argument"},
		{"diff: missing file", []string{"diff", a, filepath.Join(f.dir, "missing")}, 2, "", "no such file"},
		{"diff: unknown format", []string{"diff", "--format", "yaml", a, a}, 2, "reprove diff", `--format "yaml"`},
		{"diff: flag that does nothing here", []string{"diff", "--cache-dir", f.dir, a, a}, 2, "reprove diff", "unknown flag --cache-dir"},

		{"report: no argument", []string{"report"}, 2, "reprove report", "got 0 arguments"},
		{"report: unreadable result", []string{"report", "--html", filepath.Join(f.dir, "r.html"), f.result}, 2, "", f.result},
		{"report: output folder missing", []string{"report", "--html", "/nonexistent/r.html", f.result}, 2, "reprove report", "/nonexistent does not exist"},

		{"key generate: no flags", []string{"key", "generate"}, 2, "reprove key generate", "--private is required"},
		{"key generate: key exists", []string{"key", "generate", "--private", f.key, "--public", filepath.Join(f.dir, "k2.pub")}, 2, "", f.key},
		{"key: no subcommand", []string{"key"}, 2, "reprove key", "key needs a command: generate"},
		{"key: unknown subcommand", []string{"key", "frob"}, 2, "reprove key", `unknown command "frob"`},

		{"attestation verify: no --key", []string{"attestation", "verify", f.vsa}, 2, "reprove attestation verify", "--key is required"},
		{"attestation verify: missing key file", []string{"attestation", "verify", "--key", filepath.Join(f.dir, "nope.pub"), f.vsa}, 2, "", "--key"},
		{"attestation verify: bad --expect", []string{"attestation", "verify", "--key", f.pub, "--expect", "OK", f.vsa}, 2, "reprove attestation verify", "use PASSED or FAILED"},
		{"attestation verify: invalid signature", []string{"attestation", "verify", "--key", f.pub, f.vsa}, 1, "", "attestation not valid"},

		{"completion: no shell", []string{"completion"}, 2, "reprove completion", "got 0 arguments"},
		{"completion: unknown shell", []string{"completion", "tcsh"}, 2, "reprove completion", `completion for "tcsh"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reprove(t, t.TempDir(), tt.args...)
			if r.code != tt.code {
				t.Errorf("reprove %q: exit %d, want %d\nstderr: %s", tt.args, r.code, tt.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("reprove %q wrote to stdout:\n%s", tt.args, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("reprove %q: stderr lacks %q:\n%s", tt.args, tt.want, r.stderr)
			}
			if strings.Contains(r.stderr, "USAGE:") || strings.Contains(r.stderr, "OPTIONS:") {
				t.Errorf("reprove %q printed the help:\n%s", tt.args, r.stderr)
			}
			if tt.usage == "" {
				return
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			want := regexp.MustCompile("^" + regexp.QuoteMeta(tt.usage+": ") + ".* \\(see '" + regexp.QuoteMeta(tt.usage) + " --help'\\)$")
			if len(lines) != 1 || !want.MatchString(lines[0]) {
				t.Errorf("reprove %q: want one line %q…(see '%s --help'), got:\n%s", tt.args, tt.usage+": ", tt.usage, r.stderr)
			}
		})
	}
}

// TestReorderArgsEveryCommand checks, from each registered command's own
// flag definitions, that a flag after the arguments is moved before them
// with its value, and that "--" keeps what follows as arguments.
func TestReorderArgsEveryCommand(t *testing.T) {
	app := newApp(&runState{})
	var walk func(path []string, cmds []*cli.Command)
	seen := 0
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(append([]string(nil), path...), c.Name)
			if len(c.Subcommands) > 0 {
				walk(p, c.Subcommands)
				continue
			}
			seen++
			for _, f := range c.Flags {
				name := dashes(f.Names()[0])
				if name == "--help" {
					continue
				}
				flag := []string{name}
				if df, ok := f.(cli.DocGenerationFlag); ok && df.TakesValue() {
					flag = append(flag, "-value")
				}
				in := append(append(append([]string{"reprove"}, p...), "ARG", "--", "-ARG2"), flag...)
				want := append(append(append([]string{"reprove"}, p...), "--", "ARG", "-ARG2"), flag...)
				if got := reorderArgs(app, in); !slices.Equal(got, want) {
					t.Errorf("after --: reorderArgs(%q) = %q, want %q", in, got, want)
				}
				in = append(append(append([]string{"reprove", "-q"}, p...), "ARG"), flag...)
				want = append(append(append([]string{"reprove", "-q"}, p...), flag...), "--", "ARG")
				if got := reorderArgs(app, in); !slices.Equal(got, want) {
					t.Errorf("reorderArgs(%q) = %q, want %q", in, got, want)
				}
			}
		}
	}
	walk(nil, app.Commands)
	if seen < 7 {
		t.Errorf("only %d commands walked", seen)
	}
}

// TestFlagsAnywhere runs each command with its flags after its arguments
// and checks the outcome is the flags-first form's.
func TestFlagsAnywhere(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("init builds nothing but verify's environment needs root")
	}
	f := newCLIFiles(t)
	a := filepath.Join("fixtures", "hello", "published", "hello-1.0.tar.gz")
	b := filepath.Join("fixtures", "hello-dated", "published", "hello-1.0.tar.gz")
	out := func(name string) string { return filepath.Join(f.dir, name) }
	for _, tc := range []struct {
		name         string
		first, after []string
		code         int
		file         string // written by both forms, compared
	}{
		{"diff", []string{"diff", "--format", "json", "-o", out("d1.json"), a, b}, []string{"diff", a, b, "--format", "json", "-o", out("d2.json")}, 1, "d%d.json"},
		{"verify", []string{"verify", "--json", out("v1.json"), f.badManifest}, []string{"verify", f.badManifest, "--json", out("v2.json")}, 2, "v%d.json"},
		{"init", []string{"init", "-o", out("i1.yaml"), f.notGo}, []string{"init", f.notGo, "-o", out("i2.yaml")}, 2, ""},
		{"report", []string{"report", "--markdown", out("r1.md"), out("d1.json")}, []string{"report", out("d1.json"), "--markdown", out("r2.md")}, 0, "r%d.md"},
		{"attestation verify", []string{"attestation", "verify", "--key", f.pub, f.vsa}, []string{"attestation", "verify", f.vsa, "--key", f.pub}, 1, ""},
		{"completion", []string{"completion", "--help"}, []string{"completion", "bash", "--help"}, 0, ""},
		{"key generate", []string{"key", "generate", "--private", out("k1.pem"), "--public", out("k1.pub")}, []string{"key", "generate", "--public", out("k2.pub"), "--private", out("k2.pem")}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r1 := reprove(t, t.TempDir(), tc.first...)
			r2 := reprove(t, t.TempDir(), tc.after...)
			if r1.code != tc.code || r2.code != tc.code {
				t.Fatalf("flags first: exit %d; flags after: exit %d; want %d\n%s\n%s", r1.code, r2.code, tc.code, r1.stderr, r2.stderr)
			}
			if tc.file == "" {
				return
			}
			b1, err1 := os.ReadFile(out(fmt.Sprintf(tc.file, 1)))
			b2, err2 := os.ReadFile(out(fmt.Sprintf(tc.file, 2)))
			if err1 != nil || err2 != nil || len(b1) == 0 {
				t.Fatalf("report not written by both forms: %v, %v", err1, err2)
			}
			if n1, n2 := bytes.Count(b1, []byte("\n")), bytes.Count(b2, []byte("\n")); n1 != n2 {
				t.Errorf("the two forms wrote reports of %d and %d lines", n1, n2)
			}
		})
	}
	// "--" ends the flags: files named like flags are arguments after it,
	// and a flag after it is an argument too.
	dir := t.TempDir()
	for _, n := range []string{"-x", "-y"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(reproveBin(t), "diff", "--format", "json", "--", "-x", "-y")
	cmd.Dir = dir
	if o, err := cmd.Output(); exitOf(err) != 1 || !json.Valid(o) {
		t.Errorf("diff --format json -- -x -y: exit %d (want 1), JSON %v", exitOf(err), json.Valid(o))
	}
	cmd = exec.Command(reproveBin(t), "diff", "--", "-x", "-y", "--format", "json")
	cmd.Dir = dir
	if o, err := cmd.CombinedOutput(); exitOf(err) != 2 || !strings.Contains(string(o), "got 4 arguments") {
		t.Errorf("diff -- -x -y --format json: exit %d (want 2, four arguments)\n%s", exitOf(err), o)
	}
}

func exitOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// helpPaths lists every command path of the app: "verify", "key generate".
func helpPaths(cmds []*cli.Command, prefix []string) [][]string {
	var out [][]string
	for _, c := range cmds {
		p := append(append([]string(nil), prefix...), c.Name)
		out = append(out, p)
		out = append(out, helpPaths(c.Subcommands, p)...)
	}
	return out
}

// TestHelpEveryCommand: each command's help has examples, a typed
// placeholder for every flag that takes a value, and none of the flags
// that would do nothing for it.
func TestHelpEveryCommand(t *testing.T) {
	app := newApp(&runState{})
	untyped := regexp.MustCompile(`--[a-z-]+ value\b`)
	notHere := map[string][]string{
		"diff":               {"--cache-dir", "--quiet", "--backend"},
		"report":             {"--cache-dir", "--quiet", "--max-depth"},
		"key generate":       {"--cache-dir", "--no-color", "--quiet"},
		"attestation verify": {"--cache-dir", "--no-color", "--quiet"},
		"completion":         {"--cache-dir", "--no-color", "--quiet"},
		"init":               {"--no-color", "--json", "--backend"},
	}
	for _, p := range helpPaths(app.Commands, nil) {
		r := reprove(t, t.TempDir(), append(p, "--help")...)
		name := strings.Join(p, " ")
		if r.code != 0 {
			t.Errorf("%s --help: exit %d\n%s", name, r.code, r.stderr)
		}
		if m := untyped.FindString(r.stdout); m != "" {
			t.Errorf("%s --help shows a placeholder that says nothing: %q", name, m)
		}
		if !strings.Contains(r.stdout, "EXAMPLES:\n   reprove "+name) && name != "key" && name != "attestation" {
			t.Errorf("%s --help has no EXAMPLES section of its own:\n%s", name, r.stdout)
		}
		for _, f := range notHere[name] {
			if strings.Contains(r.stdout, f+" ") || strings.Contains(r.stdout, f+",") {
				t.Errorf("%s --help lists %s, which does nothing for it", name, f)
			}
		}
	}
	if r := reprove(t, t.TempDir(), "--help"); !strings.Contains(r.stdout, "completion") || !strings.Contains(r.stdout, "Flags may come before or after the arguments") {
		t.Errorf("reprove --help lacks the completion command or the flag rule:\n%s", r.stdout)
	}
}

// TestCompletion sources the bash script in a bash subprocess and completes
// as a user would press TAB; zsh and fish get scripts of their own.
func TestCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	r := reprove(t, t.TempDir(), "completion", "bash")
	if r.code != 0 {
		t.Fatalf("completion bash: exit %d\n%s", r.code, r.stderr)
	}
	script := filepath.Join(t.TempDir(), "reprove.bash")
	if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string // what was typed before TAB
		want string // the completions, space-separated
	}{
		{"reprove ver", "verify"},
		{"reprove ", "verify batch init image diff report history cache key attestation completion"},
		{"reprove image build --so", "--source-date-epoch"},
		{"reprove key g", "generate"},
		{"reprove attestation verify --k", "--key"},
		{"reprove verify --js", "--json"},
		{"reprove verify m.yaml --sign", "--sign-key"},
		{"reprove diff --cache", ""},
	} {
		words := strings.Fields(tc.line)
		cword := len(words)
		if strings.HasSuffix(tc.line, " ") {
			words = append(words, "")
		} else {
			cword--
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := fmt.Sprintf(`source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _reprove; echo "${COMPREPLY[*]}"; complete -p reprove`,
			script, strings.Join(quoted, " "), cword)
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if got := strings.TrimSpace(lines[0]); got != tc.want {
			t.Errorf("%q<TAB>: completions %q, want %q", tc.line, got, tc.want)
		}
		if !strings.Contains(lines[len(lines)-1], "-F _reprove reprove") {
			t.Errorf("the script does not register the completion: %s", out)
		}
	}
	if r := reprove(t, t.TempDir(), "completion", "zsh"); r.code != 0 || !strings.Contains(r.stdout, "#compdef reprove") || !strings.Contains(r.stdout, "bashcompinit") {
		t.Errorf("completion zsh: exit %d\n%s", r.code, r.stdout)
	}
	if r := reprove(t, t.TempDir(), "completion", "fish"); r.code != 0 || !strings.Contains(r.stdout, "complete -c reprove") || !strings.Contains(r.stdout, "-a 'verify'") {
		t.Errorf("completion fish: exit %d\n%s", r.code, r.stdout)
	}
}

// TestCIRunSetsCI runs .ci/run, with scripts/test.sh replaced by a stub,
// from an environment without CI: the script itself must set CI=true, or a
// runner that does not would silently skip the container tests.
func TestCIRunSetsCI(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{".ci", "scripts"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run, err := os.ReadFile(filepath.Join(".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, ".ci", "run"), run, 0o755); err != nil {
		t.Fatal(err)
	}
	stub := "#!/usr/bin/env bash\necho \"CI=${CI:-unset}\"\n"
	if err := os.WriteFile(filepath.Join(root, "scripts", "test.sh"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(root, ".ci", "run"))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CI=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "CI=true" {
		t.Errorf(".ci/run without CI in its environment ran scripts/test.sh with %q (%v); want CI=true", out, err)
	}
}

// TestChecksBeforeFetch: an output that cannot be written, a public key
// given to --sign-key or a bad flag value stop verify before anything is
// fetched or built (the cache stays empty), with exit 2 and the evidence
// written to the outputs that can be.
func TestChecksBeforeFetch(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	f := newCLIFiles(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unwritable output", []string{"--html", "/nonexistent/r.html"}, "the folder /nonexistent does not exist"},
		{"public key to sign with", []string{"--attestation", filepath.Join(f.dir, "vsa.json"), "--sign-key", f.pub}, `"PUBLIC KEY"`},
		{"zero limit", []string{"--max-unpack-size", "0"}, "--max-unpack-size 0"},
		{"unknown normalization", []string{"--normalize", "tar-mtimes"}, `unknown normalization "tar-mtimes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache, js := t.TempDir(), filepath.Join(t.TempDir(), "r.json")
			r := reprove(t, cache, append([]string{"verify", m, "--json", js}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s", r.code, tc.want, r.stderr)
			}
			if ents, _ := os.ReadDir(cache); len(ents) != 0 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("the cache is not empty after a refused command line: %v", names)
			}
			res := readResult(t, js)
			if res.Verdict != report.Error || res.ErrorClass != "usage" {
				t.Errorf("JSON: verdict %s, class %q; want an error of class usage", res.Verdict, res.ErrorClass)
			}
		})
	}
}
