//! `{{env.NAME}}`: per-environment values and secrets (a token, a tenant id)
//! taken from the environment when the scenario is read, once, before the
//! run. A variable that is not set is a scenario error; every value read is
//! registered with [`crate::redact`], so it is shown as `***` in every
//! report file, log line and error message.

use crate::redact::Secret;

/// The prefix that names an environment variable inside `{{...}}`.
pub(crate) const PREFIX: &str = "env.";

/// Reads `NAME` (from `env.NAME`) from the environment; the error says which
/// variable is missing and what to do.
pub(crate) fn read(name: &str) -> Result<Secret, String> {
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(format!(
            "`{{{{env.{name}}}}}` is not an environment variable name: use letters, digits and `_`, e.g. `{{{{env.API_TOKEN}}}}`"
        ));
    }
    match std::env::var(name) {
        Ok(value) => Ok(Secret::new(value)),
        Err(std::env::VarError::NotPresent) => Err(format!(
            "`{{{{env.{name}}}}}`: the environment variable {name} is not set; \
             set it before the run (e.g. `export {name}=...`, or a CI secret)"
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "`{{{{env.{name}}}}}`: the environment variable {name} is not valid UTF-8"
        )),
    }
}

/// `text` with each `{{env.NAME}}` replaced by its value, for places that
/// take plain text rather than a per-request template (`[data]` values).
/// Other `{{...}}` are left as they are.
pub(crate) fn expand(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let inner = after[..close].trim();
        match inner.strip_prefix(PREFIX) {
            Some(name) => out.push_str(read(name)?.expose()),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_variable_is_read_and_masked() {
        std::env::set_var("HARNESS_UNIT_ENV_SET", "v-81d2c7");
        let s = read("HARNESS_UNIT_ENV_SET").unwrap();
        assert_eq!(s.expose(), "v-81d2c7");
        assert_eq!(crate::redact::scrub("id v-81d2c7"), "id ***");
        assert_eq!(
            expand("tenant-{{ env.HARNESS_UNIT_ENV_SET }}-{{store}}").unwrap(),
            "tenant-v-81d2c7-{{store}}"
        );
    }

    #[test]
    fn an_unset_or_misspelt_variable_is_named_in_the_error() {
        let e = read("HARNESS_UNIT_ENV_SURELY_UNSET").unwrap_err();
        assert!(
            e.contains("HARNESS_UNIT_ENV_SURELY_UNSET is not set"),
            "{e}"
        );
        assert!(read("bad-name").unwrap_err().contains("not an environment"));
        assert!(read("").is_err());
    }
}
