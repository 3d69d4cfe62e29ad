//! Did anything cross a link during its fault window? The fault proxy's byte
//! counters (`toxiproxy_proxy_received_bytes_total` at `/metrics`, served by
//! the built-in proxy and by Toxiproxy started with `-proxy-metrics`), read
//! when the window opens and when it closes. Counters that cannot be read
//! make the answer "unknown", never a guess.

use crate::record::LinkTraffic;
use fault_proxy::Client;

const RECEIVED: &str = "toxiproxy_proxy_received_bytes_total";
const SENT: &str = "toxiproxy_proxy_sent_bytes_total";

/// One look at a proxy's counters: `Ok(None)` when `/metrics` has no byte
/// counters at all (Toxiproxy without `-proxy-metrics`, or one that has not
/// counted a connection yet), `Err` when `/metrics` could not be read.
pub(super) type Reading = Result<Option<u64>, String>;

/// Bytes counted so far through `proxy`, both directions.
pub(super) async fn read(client: &Client, proxy: &str) -> Reading {
    let text = client
        .metrics()
        .await
        .map_err(|e| format!("the fault proxy's /metrics could not be read ({e})"))?;
    Ok(bytes_in(&text, proxy))
}

/// What two readings, at the window's start and end, say. `live` is true
/// for the built-in proxy, whose counters move as bytes flow; Toxiproxy adds
/// a connection's bytes only when it closes, so no change there proves nothing.
pub(super) fn judge(start: Reading, end: Reading, live: bool) -> LinkTraffic {
    let (start, end) = match (start, end) {
        (Err(why), _) | (_, Err(why)) => return LinkTraffic::Unknown { why },
        (Ok(None), Ok(None)) => {
            return LinkTraffic::Unknown {
                why: format!(
                    "the fault proxy's /metrics has no {RECEIVED} (a real Toxiproxy serves it when started with -proxy-metrics)"
                ),
            }
        }
        // A counter appears with its first bytes: absent is zero.
        (Ok(s), Ok(e)) => (s.unwrap_or(0), e.unwrap_or(0)),
    };
    match end.saturating_sub(start) {
        0 if live => LinkTraffic::Idle,
        0 => LinkTraffic::Unknown {
            why: "no connection through the link closed during the window, and Toxiproxy counts a connection's bytes only when it closes".into(),
        },
        bytes => LinkTraffic::Crossed { bytes },
    }
}

/// The sum of a proxy's received-bytes series (sent bytes if there are none),
/// or `None` when the text has neither family.
fn bytes_in(text: &str, proxy: &str) -> Option<u64> {
    [RECEIVED, SENT].iter().find_map(|family| {
        let mut seen = false;
        let mut sum = 0.0;
        for line in text.lines() {
            let Some(rest) = line.strip_prefix(family) else {
                continue;
            };
            let Some((labels, value)) = rest.strip_prefix('{').and_then(|r| r.rsplit_once('}'))
            else {
                continue;
            };
            seen = true;
            if label(labels, "proxy") == Some(proxy) {
                sum += value.trim().parse::<f64>().unwrap_or(0.0);
            }
        }
        // Counts as Go formats floats: exact below 2^53.
        seen.then_some(sum as u64)
    })
}

/// The value of `name` in Prometheus labels (`a="x",b="y"`); values with an
/// escaped quote are not ones the harness names its proxies with.
fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    labels.split("\",").find_map(|pair| {
        let (key, value) = pair.split_once("=\"")?;
        (key.trim_start_matches(',') == name).then(|| value.trim_end_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP toxiproxy_proxy_received_bytes_total \n\
# TYPE toxiproxy_proxy_received_bytes_total counter\n\
toxiproxy_proxy_received_bytes_total{direction=\"downstream\",listener=\"127.0.0.1:4001\",proxy=\"harness_payments\",upstream=\"127.0.0.1:9000\"} 1.234567e+06\n\
toxiproxy_proxy_received_bytes_total{direction=\"upstream\",listener=\"127.0.0.1:4001\",proxy=\"harness_payments\",upstream=\"127.0.0.1:9000\"} 433\n\
toxiproxy_proxy_received_bytes_total{direction=\"upstream\",listener=\"127.0.0.1:4002\",proxy=\"harness_edge\",upstream=\"127.0.0.1:9001\"} 7\n";

    #[test]
    fn a_proxys_bytes_are_summed_over_directions_and_go_floats_are_read() {
        assert_eq!(bytes_in(TEXT, "harness_payments"), Some(1_235_000));
        assert_eq!(bytes_in(TEXT, "harness_edge"), Some(7));
        assert_eq!(bytes_in(TEXT, "harness_other"), Some(0));
        assert_eq!(bytes_in("# nothing here\n", "harness_edge"), None);
    }

    #[test]
    fn unchanged_counters_mean_idle_only_where_they_move_with_the_bytes() {
        assert_eq!(judge(Ok(Some(10)), Ok(Some(10)), true), LinkTraffic::Idle);
        assert!(matches!(
            judge(Ok(Some(10)), Ok(Some(10)), false),
            LinkTraffic::Unknown { .. }
        ));
        assert_eq!(
            judge(Ok(None), Ok(Some(5)), false),
            LinkTraffic::Crossed { bytes: 5 }
        );
        assert!(matches!(
            judge(Ok(None), Ok(None), true),
            LinkTraffic::Unknown { .. }
        ));
        assert!(matches!(
            judge(Err("down".into()), Ok(Some(5)), true),
            LinkTraffic::Unknown { why } if why == "down"
        ));
    }
}
