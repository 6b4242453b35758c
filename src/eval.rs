//! `natgrad eval`: runs a trained policy and reports its return.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use natgrad_agents::agent::streams;
use natgrad_agents::encoding::ObsEncoding;
use natgrad_agents::normalize::ObsNormalizer;
use natgrad_agents::policy::ActionKind;
use natgrad_envs::{Action, Env, Rng, Step, make_with};
use tch::{Device, Kind, Tensor};

use crate::checkpoint::Checkpoint;
use crate::render;
use crate::train::RunConfig;

#[derive(Debug)]
pub struct EvalRequest {
    pub target: PathBuf,
    pub episodes: usize,
    pub deterministic: bool,
    pub seed: u64,
    pub gif: Option<PathBuf>,
    /// Where to write one row per episode (return, length, first observation, start state).
    pub csv: Option<PathBuf>,
    /// The run folder's best policy (best.safetensors) instead of its last checkpoint.
    pub best: bool,
}

/// One evaluation episode.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    pub ret: f64,
    pub length: usize,
    /// The observation the episode started from (raw, as the environment gave it).
    pub first_obs: Vec<f32>,
    /// The physical state it started from (natgrad's own environments only),
    /// to start another implementation's episode from the same one.
    pub first_state: Option<Vec<f64>>,
    /// Whether it ended at the goal, where the environment says (`is_success`).
    pub success: Option<bool>,
}

/// The share of `episodes` that ended at the goal, among those whose
/// environment says; `None` where none says.
pub fn success_rate(episodes: &[Episode]) -> Option<f64> {
    let said: Vec<bool> = episodes.iter().filter_map(|e| e.success).collect();
    (!said.is_empty()).then(|| said.iter().filter(|s| **s).count() as f64 / said.len() as f64)
}

/// The run folder and checkpoint file that `target` names; with `best`, the
/// run folder's best policy.
fn locate(target: &Path, best: bool) -> Result<(PathBuf, PathBuf)> {
    if best {
        if !target.is_dir() {
            bail!("--best takes a run folder, not {}", target.display());
        }
        let path = target.join(crate::checkpoint::BEST_FILE_NAME);
        if !path.exists() {
            bail!(
                "{} has no {}: a run keeps its best policy only when it evaluates during training (natgrad train \
                 --eval-freq STEPS)",
                target.display(),
                crate::checkpoint::BEST_FILE_NAME
            );
        }
        Ok((target.to_path_buf(), path))
    } else if target.is_dir() {
        Ok((target.to_path_buf(), target.join(crate::checkpoint::FILE_NAME)))
    } else if target.is_file() {
        let dir = crate::atomic_file::folder_of(target);
        Ok((dir.to_path_buf(), target.to_path_buf()))
    } else {
        bail!("{} does not exist: give a run folder or a checkpoint file", target.display())
    }
}

/// Whether natgrad draws `id` itself, from its state.
fn drawn_natively(id: &str) -> bool {
    render::DRAWN.contains(&id)
}

/// The environment a GIF is recorded in: the run's own, or for a native
/// environment natgrad does not draw (the MuJoCo tasks) Gymnasium's version,
/// whose renderer draws it. Its transitions are the native ones bit for bit
/// (envs/tests/mujoco_parity.rs), so the episode is the same.
fn recorded_env_id(id: &str, gif: bool) -> String {
    if gif && !drawn_natively(id) && natgrad_envs::ids().contains(&id) { format!("gym:{id}") } else { id.to_owned() }
}

/// A GIF frame of the environment now: drawn from a native environment's
/// state, or rendered by Gymnasium.
fn capture(env: &mut dyn natgrad_envs::Env, id: &str) -> Result<render::Frame> {
    if drawn_natively(id) {
        let state = env.state().ok_or_else(|| anyhow::anyhow!("{id} has no state to draw before its first reset"))?;
        return render::frame(id, &state);
    }
    let image = env.render_rgb()?.ok_or_else(|| anyhow::anyhow!("{id} renders no picture for --gif"))?;
    render::Frame::from_rgb(&image)
}

/// At most this many frames of a rendered episode go into a GIF: every
/// k-th step, k from the time limit (Hopper's 1000 steps: every 5th).
const MAX_RENDERED_FRAMES: usize = 200;

/// How an evaluation is made: the run's options, with `render_mode=rgb_array`
/// for a GIF of an environment Gymnasium draws.
fn eval_make_options(run: &RunConfig, gif: bool) -> Result<natgrad_envs::MakeOptions> {
    let mut options = run.make_options()?;
    if gif && !drawn_natively(&run.env) {
        options.kwargs.retain(|(k, _)| k != "render_mode");
        options.kwargs.push(("render_mode".into(), natgrad_envs::KwValue::Str("rgb_array".into())));
    }
    Ok(options)
}

/// `req.episodes` episodes of the policy in `req.target`, with the frames of
/// the first one when `req.gif` asks for them. The environment is reset with
/// `req.seed` once and then without a seed, as Gymnasium's evaluation loops
/// do: an environment in Python then starts where Gymnasium's seeded alike
/// does; natgrad's own draw from their own generator, and each episode's
/// start state is returned so that another implementation can start there.
pub fn episodes(req: &EvalRequest) -> Result<(Vec<Episode>, Vec<render::Frame>, RunConfig, Checkpoint)> {
    if req.episodes == 0 {
        bail!("--episodes must be at least 1");
    }
    let (dir, path) = locate(&req.target, req.best)?;
    let run = RunConfig::read(&dir)?;
    let checkpoint = Checkpoint::read(&path)?;
    checkpoint.check_matches(&run.algo, &run.env)?;
    let agent_config = run.agent_config()?;
    let mut env =
        make_with(&recorded_env_id(&run.env, req.gif.is_some()), &eval_make_options(&run, req.gif.is_some())?)?;
    let frame_every = match (drawn_natively(&run.env), env.spec().max_episode_steps) {
        (false, Some(limit)) => limit.div_ceil(MAX_RENDERED_FRAMES).max(1),
        _ => 1,
    };
    let encoding = ObsEncoding::of(env.observation_space());
    let agent =
        agent_config.build(&env.observation_space().clone(), &env.action_space().clone(), Device::Cpu, run.seed)?;
    checkpoint.load_networks(agent.as_ref())?;
    let normalizer = frozen_normalizer(&checkpoint, &encoding, &path)?;
    let policy = agent.policy();
    let kind = policy.kind();
    let mut rng = Rng::derive(req.seed, streams::ACTIONS);
    let mut frames = vec![];
    let mut returns = vec![];
    let mut running = 0.0;
    let mut length = 0;
    let mut obs = env.reset(Some(req.seed))?.to_vec();
    let mut first_obs = obs.clone();
    let mut first_state = env.state();
    while returns.len() < req.episodes {
        // The GIF shows the first episode, from its first state to its last.
        let recording = req.gif.is_some() && returns.is_empty();
        if recording && length % frame_every == 0 {
            frames.push(capture(env.as_mut(), &run.env)?);
        }
        let encoded = encoding.encode(&obs);
        let input = match &normalizer {
            Some(n) => n.normalize(&encoded),
            None => encoded.into_owned(),
        };
        let input = Tensor::from_slice(&input).view([1, -1]).to_kind(kind);
        let action = policy.act(&input, req.deterministic, &mut rng);
        let step = step_with(env.as_mut(), policy.action_kind(), &action)?;
        running += step.reward;
        length += 1;
        if step.terminated || step.truncated {
            if recording {
                frames.push(capture(env.as_mut(), &run.env)?);
            }
            returns.push(Episode { ret: running, length, first_obs, first_state, success: env.success() });
            (running, length) = (0.0, 0);
            obs = env.reset(None)?.to_vec();
            first_obs = obs.clone();
            first_state = env.state();
        } else {
            obs = step.obs.to_vec();
        }
    }
    Ok((returns, frames, run, checkpoint))
}

/// The observation statistics the policy was trained with, frozen; `None`
/// where it saw its observations as they come.
fn frozen_normalizer(checkpoint: &Checkpoint, encoding: &ObsEncoding, path: &Path) -> Result<Option<ObsNormalizer>> {
    let Some(stats) = checkpoint.obs_stats()? else { return Ok(None) };
    let mut normalizer = ObsNormalizer::for_columns(encoding.normalizable_columns());
    normalizer.set_stats(stats).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Some(normalizer))
}

/// Steps `env` with the policy's `action` in the environment's terms (a
/// continuous action clipped to the space's bounds, as in training).
fn step_with(env: &mut dyn Env, kind: &ActionKind, action: &Tensor) -> Result<Step> {
    Ok(match kind {
        ActionKind::Discrete { .. } => env.step(Action::Discrete(action.int64_value(&[0])))?,
        ActionKind::MultiDiscrete { .. } | ActionKind::MultiBinary { .. } => {
            let indices = Vec::<i64>::try_from(&action.to_kind(Kind::Int64).reshape([-1]))?;
            env.step(Action::Indices(&indices))?
        }
        ActionKind::Continuous { low, high } => {
            let a = Vec::<f32>::try_from(&action.to_kind(Kind::Float).reshape([-1]))?;
            let clipped: Vec<f32> = a.iter().zip(low.iter().zip(high)).map(|(x, (l, h))| x.clamp(*l, *h)).collect();
            env.step(Action::Continuous(&clipped))?
        }
    })
}

/// One row per episode: its number, return, length, first observation and
/// first state (values separated by spaces, each printed so that it reads
/// back exactly; the state is empty for environments in Python).
fn write_csv(path: &Path, episodes: &[Episode]) -> Result<()> {
    let joined = |values: &mut dyn Iterator<Item = String>| values.collect::<Vec<_>>().join(" ");
    let mut text = String::from("episode,return,length,first_observation,first_state\n");
    for (i, e) in episodes.iter().enumerate() {
        let obs = joined(&mut e.first_obs.iter().map(|v| format!("{v:?}")));
        let state = joined(&mut e.first_state.iter().flatten().map(|v| format!("{v:?}")));
        text += &format!("{i},{:?},{},{obs},{state}\n", e.ret, e.length);
    }
    crate::atomic_file::replace(path, &partial(path), |tmp| Ok(std::fs::write(tmp, &text)?))
        .with_context(|| format!("cannot write {}; choose a writable path for --csv", path.display()))
}

/// The temporary file `write_csv` writes before renaming it over `path`.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Fails before any episode runs if `path` cannot be written, leaving an
/// existing file as it is.
fn check_writable(path: &Path) -> Result<()> {
    let probe = partial(path);
    std::fs::File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .with_context(|| format!("cannot write beside {}; choose a writable path for --csv", path.display()))
}

pub fn run(req: &EvalRequest) -> Result<()> {
    if let Some(path) = &req.csv {
        check_writable(path)?;
    }
    let (episodes, frames, run, checkpoint) = episodes(req)?;
    if let Some(path) = &req.csv {
        write_csv(path, &episodes)?;
    }
    let returns: Vec<f64> = episodes.iter().map(|e| e.ret).collect();
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let std = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n).sqrt();
    let mode = if req.deterministic { "deterministic" } else { "stochastic" };
    println!(
        "{} on {} ({}): mean return {mean:.2} ± {std:.2} over {} episodes ({mode} policy, seed {})",
        run.algo,
        run.env,
        checkpoint.path.display(),
        returns.len(),
        req.seed
    );
    if let Some(rate) = success_rate(&episodes) {
        println!("success rate {:.1}% (info[\"is_success\"] at each episode's end)", 100.0 * rate);
    }
    if let Some(gif) = &req.gif {
        // Drawn scenes change little from step to step; rendered ones are thinned out.
        let delay = if drawn_natively(&run.env) { 2 } else { 4 };
        render::write_gif(gif, &frames, delay)?;
        let size = std::fs::metadata(gif).map(|m| m.len()).unwrap_or(0);
        println!("wrote {} ({} frames, {:.1} MB)", gif.display(), frames.len(), size as f64 / 1e6);
    }
    Ok(())
}
