//! What the simulator knows of each client connection: where it is in its life, what its
//! client has written and the server has received, the operations posted on it, and the
//! faults that explain what it may lose.

use zzz_core::SlotId;

use crate::kv_oracle::KvView;
use crate::mqtt_client::MqttClient;
use crate::oracle::{HttpView, TcpView};
use crate::upgrade_view::UpgradeView;
use crate::workload::Script;
use crate::ws_oracle::WsView;

/// Where a client connection is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum State {
    /// Not connected yet.
    Waiting,
    /// Connected, in the listener's backlog.
    Backlog,
    /// Accepted.
    Open,
    /// The server asked to close; waiting for the close to finish.
    Closing,
    /// Over (closed, or never accepted).
    Done,
}

/// A send the server posted and the network has not completed: its bytes as posted, to check
/// that they stay put until it completes.
pub(super) struct PostedSend {
    pub seq: u64,
    pub posted_at: u64,
    pub bytes: Vec<u8>,
}

/// One simulated client connection.
pub(super) struct Conn {
    pub id: usize,
    pub script: Script,
    pub state: State,
    pub slot: SlotId,
    pub accept_at: u64,
    /// Bytes the client has written into the socket.
    pub written: usize,
    /// Bytes the server has received.
    pub delivered: usize,
    /// `delivered` when the server asked to close.
    pub delivered_at_close: usize,
    pub client_eof: bool,
    pub eof_delivered: bool,
    /// The client reset the connection, or the network broke it.
    pub reset: bool,
    /// The posted receive, by its posting order.
    pub recv: Option<u64>,
    pub send: Option<PostedSend>,
    pub close_at: u64,
    /// The server shut down its sending side.
    pub server_fin: bool,
    pub next_write_at: u64,
    pub stall_until: Option<u64>,
    /// The request (by index) whose body waits for `100 Continue`, since when.
    pub expect_since: Option<(usize, u64)>,
    /// When the client wrote the first byte of each request.
    pub first_write: Vec<Option<u64>>,
    pub http: HttpView,
    pub tcp: TcpView,
    pub upgrade: UpgradeView,
    pub kv: KvView,
    pub ws: WsView,
    pub mqtt: MqttClient,
    /// A fault explains lost answers.
    pub excused: bool,
    /// The server closed it, idle, to make room.
    pub reclaimed: bool,
    /// The server closed it to make room before it had delivered a complete first head.
    pub shed: bool,
    /// Accepted while the server was under pressure: a shorter first-byte deadline.
    pub pressured: bool,
    /// Refused once with every slot taken: it waits in the backend's waiting room.
    pub waiting: bool,
    /// Accept order.
    pub accept_seq: u64,
    /// The server has posted a send on it.
    pub answered: bool,
    /// Bytes the server had received when it posted its first send.
    pub delivered_at_first_send: usize,
    /// When an operation of it last failed with a retryable error: at most one such fault per
    /// connection and simulated millisecond, or an idle connection's receive would fail and
    /// be reposted forever while time stands still.
    pub retried_at: Option<u64>,
    pub last_activity: u64,
    /// When the server asked to close, a send was posted and no progress had been made for
    /// the send-stall timeout: lost answers are explained.
    pub stalled_send: bool,
    /// When the output now posted started waiting for this client to read, or last moved
    /// (what the server's send-stall timeout counts from: successive writes, as nginx's
    /// `send_timeout`).
    pub send_since: u64,
    /// The last send failed with a retryable error: its repost is the same wait going on.
    pub send_retrying: bool,
    /// The oracle has judged its end.
    pub ended: bool,
}

impl Conn {
    /// Client `id`, not connected yet, that will play `script`.
    pub fn new(id: usize, script: Script) -> Conn {
        Conn {
            id,
            first_write: vec![None; script.requests.len()],
            next_write_at: script.connect_at,
            script,
            state: State::Waiting,
            slot: 0,
            accept_at: 0,
            written: 0,
            delivered: 0,
            delivered_at_close: 0,
            client_eof: false,
            eof_delivered: false,
            reset: false,
            recv: None,
            send: None,
            close_at: 0,
            server_fin: false,
            stall_until: None,
            expect_since: None,
            http: HttpView::default(),
            tcp: TcpView::default(),
            upgrade: UpgradeView::default(),
            kv: KvView::default(),
            ws: WsView::default(),
            mqtt: MqttClient::default(),
            excused: false,
            reclaimed: false,
            shed: false,
            pressured: false,
            waiting: false,
            accept_seq: 0,
            answered: false,
            delivered_at_first_send: 0,
            retried_at: None,
            last_activity: 0,
            send_since: 0,
            send_retrying: false,
            stalled_send: false,
            ended: false,
        }
    }
}
