package runc_test

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
	"github.com/reprove/reprove/rebuild/sandbox/runc"
)

const reclaimHelperEnv = "REPROVE_RECLAIM_HELPER"

type reclaimHelper struct {
	Opts runc.Options
	Spec sandbox.Spec
}

// TestReclaimHelper is the reprove process TestReclaimAfterKill kills: it
// starts a build and is SIGKILLed while the build runs.
func TestReclaimHelper(t *testing.T) {
	raw := os.Getenv(reclaimHelperEnv)
	if raw == "" {
		t.Skip("the process TestReclaimAfterKill starts and kills")
	}
	var h reclaimHelper
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		t.Fatal(err)
	}
	r, err := runc.New(h.Opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Run(context.Background(), h.Spec)
	t.Fatalf("Run returned (%v) before the helper was killed", err)
}

// waitFor polls until p exists.
func waitFor(t *testing.T, p string, what string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := os.Stat(p); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: %s never appeared", what, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mountsUnder counts the mounts at or below dir.
func mountsUnder(t *testing.T, dir string) int {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			n++
		}
	}
	return n
}

// A build whose reprove process is SIGKILLed dies (its watchdog kills it)
// but leaves its staged mounts, disk and bundle; the next New or Reclaim
// removes them, while a build still running, with the same folders, is
// left alone and finishes.
func TestReclaimAfterKill(t *testing.T) {
	e := newEnv(t)
	marks := t.TempDir()
	dead := e.spec(t, "touch /w/dead-started; exec sleep 300")
	dead.Mounts = []sandbox.Mount{{Source: marks, Dest: "/w", Writable: true}}
	dead.Timeout = 10 * time.Minute
	raw, err := json.Marshal(reclaimHelper{Opts: e.opts, Spec: dead})
	if err != nil {
		t.Fatal(err)
	}
	var helperOut bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestReclaimHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), reclaimHelperEnv+"="+string(raw))
	cmd.Stdout, cmd.Stderr = &helperOut, &helperOut
	// Cleanups run last first: kill the helper, then take down what it left
	// even when an assertion below stopped the test.
	t.Cleanup(func() { e.r.Reclaim() })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, filepath.Join(marks, "dead-started"), "the helper's build")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if n := mountsUnder(t, e.opts.BundleDir); n == 0 {
		t.Fatalf("after SIGKILL no staged mount is left (want some, or this test proves nothing); helper said:\n%s", helperOut.String())
	}

	// A live build with the same folders, started after the kill.
	live := e.spec(t, "touch /w/live-started; sleep 2; echo ok > /out/x")
	live.Mounts = dead.Mounts
	liveErr := make(chan error, 1)
	go func() {
		_, err := e.r.Run(context.Background(), live)
		liveErr <- err
	}()
	waitFor(t, filepath.Join(marks, "live-started"), "the live build")

	done, err := e.r.Reclaim()
	if err != nil {
		t.Fatalf("Reclaim: %v", err)
	}
	got := strings.Join(done, "\n")
	for _, want := range []string{"disk " + dead.RunDir + "/.disk-reprove-", "bundle " + e.opts.BundleDir + "/.bundle-"} {
		if !strings.Contains(got, want) {
			t.Errorf("Reclaim reported %q; want an entry starting %q", done, want)
		}
	}
	if strings.Contains(got, live.RunDir) || strings.Count(got, "bundle ") != 1 {
		t.Errorf("Reclaim reported %q; want exactly the killed run's disk and bundle", done)
	}

	if err := <-liveErr; err != nil {
		t.Fatalf("the live build, running while Reclaim ran: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(live.RunDir, "out", "x")); string(b) != "ok\n" {
		t.Errorf("live build output %q, want ok", b)
	}
	e.assertClean(t, dead.RunDir)
	e.assertClean(t, live.RunDir)
	if done, err := e.r.Reclaim(); err != nil || len(done) != 0 {
		t.Errorf("second Reclaim: %q, %v; want nothing to do", done, err)
	}
}
