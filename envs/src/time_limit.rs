//! Gymnasium's `TimeLimit` wrapper.

use crate::env::{Env, EnvSnapshot, EnvSpec, Observation, Step, StepOutcome};
use crate::error::EnvError;
use crate::space::{Action, Space};

/// Truncates episodes: `truncated` is true on the step whose 1-based index
/// equals `max_episode_steps`, whether or not that step also terminates.
/// Stepping past the end of an episode is an error until the next reset.
pub struct TimeLimit<E: Env> {
    inner: E,
    spec: EnvSpec,
    max_episode_steps: usize,
    elapsed_steps: usize,
    truncated: bool,
}

impl<E: Env> TimeLimit<E> {
    pub fn new(inner: E, max_episode_steps: usize) -> Result<Self, EnvError> {
        if max_episode_steps == 0 {
            return Err(EnvError::ZeroMaxEpisodeSteps);
        }
        let spec = EnvSpec { max_episode_steps: Some(max_episode_steps), ..inner.spec().clone() };
        Ok(Self { inner, spec, max_episode_steps, elapsed_steps: 0, truncated: false })
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> usize {
        self.elapsed_steps
    }

    pub fn inner(&self) -> &E {
        &self.inner
    }

    fn check_not_truncated(&self) -> Result<(), EnvError> {
        if self.truncated { Err(EnvError::EpisodeOver { reason: "truncated by the time limit" }) } else { Ok(()) }
    }

    /// Counts a step of the inner environment; whether it reached the limit.
    fn count_step(&mut self) -> bool {
        self.elapsed_steps += 1;
        self.truncated = self.elapsed_steps >= self.max_episode_steps;
        self.truncated
    }
}

impl<E: Env> Env for TimeLimit<E> {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<Observation, EnvError> {
        self.elapsed_steps = 0;
        self.truncated = false;
        self.inner.reset(seed)
    }

    #[inline]
    fn step(&mut self, action: Action<'_>) -> Result<Step, EnvError> {
        self.check_not_truncated()?;
        let mut step = self.inner.step(action)?;
        step.truncated |= self.count_step();
        Ok(step)
    }

    fn step_into(&mut self, action: Action<'_>, obs: &mut [f32]) -> Result<StepOutcome, EnvError> {
        self.check_not_truncated()?;
        let mut outcome = self.inner.step_into(action, obs)?;
        outcome.truncated |= self.count_step();
        Ok(outcome)
    }

    fn state(&self) -> Option<Vec<f64>> {
        self.inner.state()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        self.inner.set_state(state)
    }

    fn snapshot(&self) -> Result<EnvSnapshot, EnvError> {
        let mut words = vec![self.elapsed_steps as u64, u64::from(self.truncated)];
        words.extend(self.inner.snapshot()?.0);
        Ok(EnvSnapshot(words))
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let [elapsed, truncated, inner @ ..] = snapshot.0.as_slice() else {
            return Err(EnvError::BadSnapshot("too short"));
        };
        self.inner.restore(&EnvSnapshot(inner.to_vec()))?;
        self.elapsed_steps = *elapsed as usize;
        self.truncated = *truncated == 1;
        Ok(())
    }

    fn render_rgb(&mut self) -> Result<Option<crate::env::RgbImage>, EnvError> {
        self.inner.render_rgb()
    }

    fn success(&self) -> Option<bool> {
        self.inner.success()
    }
}
