//! The same seed and thread count give a bit-identical learning curve on the
//! CPU. Alone in its test binary: libtorch's generator is process-wide.

use natgrad_agents::natural_gradient::flat_params;
use natgrad_agents::{Agent, Collector, CommonConfig, Control, NaturalGradientConfig, Trpo, TrpoConfig, train};
use natgrad_envs::{BoxSpace, MakeOptions, Space, make_vec};
use tch::{Device, Kind};

/// Every number a run produces, as bits: episode returns and lengths, every
/// update statistic, and the final policy parameters.
fn fingerprint(env_id: &str, obs_dim: usize, space: &Space, seed: u64) -> Vec<u64> {
    tch::set_num_threads(1);
    let config = TrpoConfig {
        common: CommonConfig { n_envs: 2, n_steps: 256, normalize_observations: true, ..CommonConfig::default() },
        natural: NaturalGradientConfig { cg_iters: 15, ..NaturalGradientConfig::default() },
        ..TrpoConfig::default()
    };
    let mut agent = Trpo::new(config, obs_dim, space, Device::Cpu, seed).unwrap();
    let venv = make_vec(env_id, 2, &MakeOptions::default()).unwrap();
    let mut collector = Collector::new(venv, seed, true, None).unwrap();
    let mut out = vec![];
    train(&mut agent, &mut collector, 5_000, 0, |it, _, _| {
        for e in &it.episodes {
            out.extend([e.episode_return.to_bits(), e.length as u64]);
        }
        let s = &it.stats;
        let n = s.natural.unwrap();
        out.extend(
            [s.surrogate_before, s.surrogate_after, s.approx_kl, s.entropy, s.value_loss, n.cg_residual, n.step_size]
                .map(f64::to_bits),
        );
        Control::Continue
    })
    .unwrap();
    let params = flat_params(&agent.policy().parameters()).to_kind(Kind::Double);
    out.extend(Vec::<f64>::try_from(&params).unwrap().iter().map(|v| v.to_bits()));
    out
}

#[test]
fn same_seed_and_threads_give_a_bit_identical_learning_curve() {
    let cartpole = fingerprint("CartPole-v1", 4, &Space::Discrete { n: 2 }, 11);
    assert_eq!(cartpole, fingerprint("CartPole-v1", 4, &Space::Discrete { n: 2 }, 11));
    assert_ne!(cartpole, fingerprint("CartPole-v1", 4, &Space::Discrete { n: 2 }, 12));
    let pendulum = Space::Box(BoxSpace::new(vec![-2.0], vec![2.0]));
    assert_eq!(fingerprint("Pendulum-v1", 3, &pendulum, 5), fingerprint("Pendulum-v1", 3, &pendulum, 5));
}
