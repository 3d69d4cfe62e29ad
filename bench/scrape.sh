#!/usr/bin/env bash
# Server-metrics scraping cost: what reading the bundled server's /metrics once a second costs
# the server and the run's requests. Prints, side by side in one run:
#   - the server's CPU per /metrics scrape (1,000 scrapes on one connection, no load), and that at one scrape a second
#     as a share of the server's CPU under bench/scenarios/scrape.toml's load (target < 1 %);
#   - the run's p50 and p99 with scraping off and on (medians of ROUNDS alternating rounds).
# Run from the repository root: `bash bench/scrape.sh` (after a release build). Bounded in time.
# Tunables (environment): ROUNDS (default 3), RUN_SECS (default 15).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
RUN_SECS=${RUN_SECS:-15}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SERVER="$TARGET_DIR/release/reference-server"
HARNESS="$TARGET_DIR/release/harness"
TICK=$(getconf CLK_TCK)

cargo build --release -p reference-server -p harness --bins >&2

BIN=$SERVER
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

start gateway gateway --listen 127.0.0.1:0 --latency-median-ms 5 --latency-p99-ms 20 --decline-rate 0
GATEWAY=$URL
start server --listen 127.0.0.1:0 --payment-gateway-url "$GATEWAY" \
    --stations grill:dine_in:5:100,counter:takeout:6:120,packing:delivery:2:40 --prep-time-ms 250 --unpaid-expiry-ms 30000
SERVER_PID=$PID
SERVER_URL=$URL

# 1. The same load with scraping off and on, alternating, RUN_SECS each.
sed 's/^enabled = true$/enabled = false/' bench/scenarios/scrape.toml >"$WORK/off.toml"
cp bench/scenarios/scrape.toml "$WORK/on.toml"
for round in $(seq "$ROUNDS"); do
    for mode in off on; do
        before=$(cpu_ticks "$SERVER_PID")
        out=$("$HARNESS" run "$WORK/$mode.toml" --target "$SERVER_URL" --duration "${RUN_SECS}s" \
            --quiet --reports-dir "$WORK/reports-$mode-$round" || true)
        after=$(cpu_ticks "$SERVER_PID")
        dir=$(dirname "$(echo "$out" | sed -n 's/^report: //p' | tail -1)")
        python3 - "$dir/summary.json" "$((after - before))" "$TICK" "$RUN_SECS" >>"$WORK/$mode.tsv" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ticks, tick, secs = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
l = s["overall"]["latency_ms"]
scrapes = (s.get("server_metrics") or {}).get("scrapes", 0)
print(f'{l["p50"]:.3f}\t{l["p99"]:.3f}\t{ticks / tick / secs * 100:.2f}\t{scrapes}')
PY
    done
done

# 2. The server's CPU per scrape, alone, after the load (every series then has values): 1,000
#    scrapes in a row on one kept-alive connection, as the harness's scraper makes them.
before=$(cpu_ticks "$SERVER_PID")
for _ in $(seq 1000); do printf 'url = "%s/metrics"\noutput = "/dev/null"\n' "$SERVER_URL"; done >"$WORK/scrapes.curl"
curl -sf --config "$WORK/scrapes.curl"
after=$(cpu_ticks "$SERVER_PID")
per_scrape_ms=$(awk -v d=$((after - before)) -v t="$TICK" 'BEGIN {printf "%.3f", d / t * 1000 / 1000}')
bytes=$(curl -sf "$SERVER_URL/metrics" | wc -c)

col() { cut -f"$1" "$WORK/$2.tsv" | median; }
server_cpu_on=$(col 3 on)
share=$(awk -v ms="$per_scrape_ms" -v cpu="$server_cpu_on" 'BEGIN {printf "%.2f", (ms / 10) / cpu * 100}')
echo
echo "scraping the bundled server's /metrics ($bytes bytes, 9 declared series), medians of $ROUNDS rounds of ${RUN_SECS}s"
printf "%-44s %12s %12s\n" "" "scraping off" "scraping on"
printf "%-44s %12s %12s\n" "run p50 (ms)" "$(col 1 off)" "$(col 1 on)"
printf "%-44s %12s %12s\n" "run p99 (ms)" "$(col 2 off)" "$(col 2 on)"
printf "%-44s %12s %12s\n" "server CPU (% of one core)" "$(col 3 off)" "$server_cpu_on"
printf "%-44s %12s %12s\n" "scrapes in the run" "$(col 4 off)" "$(col 4 on)"
echo "server CPU per scrape: ${per_scrape_ms} ms, so $(awk -v ms="$per_scrape_ms" 'BEGIN {printf "%.3f", ms / 10}') % of one core at 1 scrape/s;"
echo "that is ${share} % of the server's CPU under this load (target < 1 %)"
