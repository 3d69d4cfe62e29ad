//! The conductor, beside goose's attack: it starts the fault timeline at the
//! epoch, runs the timed flows, stops the users at the planned end, and
//! turns a stop request, a window gate's abort or goose's own Ctrl-C into
//! users that stop, cutting the wait for goose after a grace.

use super::flow::UserState;
use super::{sink, Engine};
use crate::record::Aborted;
use crate::stop::{self, StopReason};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What the conductor hands back: the abort that ended the run early, the
/// timed flows still to await, and its notes.
pub(super) struct Conducted {
    pub(super) aborted: Option<Aborted>,
    pub(super) timed: Vec<tokio::task::JoinHandle<()>>,
    pub(super) notes: Vec<String>,
}

/// The conductor's two signals with the attack.
pub(super) struct Signals {
    /// goose's attack has returned.
    pub(super) goose_done: CancellationToken,
    /// Stop waiting for goose.
    pub(super) cut: CancellationToken,
}

/// How long after the planned end goose may take to stop its users (on top
/// of the request timeout, which bounds any request still in flight).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Beside the attack: starts the timeline at the epoch, runs the timed flows,
/// stops the users at the planned end, and turns goose's Ctrl-C into a stop.
pub(super) async fn conduct(
    engine: &Arc<Engine>,
    epoch_rx: tokio::sync::oneshot::Receiver<Instant>,
    signals: Signals,
    on_start: impl FnOnce(Instant),
) -> Conducted {
    let Signals { goose_done, cut } = signals;
    let mut out = Conducted {
        aborted: None,
        timed: Vec::new(),
        notes: Vec::new(),
    };
    let epoch = tokio::select! {
        e = epoch_rx => match e { Ok(e) => e, Err(_) => return out },
        _ = goose_done.cancelled() => return out,
        // Stopped while goose was starting: no timeline, but its users must stop.
        _ = stop::wait() => {
            stop_users(engine, &goose_done, &cut, &mut out).await;
            return out;
        }
    };
    on_start(epoch);
    // A timed flow happens once in the whole run: on shard 0 of a sharded one.
    let timed_here = engine.shard.is_none_or(|s| s.index == 0);
    for (i, flow) in engine.scenario.flows.iter().enumerate() {
        if let (Some(at), true) = (flow.at, timed_here) {
            let engine = Arc::clone(engine);
            out.timed.push(tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep_until((epoch + at).into()) => {}
                    _ = engine.stop.cancelled() => return,
                }
                let client = engine.client.clone();
                let mut user = UserState::new(
                    1_000_000 + i as u64,
                    engine.scenario.seed,
                    &engine.scenario.data,
                    client,
                );
                engine.sink.send(sink::Event::Start { lag_us: None });
                let _ = engine
                    .run_flow(&mut user, &engine.scenario.flows[i], 0, Instant::now())
                    .await;
            }));
        }
    }
    let deadline = epoch + engine.scenario.load.total();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = goose_done.cancelled() => break,
            _ = stop::wait() => {
                stop_users(engine, &goose_done, &cut, &mut out).await;
                return out;
            }
        }
        // A failed window that aborts stops the users by the same path as a stop request.
        if let Some(why) = engine.gate_abort.raised() {
            out.aborted = Some(why.clone());
            stop_users(engine, &goose_done, &cut, &mut out).await;
            return out;
        }
        if Instant::now() >= deadline {
            engine.stop.cancel();
        }
        if Instant::now() >= deadline + engine.timeout + STOP_GRACE {
            engine.abort.cancel();
            cut.cancel();
            out.notes.push(cut_note(engine, "the planned end"));
            break;
        }
    }
    // goose's own Ctrl-C handler (when the harness's is not installed, as
    // in a library use) pulls its killswitch without a stop request: the
    // killswitch is pulled by nothing else, so that is a Ctrl-C.
    if goose::is_killswitch_triggered() {
        stop::request(StopReason::Sigint);
    }
    out
}

/// A stop was requested: stop every user now, and keep pulling goose's
/// killswitch until its attack returns (an attack that was starting clears
/// it once), cutting the wait after the request timeout and a grace.
async fn stop_users(
    engine: &Engine,
    goose_done: &CancellationToken,
    cut: &CancellationToken,
    out: &mut Conducted,
) {
    engine.stop.cancel();
    engine.abort.cancel();
    let give_up = Instant::now() + engine.timeout + STOP_GRACE;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        if let Some(reason) = stop::requested() {
            goose::trigger_killswitch(reason.describe());
        } else if out.aborted.is_some() {
            goose::trigger_killswitch("aborted by a window gate");
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = goose_done.cancelled() => return,
        }
        if Instant::now() >= give_up {
            cut.cancel();
            out.notes.push(cut_note(engine, "the stop request"));
            return;
        }
    }
}

/// The note of a run cut because goose had not stopped its users in time.
fn cut_note(engine: &Engine, after: &str) -> String {
    format!(
        "the load engine (goose) had not stopped its users {} s after {after}; the run was cut there",
        (engine.timeout + STOP_GRACE).as_secs()
    )
}
