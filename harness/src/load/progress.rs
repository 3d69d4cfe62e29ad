//! Live progress on the terminal: elapsed/planned time, the last second's
//! request rate, p95 and 503 rate. Hidden with `--quiet` or when stderr is
//! not a terminal.

use crate::record::Recorder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

pub(crate) struct Progress {
    bar: ProgressBar,
    /// The bar's clock restarts when the load starts (after the target's start-up).
    started: bool,
}

impl Progress {
    pub(crate) fn new(planned: Duration, quiet: bool) -> Progress {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(
                Some(planned.as_secs().max(1)),
                ProgressDrawTarget::stderr(),
            )
        };
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len}s  {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        Progress {
            bar,
            started: false,
        }
    }

    /// Shows the last complete second (`elapsed_s` is the current one).
    pub(crate) fn update(&mut self, recorder: &Recorder, elapsed_s: u64) {
        if !self.started {
            self.bar.reset_elapsed();
            self.started = true;
        }
        self.bar
            .set_position(elapsed_s.min(self.bar.length().unwrap_or(u64::MAX)));
        let seconds = &recorder.overall().seconds;
        let Some(last) = elapsed_s
            .checked_sub(1)
            .and_then(|s| seconds.get(s as usize))
        else {
            return;
        };
        let n = last.counts.total;
        let pct = |x: u64| {
            if n == 0 {
                0.0
            } else {
                x as f64 * 100.0 / n as f64
            }
        };
        self.bar.set_message(format!(
            "{n} req/s  p95 {:.1} ms  503 {:.1}%  errors {:.1}%  (total {})",
            last.latency.value_at_quantile(0.95) as f64 / 1000.0,
            pct(last.counts.shed),
            pct(last.counts.errors()),
            recorder.overall().counts.total,
        ));
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
