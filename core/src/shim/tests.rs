//! The portability drivers over in-memory streams: a blocking pipe, and non-blocking streams
//! that answer `WouldBlock` every other call.

use std::collections::VecDeque;
use std::vec::Vec;

use super::blocking::serve_connection;
use super::nonblocking::{NbDriver, NbStream};
use crate::http::Status;
use crate::memory::Region;
use crate::{
    App, Config, Ctx, Instant, Now, PeerAddr, Request, Response, Route, Router, Server, Sole,
};

fn hello(ctx: &mut Ctx<()>, req: &Request) -> Response {
    ctx.respond(Status::OK)
        .header("Content-Type", "text/plain")
        .body(req.body())
}

static ROUTES: &[Route<()>] = &[Route::post("/echo", hello), Route::get("/", hello)];

fn config() -> Config {
    let mut c = Config::DEFAULT;
    c.max_connections = 4;
    c.recv_buffer = 2048;
    c.send_buffer = 2048;
    c.large_buffers = 1;
    c.large_buffer_size = 4096;
    c.limits.max_head = 2048;
    c.limits.max_request_line = 1024;
    c.limits.max_body = 4096;
    c
}

fn now() -> Now {
    Now {
        monotonic: Instant(1),
        unix_secs: 784_111_777,
    }
}

/// A blocking byte pipe: reads hand out the scripted input a few bytes at a time, then EOF;
/// writes take at most 7 bytes each (short writes must be continued).
struct Pipe {
    input: VecDeque<u8>,
    output: Vec<u8>,
}

impl embedded_io::ErrorType for Pipe {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.input.len()).min(5);
        for (dst, src) in buf.iter_mut().zip(self.input.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }
}

impl embedded_io::Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(7);
        self.output.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// One connection over a blocking stream: pipelined requests in, responses out in order, and
/// the connection ends with the stream.
#[test]
fn blocking_stream() {
    let mut region = Region::for_config(&config());
    let app = App::new((), Router::new(ROUTES).unwrap());
    let mut server = Server::new(config(), app, region.bytes(), now()).unwrap();
    let input = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    let mut pipe = Pipe {
        input: input.iter().copied().collect(),
        output: Vec::new(),
    };
    serve_connection(&mut server, &mut pipe, Sole, PeerAddr::Local, now).unwrap();
    let out = std::string::String::from_utf8(pipe.output).unwrap();
    assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
    assert!(out.ends_with("\r\n\r\nhello"), "{out}");
    assert_eq!(server.active_connections(), 0, "the slot is free again");
}

/// A non-blocking stream whose every other call would block.
struct Flaky {
    input: VecDeque<u8>,
    output: Vec<u8>,
    tick: bool,
    shut: bool,
}

impl NbStream for Flaky {
    type Error = ();

    fn read(&mut self, buf: &mut [u8]) -> nb::Result<usize, ()> {
        self.tick = !self.tick;
        if self.tick {
            return Err(nb::Error::WouldBlock);
        }
        if self.input.is_empty() {
            // The peer has sent everything and waits for its answers, then hangs up.
            return if self.shut {
                Ok(0)
            } else {
                Err(nb::Error::WouldBlock)
            };
        }
        let n = buf.len().min(self.input.len()).min(3);
        for (dst, src) in buf.iter_mut().zip(self.input.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }

    fn write(&mut self, buf: &[u8]) -> nb::Result<usize, ()> {
        self.tick = !self.tick;
        if self.tick {
            return Err(nb::Error::WouldBlock);
        }
        let n = buf.len().min(11);
        self.output.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Two connections driven from one poll loop through streams that block half of the time.
#[test]
fn nonblocking_streams() {
    let mut region = Region::for_config(&config());
    let app = App::new((), Router::new(ROUTES).unwrap());
    let mut server = Server::new(config(), app, region.bytes(), now()).unwrap();
    let mut driver: NbDriver<Flaky, 4> = NbDriver::new();
    let requests = [
        &b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[..],
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    ];
    for request in requests {
        let stream = Flaky {
            input: request.iter().copied().collect(),
            output: Vec::new(),
            tick: false,
            shut: true,
        };
        driver
            .add(&mut server, stream, Sole, PeerAddr::Local)
            .ok()
            .unwrap();
    }
    // Bounded: every turn completes an operation or the loop stops.
    for _ in 0..10_000 {
        if driver.is_empty() {
            break;
        }
        driver.poll(&mut server, now());
    }
    assert!(
        driver.is_empty(),
        "both connections closed after their answers"
    );
    assert_eq!(server.stats().requests, 2);
    assert_eq!(server.stats().responses[2], 2);
    assert_eq!(server.active_connections(), 0);
}
