#!/usr/bin/env bash
# ARM Linux boards: cross-builds the workspace for aarch64-unknown-linux-gnu and
# armv7-unknown-linux-gnueabihf, and runs tests there under qemu-user.
#
# For each target:
# - builds the workspace (libraries and binaries), linked with Debian's cross gcc;
# - runs under qemu-user: zzz-core's unit, integration and doc tests, with the features the
#   root crate uses (std, log, json, templates); the portable backend's loopback tests
#   (zzz-poll); and, where the root crate builds, tests/fallback.rs: the server started
#   through zzz_uring::Builder with fallback_to_portable(true). qemu-user implements no
#   io_uring (io_uring_setup answers ENOSYS), so that test sees the fallback, its message, and
#   the portable server answering over 127.0.0.1.
#
# Within CI's budget (ci/test.sh runs this on 2 cores): building every target kind of the
# whole workspace (examples, benches, the root crate's tests) for both targets, and running
# the properties at their full counts under qemu, took 23 minutes cold. So examples, benches
# and the other crates' tests are built natively only, and each property runs PROPTEST_CASES
# cases under qemu (default 32; `cargo test` in ci/test.sh runs the full counts natively).
#
# armv7: the io-uring crate (0.7) ships kernel bindings for 64-bit architectures only and
# refuses to compile elsewhere, so zzz-uring, and the root crate `zzz` (which depends on it on
# Linux), are not built for armv7; every other member is, and the core and poll tests run.
#
# The runners and linkers are set here through environment variables, so native builds are
# untouched; the target directory is the workspace's, so a second run is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

# target, gcc prefix, qemu binary, Debian package of its C library.
targets=(
    "aarch64-unknown-linux-gnu aarch64-linux-gnu qemu-aarch64 libc6-dev-arm64-cross"
    "armv7-unknown-linux-gnueabihf arm-linux-gnueabihf qemu-arm libc6-dev-armhf-cross"
)

need_apt=()
for spec in "${targets[@]}"; do
    read -r target gcc qemu libc <<<"$spec"
    command -v "$gcc-gcc" >/dev/null 2>&1 || need_apt+=("gcc-$gcc")
    [[ -d "/usr/$gcc/lib" ]] || need_apt+=("$libc")
    # Debian's qemu-user holds every qemu-<arch> user-mode emulator.
    command -v "$qemu" >/dev/null 2>&1 || need_apt+=(qemu-user)
done
source ci/apt.sh
apt_install "${need_apt[@]}"

for spec in "${targets[@]}"; do
    read -r target gcc qemu _ <<<"$spec"
    rustup target add "$target" >/dev/null
    upper=$(tr 'a-z-' 'A-Z_' <<<"$target")
    export "CARGO_TARGET_${upper}_LINKER=$gcc-gcc"
    export "CARGO_TARGET_${upper}_RUNNER=$qemu -L /usr/$gcc"
    # For any C a build script compiles (the cc crate reads these).
    export "CC_${target//-/_}=$gcc-gcc"
    export "AR_${target//-/_}=$gcc-ar"

    case "$target" in
    armv7-*) excluded=(--exclude zzz --exclude zzz-uring) ;;
    *) excluded=() ;;
    esac

    echo "--- $target: build (${excluded[*]:-whole workspace})"
    cargo build --workspace "${excluded[@]}" --target "$target"

    echo "--- $target: zzz-core and zzz-poll tests under $qemu"
    PROPTEST_CASES=${PROPTEST_CASES:-32} cargo test -p zzz-core -p zzz-poll --target "$target" \
        --features zzz-core/std,zzz-core/log,zzz-core/json,zzz-core/templates

    if ((${#excluded[@]} == 0)); then
        echo "--- $target: io_uring falls back to the portable server under $qemu"
        cargo test -p zzz --target "$target" --test fallback
    fi
done
