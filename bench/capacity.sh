#!/usr/bin/env bash
# Capacity planning figures, side by side in one run:
#   - `harness capacity` of the reference server's default and naive profiles
#     (customers who order, pay and wait for the order; SLO p95 < 250 ms,
#     < 1 % shed, and < 1 % of looks at an order ending with it not ready
#     within 3 s: one look in up to 12, so a few % of orders),
#   - beside the highest POST /orders rate oha reaches on each profile.
# Needs the release build and oha (bench/run.sh does both).
set -euo pipefail
cd "$(dirname "$0")/.."
H=target/release/harness
STEP=${CAP_STEP:-30s}
SLO=${CAP_SLO:-p95<250ms,shed-rate<1%,error-rate<1% for GET /orders/{{order_id}}}
OHA=${OHA:-.bench-tools/bin/oha}
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT

capacity() { # profile
  "$H" capacity bench/scenarios/orders-capacity.toml --profile "$1" --slo "$SLO" \
    --step "$STEP" --start-rate 100 --max-rate 4000 --max-steps 8 --precision 0.05 \
    --reports-dir "$out/reports-$1" | grep -E "offered|capacity|saturated|fails" | sed 's/^/    /'
}

oha_orders() { # profile
  local data="$out/data-$1"
  mkdir -p "$data"
  "$H" reference-server gateway --listen 127.0.0.1:0 > "$out/gw-$1" & local gw=$!
  sleep 0.5
  local gw_url; gw_url=$(head -1 "$out/gw-$1" | sed 's/listening on //')
  "$H" reference-server --listen 127.0.0.1:0 --data-dir "$data" --profile "$1" \
    --payment-gateway-url "$gw_url" --kitchen-backlog 10000000 > "$out/srv-$1" 2>/dev/null & local srv=$!
  for _ in $(seq 50); do [ -s "$out/srv-$1" ] && break; sleep 0.1; done
  local url; url=$(head -1 "$out/srv-$1" | sed 's/listening on //')
  "$OHA" --no-tui --output-format json -z 8s -c 64 -m POST -T application/json \
    -d '{"store_id":"store-1","customer":{"name":"Bench"},"order_type":{"kind":"takeout"},"items":[{"sku":"latte","quantity":1}]}' \
    "$url/orders" > "$out/oha-$1.json" || true
  kill "$srv" "$gw" 2>/dev/null || true; wait "$srv" "$gw" 2>/dev/null || true
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['summary']; c=d.get('statusCodeDistribution',{}); print(f\"    oha, 64 connections, POST /orders without payment: {s['requestsPerSec']:.0f}/s ({c})\")" "$out/oha-$1.json" 2>/dev/null \
    || echo "    oha: no figure (is $OHA installed?)"
}

for profile in default naive; do
  echo "== capacity, $profile profile (SLO: $SLO; steps of $STEP) =="
  capacity "$profile" || echo "    harness capacity exited with $?"
  oha_orders "$profile"
done
