package runc

import (
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	cases := []struct {
		line       string
		mp, fstype string
		ok         bool
	}{
		{line: `44 27 0:39 / /tmp/r/.bundle-1/rootfs rw,nodev,relatime - overlay overlay rw,lowerdir=/c/rootfs/x,upperdir=/tmp/r/.bundle-1/upper,workdir=/tmp/r/.bundle-1/work`,
			mp: "/tmp/r/.bundle-1/rootfs", fstype: "overlay", ok: true},
		// Optional fields before the separator, and an escaped space.
		{line: `36 35 98:0 /mnt1 /my\040runs/.bundle-2/rootfs rw,noatime master:1 shared:7 - overlay overlay rw`,
			mp: "/my runs/.bundle-2/rootfs", fstype: "overlay", ok: true},
		{line: `22 1 0:21 / /proc rw,nosuid - proc proc rw`, mp: "/proc", fstype: "proc", ok: true},
		{line: `22 1 0:21 / /proc rw,nosuid proc proc rw`},
		{line: `22 1 0:21 / /proc rw - `},
		{line: ``},
	}
	for _, c := range cases {
		mp, fstype, ok := parseMountinfo(c.line)
		if mp != c.mp || fstype != c.fstype || ok != c.ok {
			t.Errorf("parseMountinfo(%q) = %q, %q, %v; want %q, %q, %v", c.line, mp, fstype, ok, c.mp, c.fstype, c.ok)
		}
	}
	if got := unescapeMountinfo(`/a\134b\011c\0`); got != "/a\\b\tc\\0" {
		t.Errorf("unescapeMountinfo: %q", got)
	}
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add(`36 35 98:0 /mnt1 /my\040runs/.bundle-2/rootfs rw,noatime master:1 - overlay overlay rw`)
	f.Add(`1 2 3 4 5 6 7 8 9 -`)
	f.Fuzz(func(t *testing.T, line string) {
		mp, fstype, ok := parseMountinfo(line)
		if !ok && (mp != "" || fstype != "") {
			t.Fatalf("not ok but returned %q, %q", mp, fstype)
		}
		if ok && (fstype == "" || strings.ContainsAny(fstype, " \t\n") || !strings.Contains(line, fstype)) {
			t.Fatalf("fstype %q is not one field of %q", fstype, line)
		}
	})
}
