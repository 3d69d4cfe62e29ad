//! Checks across a scenario's parts, made once every part is read: flow
//! names unique, a declared `edge` link in front of the target itself, no
//! two links on one fixed `listen` address, and every gate's `for` and
//! `during` naming a request, fault or stage the scenario has. Each error
//! points at the value it is about.

use super::error::ScenarioError;
use super::validate::Validator;
use super::{raw, Flow, TargetEntry, TargetSpec};
use crate::chaos::Link;
use crate::slo::Gate;
use toml::Spanned;

/// The names a gate may refer to: requests (`for`), faults and stages (`during`).
pub(crate) struct GateNames<'a> {
    pub(crate) requests: &'a [String],
    pub(crate) windows: Vec<&'a str>,
}

impl GateNames<'_> {
    /// Why `gate` names something the scenario does not have, if it does.
    pub(crate) fn unknown(&self, gate: &Gate) -> Option<String> {
        let list = |names: Vec<&str>| match names.is_empty() {
            true => "none".to_string(),
            false => names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        if let Some(r) = &gate.request {
            if !self.requests.iter().any(|n| n == r) {
                return Some(format!(
                    "`for {r}`: the scenario has no request named so (requests: {})",
                    list(self.requests.iter().map(String::as_str).collect())
                ));
            }
        }
        if let Some(w) = &gate.during {
            if !self.windows.contains(&w.as_str()) {
                return Some(format!(
                    "`during {w}`: the scenario has no fault or stage named so (faults and stages: {})",
                    list(self.windows.clone())
                ));
            }
        }
        None
    }
}

impl Validator<'_> {
    /// Two flows of one name would be one line in the report.
    pub(super) fn unique_flows(
        &self,
        raw: &[Spanned<raw::Flow>],
        flows: &[Flow],
    ) -> Result<(), ScenarioError> {
        for (i, f) in flows.iter().enumerate() {
            if flows[..i].iter().any(|o| o.name == f.name) {
                return self.err(
                    raw[i].get_ref().name.span(),
                    format!("flows[{i}].name"),
                    format!(
                        "flow {:?} is declared twice: each flow needs its own name",
                        f.name
                    ),
                );
            }
        }
        Ok(())
    }

    /// The scenario's gates, each naming only requests it has, and faults
    /// and stages among `windows`.
    pub(super) fn gate_names(
        &self,
        raw: &[Spanned<raw::GateEntry>],
        gates: &[Gate],
        windows: Vec<&str>,
    ) -> Result<(), ScenarioError> {
        let names = GateNames {
            requests: &self.names,
            windows,
        };
        for (i, (g, entry)) in gates.iter().zip(raw).enumerate() {
            if let Some(why) = names.unknown(g) {
                let text = match entry.get_ref() {
                    raw::GateEntry::Text(t) => t.as_str(),
                    raw::GateEntry::Table(t) => t.gate.as_str(),
                };
                return self.err(
                    entry.span(),
                    format!("gates[{i}]"),
                    format!("gate {text:?}: {why}"),
                );
            }
        }
        Ok(())
    }

    /// A declared `edge` replaces the proxy the harness puts in front of a
    /// URL target, so it must forward to that target (else the load would
    /// not go through it); and no two links (of the target, or of one
    /// `[[targets]]` entry with the scenario's) may listen on one fixed address.
    pub(super) fn link_layout(
        &self,
        raw: &raw::File,
        target: &TargetSpec,
        links: &[Link],
        targets: &[TargetEntry],
    ) -> Result<(), ScenarioError> {
        let raw_links = |i: Option<usize>| match i {
            None => &raw.links,
            Some(t) => &raw.targets[t].get_ref().links,
        };
        self.edge_upstream(raw_links(None), "", target, links)?;
        self.listen_once(raw_links(None), "", links, &[])?;
        for (t, entry) in targets.iter().enumerate() {
            let prefix = format!("targets[{t}].");
            self.edge_upstream(raw_links(Some(t)), &prefix, &entry.spec, &entry.links)?;
            // An entry's links replace the scenario's of the same name.
            let inherited: Vec<&Link> = links
                .iter()
                .filter(|l| !entry.links.iter().any(|e| e.name == l.name))
                .collect();
            self.listen_once(raw_links(Some(t)), &prefix, &entry.links, &inherited)?;
        }
        Ok(())
    }

    fn edge_upstream(
        &self,
        raw: &[Spanned<raw::Link>],
        prefix: &str,
        target: &TargetSpec,
        links: &[Link],
    ) -> Result<(), ScenarioError> {
        let TargetSpec::Url(url) = target else {
            return Ok(());
        };
        let Ok(parsed) = super::url::check_url(url) else {
            return Ok(());
        };
        let authority = format!(
            "{}:{}",
            parsed.host_str().unwrap_or(""),
            parsed.port_or_known_default().unwrap_or(80)
        );
        let norm = |s: &str| s.replace("localhost", "127.0.0.1");
        for (i, l) in links.iter().enumerate() {
            if l.name == "edge" && norm(&l.upstream) != norm(&authority) {
                return self.err(
                    raw[i].get_ref().upstream.span(),
                    format!("{prefix}links[{i}].upstream"),
                    format!(
                        "link `edge` is the proxy in front of the target, so its upstream must be the target ({authority}), \
                         not {}: give this link another name",
                        l.upstream
                    ),
                );
            }
        }
        Ok(())
    }

    fn listen_once(
        &self,
        raw: &[Spanned<raw::Link>],
        prefix: &str,
        links: &[Link],
        inherited: &[&Link],
    ) -> Result<(), ScenarioError> {
        let fixed = |l: &Link| !l.listen.ends_with(":0");
        let norm = |s: &str| s.replace("localhost", "127.0.0.1");
        for (i, l) in links.iter().enumerate().filter(|(_, l)| fixed(l)) {
            let other = links[..i]
                .iter()
                .chain(inherited.iter().copied())
                .find(|o| fixed(o) && norm(&o.listen) == norm(&l.listen));
            if let Some(o) = other {
                return self.err(
                    raw[i].get_ref().listen.span(),
                    format!("{prefix}links[{i}].listen"),
                    format!(
                        "link `{}` listens on {}, as link `{}` does: each link needs its own address (or port 0 for any free one)",
                        l.name, l.listen, o.name
                    ),
                );
            }
        }
        Ok(())
    }
}

impl Validator<'_> {
    /// A fault's window lies inside the load: it lasts, and it ends by the
    /// load's end (a window cut short by the end would be judged on less
    /// than it says).
    pub(super) fn fault_window(
        &self,
        r: &raw::Fault,
        field: &str,
        at: std::time::Duration,
        dur: std::time::Duration,
        total: std::time::Duration,
    ) -> Result<(), ScenarioError> {
        use super::duration::show;
        if dur.is_zero() {
            return self.err(
                r.duration.span(),
                format!("{field}.duration"),
                "a fault lasts above zero, e.g. \"10s\"",
            );
        }
        if at + dur > total {
            return self.err(
                r.duration.span(),
                format!("{field}.duration"),
                format!(
                    "the fault ends at {}, after the load ends ({}): make it at most {}",
                    show(at + dur),
                    show(total),
                    show(total.saturating_sub(at))
                ),
            );
        }
        Ok(())
    }
}
