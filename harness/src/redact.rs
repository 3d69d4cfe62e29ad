//! Keeping secrets out of everything the harness writes. Values read from
//! the environment by `{{env.NAME}}` are registered here when the scenario is
//! read; every string bound for a report file, a log line or an error message
//! goes through `scrub`, which shows each of them as `***`. Header values of
//! `Authorization`, `Cookie` and `Set-Cookie` (and any header built from an
//! environment value) are marked sensitive on the wire, so the HTTP stack's
//! own debug output never prints them either, and a URL's password is cut
//! before the URL is shown.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

/// What a secret is shown as.
pub(crate) const MASK: &str = "***";

/// Every secret value this process has read. It only grows: a value once
/// read stays masked for the life of the process (tests running side by side
/// in one process then mask each other's values too, which is harmless).
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// A value that must never be shown: its `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` and registers it, so `scrub` masks it wherever it appears.
    pub fn new(value: String) -> Secret {
        register(&value);
        Secret(value)
    }

    /// The value itself, for the request it goes into (and nowhere else).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Masks `value` from now on. An empty value is not registered: it would
/// match everywhere and mask nothing secret.
pub(crate) fn register(value: &str) {
    if value.is_empty() {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret shown as `***`.
pub(crate) fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

/// [`scrub`] for an owned string, in place.
pub(crate) fn scrub_in_place(text: &mut String) {
    if let Cow::Owned(clean) = scrub(text) {
        *text = clean;
    }
}

/// Whether a header's value is a credential by its name alone.
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// A URL fit to show: its password (`https://user:pass@host`) replaced by
/// `***`, and every registered secret masked.
pub(crate) fn url(text: &str) -> String {
    // The text as given (not re-serialised), with the password cut out.
    let shown = match reqwest::Url::parse(text)
        .ok()
        .and_then(|u| u.password().map(str::to_string))
    {
        Some(pw) => text.replacen(&format!(":{pw}@"), &format!(":{MASK}@"), 1),
        None => text.to_string(),
    };
    scrub(&shown).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_value_is_masked_wherever_it_appears() {
        let s = Secret::new("tok-3f9a1c-unit".into());
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "tok-3f9a1c-unit");
        assert_eq!(
            scrub("Bearer tok-3f9a1c-unit refused"),
            "Bearer *** refused"
        );
        assert!(matches!(scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_secret_that_contains_another_is_masked_whole() {
        register("abc-7d1e");
        register("abc-7d1e-longer");
        assert_eq!(scrub("x abc-7d1e-longer y abc-7d1e"), "x *** y ***");
    }

    #[test]
    fn credentials_in_urls_and_credential_headers_are_recognised() {
        assert_eq!(
            url("https://ci:hunter2-9c4b@staging.example.invalid/api"),
            "https://ci:***@staging.example.invalid/api"
        );
        assert_eq!(url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert!(is_sensitive_header("Authorization"));
        assert!(is_sensitive_header("set-cookie"));
        assert!(!is_sensitive_header("Idempotency-Key"));
    }
}
