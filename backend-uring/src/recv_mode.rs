//! How connections receive: straight into their buffers, or through a provided-buffer ring.

use crate::buf_ring;

/// How connections receive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecvMode {
    /// One receive per read, straight into the connection's buffer in the server's region:
    /// no copy, one submission per read.
    Direct,
    /// One multishot receive per connection, the kernel filling buffers from a shared
    /// provided-buffer ring, copied into the connection's buffer when the server asks: a copy
    /// of what arrives, and no submission per read. `buffers` (a power of two, at most
    /// 32768) of `size` (at least 1) bytes each; Linux 5.19+, else `Direct`.
    BufferRing {
        /// Buffers in the ring.
        buffers: u16,
        /// Bytes per buffer.
        size: u32,
    },
}

/// Why a [`RecvMode`] cannot be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InvalidRecvMode {
    /// `buffers` is not a power of two (the kernel indexes the ring by masking).
    BuffersNotPowerOfTwo,
    /// `size` is 0.
    EmptyBuffers,
}

impl std::fmt::Display for InvalidRecvMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InvalidRecvMode::BuffersNotPowerOfTwo => {
                "RecvMode::BufferRing: buffers must be a power of two, at most 32768"
            }
            InvalidRecvMode::EmptyBuffers => "RecvMode::BufferRing: size must be at least 1",
        })
    }
}

impl std::error::Error for InvalidRecvMode {}

/// Buffers in the default ring.
const DEFAULT_RING_BUFFERS: u16 = 256;
/// Bytes per buffer of the default ring.
const DEFAULT_RING_BUFFER_SIZE: u32 = 2048;
const _: () = assert!(
    DEFAULT_RING_BUFFERS.is_power_of_two()
        && DEFAULT_RING_BUFFERS <= buf_ring::BUFFERS_MAX
        && DEFAULT_RING_BUFFER_SIZE > 0
);

impl RecvMode {
    /// Checks that the kernel can be given this mode's ring: `Ok` for `Direct`, and for
    /// `BufferRing` with `buffers` a power of two (hence at most 32768) and `size` at least 1.
    pub const fn validate(&self) -> Result<(), InvalidRecvMode> {
        match *self {
            RecvMode::Direct => Ok(()),
            RecvMode::BufferRing { buffers, .. } if !buffers.is_power_of_two() => {
                Err(InvalidRecvMode::BuffersNotPowerOfTwo)
            }
            RecvMode::BufferRing { size: 0, .. } => Err(InvalidRecvMode::EmptyBuffers),
            RecvMode::BufferRing { .. } => Ok(()),
        }
    }
}

impl Default for RecvMode {
    /// A ring of 256 buffers of 2 KiB (512 KiB per instance).
    fn default() -> Self {
        RecvMode::BufferRing {
            buffers: DEFAULT_RING_BUFFERS,
            size: DEFAULT_RING_BUFFER_SIZE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_of_32768_buffers_of_one_byte_is_valid() {
        let mode = RecvMode::BufferRing {
            buffers: 32768,
            size: 1,
        };
        assert_eq!(mode.validate(), Ok(()));
        assert_eq!(RecvMode::default().validate(), Ok(()));
        assert_eq!(RecvMode::Direct.validate(), Ok(()));
    }

    #[test]
    fn a_ring_the_kernel_cannot_index_is_refused() {
        for buffers in [0, 3, 32767, u16::MAX] {
            let mode = RecvMode::BufferRing {
                buffers,
                size: 2048,
            };
            assert_eq!(
                mode.validate(),
                Err(InvalidRecvMode::BuffersNotPowerOfTwo),
                "{buffers} buffers"
            );
        }
        let empty = RecvMode::BufferRing {
            buffers: 256,
            size: 0,
        };
        assert_eq!(empty.validate(), Err(InvalidRecvMode::EmptyBuffers));
    }
}
