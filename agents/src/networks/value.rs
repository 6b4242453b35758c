//! The value function V(s): its own MLP, `VarStore` and Adam optimizer.

use natgrad_envs::Rng;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use crate::nn::{Mlp, RecordedForward};
use crate::optim::Adam;

pub struct ValueFunction {
    vs: nn::VarStore,
    net: Mlp,
    pub optimizer: Adam,
}

impl ValueFunction {
    /// A fresh value network with its Adam (learning rate, ε).
    pub fn new(obs_dim: usize, hidden: &[i64], learning_rate: f64, adam_eps: f64, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let net = Mlp::new(&(vs.root() / "vf"), obs_dim as i64, hidden, 1, 1.0);
        let optimizer = Adam::with_eps(vs.trainable_variables(), learning_rate, adam_eps);
        Self { vs, net, optimizer }
    }

    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// The trainable parameters, in a fixed order (creation order).
    pub fn parameters(&self) -> Vec<Tensor> {
        self.vs.trainable_variables()
    }

    /// The forward pass with every layer's input and pre-activation (K-FAC);
    /// the output is `[batch, 1]`.
    pub fn forward_recorded(&self, obs: &Tensor) -> RecordedForward {
        self.net.forward_recorded(obs)
    }

    /// V(s) for a batch `[batch, obs_dim]`: `[batch]`.
    pub fn forward(&self, obs: &Tensor) -> Tensor {
        self.net.forward(obs).squeeze_dim(-1)
    }

    /// Regresses V onto `targets` by minimising the mean squared error with
    /// Adam, `epochs` passes over minibatches of `batch_size`, shuffled with
    /// `rng`. Returns the mean loss of the last epoch.
    pub fn fit(&mut self, obs: &Tensor, targets: &Tensor, epochs: usize, batch_size: usize, rng: &mut Rng) -> f64 {
        let n = obs.size()[0];
        let batch_size = (batch_size as i64).clamp(1, n.max(1));
        let mut last_epoch_loss = 0.0;
        for _ in 0..epochs {
            let order = Tensor::from_slice(&permutation(n as usize, rng)).to_device(obs.device());
            let (mut sum, mut batches) = (0.0, 0);
            for start in (0..n).step_by(batch_size as usize) {
                let idx = order.narrow(0, start, batch_size.min(n - start));
                let loss = (self.forward(&obs.index_select(0, &idx)) - targets.index_select(0, &idx))
                    .square()
                    .mean(None::<Kind>);
                self.optimizer.minimize(&loss);
                sum += loss.double_value(&[]);
                batches += 1;
            }
            last_epoch_loss = sum / batches.max(1) as f64;
        }
        last_epoch_loss
    }
}

/// A uniformly random permutation of 0..n (Fisher–Yates).
pub fn permutation(n: usize, rng: &mut Rng) -> Vec<i64> {
    let mut p: Vec<i64> = (0..n as i64).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.below(i as u64 + 1) as usize);
    }
    p
}
