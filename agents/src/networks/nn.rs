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

/// A forward pass that keeps what K-FAC needs: every layer's input a and
/// pre-activation s = W a + b, in the graph.
pub struct RecordedForward {
    pub output: Tensor,
    /// The last hidden layer's activations (the input without hidden layers).
    pub latent: Tensor,
    pub layer_inputs: Vec<Tensor>,
    pub pre_activations: Vec<Tensor>,
}

impl Mlp {
    /// The forward pass with every layer's input and pre-activation.
    pub fn forward_recorded(&self, x: &Tensor) -> RecordedForward {
        let last = self.layers.len() - 1;
        let mut layer_inputs = Vec::with_capacity(self.layers.len());
        let mut pre_activations = Vec::with_capacity(self.layers.len());
        let mut a = x.shallow_clone();
        for (i, layer) in self.layers.iter().enumerate() {
            let s = layer.forward(&a);
            layer_inputs.push(a);
            a = if i == last { s.shallow_clone() } else { s.tanh() };
            pre_activations.push(s);
        }
        let latent = layer_inputs[last].shallow_clone();
        RecordedForward { output: a, latent, layer_inputs, pre_activations }
    }

    /// Each layer's weight `[out, in]` and bias `[out]`, in order: for code
    /// that differentiates the network by hand.
    pub fn layer_parameters(&self) -> Vec<(&Tensor, &Tensor)> {
        self.layers.iter().map(|l| (&l.ws, l.bs.as_ref().expect("every layer has a bias"))).collect()
    }

    /// Each layer's (in, out) sizes, in order.
    pub fn layer_sizes(&self) -> Vec<(i64, i64)> {
        self.layers.iter().map(|l| (l.ws.size()[1], l.ws.size()[0])).collect()
    }

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
