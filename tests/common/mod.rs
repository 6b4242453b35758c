//! What the end-to-end tests share.
#![allow(dead_code)] // each test crate uses its own part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary, which must find libtorch through its rpath alone.
pub fn natgrad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_natgrad")).args(args).env_remove("LD_LIBRARY_PATH").output().expect("natgrad runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh folder under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("natgrad-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The rows of a CSV file, split on commas.
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

/// progress.csv without its three measured columns (steps/s, direction time, wall time).
pub fn curve(run: &Path) -> Vec<Vec<String>> {
    let rows = csv_rows(&run.join("progress.csv"));
    let measured: Vec<bool> =
        rows[0].iter().map(|c| ["sps", "direction_time_s", "wall_time_s"].contains(&c.as_str())).collect();
    assert_eq!(measured.iter().filter(|m| **m).count(), 3, "{:?}", rows[0]);
    rows.into_iter().map(|r| r.into_iter().zip(&measured).filter(|(_, m)| !**m).map(|(c, _)| c).collect()).collect()
}

/// Waits (up to two minutes) until a run's progress.csv has `rows` rows.
pub fn wait_for_rows(csv: &Path, rows: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_to_string(csv).map_or(0, |t| t.lines().count()) < rows + 1 {
        assert!(Instant::now() < deadline, "the run wrote no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts a training run and sends it `signal` (`libc::SIGINT`, ...) once
/// progress.csv has `rows` rows; returns its exit status. The signal goes
/// from this process, not through a `kill` process, so that it lands within
/// milliseconds of the row even while iterations take a few.
pub fn interrupt_after(args: &[String], csv: &Path, rows: usize, signal: libc::c_int) -> std::process::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_natgrad"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_rows(csv, rows);
    send(&child, signal);
    child.wait_with_output().unwrap()
}

/// Sends `signal` to a child process that has not been waited for yet.
pub fn send(child: &std::process::Child, signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions; the child is not yet
    // waited for, so its pid cannot have been reused.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0, "signal {signal}");
}

/// The arguments of a quiet `natgrad train` of TRPO on `env` into `dir/name`,
/// with `extra` settings.
pub fn trpo_args(env: &str, dir: &TempDir, name: &str, extra: &[&str]) -> Vec<String> {
    let base = ["train", "--algo", "trpo", "--env", env, "--logdir", dir.str(), "--run-name", name, "--quiet"];
    base.iter().chain(extra).map(|s| s.to_string()).collect()
}

pub fn natgrad_args(args: &[String]) -> std::process::Output {
    natgrad(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Scalar points by tag: (environment step, value).
pub type Scalars = BTreeMap<String, Vec<(i64, f32)>>;

/// Every scalar tag of the run's event files with its points, read back with
/// a TensorBoard reader; and the text summaries' tags.
pub fn read_events(dir: &Path) -> (Scalars, Vec<String>) {
    use tboard::tensorboard::{event::What, summary::value::Value};
    let mut scalars = Scalars::new();
    let mut texts = vec![];
    // In name order, as TensorBoard reads them: the names start with the time.
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("events.out.tfevents."))
        .collect();
    paths.sort();
    let files = paths.len();
    for path in paths {
        let reader = tboard::SummaryReader::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        for event in reader {
            let event = event.expect("a well-formed event record (length and data CRCs check out)");
            if let Some(What::Summary(summary)) = event.what {
                for v in summary.value {
                    match v.value {
                        Some(Value::SimpleValue(x)) => scalars.entry(v.tag).or_default().push((event.step, x)),
                        Some(Value::Tensor(t)) => {
                            assert_eq!(v.metadata.unwrap().plugin_data.unwrap().plugin_name, "text");
                            assert!(String::from_utf8(t.string_val[0].clone()).unwrap().contains("|gamma|"));
                            texts.push(v.tag);
                        }
                        other => panic!("unexpected summary value {other:?}"),
                    }
                }
            }
        }
    }
    assert!(files >= 1, "no event file in {}", dir.display());
    (scalars, texts)
}
