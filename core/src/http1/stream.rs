//! Streamed bodies: whenever the output has drained, the producer writes the next piece into
//! the (empty) send buffer, framed as a chunk or sent as it is.

use crate::handler::{StreamOut, StreamStep};
use crate::http::{self, ByteWriter, StreamFraming};
use crate::router::Routing;
use crate::server::{Feed, InputTarget, Link};

use super::{Http, HttpConn, Stage};

impl<S, R: Routing<S>> Http<S, R> {
    /// Calls the stream producer of `conn` to fill the (empty) send buffer with one piece.
    pub(super) fn run_stream(&mut self, conn: &mut HttpConn<S>, link: &mut Link<'_, '_, S>) {
        assert!(!link.output_queued() && !link.output_posted());
        let Some(mut stream) = conn.stream else {
            return;
        };
        if stream.finished {
            conn.stream = None;
            link.set_producing(false);
            return;
        }
        let cap = link.config().send_buffer as usize;
        // Chunk header: the size as fixed-width hex (leading zeros are valid, RFC 9112 §7.1),
        // as wide as the buffer's size needs, so the data can be written in place before its
        // size is known.
        let width = http::hex_len(cap as u64);
        let (head_room, tail_room) = match stream.framing {
            StreamFraming::Chunked => (width + 2, 2 + http::LAST_CHUNK.len()),
            _ => (0, 0),
        };
        let now = link.now();
        let Link {
            send,
            state,
            hub,
            id,
            ..
        } = &mut *link;
        let buf = &mut send[..cap];
        let mut out = StreamOut {
            writer: ByteWriter::new(&mut buf[head_room..cap - tail_room]),
            feed: Feed::new(hub.view(), *id),
            now,
        };
        let step = (stream.producer)(state, &mut stream.cursor, &mut out);
        let (n, overflowed) = (out.writer.len(), out.writer.overflowed());
        if out.feed.lagging {
            // Fell behind its topic under `Lagging::Close`: the stream cannot go on whole.
            conn.stream = None;
            link.set_producing(false);
            link.close_now();
            return;
        }
        if overflowed || (step == StreamStep::More && n == 0) {
            // A body cannot be taken back once started: end the connection.
            zlog_error!(
                "zzz: slot {}: stream producer overflowed or stalled; closing",
                link.slot()
            );
            conn.stream = None;
            link.set_producing(false);
            link.close_now();
            return;
        }
        let end = match stream.framing {
            StreamFraming::Chunked => {
                let mut end = 0;
                if n > 0 {
                    http::write_hex(n as u64, &mut buf[..width]);
                    buf[width..width + 2].copy_from_slice(b"\r\n");
                    end = head_room + n;
                    buf[end..end + 2].copy_from_slice(b"\r\n");
                    end += 2;
                }
                if step == StreamStep::Done {
                    buf[end..end + http::LAST_CHUNK.len()].copy_from_slice(http::LAST_CHUNK);
                    end += http::LAST_CHUNK.len();
                }
                end
            }
            _ => n,
        };
        link.set_output(end);
        stream.waiting = step == StreamStep::Wait && end == 0;
        // A stream that waits for a message produces nothing until woken: the server's send
        // timeout must not count its quiet against it (its heartbeat is its own deadline). On
        // a connection that closes after it, it stays producing, so that the close waits.
        link.set_producing(!stream.waiting || conn.stage == Stage::Done);
        if stream.waiting {
            // Waiting for a message: keep reading, so that a peer that goes away is noticed
            // (its EOF ends the stream) and what it sends meanwhile waits in the buffer.
            if link.peer_eof() {
                conn.stream = None;
                link.set_producing(false);
                link.close_now();
                return;
            }
            if !link.input_posted() && !link.recv_buffer().is_empty() {
                link.want_input(InputTarget::Buffer { limit: None });
            }
        }
        match step {
            StreamStep::More | StreamStep::Wait => conn.stream = Some(stream),
            StreamStep::Done => {
                conn.stream = None;
                link.set_producing(false);
                if stream.framing == StreamFraming::UntilClose {
                    conn.stage = Stage::Done;
                    link.close_after_output();
                }
            }
        }
    }
}
