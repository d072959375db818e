//! An application: the state its handlers share and the protocol modules it serves.

use crate::config::{Config, MemoryBudget};
use crate::http1::Http;
use crate::router::Routing;
use crate::server::{NewError, Protocols, Server};
use crate::time::Now;

/// An application, served by a [`Server`]: the instance's state, handed to
/// every handler, and its protocol modules (`P`: one [`Protocol`](crate::server::Protocol),
/// HTTP/1.1 by default, or a set declared with [`protocols!`](crate::protocols)).
pub struct App<S: 'static, P = Http<S>> {
    /// The instance's state.
    pub state: S,
    /// The protocol modules.
    pub modules: P,
}

impl<S, R: Routing<S>> App<S, Http<S, R>> {
    /// An HTTP/1.1 app: `router`'s routes, default hooks, `Server: zzz`.
    pub fn new(state: S, router: R) -> App<S, Http<S, R>> {
        App {
            state,
            modules: Http::new(router),
        }
    }
}

impl<S, P> App<S, P> {
    /// An app serving `modules`.
    pub fn with_modules(state: S, modules: P) -> App<S, P> {
        App { state, modules }
    }
}

impl<S, P: Protocols<S>> App<S, P> {
    /// The memory a server of this app needs with `config`: the server's own tables and
    /// buffers, and what its protocol modules declare (per-connection state and scratch,
    /// shared memory). Reserve a region of `total` bytes.
    pub fn memory(&self, config: &Config) -> MemoryBudget {
        crate::server::budget(config, &self.modules)
    }
}

impl<'m, S, P: Protocols<S>> Server<'m, S, P> {
    /// Builds a server of `app` over `region` (at least [`App::memory`]`.total` bytes),
    /// starting at `now`. Nothing is allocated after this.
    pub fn new(
        config: Config,
        app: App<S, P>,
        region: &'m mut [u8],
        now: Now,
    ) -> Result<Server<'m, S, P>, NewError> {
        let App { state, modules } = app;
        Server::build(config, state, modules, region, now)
    }
}

impl<S: core::fmt::Debug, P: core::fmt::Debug> core::fmt::Debug for App<S, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("App")
            .field("state", &self.state)
            .field("modules", &self.modules)
            .finish()
    }
}
