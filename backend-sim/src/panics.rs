//! Panics caught from the server: the hook that remembers where each happened, and the text
//! a failure report gives for one. The simulator and the replayer catch a server's panic
//! (`catch_unwind`) and report it once, with its location, instead of letting the default
//! hook print it.

use std::cell::RefCell;

thread_local! {
    /// Where the last panic caught on this thread happened, set by [`install_panic_hook`].
    pub static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook by one that prints nothing and remembers where the panic happened,
/// so that a server panic caught by the simulator is reported once, in its failure report.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = LAST_PANIC.try_with(|p| *p.borrow_mut() = Some(location));
    }));
}

/// The text of a caught panic: its message, and where it happened when the hook of
/// [`install_panic_hook`] saw it.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let msg = if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    };
    match LAST_PANIC.with(|p| p.borrow_mut().take()) {
        Some(location) => format!("{msg} at {location}"),
        None => msg,
    }
}
