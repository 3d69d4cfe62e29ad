//! Scale-out: which share of a run this process makes (`--shard I/N`, or the
//! environment of a Kubernetes Indexed Job), when the shards start together
//! (`--start-at`), and what each shard leaves in its run folder so that
//! `harness merge` can add the shards up exactly ([`recording`]).
//!
//! Work is dealt out by number: arrival `k` of the open model's schedule, or
//! user `k` of the closed model, belongs to shard `k mod N`, and keeps the
//! number (so its seeded choices) it has in an unsharded run. The union of
//! the shards is therefore the single-process run.

pub mod recording;

use crate::scenario::{Scenario, TargetSpec};
use serde::{Deserialize, Serialize};

use std::time::Duration;
use time::OffsetDateTime;

/// The environment variable a Kubernetes Indexed Job sets in each pod (0-based).
pub(crate) const ENV_INDEX: &str = "JOB_COMPLETION_INDEX";
/// How many shards the run has, set in the Job's pod template.
pub(crate) const ENV_COUNT: &str = "HARNESS_SHARDS";
/// The common start, RFC 3339, set in the Job's pod template.
pub(crate) const ENV_START_AT: &str = "HARNESS_START_AT";

/// How late a shard may reach the common start and still run: a pod scheduled
/// a little late starts at once (its skew is in the report); one later than
/// this would make its seconds disagree with the other shards', so it refuses.
pub(crate) const START_TOLERANCE: Duration = Duration::from_secs(2);

/// One shard of a run: `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Why a shard or a start time cannot be used; each is bad usage (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("--shard {0:?}: expected I/N with 0 <= I < N, e.g. 0/4")]
    Spec(String),
    #[error("{ENV_INDEX}={0:?}: expected a shard index below {ENV_COUNT}={1}")]
    EnvIndex(String, String),
    #[error("{ENV_COUNT} is set but {ENV_INDEX} is not: run the shards as a Kubernetes Indexed Job, or pass --shard I/N")]
    EnvMissingIndex,
    #[error("{what} {text:?}: expected an RFC 3339 time, e.g. 2026-12-01T10:00:00Z")]
    StartAt { what: &'static str, text: String },
    #[error("--start-at {at}: that was {late_s:.1} s ago (more than the {} s tolerance); every shard must start together, so this one does not run", START_TOLERANCE.as_secs())]
    StartPassed { at: String, late_s: f64 },
    #[error("{0}")]
    Plan(String),
}

impl Shard {
    /// Parses `I/N`.
    pub(crate) fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError::Spec(text.to_string());
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard an Indexed Job's pod is: `JOB_COMPLETION_INDEX` of
    /// `HARNESS_SHARDS`, or `None` when `HARNESS_SHARDS` is not set.
    pub(crate) fn from_env(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, ShardError> {
        let Some(count) = var(ENV_COUNT) else {
            return Ok(None);
        };
        let index = var(ENV_INDEX).ok_or(ShardError::EnvMissingIndex)?;
        Shard::parse(&format!("{index}/{count}"))
            .map(Some)
            .map_err(|_| ShardError::EnvIndex(index, count))
    }

    /// The number, in the whole run, of this shard's `j`-th item.
    pub(crate) fn nth(&self, j: u64) -> u64 {
        j * u64::from(self.count) + u64::from(self.index)
    }

    /// How many of the items `0..n` are this shard's.
    pub(crate) fn share(&self, n: u64) -> u64 {
        let (i, c) = (u64::from(self.index), u64::from(self.count));
        if n <= i {
            0
        } else {
            (n - i).div_ceil(c)
        }
    }

    /// Shard 0 adds and removes the faults; the others record the same windows.
    pub(crate) fn drives_faults(&self) -> bool {
        self.index == 0
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses an RFC 3339 start time; `what` names where it came from.
pub(crate) fn parse_start_at(what: &'static str, text: &str) -> Result<OffsetDateTime, ShardError> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).map_err(
        |_| ShardError::StartAt {
            what,
            text: text.to_string(),
        },
    )
}

/// Refuses a start that is already past by more than [`START_TOLERANCE`].
pub(crate) fn check_start_at(at: OffsetDateTime, now: OffsetDateTime) -> Result<(), ShardError> {
    let late = (now - at).as_seconds_f64();
    if late > START_TOLERANCE.as_secs_f64() {
        return Err(ShardError::StartPassed {
            at: at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            late_s: late,
        });
    }
    Ok(())
}

/// What a shard can do depends on the plan: every shard loads the same URL
/// (a bundled server per shard would be N backends), and faults reach the
/// other shards' traffic only through the proxies shard 0 makes, so every
/// shard needs the Toxiproxy API they live on (`--toxiproxy URL`).
pub(crate) fn check_plan(
    sc: &Scenario,
    shard: Shard,
    toxiproxy: Option<&str>,
) -> Result<(), ShardError> {
    if !matches!(sc.target, TargetSpec::Url(_)) {
        return Err(ShardError::Plan(format!(
            "--shard {shard}: a sharded run loads one backend that every shard reaches: \
             pass --target URL (the bundled server would start once per shard)"
        )));
    }
    if let (Some(fault), None) = (sc.faults.first(), toxiproxy) {
        return Err(ShardError::Plan(format!(
            "--shard {shard}: fault `{}` needs --toxiproxy URL on every shard: shard 0 adds the \
             toxics on that Toxiproxy (e.g. a `harness proxy` or a Toxiproxy Service) and every \
             shard sends through its proxies",
            fault.name
        )));
    }
    Ok(())
}

/// Where a shard that does not drive the faults sends its load: the listen
/// address (`host:port`) of shard 0's proxy on the link in front of the
/// target (read from the Toxiproxy API, waiting for shard 0 to make it until
/// `deadline`), so its traffic meets the same toxics as shard 0's; `None`
/// when no faulted link fronts the target.
pub(crate) async fn proxy_in_front(
    sc: &Scenario,
    base_url: &str,
    toxiproxy: &str,
    deadline: std::time::Instant,
) -> anyhow::Result<Option<String>> {
    use anyhow::Context;
    let url = reqwest::Url::parse(base_url).context("the target URL")?;
    let authority = format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(80)
    );
    let norm = |s: &str| s.replace("localhost", "127.0.0.1");
    // The link in front of the target: a declared one, or the `edge` shard 0 adds.
    let link = sc
        .links
        .iter()
        .find(|l| norm(&l.upstream) == norm(&authority))
        .map(|l| l.name.clone())
        .or_else(|| {
            sc.faults
                .iter()
                .any(|f| f.link == "edge")
                .then(|| "edge".to_string())
        });
    let Some(link) = link.filter(|l| sc.faults.iter().any(|f| &f.link == l)) else {
        return Ok(None);
    };
    let client =
        fault_proxy::Client::new(toxiproxy).with_context(|| format!("--toxiproxy {toxiproxy}"))?;
    let name = crate::chaos::proxy_name(&link);
    let proxy = loop {
        match client.proxy(&name).await {
            Ok(p) => break p,
            Err(e) if std::time::Instant::now() >= deadline => {
                return Err(anyhow::anyhow!(
                    "shard 0 had not made the proxy `{name}` for link `{link}` on {toxiproxy} \
                     by the start: {e}"
                ))
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    };
    // A proxy bound to every interface is reached on the API's host.
    let listen = match proxy.listen.split_once(':') {
        Some(("0.0.0.0" | "[::]" | "", port)) => {
            let api = reqwest::Url::parse(toxiproxy).context("--toxiproxy")?;
            format!("{}:{port}", api.host_str().unwrap_or("127.0.0.1"))
        }
        _ => proxy.listen.clone(),
    };
    Ok(Some(listen))
}

/// The fault windows a shard that does not drive the faults records: the
/// planned ones (shard 0's report has their real starts and ends).
pub(crate) fn planned_windows(faults: &[crate::chaos::Fault]) -> Vec<crate::record::FaultWindow> {
    faults
        .iter()
        .map(|f| crate::record::FaultWindow {
            name: f.name.clone(),
            link: f.link.clone(),
            toxic: f.toxic.describe(),
            planned_start_s: f.at.as_secs_f64(),
            start_s: f.at.as_secs_f64(),
            end_s: (f.at + f.duration).as_secs_f64(),
            http_requests: None,
            traffic: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_i_over_n_and_refuse_an_index_out_of_range() {
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_indexed_jobs_environment_names_the_shard() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = Shard::from_env(env(&[
            ("JOB_COMPLETION_INDEX", "2"),
            ("HARNESS_SHARDS", "3"),
        ]));
        assert_eq!(s.unwrap(), Some(Shard { index: 2, count: 3 }));
        assert_eq!(
            Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "2")])).unwrap(),
            None
        );
        assert!(Shard::from_env(env(&[("HARNESS_SHARDS", "3")])).is_err());
        assert!(Shard::from_env(env(&[
            ("JOB_COMPLETION_INDEX", "3"),
            ("HARNESS_SHARDS", "3")
        ]))
        .is_err());
    }

    #[test]
    fn the_shares_of_every_shard_add_up_to_the_whole() {
        for n in 0..50u64 {
            let count = 4;
            let shares: u64 = (0..count)
                .map(|index| Shard { index, count }.share(n))
                .sum();
            assert_eq!(shares, n);
            for index in 0..count {
                let s = Shard { index, count };
                let owns = |k: u64| k % u64::from(count) == u64::from(index);
                let owned = (0..n).filter(|k| owns(*k)).count() as u64;
                assert_eq!(owned, s.share(n));
                assert!((0..s.share(n)).all(|j| owns(s.nth(j)) && s.nth(j) < n));
            }
        }
    }

    #[test]
    fn a_start_long_past_is_refused_and_a_slightly_late_one_is_not() {
        let now = OffsetDateTime::now_utc();
        assert!(check_start_at(now - Duration::from_millis(500), now).is_ok());
        assert!(check_start_at(now + Duration::from_secs(30), now).is_ok());
        let err = check_start_at(now - Duration::from_secs(10), now).unwrap_err();
        assert!(err.to_string().contains("10.0 s ago"), "{err}");
        assert!(parse_start_at("--start-at", "tomorrow").is_err());
        assert!(parse_start_at("--start-at", "2026-12-01T10:00:00Z").is_ok());
    }
}
