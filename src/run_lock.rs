//! One process per run folder. Two processes resuming the same run would both
//! run to the end and interleave their rows in its logs; a lock on a file in
//! the folder stops the second one before it reads or writes anything.
//!
//! The lock is an advisory `flock` taken with `File::try_lock`: the operating
//! system releases it when the process ends in any way (exit, Ctrl-C,
//! SIGKILL, an out-of-memory kill), so a crash never leaves a stale lock. The
//! file itself stays behind and holds the last holder's process id, for the
//! message a second process prints. Readers (`natgrad eval`) take no lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

pub const LOCK_NAME: &str = "natgrad.lock";

/// Held for as long as the process works in the folder.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Locks `dir` for this process, or fails naming the process that holds it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_NAME);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.lines().next().unwrap_or_default().trim().to_owned();
                let who = if holder.is_empty() { "another process".to_owned() } else { format!("process {holder}") };
                bail!(
                    "run folder {} is in use by {who} (it holds {}); wait for it to finish or stop it, then try again \
                     (natgrad eval can read its checkpoint meanwhile)",
                    dir.display(),
                    path.display()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                bail!("cannot lock {}: {e}; is the run folder on a file system without locks?", path.display())
            }
        }
        let mut record = || -> std::io::Result<()> {
            file.set_len(0)?;
            file.rewind()?;
            writeln!(file, "{}", std::process::id())?;
            let args: Vec<String> = std::env::args().collect();
            writeln!(file, "{}", args.join(" "))
        };
        record().with_context(|| format!("cannot write the lock file {}", path.display()))?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_folder_fails_naming_the_holder_until_the_first_is_released() {
        let dir = std::env::temp_dir().join(format!("natgrad-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = RunLock::acquire(&dir).unwrap();
        // flock locks belong to the open file description, so a second open
        // in the same process conflicts just as another process would.
        let err = RunLock::acquire(&dir).unwrap_err().to_string();
        assert!(err.contains(&format!("is in use by process {}", std::process::id())), "{err}");
        drop(first);
        RunLock::acquire(&dir).expect("released when its holder drops it");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
