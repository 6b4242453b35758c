//! Observation normalisation and reward scaling, as Stable-Baselines3's
//! `VecNormalize`: running statistics updated from every batch of training
//! observations (Chan et al.'s parallel variance update), clipped to ±10.

/// Running mean and variance of vectors of `dim` values.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningMeanStd {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    pub count: f64,
}

impl RunningMeanStd {
    pub fn new(dim: usize) -> Self {
        // A tiny prior count, as SB3, so the first update divides by no zero.
        Self { mean: vec![0.0; dim], var: vec![1.0; dim], count: 1e-4 }
    }

    /// Folds in a batch of rows (`batch.len()` a multiple of `dim`).
    pub fn update(&mut self, batch: &[f32]) {
        let dim = self.mean.len();
        let n = (batch.len() / dim) as f64;
        if n == 0.0 {
            return;
        }
        for k in 0..dim {
            let column = batch.iter().skip(k).step_by(dim).map(|v| f64::from(*v));
            let batch_mean = column.clone().sum::<f64>() / n;
            let batch_var = column.map(|v| (v - batch_mean).powi(2)).sum::<f64>() / n;
            let delta = batch_mean - self.mean[k];
            let total = self.count + n;
            self.mean[k] += delta * n / total;
            let m2 = self.var[k] * self.count + batch_var * n + delta * delta * self.count * n / total;
            self.var[k] = m2 / total;
        }
        self.count += n;
    }
}

const CLIP: f64 = 10.0;
const EPSILON: f64 = 1e-8;

/// Normalises observations to zero mean and unit variance, clipped to ±10,
/// in the columns it is told to (the others pass through; their statistics
/// are kept all the same, so that the saved statistics have the input's width).
#[derive(Clone, Debug, PartialEq)]
pub struct ObsNormalizer {
    pub stats: RunningMeanStd,
    normalized: Vec<bool>,
}

impl ObsNormalizer {
    /// Normalises every one of `dim` columns.
    pub fn new(dim: usize) -> Self {
        Self::for_columns(vec![true; dim])
    }

    /// Normalises the columns where `normalized` is true.
    pub fn for_columns(normalized: Vec<bool>) -> Self {
        Self { stats: RunningMeanStd::new(normalized.len()), normalized }
    }

    /// Replaces the statistics (from a checkpoint), which must be as wide as the input.
    pub fn set_stats(&mut self, stats: RunningMeanStd) -> Result<(), String> {
        if stats.mean.len() != self.normalized.len() || stats.var.len() != self.normalized.len() {
            return Err(format!(
                "observation statistics for {} values, but the networks take {}: the checkpoint is from another environment",
                stats.mean.len(),
                self.normalized.len()
            ));
        }
        self.stats = stats;
        Ok(())
    }

    /// (x − mean) / sqrt(var + ε), clipped, row by row.
    pub fn normalize(&self, raw: &[f32]) -> Vec<f32> {
        let mut values = raw.to_vec();
        self.normalize_in_place(&mut values);
        values
    }

    /// [`ObsNormalizer::normalize`] without a new vector: rows of raw
    /// observations in place.
    pub fn normalize_in_place(&self, values: &mut [f32]) {
        let dim = self.stats.mean.len();
        for (j, v) in values.iter_mut().enumerate() {
            let k = j % dim;
            if !self.normalized[k] {
                continue;
            }
            *v =
                ((f64::from(*v) - self.stats.mean[k]) / (self.stats.var[k] + EPSILON).sqrt()).clamp(-CLIP, CLIP) as f32;
        }
    }
}

/// Divides rewards by the running standard deviation of the discounted return
/// (not centred: the sign of a reward is kept), clipped to ±10.
#[derive(Clone, Debug, PartialEq)]
pub struct RewardScaler {
    pub stats: RunningMeanStd,
    /// The discounted return so far, per environment copy.
    pub returns: Vec<f64>,
    pub gamma: f64,
}

impl RewardScaler {
    pub fn new(num_envs: usize, gamma: f64) -> Self {
        Self { stats: RunningMeanStd::new(1), returns: vec![0.0; num_envs], gamma }
    }

    /// Scales one step's rewards, appending them to `out`; an episode that
    /// terminated or was truncated in copy i ends its running return.
    pub fn scale_into(&mut self, rewards: &[f64], terminated: &[bool], truncated: &[bool], out: &mut Vec<f32>) {
        for (ret, r) in self.returns.iter_mut().zip(rewards) {
            *ret = *ret * self.gamma + r;
        }
        let batch: Vec<f32> = self.returns.iter().map(|r| *r as f32).collect();
        self.stats.update(&batch);
        let std = (self.stats.var[0] + EPSILON).sqrt();
        for ((ret, te), tr) in self.returns.iter_mut().zip(terminated).zip(truncated) {
            if *te || *tr {
                *ret = 0.0;
            }
        }
        out.extend(rewards.iter().map(|r| (r / std).clamp(-CLIP, CLIP) as f32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_stats_equal_the_batch_statistics_of_everything_seen() {
        let data: Vec<f32> = (0..60).map(|i| ((i * 37) % 11) as f32 * 0.5 - 1.0).collect();
        let mut rms = RunningMeanStd::new(2);
        for chunk in data.chunks(6) {
            rms.update(chunk);
        }
        for k in 0..2 {
            let col: Vec<f64> = data.iter().skip(k).step_by(2).map(|v| f64::from(*v)).collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64;
            // The 1e-4 prior count shifts the estimates by about 1e-5 relative.
            assert!((rms.mean[k] - mean).abs() < 1e-4, "{} vs {mean}", rms.mean[k]);
            assert!((rms.var[k] - var).abs() < 1e-3 * var.max(1.0), "{} vs {var}", rms.var[k]);
        }
    }

    #[test]
    fn normalized_observations_are_standardised_and_clipped() {
        let mut norm = ObsNormalizer::new(1);
        norm.stats = RunningMeanStd { mean: vec![2.0], var: vec![4.0], count: 10.0 };
        let out = norm.normalize(&[2.0, 4.0, 1000.0]);
        assert!((out[0]).abs() < 1e-6 && (out[1] - 1.0).abs() < 1e-6);
        assert_eq!(out[2], 10.0);
    }

    #[test]
    fn columns_told_to_pass_through_do_and_statistics_of_another_width_are_refused() {
        let mut norm = ObsNormalizer::for_columns(vec![true, false]);
        let wide = RunningMeanStd { mean: vec![0.0; 3], var: vec![1.0; 3], count: 1.0 };
        assert!(norm.set_stats(wide).unwrap_err().contains("statistics for 3 values, but the networks take 2"));
        norm.set_stats(RunningMeanStd { mean: vec![2.0, 2.0], var: vec![4.0, 4.0], count: 10.0 }).unwrap();
        assert_eq!(norm.normalize(&[4.0, 1.0, 0.0, 0.0]), [1.0, 1.0, -1.0, 0.0]);
    }

    #[test]
    fn reward_scaling_keeps_signs_and_resets_returns_at_episode_ends() {
        let mut scaler = RewardScaler::new(2, 0.99);
        let mut out = vec![];
        scaler.scale_into(&[1.0, -1.0], &[false, true], &[false, false], &mut out);
        assert!(out[0] > 0.0 && out[1] < 0.0);
        assert_eq!(scaler.returns, vec![1.0, 0.0]);
        // A truncation ends the running return too; rewards are appended.
        scaler.scale_into(&[2.0, 1.0], &[false, false], &[true, false], &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(scaler.returns, vec![0.0, 1.0]);
    }
}
