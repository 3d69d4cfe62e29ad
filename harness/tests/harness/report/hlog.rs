//! The per-request HdrHistogram interval logs (.hlog) of a report, read
//! back with hdrhistogram itself.

use super::{known_run, write_report};

#[test]
fn histogram_logs_can_be_read_back_by_hdrhistogram() {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;
    let root = tempfile::tempdir().unwrap();
    let written = write_report(&known_run(), &[], root.path()).unwrap();
    let bytes = std::fs::read(written.dir.join("GET-menu.hlog")).unwrap();
    let mut total = 0;
    let mut intervals = 0;
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(h) = entry.expect("a well-formed log line") {
            let decoded = base64_decode(h.encoded_histogram());
            let hist: hdrhistogram::Histogram<u64> = Deserializer::new()
                .deserialize(&mut decoded.as_slice())
                .unwrap();
            total += hist.len();
            intervals += 1;
        }
    }
    assert_eq!(total, 1000);
    assert_eq!(intervals, 11);
}

/// Standard base64 (the .hlog encoding), decoded without another dependency.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// 100 or 200 requests a second (so that p50, p95 and p99 fall on whole
/// ranks, where every HdrHistogram implementation agrees), latencies spread
/// from 1 ms to about 1.3 s.
fn spread_run() -> harness::record::RunRecord {
    use harness::record::Outcome;
    let samples = (0..6u64).flat_map(|sec| {
        let n = if sec % 2 == 0 { 100 } else { 200 };
        (0..n).map(move |i| {
            let latency_ms = 1 + (i * i * 7 + sec * 131) % 1300;
            let at_ms = sec * 1000 + i * 1000 / n;
            // Completion second = intended second: keep the finish inside it.
            let latency_ms = latency_ms.min(999 - i * 1000 / n).max(1);
            super::sample((i % 2) as u32, Outcome::Ok, at_ms, latency_ms)
        })
    });
    super::synthetic_run(&["GET /menu", "POST /orders"], 6, samples)
}

#[test]
fn hdrhistograms_own_python_reader_sees_the_counts_and_percentiles_of_summary_json() {
    let python = crate::helpers::python_tools();
    let root = tempfile::tempdir().unwrap();
    let written = write_report(&spread_run(), &[], root.path()).unwrap();
    let summary = crate::helpers::summary(&written.dir);
    let out = std::process::Command::new(python)
        .arg(crate::helpers::repo_file(
            "harness/tests/python/read_hlog.py",
        ))
        .arg(written.dir.join("all.hlog"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the Python reader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let timeline = &summary["timeline"]["overall"];
    let t_s: Vec<u64> = timeline["t_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap())
        .collect();
    let intervals = read["intervals"].as_array().unwrap();
    assert_eq!(intervals.len(), 6);
    for interval in intervals {
        let t = interval["t_s"].as_u64().unwrap();
        let i = t_s
            .iter()
            .position(|x| *x == t)
            .expect("a second of the timeline");
        assert_eq!(interval["count"], timeline["count"][i], "second {t}");
        for (p, key) in [("50.0", "p50_ms"), ("95.0", "p95_ms"), ("99.0", "p99_ms")] {
            let us = interval["percentiles"][p].as_f64().unwrap();
            let ms = timeline[key][i].as_f64().unwrap();
            assert_eq!(us / 1000.0, ms, "p{p} of second {t}");
        }
    }
    assert_eq!(read["union"]["count"], summary["overall"]["count"]);
}
