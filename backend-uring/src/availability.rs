//! Telling the user, precisely, why io_uring cannot be used here.

use std::io;

/// Why io_uring is unavailable, with what to do instead.
#[derive(Debug)]
pub struct Unavailable {
    /// The reason, in a sentence.
    pub reason: String,
    /// The error `io_uring_setup` returned.
    pub error: io::Error,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "io_uring is unavailable: {} ({}). Use the portable server instead: \
             zzz_core::shim::portable::Portable (see examples/portable.rs), or \
             Builder::fallback_to_portable(true) to switch automatically.",
            self.reason, self.error
        )
    }
}

impl std::error::Error for Unavailable {}

/// Explains an `io_uring_setup` failure; `disabled` is the content of
/// `/proc/sys/kernel/io_uring_disabled`, if readable.
pub(crate) fn explain(error: io::Error, disabled: Option<&str>) -> Unavailable {
    let reason = match (error.raw_os_error(), disabled.map(str::trim)) {
        (Some(libc::ENOSYS), _) => "this kernel has no io_uring (ENOSYS: Linux 5.1 or later is needed, 6.0+ recommended)".into(),
        (Some(libc::EPERM), Some("2")) => "io_uring is disabled on this system (kernel.io_uring_disabled = 2)".into(),
        (Some(libc::EPERM), Some("1")) => {
            "io_uring is restricted to privileged users and the io_uring_group (kernel.io_uring_disabled = 1)".into()
        }
        (Some(libc::EPERM | libc::EACCES), _) => {
            "io_uring_setup is forbidden, most likely by a seccomp policy (the default profile of several container runtimes blocks it)".into()
        }
        (Some(libc::ENOMEM), _) => "the ring could not be allocated (ENOMEM: raise RLIMIT_MEMLOCK on kernels before 5.12)".into(),
        _ => "io_uring_setup failed".into(),
    };
    Unavailable { reason, error }
}

/// Checks that a ring can be created, explaining why not.
pub fn probe() -> Result<(), Unavailable> {
    match io_uring::IoUring::new(2) {
        Ok(_) => Ok(()),
        Err(error) => {
            let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").ok();
            Err(explain(error, disabled.as_deref()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(errno: i32, disabled: Option<&str>) -> String {
        explain(io::Error::from_raw_os_error(errno), disabled).to_string()
    }

    #[test]
    fn each_cause_is_named() {
        assert!(reason(libc::ENOSYS, None).contains("no io_uring"));
        assert!(reason(libc::EPERM, Some("2\n")).contains("kernel.io_uring_disabled = 2"));
        assert!(reason(libc::EPERM, Some("1")).contains("io_uring_group"));
        assert!(reason(libc::EPERM, Some("0")).contains("seccomp"));
        for errno in [libc::ENOSYS, libc::EPERM, libc::ENOMEM] {
            assert!(
                reason(errno, None).contains("portable server"),
                "always says what to do instead"
            );
        }
    }
}
