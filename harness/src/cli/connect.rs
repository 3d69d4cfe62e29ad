//! The flags shared by `run` and `capacity` that say how to reach a target
//! over TLS (`--ca-cert`, `--insecure`, `--client-cert`, `--client-key`,
//! `--http2`) and `--dry-run`.

use crate::backend::ConnectOptions;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct ConnectArgs {
    /// Trust this private CA (PEM) besides the system's trust store; repeatable. A server's own
    /// self-signed certificate given here is trusted as itself (pinned), as curl and Go do.
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub(crate) ca_certs: Vec<PathBuf>,
    /// Do not verify the target's TLS certificate (warned about, and recorded in the report).
    #[arg(long)]
    pub(crate) insecure: bool,
    /// A client certificate chain (PEM) for a target that requires mutual TLS.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub(crate) client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub(crate) client_key: Option<PathBuf>,
    /// Offer HTTP/2 to an https target (used when the server accepts it; the protocol is recorded).
    #[arg(long)]
    pub(crate) http2: bool,
    /// Read and validate the scenario and every option, print the plan, and exit 0
    /// without resolving or connecting to anything.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

impl ConnectArgs {
    pub(crate) fn options(&self) -> ConnectOptions {
        ConnectOptions {
            ca_certs: self.ca_certs.clone(),
            insecure: self.insecure,
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
            http2: self.http2,
        }
    }
}
