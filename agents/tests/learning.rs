//! Seeded learning tests: the agents must learn, not only run. Release mode.
//!
//! libtorch's generator and thread pool are process-wide, so the tests here
//! take a lock and run one at a time: each run is then exactly reproducible.

use std::sync::Mutex;

use natgrad_agents::natural_gradient::{FisherVectorProduct, flat_params, set_flat_params};
use natgrad_agents::policy_fisher::FisherKind;
use natgrad_agents::{
    Acktr, AcktrConfig, Agent, Collector, CommonConfig, Control, NaturalGradientConfig, Npg, NpgConfig,
    PolicyOptimizerConfig, Schedule, Trpo, TrpoConfig, Vpg, VpgConfig, train,
};
use natgrad_envs::{MakeOptions, Space, make_vec};
use tch::{Device, Kind, Tensor};

static TORCH: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    let guard = TORCH.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    tch::set_num_threads(1);
    guard
}

/// Trains and returns every finished episode's return, in order, with the
/// environment steps at which it finished; stops early once the mean of 20
/// consecutive episodes reaches `stop_at`.
fn run(agent: &mut dyn Agent, env_id: &str, seed: u64, total_steps: usize, stop_at: Option<f64>) -> Vec<(usize, f64)> {
    let venv = make_vec(env_id, agent.common().n_envs, &MakeOptions::default()).unwrap();
    let c = agent.common().clone();
    let mut collector =
        Collector::new(venv, seed, c.normalize_observations, c.scale_rewards.then_some(c.gamma)).unwrap();
    let mut returns = vec![];
    train(agent, &mut collector, total_steps, 0, |it, _, _| {
        returns.extend(it.episodes.iter().map(|e| (it.total_steps, e.episode_return)));
        match stop_at {
            Some(threshold) if steps_to_reach(&returns, threshold).is_some() => Control::Stop,
            _ => Control::Continue,
        }
    })
    .unwrap();
    returns
}

/// The first environment step count at which the mean return of 20
/// consecutive training episodes reaches `threshold`.
fn steps_to_reach(returns: &[(usize, f64)], threshold: f64) -> Option<usize> {
    returns.windows(20).find(|w| w.iter().map(|(_, r)| r).sum::<f64>() / 20.0 >= threshold).map(|w| w[19].0)
}

fn zoo_cartpole_trpo() -> TrpoConfig {
    TrpoConfig {
        common: CommonConfig {
            n_envs: 2,
            n_steps: 512,
            gamma: 0.99,
            gae_lambda: 0.98,
            critic_learning_rate: Schedule::Constant(1e-3),
            n_critic_updates: 20,
            critic_batch_size: 512,
            ..CommonConfig::default()
        },
        natural: NaturalGradientConfig { cg_damping: 1e-3, cg_iters: 15, ..NaturalGradientConfig::default() },
        ..TrpoConfig::default()
    }
}

#[test]
fn trpo_solves_cartpole_within_100k_steps_on_three_seeds() {
    let _torch = lock();
    for seed in [0, 1, 2] {
        let mut agent = Trpo::new(zoo_cartpole_trpo(), 4, &Space::Discrete { n: 2 }, Device::Cpu, seed).unwrap();
        let returns = run(&mut agent, "CartPole-v1", seed, 100_000, Some(475.0));
        let reached = steps_to_reach(&returns, 475.0);
        println!("seed {seed}: {} episodes, mean of 20 reached 475 at {reached:?}", returns.len());
        assert!(reached.is_some(), "seed {seed}: TRPO did not reach 475 within 100k steps");
    }
}

/// rl-baselines3-zoo's TRPO settings for Pendulum-v1, without gSDE.
fn zoo_pendulum_trpo() -> TrpoConfig {
    TrpoConfig {
        common: CommonConfig {
            n_envs: 2,
            n_steps: 1024,
            gamma: 0.9,
            gae_lambda: 0.95,
            critic_learning_rate: Schedule::Constant(1e-3),
            n_critic_updates: 20,
            critic_batch_size: 128,
            ..CommonConfig::default()
        },
        natural: NaturalGradientConfig { cg_iters: 15, ..NaturalGradientConfig::default() },
        ..TrpoConfig::default()
    }
}

fn pendulum_space() -> Space {
    Space::Box(natgrad_envs::BoxSpace::new(vec![-2.0], vec![2.0]))
}

#[test]
fn trpo_reaches_minus_200_on_pendulum_within_200k_steps() {
    let _torch = lock();
    for seed in [0, 1, 2] {
        let mut agent = Trpo::new(zoo_pendulum_trpo(), 3, &pendulum_space(), Device::Cpu, seed).unwrap();
        let returns = run(&mut agent, "Pendulum-v1", seed, 200_000, Some(-200.0));
        let reached = steps_to_reach(&returns, -200.0);
        println!("seed {seed}: mean of 20 reached -200 at {reached:?}");
        assert!(reached.is_some(), "seed {seed}: TRPO did not reach -200 on Pendulum within 200k steps");
    }
}

#[test]
fn vpg_clearly_improves_on_cartpole() {
    let _torch = lock();
    let config = VpgConfig {
        common: zoo_cartpole_trpo().common,
        policy_optimizer: PolicyOptimizerConfig { learning_rate: Schedule::Constant(1e-3) },
    };
    let mut agent = Vpg::new(config, 4, &Space::Discrete { n: 2 }, Device::Cpu, 0).unwrap();
    let returns = run(&mut agent, "CartPole-v1", 0, 100_000, None);
    let mean = |s: &[(usize, f64)]| s.iter().map(|(_, r)| r).sum::<f64>() / s.len() as f64;
    let (first, last) = (mean(&returns[..20]), mean(&returns[returns.len() - 20..]));
    println!("VPG on CartPole: first 20 episodes {first:.1}, last 20 {last:.1}");
    // A random policy averages about 22; 150 is far beyond chance.
    assert!(first < 50.0 && last >= 150.0, "VPG did not improve: {first:.1} -> {last:.1}");
}

fn bits(t: &Tensor) -> Vec<u64> {
    Vec::<f64>::try_from(&t.to_kind(Kind::Double)).unwrap().iter().map(|v| v.to_bits()).collect()
}

/// After every TRPO update the mean KL(old ‖ new), computed here
/// independently, is within target_kl and the surrogate did not get worse;
/// or nothing was applied and the parameters are bit-identical to before.
/// The progress remaining falls from 1 to 0 over the iterations, as over a
/// run, so a scheduled target_kl is checked at each of its values.
fn check_trust_region(config: TrpoConfig, env_id: &str, obs_dim: usize, space: &Space, iterations: usize) {
    const SEED: u64 = 7;
    let schedule = config.natural.target_kl;
    let mut agent = Trpo::new(config, obs_dim, space, Device::Cpu, SEED).unwrap();
    let c = agent.common().clone();
    let venv = make_vec(env_id, c.n_envs, &MakeOptions::default()).unwrap();
    let mut collector = Collector::new(venv, SEED, false, None).unwrap();
    let (mut applied, mut refused) = (0, 0);
    for i in 0..iterations {
        let rollout = collector.collect(agent.policy(), agent.value_function(), &c).unwrap();
        let progress = 1.0 - i as f64 / (iterations - 1) as f64;
        agent.core_mut().progress_remaining = progress;
        let target_kl = schedule.value(progress);
        let before = flat_params(&agent.policy().parameters());
        let old = tch::no_grad(|| agent.policy().dist(&rollout.obs));
        let stats = agent.update(&rollout).unwrap();
        let after = flat_params(&agent.policy().parameters());
        let natural = stats.natural.unwrap();
        if natural.line_search_success {
            applied += 1;
            let kl = tch::no_grad(|| old.kl(&agent.policy().dist(&rollout.obs)).mean(None::<Kind>).double_value(&[]));
            assert!(kl <= target_kl, "iteration {i}: KL {kl} > {target_kl}");
            assert!((kl - stats.approx_kl).abs() <= 1e-6, "iteration {i}: reported KL {} vs {kl}", stats.approx_kl);
            assert!(stats.surrogate_after >= stats.surrogate_before, "iteration {i}: surrogate got worse");
            assert_ne!(bits(&before), bits(&after));
        } else {
            refused += 1;
            assert_eq!(bits(&before), bits(&after), "iteration {i}: a refused step changed the parameters");
        }
    }
    println!("{env_id}: {applied} updates applied, {refused} refused");
    assert!(applied > 0);
}

#[test]
fn every_trpo_update_stays_in_the_trust_region_or_changes_nothing() {
    let _torch = lock();
    check_trust_region(zoo_cartpole_trpo(), "CartPole-v1", 4, &Space::Discrete { n: 2 }, 15);
    check_trust_region(zoo_pendulum_trpo(), "Pendulum-v1", 3, &pendulum_space(), 10);
    let mut gsde = zoo_pendulum_trpo();
    gsde.common.use_sde = true;
    gsde.common.sde_sample_freq = 4;
    check_trust_region(gsde, "Pendulum-v1", 3, &pendulum_space(), 10);
    // A trust region so small that float32 noise in the KL often exceeds it:
    // the refused updates must leave the parameters untouched.
    let mut tiny = zoo_cartpole_trpo();
    tiny.natural.target_kl = Schedule::Constant(1e-9);
    tiny.line_search.line_search_max_backtracks = 2;
    check_trust_region(tiny, "CartPole-v1", 4, &Space::Discrete { n: 2 }, 5);
    let mut linear = zoo_cartpole_trpo();
    linear.natural.target_kl = Schedule::Linear { initial: 0.01 };
    check_trust_region(linear, "CartPole-v1", 4, &Space::Discrete { n: 2 }, 6);
}

/// One update at the end of training (progress remaining 0) on a CartPole
/// batch: whether it moved the policy and the critic, and its step's stats.
fn update_at_the_end(mut agent: Box<dyn Agent>) -> (bool, bool, Option<natgrad_agents::agent::NaturalStepStats>) {
    let c = agent.common().clone();
    let venv = make_vec("CartPole-v1", c.n_envs, &MakeOptions::default()).unwrap();
    let mut collector = Collector::new(venv, 3, false, None).unwrap();
    let rollout = collector.collect(agent.policy(), agent.value_function(), &c).unwrap();
    agent.core_mut().progress_remaining = 0.0;
    let policy = bits(&flat_params(&agent.policy().parameters()));
    let value = bits(&flat_params(&agent.value_function().parameters()));
    let stats = agent.update(&rollout).unwrap();
    let moved = |before: Vec<u64>, now: Vec<Tensor>| before != bits(&flat_params(&now));
    (moved(policy, agent.policy().parameters()), moved(value, agent.value_function().parameters()), stats.natural)
}

/// A linear schedule ends at 0: the last update of a run moves nothing that
/// its schedule drives (TRPO's and NPG's trust region, VPG's and ACKTR's
/// learning rates, the critic's), where the constant still takes its step.
#[test]
fn linear_schedules_take_no_step_at_the_end_of_training() {
    let _torch = lock();
    let space = Space::Discrete { n: 2 };
    let (lin, constant) = (Schedule::Linear { initial: 0.01 }, Schedule::Constant(0.01));
    for (schedule, moves) in [(lin, false), (constant, true)] {
        let mut config = zoo_cartpole_trpo();
        config.natural.target_kl = schedule;
        let trpo = Trpo::new(config, 4, &space, Device::Cpu, 3).unwrap();
        let (policy_moved, _, natural) = update_at_the_end(Box::new(trpo));
        let natural = natural.unwrap();
        assert_eq!((policy_moved, natural.line_search_success), (moves, moves), "trpo {schedule}");
        assert!(!natural.skipped_bad_curvature, "{schedule}: the curvature was fine");
        let (trust_region, reason) = if moves { (0.01, None) } else { (0.0, Some("schedule_end")) };
        assert_eq!((natural.target_kl, natural.skip_reason()), (trust_region, reason), "trpo {schedule}");

        let mut config = zoo_cartpole_trpo();
        config.natural.target_kl = schedule;
        let npg = Npg::new(NpgConfig { common: config.common, natural: config.natural }, 4, &space, Device::Cpu, 3);
        let (policy_moved, _, natural) = update_at_the_end(Box::new(npg.unwrap()));
        assert_eq!((policy_moved, natural.unwrap().skip_reason()), (moves, reason), "npg {schedule}");
    }
    for moves in [false, true] {
        let rate = |v: f64| if moves { Schedule::Constant(v) } else { Schedule::Linear { initial: v } };
        let mut common = zoo_cartpole_trpo().common;
        common.critic_learning_rate = rate(1e-3);
        let config = VpgConfig { common, policy_optimizer: PolicyOptimizerConfig { learning_rate: rate(0.1) } };
        let (policy_moved, value_moved, _) =
            update_at_the_end(Box::new(Vpg::new(config, 4, &space, Device::Cpu, 3).unwrap()));
        assert_eq!((policy_moved, value_moved), (moves, moves), "vpg, constant rates: {moves}");

        let mut config = AcktrConfig::default();
        (config.optimizer.learning_rate, config.optimizer.vf_learning_rate) = (rate(0.25), rate(0.25));
        let acktr = Acktr::new(config, 4, &space, Device::Cpu, 3).unwrap();
        let (policy_moved, value_moved, natural) = update_at_the_end(Box::new(acktr));
        assert_eq!((policy_moved, value_moved), (moves, moves), "acktr, constant rates: {moves}");
        let reason = if moves { None } else { Some("schedule_end") };
        assert_eq!(natural.unwrap().skip_reason(), reason, "acktr, constant rates: {moves}");
    }
}

#[test]
fn trpo_keeps_its_trust_region_with_every_approximate_fisher() {
    let _torch = lock();
    for fisher in [FisherKind::Kfac, FisherKind::Diagonal, FisherKind::Empirical] {
        println!("fisher = {fisher}");
        let with = |mut config: TrpoConfig| {
            config.natural.fisher = fisher;
            config
        };
        check_trust_region(with(zoo_cartpole_trpo()), "CartPole-v1", 4, &Space::Discrete { n: 2 }, 8);
        let mut gsde = with(zoo_pendulum_trpo());
        gsde.common.use_sde = true;
        gsde.common.sde_sample_freq = 4;
        check_trust_region(gsde, "Pendulum-v1", 3, &pendulum_space(), 6);
        let mut tiny = with(zoo_cartpole_trpo());
        tiny.natural.target_kl = Schedule::Constant(1e-9);
        tiny.line_search.line_search_max_backtracks = 2;
        check_trust_region(tiny, "CartPole-v1", 4, &Space::Discrete { n: 2 }, 3);
    }
}

#[test]
fn acktr_solves_cartpole_within_100k_steps_on_three_seeds() {
    let _torch = lock();
    for seed in [1, 2, 3] {
        // ACKTR's defaults are the CartPole-v1 preset.
        let mut agent = Acktr::new(AcktrConfig::default(), 4, &Space::Discrete { n: 2 }, Device::Cpu, seed).unwrap();
        let returns = run(&mut agent, "CartPole-v1", seed, 100_000, Some(475.0));
        let reached = steps_to_reach(&returns, 475.0);
        println!("seed {seed}: mean of 20 reached 475 at {reached:?}");
        assert!(reached.is_some(), "seed {seed}: ACKTR did not reach 475 within 100k steps");
    }
}

#[test]
fn acktr_reaches_minus_200_on_pendulum_within_200k_steps() {
    let _torch = lock();
    // The Pendulum-v1 preset.
    let mut config = AcktrConfig::default();
    config.common.n_steps = 64;
    config.common.gamma = 0.9;
    for seed in [1, 2] {
        let mut agent = Acktr::new(config.clone(), 3, &pendulum_space(), Device::Cpu, seed).unwrap();
        let returns = run(&mut agent, "Pendulum-v1", seed, 200_000, Some(-200.0));
        let reached = steps_to_reach(&returns, -200.0);
        println!("seed {seed}: mean of 20 reached -200 at {reached:?}");
        assert!(reached.is_some(), "seed {seed}: ACKTR did not reach -200 on Pendulum within 200k steps");
    }
}

/// With `exact_kl`, ACKTR's predicted KL is ½ sᵀFs of the step s it applied,
/// F the exact Fisher of the batch at θ_old (computed here by double
/// backprop, the agent's by JᵀMJ), and where the clip binds it is the target
/// and the measured KL is close to it; K-FAC's own model (damped, averaged
/// over batches) gives another prediction for the same kind of step.
#[test]
fn acktr_exact_kl_model_predicts_the_step_it_takes() {
    let _torch = lock();
    for exact_kl in [true, false] {
        let mut config = AcktrConfig::default();
        config.optimizer.exact_kl = exact_kl;
        config.optimizer.target_kl = 1e-4;
        let mut agent = Acktr::new(config, 4, &Space::Discrete { n: 2 }, Device::Cpu, 5).unwrap();
        let c = agent.common().clone();
        let venv = make_vec("CartPole-v1", c.n_envs, &MakeOptions::default()).unwrap();
        let mut collector = Collector::new(venv, 5, false, None).unwrap();
        let (mut worst, mut clipped): (f64, usize) = (0.0, 0);
        for i in 0..12 {
            let rollout = collector.collect(agent.policy(), agent.value_function(), &c).unwrap();
            let params = agent.policy().parameters();
            let before = flat_params(&params);
            let natural = agent.update(&rollout).unwrap().natural.unwrap();
            let after = flat_params(&params);
            set_flat_params(&params, &before);
            let old = tch::no_grad(|| agent.policy().dist(&rollout.obs)).detach();
            let mean_kl = old.kl(&agent.policy().dist(&rollout.obs)).mean(None::<Kind>);
            let fisher = FisherVectorProduct::new(&mean_kl, &params, 0.0);
            let step = &after - &before;
            let quadratic = 0.5 * step.dot(&fisher.apply(&step)).double_value(&[]);
            set_flat_params(&params, &after);
            let error = (natural.predicted_kl - quadratic).abs() / quadratic;
            worst = worst.max(error);
            if exact_kl {
                assert!(error < 1e-3, "update {i}: predicted {} against ½sᵀFs {quadratic}", natural.predicted_kl);
                if natural.step_size < 2.0 {
                    clipped += 1;
                    assert!(
                        (natural.predicted_kl - 1e-4).abs() < 1e-9,
                        "update {i}: a clipped step's KL is the target"
                    );
                }
                let kl =
                    tch::no_grad(|| old.kl(&agent.policy().dist(&rollout.obs)).mean(None::<Kind>).double_value(&[]));
                let ratio = kl / natural.predicted_kl;
                assert!(
                    (0.8..1.25).contains(&ratio),
                    "update {i}: measured KL {kl}, predicted {}",
                    natural.predicted_kl
                );
            }
        }
        println!("exact_kl = {exact_kl}: prediction against ½sᵀFs, worst relative error {worst:.3}");
        if exact_kl {
            assert!(clipped > 0, "the clip never bound: lower target_kl");
        } else {
            assert!(worst > 0.05, "K-FAC's model should differ from the exact quadratic");
        }
    }
}

#[test]
fn a_batch_without_signal_is_skipped_not_applied() {
    let _torch = lock();
    let mut agent = Trpo::new(zoo_cartpole_trpo(), 4, &Space::Discrete { n: 2 }, Device::Cpu, 3).unwrap();
    let venv = make_vec("CartPole-v1", 2, &MakeOptions::default()).unwrap();
    let mut collector = Collector::new(venv, 3, false, None).unwrap();
    let mut c = agent.common().clone();
    c.n_steps = 64;
    let mut rollout = collector.collect(agent.policy(), agent.value_function(), &c).unwrap();
    // Zero advantages: the gradient is zero, so is sᵀFs, and no step exists.
    rollout.advantages = rollout.advantages.zeros_like();
    let before = flat_params(&agent.policy().parameters());
    let stats = agent.update(&rollout).unwrap();
    let natural = stats.natural.unwrap();
    assert!(natural.skipped_bad_curvature && !natural.line_search_success);
    assert_eq!(natural.step_size, 0.0);
    assert_eq!(bits(&before), bits(&flat_params(&agent.policy().parameters())));
}
