package sandboxtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// keyring: a key in the host's user keyring is out of the build's reach,
// and a key the build tries to add does not appear on the host.
func (s *suite) keyring(t *testing.T) {
	desc := fmt.Sprintf("reprove-sandboxtest-host-%d", os.Getpid())
	id, err := unix.AddKey("user", desc, []byte("host secret"), unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		t.Fatalf("adding a key to the host's user keyring: %v", err)
	}
	t.Cleanup(func() { unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0) })
	res := mustRun(t, s, s.probeSpec(t, "/probe/probe report > /out/x"))
	var r report
	if b, err := os.ReadFile(res.Output); err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("probe report %q: %v", b, err)
	}
	for _, call := range []string{"keyctl", "add_key", "request_key"} {
		if got := r.Syscalls[call]; got != "EPERM" {
			t.Errorf("%s in the build: got %s; want EPERM", call, got)
		}
	}
	if strings.Contains(r.ProcKeys, desc) {
		t.Errorf("the build's /proc/keys shows the host's key: %q", r.ProcKeys)
	}
	for _, ring := range []int{unix.KEY_SPEC_USER_KEYRING, unix.KEY_SPEC_SESSION_KEYRING} {
		if _, err := unix.KeyctlSearch(ring, "user", "reprove-probe", 0); !errors.Is(err, unix.ENOKEY) {
			t.Errorf("searching the host's keyring %d for the key the build tried to add: %v; want ENOKEY", ring, err)
		}
	}
	// Control: the host's own key is still there.
	if _, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0); err != nil {
		t.Errorf("the host's key vanished: %v", err)
	}
}
