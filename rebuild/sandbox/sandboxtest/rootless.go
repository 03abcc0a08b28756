package sandboxtest

import (
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// ProbeEnv, when set, names the folder holding an already built probe.
const ProbeEnv = "REPROVE_SANDBOXTEST_PROBE"

// RunAs re-runs the test named test of this test binary as the ordinary
// user name (made with useradd when missing), so a backend's rootless mode
// runs the same suite: the binary is copied where that user can run it,
// the image and probe are built here and passed on, and the user gets a
// home and temp folder of its own. It needs root and fails when the re-run
// fails or skips.
func RunAs(t *testing.T, name, test string) {
	if os.Geteuid() != 0 {
		t.Skip("runs as root, to re-run the suite as an ordinary user")
	}
	Need(t, false)
	uid, gid := User(t, name)
	layout, digest := Image(t)
	probe := Probe(t)
	bin := copyBinary(t)
	home, err := sharedTemp("sandboxtest-home-")
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(home, "tmp"), 0o700)
	if err := chownTree(home, uid, gid); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + filepath.Join(home, "tmp"),
		"USER=" + name, "LANG=C.UTF-8", "CI=" + os.Getenv("CI"),
		ImageEnv + "=" + layout + "@" + digest, ProbeEnv + "=" + probe,
	}
	out, err := cmd.CombinedOutput()
	t.Logf("%s as %s (uid %d):\n%s", test, name, uid, out)
	if err != nil {
		t.Fatalf("the suite failed as %s: %v", name, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("the suite did not pass as %s (skipped?)", name)
	}
}

// User returns the ids of the ordinary user name, adding it (a system
// user with no home and no shell) when missing. It needs root.
func User(t testing.TB, name string) (uid, gid uint32) {
	u, err := user.Lookup(name)
	if err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v: %s", name, err, out)
		}
		if u, err = user.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	u32, _ := strconv.ParseUint(u.Uid, 10, 32)
	g32, _ := strconv.ParseUint(u.Gid, 10, 32)
	return uint32(u32), uint32(g32)
}

// copyBinary copies this test binary into a folder every user can read.
func copyBinary(t *testing.T) string {
	dir, err := sharedTemp("sandboxtest-bin-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	in, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p := filepath.Join(dir, filepath.Base(os.Args[0]))
	out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func chownTree(dir string, uid, gid uint32) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(uid), int(gid))
	})
}

// SubIDs gives the user name the subordinate range [start, start+count)
// in /etc/subuid and /etc/subgid (usermod --add-subuids/--add-subgids)
// unless it has one, so a rootless backend can map more ids than the
// user's own. It needs root, and newuidmap and newgidmap (Debian's uidmap)
// installed: on CI their absence fails the test.
func SubIDs(t testing.TB, name string, start, count uint32) {
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: apt-get install -y uidmap (scripts/setup.sh does)", tool)
			}
			t.Skipf("%s is missing: apt-get install -y uidmap", tool)
		}
	}
	rng := strconv.FormatUint(uint64(start), 10) + "-" + strconv.FormatUint(uint64(start+count-1), 10)
	for _, f := range []struct{ file, flag string }{{"/etc/subuid", "--add-subuids"}, {"/etc/subgid", "--add-subgids"}} {
		b, _ := os.ReadFile(f.file)
		if strings.Contains("\n"+string(b), "\n"+name+":") {
			continue
		}
		if out, err := exec.Command("usermod", f.flag, rng, name).CombinedOutput(); err != nil {
			t.Fatalf("usermod %s %s %s: %v: %s", f.flag, rng, name, err, out)
		}
	}
}
