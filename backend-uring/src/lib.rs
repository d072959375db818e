//! # zzz-uring
//!
//! The Linux backend of zzz. Each instance is one thread, one io_uring and one `zzz-core`
//! server: completions from the kernel become the core's events, and the core's operations
//! become submissions. Several instances run shared-nothing on several threads.
