//! Vectorized environments: N copies stepped in lockstep, with automatic reset
//! and episode statistics (Gymnasium's `SyncVectorEnv` in same-step autoreset
//! mode with `RecordEpisodeStatistics`, or Stable-Baselines3's `DummyVecEnv`).
//!
//! [`VectorEnv`] is what learners see; [`VecEnv`] steps native copies (or any
//! [`Env`]) one by one, and the Gymnasium bridge implements the same trait over
//! Gymnasium's own vector environments.

use crate::env::{Env, EnvSnapshot, EnvSpec};
use crate::error::EnvError;
use crate::rng::Rng;
use crate::space::{Action, SampleBuffer, Space};
use crate::spin_pool::SpinPool;

/// N copies of an environment in lockstep, with same-step automatic reset:
/// the contract every rollout collector relies on, whatever runs the copies.
pub trait VectorEnv: Send {
    fn num_envs(&self) -> usize;
    fn spec(&self) -> &EnvSpec;
    /// The space of one copy's observations.
    fn observation_space(&self) -> &Space;
    /// The space of one copy's actions.
    fn action_space(&self) -> &Space;

    /// Resets every copy; with `Some(seed)`, copy `i` is seeded with `seed + i`
    /// (wrapping), as Gymnasium's vector environments do. Returns the
    /// `num_envs * obs_dim` first observations.
    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError>;

    /// The current observations, `num_envs * obs_dim`.
    fn observations(&self) -> &[f32];

    /// Steps every copy with its action; a copy whose episode ends is reset at
    /// once (continuing its own random stream), its last observation kept in
    /// [`VecStep::final_observation`].
    fn step(&mut self, actions: VecActions<'_>) -> Result<VecStep<'_>, EnvError>;

    /// Everything a checkpoint needs to continue exactly: every copy's state,
    /// running episode statistics and current observations. Copies whose state
    /// cannot be taken are recorded as such; see [`Restored`].
    fn snapshot(&self) -> Result<EnvSnapshot, EnvError>;

    /// Puts the copies back as [`VectorEnv::snapshot`] found them, or says
    /// that it could not and the caller must reset them.
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<Restored, EnvError>;
}

/// What [`VectorEnv::restore`] could do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restored {
    /// Every copy continues exactly where the snapshot was taken.
    Exactly,
    /// The environment's state could not be saved (an environment in Python
    /// that Gymnasium cannot snapshot): the copies are untouched, and the
    /// episodes that were in progress must restart with a reset.
    EpisodesRestart,
}

/// The running return and length of each copy's episode, shared by every
/// [`VectorEnv`] so that episode statistics mean the same everywhere.
#[derive(Clone, Debug)]
pub(crate) struct EpisodeTracker {
    returns: Vec<f64>,
    lengths: Vec<usize>,
    pub(crate) finished: Vec<EpisodeStats>,
}

impl EpisodeTracker {
    pub(crate) fn new(n: usize) -> Self {
        Self { returns: vec![0.0; n], lengths: vec![0; n], finished: Vec::with_capacity(n) }
    }

    pub(crate) fn clear(&mut self) {
        self.returns.fill(0.0);
        self.lengths.fill(0);
        self.finished.clear();
    }

    /// Counts copy `i`'s reward; when its episode ended, records it.
    pub(crate) fn record(&mut self, i: usize, reward: f64, done: bool) {
        self.record_with_success(i, reward, done, None);
    }

    /// [`EpisodeTracker::record`] with whether an ending episode succeeded,
    /// where the environment says.
    pub(crate) fn record_with_success(&mut self, i: usize, reward: f64, done: bool, success: Option<bool>) {
        self.returns[i] += reward;
        self.lengths[i] += 1;
        if done {
            let (episode_return, length) = (self.returns[i], self.lengths[i]);
            self.finished.push(EpisodeStats { env_index: i, episode_return, length, success });
            self.returns[i] = 0.0;
            self.lengths[i] = 0;
        }
    }

    /// Two words per copy: the return's bits and the length.
    pub(crate) fn words(&self) -> impl Iterator<Item = u64> + '_ {
        self.returns.iter().zip(&self.lengths).flat_map(|(r, l)| [r.to_bits(), *l as u64])
    }

    /// Restores what [`EpisodeTracker::words`] gave.
    pub(crate) fn set_from_words(&mut self, words: &[u64]) -> Result<(), EnvError> {
        if words.len() != 2 * self.returns.len() {
            return Err(EnvError::BadSnapshot("wrong episode statistics"));
        }
        for (i, pair) in words.chunks(2).enumerate() {
            self.returns[i] = f64::from_bits(pair[0]);
            self.lengths[i] = pair[1] as usize;
        }
        Ok(())
    }
}

/// A batch of actions, one per copy: indices, or `num_envs * action_dim`
/// floats or indices (`MultiDiscrete`, `MultiBinary`) in row-major order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VecActions<'a> {
    Discrete(&'a [i64]),
    Continuous(&'a [f32]),
    Indices(&'a [i64]),
}

/// One uniformly random action per copy of `space`, drawn as `n` calls of
/// [`Space::sample`] would draw them, as a batch borrowed from `buf`.
pub fn random_actions<'b>(space: &Space, n: usize, rng: &mut Rng, buf: &'b mut SampleBuffer) -> VecActions<'b> {
    buf.floats.clear();
    buf.indices.clear();
    for _ in 0..n {
        space.sample_into(rng, &mut buf.floats, &mut buf.indices);
    }
    match space {
        Space::Discrete { .. } => VecActions::Discrete(&buf.indices),
        Space::Box(_) => VecActions::Continuous(&buf.floats),
        Space::MultiDiscrete { .. } | Space::MultiBinary { .. } | Space::Dict { .. } => {
            VecActions::Indices(&buf.indices)
        }
    }
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
    /// Whether it reached its goal, where the environment says so in its
    /// last step's `info` (`is_success`, as Gymnasium-Robotics and
    /// Stable-Baselines3 read it, or `success`, as PointMaze writes it).
    pub success: Option<bool>,
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

impl<'a> VecStep<'a> {
    /// The step's results; `final_obs` holds `num_envs * obs_dim` values, read
    /// only for the copies whose episode ended.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        obs: &'a [f32],
        rewards: &'a [f64],
        terminated: &'a [bool],
        truncated: &'a [bool],
        episodes: &'a [EpisodeStats],
        final_obs: &'a [f32],
        obs_dim: usize,
    ) -> Self {
        Self { obs, rewards, terminated, truncated, episodes, final_obs, obs_dim }
    }

    /// The last observation of the episode that copy `i` ended on this step,
    /// which a value bootstrap on truncation needs; `None` if it did not end.
    pub fn final_observation(&self, i: usize) -> Option<&[f32]> {
        (self.terminated[i] || self.truncated[i]).then(|| &self.final_obs[i * self.obs_dim..(i + 1) * self.obs_dim])
    }
}

/// N copies of any [`Env`] stepped one by one in lockstep; see the module docs.
pub struct VecEnv {
    envs: Vec<Box<dyn Env>>,
    obs_dim: usize,
    action_dim: usize,
    obs: Vec<f32>,
    final_obs: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    tracker: EpisodeTracker,
    was_reset: bool,
    threads: usize,
    /// The threads beyond the caller's, when `threads` > 1.
    pool: Option<SpinPool>,
    /// Each share's outcome of the last threaded step.
    share_results: Vec<Result<(), EnvError>>,
}

impl VecEnv {
    /// Vectorizes the given copies, which must share their spaces.
    pub fn new(envs: Vec<Box<dyn Env>>) -> Result<Self, EnvError> {
        let first = envs.first().ok_or(EnvError::NoEnvs)?;
        for other in &envs[1..] {
            if other.observation_space() != first.observation_space() || other.action_space() != first.action_space() {
                return Err(EnvError::MixedSpaces { first: first.spec().id.clone(), other: other.spec().id.clone() });
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
            tracker: EpisodeTracker::new(n),
            was_reset: false,
            threads: 1,
            pool: None,
            share_results: Vec::new(),
        })
    }

    /// Steps the copies on `threads` threads (the calling one and helpers
    /// started once, [`SpinPool`]), each taking a contiguous share of the
    /// copies. Every copy has its own
    /// state and generator, so the results are the same for any count; it
    /// pays where a copy's step is long against starting a thread (MuJoCo
    /// tasks with several copies per thread), not for the classic ones.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.clamp(1, self.envs.len());
        let shares = self.envs.len().div_ceil(self.envs.len().div_ceil(self.threads));
        self.share_results = (0..shares).map(|_| Ok(())).collect();
        // A pool that cannot be started (no threads left) steps on the caller's.
        self.pool = (shares > 1).then(|| SpinPool::new(shares - 1)).flatten();
        self
    }

    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// The copies, e.g. to read or set their states.
    pub fn envs_mut(&mut self) -> &mut [Box<dyn Env>] {
        &mut self.envs
    }

    /// Every copy's snapshot, or `None` when one of them cannot be taken.
    fn copy_snapshots(&self) -> Result<Option<Vec<EnvSnapshot>>, EnvError> {
        let mut snapshots = Vec::with_capacity(self.envs.len());
        for env in &self.envs {
            match env.snapshot() {
                Ok(s) => snapshots.push(s),
                Err(EnvError::NotRestorable { .. }) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(Some(snapshots))
    }
}

/// The copies one thread steps, with their rows of the results.
struct Share<'a> {
    first: usize,
    envs: &'a mut [Box<dyn Env>],
    obs: &'a mut [f32],
    final_obs: &'a mut [f32],
    rewards: &'a mut [f64],
    terminated: &'a mut [bool],
    truncated: &'a mut [bool],
}

impl Share<'_> {
    /// Steps each copy with its action; a copy whose episode ends keeps its
    /// last observation in `final_obs` and starts the next episode.
    fn step(self, actions: VecActions<'_>, action_dim: usize, d: usize) -> Result<(), EnvError> {
        for (j, env) in self.envs.iter_mut().enumerate() {
            let i = self.first + j;
            let in_copy = |e| EnvError::InCopy { index: i, source: Box::new(e) };
            let row = j * d..(j + 1) * d;
            let step =
                env.step_into(copy_action(actions, action_dim, i), &mut self.obs[row.clone()]).map_err(in_copy)?;
            self.rewards[j] = step.reward;
            self.terminated[j] = step.terminated;
            self.truncated[j] = step.truncated;
            if step.terminated || step.truncated {
                self.final_obs[row.clone()].copy_from_slice(&self.obs[row.clone()]);
                let first = env.reset(None).map_err(in_copy)?;
                self.obs[row].copy_from_slice(&first);
            }
        }
        Ok(())
    }
}

/// Checks a batch of actions against `n` copies of `space` (`action_dim`
/// scalars each), before any copy moves.
pub(crate) fn check_actions(
    space: &Space,
    n: usize,
    action_dim: usize,
    actions: VecActions<'_>,
) -> Result<(), EnvError> {
    let rows = |len: usize| {
        if len.is_multiple_of(action_dim) {
            Ok(len / action_dim)
        } else {
            Err(EnvError::ActionDimension { expected: n * action_dim, got: len })
        }
    };
    let given = match actions {
        VecActions::Discrete(a) => a.len(),
        VecActions::Continuous(a) => rows(a.len())?,
        VecActions::Indices(a) => rows(a.len())?,
    };
    if given != n {
        return Err(EnvError::ActionCount { expected: n, got: given });
    }
    for i in 0..n {
        space
            .check_action(copy_action(actions, action_dim, i))
            .map_err(|e| EnvError::InCopy { index: i, source: Box::new(e) })?;
    }
    Ok(())
}

/// Steps every share. Without a pool, one after the other in place, without
/// collecting anything: a step allocates nothing. With one, the calling
/// thread steps the first share while the pool's helpers, started once, step
/// the others. The first error in share order is returned.
fn step_shares<'a>(
    mut shares: impl Iterator<Item = Share<'a>>,
    pool: Option<&mut SpinPool>,
    results: &mut [Result<(), EnvError>],
    actions: VecActions<'_>,
    action_dim: usize,
    d: usize,
) -> Result<(), EnvError> {
    let Some(pool) = pool else {
        return shares.try_for_each(|share| share.step(actions, action_dim, d));
    };
    {
        let mut shares = shares.zip(results.iter_mut());
        let (own, own_result) = shares.next().expect("at least one copy");
        let mut jobs: Vec<Box<dyn FnMut() + Send + '_>> = shares
            .map(|(share, result)| {
                let mut share = Some(share);
                Box::new(move || {
                    if let Some(share) = share.take() {
                        *result = share.step(actions, action_dim, d);
                    }
                }) as Box<dyn FnMut() + Send + '_>
            })
            .collect();
        let mut jobs: Vec<&mut (dyn FnMut() + Send)> = jobs.iter_mut().map(|j| &mut **j).collect();
        pool.run(&mut jobs, || *own_result = own.step(actions, action_dim, d));
    }
    match results.iter_mut().find_map(|r| std::mem::replace(r, Ok(())).err()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Copy `i`'s action out of a batch.
fn copy_action(actions: VecActions<'_>, action_dim: usize, i: usize) -> Action<'_> {
    match actions {
        VecActions::Discrete(a) => Action::Discrete(a[i]),
        VecActions::Continuous(a) => Action::Continuous(&a[i * action_dim..(i + 1) * action_dim]),
        VecActions::Indices(a) => Action::Indices(&a[i * action_dim..(i + 1) * action_dim]),
    }
}

impl VectorEnv for VecEnv {
    fn num_envs(&self) -> usize {
        self.envs.len()
    }
    fn spec(&self) -> &EnvSpec {
        self.envs[0].spec()
    }
    fn observation_space(&self) -> &Space {
        self.envs[0].observation_space()
    }
    fn action_space(&self) -> &Space {
        self.envs[0].action_space()
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        for (i, env) in self.envs.iter_mut().enumerate() {
            let obs = env
                .reset(seed.map(|s| s.wrapping_add(i as u64)))
                .map_err(|e| EnvError::InCopy { index: i, source: Box::new(e) })?;
            self.obs[i * self.obs_dim..(i + 1) * self.obs_dim].copy_from_slice(&obs);
        }
        self.tracker.clear();
        self.was_reset = true;
        Ok(&self.obs)
    }

    fn observations(&self) -> &[f32] {
        &self.obs
    }

    /// All actions are checked before any copy moves, so an invalid action
    /// leaves every copy as it was.
    fn step(&mut self, actions: VecActions<'_>) -> Result<VecStep<'_>, EnvError> {
        if !self.was_reset {
            return Err(EnvError::NotReset);
        }
        check_actions(self.envs[0].action_space(), self.envs.len(), self.action_dim, actions)?;
        self.tracker.finished.clear();
        let d = self.obs_dim;
        let per_thread = self.envs.len().div_ceil(self.threads);
        let shares = self
            .envs
            .chunks_mut(per_thread)
            .zip(self.obs.chunks_mut(per_thread * d))
            .zip(self.final_obs.chunks_mut(per_thread * d))
            .zip(self.rewards.chunks_mut(per_thread))
            .zip(self.terminated.chunks_mut(per_thread))
            .zip(self.truncated.chunks_mut(per_thread))
            .enumerate()
            .map(|(k, (((((envs, obs), final_obs), rewards), terminated), truncated))| Share {
                first: k * per_thread,
                envs,
                obs,
                final_obs,
                rewards,
                terminated,
                truncated,
            });
        step_shares(shares, self.pool.as_mut(), &mut self.share_results, actions, self.action_dim, d)?;
        // Episode statistics in copy order, whatever the threads did first.
        for i in 0..self.envs.len() {
            self.tracker.record(i, self.rewards[i], self.terminated[i] || self.truncated[i]);
        }
        Ok(VecStep::new(
            &self.obs,
            &self.rewards,
            &self.terminated,
            &self.truncated,
            &self.tracker.finished,
            &self.final_obs,
            d,
        ))
    }

    /// Layout: was-reset flag, copy count, restorable flag, then (when
    /// restorable) per copy its snapshot's length and words and its episode
    /// statistics, then the current observations.
    fn snapshot(&self) -> Result<EnvSnapshot, EnvError> {
        let mut words = vec![u64::from(self.was_reset), self.envs.len() as u64];
        let Some(snapshots) = self.copy_snapshots()? else {
            words.push(0);
            return Ok(EnvSnapshot(words));
        };
        words.push(1);
        let stats: Vec<u64> = self.tracker.words().collect();
        for (i, s) in snapshots.into_iter().enumerate() {
            words.push(s.0.len() as u64);
            words.extend(s.0);
            words.extend(&stats[2 * i..2 * i + 2]);
        }
        words.extend(self.obs.iter().map(|v| u64::from(v.to_bits())));
        Ok(EnvSnapshot(words))
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<Restored, EnvError> {
        let words = &snapshot.0;
        let bad = EnvError::BadSnapshot;
        if words.len() < 3 || words[1] as usize != self.envs.len() {
            return Err(bad("another number of environment copies"));
        }
        if words[2] == 0 {
            return Ok(Restored::EpisodesRestart);
        }
        let mut at = 3;
        let mut stats = vec![];
        for env in &mut self.envs {
            let len = *words.get(at).ok_or(bad("too short"))? as usize;
            let end = at + 1 + len;
            let inner = words.get(at + 1..end).ok_or(bad("too short"))?;
            env.restore(&EnvSnapshot(inner.to_vec()))?;
            stats.extend_from_slice(words.get(end..end + 2).ok_or(bad("too short"))?);
            at = end + 2;
        }
        let obs = words.get(at..).filter(|o| o.len() == self.obs.len()).ok_or(bad("wrong observation count"))?;
        for (o, w) in self.obs.iter_mut().zip(obs) {
            *o = f32::from_bits(*w as u32);
        }
        self.tracker.set_from_words(&stats)?;
        self.was_reset = words[0] == 1;
        Ok(Restored::Exactly)
    }
}
