"""One TRPO update, natgrad's against sb3-contrib's, from the same networks on the same batch.

sb3-contrib's TRPO trains on an environment with rl-baselines3-zoo's settings; at the end of its
rollout number --iteration it hands its networks and batch over (observations as the networks saw
them, unclipped actions, log-probabilities, values, advantages, returns), runs its own update, and
natgrad's `trpo_update_from_file` example runs natgrad's update on the same inputs. The policies'
parameter changes are compared. sb3-contrib starts conjugate gradient from 1e-4 * randn; that noise
is switched off here (torch.randn_like returns zeros during that one update) so that both start at 0.
Run through benchmarks/update-vs-sb3.
"""

import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file, save_file

ZOO = {
    "Pendulum-v1": dict(n_envs=2, n_steps=1024, gamma=0.9, n_critic_updates=15),
    "MountainCar-v0": dict(n_envs=2, n_steps=1024, n_critic_updates=20, normalize=True),
    "CartPole-v1": dict(n_envs=2, n_steps=512, batch_size=512, cg_damping=1e-3, gae_lambda=0.98, n_critic_updates=20),
    # zoo's MuJoCo entries (benchmark settings of issue 24)
    "Hopper-v5": dict(n_envs=2, n_steps=1024, batch_size=128, cg_max_steps=25, cg_damping=0.1, n_critic_updates=20,
                      learning_rate=1e-3, normalize=True),
    "HalfCheetah-v5": dict(n_envs=2, n_steps=1024, batch_size=128, cg_max_steps=25, cg_damping=0.1, n_critic_updates=20,
                           learning_rate=1e-3, target_kl=0.04, normalize=True),
}
SB3_TO_NATGRAD = {
    "mlp_extractor.policy_net.0": "pi.layer0", "mlp_extractor.policy_net.2": "pi.layer1", "action_net": "pi.layer2",
    "mlp_extractor.value_net.0": "vf.layer0", "mlp_extractor.value_net.2": "vf.layer1", "value_net": "vf.layer2",
}


def natgrad_name(name):
    if name == "log_std":
        return name
    module, kind = name.rsplit(".", 1)
    return f"{SB3_TO_NATGRAD[module]}.{kind}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--example", required=True, help="natgrad's trpo_update_from_file")
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--iteration", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--full-batch-critic", action="store_true",
                        help="fit the critic on the whole batch at once (one minibatch), so that its update is "
                             "independent of the minibatch order and compares too")
    parser.add_argument("--cg-max-steps", type=int, help="override zoo's conjugate-gradient iterations on both sides")
    parser.add_argument("--sde", action="store_true",
                        help="explore with gSDE (sde_sample_freq 4) on both sides, as zoo's Pendulum-v1 entry does")
    args = parser.parse_args()
    from sb3_contrib import TRPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)
    settings = dict(ZOO[args.env])
    n_envs, normalize = settings.pop("n_envs"), settings.pop("normalize", False)
    if args.full_batch_critic:
        settings["batch_size"] = n_envs * settings["n_steps"]
    if args.cg_max_steps:
        settings["cg_max_steps"] = args.cg_max_steps
    if args.sde:
        settings.update(use_sde=True, sde_sample_freq=4)
    venv = make_vec_env(args.env, n_envs=n_envs, seed=args.seed)
    if normalize:
        venv = VecNormalize(venv, gamma=settings.get("gamma", 0.99))
    model = TRPO("MlpPolicy", venv, seed=args.seed, device="cpu", **settings)
    work = tempfile.mkdtemp(prefix="update-vs-sb3-")
    captured = {}
    randn_like = torch.randn_like

    class Capture(BaseCallback):
        rollouts = 0

        def _on_step(self):
            return "after" not in captured

        def _on_rollout_start(self):
            if "before" in captured and "after" not in captured:
                torch.randn_like = randn_like
                captured["after"] = {k: v.detach().clone() for k, v in self.model.policy.state_dict().items()}

        def _on_rollout_end(self):
            self.rollouts += 1
            if self.rollouts != args.iteration:
                return
            buf = self.model.rollout_buffer
            flat = lambda a: torch.as_tensor(buf.swap_and_flatten(a.copy()))
            captured["before"] = {k: v.detach().clone() for k, v in self.model.policy.state_dict().items()}
            captured["batch"] = dict(obs=flat(buf.observations), actions=flat(buf.actions),
                                     log_probs=flat(buf.log_probs).flatten(), values=flat(buf.values).flatten(),
                                     advantages=flat(buf.advantages).flatten(), returns=flat(buf.returns).flatten())
            torch.randn_like = torch.zeros_like

    model.learn(total_timesteps=(args.iteration + 1) * n_envs * model.n_steps, callback=Capture())
    before, after = captured["before"], captured["after"]
    tensors = {natgrad_name(k): v.float().contiguous() for k, v in before.items()}
    tensors.update({k: v.float().contiguous() for k, v in captured["batch"].items()})
    if tensors["actions"].dim() == 1:
        tensors["actions"] = tensors["actions"].unsqueeze(1)
    save_file(tensors, os.path.join(work, "in.safetensors"))
    # sb3-contrib averages the KL over a Gaussian's d action dimensions, natgrad sums it (as the paper):
    # the same trust region is target_kl and cg_damping times d in natgrad's terms.
    d = tensors["actions"].shape[1] if "log_std" in tensors else 1
    config = dict(n_envs=n_envs, n_steps=model.n_steps, gamma=model.gamma, gae_lambda=model.gae_lambda,
                  target_kl=model.target_kl * d, cg_iters=model.cg_max_steps, cg_damping=model.cg_damping * d,
                  n_critic_updates=model.n_critic_updates, critic_batch_size=model.batch_size,
                  critic_learning_rate=model.learning_rate,
                  line_search_shrink=model.line_search_shrinking_factor,
                  line_search_max_backtracks=model.line_search_max_iter)
    if model.use_sde:
        config.update(use_sde=True, sde_sample_freq=model.sde_sample_freq)
    with open(os.path.join(work, "trpo.json"), "w") as f:
        json.dump(config, f)
    out = subprocess.run([args.example, os.path.join(work, "in.safetensors"), os.path.join(work, "out.safetensors"),
                          os.path.join(work, "trpo.json")], check=True, capture_output=True, text=True).stdout
    print(f"{args.env}, seed {args.seed}, update {args.iteration}: natgrad {out.strip()}")
    ours = load_file(os.path.join(work, "out.safetensors"))
    total_diff = total_delta = 0.0
    critic = ("mlp_extractor.value_net", "value_net")
    for name in before:
        if name.startswith(critic) and not args.full_batch_critic:
            continue
        delta_sb3 = (after[name] - before[name]).double()
        delta_ng = (ours[natgrad_name(name)].double() - before[name].double())
        total_diff += float((delta_ng - delta_sb3).square().sum())
        total_delta += float(delta_sb3.square().sum())
        print(f"  {name:32s} |Δ sb3| {delta_sb3.norm():.3e}  |Δ natgrad − Δ sb3| / |Δ sb3| "
              f"{float((delta_ng - delta_sb3).norm() / max(delta_sb3.norm(), 1e-30)):.2e}")
    print(f"  all compared: |Δ natgrad − Δ sb3| / |Δ sb3| = {np.sqrt(total_diff / max(total_delta, 1e-300)):.2e}")


if __name__ == "__main__":
    main()
