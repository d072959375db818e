//! Reading field values: OWS and comma-separated lists (RFC 9110 §5). Names, and most tokens,
//! compare case-insensitively (§5.1): `<[u8]>::eq_ignore_ascii_case` from `core` does that.

/// `value` without leading and trailing spaces and tabs (OWS, RFC 9110 §5.6.3).
#[inline]
pub fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |p| p + 1);
    &value[start..end]
}

/// The elements of a comma-separated list value (RFC 9110 §5.6.1), trimmed of OWS, with empty
/// elements skipped as the RFC requires of recipients. Commas inside quoted strings do not
/// split (`W/"a,b", "c"` has two elements). Bounded: one pass over the value.
#[derive(Clone, Debug)]
pub struct TokenList<'a> {
    rest: &'a [u8],
}

impl<'a> TokenList<'a> {
    /// The list in `value`.
    pub fn new(value: &'a [u8]) -> TokenList<'a> {
        TokenList { rest: value }
    }
}

impl<'a> Iterator for TokenList<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // Bounded: each turn consumes at least one byte of `rest` (an element and its comma).
        for _ in 0..=self.rest.len() {
            if self.rest.is_empty() {
                break;
            }
            let mut in_quotes = false;
            let mut escaped = false;
            let mut end = self.rest.len();
            for (i, &b) in self.rest.iter().enumerate() {
                if escaped {
                    escaped = false;
                } else if in_quotes && b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_quotes = !in_quotes;
                } else if b == b',' && !in_quotes {
                    end = i;
                    break;
                }
            }
            let element = trim_ows(&self.rest[..end]);
            self.rest = if end < self.rest.len() {
                &self.rest[end + 1..]
            } else {
                &[]
            };
            if !element.is_empty() {
                return Some(element);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9110 §5.6.1.2: "a recipient MUST accept ... `foo,bar`, `foo ,bar,`, `foo , ,bar,
    /// charlie` ... as containing the elements foo, bar (and charlie)".
    #[test]
    fn list_elements_rfc_examples() {
        let collect = |v: &'static [u8]| TokenList::new(v).collect::<heapless::Vec<&[u8], 8>>();
        assert_eq!(collect(b"foo,bar"), [&b"foo"[..], b"bar"]);
        assert_eq!(collect(b"foo ,bar,"), [&b"foo"[..], b"bar"]);
        assert_eq!(
            collect(b"foo , ,bar,charlie"),
            [&b"foo"[..], b"bar", b"charlie"]
        );
        assert!(collect(b"").is_empty());
        assert!(collect(b" , ,").is_empty());
    }

    #[test]
    fn quoted_commas_do_not_split() {
        let v: heapless::Vec<&[u8], 4> = TokenList::new(br#"W/"a,b", "c\",d""#).collect();
        assert_eq!(v, [&br#"W/"a,b""#[..], br#""c\",d""#]);
    }

    #[test]
    fn trims_ows() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"  "), b"");
    }
}
