//! Parity with Gymnasium 1.4.0's MuJoCo tasks (v5): every trajectory of the
//! golden set replayed from its seeded reset with its recorded actions, each
//! observation, reward, flag and physical state (qpos, qvel) compared.
//!
//! The fixtures (`<id>.json.gz` beside the classic ones, or a set in
//! `$NATGRAD_GYM_FIXTURES`; see the README there) come from Gymnasium running
//! the same MuJoCo library. The repository's own set, and any set with
//! `NATGRAD_GYM_EXACT=1`, must match bit for bit; another set is held to 1e-9
//! relative (a replay amplifies differences, so this is for sets recorded on
//! another machine). Each test prints its counts (`-- --nocapture`).

mod common;

use common::{bit_exact_required, fixture_dir, read_fixture};
use natgrad_envs::{Action, Env, MakeOptions, NumpyDot, make_with};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    env: String,
    /// The OpenBLAS kernels NumPy ran when the set was recorded, which decide
    /// the last bit of `np.linalg.norm` (Reacher's reward). Absent in the
    /// repository's set, recorded with Haswell's (a CPU without AVX-512);
    /// `null` where the recording could not tell.
    #[serde(default = "repository_set_core")]
    openblas_core: Option<String>,
    trajectories: Vec<Trajectory>,
}

fn repository_set_core() -> Option<String> {
    Some("Haswell".into())
}

#[derive(Deserialize)]
struct Trajectory {
    seed: u64,
    max_episode_steps: usize,
    initial_obs: Vec<f64>,
    initial_state: Vec<f64>,
    steps: Vec<FixtureStep>,
}

#[derive(Deserialize)]
struct FixtureStep {
    action: Vec<f64>,
    obs: Vec<f64>,
    reward: f64,
    terminated: bool,
    truncated: bool,
    state: Vec<f64>,
}

#[derive(Default)]
struct Tally {
    compared: usize,
    bit_exact: usize,
    worst: f64,
}

impl Tally {
    fn f64(&mut self, got: f64, want: f64, what: &dyn Fn() -> String) {
        self.compared += 1;
        if got.to_bits() == want.to_bits() {
            self.bit_exact += 1;
            return;
        }
        let relative = (got - want).abs() / got.abs().max(want.abs()).max(1e-300);
        self.worst = self.worst.max(relative);
        assert!(!bit_exact_required(), "{}: got {got:?}, Gymnasium has {want:?} (bit for bit required)", what());
        assert!(relative <= 1e-9, "{}: got {got:?}, Gymnasium has {want:?}", what());
    }

    fn values(&mut self, got: &[f64], want: &[f64], what: &dyn Fn() -> String) {
        assert_eq!(got.len(), want.len(), "{}: {} values, Gymnasium has {}", what(), got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            self.f64(*g, *w, &|| format!("{} [{i}]", what()));
        }
    }

    /// natgrad's float32 observation against Gymnasium's float64 one, cast.
    fn obs(&mut self, got: &[f32], want: &[f64], what: &dyn Fn() -> String) {
        let want: Vec<f64> = want.iter().map(|v| f64::from(*v as f32)).collect();
        let got: Vec<f64> = got.iter().map(|v| f64::from(*v)).collect();
        self.values(&got, &want, what);
    }
}

fn check(id: &str) {
    let (path, text) = read_fixture(&fixture_dir(), id);
    let fixture: Fixture =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a MuJoCo fixture file: {e}", path.display()));
    assert_eq!(fixture.env, id, "{} holds another environment", path.display());
    assert!(!fixture.trajectories.is_empty(), "{} has no trajectory", path.display());
    let mut tally = Tally::default();
    let (mut terminated, mut truncated, mut transitions) = (0, 0, 0);
    for (t, trajectory) in fixture.trajectories.iter().enumerate() {
        let options = MakeOptions {
            max_episode_steps: Some(trajectory.max_episode_steps),
            // The recording's arithmetic, so that a set recorded on another CPU replays bit for bit.
            numpy_dot: fixture.openblas_core.as_deref().map_or(NumpyDot::ThisMachine, NumpyDot::of_openblas_core),
            ..Default::default()
        };
        let mut env = make_with(id, &options).unwrap();
        let obs = env.reset(Some(trajectory.seed)).unwrap();
        tally.obs(&obs, &trajectory.initial_obs, &|| format!("{id} trajectory {t} reset observation"));
        tally.values(&env.state().unwrap(), &trajectory.initial_state, &|| format!("{id} trajectory {t} reset state"));
        for (s, step) in trajectory.steps.iter().enumerate() {
            let action: Vec<f32> = step.action.iter().map(|a| *a as f32).collect();
            let got = env.step(Action::Continuous(&action)).unwrap();
            let what = |part: &str| format!("{id} trajectory {t} step {s} {part}");
            tally.obs(&got.obs, &step.obs, &|| what("observation"));
            tally.f64(got.reward, step.reward, &|| what("reward"));
            assert_eq!((got.terminated, got.truncated), (step.terminated, step.truncated), "{}", what("flags"));
            tally.values(&env.state().unwrap(), &step.state, &|| what("state"));
            transitions += 1;
        }
        let last = trajectory.steps.last().expect("a trajectory has steps");
        terminated += usize::from(last.terminated);
        truncated += usize::from(last.truncated);
    }
    println!(
        "{id}: {} trajectories ({terminated} terminated, {truncated} truncated), {transitions} transitions, \
         {} of {} values bit for bit (worst relative difference {:e})",
        fixture.trajectories.len(),
        tally.bit_exact,
        tally.compared,
        tally.worst
    );
}

#[test]
fn hopper_matches_gymnasium() {
    check("Hopper-v5");
}

#[test]
fn walker2d_matches_gymnasium() {
    check("Walker2d-v5");
}

#[test]
fn half_cheetah_matches_gymnasium() {
    check("HalfCheetah-v5");
}

#[test]
fn swimmer_matches_gymnasium() {
    check("Swimmer-v5");
}

#[test]
fn ant_matches_gymnasium() {
    check("Ant-v5");
}

#[test]
fn inverted_pendulum_matches_gymnasium() {
    check("InvertedPendulum-v5");
}

#[test]
fn inverted_double_pendulum_matches_gymnasium() {
    check("InvertedDoublePendulum-v5");
}

#[test]
fn reacher_matches_gymnasium() {
    check("Reacher-v5");
}

#[test]
fn humanoid_matches_gymnasium() {
    check("Humanoid-v5");
}
