//! The one aggregator every user sends its samples to. Sending is a channel
//! push of a small `Copy` struct (cheap on the hot path); the aggregator task
//! owns the [`Recorder`] and the generator's health, and drives the live
//! progress once a second.

use super::procstat::{peak_rss_bytes, CpuMeter, HostMeter};
use super::progress::Progress;
use super::watch::{AbortSignal, Watch};
use crate::record::{Finding, GeneratorHealth, Recorder, RequestIdx, Sample};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// What users report.
#[derive(Clone, Debug)]
pub(crate) enum Event {
    Sample(Sample),
    /// Something noticed about an answer of this request (see [`Finding`]).
    Finding(RequestIdx, Finding),
    /// A flow ran every step with an expected answer.
    FlowCompleted,
    /// An iteration (closed model) or scheduled arrival (open model) started,
    /// this late against its intended start (µs), when it had one.
    Start {
        lag_us: Option<u64>,
    },
}

/// The sending side, cloned into every user. The channel is unbounded on
/// purpose: samples are 40 bytes, the aggregator records each in well under
/// a microsecond, and dropping or blocking on a sample would bias the figures.
#[derive(Clone)]
pub(crate) struct Sink {
    tx: mpsc::UnboundedSender<Event>,
}

impl Sink {
    pub(crate) fn send(&self, event: Event) {
        let _ = self.tx.send(event);
    }
}

/// The aggregator's handle: ask it to finish and get what it recorded.
pub(crate) struct Aggregator {
    finish: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<(Recorder, GeneratorHealth)>,
}

impl Aggregator {
    /// Starts the aggregator; `epoch` is read when the load starts (the
    /// progress counts seconds from it).
    pub(crate) fn start(
        names: Vec<String>,
        mut progress: Progress,
        epoch: std::sync::Arc<std::sync::OnceLock<Instant>>,
        mut watch: Option<(Box<dyn Watch>, AbortSignal)>,
    ) -> (Sink, Aggregator) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (finish, mut finished) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut recorder = Recorder::new(names);
            let mut health = GeneratorHealth::default();
            let mut cpu = CpuMeter::new();
            let mut host = HostMeter::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let handle = |ev: Event, recorder: &mut Recorder, health: &mut GeneratorHealth| match ev
            {
                Event::Sample(s) => recorder.record(&s),
                Event::Finding(request, f) => recorder.note(request, &f),
                Event::FlowCompleted => recorder.flow_completed(),
                Event::Start { lag_us } => {
                    health.scheduled_starts += 1;
                    if let Some(lag) = lag_us {
                        health.record_start_lag(lag);
                    }
                }
            };
            loop {
                tokio::select! {
                    biased;
                    _ = &mut finished => break,
                    Some(ev) = rx.recv() => handle(ev, &mut recorder, &mut health),
                    _ = tick.tick() => {
                        if let Some(cores) = cpu.sample() {
                            health.cpu_per_second.push(cores);
                        }
                        // The host's seconds start with the load, as the timeline's do.
                        let second = host.sample();
                        if let Some(start) = epoch.get() {
                            if Instant::now() >= *start {
                                health.host.extend(second);
                            }
                            let elapsed = start.elapsed().as_secs();
                            progress.update(&recorder, elapsed);
                            if let Some((watch, signal)) = &mut watch {
                                if let Some(why) = watch.second(&recorder, &health, elapsed) {
                                    signal.raise(why);
                                }
                            }
                        }
                    }
                }
            }
            while let Ok(ev) = rx.try_recv() {
                handle(ev, &mut recorder, &mut health);
            }
            progress.finish();
            health.peak_rss_bytes = peak_rss_bytes();
            (recorder, health)
        });
        (Sink { tx }, Aggregator { finish, task })
    }

    /// Stops after recording every event sent so far.
    pub(crate) async fn finish(self) -> (Recorder, GeneratorHealth) {
        let _ = self.finish.send(());
        self.task.await.expect("the aggregator does not panic")
    }
}
