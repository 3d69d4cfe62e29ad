//! The report's templates (embedded in the binary, so a report can be written
//! anywhere) and the number-formatting filters they share.

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, Error, Output, State, Value};

/// Every template of the report, loaded once per environment.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Autoescaping follows the extension: .html and .xml are escaped, .md is not.
    for (name, source) in [
        ("report.html", include_str!("../../templates/report.html")),
        ("junit.xml", include_str!("../../templates/junit.xml")),
        ("summary.md", include_str!("../../templates/summary.md")),
        ("compare.html", include_str!("../../templates/compare.html")),
        ("compare.md", include_str!("../../templates/compare.md")),
        ("baseline.md", include_str!("../../templates/baseline.md")),
        (
            "baseline-junit.xml",
            include_str!("../../templates/baseline-junit.xml"),
        ),
        (
            "capacity.html",
            include_str!("../../templates/capacity.html"),
        ),
        ("capacity.md", include_str!("../../templates/capacity.md")),
        ("history.html", include_str!("../../templates/history.html")),
        ("history.md", include_str!("../../templates/history.md")),
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("the embedded template {name} does not parse: {e:#}"));
    }
    env.set_formatter(format_value);
    env.add_filter("ms", ms);
    env.add_filter("pct", pct);
    env.add_filter("num", num);
    env.add_filter("md", md);
    env.add_filter("change", change);
    env.add_filter("when", when);
    env
}

/// Writes a value into the output: `none` as nothing, booleans as
/// true/false, and in HTML/XML only `& < > " '` escaped (the default also
/// escapes `/`, which makes every path and unit in the report unreadable).
fn format_value(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(());
    }
    let text = match value.as_str() {
        Some(s) => s.to_string(),
        None if value.kind() == ValueKind::Bool => value.is_true().to_string(),
        None => value.to_string(),
    };
    let escaped = match state.auto_escape() {
        AutoEscape::None => text,
        _ if value.is_safe() => text,
        _ => escape(&text),
    };
    out.write_str(&escaped).map_err(Error::from)
}

/// HTML/XML text escaping.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A latency in ms with precision that suits its size: 0.42, 12.5, 250.
pub(crate) fn ms(v: Value) -> String {
    match f64::try_from(v) {
        Ok(v) if v < 10.0 => format!("{v:.2}"),
        Ok(v) if v < 100.0 => format!("{v:.1}"),
        Ok(v) => format!("{v:.0}"),
        Err(_) => "–".to_string(),
    }
}

/// A fraction as a percentage: 0.0123 → "1.23%".
pub(crate) fn pct(v: Value) -> String {
    match f64::try_from(v) {
        Ok(v) => format!("{:.2}%", v * 100.0),
        Err(_) => "–".to_string(),
    }
}

/// A number with `digits` decimals (default 1).
pub(crate) fn num(v: Value, digits: Option<usize>) -> String {
    match f64::try_from(v) {
        Ok(v) => format!("{v:.*}", digits.unwrap_or(1)),
        Err(_) => "–".to_string(),
    }
}

/// A relative change, signed: 0.123 → "+12.3%".
pub(crate) fn change(v: Value) -> String {
    match f64::try_from(v) {
        Ok(v) => format!("{:+.1}%", v * 100.0),
        Err(_) => "–".to_string(),
    }
}

/// An RFC 3339 time as "2026-11-22 01:30:00 UTC"; other text unchanged.
pub(crate) fn when(v: String) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(&v, &Rfc3339) {
        Ok(t) => readable_time(t),
        Err(_) => v,
    }
}

/// "2026-11-22 01:30:00 UTC" for readers.
pub(crate) fn readable_time(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default()
}

/// Text made safe for one Markdown table cell.
pub(crate) fn md(v: String) -> String {
    v.replace('|', "\\|").replace(['\n', '\r'], " ")
}
