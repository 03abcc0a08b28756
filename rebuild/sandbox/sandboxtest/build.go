package sandboxtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/reprove/reprove/rebuild/image/imagetest"
)

// ImageEnv, when set to LAYOUT@DIGEST, names the builder image to use
// instead of building one (the rootless re-run passes the parent's).
const ImageEnv = "REPROVE_SANDBOXTEST_IMAGE"

var (
	imageOnce             sync.Once
	imageLayout, imageDig string
	imageErr              error

	probeOnce sync.Once
	probeDir  string
	probeErr  error
)

// Image is the busybox builder image, built once per test binary and
// machine with reprove's image builder (imagetest: its .debs kept under
// REPROVE_TEST_DEBS), copied to a world-readable folder so that an
// ordinary user's re-run can use it.
func Image(t testing.TB) (layout, digest string) {
	t.Helper()
	if v := os.Getenv(ImageEnv); v != "" {
		l, d, _ := strings.Cut(v, "@")
		return l, d
	}
	built, dig := imagetest.Build(t, imagetest.Busybox)
	imageOnce.Do(func() {
		dir, err := sharedTemp("sandboxtest-image-")
		if err != nil {
			imageErr = err
			return
		}
		imageLayout, imageDig = filepath.Join(dir, "layout"), dig
		if imageErr = os.CopyFS(imageLayout, os.DirFS(built)); imageErr == nil {
			imageErr = WorldReadable(dir)
		}
	})
	if imageErr != nil {
		t.Fatalf("copying the busybox test image: %v", imageErr)
	}
	return imageLayout, imageDig
}

// Probe builds the probe program (static: CGO_ENABLED=0) once per test
// binary and returns the world-readable folder holding it.
func Probe(t testing.TB) string {
	t.Helper()
	if v := os.Getenv(ProbeEnv); v != "" {
		return v
	}
	probeOnce.Do(func() {
		probeDir, probeErr = sharedTemp("sandboxtest-probe-")
		if probeErr != nil {
			return
		}
		_, self, _, _ := runtime.Caller(0)
		src := filepath.Join(filepath.Dir(self), "probe")
		cmd := exec.Command(goTool(), "build", "-trimpath", "-o", filepath.Join(probeDir, "probe"), ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			probeErr = &buildError{err: err, out: string(out)}
			return
		}
		probeErr = WorldReadable(probeDir)
	})
	if probeErr != nil {
		t.Fatalf("building the probe: %v", probeErr)
	}
	return probeDir
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// sharedTemp makes a temp folder removed when the test binary ends (by
// Cleanup of the first test that asked is too early: the folder is shared).
func sharedTemp(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	tempDirs = append(tempDirs, dir)
	return dir, nil
}

var tempDirs []string

// Cleanup removes the image and probe folders; call it from TestMain
// after m.Run.
func Cleanup() {
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
}

// WorldReadable lets every user read dir's files and enter its folders
// (rootless builds read them as another user). It refuses the temporary
// folder itself and /.
func WorldReadable(dir string) error {
	if dir == filepath.Clean(os.TempDir()) || dir == "/" {
		return fmt.Errorf("refusing to open up %s", dir)
	}
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink != 0 {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		add := os.FileMode(0o044)
		if d.IsDir() || fi.Mode()&0o100 != 0 {
			add |= 0o011
		}
		return os.Chmod(p, fi.Mode().Perm()|add)
	})
}
