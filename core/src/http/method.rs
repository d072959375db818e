//! Request methods (RFC 9110 §9).

use super::scan::TOKEN;

/// A request method. The methods of RFC 9110 and PATCH (RFC 5789) are variants; any other
/// token is an [`Method::Extension`], whose text the request keeps (RFC 9110 §9.1: methods
/// are case-sensitive tokens, so `get` is an extension method, not GET).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method {
    /// GET (RFC 9110 §9.3.1).
    #[default]
    Get,
    /// HEAD (RFC 9110 §9.3.2): GET without content in the response.
    Head,
    /// POST (RFC 9110 §9.3.3).
    Post,
    /// PUT (RFC 9110 §9.3.4).
    Put,
    /// DELETE (RFC 9110 §9.3.5).
    Delete,
    /// CONNECT (RFC 9110 §9.3.6): its target is in authority-form.
    Connect,
    /// OPTIONS (RFC 9110 §9.3.7): may target `*`.
    Options,
    /// TRACE (RFC 9110 §9.3.8).
    Trace,
    /// PATCH (RFC 5789).
    Patch,
    /// Any other token.
    Extension,
}

impl Method {
    /// All methods with a variant of their own, in the order `Allow` lists them.
    pub const KNOWN: [Method; 9] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Connect,
        Method::Options,
        Method::Trace,
        Method::Patch,
    ];

    /// Classifies a method token (already validated as a token).
    #[inline]
    pub const fn from_token(token: &[u8]) -> Method {
        match token {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"CONNECT" => Method::Connect,
            b"OPTIONS" => Method::Options,
            b"TRACE" => Method::Trace,
            b"PATCH" => Method::Patch,
            _ => Method::Extension,
        }
    }

    /// The method's name; `None` for extension methods (their text is in the request).
    pub const fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Extension => return None,
        })
    }

    /// This method's bit in a [`MethodSet`].
    pub const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Whether `text` is a method token (RFC 9110 §9.1: `method = token`), as the parser
/// requires of every request's method.
pub fn is_method_token(text: &[u8]) -> bool {
    !text.is_empty() && text.iter().all(|&b| TOKEN[b as usize])
}

/// A set of methods, as a route's filter or an `Allow` list.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MethodSet(u16);

impl MethodSet {
    /// The empty set.
    pub const EMPTY: MethodSet = MethodSet(0);

    /// The set holding `method` only.
    pub const fn of(method: Method) -> MethodSet {
        MethodSet(method.bit())
    }

    /// This set plus `method`.
    pub const fn with(self, method: Method) -> MethodSet {
        MethodSet(self.0 | method.bit())
    }

    /// The union of two sets.
    pub const fn union(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 | other.0)
    }

    /// Whether `method` is in the set.
    pub const fn contains(self, method: Method) -> bool {
        self.0 & method.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the two sets share a method.
    pub const fn intersects(self, other: MethodSet) -> bool {
        self.0 & other.0 != 0
    }

    /// The known methods in the set, in [`Method::KNOWN`] order.
    pub fn iter(self) -> impl Iterator<Item = Method> {
        Method::KNOWN.into_iter().filter(move |m| self.contains(*m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9110 §9.1: "The method token is case-sensitive".
    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(Method::from_token(b"GET"), Method::Get);
        assert_eq!(Method::from_token(b"get"), Method::Extension);
        assert_eq!(Method::from_token(b"PROPFIND"), Method::Extension);
    }

    #[test]
    fn method_set() {
        let set = MethodSet::of(Method::Get).with(Method::Post);
        assert!(set.contains(Method::Get) && set.contains(Method::Post));
        assert!(!set.contains(Method::Head));
        let listed: heapless::Vec<Method, 9> = set.iter().collect();
        assert_eq!(&listed[..], &[Method::Get, Method::Post]);
    }
}
