#!/usr/bin/env bash
# Runs every cargo-fuzz target of zzz-core for an hour each, writes one summary line per
# target into a report and prints it; exits non-zero if any target crashed.
#
#   ci/fuzz-long.sh                       every target, 3600 s each
#   ci/fuzz-long.sh router server         those targets only
#   FUZZ_SECONDS=60 ci/fuzz-long.sh       a minute each
#
# FUZZ_SECONDS  seconds per target (default 3600)
# FUZZ_JOBS     targets run at once (default: the number of cores, never more)
# FUZZ_REPORT   the report file (default ci/fuzz-results/latest.txt)
# Each target runs through ci/fuzz.sh at the lowest priority (nice 19), so the machine stays
# usable; FUZZ_KEEP_CORPUS=1 is passed on (new corpus entries kept). Crashing inputs are left
# in core/fuzz/artifacts/TARGET/; each target's full log is kept beside the report.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

seconds=${FUZZ_SECONDS:-3600}
cores=$(nproc)
jobs=${FUZZ_JOBS:-$cores}
((jobs > cores)) && jobs=$cores
((jobs < 1)) && jobs=1
report=${FUZZ_REPORT:-ci/fuzz-results/latest.txt}
logs="${report%.txt}-logs"
mkdir -p "$(dirname "$report")" "$logs"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
if (($#)); then
    targets=("$@")
    for target in "${targets[@]}"; do
        [[ -f core/fuzz/fuzz_targets/$target.rs ]] || {
            echo "fuzz-long: no target $target in core/fuzz/fuzz_targets" >&2
            exit 2
        }
    done
else
    mapfile -t targets < <(cd core/fuzz/fuzz_targets && ls ./*.rs | sed 's|^\./||; s|\.rs$||')
fi

# Build every target once, so that the runs do not wait on each other's builds.
(cd core && cargo +nightly fuzz build >/dev/null)

echo "fuzz-long: ${#targets[@]} targets x ${seconds}s, $jobs at once, from $(git rev-parse --short HEAD)"
for target in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do
        wait -n || true
    done
    nice -n 19 ci/fuzz.sh "$target" "$seconds" >"$logs/$target.log" 2>&1 &
done
wait || true

# One line per target, from the summary ci/fuzz.sh ends its log with. libFuzzer stops at the
# first crash, so a target has 0 or 1.
{
    echo "# fuzz-long $(date -u +%Y-%m-%dT%H:%MZ) at $(git rev-parse --short HEAD), ${seconds}s per target, $jobs at once"
    printf '%-16s %-7s %12s %9s %7s %8s %8s\n' target result runs exec/s cov corpus crashes
} >"$report"
failed=0
for target in "${targets[@]}"; do
    line=$(grep -E "^fuzz $target: " "$logs/$target.log" | tail -n1 || true)
    field() {
        local value
        value=$(grep -oE "$1" <<<"$line" | grep -oE '[0-9]+' | head -n1 || true)
        echo "${value:--}"
    }
    if [[ $line == *": ok,"* ]]; then
        result=ok crashes=0
    else
        result=CRASHED crashes=1 failed=1
    fi
    printf '%-16s %-7s %12s %9s %7s %8s %8s\n' "$target" "$result" \
        "$(field '[0-9]+ runs')" "$(field '\([0-9]+ exec/s')" "$(field 'cov [0-9]+')" \
        "$(field 'corpus [0-9]+')" "$crashes" >>"$report"
    if [[ $result != ok ]]; then
        echo "  $line" >>"$report"
    fi
done
cat "$report"
echo "fuzz-long: report in $report, logs in $logs/"
exit "$failed"
