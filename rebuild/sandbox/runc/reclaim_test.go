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
	Root  string
	Cache string
	Spec  sandbox.Spec
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
	r, err := runc.New(runc.Options{CacheDir: h.Cache, Root: h.Root})
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

// leftovers counts the runc containers in root and the mounts under runDir.
func leftovers(t *testing.T, root, runDir string) (containers, mounts int) {
	t.Helper()
	out, err := exec.Command("runc", "--root", root, "list", "-q").Output()
	if err != nil {
		t.Fatalf("runc list: %v", err)
	}
	containers = len(strings.Fields(string(out)))
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], runDir+"/") {
			mounts++
		}
	}
	return containers, mounts
}

// A build whose reprove process is SIGKILLed leaves its container running and
// its overlay mounted; the next NewRunc or Reclaim removes both and the
// bundle, while a build still running, in the same state folder, is left
// alone and finishes.
func TestReclaimAfterKill(t *testing.T) {
	e := newEnv(t)
	dead := e.spec(t, "touch /out/started; exec sleep 300")
	dead.Timeout = 10 * time.Minute
	raw, err := json.Marshal(reclaimHelper{Root: e.root, Cache: e.cache, Spec: dead})
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
	waitFor(t, filepath.Join(dead.RunDir, "out", "started"), "the helper's build")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if c, m := leftovers(t, e.root, dead.RunDir); c != 1 || m != 1 {
		t.Fatalf("after SIGKILL: %d containers and %d mounts left (want 1 and 1, or this test proves nothing); helper said:\n%s", c, m, helperOut.String())
	}

	// A live build in the same state folder, started after the kill.
	live := e.spec(t, "touch /out/started; sleep 2; echo ok > /out/x")
	liveErr := make(chan error, 1)
	go func() {
		_, err := e.r.Run(context.Background(), live)
		liveErr <- err
	}()
	waitFor(t, filepath.Join(live.RunDir, "out", "started"), "the live build")

	done, err := e.r.Reclaim()
	if err != nil {
		t.Fatalf("Reclaim: %v", err)
	}
	got := strings.Join(done, "\n")
	for _, want := range []string{"container reprove-", "mount " + dead.RunDir + "/.bundle-", "bundle " + dead.RunDir + "/.bundle-"} {
		if !strings.Contains(got, want) {
			t.Errorf("Reclaim reported %q; want an entry starting %q", done, want)
		}
	}
	if strings.Contains(got, live.RunDir) || len(done) != 3 {
		t.Errorf("Reclaim reported %q; want exactly the killed run's container, mount and bundle", done)
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
