//! The value function V(s): its own MLP, `VarStore` and Adam optimizer.

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use crate::nn::Mlp;

#[derive(Debug)]
pub struct ValueFunction {
    vs: nn::VarStore,
    net: Mlp,
    opt: nn::Optimizer,
}

impl ValueFunction {
    pub fn new(obs_dim: usize, hidden: &[i64], learning_rate: f64, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let net = Mlp::new(&(vs.root() / "vf"), obs_dim as i64, hidden, 1, 1.0);
        let opt = nn::Adam::default().build(&vs, learning_rate).expect("Adam over a fresh VarStore");
        Self { vs, net, opt }
    }

    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// V(s) for a batch `[batch, obs_dim]`: `[batch]`.
    pub fn forward(&self, obs: &Tensor) -> Tensor {
        self.net.forward(obs).squeeze_dim(-1)
    }

    /// Regresses V onto `targets` by minimising the mean squared error with
    /// Adam, `epochs` passes over shuffled minibatches of `batch_size`.
    /// Returns the mean loss of the last epoch.
    pub fn fit(&mut self, obs: &Tensor, targets: &Tensor, epochs: usize, batch_size: usize) -> f64 {
        let n = obs.size()[0];
        let batch_size = (batch_size as i64).clamp(1, n.max(1));
        let mut last_epoch_loss = 0.0;
        for _ in 0..epochs {
            let order = Tensor::randperm(n, (Kind::Int64, obs.device()));
            let (mut sum, mut batches) = (0.0, 0);
            for start in (0..n).step_by(batch_size as usize) {
                let idx = order.narrow(0, start, batch_size.min(n - start));
                let loss = (self.forward(&obs.index_select(0, &idx)) - targets.index_select(0, &idx))
                    .square()
                    .mean(None::<Kind>);
                self.opt.backward_step(&loss);
                sum += loss.double_value(&[]);
                batches += 1;
            }
            last_epoch_loss = sum / batches.max(1) as f64;
        }
        last_epoch_loss
    }
}
