#!/usr/bin/env bash
# `make bench`: every figure the project promises, measured side by side in
# one run on loopback, medians printed. Installs wrk/oha on first use
# (bench/tools.sh). Sections can be run alone: bench/run.sh server|events|proxy|harness|report|capacity|aa|shards|dashboard|history|scrape.
set -euo pipefail
cd "$(dirname "$0")/.."

sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(server events proxy harness report capacity aa shards dashboard history scrape)

bash bench/tools.sh
export PATH="$PWD/.bench-tools/bin:$PATH"
cargo build --release --workspace --bins --examples --quiet

for section in "${sections[@]}"; do
  echo
  echo "################ $section ################"
  case "$section" in
    server)   bash bench/server.sh ;;
    events)   target/release/sse-fanout ;;
    proxy)    bash bench/proxy.sh ;;
    harness)  target/release/bench-harness ;;
    report)   target/release/report-time ;;
    aa)       bash bench/aa.sh ;;
    shards)   target/release/bench-shards ;;
    capacity) bash bench/capacity.sh ;;
    dashboard) bash bench/dashboard.sh ;;
    history)  bash bench/history.sh ;;
    scrape)   bash bench/scrape.sh ;;
    *) echo "unknown section $section (server, events, proxy, harness, report, capacity, aa, shards, dashboard, history, scrape)" >&2; exit 2 ;;
  esac
done
