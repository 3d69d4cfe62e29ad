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
