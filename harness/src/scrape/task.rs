//! The scraper: a thread of its own (a one-thread runtime, so a slow
//! endpoint never takes a worker from the load), its own HTTP client and
//! timeout, ticking on the load's epoch. A failed scrape is counted and left
//! as a gap; each successful one is folded into the series and handed to an
//! optional listener (a live view).

use super::fold::{Folder, Sample, TickPoint};
use super::{ScrapePlan, ServerMetrics, Source};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The longest a scrape may take: past it the scrape is a gap, and the next
/// tick is skipped rather than queued, so a slow endpoint is read less often
/// instead of piling requests on a struggling server.
const MAX_TIMEOUT: Duration = Duration::from_secs(2);

/// One endpoint to read and where its series come from.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) source: Source,
}

/// Called with the seconds since the load's start and the points of one
/// scrape (one call per endpoint and scrape), on the scraper's thread.
pub(crate) type Listener = Arc<dyn Fn(f64, &[TickPoint]) + Send + Sync>;

/// What the scraper gives back when the run ends.
#[derive(Debug, Default)]
pub(crate) struct ScrapeOutcome {
    /// `None` when nothing was scraped.
    pub(crate) metrics: Option<ServerMetrics>,
    pub(crate) notes: Vec<String>,
}

/// A running scraper: [`Scraper::begin`] on the load's epoch, then [`Scraper::finish`].
pub(crate) struct Scraper {
    epoch: Option<tokio::sync::oneshot::Sender<Instant>>,
    stop: CancellationToken,
    thread: std::thread::JoinHandle<ScrapeOutcome>,
}

struct Reader {
    endpoint: Endpoint,
    folder: Folder,
    tried: u64,
    failed: u64,
    first_error: Option<(f64, String)>,
}

impl Scraper {
    /// Starts the thread; it waits for [`Scraper::begin`] before the first scrape.
    pub(crate) fn spawn(
        plan: &ScrapePlan,
        endpoints: Vec<Endpoint>,
        listener: Option<Listener>,
    ) -> anyhow::Result<Scraper> {
        let client = client(plan)?;
        let headers = plan.headers.clone();
        let interval = plan.interval;
        let readers: Vec<Reader> = endpoints
            .into_iter()
            .map(|endpoint| Reader {
                folder: Folder::new(plan.series_from(endpoint.source)),
                endpoint,
                tried: 0,
                failed: 0,
                first_error: None,
            })
            .collect();
        let (epoch_tx, epoch_rx) = tokio::sync::oneshot::channel();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("server-metrics".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        return ScrapeOutcome {
                            metrics: None,
                            notes: vec![format!(
                                "server metrics: the scraper could not start: {e}"
                            )],
                        }
                    }
                };
                rt.block_on(scrape_loop(
                    client, headers, interval, readers, epoch_rx, stopped, listener,
                ))
            })?;
        Ok(Scraper {
            epoch: Some(epoch_tx),
            stop,
            thread,
        })
    }

    /// Starts scraping on the load's epoch (the first scrape at the epoch).
    pub(crate) fn begin(&mut self, epoch: Instant) {
        if let Some(tx) = self.epoch.take() {
            let _ = tx.send(epoch);
        }
    }

    /// Stops scraping and returns the series and notes.
    pub(crate) async fn finish(self) -> ScrapeOutcome {
        self.stop.cancel();
        let thread = self.thread;
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(outcome)) => outcome,
            _ => ScrapeOutcome {
                metrics: None,
                notes: vec!["server metrics: the scraper failed; no series were kept".into()],
            },
        }
    }
}

fn client(plan: &ScrapePlan) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(
            plan.interval
                .min(MAX_TIMEOUT)
                .max(Duration::from_millis(100)),
        )
        .pool_max_idle_per_host(1)
        .build()?)
}

async fn scrape_loop(
    client: reqwest::Client,
    headers: Vec<(String, String)>,
    interval: Duration,
    mut readers: Vec<Reader>,
    epoch: tokio::sync::oneshot::Receiver<Instant>,
    stop: CancellationToken,
    listener: Option<Listener>,
) -> ScrapeOutcome {
    let epoch = tokio::select! {
        e = epoch => e.ok(),
        _ = stop.cancelled() => None,
    };
    let Some(epoch) = epoch else {
        return ScrapeOutcome::default();
    };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::from_std(epoch), interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.cancelled() => break,
        }
        for r in &mut readers {
            let t_s = epoch.elapsed().as_secs_f64();
            r.tried += 1;
            match fetch(&client, &r.endpoint.url, &headers).await {
                Ok(samples) => {
                    let points = r.folder.add(t_s, &samples);
                    if let Some(l) = &listener {
                        l(t_s, &points);
                    }
                }
                Err(e) => {
                    r.failed += 1;
                    r.first_error.get_or_insert((t_s, e));
                }
            }
        }
    }
    outcome(readers, interval)
}

fn outcome(readers: Vec<Reader>, interval: Duration) -> ScrapeOutcome {
    let mut metrics = ServerMetrics {
        interval_s: interval.as_secs_f64(),
        ..ServerMetrics::default()
    };
    let mut notes = Vec::new();
    for r in readers {
        let shown = crate::redact::url(&r.endpoint.url);
        if let Some((t, e)) = &r.first_error {
            notes.push(format!(
                "server metrics: {} of {} scrapes of {shown} failed (gaps in its series); the first, at {t:.0} s: {e}",
                r.failed, r.tried
            ));
        }
        metrics.endpoints.push(shown);
        metrics.scrapes += r.tried;
        metrics.failed += r.failed;
        let (series, n) = r.folder.finish();
        metrics.series.extend(series);
        notes.extend(n);
    }
    ScrapeOutcome {
        metrics: Some(metrics),
        notes,
    }
}

/// One scrape: the samples, or why there are none, in words.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
) -> Result<Vec<Sample>, String> {
    let mut req = client.get(url);
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            "no answer within the scrape timeout".to_string()
        } else if e.is_connect() {
            "the connection was refused or could not be made".to_string()
        } else {
            crate::redact::scrub(&format!("{e:#}")).into_owned()
        }
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    let text = resp
        .text()
        .await
        .map_err(|e| format!("the answer could not be read: {e}"))?;
    parse_text(&text)
}

/// Prometheus text → samples (histogram buckets and summary quantiles are
/// left out; their `_sum` and `_count` are kept). Text with lines but no
/// sample is not Prometheus text.
pub(crate) fn parse_text(text: &str) -> Result<Vec<Sample>, String> {
    use prometheus_parse::Value;
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .map_err(|e| format!("the answer is not Prometheus text: {e}"))?;
    let samples: Vec<Sample> = scrape
        .samples
        .into_iter()
        .filter_map(|s| {
            let value = match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
                Value::Histogram(_) | Value::Summary(_) => return None,
            };
            let labels = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Some(Sample {
                metric: s.metric,
                labels,
                value,
            })
        })
        .collect();
    let has_lines = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if samples.is_empty() && has_lines {
        return Err(
            "the answer is not Prometheus text (no line reads as `metric{labels} value`)".into(),
        );
    }
    Ok(samples)
}

/// One scrape before the load: `Err` says why the endpoint cannot be read.
pub(crate) async fn preflight(plan: &ScrapePlan, url: &str) -> Result<(), String> {
    let client = client(plan).map_err(|e| e.to_string())?;
    // The first answer of a freshly started server may be slower than a
    // steady-state one: give it the longest timeout.
    let mut req = client.get(url).timeout(MAX_TIMEOUT * 2);
    for (name, value) in &plan.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            "no answer within the scrape timeout".to_string()
        } else {
            "the connection was refused or could not be made".to_string()
        }
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    let text = resp.text().await.map_err(|e| e.to_string())?;
    parse_text(&text).map(|_| ())
}
