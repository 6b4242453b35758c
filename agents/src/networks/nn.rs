//! Multi-layer perceptrons with orthogonal initialisation.

use tch::Tensor;
use tch::nn::{self, Init, LinearConfig, Module};

/// A tanh MLP: `input -> hidden[0] -> ... -> output`, no activation on the
/// output. Weights are orthogonal (gain √2 inside, `output_gain` on the last
/// layer) and biases zero, as in the reference PPO/TRPO implementations
/// (Engstrom et al., 2020, "Implementation matters in deep policy gradients").
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<nn::Linear>,
}

impl Mlp {
    pub fn new(path: &nn::Path, input: i64, hidden: &[i64], output: i64, output_gain: f64) -> Self {
        let sizes: Vec<i64> = std::iter::once(input).chain(hidden.iter().copied()).chain([output]).collect();
        let last = sizes.len() - 2;
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let gain = if i == last { output_gain } else { 2f64.sqrt() };
                let config =
                    LinearConfig { ws_init: Init::Orthogonal { gain }, bs_init: Some(Init::Const(0.0)), bias: true };
                nn::linear(path / format!("layer{i}"), w[0], w[1], config)
            })
            .collect();
        Self { layers }
    }
}

impl Mlp {
    /// The output and the last hidden layer's activations (the input itself
    /// for an MLP without hidden layers): gSDE's features.
    pub fn forward_with_latent(&self, x: &Tensor) -> (Tensor, Tensor) {
        let (last, hidden) = self.layers.split_last().expect("an MLP has at least one layer");
        let h = hidden.iter().fold(x.shallow_clone(), |h, layer| layer.forward(&h).tanh());
        (last.forward(&h), h)
    }

    /// Width of the last hidden layer (of the input without hidden layers).
    pub fn latent_dim(&self) -> i64 {
        let last = self.layers.last().expect("an MLP has at least one layer");
        last.ws.size()[1]
    }
}

impl Module for Mlp {
    fn forward(&self, x: &Tensor) -> Tensor {
        self.forward_with_latent(x).0
    }
}
