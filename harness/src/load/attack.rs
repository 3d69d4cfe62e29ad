//! goose wiring: the attack is configured only from code (never from argv),
//! with goose's own metrics, reports, logs and controllers off; one shared
//! HTTP client without cookies for every user (a client per user would cost
//! ~160 KB each). The flows send through the run's own client (its TLS
//! settings, see `target::tls`), not goose's. Closed model: goose's users and its test plan's ramps.
//! Open model: a fixed pool of goose users working off the pacer's schedule.

use super::flow::UserState;
use super::sink::Event;
use super::Engine;
use crate::record::LoadModel;
use crate::shard::Shard;
use goose::client::GooseClientBuilder;
use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::{GooseUser, Scenario, Transaction, TransactionFunction, TransactionResult};
use goose::GooseAttack;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time the open model gives goose to start its pool before the first arrival.
pub(crate) const POOL_LAUNCH: Duration = Duration::from_secs(1);

/// Closed model: pause after an iteration that got no answer at all.
const UNREACHABLE_PAUSE: Duration = Duration::from_millis(100);

type TxFuture<'r> = Pin<Box<dyn Future<Output = TransactionResult> + Send + 'r>>;

/// Builds and runs the attack; returns when goose has stopped every user.
pub(crate) async fn execute(engine: Arc<Engine>) -> anyhow::Result<()> {
    let plan = test_plan(&engine);
    let start = {
        let engine = Arc::clone(&engine);
        let f: TransactionFunction = Arc::new(move |_user: &mut GooseUser| -> TxFuture<'_> {
            let engine = Arc::clone(&engine);
            Box::pin(async move {
                let now = Instant::now();
                engine.set_epoch(match (engine.model(), engine.start_at) {
                    // The pool was launched early for the common start: arrivals keep it.
                    (LoadModel::Open, Some(at)) => at.max(now),
                    (LoadModel::Open, None) => now + POOL_LAUNCH,
                    (LoadModel::Closed, _) => now,
                });
                Ok(())
            })
        });
        Transaction::new(f).set_name("start")
    };
    let iterate = {
        let engine = Arc::clone(&engine);
        let f: TransactionFunction = Arc::new(move |user: &mut GooseUser| -> TxFuture<'_> {
            let engine = Arc::clone(&engine);
            Box::pin(async move {
                engine.goose_iteration(user).await;
                Ok(())
            })
        });
        Transaction::new(f).set_name("iteration")
    };
    let client = GooseClientBuilder::new()
        .without_cookies()
        .timeout(engine.timeout);
    let attack = GooseAttack::initialize_with_config(GooseConfiguration::default())?
        .set_default(GooseDefault::Host, engine.base_url.as_str())?
        .set_default(GooseDefault::TestPlan, plan.as_str())?
        .set_default(GooseDefault::NoMetrics, true)?
        .set_default(GooseDefault::NoTelnet, true)?
        .set_default(GooseDefault::Quiet, 1usize)?
        .set_client_builder_without_cookies(client)?
        .test_start(start)
        .register_scenario(Scenario::new("load").register_transaction(iterate));
    Box::pin(attack.execute()).await?;
    Ok(())
}

/// goose's test plan: `users,time` steps ramping linearly from the previous
/// step, whole seconds (the stages were rounded to match), then all users stop.
/// A shard runs its share of each step's users (user `k` is shard `k mod N`'s).
/// goose 0.19 never ends a plan in which two steps in a row have no users
/// (the second ramp-down divides 0 users by its time), so zero-user stages
/// are merged and a plan that already ends at zero gets no final stop step.
fn test_plan(engine: &Engine) -> String {
    let stages: Vec<(usize, u64)> = match engine.model() {
        LoadModel::Closed => closed_steps(&engine.scenario.load.stages, engine.shard),
        LoadModel::Open => {
            let pool = engine.scenario.load.max_users;
            let total = engine.scenario.load.total().as_secs_f64().ceil() as u64;
            vec![(pool, POOL_LAUNCH.as_secs()), (pool, total)]
        }
    };
    plan_steps(&stages)
}

/// Each closed-model stage's users (this shard's share: users `k` with
/// `k mod N` = its index) and whole seconds.
fn closed_steps(stages: &[crate::scenario::Stage], shard: Option<Shard>) -> Vec<(usize, u64)> {
    stages
        .iter()
        .map(|s| {
            let users = s.target as u64;
            let mine = shard.map_or(users, |sh| sh.share(users));
            (mine as usize, s.duration.as_secs().max(1))
        })
        .collect()
}

fn plan_steps(stages: &[(usize, u64)]) -> String {
    let mut steps: Vec<(usize, u64)> = Vec::new();
    for &(users, secs) in stages {
        match steps.last_mut() {
            Some(last) if last.0 == 0 && users == 0 => last.1 += secs,
            _ => steps.push((users, secs)),
        }
    }
    if steps.last().is_none_or(|s| s.0 != 0) {
        steps.push((0, 0));
    }
    steps
        .iter()
        .map(|(u, s)| format!("{u},{s}s"))
        .collect::<Vec<_>>()
        .join(";")
}

impl Engine {
    async fn goose_iteration(&self, user: &mut GooseUser) {
        if user.get_session_data::<UserState>().is_none() {
            let state = UserState::new(
                self.global_index(user.weighted_users_index as u64),
                self.scenario.seed,
                &self.scenario.data,
                self.client.clone(),
            );
            user.set_session_data(state);
        }
        let state = user.get_session_data_unchecked_mut::<UserState>();
        if self.stop.is_cancelled() || self.interrupted() {
            // goose calls again until it tells the user to exit; do not spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        }
        match self.model() {
            LoadModel::Closed => {
                let iteration = state.iteration;
                state.iteration += 1;
                self.sink.send(Event::Start { lag_us: None });
                let flow = self.pick_flow(state);
                if self.run_flow(state, flow, iteration, Instant::now()).await {
                    // A customer who cannot reach the shop waits before trying again,
                    // rather than looping on refused connections as fast as the CPU allows.
                    tokio::select! {
                        _ = tokio::time::sleep(UNREACHABLE_PAUSE) => {}
                        _ = self.stop.cancelled() => {}
                    }
                }
            }
            LoadModel::Open => self.open_arrival(state).await,
        }
    }

    async fn open_arrival(&self, state: &mut UserState) {
        let schedule = self
            .schedule
            .as_ref()
            .expect("the open model has a schedule");
        let Some((k, at_s)) = schedule.take() else {
            // The schedule is over: wait for the end instead of spinning.
            tokio::select! {
                _ = self.stop.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            return;
        };
        let intended = self.epoch() + Duration::from_secs_f64(at_s);
        tokio::select! {
            // Not tokio's timer: it would start every arrival 1-2 ms late.
            _ = super::clock::sleep_until(intended) => {}
            _ = self.abort.cancelled() => return,
        }
        let lag = Instant::now().saturating_duration_since(intended);
        self.sink.send(Event::Start {
            lag_us: Some(lag.as_micros() as u64),
        });
        // Each arrival is a new customer whose draws depend only on the seed
        // and its number, whichever pool user happens to serve it.
        let mut customer = UserState::new(
            k,
            self.scenario.seed,
            &self.scenario.data,
            state.client.clone(),
        );
        let flow = self.pick_flow(&mut customer);
        // Open model: arrivals keep their schedule whatever the target does.
        let _ = self.run_flow(&mut customer, flow, k, intended).await;
    }
}

#[cfg(test)]
mod tests {
    use super::{closed_steps, plan_steps};
    use crate::scenario::Stage;
    use crate::shard::Shard;
    use std::time::Duration;

    #[test]
    fn the_shards_users_add_up_to_every_stages_users() {
        let stages: Vec<Stage> = [(10, 400.0), (20, 1201.0), (5, 0.0)]
            .iter()
            .map(|&(secs, users)| Stage {
                name: String::new(),
                duration: Duration::from_secs(secs),
                target: users,
            })
            .collect();
        let whole = closed_steps(&stages, None);
        let shards: Vec<_> = (0..4)
            .map(|index| closed_steps(&stages, Some(Shard { index, count: 4 })))
            .collect();
        for (i, (users, secs)) in whole.iter().enumerate() {
            let sum: usize = shards.iter().map(|s| s[i].0).sum();
            assert_eq!(sum, *users, "stage {i}");
            assert!(shards.iter().all(|s| s[i].1 == *secs));
        }
        // 1201 users: user 1200 is shard 0's.
        assert_eq!(shards[0][1].0, 301);
        assert_eq!(shards[3][1].0, 300);
    }

    #[test]
    fn a_plan_ends_with_exactly_one_step_at_zero_users() {
        assert_eq!(plan_steps(&[(5, 2), (5, 3)]), "5,2s;5,3s;0,0s");
        assert_eq!(plan_steps(&[(5, 2), (0, 2)]), "5,2s;0,2s");
        assert_eq!(plan_steps(&[(5, 2), (0, 2), (0, 3)]), "5,2s;0,5s");
        assert_eq!(
            plan_steps(&[(5, 2), (0, 2), (0, 3), (4, 1)]),
            "5,2s;0,5s;4,1s;0,0s"
        );
    }
}
