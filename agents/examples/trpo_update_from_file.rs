//! One TRPO update of given networks on a given batch, for checking natgrad's
//! update against another implementation's (benchmarks/update-vs-sb3).
//!
//! Usage: trpo_update_from_file IN.safetensors OUT.safetensors TRPO.json
//!
//! IN holds the policy's and value function's parameters under natgrad's
//! names (`pi.layer0.weight`, ..., `log_std`, `vf.layer0.weight`, ...) and the
//! batch (`obs`, `actions`, `log_probs`, `values`, `advantages`, `returns`);
//! TRPO.json the hyperparameters. OUT receives the policy's parameters after
//! the update (the critic's depend on its minibatch order, which differs
//! between implementations); the update's statistics go to stdout.

use std::error::Error;

use natgrad_agents::{Agent, Rollout, Trpo, TrpoConfig};
use natgrad_envs::{BoxSpace, Space};
use tch::{Device, Kind, Tensor};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output, config] = &args[..] else {
        return Err("usage: trpo_update_from_file IN.safetensors OUT.safetensors TRPO.json".into());
    };
    let config: TrpoConfig = json_config(config)?;
    let tensors: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(input)?.into_iter().collect();
    let get = |name: &str| tensors.get(name).map(Tensor::shallow_clone).ok_or(format!("{input} has no {name}"));
    let obs = get("obs")?.to_kind(Kind::Float);
    let obs_dim = obs.size()[1] as usize;
    // A Gaussian policy has a log-std; a categorical one as many outputs as actions.
    let (space, actions) = if tensors.contains_key("log_std") {
        let actions = get("actions")?.to_kind(Kind::Float);
        let dim = actions.size()[1] as usize;
        // The bounds only matter for acting, which this does not do.
        (Space::Box(BoxSpace::new(vec![-1.0; dim], vec![1.0; dim])), actions)
    } else {
        let outputs = tensors.keys().filter(|k| k.starts_with("pi.layer") && k.ends_with(".weight")).count();
        let n = get(&format!("pi.layer{}.weight", outputs - 1))?.size()[0] as usize;
        (Space::Discrete { n }, get("actions")?.to_kind(Kind::Int64).reshape([-1]))
    };
    let mut agent = Trpo::new(config, obs_dim, &space, Device::Cpu, 0)?;
    for (vs, what) in [(agent.policy().var_store(), "policy"), (agent.value_function().var_store(), "value function")] {
        for (name, mut variable) in vs.variables() {
            let value = get(&name).map_err(|e| format!("{e} ({what})"))?;
            tch::no_grad(|| variable.copy_(&value.to_kind(Kind::Float)));
        }
    }
    let rollout = Rollout {
        obs,
        actions,
        log_probs: get("log_probs")?.to_kind(Kind::Float),
        rewards: get("returns")?.zeros_like().to_kind(Kind::Float),
        values: get("values")?.to_kind(Kind::Float),
        advantages: get("advantages")?.to_kind(Kind::Float),
        returns: get("returns")?.to_kind(Kind::Float),
        episodes: vec![],
        episode_end_steps: vec![],
    };
    let stats = agent.update(&rollout)?;
    let natural = stats.natural.expect("TRPO reports its natural step");
    println!(
        "surrogate {} -> {}, approx_kl {}, step_size {}, cg_iterations {}, line_search_steps {}, accepted {}",
        stats.surrogate_before,
        stats.surrogate_after,
        stats.approx_kl,
        natural.step_size,
        natural.cg_iterations,
        natural.line_search_steps,
        natural.line_search_success
    );
    let after: Vec<(String, Tensor)> =
        [agent.policy().var_store(), agent.value_function().var_store()].iter().flat_map(|vs| vs.variables()).collect();
    Tensor::write_safetensors(&after, output)?;
    Ok(())
}

fn json_config(path: &str) -> Result<TrpoConfig, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(serde_json::from_str(&text)?)
}
