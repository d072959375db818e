//! An instance's recording: every event it tells its server, appended to a buffer taken at
//! startup, and written to a file when the instance stops or is asked to
//! ([`Handle::dump`](crate::Handle::dump)).

use std::io;
use std::io::Write as _;
use std::path::PathBuf;

use zzz_core::record::Recorder;
use zzz_core::{Event, Now, SlotId};

/// Where an instance's recording goes, and how large it may grow.
pub(crate) struct RecordTo {
    /// The file.
    pub path: PathBuf,
    /// Bytes of the recording buffer.
    pub capacity: usize,
}

/// An instance's recording: the recorder and where it is written.
pub(super) struct Recording<'b> {
    recorder: Recorder<'b>,
    index: usize,
    path: PathBuf,
    /// Written first, then renamed over `path`, so a reader never sees half a file.
    tmp: PathBuf,
    /// The time of the last tick recorded (at first, the server's start).
    last_tick: Now,
    /// The recorder's buffer filled up, and the log said so.
    told_full: bool,
}

impl<'b> Recording<'b> {
    /// Starts the recording of instance `index`, whose server was built with `config` at
    /// `start`, in `buf`.
    pub(super) fn new(
        buf: &'b mut [u8],
        to: RecordTo,
        index: usize,
        config: &zzz_core::Config,
        start: Now,
    ) -> io::Result<Recording<'b>> {
        let recorder = Recorder::new(buf, config, start)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut tmp = to.path.clone().into_os_string();
        tmp.push(".tmp");
        Ok(Recording {
            recorder,
            index,
            path: to.path,
            tmp: tmp.into(),
            last_tick: start,
            told_full: false,
        })
    }

    /// Appends `event` (see [`Recorder::record`]). A tick at the time of the last one is left
    /// out: it does nothing to the server.
    pub(super) fn record(&mut self, event: Event<u8>, data: &[u8], accepted: Option<SlotId>) {
        if let Event::Tick(now) = event {
            if now == self.last_tick {
                return;
            }
            self.last_tick = now;
        }
        self.recorder.record(event, data, accepted);
    }

    /// Writes the recording so far to its file, replacing what a previous write left.
    fn write(&self) -> io::Result<()> {
        let mut file = std::fs::File::create(&self.tmp)?;
        file.write_all(self.recorder.bytes())?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path)
    }

    /// Writes, and says how it went in the log.
    pub(super) fn write_logged(&self) {
        let r = &self.recorder;
        match self.write() {
            Ok(()) => log::info!(
                "zzz: instance {}: recorded {} events{} ({} bytes) to {}",
                self.index,
                r.records(),
                if r.is_truncated() {
                    ", the first ones (truncated)"
                } else {
                    ""
                },
                r.len(),
                self.path.display()
            ),
            Err(e) => {
                let message = format!(
                    "zzz: instance {}: cannot write its recording to {}: {e}",
                    self.index,
                    self.path.display()
                );
                log::error!("{message}");
                eprintln!("{message}");
            }
        }
    }

    /// Once per loop turn: says once, in the log, that the recording is full.
    pub(super) fn warn_once_full(&mut self) {
        let r = &self.recorder;
        if r.is_truncated() && !self.told_full {
            self.told_full = true;
            log::warn!(
                "zzz: instance {}: the recording is full ({} bytes): it keeps the first {} events",
                self.index,
                r.capacity(),
                r.records()
            );
        }
    }
}

impl Drop for Recording<'_> {
    /// The instance is stopping (its loop ended or failed) or unwinding from a panic: the
    /// recording goes to its file. A process that dies without unwinding writes nothing.
    fn drop(&mut self) {
        self.write_logged();
    }
}
