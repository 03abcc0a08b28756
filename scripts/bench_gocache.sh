#!/usr/bin/env bash
# The Go build cache the candidates of one verify share (issue 13): a Go
# CLI released goreleaser-style (-X into internal/version, stripped) whose
# -X flags were given in an order reprove tries third, so the first two
# candidates are rebuilt and fail, and the third matches. Prints each
# candidate's build time from the text report: the first compiles the
# standard library (what every candidate cost before the cache was shared),
# the others relink.
#
#   scripts/bench_gocache.sh     # as root; needs the Go module proxy
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/reprove" .
debs=${REPROVE_TEST_DEBS:-$root/.cache/debs}
mkdir -p "$debs"
ref=$("$work/reprove" image build -q --cache-dir "$work/cache" --debs "$debs" -o "$work/image" git)
digest=${ref##*@}

repo=$work/src/hello
mkdir -p "$repo/cmd/hello" "$repo/internal/version"
cat > "$repo/go.mod" <<'EOM'
module github.com/acme/hello

go 1.22
EOM
cat > "$repo/internal/version/version.go" <<'EOM'
package version

import "fmt"

var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)

func String() string { return fmt.Sprintf("%s (%s, %s)", Version, Commit, Date) }
EOM
cat > "$repo/cmd/hello/main.go" <<'EOM'
package main

import "github.com/acme/hello/internal/version"

func main() { println("hello", version.String()) }
EOM
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
export GIT_AUTHOR_DATE=2024-01-02T03:04:05Z GIT_COMMITTER_DATE=2024-01-02T03:04:05Z
git -C "$repo" init -q -b main && git -C "$repo" add . && git -C "$repo" commit -qm release && git -C "$repo" tag v1.2.3
rev=$(git -C "$repo" rev-parse HEAD)
v=github.com/acme/hello/internal/version
(cd "$repo" && GOFLAGS=-buildvcs=true CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath \
	-ldflags="-s -w -X $v.Version=1.2.3 -X $v.Date=2024-03-04T05:06:07Z -X $v.Commit=$rev" -o "$work/bin/hello" ./cmd/hello)

start=$(date +%s)
"$work/reprove" verify --cache-dir "$work/cache" \
	--replace-source "git+https://github.com/acme/hello=git+file://$repo" \
	--builder-image "oci-layout:$work/image@$digest" "$work/bin/hello" | tee "$work/out.txt" | grep -E '^\s+[0-9]+\. ' || true
echo "total: $(( $(date +%s) - start ))s (inference, fetches and the three builds)"
grep -q ': reproducible' "$work/out.txt"
