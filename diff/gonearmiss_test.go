package diff

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goBinary builds a small Go program in dir with the go build flags given.
func goBinary(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	files := map[string]string{
		"go.mod":  "module example.com/nm\n\ngo 1.22\n",
		"main.go": "package main\n\nvar commit = \"none\"\n\nfunc main() { println(\"hello\", commit) }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "nm")
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// nearMiss finds the go-near-miss node of a comparison.
func nearMiss(t *testing.T, a, b string) (*Node, *Summary) {
	t.Helper()
	s, err := Run(context.Background(), a, b, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var found *Node
	var walk func(n *Node)
	walk = func(n *Node) {
		if n.Format == "go-near-miss" {
			found = n
		}
		for _, c := range n.Details {
			walk(c)
		}
	}
	walk(s.Root)
	if found == nil {
		t.Fatalf("no go-near-miss node in the comparison of %s and %s", a, b)
	}
	return found, s
}

// A stripped Go binary with a commit stamped by -X against one without:
// the string is named, and the shifted .rodata is not blamed on
// random-looking identifiers.
func TestGoNearMissStampedString(t *testing.T) {
	const rev = "2f9befa593a417118f589bb92065d6870fb35fa5"
	dir := t.TempDir()
	a := goBinary(t, dir, "-trimpath", "-ldflags=-s -w -X main.commit="+rev)
	b := goBinary(t, dir, "-trimpath", "-ldflags=-s -w")
	n, s := nearMiss(t, a, b)
	want := `stamped string only in ` + a + `: "` + rev + `"`
	if !strings.Contains(strings.Join(n.Comments, "\n"), want) {
		t.Errorf("comments %q lack %s", n.Comments, want)
	}
	for _, c := range s.Causes {
		if c.ID == CauseRandomIDs {
			t.Errorf("causes %v: the shift a stamped string makes is blamed on random-looking identifiers", s.Causes)
		}
	}
	if len(s.Causes) == 0 || s.Causes[0].ID != CauseGoStampedString || len(s.Causes[0].Evidence) == 0 || s.Causes[0].Evidence[0] != want {
		t.Errorf("causes %+v: want %s first, with the evidence %s", s.Causes, CauseGoStampedString, want)
	}
}

// The same program built without -trimpath in two folders: the folders are
// named.
func TestGoNearMissBuildPath(t *testing.T) {
	base := t.TempDir()
	da, db := filepath.Join(base, "home", "x", "src"), filepath.Join(base, "tmp", "src")
	for _, d := range []string{da, db} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := nearMiss(t, goBinary(t, da), goBinary(t, db))
	want := "build path differs: " + da + " vs " + db
	if !strings.Contains(strings.Join(n.Comments, "\n"), want) {
		t.Errorf("comments %q lack %q", n.Comments, want)
	}
	if !hasCause(n, CauseBuildPath) || len(n.Evidence) == 0 || n.Evidence[0].Text != "build path: "+da+" → "+db {
		t.Errorf("causes %v evidence %v: want build-path with the evidence build path: %s → %s", n.Causes, n.Evidence, da, db)
	}
}

func TestBuildPathDiffs(t *testing.T) {
	a := []string{"/home/x/src/cmd/hello/main.go", "/home/x/src/internal/v/v.go", "/usr/local/go/src/runtime/proc.go", "/same/a.go"}
	b := []string{"/opt/go/src/runtime/proc.go", "/same/a.go", "/tmp/src/cmd/hello/main.go", "/tmp/src/internal/v/v.go"}
	got := buildPathDiffs(a, b)
	want := [][2]string{{"/home/x/src", "/tmp/src"}, {"/usr/local/go", "/opt/go"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("buildPathDiffs = %q, want %q", got, want)
	}
}

// FuzzBuildPathDiffs: file names come from an untrusted binary; pairing
// them never panics and reports at most nearMissMaxShown pairs.
func FuzzBuildPathDiffs(f *testing.F) {
	f.Add("/home/x/src/main.go\x00/a/b.go", "/tmp/src/main.go\x00/a/b.go")
	f.Add("/"+strings.Repeat("a/", 40)+"x.go", "/"+strings.Repeat("b/", 40)+"x.go")
	f.Add("//", "/")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got := buildPathDiffs(strings.Split(a, "\x00"), strings.Split(b, "\x00")); len(got) > nearMissMaxShown {
			t.Fatalf("%d pairs", len(got))
		}
	})
}
