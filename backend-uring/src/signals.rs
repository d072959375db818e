//! The process's signals under [`Builder::run`](crate::Builder::run): SIGINT and SIGTERM stop
//! gracefully (a second one exits at once), SIGUSR1 writes the recordings so far. They are
//! blocked in every thread and read from a signalfd by a thread of their own.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::Handle;

/// Blocks SIGINT and SIGTERM (and SIGUSR1, when `dump` is set) in this thread (and the
/// threads it spawns) and returns a signalfd that receives them.
pub(crate) fn block_stop_signals(dump: bool) -> io::Result<OwnedFd> {
    // SAFETY: plain libc calls on a local sigset; the returned descriptor is owned.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        if dump {
            libc::sigaddset(&mut set, libc::SIGUSR1);
        }
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(std::os::fd::FromRawFd::from_raw_fd(fd))
    }
}

/// Bytes of one signal read from a signalfd: `struct signalfd_siginfo`.
const SIGINFO_LEN: usize = 128;
// signalfd(2) fixes the structure at 128 bytes, its first field the signal number.
const _: () = assert!(
    size_of::<libc::signalfd_siginfo>() == SIGINFO_LEN
        && std::mem::offset_of!(libc::signalfd_siginfo, ssi_signo) == 0
);

/// Reads of the signalfd in a row that may be interrupted before the signal thread gives up
/// (every signal it reads is blocked, so an interruption carries none: this is a backstop).
const INTERRUPTED_READS_MAX: u32 = 64;

/// First SIGINT or SIGTERM: graceful shutdown. Second: exit at once. SIGUSR1 (received only
/// when recording): [`Handle::dump`].
pub(crate) fn wait_for_signals(signals: OwnedFd, handle: Handle) {
    let mut info = [0u8; SIGINFO_LEN];
    let mut count = 0;
    let mut interrupted = 0;
    // Bounded: the process's signal loop, one round per signal, until the second stop signal
    // exits; an interrupted read, which carries no signal, counts against `interrupted`.
    loop {
        // SAFETY: reads into a local buffer of the size signalfd requires.
        let n = unsafe { libc::read(signals.as_raw_fd(), info.as_mut_ptr().cast(), info.len()) };
        if n <= 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                interrupted += 1;
                if interrupted < INTERRUPTED_READS_MAX {
                    continue;
                }
                log::error!(
                    "zzz: the signal thread was interrupted {INTERRUPTED_READS_MAX} times in a \
                     row; SIGINT and SIGTERM are no longer handled"
                );
            }
            return;
        }
        interrupted = 0;
        // A signalfd read returns whole structures.
        assert_eq!(
            n as usize, SIGINFO_LEN,
            "a signalfd read of part of a signal"
        );
        let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
        if signo == libc::SIGUSR1 as u32 {
            handle.dump();
            continue;
        }
        count += 1;
        if count == 1 {
            eprintln!("zzz: stopping (signal again to exit at once)");
            handle.shutdown();
        } else {
            eprintln!("zzz: exiting at once");
            std::process::exit(130);
        }
    }
}
