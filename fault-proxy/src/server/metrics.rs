//! `/metrics`: Toxiproxy's proxy metrics in Prometheus' text format, as its
//! `-proxy-metrics` flag serves them (here always on), plus the HTTP toxics'
//! request counts. A series stays after its proxy or toxic is removed, as a
//! Prometheus counter does.

use crate::plane::{ByteCounters, HttpCounters, LinkBytes};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// Toxiproxy's labels, in its order: direction, proxy, listener, upstream.
type ByteLabels = (&'static str, String, String, String);
/// An HTTP toxic's labels: proxy, toxic, type.
type HttpLabels = (String, String, &'static str);

#[derive(Default)]
pub(crate) struct Metrics {
    bytes: Mutex<BTreeMap<ByteLabels, Arc<ByteCounters>>>,
    http: Mutex<BTreeMap<HttpLabels, Arc<HttpCounters>>>,
}

impl Metrics {
    /// The byte counters of a proxy listening on `listener` (the address it
    /// really bound); the same labels share one series, as in Toxiproxy.
    pub fn link(&self, proxy: &str, listener: &str, upstream: &str) -> LinkBytes {
        let mut bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        let mut series = |direction: &'static str| {
            let labels = (direction, proxy.into(), listener.into(), upstream.into());
            bytes.entry(labels).or_default().clone()
        };
        LinkBytes {
            upstream: series("upstream"),
            downstream: series("downstream"),
        }
    }

    /// Fresh request counters for an HTTP toxic just added (a counter reset
    /// for a toxic re-added under the same name).
    pub fn http_toxic(&self, proxy: &str, toxic: &str, kind: &'static str) -> Arc<HttpCounters> {
        let counters = Arc::new(HttpCounters::default());
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        http.insert((proxy.into(), toxic.into(), kind), counters.clone());
        counters
    }

    /// Every series, as Go's Prometheus client writes them: families sorted by
    /// name, `# HELP` (empty, as Toxiproxy gives none) and `# TYPE` lines,
    /// label names sorted, values as Go formats a float.
    pub fn render(&self) -> String {
        let mut out = String::new();
        {
            let bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
            // Sorted by label values in label-name order (direction, listener, proxy, upstream).
            let mut rows: Vec<_> = bytes.iter().collect();
            rows.sort_by(|a, b| {
                (a.0 .0, &a.0 .2, &a.0 .1, &a.0 .3).cmp(&(b.0 .0, &b.0 .2, &b.0 .1, &b.0 .3))
            });
            for (name, pick) in [
                ("toxiproxy_proxy_received_bytes_total", true),
                ("toxiproxy_proxy_sent_bytes_total", false),
            ] {
                if rows.is_empty() {
                    break;
                }
                let _ = writeln!(out, "# HELP {name} \n# TYPE {name} counter");
                for ((direction, proxy, listener, upstream), c) in &rows {
                    let value = if pick { &c.received } else { &c.sent };
                    let _ = writeln!(
                        out,
                        "{name}{{direction=\"{direction}\",listener=\"{}\",proxy=\"{}\",upstream=\"{}\"}} {}",
                        escape(listener),
                        escape(proxy),
                        escape(upstream),
                        go_float(value.load(Ordering::Relaxed))
                    );
                }
            }
        }
        let http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        for (name, help, pick) in [
            (
                "fault_proxy_http_requests_affected_total",
                "Requests an HTTP toxic acted on (answered, delayed or reset).",
                true,
            ),
            (
                "fault_proxy_http_requests_total",
                "Requests that reached an HTTP toxic.",
                false,
            ),
        ] {
            if http.is_empty() {
                break;
            }
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for ((proxy, toxic, kind), c) in http.iter() {
                let value = if pick { &c.affected } else { &c.requests };
                let _ = writeln!(
                    out,
                    "{name}{{proxy=\"{}\",toxic=\"{}\",type=\"{kind}\"}} {}",
                    escape(proxy),
                    escape(toxic),
                    go_float(value.load(Ordering::Relaxed))
                );
            }
        }
        out
    }
}

/// A label value escaped as the text format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A whole number as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it,
/// which is how Toxiproxy's counters appear: `123456`, then `1e+06`, `1.234567e+06`.
fn go_float(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() <= 6 {
        return digits;
    }
    // Above 2^53 a float64 is no longer exact; the counters never get there.
    let exponent = digits.len() - 1;
    let mantissa = digits.trim_end_matches('0');
    let (first, rest) = mantissa.split_at(1);
    let dot = if rest.is_empty() { "" } else { "." };
    format!("{first}{dot}{rest}e+{exponent:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_written_as_go_writes_floats() {
        assert_eq!(go_float(0), "0");
        assert_eq!(go_float(999_999), "999999");
        assert_eq!(go_float(1_000_000), "1e+06");
        assert_eq!(go_float(1_234_567), "1.234567e+06");
        assert_eq!(go_float(12_345_678_901), "1.2345678901e+10");
    }
}
