//! What the HTTP module asks of a route table, whatever its capacities.

use super::{Allow, Route, RouteMatch, Router};
use crate::http::Method;

/// What the HTTP module asks of a route table, whatever its capacities: a [`Router`] of any
/// size, or a reference to one that lives elsewhere (a `static` built once, say).
pub trait Routing<S: 'static> {
    /// The routes of the table, in declaration order.
    fn routes(&self) -> &'static [Route<S>];

    /// The methods every path allows together ([`Router::all_methods`]).
    fn all_methods(&self) -> Allow<'_>;

    /// Resolves a classified method and a path ([`Router::resolve_parsed`]).
    fn resolve_parsed<'r: 'p, 'p>(
        &'r self,
        standard: Method,
        method: &str,
        path: &'p str,
    ) -> RouteMatch<'r, 'p, S>;
}

impl<
    S,
    const PATHS: usize,
    const NODES: usize,
    const SLOTS: usize,
    const PARAMS: usize,
    const EXTENSIONS: usize,
> Routing<S> for Router<S, PATHS, NODES, SLOTS, PARAMS, EXTENSIONS>
{
    fn routes(&self) -> &'static [Route<S>] {
        Router::routes(self)
    }

    fn all_methods(&self) -> Allow<'_> {
        Router::all_methods(self)
    }

    #[inline]
    fn resolve_parsed<'r: 'p, 'p>(
        &'r self,
        standard: Method,
        method: &str,
        path: &'p str,
    ) -> RouteMatch<'r, 'p, S> {
        Router::resolve_parsed(self, standard, method, path)
    }
}

impl<S: 'static, R: Routing<S> + ?Sized> Routing<S> for &'static R {
    fn routes(&self) -> &'static [Route<S>] {
        (**self).routes()
    }

    fn all_methods(&self) -> Allow<'_> {
        (**self).all_methods()
    }

    #[inline]
    fn resolve_parsed<'r: 'p, 'p>(
        &'r self,
        standard: Method,
        method: &str,
        path: &'p str,
    ) -> RouteMatch<'r, 'p, S> {
        (**self).resolve_parsed(standard, method, path)
    }
}
