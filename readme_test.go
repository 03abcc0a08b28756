package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const (
	helpBegin = "<!-- BEGIN reprove --help: generated from the binary; REPROVE_UPDATE_README=1 go test -run TestREADMEHelp . rewrites it -->"
	helpEnd   = "<!-- END reprove --help -->"
)

// TestREADMEHelp: the README's reference of every command's --help is the
// binary's own, so the two cannot drift apart. REPROVE_UPDATE_README=1
// rewrites it.
func TestREADMEHelp(t *testing.T) {
	var b strings.Builder
	b.WriteString(helpBegin + "\n\n")
	paths := append([][]string{nil}, helpPaths(newApp(&runState{}).Commands, nil)...)
	for _, p := range paths {
		args := append(append([]string(nil), p...), "--help")
		cmd := exec.Command(reproveBin(t), args...)
		// No environment variable may show up as a default.
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/nonexistent", "NO_COLOR=1"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("reprove %s: %v", strings.Join(args, " "), err)
		}
		b.WriteString("```\n$ reprove " + strings.Join(args, " ") + "\n" + strings.TrimRight(string(out), "\n") + "\n```\n\n")
	}
	b.WriteString(helpEnd)
	want := b.String()

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(readme, []byte(helpBegin)), bytes.Index(readme, []byte(helpEnd))
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q … %q block", helpBegin, helpEnd)
	}
	got := string(readme[i : j+len(helpEnd)])
	if got == want {
		return
	}
	if os.Getenv("REPROVE_UPDATE_README") == "1" {
		updated := append(append(append([]byte(nil), readme[:i]...), want...), readme[j+len(helpEnd):]...)
		if err := os.WriteFile("README.md", updated, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md updated")
		return
	}
	t.Errorf("README.md's --help reference differs from the binary's; run REPROVE_UPDATE_README=1 go test -run TestREADMEHelp .\nwant:\n%s", want)
}
