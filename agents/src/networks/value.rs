//! The value function V(s): its own MLP (after its own CNN for images),
//! `VarStore` and Adam optimizer.

use natgrad_envs::Rng;
use tch::nn::{self, Module};
use tch::{Device, Tensor};

use crate::cnn::{Extractor, ImageTooSmall, Input, NATURE_FEATURES, NATURE_LAYERS};
use crate::nn::{FlatMlp, Mlp, RecordedForward};
use crate::optim::Adam;

pub struct ValueFunction {
    vs: nn::VarStore,
    /// Reads image observations into features for `net`; never shared with
    /// the policy's.
    cnn: Option<Extractor>,
    net: Mlp,
    pub optimizer: Adam,
}

impl ValueFunction {
    /// A fresh value network with its Adam (learning rate, ε), over flat
    /// observations (`obs_dim`) or, through its own NatureCNN, images.
    pub fn new(
        input: impl Into<Input>,
        hidden: &[i64],
        learning_rate: f64,
        adam_eps: f64,
        device: Device,
    ) -> Result<Self, ImageTooSmall> {
        let vs = nn::VarStore::new(device);
        let input = input.into();
        let cnn = Extractor::new(&(vs.root() / "vf_cnn"), &input, &NATURE_LAYERS, NATURE_FEATURES)?;
        let width = Extractor::mlp_width(cnn.as_ref(), &input);
        let net = Mlp::new(&(vs.root() / "vf"), width, hidden, 1, 1.0);
        let optimizer = Adam::with_eps(vs.trainable_variables(), learning_rate, adam_eps);
        Ok(Self { vs, cnn, net, optimizer })
    }

    /// Whether images reach the MLP through a CNN (see [`crate::policy::Policy::has_cnn`]).
    pub fn has_cnn(&self) -> bool {
        self.cnn.is_some()
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

    pub fn network(&self) -> &Mlp {
        &self.net
    }

    /// The forward pass with every layer's input and pre-activation (K-FAC);
    /// the output is `[batch, 1]`.
    pub fn forward_recorded(&self, obs: &Tensor) -> RecordedForward {
        crate::cnn::forward_recorded(self.cnn.as_ref(), &self.net, obs)
    }

    /// V(s) for a batch `[batch, obs_dim]`: `[batch]`.
    pub fn forward(&self, obs: &Tensor) -> Tensor {
        self.net.forward(&self.mlp_input(obs)).squeeze_dim(-1)
    }

    /// What the MLP reads: the observations, or the CNN's features of them.
    fn mlp_input(&self, obs: &Tensor) -> Tensor {
        match &self.cnn {
            Some(cnn) => cnn.forward(obs),
            None => obs.shallow_clone(),
        }
    }

    /// Regresses V onto `targets` by minimising the mean squared error with
    /// Adam, `epochs` passes over minibatches of `batch_size`, shuffled with
    /// `rng`. Returns the mean loss of the last epoch. An MLP takes its
    /// hand-written gradient on a flat copy of its weights; a network with a
    /// CNN, libtorch's autograd: the same minibatches, the same Adam.
    pub fn fit(&mut self, obs: &Tensor, targets: &Tensor, epochs: usize, batch_size: usize, rng: &mut Rng) -> f64 {
        if self.cnn.is_some() {
            return minibatch_epochs(obs, targets, epochs, batch_size, rng, |obs, targets| {
                let error = self.forward(obs) - targets;
                self.optimizer.minimize(&error.square().mean(None::<tch::Kind>));
                error.detach()
            });
        }
        let mut flat = FlatMlp::of(&self.net);
        let optimizer = &mut self.optimizer;
        let loss = minibatch_epochs(obs, targets, epochs, batch_size, rng, |obs, targets| {
            let (error, grad) = flat.squared_error_gradient(obs, targets);
            optimizer.step_flat(&mut flat.params, &grad);
            error
        });
        flat.write_back(&self.net);
        loss
    }
}

/// Runs `step` on every minibatch of `batch_size` rows, `epochs` times over
/// the rows shuffled with `rng`; `step` takes its step and returns the
/// residuals. Returns the mean squared residual of the last epoch.
fn minibatch_epochs(
    obs: &Tensor,
    targets: &Tensor,
    epochs: usize,
    batch_size: usize,
    rng: &mut Rng,
    mut step: impl FnMut(&Tensor, &Tensor) -> Tensor,
) -> f64 {
    let n = obs.size()[0];
    let batch_size = (batch_size as i64).clamp(1, n.max(1));
    let mut last_epoch_loss = 0.0;
    for epoch in 0..epochs {
        // Shuffled once per epoch, so that each minibatch is a view.
        let order = Tensor::from_slice(&permutation(n as usize, rng)).to_device(obs.device());
        let (obs, targets) = (obs.index_select(0, &order), targets.index_select(0, &order));
        let (mut sum, mut batches) = (0.0, 0);
        for start in (0..n).step_by(batch_size as usize) {
            let rows = batch_size.min(n - start);
            let error = step(&obs.narrow(0, start, rows), &targets.narrow(0, start, rows));
            // Only the last epoch's loss is reported: reading it is a sync on a GPU.
            if epoch + 1 == epochs {
                sum += error.square().mean(None::<tch::Kind>).double_value(&[]);
            }
            batches += 1;
        }
        last_epoch_loss = sum / batches.max(1) as f64;
    }
    last_epoch_loss
}

/// A uniformly random permutation of 0..n (Fisher–Yates).
pub fn permutation(n: usize, rng: &mut Rng) -> Vec<i64> {
    let mut p: Vec<i64> = (0..n as i64).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.below(i as u64 + 1) as usize);
    }
    p
}

#[cfg(test)]
mod tests {
    use tch::Kind;

    use super::*;
    use crate::generator::{randn, seeded};
    use crate::natural_gradient::flat_params;

    fn value_function(hidden: &[i64], kind: Kind) -> ValueFunction {
        let mut v = seeded(7, || ValueFunction::new(3, hidden, 3e-3, 1e-5, Device::Cpu).unwrap());
        v.var_store_mut().set_kind(kind);
        // set_kind replaces the tensors: the optimizer must see the new ones.
        v.optimizer = Adam::with_eps(v.parameters(), 3e-3, 1e-5);
        v
    }

    /// The critic's fit as it was written before the flat one: an autograd
    /// graph per minibatch and Adam through `minimize`.
    fn fit_by_autograd(
        v: &mut ValueFunction,
        obs: &Tensor,
        targets: &Tensor,
        epochs: usize,
        batch: i64,
        rng: &mut Rng,
    ) {
        let n = obs.size()[0];
        for _ in 0..epochs {
            let order = Tensor::from_slice(&permutation(n as usize, rng));
            for start in (0..n).step_by(batch as usize) {
                let idx = order.narrow(0, start, batch.min(n - start));
                let loss = (v.forward(&obs.index_select(0, &idx)) - targets.index_select(0, &idx))
                    .square()
                    .mean(None::<tch::Kind>);
                v.optimizer.minimize(&loss);
            }
        }
    }

    #[test]
    fn the_flat_fit_equals_the_autograd_fit() {
        for hidden in [&[16, 8][..], &[5][..], &[][..]] {
            let obs = randn(1, &[50, 3], (Kind::Double, Device::Cpu));
            let targets = obs.sum_dim_intlist(1, false, Kind::Double).sin() * 3.0;
            let (mut flat, mut reference) =
                (value_function(hidden, Kind::Double), value_function(hidden, Kind::Double));
            let start = flat_params(&flat.parameters());
            let (mut rng_a, mut rng_b) = (Rng::seed_from_u64(3), Rng::seed_from_u64(3));
            let loss = flat.fit(&obs, &targets, 6, 16, &mut rng_a);
            fit_by_autograd(&mut reference, &obs, &targets, 6, 16, &mut rng_b);
            let (a, b) = (flat_params(&flat.parameters()), flat_params(&reference.parameters()));
            let moved = (&b - start).norm().double_value(&[]);
            assert!(moved > 1e-3, "hidden {hidden:?}: the fit must move the parameters");
            let err = (&a - &b).norm().double_value(&[]) / b.norm().double_value(&[]);
            assert!(err < 1e-12, "hidden {hidden:?}: relative difference {err}");
            assert!(flat.optimizer.exp_avg_sq.allclose(&reference.optimizer.exp_avg_sq, 1e-10, 1e-18, false));
            assert_eq!(flat.optimizer.step, reference.optimizer.step);
            assert!(loss.is_finite() && loss > 0.0);
        }
    }

    #[test]
    fn the_flat_copy_follows_the_var_store_order() {
        let v = value_function(&[6, 4], Kind::Float);
        let flat = FlatMlp::of(&v.net);
        assert!(flat.params.equal(&flat_params(&v.parameters())));
    }
}
