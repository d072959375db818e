#!/usr/bin/env bash
# Runs one cargo-fuzz target of zzz-core for a while and prints a one-line summary.
#
#   ci/fuzz.sh TARGET SECONDS        e.g. ci/fuzz.sh head_parser 60
#
# Targets live in core/fuzz/fuzz_targets/ (head_parser, chunked_decoder). Needs the nightly
# toolchain; installs cargo-fuzz if it is missing. Exits non-zero if the target crashes (the
# crashing input is left in core/fuzz/artifacts/TARGET/). The committed corpus in
# core/fuzz/corpus/TARGET/ seeds the run and is left untouched: new entries go to a scratch
# directory, removed afterwards, unless FUZZ_KEEP_CORPUS=1 (then they go to the committed
# corpus; minimise before committing them: cargo +nightly fuzz cmin TARGET).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 TARGET SECONDS" >&2
    exit 2
fi
target=$1
seconds=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd "$root/core"
log=$(mktemp)
scratch=$(mktemp -d)
trap 'rm -rf "$log" "$scratch"' EXIT
if [[ ${FUZZ_KEEP_CORPUS:-0} = 1 ]]; then
    corpora=("fuzz/corpus/$target")
else
    corpora=("$scratch" "fuzz/corpus/$target")
fi

status=0
cargo +nightly fuzz run "$target" "${corpora[@]}" -- -max_total_time="$seconds" -print_final_stats=1 \
    >"$log" 2>&1 || status=$?

runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n1 || true)
rate=$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n1 || true)
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1 | grep -oE '[0-9]+' || true)
corpus=$(find "${corpora[@]}" -type f 2>/dev/null | wc -l)

if [[ $status -eq 0 ]]; then
    echo "fuzz $target: ok, ${runs:-?} runs in ${seconds}s (${rate:-?} exec/s), cov ${cov:-?}, corpus $corpus files"
else
    tail -n 40 "$log" >&2
    artifact=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -n1 | sed 's/Test unit written to //' || true)
    echo "fuzz $target: FAILED (exit $status) after ${runs:-?} runs${artifact:+, crash input: $artifact}" >&2
fi
exit "$status"
