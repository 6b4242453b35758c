//! The Gymnasium bridge against natgrad's own environments and its own
//! vector environment. Needs the `gym` feature and Gymnasium in the Python
//! natgrad was built against (scripts/bootstrap installs it).
#![cfg(feature = "gym")]

use natgrad_envs::gym::{GymEnv, GymVecEnv};
use natgrad_envs::{
    Action, Env, EnvError, KwValue, MakeOptions, Restored, Rng, SampleBuffer, VecActions, VecEnv, VectorEnv,
    VectorMode, make, make_vec, make_with, random_actions,
};

fn options() -> MakeOptions {
    MakeOptions::default()
}

/// From the same set state, Gymnasium's CartPole-v1 through the bridge and
/// natgrad's native CartPole-v1 agree on every transition.
#[test]
fn bridged_cartpole_matches_the_native_one_transition_for_transition() {
    let mut gym = GymEnv::make("gym:CartPole-v1", &options()).unwrap();
    let mut native = make("CartPole-v1").unwrap();
    let mut rng = Rng::seed_from_u64(7);
    let mut transitions = 0;
    for episode in 0..40u64 {
        let start = native.reset(Some(episode)).unwrap();
        gym.reset(Some(episode)).unwrap();
        let state = native.state().unwrap();
        gym.set_unwrapped_state(&state).unwrap();
        assert_eq!(gym.unwrapped_state().unwrap().unwrap(), state);
        let _ = start;
        loop {
            let a = rng.below(2) as i64;
            let g = gym.step(Action::Discrete(a)).unwrap();
            let n = native.step(Action::Discrete(a)).unwrap();
            assert_eq!(g, n, "episode {episode}, transition {transitions}");
            assert_eq!(gym.unwrapped_state().unwrap().unwrap(), native.state().unwrap());
            transitions += 1;
            if n.terminated || n.truncated {
                break;
            }
        }
    }
    assert!(transitions > 500, "{transitions}");
}

/// Steps two vector environments with the same actions and checks that they
/// agree on everything a rollout collector reads.
fn assert_same_vector_steps(a: &mut dyn VectorEnv, b: &mut dyn VectorEnv, seed: u64, steps: usize) -> usize {
    assert_eq!(a.reset(Some(seed)).unwrap(), b.reset(Some(seed)).unwrap());
    let n = a.num_envs();
    let space = a.action_space().clone();
    let mut rng = Rng::seed_from_u64(seed);
    let (mut ends, mut truncations) = (0, 0);
    let mut buf = SampleBuffer::default();
    for t in 0..steps {
        let actions = random_actions(&space, n, &mut rng, &mut buf);
        let sa = a.step(actions).unwrap();
        let (obs, rewards, terminated, truncated, episodes) =
            (sa.obs.to_vec(), sa.rewards.to_vec(), sa.terminated.to_vec(), sa.truncated.to_vec(), sa.episodes.to_vec());
        let finals: Vec<Option<Vec<f32>>> = (0..n).map(|i| sa.final_observation(i).map(<[f32]>::to_vec)).collect();
        let sb = b.step(actions).unwrap();
        assert_eq!(obs, sb.obs, "step {t}");
        assert_eq!(rewards, sb.rewards, "step {t}");
        assert_eq!(terminated, sb.terminated, "step {t}");
        assert_eq!(truncated, sb.truncated, "step {t}");
        assert_eq!(episodes, sb.episodes, "step {t}");
        for (i, f) in finals.iter().enumerate() {
            assert_eq!(f.as_deref(), sb.final_observation(i), "step {t}, copy {i}");
            if f.is_some() {
                ends += 1;
                truncations += usize::from(truncated[i] && !terminated[i]);
            }
        }
    }
    assert!(truncations > 0, "the comparison must cover truncations ({ends} episode ends)");
    ends
}

/// Gymnasium's own vector environment (same-step autoreset) gives the same
/// transitions, final observations and episode statistics as natgrad's
/// VecEnv stepping the same copies one by one, in both modes.
#[test]
fn gymnasium_vector_envs_match_stepping_copies_one_by_one() {
    for mode in [VectorMode::Sync, VectorMode::Async] {
        // A short time limit, so that episodes end by truncation as well.
        let opts = MakeOptions { max_episode_steps: Some(60), vector_mode: mode, ..options() };
        let mut vectorized = GymVecEnv::make("Pendulum-v1", 3, &opts).unwrap();
        let mut one_by_one = VecEnv::make("gym:Pendulum-v1", 3, &opts).unwrap();
        let ends = assert_same_vector_steps(&mut vectorized, &mut one_by_one, 11, 400);
        assert!(ends >= 18, "{ends}");
        let opts = MakeOptions { max_episode_steps: Some(15), vector_mode: mode, ..options() };
        let mut vectorized = GymVecEnv::make("CartPole-v1", 2, &opts).unwrap();
        let mut one_by_one = VecEnv::make("gym:CartPole-v1", 2, &opts).unwrap();
        assert_same_vector_steps(&mut vectorized, &mut one_by_one, 3, 3000);
    }
}

/// A MuJoCo environment's state in Gymnasium is saved and restored exactly: after a
/// restore into fresh copies, the same actions give the same transitions.
#[test]
fn mujoco_snapshots_restore_exactly_into_fresh_copies() {
    let opts = options();
    let mut venv = make_vec("gym:InvertedDoublePendulum-v5", 2, &opts).unwrap();
    venv.reset(Some(5)).unwrap();
    let actions = [0.3f32, -0.2];
    for _ in 0..7 {
        venv.step(VecActions::Continuous(&actions)).unwrap();
    }
    let snapshot = venv.snapshot().unwrap();
    let run = |v: &mut dyn VectorEnv| -> Vec<(Vec<f32>, Vec<f64>, Vec<bool>)> {
        (0..200)
            .map(|t| {
                let a = [((t as f32) * 0.37).sin(), ((t as f32) * 0.11).cos()];
                let s = v.step(VecActions::Continuous(&a)).unwrap();
                (s.obs.to_vec(), s.rewards.to_vec(), s.terminated.to_vec())
            })
            .collect()
    };
    let expected = run(venv.as_mut());
    let mut fresh = make_vec("gym:InvertedDoublePendulum-v5", 2, &opts).unwrap();
    fresh.reset(Some(999)).unwrap();
    assert_eq!(fresh.restore(&snapshot).unwrap(), Restored::Exactly);
    assert_eq!(run(fresh.as_mut()), expected);
    assert!(expected.iter().any(|(_, _, t)| t.iter().any(|x| *x)), "the episodes must end and reset within the run");
}

/// Box2D environments cannot be saved: the snapshot says so, and restoring
/// it asks for a restart instead of pretending.
#[test]
fn environments_that_cannot_be_saved_ask_for_a_restart() {
    let mut venv = make_vec("LunarLander-v3", 2, &options()).unwrap();
    venv.reset(Some(1)).unwrap();
    let snapshot = venv.snapshot().unwrap();
    assert_eq!(venv.restore(&snapshot).unwrap(), Restored::EpisodesRestart);
    let err = make_with("LunarLander-v3", &options()).unwrap().snapshot().unwrap_err();
    assert!(matches!(err, EnvError::NotRestorable { .. }), "{err}");
}

#[test]
fn spaces_of_any_box_shape_are_flattened_and_float32_is_kept() {
    let env = make_with("LunarLander-v3", &options()).unwrap();
    assert_eq!(env.observation_space().flat_dim(), 8);
    assert_eq!(env.action_space(), &natgrad_envs::Space::Discrete { n: 4 });
    let hopper = make_with("gym:Hopper-v5", &options()).unwrap();
    assert_eq!(hopper.observation_space().flat_dim(), 11);
    assert_eq!(hopper.action_space().flat_dim(), 3);
    assert_eq!(hopper.spec().max_episode_steps, Some(1000));
    assert_eq!(hopper.spec().id, "gym:Hopper-v5");
}

#[test]
fn kwargs_reach_gymnasium_and_refused_ones_are_named() {
    let opts = MakeOptions { kwargs: vec![("g".into(), KwValue::Float(3.0))], ..options() };
    let env = make_with("gym:Pendulum-v1", &opts).unwrap();
    assert_eq!(env.spec().id, "gym:Pendulum-v1");
    let bad = MakeOptions { kwargs: vec![("gravity_of_mars".into(), KwValue::Float(3.7))], ..options() };
    let msg = make_with("gym:Hopper-v5", &bad).err().unwrap().to_string();
    assert!(msg.contains("TypeError") && msg.contains("gravity_of_mars"), "{msg}");
}

#[test]
fn unknown_ids_name_the_closest_native_and_gymnasium_ids() {
    let msg = make_with("Hoper-v5", &options()).err().unwrap().to_string();
    assert!(msg.contains("unknown environment id 'Hoper-v5'"), "{msg}");
    assert!(msg.contains("'Hopper-v5'"), "{msg}");
    let msg = make_with("CartPol-v1", &options()).err().unwrap().to_string();
    assert!(msg.contains("'CartPole-v1'"), "{msg}");
}

#[test]
fn unsupported_spaces_are_named_with_what_to_do() {
    // Blackjack observes a Tuple of Discretes.
    let msg = make_with("Blackjack-v1", &options()).err().unwrap().to_string();
    assert!(msg.contains("Tuple") && msg.contains("FlattenObservation"), "{msg}");
}

fn breakout_options(fire: bool, vector_mode: VectorMode) -> MakeOptions {
    let mut wrappers =
        vec![natgrad_envs::parse_wrapper("gymnasium.wrappers.AtariPreprocessing:frame_skip=1,screen_size=42").unwrap()];
    if fire {
        wrappers.push(natgrad_envs::parse_wrapper("natgrad.wrappers.FireOnNewLife").unwrap());
    }
    MakeOptions { wrappers, vector_mode, ..options() }
}

/// Steps of NOOP until the episode ends, at most `limit`.
fn noop_steps_to_the_end(env: &mut dyn Env, limit: usize) -> usize {
    env.reset(Some(1)).unwrap();
    (1..=limit).find(|_| env.step(Action::Discrete(0)).unwrap().terminated).unwrap_or(limit + 1)
}

/// Breakout serves its ball only on FIRE: a policy that never presses it
/// plays on without a ball (ALE ends such a game after 27,000 steps).
/// natgrad.wrappers.FireOnNewLife presses it at every new life, so doing
/// nothing loses the five balls within a few hundred steps (124 on seed 1,
/// 2026-12-07), in one copy and in a vector of copies in worker processes;
/// a game without FIRE and a non-Atari environment refuse the wrapper.
#[test]
fn fire_on_new_life_serves_every_ball_of_breakout() {
    let mut bare = make_with("ALE/Breakout-v5", &breakout_options(false, VectorMode::Sync)).unwrap();
    assert_eq!(noop_steps_to_the_end(bare.as_mut(), 1000), 1001, "no FIRE, no ball, no end");
    let mut fire = make_with("ALE/Breakout-v5", &breakout_options(true, VectorMode::Sync)).unwrap();
    let steps = noop_steps_to_the_end(fire.as_mut(), 1000);
    assert!((50..=500).contains(&steps), "five balls lost in {steps} steps");

    let mut venv = make_vec("ALE/Breakout-v5", 2, &breakout_options(true, VectorMode::Async)).unwrap();
    venv.reset(Some(1)).unwrap();
    let mut games = 0;
    for _ in 0..1000 {
        games += venv.step(VecActions::Discrete(&[0, 0])).unwrap().episodes.len();
    }
    assert!(games >= 4, "{games} games of doing nothing in 2 x 1,000 steps");

    let wrapper = vec![natgrad_envs::parse_wrapper("natgrad.wrappers.FireOnNewLife").unwrap()];
    let msg = make_with("gym:CartPole-v1", &MakeOptions { wrappers: wrapper, ..options() }).err().unwrap().to_string();
    assert!(msg.contains("FireOnNewLife") && msg.contains("not an Atari game"), "{msg}");
    let msg = make_with("ALE/Freeway-v5", &breakout_options(true, VectorMode::Sync)).err().unwrap().to_string();
    assert!(msg.contains("has no FIRE action (its actions: NOOP, UP, DOWN)"), "{msg}");
}
