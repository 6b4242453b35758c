//! Every learning code path on a GPU: each agent, each Fisher and both ways
//! of computing an exact Fisher-vector product, with categorical, Gaussian
//! and gSDE policies, the critic fitted after and beside the policy step.
//! Runs only where libtorch sees a GPU (`tch::Cuda::is_available()`); on
//! other machines it says so and passes.

use natgrad_agents::agent::set_parallel_critic;
use natgrad_agents::generator::seeded;
use natgrad_agents::jacobian_fvp::{FvpMethod, JacobianFisherProduct};
use natgrad_agents::natural_gradient::FisherVectorProduct;
use natgrad_agents::policy::{Policy, Sde};
use natgrad_agents::policy_fisher::FisherKind;
use natgrad_agents::{
    Acktr, AcktrConfig, Agent, Collector, CommonConfig, Control, NaturalGradientConfig, Npg, NpgConfig, Trpo,
    TrpoConfig, Vpg, VpgConfig, train,
};
use natgrad_envs::{BoxSpace, MakeOptions, Space, make_vec};
use tch::{Device, Kind, Tensor};

fn gpu() -> Option<Device> {
    if tch::Cuda::is_available() {
        Some(Device::Cuda(0))
    } else {
        eprintln!("no GPU visible to libtorch: the CUDA paths are not exercised on this machine");
        None
    }
}

fn pendulum() -> Space {
    Space::Box(BoxSpace::new(vec![-2.0], vec![2.0]))
}

fn common(sde: bool) -> CommonConfig {
    CommonConfig {
        n_envs: 2,
        n_steps: 128,
        normalize_observations: true,
        use_sde: sde,
        sde_sample_freq: if sde { 4 } else { 0 },
        ..CommonConfig::default()
    }
}

/// Trains `agent` for a few iterations on `env_id`; every update must be
/// finite and every network must stay on the GPU.
fn trains_on(name: &str, agent: &mut dyn Agent, env_id: &str, device: Device) {
    let venv = make_vec(env_id, 2, &MakeOptions::default()).unwrap();
    let mut collector = Collector::new(venv, 1, true, None).unwrap();
    let mut iterations = 0;
    train(agent, &mut collector, 1_024, 0, |it, _, _| {
        let s = &it.stats;
        assert!(s.approx_kl.is_finite() && s.value_loss.is_finite() && s.entropy.is_finite(), "{name}: {s:?}");
        iterations += 1;
        Control::Continue
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(iterations, 4, "{name}");
    for p in agent.policy().parameters().iter().chain(&agent.value_function().parameters()) {
        assert_eq!(p.device(), device, "{name}: a parameter left the GPU");
    }
}

#[test]
fn every_agent_and_fisher_trains_on_a_gpu() {
    let Some(device) = gpu() else { return };
    for parallel in [false, true] {
        set_parallel_critic(parallel);
        for (env_id, obs_dim, space, sde) in [
            ("CartPole-v1", 4, Space::Discrete { n: 2 }, false),
            ("Pendulum-v1", 3, pendulum(), false),
            ("Pendulum-v1", 3, pendulum(), true),
        ] {
            for fisher in FisherKind::ALL {
                for fvp in FvpMethod::ALL {
                    let natural = NaturalGradientConfig { fisher, fvp, ..NaturalGradientConfig::default() };
                    let config = TrpoConfig { common: common(sde), natural, ..TrpoConfig::default() };
                    let mut trpo = Trpo::new(config, obs_dim, &space, device, 1).unwrap();
                    trains_on(&format!("TRPO {fisher:?} {fvp} {env_id} sde {sde}"), &mut trpo, env_id, device);
                }
            }
            let config = NpgConfig { common: common(sde), ..NpgConfig::default() };
            trains_on(
                &format!("NPG {env_id}"),
                &mut Npg::new(config, obs_dim, &space, device, 1).unwrap(),
                env_id,
                device,
            );
            let config = VpgConfig { common: common(sde), ..VpgConfig::default() };
            trains_on(
                &format!("VPG {env_id}"),
                &mut Vpg::new(config, obs_dim, &space, device, 1).unwrap(),
                env_id,
                device,
            );
            let config = AcktrConfig { common: common(sde), ..AcktrConfig::default() };
            let mut acktr = Acktr::new(config, obs_dim, &space, device, 1).unwrap();
            trains_on(&format!("ACKTR {env_id} sde {sde}"), &mut acktr, env_id, device);
        }
    }
    set_parallel_critic(false);
}

/// The hand-written product equals double backprop on the GPU too, for
/// every head.
#[test]
fn the_jacobian_product_equals_double_backprop_on_a_gpu() {
    let Some(device) = gpu() else { return };
    let sde = Sde { full_std: true, use_expln: false, learn_features: true };
    for (space, sde) in [(Space::Discrete { n: 3 }, None), (pendulum(), None), (pendulum(), Some(sde))] {
        let (policy, obs) = seeded(0, || {
            let policy = Policy::new(3, &space, &[64, 64], -0.5, sde, device).unwrap();
            (policy, Tensor::randn([512, 3], (Kind::Float, device)))
        });
        let old = tch::no_grad(|| policy.dist(&obs)).detach();
        let kl = old.kl(&policy.dist(&obs)).mean(None::<Kind>);
        let reference = FisherVectorProduct::new(&kl, &policy.parameters(), 0.1);
        let jacobian = JacobianFisherProduct::new(&policy, &obs, 0.1);
        let count: i64 = policy.parameters().iter().map(|p| p.numel() as i64).sum();
        let v = seeded(1, || Tensor::randn([count], (Kind::Float, device)));
        let (want, got) = (reference.apply(&v), jacobian.apply(&v));
        assert_eq!(got.device(), device);
        let err = (&got - &want).norm().double_value(&[]) / want.norm().double_value(&[]);
        assert!(err < 1e-4, "{space} {sde:?}: relative error {err}");
    }
}
