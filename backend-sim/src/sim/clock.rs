//! The simulated clock: when something can next happen, and moving time there with the
//! clock's faults (jumps of seconds, a wall clock that drifts or steps, a monotonic time that
//! goes back), telling the server the time as a backend does.

use zzz_core::{Event, Instant, Now};

use super::Sim;
use super::client::EXPECT_WAIT_MS;
use super::conn::State;

impl Sim<'_> {
    /// The next moment something can happen: a client connects or writes, a stall or a wait
    /// ends, the server's next timer, a datagram arrives or a delayed reply goes out. `None`
    /// when nothing ever will.
    pub(super) fn next_time(&self) -> Option<u64> {
        let mut t: Option<u64> = None;
        let mut consider = |v: u64| {
            let v = v.max(self.now + 1);
            t = Some(t.map_or(v, |t: u64| t.min(v)));
        };
        for (i, c) in self.conns.iter().enumerate() {
            if let Some(at) = self.mqtt_next_step_at(i)
                && at > self.now
            {
                consider(at);
            }
            match c.state {
                State::Waiting => consider(c.script.connect_at),
                State::Backlog | State::Open => {
                    if !c.reset && !c.client_eof && c.written < self.final_limit(c) {
                        if c.next_write_at > self.now {
                            consider(c.next_write_at);
                        }
                        if let Some(u) = c.stall_until
                            && u > self.now
                        {
                            consider(u);
                        }
                        if let Some((_, since)) = c.expect_since {
                            consider(since + EXPECT_WAIT_MS);
                        }
                    }
                    if c.send.is_some()
                        && let Some((after, ms)) = c.script.read_stall
                    {
                        consider(c.accept_at + after + ms);
                    }
                }
                _ => {}
            }
        }
        if let Some(wake) = self.server.next_wake() {
            consider(wake.0.saturating_sub(self.base_mono));
        }
        if self.waiting > 0
            && let Some(at) = self.server.room_at()
        {
            consider(at.0.saturating_sub(self.base_mono));
        }
        if let Some(at) = self.datagrams.next_time() {
            consider(at);
        }
        t
    }

    /// Moves time to `target` (or later, by a jump) and tells the server.
    pub(super) fn advance(&mut self, target: u64) {
        let f = self.p.faults;
        let mut to = target.max(self.now);
        if self.rng.chance(f.clock_jump) {
            let jump = self.rng.range(1_000, 60_000);
            to += jump;
            self.cov.hit("fault.clock-jump");
            for c in &mut self.conns {
                if matches!(c.state, State::Open | State::Backlog) {
                    c.excused = true;
                }
            }
            tr!(self, "clock jumps {jump} ms");
        }
        self.now = to;
        let mut mono = self.base_mono + self.now;
        if self.rng.chance(f.clock_regress) {
            mono = self.last_mono.saturating_sub(self.rng.range(1, 2_000));
            self.cov.hit("fault.clock-regress");
        }
        if self.rng.chance(f.clock_drift) {
            self.drift_ms += self.rng.range(0, 6_000) as i64 - 3_000;
            self.cov.hit("fault.clock-drift");
        }
        self.last_mono = mono;
        let unix = (self.base_unix as i64 + (self.now as i64 + self.drift_ms) / 1000).max(0) as u64;
        tr!(
            self,
            "tick mono {} unix {unix}",
            mono as i64 - self.base_mono as i64
        );
        let now = Now {
            monotonic: Instant(mono),
            unix_secs: unix,
        };
        self.tell(Event::Tick(now), &[]);
        let server_now = self.server.now().monotonic.0.saturating_sub(self.base_mono);
        self.lag = self.lag.max(self.now.saturating_sub(server_now));
    }
}
