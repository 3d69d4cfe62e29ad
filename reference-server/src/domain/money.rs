//! `Money`: an amount in integer cents, never a float, so totals are exact.

use serde::Serialize;

use super::Quantity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub(crate) struct Money(i64);

impl Money {
    /// A menu price is at most 10,000.00 (in cents) so that any order total fits comfortably.
    pub(crate) const MAX_PRICE_CENTS: i64 = 1_000_000;

    pub(crate) const ZERO: Money = Money(0);

    /// A price: 0 to `MAX_PRICE_CENTS` cents.
    pub(crate) fn price(cents: i64) -> Result<Self, String> {
        if (0..=Self::MAX_PRICE_CENTS).contains(&cents) {
            Ok(Self(cents))
        } else {
            Err(format!(
                "must be between 0 and {} cents, got {cents}",
                Self::MAX_PRICE_CENTS
            ))
        }
    }
    pub(crate) fn cents(self) -> i64 {
        self.0
    }
    pub(crate) fn times(self, quantity: Quantity) -> Money {
        Money(self.0 * i64::from(quantity.get()))
    }
    pub(crate) fn plus(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_totals_and_sums_are_exact_in_cents() {
        let latte = Money::price(450).unwrap();
        let total = latte
            .times(Quantity::parse(3).unwrap())
            .plus(Money::price(5).unwrap());
        assert_eq!(total.cents(), 1355);
    }

    #[test]
    fn negative_or_absurd_prices_are_refused() {
        assert!(Money::price(-1).is_err());
        assert!(Money::price(Money::MAX_PRICE_CENTS + 1).is_err());
        assert_eq!(Money::price(0).unwrap(), Money::ZERO);
    }
}
