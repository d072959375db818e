#!/usr/bin/env bash
# The firmware (examples/firmware): HTTP/1.1 over UART0 of an emulated Cortex-M4.
#
# - builds it for thumbv7em-none-eabihf (nightly, see examples/firmware/.cargo/config.toml)
#   and prints its section sizes (ci/elf-sizes.py);
# - runs it under QEMU's mps2-an386 machine, UART0 on a TCP port of 127.0.0.1, defmt's
#   frames (semihosting, QEMU's stdout) captured to a file;
# - drives it with real clients: ci/firmware_client.py (http.client and raw sockets) and curl;
# - decodes the defmt log with defmt-print and checks the startup line;
# - fetches GET /stack and holds the firmware to its budgets: flash (.vector_table + .text +
#   .rodata + .data's initial values) at most 64 KiB, RAM (.data + .bss + the stack's
#   high-water mark) at most 48 KiB. Exits 1 past either.
#
# FIRMWARE_BUDGET_CHECK=0 reports the budgets without failing on them (for local experiments
# only; CI leaves it on). Bounded: QEMU and every client run under timeouts, 120 s in all.
set -euo pipefail
cd "$(dirname "$0")/.."

FLASH_BUDGET=$((64 * 1024))
RAM_BUDGET=$((48 * 1024))
# The firmware's uart::QUIET_MS: the client's pause after a response that closes.
QUIET_MS=50
RUN_TIMEOUT_S=120

source ci/apt.sh
apt_install_for qemu-system-arm:qemu-system-arm
# The firmware builds with the nightly toolchain of its rust-toolchain.toml (a size build:
# `core` rebuilt from rust-src with the immediate-abort panic strategy); nightly is installed
# beside stable for cargo-fuzz already.
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup component add rust-src --toolchain nightly >/dev/null 2>&1
# defmt-print decodes the log; installed once into cargo's bin directory, which later runs
# find again.
if ! command -v defmt-print >/dev/null 2>&1; then
    echo "ci/firmware.sh: installing defmt-print"
    cargo install defmt-print --locked --quiet
fi

(cd examples/firmware && cargo build --release)
elf=examples/firmware/target/thumbv7em-none-eabihf/release/firmware

declare -A size
while read -r name bytes; do
    size[$name]=$bytes
done < <(python3 ci/elf-sizes.py "$elf" .vector_table .text .rodata .data .bss)
echo "sections of $elf:"
for name in .vector_table .text .rodata .data .bss; do
    printf '  %-14s %8d B\n' "$name" "${size[$name]}"
done

workdir=$(mktemp -d)
qemu_pid=
cleanup() {
    if [[ -n "$qemu_pid" ]]; then
        kill "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
deadline=$((SECONDS + RUN_TIMEOUT_S))
# defmt frames arrive on QEMU's stdout through semihosting (a panic or fault is logged there too).
timeout "$RUN_TIMEOUT_S" qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -serial "tcp:127.0.0.1:$port,server=on,wait=off" \
    -semihosting-config enable=on,target=native \
    -kernel "$elf" >"$workdir/defmt.bin" 2>"$workdir/qemu.err" &
qemu_pid=$!

# Bounded: polls QEMU's port until it accepts, for at most 20 s.
for ((i = 0; ; i++)); do
    if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$port" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$qemu_pid" 2>/dev/null || ((i >= 200)); then
        echo "ci/firmware.sh: QEMU did not open port $port" >&2
        cat "$workdir/qemu.err" >&2
        exit 1
    fi
    sleep 0.1
done
echo "QEMU (pid $qemu_pid) serves UART0 on 127.0.0.1:$port"

remaining() { echo $((deadline > SECONDS ? deadline - SECONDS : 1)); }

status=0
timeout "$(remaining)" python3 ci/firmware_client.py "$port" "$QUIET_MS" || status=1

# curl is a client of its own; the line is quiet before it (the client's last exchange was
# answered), and after it, since nothing it sent makes the server close.
if curl -sS --max-time "$(remaining)" "http://127.0.0.1:$port/hello/curl" >"$workdir/curl.html" &&
    grep -q 'Hello, curl!' "$workdir/curl.html"; then
    echo "  ok   curl GET /hello/curl"
else
    echo "  FAIL curl GET /hello/curl"
    status=1
fi

stack_json=$(curl -sS --max-time "$(remaining)" "http://127.0.0.1:$port/stack") || status=1
echo "GET /stack: $stack_json"
peak=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["peak_bytes"])' "$stack_json" 2>/dev/null) || {
    echo "  FAIL GET /stack is not the JSON expected"
    peak=0
    status=1
}

kill "$qemu_pid" 2>/dev/null || true
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=

# QEMU's stderr, less the line it prints when it is stopped: anything QEMU itself complains of.
if grep -v 'terminating on signal' "$workdir/qemu.err" >"$workdir/qemu.msg"; then
    echo "QEMU's stderr:"
    cat "$workdir/qemu.msg"
fi
echo "defmt log:"
defmt-print -e "$elf" <"$workdir/defmt.bin" | tee "$workdir/defmt.txt" | sed 's/^/  /'
if grep -q 'zzz firmware: MemoryBudget' "$workdir/defmt.txt" &&
    grep -Eq 'zzz: 4 conns, [0-9]+ bytes reserved' "$workdir/defmt.txt"; then
    echo "  ok   the startup line is in the log"
else
    echo "  FAIL the startup line is not in the log"
    status=1
fi
if ((status != 0)); then
    echo "ci/firmware.sh: client checks failed" >&2
    exit 1
fi

flash=$((size[.vector_table] + size[.text] + size[.rodata] + size[.data]))
ram=$((size[.data] + size[.bss] + peak))
kib() { python3 -c 'import sys; print(f"{int(sys.argv[1]) / 1024:.1f} KiB")' "$1"; }
echo
echo "firmware budget                                     measured      budget"
printf '  flash: .vector_table+.text+.rodata+.data  %10s  %10s\n' "$(kib "$flash")" "$(kib $FLASH_BUDGET)"
printf '  RAM:   .data+.bss+peak stack (%s)  %10s  %10s\n' "$(kib "$peak")" "$(kib "$ram")" "$(kib $RAM_BUDGET)"
over=0
if ((flash > FLASH_BUDGET)); then
    echo "  flash: $flash B is over the budget of $FLASH_BUDGET B"
    over=1
fi
if ((ram > RAM_BUDGET)); then
    echo "  RAM: $ram B is over the budget of $RAM_BUDGET B"
    over=1
fi
if ((over)); then
    if [[ "${FIRMWARE_BUDGET_CHECK:-1}" == 0 ]]; then
        echo "ci/firmware.sh: over budget (FIRMWARE_BUDGET_CHECK=0: not failing)"
    else
        echo "ci/firmware.sh: the firmware is over its budget" >&2
        exit 1
    fi
else
    echo "  within budget"
fi
