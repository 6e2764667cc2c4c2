#!/usr/bin/env bash
# Rebuilds trainer/assets/fonts/DejaVuSans-subset.ttf, the font minnow embeds to put text in its
# PNG plots: DejaVu Sans (Debian's fonts-dejavu-core; Bitstream Vera license, DejaVu changes in
# the public domain: trainer/assets/fonts/LICENSE-DejaVu.txt) cut down to Latin-1, dashes,
# quotes, arrows and a few math signs (33 KB instead of 760 KB). Needs fonttools, installed from
# PyPI into a throwaway virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet fonttools==4.68.0
"$venv/bin/pyftsubset" "$src" \
  --unicodes="U+0020-007E,U+00A0-00FF,U+2013-2014,U+2018-201D,U+2022,U+2026,U+2190-2193,U+2212,U+2248,U+2264-2265" \
  --layout-features=kern --name-IDs='*' --no-hinting \
  --output-file=trainer/assets/fonts/DejaVuSans-subset.ttf
ls -l trainer/assets/fonts/DejaVuSans-subset.ttf
