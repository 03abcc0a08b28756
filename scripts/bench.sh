#!/usr/bin/env bash
# reprove's measured figures (the README quotes them). As root on Debian:
#
#   scripts/bench.sh            # sandbox overhead, then the diff pairs vs diffoscope
#   scripts/bench.sh verify     # only: reprove verify vs bare runc run
#   scripts/bench.sh diff       # only: scripts/bench_diff.sh
#
# verify: with a warm cache, `reprove verify` of a trivial build against a
# bare `runc run` of the same cached rootfs running the same script, each
# RUNS times; target: at most 0.3 s more per run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
reprove_setup diffoscope-minimal time squashfs-tools genisoimage python3-rpm  # the last three let diffoscope see inside squashfs, ISO and RPM pairs
what=${1:-all}
runs=${RUNS:-10}

bench_verify() {
	go build -o bin/reprove .
	local image work cache
	image=$(scripts/fixtures.sh)
	work=$(mktemp -d)
	cache=$work/cache
	trap 'rm -rf "$work"' RETURN
	printf 'hi\n' > "$work/hi"
	cat > "$work/reprove.yaml" <<EOM
apiVersion: reprove/v1
name: trivial
artifact:
  uri: file:hi
  digest: sha256:$(sha256sum "$work/hi" | cut -d' ' -f1)
builder:
  image: $image
build:
  script: echo hi > /out/hi
  output: /out/hi
EOM
	REPROVE_CACHE_DIR=$cache bin/reprove verify -q "$work/reprove.yaml" >/dev/null # warm the cache
	local rootfs
	rootfs=$(ls -d "$cache"/rootfs/sha256-* | head -1)
	mkdir -p "$work/bundle"
	(cd "$work/bundle" && runc spec)
	# Bare runc: runc's default config on the same rootfs, same script.
	sed -i -e "s#\"path\": \"rootfs\"#\"path\": \"$rootfs\"#" \
		-e 's#"terminal": true#"terminal": false#' \
		-e 's#"sh"#"sh", "-c", "echo hi > /dev/null"#' "$work/bundle/config.json"
	local t0 t1 i
	t0=$(date +%s%N)
	for i in $(seq "$runs"); do
		REPROVE_CACHE_DIR=$cache bin/reprove verify -q "$work/reprove.yaml" >/dev/null
	done
	t1=$(date +%s%N)
	local reprove_ms=$(( (t1 - t0) / runs / 1000000 ))
	t0=$(date +%s%N)
	for i in $(seq "$runs"); do
		runc --root "$work/runc" run --bundle "$work/bundle" "bench-$$-$i" >/dev/null
	done
	t1=$(date +%s%N)
	local runc_ms=$(( (t1 - t0) / runs / 1000000 ))
	echo "reprove verify (warm cache): ${reprove_ms} ms/run; bare runc run: ${runc_ms} ms/run; overhead $((reprove_ms - runc_ms)) ms (target <= 300 ms), $runs runs each"
	[ $((reprove_ms - runc_ms)) -le 300 ]
}

case $what in
	verify) bench_verify ;;
	diff) scripts/bench_diff.sh ;;
	all) bench_verify; scripts/bench_diff.sh ;;
	*) echo "usage: scripts/bench.sh [verify|diff]" >&2; exit 2 ;;
esac
