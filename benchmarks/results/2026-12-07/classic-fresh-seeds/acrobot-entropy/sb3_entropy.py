import sys, torch, numpy as np
from sb3_contrib import TRPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize
torch.set_num_threads(1)
env = sys.argv[1]
for seed in map(int, sys.argv[2:]):
    class Cb(BaseCallback):
        ent = []
        def _on_step(self): return True
        def _on_rollout_end(self):
            obs = torch.as_tensor(self.model.rollout_buffer.observations.reshape(-1, self.model.rollout_buffer.observations.shape[-1]))
            with torch.no_grad():
                self.ent.append((self.num_timesteps, float(self.model.policy.get_distribution(obs).entropy().mean())))
    venv = VecNormalize(make_vec_env(env, n_envs=2, seed=seed), gamma=0.99)
    model = TRPO("MlpPolicy", venv, seed=seed, device="cpu", n_steps=1024, **({"n_critic_updates": 20} if env.startswith("MountainCar") else {}))
    cb = Cb()
    model.learn(total_timesteps=100000, callback=cb)
    e = cb.ent
    print(env, seed, " ".join(f"{s}:{v:.3f}" for s, v in e[::8]), "last", f"{e[-1][1]:.3f}", flush=True)
