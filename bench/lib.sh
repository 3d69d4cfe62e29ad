# Shared by the bench scripts (source it after `set -euo pipefail`): a temporary work folder
# removed on exit with every process started through `start`, and small measuring helpers.
# The sourcing script sets BIN (the binary `start` runs) before calling `start`.

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME ARGS... : runs $BIN in the background and sets URL and PID from its announce line.
start() {
    local name=$1; shift
    "$BIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 100); do
        if grep -q '^listening on ' "$WORK/$name.out" 2>/dev/null; then
            URL=$(sed -n 's/^listening on //p' "$WORK/$name.out")
            return 0
        fi
        sleep 0.1
    done
    echo "$name did not start; its log:" >&2
    cat "$WORK/$name.err" >&2
    exit 3
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# cpu_ticks PID: user + system time of the process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# median: of the numbers on stdin, one per line ("n/a" when there are none).
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "n/a"; else print v[int((NR + 1) / 2)]}'; }
