//! HDR histogram interval logs (the V2 `.hlog` format HdrHistogram's own tools,
//! HdrHistogramVisualizer and hdr-plot read): one file per request name plus
//! `all.hlog`, one interval histogram of corrected latency in µs per second.

use super::output::safe_name;
use crate::record::{RunRecord, Series};
use anyhow::{Context, Result};
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2Serializer;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Writes the logs into `dir`, returning the files written.
pub fn write_hlogs(run: &RunRecord, dir: &Path) -> Result<Vec<PathBuf>> {
    let start = SystemTime::from(run.meta.started_at);
    let mut written = Vec::new();
    let all = std::iter::once(("all requests", run.recorder.overall()));
    let mut used: Vec<String> = Vec::new();
    for (i, (name, series)) in all.chain(run.recorder.requests()).enumerate() {
        let stem = if i == 0 {
            "all".to_string()
        } else {
            file_stem(name)
        };
        let mut file = format!("{stem}.hlog");
        for n in 2.. {
            if !used.contains(&file) {
                break;
            }
            file = format!("{stem}-{n}.hlog");
        }
        used.push(file.clone());
        let path = dir.join(&file);
        let bytes = encode(name, series, start)
            .with_context(|| format!("encoding the histogram log of {name}"))?;
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
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
pub fn encode(name: &str, series: &Series, start: SystemTime) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut serializer = V2Serializer::new();
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
