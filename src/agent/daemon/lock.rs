//! One daemon per state directory: an exclusive `flock` on `<state_dir>/agent.lock`,
//! held for the daemon's life and released by the kernel when the process ends (also
//! on SIGKILL), so a stale lock file never blocks a restart.

use super::DaemonError;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

/// The lock file's name in the state directory.
pub const LOCK_FILE: &str = "agent.lock";

/// The held lock; dropping it closes the file, which releases the lock.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    pub fn acquire(dir: &Path) -> Result<StateLock, DaemonError> {
        let io = |source| DaemonError::Lock {
            dir: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            return Err(if err.kind() == std::io::ErrorKind::WouldBlock {
                DaemonError::Locked {
                    dir: dir.to_owned(),
                    lock: path,
                }
            } else {
                io(err)
            });
        }
        Ok(StateLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_daemon_on_the_same_directory_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path()).unwrap();
        let second = StateLock::acquire(dir.path());
        assert!(
            matches!(second, Err(DaemonError::Locked { .. })),
            "{second:?}"
        );
        drop(first);
        StateLock::acquire(dir.path()).expect("free again");
    }
}
