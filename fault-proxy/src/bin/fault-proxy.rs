//! `fault-proxy [--listen ADDR]`: the built-in Toxiproxy-compatible server on
//! its own (as `toxiproxy-server`), on loopback port 8474 unless told
//! otherwise (never beyond loopback); SIGTERM or SIGINT stops it (exit 0).

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:8474".to_string();
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(addr)) => listen = addr,
            _ => {
                eprintln!("usage: fault-proxy [--listen 127.0.0.1:8474]");
                return ExitCode::from(2);
            }
        }
    }
    // The API drives faults: like every proxy, it stays on this machine.
    let addr = match fault_proxy::check_listen(&listen) {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("error: --listen: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let served = runtime.block_on(async {
        let server = fault_proxy::Server::bind(addr).await?;
        println!("fault proxy: Toxiproxy API on {}", server.url());
        server.run_until_signal().await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the fault proxy on {listen} failed: {e}");
            ExitCode::from(3)
        }
    }
}
