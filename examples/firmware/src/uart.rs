//! The CMSDK APB UART (ARM DDI0479C §4.3), UART0 of the AN386 image, as a blocking
//! `embedded_io` stream.
//!
//! The register access is our own: the UART has five registers, and no maintained
//! peripheral-access crate covers the MPS2 boards. Volatile reads and writes of those five
//! words are all it takes.
//!
//! The UART has a one-byte receive holding register and no FIFO. Under QEMU no byte is ever
//! lost: the emulated UART takes the next byte from its character backend only once the
//! previous one has been read (`STATE.RXFULL` clear), so the TCP connection behind it simply
//! waits. On hardware the same driver would need the receive interrupt and a ring buffer.
//!
//! ## Reads and the end of a connection
//!
//! A UART has no connection boundaries: the only thing the firmware can observe is silence.
//! [`Uart::read`] blocks until at least one byte has arrived and returns what arrives without
//! a pause (never waiting to fill the buffer); if the line stays quiet for [`QUIET_MS`] it
//! reports the end of the stream (`Ok(0)`), the UART's equivalent of the peer hanging up.
//! Without that, a read would block for ever: `serve_connection` fires the server's timers
//! between operations only, so a connection that lingers after its last response (RFC 9112
//! §9.6) would never end, and would swallow the next connection's bytes as it discards.
//! [`Uart::discard_until_quiet`] is the other half of the rule: before a new connection starts,
//! whatever is still arriving for the old one is dropped.

use core::ptr::{read_volatile, write_volatile};

use crate::clock;

/// Base address of UART0 on AN386 (AN386 §3.3; QEMU's `hw/arm/mps2.c`).
const UART0_BASE: usize = 0x4000_4000;

/// Register offsets from the base.
mod reg {
    /// Write: the byte to send. Read: the byte received (clears `STATE.RXFULL`).
    pub const DATA: usize = 0x00;
    /// Bit 0 `TXFULL`, bit 1 `RXFULL`, bits 2 and 3 the overruns (write 1 to clear).
    pub const STATE: usize = 0x04;
    /// Bit 0 transmit enable, bit 1 receive enable, bits 2..5 interrupt enables.
    pub const CTRL: usize = 0x08;
    /// Interrupt status, write 1 to clear; unused here (the driver polls).
    pub const INTSTATUS: usize = 0x0c;
    /// Baud rate divider: PCLK / baud. QEMU ignores the UART until it is at least 16.
    pub const BAUDDIV: usize = 0x10;
}

const STATE_TXFULL: u32 = 1 << 0;
const STATE_RXFULL: u32 = 1 << 1;
const STATE_OVERRUNS: u32 = 0b1100;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;

/// The APB clock of the AN386 image: 25 MHz (QEMU's `SYSCLK_FRQ` for the MPS2 boards).
pub const PCLK_HZ: u32 = 25_000_000;
/// The line rate. QEMU moves bytes as fast as its backend takes them whatever the divider;
/// it is set for hardware's sake.
pub const BAUD: u32 = 115_200;

/// How long the line must stay quiet for the firmware to take the connection as ended, in
/// milliseconds: a read that sees nothing for this long returns end of stream, and no new
/// connection starts until the line has been quiet this long. A client must therefore send
/// each request without pausing this long in its middle, and, after a response that closes the
/// connection (`Connection: close`, a 4xx that ends it), stay silent this long (plus a margin
/// for its own clock) before its next request.
pub const QUIET_MS: u64 = 50;

/// The longest [`Uart::discard_until_quiet`] keeps discarding a line that never goes quiet
/// before giving up and letting a new connection start anyway (its parser then answers the
/// noise with `400`).
pub const RESYNC_GIVE_UP_MS: u64 = 10_000;

/// Polls of `STATE` after a byte, within one read, before the read returns what it has. QEMU
/// hands the next byte of a burst over within a few hundred polls; a pause longer than that
/// ends the read (the bytes are not lost: the next read takes them).
const BURST_POLLS: u32 = 2_000;

/// UART0, initialised: 8N1 at [`BAUD`], transmitter and receiver enabled, interrupts off.
#[derive(Debug)]
pub struct Uart {
    base: usize,
    /// When the last byte arrived (milliseconds, [`clock::millis`]).
    last_byte_ms: u64,
}

impl Uart {
    /// Takes UART0 and enables it.
    ///
    /// # Safety
    ///
    /// At most one `Uart` may exist: it assumes sole ownership of UART0's registers.
    pub unsafe fn uart0() -> Uart {
        let uart = Uart {
            base: UART0_BASE,
            last_byte_ms: clock::millis(),
        };
        uart.write_reg(reg::CTRL, 0);
        uart.write_reg(reg::BAUDDIV, PCLK_HZ / BAUD);
        uart.write_reg(reg::STATE, STATE_OVERRUNS);
        uart.write_reg(reg::INTSTATUS, 0xf);
        uart.write_reg(reg::CTRL, CTRL_TX_EN | CTRL_RX_EN);
        uart
    }

    fn read_reg(&self, offset: usize) -> u32 {
        // SAFETY: `base + offset` is one of the UART's word-aligned registers (the offsets in
        // `reg`), mapped for the whole run; `Uart::uart0`'s contract makes this the only user.
        unsafe { read_volatile((self.base + offset) as *const u32) }
    }

    fn write_reg(&self, offset: usize, value: u32) {
        // SAFETY: as in `read_reg`; every value written is one the register accepts.
        unsafe { write_volatile((self.base + offset) as *mut u32, value) }
    }

    /// The next received byte, if one is waiting.
    fn try_byte(&mut self) -> Option<u8> {
        if self.read_reg(reg::STATE) & STATE_RXFULL == 0 {
            return None;
        }
        Some(self.read_reg(reg::DATA) as u8)
    }

    /// Drops every byte until none has arrived for [`QUIET_MS`], or until
    /// [`RESYNC_GIVE_UP_MS`] have passed; returns how many bytes were dropped. Called between
    /// connections (see the module docs).
    pub fn discard_until_quiet(&mut self) -> usize {
        let start = clock::millis();
        let mut dropped = 0;
        // Bounded: ends once the line has been quiet for QUIET_MS, and in any case after
        // RESYNC_GIVE_UP_MS of the millisecond clock.
        loop {
            let now = clock::millis();
            if self.try_byte().is_some() {
                dropped += 1;
                self.last_byte_ms = now;
            }
            if now.saturating_sub(self.last_byte_ms) >= QUIET_MS
                || now.saturating_sub(start) >= RESYNC_GIVE_UP_MS
            {
                return dropped;
            }
        }
    }
}

impl embedded_io::ErrorType for Uart {
    /// Neither direction fails: a quiet line is the end of the stream, not an error.
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for Uart {
    /// Blocks until at least one byte arrives, then takes the bytes that follow without a
    /// pause, up to `buf.len()`. `Ok(0)` (end of stream) after [`QUIET_MS`] without a byte.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let waiting_since = clock::millis();
        // Bounded: returns within QUIET_MS of the millisecond clock when nothing arrives.
        let first = loop {
            if let Some(byte) = self.try_byte() {
                break byte;
            }
            if clock::millis().saturating_sub(waiting_since) >= QUIET_MS {
                return Ok(0);
            }
        };
        buf[0] = first;
        let mut n = 1;
        let mut polls = 0;
        // Bounded: at most buf.len() bytes, and BURST_POLLS empty polls after each.
        while n < buf.len() && polls < BURST_POLLS {
            match self.try_byte() {
                Some(byte) => {
                    buf[n] = byte;
                    n += 1;
                    polls = 0;
                }
                None => polls += 1,
            }
        }
        self.last_byte_ms = clock::millis();
        Ok(n)
    }
}

impl embedded_io::Write for Uart {
    /// Sends every byte of `buf`, waiting while the transmit holding register is full.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        for &byte in buf {
            // Bounded: the transmitter empties its one-byte register at the line rate (at
            // once under QEMU), so each wait lasts one character time.
            while self.read_reg(reg::STATE) & STATE_TXFULL != 0 {}
            self.write_reg(reg::DATA, u32::from(byte));
        }
        Ok(buf.len())
    }

    /// Nothing to flush: `write` returns once the last byte is in the transmit register.
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
