#!/usr/bin/env bash
# A/A noise floor: the same short scenario run AA_REPEAT times (default 5) against the bundled reference
# server (default profile), one run after another, and the spread of p95 and throughput between those
# identical runs: min, median, max, (max - min) / median, and the 95 % bootstrap interval of the median.
# No baseline change smaller than this floor can be told from noise on this machine.
# Run from the repository root: `bash bench/aa.sh`. Bounded: each run lasts AA_DURATION (default 20s)
# plus the server's start, and the whole script is stopped after AA_TIMEOUT seconds (default 600).
# Tunables (environment): AA_SCENARIO (default scenarios/rush-hour.toml), AA_DURATION, AA_SCALE
# (default 0.25: a quarter of the scenario's users), AA_REPEAT, AA_TIMEOUT.
set -euo pipefail
cd "$(dirname "$0")/.."

AA_SCENARIO=${AA_SCENARIO:-scenarios/rush-hour.toml}
AA_DURATION=${AA_DURATION:-20s}
AA_SCALE=${AA_SCALE:-0.25}
AA_REPEAT=${AA_REPEAT:-5}
AA_TIMEOUT=${AA_TIMEOUT:-600}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
HARNESS="$TARGET_DIR/release/harness"

echo "== building the release binary" >&2
cargo build --release -p harness --quiet >&2

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== A/A: $AA_SCENARIO x $AA_REPEAT against the bundled server (--duration $AA_DURATION --scale $AA_SCALE)" >&2
status=0
timeout --signal=TERM --kill-after=10 "$AA_TIMEOUT" \
    "$HARNESS" run "$AA_SCENARIO" --target bundled:default --repeat "$AA_REPEAT" \
    --duration "$AA_DURATION" --scale "$AA_SCALE" --quiet --reports-dir "$WORK/reports" \
    >"$WORK/out.txt" || status=$?
# Exit 1 (a scenario gate failed) still measures the noise; anything else is a failed bench.
if [[ $status -ne 0 && $status -ne 1 ]]; then
    cat "$WORK/out.txt" >&2
    echo "aa: the runs failed (exit $status)" >&2
    exit "$status"
fi
spread=$(sed -n 's/^  \(p95 median .*\)$/\1/p; s/^  \(throughput median .*\)$/\1/p' "$WORK/out.txt")
if [[ -z $spread ]]; then
    cat "$WORK/out.txt" >&2
    echo "aa: the harness printed no spread over its repeats" >&2
    exit 3
fi
echo "A/A noise floor over $AA_REPEAT runs of $(basename "$AA_SCENARIO" .toml) ($AA_DURATION, scale $AA_SCALE), bundled server:"
while IFS= read -r line; do echo "  $line"; done <<<"$spread"
