package sandboxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// helperEnv carries the Spec the helper process of parentKilled runs.
const helperEnv = "REPROVE_SANDBOXTEST_HELPER"

// runHelper is the reprove stand-in parentKilled SIGKILLs: it runs the
// build and never returns on its own.
func runHelper(t *testing.T, cfg Config) {
	var spec sandbox.Spec
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &spec); err != nil {
		t.Fatal(err)
	}
	_, err := cfg.New(t).Run(context.Background(), spec)
	t.Fatalf("Run returned (%v) before the helper was killed", err)
}

// parentKilled SIGKILLs the process running a build and checks the build
// dies within 5 seconds. The build writes a heartbeat to a writable mount
// every 100 ms; once it is dead the heartbeat stops.
func (s *suite) parentKilled(t *testing.T) {
	hb := t.TempDir()
	sp := s.probeSpec(t, "/probe/probe heartbeat /hb/beat")
	sp.Mounts = append(sp.Mounts, sandbox.Mount{Source: hb, Dest: "/hb", Writable: true})
	sp.Timeout = 10 * time.Minute
	raw, err := json.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	top := strings.SplitN(t.Name(), "/", 2)[0]
	var helperOut bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^"+top+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(raw))
	cmd.Stdout, cmd.Stderr = &helperOut, &helperOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: kill the helper, then let a new backend
	// reclaim what it left.
	t.Cleanup(func() { s.cfg.New(t) })
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	beat := filepath.Join(hb, "beat")
	waitBeating(t, beat, &helperOut)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed := time.Now()
	for last, since := read(beat), time.Now(); ; {
		time.Sleep(100 * time.Millisecond)
		if now := read(beat); now != last {
			last, since = now, time.Now()
		}
		if time.Since(since) > time.Second {
			t.Logf("heartbeat stopped %s after the kill", since.Sub(killed).Round(100*time.Millisecond))
			return
		}
		if time.Since(killed) > 6*time.Second {
			t.Fatalf("the build still writes its heartbeat (%q) %s after its parent was SIGKILLed; want it dead within 5 s", last, time.Since(killed).Round(time.Second))
		}
	}
}

func read(p string) string { b, _ := os.ReadFile(p); return string(b) }

// waitBeating waits until the heartbeat file exists and changes.
func waitBeating(t *testing.T, p string, out *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	first := ""
	for time.Now().Before(deadline) {
		if v := read(p); v != "" {
			if first == "" {
				first = v
			} else if v != first {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the helper's build never started beating (%s); helper said:\n%s", p, out.String())
}
