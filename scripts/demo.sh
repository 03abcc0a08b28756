#!/usr/bin/env bash
# reprove's demo on a fresh Debian machine, as root: installs what is missing,
# builds reprove, builds the fixture builder image, and verifies two fixtures:
# one reproducible, one not.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
reprove_setup

echo "==> building reprove" >&2
go build -o bin/reprove .
echo "==> building the fixture builder image (busybox, from Debian packages)" >&2
scripts/fixtures.sh >/dev/null

export REPROVE_CACHE_DIR=${REPROVE_CACHE_DIR:-$PWD/.cache/reprove}
mkdir -p .cache/demo
status=0
for f in hello hello-dated; do
	echo >&2
	echo "==> reprove verify fixtures/$f/reprove.yaml" >&2
	set +e
	bin/reprove verify --json ".cache/demo/$f.json" --html ".cache/demo/$f.html" "fixtures/$f/reprove.yaml"
	code=$?
	set -e
	echo "(exit code $code; JSON and HTML reports in .cache/demo/$f.*)" >&2
	case "$f:$code" in
		hello:0 | hello-dated:1) ;;
		*) echo "demo: unexpected exit code $code for $f" >&2; status=1 ;;
	esac
done
exit $status
