//! Image observations and the convolutional network that reads them:
//! NatureCNN (Mnih et al., 2015, "Human-level control through deep
//! reinforcement learning", Nature), as Stable-Baselines3's `NatureCNN`:
//! 32 filters 8×8 stride 4, 64 4×4 stride 2, 64 3×3 stride 1, each with a
//! ReLU, then a linear layer to 512 features with a ReLU. Weights are
//! orthogonal with gain √2, biases zero (SB3's `ortho_init`). Pixels are
//! scaled to [0, 1] here; they never pass through running normalisation.

use natgrad_envs::Space;
use tch::Tensor;
use tch::nn::{self, ConvConfig, Init, LinearConfig, Module};

use crate::nn::{Mlp, RecordedForward};

/// What the networks read: a flat vector, an image, or a `Dict` of both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// `dim` values (encoded and, where enabled, normalised).
    Flat(usize),
    /// An image, read by a CNN.
    Image(ImageShape),
    /// A `Dict` holding images: its encoded columns in key order, each image
    /// read by a CNN of its own and the rest passed on as they are, all
    /// concatenated (Stable-Baselines3's `CombinedExtractor`).
    Combined(Vec<Column>),
}

/// One key's stretch of a `Dict` observation's encoded columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// `dim` values that go on as they are.
    Flat(usize),
    /// An image, flattened in the environment's layout.
    Image(ImageShape),
}

impl Column {
    /// Encoded values it takes.
    pub fn width(&self) -> usize {
        match self {
            Column::Flat(dim) => *dim,
            Column::Image(shape) => shape.values(),
        }
    }
}

impl Input {
    /// Whether a CNN reads (part of) the observations.
    pub fn has_image(&self) -> bool {
        match self {
            Input::Flat(_) => false,
            Input::Image(_) => true,
            Input::Combined(columns) => columns.iter().any(|c| matches!(c, Column::Image(_))),
        }
    }
}

impl From<usize> for Input {
    fn from(dim: usize) -> Self {
        Input::Flat(dim)
    }
}

/// An image's layout as the environment gives it, flattened row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// Height × width × channels (Gymnasium's usual HWC); otherwise CHW.
    pub channels_last: bool,
}

impl ImageShape {
    /// The image a space holds, by Stable-Baselines3's `is_image_space`: a
    /// uint8 `Box` of three dimensions with bounds 0 and 255. Channels come
    /// first when the first dimension is the smallest
    /// (`is_image_space_channels_first`), last otherwise.
    pub fn of(space: &Space) -> Option<Self> {
        let Space::Box(b) = space else { return None };
        let bounds = b.low.iter().all(|v| *v == 0.0) && b.high.iter().all(|v| *v == 255.0);
        let &[a, h, c] = b.shape.as_slice() else { return None };
        if !b.uint8 || !bounds {
            return None;
        }
        // numpy's argmin: the first of equal smallest dimensions.
        let channels_first = a <= h && a <= c;
        Some(if channels_first {
            Self { channels: a, height: h, width: c, channels_last: false }
        } else {
            Self { channels: c, height: a, width: h, channels_last: true }
        })
    }

    pub fn values(&self) -> usize {
        self.channels * self.height * self.width
    }
}

/// NatureCNN's layers: (filters, kernel, stride).
pub const NATURE_LAYERS: [(i64, i64, i64); 3] = [(32, 8, 4), (64, 4, 2), (64, 3, 1)];
/// NatureCNN's features.
pub const NATURE_FEATURES: i64 = 512;

/// Overwrites `weight` with an orthogonal matrix times `gain`, over its
/// first dimension against the others (PyTorch's `orthogonal_`; tch's
/// orthogonal initialiser takes two dimensions only).
fn orthogonal(weight: &Tensor, gain: f64) {
    let shape = weight.size();
    let rows = shape[0];
    let cols = weight.numel() as i64 / rows;
    let a = Tensor::randn([rows.max(cols), rows.min(cols)], (weight.kind(), weight.device()));
    let (q, r) = Tensor::linalg_qr(&a, "reduced");
    // Signs from R's diagonal make the draw uniform over orthogonal matrices.
    let q = q * r.diagonal(0, 0, 1).sign().unsqueeze(0);
    let q = if rows < cols { q.tr() } else { q };
    tch::no_grad(|| weight.shallow_clone().copy_(&(q.reshape(&shape) * gain)));
}

/// Whether an image of `height` × `width` leaves NatureCNN's kernels
/// something to read.
pub fn nature_fits(height: usize, width: usize) -> bool {
    let mut size = (height as i64, width as i64);
    for (_, kernel, stride) in NATURE_LAYERS {
        if size.0 < kernel || size.1 < kernel {
            return false;
        }
        size = ((size.0 - kernel) / stride + 1, (size.1 - kernel) / stride + 1);
    }
    true
}

/// An image too small for a CNN's kernels.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "the {height}x{width} image is too small for NatureCNN's kernels (8x8 stride 4, 4x4 stride 2, 3x3 stride 1 need at least 36x36); enlarge it (gymnasium.wrappers.ResizeObservation) or flatten it into the MLP (policy = \"mlp\")"
)]
pub struct ImageTooSmall {
    pub height: usize,
    pub width: usize,
}

/// A convolutional feature extractor over images of one shape.
#[derive(Debug)]
pub struct Cnn {
    shape: ImageShape,
    convs: Vec<nn::Conv2D>,
    /// Each convolution's stride (tch keeps its own private).
    strides: Vec<i64>,
    linear: nn::Linear,
}

impl Cnn {
    /// NatureCNN for `shape`.
    pub fn nature(path: &nn::Path, shape: ImageShape) -> Result<Self, ImageTooSmall> {
        Self::new(path, shape, &NATURE_LAYERS, NATURE_FEATURES)
    }

    /// A CNN of `layers` (filters, kernel, stride), each with a ReLU, then
    /// `features` outputs with a ReLU.
    pub fn new(
        path: &nn::Path,
        shape: ImageShape,
        layers: &[(i64, i64, i64)],
        features: i64,
    ) -> Result<Self, ImageTooSmall> {
        let too_small = ImageTooSmall { height: shape.height, width: shape.width };
        let (mut h, mut w, mut channels) = (shape.height as i64, shape.width as i64, shape.channels as i64);
        let (mut convs, mut strides) = (vec![], vec![]);
        for (i, (filters, kernel, stride)) in layers.iter().enumerate() {
            if h < *kernel || w < *kernel {
                return Err(too_small);
            }
            let config = ConvConfig { stride: *stride, bs_init: Init::Const(0.0), ..Default::default() };
            let conv = nn::conv2d(path / format!("conv{i}"), channels, *filters, *kernel, config);
            orthogonal(&conv.ws, 2f64.sqrt());
            convs.push(conv);
            strides.push(*stride);
            (h, w, channels) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1, *filters);
        }
        let config = LinearConfig {
            ws_init: Init::Orthogonal { gain: 2f64.sqrt() },
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        let linear = nn::linear(path / "features", channels * h * w, features, config);
        Ok(Self { shape, convs, strides, linear })
    }

    pub fn features(&self) -> i64 {
        self.linear.ws.size()[0]
    }

    /// Features `[batch, features]` of flat images `[batch, values]` in the
    /// environment's layout, pixels 0 to 255.
    pub fn forward(&self, obs: &Tensor) -> Tensor {
        let mut x = self.images(obs);
        for conv in &self.convs {
            x = conv.forward(&x).relu();
        }
        self.linear.forward(&x.flatten(1, -1)).relu()
    }

    /// Flat images `[batch, values]` as `[batch, channels, height, width]`, scaled to [0, 1].
    fn images(&self, obs: &Tensor) -> Tensor {
        let ImageShape { channels, height, width, channels_last } = self.shape;
        let (c, h, w) = (channels as i64, height as i64, width as i64);
        let images =
            if channels_last { obs.view([-1, h, w, c]).permute([0, 3, 1, 2]) } else { obs.view([-1, c, h, w]) };
        images / 255.0
    }

    /// [`Cnn::forward`] that also records each layer's input and
    /// pre-activation into `layers`, for the per-sample Fishers. A
    /// convolution is recorded as what it is, the product of its weight
    /// `[out, in·k·k]` with every patch of its input (Grosse and Martens,
    /// 2016, "A Kronecker-factored approximate Fisher matrix for convolution
    /// layers"): patches `[batch, positions, in·k·k]` in the order of the
    /// weight's flattening, pre-activations `[batch, positions, out]`. The
    /// features layer is recorded as a dense one.
    pub fn forward_recorded(&self, obs: &Tensor, layers: &mut RecordedLayers) -> Tensor {
        let mut x = self.images(obs);
        for (conv, stride) in self.convs.iter().zip(&self.strides) {
            let (batch, out) = (x.size()[0], conv.ws.size()[0]);
            let kernel = conv.ws.size()[2];
            let (height, width) = ((x.size()[2] - kernel) / stride + 1, (x.size()[3] - kernel) / stride + 1);
            let patches = x.im2col([kernel, kernel], [1, 1], [0, 0], [*stride, *stride]).transpose(1, 2);
            let bias = conv.bs.as_ref().expect("every convolution has a bias");
            let s = patches.matmul(&conv.ws.view([out, -1]).tr()) + bias;
            x = s.relu().transpose(1, 2).reshape([batch, out, height, width]);
            layers.inputs.push(patches);
            layers.pre_activations.push(s);
        }
        let flat = x.flatten(1, -1);
        let s = self.linear.forward(&flat);
        layers.inputs.push(flat);
        layers.pre_activations.push(s.shallow_clone());
        s.relu()
    }
}

/// What stands between the observations and the MLP where images come in:
/// one CNN, or, for a `Dict`, a CNN per image key beside the other keys.
#[derive(Debug)]
pub enum Extractor {
    Image(Cnn),
    Combined(Vec<(Column, Option<Cnn>)>),
}

impl Extractor {
    /// The extractor `input` needs, under `path` (CNN i of a `Dict` under
    /// `path_i`), each CNN of `layers` and `features`; `None` for flat input.
    pub fn new(
        path: &nn::Path,
        input: &Input,
        layers: &[(i64, i64, i64)],
        features: i64,
    ) -> Result<Option<Self>, ImageTooSmall> {
        Ok(match input {
            Input::Flat(_) => None,
            Input::Image(shape) => Some(Extractor::Image(Cnn::new(path, *shape, layers, features)?)),
            Input::Combined(columns) => {
                let mut parts = vec![];
                for (i, column) in columns.iter().enumerate() {
                    let cnn = match column {
                        Column::Flat(_) => None,
                        Column::Image(shape) => Some(Cnn::new(&(path / i), *shape, layers, features)?),
                    };
                    parts.push((column.clone(), cnn));
                }
                Some(Extractor::Combined(parts))
            }
        })
    }

    /// The MLP's input width behind `extractor`, built for `input`.
    pub fn mlp_width(extractor: Option<&Extractor>, input: &Input) -> i64 {
        match (extractor, input) {
            (Some(extractor), _) => extractor.features(),
            (None, Input::Flat(dim)) => *dim as i64,
            (None, _) => unreachable!("images always get an extractor"),
        }
    }

    /// Features per observation: the MLP's input width.
    pub fn features(&self) -> i64 {
        match self {
            Extractor::Image(cnn) => cnn.features(),
            Extractor::Combined(parts) => {
                parts.iter().map(|(column, cnn)| cnn.as_ref().map_or(column.width() as i64, Cnn::features)).sum()
            }
        }
    }

    /// Features `[batch, features]` of encoded observations `[batch, values]`.
    pub fn forward(&self, obs: &Tensor) -> Tensor {
        self.forward_with(obs, &mut |cnn, images| cnn.forward(images))
    }

    /// [`Extractor::forward`] recording every CNN's layers, key by key (the
    /// order of their parameters); see [`Cnn::forward_recorded`].
    pub fn forward_recorded(&self, obs: &Tensor, layers: &mut RecordedLayers) -> Tensor {
        self.forward_with(obs, &mut |cnn, images| cnn.forward_recorded(images, layers))
    }

    fn forward_with(&self, obs: &Tensor, cnn_forward: &mut dyn FnMut(&Cnn, &Tensor) -> Tensor) -> Tensor {
        match self {
            Extractor::Image(cnn) => cnn_forward(cnn, obs),
            Extractor::Combined(parts) => {
                let mut at = 0;
                let mut pieces = vec![];
                for (column, cnn) in parts {
                    let width = column.width() as i64;
                    let values = obs.narrow(1, at, width);
                    pieces.push(cnn.as_ref().map_or(values.shallow_clone(), |cnn| cnn_forward(cnn, &values)));
                    at += width;
                }
                Tensor::cat(&pieces, 1)
            }
        }
    }
}

/// What a recorded forward pass keeps per layer, in the order of the
/// parameters: its input `[batch, in]`, or a convolution's patches `[batch,
/// positions, in·k·k]`, and its pre-activation `[batch, out]` or `[batch,
/// positions, out]`, in the graph.
#[derive(Default)]
pub struct RecordedLayers {
    pub inputs: Vec<Tensor>,
    pub pre_activations: Vec<Tensor>,
}

/// The forward pass of `mlp` behind `extractor` (none for flat
/// observations), with the extractor's layers recorded in front of the MLP's.
pub fn forward_recorded(extractor: Option<&Extractor>, mlp: &Mlp, obs: &Tensor) -> RecordedForward {
    let Some(extractor) = extractor else { return mlp.forward_recorded(obs) };
    let mut layers = RecordedLayers::default();
    let features = extractor.forward_recorded(obs, &mut layers);
    let mut net = mlp.forward_recorded(&features);
    layers.inputs.append(&mut net.layer_inputs);
    layers.pre_activations.append(&mut net.pre_activations);
    RecordedForward { layer_inputs: layers.inputs, pre_activations: layers.pre_activations, ..net }
}

#[cfg(test)]
mod tests {
    use natgrad_envs::BoxSpace;
    use tch::{Device, Kind};

    use super::*;
    use crate::generator::{rand, seeded};

    fn image_space(shape: &[usize], uint8: bool, high: f32) -> Space {
        let n = shape.iter().product();
        Space::Box(BoxSpace { low: vec![0.0; n], high: vec![high; n], shape: shape.to_vec(), uint8 })
    }

    #[test]
    fn images_are_told_apart_as_stable_baselines3_does() {
        let hwc = ImageShape::of(&image_space(&[84, 84, 3], true, 255.0)).unwrap();
        assert_eq!(hwc, ImageShape { channels: 3, height: 84, width: 84, channels_last: true });
        let chw = ImageShape::of(&image_space(&[4, 84, 84], true, 255.0)).unwrap();
        assert_eq!(chw, ImageShape { channels: 4, height: 84, width: 84, channels_last: false });
        assert_eq!(ImageShape::of(&image_space(&[84, 84, 3], false, 255.0)), None, "float images are not images");
        assert_eq!(ImageShape::of(&image_space(&[84, 84, 3], true, 1.0)), None, "bounds other than 0..255");
        assert_eq!(ImageShape::of(&image_space(&[84, 84], true, 255.0)), None, "two dimensions");
        assert_eq!(ImageShape::of(&Space::Discrete { n: 3 }), None);
    }

    /// The same picture, channels last or first, gives the same features;
    /// pixels are scaled by 1/255 before the first convolution.
    #[test]
    fn channel_order_and_scaling_do_not_change_the_features() {
        let vs = nn::VarStore::new(Device::Cpu);
        let last = ImageShape { channels: 2, height: 36, width: 40, channels_last: true };
        let first = ImageShape { channels_last: false, ..last };
        let (a, b) = seeded(0, || {
            (Cnn::nature(&(vs.root() / "a"), last).unwrap(), Cnn::nature(&(vs.root() / "b"), first).unwrap())
        });
        tch::no_grad(|| {
            for (x, y) in a.convs.iter().zip(&b.convs) {
                let (mut wx, mut bx) = (x.ws.shallow_clone(), x.bs.as_ref().unwrap().shallow_clone());
                wx.copy_(&y.ws);
                bx.copy_(y.bs.as_ref().unwrap());
            }
            let (mut w, mut bias) = (a.linear.ws.shallow_clone(), a.linear.bs.as_ref().unwrap().shallow_clone());
            w.copy_(&b.linear.ws);
            bias.copy_(b.linear.bs.as_ref().unwrap());
        });
        let hwc = (rand(1, &[3, 36, 40, 2], (Kind::Float, Device::Cpu)) * 255.0).floor();
        let chw = hwc.permute([0, 3, 1, 2]).contiguous();
        let (fa, fb) = (a.forward(&hwc.view([3, -1])), b.forward(&chw.view([3, -1])));
        assert_eq!(fa.size(), [3, 512]);
        // Orthogonal with gain √2: W Wᵀ = 2 I over the rows of [filters, inputs].
        let w = a.convs[0].ws.view([32, -1]);
        let eye = Tensor::eye(32, (Kind::Float, Device::Cpu)) * 2.0;
        assert!(w.mm(&w.tr()).allclose(&eye, 1e-4, 1e-4, false));
        assert!((&fa - &fb).abs().max().double_value(&[]) < 1e-5);
        assert!(fa.abs().max().double_value(&[]) > 0.0);
        // Scaling: a first layer fed 255 everywhere sees what 1.0 everywhere gives.
        let ones = Tensor::ones([1, 36 * 40 * 2], (Kind::Float, Device::Cpu));
        let by_hand = a.convs[0].forward(&ones.view([1, 36, 40, 2]).permute([0, 3, 1, 2])).relu();
        let images = (ones * 255.0).view([1, 36, 40, 2]).permute([0, 3, 1, 2]) / 255.0;
        assert!(a.convs[0].forward(&images).relu().allclose(&by_hand, 1e-6, 1e-6, false));
    }

    #[test]
    fn an_image_too_small_for_the_kernels_is_refused_with_the_way_out() {
        let vs = nn::VarStore::new(Device::Cpu);
        let fits = ImageShape { channels: 3, height: 36, width: 36, channels_last: true };
        assert!(seeded(0, || Cnn::nature(&vs.root(), fits)).is_ok());
        let minigrid = ImageShape { channels: 3, height: 7, width: 7, channels_last: true };
        let e = Cnn::nature(&vs.root(), minigrid).unwrap_err();
        assert!(e.to_string().starts_with("the 7x7 image is too small") && e.to_string().contains("policy = \"mlp\""));
        let e = Cnn::nature(&vs.root(), ImageShape { height: 35, ..minigrid }).unwrap_err();
        assert_eq!((e.height, e.width), (35, 7));
        assert!(nature_fits(36, 36) && nature_fits(84, 84) && !nature_fits(35, 36) && !nature_fits(36, 35));
    }

    /// A Dict's columns: the flat keys pass through unchanged beside the
    /// features each image's own CNN gives of its stretch alone.
    #[test]
    fn a_combined_extractor_reads_each_image_with_its_own_cnn_and_passes_the_rest_on() {
        let vs = nn::VarStore::new(Device::Cpu);
        let shape = ImageShape { channels: 1, height: 6, width: 6, channels_last: true };
        let input = Input::Combined(vec![Column::Flat(2), Column::Image(shape), Column::Flat(3)]);
        let layers = [(2, 3, 2)];
        let extractor = seeded(0, || Extractor::new(&vs.root(), &input, &layers, 4).unwrap().unwrap());
        assert_eq!(extractor.features(), 2 + 4 + 3);
        let obs = rand(2, &[5, 2 + 36 + 3], (Kind::Float, Device::Cpu)) * 255.0;
        let features = extractor.forward(&obs);
        assert_eq!(features.size(), [5, 9]);
        assert!(features.narrow(1, 0, 2).equal(&obs.narrow(1, 0, 2)));
        assert!(features.narrow(1, 6, 3).equal(&obs.narrow(1, 38, 3)));
        let Extractor::Combined(parts) = &extractor else { panic!("a combined extractor") };
        let image_features = parts[1].1.as_ref().unwrap().forward(&obs.narrow(1, 2, 36));
        assert!(features.narrow(1, 2, 4).equal(&image_features));
        assert!(input.has_image() && !Input::Flat(3).has_image());
    }
}
