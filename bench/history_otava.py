"""Sets the harness's change points in the overall p50 beside Apache Otava's
on the same series (history.json written by `harness history`).

Usage: python bench/history_otava.py LABEL history.json EXPECTED
EXPECTED is the run index of the one change point the series holds, or
"none". Prints both lists side by side, one line, and exits 1 when the
harness's list is not the expected one (one change point within 1 run of
EXPECTED and none before, or none at all).
"""
import json
import sys

from otava.analysis import compute_change_points, compute_change_points_orig


def main() -> None:
    label, path, expected = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(path) as f:
        history = json.load(f)
    # Invalid runs are out of the search; map Otava's indexes back to run indexes.
    valid = [run for run in history["runs"] if run["valid"]]
    series = [run["overall"]["p50"] for run in valid]
    at = [run["index"] for run in valid]
    ours = sorted(
        cp["run_index"]
        for cp in history["change_points"]
        if cp["metric"] == "p50" and cp["request"] is None
    )
    # E-divisive with a permutation test (Matteson & James), as the harness does.
    orig, _ = compute_change_points_orig(series, max_pvalue=0.001, seed=1)
    # Otava's default: E-divisive candidates judged by a t-test, split and merged (Fleming et al.).
    default, _ = compute_change_points(series, window_len=50, max_pvalue=0.001)
    print(
        f"{label}: {len(series)} valid runs of {len(history['runs'])}, overall p50 change points at run index: "
        f"harness {ours} | Otava e-divisive+permutation {sorted(at[int(c.index)] for c in orig)} "
        f"| Otava default (t-test) {sorted(at[int(c.index)] for c in default)}"
    )
    if expected == "none":
        ok = not ours
    else:
        at = int(expected)
        ok = len(ours) == 1 and abs(ours[0] - at) <= 1
    print(f"    expected {expected}: {'ok' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
