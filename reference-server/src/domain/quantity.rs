//! `Quantity`: how many of one item an order asks for.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity(u32);

impl Quantity {
    /// One order line holds 1 to 99 items: more is a typo or abuse, not a coffee order.
    pub(crate) const MAX: i64 = 99;

    pub(crate) fn parse(value: i64) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&value) {
            Ok(Self(value as u32))
        } else {
            Err(format!("must be between 1 and {}, got {value}", Self::MAX))
        }
    }
    pub(crate) fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    #[test]
    fn quantities_from_one_to_ninety_nine_parse() {
        assert_eq!(Quantity::parse(1).unwrap().get(), 1);
        assert_eq!(Quantity::parse(99).unwrap().get(), 99);
    }

    #[test]
    fn zero_negative_and_huge_quantities_are_refused() {
        for bad in [0, -1, 100, i64::MAX] {
            assert!(Quantity::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
