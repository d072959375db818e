//! # zzz-sim
//!
//! The deterministic simulation backend of zzz. It drives the same `zzz-core` server and the
//! same application code as production through simulated sockets, faults and a simulated
//! clock; one 64-bit seed determines everything, so every failure replays from its seed.
