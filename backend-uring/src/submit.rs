//! The submission side of an instance's ring: queueing entries, and what happens when the
//! queue is full.

use std::io;

use io_uring::{SubmissionQueue, Submitter, squeue};

/// How many times [`Submit::push`] hands a full queue to the kernel before giving up. One
/// submit normally empties the queue; a submit that takes nothing fails with `EBUSY` (the
/// completion queue overflowed), `EAGAIN` (the kernel is short of memory) or `EINTR`, all of
/// which pass — unless the instance is the one that must act first, by reaping completions,
/// which it cannot do in the middle of a turn.
pub(crate) const SUBMIT_ROUNDS: usize = 4;

/// Why an entry could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubmitError {
    /// The submission queue was still full after [`SUBMIT_ROUNDS`] submits.
    StillFull,
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::StillFull => f.write_str(
                "the io_uring submission queue stayed full: the kernel takes no more submissions \
                 (its completion queue overflowed, or it is short of memory)",
            ),
        }
    }
}

impl std::error::Error for SubmitError {}

/// The submission side of the ring.
pub(crate) struct Submit<'r> {
    pub(crate) submitter: Submitter<'r>,
    pub(crate) sq: SubmissionQueue<'r>,
}

impl Submit<'_> {
    /// Queues an entry, submitting first if the queue is full, at most [`SUBMIT_ROUNDS`]
    /// times. Fails with [`SubmitError::StillFull`] when the queue stays full, or with the
    /// error of a submit that failed for another reason; the entry is then not queued, and the
    /// instance must stop (a connection would wait forever for its completion).
    ///
    /// # Safety
    ///
    /// Every buffer the entry points to must stay valid and unmoved until its completion.
    #[must_use = "an entry that was not queued never completes"]
    pub(crate) unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        // SAFETY: forwarded to the caller.
        if unsafe { self.sq.push(entry) }.is_ok() {
            return Ok(());
        }
        // Bounded: SUBMIT_ROUNDS submits, then an error.
        for _ in 0..SUBMIT_ROUNDS {
            self.sq.sync();
            match self.submitter.submit() {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EBUSY | libc::EAGAIN | libc::EINTR)
                    ) => {}
                Err(e) => return Err(e),
            }
            self.sq.sync();
            // SAFETY: forwarded to the caller.
            if unsafe { self.sq.push(entry) }.is_ok() {
                return Ok(());
            }
        }
        Err(io::Error::other(SubmitError::StillFull))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use io_uring::{IoUring, opcode};

    fn nop() -> squeue::Entry {
        opcode::Nop::new().build().user_data(1)
    }

    #[test]
    fn a_full_queue_is_submitted_to_make_room() {
        let mut ring = IoUring::new(2).expect("io_uring");
        let (submitter, sq, _cq) = ring.split();
        let mut sub = Submit { submitter, sq };
        // Twice the queue: the third and fourth entries find it full.
        for _ in 0..4 {
            // SAFETY: a no-op refers to no buffer.
            unsafe { sub.push(&nop()) }.expect("queued after a submit");
        }
        sub.sq.sync();
        assert_eq!(sub.sq.len(), 2, "the first two went to the kernel");
    }

    #[test]
    fn a_queue_the_kernel_refuses_is_an_error_not_a_spin() {
        // A ring created disabled refuses every submit (EBADFD) until it is enabled.
        let mut ring: IoUring = IoUring::builder()
            .setup_r_disabled()
            .build(2)
            .expect("io_uring");
        let (submitter, sq, _cq) = ring.split();
        let mut sub = Submit { submitter, sq };
        for _ in 0..2 {
            // SAFETY: as above.
            unsafe { sub.push(&nop()) }.expect("room in the queue");
        }
        // SAFETY: as above.
        let error = unsafe { sub.push(&nop()) }.expect_err("the queue stays full");
        assert_eq!(error.raw_os_error(), Some(libc::EBADFD));
    }
}
