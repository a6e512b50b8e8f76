//! Process hardening for a process that holds unlocked keys: no core dumps, private files.
//!
//! Uses `rustix` (safe wrappers over the system calls), keeping this crate free of `unsafe`.

/// What [`harden_process`] managed to do (each step is best-effort on other platforms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardened {
    /// The core-dump size limit is 0.
    pub core_dumps_disabled: bool,
    /// The process is marked non-dumpable (Linux: no core dump, no ptrace by other
    /// same-user processes, /proc/self/mem unreadable by them).
    pub not_dumpable: bool,
}

/// Disables core dumps (RLIMIT_CORE = 0 and, on Linux, PR_SET_DUMPABLE = 0) so that keys and
/// plaintext held in memory while a session is unlocked cannot end up in a core file. Call
/// it before unlocking; the `pvault` CLI does so at start-up.
pub fn harden_process() -> Hardened {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        let core_dumps_disabled = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )
        .is_ok();
        #[cfg(target_os = "linux")]
        let not_dumpable =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
                .is_ok();
        #[cfg(not(target_os = "linux"))]
        let not_dumpable = false;
        Hardened {
            core_dumps_disabled,
            not_dumpable,
        }
    }
    #[cfg(not(unix))]
    {
        Hardened {
            core_dumps_disabled: false,
            not_dumpable: false,
        }
    }
}

/// Makes every file this process creates from now on private to its owner (umask 077).
/// Process-wide, so the CLI calls it; a library user decides for their own process.
pub fn private_umask() {
    #[cfg(unix)]
    {
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn core_dumps_are_off_after_hardening() {
        let h = harden_process();
        assert!(h.core_dumps_disabled && h.not_dumpable);
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!(limit.current, Some(0));
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(status.lines().any(|l| l.starts_with("CoreDumping")));
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
