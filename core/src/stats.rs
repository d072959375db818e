//! What a server counts and what it holds at a moment: the counters ([`Stats`]), the gauges
//! ([`Gauges`]), both together ([`Snapshot`]) and their Prometheus text exposition.

/// Counters of what the server has done, for tests, the simulator's coverage table and
/// monitoring.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct Stats {
    /// Connections accepted.
    pub accepted: u64,
    /// Messages published to topics (the hub).
    pub published: u64,
    /// Messages subscribers missed, overwritten in their topic's ring before they took them
    /// ([`Lagging::Skip`](crate::Lagging::Skip)).
    pub messages_missed: u64,
    /// Connections closed for falling behind their topic
    /// ([`Lagging::Close`](crate::Lagging::Close)).
    pub lagging_closed: u64,
    /// Messages from outside ([`Event::Publish`](crate::Event::Publish)) for no topic.
    pub publish_refused: u64,
    /// Connections closed and freed.
    pub closed: u64,
    /// Requests dispatched (routed and answered).
    pub requests: u64,
    /// Responses by status class: index 1 is 1xx (interim 100 included), ..., 5 is 5xx.
    pub responses: [u64; 6],
    /// Requests rejected by the parser.
    pub parse_errors: u64,
    /// Head deadlines that expired (408 or silent close).
    pub head_timeouts: u64,
    /// Body idle timeouts (408).
    pub body_timeouts: u64,
    /// Keep-alive idle timeouts.
    pub idle_timeouts: u64,
    /// Send stalls.
    pub send_timeouts: u64,
    /// Linger timeouts.
    pub linger_timeouts: u64,
    /// Idle keep-alive connections closed to make room for a new one.
    pub reclaimed: u64,
    /// Connections closed to make room for a new one before they had delivered a complete
    /// first request head (or, raw TCP, a first byte): the flood's silent connections.
    pub shed: u64,
    /// Connections the backend closed unserved because no slot could be freed for them and
    /// its waiting room was full.
    pub turned_away: u64,
    /// Connections accepted under pressure (with the shorter first-byte deadline).
    pub pressured_accepts: u64,
    /// Connections closed because their first byte did not arrive within the pressured
    /// first-byte deadline (counted apart from `head_timeouts`).
    pub first_byte_timeouts: u64,
    /// 503s because the large-buffer pool was empty.
    pub pool_exhausted: u64,
    /// 500s because a response did not fit.
    pub response_overflows: u64,
    /// Responses that spilled into a large buffer.
    pub spills: u64,
    /// Bodies received into a large buffer.
    pub large_bodies: u64,
    /// Interim 100 responses.
    pub continues: u64,
    /// Streamed responses.
    pub streams: u64,
    /// Operations that failed with [`IoError::Retry`](crate::server::IoError::Retry) and were posted
    /// again.
    pub retries: u64,
    /// Connections the peer reset or broke.
    pub broken: u64,
    /// UDP datagrams handled.
    pub datagrams: u64,
    /// UDP datagrams dropped unanswered because every reply buffer was in flight.
    pub datagrams_dropped: u64,
    /// Connections handed from one protocol module to another (an HTTP `Upgrade`).
    pub protocol_switches: u64,
}

/// What a server holds at one moment.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Gauges {
    /// Connection slots ([`Config::max_connections`](crate::Config::max_connections)).
    pub max_connections: u32,
    /// Slots in use, closing ones included.
    pub active_connections: u32,
    /// Connections that have not yet delivered a complete first request head (the first to
    /// be closed when a newcomer needs a slot).
    pub unproven_connections: u32,
    /// Keep-alive connections idle between two requests.
    pub idle_connections: u32,
    /// Large buffers in the pool.
    pub large_buffers: u32,
    /// Large buffers not lent out.
    pub large_buffers_available: u32,
    /// A graceful shutdown is under way.
    pub draining: bool,
}

/// A server's counters and gauges at one moment: what monitoring reads, from a handler
/// ([`ServerView::snapshot`]) or from another thread (the io_uring backend's `Handle`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct Snapshot {
    /// The counters.
    pub stats: Stats,
    /// The gauges.
    pub gauges: Gauges,
}

/// What a handler may read of the server that runs it ([`Ctx::server`](crate::Ctx::server)).
#[derive(Clone, Copy, Debug)]
pub struct ServerView<'a> {
    /// The counters, as of the start of this request.
    pub stats: &'a Stats,
    /// The gauges, as of the start of this request.
    pub gauges: Gauges,
}

impl ServerView<'_> {
    /// Counters and gauges, copied.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            stats: *self.stats,
            gauges: self.gauges,
        }
    }
}

/// One counter of the exposition: its metric name, its help text and how to read it.
type Counter = (&'static str, &'static str, fn(&Stats) -> u64);

/// Every counter of [`Stats`] but the responses by class (a family of its own), as
/// Prometheus exposes it.
const COUNTERS: [Counter; 28] = [
    (
        "zzz_connections_accepted_total",
        "Connections accepted.",
        |s| s.accepted,
    ),
    (
        "zzz_messages_published_total",
        "Messages published to topics.",
        |s| s.published,
    ),
    (
        "zzz_messages_missed_total",
        "Messages subscribers missed, overwritten in their topic's ring before they took them.",
        |s| s.messages_missed,
    ),
    (
        "zzz_lagging_closed_total",
        "Connections closed for falling behind their topic.",
        |s| s.lagging_closed,
    ),
    (
        "zzz_connections_closed_total",
        "Connections closed and freed.",
        |s| s.closed,
    ),
    (
        "zzz_connections_shed_total",
        "Connections closed to make room before they delivered a complete first request head.",
        |s| s.shed,
    ),
    (
        "zzz_connections_reclaimed_total",
        "Idle keep-alive connections closed to make room.",
        |s| s.reclaimed,
    ),
    (
        "zzz_connections_turned_away_total",
        "Connections closed unserved: no slot could be freed and the backend's waiting room was full.",
        |s| s.turned_away,
    ),
    (
        "zzz_connections_pressured_total",
        "Connections accepted under pressure, with the shorter first-byte deadline.",
        |s| s.pressured_accepts,
    ),
    (
        "zzz_connections_broken_total",
        "Connections the peer reset or broke.",
        |s| s.broken,
    ),
    ("zzz_requests_total", "Requests dispatched.", |s| s.requests),
    (
        "zzz_parse_errors_total",
        "Requests rejected by the parser.",
        |s| s.parse_errors,
    ),
    (
        "zzz_first_byte_timeouts_total",
        "Connections accepted under pressure closed for want of a first byte.",
        |s| s.first_byte_timeouts,
    ),
    (
        "zzz_head_timeouts_total",
        "Request heads that missed their deadline.",
        |s| s.head_timeouts,
    ),
    (
        "zzz_body_timeouts_total",
        "Request bodies that stalled.",
        |s| s.body_timeouts,
    ),
    (
        "zzz_idle_timeouts_total",
        "Keep-alive connections closed for idleness.",
        |s| s.idle_timeouts,
    ),
    (
        "zzz_send_timeouts_total",
        "Connections closed because their peer stopped reading.",
        |s| s.send_timeouts,
    ),
    (
        "zzz_linger_timeouts_total",
        "Lingering closes that timed out.",
        |s| s.linger_timeouts,
    ),
    (
        "zzz_pool_exhausted_total",
        "503 answers because no large buffer was free.",
        |s| s.pool_exhausted,
    ),
    (
        "zzz_response_overflows_total",
        "500 answers because a response did not fit.",
        |s| s.response_overflows,
    ),
    (
        "zzz_response_spills_total",
        "Responses that moved to a large buffer.",
        |s| s.spills,
    ),
    (
        "zzz_large_bodies_total",
        "Request bodies received into a large buffer.",
        |s| s.large_bodies,
    ),
    (
        "zzz_continues_total",
        "Interim 100 Continue responses.",
        |s| s.continues,
    ),
    ("zzz_streams_total", "Streamed responses.", |s| s.streams),
    (
        "zzz_retries_total",
        "Operations posted again after EAGAIN, EINTR or a cancelled multishot.",
        |s| s.retries,
    ),
    ("zzz_datagrams_total", "UDP datagrams handled.", |s| {
        s.datagrams
    }),
    (
        "zzz_datagrams_dropped_total",
        "UDP datagrams dropped unanswered: every reply buffer was in flight.",
        |s| s.datagrams_dropped,
    ),
    (
        "zzz_protocol_switches_total",
        "Connections handed from one protocol module to another.",
        |s| s.protocol_switches,
    ),
];

/// One gauge of the exposition.
type Gauge = (&'static str, &'static str, fn(&Gauges) -> u64);

const GAUGES: [Gauge; 7] = [
    ("zzz_connections_max", "Connection slots.", |g| {
        g.max_connections as u64
    }),
    (
        "zzz_connections_active",
        "Slots in use, closing ones included.",
        |g| g.active_connections as u64,
    ),
    (
        "zzz_connections_unproven",
        "Connections without a complete first request head yet.",
        |g| g.unproven_connections as u64,
    ),
    (
        "zzz_connections_idle",
        "Keep-alive connections idle between requests.",
        |g| g.idle_connections as u64,
    ),
    ("zzz_large_buffers", "Large buffers in the pool.", |g| {
        g.large_buffers as u64
    }),
    (
        "zzz_large_buffers_available",
        "Large buffers not lent out.",
        |g| g.large_buffers_available as u64,
    ),
    (
        "zzz_draining",
        "1 while a graceful shutdown is under way.",
        |g| g.draining as u64,
    ),
];

/// The Prometheus text exposition (format 0.0.4) of a snapshot, as `Display`: every counter
/// and gauge with its `# HELP` and `# TYPE` lines, each sample carrying `labels` (for example
/// `instance="0"`; empty for none; the caller writes them in the exposition's syntax).
#[derive(Clone, Copy, Debug)]
pub struct PrometheusText<'a> {
    /// What to expose.
    pub snapshot: &'a Snapshot,
    /// Labels added to every sample, without braces.
    pub labels: &'a str,
}

impl PrometheusText<'_> {
    /// The `Content-Type` of the exposition.
    pub const CONTENT_TYPE: &'static str = "text/plain; version=0.0.4; charset=utf-8";
}

impl PrometheusText<'_> {
    /// `# HELP` and `# TYPE` of one metric.
    fn family(
        &self,
        f: &mut core::fmt::Formatter<'_>,
        name: &str,
        help: &str,
        kind: &str,
    ) -> core::fmt::Result {
        writeln!(f, "# HELP {name} {help}\n# TYPE {name} {kind}")
    }

    /// One sample, with the caller's labels and an extra one, if any.
    fn sample(
        &self,
        f: &mut core::fmt::Formatter<'_>,
        name: &str,
        extra: Option<(&str, &str)>,
        value: u64,
    ) -> core::fmt::Result {
        let labels = self.labels;
        match (labels.is_empty(), extra) {
            (true, None) => writeln!(f, "{name} {value}"),
            (false, None) => writeln!(f, "{name}{{{labels}}} {value}"),
            (true, Some((k, v))) => writeln!(f, "{name}{{{k}=\"{v}\"}} {value}"),
            (false, Some((k, v))) => writeln!(f, "{name}{{{labels},{k}=\"{v}\"}} {value}"),
        }
    }
}

impl core::fmt::Display for PrometheusText<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let stats = &self.snapshot.stats;
        for (name, help, read) in COUNTERS {
            self.family(f, name, help, "counter")?;
            self.sample(f, name, None, read(stats))?;
        }
        let name = "zzz_responses_total";
        self.family(
            f,
            name,
            "Responses by status class (1xx: interim 100 Continue).",
            "counter",
        )?;
        const CLASSES: [&str; 6] = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx"];
        for (class, count) in stats.responses.iter().enumerate().skip(1) {
            self.sample(f, name, Some(("class", CLASSES[class])), *count)?;
        }
        for (name, help, read) in GAUGES {
            self.family(f, name, help, "gauge")?;
            self.sample(f, name, None, read(&self.snapshot.gauges))?;
        }
        Ok(())
    }
}
