package sandboxtest

import (
	"errors"
	"os"
	"testing"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// scratch checks Spec.Scratch: each folder starts empty and is the build's
// to write, and what it holds counts against the disk limit.
func (s *suite) scratch(t *testing.T) {
	sp := s.spec(t, `test -z "$(ls -A /build/path)" && echo hi > /build/path/f && cd /build/path && pwd > /out/x && cat f >> /out/x`)
	sp.Scratch = []string{"/build/path"}
	res := mustRun(t, s, sp)
	if b, _ := os.ReadFile(res.Output); string(b) != "/build/path\nhi\n" {
		t.Errorf("output %q; want the scratch folder's path and what was written there", b)
	}
	assertOnlyKept(t, sp.RunDir)

	const limit = 64 << 20
	sp = s.probeSpec(t, "/probe/probe fill 200000000 /build && echo > /out/x")
	sp.Scratch, sp.Disk = []string{"/build"}, limit
	if _, err := s.run(t, sp); !errors.Is(err, sandbox.ErrDiskLimit) {
		t.Errorf("filling a scratch folder past a %d byte disk: got %v; want ErrDiskLimit", limit, err)
	}
	assertOnlyKept(t, sp.RunDir)
}
