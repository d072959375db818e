//! One connection served from memory, for the crate's tests: a request's bytes in, everything
//! the server sent out, through the blocking driver and a fresh server.

use std::vec::Vec;

use crate::{App, Config, Instant, Now, PeerAddr, Server, Sole};

/// A stream that hands out `input` and keeps what is written.
struct MemoryStream {
    input: Vec<u8>,
    read: usize,
    output: Vec<u8>,
}

impl embedded_io::ErrorType for MemoryStream {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for MemoryStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.input.len() - self.read);
        buf[..n].copy_from_slice(&self.input[self.read..self.read + n]);
        self.read += n;
        Ok(n)
    }
}

impl embedded_io::Write for MemoryStream {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Serves `request` on one HTTP connection of a new server built from `config` and `app`, at
/// a fixed time, until the connection ends; returns everything the server sent.
pub(crate) fn exchange<S>(config: Config, app: App<S>, request: &[u8]) -> Vec<u8> {
    let region: &'static mut [u8] = std::vec![0u8; config.memory().total].leak();
    let now = Now {
        monotonic: Instant(1_000_000),
        unix_secs: 784_111_777,
    };
    let mut server = Server::new(config, app, region, now).unwrap();
    let mut stream = MemoryStream {
        input: request.to_vec(),
        read: 0,
        output: Vec::new(),
    };
    crate::shim::blocking::serve_connection(
        &mut server,
        &mut stream,
        Sole,
        PeerAddr::Local,
        || now,
    )
    .unwrap();
    stream.output
}
