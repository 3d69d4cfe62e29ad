//! Recording: every request's outcome and latency, into HDR histograms per
//! request name and per second of the run, plus the load generator's own
//! health. This module owns the data that flows from the load engine to the
//! report; it knows nothing of goose, HTTP or files.
//!
//! Latency is measured from the *intended* start of a request (the time the
//! schedule said it should start), so a stalled server cannot hide its stall
//! behind a generator that waited for it (coordinated omission). The
//! uncorrected service time (actual send → response) is kept beside it so the
//! report can show how much the correction matters.

mod findings;
mod generator;
mod host;
mod missed;
mod run;

pub(crate) use findings::{Finding, Findings};
pub use generator::GeneratorHealth;
pub(crate) use generator::MIN_LATE_STARTS;
pub(crate) use host::{host_saturation, HostSecond};
pub use missed::MissedWindow;
pub(crate) use missed::WindowKind;
pub use run::{
    Aborted, FaultWindow, LoadModel, MachineInfo, RunMeta, RunRecord, ShardInfo, StageMark,
};
pub(crate) use run::{HttpShare, LinkTraffic};

use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// Index of a request name in [`Recorder::names`]; cheap to copy into samples.
pub(crate) type RequestIdx = u32;

/// Largest latency recorded exactly, in µs (one hour). Longer values are clamped.
pub(crate) const MAX_LATENCY_US: u64 = 3_600_000_000;

/// How a request ended, as the report counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A status the step declared as expected.
    Ok,
    /// 503: the server shed load on purpose. Counted apart from errors.
    Shed,
    /// Any other unexpected HTTP status, or the last look of an `until`
    /// poll that still did not see its value (then the status is 200).
    HttpError,
    /// No answer within the request timeout.
    Timeout,
    /// Connection refused/reset, or any other transport failure.
    Transport,
}

/// One finished request, as the load engine reports it.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub request: RequestIdx,
    /// HTTP status, or 0 when there was no response.
    pub status: u16,
    pub outcome: Outcome,
    /// When the schedule said the request should start, µs since the run started.
    pub intended_us: u64,
    /// From the intended start to the end of the response, µs (the honest figure).
    pub latency_us: u64,
    /// From the actual send to the end of the response, µs (what an uncorrected tool reports).
    pub service_us: u64,
}

/// Counts of outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Counts {
    pub(crate) total: u64,
    pub(crate) ok: u64,
    pub(crate) shed: u64,
    pub(crate) http_error: u64,
    pub(crate) timeout: u64,
    pub(crate) transport: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, outcome: Outcome) {
        self.total += 1;
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Shed => self.shed += 1,
            Outcome::HttpError => self.http_error += 1,
            Outcome::Timeout => self.timeout += 1,
            Outcome::Transport => self.transport += 1,
        }
    }

    pub(crate) fn merge(&mut self, other: &Counts) {
        self.total += other.total;
        self.ok += other.ok;
        self.shed += other.shed;
        self.http_error += other.http_error;
        self.timeout += other.timeout;
        self.transport += other.transport;
    }

    /// Errors are everything that is neither expected nor shed.
    pub(crate) fn errors(&self) -> u64 {
        self.http_error + self.timeout + self.transport
    }
}

/// One second of the run (by completion time) for one request name, or overall.
#[derive(Clone, Debug)]
pub(crate) struct Second {
    /// Corrected latency, 2 significant figures (enough for charts, and
    /// small: a second of traffic costs a few KB whatever the rate).
    pub(crate) latency: Histogram<u64>,
    pub(crate) counts: Counts,
}

impl Second {
    /// A second with nothing recorded yet.
    pub(crate) fn empty() -> Self {
        Second::new()
    }

    fn new() -> Self {
        Second {
            latency: Histogram::new(2).expect("2 significant figures is valid"),
            counts: Counts::default(),
        }
    }
}

/// Everything recorded for one request name, or for the whole run.
#[derive(Clone, Debug)]
pub(crate) struct Series {
    /// Corrected latency over the whole run, 3 significant figures.
    pub(crate) latency: Histogram<u64>,
    /// Uncorrected service time over the whole run.
    pub(crate) service: Histogram<u64>,
    pub(crate) counts: Counts,
    pub(crate) statuses: BTreeMap<u16, u64>,
    /// Index = whole seconds since the run started, by completion time.
    pub(crate) seconds: Vec<Second>,
    /// Polls that gave up, answers checked against the contract.
    pub(crate) findings: Findings,
}

impl Series {
    fn new() -> Self {
        Series {
            latency: Histogram::new(3).expect("3 significant figures is valid"),
            service: Histogram::new(3).expect("3 significant figures is valid"),
            counts: Counts::default(),
            statuses: BTreeMap::new(),
            seconds: Vec::new(),
            findings: Findings::default(),
        }
    }

    fn record(&mut self, s: &Sample) {
        let latency = s.latency_us.clamp(1, MAX_LATENCY_US);
        put(&mut self.latency, latency);
        put(&mut self.service, s.service_us.clamp(1, MAX_LATENCY_US));
        self.counts.add(s.outcome);
        *self.statuses.entry(s.status).or_default() += 1;
        let sec = ((s.intended_us + s.latency_us) / 1_000_000) as usize;
        if self.seconds.len() <= sec {
            self.seconds.resize_with(sec + 1, Second::new);
        }
        let second = &mut self.seconds[sec];
        put(&mut second.latency, latency);
        second.counts.add(s.outcome);
    }

    fn merge(&mut self, other: &Series) {
        self.latency
            .add(&other.latency)
            .expect("auto-resizing histograms merge");
        self.service
            .add(&other.service)
            .expect("auto-resizing histograms merge");
        self.counts.merge(&other.counts);
        self.findings.merge(&other.findings);
        for (status, n) in &other.statuses {
            *self.statuses.entry(*status).or_default() += n;
        }
        if self.seconds.len() < other.seconds.len() {
            self.seconds.resize_with(other.seconds.len(), Second::new);
        }
        for (mine, theirs) in self.seconds.iter_mut().zip(&other.seconds) {
            mine.latency
                .add(&theirs.latency)
                .expect("auto-resizing histograms merge");
            mine.counts.merge(&theirs.counts);
        }
    }
}

/// Records `value` in an auto-resizing histogram. (`saturating_record` would
/// not grow it: it clamps to the current top, 2 µs for a new histogram.)
pub(crate) fn put(h: &mut Histogram<u64>, value: u64) {
    if h.record(value).is_err() {
        // Only a resize beyond usize can fail; keep the count, clamped.
        h.saturating_record(value);
    }
}

/// Aggregates samples. One recorder per aggregator task; recorders merge, so
/// shards (per worker, per repeat) can be combined at the end.
#[derive(Clone, Debug)]
pub struct Recorder {
    names: Vec<String>,
    per_request: Vec<Series>,
    overall: Series,
    /// Flows whose every step got an expected answer (the customer got what
    /// they came for): goodput, beside throughput that counts any answer.
    flows_completed: u64,
}

impl Recorder {
    /// `names` are the request names of the scenario ("GET /menu",
    /// "POST /orders", ...); a sample's `request` indexes into them.
    pub fn new(names: Vec<String>) -> Self {
        let per_request = names.iter().map(|_| Series::new()).collect();
        Recorder {
            names,
            per_request,
            overall: Series::new(),
            flows_completed: 0,
        }
    }

    /// A recorder rebuilt from its series (a shard's, read back from its run
    /// folder); `per_request` must hold one series per name.
    pub(crate) fn from_series(
        names: Vec<String>,
        overall: Series,
        per_request: Vec<Series>,
        flows_completed: u64,
    ) -> Option<Recorder> {
        (names.len() == per_request.len()).then_some(Recorder {
            names,
            per_request,
            overall,
            flows_completed,
        })
    }

    pub fn record(&mut self, sample: &Sample) {
        if let Some(series) = self.per_request.get_mut(sample.request as usize) {
            series.record(sample);
        }
        self.overall.record(sample);
    }

    /// Counts what the engine noticed about an answer of `request`.
    pub(crate) fn note(&mut self, request: RequestIdx, finding: &Finding) {
        if let Some(series) = self.per_request.get_mut(request as usize) {
            series.findings.add(finding);
        }
        self.overall.findings.add(finding);
    }

    /// Adds another recorder's data; both must have been built from the same names.
    pub(crate) fn merge(&mut self, other: &Recorder) {
        assert_eq!(self.names, other.names, "recorders of different scenarios");
        for (mine, theirs) in self.per_request.iter_mut().zip(&other.per_request) {
            mine.merge(theirs);
        }
        self.overall.merge(&other.overall);
        self.flows_completed += other.flows_completed;
    }

    /// Counts a flow that ran every step with an expected answer.
    pub(crate) fn flow_completed(&mut self) {
        self.flows_completed += 1;
    }

    pub(crate) fn flows_completed(&self) -> u64 {
        self.flows_completed
    }

    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// Per request name, in the order of `names`.
    pub(crate) fn requests(&self) -> impl Iterator<Item = (&str, &Series)> {
        self.names.iter().map(String::as_str).zip(&self.per_request)
    }

    pub(crate) fn overall(&self) -> &Series {
        &self.overall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(request: RequestIdx, outcome: Outcome, at_ms: u64, latency_ms: u64) -> Sample {
        Sample {
            request,
            status: match outcome {
                Outcome::Shed => 503,
                Outcome::Ok => 200,
                _ => 0,
            },
            outcome,
            intended_us: at_ms * 1000,
            latency_us: latency_ms * 1000,
            service_us: latency_ms * 1000,
        }
    }

    #[test]
    fn samples_land_in_their_request_their_second_and_overall() {
        let mut r = Recorder::new(vec!["GET /menu".into(), "POST /orders".into()]);
        r.record(&sample(0, Outcome::Ok, 100, 10));
        r.record(&sample(1, Outcome::Shed, 1_500, 2));
        r.record(&sample(1, Outcome::Ok, 1_990, 20)); // completes in second 2
        let orders = r.requests().nth(1).unwrap().1;
        assert_eq!(orders.counts.total, 2);
        assert_eq!(orders.counts.shed, 1);
        assert_eq!(orders.seconds.len(), 3);
        assert_eq!(orders.seconds[1].counts.shed, 1);
        assert_eq!(orders.seconds[2].counts.ok, 1);
        assert_eq!(r.overall().counts.total, 3);
        assert_eq!(r.overall().statuses[&503], 1);
    }

    #[test]
    fn latencies_far_above_the_first_bucket_are_recorded_at_their_value() {
        let mut r = Recorder::new(vec!["a".into()]);
        r.record(&sample(0, Outcome::Ok, 0, 10));
        r.record(&sample(0, Outcome::Ok, 0, 2_000_000));
        let all = r.overall();
        assert_eq!(all.latency.value_at_quantile(0.25) / 100, 100, "10 ms");
        assert_eq!(all.latency.max() / 1_000_000, 2_000, "2000 s");
        assert_eq!(all.seconds[0].latency.value_at_quantile(0.25) / 100, 100);
    }

    #[test]
    fn merged_recorders_equal_one_recorder_that_saw_everything() {
        let names = vec!["a".to_string()];
        let (mut a, mut b, mut all) = (
            Recorder::new(names.clone()),
            Recorder::new(names.clone()),
            Recorder::new(names),
        );
        for i in 0..100 {
            let s = sample(0, Outcome::Ok, i * 37, i % 17 + 1);
            if i % 2 == 0 {
                a.record(&s)
            } else {
                b.record(&s)
            }
            all.record(&s);
        }
        a.merge(&b);
        assert_eq!(a.overall().counts, all.overall().counts);
        assert_eq!(
            a.overall().latency.value_at_quantile(0.99),
            all.overall().latency.value_at_quantile(0.99)
        );
        assert_eq!(a.overall().seconds.len(), all.overall().seconds.len());
    }
}
