// Package sandboxtest is the conformance suite every sandbox.Backend
// passes, as go-containerregistry's validate package is for images: a
// backend's tests call Run with a way to make the backend, and the same
// builds and attacks run against runc as root, runc rootless and any
// backend added later.
//
// Most checks run a probe program (./probe: Go, static, built by the suite)
// inside a build. It tries each attack for real and reports the errno it
// got; the suite asserts the specific errno (EPERM, EROFS, ECONNREFUSED,
// ENOSPC…), never merely that the build failed.
package sandboxtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// Config says how to make the backend under test.
type Config struct {
	// New makes the backend. It is called once per check, and again in
	// the helper process the parent-death check kills.
	New func(t testing.TB) sandbox.Backend
}

// Run runs every check against the backend. In the helper process of the
// parent-death check (see helperEnv) it runs that helper's build instead
// and never returns.
func Run(t *testing.T, cfg Config) {
	if os.Getenv(helperEnv) != "" {
		runHelper(t, cfg)
		return
	}
	Need(t, false)
	s := &suite{cfg: cfg}
	s.layout, s.digest = Image(t)
	s.probe = Probe(t)
	for _, c := range []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Outputs", s.outputs},
		{"Environment", s.environment},
		{"LogOrder", s.logOrder},
		{"LogTail", s.logTail},
		{"Failures", s.failures},
		{"DefaultLimits", s.defaultLimits},
		{"LimitsBite", s.limitsBite},
		{"Probe", s.probeChecks},
		{"Chroot", s.chroot},
		{"Keyring", s.keyring},
		{"DiskLimit", s.diskLimit},
		{"Scratch", s.scratch},
		{"ParentKilled", s.parentKilled},
	} {
		t.Run(c.name, c.fn)
	}
}

// Need skips t unless runc is installed and, when root is set, the test
// runs as root; on CI (CI=true), where these tests must run, it fails
// instead.
func Need(t testing.TB, root bool) {
	t.Helper()
	why := ""
	if _, err := exec.LookPath("runc"); err != nil {
		why = "runc not installed (apt-get install -y runc)"
	} else if root && os.Geteuid() != 0 {
		why = "not root: the test runs containers as root"
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

type suite struct {
	cfg            Config
	layout, digest string
	probe          string // host folder holding the probe binary
}

// spec is a build of script in a fresh run folder, 60 s at most.
func (s *suite) spec(t *testing.T, script string) sandbox.Spec {
	return sandbox.Spec{
		ImageLayout: s.layout, ImageDigest: s.digest,
		RunDir: filepath.Join(t.TempDir(), "run"),
		Script: script, Output: "/out/x", Timeout: 60 * time.Second,
	}
}

// probeSpec is a build that can run /probe/probe.
func (s *suite) probeSpec(t *testing.T, script string) sandbox.Spec {
	sp := s.spec(t, script)
	sp.Mounts = []sandbox.Mount{{Source: s.probe, Dest: "/probe"}}
	return sp
}

func (s *suite) run(t *testing.T, spec sandbox.Spec) (*sandbox.Result, error) {
	t.Helper()
	return s.cfg.New(t).Run(context.Background(), spec)
}

func mustRun(t *testing.T, s *suite, spec sandbox.Spec) *sandbox.Result {
	t.Helper()
	res, err := s.run(t, spec)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}
