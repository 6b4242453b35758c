//! Adam (Kingma and Ba, 2015), written out so that its state (moments and
//! step count) can be saved in checkpoints and restored exactly. The update is
//! `torch.optim.Adam`'s, operation for operation.

use tch::Tensor;

use crate::natural_gradient::{flat_grad, flat_params};

pub struct Adam {
    params: Vec<Tensor>,
    /// First and second moment estimates, flattened over all parameters in
    /// order: one vector each, so an update is a handful of operations
    /// whatever the number of parameter tensors.
    pub exp_avg: Tensor,
    pub exp_avg_sq: Tensor,
    /// Updates taken so far.
    pub step: i64,
    pub learning_rate: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl Adam {
    /// Adam with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8).
    pub fn new(params: Vec<Tensor>, learning_rate: f64) -> Self {
        Self::with_eps(params, learning_rate, 1e-8)
    }

    /// Adam with β = (0.9, 0.999) and the given ε.
    pub fn with_eps(params: Vec<Tensor>, learning_rate: f64, eps: f64) -> Self {
        let zeros = tch::no_grad(|| flat_params(&params).zeros_like());
        Self { params, exp_avg: zeros.copy(), exp_avg_sq: zeros, step: 0, learning_rate, beta1: 0.9, beta2: 0.999, eps }
    }

    /// One step down the gradient of `loss`:
    /// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², and
    /// θ ← θ − (lr / (1−β1ᵗ)) · m / (sqrt(v) / sqrt(1−β2ᵗ) + ε).
    pub fn minimize(&mut self, loss: &Tensor) {
        let g = flat_grad(loss, &self.params, false);
        let (step_size, bias_correction2) = self.next_step();
        tch::no_grad(|| {
            self.exp_avg = &self.exp_avg * self.beta1 + &g * (1.0 - self.beta1);
            self.exp_avg_sq = &self.exp_avg_sq * self.beta2 + &g * &g * (1.0 - self.beta2);
            let denom = self.exp_avg_sq.sqrt() / bias_correction2.sqrt() + self.eps;
            let update = &self.exp_avg / denom * step_size;
            let mut offset = 0;
            for p in &self.params {
                let n = p.numel() as i64;
                let mut p = p.shallow_clone();
                p -= update.narrow(0, offset, n).view_as(&p);
                offset += n;
            }
        });
    }

    /// One step on a flat parameter vector given its gradient, in place:
    /// the update of [`Adam::minimize`] as torch.optim.Adam writes it (m by
    /// lerp, v by addcmul), nine operations over the whole vector. `params`
    /// is laid out as the parameters this optimizer was built with.
    pub fn step_flat(&mut self, params: &mut Tensor, grad: &Tensor) {
        let (step_size, bias_correction2) = self.next_step();
        tch::no_grad(|| {
            let _ = self.exp_avg.lerp_(grad, 1.0 - self.beta1);
            let _ = self.exp_avg_sq.g_mul_scalar_(self.beta2);
            let _ = self.exp_avg_sq.addcmul_(&(grad * (1.0 - self.beta2)), grad);
            let mut denom = self.exp_avg_sq.sqrt();
            let _ = denom.g_div_scalar_(bias_correction2.sqrt());
            let _ = denom.g_add_scalar_(self.eps);
            let _ = params.addcdiv_(&(&self.exp_avg * -step_size), &denom);
        });
    }

    /// Counts a step and gives its step size, lr / (1−β1ᵗ), and 1−β2ᵗ.
    fn next_step(&mut self) -> (f64, f64) {
        self.step += 1;
        let bias_correction1 = 1.0 - self.beta1.powi(self.step as i32);
        (self.learning_rate / bias_correction1, 1.0 - self.beta2.powi(self.step as i32))
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    #[test]
    fn adam_matches_its_closed_form_and_minimises() {
        // First step: m = 0.1 g, v = 0.001 g²; corrected, the step is lr·g/(|g| + ε').
        let x = Tensor::from_slice(&[3.0f64, -2.0]).set_requires_grad(true);
        let mut adam = Adam::new(vec![x.shallow_clone()], 0.1);
        adam.minimize(&x.square().sum(Kind::Double));
        let got = Vec::<f64>::try_from(&x.detach()).unwrap();
        for (g0, x1) in [(6.0f64, got[0]), (-4.0, got[1])] {
            let denom = (0.001 * g0 * g0).sqrt() / (0.001f64).sqrt() + 1e-8;
            let expected = g0 / 2.0 - 0.1 * (0.1 * g0 / 0.1) / denom;
            assert!((x1 - expected).abs() < 1e-12, "{x1} vs {expected}");
        }
        for _ in 0..500 {
            adam.minimize(&x.square().sum(Kind::Double));
        }
        assert!(x.abs().max().double_value(&[]) < 1e-2);
        assert_eq!(adam.step, 501);
        let _ = Device::Cpu;
    }

    #[test]
    fn epsilon_bounds_the_first_step_of_a_tiny_gradient() {
        // First step: lr · g / (|g| + ε). With g = 1e-6, ε = 1e-8 moves almost
        // lr; Stable-Baselines3's ε = 1e-5 moves lr / 11.
        for (eps, expected) in [(1e-8, 0.1 * 1e-6 / (1e-6 + 1e-8)), (1e-5, 0.1 * 1e-6 / (1e-6 + 1e-5))] {
            let x = Tensor::from_slice(&[0.0f64]).set_requires_grad(true);
            let mut adam = Adam::with_eps(vec![x.shallow_clone()], 0.1, eps);
            adam.minimize(&(&x * 1e-6).sum(Kind::Double));
            let moved = -x.double_value(&[0]);
            assert!((moved - expected).abs() < 1e-12, "eps {eps}: moved {moved}, expected {expected}");
        }
    }
}
