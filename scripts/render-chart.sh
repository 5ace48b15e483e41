#!/usr/bin/env bash
# Renders an SVG chart to PNG in a real browser (headless Chromium), to check that it reads well
# as a client would see it: scripts/render-chart.sh docs/frontier.svg docs/frontier.png
# Needs Debian's chromium (`apt-get install -y chromium`). Exit status 2 for usage, 1 on failure.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: scripts/render-chart.sh CHART.svg [OUT.png]" >&2
    exit 2
fi
svg=$1
png=${2:-${svg%.svg}.png}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "render-chart: chromium not found (apt-get install -y chromium)" >&2
    exit 1
fi
# Chromium writes the screenshot relative to its working directory: give absolute paths.
svg_abs=$(cd "$(dirname "$svg")" && pwd)/$(basename "$svg")
png_abs=$(mkdir -p "$(dirname "$png")" && cd "$(dirname "$png")" && pwd)/$(basename "$png")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" --window-size=900,600 \
    --screenshot="$png_abs" "file://$svg_abs" >/dev/null 2>&1
if [ ! -s "$png_abs" ]; then
    echo "render-chart: no screenshot written to $png" >&2
    exit 1
fi
echo "$png"
