//! Replacing a file so that a crash at any moment leaves either the old file
//! or the new one, whole: write a temporary file beside it, sync it, rename it
//! over the old one, sync the folder (the rename reaches the disk only with
//! the folder's entry). A failed attempt removes its temporary file.

use std::path::Path;

use anyhow::Result;

/// Replaces `path` with what `write` writes to `tmp`, a path in the same
/// folder (the caller names it, e.g. so that TensorBoard never reads it).
pub fn replace(path: &Path, tmp: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let attempt = || -> Result<()> {
        write(tmp)?;
        std::fs::File::open(tmp)?.sync_all()?;
        std::fs::rename(tmp, path)?;
        std::fs::File::open(folder_of(path))?.sync_all()?;
        Ok(())
    };
    attempt().inspect_err(|_| {
        let _ = std::fs::remove_file(tmp);
    })
}

/// The folder holding `path`: "." for a bare file name, whose parent is "".
pub fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_lives_in_the_working_folder() {
        assert_eq!(folder_of(Path::new("e.csv")), Path::new("."));
        assert_eq!(folder_of(Path::new("runs/e.csv")), Path::new("runs"));
        assert_eq!(folder_of(Path::new("/e.csv")), Path::new("/"));
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("natgrad-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (path, tmp) = (dir.join("f"), dir.join("f.tmp"));
        replace(&path, &tmp, |t| Ok(std::fs::write(t, "old")?)).unwrap();
        let failed = replace(&path, &tmp, |t| {
            std::fs::write(t, "half")?;
            anyhow::bail!("disk full")
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert!(!tmp.exists());
        replace(&path, &tmp, |t| Ok(std::fs::write(t, "new")?)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
