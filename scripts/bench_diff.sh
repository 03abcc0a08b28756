#!/usr/bin/env bash
# bench_diff.sh: reprove's diff engine against Debian's diffoscope.
#
#   scripts/bench_diff.sh          # both parts
#   scripts/bench_diff.sh speed    # the pairs of issue 3, each under /usr/bin/time -v:
#                                  # wall time and peak RSS with ratios, and
#                                  # `openssl dgst -sha256` on both identical files
#   scripts/bench_diff.sh agree    # the corpus of issue 15 (one pair per format and
#                                  # cause, gen-diff-corpus): same verdict? same set of
#                                  # differing members (diff-members)?
#
# Env: BENCH_DIR (default a fresh dir under /tmp; removed afterwards),
#      IDENTICAL_MIB (default 1024), DIFFOSCOPE_TIMEOUT seconds (default 600).
# Needs: go, diffoscope (apt: diffoscope-minimal), time, openssl, xz-utils.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

IDENTICAL_MIB=${IDENTICAL_MIB:-1024}
DIFFOSCOPE_TIMEOUT=${DIFFOSCOPE_TIMEOUT:-600}
for tool in diffoscope /usr/bin/time openssl go; do
  command -v "$tool" >/dev/null || { echo "bench_diff.sh: $tool is missing (scripts/bench.sh installs it: diffoscope-minimal time openssl squashfs-tools genisoimage python3-rpm)" >&2; exit 2; }
done

work=${BENCH_DIR:-$(mktemp -d /tmp/reprove-bench-diff.XXXXXX)}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
bin=$work/bin
mkdir -p "$bin"

# reprove itself when main.go has the diff command, else the diff package's driver.
go build -o "$bin/reprove" . 2>/dev/null || true
if [ -x "$bin/reprove" ] && "$bin/reprove" diff --help >/dev/null 2>&1; then
  reprove=("$bin/reprove" diff --format json --output /dev/null)
  which_reprove="reprove diff"
else
  go build -o "$bin/reprove-diff" ./diff/internal/cmd/reprove-diff
  reprove=("$bin/reprove-diff" -format json -output /dev/null)
  which_reprove="diff/internal/cmd/reprove-diff"
fi
go build -o "$bin/gen" ./diff/internal/cmd/gen-bench-pairs
go build -o "$bin/gen-corpus" ./diff/internal/cmd/gen-diff-corpus
go build -o "$bin/diff-members" ./diff/internal/cmd/diff-members

# agree: for each corpus pair, both tools' verdicts (exit codes) and sets
# of differing members; a line per pair, then the counts.
agree() {
  local corpus=$work/corpus same_verdict=0 same_members=0 total=0 archives=0 name a b rc dc rm dm
  "$bin/gen-corpus" "$corpus"
  # The same images made by Debian's tools, when installed (bench.sh installs them).
  local s
  for s in a b; do
    mkdir -p "$work/img-$s/etc" "$corpus/iso9660-genisoimage" "$corpus/squashfs-mksquashfs"
    echo "version $s" >"$work/img-$s/etc/motd"
    touch -d @1700000000 "$work/img-$s/etc/motd" "$work/img-$s/etc" "$work/img-$s"
    if command -v genisoimage >/dev/null; then
      genisoimage -quiet -R -V CDROM -o "$corpus/iso9660-genisoimage/$s.iso" "$work/img-$s"
      touch "$corpus/iso9660-genisoimage/ARCHIVE"
    fi
    if command -v mksquashfs >/dev/null; then
      mksquashfs "$work/img-$s" "$corpus/squashfs-mksquashfs/$s.sqfs" -quiet -noappend -all-time 1700000000 -mkfs-time 1700000000 >/dev/null
      touch "$corpus/squashfs-mksquashfs/ARCHIVE"
    fi
  done
  printf '\n%-28s %8s %8s  %s\n' "pair" "reprove" "diffosc" "differing members"
  for d in "$corpus"/*/; do
    name=$(basename "$d")
    a=$(ls "$d"a* | head -1); b=$(ls "$d"b* | head -1)
    if [ ! -e "$d/ARCHIVE" ]; then
      rc=0; "$bin/reprove" diff --format json --output /dev/null "$a" "$b" >/dev/null 2>&1 || rc=$?
      dc=0; timeout "$DIFFOSCOPE_TIMEOUT" diffoscope "$a" "$b" >/dev/null 2>&1 || dc=$?
      total=$((total + 1)); [ "$rc" = "$dc" ] && same_verdict=$((same_verdict + 1))
      printf '%-28s %8s %8s  (not an archive)\n' "$name" "$rc" "$dc"
      continue
    fi
    archives=$((archives + 1))
    rc=0; "$bin/reprove" diff --format diffoscope-json --output "$work/r.json" "$a" "$b" >/dev/null 2>&1 || rc=$?
    dc=0; timeout "$DIFFOSCOPE_TIMEOUT" diffoscope --json "$work/d.json" "$a" "$b" >/dev/null 2>&1 || dc=$?
    [ "$dc" = 0 ] && : >"$work/d.json"
    [ "$rc" = 0 ] && : >"$work/r.json"
    rm=$("$bin/diff-members" "$work/r.json" | tr '\n' ' ')
    dm=$("$bin/diff-members" "$work/d.json" | tr '\n' ' ')
    total=$((total + 1))
    [ "$rc" = "$dc" ] && same_verdict=$((same_verdict + 1))
    if [ "$rm" = "$dm" ]; then
      same_members=$((same_members + 1))
      printf '%-28s %8s %8s  same: %s\n' "$name" "$rc" "$dc" "${rm:-(none)}"
    else
      printf '%-28s %8s %8s  reprove: %s| diffoscope: %s\n' "$name" "$rc" "$dc" "${rm:-(none) }" "${dm:-(none)}"
    fi
  done
  printf '\nsame verdict on %d of %d pairs; same differing members on %d of %d archive pairs\n' "$same_verdict" "$total" "$same_members" "$archives"
}
if [ "$what" = agree ]; then
  agree
  exit 0
fi

echo "generating pairs in $work ..." >&2
pairs=$work/pairs
"$bin/gen" "$pairs" "$IDENTICAL_MIB"
cp "$pairs/identical/a.bin" "$pairs/identical/b.bin"
mkdir -p "$pairs/elf"
# An ELF pair: the same Go program linked with different -ldflags (build
# settings, build ID and data differ).
go build -ldflags=-X=main.benchStamp=1 -o "$pairs/elf/a" ./diff/internal/cmd/reprove-diff
go build -ldflags=-X=main.benchStamp=2 -o "$pairs/elf/b" ./diff/internal/cmd/reprove-diff

# measure OUT CMD...: runs CMD under time -v; writes "seconds kib status" to OUT.
measure() {
  local out=$1; shift
  local tv=$work/time.txt status=0
  /usr/bin/time -v -o "$tv" "$@" >/dev/null 2>"$work/stderr.txt" || status=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tv")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
  # h:mm:ss or m:ss.cc to seconds
  local secs
  secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  echo "$secs ${rss:-0} $status" >"$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf "%.1f", a / b }'; }

printf '\n%-28s %10s %10s %12s %12s %8s %8s\n' "pair" "reprove s" "diffosc s" "reprove MiB" "diffosc MiB" "speedup" "mem ×"
names=(tar-50MiB-one-byte tar-50MiB-all-different tar-10000x4KiB-one-changed identical deb elf)
for name in "${names[@]}"; do
  a=$(ls "$pairs/$name"/a* | head -1); b=$(ls "$pairs/$name"/b* | head -1)
  cat "$a" "$b" >/dev/null # same warm page cache for both tools
  measure "$work/r.txt" "${reprove[@]}" "$a" "$b"
  read -r rs rk rst <"$work/r.txt"
  if [ "$rst" -gt 1 ]; then echo "reprove failed on $name (exit $rst):" >&2; cat "$work/stderr.txt" >&2; fi
  measure "$work/d.txt" timeout "$DIFFOSCOPE_TIMEOUT" diffoscope --json /dev/null "$a" "$b"
  read -r ds dk dst <"$work/d.txt"
  note=""
  [ "$dst" = 124 ] && note=" (diffoscope timed out at ${DIFFOSCOPE_TIMEOUT}s)"
  printf '%-28s %10.2f %10.2f %12.1f %12.1f %7sx %7sx%s\n' "$name" "$rs" "$ds" "$(awk -v k="$rk" 'BEGIN{print k/1024}')" \
    "$(awk -v k="$dk" 'BEGIN{print k/1024}')" "$(ratio "$ds" "$rs")" "$(ratio "$dk" "$rk")" "$note"
done

measure "$work/o.txt" openssl dgst -sha256 "$pairs/identical/a.bin" "$pairs/identical/b.bin"
read -r os ok ost <"$work/o.txt"
measure "$work/r.txt" "${reprove[@]}" "$pairs/identical/a.bin" "$pairs/identical/b.bin"
read -r rs rk rst <"$work/r.txt"
printf '\nidentical %d MiB × 2: openssl dgst -sha256 on both %.2f s, reprove %.2f s (%sx openssl time)\n' "$IDENTICAL_MIB" "$os" "$rs" "$(ratio "$rs" "$os")"
echo "reprove binary: $which_reprove"
[ "$what" = all ] && agree
exit 0
