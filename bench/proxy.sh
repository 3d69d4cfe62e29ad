#!/usr/bin/env bash
# The fault proxy's figures, side by side with a direct connection in one run
# (loopback only, bounded to about a minute): added median latency on one
# connection, throughput at 64 connections, a 100 ms latency toxic and two
# composed 50 ms ones at 1,000 connections, and 5,000 idle proxied connections
# with memory per connection.
# Run from anywhere: bash bench/proxy.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet -p fault-proxy --example proxy_bench

# 5,000 proxied connections need ~10,000 descriptors in the proxy process.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt 12000 ]; then
  echo "proxy bench: open-file limit $(ulimit -n) is below the 12,000 the 5,000-connection check needs" >&2
fi

exec timeout 300 "$target_dir/release/examples/proxy_bench" "$@"
