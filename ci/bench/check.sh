#!/usr/bin/env bash
# Checks that a running server serves the bench contract (ARCHITECTURE.md §7), with curl.
#   ci/bench/check.sh [ADDR] [--plaintext-only]
# ADDR defaults to 127.0.0.1:8080. --plaintext-only checks GET /plaintext and pipelining only
# (for uring-limit, which answers everything with the plaintext response).
# Prints one line per check and exits non-zero if any failed.
set -euo pipefail

addr=127.0.0.1:8080
only_plaintext=0
for a in "$@"; do
  case "$a" in
    --plaintext-only) only_plaintext=1 ;;
    *) addr=$a ;;
  esac
done
base="http://$addr"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); printf 'ok    %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'FAIL  %s: %s\n' "$1" "$2"; }

# header NAME FILE: the value of the first header NAME in a curl -D dump, CR stripped.
header() { grep -i "^$1:" "$2" | head -n 1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'; }

# request NAME EXPECTED_STATUS EXPECTED_TYPE EXPECTED_BODY_FILE [curl args...]
request() {
  local name=$1 want_type=$2 want_body=$3
  shift 3
  local code
  code=$(curl -sS -m 10 -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$@") || { bad "$name" "curl failed"; return 1; }
  [ "$code" = 200 ] || { bad "$name" "status $code"; return 1; }
  local ct
  ct=$(header content-type "$tmp/h")
  [ "$ct" = "$want_type" ] || { bad "$name" "content-type '$ct', want '$want_type'"; return 1; }
  cmp -s "$tmp/b" "$want_body" || { bad "$name" "body differs ($(wc -c <"$tmp/b") bytes, want $(wc -c <"$want_body"))"; return 1; }
  return 0
}

printf 'Hello, World!' >"$tmp/plain"
printf '{"message":"Hello, World!"}' >"$tmp/json"

if request "GET /plaintext" text/plain "$tmp/plain" "$base/plaintext"; then
  if [ -n "$(header server "$tmp/h")" ] && [ -n "$(header date "$tmp/h")" ]; then
    ok "GET /plaintext"
  else
    bad "GET /plaintext" "Server or Date header missing"
  fi
fi

# 16 requests in one write must give 16 responses (the pipelined bench mode relies on it).
pipelined=$(python3 - "$addr" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
req = f"GET /plaintext HTTP/1.1\r\nHost: {sys.argv[1]}\r\n\r\n".encode()
s.sendall(req * 16)
data, deadline = b"", time.time() + 5
while data.count(b"Hello, World!") < 16 and time.time() < deadline:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.count(b"HTTP/1.1 200"))
PY
) || pipelined="error"
if [ "$pipelined" = 16 ]; then ok "16 pipelined GET /plaintext"; else bad "16 pipelined GET /plaintext" "got $pipelined responses"; fi

if [ "$only_plaintext" = 1 ]; then
  printf '%d passed, %d failed\n' "$pass" "$fail"
  [ "$fail" = 0 ]
  exit
fi

request "GET /json" application/json "$tmp/json" "$base/json" && ok "GET /json"

# echo NAME METHOD TARGET BODY_FILE [curl args...]
echo_check() {
  local name=$1 method=$2 target=$3 body=$4
  shift 4
  request "$name" application/octet-stream "$body" -X "$method" --path-as-is "$@" "$base$target" || return 0
  local m t
  m=$(header x-echo-method "$tmp/h")
  t=$(header x-echo-target "$tmp/h")
  [ "$m" = "$method" ] || { bad "$name" "x-echo-method '$m', want '$method'"; return 0; }
  [ "$t" = "$target" ] || { bad "$name" "x-echo-target '$t', want '$target'"; return 0; }
  ok "$name"
}

head -c 100000 /dev/urandom >"$tmp/upload"
: >"$tmp/empty"
printf 'small body' >"$tmp/small"
echo_check "POST with Content-Length" POST '/echo/a%20b?x=1&y=%2F' "$tmp/small" --data-binary @"$tmp/small"
echo_check "PUT chunked 100 KB" PUT '/upload?chunked' "$tmp/upload" \
  -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/upload"
echo_check "GET other path" GET '/other' "$tmp/empty"
echo_check "POST /plaintext echoes" POST '/plaintext' "$tmp/small" --data-binary @"$tmp/small"

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" = 0 ]
