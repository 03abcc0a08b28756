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
# Each fixture gets its own copy of the image: a manifest may only read below
# its own folder (unless --allow-path widens it), and so may the demo.
for tmpl in fixtures/*/reprove.yaml.in; do
	dir=$(dirname "$tmpl")
	rm -rf "$dir/image"
	cp -r "$images/busybox" "$dir/image"
	sed "s|@BUSYBOX_IMAGE@|oci-layout:image@$digest|" "$tmpl" > "$dir/reprove.yaml"
done
echo "oci-layout:$images/busybox@$digest"
