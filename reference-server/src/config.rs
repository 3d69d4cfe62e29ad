//! Command line and environment configuration: every knob of the server and of the gateway simulator,
//! parsed by clap (each flag also reads an environment variable) and checked before anything starts,
//! and the plain values some knobs make (`ConnectionLimits`).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::layout::StationSpec;

/// `reference-server [FLAGS]` runs the server; `reference-server gateway [FLAGS]` runs the payment
/// gateway simulator.
#[derive(Debug, Parser)]
#[command(
    name = "reference-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub server: ServerConfig,
    /// Stop (as on SIGTERM) when standard input reaches its end. The process that started this
    /// one holds the other end of that pipe, so this one ends with it however it ends, SIGKILL
    /// included: the harness starts its bundled server and gateway simulator so.
    #[arg(long, global = true)]
    pub exit_with_parent: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the payment gateway simulator (its own process, so a fault proxy can sit in front of it).
    Gateway(GatewayConfig),
}

/// `default` is the server as designed; `naive` removes every protection so the two can be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    Default,
    /// No menu cache, a commit per write, an unbounded kitchen queue, no payment timeout and no
    /// circuit breaker.
    Naive,
}

/// When the kitchen starts cooking an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CookOn {
    /// Pay first: an order waits (holding its kitchen slot) until it is paid or expires.
    Paid,
    /// Pay at pickup: an order goes to the cooking queue as soon as it is received.
    Received,
}

/// SQLite `synchronous` setting for the writer connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Synchronous {
    /// fsync the WAL at every commit: an acknowledged order survives a power cut.
    Full,
    /// No fsync per commit: an acknowledged order survives a killed process, not a power cut.
    Normal,
}

#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed on stdout).
    #[arg(long, env = "COFFEE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory holding the SQLite database (created if missing).
    #[arg(long, env = "COFFEE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Base URL of the payment gateway (`reference-server gateway` or any compatible service).
    #[arg(
        long,
        env = "COFFEE_PAYMENT_GATEWAY_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub payment_gateway_url: String,
    #[arg(long, env = "COFFEE_PROFILE", value_enum, default_value_t = Profile::Default)]
    pub profile: Profile,
    /// Number of stores seeded on first start (`store-1` .. `store-N`).
    #[arg(long, env = "COFFEE_STORES", default_value_t = 20)]
    pub stores: u32,
    /// Stock per store per SKU seeded on first start.
    #[arg(long, env = "COFFEE_INITIAL_STOCK", default_value_t = 1_000_000)]
    pub initial_stock: i64,
    /// Bearer token required by `PUT /admin/...`. Without one, a random token is drawn at start and
    /// printed once on stderr: the server never runs with a well-known credential.
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Workers of each default kitchen station (see `--stations`).
    #[arg(long, env = "COFFEE_KITCHEN_WORKERS", default_value_t = 16)]
    pub kitchen_workers: usize,
    /// Preparation time of one order; capacity = workers / prep time (16 / 50 ms = 320 orders/s).
    #[arg(long, env = "COFFEE_PREP_TIME_MS", default_value_t = 50)]
    pub prep_time_ms: u64,
    /// Orders admitted to a default station and not yet ready (unpaid ones included) beyond which
    /// `POST /orders` sheds with 503. Default: about 6 s of a station's work, so a waiting customer
    /// is not lied to.
    #[arg(long, env = "COFFEE_KITCHEN_BACKLOG", default_value_t = 2000)]
    pub kitchen_backlog: usize,
    #[arg(long, env = "COFFEE_COOK_ON", value_enum, default_value_t = CookOn::Paid)]
    pub cook_on: CookOn,
    /// An unpaid order expires after this long and frees its kitchen slot and its stock.
    #[arg(long, env = "COFFEE_UNPAID_EXPIRY_MS", default_value_t = 120_000)]
    pub unpaid_expiry_ms: u64,
    /// Kitchen stations as `name:kinds:workers:backlog`, comma separated, kinds joined by `+`
    /// (`dine_in`, `takeout`, `delivery`), e.g. `grill:dine_in:4:500,counter:takeout+delivery:8:900`.
    /// Default: `grill` (dine_in), `counter` (takeout) and `packing` (delivery), each with
    /// `--kitchen-workers` workers and a backlog of `--kitchen-backlog`.
    #[arg(long, env = "COFFEE_STATIONS")]
    pub stations: Option<String>,
    /// Share of preparations that fail (0..1); a failed one is retried with exponential backoff.
    #[arg(long, env = "COFFEE_PREP_FAILURE_RATE", default_value_t = 0.0)]
    pub prep_failure_rate: f64,
    /// Attempts at preparing one order before it goes to the dead-letter table (naive: no limit).
    #[arg(long, env = "COFFEE_PREP_MAX_ATTEMPTS", default_value_t = 3)]
    pub prep_max_attempts: u32,
    /// Wait before the second attempt; doubled for each attempt after it.
    #[arg(long, env = "COFFEE_RETRY_BACKOFF_MS", default_value_t = 100)]
    pub retry_backoff_ms: u64,
    /// How often a kitchen worker reports that it is alive.
    #[arg(long, env = "COFFEE_HEARTBEAT_MS", default_value_t = 250)]
    pub heartbeat_ms: u64,
    /// A worker silent for this long is offline and its orders go back on its station's queue.
    /// Several heartbeats long, so one slow commit on a loaded machine does not count as a death.
    #[arg(long, env = "COFFEE_HEARTBEAT_TIMEOUT_MS", default_value_t = 2_000)]
    pub heartbeat_timeout_ms: u64,
    /// Timeout of one call to the payment gateway (the naive profile has none).
    #[arg(long, env = "COFFEE_PAYMENT_TIMEOUT_MS", default_value_t = 5_000)]
    pub payment_timeout_ms: u64,
    /// Consecutive gateway failures (errors or timeouts, not declines) that open the circuit.
    #[arg(long, env = "COFFEE_BREAKER_THRESHOLD", default_value_t = 5)]
    pub breaker_threshold: u32,
    /// How long an open circuit refuses payments before letting one trial call through.
    #[arg(long, env = "COFFEE_BREAKER_COOLDOWN_MS", default_value_t = 10_000)]
    pub breaker_cooldown_ms: u64,
    /// Most write commands committed in one transaction by the writer (the naive profile uses 1).
    #[arg(long, env = "COFFEE_MAX_BATCH", default_value_t = 512)]
    pub max_batch: usize,
    #[arg(long, env = "COFFEE_SYNCHRONOUS", value_enum, default_value_t = Synchronous::Full)]
    pub synchronous: Synchronous,
    /// Read-only SQLite connections serving GETs.
    #[arg(long, env = "COFFEE_READ_CONNECTIONS", default_value_t = 4)]
    pub read_connections: usize,
    /// Every request is answered within this time (503 otherwise); must exceed the payment timeout.
    #[arg(long, env = "COFFEE_REQUEST_TIMEOUT_MS", default_value_t = 15_000)]
    pub request_timeout_ms: u64,
    /// Largest accepted request body (413 beyond).
    #[arg(long, env = "COFFEE_BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: usize,
    /// A request body must arrive in full within this time of its head (408 otherwise), so a
    /// stalled upload never holds a handler.
    #[arg(long, env = "COFFEE_BODY_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub body_read_timeout_ms: u64,
    /// A request head must arrive in full within this time of the connection being ready for it
    /// (accepted, or its previous answer sent); the connection is closed otherwise. Ends half-sent
    /// requests (slowloris) and keep-alive connections left idle.
    #[arg(long, env = "COFFEE_HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,
    /// A connection on which no byte moves either way for this long is closed (a client that
    /// stops reading its answer). Must exceed the request timeout, which bounds a silent handler.
    #[arg(long, env = "COFFEE_IDLE_TIMEOUT_MS", default_value_t = 30_000)]
    pub idle_timeout_ms: u64,
    /// Client connections served at once; one more is answered 503 and closed. Keep it below the
    /// process's file-descriptor limit (`ulimit -n`) minus about 50 for the database and logs.
    #[arg(long, env = "COFFEE_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Time allowed after SIGTERM/Ctrl-C to finish in-flight requests, kitchen work and commits.
    #[arg(long, env = "COFFEE_SHUTDOWN_GRACE_MS", default_value_t = 10_000)]
    pub shutdown_grace_ms: u64,
}

#[derive(Debug, Clone, Args)]
pub struct GatewayConfig {
    #[arg(long, env = "GATEWAY_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Median latency of a charge (latency is log-normal between the median and the p99).
    #[arg(long, env = "GATEWAY_LATENCY_MEDIAN_MS", default_value_t = 40)]
    pub latency_median_ms: u64,
    #[arg(long, env = "GATEWAY_LATENCY_P99_MS", default_value_t = 200)]
    pub latency_p99_ms: u64,
    /// Share of charges declined (0..1); card token `tok_chargeDeclined` is always declined.
    #[arg(long, env = "GATEWAY_DECLINE_RATE", default_value_t = 0.05)]
    pub decline_rate: f64,
    /// Share of charges answered with 503 (0..1).
    #[arg(long, env = "GATEWAY_FAILURE_RATE", default_value_t = 0.0)]
    pub failure_rate: f64,
    /// Seed of the latency/decline draws, for repeatable runs.
    #[arg(long, env = "GATEWAY_SEED")]
    pub seed: Option<u64>,
}

impl ServerConfig {
    /// Checks relations between fields that clap cannot express; each error names the flag.
    pub fn validate(&self) -> Result<(), String> {
        let url = self.payment_gateway_url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            return Err(format!(
                "--payment-gateway-url: `{}` is not an http(s) URL",
                self.payment_gateway_url
            ));
        }
        let positive = [
            ("--stores", self.stores as u64),
            ("--kitchen-workers", self.kitchen_workers as u64),
            ("--kitchen-backlog", self.kitchen_backlog as u64),
            ("--max-batch", self.max_batch as u64),
            ("--read-connections", self.read_connections as u64),
            ("--payment-timeout-ms", self.payment_timeout_ms),
            ("--request-timeout-ms", self.request_timeout_ms),
            ("--breaker-threshold", self.breaker_threshold as u64),
            ("--body-limit-bytes", self.body_limit_bytes as u64),
            ("--body-read-timeout-ms", self.body_read_timeout_ms),
            ("--header-read-timeout-ms", self.header_read_timeout_ms),
            ("--idle-timeout-ms", self.idle_timeout_ms),
            ("--max-connections", self.max_connections as u64),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{flag} must be at least 1"));
        }
        if !(0.0..=1.0).contains(&self.prep_failure_rate) {
            return Err(format!(
                "--prep-failure-rate must be between 0 and 1, got {}",
                self.prep_failure_rate
            ));
        }
        if self.prep_max_attempts == 0 || self.heartbeat_ms == 0 {
            return Err("--prep-max-attempts and --heartbeat-ms must be at least 1".into());
        }
        if self.heartbeat_timeout_ms <= self.heartbeat_ms {
            return Err(format!(
                "--heartbeat-timeout-ms ({}) must exceed --heartbeat-ms ({})",
                self.heartbeat_timeout_ms, self.heartbeat_ms
            ));
        }
        self.station_specs()?;
        if self.initial_stock < 0 {
            return Err("--initial-stock must not be negative".into());
        }
        if let Some(token) = &self.admin_token {
            check_admin_token(token)?;
        }
        if self.idle_timeout_ms <= self.request_timeout_ms {
            return Err(format!(
                "--idle-timeout-ms ({}) must exceed --request-timeout-ms ({})",
                self.idle_timeout_ms, self.request_timeout_ms
            ));
        }
        if self.profile == Profile::Default && self.request_timeout_ms <= self.payment_timeout_ms {
            return Err(format!(
                "--request-timeout-ms ({}) must exceed --payment-timeout-ms ({})",
                self.request_timeout_ms, self.payment_timeout_ms
            ));
        }
        Ok(())
    }

    pub(crate) fn naive(&self) -> bool {
        self.profile == Profile::Naive
    }
    pub(crate) fn prep_time(&self) -> Duration {
        Duration::from_millis(self.prep_time_ms)
    }
    /// The kitchen stations: `--stations` parsed, or the default layout.
    pub fn station_specs(&self) -> Result<Vec<StationSpec>, String> {
        match &self.stations {
            Some(spec) => StationSpec::parse_list(spec)
                .map_err(|e| format!("--stations (COFFEE_STATIONS): {e}")),
            None => Ok(StationSpec::default_layout(
                self.kitchen_workers,
                self.kitchen_backlog,
            )),
        }
    }
    /// The timeouts and cap of client connections.
    pub(crate) fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read: Duration::from_millis(self.header_read_timeout_ms),
            idle: Duration::from_millis(self.idle_timeout_ms),
            max_connections: self.max_connections,
        }
    }
    pub(crate) fn gateway_base(&self) -> &str {
        self.payment_gateway_url.trim_end_matches('/')
    }
}

/// How long and how many connections may stay open.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// A request head must arrive in full within this time of the connection being ready for it
    /// (just accepted, or its previous answer sent): closes half-sent heads and idle keep-alives.
    pub(crate) header_read: Duration,
    /// A connection on which no byte moves either way for this long is closed.
    pub(crate) idle: Duration,
    /// Connections served at once; one more is answered 503 and closed.
    pub(crate) max_connections: usize,
}

/// A chosen admin token: 8 to 255 visible ASCII characters (it travels in a header), and not the
/// well-known `admin-secret` that earlier versions used by default.
fn check_admin_token(token: &str) -> Result<(), String> {
    if !(8..=255).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("--admin-token (ADMIN_TOKEN) must be 8 to 255 visible ASCII characters".into());
    }
    if token == "admin-secret" {
        return Err(
            "--admin-token (ADMIN_TOKEN): `admin-secret` is a well-known token; choose another"
                .into(),
        );
    }
    Ok(())
}

impl GatewayConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (flag, rate) in [
            ("--decline-rate", self.decline_rate),
            ("--failure-rate", self.failure_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{flag} must be between 0 and 1, got {rate}"));
            }
        }
        if self.latency_p99_ms < self.latency_median_ms {
            return Err("--latency-p99-ms must be at least --latency-median-ms".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("reference-server").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn defaults_are_valid() {
        parse(&[]).server.validate().unwrap();
    }

    #[test]
    fn exit_with_parent_is_taken_by_the_server_and_the_gateway_alike() {
        assert!(!parse(&[]).exit_with_parent);
        assert!(parse(&["--exit-with-parent", "--listen", "127.0.0.1:0"]).exit_with_parent);
        let gateway = parse(&["gateway", "--listen", "127.0.0.1:0", "--exit-with-parent"]);
        assert!(gateway.exit_with_parent);
        assert!(matches!(gateway.command, Some(Command::Gateway(_))));
    }

    #[test]
    fn a_request_timeout_shorter_than_the_payment_timeout_is_refused() {
        let cli = parse(&[
            "--request-timeout-ms",
            "1000",
            "--payment-timeout-ms",
            "2000",
        ]);
        assert!(cli
            .server
            .validate()
            .unwrap_err()
            .contains("--request-timeout-ms"));
    }

    #[test]
    fn a_weak_or_well_known_admin_token_is_refused() {
        for bad in ["short", "admin-secret", "has space in it"] {
            let cli = parse(&["--admin-token", bad]);
            assert!(cli.server.validate().unwrap_err().contains("--admin-token"));
        }
        parse(&["--admin-token", "a-long-chosen-token"])
            .server
            .validate()
            .unwrap();
    }

    #[test]
    fn the_gateway_subcommand_parses_its_own_flags() {
        let cli = parse(&[
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--decline-rate",
            "0.5",
        ]);
        let Some(Command::Gateway(g)) = cli.command else {
            panic!("not a gateway command")
        };
        assert_eq!(g.decline_rate, 0.5);
    }
}
