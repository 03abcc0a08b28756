package golang

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVCSVersionTags(t *testing.T) {
	const rev = "d68769566d191cf20080eaf13eb29a5dd89f7a09"
	clone := "git clone --quiet --no-tags --no-checkout --shared /src /tmp/src\ngit -C /tmp/src checkout --quiet --detach " + rev + "\n"
	tests := []struct {
		version, sub string
		want         string // "" means an error is wanted
	}{
		{"v1.2.3", "", clone + "git -C /tmp/src tag v1.2.3 " + rev + "\ncd /tmp/src\n"},
		{"v1.2.3+dirty", "", clone + "git -C /tmp/src tag v1.2.3 " + rev + "\ncd /tmp/src\n"},
		{"v1.2.3", "tools/x", clone + "git -C /tmp/src tag tools/x/v1.2.3 " + rev + "\ncd /tmp/src/tools/x\n"},
		{"v2.0.0+incompatible", "", clone + "git -C /tmp/src tag v2.0.0 " + rev + "\ncd /tmp/src\n"},
		{"v2.0.0+incompatible.dirty", "", clone + "git -C /tmp/src tag v2.0.0 " + rev + "\ncd /tmp/src\n"},
		{"v0.0.0-20261124155530-d68769566d19", "", clone + "cd /tmp/src\n"},
		{"v0.0.0-20261124155530-d68769566d19+dirty", "", clone + "cd /tmp/src\n"},
		{"v1.2.4-0.20261124155530-d68769566d19", "", clone + "git -C /tmp/src tag v1.2.3 " + rev + "^\ncd /tmp/src\n"},
		{"v1.3.0-rc.1.0.20261124155530-d68769566d19", "sub", clone + "git -C /tmp/src tag sub/v1.3.0-rc.1 " + rev + "^\ncd /tmp/src/sub\n"},
		{"v1.2.4-0.20261124155530-0123456789ab", "", ""}, // names another commit
		{"latest", "", ""},
		{"v1.2", "", ""},
	}
	for _, tt := range tests {
		got, why, err := vcsVersionTags(tt.version, tt.sub, rev, "/src", "/tmp/src")
		if tt.want == "" {
			if err == nil {
				t.Errorf("vcsVersionTags(%q): want an error, got script %q", tt.version, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("vcsVersionTags(%q, %q): %v", tt.version, tt.sub, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("vcsVersionTags(%q, %q) mismatch (-want +got):\n%s", tt.version, tt.sub, diff)
		}
		if why == "" {
			t.Errorf("vcsVersionTags(%q): no note", tt.version)
		}
	}
}

func TestSplitGoVersion(t *testing.T) {
	tests := []struct{ in, release, exp string }{
		{"go1.26.2", "go1.26.2", ""},
		{"go1.26.2-X:nodwarf5", "go1.26.2", "nodwarf5"},
		{"go1.26.2-X:nodwarf5,fieldtrack", "go1.26.2", "nodwarf5,fieldtrack"},
		{"go1.27rc1 X:greenteagc", "go1.27rc1", "greenteagc"},
		{"go1.20.1 X:loopvar", "go1.20.1", "loopvar"},
		{"devel go1.27-abc123 Tue", "devel", ""},
	}
	for _, tt := range tests {
		r, e := splitGoVersion(tt.in)
		if r != tt.release || e != tt.exp {
			t.Errorf("splitGoVersion(%q) = %q, %q; want %q, %q", tt.in, r, e, tt.release, tt.exp)
		}
	}
}
