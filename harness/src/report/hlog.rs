//! HDR histogram interval logs in HdrHistogram's own format (the one its
//! `HistogramLogReader`s in Java, Python and Go, HdrHistogramVisualizer and
//! hdr-plot read): one file per request name plus `all.hlog`, one interval
//! histogram of corrected latency in µs per second, each line a compressed V2
//! payload (deflate, cookie 0x1c849314) as the legend
//! `Interval_Compressed_Histogram` says. The histograms are written at the
//! precision they were recorded with, so `harness merge` reads them back
//! exactly ([`read_intervals`]).

use super::output::safe_name;
use crate::record::{RunRecord, Series};
use anyhow::{Context, Result};
use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Writes the logs into `dir`, returning the files written.
pub(crate) fn write_hlogs(run: &RunRecord, dir: &Path) -> Result<Vec<PathBuf>> {
    let start = SystemTime::from(run.meta.started_at);
    let mut written = Vec::new();
    let all = std::iter::once(("all requests", run.recorder.overall()));
    let names = file_names(run.recorder.names());
    for ((name, series), file) in all.chain(run.recorder.requests()).zip(names) {
        let path = dir.join(&file);
        let bytes = encode(name, series, start)
            .with_context(|| format!("encoding the histogram log of {name}"))?;
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The log file of all requests (`all.hlog`) and of each request name, in
/// that order; names that clean up to the same stem get `-2`, `-3`, ...
pub(crate) fn file_names(names: &[String]) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    let stems = std::iter::once("all".to_string()).chain(names.iter().map(|n| file_stem(n)));
    for stem in stems {
        let mut file = format!("{stem}.hlog");
        for n in 2.. {
            if !used.contains(&file) {
                break;
            }
            file = format!("{stem}-{n}.hlog");
        }
        used.push(file);
    }
    used
}

/// "POST /orders/{{order_id}}/payments" → "POST-orders-order_id-payments".
fn file_stem(name: &str) -> String {
    let safe = safe_name(name);
    let mut stem = String::with_capacity(safe.len());
    for c in safe.chars() {
        if !(c == '-' && stem.ends_with('-')) {
            stem.push(c);
        }
    }
    match stem.trim_matches('-') {
        "" => "request".to_string(),
        s => s.to_string(),
    }
}

/// One request's per-second histograms as an interval log.
pub(crate) fn encode(name: &str, series: &Series, start: SystemTime) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let tag_text = safe_name(name);
    let tag = Tag::new(&tag_text);
    let mut writer = IntervalLogWriterBuilder::new()
        .add_comment(&format!("harness latency log for request `{name}`"))
        .add_comment(
            "values are corrected latency in microseconds (from each request's intended start)",
        )
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut serializer)?;
    writer.write_comment("Legend: StartTimestamp (s since BaseTime), Interval_Length (s), Interval_Max (ms), Interval_Compressed_Histogram")?;
    for (t, second) in series.seconds.iter().enumerate() {
        if second.latency.is_empty() {
            continue;
        }
        writer
            .write_histogram(
                &second.latency,
                Duration::from_secs(t as u64),
                Duration::from_secs(1),
                tag,
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(out)
}

/// Reads an interval log back: each interval's start (whole seconds since the
/// log's base time) and its histogram, exactly as it was written.
pub(crate) fn read_intervals(bytes: &[u8]) -> Result<Vec<(u64, Histogram<u64>)>> {
    let mut out = Vec::new();
    let mut deserializer = Deserializer::new();
    for (line, entry) in IntervalLogIterator::new(bytes).enumerate() {
        let entry = entry.map_err(|e| anyhow::anyhow!("entry {}: {e:?}", line + 1))?;
        let LogEntry::Interval(interval) = entry else {
            continue;
        };
        let payload = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .with_context(|| format!("entry {}: the histogram is not base64", line + 1))?;
        let hist: Histogram<u64> = deserializer
            .deserialize(&mut payload.as_slice())
            .map_err(|e| anyhow::anyhow!("entry {}: {e:?}", line + 1))?;
        out.push((interval.start_timestamp().as_secs(), hist));
    }
    Ok(out)
}
