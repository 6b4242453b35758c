//! Parity with Gymnasium 1.4.0: every transition of every golden trajectory,
//! one step at a time, plus reset distributions and observation bounds.
//!
//! Fixtures are read from `envs/tests/fixtures/gymnasium` (Gymnasium's own
//! golden set, gzipped; see the README there), or from `$NATGRAD_GYM_FIXTURES`
//! (relative paths are taken from the workspace root), which may hold any set
//! `scripts/gym-fixtures` writes, as `<id>.json` or `<id>.json.gz`. A missing
//! fixture file fails the test.
//!
//! Tolerances: flags exactly; float64 values within 1e-12 relative; float32
//! observations within 1 ulp. The default fixtures (Gymnasium 1.4.0, whose
//! README documents arithmetic that reproduces them bit for bit) must match
//! bit for bit, and so must any set when `NATGRAD_GYM_EXACT=1` (as
//! `scripts/gym-fixtures --check` runs them), except Acrobot's reset
//! observation, which NumPy computes with its own float32 cos/sin. Each test
//! prints its counts (`-- --nocapture`).

mod common;

use common::{bit_exact_required, fixture_dir, read_fixture};
use natgrad_envs::{
    Acrobot, Action, CartPole, ClassicEnv, Dynamics, Env, MountainCar, MountainCarContinuous, Pendulum, Space,
    TimeLimit,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    env: String,
    max_episode_steps: usize,
    state_layout: Vec<String>,
    trajectories: Vec<Trajectory>,
}

#[derive(Deserialize)]
struct Trajectory {
    initial_state: Vec<f64>,
    initial_obs: Vec<f64>,
    final_state: Vec<f64>,
    steps: Vec<FixtureStep>,
}

#[derive(Deserialize)]
struct FixtureStep {
    state: Vec<f64>,
    action: FixtureAction,
    obs: Vec<f64>,
    reward: f64,
    terminated: bool,
    truncated: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FixtureAction {
    Discrete(i64),
    Continuous(Vec<f64>),
}

fn load(id: &str) -> Fixture {
    let (path, text) = read_fixture(&fixture_dir(), id);
    let fixture: Fixture =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a fixture file: {e}", path.display()));
    assert_eq!(fixture.env, id, "{} holds another environment", path.display());
    assert!(!fixture.trajectories.is_empty(), "{} has no trajectory", path.display());
    fixture
}

/// Counts compared and bit-identical values, and checks tolerances.
#[derive(Default)]
struct Tally {
    compared: usize,
    bit_exact: usize,
}

impl Tally {
    fn f64(&mut self, got: f64, want: f64, what: &dyn Fn() -> String) {
        self.compared += 1;
        if got.to_bits() == want.to_bits() {
            self.bit_exact += 1;
            return;
        }
        let scale = got.abs().max(want.abs());
        assert!((got - want).abs() <= 1e-12 * scale, "{}: got {got:?}, Gymnasium has {want:?}", what());
    }

    fn f32(&mut self, got: f32, want: f64, what: &dyn Fn() -> String) {
        self.compared += 1;
        let want32 = want as f32;
        assert_eq!(f64::from(want32), want, "{}: fixture value {want:?} is not a float32", what());
        if got.to_bits() == want32.to_bits() {
            self.bit_exact += 1;
            return;
        }
        assert!(ulps(got, want32) <= 1, "{}: got {got:?}, Gymnasium has {want32:?} (more than 1 ulp apart)", what());
    }

    fn exact<T: PartialEq + std::fmt::Debug>(&mut self, got: T, want: T, what: &dyn Fn() -> String) {
        self.compared += 1;
        assert_eq!(got, want, "{}", what());
        self.bit_exact += 1;
    }
}

/// Distance in units in the last place between two finite float32 values.
fn ulps(a: f32, b: f32) -> u32 {
    // Map the sign-magnitude bit patterns onto a monotonic integer line.
    let key = |x: f32| {
        let bits = x.to_bits() as i64;
        if bits & 0x8000_0000 != 0 { -(bits & 0x7FFF_FFFF) } else { bits }
    };
    (key(a) - key(b)).unsigned_abs() as u32
}

fn action_of<'b>(a: &FixtureAction, buf: &'b mut Vec<f32>) -> Action<'b> {
    match a {
        FixtureAction::Discrete(i) => Action::Discrete(*i),
        FixtureAction::Continuous(v) => {
            buf.clear();
            for x in v {
                assert_eq!(f64::from(*x as f32), *x, "Box actions are float32 values");
                buf.push(*x as f32);
            }
            Action::Continuous(buf)
        }
    }
}

/// Replays every transition of `D`'s fixture one step at a time.
fn check_parity<D: Dynamics>(reset_obs_ulps_allowed: bool) {
    let fixture = load(D::ID);
    assert_eq!(fixture.state_layout, D::STATE_LAYOUT, "state layout of {}", D::ID);
    let mut tally = Tally::default();
    let mut reset_tally = Tally::default();
    let mut transitions = 0;
    let mut buf = Vec::new();
    for (t, traj) in fixture.trajectories.iter().enumerate() {
        // The observation reset() gives for the recorded initial state.
        let mut fresh = ClassicEnv::<D>::new();
        let obs = fresh.reset_to(&traj.initial_state).expect("valid initial state");
        assert_eq!(obs.len(), traj.initial_obs.len());
        for (k, (got, want)) in obs.iter().zip(&traj.initial_obs).enumerate() {
            let what = || format!("{} trajectory {t}: initial_obs[{k}]", D::ID);
            if reset_obs_ulps_allowed {
                reset_tally.f32(*got, *want, &what);
            } else {
                tally.exact(got.to_bits(), (*want as f32).to_bits(), &what);
            }
        }

        // As the fixture was recorded: reset, then the state written in.
        let mut env = TimeLimit::new(ClassicEnv::<D>::new(), fixture.max_episode_steps).unwrap();
        env.reset(Some(t as u64)).unwrap();
        env.set_state(&traj.initial_state).unwrap();
        for (i, step) in traj.steps.iter().enumerate() {
            let what = |field: &str| format!("{} trajectory {t} step {i}: {field}", D::ID);
            env.set_state(&step.state).unwrap();
            let out = env.step(action_of(&step.action, &mut buf)).unwrap_or_else(|e| panic!("{}: {e}", what("step")));
            transitions += 1;
            assert_eq!(out.obs.len(), step.obs.len(), "{}", what("obs length"));
            for (k, (got, want)) in out.obs.iter().zip(&step.obs).enumerate() {
                tally.f32(*got, *want, &|| what(&format!("obs[{k}]")));
            }
            tally.f64(out.reward, step.reward, &|| what("reward"));
            tally.exact(out.terminated, step.terminated, &|| what("terminated"));
            tally.exact(out.truncated, step.truncated, &|| what("truncated"));
            let next = traj.steps.get(i + 1).map_or(&traj.final_state, |s| &s.state);
            let state = env.state().unwrap();
            for (k, (got, want)) in state.iter().zip(next).enumerate() {
                tally.f64(*got, *want, &|| what(&format!("next state[{k}] ({})", D::STATE_LAYOUT[k])));
            }
            let is_last = i + 1 == traj.steps.len();
            assert_eq!(out.terminated || out.truncated, is_last, "{}", what("episode end"));
        }
    }
    println!(
        "{}: {} trajectories, {transitions} transitions, {} values compared, {} bit-exact",
        D::ID,
        fixture.trajectories.len(),
        tally.compared + reset_tally.compared,
        tally.bit_exact + reset_tally.bit_exact
    );
    if bit_exact_required() {
        assert_eq!(
            tally.bit_exact,
            tally.compared,
            "{}: the fixtures must be reproduced bit for bit, but {} of {} values differ in their last bits",
            D::ID,
            tally.compared - tally.bit_exact,
            tally.compared
        );
    }
}

#[test]
fn cartpole_matches_gymnasium() {
    check_parity::<CartPole>(false);
}

#[test]
fn acrobot_matches_gymnasium() {
    // NumPy's float32 cos/sin at reset may differ from libm's by one ulp.
    check_parity::<Acrobot>(true);
}

#[test]
fn mountain_car_matches_gymnasium() {
    check_parity::<MountainCar>(false);
}

#[test]
fn mountain_car_continuous_matches_gymnasium() {
    check_parity::<MountainCarContinuous>(false);
}

#[test]
fn pendulum_matches_gymnasium() {
    check_parity::<Pendulum>(false);
}

/// Gymnasium's reset distribution of each environment, as per-variable ranges.
fn reset_bounds(id: &str) -> Vec<(f64, f64)> {
    use std::f64::consts::PI;
    match id {
        "CartPole-v1" => vec![(-0.05, 0.05); 4],
        "Acrobot-v1" => vec![(-0.1, 0.1); 4],
        "MountainCar-v0" | "MountainCarContinuous-v0" => vec![(-0.6, -0.4), (0.0, 0.0)],
        "Pendulum-v1" => vec![(-PI, PI), (-1.0, 1.0)],
        other => panic!("no reset bounds for {other}"),
    }
}

fn check_resets<D: Dynamics>() {
    let bounds = reset_bounds(D::ID);
    let space = D::observation_space();
    let mut env = ClassicEnv::<D>::new();
    let mut lo = vec![f64::INFINITY; bounds.len()];
    let mut hi = vec![f64::NEG_INFINITY; bounds.len()];
    for seed in 0..2000 {
        let obs = env.reset(Some(seed)).unwrap();
        let Space::Box(b) = &space else { panic!("classic control observations are boxes") };
        assert!(b.contains(&obs), "{} reset observation {obs:?} outside {space}", D::ID);
        for (k, v) in env.state().unwrap().into_iter().enumerate() {
            assert!(bounds[k].0 <= v && v <= bounds[k].1, "{} reset state[{k}] = {v} outside {:?}", D::ID, bounds[k]);
            lo[k] = lo[k].min(v);
            hi[k] = hi[k].max(v);
        }
    }
    // The draws cover the whole range, not a corner of it.
    for (k, (a, b)) in bounds.iter().enumerate() {
        let margin = 0.01 * (b - a);
        assert!(lo[k] <= a + margin && hi[k] >= b - margin, "{} state[{k}] only covers [{}, {}]", D::ID, lo[k], hi[k]);
    }
    // Gymnasium's recorded initial states come from the same ranges.
    for traj in load(D::ID).trajectories {
        for (k, v) in traj.initial_state.iter().enumerate() {
            assert!(bounds[k].0 <= *v && *v <= bounds[k].1, "fixture initial state[{k}] = {v} outside {:?}", bounds[k]);
        }
    }
}

#[test]
fn reset_distributions_match_gymnasium() {
    check_resets::<CartPole>();
    check_resets::<Acrobot>();
    check_resets::<MountainCar>();
    check_resets::<MountainCarContinuous>();
    check_resets::<Pendulum>();
}

#[test]
fn acrobot_reset_state_is_float32() {
    let mut env = ClassicEnv::<Acrobot>::new();
    env.reset(Some(3)).unwrap();
    for v in env.state().unwrap() {
        assert_eq!(f64::from(v as f32), v);
    }
}

fn box_bounds(space: &Space) -> (Vec<f32>, Vec<f32>) {
    match space {
        Space::Box(b) => (b.low.clone(), b.high.clone()),
        other => panic!("expected a box, got {other}"),
    }
}

#[test]
fn observation_spaces_match_gymnasium_and_hold_every_fixture_observation() {
    use std::f32::consts::PI;
    let theta2 = (12.0 * 2.0 * std::f64::consts::PI / 360.0 * 2.0) as f32;
    let expected: [(&str, Vec<f32>); 5] = [
        ("CartPole-v1", vec![4.8, f32::INFINITY, theta2, f32::INFINITY]),
        ("Acrobot-v1", vec![1.0, 1.0, 1.0, 1.0, 4.0 * PI, (9.0 * std::f64::consts::PI) as f32]),
        ("MountainCar-v0", vec![0.6, 0.07]),
        ("MountainCarContinuous-v0", vec![0.6, 0.07]),
        ("Pendulum-v1", vec![1.0, 1.0, 8.0]),
    ];
    for (id, high) in expected {
        let env = natgrad_envs::make(id).unwrap();
        let (low, got_high) = box_bounds(env.observation_space());
        assert_eq!(got_high, high, "{id} observation high");
        if id.starts_with("MountainCar") {
            assert_eq!(low, vec![-1.2, -0.07], "{id} observation low");
        } else {
            assert_eq!(low, high.iter().map(|h| -h).collect::<Vec<_>>(), "{id} observation low");
        }
        let Space::Box(space) = env.observation_space() else { unreachable!() };
        for traj in load(id).trajectories {
            let initial: Vec<f32> = traj.initial_obs.iter().map(|v| *v as f32).collect();
            assert!(space.contains(&initial), "{id} fixture initial_obs {initial:?} outside the space");
            for step in traj.steps {
                let obs: Vec<f32> = step.obs.iter().map(|v| *v as f32).collect();
                assert!(space.contains(&obs), "{id} fixture obs {obs:?} outside the space");
            }
        }
    }
}

#[test]
fn ulps_counts_representable_floats_between() {
    assert_eq!(ulps(1.0, 1.0), 0);
    assert_eq!(ulps(1.0, f32::from_bits(1.0f32.to_bits() + 1)), 1);
    assert_eq!(ulps(-0.0, 0.0), 0);
    assert_eq!(ulps(f32::from_bits(1), -f32::from_bits(1)), 2);
}
