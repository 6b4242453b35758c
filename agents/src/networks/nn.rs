//! Multi-layer perceptrons with orthogonal initialisation.

use tch::nn::{self, Init, LinearConfig, Module};

use crate::networks::simd::widest_simd;
use tch::{Device, Kind, Tensor};

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
/// pre-activation s = W a + b, in the graph, in the order of the
/// parameters. A dense layer's are `[batch, in]` and `[batch, out]`; a
/// convolution's (from [`crate::cnn::forward_recorded`]) its patches
/// `[batch, positions, in·k·k]` and `[batch, positions, out]`.
pub struct RecordedForward {
    pub output: Tensor,
    /// The MLP's last hidden layer's activations (its input without hidden layers).
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

/// tanh for float32 as a rational function (Eigen's `generic_fast_tanh_float`,
/// within a few ulp of the true value), which the compiler can vectorise over
/// a layer's outputs; libm's `tanhf` is a call per element.
#[inline(always)]
pub(crate) fn fast_tanh(x: f32) -> f32 {
    // Beyond this magnitude tanh rounds to ±1 in float32.
    let x = x.clamp(-7.905_311, 7.905_311);
    let x2 = x * x;
    let mut p = x2 * -2.760_768_5e-16 + 2.000_188e-13;
    p = x2 * p + -8.604_672e-11;
    p = x2 * p + 5.122_297e-8;
    p = x2 * p + 1.485_722_4e-5;
    p = x2 * p + 6.372_619_3e-4;
    p = x2 * p + 4.893_524_6e-3;
    p *= x;
    let mut q = x2 * 1.198_258_4e-6 + 1.185_347e-4;
    q = x2 * q + 2.268_434_6e-3;
    q = x2 * q + 4.893_525e-3;
    p / q
}

/// tanh of a fresh tensor, in place: [`fast_tanh`] over its memory for a
/// contiguous float32 tensor on the CPU, libtorch's `tanh` otherwise. On
/// this build libtorch's float32 tanh takes 84 µs for 512×64 values (one
/// thread), more than the matrix product before it; the rational one a
/// tenth of that. For tensors outside any autograd graph only.
pub(crate) fn tanh_in_place(t: Tensor) -> Tensor {
    if t.device() != Device::Cpu || t.kind() != Kind::Float || !t.is_contiguous() || t.requires_grad() {
        return t.tanh();
    }
    // SAFETY: `t` is a contiguous float32 CPU tensor of `numel` elements that
    // the caller owns (fresh from an operation), and nothing else reads it
    // while the slice lives.
    let values = unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, t.numel()) };
    tanh_slice(values);
    t
}

widest_simd! {
    /// [`fast_tanh`] of every value, in place.
    pub(crate) fn tanh_slice(values: &mut [f32]) {
        values.iter_mut().for_each(|v| *v = fast_tanh(*v));
    }
}

/// gradᵀ · input, `[out, in]`: a layer's weight gradient summed over the
/// batch. Multiplied the other way round and transposed when the layer has
/// fewer inputs than outputs: libtorch's CPU kernels take several times as
/// long for a product whose result has few columns (78 µs for [64×1024] ·
/// [1024×4] against 13 µs for [4×1024] · [1024×64], one thread).
pub fn weight_gradient(grad: &Tensor, input: &Tensor) -> Tensor {
    if input.size()[1] < grad.size()[1] { input.tr().mm(grad).tr().contiguous() } else { grad.tr().mm(input) }
}

/// A copy of an MLP's parameters as one flat vector, in the order of its
/// `VarStore` (per layer bias, then weight), with each layer's views into
/// it; the forward and backward passes of a regression written out. The
/// critic trains on this copy: a minibatch step is then about 25 libtorch
/// operations with no autograd graph, and Adam one fused pass over the
/// vector, instead of a recorded graph and a step per parameter tensor.
pub struct FlatMlp {
    pub params: Tensor,
    /// Per layer: bias `[out]` and weight `[out, in]`, views into `params`.
    layers: Vec<(Tensor, Tensor)>,
}

impl FlatMlp {
    pub fn of(mlp: &Mlp) -> Self {
        let pieces: Vec<Tensor> = mlp
            .layer_parameters()
            .into_iter()
            .flat_map(|(w, b)| [b.detach().reshape([-1]), w.detach().reshape([-1])])
            .collect();
        let params = Tensor::cat(&pieces, 0);
        let mut offset = 0;
        let layers = mlp
            .layer_parameters()
            .into_iter()
            .map(|(w, _)| {
                let (out, inputs) = (w.size()[0], w.size()[1]);
                let b = params.narrow(0, offset, out);
                let w = params.narrow(0, offset + out, out * inputs).view([out, inputs]);
                offset += out * (inputs + 1);
                (b, w)
            })
            .collect();
        Self { params, layers }
    }

    /// Copies the flat parameters back into the MLP's own tensors.
    pub fn write_back(&self, mlp: &Mlp) {
        tch::no_grad(|| {
            for ((w, b), (fb, fw)) in mlp.layer_parameters().into_iter().zip(&self.layers) {
                w.shallow_clone().copy_(fw);
                b.shallow_clone().copy_(fb);
            }
        })
    }

    /// The residuals of the single output against `targets`, `[batch]`,
    /// and the gradient of their mean square as one flat vector in `params`'
    /// order.
    pub fn squared_error_gradient(&self, x: &Tensor, targets: &Tensor) -> (Tensor, Tensor) {
        tch::no_grad(|| {
            let last = self.layers.len() - 1;
            let mut inputs = Vec::with_capacity(self.layers.len());
            let mut h = x.shallow_clone();
            for (l, (b, w)) in self.layers.iter().enumerate() {
                let s = b.addmm(&h, &w.tr());
                inputs.push(h);
                h = if l == last { s } else { tanh_in_place(s) };
            }
            let error = h.squeeze_dim(-1) - targets;
            let mut grad = (&error * (2.0 / x.size()[0] as f64)).unsqueeze(-1);
            let mut parts = Vec::with_capacity(2 * self.layers.len());
            for (l, (_, w)) in self.layers.iter().enumerate().rev() {
                parts.push(weight_gradient(&grad, &inputs[l]).reshape([-1]));
                parts.push(grad.sum_dim_intlist(0, false, grad.kind()));
                if l > 0 {
                    grad = Tensor::tanh_backward(&grad.mm(w), &inputs[l]);
                }
            }
            parts.reverse();
            (error, Tensor::cat(&parts, 0))
        })
    }
}
