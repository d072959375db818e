//! What each submission is for, packed into its 64-bit `user_data`.

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
    UdpRecv,
    UdpSend,
    /// Closing a connection the server had no slot for.
    CloseRejected,
    /// A multishot receive into the provided-buffer ring.
    RecvMulti,
}

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
    (kind as u64) << 56 | index as u64
}

/// The kind and index of a completion's `user_data`.
pub(crate) fn untoken(user_data: u64) -> (Kind, u32) {
    let kind = Kind::from_u8((user_data >> 56) as u8).expect("a user_data this backend submitted");
    (kind, user_data as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for kind in [Kind::Accept, Kind::Recv, Kind::UdpSend, Kind::CloseRejected] {
            for index in [0, 1, u32::MAX] {
                assert_eq!(untoken(token(kind, index)), (kind, index));
            }
        }
    }
}
