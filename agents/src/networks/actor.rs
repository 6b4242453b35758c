//! Acting during rollouts: for each batch of observations, actions, their
//! log-probabilities and the values. Two implementations give the same
//! results: one through libtorch (any device), and one in plain Rust over a
//! copy of the weights, for the CPU, where libtorch's per-operation overhead
//! (about 25 small operations per step at a batch of 2) dominates the time.

use natgrad_envs::Rng;
use tch::{Device, Kind, Tensor};

use crate::distributions::sample_index;
use crate::networks::simd::widest_simd;
use crate::nn::fast_tanh;
use crate::policy::{ActionKind, Policy, SDE_EPSILON};
use crate::value::ValueFunction;

/// ln(2π)
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Decisions, row after row: what [`Actor::act`] appends to (the rollout's
/// own buffers, so that a step allocates nothing).
#[derive(Debug, Default)]
pub struct Decisions {
    /// Discrete: one index per row as f32 (exact); continuous: `dim` values per row.
    pub actions: Vec<f32>,
    pub log_probs: Vec<f32>,
    pub values: Vec<f32>,
}

/// Chooses actions for batches of (already normalised) observations.
pub trait Actor {
    /// gSDE: draws a new exploration matrix for each of `n_envs` copies,
    /// used by every [`Actor::act`] until the next call. Other policies
    /// draw nothing.
    fn reset_noise(&mut self, n_envs: usize, rng: &mut Rng);
    /// One decision per row of `obs`, appended to `out`; with gSDE, row i
    /// uses copy i's matrix.
    fn act(&mut self, obs: &[f32], rng: &mut Rng, out: &mut Decisions);
    /// V(s) alone (for bootstrapping), drawing no random numbers.
    fn values(&self, obs: &[f32]) -> Vec<f32>;
}

fn to_f32(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.to_kind(Kind::Float).to_device(Device::Cpu).reshape([-1])).expect("a float tensor")
}

/// gSDE's exploration matrices ε ~ N(0, std²), `[n_envs, latent, dim]`
/// row-major, from standard normals of `rng` (so that both actors, and a
/// resumed run, draw the same ones). `std` is `[latent, dim]`.
fn sample_exploration(std: &[f32], n_envs: usize, rng: &mut Rng) -> Vec<f32> {
    (0..n_envs).flat_map(|_| std.iter()).map(|s| rng.normal() as f32 * s).collect()
}

/// Acting through libtorch: works on every device.
pub struct TorchActor<'a> {
    policy: &'a Policy,
    value: &'a ValueFunction,
    obs_dim: usize,
    /// gSDE's exploration matrices `[n_envs, latent, dim]`.
    exploration: Option<Tensor>,
}

impl<'a> TorchActor<'a> {
    pub fn new(policy: &'a Policy, value: &'a ValueFunction, obs_dim: usize) -> Self {
        Self { policy, value, obs_dim, exploration: None }
    }
}

impl Actor for TorchActor<'_> {
    fn reset_noise(&mut self, n_envs: usize, rng: &mut Rng) {
        let Some(std) = tch::no_grad(|| self.policy.sde_std()) else { return };
        let shape = [n_envs as i64, std.size()[0], std.size()[1]];
        let matrices = sample_exploration(&to_f32(&std), n_envs, rng);
        self.exploration =
            Some(Tensor::from_slice(&matrices).view(shape).to_device(self.policy.device()).to_kind(self.policy.kind()));
    }

    fn act(&mut self, obs: &[f32], rng: &mut Rng, out: &mut Decisions) {
        let o = Tensor::from_slice(obs)
            .view([-1, self.obs_dim as i64])
            .to_device(self.policy.device())
            .to_kind(self.policy.kind());
        tch::no_grad(|| {
            let (dist, features) = self.policy.dist_and_features(&o);
            let a = match &self.exploration {
                // gSDE: the noise is the features times this copy's matrix.
                Some(e) => dist.mode() + features.unsqueeze(1).bmm(e).squeeze_dim(1),
                None => dist.sample(rng),
            };
            out.log_probs.extend(to_f32(&dist.log_prob(&a)));
            out.actions.extend(to_f32(&a));
            out.values.extend(to_f32(&self.value.forward(&o)));
        })
    }

    fn values(&self, obs: &[f32]) -> Vec<f32> {
        let o = Tensor::from_slice(obs)
            .view([-1, self.obs_dim as i64])
            .to_device(self.policy.device())
            .to_kind(self.policy.kind());
        tch::no_grad(|| to_f32(&self.value.forward(&o)))
    }
}

/// A dense layer's weights, transposed to `[in][out]` so that the forward
/// pass accumulates whole output rows (y += x_i · W_i), which vectorises;
/// a dot product per output would not (float sums keep their order).
struct Dense {
    weight_t: Vec<f32>,
    bias: Vec<f32>,
}

impl Dense {
    fn new(weight: &Tensor, bias: &Tensor) -> Self {
        Self { weight_t: to_f32(&weight.tr().contiguous()), bias: to_f32(bias) }
    }

    /// y = W x + b for each row of `x`, then tanh unless `last`, into `y`
    /// (its old contents replaced).
    fn forward(&self, x: &[f32], last: bool, y: &mut Vec<f32>) {
        dense_forward(&self.weight_t, &self.bias, x, last, y)
    }
}

widest_simd! {
    /// [`Dense::forward`] over its weights `[in][out]` and bias.
    fn dense_forward(weight_t: &[f32], bias: &[f32], x: &[f32], last: bool, y: &mut Vec<f32>) {
        let o_n = bias.len();
        let i_n = weight_t.len() / o_n;
        y.clear();
        for row in x.chunks(i_n) {
            let start = y.len();
            y.extend_from_slice(bias);
            let out = &mut y[start..];
            for (xi, w) in row.iter().zip(weight_t.chunks(o_n)) {
                for (o, wo) in out.iter_mut().zip(w) {
                    *o += xi * wo;
                }
            }
            if !last {
                out.iter_mut().for_each(|v| *v = fast_tanh(*v));
            }
        }
    }
}

fn mlp_of(vs: &tch::nn::VarStore, prefix: &str) -> Vec<Dense> {
    let vars = vs.variables();
    (0..)
        .map_while(|i| {
            let weight = vars.get(&format!("{prefix}.layer{i}.weight"))?;
            let bias = vars.get(&format!("{prefix}.layer{i}.bias"))?;
            Some(Dense::new(weight, bias))
        })
        .collect()
}

/// The MLP's output for the rows of `x`, in a new vector.
fn run_mlp(layers: &[Dense], x: &[f32]) -> Vec<f32> {
    let mut outputs = vec![vec![]; layers.len()];
    run_mlp_into(layers, x, &mut outputs);
    outputs.pop().expect("an MLP has at least one layer")
}

/// Every layer's output for the rows of `x`, layer l's into `outputs[l]`,
/// which keep their memory from one call to the next.
fn run_mlp_into(layers: &[Dense], x: &[f32], outputs: &mut [Vec<f32>]) {
    let last = layers.len() - 1;
    for (l, layer) in layers.iter().enumerate() {
        let (done, rest) = outputs.split_at_mut(l);
        let input = done.last().map_or(x, Vec::as_slice);
        layer.forward(input, l == last, &mut rest[0]);
    }
}

/// Acting in plain Rust over a copy of the CPU weights, taken when built:
/// build one per rollout (the weights do not change during it).
pub struct CpuActor {
    policy: Vec<Dense>,
    value: Vec<Dense>,
    kind: ActionKind,
    log_std: Vec<f32>,
    /// gSDE: the standard deviations `[latent, dim]` and the current
    /// exploration matrices `[n_envs, latent, dim]`.
    sde_std: Option<Vec<f32>>,
    exploration: Vec<f32>,
    /// Each layer's outputs from the last step, reused by the next.
    policy_outputs: Vec<Vec<f32>>,
    value_outputs: Vec<Vec<f32>>,
    /// A categorical row's probabilities.
    probs: Vec<f64>,
}

impl CpuActor {
    /// `None` unless the networks are float32 MLPs on the CPU.
    pub fn new(policy: &Policy, value: &ValueFunction) -> Option<Self> {
        if policy.device() != Device::Cpu || policy.kind() != Kind::Float || policy.has_cnn() || value.has_cnn() {
            return None;
        }
        let log_std = policy.var_store().variables().get("log_std").map(to_f32).unwrap_or_default();
        let (policy_layers, value_layers) = (mlp_of(policy.var_store(), "pi"), mlp_of(value.var_store(), "vf"));
        Some(Self {
            policy_outputs: vec![vec![]; policy_layers.len()],
            value_outputs: vec![vec![]; value_layers.len()],
            policy: policy_layers,
            value: value_layers,
            kind: policy.action_kind().clone(),
            log_std,
            sde_std: tch::no_grad(|| policy.sde_std()).map(|s| to_f32(&s.contiguous())),
            exploration: vec![],
            probs: vec![],
        })
    }
}

/// gSDE's decisions: action = mean + features · ε_i for copy i, scored
/// under N(mean, features² · std² + ε) per dimension; `exploration` holds
/// the copies' matrices `[latent, dim]` one after another.
fn act_sde(std: &[f32], exploration: &[f32], means: &[f32], latent: &[f32], dim: usize, out: &mut Decisions) {
    let width = std.len() / dim;
    for (i, (mean, features)) in means.chunks(dim).zip(latent.chunks(width)).enumerate() {
        let matrix = &exploration[i * width * dim..(i + 1) * width * dim];
        let mut logp = 0.0f64;
        for j in 0..dim {
            // Summed over the features in order, one dimension at a time: the
            // same sums, without a vector per row.
            let (mut noise, mut variance) = (0.0f32, 0.0f32);
            for (k, f) in features.iter().enumerate() {
                noise += f * matrix[k * dim + j];
                variance += f * f * std[k * dim + j] * std[k * dim + j];
            }
            let log_sd = 0.5 * (f64::from(variance) + SDE_EPSILON).ln();
            let z = f64::from(noise) * (-log_sd).exp();
            logp += -0.5 * z * z - log_sd - 0.5 * LN_2PI;
            out.actions.push(mean[j] + noise);
        }
        out.log_probs.push(logp as f32);
    }
}

/// Draws an index from a categorical over `logits` (probabilities computed in
/// double, as the torch path's softmax, into `probs`), appends it to
/// `actions`, and returns its log-probability.
fn sample_categorical(logits: &[f32], probs: &mut Vec<f64>, rng: &mut Rng, actions: &mut Vec<f32>) -> f64 {
    let max = logits.iter().fold(f64::NEG_INFINITY, |m, l| m.max(f64::from(*l)));
    let sum: f64 = logits.iter().map(|l| (f64::from(*l) - max).exp()).sum();
    probs.clear();
    probs.extend(logits.iter().map(|l| (f64::from(*l) - max).exp() / sum));
    let a = sample_index(probs, rng.uniform());
    actions.push(a as f32);
    f64::from(logits[a]) - max - sum.ln()
}

/// ln(1 + eˣ), without overflow for large x.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

impl Actor for CpuActor {
    fn reset_noise(&mut self, n_envs: usize, rng: &mut Rng) {
        if let Some(std) = &self.sde_std {
            self.exploration = sample_exploration(std, n_envs, rng);
        }
    }

    fn act(&mut self, obs: &[f32], rng: &mut Rng, out: &mut Decisions) {
        run_mlp_into(&self.policy, obs, &mut self.policy_outputs);
        run_mlp_into(&self.value, obs, &mut self.value_outputs);
        let (means, hidden) = self.policy_outputs.split_last().expect("an MLP has at least one layer");
        out.values.extend_from_slice(self.value_outputs.last().expect("an MLP has at least one layer"));
        if let Some(std) = &self.sde_std {
            // gSDE's features: the last hidden layer's, or the input without one.
            let latent = hidden.last().map_or(obs, Vec::as_slice);
            return act_sde(std, &self.exploration, means, latent, self.kind.dim(), out);
        }
        match &self.kind {
            ActionKind::Discrete { n } => {
                for logits in means.chunks(*n as usize) {
                    let logp = sample_categorical(logits, &mut self.probs, rng, &mut out.actions);
                    out.log_probs.push(logp as f32);
                }
            }
            ActionKind::MultiDiscrete { nvec } => {
                let width = nvec.iter().sum::<i64>() as usize;
                for row in means.chunks(width) {
                    let mut logp = 0.0;
                    let mut start = 0;
                    for n in nvec {
                        let logits = &row[start..start + *n as usize];
                        logp += sample_categorical(logits, &mut self.probs, rng, &mut out.actions);
                        start += *n as usize;
                    }
                    out.log_probs.push(logp as f32);
                }
            }
            ActionKind::MultiBinary { n } => {
                for logits in means.chunks(*n as usize) {
                    let mut logp = 0.0;
                    for l in logits.iter().map(|l| f64::from(*l)) {
                        // p = σ(l); log p(1) = −softplus(−l), log p(0) = −softplus(l).
                        let one = rng.uniform() < 1.0 / (1.0 + (-l).exp());
                        logp -= softplus(if one { -l } else { l });
                        out.actions.push(f32::from(u8::from(one)));
                    }
                    out.log_probs.push(logp as f32);
                }
            }
            ActionKind::Continuous { .. } => {
                let dim = self.log_std.len();
                for mean in means.chunks(dim) {
                    let mut logp = 0.0f64;
                    for (k, m) in mean.iter().enumerate() {
                        let std = self.log_std[k].exp();
                        let a = m + rng.normal() as f32 * std;
                        let z = f64::from((a - m) / std);
                        logp += -0.5 * z * z - f64::from(self.log_std[k]) - 0.5 * LN_2PI;
                        out.actions.push(a);
                    }
                    out.log_probs.push(logp as f32);
                }
            }
        }
    }

    fn values(&self, obs: &[f32]) -> Vec<f32> {
        run_mlp(&self.value, obs)
    }
}

#[cfg(test)]
mod tests {
    use natgrad_envs::{BoxSpace, Space};

    use super::*;
    use crate::generator::seeded;
    use crate::policy::Sde;

    fn compare(space: &Space, obs_dim: usize, sde: Option<Sde>) {
        let (policy, value) = seeded(5, || {
            let policy = Policy::new(obs_dim, space, &[64, 64], -0.5, sde, Device::Cpu).unwrap();
            // Larger output weights than the initial 0.01 gain, so actions vary.
            tch::no_grad(|| {
                for mut p in policy.parameters() {
                    let noise = p.randn_like() * 0.3;
                    p += noise;
                }
            });
            (policy, ValueFunction::new(obs_dim, &[64, 64], 1e-3, 1e-5, Device::Cpu).unwrap())
        });
        let mut torch = TorchActor::new(&policy, &value, obs_dim);
        let mut cpu = CpuActor::new(&policy, &value).expect("float32 CPU networks");
        let (mut n1, mut n2) = (Rng::seed_from_u64(3), Rng::seed_from_u64(3));
        torch.reset_noise(8, &mut n1);
        cpu.reset_noise(8, &mut n2);
        assert_eq!(n1, n2, "both drew the same exploration matrices");
        assert_eq!(n1 == Rng::seed_from_u64(3), sde.is_none(), "only gSDE draws exploration matrices");
        let mut draw = Rng::seed_from_u64(1);
        for _ in 0..50 {
            let obs: Vec<f32> = (0..8 * obs_dim).map(|_| draw.normal() as f32).collect();
            let (mut r1, mut r2) = (Rng::seed_from_u64(9), Rng::seed_from_u64(9));
            let (mut a, mut b) = (Decisions::default(), Decisions::default());
            torch.act(&obs, &mut r1, &mut a);
            cpu.act(&obs, &mut r2, &mut b);
            assert_eq!(r1, r2, "both consumed the same random numbers");
            let close = |x: &[f32], y: &[f32], tol: f32| {
                assert_eq!(x.len(), y.len());
                for (p, q) in x.iter().zip(y) {
                    assert!((p - q).abs() <= tol * (1.0 + p.abs()), "{x:?} vs {y:?}");
                }
            };
            match space {
                Space::Box(_) => close(&a.actions, &b.actions, 1e-5),
                _ => assert_eq!(a.actions, b.actions),
            }
            close(&a.log_probs, &b.log_probs, 1e-5);
            close(&a.values, &b.values, 1e-5);
            close(&torch.values(&obs), &cpu.values(&obs), 1e-5);
        }
    }

    /// The layer and tanh compiled for this CPU's widest vectors give the
    /// bits of the same loops written plainly (no fused multiply-add, each
    /// output's sum in order), so a run is the same on every x86-64 CPU.
    #[test]
    fn the_vectorised_loops_give_the_bits_of_the_plain_ones() {
        let mut draw = Rng::seed_from_u64(4);
        let mut normals = |n: usize| (0..n).map(|_| draw.normal() as f32 * 2.0).collect::<Vec<f32>>();
        for (inputs, outputs, rows) in [(4, 64, 2), (64, 64, 7), (64, 3, 5), (3, 17, 1)] {
            let (weight_t, bias, x) = (normals(inputs * outputs), normals(outputs), normals(inputs * rows));
            for last in [false, true] {
                let mut want = vec![];
                for row in x.chunks(inputs) {
                    for o in 0..outputs {
                        let mut y = bias[o];
                        for i in 0..inputs {
                            y += row[i] * weight_t[i * outputs + o];
                        }
                        want.push(if last { y } else { fast_tanh(y) });
                    }
                }
                let mut got = vec![1.0; 3];
                dense_forward(&weight_t, &bias, &x, last, &mut got);
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                );
            }
        }
        let mut values = normals(1000);
        let want: Vec<u32> = values.iter().map(|v| fast_tanh(*v).to_bits()).collect();
        crate::nn::tanh_slice(&mut values);
        assert_eq!(values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want);
    }

    #[test]
    fn fast_tanh_is_within_a_few_ulp_of_libm() {
        let mut worst = 0.0f32;
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4;
            let (fast, exact) = (fast_tanh(x), x.tanh());
            worst = worst.max((fast - exact).abs() / exact.abs().max(f32::MIN_POSITIVE));
        }
        assert!(worst < 4.0 * f32::EPSILON, "relative error {worst}");
        assert_eq!(fast_tanh(100.0), 1.0);
        assert_eq!(fast_tanh(-100.0), -1.0);
    }

    #[test]
    fn the_rust_forward_pass_gives_the_same_actions_as_libtorch() {
        let continuous = Space::Box(BoxSpace::new(vec![-2.0, -1.0], vec![2.0, 1.0]));
        compare(&Space::Discrete { n: 3 }, 6, None);
        compare(&Space::MultiDiscrete { nvec: vec![3, 1, 4] }, 6, None);
        compare(&Space::MultiBinary { n: 5 }, 6, None);
        compare(&continuous, 3, None);
        for (full_std, use_expln) in [(true, false), (false, true)] {
            compare(&continuous, 3, Some(Sde { full_std, use_expln, learn_features: false }));
        }
    }
}
