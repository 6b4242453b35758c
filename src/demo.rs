//! `natgrad demo ngd`: natural-gradient descent against gradient descent on
//! logistic regression, on a well-conditioned problem and on the same problem
//! with one feature multiplied by 100, with four Fisher matrices: exact,
//! empirical, diagonal and Kronecker-factored (K-FAC).
//!
//! The data are linearly separable (the label is x1 + x2 > 1), so the
//! plain negative log-likelihood has no minimiser: its infimum 0 is reached
//! only as ‖w‖ → ∞, and "iterations to the optimum" would then measure how
//! fast a method can inflate the weights. The demo therefore minimises
//! J(θ) = NLL(θ) + (λ/2)‖θ‖², which has one optimum, and uses the same λ as
//! the natural gradient's damping: F + λI is then the Fisher of the
//! likelihood plus the curvature of the penalty. `--l2 0` runs the
//! unpenalised problem, with the infimum 0 as the target.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use natgrad_agents::classifier::{MlpClassifier, toy_problem};
use natgrad_agents::fisher::{self, Fisher, Likelihood, NgdError, Solve};
use natgrad_agents::kfac::Kfac;
use natgrad_agents::natural_gradient::flat_grad;
use natgrad_agents::tch::{Kind, Tensor};

use crate::plot::{self, Curve, Panel};

pub struct NgdRequest {
    pub out: PathBuf,
    pub seed: u64,
    pub l2: f64,
    pub max_iters: usize,
    pub tolerance: f64,
}

/// The step sizes every method is tried with.
const STEP_SIZES: [f64; 19] =
    [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];
const POINTS: usize = 100;
/// Gaps below this are rounding noise; the plot's floor.
const PLOT_FLOOR: f64 = 1e-15;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    GradientDescent,
    Natural(Fisher),
    /// K-FAC's Kronecker-factored Fisher, its damping factored between A and G.
    Kfac,
}

const METHODS: [Method; 5] = [
    Method::GradientDescent,
    Method::Natural(Fisher::Exact),
    Method::Natural(Fisher::Empirical),
    Method::Natural(Fisher::Diagonal),
    Method::Kfac,
];

impl Method {
    /// The method's name in the CSV files.
    fn key(self) -> &'static str {
        match self {
            Method::GradientDescent => "gd",
            Method::Natural(Fisher::Exact) => "ngd_exact",
            Method::Natural(Fisher::Empirical) => "ngd_empirical",
            Method::Natural(Fisher::Diagonal) => "ngd_diagonal",
            Method::Kfac => "ngd_kfac",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Method::GradientDescent => "gradient descent",
            Method::Natural(Fisher::Exact) => "NGD, exact Fisher",
            Method::Natural(Fisher::Empirical) => "NGD, empirical Fisher",
            Method::Natural(Fisher::Diagonal) => "NGD, diagonal Fisher",
            Method::Kfac => "NGD, K-FAC Fisher",
        }
    }
}

/// One of the two problems: the data, and the best objective value.
struct Problem {
    inputs: Tensor,
    labels: Vec<i64>,
    optimum: f64,
    /// Condition number of F + λI at the optimum.
    condition: f64,
}

/// How one run ended.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// Within the tolerance of the optimum after this many iterations.
    Reached(usize),
    /// Still above it after `max_iters`, with this gap.
    Stalled(f64),
    /// Not there after this many iterations, which another step size needed.
    SlowerThan(usize),
    /// The objective blew up (to ten times its start, or beyond).
    Diverged(usize),
    /// The natural gradient was undefined (a singular Fisher).
    Undefined(usize),
}

impl Outcome {
    fn iterations(&self) -> Option<usize> {
        match self {
            Outcome::Reached(n) => Some(*n),
            _ => None,
        }
    }

    /// Orders runs: fewer iterations first, then smaller final gaps.
    fn rank(&self) -> (usize, f64) {
        match self {
            Outcome::Reached(n) => (0, *n as f64),
            Outcome::SlowerThan(_) => (1, 0.0),
            Outcome::Stalled(gap) => (2, *gap),
            Outcome::Diverged(_) | Outcome::Undefined(_) => (3, 0.0),
        }
    }

    fn cell(&self) -> String {
        match self {
            Outcome::Reached(n) => n.to_string(),
            Outcome::Stalled(gap) => format!("gap {gap:.0e}"),
            Outcome::SlowerThan(n) => format!("> {n}"),
            Outcome::Diverged(_) => "diverges".into(),
            Outcome::Undefined(_) => "singular F".into(),
        }
    }
}

pub fn run(request: &NgdRequest) -> Result<()> {
    check(request)?;
    std::fs::create_dir_all(&request.out)
        .with_context(|| format!("cannot create the output folder {}", request.out.display()))?;
    print_setting(request);
    // The two problems are independent: one thread each.
    let studies: Vec<Study> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            [1.0, 100.0].into_iter().map(|scale| scope.spawn(move || Study::run(scale, request))).collect();
        handles.into_iter().map(|h| h.join().expect("a demo thread panicked")).collect::<Result<_>>()
    })?;

    let mut summary = String::from("| problem | method | step size | iterations |\n|---|---|---:|---:|\n");
    let mut sweep_csv = String::from("problem,method,step_size,outcome,iterations\n");
    let mut curves_csv = String::from("problem,method,step_size,iteration,objective,gap\n");
    let mut panels = Vec::new();
    for study in &studies {
        print_sweep(study, &mut sweep_csv);
        let mut curves = Vec::new();
        for (method, lr, outcome, objectives) in &study.best {
            let iterations =
                outcome.iterations().map_or(format!("not within {}", request.max_iters), |n| n.to_string());
            let _ = writeln!(summary, "| {} | {} | {lr} | {iterations} |", study.name, method.name());
            for (t, j) in objectives.iter().enumerate() {
                let _ = writeln!(curves_csv, "{},{},{lr},{t},{j},{}", study.key, method.key(), j - study.optimum);
            }
            let points = objectives.iter().enumerate().map(|(t, j)| (t as f64, (j - study.optimum).max(PLOT_FLOOR)));
            curves.push(Curve { label: format!("{} (step {lr})", method.name()), points: points.collect() });
        }
        panels.push(Panel { title: study.name.to_owned(), x_max: study.horizon as f64, curves });
    }
    println!("Best step size per method:\n{summary}");

    let png = request.out.join("ngd.png");
    plot::draw_log_panels(&png, "objective minus optimum against iteration", &panels)?;
    write(&request.out.join("ngd_sweep.csv"), &sweep_csv)?;
    write(&request.out.join("ngd_curves.csv"), &curves_csv)?;
    println!(
        "Wrote {}, {} and {}",
        png.display(),
        request.out.join("ngd_sweep.csv").display(),
        request.out.join("ngd_curves.csv").display()
    );
    Ok(())
}

/// Refuses settings the demo cannot run with, naming the fix.
fn check(request: &NgdRequest) -> Result<()> {
    if !(request.l2.is_finite() && request.l2 >= 0.0) {
        bail!("--l2 must be a finite number >= 0, got {}", request.l2);
    }
    if !(request.tolerance.is_finite() && request.tolerance > 0.0) {
        bail!("--tolerance must be a positive number, got {}", request.tolerance);
    }
    if request.max_iters == 0 {
        bail!("--max-iters must be at least 1");
    }
    Ok(())
}

/// What the demo solves and how it counts.
fn print_setting(request: &NgdRequest) {
    println!(
        "Logistic regression with a bias on {POINTS} points uniform in [0, 1]^2, label x1 + x2 > 1 (seed {}).",
        request.seed
    );
    if request.l2 > 0.0 {
        println!(
            "Objective: mean negative log-likelihood + {}/2 |theta|^2 (the data are separable: without the penalty \
             there is no optimum); NGD damping = {}.",
            request.l2, request.l2
        );
    } else {
        println!(
            "Objective: mean negative log-likelihood, no penalty, no damping; the data are separable, so the target \
             is the infimum 0."
        );
    }
    println!(
        "Iterations to come within {:e} of the optimal objective, from theta = 0; each method's step size is the best of \
         {} tried, each run stopped at {} iterations or at the best so far (\"> N\").\n",
        request.tolerance,
        STEP_SIZES.len(),
        request.max_iters
    );
}

/// One problem's table of every method at every step size, printed and
/// added to `sweep_csv`.
fn print_sweep(study: &Study, sweep_csv: &mut String) {
    println!(
        "{}: optimal objective {:.12}, condition number of F + lambda I at the optimum {:.3e}",
        study.name, study.optimum, study.condition
    );
    let mut header = String::from("| method |");
    let mut rule = String::from("|---|");
    for lr in STEP_SIZES {
        let _ = write!(header, " {lr} |");
        rule.push_str("---:|");
    }
    println!("{header}\n{rule}");
    for (method, outcomes) in &study.sweep {
        let row: Vec<String> = outcomes.iter().map(Outcome::cell).collect();
        println!("| {} | {} |", method.name(), row.join(" | "));
        for (lr, outcome) in STEP_SIZES.iter().zip(outcomes) {
            let iterations = outcome.iterations().map_or(String::new(), |n| n.to_string());
            let _ = writeln!(sweep_csv, "{},{},{lr},{},{iterations}", study.key, method.key(), outcome.cell());
        }
    }
    println!();
}

/// Everything the demo finds on one problem.
struct Study {
    name: &'static str,
    /// The problem's name in the CSV files.
    key: &'static str,
    optimum: f64,
    condition: f64,
    /// Each method's outcome for every step size, in the order of `STEP_SIZES`.
    sweep: Vec<(Method, Vec<Outcome>)>,
    /// Each method's best step size, its outcome and its objectives up to
    /// `horizon` iterations (for the plot).
    best: Vec<(Method, f64, Outcome, Vec<f64>)>,
    horizon: usize,
}

impl Study {
    /// The toy problem with its first feature multiplied by `scale`.
    fn run(scale: f64, request: &NgdRequest) -> Result<Self> {
        // Tensors of a few hundred numbers: threads inside libtorch cost
        // more than they give.
        natgrad_agents::tch::set_num_threads(1);
        let (inputs, labels) = toy_problem(POINTS, request.seed);
        let (name, key) = if scale == 1.0 {
            ("well-conditioned", "well_conditioned")
        } else {
            ("ill-conditioned (x1 multiplied by 100)", "ill_conditioned")
        };
        let problem = Problem::new(inputs * Tensor::from_slice(&[scale, 1.0]), labels, request.l2)?;
        let mut sweep = Vec::new();
        let mut chosen = Vec::new();
        for method in METHODS {
            // Largest step first: the best is usually the largest stable one,
            // and once a run has got there, slower ones can stop early.
            let mut outcomes = Vec::with_capacity(STEP_SIZES.len());
            let mut cap = request.max_iters;
            for &lr in STEP_SIZES.iter().rev() {
                let outcome = match problem.descend(method, lr, request.l2, cap, request.tolerance).0 {
                    Outcome::Stalled(_) if cap < request.max_iters => Outcome::SlowerThan(cap),
                    other => other,
                };
                if let Some(n) = outcome.iterations() {
                    cap = cap.min(n);
                }
                outcomes.push(outcome);
            }
            outcomes.reverse();
            let best = (0..STEP_SIZES.len())
                .min_by(|&a, &b| outcomes[a].rank().partial_cmp(&outcomes[b].rank()).expect("ranks are comparable"))
                .expect("at least one step size");
            chosen.push((method, STEP_SIZES[best], outcomes[best].clone()));
            sweep.push((method, outcomes));
        }
        // Plot each method's chosen run a little past the slowest method
        // that got there.
        let slowest = chosen.iter().filter_map(|(_, _, o)| o.iterations()).max().unwrap_or(request.max_iters);
        let horizon = ((slowest as f64 * 1.25).ceil() as usize).clamp(10, request.max_iters);
        let best = chosen
            .into_iter()
            .map(|(method, lr, outcome)| {
                let (_, objectives) = problem.descend(method, lr, request.l2, horizon, PLOT_FLOOR);
                (method, lr, outcome, objectives)
            })
            .collect();
        Ok(Self { name, key, optimum: problem.optimum, condition: problem.condition, sweep, best, horizon })
    }
}

fn write(path: &std::path::Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// J(θ) = NLL(θ) + (λ/2)‖θ‖².
fn objective(model: &MlpClassifier, l2: f64) -> Tensor {
    let theta =
        model.parameters().iter().map(|p| p.square().sum(Kind::Double)).fold(Tensor::from(0.0f64), |a, b| a + b);
    fisher::negative_log_likelihood(model) + theta * (0.5 * l2)
}

fn direction(model: &MlpClassifier, method: Method, l2: f64) -> Result<(f64, Tensor), NgdError> {
    let j = objective(model, l2);
    let g = flat_grad(&j, &model.parameters(), false);
    let d = match method {
        Method::GradientDescent => g,
        Method::Natural(f) => fisher::natural_gradient(model, &g, f, l2, Solve::Direct)?,
        Method::Kfac => Kfac::new(model).natural_gradient(&g, l2)?,
    };
    Ok((j.double_value(&[]), d))
}

impl Problem {
    fn new(inputs: Tensor, labels: Vec<i64>, l2: f64) -> Result<Self> {
        let mut problem = Self { inputs, labels, optimum: 0.0, condition: f64::NAN };
        if l2 > 0.0 {
            // Exact NGD with step 1 is Newton's method here (the Fisher of
            // logistic regression is the Hessian of its NLL): it converges
            // quadratically, to machine precision within a few dozen steps.
            let model = problem.model()?;
            let mut best = f64::INFINITY;
            for _ in 0..100 {
                let (j, d) = direction(&model, Method::Natural(Fisher::Exact), l2)?;
                best = best.min(j);
                model.set_flat_parameters(&(model.flat_parameters() - d));
            }
            problem.optimum = best.min(objective(&model, l2).double_value(&[]));
            let f = fisher::exact_fisher(&model) + Tensor::eye(3, (Kind::Double, model.inputs().device())) * l2;
            let eigenvalues = Vec::<f64>::try_from(&f.linalg_eigvalsh("L"))?;
            problem.condition = eigenvalues.iter().cloned().fold(f64::MIN, f64::max) / eigenvalues[0];
        }
        Ok(problem)
    }

    fn model(&self) -> Result<MlpClassifier> {
        Ok(MlpClassifier::logistic_regression(&self.inputs, &self.labels)?)
    }

    /// θ ← θ − lr·direction from θ = 0, until the objective is within
    /// `tolerance` of the optimum or `max_iters` steps were taken: the
    /// outcome, and the objective before each step and after the last.
    fn descend(&self, method: Method, lr: f64, l2: f64, max_iters: usize, tolerance: f64) -> (Outcome, Vec<f64>) {
        let model = self.model().expect("validated when the problem was built");
        let mut objectives = Vec::new();
        for t in 0..=max_iters {
            let step = direction(&model, method, l2);
            let j = match &step {
                Ok((j, _)) => *j,
                Err(_) => objective(&model, l2).double_value(&[]),
            };
            objectives.push(j);
            // Far above where it started: the steps overshoot.
            if !j.is_finite() || j > 10.0 * objectives[0] {
                return (Outcome::Diverged(t), objectives);
            }
            if j - self.optimum <= tolerance {
                return (Outcome::Reached(t), objectives);
            }
            if t == max_iters {
                break;
            }
            match step {
                Ok((_, d)) => model.set_flat_parameters(&(model.flat_parameters() - d * lr)),
                Err(_) => return (Outcome::Undefined(t), objectives),
            }
        }
        let gap = objectives.last().expect("one objective at least") - self.optimum;
        (Outcome::Stalled(gap), objectives)
    }
}
