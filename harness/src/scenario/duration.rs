//! Human durations in scenario files: `500ms`, `30s`, `2m`, `1m30s`, `1.5s`.

use std::time::Duration;

pub(crate) const EXPECTED: &str =
    "a number with a unit (ms, s, m or h), e.g. \"500ms\", \"30s\", \"2m\" or \"1m30s\"";

/// Parses a duration, or says why it is not one.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty duration: expected {EXPECTED}"));
    }
    let mut total = 0.0_f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        let value: f64 = num
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: expected {EXPECTED}"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit.trim() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "invalid duration {text:?}: the number has no unit; expected {EXPECTED}"
                ))
            }
            other => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {other:?}; expected {EXPECTED}"
                ))
            }
        };
        total += value * scale;
        rest = tail;
    }
    if !total.is_finite() || total > 86_400.0 * 7.0 {
        return Err(format!("invalid duration {text:?}: longer than a week"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Shows a duration the way scenario files write them (to 0.1 s above a second).
pub(crate) fn show(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{}ms", d.as_millis())
    } else if (secs / 60.0).fract() < 1e-6 {
        format!("{}m", (secs / 60.0).round())
    } else {
        let s = format!("{secs:.1}");
        format!("{}s", s.trim_end_matches(".0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_combinations_parse() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
    }

    #[test]
    fn nonsense_durations_say_what_is_expected() {
        let e = parse("5 parsecs").unwrap_err();
        assert!(
            e.contains("unknown unit \"parsecs\"") && e.contains("30s"),
            "{e}"
        );
        assert!(parse("5").unwrap_err().contains("no unit"));
        assert!(parse("").is_err());
        assert!(parse("fast").is_err());
    }

    #[test]
    fn durations_show_in_the_shortest_unit() {
        assert_eq!(show(Duration::from_millis(500)), "500ms");
        assert_eq!(show(Duration::from_secs(90)), "90s");
        assert_eq!(show(Duration::from_secs(120)), "2m");
        assert_eq!(show(Duration::from_millis(39_999)), "40s");
        assert_eq!(show(Duration::from_millis(1_500)), "1.5s");
    }
}
