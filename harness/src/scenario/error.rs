//! Scenario file errors: every one names the file, the line and column, and
//! the field it is about, so a user can fix their scenario without guessing.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Something wrong in a scenario file, found before anything runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub(crate) file: PathBuf,
    /// 1-based; 0 when the problem has no place in the file (it could not be read).
    pub line: usize,
    pub(crate) column: usize,
    /// Dotted path of the field, e.g. `flows[1].steps[0].path`.
    pub field: String,
    pub(crate) message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The scenario text, to turn byte offsets into lines and columns.
pub(crate) struct Source<'a> {
    pub(crate) file: &'a Path,
    pub(crate) text: &'a str,
}

impl Source<'_> {
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        (line, column)
    }

    pub(crate) fn error(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        let (line, column) = self.line_col(span.start);
        ScenarioError {
            file: self.file.to_path_buf(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }

    /// Turns a TOML syntax or type error into one that names its field: the
    /// toml crate keeps the key path, which its `Display` only shows when it
    /// has no input to quote, so it is read from there.
    pub(crate) fn toml_error(&self, err: &toml::de::Error) -> ScenarioError {
        let span = err.span().unwrap_or(0..0);
        let mut bare = err.clone();
        bare.set_input(None);
        let shown = bare.to_string();
        let field = shown
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("in `").and_then(|l| l.strip_suffix('`')))
            .map(str::to_string)
            .unwrap_or_else(|| self.key_on_line(span.start));
        let message = plain_types(err.message().trim()).replace('\n', "; ");
        // For an unknown key, the path stops at its table: name the key too.
        let unknown = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            .filter(|key| !field.ends_with(key));
        let field = match unknown {
            Some(key) if field.is_empty() => key.to_string(),
            Some(key) => format!("{field}.{key}"),
            None => field,
        };
        let field = self.indexed(&field, span.start);
        self.error(span, field, message)
    }

    /// The field path with the index of each array of tables it goes
    /// through (`load.stages.users` → `load.stages[2].users`), counted from
    /// the `[[...]]` headers before `offset`: the toml crate's path has none.
    fn indexed(&self, field: &str, offset: usize) -> String {
        let head = &self.text[..offset.min(self.text.len())];
        let headers: Vec<(usize, String)> = head
            .match_indices('\n')
            .map(|(i, _)| i + 1)
            .chain(std::iter::once(0))
            .map(|start| {
                let line = self.text[start..].lines().next().unwrap_or("");
                let bare: String = line
                    .split('#')
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .collect();
                (start, bare)
            })
            .filter(|(start, bare)| *start <= offset && bare.starts_with("[["))
            .collect();
        let parts: Vec<&str> = field.split('.').collect();
        let mut out = Vec::new();
        let mut from = 0;
        for k in 0..parts.len() {
            let prefix = parts[..=k].join(".");
            let header = format!("[[{prefix}]]");
            let mine: Vec<usize> = headers
                .iter()
                .filter(|(start, bare)| *start >= from && *bare == header)
                .map(|(start, _)| *start)
                .collect();
            match mine.last() {
                Some(&last) if k + 1 < parts.len() => {
                    out.push(format!("{}[{}]", parts[k], mine.len() - 1));
                    from = last;
                }
                _ => out.push(parts[k].to_string()),
            }
        }
        out.join(".")
    }

    /// The key written on the line holding `offset` (`key = ...`), as a
    /// fallback field name for errors the toml crate gives without a path.
    fn key_on_line(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next().unwrap_or("");
        match line.split_once('=') {
            Some((key, _)) if !key.trim_start().starts_with('[') => {
                key.trim().trim_matches('"').to_string()
            }
            _ => String::new(),
        }
    }
}

/// The toml crate's words for a wrong type, in the scenario's own terms:
/// "invalid type: string \"many\", expected u64" → "expected a whole
/// number, got string \"many\"".
fn plain_types(message: &str) -> String {
    let kinds = [
        ("u64", "a whole number, 0 or more"),
        ("u32", "a whole number, 0 or more"),
        ("u16", "a whole number, 0 or more"),
        ("u8", "a whole number, 0 or more"),
        ("usize", "a whole number, 0 or more"),
        ("i64", "a whole number"),
        ("f32", "a number"),
        ("f64", "a number"),
    ];
    for (rust, words) in kinds {
        let tail = format!(", expected {rust}");
        if let Some(got) = message.strip_suffix(&tail) {
            let got = got
                .strip_prefix("invalid type: ")
                .or_else(|| got.strip_prefix("invalid value: "))
                .unwrap_or(got);
            return format!("expected {words}, got {got}");
        }
    }
    if message.contains("i128") {
        return format!("expected a whole number that fits in 64 bits ({message})");
    }
    message.to_string()
}

/// A scenario error with no place in the file (it could not be read at all).
pub(crate) fn unreadable(file: &Path, err: &std::io::Error) -> ScenarioError {
    ScenarioError {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        field: String::new(),
        message: format!("cannot read the scenario file: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_columns() {
        let src = Source {
            file: Path::new("s.toml"),
            text: "a = 1\nbb = 2\n",
        };
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(6), (2, 1));
        assert_eq!(src.line_col(11), (2, 6));
    }

    #[test]
    fn an_error_displays_file_line_column_and_field() {
        let src = Source {
            file: Path::new("s.toml"),
            text: "a = 1\nbb = 2\n",
        };
        let e = src.error(6..8, "bb", "must be a string");
        assert_eq!(e.to_string(), "s.toml:2:1: field `bb`: must be a string");
    }
}
