//! Bad batch flags are refused before any run, naming the flag.

use super::batch;
use harness::batch::{run_batch, BatchArgs};
use harness::run::RunError;

#[tokio::test]
async fn bad_suite_flags_are_refused_before_any_run_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |args: BatchArgs| async move {
        let mut out = Vec::new();
        match run_batch(&args, &mut out).await {
            Err(e @ RunError::Usage(_)) => e.to_string(),
            other => panic!("expected a usage error, got {other:?}"),
        }
    };
    let mut args = batch(dir.path(), None);
    args.baseline = vec![dir.path().join("missing")];
    let e = refused(args).await;
    assert!(
        e.starts_with("--baseline ") && e.contains("does not exist"),
        "{e}"
    );

    let mut args = batch(dir.path(), None);
    args.baseline_target = Some("bundled:turbo".into());
    let e = refused(args).await;
    assert!(
        e.contains("--baseline-target") && e.contains("no profile `turbo`"),
        "{e}"
    );

    let mut args = batch(dir.path(), None);
    args.targets = vec!["http://192.0.2.1:80".into(), "bundled:naive".into()];
    let e = refused(args).await;
    assert!(e.contains("--target") && e.contains("loopback"), "{e}");

    let mut args = batch(dir.path(), None);
    args.max_regression = Some("p95=10%".into());
    args.repeat = 3;
    assert!(refused(args)
        .await
        .contains("--max-regression needs a baseline"));

    let mut args = batch(dir.path(), None);
    args.baseline_target = Some("bundled:default".into());
    args.max_regression = Some("p97=10%".into());
    assert!(refused(args).await.contains("unknown metric `p97`"));
}
