#!/usr/bin/env bash
# Checks that a server answers the pages cells' routes as zzz does (ci/bench/pages.py check):
#   ci/bench/check-pages.sh SITE_ADDR API_ADDR ZZZ_SITE_ADDR ZZZ_API_ADDR
# SITE_ADDR serves the site's home page (`GET /`), API_ADDR the notes API (`/notes`); they may be
# the same address. ZZZ_* are running zzz servers to compare with: `cargo run --release
# --example site -- ADDR` and `--example api -- ADDR`. Status, media type and body must match:
# byte for byte for the home page and a note, in shape for problem details. Prints one line per
# check and exits non-zero if any failed. The stores are left as they were found.
set -euo pipefail
[ $# = 4 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
exec python3 "$(dirname "${BASH_SOURCE[0]}")/pages.py" check "$@"
