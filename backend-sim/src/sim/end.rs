//! The checks once every client is gone: nothing left to do, no slot or large buffer held,
//! every accepted connection closed (and each of the line protocol's opens matched by its
//! close callback), every datagram counted, a drained server idle.

use super::Sim;

impl Sim<'_> {
    pub(super) fn epilogue(&mut self) {
        if self.failure.is_some() {
            return;
        }
        // Anything the server still wants now is a leak.
        self.drain();
        let active = self.server.active_connections();
        if active != 0 {
            self.fail(format!(
                "every client is gone but the server holds {active} connection slots"
            ));
        }
        let free = self.server.large_buffers_available();
        if free != self.config.large_buffers as usize {
            self.fail(format!(
                "every client is gone but only {free} of {} large buffers are free",
                self.config.large_buffers
            ));
        }
        let s = *self.server.stats();
        if s.accepted != s.closed {
            self.fail(format!(
                "accepted {} connections but closed {}",
                s.accepted, s.closed
            ));
        }
        let lines = &self.server.modules().tcp.handler;
        if lines.opened != lines.closed {
            self.fail(format!(
                "the TCP module opened {} connections but was told of {} closes",
                lines.opened, lines.closed
            ));
        }
        let room = &self.server.modules().ws.handler;
        if room.opened != room.closed {
            self.fail(format!(
                "the WebSocket room opened {} connections but was told of {} closes",
                room.opened, room.closed
            ));
        }
        let (told, dropped) = self.datagrams.counts();
        if (s.datagrams, s.datagrams_dropped) != (told, dropped) {
            self.fail(format!(
                "told {told} datagrams and saw {dropped} dropped, but the server counted {} \
                 and {} dropped",
                s.datagrams, s.datagrams_dropped
            ));
        }
        let broker = self.server.state().broker;
        let [inn, routed] = self.mqtt.published_bounds();
        for (name, got, (lo, hi)) in [
            ("PUBLISH packets received", broker.messages_in, inn),
            ("messages routed", broker.routed, routed),
        ] {
            if got < lo || got > hi {
                self.fail(format!(
                    "the broker counts {got} {name}, but surely {lo} and at most {hi} were"
                ));
            }
        }
        let (dropped, bound) = (broker.dropped, self.mqtt.drop_bound());
        if dropped > bound {
            self.fail(format!(
                "the broker counts {dropped} deliveries dropped, but at most {bound} can have \
                 been: messages too long, or sent to an inbox or queue and not delivered, \
                 identifiers of QoS 2 messages a store had no room for"
            ));
        }
        if self.draining && !self.server.is_idle() {
            self.fail("a drained server is not idle".into());
        }
        tr!(
            self,
            "end: {} requests, {} accepted, stats {:?}",
            s.requests,
            s.accepted,
            s
        );
    }
}
