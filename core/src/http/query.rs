//! Query-string iteration (`a=1&b=two`), as handlers read it.

use super::percent::{Decode, PercentError, decode_str};

/// The `name=value` pairs of a query string, still percent-encoded. `&` separates pairs
/// (`;` is not a separator); empty pairs are skipped; a pair without `=` has an empty value.
/// Decode a component with [`QueryPairs::decode`].
#[derive(Clone, Debug)]
pub struct QueryPairs<'a> {
    rest: &'a str,
}

impl<'a> QueryPairs<'a> {
    /// The pairs of `query` (without its leading `?`).
    pub fn new(query: &'a str) -> QueryPairs<'a> {
        QueryPairs { rest: query }
    }

    /// The raw value of the first pair named `name` (compared before decoding).
    pub fn get(self, name: &str) -> Option<&'a str> {
        self.into_iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Decodes a component in form style (`+` is a space) into `out`.
    pub fn decode<'o>(component: &str, out: &'o mut [u8]) -> Result<&'o str, PercentError> {
        decode_str(component, Decode::FormComponent, out)
    }
}

impl<'a> Iterator for QueryPairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        // Bounded: each round consumes a pair and its `&` (at least one byte of `rest`).
        for _ in 0..=self.rest.len() {
            if self.rest.is_empty() {
                break;
            }
            let (pair, rest) = self.rest.split_once('&').unwrap_or((self.rest, ""));
            self.rest = rest;
            if !pair.is_empty() {
                return Some(pair.split_once('=').unwrap_or((pair, "")));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs() {
        let v: heapless::Vec<(&str, &str), 8> = QueryPairs::new("a=1&&b=&c&d=x=y").collect();
        assert_eq!(v, [("a", "1"), ("b", ""), ("c", ""), ("d", "x=y")]);
        assert_eq!(QueryPairs::new("a=1&b=2").get("b"), Some("2"));
        assert_eq!(QueryPairs::new("").next(), None);
    }

    #[test]
    fn decode_component() {
        let mut out = [0u8; 16];
        assert_eq!(
            QueryPairs::decode("caf%C3%A9+au+lait", &mut out),
            Ok("café au lait")
        );
    }
}
