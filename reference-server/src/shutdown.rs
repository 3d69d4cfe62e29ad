//! The production shutdown signal: Ctrl-C or SIGTERM, or with `--exit-with-parent` the end of
//! standard input (the parent that holds the pipe is gone). Tests pass their own future to
//! `Application::run_until_stopped` instead; what happens after the signal (drain requests, then
//! kitchen workers, then the writer's last commit, all within the grace period) lives in `startup`.

/// Completes on the first Ctrl-C or SIGTERM.
pub(crate) async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown signal received");
}

/// Completes on [`signal`], or, when `watch_parent`, when standard input reaches its end: the
/// parent that holds the pipe's other end has exited, however it exited (its open files are
/// closed by the kernel, even after SIGKILL), so no orphan outlives it.
pub(crate) async fn stop(watch_parent: bool) {
    if !watch_parent {
        return signal().await;
    }
    tokio::select! {
        _ = signal() => {}
        _ = parent_gone() => {}
    }
}

/// Completes when standard input reaches its end or fails. Read on a thread of its own: a
/// blocking read of a pipe, which tokio's stdin would also do on a blocking thread.
async fn parent_gone() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(move || {
            use std::io::Read;
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 256];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot watch standard input for the parent's exit");
        return std::future::pending().await;
    }
    let _ = rx.await;
    tracing::info!("standard input closed: the parent process is gone, stopping");
}
