//! The run's server-metrics scraper: which endpoints to read (the target's
//! `/metrics` or `[server_metrics] url`, the fault proxy's `/metrics`), one
//! scrape of each before the load to know it answers, then the scraper
//! thread itself. Only shard 0 scrapes, so a merged run has one scrape.

use super::{sharded, RunArgs, RunError};
use crate::backend::Target;
use crate::chaos::Chaos;
use crate::scenario::Scenario;
use crate::scrape::{self, Endpoint, ScrapePlan, Scraper, Source};

/// The scraper, ready to begin on the load's epoch (`None`: nothing to
/// scrape), and the notes on what is not scraped and why. An endpoint that
/// does not answer is left out with a note, or ends the run before the load
/// when the scenario says `required = true`.
pub(super) async fn start(
    sc: &Scenario,
    target: &Target,
    chaos: Option<&Chaos>,
    args: &RunArgs,
    listener: Option<crate::scrape::Listener>,
) -> Result<(Option<Scraper>, Vec<String>), RunError> {
    let plan = &sc.server_metrics;
    let mut notes = Vec::new();
    if !plan.enabled || plan.series.is_empty() || !sharded::drives_faults(args) {
        return Ok((None, notes));
    }
    let mut endpoints = Vec::new();
    if !plan.series_from(Source::Target).is_empty() {
        let url = plan.url.clone().or_else(|| {
            target
                .server_url
                .as_ref()
                .map(|u| format!("{}/metrics", u.trim_end_matches('/')))
        });
        match url {
            Some(url) => {
                if let Some(e) = check(plan, &url, plan.required).await? {
                    notes.push(e);
                } else {
                    endpoints.push(Endpoint {
                        url,
                        source: Source::Target,
                    });
                }
            }
            None => notes.push(
                "server metrics off: the target has no metrics endpoint to read; set `[server_metrics] url`".into(),
            ),
        }
    }
    if !plan.series_from(Source::Proxy).is_empty() {
        match chaos {
            Some(c) => {
                let url = format!("{}/metrics", c.api_url().trim_end_matches('/'));
                match check(plan, &url, false).await? {
                    Some(e) => notes.push(e),
                    None => endpoints.push(Endpoint {
                        url,
                        source: Source::Proxy,
                    }),
                }
            }
            None => notes.push(
                "server metrics: the series with `source = \"proxy\"` are not scraped: this run has no fault proxy".into(),
            ),
        }
    }
    if endpoints.is_empty() {
        return Ok((None, notes));
    }
    let scraper = Scraper::spawn(plan, endpoints, listener).map_err(RunError::Internal)?;
    Ok((Some(scraper), notes))
}

/// `Ok(None)` when `url` answers with Prometheus text; `Ok(Some(note))` when
/// it does not and scraping it is off; `Err` when it was required.
async fn check(plan: &ScrapePlan, url: &str, required: bool) -> Result<Option<String>, RunError> {
    let Err(why) = scrape::preflight(plan, url).await else {
        return Ok(None);
    };
    let shown = crate::redact::url(url);
    if required {
        return Err(RunError::Target(anyhow::anyhow!(
            "the server metrics at {shown} are required (`[server_metrics] required = true`) and cannot be read: {why}"
        )));
    }
    Ok(Some(format!(
        "server metrics off for {shown}: {why} (the run goes on without its series; `[server_metrics] url` names another endpoint)"
    )))
}
