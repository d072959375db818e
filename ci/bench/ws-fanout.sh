#!/usr/bin/env bash
# The WebSocket fan-out benchmark: zzz's chat example against ci/bench/peers/ws-tokio, with
# ci/bench/ws-fanout (the load generator) as the clients.
#
#   bash ci/bench/ws-fanout.sh                  # about 1 minute
#   WS_RUNS=1 WS_SERVERS=ws-tokio bash ci/bench/ws-fanout.sh   # the peer alone, once
#
# The contract both servers serve: `GET /ws` upgrades to WebSocket (RFC 6455), and every text
# message any client sends is delivered to every connected client, the sender included, in the
# order the server received them (one chat room).
#
# Builds the peer, the generator and zzz's examples/chat.rs in release (zzz is skipped, loudly,
# while examples/chat.rs does not exist), starts each server pinned to BENCH_SERVER_CPU on a
# loopback port of its own, and waits (bounded) until the port accepts. Then per cell (one
# publisher to WS_SUBSCRIBERS subscribers, and one publisher to one subscriber) it runs the
# generator pinned to BENCH_CLIENT_CPU, WS_RUNS times per server, going round the servers (in
# the other order on even runs) so that drift in the machine's speed hits both alike. Per run it
# reads the server's CPU time (utime + stime from /proc/PID/stat, before and after) and its peak
# RSS (VmHWM, reset per run through /proc/PID/clear_refs), and the figure compared is messages
# delivered to subscribers per server CPU-second. Prints a Markdown table and the ratio zzz /
# ws-tokio per cell, and writes it to ci/bench/results/ws-fanout-latest.md; raw outputs stay in
# ci/bench/results/ws-<stamp>/. Exits non-zero if any reader saw messages out of order.
#
# Servers are stopped by the PIDs this script started, never by name; traffic goes only to
# WS_ADDR's host, which must be a loopback address.
#
# Settings (environment):
#   WS_MESSAGES=20000        messages the publisher sends in the WS_SUBSCRIBERS cell
#   WS_MESSAGES_ONE=500000   messages in the one-subscriber cell: 20,000 messages to one
#                            subscriber take ~15 ms, one or two clock ticks of CPU time, too
#                            few to measure; this makes both cells about a second of work
#   WS_SUBSCRIBERS=100       subscribers in the first cell
#   WS_SIZE=64               bytes per message (at least 16, the generator's sequence header)
#   WS_RUNS=2                measured runs per cell and server
#   WS_WARMUP=1              one unmeasured run per server before measuring (0: none)
#   WS_SERVERS="zzz ws-tokio"
#   WS_ADDR=127.0.0.1:18200  the first server's; the next takes the following port
#   WS_ZZZ_BIN=/path/to/chat another build of the chat example (no zzz build then)
#   WS_ZZZ_ARGS=""           extra arguments for zzz's chat after ADDR
#   WS_PEER_ARGS="--capacity 16384"   extra arguments for the peer after ADDR: by default
#                            the room holds 16,384 messages, as zzz's chat's ring does for
#                            64-byte messages (zzz::chat::RING_BYTES)
#   WS_QUIET_MS=2000         a reader gives up after this long without a message
#   WS_START_TIMEOUT=20      seconds a server gets to accept its first connection
#   WS_REPORT=ci/bench/results/ws-fanout-latest.md
#   BENCH_SERVER_CPU=0  BENCH_CLIENT_CPU=1
#   BENCH_NO_BUILD=1         use the binaries as they are
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

messages=${WS_MESSAGES:-20000}
messages_one=${WS_MESSAGES_ONE:-500000}
subscribers=${WS_SUBSCRIBERS:-100}
size=${WS_SIZE:-64}
runs=${WS_RUNS:-2}
warmup=${WS_WARMUP:-1}
servers=${WS_SERVERS:-"zzz ws-tokio"}
addr=${WS_ADDR:-127.0.0.1:18200}
quiet_ms=${WS_QUIET_MS:-2000}
start_timeout=${WS_START_TIMEOUT:-20}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}

log() { printf '[ws-fanout] %s\n' "$*" >&2; }
die() { printf '[ws-fanout] error: %s\n' "$*" >&2; exit 1; }

case "$addr" in
  127.*:*) ;;
  *) die "WS_ADDR=$addr is not an IPv4 loopback address" ;;
esac
for n in "$messages" "$messages_one" "$subscribers" "$size" "$runs" "$warmup" "$quiet_ms" "$start_timeout" "$server_cpu" "$client_cpu"; do
  [[ $n =~ ^[0-9]+$ ]] || die "not a whole number: '$n'"
done
[ "$runs" -gt 0 ] && [ "$messages" -gt 0 ] && [ "$messages_one" -gt 0 ] && [ "$subscribers" -gt 0 ] ||
  die "WS_RUNS, WS_MESSAGES, WS_MESSAGES_ONE and WS_SUBSCRIBERS must be positive"
[ "$size" -ge 16 ] || die "WS_SIZE must be at least 16 (the generator's sequence header)"
ncpu=$(nproc)
[ "$server_cpu" -lt "$ncpu" ] && [ "$client_cpu" -lt "$ncpu" ] || die "this machine has $ncpu CPUs"
[ "$server_cpu" != "$client_cpu" ] || log "warning: server and client share CPU $server_cpu"
command -v taskset >/dev/null || die "taskset is missing (apt-get install util-linux)"
command -v python3 >/dev/null || die "python3 is missing (it writes the report)"
clk_tck=$(getconf CLK_TCK)
# Every subscriber is a socket in the generator and one in the server.
# Raise the open-files limit, never lower it: zzz registers a file table of its connection
# slots and waiting room (2,048 with the defaults) when it starts.
want_files=$((subscribers * 2 + 4096))
if (($(ulimit -n) < want_files)); then
    ulimit -n "$want_files" 2>/dev/null || log "warning: could not raise the open-files limit"
fi

# ---------------------------------------------------------------------------------------------
# Builds. A server that cannot be had is skipped, loudly; the generator must build.

declare -A binary server_args
skipped=()
target_of() { echo "${CARGO_TARGET_DIR:-$1/target}"; }
generator=$(target_of "$here/ws-fanout")/release/ws-fanout
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  log "building the generator"
  cargo build --release --locked --manifest-path "$here/ws-fanout/Cargo.toml"
fi
[ -x "$generator" ] || die "no generator at $generator"

for s in $servers; do
  case "$s" in
    zzz)
      server_args[$s]=${WS_ZZZ_ARGS:-}
      if [ -n "${WS_ZZZ_BIN:-}" ]; then
        binary[$s]=$WS_ZZZ_BIN
      elif [ ! -e "$root/examples/chat.rs" ] && [ ! -e "$root/examples/chat/main.rs" ]; then
        log "NOTE: zzz skipped: examples/chat.rs does not exist yet, so there is no zzz server to measure"
        skipped+=("zzz: examples/chat.rs does not exist yet")
        continue
      else
        if [ -z "${BENCH_NO_BUILD:-}" ]; then
          log "building zzz (cargo build --release --example chat)"
          if ! (cd "$root" && cargo build --release --example chat); then
            log "NOTE: zzz skipped: its build failed; the peer is measured all the same"
            skipped+=("zzz: cargo build --release --example chat failed")
            continue
          fi
        fi
        binary[$s]=$(target_of "$root")/release/examples/chat
      fi
      ;;
    ws-tokio)
      server_args[$s]=${WS_PEER_ARGS:---capacity 16384}
      if [ -z "${BENCH_NO_BUILD:-}" ]; then
        log "building peer $s"
        cargo build --release --locked --manifest-path "$here/peers/$s/Cargo.toml"
      fi
      binary[$s]=$(target_of "$here/peers/$s")/release/peer-$s
      ;;
    *) die "unknown server '$s' (known: zzz ws-tokio)" ;;
  esac
  [ -x "${binary[$s]}" ] || die "no binary at ${binary[$s]}"
done

# ---------------------------------------------------------------------------------------------
# Server life cycle. pid[NAME] is the PID this script started (taskset execs the server, so it
# is the server's own); only those are stopped. zzz gets SIGINT first, on which it prints its
# counters (skips among them) to its log; the peer starts at SIGTERM (a background job of a
# non-interactive shell ignores SIGINT unless it catches it); then SIGKILL, each after 5 s.

declare -A pid server_addr
host=${addr%:*}
base_port=${addr##*:}
[[ $base_port =~ ^[0-9]+$ ]] || die "WS_ADDR needs a port: $addr"

stop_server() {
  local name=$1 p=${pid[$1]:-} sig signals=(TERM KILL)
  [ -n "$p" ] || return 0
  pid[$name]=
  [ "$name" != zzz ] || signals=(INT TERM KILL)
  for sig in "${signals[@]}"; do
    kill -"$sig" "$p" 2>/dev/null || break
    for _ in $(seq 50); do
      kill -0 "$p" 2>/dev/null || break 2
      sleep 0.1
    done
    log "$name ($p) still runs 5 s after SIG$sig"
  done
  wait "$p" 2>/dev/null || true
}
stop_all() {
  local name
  for name in "${!pid[@]}"; do stop_server "$name"; done
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

# accepts HOST PORT: a TCP connection succeeds (bash's /dev/tcp; nothing is sent).
accepts() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# start_server NAME PORT LOGFILE: starts it, waits (bounded) until its port accepts.
start_server() {
  local name=$1 port=$2 logfile=$3
  if accepts "$host" "$port"; then
    die "something already listens at $host:$port; choose another WS_ADDR"
  fi
  # shellcheck disable=SC2086 # server_args holds whole words
  taskset -c "$server_cpu" "${binary[$name]}" "$host:$port" ${server_args[$name]} >"$logfile" 2>&1 &
  pid[$name]=$!
  for _ in $(seq $((start_timeout * 10))); do
    if ! kill -0 "${pid[$name]}" 2>/dev/null; then
      wait "${pid[$name]}" 2>/dev/null || true
      pid[$name]=
      log "$name exited during start-up; its log:"
      sed 's/^/    /' "$logfile" >&2
      return 1
    fi
    accepts "$host" "$port" && return 0
    sleep 0.1
  done
  log "$name did not accept at $host:$port within $start_timeout s"
  stop_server "$name"
  return 1
}

alive() { [ -n "${pid[$1]:-}" ] && kill -0 "${pid[$1]}" 2>/dev/null; }

# cpu_ticks PID: utime + stime of the whole process (all threads), in clock ticks.
cpu_ticks() {
  local stat rest
  stat=$(<"/proc/$1/stat")
  rest=${stat##*) } # the command name may hold spaces and parentheses
  read -r -a f <<<"$rest"
  echo $((f[11] + f[12])) # fields 14 and 15 of stat(5); rest starts at field 3
}

# peak_rss_kb PID: VmHWM in KiB.
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# reset_peak_rss PID: resets VmHWM to the current RSS (Linux >= 4.0); harmless if refused.
reset_peak_rss() { { echo 5 >"/proc/$1/clear_refs"; } 2>/dev/null || true; }

# generate NAME SUBSCRIBERS MESSAGES OUTFILE: one generator run against a server.
generate() {
  taskset -c "$client_cpu" "$generator" "${server_addr[$1]}" --subscribers "$2" --messages "$3" \
    --size "$size" --publishers 1 --quiet-ms "$quiet_ms" >"$4" 2>"$4.err"
}

# measure NAME CELL SUBSCRIBERS MESSAGES RUN: one measured run, appended to runs.tsv.
measure() {
  local s=$1 cell=$2 subs=$3 m=$4 r=$5 p=${pid[$1]} t0 t1 rss json status=ok
  local file=$out/$s-$subs-run$r.json
  reset_peak_rss "$p"
  t0=$(cpu_ticks "$p")
  generate "$s" "$subs" "$m" "$file" || status="generator failed: $(tail -n 1 "$file.err")"
  if ! alive "$s"; then
    log "$s died during $cell run $r; its log is $out/$s.log"
    pid[$s]=
    status="server died"
    t1=$t0 rss=0
  else
    t1=$(cpu_ticks "$p")
    rss=$(peak_rss_kb "$p")
  fi
  json=$(tail -n 1 "$file" 2>/dev/null || true)
  [ -n "$json" ] || json='{}'
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$cell" "$m" "$r" "$((t1 - t0))" "$rss" "$status" "$json" >>"$tsv"
  log "$s $cell run $r: $status, $((t1 - t0)) ticks; $json"
}

# ---------------------------------------------------------------------------------------------
# The runs.

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$here/results/ws-$stamp
mkdir -p "$out"
tsv=$out/runs.tsv
printf 'server\tcell\tmessages\trun\tcpu_ticks\tpeak_rss_kb\tstatus\tjson\n' >"$tsv"
{
  echo "stamp=$stamp"
  echo "clk_tck=$clk_tck"
  echo "size=$size"
  echo "runs=$runs"
  echo "server_cpu=$server_cpu"
  echo "client_cpu=$client_cpu"
  echo "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  for s in "${skipped[@]}"; do echo "skipped=$s"; done
} >"$out/meta.env"

running=()
i=0
for s in $servers; do
  [ -n "${binary[$s]:-}" ] || continue
  port=$((base_port + i))
  server_addr[$s]=$host:$port
  i=$((i + 1))
  log "starting $s at ${server_addr[$s]}"
  start_server "$s" "$port" "$out/$s.log" && running+=("$s")
done
[ ${#running[@]} -gt 0 ] || die "no server to measure"

# Cells: "label subscribers messages".
cells=("1 -> $subscribers|$subscribers|$messages" "1 -> 1|1|$messages_one")

if [ "$warmup" -gt 0 ]; then
  for s in "${running[@]}"; do
    log "warming $s up"
    generate "$s" "$subscribers" $((messages / 10 + 1)) "$out/$s-warmup.json" || log "$s warm-up failed"
  done
fi
for c in "${cells[@]}"; do
  IFS='|' read -r label subs m <<<"$c"
  for r in $(seq "$runs"); do
    order=("${running[@]}")
    # Even runs go round the other way, so that neither server always runs first.
    if [ $((r % 2)) -eq 0 ]; then
      order=()
      for ((j = ${#running[@]} - 1; j >= 0; j--)); do order+=("${running[j]}"); done
    fi
    for s in "${order[@]}"; do
      alive "$s" || continue
      measure "$s" "$label" "$subs" "$m" "$r"
    done
  done
done
stop_all

report=${WS_REPORT:-$here/results/ws-fanout-latest.md}
status=0
python3 - "$tsv" "$clk_tck" "$out/meta.env" >"$out/report.md" <<'PY' || status=$?
import json, statistics, sys

tsv, clk_tck, meta = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
with open(tsv) as f:
    next(f)
    for line in f:
        server, cell, messages, run, ticks, rss, status, js = line.rstrip("\n").split("\t")
        rows.append(dict(server=server, cell=cell, run=int(run), cpu=int(ticks) / clk_tck,
                         rss=int(rss), status=status, r=json.loads(js or "{}")))
skipped = [l.split("=", 1)[1].strip() for l in open(meta) if l.startswith("skipped=")]

def per_cpu(row):
    d = row["r"].get("delivered")
    return d / row["cpu"] if d is not None and row["cpu"] > 0 else None

out = ["# WebSocket fan-out: one publisher, one room", ""]
out += [f"Skipped: {s}" for s in skipped] + ([""] if skipped else [])
out += ["| server | cell | run | delivered / expected | order viol. | elapsed s | server CPU s | delivered per CPU-s | peak RSS MiB | last-msg latency ms | client CPU s |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
violations = 0
for row in rows:
    r = row["r"]
    violations += r.get("order_violations", 0) + r.get("interleaving_mismatches", 0)
    got = f"{r['delivered']:,} / {r['expected']:,}" if "delivered" in r else row["status"]
    pc = per_cpu(row)
    lat = r.get("last_latency_ms")
    out.append(f"| {row['server']} | {row['cell']} | {row['run']} | {got} | {r.get('order_violations', '-')} | "
               f"{r.get('elapsed_s', 0):.3f} | {row['cpu']:.2f} | {f'{pc:,.0f}' if pc else '-'} | "
               f"{row['rss'] / 1024:.1f} | {'-' if lat is None else f'{lat:.1f}'} | {r.get('client_cpu_s', '-')} |")

out += ["", "Median delivered per server CPU-second, and zzz / ws-tokio:", "",
        "| cell | " + " | ".join(sorted({r['server'] for r in rows})) + " | zzz / ws-tokio |",
        "|---|" + "--:|" * (len({r['server'] for r in rows}) + 1)]
servers = sorted({r["server"] for r in rows})
for cell in dict.fromkeys(r["cell"] for r in rows):
    med = {}
    for s in servers:
        vals = [v for v in (per_cpu(r) for r in rows if r["server"] == s and r["cell"] == cell) if v]
        med[s] = statistics.median(vals) if vals else None
    ratio = (f"{med['zzz'] / med['ws-tokio']:.2f}" if med.get("zzz") and med.get("ws-tokio") else "-")
    out.append(f"| {cell} | " + " | ".join(f"{med[s]:,.0f}" if med[s] else "-" for s in servers) + f" | {ratio} |")
out += ["", f"Messages of the size in meta.env; CPU time in clock ticks of 1/{clk_tck} s from /proc/PID/stat; "
        "delivered counts subscribers only (the publisher's own copies come on top). "
        "A client CPU time near the elapsed time means the generator, not the server, set the pace: "
        "compare delivered per server CPU-second then, not elapsed times. Peak RSS is VmHWM reset per run, "
        "so it includes what the server kept from earlier runs."]
print("\n".join(out))
sys.exit(3 if violations else 0)
PY
cp "$out/report.md" "$report"
cat "$out/report.md"
log "written to $report; raw outputs in $out"
[ "$status" -eq 0 ] || die "a reader saw messages out of order (see the order viol. column)"
