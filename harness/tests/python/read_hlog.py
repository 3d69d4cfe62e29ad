"""Reads HdrHistogram interval logs with HdrHistogram's own Python reader
(PyPI `hdrhistogram`) and prints, as JSON, each interval's start, count,
max and percentiles, and the same for the union of every interval.

Usage: read_hlog.py FILE.hlog
"""
import json
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

PERCENTILES = (50.0, 95.0, 99.0)


def figures(hist):
    return {
        "count": hist.get_total_count(),
        "max": hist.get_max_value(),
        "percentiles": {str(p): hist.get_value_at_percentile(p) for p in PERCENTILES},
    }


def main(path):
    # 1 us .. 1 hour at 3 significant figures: wide enough for any interval.
    union = HdrHistogram(1, 3_600_000_000, 3)
    reader = HistogramLogReader(path, union)
    intervals = []
    while True:
        hist = reader.get_next_interval_histogram()
        if hist is None:
            break
        start = hist.get_start_time_stamp() / 1000.0 - reader.get_start_time_sec()
        intervals.append({"t_s": round(start), **figures(hist)})
        union.add(hist)
    reader.close()
    print(json.dumps({"intervals": intervals, "union": figures(union)}))


if __name__ == "__main__":
    main(sys.argv[1])
