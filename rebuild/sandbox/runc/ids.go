package runc

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The host ids container root maps to when reprove runs as root and
// /etc/subuid and /etc/subgid have no "reprove" entry: 65536 ids from
// 2^30. Like systemd-nspawn's and podman's automatic ranges, it lies far
// above the ids useradd hands out (SUB_UID_MAX is 600100000 by default, so
// ranges useradd gives in /etc/subuid end below it); no account owns these
// ids, so a build's files and processes are nobody's on the host. To use
// another range, add a "reprove" entry to /etc/subuid and /etc/subgid.
const (
	DefaultHostID = 1 << 30
	DefaultIDs    = 65536
)

// SubIDUser is the /etc/subuid and /etc/subgid entry reprove's root mode
// takes its range from when there is one.
const SubIDUser = "reprove"

// IDMap maps container ids [0, Size) to host ids [Host, Host+Size), for
// users and groups alike (UID and GID ranges may start apart).
type IDMap struct {
	UID, GID uint32 // first host id of container id 0
	Size     uint32 // how many ids
}

// Key names the mapping in cache paths: a rootfs unpacked for one mapping
// is owned by its ids.
func (m IDMap) Key() string { return fmt.Sprintf("ids-%d-%d-%d", m.UID, m.GID, m.Size) }

// HostUID maps a container uid, or returns false when it is not mapped.
func (m IDMap) host(id int, base uint32) (int, bool) {
	if id < 0 || uint64(id) >= uint64(m.Size) {
		return 0, false
	}
	return int(base) + id, true
}

// rootIDMap is the range for root mode: the "reprove" entries of
// /etc/subuid and /etc/subgid, or the fixed default.
func rootIDMap() (IDMap, error) {
	u, uok, err := subID("/etc/subuid", SubIDUser)
	if err != nil {
		return IDMap{}, err
	}
	g, gok, err := subID("/etc/subgid", SubIDUser)
	if err != nil {
		return IDMap{}, err
	}
	if uok != gok {
		return IDMap{}, fmt.Errorf("runc backend: /etc/subuid and /etc/subgid must both have a %q entry, or neither", SubIDUser)
	}
	if !uok {
		return IDMap{UID: DefaultHostID, GID: DefaultHostID, Size: DefaultIDs}, nil
	}
	if u[1] < 65536 || g[1] < 65536 {
		return IDMap{}, fmt.Errorf("runc backend: the %q ranges in /etc/subuid and /etc/subgid must hold at least 65536 ids", SubIDUser)
	}
	return IDMap{UID: u[0], GID: g[0], Size: min(u[1], g[1])}, nil
}

// subID returns the first range file gives user: start and count.
func subID(file, user string) ([2]uint32, bool, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return [2]uint32{}, false, nil
	}
	if err != nil {
		return [2]uint32{}, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		r, ok := parseSubID(sc.Text(), user)
		if ok {
			return r, true, nil
		}
	}
	return [2]uint32{}, false, sc.Err()
}

// parseSubID parses one "name:start:count" line of /etc/subuid for user.
func parseSubID(line, user string) ([2]uint32, bool) {
	f := strings.Split(strings.TrimSpace(line), ":")
	if len(f) != 3 || f[0] != user {
		return [2]uint32{}, false
	}
	start, err1 := strconv.ParseUint(f[1], 10, 32)
	count, err2 := strconv.ParseUint(f[2], 10, 32)
	if err1 != nil || err2 != nil || count == 0 || start+count > 1<<32-1 {
		return [2]uint32{}, false
	}
	return [2]uint32{uint32(start), uint32(count)}, true
}
