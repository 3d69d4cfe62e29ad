//! `Sku`: a menu item code such as `flat-white`.

use std::fmt;

use super::check_token;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Sku(String);

impl Sku {
    /// Lowercase ASCII letters, digits and hyphens, 1 to 64 characters.
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        check_token(value, 64, ok, "a sku")?;
        Ok(Self(value.to_owned()))
    }
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Sku;

    #[test]
    fn a_lowercase_hyphenated_code_is_a_sku() {
        assert_eq!(Sku::parse("flat-white").unwrap().as_str(), "flat-white");
    }

    #[test]
    fn empty_uppercase_spaced_or_long_codes_are_refused() {
        for bad in ["", "Latte", "flat white", &"x".repeat(65)] {
            assert!(Sku::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
