//! goose wiring: the attack is configured only from code (never from argv),
//! with goose's own metrics, reports, logs and controllers off; one shared
//! HTTP client without cookies for every user (a client per user would cost
//! ~160 KB each). Closed model: goose's users and its test plan's ramps.
//! Open model: a fixed pool of goose users working off the pacer's schedule.

use super::flow::UserState;
use super::sink::Event;
use super::Engine;
use crate::record::LoadModel;
use goose::client::GooseClientBuilder;
use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::{GooseUser, Scenario, Transaction, TransactionFunction, TransactionResult};
use goose::GooseAttack;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time the open model gives goose to start its pool before the first arrival.
pub const POOL_LAUNCH: Duration = Duration::from_secs(1);

type TxFuture<'r> = Pin<Box<dyn Future<Output = TransactionResult> + Send + 'r>>;

/// Builds and runs the attack; returns when goose has stopped every user.
pub async fn execute(engine: Arc<Engine>) -> anyhow::Result<()> {
    let plan = test_plan(&engine);
    let start = {
        let engine = Arc::clone(&engine);
        let f: TransactionFunction = Arc::new(move |_user: &mut GooseUser| -> TxFuture<'_> {
            let engine = Arc::clone(&engine);
            Box::pin(async move {
                let lead = match engine.model() {
                    LoadModel::Open => POOL_LAUNCH,
                    LoadModel::Closed => Duration::ZERO,
                };
                engine.set_epoch(Instant::now() + lead);
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
fn test_plan(engine: &Engine) -> String {
    let stages = &engine.scenario.load.stages;
    let mut steps: Vec<String> = match engine.model() {
        LoadModel::Closed => stages
            .iter()
            .map(|s| format!("{},{}s", s.target as usize, s.duration.as_secs().max(1)))
            .collect(),
        LoadModel::Open => {
            let pool = engine.scenario.load.max_users;
            let total = engine.scenario.load.total().as_secs_f64().ceil() as u64;
            vec![
                format!("{pool},{}s", POOL_LAUNCH.as_secs()),
                format!("{pool},{total}s"),
            ]
        }
    };
    steps.push("0,0s".into());
    steps.join(";")
}

impl Engine {
    async fn goose_iteration(&self, user: &mut GooseUser) {
        if user.get_session_data::<UserState>().is_none() {
            let state = UserState::new(
                user.weighted_users_index as u64,
                self.scenario.seed,
                &self.scenario.data,
                user.client.clone(),
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
                self.run_flow(state, flow, iteration, Instant::now()).await;
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
            _ = tokio::time::sleep_until(intended.into()) => {}
            _ = self.abort.cancelled() => return,
        }
        let lag = Instant::now().saturating_duration_since(intended);
        self.sink.send(Event::Start {
            lag_us: Some(lag.as_micros() as u64),
        });
        let flow = self.pick_flow(state);
        self.run_flow(state, flow, k, intended).await;
    }
}
