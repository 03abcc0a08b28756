#!/usr/bin/env bash
# Builds the fixture builder image locally and deterministically with
# `reprove image build` (its lock is kept in .cache/images), and renders
# fixtures/*/reprove.yaml from their templates with the image's digest.
# Usage: scripts/fixtures.sh   (prints the busybox image reference)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
images=$root/fixtures/images
debs=${REPROVE_TEST_DEBS:-$root/.cache/debs}
mkdir -p "$images" "$debs" "$root/.cache/images"
ref=$(go run . image build -q --cache-dir "$root/.cache/reprove" --lock "$root/.cache/images/busybox.lock" \
	--debs "$debs" -o "$images/busybox" fixtures/recipes/busybox.yaml)
digest=${ref##*@}
# Each fixture gets its own copy of the image: a manifest may only read below
# its own folder (unless --allow-path widens it), and so may the demo.
for tmpl in fixtures/*/reprove.yaml.in; do
	dir=$(dirname "$tmpl")
	rm -rf "$dir/image"
	cp -r "$images/busybox" "$dir/image"
	sed "s|@BUSYBOX_IMAGE@|oci-layout:image@$digest|" "$tmpl" > "$dir/reprove.yaml"
done
echo "oci-layout:$images/busybox@$digest"
