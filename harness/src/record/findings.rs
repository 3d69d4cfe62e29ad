//! What a request's answers showed beyond their status and latency: polls
//! that gave up (their last look still did not see the awaited value) and
//! answers checked against the target's contract, with the first few
//! mismatches in words. Counted per request name and overall.

/// Most distinct mismatch messages kept per request name.
pub(crate) const MAX_EXAMPLES: usize = 3;

/// One thing the load engine noticed about an answer.
#[derive(Clone, Debug)]
pub(crate) enum Finding {
    /// The last look of an `until` poll did not see its value.
    GaveUp,
    /// An answer was checked against the contract: `None` when it matched,
    /// else why not.
    Checked(Option<String>),
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Findings {
    pub(crate) gave_up: u64,
    /// Answers checked against the contract (`check = "openapi"`).
    pub(crate) checked: u64,
    pub(crate) schema_mismatches: u64,
    /// Up to [`MAX_EXAMPLES`] distinct reasons.
    pub(crate) schema_examples: Vec<String>,
}

impl Findings {
    pub(crate) fn add(&mut self, finding: &Finding) {
        match finding {
            Finding::GaveUp => self.gave_up += 1,
            Finding::Checked(None) => self.checked += 1,
            Finding::Checked(Some(why)) => {
                self.checked += 1;
                self.schema_mismatches += 1;
                self.keep_example(why);
            }
        }
    }

    pub(crate) fn merge(&mut self, other: &Findings) {
        self.gave_up += other.gave_up;
        self.checked += other.checked;
        self.schema_mismatches += other.schema_mismatches;
        for why in &other.schema_examples {
            self.keep_example(why);
        }
    }

    fn keep_example(&mut self, why: &str) {
        if self.schema_examples.len() < MAX_EXAMPLES
            && !self.schema_examples.iter().any(|e| e == why)
        {
            self.schema_examples.push(why.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatches_are_counted_exactly_and_their_reasons_kept_once_each() {
        let mut f = Findings::default();
        for i in 0..10 {
            f.add(&Finding::Checked(Some(format!("wrong {}", i % 5))));
            f.add(&Finding::Checked(None));
        }
        f.add(&Finding::GaveUp);
        assert_eq!((f.checked, f.schema_mismatches, f.gave_up), (20, 10, 1));
        assert_eq!(f.schema_examples, vec!["wrong 0", "wrong 1", "wrong 2"]);
        let mut g = Findings::default();
        g.merge(&f);
        g.merge(&f);
        assert_eq!(g.schema_mismatches, 20);
        assert_eq!(g.schema_examples.len(), MAX_EXAMPLES);
    }
}
