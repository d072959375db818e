#!/usr/bin/env bash
# The README's test command: everything CI checks, from a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "setup"
ci/setup.sh

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "tests"
cargo test --workspace

step "OpenAPI: the notes API's document validated, and checked live by schemathesis"
ci/openapi-check.sh

step "simulation campaign (2,000 seeds of zzz-sim)"
cargo run -p zzz-sim --release -- --seeds 0..2000

step "no_std build of zzz-core and zzz-apps (thumbv7em-none-eabihf)"
cargo build -p zzz-core --no-default-features --target thumbv7em-none-eabihf
cargo build -p zzz-core --no-default-features --features json --target thumbv7em-none-eabihf
cargo build -p zzz-core --no-default-features --features templates --target thumbv7em-none-eabihf
cargo build -p zzz-apps --target thumbv7em-none-eabihf

step "firmware: HTTP over UART0 on an emulated Cortex-M4 (QEMU mps2-an386)"
ci/firmware.sh

step "ARM Linux boards: aarch64 and armv7 cross-built, core and poll tests under qemu-user"
ci/cross.sh

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "fuzz (20 s per target; ci/fuzz-long.sh runs each for an hour)"
for file in core/fuzz/fuzz_targets/*.rs; do
    ci/fuzz.sh "$(basename "$file" .rs)" 20
done

step "all checks passed"
