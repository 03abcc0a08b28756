#!/usr/bin/env bash
# Compares, with a warm cache, a trivial build through reprove's runc
# Backend (overlay root, config, log, output, cleanup) with a bare
# `runc run` of the same cached rootfs and runc's default config.
# Target: the Backend adds at most 0.3 s per build.
#
#   sudo scripts/bench_sandbox.sh [COUNT]
#
# Needs root, runc, Go, apt-get (the busybox test image is built from
# Debian's busybox-static). Measure on an idle machine: both numbers are
# wall time per build.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-5}"
command -v runc >/dev/null || { echo "runc missing: apt-get install -y runc" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (runc creates namespaces and mounts)" >&2; exit 2; }

out="$(go test -count="$count" -run '^$' -bench '^Benchmark(RuncBackend|BareRunc)$' -benchtime 20x ./rebuild/sandbox/)"
echo "$out" | grep '^Benchmark'
echo "$out" | awk '
  /^BenchmarkRuncBackend/ { b += $3; nb++ }
  /^BenchmarkBareRunc/    { r += $3; nr++ }
  END {
    if (nb == 0 || nr == 0) { print "benchmarks did not run" > "/dev/stderr"; exit 1 }
    b /= nb * 1e9; r /= nr * 1e9
    printf "backend %.3f s/build, bare runc %.3f s/build, overhead %.3f s (target <= 0.300)\n", b, r, b - r
    exit (b - r > 0.3)
  }'
