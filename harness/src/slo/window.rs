//! The window clause of a gate's text: `over <duration> [at most <N>% of
//! windows]`, taken out wherever it stands among the gate's scopes.

use super::error::GateParseError;
use super::Window;

/// Takes the `over <duration> [at most <N>% of windows]` clause out of a
/// gate's text, wherever it stands among the scopes; the rest is returned.
pub(super) fn split_window(input: &str) -> Result<(String, Option<Window>), GateParseError> {
    let bad = |problem: String| GateParseError::BadWindow {
        input: input.to_string(),
        problem,
    };
    let words: Vec<&str> = input.split(' ').collect();
    // The last `over` followed by something: a request name may hold the word too.
    let Some(at) = (0..words.len())
        .rev()
        .find(|&i| words[i] == "over" && i > 0)
    else {
        return Ok((input.to_string(), None));
    };
    let Some(length) = words.get(at + 1).filter(|w| !w.is_empty()) else {
        return Err(bad(
            "`over` must be followed by a window length in whole seconds or minutes (e.g. `over 10s`)"
                .into(),
        ));
    };
    let length_s = window_length(length).ok_or_else(|| {
        bad(format!(
            "`over {length}`: expected a window length in whole seconds or minutes, at least 1s (e.g. 10s, 1m)"
        ))
    })?;
    let mut end = at + 2;
    let mut tolerated_percent = None;
    if words.get(end) == Some(&"at") {
        let tail = words.get(end..end + 5).unwrap_or(&[]);
        let share = match tail {
            ["at", "most", n, "of", "windows"] => n
                .strip_suffix('%')
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && (0.0..=100.0).contains(v)),
            _ => None,
        };
        let Some(share) = share else {
            return Err(bad(
                "expected `at most <N>% of windows` after the window length (e.g. `over 10s at most 5% of windows`)"
                    .into(),
            ));
        };
        tolerated_percent = Some(share);
        end += 5;
    }
    let rest = [&words[..at], &words[end.min(words.len())..]]
        .concat()
        .join(" ");
    Ok((
        rest,
        Some(Window {
            length_s,
            tolerated_percent,
        }),
    ))
}

/// `10s`, `1m` → whole seconds (at least one); `None` otherwise.
fn window_length(text: &str) -> Option<u32> {
    let (number, factor) = if let Some(n) = text.strip_suffix('s') {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60)
    } else {
        return None;
    };
    let n: u32 = number.parse().ok()?;
    n.checked_mul(factor).filter(|s| *s >= 1)
}

#[cfg(test)]
mod tests {
    use crate::slo::testing::{error, gate};

    #[test]
    fn a_window_gate_takes_its_window_wherever_it_stands_among_the_scopes() {
        let g = gate("p95 < 500ms over 10s");
        let w = g.window.expect("a window");
        assert_eq!((w.length_s, w.tolerated_percent), (10, None));
        assert_eq!(g.threshold.canonical(), 500.0);
        let g = gate("shed-rate < 5% over 30s for POST /orders");
        assert_eq!(g.window.unwrap().length_s, 30);
        assert_eq!(g.request.as_deref(), Some("POST /orders"));
        let g = gate("p99 < 1s for POST /orders over 1m during peak");
        assert_eq!(g.window.unwrap().length_s, 60);
        assert_eq!(g.request.as_deref(), Some("POST /orders"));
        assert_eq!(g.during.as_deref(), Some("peak"));
        let g = gate("error-rate < 1% over 10s at most 5% of windows");
        assert_eq!(g.window.unwrap().tolerated_percent, Some(5.0));
        assert!((g.window.unwrap().tolerated_share() - 0.05).abs() < 1e-12);
        assert_eq!(gate("p95 < 500ms").window, None);
    }

    #[test]
    fn a_window_gate_writes_back_its_window_after_the_threshold() {
        for text in [
            "p95 < 500ms over 10s",
            "shed-rate < 5% over 30s for POST /orders",
            "error-rate < 1% over 10s at most 5% of windows for GET /menu during peak",
        ] {
            let g = gate(text);
            assert_eq!(g.to_string(), text);
            assert_eq!(gate(&g.to_string()), g);
        }
        assert_eq!(
            gate("p99 < 1s for POST /orders over 1m").to_string(),
            "p99 < 1s over 60s for POST /orders"
        );
    }

    #[test]
    fn a_bad_window_says_what_length_or_share_is_expected() {
        let e = error("p95 < 500ms over");
        assert!(
            e.contains("`over` must be followed by a window length"),
            "{e}"
        );
        let e = error("p95 < 500ms over 1.5s");
        assert!(e.contains("whole seconds or minutes"), "{e}");
        let e = error("p95 < 500ms over 500ms");
        assert!(e.contains("`over 500ms`"), "{e}");
        let e = error("p95 < 500ms over 0s");
        assert!(e.contains("at least 1s"), "{e}");
        let e = error("p95 < 500ms over 10s at most five of windows");
        assert!(e.contains("`at most <N>% of windows`"), "{e}");
    }
}
