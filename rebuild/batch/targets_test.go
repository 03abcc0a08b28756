package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const manifestBody = `apiVersion: reprove/v1
name: %s
artifact: {uri: file:a, digest: sha256:0000000000000000000000000000000000000000000000000000000000000000}
builder: {image: oci-layout:img@sha256:0000000000000000000000000000000000000000000000000000000000000000}
build: {script: "true", output: /out/a}
`

func writeManifest(t *testing.T, p, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(manifestBody, "%s", name, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	writeManifest(t, filepath.Join(dir, "nightly", "b.yaml"), "beta")
	writeManifest(t, filepath.Join(dir, "nightly", "a.yml"), "alpha")
	os.WriteFile(filepath.Join(dir, "nightly", "notes.md"), []byte("not a manifest"), 0o644)
	os.WriteFile(filepath.Join(dir, "nightly", "data.json"), []byte(`{"x": 1}`), 0o644) // json, but not a manifest
	writeManifest(t, filepath.Join(dir, "one", "reprove.yaml"), "gamma")
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("apiVersion: reprove/v1\nname: [\n"), 0o644)
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte("# nightly targets\none/reprove.yaml\n\ngomod:example.com/x@v1.0.0#bin/x   # a member, then a comment\nnightly/a.yml\n"), 0o644)

	got, err := Expand([]string{filepath.Join(dir, "nightly"), list, filepath.Join(dir, "bad.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Ref, Name string }
	var rows []row
	for _, tg := range got {
		rows = append(rows, row{strings.TrimPrefix(tg.Ref, dir+"/"), tg.Name})
	}
	want := []row{
		{"nightly/a.yml", "alpha"},
		{"nightly/b.yaml", "beta"},
		{"one/reprove.yaml", "gamma"},
		{"gomod:example.com/x@v1.0.0#bin/x", "x"},
		{"bad.yaml", "bad"},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("targets (-want +got):\n%s", d)
	}
	if got[4].Err == nil || !strings.Contains(got[4].Err.Error(), "bad.yaml") {
		t.Errorf("a broken manifest is a target carrying its error, got %v", got[4].Err)
	}
	if !strings.HasPrefix(got[0].Key, "sha256:") || got[3].Key != "gomod:example.com/x@v1.0.0#bin/x" {
		t.Errorf("keys: %q, %q; want a manifest digest and the artifact reference", got[0].Key, got[3].Key)
	}
	if _, err := Expand(nil); err == nil {
		t.Error("Expand of nothing: want ErrNoTargets")
	}
}

func TestFolderNames(t *testing.T) {
	got := folderNames([]Target{{Name: "hello"}, {Name: "hello"}, {Name: "../etc"}, {Name: ".hidden"}, {Name: "a/b"}})
	want := []string{"hello", "hello-2", "target.._etc", "target.hidden", "a_b"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("folder names (-want +got):\n%s", d)
	}
}
