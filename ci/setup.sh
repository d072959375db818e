#!/usr/bin/env bash
# Installs what the tests need on a fresh machine: Rust components and targets, and the apt
# packages of the tests that use real clients. Idempotent; quick when everything is there.
set -euo pipefail

rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add thumbv7em-none-eabihf >/dev/null

need_apt=()
for tool in curl:curl wrk:wrk nc:netcat-openbsd python3:python3 chromium:chromium; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
if ((${#need_apt[@]})); then
    echo "ci/setup.sh: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
