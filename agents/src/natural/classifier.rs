//! A classifier with a likelihood, for the natural-gradient module: a tanh
//! MLP whose outputs parametrise a Bernoulli (one logit) or categorical
//! (one logit per class) distribution over labels. Logistic regression is the
//! MLP without hidden layers.

use natgrad_envs::Rng;
use tch::{Kind, Tensor};

use crate::fisher::Likelihood;
use crate::natural_gradient::{flat_params, set_flat_params};

/// The distribution the network's outputs parametrise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Labels 0 and 1; one logit z with p(y = 1) = σ(z).
    Bernoulli,
    /// Labels 0..classes; one logit per class, p = softmax(z).
    Categorical { classes: usize },
}

impl Output {
    /// Label values the distribution ranges over.
    pub fn classes(&self) -> usize {
        match self {
            Output::Bernoulli => 2,
            Output::Categorical { classes } => *classes,
        }
    }

    fn logits(&self) -> i64 {
        match self {
            Output::Bernoulli => 1,
            Output::Categorical { classes } => *classes as i64,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClassifierError {
    #[error("inputs must be a [examples, features] matrix with at least one example, got shape {0:?}")]
    InputShape(Vec<i64>),
    #[error("{labels} labels for {examples} examples: give one label per example")]
    LabelCount { labels: i64, examples: i64 },
    #[error("labels must be integers in 0..{classes}, found {found}")]
    LabelRange { classes: usize, found: i64 },
    #[error("a categorical output needs at least 2 classes, got {0}")]
    TooFewClasses(usize),
    #[error("hidden layer widths must be at least 1, got {0:?}")]
    HiddenWidth(Vec<i64>),
}

/// One forward pass, with what K-FAC needs of each layer.
pub struct Forward {
    /// The network's outputs `[n, logits]`.
    pub logits: Tensor,
    /// Each layer's input a_l `[n, in_l]` (the data, then hidden activations).
    pub layer_inputs: Vec<Tensor>,
    /// Each layer's pre-activation s_l = a_l W_lᵀ + b_l `[n, out_l]`.
    pub pre_activations: Vec<Tensor>,
}

pub struct MlpClassifier {
    /// `[out, in]` per layer.
    weights: Vec<Tensor>,
    /// `[out]` per layer.
    biases: Vec<Tensor>,
    inputs: Tensor,
    /// Class indices, int64 `[n]`.
    labels: Tensor,
    output: Output,
}

impl MlpClassifier {
    /// A tanh MLP with the given hidden widths, weights drawn from
    /// N(0, 1/fan_in) with `rng` and zero biases, in the inputs' float kind.
    pub fn new(
        inputs: &Tensor,
        labels: &[i64],
        hidden: &[i64],
        output: Output,
        rng: &mut Rng,
    ) -> Result<Self, ClassifierError> {
        let model = Self::zeros(inputs, labels, hidden, output)?;
        tch::no_grad(|| {
            for w in &model.weights {
                let (rows, cols) = (w.size()[0], w.size()[1]);
                let std = 1.0 / (cols as f64).sqrt();
                let values: Vec<f64> = (0..rows * cols).map(|_| rng.normal() * std).collect();
                w.shallow_clone().copy_(&Tensor::from_slice(&values).view([rows, cols]));
            }
        });
        Ok(model)
    }

    /// Logistic regression with a bias: p(y = 1 | x) = σ(wᵀx + b), started
    /// at w = 0, b = 0.
    pub fn logistic_regression(inputs: &Tensor, labels: &[i64]) -> Result<Self, ClassifierError> {
        Self::zeros(inputs, labels, &[], Output::Bernoulli)
    }

    fn zeros(inputs: &Tensor, labels: &[i64], hidden: &[i64], output: Output) -> Result<Self, ClassifierError> {
        let shape = inputs.size();
        if shape.len() != 2 || shape[0] < 1 || shape[1] < 1 {
            return Err(ClassifierError::InputShape(shape));
        }
        if labels.len() as i64 != shape[0] {
            return Err(ClassifierError::LabelCount { labels: labels.len() as i64, examples: shape[0] });
        }
        if let Output::Categorical { classes } = output
            && classes < 2
        {
            return Err(ClassifierError::TooFewClasses(classes));
        }
        if let Some(&found) = labels.iter().find(|&&y| y < 0 || y >= output.classes() as i64) {
            return Err(ClassifierError::LabelRange { classes: output.classes(), found });
        }
        if hidden.iter().any(|&h| h < 1) {
            return Err(ClassifierError::HiddenWidth(hidden.to_vec()));
        }
        let options = (inputs.kind(), inputs.device());
        let sizes: Vec<i64> =
            std::iter::once(shape[1]).chain(hidden.iter().copied()).chain([output.logits()]).collect();
        let (weights, biases) = sizes
            .windows(2)
            .map(|w| {
                (
                    Tensor::zeros([w[1], w[0]], options).set_requires_grad(true),
                    Tensor::zeros([w[1]], options).set_requires_grad(true),
                )
            })
            .unzip();
        Ok(Self {
            weights,
            biases,
            inputs: inputs.detach(),
            labels: Tensor::from_slice(labels).to_device(inputs.device()),
            output,
        })
    }

    pub fn output(&self) -> Output {
        self.output
    }

    /// Weights `[out, in]` of each layer.
    pub fn weights(&self) -> &[Tensor] {
        &self.weights
    }

    pub fn inputs(&self) -> &Tensor {
        &self.inputs
    }

    /// Class indices of the examples, int64 `[n]`.
    pub fn labels(&self) -> &Tensor {
        &self.labels
    }

    pub fn forward(&self) -> Forward {
        let mut layer_inputs = Vec::with_capacity(self.weights.len());
        let mut pre_activations = Vec::with_capacity(self.weights.len());
        let mut a = self.inputs.shallow_clone();
        for (i, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let s = a.matmul(&w.tr()) + b;
            layer_inputs.push(a);
            a = if i + 1 < self.weights.len() { s.tanh() } else { s.shallow_clone() };
            pre_activations.push(s);
        }
        Forward { logits: a, layer_inputs, pre_activations }
    }

    /// log p(y = c | x_i) for every example and label value: `[n, classes]`.
    pub fn class_log_probs(&self, logits: &Tensor) -> Tensor {
        match self.output {
            // log(1 − σ(z)) = −softplus(z), log σ(z) = −softplus(−z): no
            // rounding to log(0) when the prediction saturates.
            Output::Bernoulli => Tensor::cat(&[-logits.softplus(), -(-logits).softplus()], 1),
            Output::Categorical { .. } => logits.log_softmax(1, logits.kind()),
        }
    }

    /// p(y = 1 | x_i) `[n]` for a Bernoulli output, p(y = c | x_i)
    /// `[n, classes]` for a categorical one.
    pub fn probabilities(&self) -> Tensor {
        tch::no_grad(|| {
            let p = self.class_log_probs(&self.forward().logits).exp();
            match self.output {
                Output::Bernoulli => p.select(1, 1),
                Output::Categorical { .. } => p,
            }
        })
    }

    /// θ as one flat vector.
    pub fn flat_parameters(&self) -> Tensor {
        flat_params(&self.parameters())
    }

    pub fn set_flat_parameters(&self, theta: &Tensor) {
        set_flat_params(&self.parameters(), theta)
    }
}

impl Likelihood for MlpClassifier {
    /// W₀, b₀, W₁, b₁, ...
    fn parameters(&self) -> Vec<Tensor> {
        self.weights.iter().zip(&self.biases).flat_map(|(w, b)| [w.shallow_clone(), b.shallow_clone()]).collect()
    }

    fn log_likelihoods(&self) -> Tensor {
        self.class_log_probs(&self.forward().logits).gather(1, &self.labels.unsqueeze(1), false).squeeze_dim(1)
    }

    fn mean_kl_from_current(&self) -> Tensor {
        let log_p = self.class_log_probs(&self.forward().logits);
        let log_p0 = log_p.detach();
        (log_p0.exp() * (&log_p0 - log_p)).sum_dim_intlist(1, false, log_p0.kind()).mean(None::<Kind>)
    }
}

/// The classic toy problem for logistic regression: `n` points uniform in
/// [0, 1]², labelled 1 when x1 + x2 > 1 (linearly separable): `[n, 2]`
/// float64 inputs and the labels.
pub fn toy_problem(n: usize, seed: u64) -> (Tensor, Vec<i64>) {
    let mut rng = Rng::seed_from_u64(seed);
    let points: Vec<f64> = (0..2 * n).map(|_| rng.uniform()).collect();
    let labels = points.chunks(2).map(|p| i64::from(p[0] + p[1] > 1.0)).collect();
    (Tensor::from_slice(&points).view([n as i64, 2]), labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_data_is_refused_with_the_reason() {
        let x = Tensor::from_slice(&[0.1f64, 0.2, 0.3, 0.4]).view([2, 2]);
        let lr = MlpClassifier::logistic_regression;
        assert_eq!(lr(&x, &[0]).err(), Some(ClassifierError::LabelCount { labels: 1, examples: 2 }));
        assert_eq!(lr(&x, &[0, 2]).err(), Some(ClassifierError::LabelRange { classes: 2, found: 2 }));
        assert_eq!(lr(&x, &[-1, 0]).err(), Some(ClassifierError::LabelRange { classes: 2, found: -1 }));
        assert_eq!(lr(&x.view([4]), &[0, 1, 0, 1]).err(), Some(ClassifierError::InputShape(vec![4])));
        let mut rng = Rng::seed_from_u64(0);
        let categorical = |classes, hidden: &[i64], rng: &mut Rng| {
            MlpClassifier::new(&x, &[0, 1], hidden, Output::Categorical { classes }, rng).err()
        };
        assert_eq!(categorical(1, &[], &mut rng), Some(ClassifierError::TooFewClasses(1)));
        assert_eq!(categorical(3, &[0], &mut rng), Some(ClassifierError::HiddenWidth(vec![0])));
        assert_eq!(categorical(3, &[4], &mut rng), None);
    }

    #[test]
    fn bernoulli_probabilities_stay_exact_when_saturated() {
        let x = Tensor::from_slice(&[1.0f64, -1.0]).view([2, 1]);
        let model = MlpClassifier::logistic_regression(&x, &[1, 0]).unwrap();
        model.set_flat_parameters(&Tensor::from_slice(&[800.0f64, 0.0]));
        // σ(±800) rounds to 1 and 0, but the log-likelihoods are −e⁻⁸⁰⁰ ≈ 0, not log 0.
        let ll = Vec::<f64>::try_from(&model.log_likelihoods().detach()).unwrap();
        assert!(ll.iter().all(|v| v.is_finite() && *v <= 0.0 && *v > -1e-300), "{ll:?}");
    }
}
