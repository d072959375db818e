#!/usr/bin/env bash
# Runs one cargo-fuzz target of zzz-core for a while and prints a one-line summary.
#
#   ci/fuzz.sh TARGET SECONDS        e.g. ci/fuzz.sh head_parser 60
#
# Targets live in core/fuzz/fuzz_targets/, each with a seed corpus in core/fuzz/corpus/TARGET/:
#   head_parser      request heads, whole and split anywhere
#   chunked_decoder  chunked bodies, whole and split anywhere
#   router           route tables built from methods and pattern pieces, and lookups, against
#                    a model of the documented specificity and method rules (405, Allow)
#   percent_query    percent-decoding and query pairs, against RFC 3986 and rust-url's crates
#   json_body        typed JSON bodies and the media-type check, against serde_json
#   server           the whole sans-IO server with several connections: bytes, completion
#                    sizes, errors, EOFs, closes and clock ticks chosen by the input
#   websocket_frames WebSocket frames through the message state machine, whole and split
#                    anywhere: same events, ranges inside the input, completed text is UTF-8
#   mqtt_packets     MQTT 3.1.1 packet streams through the header decoder split anywhere and
#                    whole: same packets and verdict, fields inside the input, re-encoding equal
# Each target's file says what its input means and what it checks. ci/fuzz-long.sh runs them
# all for longer.
#
# Needs the nightly toolchain; installs cargo-fuzz if it is missing. Exits non-zero if the
# target crashes (the crashing input is left in core/fuzz/artifacts/TARGET/). The committed
# corpus in core/fuzz/corpus/TARGET/ seeds the run and is left untouched: new entries go to a
# scratch directory, removed afterwards, unless FUZZ_KEEP_CORPUS=1 (then they go to the
# committed corpus; minimise before committing them: cargo +nightly fuzz cmin TARGET).
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
if [[ ! -f "fuzz/fuzz_targets/$target.rs" ]]; then
    targets=$(cd fuzz/fuzz_targets && ls ./*.rs | sed 's|^\./||; s|\.rs$||' | paste -sd ' ')
    echo "fuzz $target: no such target (core/fuzz/fuzz_targets/ has: $targets)" >&2
    exit 2
fi
log=$(mktemp)
scratch=$(mktemp -d)
trap 'rm -rf "$log" "$scratch"' EXIT
seeds="fuzz/corpus/$target"
if [[ ${FUZZ_KEEP_CORPUS:-0} = 1 ]]; then
    mkdir -p "$seeds"
    corpora=("$seeds")
elif [[ -d $seeds ]]; then
    corpora=("$scratch" "$seeds")
else
    # Fuzzing still works from nothing, but far more slowly: say so, and where seeds belong.
    echo "fuzz $target: warning: no seed corpus in core/$seeds, starting from an empty one" \
        "(add a few small valid inputs there)" >&2
    corpora=("$scratch")
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
