#!/usr/bin/env bash
# Builds the fixture builder images locally and deterministically, and renders
# fixtures/*/reprove.yaml from their templates with the images' digests.
# Usage: scripts/fixtures.sh   (prints the busybox image reference)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
images=$root/fixtures/images
mkdir -p "$images" "$root/.cache/debs"
digest=$(go run ./fixtures/imagebuild/cmd/imagebuild -recipe busybox -debs "$root/.cache/debs" -o "$images/busybox")
for tmpl in fixtures/*/reprove.yaml.in; do
	dir=$(dirname "$tmpl")
	rel=$(realpath --relative-to="$dir" "$images/busybox")
	sed "s|@BUSYBOX_IMAGE@|oci-layout:$rel@$digest|" "$tmpl" > "$dir/reprove.yaml"
done
echo "oci-layout:$images/busybox@$digest"
