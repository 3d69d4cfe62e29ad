#!/usr/bin/env bash
# Reference server benchmark: builds the release binary, starts the gateway simulator and servers on
# loopback with temporary data directories, and prints, side by side in one run (medians of 3 rounds):
#   - GET /health rate and POST /orders durable rate (201s/s) of the default profile (fsync at every
#     group commit), the same with --synchronous normal (survives kill -9, not a power cut), and naive;
#   - POST /orders p99 at about half the durable rate;
#   - overload at 3x the kitchen's capacity for 30 s: goodput, p99 of the 503 answers, peak RSS;
#   - peak RSS with 1,000 concurrent connections;
#   - 3,000 slow clients (slowloris) holding connections: GET /health p50/p99 of a normal client
#     alone and beside them (target p99 < 10 ms), the server's peak open file descriptors against
#     its connection cap, and how many connections the cap refused.
# Run from the repository root: `bash bench/server.sh`. Every load run is bounded in time.
# Tunables (environment): ROUND_SECS (default 5), OVERLOAD_SECS (default 30), BENCH_TOOL=wrk,
# SLOW_CLIENTS (default 3000); the slow-client runs use --max-connections SLOW_CAP (default 4096,
# the server's default) and SLOW_TIGHT_CAP (default 2000, below the number of slow clients).
set -euo pipefail

ROUND_SECS=${ROUND_SECS:-5}
OVERLOAD_SECS=${OVERLOAD_SECS:-30}
ROUNDS=3
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN="$TARGET_DIR/release/reference-server"
OHA=""
# oha (open-model rate with -q) when the bench tools cache has it; BENCH_TOOL=wrk forces wrk only.
[[ -x .bench-tools/bin/oha && ${BENCH_TOOL:-} != wrk ]] && OHA=.bench-tools/bin/oha

SLOW_CLIENTS=${SLOW_CLIENTS:-3000}
SLOW_CAP=${SLOW_CAP:-4096}
SLOW_TIGHT_CAP=${SLOW_TIGHT_CAP:-2000}

echo "== building the release binaries" >&2
cargo build --release -p reference-server >&2
cargo build --release -p bench --bin slow-clients >&2

if ! command -v wrk >/dev/null; then
    echo "== installing wrk" >&2
    apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# wrk scripts: unique Idempotency-Key per request; `done` prints one machine-readable line.
DONE_LUA='
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d sockerr=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end'
orders_lua() { # $1 = delay in ms between a connection's requests (0 = none)
    cat <<EOF
local counter, prefix, next_thread = 0, "k", 1
local skus = {"espresso","americano","latte","cappuccino","flat-white","mocha","chai","tea","croissant","muffin","bagel","sandwich"}
function setup(thread) thread:set("tid", next_thread); next_thread = next_thread + 1 end
function init(args) prefix = (args[1] or "r") .. "-" .. tostring(tid) end
function request()
  counter = counter + 1
  local body = string.format('{"store_id":"store-%d","customer":{"name":"Bench"},"order_type":{"kind":"takeout"},"items":[{"sku":"%s","quantity":1}]}',
    counter % 20 + 1, skus[counter % 12 + 1])
  return wrk.format("POST", "/orders", {["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. "-" .. counter}, body)
end
EOF
    if [[ $1 != 0 ]]; then echo "function delay() return $1 end"; fi
    echo "$DONE_LUA"
}
echo "$DONE_LUA" >"$WORK/plain.lua"

# run_wrk THREADS CONNS SECS URL SCRIPT [ARGS]: prints "rate_2xx p50_ms p99_ms total_rate"
run_wrk() {
    local threads=$1 conns=$2 secs=$3 url=$4 script=$5
    local line
    line=$(timeout $((secs + 30)) wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s -s "$script" "$url" -- "r$(date +%s%N)" | grep '^RESULT' || true)
    if [[ -z $line ]]; then echo "n/a n/a n/a n/a"; return; fi
    awk -v l="$line" 'BEGIN {
        n = split(l, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
        secs = v["duration_us"] / 1e6
        printf "%.0f %.2f %.2f %.0f\n", (v["requests"] - v["non2xx"]) / secs, v["p50_us"] / 1000, v["p99_us"] / 1000, v["requests"] / secs }'
}

echo "== starting the gateway simulator" >&2
start gateway gateway --listen 127.0.0.1:0 --latency-median-ms 5 --latency-p99-ms 20 --decline-rate 0
GATEWAY=$URL

# Throughput servers: a backlog large enough that POST /orders measures the store, not admission.
COMMON=(--listen 127.0.0.1:0 --payment-gateway-url "$GATEWAY" --kitchen-backlog 100000000 --unpaid-expiry-ms 36000000)
start default --data-dir "$WORK/default" --profile default "${COMMON[@]}"
DEFAULT_URL=$URL DEFAULT_PID=$PID
start naive --data-dir "$WORK/naive" --profile naive "${COMMON[@]}"
NAIVE_URL=$URL NAIVE_PID=$PID
start normal --data-dir "$WORK/normal" --profile default --synchronous normal "${COMMON[@]}"
NORMAL_URL=$URL NORMAL_PID=$PID
orders_lua 0 >"$WORK/orders.lua"

declare -A R
echo "== $ROUNDS rounds of ${ROUND_SECS}s: GET /health and POST /orders, the three servers interleaved" >&2
for round in $(seq $ROUNDS); do
    for profile in default normal naive; do
        url_var=${profile^^}_URL
        url=${!url_var}
        read -r health _ _ _ < <(run_wrk 2 64 "$ROUND_SECS" "$url/health" "$WORK/plain.lua")
        R[$profile.health]+="$health "
        read -r rate _ p99 _ < <(run_wrk 2 64 "$ROUND_SECS" "$url/orders" "$WORK/orders.lua")
        R[$profile.orders]+="$rate "
        R[$profile.orders_p99_full]+="$p99 "
        # The ratio of each round, measured side by side, so that machine noise between rounds cancels.
        R[$profile.ratio]+="$(awk -v o="$rate" -v h="$health" 'BEGIN {if (h > 0) printf "%.1f", 100 * o / h}') "
        echo "   round $round $profile: GET /health $health/s, POST /orders $rate/s" >&2
    done
done
for profile in default normal naive; do
    for k in health orders orders_p99_full ratio; do
        R[$profile.$k.med]=$(tr ' ' '\n' <<<"${R[$profile.$k]}" | grep -v '^$' | median)
    done
done

# p99 at half the durable rate. oha paces an open-model rate (-q); wrk can only pace each connection
# with delay() (closed loop: a slow answer delays the next request, so its p99 is optimistic).
HALF_NOTE=""
for profile in default normal naive; do
    url_var=${profile^^}_URL
    url=${!url_var}
    target=$(awk -v r="${R[$profile.orders.med]}" 'BEGIN {printf "%d", r / 2}')
    R[$profile.half_target]=$target
    if [[ $target -lt 1 ]]; then R[$profile.half_p99]="n/a"; R[$profile.half_rate]="n/a"; continue; fi
    p99s="" rates=""
    for _ in $(seq $ROUNDS); do
        if [[ -n $OHA ]]; then
            body='{"store_id":"store-1","customer":{"name":"Bench"},"order_type":{"kind":"takeout"},"items":[{"sku":"tea","quantity":1}]}'
            out=$(timeout $((ROUND_SECS + 30)) "$OHA" --no-tui -z "${ROUND_SECS}s" -q "$target" -c 64 -m POST \
                -H 'Content-Type: application/json' -d "$body" "$url/orders" 2>&1 || true)
            p99=$(awk '/99.00% in/ {v = $3; if ($4 == "secs") v *= 1000; printf "%.2f", v}' <<<"$out")
            rate=$(awk '/Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
            HALF_NOTE="oha -q (open model)"
        else
            conns=32
            # each connection waits `delay` after an answer: conns * 1000 / delay ~ target rate
            delay=$(awk -v c=$conns -v t="$target" 'BEGIN {d = c * 1000 / t; printf "%d", (d < 1 ? 1 : d)}')
            orders_lua "$delay" >"$WORK/paced.lua"
            read -r rate _ p99 _ < <(run_wrk 2 $conns "$ROUND_SECS" "$url/orders" "$WORK/paced.lua")
            HALF_NOTE="wrk delay() pacing (closed loop; oha not in .bench-tools/bin or BENCH_TOOL=wrk)"
        fi
        p99s+="$p99 " rates+="$rate "
    done
    R[$profile.half_p99]=$(tr ' ' '\n' <<<"$p99s" | grep -v '^$' | median)
    R[$profile.half_rate]=$(tr ' ' '\n' <<<"$rates" | grep -v '^$' | median)
done
R[default.rss]=$(peak_rss_mb "$DEFAULT_PID")
R[naive.rss]=$(peak_rss_mb "$NAIVE_PID")
R[normal.rss]=$(peak_rss_mb "$NORMAL_PID")
stop "$DEFAULT_PID"
stop "$NAIVE_PID"
stop "$NORMAL_PID"

# Overload: pay-at-pickup so orders flow straight to the kitchen; capacity = 16 workers / 50 ms = 320/s.
WORKERS=16 PREP_MS=50
CAPACITY=$((WORKERS * 1000 / PREP_MS))
OFFERED=$((CAPACITY * 3))
echo "== overload: ${OFFERED}/s offered (3x a capacity of ${CAPACITY}/s) for ${OVERLOAD_SECS}s" >&2
start overload --data-dir "$WORK/overload" --payment-gateway-url "$GATEWAY" --listen 127.0.0.1:0 \
    --cook-on received --kitchen-workers $WORKERS --prep-time-ms $PREP_MS
OVER_URL=$URL OVER_PID=$PID
ready_before=$(curl -s "$OVER_URL/metrics" | awk '/^kitchen_ready_total / {print $2}')
if [[ -n $OHA ]]; then
    body='{"store_id":"store-1","customer":{"name":"Bench"},"order_type":{"kind":"takeout"},"items":[{"sku":"tea","quantity":1}]}'
    timeout $((OVERLOAD_SECS + 30)) "$OHA" --no-tui -z "${OVERLOAD_SECS}s" -q "$OFFERED" -c 200 -m POST \
        -H 'Content-Type: application/json' -d "$body" "$OVER_URL/orders" >"$WORK/overload.txt" 2>&1 || true
    offered_actual=$(awk '/Requests\/sec:/ {printf "%.0f", $2}' "$WORK/overload.txt")
    OVER_TOOL="oha -q $OFFERED"
else
    conns=96
    delay=$(awk -v c=$conns -v t=$OFFERED 'BEGIN {printf "%d", c * 1000 / t}')
    orders_lua "$delay" >"$WORK/overload.lua"
    read -r _ _ _ offered_actual < <(run_wrk 2 $conns "$OVERLOAD_SECS" "$OVER_URL/orders" "$WORK/overload.lua")
    OVER_TOOL="wrk, $conns connections paced with delay() ${delay} ms"
fi
metrics=$(curl -s "$OVER_URL/metrics")
created=$(awk -F' ' '/^http_requests_total\{method="POST",route="\/orders",status="201"\}/ {print $2}' <<<"$metrics")
shed=$(awk -F' ' '/^http_requests_total\{method="POST",route="\/orders",status="503"\}/ {print $2}' <<<"$metrics")
ready_after=$(awk '/^kitchen_ready_total / {print $2}' <<<"$metrics")
# p99 of the 503s from the server's own histogram: the smallest bucket bound holding 99 % of them.
shed_p99=$(awk -v total="${shed:-0}" '
    /^http_request_duration_seconds_bucket\{method="POST",route="\/orders",status="503",le="[0-9.]+"\}/ {
        match($0, /le="[0-9.]+"/); le = substr($0, RSTART + 4, RLENGTH - 5)
        if (found == "" && total > 0 && $2 >= 0.99 * total) found = le * 1000 }
    END { if (found == "") print "n/a"; else printf "<= %g", found }' <<<"$metrics")
goodput=$(awk -v c="${created:-0}" -v s="$OVERLOAD_SECS" 'BEGIN {printf "%.0f", c / s}')
cooked=$(awk -v a="${ready_after:-0}" -v b="${ready_before:-0}" -v s="$OVERLOAD_SECS" 'BEGIN {printf "%.0f", (a - b) / s}')
OVER_RSS=$(peak_rss_mb "$OVER_PID")
stop "$OVER_PID"

echo "== 1,000 concurrent connections on GET /menu for ${ROUND_SECS}s" >&2
start conns --data-dir "$WORK/conns" --payment-gateway-url "$GATEWAY" --listen 127.0.0.1:0
CONNS_PID=$PID
read -r conn_rate _ conn_p99 _ < <(run_wrk 2 1000 "$ROUND_SECS" "$URL/menu" "$WORK/plain.lua")
CONNS_RSS=$(peak_rss_mb "$CONNS_PID")
stop "$CONNS_PID"

# slow_run CAP: one server with --max-connections CAP, SLOW_CLIENTS slow clients beside a normal
# client; sets SLOW_LINE (the tool's RESULT line), SLOW_IDLE_FDS and SLOW_REFUSED.
slow_run() {
    echo "== $SLOW_CLIENTS slow clients (one header line a second, never finished) beside one normal client, --max-connections $1" >&2
    start "slow$1" --data-dir "$WORK/slow$1" --payment-gateway-url "$GATEWAY" --listen 127.0.0.1:0 \
        --max-connections "$1" --header-read-timeout-ms 10000
    local pid=$PID url=$URL
    curl -s "$url/health" >/dev/null
    SLOW_IDLE_FDS=$(ls "/proc/$pid/fd" | wc -l)
    SLOW_LINE=$(timeout 180 "$TARGET_DIR/release/slow-clients" --addr "${url#http://}" --pid "$pid" \
        --slow "$SLOW_CLIENTS" --seconds 15 | grep '^RESULT' || true)
    SLOW_REFUSED=$(curl -s "$url/metrics" | awk '/^http_refused_connections_total / {print $2}')
    stop "$pid"
}
sv() { awk -v l="$1" -v k="$2" 'BEGIN { n = split(l, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); if (p[1] == k) { print p[2]; exit } } print "n/a" }'; }
slow_run "$SLOW_CAP"
ROOMY_LINE=$SLOW_LINE ROOMY_IDLE=$SLOW_IDLE_FDS ROOMY_REFUSED=$SLOW_REFUSED
slow_run "$SLOW_TIGHT_CAP"
TIGHT_LINE=$SLOW_LINE TIGHT_IDLE=$SLOW_IDLE_FDS TIGHT_REFUSED=$SLOW_REFUSED

ratio_normal="${R[normal.ratio.med]} %"
ratio="${R[default.ratio.med]} %"
echo
echo "Reference server on $(nproc) cores, loopback, medians of $ROUNDS rounds of ${ROUND_SECS}s (wrk -t2 -c64)"
printf '%-40s %12s %12s %12s\n' "figure" "default" "sync=normal" "naive"
printf '%-40s %12s %12s %12s\n' "GET /health (req/s)" "${R[default.health.med]}" "${R[normal.health.med]}" "${R[naive.health.med]}"
printf '%-40s %12s %12s %12s\n' "POST /orders durable (201/s)" "${R[default.orders.med]}" "${R[normal.orders.med]}" "${R[naive.orders.med]}"
printf '%-40s %12s %12s %12s\n' "POST /orders / GET /health (>= 20 %)" "$ratio" "$ratio_normal" ""
echo "  (ratio: median of the rounds' own ratios; each round measures both side by side)"
printf '%-40s %12s %12s %12s\n' "POST /orders p99 at full load (ms)" "${R[default.orders_p99_full.med]}" "${R[normal.orders_p99_full.med]}" "${R[naive.orders_p99_full.med]}"
printf '%-40s %12s %12s %12s\n' "half-rate target (req/s)" "${R[default.half_target]}" "${R[normal.half_target]}" "${R[naive.half_target]}"
printf '%-40s %12s %12s %12s\n' "  achieved (req/s)" "${R[default.half_rate]}" "${R[normal.half_rate]}" "${R[naive.half_rate]}"
printf '%-40s %12s %12s %12s\n' "  POST /orders p99 at half rate (ms)" "${R[default.half_p99]}" "${R[normal.half_p99]}" "${R[naive.half_p99]}"
printf '%-40s %12s %12s %12s\n' "peak RSS after these runs (MB)" "${R[default.rss]}" "${R[normal.rss]}" "${R[naive.rss]}"
echo "  (half rate measured with $HALF_NOTE)"
echo
echo "Overload, default profile: ${OVERLOAD_SECS}s at 3x kitchen capacity ($OVER_TOOL)"
printf '%-40s %12s\n' "kitchen capacity (orders/s)" "$CAPACITY"
printf '%-40s %12s\n' "offered (req/s)" "${offered_actual:-n/a}"
printf '%-40s %12s\n' "goodput: 201 per second" "$goodput"
printf '%-40s %12s\n' "cooked to ready per second" "$cooked"
echo "  (201/s includes filling the kitchen backlog at the start; cooked/s is the kitchen's steady output)"
printf '%-40s %12s\n' "503 answers" "${shed:-0}"
printf '%-40s %12s\n' "p99 of 503s, server-side (ms)" "$shed_p99"
printf '%-40s %12s\n' "peak RSS (MB)" "$OVER_RSS"
echo
printf '%-40s %12s\n' "1,000 connections on GET /menu (req/s)" "$conn_rate"
printf '%-40s %12s\n' "  p99 (ms)" "$conn_p99"
printf '%-40s %12s\n' "  peak RSS (MB)" "$CONNS_RSS"
echo
echo "$SLOW_CLIENTS slow clients holding connections (--header-read-timeout-ms 10000), normal client on a new connection"
printf '%-40s %12s %12s\n' "server --max-connections" "$SLOW_CAP" "$SLOW_TIGHT_CAP"
printf '%-40s %12s %12s\n' "GET /health alone: p50 / p99 (ms)" "$(sv "$ROOMY_LINE" alone_p50_ms) / $(sv "$ROOMY_LINE" alone_p99_ms)" "$(sv "$TIGHT_LINE" alone_p50_ms) / $(sv "$TIGHT_LINE" alone_p99_ms)"
printf '%-40s %12s %12s\n' "beside them: p50 / p99 (ms, p99 < 10)" "$(sv "$ROOMY_LINE" p50_ms) / $(sv "$ROOMY_LINE" p99_ms)" "$(sv "$TIGHT_LINE" p50_ms) / $(sv "$TIGHT_LINE" p99_ms)"
printf '%-40s %12s %12s\n' "  requests answered; failed" "$(sv "$ROOMY_LINE" requests); $(sv "$ROOMY_LINE" errors)" "$(sv "$TIGHT_LINE" requests); $(sv "$TIGHT_LINE" errors)"
printf '%-40s %12s %12s\n' "open fds: at idle; peak" "$ROOMY_IDLE; $(sv "$ROOMY_LINE" fds_peak)" "$TIGHT_IDLE; $(sv "$TIGHT_LINE" fds_peak)"
# +1: a connection over the cap holds its descriptor for the moment it takes to answer it 503.
printf '%-40s %12s %12s\n' "  bound: cap + fds at idle + 1" "$((SLOW_CAP + ROOMY_IDLE + 1))" "$((SLOW_TIGHT_CAP + TIGHT_IDLE + 1))"
printf '%-40s %12s %12s\n' "connections refused by the cap (503)" "${ROOMY_REFUSED:-n/a}" "${TIGHT_REFUSED:-n/a}"
printf '%-40s %12s %12s\n' "slow clients closed and reconnected" "$(sv "$ROOMY_LINE" slow_reconnects)" "$(sv "$TIGHT_LINE" slow_reconnects)"
echo "  (with the cap below the number of slow clients, a client arriving while they hold every slot is"
echo "   refused with 503 until the header-read timeout frees one: the cap bounds descriptors, not who gets in)"
