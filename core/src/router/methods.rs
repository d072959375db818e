//! The method rules of a route table: where a route's method puts it in its path's entry
//! (a standard method by index, an extension method by its token, or any method), and the
//! `Allow` list a path answers with (RFC 9110 §10.2.1).

use super::route::RouteMethod;
use crate::http::{Method, MethodSet, is_method_token};

/// A route for an extension method, as a path's entry lists it.
#[derive(Clone, Copy, Debug)]
pub(super) struct ExtensionRoute {
    /// The method's token.
    pub(super) name: &'static str,
    /// The route's index in the table.
    pub(super) route: u16,
}

/// Where a route's method puts it in its path's entry.
#[derive(Clone, Copy)]
pub(super) enum MethodSlot {
    /// A method of [`Method::KNOWN`], at this index.
    Standard(usize),
    /// An extension method, by its token.
    Extension(&'static str),
    /// [`Route::any`].
    Any,
}

/// The methods a path allows, as its `Allow` field lists them (RFC 9110 §10.2.1): the
/// standard ones in [`Method::KNOWN`] order, then the extension methods, each once, in byte
/// order (path by path for [`Router::all_methods`](super::Router::all_methods)), so that the
/// order of the table's rows never shows. `Display` writes the field's value, `GET, HEAD, OPTIONS, PURGE`.
#[derive(Clone, Copy, Debug)]
pub struct Allow<'r> {
    pub(super) standard: MethodSet,
    pub(super) extensions: &'r [ExtensionRoute],
}

impl<'r> Allow<'r> {
    /// The standard methods allowed.
    pub fn standard(&self) -> MethodSet {
        self.standard
    }

    /// The extension methods allowed, each once.
    pub fn extensions(&self) -> impl Iterator<Item = &'static str> + 'r {
        let all = self.extensions;
        all.iter()
            .enumerate()
            .filter(move |(i, e)| !all[..*i].iter().any(|earlier| earlier.name == e.name))
            .map(|(_, e)| e.name)
    }

    /// Whether the method spelt `token` is allowed (case-sensitive, RFC 9110 §9.1).
    pub fn contains(&self, token: &str) -> bool {
        match Method::from_token(token.as_bytes()) {
            Method::Extension => self.extensions.iter().any(|e| e.name == token),
            method => self.standard.contains(method),
        }
    }
}

impl core::fmt::Display for Allow<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let standard = self.standard.iter().filter_map(Method::as_str);
        for (i, name) in standard.chain(self.extensions()).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// GET's index in [`Method::KNOWN`].
pub(super) const GET: usize = Method::Get as usize;

/// A method's index in [`Method::KNOWN`], which lists the variants in declaration order
/// (checked below), so that the index is the discriminant: this runs for every request.
pub(super) fn method_index(method: Method) -> Option<usize> {
    (method != Method::Extension).then_some(method as usize)
}

const _: () = {
    let mut i = 0;
    // Bounded: counted over Method::KNOWN (a const block has no `for`).
    while i < Method::KNOWN.len() {
        assert!(Method::KNOWN[i] as usize == i);
        i += 1;
    }
    assert!(Method::Extension as usize == Method::KNOWN.len());
};

/// Where a route's method goes, or why the router refuses it.
pub(super) fn method_slot(method: RouteMethod) -> Result<MethodSlot, &'static str> {
    let RouteMethod::Token(token) = method else {
        return Ok(MethodSlot::Any);
    };
    if !is_method_token(token.as_bytes()) {
        return Err("the method is not a token (RFC 9110 §9.1); \
                    declare an extension method by its name with `Route::method`");
    }
    match Method::from_token(token.as_bytes()) {
        // CONNECT asks for a tunnel, which zzz does not implement: such a route could never be
        // reached (the server answers 501).
        Method::Connect => Err("CONNECT is not supported (zzz answers it with 501)"),
        Method::Extension => Ok(MethodSlot::Extension(token)),
        method => Ok(MethodSlot::Standard(
            method_index(method).expect("a standard method"),
        )),
    }
}

/// A path's methods as `Allow` lists them: HEAD with GET, and OPTIONS always.
pub(super) fn allowed(methods: MethodSet) -> MethodSet {
    let with_head = if methods.contains(Method::Get) {
        methods.with(Method::Head)
    } else {
        methods
    };
    with_head.with(Method::Options)
}
