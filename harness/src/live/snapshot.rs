//! One dashboard snapshot: the figures of the run so far, as JSON, once a
//! second. Live snapshots are read from the recorder (corrected latency, the
//! same histograms as the report); the final one is made from the run's
//! [`Summary`], so the page ends on exactly summary.json's figures.

use super::gates::GateState;
use crate::record::{GeneratorHealth, LoadModel, Recorder, Second};
use crate::scenario::Scenario;
use crate::summary::{SecondSeries, Summary};
use serde::Serialize;

/// What the page draws.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Snapshot {
    /// "live" while the run goes, "final" once its summary is computed.
    pub(crate) kind: &'static str,
    /// A batch's side or a capacity search's step, e.g. "run 1 of 2: bundled:naive".
    pub(crate) context: Option<String>,
    pub(crate) scenario: String,
    pub(crate) model: LoadModel,
    pub(crate) planned_s: f64,
    pub(crate) elapsed_s: f64,
    /// The stage the plan is in now.
    pub(crate) stage: Option<String>,
    /// Users (closed model) or arrivals per second (open model) the plan asks for now.
    pub(crate) level: f64,
    pub(crate) level_unit: &'static str,
    /// The last complete second (live) or the whole run (final).
    pub(crate) now: Figures,
    /// The whole run so far.
    pub(crate) total: Figures,
    pub(crate) requests: Vec<Figures>,
    /// Per-second figures, overall: the report's time charts.
    pub(crate) timeline: SecondSeries,
    pub(crate) stages: Vec<Span>,
    pub(crate) faults: Vec<Span>,
    pub(crate) gates: Vec<GateState>,
    pub(crate) generator: Generator,
    /// Series scraped from the target's metrics, when the scenario declares any.
    pub(crate) server_series: Vec<ServerSeries>,
    /// The verdict, once there is one (final snapshot).
    pub(crate) verdict: Option<String>,
    pub(crate) aborted_by: Option<String>,
}

/// Figures of all requests or of one name.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Figures {
    pub(crate) name: String,
    pub(crate) count: u64,
    pub(crate) throughput_rps: f64,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p95_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
    pub(crate) shed_rate: f64,
    pub(crate) error_rate: f64,
}

/// A stage or a fault window on the time axis.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Span {
    pub(crate) name: String,
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
    /// "pending", "open" or "closed" (faults); stages are "plan".
    pub(crate) state: &'static str,
}

#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Generator {
    /// The harness process's CPU in the last second, cores.
    pub(crate) cpu_cores: f64,
    pub(crate) scheduled_starts: u64,
    pub(crate) late_starts: u64,
    pub(crate) start_lag_p99_ms: f64,
}

/// A named series of the target's own metrics (one value a second).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ServerSeries {
    pub(crate) name: String,
    pub(crate) t_s: Vec<u32>,
    pub(crate) values: Vec<Option<f64>>,
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn ms(us: u64) -> f64 {
    round3(us as f64 / 1000.0)
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

/// The plan of a run, as the snapshots describe it.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) scenario: String,
    pub(crate) model: LoadModel,
    pub(crate) planned_s: f64,
    /// (name, start, end, target level).
    stages: Vec<(String, f64, f64, f64)>,
    /// (name, planned start, planned end).
    faults: Vec<(String, f64, f64)>,
}

impl Plan {
    pub(crate) fn of(sc: &Scenario) -> Plan {
        let stages = sc
            .load
            .stages
            .iter()
            .zip(sc.stage_bounds())
            .map(|(st, (a, b))| (st.name.clone(), a, b, st.target))
            .collect();
        let mut faults: Vec<(String, f64, f64)> = sc
            .faults
            .iter()
            .map(|f| (f.name.clone(), f.at, f.duration))
            .chain(
                sc.worker_stops
                    .iter()
                    .map(|w| (w.name.clone(), w.at, w.duration)),
            )
            .map(|(n, at, d)| (n, at.as_secs_f64(), (at + d).as_secs_f64()))
            .collect();
        faults.sort_by(|a, b| a.1.total_cmp(&b.1));
        Plan {
            scenario: sc.name.clone(),
            model: sc.load.model,
            planned_s: sc.load.total().as_secs_f64(),
            stages,
            faults,
        }
    }

    /// The stage at `t` and the level the plan asks for then (ramps linear).
    fn level_at(&self, t: f64) -> (Option<String>, f64) {
        let mut prev = 0.0;
        for (name, a, b, target) in &self.stages {
            if t < *b {
                let f = if b > a {
                    ((t - a) / (b - a)).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                return (Some(name.clone()), round3(prev + (target - prev) * f));
            }
            prev = *target;
        }
        (None, prev)
    }

    fn unit(&self) -> &'static str {
        match self.model {
            LoadModel::Closed => "users",
            LoadModel::Open => "/s",
        }
    }
}

/// Builds live snapshots, keeping the per-second timeline as it grows (a
/// complete second is read once).
pub(crate) struct LiveBuilder {
    plan: Plan,
    context: Option<String>,
    timeline: SecondSeries,
}

impl LiveBuilder {
    pub(crate) fn new(plan: Plan, context: Option<String>) -> LiveBuilder {
        LiveBuilder {
            plan,
            context,
            timeline: SecondSeries::default(),
        }
    }

    pub(crate) fn snapshot(
        &mut self,
        recorder: &Recorder,
        health: &GeneratorHealth,
        elapsed_s: u64,
        gates: Vec<GateState>,
    ) -> Snapshot {
        let seconds = &recorder.overall().seconds;
        let empty = Second::empty();
        while (self.timeline.t_s.len() as u64) < elapsed_s {
            let t = self.timeline.t_s.len();
            push_second(&mut self.timeline, t, seconds.get(t).unwrap_or(&empty));
        }
        let last = elapsed_s
            .checked_sub(1)
            .and_then(|s| seconds.get(s as usize))
            .unwrap_or(&empty);
        let elapsed = elapsed_s as f64;
        let (stage, level) = self.plan.level_at(elapsed);
        let overall = recorder.overall();
        let whole = |name: &str, s: &crate::record::Series| {
            let q = |q| (!s.latency.is_empty()).then(|| ms(s.latency.value_at_quantile(q)));
            Figures {
                name: name.to_string(),
                count: s.counts.total,
                throughput_rps: round3(s.counts.total as f64 / elapsed.max(1.0)),
                p50_ms: q(0.50),
                p95_ms: q(0.95),
                p99_ms: q(0.99),
                shed_rate: share(s.counts.shed, s.counts.total),
                error_rate: share(s.counts.errors(), s.counts.total),
            }
        };
        let lq = |q| (!last.latency.is_empty()).then(|| ms(last.latency.value_at_quantile(q)));
        Snapshot {
            kind: "live",
            context: self.context.clone(),
            scenario: self.plan.scenario.clone(),
            model: self.plan.model,
            planned_s: self.plan.planned_s,
            elapsed_s: elapsed,
            stage,
            level,
            level_unit: self.plan.unit(),
            now: Figures {
                name: "last second".into(),
                count: last.counts.total,
                throughput_rps: last.counts.total as f64,
                p50_ms: lq(0.50),
                p95_ms: lq(0.95),
                p99_ms: lq(0.99),
                shed_rate: share(last.counts.shed, last.counts.total),
                error_rate: share(last.counts.errors(), last.counts.total),
            },
            total: whole("all requests", overall),
            requests: recorder.requests().map(|(n, s)| whole(n, s)).collect(),
            timeline: self.timeline.clone(),
            stages: self.stages(),
            faults: self
                .plan
                .faults
                .iter()
                .map(|(name, a, b)| Span {
                    name: name.clone(),
                    start_s: *a,
                    end_s: *b,
                    state: match elapsed {
                        t if t < *a => "pending",
                        t if t < *b => "open",
                        _ => "closed",
                    },
                })
                .collect(),
            gates,
            generator: Generator {
                cpu_cores: health.cpu_per_second.last().copied().map_or(0.0, round3),
                scheduled_starts: health.scheduled_starts,
                late_starts: health.late_starts,
                start_lag_p99_ms: if health.start_lag.is_empty() {
                    0.0
                } else {
                    ms(health.start_lag.value_at_quantile(0.99))
                },
            },
            server_series: Vec::new(),
            verdict: None,
            aborted_by: None,
        }
    }

    fn stages(&self) -> Vec<Span> {
        self.plan
            .stages
            .iter()
            .map(|(name, a, b, _)| Span {
                name: name.clone(),
                start_s: *a,
                end_s: *b,
                state: "plan",
            })
            .collect()
    }
}

fn push_second(s: &mut SecondSeries, t: usize, second: &Second) {
    let h = &second.latency;
    let q = |q| (!h.is_empty()).then(|| ms(h.value_at_quantile(q)));
    s.t_s.push(t as u32);
    s.count.push(second.counts.total);
    s.rps.push(second.counts.total as f64);
    s.p50_ms.push(q(0.50));
    s.p95_ms.push(q(0.95));
    s.p99_ms.push(q(0.99));
    s.shed.push(second.counts.shed);
    s.errors.push(second.counts.errors());
}

/// The run's last snapshot, every figure taken from its summary.
pub(crate) fn final_snapshot(summary: &Summary, context: Option<String>) -> Snapshot {
    let figures = |r: &crate::summary::RequestSummary| Figures {
        name: r.name.clone(),
        count: r.count,
        throughput_rps: r.throughput_rps,
        p50_ms: (r.count > 0).then_some(r.latency_ms.p50),
        p95_ms: (r.count > 0).then_some(r.latency_ms.p95),
        p99_ms: (r.count > 0).then_some(r.latency_ms.p99),
        shed_rate: r.shed_rate,
        error_rate: r.error_rate,
    };
    let run = &summary.run;
    Snapshot {
        kind: "final",
        context,
        scenario: run.meta.scenario.clone(),
        model: run.meta.model,
        planned_s: run.meta.planned_duration_s,
        elapsed_s: run.duration_s,
        stage: summary.stages.last().map(|s| s.name.clone()),
        level: 0.0,
        level_unit: match run.meta.model {
            LoadModel::Closed => "users",
            LoadModel::Open => "/s",
        },
        now: figures(&summary.overall),
        total: figures(&summary.overall),
        requests: summary.requests.iter().map(figures).collect(),
        timeline: summary.timeline.overall.clone(),
        stages: summary
            .stages
            .iter()
            .map(|s| Span {
                name: s.name.clone(),
                start_s: s.start_s,
                end_s: s.end_s,
                state: "plan",
            })
            .collect(),
        faults: summary
            .faults
            .iter()
            .map(|f| Span {
                name: f.name.clone(),
                start_s: f.start_s,
                end_s: f.end_s,
                state: "closed",
            })
            .collect(),
        gates: summary
            .gates
            .iter()
            .map(|g| GateState {
                gate: g.gate.to_string(),
                aborts: run.aborted_by.as_deref() == Some(g.gate.to_string().as_str()),
                last_end_s: None,
                last_actual: Some(g.actual.clone()),
                last_passed: Some(g.passed),
                judged: g.window.as_ref().map_or(1, |w| w.judged),
                failed: g.window.as_ref().map_or(u32::from(!g.passed), |w| w.failed),
            })
            .collect(),
        generator: Generator {
            cpu_cores: summary.generator.cpu_mean_cores,
            scheduled_starts: summary.generator.scheduled_starts,
            late_starts: summary.generator.late_starts,
            start_lag_p99_ms: summary.generator.start_lag_p99_ms,
        },
        server_series: summary
            .server_metrics
            .iter()
            .flat_map(|m| &m.series)
            .map(|m| ServerSeries {
                name: m.title(),
                t_s: m
                    .points
                    .iter()
                    .map(|p| p[0].max(0.0).round() as u32)
                    .collect(),
                values: m.points.iter().map(|p| Some(p[1])).collect(),
            })
            .collect(),
        verdict: Some(summary.verdict.label().to_string()),
        aborted_by: run.aborted_by.clone(),
    }
}
