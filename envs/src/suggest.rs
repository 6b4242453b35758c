//! Suggestions for a mistyped name.

/// The candidate closest to `name` (case-insensitive edit distance), when it is
/// close enough to be a plausible typo: at most a third of its length away.
pub fn closest_match<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&name, &c.to_lowercase()), *c))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, c)| *d <= c.chars().count().div_ceil(3))
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NATIVE: [&str; 5] =
        ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"];

    #[test]
    fn edit_distance_is_levenshtein() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("pendulum-v1", "pendulum-v1"), 0);
        assert_eq!(closest_match("Pendulum-v0", &NATIVE), Some("Pendulum-v1"));
        assert_eq!(closest_match("MountainCarContinuous", &NATIVE), Some("MountainCarContinuous-v0"));
    }
}
