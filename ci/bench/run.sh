#!/usr/bin/env bash
# The HTTP benchmark: zzz against the peers in ci/bench/peers/, on plaintext or on real pages.
#
#   bash ci/bench/run.sh                      # plaintext, about 10 minutes with six servers
#   BENCH_PAGES=1 bash ci/bench/run.sh        # the pages cells, about 8 minutes with three
#   BENCH_SECONDS=3 BENCH_WARMUP=1 bash ci/bench/run.sh   # a quick one
#
# Builds every server, starts each with one thread pinned to one CPU (BENCH_SERVER_CPU) on a
# port of its own, and checks the bench contract on it (ci/bench/check.sh). Then for each cell
# (mode x connections): a warm-up for every server, then BENCH_RUNS measured wrk runs (one wrk
# thread pinned to BENCH_CLIENT_CPU) that go round the servers, so that drift in the machine's
# speed (a VM shares its host) hits every server alike. Modes: keep-alive GET /plaintext, and
# pipelined (ci/bench/pipeline.lua, BENCH_PIPELINE_DEPTH requests per write) on the bench
# contract (examples/bench.rs); and the pages modes, on what users serve: `home` (GET / of
# the site, examples/site.rs: an askama template with loops, 2.3 KiB), `note-get` (GET
# /notes/{id} of the notes API, examples/api.rs: a note as JSON) and `note-post` (POST /notes
# with a JSON body, each created note deleted again: ci/bench/notes-post.lua). A server serves
# a mode through one of its roles, each a process of its own on its own port: `bench` (the
# plaintext modes), `site` (home), `api` (the notes modes). zzz has all three (three
# examples); the pages peers serve site and api (one binary, started once per role); the other
# peers only bench. Pages servers are checked against zzz's answers (ci/bench/check-pages.sh);
# the note the GET cells read is created after the check (ci/bench/pages.py fixture), and
# every note-post run starts from a store holding only that note (pages.py reset). Per run it
# records wrk's output, the server's CPU time (utime and stime of its PID from /proc/PID/stat),
# its peak RSS (VmHWM, reset per run through /proc/PID/clear_refs), wrk's CPU time, and how much
# of the two CPUs other processes took (/proc/stat). ci/bench/report.py turns that into a Markdown table, printed and
# written to ci/bench/results/latest.md; raw outputs stay in ci/bench/results/<stamp>/.
#
# Servers are stopped by the PIDs this script started, never by name. Traffic goes only to
# BENCH_ADDR's host, which must be a loopback address.
#
# Settings (environment):
#   BENCH_SECONDS=10         length of each measured run
#   BENCH_WARMUP=2           length of the warm-up before each cell (0: none)
#   BENCH_RUNS=2             measured runs per cell
#   BENCH_CONNS="64 256"     wrk connection counts
#   BENCH_MODES="keepalive pipelined"   also home, note-get, note-post (the pages modes)
#   BENCH_PIPELINE_DEPTH=16
#   BENCH_SERVERS="zzz zzz-nowait actix hyper may-minihttp uring-limit"
#                            zzz-nowait is zzz with --batch-wait-us 0: the report gives both
#                            sides of the trade between CPU per request and latency;
#                            also actix-pages and axum-pages (the pages peers: they serve the
#                            pages modes only, as the plaintext peers the plaintext ones);
#                            also zzz-direct (zzz with --recv-direct), to compare zzz's
#                            receive modes,
#                            and zzz-before: another build of the bench example, named by
#                            BENCH_ZZZ_BEFORE, to compare two versions of zzz in one run
#   BENCH_PAGES=1            the pages cells: BENCH_MODES="home note-get note-post" and
#                            BENCH_SERVERS="zzz actix-pages axum-pages" unless they are set;
#                            the report goes to ci/bench/results/pages-latest.md
#   BENCH_REPORT=ci/bench/results/latest.md    where the report is copied
#   BENCH_ADDR=127.0.0.1:18080    the first server's; the next ones take the following ports
#   BENCH_SERVER_CPU=0  BENCH_CLIENT_CPU=1
#   BENCH_START_TIMEOUT=20   seconds a server gets to answer its first request
#   BENCH_QUIET_TIMEOUT=30   seconds a run waits for other processes to leave the CPUs alone
#   BENCH_MAX_OTHER_LOAD=10  per cent of the CPUs other processes may take before a run is redone
#   BENCH_RETRIES=2          how often a run is redone for that
#   BENCH_WAIT_BUDGET=300    seconds of waiting and redoing allowed in the whole benchmark
#   BENCH_NO_BUILD=1         use the binaries as they are
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-2}
runs=${BENCH_RUNS:-2}
conns_list=${BENCH_CONNS:-"64 256"}
if [ "${BENCH_PAGES:-0}" = 1 ]; then
  modes=${BENCH_MODES:-"home note-get note-post"}
  servers=${BENCH_SERVERS:-"zzz actix-pages axum-pages"}
  report_copy=${BENCH_REPORT:-$here/results/pages-latest.md}
else
  modes=${BENCH_MODES:-"keepalive pipelined"}
  servers=${BENCH_SERVERS:-"zzz zzz-nowait actix hyper may-minihttp uring-limit"}
  report_copy=${BENCH_REPORT:-$here/results/latest.md}
fi
depth=${BENCH_PIPELINE_DEPTH:-16}
addr=${BENCH_ADDR:-127.0.0.1:18080}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}
start_timeout=${BENCH_START_TIMEOUT:-20}
quiet_timeout=${BENCH_QUIET_TIMEOUT:-30}
wait_budget=${BENCH_WAIT_BUDGET:-300}
max_other_load=${BENCH_MAX_OTHER_LOAD:-10}
retries=${BENCH_RETRIES:-2}
threads=1

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

case "$addr" in
  127.*:* | localhost:* | '[::1]':*) ;;
  *) die "BENCH_ADDR=$addr is not a loopback address" ;;
esac
for n in "$seconds" "$warmup" "$runs" "$depth" "$start_timeout" "$quiet_timeout" "$wait_budget" "$max_other_load" "$retries" "$server_cpu" "$client_cpu"; do
  [[ $n =~ ^[0-9]+$ ]] || die "not a whole number: '$n'"
done
[ "$seconds" -gt 0 ] && [ "$runs" -gt 0 ] || die "BENCH_SECONDS and BENCH_RUNS must be positive"
ncpu=$(nproc)
[ "$server_cpu" -lt "$ncpu" ] && [ "$client_cpu" -lt "$ncpu" ] || die "this machine has $ncpu CPUs"
[ "$server_cpu" != "$client_cpu" ] || log "warning: server and client share CPU $server_cpu"

# ---------------------------------------------------------------------------------------------
# Tools.

source "$root/ci/apt.sh"
apt_install_for wrk:wrk curl:curl taskset:util-linux python3:python3
clk_tck=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------------
# Modes and roles. A mode is served through a role; a server runs one process per role it
# serves among those the modes need. The notes check needs the site too (it compares both), so
# the pages modes start both pages roles.

role_of() {
  case "$1" in
    keepalive | pipelined) echo bench ;;
    home) echo site ;;
    note-get | note-post) echo api ;;
    *) return 1 ;;
  esac
}
# roles_of SERVER: the roles it can serve.
roles_of() {
  case "$1" in
    zzz) echo bench site api ;;
    zzz-direct | zzz-nowait | zzz-before | actix | hyper | may-minihttp | uring-limit) echo bench ;;
    actix-pages | axum-pages) echo site api ;;
    *) return 1 ;;
  esac
}
needed_roles=
for m in $modes; do
  r=$(role_of "$m") || die "unknown mode '$m' (keepalive, pipelined, home, note-get, note-post)"
  case "$r" in
    bench) needed_roles+=" bench" ;;
    *) needed_roles+=" site api" ;;
  esac
done
needs() { [[ " $needed_roles " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------
# Builds. Each server has a binary per role (binary[SERVER/ROLE]); a server that cannot be had
# is skipped, loudly.

declare -A binary server_args
skipped=()
zzz_build_failed=
zzz_built=

peer_binary() { echo "${CARGO_TARGET_DIR:-$here/peers/$1/target}/release/peer-$1"; }
# zzz's examples are named after the roles they serve: bench, site, api.
zzz_binary() { echo "${CARGO_TARGET_DIR:-$root/target}/release/examples/$1"; }

# build_zzz: once, every example the modes need.
build_zzz() {
  [ -z "$zzz_built" ] || return 0
  zzz_built=1
  [ -z "${BENCH_NO_BUILD:-}" ] || return 0
  local r args=()
  for r in bench site api; do
    needs "$r" && args+=(--example "$r")
  done
  log "building zzz (cargo build --release ${args[*]})"
  if ! (cd "$root" && cargo build --release "${args[@]}"); then
    log "NOTE: zzz skipped: its build failed; the peers are measured all the same"
    skipped+=("zzz: cargo build --release ${args[*]} failed")
    zzz_build_failed=1
  fi
}

instances=() # SERVER/ROLE, in the order of $servers
for s in $servers; do
  all_roles=$(roles_of "$s") ||
    die "unknown server '$s' (known: zzz zzz-direct zzz-nowait zzz-before actix hyper may-minihttp uring-limit actix-pages axum-pages)"
  roles=()
  for r in $all_roles; do needs "$r" && roles+=("$r"); done
  if [ ${#roles[@]} = 0 ]; then
    log "NOTE: $s serves none of the modes ($modes); left out"
    continue
  fi
  case "$s" in
    zzz | zzz-direct | zzz-nowait)
      if needs bench && [ ! -e "$root/examples/bench.rs" ] && [ ! -e "$root/examples/bench/main.rs" ]; then
        log "NOTE: zzz skipped: examples/bench.rs does not exist yet, so there is no zzz server to measure"
        skipped+=("zzz: examples/bench.rs does not exist yet")
        continue
      fi
      build_zzz
      [ -z "$zzz_build_failed" ] || continue
      for r in "${roles[@]}"; do binary[$s/$r]=$(zzz_binary "$r"); done
      # The site and the notes API take an address only (and run one instance).
      case "$s" in
        zzz) server_args[$s/bench]="--threads $threads" ;;
        zzz-direct) server_args[$s/bench]="--threads $threads --recv-direct" ;;
        zzz-nowait) server_args[$s/bench]="--threads $threads --batch-wait-us 0" ;;
      esac
      ;;
    zzz-before)
      [ -n "${BENCH_ZZZ_BEFORE:-}" ] || die "zzz-before needs BENCH_ZZZ_BEFORE=/path/to/bench"
      binary[$s/bench]=$BENCH_ZZZ_BEFORE
      server_args[$s/bench]="--threads $threads"
      ;;
    *)
      if [ -z "${BENCH_NO_BUILD:-}" ]; then
        log "building peer $s"
        cargo build --release --locked --manifest-path "$here/peers/$s/Cargo.toml"
      fi
      for r in "${roles[@]}"; do
        binary[$s/$r]=$(peer_binary "$s")
        server_args[$s/$r]="--threads $threads"
      done
      ;;
  esac
  for r in "${roles[@]}"; do
    [ -x "${binary[$s/$r]}" ] || die "no binary at ${binary[$s/$r]}"
    instances+=("$s/$r")
  done
done

# ---------------------------------------------------------------------------------------------
# Server life cycle. Every instance (a server in one of its roles, SERVER/ROLE) gets its own port
# (BENCH_ADDR's port + its index) and runs for the whole benchmark, idle while another is
# measured, so that the runs of a cell can go round the servers: on a shared machine whose speed
# drifts, interleaved runs compare like with like. pid[SERVER/ROLE] is the PID this script
# started (taskset execs the server); only those are stopped.

declare -A pid server_addr fixture
host=${addr%:*}
base_port=${addr##*:}
[[ $base_port =~ ^[0-9]+$ ]] || die "BENCH_ADDR needs a port: $addr"

stop_server() {
  local name=$1 p=${pid[$1]:-}
  [ -n "$p" ] || return 0
  pid[$name]=
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$p" 2>/dev/null; then
    log "$name ($p) ignored SIGTERM for 5 s; sending SIGKILL"
    kill -KILL "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
}
stop_all() {
  local name
  for name in "${!pid[@]}"; do stop_server "$name"; done
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

answers() { curl -s -o /dev/null -m 1 "http://$1/plaintext"; }

# start_server SERVER/ROLE ADDR LOGFILE: starts it, waits (bounded) until it answers (any
# status); fails if it does not.
start_server() {
  local name=$1 at=$2 logfile=$3
  if answers "$at"; then
    die "something already answers at $at; choose another BENCH_ADDR"
  fi
  # shellcheck disable=SC2086 # server_args holds whole words
  taskset -c "$server_cpu" "${binary[$name]}" "$at" ${server_args[$name]:-} >"$logfile" 2>&1 &
  pid[$name]=$!
  local tries=$((start_timeout * 10))
  for _ in $(seq "$tries"); do
    if ! kill -0 "${pid[$name]}" 2>/dev/null; then
      wait "${pid[$name]}" 2>/dev/null || true
      pid[$name]=
      log "$name exited during start-up; its log:"
      sed 's/^/    /' "$logfile" >&2
      return 1
    fi
    answers "$at" && return 0
    sleep 0.1
  done
  log "$name did not answer at $at within $start_timeout s"
  stop_server "$name"
  return 1
}

alive() { [ -n "${pid[$1]:-}" ] && kill -0 "${pid[$1]}" 2>/dev/null; }

# cpu_ticks PID: "utime stime" of the whole process (all threads), in clock ticks: the CPU
# time it spent in its own code and in the kernel on its behalf.
cpu_ticks() {
  local stat rest
  stat=$(<"/proc/$1/stat")
  rest=${stat##*) } # the command name may hold spaces and parentheses
  read -r -a f <<<"$rest"
  echo "${f[11]} ${f[12]}" # fields 14 and 15 of stat(5); rest starts at field 3
}

# peak_rss_kb PID: VmHWM in KiB.
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# reset_peak_rss PID: resets VmHWM to the current RSS (Linux >= 4.0); harmless if refused.
reset_peak_rss() { { echo 5 >"/proc/$1/clear_refs"; } 2>/dev/null || true; }

# cpu_jiffies: "task_busy total" jiffies of the server's and the client's CPUs together, from
# /proc/stat: task_busy is user + nice + system (what processes ran; interrupt and softirq time
# is accounted apart), total is every column.
cpu_jiffies() {
  awk -v a="cpu$server_cpu" -v b="cpu$client_cpu" '$1 == a || $1 == b {
    busy += $2 + $3 + $4; for (i = 2; i <= 9; i++) total += $i
  } END { print busy, total }' /proc/stat
}

# children_cpu_seconds FILE: user + system time of the finished children, from `times` output.
children_cpu_seconds() {
  awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, "m"); sub("s", "", t[2]); s += t[1] * 60 + t[2] } }
       END { printf "%.3f\n", s }' "$1"
}

# wrk_run SERVER/ROLE MODE CONNS SECONDS OUTFILE
wrk_run() {
  local inst=$1 mode=$2 conns=$3 secs=$4 out=$5
  local at=${server_addr[$1]}
  local args=(-t1 "-c$conns" "-d${secs}s" --latency)
  case "$mode" in
    keepalive) args+=("http://$at/plaintext") ;;
    pipelined) args+=(-s "$here/pipeline.lua" "http://$at/plaintext" -- "$depth") ;;
    home) args+=("http://$at/") ;;
    note-get) args+=("http://$at${fixture[$inst]}") ;;
    note-post) args+=(-s "$here/notes-post.lua" "http://$at/notes") ;;
  esac
  taskset -c "$client_cpu" wrk "${args[@]}" >"$out" 2>&1
}

# prepare_run SERVER/ROLE MODE: what a run needs before it starts. note-post: the store holds
# only the GET cells' note again (a run ends with notes it did not get to delete). Fails if
# the server does not answer as it should.
prepare_run() {
  [ "$2" = note-post ] || return 0
  python3 "$here/pages.py" reset "${server_addr[$1]}" "${fixture[$1]}" >/dev/null
}

# wait_for_quiet: before a run, waits until the two CPUs are nearly idle over half a second
# (the servers are idle between runs), so that a build or test of someone else on this machine
# does not land inside a measurement. It waits at most BENCH_QUIET_TIMEOUT s at a time and,
# with the redone runs of `measure`, BENCH_WAIT_BUDGET s in the whole benchmark; then it
# measures anyway, and the report's "other load" column shows what ran beside.
wait_spent=0
wait_for_quiet() {
  local start=$SECONDS said= b0 t0 b1 t1 limit=$((wait_budget - wait_spent))
  [ "$limit" -gt 0 ] || return 0
  [ "$limit" -le "$quiet_timeout" ] || limit=$quiet_timeout
  while :; do
    read -r b0 t0 < <(cpu_jiffies)
    sleep 0.5
    read -r b1 t1 < <(cpu_jiffies)
    # Quiet: under 5% of the two CPUs busy.
    [ $((20 * (b1 - b0))) -le $((t1 - t0)) ] && break
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      log "other processes still busy on CPUs $server_cpu,$client_cpu; measuring anyway"
      break
    fi
    [ -n "$said" ] || log "other processes busy on CPUs $server_cpu,$client_cpu; waiting up to $limit s"
    said=1
  done
  wait_spent=$((wait_spent + SECONDS - start))
}

# measure SERVER/ROLE MODE CONNS RUN: one measured wrk run, appended to runs.tsv (as SERVER's).
# Besides the server's
# CPU time it records wrk's (the shell's finished children, by `times`, which runs in this
# shell: no fork) and the task time of both CPUs, so that the share of the two CPUs that went
# to neither (another process competing on this machine) is known. A run where that share
# exceeds BENCH_MAX_OTHER_LOAD per cent is done again, at most BENCH_RETRIES times; the last
# one is kept either way and the report shows its load.
measure() {
  local inst=$1 s=${1%/*} m=$2 c=$3 r=$4 p=${pid[$1]}
  local wrk_out=$out/$s-$m-$c-run$r.txt busy0 total0 busy1 total1 u0 k0 u1 k1 t0 t1 rss w0 w1 wrk_s other
  local try
  for try in $(seq 0 "$retries"); do
    if ! prepare_run "$inst" "$m"; then
      log "$s: could not prepare $m c=$c run $r; left out of the rest"
      stop_server "$inst"
      return 0
    fi
    wait_for_quiet
    reset_peak_rss "$p"
    times >"$out/.times"
    w0=$(children_cpu_seconds "$out/.times")
    read -r busy0 total0 < <(cpu_jiffies)
    read -r u0 k0 < <(cpu_ticks "$p")
    wrk_run "$inst" "$m" "$c" "$seconds" "$wrk_out"
    if ! alive "$inst"; then
      log "$s died during $m c=$c run $r; its log is $out/${inst/\//-}.log"
      pid[$inst]=
      return 0
    fi
    read -r u1 k1 < <(cpu_ticks "$p")
    t0=$((u0 + k0))
    t1=$((u1 + k1))
    read -r busy1 total1 < <(cpu_jiffies)
    times >"$out/.times"
    w1=$(children_cpu_seconds "$out/.times")
    rss=$(peak_rss_kb "$p")
    wrk_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f", b - a }')
    # Other processes' share of the two CPUs, in per cent.
    other=$(awk -v busy=$((busy1 - busy0)) -v total=$((total1 - total0)) -v srv=$((t1 - t0)) \
      -v wrk="$wrk_s" -v hz="$clk_tck" 'BEGIN {
        o = (busy - srv - wrk * hz) / (total > 0 ? total : 1) * 100; printf "%d", o < 0 ? 0 : o }')
    [ "$other" -gt "$max_other_load" ] && [ "$try" -lt "$retries" ] &&
      [ "$wait_spent" -lt "$wait_budget" ] || break
    log "$s $m c=$c run $r: other processes took $other% of the CPUs; again"
    wait_spent=$((wait_spent + seconds))
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$m" "$c" "$r" "$(basename "$wrk_out")" \
    "$((t1 - t0))" "$((k1 - k0))" "$rss" "$wrk_s" "$((busy1 - busy0))" "$((total1 - total0))" >>"$tsv"
  log "$s $m c=$c run $r: $(awk '/^Requests\/sec/ { print $2 }' "$wrk_out") req/s (other load $other%)"
}

# ---------------------------------------------------------------------------------------------
# The runs.

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$here/results/$stamp
mkdir -p "$out"
tsv=$out/runs.tsv
printf 'server\tmode\tconns\trun\twrk_output\tcpu_ticks\tkernel_ticks\tpeak_rss_kb\twrk_cpu_s\tcpus_task_busy\tcpus_total\n' >"$tsv"
: >"$out/checks.tsv"

{
  echo "stamp=$stamp"
  echo "seconds=$seconds"
  echo "warmup=$warmup"
  echo "runs=$runs"
  echo "depth=$depth"
  echo "clk_tck=$clk_tck"
  echo "server_cpu=$server_cpu"
  echo "client_cpu=$client_cpu"
  echo "threads=$threads"
  echo "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "ncpu=$ncpu"
  echo "kernel=$(uname -r)"
  echo "wrk=$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
  echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "servers=$servers"
  echo "modes=$modes"
  for s in "${skipped[@]}"; do echo "skipped=$s"; done
} >"$out/meta.env"

# Start every instance and check its contract; a server that fails the check is still measured
# (the report shows the result), an instance that does not start is left out. Plaintext
# instances are checked with check.sh; the pages ones, once all are up, with check-pages.sh
# against zzz's (a server's site and notes API together), and then get the note the GET cells
# read.
running=() # SERVER/ROLE
i=0
for inst in "${instances[@]}"; do
  s=${inst%/*}
  server_addr[$inst]=$host:$((base_port + i))
  i=$((i + 1))
  log "starting $s ($inst) at ${server_addr[$inst]}"
  if ! start_server "$inst" "${server_addr[$inst]}" "$out/${inst/\//-}.log"; then
    printf '%s\tdid not start\n' "$inst" >>"$out/checks.tsv"
    continue
  fi
  running+=("$inst")
  [ "${inst#*/}" = bench ] || continue
  check_args=("${server_addr[$inst]}")
  [ "$s" = uring-limit ] && check_args+=(--plaintext-only)
  if bash "$here/check.sh" "${check_args[@]}" >"$out/$s.check" 2>&1; then :; fi
  printf '%s\t%s\n' "$s" "$(tail -n 1 "$out/$s.check")" >>"$out/checks.tsv"
  log "$s contract: $(tail -n 1 "$out/$s.check")"
  grep '^FAIL' "$out/$s.check" | sed 's/^/    /' >&2 || true
done
[ ${#running[@]} -gt 0 ] || die "no server to measure"

is_running() { [[ " ${running[*]} " == *" $1 "* ]]; }
if needs api; then
  for s in $servers; do
    is_running "$s/site" && is_running "$s/api" || continue
    if is_running zzz/site && is_running zzz/api; then
      if bash "$here/check-pages.sh" "${server_addr[$s/site]}" "${server_addr[$s/api]}" \
        "${server_addr[zzz/site]}" "${server_addr[zzz/api]}" >"$out/$s-pages.check" 2>&1; then :; fi
      result=$(tail -n 1 "$out/$s-pages.check")
    else
      result="not checked: zzz's site and notes API are not running to compare with"
    fi
    printf '%s (pages)\t%s\n' "$s" "$result" >>"$out/checks.tsv"
    log "$s pages contract: $result"
    grep '^FAIL' "$out/$s-pages.check" 2>/dev/null | sed 's/^/    /' >&2 || true
  done
  for inst in "${running[@]}"; do
    [ "${inst#*/}" = api ] || continue
    if ! fixture[$inst]=$(python3 "$here/pages.py" fixture "${server_addr[$inst]}"); then
      log "${inst%/*}: could not create the note the GET cells read; its notes are left out"
      stop_server "$inst"
    fi
  done
fi

# serving MODE: the running instances that serve it, in the order of $servers.
serving() {
  local inst role
  role=$(role_of "$1")
  for inst in "${running[@]}"; do
    [ "${inst#*/}" = "$role" ] && alive "$inst" && echo "$inst"
  done
  return 0
}

per_server=0
for m in $modes; do
  per_server=$((per_server + $(serving "$m" | wc -l) * $(wc -w <<<"$conns_list")))
done
minutes=$(((per_server * (warmup + runs * (seconds + 1)) + 59) / 60))
log "measuring ${running[*]}: modes $modes at $conns_list connections, each ${warmup} s warm-up + $runs x $seconds s per server (about $minutes min)"
log "results in $out"

# Per cell: warm every server up, then the runs go round the servers.
for m in $modes; do
  for c in $conns_list; do
    mapfile -t cell < <(serving "$m")
    if [ "$warmup" -gt 0 ]; then
      for inst in "${cell[@]}"; do
        alive "$inst" || continue
        prepare_run "$inst" "$m" || true
        wrk_run "$inst" "$m" "$c" "$warmup" "$out/${inst%/*}-$m-$c-warmup.txt"
      done
    fi
    for r in $(seq "$runs"); do
      for inst in "${cell[@]}"; do
        alive "$inst" || continue
        measure "$inst" "$m" "$c" "$r"
      done
    done
  done
done
stop_all
rm -f "$out/.times"
echo "waited=$wait_spent" >>"$out/meta.env"

python3 "$here/report.py" "$out" "$out/report.svg" >"$out/report.md"
cp "$out/report.md" "$report_copy"
# The same figures as a chart, beside the report: latest.svg (pages-latest.svg).
cp "$out/report.svg" "${report_copy%.md}.svg"
cat "$out/report.md"
log "written to $report_copy"
[ -z "$zzz_build_failed" ] || die "zzz's examples did not build"
