//! # zzz-macros
//!
//! Procedural macros for zzz, used only where a derive is the right tool: they turn Rust type
//! definitions into static data that the `no_std` core reads at run time without allocating.
//! This crate sits beside `zzz-core` and is re-exported by it; applications do not depend on it
//! directly.
