//! Swarm testing: everything a seed decides before the run starts — the server's
//! configuration, the probability of each fault class, the shape of the workload. Drawing the
//! fault rates per seed (as TigerBeetle's VOPR does) means some seeds run with a fault class
//! switched off and others with it turned up high, which finds bugs that one fixed mix hides.

use zzz_core::http::Limits;
use zzz_core::{Config, Lagging, Timeouts, Topics};

use crate::rng::Rng;

/// Probabilities, in parts per million, of each fault the simulated network and clock
/// inject. Zero switches a class off for the whole seed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRates {
    /// A receive completes with fewer bytes than are waiting.
    pub partial_recv: u32,
    /// A send completes having sent only part of what was posted.
    pub partial_send: u32,
    /// When partial, exactly one byte.
    pub one_byte: u32,
    /// A posted operation completes with `EAGAIN`, `EINTR`, `ECANCELED` or, for receives, the
    /// end of a multishot receive (all reported as `IoError::Retry`).
    pub retry: u32,
    /// A posted operation fails with `ECONNRESET`/`EPIPE` out of the blue (`IoError::Broken`).
    pub broken: u32,
    /// The listener's accept fails (`EMFILE`: retry later; `ECONNABORTED`: the client is gone).
    pub accept_error: u32,
    /// Time moves on although completions are ready (delays every completion a little).
    pub time_step: u32,
    /// A clock jump: time moves on by seconds at once.
    pub clock_jump: u32,
    /// The wall clock (for `Date`) drifts or steps, even backwards.
    pub clock_drift: u32,
    /// The backend passes a monotonic time earlier than the last one.
    pub clock_regress: u32,
    /// At a close, a posted operation is cancelled (`ECANCELED`) rather than completed.
    pub cancel_on_close: u32,
    /// The completion picked next is the oldest ready one rather than a random one: low values
    /// reorder completions across connections heavily.
    pub in_order: u32,
    /// A datagram reply's send completes late (up to 100 ms): replies pile up in flight, and
    /// with every reply buffer in flight the server drops datagrams.
    pub reply_delay: u32,
}

/// The workload's shape for one seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkloadShape {
    /// Simulated connections (HTTP and raw TCP) in all.
    pub clients: usize,
    /// UDP datagrams in all (none when the configuration serves no UDP).
    pub datagrams: usize,
    /// Weights of the client kinds: valid HTTP, invalid HTTP, slow HTTP, raw TCP.
    pub kind_weights: [u32; 4],
    /// Most requests on one connection.
    pub max_requests: usize,
    /// Probability (ppm) that a client pipelines instead of waiting for each response.
    pub pipelining: u32,
    /// Probability (ppm) that a client sends EOF or resets in the middle of its requests.
    pub cut: u32,
    /// Probability (ppm) that a client stalls (writing or reading) past a timeout.
    pub stall: u32,
    /// Latest connect time of a client, in ms from the start.
    pub spread_ms: u64,
    /// Shut the server down gracefully once the clients are done.
    pub drain: bool,
    /// Generate non-GET requests on the contract's literal paths (`POST /plaintext`), which
    /// the bench contract's echo handler answers.
    pub literal_other_methods: bool,
    /// The backend accepts every arrival at once, even with every slot taken, and keeps a
    /// refused one in a waiting room of `waiting_room` connections while the server makes room
    /// (as zzz-uring does); otherwise it accepts only while the server has a free slot and the
    /// listener's backlog holds the rest.
    pub eager_accept: bool,
    /// Connections the backend's waiting room holds; beyond, an arrival is turned away.
    pub waiting_room: usize,
    /// Clients of a connection flood, on top of `clients`: they connect and never send a
    /// byte, or stop in the middle of their first head, and wait for the server to close.
    pub silent_clients: usize,
    /// Clients of the key-value store, on top of `clients`.
    pub kv_clients: usize,
    /// WebSocket clients of the chat room ([`crate::app::SimRoom`]), on top of `clients`.
    pub ws_clients: usize,
    /// Clients of the MQTT broker ([`crate::app::MQTT_CAPACITY`]), on top of `clients`.
    pub mqtt_clients: usize,
}

/// Everything a seed fixes before the run.
#[derive(Clone, Debug)]
pub struct SimParams {
    /// The seed.
    pub seed: u64,
    /// The server's configuration.
    pub config: Config,
    /// The fault rates.
    pub faults: FaultRates,
    /// The workload.
    pub shape: WorkloadShape,
}

fn rate(rng: &mut Rng, off_ppm: u32, levels: &[u32]) -> u32 {
    if rng.chance(off_ppm) {
        0
    } else {
        *rng.pick(levels)
    }
}

impl SimParams {
    /// Draws the parameters of `seed`.
    pub fn draw(seed: u64) -> SimParams {
        let mut rng = Rng::new(seed ^ 0x5EED_5EED_0000_0001);
        let config = draw_config(&mut rng);
        let faults = FaultRates {
            partial_recv: rate(&mut rng, 200_000, &[50_000, 200_000, 500_000, 900_000]),
            partial_send: rate(&mut rng, 200_000, &[50_000, 200_000, 500_000, 900_000]),
            one_byte: rate(&mut rng, 300_000, &[10_000, 100_000, 500_000]),
            retry: rate(&mut rng, 300_000, &[5_000, 20_000, 100_000]),
            broken: rate(&mut rng, 500_000, &[500, 3_000, 10_000]),
            accept_error: rate(&mut rng, 400_000, &[20_000, 100_000, 300_000]),
            time_step: rate(&mut rng, 200_000, &[10_000, 50_000, 200_000]),
            clock_jump: rate(&mut rng, 500_000, &[5_000, 30_000]),
            clock_drift: rate(&mut rng, 500_000, &[10_000, 100_000]),
            clock_regress: rate(&mut rng, 500_000, &[10_000, 100_000]),
            cancel_on_close: rate(&mut rng, 200_000, &[200_000, 500_000, 1_000_000]),
            in_order: *rng.pick(&[0, 100_000, 500_000, 900_000, 1_000_000]),
            reply_delay: 0,
        };
        let clients = *rng.pick(&[1, 2, 4, 8, 12, 20, 32]);
        let shape = WorkloadShape {
            clients,
            datagrams: *rng.pick(&[0, 0, 1, 3, 8]),
            kind_weights: [
                rng.range(1, 10) as u32,
                rng.range(0, 6) as u32,
                rng.range(0, 3) as u32,
                rng.range(0, 3) as u32,
            ],
            max_requests: *rng.pick(&[1, 2, 4, 8]),
            pipelining: *rng.pick(&[0, 200_000, 500_000, 1_000_000]),
            cut: *rng.pick(&[0, 50_000, 200_000]),
            stall: *rng.pick(&[0, 0, 50_000, 200_000]),
            spread_ms: *rng.pick(&[0, 100, 2_000, 20_000]),
            drain: rng.chance(300_000),
            literal_other_methods: rng.chance(700_000),
            eager_accept: false,
            waiting_room: 0,
            silent_clients: 0,
            kv_clients: 0,
            ws_clients: 0,
            mqtt_clients: 0,
        };
        let mut config = config;
        let mut shape = shape;
        // Overload: drawn last, so that the draws above stay those of earlier versions.
        config.pressure_percent = *rng.pick(&[0u8, 50, 75, 75, 100]);
        config.timeouts.pressured_first_byte_ms = *rng.pick(&[50u64, 300, 2_000]);
        config.timeouts.shed_grace_ms = *rng.pick(&[0u64, 10, 100, 1_000]);
        shape.eager_accept = rng.chance(800_000);
        shape.waiting_room = *rng.pick(&[1usize, 4, 64]);
        shape.silent_clients = *rng.pick(&[0usize, 0, 0, 0, 0, 0, 0, 16, 64, 200]);
        let mut faults = faults;
        // Datagrams: drawn after the overload parameters, for the same reason. A size of 0
        // serves no UDP (and then no datagram is sent); otherwise datagrams up to 200 bytes
        // meet buffers that hold all, some or few of them and their replies.
        config.datagram_size = *rng.pick(&[0u32, 32, 64, 100, 205, 1024]);
        config.datagram_replies = match config.datagram_size {
            0 => 0,
            _ => *rng.pick(&[1u32, 1, 2, 4]),
        };
        if config.datagram_size == 0 {
            shape.datagrams = 0;
        }
        faults.reply_delay = rate(&mut rng, 300_000, &[100_000, 500_000, 1_000_000]);
        // Key-value clients: drawn last, for the same reason. Some seeds get a send buffer
        // just past a power of ten, where the longest value a reply can carry has a digit
        // fewer in its length than the buffer's size.
        shape.kv_clients = *rng.pick(&[0usize, 1, 2, 3, 5, 8]);
        if rng.chance(100_000) {
            config.send_buffer = rng.range(10_000, 10_008) as u32;
            config.recv_buffer = config.recv_buffer.max(rng.range(10_050, 12_000) as u32);
            config.large_buffer_size = config
                .large_buffer_size
                .max(config.send_buffer)
                .max(config.recv_buffer);
        }
        // WebSocket clients and the room's ring: drawn last, for the same reason. The ring is
        // small (a few messages of the longest size) so that a subscriber that stops reading
        // is overtaken; `Lagging::Skip` makes it skip to the oldest message kept.
        shape.ws_clients = *rng.pick(&[0usize, 0, 2, 3, 5, 8]);
        config.topics = Topics {
            count: 1,
            ring_bytes: *rng.pick(&[2048u32, 3072, 4096]),
            max_message: crate::app::WS_MAX_MESSAGE as u32,
            per_connection: 1,
            lagging: Lagging::Skip,
            inbox_bytes: 0,
        };
        // MQTT clients and the inboxes the broker delivers through: drawn last, for the same
        // reason. An inbox holds two of the longest records (the least the configuration
        // takes) to five: a subscriber that does not read soon loses its oldest messages.
        shape.mqtt_clients = *rng.pick(&[0usize, 0, 2, 4, 6, 9]);
        config.topics.inbox_bytes =
            *rng.pick(&[2 * (crate::app::WS_MAX_MESSAGE as u32 + 4), 1024, 2048]);
        SimParams {
            seed,
            config,
            faults,
            shape,
        }
    }
}

fn draw_config(rng: &mut Rng) -> Config {
    let max_request_line = rng.range(64, 600) as u16;
    let max_head = max_request_line as u64 + rng.range(400, 2000);
    let max_body = *rng.pick(&[64u32, 300, 1000, 4000, 20_000]);
    let recv_buffer = (max_head + rng.range(0, 3000)) as u32;
    let send_buffer = *rng.pick(&[1024u32, 2048, 4096, 16384]);
    let large_min = max_body.max(recv_buffer).max(send_buffer);
    let large_buffer_size = large_min + *rng.pick(&[0u32, 100, 5000, 30_000]);
    let tick = *rng.pick(&[1u32, 10, 100]);
    let t = |rng: &mut Rng| *rng.pick(&[200u64, 1000, 3000, 10_000, 30_000]);
    Config {
        max_connections: *rng.pick(&[1u32, 2, 3, 4, 8, 16, 64]),
        recv_buffer,
        send_buffer,
        large_buffers: *rng.pick(&[0u32, 1, 1, 2, 4, 8]),
        large_buffer_size,
        max_requests_per_connection: *rng.pick(&[1u32, 2, 3, 5, 100, 1000]),
        timer_tick_ms: tick,
        limits: Limits {
            max_request_line,
            max_head: max_head as u16,
            max_headers: rng.range(6, 40) as u16,
            max_body,
            max_chunk_extensions: rng.range(16, 300) as u16,
            max_trailers: rng.range(40, 600) as u16,
        },
        timeouts: zzz_core::Timeouts {
            head_ms: t(rng),
            body_idle_ms: t(rng),
            keep_alive_ms: t(rng),
            send_stall_ms: t(rng),
            linger_ms: *rng.pick(&[100u64, 2000]),
            pressured_first_byte_ms: Timeouts::DEFAULT.pressured_first_byte_ms,
            shed_grace_ms: Timeouts::DEFAULT.shed_grace_ms,
        },
        ..Config::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drawn_config_is_valid() {
        for seed in 0..2000 {
            let p = SimParams::draw(seed);
            assert_eq!(p.config.validate(), Ok(()), "seed {seed}");
        }
    }

    #[test]
    fn a_seed_without_udp_sends_no_datagrams() {
        let mut with_udp = 0;
        for seed in 0..2000 {
            let p = SimParams::draw(seed);
            if p.config.datagram_size == 0 {
                assert_eq!(p.shape.datagrams, 0, "seed {seed}");
            } else {
                with_udp += 1;
            }
        }
        assert!(
            with_udp > 1000 && with_udp < 2000,
            "{with_udp} of 2000 seeds serve UDP"
        );
    }
}
