//! Divergence is an error, never a silent state. A NaN slips through the
//! natural-gradient core unnoticed: conjugate gradient's loop test is false
//! for a NaN residual, so a NaN gradient becomes a zero direction and the
//! update is quietly skipped; a categorical policy with NaN logits samples
//! action 0 forever. So every quantity is checked where it enters: the batch
//! as collected, each gradient and direction, the parameters after a step.

use tch::Tensor;
use thiserror::Error;

/// A quantity that became NaN or infinite, with what usually causes it.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{what} became non-finite (NaN or infinite): {hint}")]
pub struct NonFinite {
    pub what: &'static str,
    pub hint: &'static str,
}

/// Whether every element is finite (true for an empty tensor).
pub fn all_finite(t: &Tensor) -> bool {
    tch::no_grad(|| t.isfinite().all().int64_value(&[]) != 0)
}

/// `Err(NonFinite { what, hint })` unless every element of `t` is finite.
pub fn ensure_finite(t: &Tensor, what: &'static str, hint: &'static str) -> Result<(), NonFinite> {
    if all_finite(t) { Ok(()) } else { Err(NonFinite { what, hint }) }
}

/// Every tensor of a network: its parameters after an update.
pub fn ensure_finite_parameters(params: &[Tensor], what: &'static str, hint: &'static str) -> Result<(), NonFinite> {
    params.iter().try_for_each(|p| ensure_finite(p, what, hint))
}

/// Hints shared by several checks.
pub mod hints {
    pub const CRITIC: &str = "the value function diverged; lower critic_learning_rate, or normalise observations \
                              and rewards (normalize_observations, scale_rewards)";
    pub const POLICY: &str = "the policy diverged; lower target_kl (TRPO, NPG) or learning_rate (VPG), or raise \
                              cg_damping";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nan_and_infinity_anywhere() {
        assert!(all_finite(&Tensor::from_slice(&[1.0f32, -2.0, 0.0])));
        assert!(all_finite(&Tensor::from_slice::<f32>(&[])));
        assert!(!all_finite(&Tensor::from_slice(&[1.0f32, f32::NAN])));
        assert!(!all_finite(&Tensor::from_slice(&[f64::NEG_INFINITY, 0.0])));
        let err = ensure_finite(&Tensor::from_slice(&[f32::INFINITY]), "advantages", "a hint").unwrap_err();
        assert_eq!(err.to_string(), "advantages became non-finite (NaN or infinite): a hint");
    }
}
