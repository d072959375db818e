#!/usr/bin/env bash
# Installs what the tests need on a fresh machine: Rust components and targets, and the apt
# packages of the tests that use real clients. Idempotent; quick when everything is there.
set -euo pipefail

rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add thumbv7em-none-eabihf >/dev/null

source "$(dirname "$0")/apt.sh"
apt_install_for curl:curl wrk:wrk nc:netcat-openbsd python3:python3 chromium:chromium \
    redis-cli:redis-tools redis-benchmark:redis-tools \
    mosquitto:mosquitto mosquitto_sub:mosquitto-clients mosquitto_pub:mosquitto-clients

# The Python packages the tests import, pinned, in a virtualenv under the target directory
# (tests/support finds it there).
REDIS_PY_VERSION=8.2.0
WEBSOCKETS_VERSION=17.4
PAHO_MQTT_VERSION=2.2.0
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
source "$(dirname "$0")/pinned-venv.sh"
pinned_venv "$target_dir/test-venv" "redis==$REDIS_PY_VERSION" "websockets==$WEBSOCKETS_VERSION" \
    "paho-mqtt==$PAHO_MQTT_VERSION"
