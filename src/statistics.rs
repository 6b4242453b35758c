//! The statistics the field reads results with: the mean with its standard
//! error (rl-baselines3-zoo's `all_plots.py`), and rliable's interquartile
//! mean and probability of improvement with stratified-bootstrap intervals
//! (Agarwal et al., 2021, "Deep reinforcement learning at the edge of the
//! statistical precipice"). One task at a time: the runs are the strata.

use natgrad_envs::Rng;

/// rliable's default number of bootstrap resamples.
pub const BOOTSTRAP_RESAMPLES: usize = 50_000;
/// The intervals' coverage, rliable's default.
pub const CONFIDENCE: f64 = 0.95;

/// An estimate with its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The mean, and its standard error as zoo's `all_plots.py` computes it: the
/// population standard deviation over √n.
pub fn mean_and_standard_error(xs: &[f64]) -> (f64, f64) {
    let m = mean(xs);
    let std = mean(&xs.iter().map(|x| (x - m).powi(2)).collect::<Vec<_>>()).sqrt();
    (m, std / (xs.len() as f64).sqrt())
}

/// The interquartile mean: the mean of what is left after ⌊n/4⌋ values are
/// cut from each end, as rliable's `aggregate_iqm` (SciPy's `trim_mean` at
/// 0.25).
pub fn interquartile_mean(xs: &[f64]) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted.len() / 4;
    mean(&sorted[cut..sorted.len() - cut])
}

/// P(X > Y): the chance that a run of X scores above a run of Y, ties
/// counting half (the Mann-Whitney U statistic over mn), as rliable's
/// `probability_of_improvement` for one task.
pub fn probability_of_improvement(x: &[f64], y: &[f64]) -> f64 {
    let wins: f64 = x
        .iter()
        .flat_map(|a| {
            y.iter().map(move |b| match a.total_cmp(b) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            })
        })
        .sum();
    wins / (x.len() * y.len()) as f64
}

/// The `q`-quantile of sorted values, interpolating linearly between ranks
/// (NumPy's default, which rliable's percentile intervals use).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (below, fraction) = (position.floor() as usize, position.fract());
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// A percentile bootstrap interval of `statistic` over `samples`, each
/// sample's runs resampled with replacement on their own, as rliable's
/// `StratifiedBootstrap` (one sample) and `StratifiedIndependentBootstrap`
/// (several) do for one task.
pub fn bootstrap_interval(
    samples: &[&[f64]],
    statistic: impl Fn(&[Vec<f64>]) -> f64,
    resamples: usize,
    seed: u64,
) -> Interval {
    let mut resampled: Vec<Vec<f64>> = samples.iter().map(|s| s.to_vec()).collect();
    let estimate = statistic(&resampled);
    let mut rng = Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for (r, s) in resampled.iter_mut().zip(samples) {
            for v in r.iter_mut() {
                *v = s[rng.below(s.len() as u64) as usize];
            }
        }
        values.push(statistic(&resampled));
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    Interval { estimate, low: quantile(&values, tail), high: quantile(&values, 1.0 - tail) }
}

/// The interquartile mean of `xs` with its 95% bootstrap interval.
pub fn iqm_interval(xs: &[f64], seed: u64) -> Interval {
    bootstrap_interval(&[xs], |s| interquartile_mean(&s[0]), BOOTSTRAP_RESAMPLES, seed)
}

/// P(X > Y) with its 95% bootstrap interval.
pub fn improvement_interval(x: &[f64], y: &[f64], seed: u64) -> Interval {
    bootstrap_interval(&[x, y], |s| probability_of_improvement(&s[0], &s[1]), BOOTSTRAP_RESAMPLES, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_and_its_standard_error_are_zoos() {
        let (m, se) = mean_and_standard_error(&[1.0, 2.0, 3.0, 6.0]);
        assert_eq!(m, 3.0);
        // np.std([1, 2, 3, 6]) / sqrt(4) = sqrt(3.5) / 2.
        assert!((se - 3.5f64.sqrt() / 2.0).abs() < 1e-15);
    }

    #[test]
    fn the_interquartile_mean_trims_a_quarter_from_each_end() {
        assert_eq!(interquartile_mean(&[5.0, 1.0, 100.0, 3.0, 4.0]), 4.0); // 1 cut each side: 3, 4, 5
        assert_eq!(interquartile_mean(&[1.0, 2.0, 3.0]), 2.0); // nothing cut
        assert_eq!(interquartile_mean(&[-9.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 99.0]), 3.5);
    }

    #[test]
    fn the_probability_of_improvement_counts_wins_and_half_ties() {
        assert_eq!(probability_of_improvement(&[2.0, 3.0], &[1.0, 1.0]), 1.0);
        assert_eq!(probability_of_improvement(&[1.0], &[1.0]), 0.5);
        assert_eq!(probability_of_improvement(&[1.0, 3.0], &[2.0, 3.0]), 0.375);
        let (x, y) = ([4.0, 1.0, 7.0], [2.0, 5.0]);
        assert_eq!(probability_of_improvement(&x, &y) + probability_of_improvement(&y, &x), 1.0);
    }

    #[test]
    fn quantiles_interpolate_as_numpy() {
        let sorted = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 1.0), 8.0);
        assert_eq!(quantile(&sorted, 0.5), 3.0); // np.percentile([1, 2, 4, 8], 50)
        assert_eq!(quantile(&sorted, 0.025), 1.075);
    }

    #[test]
    fn intervals_hold_the_estimate_and_shrink_with_more_runs() {
        let few: Vec<f64> = (0..5).map(|i| (i * 37 % 11) as f64).collect();
        let many: Vec<f64> = (0..80).map(|i| (i * 37 % 11) as f64).collect();
        let (a, b) = (iqm_interval(&few, 1), iqm_interval(&many, 1));
        assert!(a.low <= a.estimate && a.estimate <= a.high, "{a:?}");
        assert!(b.high - b.low < a.high - a.low, "{a:?} {b:?}");
        // Seeded: the same interval again.
        assert_eq!(iqm_interval(&few, 1), a);
        // A constant sample has no spread.
        let c = iqm_interval(&[3.0; 6], 1);
        assert_eq!((c.low, c.estimate, c.high), (3.0, 3.0, 3.0));
    }

    /// rliable 1.2.0's figures for the same data (benchmarks/rliable_reference.py):
    /// the estimates to rounding, the bootstrap intervals to within 3% of the
    /// data's range (both sides resample at random, 50,000 times).
    #[test]
    fn the_figures_are_rliables() {
        let trpo = [438.16, 500.0, 500.0, 500.0, 500.0];
        let vpg = [500.0, 500.0, 286.0, 500.0, 500.0];
        let pendulum_trpo = [-172.0, -171.0, -167.0, -176.0, -173.0];
        let pendulum_kfac = [-181.0, -194.0, -188.0, -184.0, -178.0];
        let spread = [3.0, 9.0, 1.0, 7.0, 5.0, 2.0, 8.0, 4.0, 6.0, 10.0];
        let close = |got: Interval, (estimate, low, high): (f64, f64, f64), range: f64| {
            assert!((got.estimate - estimate).abs() < 1e-9, "{got:?} against {estimate}");
            let tolerance = 0.03 * range;
            assert!(
                (got.low - low).abs() <= tolerance && (got.high - high).abs() <= tolerance,
                "{got:?}: [{low}, {high}]"
            );
        };
        close(iqm_interval(&trpo, 0), (500.0, 458.77333333333337, 500.0), 61.84);
        close(iqm_interval(&vpg, 0), (500.0, 357.3333333333333, 500.0), 214.0);
        close(iqm_interval(&pendulum_trpo, 0), (-172.0, -175.0, -168.33333333333334), 9.0);
        close(iqm_interval(&pendulum_kfac, 0), (-184.33333333333334, -192.0, -179.0), 16.0);
        close(iqm_interval(&spread, 0), (5.5, 3.1666666666666665, 7.833333333333333), 9.0);
        close(improvement_interval(&trpo, &vpg, 0), (0.52, 0.3, 0.76), 1.0);
        close(improvement_interval(&pendulum_trpo, &pendulum_kfac, 0), (1.0, 1.0, 1.0), 1.0);
    }
}
