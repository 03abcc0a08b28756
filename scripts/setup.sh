#!/usr/bin/env bash
# Installs what reprove's demo and tests need on a Debian machine, as root.
# Sourced by demo.sh and test.sh; installs only what is missing.
set -euo pipefail

REPROVE_APT_PACKAGES=(
	runc            # the default sandbox backend
	e2fsprogs       # mkfs.ext4: each build's size-limited disk (root mode)
	passwd          # useradd, usermod: the sandbox tests' ordinary users for rootless runs
	uidmap          # newuidmap, newgidmap: rootless builds with a range from /etc/subuid
	git             # git+ sources, test repositories
	debian-archive-keyring  # reprove image build checks the archive's InRelease with it
	dpkg-dev        # the Debian tests make a source package on the host (dpkg-source -b)
	ca-certificates
	openssl         # attestation tests verify DSSE signatures with it
	xz-utils zstd bzip2 cpio binutils  # archive and ELF fixtures
	chromium        # the HTML report test
	poppler-utils   # pdftotext: the printed HTML report test
	iproute2        # sandbox network checks
	postgresql      # the history database tests run against a real server (scripts/postgres.sh)
)

reprove_setup() {
	local missing=()
	for p in "${REPROVE_APT_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "reprove: missing packages (${missing[*]}); run this script as root" >&2
			return 1
		fi
		echo "reprove: installing: ${missing[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >&2
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
	fi
	if ! command -v go >/dev/null 2>&1; then
		if [ -x /usr/local/go/bin/go ]; then
			export PATH=/usr/local/go/bin:$PATH
		else
			echo "reprove: Go is missing: install Go 1.26 or newer (/usr/local/go), the version go.mod names" >&2
			return 1
		fi
	fi
}
