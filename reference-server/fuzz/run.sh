#!/usr/bin/env bash
# Contract check of the reference server: schemathesis (all checks: server errors, undocumented
# statuses, response schema and headers, accepted invalid input, refused valid input, methods,
# auth) against the server's own /openapi.json, on loopback only, once with the admin token and
# once without. Every pass is bounded in time; any failure fails the run.
#
#   reference-server/fuzz/run.sh                  # from the repository root (make fuzz)
#   FUZZ_SECONDS=30 reference-server/fuzz/run.sh  # the shorter form CI runs
#
# Needs .venv/bin/st (make fuzz installs it) and a built server (FUZZ_BIN, default the debug build).
set -euo pipefail
cd "$(dirname "$0")/../.."

FUZZ_SECONDS=${FUZZ_SECONDS:-100}
BIN=${FUZZ_BIN:-target/debug/reference-server}
ST=.venv/bin/st
HERE=reference-server/fuzz
[[ -x $ST ]] || { echo "error: $ST missing; run \`make fuzz\` to install schemathesis" >&2; exit 2; }
[[ -x $BIN ]] || { echo "error: $BIN missing; build it first (cargo build -p reference-server)" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME ARGS...: runs the binary in the background; sets URL from its announce line.
start() {
    local name=$1; shift
    "$BIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=("$!")
    for _ in $(seq 100); do
        URL=$(sed -n 's/^listening on //p' "$WORK/$name.out" 2>/dev/null || true)
        [[ -n $URL ]] && return 0
        sleep 0.1
    done
    echo "$name did not start; its log:" >&2
    cat "$WORK/$name.err" >&2
    exit 3
}

# The gateway never declines or fails here: a 402/502 would be the simulator's choice, not the
# server's contract. The kitchen never sheds: fuzzing places thousands of orders.
start gateway gateway --listen 127.0.0.1:0 --decline-rate 0 --failure-rate 0 \
    --latency-median-ms 2 --latency-p99-ms 10
TOKEN="fuzz-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
start server --listen 127.0.0.1:0 --data-dir "$WORK/data" --payment-gateway-url "$URL" \
    --admin-token "$TOKEN" --kitchen-backlog 100000000 --synchronous normal
SERVER=$URL

status=0
for pass in with-token without-token; do
    auth=()
    [[ $pass == with-token ]] && auth=(-H "Authorization: Bearer $TOKEN")
    echo "== schemathesis, all checks, ${FUZZ_SECONDS}s, $pass, against $SERVER" >&2
    SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$HERE" \
        timeout $((FUZZ_SECONDS + 120)) "$ST" run "$SERVER/openapi.json" \
        --checks all --max-time "$FUZZ_SECONDS" --request-timeout 10 --workers 1 \
        --no-color --output-sanitize true --report junit --report-dir "$WORK/report-$pass" \
        "${auth[@]}" || status=1
done
if grep -q '"level":"ERROR"' "$WORK/server.err"; then
    echo "the server logged errors during the fuzzing:" >&2
    grep '"level":"ERROR"' "$WORK/server.err" | head -20 >&2
    status=1
fi
exit $status
