//! Vectorized environments: N copies stepped in lockstep, with automatic reset
//! and episode statistics (Gymnasium's `SyncVectorEnv` in same-step autoreset
//! mode with `RecordEpisodeStatistics`, or Stable-Baselines3's `DummyVecEnv`).

use crate::env::{Action, Env, EnvSnapshot, EnvSpec};
use crate::error::EnvError;
use crate::registry::{MakeOptions, make_with};
use crate::space::Space;

/// A batch of actions, one per copy: indices, or `num_envs * action_dim`
/// floats in row-major order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VecActions<'a> {
    Discrete(&'a [i64]),
    Continuous(&'a [f32]),
}

/// One finished episode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpisodeStats {
    /// Which copy it ran in.
    pub env_index: usize,
    /// The undiscounted sum of its rewards.
    pub episode_return: f64,
    /// Its number of steps.
    pub length: usize,
}

/// The result of [`VecEnv::step`], borrowed from the vectorized environment.
#[derive(Debug)]
pub struct VecStep<'a> {
    /// `num_envs * obs_dim` observations. For a copy whose episode just ended
    /// this is the first observation of its next episode (automatic reset); the
    /// last observation of the ended one is [`VecStep::final_observation`].
    pub obs: &'a [f32],
    pub rewards: &'a [f64],
    pub terminated: &'a [bool],
    pub truncated: &'a [bool],
    /// The episodes that ended on this step.
    pub episodes: &'a [EpisodeStats],
    final_obs: &'a [f32],
    obs_dim: usize,
}

impl VecStep<'_> {
    /// The last observation of the episode that copy `i` ended on this step,
    /// which a value bootstrap on truncation needs; `None` if it did not end.
    pub fn final_observation(&self, i: usize) -> Option<&[f32]> {
        (self.terminated[i] || self.truncated[i]).then(|| &self.final_obs[i * self.obs_dim..(i + 1) * self.obs_dim])
    }
}

/// N copies of an environment stepped in lockstep; see the module docs.
pub struct VecEnv {
    envs: Vec<Box<dyn Env>>,
    obs_dim: usize,
    action_dim: usize,
    obs: Vec<f32>,
    final_obs: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    returns: Vec<f64>,
    lengths: Vec<usize>,
    episodes: Vec<EpisodeStats>,
    was_reset: bool,
}

impl VecEnv {
    /// `num_envs` copies of `make_with(id, options)`.
    pub fn make(id: &str, num_envs: usize, options: &MakeOptions) -> Result<Self, EnvError> {
        let envs = (0..num_envs).map(|_| make_with(id, options)).collect::<Result<Vec<_>, _>>()?;
        Self::new(envs)
    }

    /// Vectorizes the given copies, which must share their spaces.
    pub fn new(envs: Vec<Box<dyn Env>>) -> Result<Self, EnvError> {
        let first = envs.first().ok_or(EnvError::NoEnvs)?;
        for other in &envs[1..] {
            if other.observation_space() != first.observation_space() || other.action_space() != first.action_space() {
                return Err(EnvError::MixedSpaces { first: first.spec().id.into(), other: other.spec().id.into() });
            }
        }
        let n = envs.len();
        let obs_dim = first.observation_space().flat_dim();
        let action_dim = first.action_space().flat_dim();
        Ok(Self {
            envs,
            obs_dim,
            action_dim,
            obs: vec![0.0; n * obs_dim],
            final_obs: vec![0.0; n * obs_dim],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            returns: vec![0.0; n],
            lengths: vec![0; n],
            episodes: Vec::with_capacity(n),
            was_reset: false,
        })
    }

    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }
    pub fn spec(&self) -> &EnvSpec {
        self.envs[0].spec()
    }
    pub fn observation_space(&self) -> &Space {
        self.envs[0].observation_space()
    }
    pub fn action_space(&self) -> &Space {
        self.envs[0].action_space()
    }
    /// The copies, e.g. to read or set their states.
    pub fn envs_mut(&mut self) -> &mut [Box<dyn Env>] {
        &mut self.envs
    }

    /// Every copy's snapshot, running episode statistics and current
    /// observations, for checkpoints.
    pub fn snapshot(&self) -> EnvSnapshot {
        let mut words = vec![u64::from(self.was_reset), self.envs.len() as u64];
        for (i, env) in self.envs.iter().enumerate() {
            let s = env.snapshot().0;
            words.push(s.len() as u64);
            words.extend(s);
            words.extend([self.returns[i].to_bits(), self.lengths[i] as u64]);
        }
        words.extend(self.obs.iter().map(|v| u64::from(v.to_bits())));
        EnvSnapshot(words)
    }

    /// Puts every copy back as [`VecEnv::snapshot`] found it.
    pub fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let words = &snapshot.0;
        let bad = EnvError::BadSnapshot;
        if words.len() < 2 || words[1] as usize != self.envs.len() {
            return Err(bad("another number of environment copies"));
        }
        let mut at = 2;
        let mut stats = vec![];
        for env in &mut self.envs {
            let len = *words.get(at).ok_or(bad("too short"))? as usize;
            let end = at + 1 + len;
            let inner = words.get(at + 1..end).ok_or(bad("too short"))?;
            env.restore(&EnvSnapshot(inner.to_vec()))?;
            let tail = words.get(end..end + 2).ok_or(bad("too short"))?;
            stats.push((f64::from_bits(tail[0]), tail[1] as usize));
            at = end + 2;
        }
        let obs = words.get(at..).filter(|o| o.len() == self.obs.len()).ok_or(bad("wrong observation count"))?;
        for (o, w) in self.obs.iter_mut().zip(obs) {
            *o = f32::from_bits(*w as u32);
        }
        for (i, (ret, len)) in stats.into_iter().enumerate() {
            self.returns[i] = ret;
            self.lengths[i] = len;
        }
        self.was_reset = words[0] == 1;
        Ok(())
    }

    /// The current observations, `num_envs * obs_dim`.
    pub fn observations(&self) -> &[f32] {
        &self.obs
    }

    /// Resets every copy; with `Some(seed)`, copy `i` is seeded with `seed + i`
    /// (wrapping), as Gymnasium's vector environments do.
    pub fn reset(&mut self, seed: Option<u64>) -> &[f32] {
        for (i, env) in self.envs.iter_mut().enumerate() {
            let obs = env.reset(seed.map(|s| s.wrapping_add(i as u64)));
            self.obs[i * self.obs_dim..(i + 1) * self.obs_dim].copy_from_slice(&obs);
        }
        self.returns.fill(0.0);
        self.lengths.fill(0);
        self.was_reset = true;
        &self.obs
    }

    fn check_actions(&self, actions: VecActions<'_>) -> Result<(), EnvError> {
        let n = self.envs.len();
        let given = match actions {
            VecActions::Discrete(a) => a.len(),
            VecActions::Continuous(a) if a.len() % self.action_dim == 0 => a.len() / self.action_dim,
            VecActions::Continuous(a) => {
                return Err(EnvError::ActionDimension { expected: n * self.action_dim, got: a.len() });
            }
        };
        if given != n {
            return Err(EnvError::ActionCount { expected: n, got: given });
        }
        let space = self.action_space();
        for i in 0..n {
            space
                .check_action(self.action(actions, i))
                .map_err(|e| EnvError::InCopy { index: i, source: Box::new(e) })?;
        }
        Ok(())
    }

    fn action<'a>(&self, actions: VecActions<'a>, i: usize) -> Action<'a> {
        match actions {
            VecActions::Discrete(a) => Action::Discrete(a[i]),
            VecActions::Continuous(a) => Action::Continuous(&a[i * self.action_dim..(i + 1) * self.action_dim]),
        }
    }

    /// Steps every copy with its action. All actions are checked before any
    /// copy moves, so an error leaves every copy as it was. A copy whose
    /// episode ends is reset at once (continuing its own random stream).
    pub fn step(&mut self, actions: VecActions<'_>) -> Result<VecStep<'_>, EnvError> {
        if !self.was_reset {
            return Err(EnvError::NotReset);
        }
        self.check_actions(actions)?;
        self.episodes.clear();
        let d = self.obs_dim;
        for i in 0..self.envs.len() {
            let action = self.action(actions, i);
            let step = self.envs[i].step(action).map_err(|e| EnvError::InCopy { index: i, source: Box::new(e) })?;
            self.rewards[i] = step.reward;
            self.terminated[i] = step.terminated;
            self.truncated[i] = step.truncated;
            self.returns[i] += step.reward;
            self.lengths[i] += 1;
            let row = i * d..(i + 1) * d;
            if step.terminated || step.truncated {
                self.episodes.push(EpisodeStats {
                    env_index: i,
                    episode_return: self.returns[i],
                    length: self.lengths[i],
                });
                self.returns[i] = 0.0;
                self.lengths[i] = 0;
                self.final_obs[row.clone()].copy_from_slice(&step.obs);
                let first = self.envs[i].reset(None);
                self.obs[row].copy_from_slice(&first);
            } else {
                self.obs[row].copy_from_slice(&step.obs);
            }
        }
        Ok(VecStep {
            obs: &self.obs,
            rewards: &self.rewards,
            terminated: &self.terminated,
            truncated: &self.truncated,
            episodes: &self.episodes,
            final_obs: &self.final_obs,
            obs_dim: d,
        })
    }
}
