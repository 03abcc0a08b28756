package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/sandbox"
)

// ConfigureTimeout bounds the maintainer-script step.
const ConfigureTimeout = 30 * time.Minute

// configureScript runs inside the target (after chroot): each package's
// preinst as dpkg --unpack would have run it, then dpkg --configure -a,
// which runs every postinst in dependency order and the triggers they
// activate. No network: the sandbox has none.
const configureScript = `set -e
export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true LC_ALL=C.UTF-8 LANG=C.UTF-8
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DPKG_ADMINDIR=/var/lib/dpkg DPKG_ROOT=
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
while read -r info arch; do
	if [ -x "/var/lib/dpkg/info/$info.preinst" ]; then
		DPKG_MAINTSCRIPT_PACKAGE="${info%%:*}" DPKG_MAINTSCRIPT_ARCH="$arch" DPKG_MAINTSCRIPT_NAME=preinst \
			DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT=1 "/var/lib/dpkg/info/$info.preinst" install
	fi
done < /tmp/reprove-packages
dpkg --configure -a
dpkg --audit
rm -f /usr/sbin/policy-rc.d /tmp/reprove-packages /tmp/reprove-configure
`

// configure runs the maintainer scripts of the unpacked target in the
// sandbox: the helper image, the target mounted writable at /target, and
// chroot into it.
func (b *builder) configure(ctx context.Context, t *target, helper *fetch.Image, pkgs []*installed, withDpkg bool) error {
	ch, ok := b.o.Backend.(sandbox.Chrooter)
	if !ok {
		return fmt.Errorf("the %s backend cannot run maintainer scripts: they need a backend that runs builds chrooted into a tree (sandbox.Chrooter)", b.o.Backend.Name())
	}
	ids, err := ch.ChrootIDs()
	if err != nil {
		return fmt.Errorf("running the maintainer scripts: %w", err)
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	if withDpkg {
		var list strings.Builder
		for _, p := range pkgs {
			fmt.Fprintf(&list, "%s %s\n", p.infoName(), p.arch)
		}
		if err := t.writeFile("tmp/reprove-packages", []byte(list.String()), 0o644); err != nil {
			return err
		}
		if err := t.writeFile("tmp/reprove-configure", []byte(configureScript), 0o755); err != nil {
			return err
		}
		script.WriteString("chroot /target /bin/sh /tmp/reprove-configure\n")
	}
	for _, argv := range b.r.Run {
		script.WriteString("chroot /target")
		for _, a := range argv {
			script.WriteString(" " + shellQuote(a))
		}
		script.WriteString("\n")
	}
	script.WriteString("echo configured > /out/status\n")
	if err := t.enterRange(ids); err != nil {
		return err
	}
	runDir, err := b.o.Cache.TempDir("image-configure-")
	if err != nil {
		return err
	}
	defer runDir.Remove()
	res, err := b.o.Backend.Run(ctx, sandbox.Spec{
		ImageLayout: helper.Layout,
		ImageDigest: helper.Digest,
		RunDir:      runDir.Path,
		Mounts:      []sandbox.Mount{{Source: t.dir, Dest: "/target", Writable: true}},
		ChrootDir:   "/target",
		Env:         map[string]string{"SOURCE_DATE_EPOCH": strconv.FormatInt(b.o.Epoch, 10)},
		Script:      script.String(),
		Output:      "/out/status",
		Timeout:     ConfigureTimeout,
	})
	if err != nil {
		log := ""
		if res != nil {
			log = res.Log
		}
		return fmt.Errorf("running the maintainer scripts (dpkg --configure -a in the sandbox; log %s): %w", log, err)
	}
	return nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// volatile are paths the maintainer-script step leaves that say when or
// where it ran, not what was installed: logs, caches keyed by inode or
// time, dpkg's backups, and what the sandbox mounted. They are removed
// before the layer is written, as mmdebstrap does.
var volatile = []string{
	"var/log/dpkg.log", "var/log/alternatives.log", "var/log/apt", "var/log/bootstrap.log",
	"var/cache/ldconfig/aux-cache", "var/cache/debconf/config.dat-old", "var/cache/debconf/templates.dat-old",
	"var/cache/debconf/passwords.dat-old", "var/lib/dpkg/status-old", "var/lib/dpkg/available-old",
	"var/lib/dpkg/diversions-old", "var/lib/dpkg/statoverride-old", "etc/machine-id", "var/lib/dbus/machine-id",
	"etc/passwd-", "etc/group-", "etc/shadow-", "etc/gshadow-", "etc/subuid-", "etc/subgid-",
}

// emptied are folders whose content is removed before the layer is
// written: what the sandbox mounts on, scratch space, and man-db's index,
// which records when the man pages were unpacked (it is rebuilt on demand).
var emptied = []string{"dev", "proc", "sys", "tmp", "run", "var/tmp", "var/cache/man"}

// clean removes the volatile paths and empties the emptied folders.
func (t *target) clean() error {
	for _, p := range volatile {
		if err := t.root.RemoveAll(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	for _, d := range emptied {
		ents, err := os.ReadDir(filepath.Join(t.dir, d))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := t.root.RemoveAll(d + "/" + e.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}
