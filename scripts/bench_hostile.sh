#!/usr/bin/env bash
# Measures what hostile inputs cost reprove under its default limits:
# wall time, peak RSS (/usr/bin/time) and report size. Usage:
#   scripts/bench_hostile.sh [DIR]     (DIR keeps the generated inputs)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
dir=${1:-$(mktemp -d)}
bin=$dir/reprove
go build -o "$bin" .
go run ./diff/internal/cmd/gen-hostile "$dir"
printf '%-44s %8s %10s %10s %s\n' input exit wall peak-RSS report
run() { # NAME ARGS...
	local name=$1; shift
	local out=$dir/out.json
	set +e
	/usr/bin/time -f '%e %M' -o "$dir/time" "$bin" "$@" >"$out" 2>"$dir/err"
	local code=$?
	set -e
	read -r wall rss < <(tail -n 1 "$dir/time")
	printf '%-44s %8s %9ss %7s MiB %s\n' "$name" "$code" "$wall" "$((rss / 1024))" "$(stat -c %s "$out") bytes"
}
run "diff sparse tar claiming 10 GiB (x2)" diff --format json "$dir/sparse.tar" "$dir/sparse-b.tar"
run "diff gzip bombs of 5 GiB (x2)" diff --format json "$dir/bomb.tar.gz" "$dir/bomb-b.tar.gz"
run "diff ELF whose .symtab inflates to 2 GiB" diff --format json "$dir/normal.elf" "$dir/symtab-bomb.elf"
run "diff 20k members named alike" diff --format json "$dir/same-a.tar" "$dir/same-b.tar"
run "diff 200k members, mtimes (8 MB report)" diff --format json --max-report-size 8000000 "$dir/mtime-a.tar" "$dir/mtime-b.tar"
run "verify a 5 MiB manifest" verify --cache-dir "$dir/cache" "$dir/manifest-5mib.yaml"
