#!/usr/bin/env bash
# reprove's measured figures (the README quotes them). As root on Debian:
#
#   scripts/bench.sh            # sandbox overhead, then the diff pairs vs diffoscope
#   scripts/bench.sh verify     # only: reprove verify vs bare runc run
#   scripts/bench.sh diff       # only: scripts/bench_diff.sh
#   scripts/bench.sh history    # only: the history database with 100,000 results
#
# verify: with a warm cache, `reprove verify` of a trivial build against a
# bare `runc run` of the same cached rootfs running the same script, each
# RUNS times; target: at most 0.3 s more per run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
reprove_setup diffoscope-minimal time
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

# history: 100,000 results (1,000 targets, 100 nights) recorded into SQLite
# 500 to a transaction as `reprove history import` does, then the queries
# as Go benchmarks and as commands, each RUNS times, process start included:
# mean and best wall time, and mean CPU time (user + system), which other
# load on the machine does not inflate. Target: `reprove history regressions`
# under 0.2 s (checked on the best run).
bench_history() {
	go build -o bin/reprove .
	local work db
	work=$(mktemp -d)
	db=$work/history.db
	trap 'rm -rf "$work"' RETURN
	REPROVE_BENCH_DB=$db go test ./rebuild/history -run '^$' -bench . -benchtime 20x | grep '^Benchmark'
	local what mean_ms best_ms cpu_ms regressions_best
	for what in "regressions --since 24h" "" "pkg-0007"; do
		local -a args
		case $what in
			"") args=(history --history "$db") ;;                      # every target, with its last transitions
			pkg-0007) args=(history --history "$db" pkg-0007) ;;      # one target
			*) args=(history regressions --history "$db" --since 24h) ;; # exit 1: there are regressions
		esac
		: > "$work/times"
		for i in $(seq "$runs"); do
			/usr/bin/time -q -f '%e %U %S' -a -o "$work/times" bin/reprove "${args[@]}" >/dev/null || [ $? = 1 ]
		done
		read -r mean_ms best_ms cpu_ms < <(awk '{w += $1; c += $2 + $3; if (NR == 1 || $1 < b) b = $1}
			END {printf "%d %d %d\n", w / NR * 1000, b * 1000, c / NR * 1000}' "$work/times")
		echo "reprove history ${what:-(all 1,000 targets)}: mean ${mean_ms} ms, best ${best_ms} ms, CPU ${cpu_ms} ms ($runs runs, 100,000 results)"
		if [ "${what%% *}" = regressions ]; then regressions_best=$best_ms; fi
	done
	echo "reprove history regressions: best ${regressions_best} ms (target < 200 ms)"
	[ "$regressions_best" -lt 200 ]
}

case $what in
	verify) bench_verify ;;
	diff) scripts/bench_diff.sh ;;
	history) bench_history ;;
	all) bench_verify; scripts/bench_diff.sh; bench_history ;;
	*) echo "usage: scripts/bench.sh [verify|diff|history]" >&2; exit 2 ;;
esac
