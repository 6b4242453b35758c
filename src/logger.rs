//! What a run writes as it goes: TensorBoard scalars (environment steps on the
//! x-axis, CleanRL's tag names) and `progress.csv`, one row per iteration.
//! Both are written synchronously, so a run killed at any moment leaves
//! complete records behind; a resumed run cuts every log back to its
//! checkpoint first, so that nothing logged after it appears twice.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use natgrad_agents::agent::NaturalStepStats;
use natgrad_agents::evaluation::Evaluation;
use natgrad_agents::{Iteration, UpdateStats};
use tboard::tensorboard::{self, event::What, summary};
use tboard::{EventWriter, SummaryReader};

use crate::atomic_file;

pub const CSV_NAME: &str = "progress.csv";
/// One row per finished episode: the step count when it ended, its return and length.
pub const EPISODES_NAME: &str = "episodes.csv";

/// One row per evaluation during training: the step, the mean, standard
/// deviation and mean length of its episodes, and each episode's return.
pub const EVALUATIONS_NAME: &str = "evaluations.csv";
const EVALUATIONS_HEADER: &str = "total_steps,mean_reward,std_reward,mean_ep_length,returns";

/// Finished episodes averaged into `rollout/ep_rew_mean` and
/// `rollout/ep_len_mean`, as Stable-Baselines3 logs them.
pub const EPISODE_WINDOW: usize = 100;

/// The columns of `progress.csv`. Everything but `sps`, `direction_time_s`
/// and `wall_time_s` is determined by the seed; those three are
/// measurements. `update_skipped` names why a natural-gradient update applied
/// no step (`bad_curvature`, `schedule_end`, `line_search`), and is empty when it applied
/// one; `target_kl` is the update's trust region (its scheduled value with a
/// schedule). `predicted_kl` is the KL the quadratic model predicted for the
/// applied step (compare `approx_kl`, the KL measured after it);
/// `cosine_to_exact` and `gain_ratio_to_exact` are filled with
/// `fisher_diagnostics`, `signal_fraction` and `halves_cosine` with
/// `signal_diagnostics`. Columns are only ever added at the end, so that a
/// run resumed by a newer natgrad can widen its file (see [`widened`]).
pub const CSV_COLUMNS: [&str; 26] = [
    "iteration",
    "total_steps",
    "episodes",
    "mean_return",
    "mean_length",
    "policy_loss",
    "value_loss",
    "entropy",
    "approx_kl",
    "explained_variance",
    "surrogate_improvement",
    "cg_iterations",
    "cg_residual",
    "step_size",
    "line_search_steps",
    "line_search_success",
    "update_skipped",
    "predicted_kl",
    "cosine_to_exact",
    "gain_ratio_to_exact",
    "sps",
    "direction_time_s",
    "wall_time_s",
    "signal_fraction",
    "halves_cosine",
    "target_kl",
];

pub struct RunLogger {
    events: EventWriter<File>,
    csv: File,
    episodes: File,
    /// With evaluation during training.
    evaluations: Option<File>,
    /// (return, length) of the last `EPISODE_WINDOW` finished episodes.
    recent: VecDeque<(f64, f64)>,
    /// Whether each of the last `EPISODE_WINDOW` episodes that said so
    /// succeeded (this process's episodes only: episodes.csv keeps no success).
    successes: VecDeque<bool>,
}

/// Which data rows (index, text) of an existing CSV log to keep.
type RowFilter<'a> = &'a dyn Fn(usize, &str) -> bool;

/// Opens a CSV log: a fresh one with its header, or an existing one keeping
/// the header and the rows that `keep` accepts.
fn open_csv(path: &Path, header: &str, keep: Option<RowFilter<'_>>) -> Result<File> {
    match keep {
        None => {
            let mut f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            writeln!(f, "{header}")?;
            Ok(f)
        }
        Some(keep) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            // A last line without its newline was torn by a crash: drop it.
            let whole = text.rfind('\n').map_or("", |end| &text[..end]);
            let kept: Vec<&str> =
                whole.lines().enumerate().filter(|(i, line)| *i == 0 || keep(*i - 1, line)).map(|(_, l)| l).collect();
            let kept = widened(&kept, header);
            let tmp = path.with_extension("csv.tmp");
            atomic_file::replace(path, &tmp, |tmp| Ok(std::fs::write(tmp, kept.join("\n") + "\n")?))
                .with_context(|| format!("cannot cut {} back to the checkpoint", path.display()))?;
            Ok(OpenOptions::new().append(true).open(path)?)
        }
    }
}

/// The rows of a CSV file (header first) under `header`: a file written by
/// an older natgrad, whose header is the start of `header`, gets the new
/// columns, empty in its rows, so that the rows appended after a resume
/// match its header. Any other file is kept as it is.
fn widened(rows: &[&str], header: &str) -> Vec<String> {
    let old = rows.first().copied().unwrap_or(header);
    let added = match header.strip_prefix(old) {
        Some(rest) if old != header && rest.starts_with(',') => rest.matches(',').count(),
        _ => return rows.iter().map(|r| r.to_string()).collect(),
    };
    let padding = ",".repeat(added);
    let body = rows.iter().skip(1).map(|r| format!("{r}{padding}"));
    std::iter::once(header.to_string()).chain(body).collect()
}

impl RunLogger {
    /// Opens the logs of the run folder `dir`. A fresh run starts the CSV
    /// files; a resumed one (`resumed_at`: iterations and steps of its
    /// checkpoint) first cuts the CSV files and every event file back to the
    /// checkpoint (what came after it will be written again), then adds a new
    /// event file beside the old ones. `evaluations`: the run evaluates
    /// during training, into `evaluations.csv`.
    pub fn open(dir: &Path, resumed_at: Option<(usize, usize)>, evaluations: bool) -> Result<Self> {
        if let Some((_, steps)) = resumed_at {
            for path in event_files(dir)? {
                cut_event_file(&path, steps)?;
            }
        }
        let events = EventWriter::create(dir)
            .map_err(|e| anyhow::anyhow!("cannot create a TensorBoard event file in {}: {e}", dir.display()))?;
        let keep_rows = resumed_at.map(|(iterations, _)| move |row: usize, _: &str| row < iterations);
        // Only whole rows: a power loss can leave a torn last row such as "40".
        let keep_episodes = resumed_at
            .map(|(_, steps)| move |_: usize, line: &str| episode_row(line).is_some_and(|(s, ..)| s <= steps));
        let csv = open_csv(&dir.join(CSV_NAME), &CSV_COLUMNS.join(","), keep_rows.as_ref().map(|f| f as _))?;
        let episodes_path = dir.join(EPISODES_NAME);
        let episodes = open_csv(&episodes_path, "total_steps,return,length", keep_episodes.as_ref().map(|f| f as _))?;
        let recent = if resumed_at.is_some() { recent_episodes(&episodes_path)? } else { VecDeque::new() };
        let evaluations = evaluations.then(|| open_evaluations(dir, resumed_at.map(|(_, steps)| steps))).transpose()?;
        Ok(Self { events, csv, episodes, evaluations, recent, successes: VecDeque::new() })
    }

    fn scalar(&mut self, step: usize, tag: &str, value: f64) -> Result<()> {
        if value.is_finite() {
            self.events
                .write_scalar(step as i64, tag, value as f32)
                .map_err(|e| anyhow::anyhow!("TensorBoard log: {e}"))?;
        }
        Ok(())
    }

    /// The hyperparameters as a text summary (TensorBoard's TEXT tab), as a
    /// Markdown table.
    pub fn hyperparameters(&mut self, table: &[(String, String)]) -> Result<()> {
        let mut text = String::from("|key|value|\n|-|-|\n");
        for (k, v) in table {
            text.push_str(&format!("|{k}|{v}|\n"));
        }
        let tensor = tensorboard::TensorProto {
            dtype: tensorboard::DataType::DtString.into(),
            tensor_shape: Some(tensorboard::TensorShapeProto { dim: vec![], unknown_rank: false }),
            string_val: vec![text.into_bytes()],
            ..Default::default()
        };
        let metadata = tensorboard::SummaryMetadata {
            plugin_data: Some(tensorboard::summary_metadata::PluginData {
                plugin_name: "text".into(),
                content: vec![],
            }),
            ..Default::default()
        };
        let value = summary::Value {
            node_name: String::new(),
            tag: "hyperparameters/text_summary".into(),
            metadata: Some(metadata),
            value: Some(summary::value::Value::Tensor(tensor)),
        };
        let what = tensorboard::event::What::Summary(tensorboard::Summary { value: vec![value] });
        self.events.write(0, what).map_err(|e| anyhow::anyhow!("TensorBoard log: {e}"))
    }

    /// Puts everything logged so far on disk. Called before each checkpoint,
    /// so that after a power loss the logs reach at least as far as it.
    pub fn sync(&mut self) -> Result<()> {
        self.events.flush().map_err(|e| anyhow::anyhow!("TensorBoard log: {e}"))?;
        for (file, name) in [(&self.csv, CSV_NAME), (&self.episodes, EPISODES_NAME)] {
            file.sync_data().with_context(|| format!("cannot write {name} to disk"))?;
        }
        if let Some(file) = &self.evaluations {
            file.sync_data().with_context(|| format!("cannot write {EVALUATIONS_NAME} to disk"))?;
        }
        Ok(())
    }

    /// Logs an evaluation during training, at `step` environment steps:
    /// `eval/mean_reward` and `eval/mean_ep_length` (Stable-Baselines3's
    /// tags), `eval/success_rate` where the environment reports success, and
    /// a row of `evaluations.csv`.
    pub fn evaluation(&mut self, step: usize, e: &Evaluation) -> Result<()> {
        self.scalar(step, "eval/mean_reward", e.mean_return())?;
        self.scalar(step, "eval/mean_ep_length", e.mean_length())?;
        if let Some(rate) = e.success_rate() {
            self.scalar(step, "eval/success_rate", rate)?;
        }
        self.events.flush().map_err(|err| anyhow::anyhow!("TensorBoard log: {err}"))?;
        let file = self.evaluations.as_mut().context("the run was opened without evaluations")?;
        let returns = e.returns.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>().join(" ");
        writeln!(file, "{step},{:?},{:?},{:?},{returns}", e.mean_return(), e.std_return(), e.mean_length())
            .with_context(|| format!("cannot write {EVALUATIONS_NAME}"))
    }

    /// The share of the last 100 episodes that succeeded, among those whose
    /// environment says (Gymnasium-Robotics' `is_success`): SB3's
    /// `rollout/success_rate`, and `charts/success_rate`.
    fn log_success_rate(&mut self, step: usize, episodes: &[natgrad_envs::EpisodeStats]) -> Result<()> {
        self.successes.extend(episodes.iter().filter_map(|e| e.success));
        let excess = self.successes.len().saturating_sub(EPISODE_WINDOW);
        self.successes.drain(..excess);
        if self.successes.is_empty() {
            return Ok(());
        }
        let rate = self.successes.iter().filter(|s| **s).count() as f64 / self.successes.len() as f64;
        self.scalar(step, "rollout/success_rate", rate)?;
        self.scalar(step, "charts/success_rate", rate)
    }

    /// Logs one iteration (numbered from 0 over the whole run).
    pub fn iteration(&mut self, index: usize, it: &Iteration, sps: f64, wall_time: f64) -> Result<()> {
        let step = it.total_steps;
        self.log_episodes(it)?;
        self.log_success_rate(step, &it.episodes)?;
        self.scalar(step, "charts/SPS", sps)?;
        self.log_update(step, &it.stats)?;
        if let Some(n) = &it.stats.natural {
            self.log_natural_step(step, &it.stats, n)?;
        }
        self.events.flush().map_err(|e| anyhow::anyhow!("TensorBoard log: {e}"))?;
        writeln!(self.csv, "{}", progress_row(index, it, sps, wall_time).join(",")).context("cannot write progress.csv")
    }

    /// Each finished episode (TensorBoard, episodes.csv), and the mean of
    /// the last 100 at the iteration's step.
    fn log_episodes(&mut self, it: &Iteration) -> Result<()> {
        for (e, step) in it.episodes.iter().zip(&it.episode_end_steps) {
            self.scalar(*step, "charts/episodic_return", e.episode_return)?;
            self.scalar(*step, "charts/episodic_length", e.length as f64)?;
            writeln!(self.episodes, "{step},{},{}", e.episode_return, e.length).context("cannot write episodes.csv")?;
        }
        self.recent.extend(it.episodes.iter().map(|e| (e.episode_return, e.length as f64)));
        let excess = self.recent.len().saturating_sub(EPISODE_WINDOW);
        self.recent.drain(..excess);
        // One point per iteration over the last 100 episodes: TensorBoard's
        // data server keeps one value per step and tag, so the per-episode
        // points of copies that finish on the same step collapse into one.
        if !self.recent.is_empty() {
            let n = self.recent.len() as f64;
            self.scalar(it.total_steps, "rollout/ep_rew_mean", self.recent.iter().map(|e| e.0).sum::<f64>() / n)?;
            self.scalar(it.total_steps, "rollout/ep_len_mean", self.recent.iter().map(|e| e.1).sum::<f64>() / n)?;
        }
        Ok(())
    }

    /// Where the update's time went (measured, like SPS) and its losses.
    fn log_update(&mut self, step: usize, s: &UpdateStats) -> Result<()> {
        let t = &s.timings;
        for (tag, d) in [
            ("time/rollout_s", t.rollout),
            ("time/policy_gradient_s", t.policy_gradient),
            ("time/conjugate_gradient_s", t.conjugate_gradient),
            ("time/line_search_s", t.line_search),
            ("time/critic_s", t.critic),
        ] {
            self.scalar(step, tag, d.as_secs_f64())?;
        }
        self.scalar(step, "losses/policy_loss", s.policy_loss)?;
        self.scalar(step, "losses/value_loss", s.value_loss)?;
        self.scalar(step, "losses/entropy", s.entropy)?;
        self.scalar(step, "losses/approx_kl", s.approx_kl)?;
        self.scalar(step, "losses/explained_variance", s.explained_variance)
    }

    /// The natural-gradient step `n` of the update `s`: conjugate gradients,
    /// the line search, and how faithful its Fisher was.
    fn log_natural_step(&mut self, step: usize, s: &UpdateStats, n: &NaturalStepStats) -> Result<()> {
        let measured_kl = s.approx_kl;
        self.scalar(step, "trpo/cg_iterations", n.cg_iterations as f64)?;
        self.scalar(step, "trpo/cg_residual", n.cg_residual)?;
        self.scalar(step, "trpo/step_size", n.step_size)?;
        self.scalar(step, "trpo/target_kl", n.target_kl)?;
        self.scalar(step, "trpo/line_search_steps", n.line_search_steps as f64)?;
        self.scalar(step, "trpo/line_search_success", f64::from(u8::from(n.line_search_success)))?;
        self.scalar(step, "trpo/surrogate_improvement", s.surrogate_after - s.surrogate_before)?;
        let reason = n.skip_reason();
        self.scalar(step, "trpo/skipped_bad_curvature", f64::from(u8::from(reason == Some("bad_curvature"))))?;
        self.scalar(step, "trpo/skipped_line_search", f64::from(u8::from(reason == Some("line_search"))))?;
        self.scalar(step, "trpo/skipped_schedule_end", f64::from(u8::from(reason == Some("schedule_end"))))?;
        // The KL the step's quadratic model predicted against the KL
        // measured, and the direction's angle to the exact one (with
        // fisher_diagnostics).
        self.scalar(step, "fisher/predicted_kl", n.predicted_kl)?;
        self.scalar(step, "fisher/measured_kl", measured_kl)?;
        if n.predicted_kl > 0.0 {
            self.scalar(step, "fisher/measured_over_predicted_kl", measured_kl / n.predicted_kl)?;
        }
        if let Some(c) = n.cosine_to_exact {
            self.scalar(step, "fisher/cosine_to_exact", c)?;
        }
        if let Some(r) = n.gain_to_exact {
            self.scalar(step, "fisher/gain_ratio_to_exact", r)?;
        }
        if let Some(f) = n.signal_fraction {
            self.scalar(step, "trpo/signal_fraction", f)?;
        }
        if let Some(c) = n.halves_cosine {
            self.scalar(step, "trpo/halves_cosine", c)?;
        }
        self.scalar(step, "fisher/direction_time_s", n.direction_time.as_secs_f64())?;
        self.scalar(step, "fisher/damping", n.damping)
    }
}

/// progress.csv's row of one iteration, in [`CSV_COLUMNS`]' order.
fn progress_row(index: usize, it: &Iteration, sps: f64, wall_time: f64) -> Vec<String> {
    let s = &it.stats;
    let n = it.episodes.len();
    let mean = |f: &dyn Fn(&natgrad_envs::EpisodeStats) -> f64| {
        if n == 0 { String::new() } else { format!("{}", it.episodes.iter().map(f).sum::<f64>() / n as f64) }
    };
    let natural = |f: &dyn Fn(&NaturalStepStats) -> String| s.natural.as_ref().map(f).unwrap_or_default();
    vec![
        index.to_string(),
        it.total_steps.to_string(),
        n.to_string(),
        mean(&|e| e.episode_return),
        mean(&|e| e.length as f64),
        s.policy_loss.to_string(),
        s.value_loss.to_string(),
        s.entropy.to_string(),
        s.approx_kl.to_string(),
        s.explained_variance.to_string(),
        (s.surrogate_after - s.surrogate_before).to_string(),
        natural(&|n| n.cg_iterations.to_string()),
        natural(&|n| n.cg_residual.to_string()),
        natural(&|n| n.step_size.to_string()),
        natural(&|n| n.line_search_steps.to_string()),
        natural(&|n| u8::from(n.line_search_success).to_string()),
        natural(&|n| n.skip_reason().unwrap_or_default().to_string()),
        natural(&|n| n.predicted_kl.to_string()),
        natural(&|n| n.cosine_to_exact.map(|c| c.to_string()).unwrap_or_default()),
        natural(&|n| n.gain_to_exact.map(|r| r.to_string()).unwrap_or_default()),
        format!("{sps:.1}"),
        natural(&|n| format!("{:.6}", n.direction_time.as_secs_f64())),
        format!("{wall_time:.3}"),
        natural(&|n| n.signal_fraction.map(|f| f.to_string()).unwrap_or_default()),
        natural(&|n| n.halves_cosine.map(|c| c.to_string()).unwrap_or_default()),
        natural(&|n| n.target_kl.to_string()),
    ]
}

/// The TensorBoard event files of a run folder.
fn event_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = vec![];
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("events.out.tfevents.")) {
            files.push(path);
        }
    }
    Ok(files)
}

/// Cuts an event file back to a checkpoint taken at `steps`: keeps the events
/// at steps up to it, drops the later ones (the resumed run writes them
/// again) and a record torn by a crash. Replaced atomically, so a crash during
/// the cut leaves the file as it was; the temporary name has no `tfevents` in
/// it, so TensorBoard never reads it. A file left without any summary is
/// removed.
fn cut_event_file(path: &Path, steps: usize) -> Result<()> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (mut kept, mut dropped) = (vec![], false);
    for event in SummaryReader::new(std::io::BufReader::new(file)) {
        let Ok(event) = event else {
            dropped = true; // a torn last record: nothing after it is readable
            break;
        };
        if matches!(event.what, Some(What::FileVersion(_))) {
            continue; // the writer writes its own
        }
        if event.step <= steps as i64 { kept.push(event) } else { dropped = true }
    }
    if !dropped {
        return Ok(());
    }
    if kept.is_empty() {
        return std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()));
    }
    let tmp = path.with_file_name(format!(".natgrad-cut-{}.tmp", std::process::id()));
    atomic_file::replace(path, &tmp, |tmp| {
        let mut writer = EventWriter::from_writer(File::create(tmp)?, None).map_err(|e| anyhow::anyhow!("{e}"))?;
        for event in kept {
            writer.write_event(event).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        writer.flush().map_err(|e| anyhow::anyhow!("{e}"))
    })
    .with_context(|| format!("cannot cut {} back to the checkpoint", path.display()))
}

/// The last `EPISODE_WINDOW` episodes of `episodes.csv`, as (return, length).
fn recent_episodes(path: &Path) -> Result<VecDeque<(f64, f64)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut recent = VecDeque::new();
    for line in text.lines().skip(1) {
        let Some((_, ret, len)) = episode_row(line) else {
            anyhow::bail!("{} has a damaged row '{line}'; it cannot be resumed", path.display());
        };
        recent.push_back((ret, len));
        if recent.len() > EPISODE_WINDOW {
            recent.pop_front();
        }
    }
    Ok(recent)
}

/// A whole row of `episodes.csv`: (step, return, length).
fn episode_row(line: &str) -> Option<(usize, f64, f64)> {
    let mut fields = line.split(',');
    let row = (fields.next()?.parse().ok()?, fields.next()?.parse().ok()?, fields.next()?.parse().ok()?);
    fields.next().is_none().then_some(row)
}

/// Opens `evaluations.csv`: a fresh one, or a resumed run's cut back to the
/// rows at or before its checkpoint (`resumed_at` steps). A run that did
/// not evaluate before starts the file.
fn open_evaluations(dir: &Path, resumed_at: Option<usize>) -> Result<File> {
    let path = dir.join(EVALUATIONS_NAME);
    let keep = resumed_at
        .filter(|_| path.exists())
        .map(|steps| move |_: usize, line: &str| evaluation_row(line).is_some_and(|(step, _)| step <= steps));
    open_csv(&path, EVALUATIONS_HEADER, keep.as_ref().map(|f| f as _))
}

/// (step, mean) of each evaluation in a run folder's `evaluations.csv`; none
/// where the run did not evaluate during training.
pub fn read_evaluations(dir: &Path) -> Result<Vec<(usize, f64)>> {
    let path = dir.join(EVALUATIONS_NAME);
    if !path.exists() {
        return Ok(vec![]);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text.lines().skip(1).filter_map(evaluation_row).collect())
}

/// The best mean of the evaluations in a run folder's `evaluations.csv`.
pub fn best_evaluation(dir: &Path) -> Result<Option<f64>> {
    Ok(read_evaluations(dir)?.into_iter().map(|(_, mean)| mean).reduce(f64::max))
}

/// (step, mean) of a whole `evaluations.csv` row, or `None` for one torn by a crash.
fn evaluation_row(line: &str) -> Option<(usize, f64)> {
    let fields: Vec<&str> = line.split(',').collect();
    let [step, mean, std, length, _returns] = fields.as_slice() else { return None };
    let numbers = [mean, std, length].iter().all(|f| f.parse::<f64>().is_ok());
    numbers.then(|| Some((step.parse().ok()?, mean.parse().ok()?))).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_episode_rows_parse() {
        assert_eq!(episode_row("40948,-122,123"), Some((40948, -122.0, 123.0)));
        for torn in ["40", "40948,-12", "40948,-122,", "40948,-122,123,7", ""] {
            assert_eq!(episode_row(torn), None, "{torn}");
        }
    }

    #[test]
    fn an_older_progress_file_gets_the_new_columns_empty() {
        let old = ["a,b", "1,2", "3,4"];
        assert_eq!(widened(&old, "a,b,c,d"), ["a,b,c,d", "1,2,,", "3,4,,"]);
        assert_eq!(widened(&old, "a,b"), old);
        // Not a prefix, or a prefix of a column's name: left alone.
        assert_eq!(widened(&old, "x,a,b"), old);
        assert_eq!(widened(&["a,b", "1,2"], "a,bc"), ["a,b", "1,2"]);
    }

    #[test]
    fn only_whole_evaluation_rows_parse() {
        assert_eq!(evaluation_row("50000,480.5,10.0,500.0,470.5 490.5"), Some((50000, 480.5)));
        for torn in ["50000", "50000,480.5,10.0", "50000,480.5,1x,500.0,470.5", ""] {
            assert_eq!(evaluation_row(torn), None, "{torn}");
        }
    }
}
