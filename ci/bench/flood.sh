#!/usr/bin/env bash
# The connection-flood benchmark: does a prompt client get answered while a flood of silent
# connections arrives? zzz's bench example (one instance, 1024 connections) against nginx
# (one worker, worker_connections 1024), each in turn on a loopback port, with
# ci/bench/flood.py as the clients: FLOOD_CONNS (10,000) connections that never send a byte,
# FLOOD_RATE (500) per second, while one request every 10 ms on a fresh connection, 1,000 in
# all, each given 5 s. Prints, per server, the requests answered, their latency, what became
# of the flood, and the server's resident memory before and after (VmRSS, VmHWM).
#
#   bash ci/bench/flood.sh                      # about 1 minute per server
#   FLOOD_SERVERS=zzz bash ci/bench/flood.sh    # zzz only
#   FLOOD_ZZZ_BIN=/path/to/bench bash ci/bench/flood.sh   # another build of the bench example
#
# Servers are started by this script and stopped by their PIDs. Installs nginx (apt) if it is
# missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
servers=${FLOOD_SERVERS:-"zzz nginx"}
port=${FLOOD_PORT:-18090}
addr="127.0.0.1:$port"

log() { printf '[flood] %s\n' "$*" >&2; }

zzz_bin=${FLOOD_ZZZ_BIN:-}
if [[ -z $zzz_bin && " $servers " == *" zzz "* ]]; then
  (cd "$root" && cargo build --release --example bench --quiet)
  zzz_bin="$(cd "$root" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/bench"
fi
source "$root/ci/apt.sh"
if [[ " $servers " == *" nginx "* ]]; then
  # Debian's smallest nginx where it still has one; plain nginx otherwise.
  apt_install_for nginx:nginx-light 2>/dev/null || apt_install_for nginx:nginx
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

scratch=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

start_server() {
  case $1 in
    zzz)
      "$zzz_bin" "$addr" >"$scratch/zzz.log" 2>&1 &
      pid=$!
      ;;
    nginx)
      mkdir -p "$scratch/nginx"
      cat >"$scratch/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $scratch/nginx/nginx.pid;
error_log $scratch/nginx/error.log crit;
worker_rlimit_nofile 20000;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $scratch/nginx;
  proxy_temp_path $scratch/nginx;
  fastcgi_temp_path $scratch/nginx;
  uwsgi_temp_path $scratch/nginx;
  scgi_temp_path $scratch/nginx;
  server {
    listen $addr reuseport backlog=4096;
    location = /plaintext { default_type text/plain; return 200 "Hello, World!"; }
  }
}
CONF
      "$nginx_bin" -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf" &
      pid=$!
      ;;
  esac
  for _ in $(seq 200); do
    if curl -s -o /dev/null "http://$addr/plaintext"; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { log "$1 did not start"; return 1; }
    python3 -c 'import time; time.sleep(0.05)'
  done
  log "$1 did not answer"; return 1
}

rss() { awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {printf "%.1f %.1f", r/1024, h/1024}' "/proc/$pid/status"; }

printf '| server | answered | errors | p50 ms | p99 ms | max ms | flood opened | flood closed by server | RSS before MiB | RSS after MiB | peak RSS MiB |\n'
printf '|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|\n'
for server in $servers; do
  start_server "$server"
  read -r rss_before _ <<<"$(rss)"
  result=$(python3 "$here/flood.py" "$addr")
  read -r rss_after hwm <<<"$(rss)"
  python3 - "$server" "$result" "$rss_before" "$rss_after" "$hwm" <<'PY'
import json, sys
server, result, before, after, hwm = sys.argv[1], json.loads(sys.argv[2]), *sys.argv[3:]
errors = ", ".join(f"{k} {v}" for k, v in result["errors"].items()) or "none"
print(f"| {server} | {result['answered']} / {result['requests']} | {errors} | {result['p50_ms']} | "
      f"{result['p99_ms']} | {result['max_ms']} | {result['flood_opened']} | "
      f"{result['flood_closed_by_server']} | {before} | {after} | {hwm} |")
PY
  if [[ $server == zzz ]]; then
    kill -INT "$pid"; wait "$pid" || true
    grep -E "instance 0" "$scratch/zzz.log" | sed "s/^/[flood] /" >&2 || true
  else
    kill "$pid"; wait "$pid" || true
  fi
  pid=""
done
