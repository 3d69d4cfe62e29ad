//! The comparison on the terminal: what is not comparable, then the
//! whole-run figures, one column per backend (the median of its runs), a
//! row's better backend marked `*` only beyond the noise.

use super::Comparison;
use std::io::Write;

/// The whole-run rows printed on the terminal (compare.html has them all).
const PRINTED: [&str; 7] = [
    "throughput",
    "goodput",
    "p50",
    "p95",
    "p99",
    "shed-rate",
    "error-rate",
];

pub(crate) fn print_comparison_table(cmp: &Comparison, out: &mut dyn Write) -> std::io::Result<()> {
    for why in &cmp.not_comparable {
        writeln!(out, "not comparable on: {why}")?;
    }
    let Some(all) = cmp.requests.first() else {
        return Ok(());
    };
    let width = cmp
        .columns
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    write!(out, "{:<12}", "")?;
    for column in &cmp.columns {
        write!(out, "  {:>width$}", column.label)?;
    }
    writeln!(out)?;
    for row in all
        .metrics
        .iter()
        .filter(|m| PRINTED.contains(&m.metric.as_str()))
    {
        write!(out, "{:<12}", row.metric)?;
        for (i, value) in row.values.iter().enumerate() {
            let text = match value {
                None => "-".to_string(),
                Some(v) => match row.unit.as_str() {
                    "%" => format!("{:.2}%", v * 100.0),
                    "ms" => format!("{v:.2} ms"),
                    unit => format!("{v:.1}{unit}"),
                },
            };
            let mark = if row.best == Some(i) { "*" } else { " " };
            write!(out, "  {:>w$}{mark}", text, w = width - 1)?;
        }
        writeln!(out)?;
    }
    if let Some(why) = &cmp.no_stars {
        writeln!(out, "note: {why}")?;
    }
    Ok(())
}
