//! How a run reaches its target: the TLS configuration it is built with (the
//! command line's, plus the scenario's `[target] http2`), the `--insecure`
//! warning, and what the report's notes must say about the connection.

use super::{RunArgs, RunError};
use crate::backend::tls::Verification;
use crate::backend::{remote, Connection, Tls};
use crate::scenario::{Scenario, TargetSpec};

/// The run's TLS configuration; `--insecure` is warned about on stderr.
pub(super) fn tls_for(args: &RunArgs, sc: &Scenario) -> Result<Tls, RunError> {
    let mut connect = args.connect.clone();
    connect.http2 |= sc.http2;
    let tls = Tls::new(&connect).map_err(|e| RunError::Usage(e.to_string()))?;
    if let (Some(w), TargetSpec::Url(_)) = (remote::insecure_warning(&tls.verification), &sc.target)
    {
        eprintln!("{w}");
    }
    Ok(tls)
}

/// The notes as the report may show them: an unverified certificate said
/// plainly, and every secret masked.
pub(super) fn finish_notes(connection: &Connection, tls: &Tls, notes: &mut Vec<String>) {
    if connection.url.starts_with("https") && tls.verification == Verification::Off {
        notes.push("the target's TLS certificate was NOT verified (--insecure)".into());
    }
    notes.iter_mut().for_each(crate::redact::scrub_in_place);
}
