//! The series selector: `metric{label="value", other!="value"}`, a small
//! subset of PromQL's instant-vector selector (no functions, no regular
//! expressions). It picks the samples of one metric whose labels match every
//! matcher; a label a sample lacks counts as the empty string, as in PromQL.

use std::collections::BTreeMap;
use std::fmt;

/// How a matcher compares a label's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MatchOp {
    Equal,
    NotEqual,
}

/// One `label="value"` or `label!="value"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Matcher {
    pub(crate) label: String,
    pub(crate) op: MatchOp,
    pub(crate) value: String,
}

/// A metric name and the matchers its samples must pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selector {
    pub(crate) metric: String,
    pub(crate) matchers: Vec<Matcher>,
}

impl Selector {
    /// Parses `name` or `name{l="v", m!="w"}`; the error says what was expected.
    pub(crate) fn parse(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        let (name, rest) = match text.find('{') {
            Some(at) => (text[..at].trim(), Some(&text[at..])),
            None => (text, None),
        };
        if !is_name(name, true) {
            return Err(format!(
                "`{text}`: `{name}` is not a metric name (letters, digits, `_` and `:`, not starting with a digit), \
                 e.g. `kitchen_station_backlog{{station=\"grill\"}}`"
            ));
        }
        let matchers = match rest {
            None => Vec::new(),
            Some(body) => {
                let inner = body
                    .strip_prefix('{')
                    .and_then(|b| b.strip_suffix('}'))
                    .ok_or_else(|| format!("`{text}`: the label filter must end with `}}`"))?;
                parse_matchers(text, inner)?
            }
        };
        Ok(Selector {
            metric: name.to_string(),
            matchers,
        })
    }

    /// Whether a sample of `metric` with these labels is selected.
    pub(crate) fn matches(&self, metric: &str, labels: &BTreeMap<String, String>) -> bool {
        metric == self.metric
            && self.matchers.iter().all(|m| {
                let value = labels.get(&m.label).map_or("", String::as_str);
                (value == m.value) == (m.op == MatchOp::Equal)
            })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.metric)?;
        if self.matchers.is_empty() {
            return Ok(());
        }
        let parts: Vec<String> = self
            .matchers
            .iter()
            .map(|m| {
                let op = match m.op {
                    MatchOp::Equal => "=",
                    MatchOp::NotEqual => "!=",
                };
                format!("{}{op}\"{}\"", m.label, m.value)
            })
            .collect();
        write!(f, "{{{}}}", parts.join(","))
    }
}

/// A metric name (`colon` allows `:`) or a label name.
pub(crate) fn is_name(name: &str, colon: bool) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

fn parse_matchers(text: &str, inner: &str) -> Result<Vec<Matcher>, String> {
    let mut out = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let op_at = rest
            .find(['=', '!'])
            .ok_or_else(|| format!("`{text}`: expected `label=\"value\"` in the filter"))?;
        let label = rest[..op_at].trim();
        if !is_name(label, false) {
            return Err(format!("`{text}`: `{label}` is not a label name"));
        }
        let after = &rest[op_at..];
        let (op, after) = if let Some(a) = after.strip_prefix("!=") {
            (MatchOp::NotEqual, a)
        } else if after.starts_with("=~") || after.starts_with("!~") {
            return Err(format!(
                "`{text}`: regular expressions (`=~`, `!~`) are not supported; use `=` or `!=`"
            ));
        } else if let Some(a) = after.strip_prefix('=') {
            (MatchOp::Equal, a)
        } else {
            return Err(format!("`{text}`: expected `=` or `!=` after `{label}`"));
        };
        let after = after.trim_start();
        let body = after.strip_prefix('"').ok_or_else(|| {
            format!("`{text}`: the value of `{label}` must be quoted, e.g. {label}=\"grill\"")
        })?;
        let close = body
            .find('"')
            .ok_or_else(|| format!("`{text}`: the value of `{label}` has no closing quote"))?;
        out.push(Matcher {
            label: label.to_string(),
            op,
            value: body[..close].to_string(),
        });
        rest = body[close + 1..].trim_start();
        rest = match rest.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if rest.is_empty() => rest,
            None => return Err(format!("`{text}`: expected `,` between label matchers")),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_selector_matches_its_metric_and_every_matcher() {
        let s = Selector::parse(r#"kitchen_station_backlog{station="grill", zone!="b"}"#).unwrap();
        assert!(s.matches("kitchen_station_backlog", &labels(&[("station", "grill")])));
        assert!(!s.matches(
            "kitchen_station_backlog",
            &labels(&[("station", "grill"), ("zone", "b")])
        ));
        assert!(!s.matches("kitchen_station_backlog", &labels(&[("station", "bar")])));
        assert!(!s.matches("kitchen_backlog", &labels(&[("station", "grill")])));
        assert_eq!(
            s.to_string(),
            r#"kitchen_station_backlog{station="grill",zone!="b"}"#
        );
        let bare = Selector::parse("up").unwrap();
        assert!(bare.matches("up", &labels(&[("job", "x")])));
    }

    #[test]
    fn bad_selectors_say_what_is_expected() {
        let e = |t: &str| Selector::parse(t).unwrap_err();
        assert!(e("9lives").contains("not a metric name"));
        assert!(e("m{station=grill}").contains("must be quoted"));
        assert!(e(r#"m{station="grill""#).contains("must end with `}`"));
        assert!(e(r#"m{station=~"g.*"}"#).contains("not supported"));
        assert!(e(r#"m{a="1" b="2"}"#).contains("expected `,`"));
        assert!(e(r#"m{="1"}"#).contains("not a label name"));
    }
}
