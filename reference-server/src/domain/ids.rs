//! Identifiers and names: `StoreId`, `OrderId`, `IdempotencyKey`, `CustomerName`.

use super::check_token;

/// A store such as `store-7`: ASCII letters, digits, `-` and `_`, 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct StoreId(String);

impl StoreId {
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        check_token(value, 64, ok, "a store id")?;
        Ok(Self(value.to_owned()))
    }
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The opaque id of an order (a UUID in this server; any short token is accepted when parsing a path).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct OrderId(String);

impl OrderId {
    pub(crate) fn new() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        check_token(value, 64, ok, "an order id")?;
        Ok(Self(value.to_owned()))
    }
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for OrderId {
    fn default() -> Self {
        Self::new()
    }
}

/// The client's `Idempotency-Key`: visible ASCII, 1 to 255 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct IdempotencyKey(String);

impl IdempotencyKey {
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        check_token(value, 255, |c| c.is_ascii_graphic(), "an idempotency key")?;
        Ok(Self(value.to_owned()))
    }
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A customer's name as printed on the cup: 1 to 100 characters, not only blanks, no control
/// characters; kept without surrounding blanks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomerName(String);

impl CustomerName {
    pub(crate) const MAX_CHARS: usize = 100;

    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        super::check_text(value, Self::MAX_CHARS, "a name")?;
        let trimmed = value.trim();
        Ok(Self(trimmed.to_owned()))
    }
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_ids_allow_letters_digits_and_dashes_only() {
        assert!(StoreId::parse("store-12").is_ok());
        assert!(StoreId::parse("store 12").is_err());
        assert!(StoreId::parse("").is_err());
    }

    #[test]
    fn new_order_ids_are_unique_and_parse_back() {
        let a = OrderId::new();
        assert_ne!(a, OrderId::new());
        assert_eq!(OrderId::parse(a.as_str()).unwrap(), a);
        assert!(OrderId::parse("../etc").is_err());
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_up_to_255_characters() {
        assert!(IdempotencyKey::parse("k-1:abc/42").is_ok());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn customer_names_are_trimmed_and_must_not_be_blank() {
        assert_eq!(CustomerName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(CustomerName::parse("   ").is_err());
        assert!(CustomerName::parse("a\u{7}b").is_err());
    }
}
