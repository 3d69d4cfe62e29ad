//! Links (for an external target) and the fault timeline: each fault on a
//! known link, within the run, with a toxic `fault_proxy` accepts.

use super::error::ScenarioError;
use super::validate::Validator;
use super::{duration, raw, TargetEntry, TargetSpec};
use crate::chaos::{Fault, Link};
use std::time::Duration;
use toml::Spanned;

/// Links the harness wires itself around the bundled server.
pub(crate) const BUNDLED_LINKS: [&str; 2] = ["edge", "payments"];

/// The bundled links that carry HTTP/1.1 through an HTTP proxy: `payments`
/// (the server's plain calls to its gateway). `edge` stays a TCP link.
pub(crate) const BUNDLED_HTTP_LINKS: [&str; 1] = ["payments"];

impl Validator<'_> {
    /// `[[links]]` of the scenario's target, or of one `[[targets]]` entry
    /// (`prefix` names it in errors, e.g. `targets[1].`).
    pub(super) fn links(
        &self,
        links: &[Spanned<raw::Link>],
        target: &TargetSpec,
        prefix: &str,
    ) -> Result<Vec<Link>, ScenarioError> {
        let mut out: Vec<Link> = Vec::new();
        for (i, l) in links.iter().enumerate() {
            let r = l.get_ref();
            if matches!(target, TargetSpec::Bundled { .. }) {
                return self.err(l.span(), format!("{prefix}links[{i}]"), "the bundled server's links (`edge`, `payments`) are wired by the harness: declare links only for a backend given by `url`");
            }
            if out.iter().any(|o| o.name == *r.name.get_ref()) {
                return self.err(
                    r.name.span(),
                    format!("{prefix}links[{i}].name"),
                    format!("link {:?} is declared twice", r.name.get_ref()),
                );
            }
            // The proxy listens here, so on loopback (the rule its API
            // follows too; kept as the address it means, so no Toxiproxy
            // reads `:3310` as every interface); it may forward anywhere.
            let listen = fault_proxy::check_listen(r.listen.get_ref()).or_else(|e| {
                self.err(
                    r.listen.span(),
                    format!("{prefix}links[{i}].listen"),
                    e.to_string(),
                )
            })?;
            super::url::check_upstream_addr(r.upstream.get_ref()).or_else(|e| {
                self.err(
                    r.upstream.span(),
                    format!("{prefix}links[{i}].upstream"),
                    e.to_string(),
                )
            })?;
            let http = match r.protocol.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
                None | Some(("tcp", _)) => false,
                Some(("http", _)) => true,
                Some((other, span)) => {
                    return self.err(
                        span,
                        format!("{prefix}links[{i}].protocol"),
                        format!("unknown protocol {other:?}: expected \"tcp\" (bytes, the default) or \"http\" (plain HTTP/1.1, which also takes http_status, http_latency and http_reset)"),
                    )
                }
            };
            out.push(Link {
                name: r.name.get_ref().clone(),
                listen: listen.to_string(),
                upstream: r.upstream.get_ref().clone(),
                http,
            });
        }
        Ok(out)
    }

    pub(super) fn faults(
        &self,
        faults: &[Spanned<raw::Fault>],
        target: &TargetSpec,
        links: &[Link],
        targets: &[TargetEntry],
        total: Duration,
    ) -> Result<Vec<Fault>, ScenarioError> {
        let mut out: Vec<Fault> = Vec::new();
        for (i, f) in faults.iter().enumerate() {
            let field = format!("faults[{i}]");
            let r = f.get_ref();
            if r.kind.get_ref() == crate::chaos::kitchen::KIND {
                continue; // a kitchen fault, not a toxic: see `kitchen_faults.rs`
            }
            let name = r.name.get_ref().clone();
            if out.iter().any(|o| o.name == name) {
                return self.err(
                    r.name.span(),
                    format!("{field}.name"),
                    format!("fault {name:?} is declared twice"),
                );
            }
            let at = self.duration(&r.at, &format!("{field}.at"))?;
            let dur = self.duration(&r.duration, &format!("{field}.duration"))?;
            if at >= total {
                return self.err(
                    r.at.span(),
                    format!("{field}.at"),
                    format!(
                        "the fault starts after the load ends ({})",
                        duration::show(total)
                    ),
                );
            }
            self.fault_window(r, &field, at, dur, total)?;
            let link = r.link.get_ref().clone();
            self.known_link(&r.link, &field, target, links)?;
            let toxic = self.toxic(f, &field, &name)?;
            if toxic.kind.is_http() {
                self.http_link(&r.kind, &field, &link, target, links, targets)?;
            }
            out.push(Fault {
                name,
                at,
                duration: dur,
                link,
                toxic,
            });
        }
        Ok(out)
    }

    /// A fault's link must exist: the bundled server's, `edge` in front of a
    /// URL, or one declared in `[[links]]`.
    fn known_link(
        &self,
        link: &Spanned<String>,
        field: &str,
        target: &TargetSpec,
        links: &[Link],
    ) -> Result<(), ScenarioError> {
        let name = link.get_ref();
        let known = match target {
            TargetSpec::Bundled { .. } => BUNDLED_LINKS.contains(&name.as_str()),
            // `edge` (load → target) needs no declaration: the harness
            // puts the proxy in front of the URL itself.
            TargetSpec::Url(_) => name == "edge" || links.iter().any(|l| l.name == *name),
        };
        if known {
            return Ok(());
        }
        let choices = match target {
            TargetSpec::Bundled { .. } => {
                "`edge` (load → server) or `payments` (server → payment gateway)".to_string()
            }
            TargetSpec::Url(_) => {
                std::iter::once("`edge` (load → target)".to_string())
                    .chain(links.iter().map(|l| format!("`{}`", l.name)))
                    .collect::<Vec<_>>()
                    .join(", ")
                    + "; declare others in `[[links]]` (name, listen, upstream)"
            }
        };
        self.err(
            link.span(),
            format!("{field}.link"),
            format!("unknown link {name:?}: the links are {choices}"),
        )
    }

    /// An HTTP toxic needs an HTTP link: on the scenario's target and on
    /// every `[[targets]]` entry that declares the link itself.
    fn http_link(
        &self,
        kind: &Spanned<String>,
        field: &str,
        link: &str,
        target: &TargetSpec,
        links: &[Link],
        targets: &[TargetEntry],
    ) -> Result<(), ScenarioError> {
        let is_http = |spec: &TargetSpec, links: &[Link]| match spec {
            TargetSpec::Bundled { .. } => BUNDLED_HTTP_LINKS.contains(&link),
            TargetSpec::Url(_) => links.iter().any(|l| l.name == link && l.http),
        };
        let refuse = |whose: String| {
            self.err(
                kind.span(),
                format!("{field}.type"),
                format!(
                    "`{}` acts per HTTP request, but link `{link}`{whose} is not declared `protocol = \"http\"`; \
                     declare it so in its `[[links]]` entry (plain HTTP/1.1 only), or use a TCP toxic \
                     (latency, timeout, reset_peer, ...)",
                    kind.get_ref()
                ),
            )
        };
        if !is_http(target, links) {
            let whose = match target {
                TargetSpec::Bundled { .. } => " (the bundled server's)".to_string(),
                TargetSpec::Url(_) => String::new(),
            };
            return refuse(whose);
        }
        for (i, entry) in targets.iter().enumerate() {
            let declares = entry.links.iter().any(|l| l.name == link);
            let bundled = matches!(entry.spec, TargetSpec::Bundled { .. });
            if (declares || bundled) && !is_http(&entry.spec, &entry.links) {
                return refuse(format!(" of targets[{i}]"));
            }
        }
        Ok(())
    }

    /// The fault's toxic, as `fault_proxy` builds it from kind, stream,
    /// toxicity and attributes.
    fn toxic(
        &self,
        f: &Spanned<raw::Fault>,
        field: &str,
        name: &str,
    ) -> Result<fault_proxy::Toxic, ScenarioError> {
        let r = f.get_ref();
        let stream = match r.stream.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("downstream") => fault_proxy::Stream::Downstream,
            Some("upstream") => fault_proxy::Stream::Upstream,
            Some(other) => {
                return self.err(
                    r.stream.as_ref().map_or(f.span(), Spanned::span),
                    format!("{field}.stream"),
                    format!("unknown stream {other:?}: expected \"downstream\" (answers) or \"upstream\" (requests)"),
                )
            }
        };
        let toxicity = r.toxicity.as_ref().map_or(1.0, |t| *t.get_ref());
        let attributes = match &r.attributes {
            Some(a) => serde_json::to_value(a.get_ref())
                .or_else(|e| self.err(a.span(), format!("{field}.attributes"), e.to_string()))?,
            None => serde_json::json!({}),
        };
        fault_proxy::Toxic::from_parts(name, r.kind.get_ref(), stream, toxicity, &attributes)
            .or_else(|e| {
                let span = r.attributes.as_ref().map_or(r.kind.span(), Spanned::span);
                self.err(span, field.to_string(), e.to_string())
            })
    }
}

impl Validator<'_> {
    /// `[[targets]]`: each a backend by `url` (with its own links and
    /// settings) or the bundled server by `profile`.
    pub(super) fn target_entries(
        &self,
        entries: &[Spanned<raw::TargetEntry>],
    ) -> Result<Vec<TargetEntry>, ScenarioError> {
        let mut out = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let r = e.get_ref();
            let field = format!("targets[{i}]");
            let spec = match (&r.url, &r.profile) {
                (Some(url), None) => {
                    super::url::check_url(url.get_ref())
                        .or_else(|m| self.err(url.span(), format!("{field}.url"), m.to_string()))?;
                    TargetSpec::Url(url.get_ref().trim_end_matches('/').to_string())
                }
                (None, Some(p)) if super::profile::parse(p.get_ref()).is_some() => {
                    if !r.links.is_empty() {
                        return self.err(e.span(), format!("{field}.links"), "the bundled server's links (`edge`, `payments`) are wired by the harness: declare links only for a backend given by `url`");
                    }
                    TargetSpec::Bundled {
                        profile: super::profile::parse(p.get_ref()).expect("checked above"),
                        server_args: Vec::new(),
                        gateway_args: Vec::new(),
                    }
                }
                (None, Some(p)) => {
                    return self.err(p.span(), format!("{field}.profile"), format!("unknown profile {:?}: expected \"default\" or \"naive\"", p.get_ref()))
                }
                _ => return self.err(e.span(), field, "a target is either `url = \"http://127.0.0.1:PORT\"` (a running backend) or `profile = \"default\"` (the bundled server), not both or neither"),
            };
            let links = self.links(&r.links, &spec, &format!("{field}."))?;
            out.push(TargetEntry {
                spec,
                links,
                settings: r.settings.clone(),
            });
        }
        Ok(out)
    }
}
