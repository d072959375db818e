#!/usr/bin/env bash
# Installs what the tests need on a fresh machine: Rust components and targets, and the apt
# packages of the tests that use real clients. Idempotent; quick when everything is there.
set -euo pipefail

rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add thumbv7em-none-eabihf >/dev/null

need_apt=()
for tool in curl:curl wrk:wrk nc:netcat-openbsd python3:python3 chromium:chromium \
    redis-cli:redis-tools redis-benchmark:redis-tools; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
if ((${#need_apt[@]})); then
    echo "ci/setup.sh: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $(printf '%s\n' "${need_apt[@]}" | sort -u) >/dev/null
fi

# The Python packages the tests import, pinned, in a virtualenv under the target directory
# (tests/support finds it there).
REDIS_PY_VERSION=8.2.0
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="$target_dir/test-venv"
installed() {
    "$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("redis") != sys.argv[1])' \
        "$REDIS_PY_VERSION" 2>/dev/null
}
if ! installed; then
    echo "ci/setup.sh: installing redis-py $REDIS_PY_VERSION into $venv"
    if ! python3 -m venv "$venv"; then
        # Debian's python3 keeps venv (ensurepip) in a package of its own.
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "redis==$REDIS_PY_VERSION"
fi
