#!/usr/bin/env bash
# What the live dashboard costs the load generator: the same open-model run
# (1,000 GET/s for 10 s against bench-backend, 1 ms answers), without a
# dashboard and with `--dashboard` and 3 pages subscribed to its event
# stream, alternated; the generator's mean CPU (summary.json's
# generator.cpu_mean_cores) side by side, medians of $DASH_RUNS runs each,
# and the median of the pairs' differences (each pair ran back to back, so
# a change in the host's load between pairs cancels out).
# Needs the release build (bench/run.sh builds it; HARNESS= and BENCH_BACKEND= point elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
H=${HARNESS:-target/release/harness}
B=${BENCH_BACKEND:-target/release/bench-backend}
RUNS=${DASH_RUNS:-9}
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT

"$B" --delay-ms 1 --max-seconds 900 > "$out/backend" & 
for _ in $(seq 50); do [ -s "$out/backend" ] && break; sleep 0.1; done
url=$(head -1 "$out/backend" | sed 's/listening on //')

one() { # with|without → prints the generator's mean CPU (cores)
  local dir="$out/$1-$RANDOM"
  if [ "$1" = with ]; then
    "$H" run bench/scenarios/open-get.toml --target "$url" --duration 10s --quiet \
      --reports-dir "$dir" --dashboard > "$out/run.log" &
    local run=$!
    for _ in $(seq 100); do grep -q '^dashboard: ' "$out/run.log" 2>/dev/null && break; sleep 0.05; done
    local page; page=$(grep '^dashboard: ' "$out/run.log" | sed 's/^dashboard: //')
    for i in 1 2 3; do
      curl -s "$page" > /dev/null
      curl -s -N --max-time 30 "${page}events" > "$out/page-$i" &
    done
    wait "$run" || true
  else
    "$H" run bench/scenarios/open-get.toml --target "$url" --duration 10s --quiet \
      --reports-dir "$dir" > "$out/run.log" || true
  fi
  python3 -c "import json,glob; p=glob.glob('$dir/*/*/summary.json')[0]; print(json.load(open(p))['generator']['cpu_mean_cores'])"
}

without=(); with=()
for _ in $(seq "$RUNS"); do
  without+=("$(one without)")
  with+=("$(one with)")
done
events=$(grep -c '^event: snapshot' "$out/page-1" || true)
python3 - "$events" "${without[*]}" "${with[*]}" <<'PY'
import statistics, sys
events = sys.argv[1]
a = [float(x) for x in sys.argv[2].split()]
b = [float(x) for x in sys.argv[3].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"  generator CPU, 1,000 GET/s for 10 s, median of {len(a)} runs each:")
print(f"    without dashboard              {ma:.4f} cores   runs: {' '.join(f'{x:.3f}' for x in a)}")
print(f"    --dashboard, 3 pages listening {mb:.4f} cores   runs: {' '.join(f'{x:.3f}' for x in b)}")
d = statistics.median(y - x for x, y in zip(a, b))
print(f"    cost, median of the {len(a)} pairs' differences: {100 * d:+.2f} % of a core ({100 * d / ma:+.1f} % of the generator's own CPU); target < 2 %")
print(f"    snapshots one page received in its last run: {events}")
PY
