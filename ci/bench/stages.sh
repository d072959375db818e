#!/usr/bin/env bash
# Instructions per request by stage (parse, route, handler and response, the HTTP/1.1
# exchange, the server layer, the io_uring loop), counted by callgrind in zzz's bench example
# while wrk drives it.
#
#   bash ci/bench/stages.sh                                 # pipelined x16, 64 connections
#   STAGES_MODE=keepalive bash ci/bench/stages.sh
#   BENCH_ZZZ_BEFORE=/path/to/older/bench bash ci/bench/stages.sh   # before and after
#
# Builds examples/bench.rs (release), runs it under valgrind's callgrind pinned to
# BENCH_SERVER_CPU, warms it up with wrk (pinned to BENCH_CLIENT_CPU), zeroes the counters
# (callgrind_control -z), runs wrk for STAGES_SECONDS, dumps them (callgrind_control -d) and
# stops the server by its PID. ci/bench/stages.py then divides each stage's instructions by
# the requests wrk counted. Under callgrind the server runs some 50 times slower, so wrk is
# never the limit and the batches are smaller than in ci/bench/run.sh: the figures are
# instructions per request in zzz's own code (not the kernel's), comparable between builds
# measured the same way, not a prediction of throughput.
#
# Settings (environment):
#   STAGES_MODE=pipelined     or keepalive
#   STAGES_CONNS=64  STAGES_SECONDS=6  STAGES_WARMUP=2  BENCH_PIPELINE_DEPTH=16
#   BENCH_ADDR=127.0.0.1:18480  BENCH_SERVER_CPU=0  BENCH_CLIENT_CPU=1
#   BENCH_ZZZ_BEFORE          another build of the bench example, profiled first as "before"
#   BENCH_NO_BUILD=1          use target/release/examples/bench as it is
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=${STAGES_MODE:-pipelined}
conns=${STAGES_CONNS:-64}
seconds=${STAGES_SECONDS:-6}
warmup=${STAGES_WARMUP:-2}
depth=${BENCH_PIPELINE_DEPTH:-16}
addr=${BENCH_ADDR:-127.0.0.1:18480}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}

log() { printf '[stages] %s\n' "$*" >&2; }
die() { printf '[stages] error: %s\n' "$*" >&2; exit 1; }

case "$addr" in
  127.*:* | '[::1]':*) ;;
  *) die "BENCH_ADDR=$addr is not a loopback address" ;;
esac
case "$mode" in
  pipelined) script=(-s "$here/pipeline.lua") script_args=(-- "$depth") ;;
  keepalive) script=() script_args=() ;;
  *) die "STAGES_MODE is pipelined or keepalive, not '$mode'" ;;
esac
for n in "$conns" "$seconds" "$warmup" "$depth" "$server_cpu" "$client_cpu"; do
  [[ $n =~ ^[0-9]+$ ]] || die "not a whole number: '$n'"
done

source "$root/ci/apt.sh"
apt_install_for valgrind:valgrind wrk:wrk curl:curl

after=${CARGO_TARGET_DIR:-$root/target}/release/examples/bench
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  log "building zzz (cargo build --release --example bench)"
  (cd "$root" && cargo build --release --example bench)
fi
profiles=()
[ -z "${BENCH_ZZZ_BEFORE:-}" ] || profiles+=("before=$BENCH_ZZZ_BEFORE")
profiles+=("after=$after")
[ ${#profiles[@]} -gt 1 ] || profiles=("zzz=$after")

out=$(mktemp -d)
server=
stop_server() {
  [ -n "$server" ] || return 0
  kill -KILL "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
}
trap 'stop_server; rm -rf "$out"' EXIT

url=http://$addr/plaintext
wrk_for() { taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"$1"s "${script[@]}" "$url" "${script_args[@]}"; }

columns=()
for spec in "${profiles[@]}"; do
  name=${spec%%=*} binary=${spec#*=}
  [ -x "$binary" ] || die "no binary at $binary"
  profile=$out/$name.callgrind
  log "$name: $binary under callgrind, $mode, $conns connections"
  taskset -c "$server_cpu" valgrind --tool=callgrind --callgrind-out-file="$profile" \
    "$binary" "$addr" --threads 1 >"$out/$name.log" 2>&1 &
  server=$!
  for _ in $(seq 300); do
    curl -s -o /dev/null -m 1 "$url" && break
    kill -0 "$server" 2>/dev/null || die "$name exited during start-up: $(cat "$out/$name.log")"
    sleep 0.2
  done
  curl -s -o /dev/null -m 1 "$url" || die "$name did not answer at $addr"
  [ "$warmup" = 0 ] || wrk_for "$warmup" >/dev/null
  callgrind_control -z "$server" >/dev/null 2>&1
  requests=$(wrk_for "$seconds" | awk '/requests in/ { print $1 }')
  callgrind_control -d "$server" >/dev/null 2>&1
  stop_server
  dumped=$(ls "$profile".* 2>/dev/null | head -1)
  [ -n "$dumped" ] && [ -n "$requests" ] || die "$name: no profile or no request count"
  log "$name: $requests requests"
  columns+=("$name=$dumped:$requests")
done

echo "Instructions per request by stage ($mode, $conns connections, callgrind):"
echo
python3 "$here/stages.py" "${columns[@]}"
