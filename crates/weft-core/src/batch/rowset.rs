//! The rows of a batch already done, as a resume skips them.

/// A set of row indexes, one bit each: a resume of 100,000 rows holds 12.5 kB.
#[derive(Debug, Default)]
pub(super) struct RowSet {
    words: Vec<u64>,
    pub(super) len: u64,
}

impl RowSet {
    pub(super) fn insert(&mut self, row: u64) {
        let Ok(word) = usize::try_from(row / 64) else {
            return;
        };
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let bit = 1 << (row % 64);
        if self.words[word] & bit == 0 {
            self.words[word] |= bit;
            self.len += 1;
        }
    }

    pub(super) fn contains(&self, row: u64) -> bool {
        usize::try_from(row / 64)
            .ok()
            .and_then(|word| self.words.get(word))
            .is_some_and(|word| word & (1 << (row % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_set_holds_what_was_put_in() {
        let mut set = RowSet::default();
        for row in [0, 63, 64, 1000, 64] {
            set.insert(row);
        }
        assert_eq!(set.len, 4);
        assert!(set.contains(0) && set.contains(63) && set.contains(64) && set.contains(1000));
        assert!(!set.contains(1) && !set.contains(65) && !set.contains(99_999));
    }
}
