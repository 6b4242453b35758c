//! The same seed and thread count give a bit-identical learning curve on the
//! CPU, with the critic fitted after the policy step or beside it. The tests
//! take turns: libtorch's generator is process-wide.

use natgrad_agents::agent::{parallel_critic, set_parallel_critic};
use natgrad_agents::natural_gradient::flat_params;
use natgrad_agents::{
    Agent, Collector, CommonConfig, Control, NaturalGradientConfig, Npg, NpgConfig, Trpo, TrpoConfig, Vpg, VpgConfig,
    train,
};
use natgrad_envs::{BoxSpace, MakeOptions, Space, make_vec};
use tch::{Device, Kind};

/// Every number a run produces, as bits: episode returns and lengths, every
/// update statistic, and the final policy and value parameters.
fn fingerprint_of(agent: &mut dyn Agent, env_id: &str, seed: u64) -> Vec<u64> {
    let venv = make_vec(env_id, 2, &MakeOptions::default()).unwrap();
    let mut collector = Collector::new(venv, seed, true, None).unwrap();
    let mut out = vec![];
    train(agent, &mut collector, 5_000, 0, |it, _, _| {
        for e in &it.episodes {
            out.extend([e.episode_return.to_bits(), e.length as u64]);
        }
        let s = &it.stats;
        let n = s.natural.unwrap_or_default();
        out.extend(
            [s.surrogate_before, s.surrogate_after, s.approx_kl, s.entropy, s.value_loss, n.cg_residual, n.step_size]
                .map(f64::to_bits),
        );
        Control::Continue
    })
    .unwrap();
    for params in [agent.policy().parameters(), agent.value_function().parameters()] {
        let flat = flat_params(&params).to_kind(Kind::Double);
        out.extend(Vec::<f64>::try_from(&flat).unwrap().iter().map(|v| v.to_bits()));
    }
    out
}

/// libtorch's generator is process-wide: one test at a time seeds it. One
/// thread from the start: the networks' orthogonal initialisation (a QR)
/// rounds differently with two.
fn lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    tch::set_num_threads(1);
    guard
}

type MakeAgent<'a> = Box<dyn Fn() -> Box<dyn Agent> + 'a>;

fn common() -> CommonConfig {
    CommonConfig { n_envs: 2, n_steps: 256, normalize_observations: true, ..CommonConfig::default() }
}

fn trpo_config() -> TrpoConfig {
    TrpoConfig {
        common: common(),
        natural: NaturalGradientConfig { cg_iters: 15, ..NaturalGradientConfig::default() },
        ..TrpoConfig::default()
    }
}

fn fingerprint(env_id: &str, obs_dim: usize, space: &Space, seed: u64) -> Vec<u64> {
    let mut agent = Trpo::new(trpo_config(), obs_dim, space, Device::Cpu, seed).unwrap();
    fingerprint_of(&mut agent, env_id, seed)
}

#[test]
fn same_seed_and_threads_give_a_bit_identical_learning_curve() {
    let _lock = lock();
    let cartpole = fingerprint("CartPole-v1", 4, &Space::Discrete { n: 2 }, 11);
    assert_eq!(cartpole, fingerprint("CartPole-v1", 4, &Space::Discrete { n: 2 }, 11));
    assert_ne!(cartpole, fingerprint("CartPole-v1", 4, &Space::Discrete { n: 2 }, 12));
    let pendulum = Space::Box(BoxSpace::new(vec![-2.0], vec![2.0]));
    assert_eq!(fingerprint("Pendulum-v1", 3, &pendulum, 5), fingerprint("Pendulum-v1", 3, &pendulum, 5));
}

/// The critic fitted on its own thread beside the policy step gives the same
/// bits as fitted after it, for every agent that shares the critic's fit
/// (TRPO, NPG, VPG), with a categorical and a gSDE policy.
#[test]
fn the_critic_on_its_own_thread_changes_no_result() {
    let _lock = lock();
    let pendulum = Space::Box(BoxSpace::new(vec![-2.0], vec![2.0]));
    let sde = CommonConfig { use_sde: true, sde_sample_freq: 4, ..common() };
    let agents: [(&str, &str, MakeAgent); 4] = [
        (
            "TRPO",
            "CartPole-v1",
            Box::new(|| Box::new(Trpo::new(trpo_config(), 4, &Space::Discrete { n: 2 }, Device::Cpu, 3).unwrap())),
        ),
        (
            "TRPO with gSDE",
            "Pendulum-v1",
            Box::new(|| {
                let config = TrpoConfig { common: sde.clone(), ..trpo_config() };
                Box::new(Trpo::new(config, 3, &pendulum, Device::Cpu, 3).unwrap())
            }),
        ),
        (
            "NPG",
            "CartPole-v1",
            Box::new(|| {
                let config = NpgConfig { common: common(), ..NpgConfig::default() };
                Box::new(Npg::new(config, 4, &Space::Discrete { n: 2 }, Device::Cpu, 3).unwrap())
            }),
        ),
        (
            "VPG",
            "CartPole-v1",
            Box::new(|| {
                let config = VpgConfig { common: common(), ..VpgConfig::default() };
                Box::new(Vpg::new(config, 4, &Space::Discrete { n: 2 }, Device::Cpu, 3).unwrap())
            }),
        ),
    ];
    for (name, env_id, make) in &agents {
        set_parallel_critic(false);
        let after = fingerprint_of(make().as_mut(), env_id, 3);
        set_parallel_critic(true);
        assert!(parallel_critic());
        let beside = fingerprint_of(make().as_mut(), env_id, 3);
        set_parallel_critic(false);
        assert_eq!(after.len(), beside.len(), "{name}");
        assert!(after == beside, "{name}: the parallel critic changed the run");
    }
}
