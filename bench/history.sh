#!/usr/bin/env bash
# Change points across recorded runs, on the fixed-delay bench backend (loopback):
#   - step: STEP_RUNS runs (default 8) at 5 ms, then as many at 10 ms, each recorded with --history;
#     expected: exactly one change point in the overall p50, at run index 8 (± 1), none before;
#   - A/A: AA_RUNS runs (default 30) at 5 ms; expected: no change point in the overall p50.
# Each series is cross-checked against Apache Otava (apache-otava from PyPI, installed into .venv/
# from bench/otava-requirements.txt) on the same p50 series; both are printed side by side.
# Run from the repository root: `bash bench/history.sh` (HISTORY_KEEP=DIR keeps the history
# reports). Bounded: each run lasts 3 s plus start-up,
# the whole script is stopped after HISTORY_TIMEOUT seconds (default 900).
set -euo pipefail
cd "$(dirname "$0")/.."

STEP_RUNS=${STEP_RUNS:-8}
AA_RUNS=${AA_RUNS:-30}
HISTORY_TIMEOUT=${HISTORY_TIMEOUT:-900}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
# HISTORY_PROFILE=dev uses the debug build (change points do not depend on the build's speed).
HISTORY_PROFILE=${HISTORY_PROFILE:-release}
profile_dir=$([ "$HISTORY_PROFILE" = dev ] && echo debug || echo "$HISTORY_PROFILE")
HARNESS="$TARGET_DIR/$profile_dir/harness"
BACKEND="$TARGET_DIR/$profile_dir/bench-backend"

echo "== building the $HISTORY_PROFILE binaries and Apache Otava's venv" >&2
cargo build --profile "$HISTORY_PROFILE" -p harness -p bench --bins --quiet >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r bench/otava-requirements.txt >&2

WORK=$(mktemp -d)
backend_pid=
cleanup() {
    [ -n "$backend_pid" ] && kill "$backend_pid" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
deadline=$((SECONDS + HISTORY_TIMEOUT))

# Starts the backend at $1 ms on $2 (host:port, or port 0 for a free one); sets $backend_url.
start_backend() {
    [ -n "$backend_pid" ] && { kill "$backend_pid" 2>/dev/null || true; wait "$backend_pid" 2>/dev/null || true; }
    "$BACKEND" --delay-ms "$1" --listen "$2" --max-seconds "$HISTORY_TIMEOUT" >"$WORK/backend.out" &
    backend_pid=$!
    for _ in $(seq 100); do
        backend_url=$(sed -n 's/^listening on //p' "$WORK/backend.out")
        [ -n "$backend_url" ] && return 0
        sleep 0.1
    done
    echo "history: the bench backend did not start" >&2
    exit 3
}

# Records $2 runs against the backend in the history file $1. A run whose generator fell behind
# (exit 4, on a busy machine) is recorded as invalid and left out of the change-point search.
record_runs() {
    for _ in $(seq "$2"); do
        if (( SECONDS > deadline )); then echo "history: out of time (HISTORY_TIMEOUT)" >&2; exit 3; fi
        code=0
        timeout --signal=TERM --kill-after=10 120 "$HARNESS" run bench/scenarios/history.toml \
            --target "$backend_url" --quiet --reports-dir "$WORK/reports" --history "$1" >/dev/null || code=$?
        case $code in
            0) ;;
            4) echo "history: a run's generator fell behind (recorded as invalid)" >&2 ;;
            *) echo "history: a run failed (exit $code)" >&2; exit "$code" ;;
        esac
    done
}

# Writes the history report of $1 into $2 and prints both change-point lists under label $3;
# $4 is the expected change point's run index, or "none".
judge() {
    "$HARNESS" history --history "$1" -o "$2" >/dev/null
    .venv/bin/python bench/history_otava.py "$3" "$2/history.json" "$4"
}

echo "== step: $STEP_RUNS runs at 5 ms, then $STEP_RUNS at 10 ms" >&2
start_backend 5 127.0.0.1:0
addr=${backend_url#http://}
record_runs "$WORK/step.db" "$STEP_RUNS"
start_backend 10 "$addr"   # same address: the same target, so one series
record_runs "$WORK/step.db" "$STEP_RUNS"
echo "== A/A: $AA_RUNS runs at 5 ms" >&2
start_backend 5 127.0.0.1:0
record_runs "$WORK/aa.db" "$AA_RUNS"

echo "Change points across recorded runs (expected: step at run index $STEP_RUNS ± 1 and none before; A/A none):"
status=0
judge "$WORK/step.db" "$WORK/step" "  step 5 ms -> 10 ms" "$STEP_RUNS" || status=1
judge "$WORK/aa.db" "$WORK/aa" "  A/A 5 ms" none || status=1
# HISTORY_KEEP=DIR keeps both history reports (history.html, .md, .json) and the runs' folders.
if [ -n "${HISTORY_KEEP:-}" ]; then
    mkdir -p "$HISTORY_KEEP" && cp -r "$WORK/step" "$WORK/aa" "$WORK/reports" "$HISTORY_KEEP/"
fi
exit $status
