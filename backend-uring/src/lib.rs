//! # zzz-uring
//!
//! The Linux backend of zzz. Each instance is one thread, one io_uring and one `zzz-core`
//! [`Server`](zzz_core::Server): completions from the kernel become the core's events, and the
//! core's operations become submissions, one `io_uring_enter` per loop turn. Several instances
//! run shared-nothing on several threads, each with its own app state, its own memory region
//! and its own `SO_REUSEPORT` listener.
//!
//! ```no_run
//! # use zzz_core::{Config, Sole};
//! # fn app() -> zzz_core::App<()> { unimplemented!() }
//! zzz_uring::Builder::new(Config::DEFAULT)
//!     .threads(2)
//!     .listen_tcp("127.0.0.1:8080".parse().unwrap(), Sole)
//!     .run(|_instance| app())
//!     .unwrap();
//! ```
//!
//! An app of several protocols (a [`zzz_core::protocols!`] set) names, for each listener, the
//! protocol that serves it.
//!
//! - [`Builder::run`] serves until SIGINT or SIGTERM, then stops accepting, lets in-flight
//!   requests finish and idle connections close, and exits within the grace period; a second
//!   signal exits at once.
//! - [`Builder::start`] returns a [`Running`] server with a [`Handle`] for stopping it
//!   programmatically (tests do this).
//! - [`Builder::record`] records what each instance tells its server, so that the simulator
//!   can replay it as a test (`cargo run -p zzz-sim --release -- --replay FILE`).
//! - When io_uring is unavailable (old kernel, seccomp, `kernel.io_uring_disabled`), the error
//!   says which and how to use the portable server instead; with
//!   [`Builder::fallback_to_portable`] the switch is automatic.
//!
//! ## Listeners: `SO_REUSEPORT` or one shared socket
//!
//! By default each instance binds its own socket with `SO_REUSEPORT`, and the kernel spreads
//! connections over them by a hash of the addresses. The alternative, one listening socket
//! with a multishot accept armed by every instance ([`ListenerMode::Shared`]), lets whichever
//! instance wakes first take the connection. See the README's figures for how each balances.

mod availability;
mod buf_ring;
mod builder;
mod instance;
mod listen;
mod mailbox;
mod recv_mode;
mod signals;
mod stats_board;
mod submit;
mod token;

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use zzz_core::Snapshot;

use mailbox::Mailbox;
use stats_board::StatsBoard;
use zzz_core::server::TopicId;

pub use availability::{Unavailable, probe};
pub use builder::{
    Builder, DEFAULT_MAILBOX_BYTES, DEFAULT_WAITING_ROOM, ListenerMode, WAITING_ROOM_MAX,
};
pub use listen::{BoundAddr, Listen};
pub use mailbox::PublishRefused;
pub use recv_mode::{InvalidRecvMode, RecvMode};

/// Controls the instances of a [`Running`] server from any thread: stops them, asks them to
/// write their recordings, reads their counters.
#[derive(Clone)]
pub struct Handle {
    stop: Arc<AtomicBool>,
    dump: Arc<AtomicU64>,
    stats: Arc<StatsBoard>,
    wakers: Arc<Vec<OwnedFd>>,
    mailboxes: Arc<Vec<Arc<Mailbox>>>,
}

impl Handle {
    /// Starts a graceful shutdown of every instance.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Asks every recording instance ([`Builder::record`]) to write its recording so far to
    /// its file, and returns at once; each does so on its next loop turn, and goes on
    /// recording. Does nothing when not recording.
    pub fn dump(&self) {
        self.dump.fetch_add(1, Ordering::SeqCst);
        self.wake();
    }

    /// Every instance's counters and gauges, fresh: each instance copies them at its next
    /// loop turn (woken for it), and this waits for them, at most two seconds in all (the
    /// portable fallback's loop turns at least once a second); an instance that has stopped
    /// gives its last ones. For monitoring; the instances allocate nothing for it.
    pub fn stats(&self) -> Vec<Snapshot> {
        self.stats.read(|| self.wake(), Duration::from_secs(2))
    }

    /// Publishes `data` to `topic` in every instance, from any thread (a sensor, a job): each
    /// instance's subscribers get it as if a connection had published it. The message waits
    /// in the instance's mailbox ([`Builder::mailbox_bytes`]) until its loop's next turn
    /// (woken at once on io_uring; within a second on the portable fallback). Refused when an
    /// instance's mailbox is full ([`PublishRefused::Full`], the others took it) or the
    /// message is longer than `Topics::max_message`; nothing blocks, nothing is allocated.
    pub fn publish(&self, topic: TopicId, data: &[u8]) -> Result<(), PublishRefused> {
        let mut result = Ok(());
        for mailbox in self.mailboxes.iter() {
            if let Err(refused) = mailbox.post(topic, data) {
                result = Err(refused);
            }
        }
        self.wake();
        result
    }

    fn wake(&self) {
        for waker in self.wakers.iter() {
            let _ = rustix::io::write(waker, &1u64.to_ne_bytes());
        }
    }
}

/// A started server.
pub struct Running {
    handle: Handle,
    threads: Vec<JoinHandle<io::Result<()>>>,
    addrs: Vec<BoundAddr>,
}

impl Running {
    /// Where the listeners are bound, in the order they were added.
    pub fn addrs(&self) -> &[BoundAddr] {
        &self.addrs
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Waits for every instance to stop; returns the first error.
    pub fn wait(self) -> io::Result<()> {
        let mut result = Ok(());
        for thread in self.threads {
            let outcome = thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("an instance panicked")));
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    }

    /// Stops gracefully and waits.
    pub fn stop(self) -> io::Result<()> {
        self.handle.shutdown();
        self.wait()
    }
}
