#!/bin/sh
# SPDX-License-Identifier: MIT
# Render the PNG sizes of heed's icon from heed.svg (run after changing it,
# then commit the PNGs: building and packaging need no SVG renderer).
# Needs rsvg-convert (Debian: librsvg2-bin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for s in 16 24 32 48 64 128 256; do
    mkdir -p "$here/hicolor/${s}x${s}/apps"
    rsvg-convert -w "$s" -h "$s" "$here/heed.svg" -o "$here/hicolor/${s}x${s}/apps/heed.png"
done
