//! The native MuJoCo tasks as environments: snapshots that continue exactly,
//! vectorized stepping whose results do not depend on the thread count, a
//! user's model file, and clear errors.

use natgrad_envs::{
    Action, Env, EnvError, EnvSnapshot, KwValue, MakeOptions, Rng, SampleBuffer, VecEnv, VectorEnv, make, make_with,
    random_actions,
};

const MUJOCO: [&str; 9] = [
    "Hopper-v5",
    "Walker2d-v5",
    "HalfCheetah-v5",
    "Swimmer-v5",
    "Ant-v5",
    "InvertedPendulum-v5",
    "InvertedDoublePendulum-v5",
    "Reacher-v5",
    "Humanoid-v5",
];

/// Small random actions (the bodies stay up for a while), `n` of them.
fn actions(env: &dyn Env, n: usize, seed: u64) -> Vec<Vec<f32>> {
    let dim = env.action_space().flat_dim();
    let mut rng = Rng::seed_from_u64(seed);
    (0..n).map(|_| (0..dim).map(|_| rng.uniform_range(-0.3, 0.3) as f32).collect()).collect()
}

/// Steps `env` through `actions`, resetting (unseeded) after an episode ends;
/// returns every observation, reward and flag, and the state, as bits.
fn run(env: &mut dyn Env, actions: &[Vec<f32>]) -> Vec<u64> {
    let mut out = vec![];
    for a in actions {
        let step = env.step(Action::Continuous(a)).unwrap();
        out.extend(step.obs.iter().map(|v| u64::from(v.to_bits())));
        out.extend([step.reward.to_bits(), u64::from(step.terminated), u64::from(step.truncated)]);
        out.extend(env.state().unwrap().iter().map(|v| v.to_bits()));
        if step.terminated || step.truncated {
            out.extend(env.reset(None).unwrap().iter().map(|v| u64::from(v.to_bits())));
        }
    }
    out
}

#[test]
fn a_snapshot_mid_episode_continues_exactly_in_a_fresh_copy() {
    for id in MUJOCO {
        let mut env = make(id).unwrap();
        env.reset(Some(11)).unwrap();
        let acts = actions(env.as_ref(), 120, 1);
        run(env.as_mut(), &acts[..15]);
        let snapshot = env.snapshot().unwrap();
        let straight = run(env.as_mut(), &acts[15..]);
        let mut copy = make(id).unwrap();
        copy.restore(&snapshot).unwrap();
        let resumed = run(copy.as_mut(), &acts[15..]);
        let first_difference = resumed.iter().zip(&straight).position(|(a, b)| a != b);
        assert_eq!((first_difference, resumed.len()), (None, straight.len()), "{id}");
        // Someone else's words are refused, not misread.
        let other = if id == "Hopper-v5" { "Ant-v5" } else { "Hopper-v5" };
        let mut wrong = make(other).unwrap();
        wrong.reset(Some(0)).unwrap();
        assert!(matches!(wrong.restore(&snapshot), Err(EnvError::BadSnapshot(_))), "{id} into {other}");
        assert!(matches!(wrong.restore(&EnvSnapshot(vec![1, 2])), Err(EnvError::BadSnapshot(_))));
    }
}

fn vector_run(id: &str, copies: usize, threads: usize) -> Vec<u64> {
    let mut venv = VecEnv::make(id, copies, &MakeOptions::default()).unwrap().with_threads(threads);
    venv.reset(Some(5)).unwrap();
    let space = venv.action_space().clone();
    let mut rng = Rng::seed_from_u64(3);
    let mut buf = SampleBuffer::default();
    let mut out = vec![];
    for _ in 0..300 {
        let step = venv.step(random_actions(&space, copies, &mut rng, &mut buf)).unwrap();
        out.extend(step.obs.iter().map(|v| u64::from(v.to_bits())));
        out.extend(step.rewards.iter().map(|r| r.to_bits()));
        out.extend(step.terminated.iter().chain(step.truncated).map(|f| u64::from(*f)));
        for e in step.episodes {
            out.extend([e.env_index as u64, e.episode_return.to_bits(), e.length as u64]);
        }
        for i in 0..copies {
            if let Some(last) = step.final_observation(i) {
                out.extend(last.iter().map(|v| u64::from(v.to_bits())));
            }
        }
    }
    out
}

#[test]
fn vectorized_results_do_not_depend_on_the_thread_count() {
    for id in ["Ant-v5", "Hopper-v5", "Reacher-v5"] {
        let one = vector_run(id, 5, 1);
        for threads in [2, 3, 5, 8] {
            assert_eq!(vector_run(id, 5, threads), one, "{id} on {threads} threads");
        }
    }
}

#[test]
fn keyword_arguments_and_a_users_model_file() {
    let kw = |pairs: &[(&str, KwValue)]| MakeOptions {
        kwargs: pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        ..Default::default()
    };
    // The default model named by an absolute path is the same environment.
    let assets = std::path::PathBuf::from(env!("NATGRAD_MUJOCO_ASSETS"));
    let path = assets.join("hopper.xml").display().to_string();
    let mut own = make_with("Hopper-v5", &kw(&[("xml_file", KwValue::Str(path))])).unwrap();
    let mut default = make("Hopper-v5").unwrap();
    own.reset(Some(2)).unwrap();
    default.reset(Some(2)).unwrap();
    let acts = actions(default.as_ref(), 50, 2);
    assert_eq!(run(own.as_mut(), &acts), run(default.as_mut(), &acts));
    // A weight changes the reward, not the physics.
    let mut cheap = make_with("Hopper-v5", &kw(&[("ctrl_cost_weight", KwValue::Float(0.0))])).unwrap();
    let mut dear = make_with("Hopper-v5", &kw(&[("ctrl_cost_weight", KwValue::Float(1.0))])).unwrap();
    cheap.reset(Some(2)).unwrap();
    dear.reset(Some(2)).unwrap();
    let (a, b) =
        (cheap.step(Action::Continuous(&[0.5; 3])).unwrap(), dear.step(Action::Continuous(&[0.5; 3])).unwrap());
    assert_eq!(a.obs, b.obs);
    assert!((a.reward - b.reward - 0.75).abs() < 1e-12, "{} {}", a.reward, b.reward);
    // Ant without contact forces in its observation: 27 values instead of 105.
    let ant = make_with("Ant-v5", &kw(&[("include_cfrc_ext_in_observation", KwValue::Bool(false))])).unwrap();
    assert_eq!((make("Ant-v5").unwrap().observation_space().flat_dim(), ant.observation_space().flat_dim()), (105, 27));
    let bad = |id: &str, pairs: &[(&str, KwValue)]| make_with(id, &kw(pairs)).err().unwrap().to_string();
    // Ranges are tuples: a Hopper healthy at any height and angle never falls.
    let wide = KwValue::Tuple(vec![KwValue::Float(f64::NEG_INFINITY), KwValue::Float(f64::INFINITY)]);
    let ends = |options: &MakeOptions| {
        let mut env = make_with("Hopper-v5", options).unwrap();
        env.reset(Some(4)).unwrap();
        (0..200)
            .filter(|t| {
                env.step(Action::Continuous(&[1.0, -1.0, if t % 2 == 0 { 1.0 } else { -1.0 }]))
                    .map_or(true, |s| s.terminated)
            })
            .count()
            > 0
    };
    assert!(ends(&MakeOptions::default()));
    assert!(!ends(&kw(&[("healthy_z_range", wide.clone()), ("healthy_angle_range", wide)])));
    let one = KwValue::Tuple(vec![KwValue::Float(1.0)]);
    assert!(bad("Hopper-v5", &[("healthy_z_range", one)]).contains("(low, high), two numbers"));
    assert!(bad("Hopper-v5", &[("healthy_z", KwValue::Float(1.0))]).contains("no keyword argument 'healthy_z'"));
    assert!(bad("Hopper-v5", &[("frame_skip", KwValue::Float(2.5))]).contains("frame_skip must be an integer"));
    assert!(bad("Ant-v5", &[("main_body", KwValue::Str("tail".into()))]).contains("main_body"));
    assert!(bad("Hopper-v5", &[("xml_file", KwValue::Str("/nonexistent.xml".into()))]).contains("no such file"));
    let broken = std::env::temp_dir().join(format!("natgrad-broken-{}.xml", std::process::id()));
    std::fs::write(&broken, "<mujoco><worldbody><body></mujoco>").unwrap();
    let message = bad("Hopper-v5", &[("xml_file", KwValue::Str(broken.display().to_string()))]);
    std::fs::remove_file(&broken).unwrap();
    assert!(message.starts_with("MuJoCo could not load"), "{message}");
}

#[test]
fn misuse_is_an_error_not_a_crash() {
    let mut env = make("Hopper-v5").unwrap();
    assert_eq!(env.step(Action::Continuous(&[0.0; 3])).err(), Some(EnvError::NotReset));
    assert_eq!(env.state(), None);
    env.reset(Some(0)).unwrap();
    assert!(matches!(env.step(Action::Continuous(&[0.0; 2])), Err(EnvError::ActionDimension { .. })));
    assert!(matches!(env.step(Action::Continuous(&[f32::NAN, 0.0, 0.0])), Err(EnvError::NonFiniteAction { .. })));
    assert!(matches!(env.set_state(&[0.0; 3]), Err(EnvError::StateDimension { .. })));
    // Writing the state is Gymnasium's set_state: the next step starts there.
    let state = env.state().unwrap();
    let first = env.step(Action::Continuous(&[0.1; 3])).unwrap();
    env.set_state(&state).unwrap();
    assert_eq!(env.step(Action::Continuous(&[0.1; 3])).unwrap().obs.len(), first.obs.len());
}
