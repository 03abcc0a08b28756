#!/usr/bin/env bash
# reprove's measured figures (the README quotes them). As root on Debian:
#
#   scripts/bench.sh            # sandbox overhead, then the diff pairs vs diffoscope
#   scripts/bench.sh verify     # only: reprove verify vs bare runc run, and the
#                               # per-run disk's set-up and tear-down
#   scripts/bench.sh diff       # only: scripts/bench_diff.sh
#   scripts/bench.sh history    # only: the history database with 100,000 results
#   scripts/bench.sh trust      # only: re-verifying a toolchain-sized cache tree
#   scripts/bench.sh batch      # only: 50 trivial targets through reprove batch
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
	# A manifest reads only below its own folder: the image goes beside it.
	local layout=${image#oci-layout:}
	cp -r "${layout%@*}" "$work/image"
	image=oci-layout:image@${image##*@}
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
	rootfs=$(ls -d "$cache"/rootfs/sha256-*/root | head -1)
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
	echo "reprove verify (warm cache): ${reprove_ms} ms/run; bare runc run: ${runc_ms} ms/run; overhead $((reprove_ms - runc_ms)) ms (target <= 300 ms), $runs runs each, load average $(cut -d' ' -f1 /proc/loadavg)"
	# CPU time (user+sys of the process and its children) depends less on
	# what else the machine runs than wall time does.
	local cpu_reprove cpu_runc
	cpu_reprove=$( { /usr/bin/time -f '%U %S' bash -c 'for i in $(seq '"$runs"'); do REPROVE_CACHE_DIR='"$cache"' bin/reprove verify -q '"$work"'/reprove.yaml >/dev/null; done' ; } 2>&1 | tail -1)
	cpu_runc=$( { /usr/bin/time -f '%U %S' bash -c 'for i in $(seq '"$runs"'); do runc --root '"$work"'/runc run --bundle '"$work"'/bundle bench-cpu-$$-$i >/dev/null; done' ; } 2>&1 | tail -1)
	echo "CPU per run (user+sys, with children): reprove verify $(echo "$cpu_reprove" | awk -v n="$runs" '{ printf "%d", ($1 + $2) * 1000 / n }') ms; bare runc run $(echo "$cpu_runc" | awk -v n="$runs" '{ printf "%d", ($1 + $2) * 1000 / n }') ms"
	local disk_ns
	disk_ns=$(go test -count=1 -run '^$' -bench '^BenchmarkLoopDisk$' -benchtime "${runs}x" ./rebuild/sandbox/runc/ | awk '/^BenchmarkLoopDisk/ { print $3 }')
	echo "per-run disk (16 GiB sparse ext4 on a loop device): set-up and tear-down $((disk_ns / 1000000)) ms/run (included in the overhead above)"
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

# batch: 50 trivial manifests (busybox builds) verified by `reprove batch`
# with --jobs 1 and --jobs 2, against 50 sequential `reprove verify` runs of
# the same manifests, warm cache. Target: batch overhead per target at most
# 0.1 s beyond a single verify (the --jobs 1 run against the verify runs).
bench_batch() {
	go build -o bin/reprove .
	local image work n=50 i t0 t1
	image=$(scripts/fixtures.sh)
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	mkdir -p "$work/targets"
	local layout=${image#oci-layout:} digest=${image##*@}
	cp -r "${layout%@*}" "$work/targets/image"
	for i in $(seq -w 1 $n); do
		printf 'hi %s\n' "$i" > "$work/targets/hi-$i"
		cat > "$work/targets/t-$i.yaml" <<EOM
apiVersion: reprove/v1
name: trivial-$i
artifact:
  uri: file:hi-$i
  digest: sha256:$(sha256sum "$work/targets/hi-$i" | cut -d' ' -f1)
builder:
  image: oci-layout:image@$digest
build:
  script: printf 'hi %s\n' $i > /out/hi
  output: /out/hi
EOM
	done
	export REPROVE_CACHE_DIR=$work/cache
	bin/reprove batch -q "$work/targets" >/dev/null # warm the cache
	t0=$(date +%s%N)
	for f in "$work"/targets/t-*.yaml; do bin/reprove verify -q "$f" >/dev/null; done
	t1=$(date +%s%N)
	local verify_ms=$(( (t1 - t0) / n / 1000000 ))
	local jobs ms1=0 ms
	for jobs in 1 2; do
		t0=$(date +%s%N)
		bin/reprove batch -q --jobs "$jobs" --out "$work/out-$jobs" "$work/targets" >/dev/null
		t1=$(date +%s%N)
		ms=$(( (t1 - t0) / n / 1000000 ))
		[ "$jobs" = 1 ] && ms1=$ms
		echo "reprove batch --jobs $jobs: $(( (t1 - t0) / 1000000 )) ms for $n targets, ${ms} ms/target"
	done
	echo "reprove verify, one at a time: ${verify_ms} ms/target; batch --jobs 1 overhead $(( ms1 - verify_ms )) ms/target (target <= 100 ms)"
	[ $(( ms1 - verify_ms )) -le 100 ]
}

# trust: the cost of re-verifying a derived tree before it is used, on a
# tree the size of a Go toolchain (this machine's GOROOT, ~250 MB), warm.
# Target: at most 0.5 s.
bench_trust() {
	go test ./rebuild/tree -run '^$' -bench DigestGoroot -benchtime 5x | grep '^Benchmark' |
		awk '{printf "tree verify of GOROOT (%s files, %s MiB): %.2f s (target <= 0.5 s)\n", $9, $7, $3 / 1e9}'
}

case $what in
	verify) bench_verify ;;
	trust) bench_trust ;;
	batch) bench_batch ;;
	diff) scripts/bench_diff.sh ;;
	history) bench_history ;;
	all) bench_verify; bench_trust; scripts/bench_diff.sh; bench_history; bench_batch ;;
	*) echo "usage: scripts/bench.sh [verify|trust|diff|history|batch]" >&2; exit 2 ;;
esac
