//! The bench's sections, one figure each, in the order they run.

use crate::tools::{
    bare_goose, median, num, oha, row, saturated, spawn_listening, start_backend, steady_rate,
    tempdir, wrk, HarnessRun,
};
use crate::Args;
use anyhow::Result;
use std::process::Command;

pub(crate) fn accuracy(args: &Args) -> Result<()> {
    println!(
        "\n== accuracy: backend answers after 50 ms, 1,000 concurrent users (harness vs wrk) =="
    );
    let (_backend, url) = start_backend(args, &["--delay-ms", "50", "--max-seconds", "900"])?;
    let (mut ours50, mut ours99, mut wrk50, mut wrk99, mut sat) =
        (vec![], vec![], vec![], vec![], false);
    let (mut ours_rps, mut wrk_rps) = (vec![], vec![]);
    for _ in 0..args.rounds {
        let w = wrk(&format!("{url}/"), 1000, args.seconds)?;
        wrk50.push(w.p50_ms);
        wrk99.push(w.p99_ms);
        wrk_rps.push(w.rps);
        let s = HarnessRun {
            args,
            scenario: "closed-get",
            target: &url,
            scale: 1.0,
            seconds: args.seconds + 2,
        }
        .summary()?;
        sat |= saturated(&s);
        ours50.push(num(&s, "/overall/latency_ms/p50"));
        ours99.push(num(&s, "/overall/latency_ms/p99"));
        ours_rps.push(steady_rate(&s));
    }
    println!("  {:<44} {:>10} {:>10}", "", "harness", "wrk");
    row(
        "p50 (target: within 2 %)",
        median(ours50),
        median(wrk50),
        "ms",
        "ratio 0.98-1.02",
    );
    row(
        "p99 (target: within 5 %)",
        median(ours99),
        median(wrk99),
        "ms",
        "ratio 0.95-1.05",
    );
    row(
        "requests/s (steady state)",
        median(ours_rps),
        median(wrk_rps),
        "/s",
        "",
    );
    if sat {
        println!("  note: the harness reported its generator saturated in at least one round");
    }
    Ok(())
}

pub(crate) fn open_rate_and_stall(args: &Args) -> Result<()> {
    println!("\n== open model: achieved rate vs target (backend answers after 50 ms) ==");
    let (backend, url) = start_backend(args, &["--delay-ms", "50", "--max-seconds", "900"])?;
    let target_rate = 1000.0;
    let mut achieved = vec![];
    for _ in 0..args.rounds {
        let s = HarnessRun {
            args,
            scenario: "open-get",
            target: &url,
            scale: 1.0,
            seconds: args.seconds,
        }
        .summary()?;
        achieved.push(steady_rate(&s));
    }
    println!("  {:<44} {:>10} {:>10}", "", "achieved", "target");
    row(
        "arrivals/s (target: within 1 %)",
        median(achieved),
        target_rate,
        "/s",
        "ratio 0.99-1.01",
    );
    drop(backend);

    println!(
        "\n== stall honesty: the backend stalls 1 s at t=4 s of a 10 s open-model run at 200/s =="
    );
    let (mut corrected, mut uncorrected, mut goose99) = (vec![], vec![], vec![]);
    for _ in 0..args.rounds {
        let (_b, url) = start_backend(
            args,
            &[
                "--delay-ms",
                "10",
                "--stall-at-ms",
                "4500",
                "--stall-ms",
                "1000",
                "--max-seconds",
                "60",
            ],
        )?;
        let s = HarnessRun {
            args,
            scenario: "open-stall",
            target: &url,
            scale: 1.0,
            seconds: 10,
        }
        .summary()?;
        corrected.push(num(&s, "/overall/latency_ms/p99"));
        uncorrected.push(num(&s, "/overall/uncorrected_p99_ms"));
        let (_b, url) = start_backend(
            args,
            &[
                "--delay-ms",
                "10",
                "--stall-at-ms",
                "4500",
                "--stall-ms",
                "1000",
                "--max-seconds",
                "60",
            ],
        )?;
        // 2 users at 10 ms each is ~200/s, the same offered load, in goose's closed model.
        let g = bare_goose(&args.bin_dir, &url, "/", 2, 10)?;
        goose99.push(num(&g, "/p99_ms"));
    }
    println!("  p99, harness (from intended start): {:>9.1} ms   <- the stall shows, as wrk2 would report it", median(corrected));
    println!(
        "  p99, harness uncorrected (from send): {:>7.1} ms",
        median(uncorrected)
    );
    println!(
        "  p99, bare goose (closed model):       {:>7.1} ms   <- the stall hides",
        median(goose99)
    );
    Ok(())
}

pub(crate) fn cost(args: &Args) -> Result<()> {
    println!("\n== cost: GET /health on the reference server, 64 users/connections ==");
    let mut cmd = Command::new(args.bin_dir.join("harness"));
    cmd.args([
        "reference-server",
        "--listen",
        "127.0.0.1:0",
        "--payment-gateway-url",
        "http://127.0.0.1:9",
    ]);
    let dir = tempdir()?;
    cmd.arg("--data-dir").arg(&dir);
    let (_server, url) = spawn_listening(cmd)?;
    let (mut ours, mut goose, mut oha_rps) = (vec![], vec![], vec![]);
    let have_oha = args.oha.exists();
    for _ in 0..args.rounds {
        let s = HarnessRun {
            args,
            scenario: "closed-health",
            target: &url,
            scale: 1.0,
            seconds: args.seconds,
        }
        .summary()?;
        ours.push(num(&s, "/overall/count") / num(&s, "/run/duration_s"));
        goose.push(num(
            &bare_goose(&args.bin_dir, &url, "/health", 64, args.seconds)?,
            "/rps",
        ));
        if have_oha {
            oha_rps.push(oha(&args.oha, &format!("{url}/health"), 64, args.seconds)?);
        }
    }
    println!("  {:<44} {:>10} {:>10}", "", "harness", "bare goose");
    row(
        "requests/s (target: ratio >= 0.90)",
        median(ours.clone()),
        median(goose),
        "/s",
        "ratio >= 0.90",
    );
    if have_oha {
        println!(
            "  oha on the same route: {:.0}/s (harness at {:.0} % of it)",
            median(oha_rps.clone()),
            100.0 * median(ours) / median(oha_rps)
        );
    } else {
        println!("  oha: not installed (bench/tools.sh builds it into .bench-tools/)");
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

pub(crate) fn memory(args: &Args) -> Result<()> {
    println!("\n== memory: 5,000 concurrent users against a backend that answers after 1 s ==");
    let (_backend, url) = start_backend(args, &["--delay-ms", "1000", "--max-seconds", "900"])?;
    let s = HarnessRun {
        args,
        scenario: "closed-get",
        target: &url,
        scale: 5.0,
        seconds: 15,
    }
    .summary()?;
    let ours = num(&s, "/generator/peak_rss_mb");
    let goose = num(
        &bare_goose(&args.bin_dir, &url, "/", 5000, 15)?,
        "/peak_rss_mb",
    );
    println!("  {:<44} {:>10} {:>10}", "", "harness", "bare goose");
    row(
        "peak RSS (target: harness < 300 MB)",
        ours,
        goose,
        "MB",
        "harness < 300",
    );
    Ok(())
}
