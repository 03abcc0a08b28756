package sandbox_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunOnLogLine: Spec.OnLogLine sees each line the build writes, from
// stdout and stderr in the order written, while the log gets them all.
func TestRunOnLogLine(t *testing.T) {
	e := newEnv(t)
	s := e.spec(t, "echo out1; echo err1 >&2; echo out2; printf last >&2; echo ok > /out/x")
	var mu sync.Mutex
	var lines []string
	s.OnLogLine = func(l string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, l)
	}
	res, err := e.r.Run(context.Background(), s)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := cmp.Diff([]string{"out1", "err1", "out2", "last"}, lines); d != "" {
		t.Errorf("OnLogLine lines (-want +got):\n%s", d)
	}
	log, err := os.ReadFile(res.Log)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(log), "out1\nerr1\nout2\nlast"; got != want {
		t.Errorf("build log %q, want %q", got, want)
	}
}
