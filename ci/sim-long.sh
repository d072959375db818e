#!/usr/bin/env bash
# The long simulation campaign: 100,000 seeds of zzz-sim (about 15 minutes on one core).
# Prints failing seeds with the command that reproduces each, the coverage table, and the
# throughput; fails if a seed fails or a required fault class never fired.
# Usage: ci/sim-long.sh [FIRST [COUNT]]
set -euo pipefail
cd "$(dirname "$0")/.."
first=${1:-0}
count=${2:-100000}
cargo run -p zzz-sim --release -- --seeds "$first..$((first + count))"
