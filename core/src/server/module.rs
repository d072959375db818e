//! The module interface: what a protocol implements to be served, and how an app declares the
//! set of protocols it serves.
//!
//! The server owns the lifecycle of every connection (slots, buffers, the large-buffer pool,
//! timers, the operation queue, the overload policy) and knows no protocol. A [`Protocol`]
//! owns what a connection speaks: its per-connection state ([`Protocol::Conn`], kept in the
//! connection's slot, sized at compile time), and what happens when the connection opens,
//! when anything moves on it (input arrived, output drained, the peer closed), when its
//! deadline passes, and when it is gone. It works through a [`Link`](super::Link): the
//! connection's buffers, its deadline, its way out.
//!
//! Dispatch is static. An app serving one protocol uses it as the whole set (a blanket
//! [`Protocols`] impl, its id [`Sole`]); an app serving several declares them with
//! [`protocols!`](crate::protocols), which writes the enum of per-connection states (as
//! smoltcp's `Socket` enum holds every socket kind) and the `match`es that dispatch to each.
//! Adding a protocol is new code implementing [`Protocol`], never an edit of the server.

use crate::config::Config;
use crate::net::PeerAddr;
use crate::time::{Instant, Now};

use super::Link;

/// A protocol module: the state machine of one kind of connection.
///
/// Every callback runs to completion on the server's thread and must not block; bounded work
/// per call. The per-connection state must own nothing that needs dropping (it lives in the
/// region, which is never dropped value by value).
pub trait Protocol<S>: Sized {
    /// What the module keeps per connection, in the connection's slot.
    type Conn;

    /// Bytes of scratch memory the module needs per connection beyond [`Protocol::Conn`],
    /// for `config` (HTTP: its header array). Carved from the region, 8-aligned, counted in
    /// the memory budget; [`Link::scratch`](super::Link::scratch) lends it.
    fn scratch_bytes(&self, config: &Config) -> usize {
        let _ = config;
        0
    }

    /// Bytes of memory the module shares between its connections, carved from the region
    /// once (zeroed) and counted in the memory budget; [`Link::shared`](super::Link::shared)
    /// and [`Protocol::tick`] lend it. A key-value store keeps its table here.
    fn shared_bytes(&self, config: &Config) -> usize {
        let _ = config;
        0
    }

    /// A connection opened (accepted, or switched to this module): its state. It may write
    /// (a protocol whose server speaks first), ask for input, set its deadline. With nothing
    /// asked, the server asks for input.
    fn open(&mut self, link: &mut Link<'_, '_, S>) -> Self::Conn;

    /// Something moved on the connection: input arrived, output drained, the peer closed its
    /// side. Advance as far as possible without waiting.
    fn progress(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>);

    /// The deadline the module set has passed.
    fn timeout(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>);

    /// The server is shutting down gracefully: close the connection when convenient (now if
    /// idle, after the answer under way otherwise). By default, at once unless output is
    /// pending or input buffered.
    fn drain(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>) {
        let _ = conn;
        if !link.output_pending() && link.input().is_empty() {
            link.close_now();
        }
    }

    /// The connection is gone (either side closed it, or it broke): release what `conn`
    /// holds besides memory (large buffers go back through
    /// [`Link::release_block`](super::Link::release_block)).
    fn closed(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>) {
        let _ = (conn, link);
    }

    /// Module-wide work at each clock tick (expiring keys, refreshing a date). `shared` is the
    /// module's shared memory.
    fn tick(&mut self, state: &mut S, shared: &mut [u8], now: Now) {
        let _ = (state, shared, now);
    }

    /// When the module next needs [`Protocol::tick`] at the latest, if ever.
    fn next_wake(&self) -> Option<Instant> {
        None
    }

    /// A datagram for this module (UDP): writes the reply, if any, into `reply` and returns
    /// its length. Modules without datagrams keep the default, which drops them.
    fn datagram(
        &mut self,
        state: &mut S,
        peer: PeerAddr,
        data: &[u8],
        reply: &mut [u8],
    ) -> Option<usize> {
        let _ = (state, peer, data, reply);
        None
    }
}

/// The set of protocols a server serves, dispatched statically. Implemented for every
/// [`Protocol`] (a set of one, [`Sole`]) and by [`protocols!`](crate::protocols) for several.
pub trait Protocols<S>: Sized {
    /// Per-connection state: which protocol the connection speaks and its state there.
    type Conn;
    /// Names a protocol of the set: what a listener serves, what a connection switches to.
    type Id: Copy + Eq + core::fmt::Debug;

    /// The state of a slot that holds no connection.
    const VACANT: Self::Conn;

    /// The protocol `conn` speaks (`None`: vacant).
    fn id_of(conn: &Self::Conn) -> Option<Self::Id>;
    /// A small number for `id`, as recordings store it (0, 1, ...).
    fn id_index(id: Self::Id) -> u8;
    /// The id numbered `index` by [`Protocols::id_index`].
    fn id_from_index(index: u8) -> Option<Self::Id>;

    /// The most scratch bytes any protocol of the set needs per connection.
    fn scratch_bytes(&self, config: &Config) -> usize;
    /// The shared bytes of the protocol numbered `index` (0 for a number past the set).
    fn shared_bytes(&self, config: &Config, index: u8) -> usize;

    /// A connection opened for `id`: its state.
    fn open(&mut self, id: Self::Id, link: &mut Link<'_, '_, S>) -> Self::Conn;
    /// See [`Protocol::progress`].
    fn progress(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>);
    /// See [`Protocol::timeout`].
    fn timeout(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>);
    /// See [`Protocol::drain`].
    fn drain(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>);
    /// See [`Protocol::closed`].
    fn closed(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>);
    /// See [`Protocol::tick`]; `shared` holds each protocol's shared memory, by number.
    fn tick(&mut self, state: &mut S, shared: &mut SharedMemory<'_, '_>, now: Now);
    /// The earliest [`Protocol::next_wake`] of the set.
    fn next_wake(&self) -> Option<Instant>;
    /// See [`Protocol::datagram`], for the protocol `id`.
    fn datagram(
        &mut self,
        id: Self::Id,
        state: &mut S,
        peer: PeerAddr,
        data: &[u8],
        reply: &mut [u8],
    ) -> Option<usize>;
}

/// The most protocols in one set.
pub const MAX_PROTOCOLS: usize = 8;

/// The shared memory of each protocol of a set, by number ([`Protocols::id_index`]).
#[derive(Debug)]
pub struct SharedMemory<'a, 'm> {
    pub(crate) parts: &'a mut [&'m mut [u8]; MAX_PROTOCOLS],
}

impl SharedMemory<'_, '_> {
    /// The shared memory of the protocol numbered `index`.
    pub fn of(&mut self, index: u8) -> &mut [u8] {
        &mut *self.parts[index as usize]
    }
}

/// The id of the one protocol of a server that serves a single protocol.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sole;

impl<S, P: Protocol<S>> Protocols<S> for P {
    type Conn = Option<P::Conn>;
    type Id = Sole;

    const VACANT: Self::Conn = None;

    fn id_of(conn: &Self::Conn) -> Option<Sole> {
        conn.as_ref().map(|_| Sole)
    }
    fn id_index(_: Sole) -> u8 {
        0
    }
    fn id_from_index(index: u8) -> Option<Sole> {
        (index == 0).then_some(Sole)
    }
    fn scratch_bytes(&self, config: &Config) -> usize {
        Protocol::scratch_bytes(self, config)
    }
    fn shared_bytes(&self, config: &Config, index: u8) -> usize {
        if index == 0 {
            Protocol::shared_bytes(self, config)
        } else {
            0
        }
    }
    fn open(&mut self, _: Sole, link: &mut Link<'_, '_, S>) -> Self::Conn {
        Some(Protocol::open(self, link))
    }
    fn progress(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>) {
        if let Some(conn) = conn {
            Protocol::progress(self, conn, link)
        }
    }
    fn timeout(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>) {
        if let Some(conn) = conn {
            Protocol::timeout(self, conn, link)
        }
    }
    fn drain(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>) {
        if let Some(conn) = conn {
            Protocol::drain(self, conn, link)
        }
    }
    fn closed(&mut self, conn: &mut Self::Conn, link: &mut Link<'_, '_, S>) {
        if let Some(conn) = conn {
            Protocol::closed(self, conn, link)
        }
    }
    fn tick(&mut self, state: &mut S, shared: &mut SharedMemory<'_, '_>, now: Now) {
        Protocol::tick(self, state, shared.of(0), now)
    }
    fn next_wake(&self) -> Option<Instant> {
        Protocol::next_wake(self)
    }
    fn datagram(
        &mut self,
        _: Sole,
        state: &mut S,
        peer: PeerAddr,
        data: &[u8],
        reply: &mut [u8],
    ) -> Option<usize> {
        Protocol::datagram(self, state, peer, data, reply)
    }
}

/// Declares the set of protocols a server serves: a struct holding one module of each, the
/// enum of their per-connection states, the enum naming them, and the [`Protocols`] impl
/// that dispatches by `match` (no `dyn`, no heap).
///
/// ```ignore
/// zzz_core::protocols! {
///     /// What the key-value example serves.
///     pub struct Served<KvState> {
///         conn: ServedConn,
///         id: ServedId,
///         /// The status page.
///         http: Http => zzz_core::http1::Http<KvState>,
///         /// The store, in RESP.
///         resp: Resp => kv::Resp,
///     }
/// }
/// // Served { http, resp }; ServedId::{Http, Resp} names them; ServedConn is a slot's state.
/// ```
#[macro_export]
macro_rules! protocols {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident < $state:ty > {
            conn: $conn:ident,
            id: $id:ident,
            $( $(#[$fmeta:meta])* $field:ident : $variant:ident => $module:ty ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $module, )+
        }

        /// Names a protocol of the set.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr(u8)]
        $vis enum $id {
            $( #[doc = concat!("`", stringify!($field), "`")] $variant, )+
        }

        /// The per-connection state of a slot: which protocol it speaks, and its state there.
        // Every slot holds one, by value, in the region: there is no heap to box the large
        // variants into, and the slot is as large as the largest anyway.
        #[allow(clippy::large_enum_variant)]
        $vis enum $conn {
            /// No connection.
            Vacant,
            $( #[doc = concat!("A connection of `", stringify!($field), "`.")]
               $variant(<$module as $crate::server::Protocol<$state>>::Conn), )+
        }

        impl $id {
            const ALL: &'static [$id] = &[ $( $id::$variant ),+ ];
        }

        const _: () = assert!($id::ALL.len() <= $crate::server::MAX_PROTOCOLS);

        impl $crate::server::Protocols<$state> for $name {
            type Conn = $conn;
            type Id = $id;
            const VACANT: $conn = $conn::Vacant;

            fn id_of(conn: &$conn) -> Option<$id> {
                match conn {
                    $conn::Vacant => None,
                    $( $conn::$variant(_) => Some($id::$variant), )+
                }
            }
            fn id_index(id: $id) -> u8 {
                id as u8
            }
            fn id_from_index(index: u8) -> Option<$id> {
                $id::ALL.get(index as usize).copied()
            }
            fn scratch_bytes(&self, config: &$crate::Config) -> usize {
                let mut most = 0;
                $( most = most.max($crate::server::Protocol::<$state>::scratch_bytes(&self.$field, config)); )+
                most
            }
            fn shared_bytes(&self, config: &$crate::Config, index: u8) -> usize {
                match Self::id_from_index(index) {
                    None => 0,
                    $( Some($id::$variant) => $crate::server::Protocol::<$state>::shared_bytes(&self.$field, config), )+
                }
            }
            fn open(&mut self, id: $id, link: &mut $crate::server::Link<'_, '_, $state>) -> $conn {
                match id {
                    $( $id::$variant => $conn::$variant($crate::server::Protocol::<$state>::open(&mut self.$field, link)), )+
                }
            }
            fn progress(&mut self, conn: &mut $conn, link: &mut $crate::server::Link<'_, '_, $state>) {
                match conn {
                    $conn::Vacant => {}
                    $( $conn::$variant(c) => $crate::server::Protocol::<$state>::progress(&mut self.$field, c, link), )+
                }
            }
            fn timeout(&mut self, conn: &mut $conn, link: &mut $crate::server::Link<'_, '_, $state>) {
                match conn {
                    $conn::Vacant => {}
                    $( $conn::$variant(c) => $crate::server::Protocol::<$state>::timeout(&mut self.$field, c, link), )+
                }
            }
            fn drain(&mut self, conn: &mut $conn, link: &mut $crate::server::Link<'_, '_, $state>) {
                match conn {
                    $conn::Vacant => {}
                    $( $conn::$variant(c) => $crate::server::Protocol::<$state>::drain(&mut self.$field, c, link), )+
                }
            }
            fn closed(&mut self, conn: &mut $conn, link: &mut $crate::server::Link<'_, '_, $state>) {
                match conn {
                    $conn::Vacant => {}
                    $( $conn::$variant(c) => $crate::server::Protocol::<$state>::closed(&mut self.$field, c, link), )+
                }
            }
            fn tick(&mut self, state: &mut $state, shared: &mut $crate::server::SharedMemory<'_, '_>, now: $crate::Now) {
                $( $crate::server::Protocol::<$state>::tick(&mut self.$field, state, shared.of($id::$variant as u8), now); )+
            }
            fn next_wake(&self) -> Option<$crate::Instant> {
                let mut at: Option<$crate::Instant> = None;
                $( if let Some(t) = $crate::server::Protocol::<$state>::next_wake(&self.$field) {
                    at = Some(at.map_or(t, |a| a.min(t)));
                } )+
                at
            }
            fn datagram(
                &mut self,
                id: $id,
                state: &mut $state,
                peer: $crate::PeerAddr,
                data: &[u8],
                reply: &mut [u8],
            ) -> Option<usize> {
                match id {
                    $( $id::$variant => $crate::server::Protocol::<$state>::datagram(&mut self.$field, state, peer, data, reply), )+
                }
            }
        }
    };
}
