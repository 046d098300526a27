//! The output directory of a running job, and what happens to it when the job fails.

use std::path::{Path, PathBuf};

use crate::error::{IoContext, MediaError};

/// Owns `out_dir` while a job runs: on drop, unless [`OutDirGuard::keep`] was called, it
/// removes what the job wrote.
pub(super) struct OutDirGuard {
    path: PathBuf,
    created: bool,
    armed: bool,
}

impl OutDirGuard {
    /// Creates `path`, or checks that the existing directory is empty.
    pub(super) fn prepare(path: &Path) -> Result<OutDirGuard, MediaError> {
        match std::fs::read_dir(path) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(MediaError::OutDirNotEmpty(path.to_owned()));
                }
                Ok(OutDirGuard {
                    path: path.to_owned(),
                    created: false,
                    armed: true,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path).context(|| format!("creating {}", path.display()))?;
                Ok(OutDirGuard {
                    path: path.to_owned(),
                    created: true,
                    armed: true,
                })
            }
            Err(e) => Err(MediaError::Io {
                context: format!("opening output directory {}", path.display()),
                source: e,
            }),
        }
    }

    /// The job succeeded: leave the files.
    pub(super) fn keep(mut self) {
        self.armed = false;
    }

    fn clean(&self) -> std::io::Result<()> {
        if self.created {
            return std::fs::remove_dir_all(&self.path);
        }
        for entry in std::fs::read_dir(&self.path)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                std::fs::remove_dir_all(entry.path())?;
            } else {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

impl Drop for OutDirGuard {
    fn drop(&mut self) {
        if self.armed {
            match self.clean() {
                Ok(()) => tracing::debug!(dir = %self.path.display(), "removed partial output"),
                Err(e) => tracing::warn!(
                    dir = %self.path.display(),
                    error = %e,
                    "could not remove partial output"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_removes_a_directory_it_created() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("job");
        let guard = OutDirGuard::prepare(&out).unwrap();
        std::fs::create_dir(out.join("360p")).unwrap();
        std::fs::write(out.join("master.m3u8"), "x").unwrap();
        drop(guard);
        assert!(!out.exists());
    }

    #[test]
    fn guard_empties_an_existing_directory_and_keeps_on_success() {
        let root = tempfile::tempdir().unwrap();
        let guard = OutDirGuard::prepare(root.path()).unwrap();
        std::fs::create_dir(root.path().join("subs")).unwrap();
        std::fs::write(root.path().join("subs/en.vtt"), "x").unwrap();
        drop(guard);
        assert!(root.path().exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);

        let guard = OutDirGuard::prepare(root.path()).unwrap();
        std::fs::write(root.path().join("poster.jpg"), "x").unwrap();
        guard.keep();
        assert!(root.path().join("poster.jpg").exists());
        assert!(matches!(
            OutDirGuard::prepare(root.path()),
            Err(MediaError::OutDirNotEmpty(_))
        ));
    }
}
