//! Adam (Kingma and Ba, 2015), written out so that its state (moments and
//! step count) can be saved in checkpoints and restored exactly. The update is
//! `torch.optim.Adam`'s, operation for operation.

use tch::Tensor;

pub struct Adam {
    params: Vec<Tensor>,
    /// First and second moment estimates, one per parameter.
    pub exp_avg: Vec<Tensor>,
    pub exp_avg_sq: Vec<Tensor>,
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
        let zeros = |p: &Tensor| tch::no_grad(|| p.zeros_like());
        let exp_avg = params.iter().map(zeros).collect();
        let exp_avg_sq = params.iter().map(zeros).collect();
        Self { params, exp_avg, exp_avg_sq, step: 0, learning_rate, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }

    /// One step down the gradient of `loss`:
    /// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², and
    /// θ ← θ − (lr / (1−β1ᵗ)) · m / (sqrt(v) / sqrt(1−β2ᵗ) + ε).
    pub fn minimize(&mut self, loss: &Tensor) {
        let grads = Tensor::run_backward(&[loss], &self.params, false, false);
        self.step += 1;
        let bias_correction1 = 1.0 - self.beta1.powi(self.step as i32);
        let bias_correction2 = 1.0 - self.beta2.powi(self.step as i32);
        let step_size = self.learning_rate / bias_correction1;
        tch::no_grad(|| {
            for (i, g) in grads.iter().enumerate() {
                if !g.defined() {
                    continue;
                }
                let m = &self.exp_avg[i] * self.beta1 + g * (1.0 - self.beta1);
                let v = &self.exp_avg_sq[i] * self.beta2 + g * g * (1.0 - self.beta2);
                let denom = v.sqrt() / bias_correction2.sqrt() + self.eps;
                let mut p = self.params[i].shallow_clone();
                p -= &m / denom * step_size;
                self.exp_avg[i] = m;
                self.exp_avg_sq[i] = v;
            }
        });
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
}
