//! What each submission is for, packed into its 64-bit `user_data`.

use zzz_core::SlotId;

/// The kind of operation a completion belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Kind {
    Accept = 1,
    Recv,
    Send,
    Close,
    Shutdown,
    Cancel,
    Wake,
    /// A UDP socket's receive; the index is the socket's.
    UdpRecv,
    /// A datagram reply's send; the index is the reply's number.
    UdpSend,
    /// Closing a connection the server had no slot for.
    CloseRejected,
    /// A multishot receive into the provided-buffer ring.
    RecvMulti,
}

/// Where the kind starts in a `user_data`: above the 32 bits of the index.
const KIND_SHIFT: u32 = 56;

// The kind and the index never overlap, and the kind's byte is the word's top one.
const _: () = assert!(KIND_SHIFT >= u32::BITS && KIND_SHIFT + u8::BITS == u64::BITS);
// A slot number is an index: it fits the 32 bits the token keeps.
const _: () = assert!(size_of::<SlotId>() <= size_of::<u32>());
// No kind is 0, so a `user_data` left at 0 (an entry built without one) is never taken for ours.
const _: () = assert!(Kind::Accept as u8 == 1);

impl Kind {
    fn from_u8(v: u8) -> Option<Kind> {
        use Kind::*;
        Some(match v {
            1 => Accept,
            2 => Recv,
            3 => Send,
            4 => Close,
            5 => Shutdown,
            6 => Cancel,
            7 => Wake,
            8 => UdpRecv,
            9 => UdpSend,
            10 => CloseRejected,
            11 => RecvMulti,
            _ => return None,
        })
    }
}

/// `kind` in the top byte, `index` (a slot, listener or buffer) in the low 32 bits.
pub(crate) fn token(kind: Kind, index: u32) -> u64 {
    (kind as u64) << KIND_SHIFT | index as u64
}

/// The kind and index of a completion's `user_data`. Panics on a `user_data` this backend did
/// not make with [`token`]: the completion would be routed to the wrong connection.
pub(crate) fn untoken(user_data: u64) -> (Kind, u32) {
    let kind =
        Kind::from_u8((user_data >> KIND_SHIFT) as u8).expect("a user_data this backend submitted");
    assert!(
        (user_data >> u32::BITS) & ((1 << (KIND_SHIFT - u32::BITS)) - 1) == 0,
        "a user_data this backend submitted has nothing between its kind and its index"
    );
    (kind, user_data as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_KIND: [Kind; 11] = [
        Kind::Accept,
        Kind::Recv,
        Kind::Send,
        Kind::Close,
        Kind::Shutdown,
        Kind::Cancel,
        Kind::Wake,
        Kind::UdpRecv,
        Kind::UdpSend,
        Kind::CloseRejected,
        Kind::RecvMulti,
    ];

    #[test]
    fn round_trip() {
        for kind in EVERY_KIND {
            for index in [0, 1, u32::MAX] {
                assert_eq!(untoken(token(kind, index)), (kind, index));
            }
        }
    }

    #[test]
    #[should_panic(expected = "a user_data this backend submitted")]
    fn a_zero_user_data_is_not_a_token() {
        untoken(0);
    }

    #[test]
    #[should_panic(expected = "nothing between its kind and its index")]
    fn stray_bits_are_not_a_token() {
        untoken(token(Kind::Recv, 7) | 1 << 40);
    }
}
