//! The `Date` header: IMF-fixdate (RFC 9110 §5.6.7) from a Unix timestamp the caller passes
//! in, formatted once per second and reused for every response in that second, together with
//! the lines every response opens with.

/// The length of an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const HTTP_DATE_LEN: usize = 29;

/// The status line of a `200`, which opens [`HttpDate::opening`].
pub(crate) const OK_LINE: &[u8] = b"HTTP/1.1 200 OK\r\n";

/// Room for the opening lines: `HTTP/1.1 200 OK\r\n` (17), `Server: …\r\n` (10 and the name),
/// `Date: …\r\n` (37); a `Server` name longer than 32 bytes is written piece by piece instead.
pub(crate) const OPENING_CAP: usize = 96;

/// A cached IMF-fixdate. [`HttpDate::update`] reformats only when the second changes.
///
/// It also keeps the lines a `200` response opens with, composed for one `Server` name:
/// `HTTP/1.1 200 OK\r\nServer: zzz\r\nDate: …\r\n`, so that a response starts with one copy
/// instead of three formatted writes (callgrind, the bench's plaintext response: the status
/// line, `Server` and `Date` cost 167 instructions written one by one).
#[derive(Clone, Debug)]
pub struct HttpDate {
    secs: u64,
    text: [u8; HTTP_DATE_LEN],
    /// The `Server` name [`HttpDate::opening`] was composed for.
    server: Option<&'static str>,
    /// `opening[..opening_len]`: the status line of a `200`, `Server` (if any) and `Date`;
    /// empty when the name does not fit.
    opening: [u8; OPENING_CAP],
    opening_len: usize,
}

impl Default for HttpDate {
    fn default() -> Self {
        HttpDate::new()
    }
}

impl HttpDate {
    /// The date of Unix time 0, until the first update, with its opening lines composed for
    /// `Server: zzz` (the server's default name).
    pub const fn new() -> HttpDate {
        let mut date = HttpDate {
            secs: 0,
            text: *b"Thu, 01 Jan 1970 00:00:00 GMT",
            server: Some("zzz"),
            opening: [0; OPENING_CAP],
            opening_len: 0,
        };
        date.compose();
        date
    }

    /// Sets the date to `unix_secs`; returns whether the text changed.
    pub fn update(&mut self, unix_secs: u64) -> bool {
        if unix_secs == self.secs {
            return false;
        }
        self.secs = unix_secs;
        format_imf_fixdate(unix_secs, &mut self.text);
        self.compose();
        true
    }

    /// The formatted date.
    pub fn as_bytes(&self) -> &[u8; HTTP_DATE_LEN] {
        &self.text
    }

    /// The Unix second this date shows.
    pub fn unix_secs(&self) -> u64 {
        self.secs
    }

    /// The `Server` name the opening lines are composed for (`zzz` unless the server sets
    /// its own).
    #[inline]
    pub(crate) fn server(&self) -> Option<&'static str> {
        self.server
    }

    /// This date with its opening lines composed for `server` (composed again only when the
    /// name is not the one they were composed for: a check of two words per response).
    pub(crate) fn for_server(&mut self, server: Option<&'static str>) -> &HttpDate {
        if !same_name(self.server, server) {
            self.server = server;
            self.compose();
        }
        self
    }

    /// The lines a `200` response with `Server: server` opens with (`HTTP/1.1 200 OK\r\n`, then
    /// `Server` and `Date`), when they are composed for that name: the first `len` bytes of
    /// the array (all of it may be copied: the rest is written over next). Another status
    /// replaces the first [`OK_LINE`]`.len()` bytes with its own line.
    #[inline]
    pub(crate) fn opening(
        &self,
        server: Option<&'static str>,
    ) -> Option<(&[u8; OPENING_CAP], usize)> {
        if self.opening_len != 0 && same_name(self.server, server) {
            Some((&self.opening, self.opening_len))
        } else {
            None
        }
    }

    /// Composes [`HttpDate::opening`] from the status line, the name and the date; leaves it
    /// empty when they do not fit. `const` for [`HttpDate::new`], hence the counted loops.
    const fn compose(&mut self) {
        let name: &[u8] = match self.server {
            Some(name) => name.as_bytes(),
            None => b"",
        };
        let server_len = if self.server.is_some() {
            10 + name.len()
        } else {
            0
        };
        let len = OK_LINE.len() + server_len + 8 + HTTP_DATE_LEN;
        if len > OPENING_CAP {
            self.opening_len = 0;
            return;
        }
        let mut at = put(&mut self.opening, 0, OK_LINE);
        if self.server.is_some() {
            at = put(&mut self.opening, at, b"Server: ");
            at = put(&mut self.opening, at, name);
            at = put(&mut self.opening, at, b"\r\n");
        }
        at = put(&mut self.opening, at, b"Date: ");
        at = put(&mut self.opening, at, &self.text);
        at = put(&mut self.opening, at, b"\r\n");
        self.opening_len = at;
    }
}

/// Whether two `Server` names are the same string, by address and length: the name is a
/// `&'static str` set once, so the same one is the same slice, and a copy elsewhere only costs
/// one composition. Compared as two words each (`None` has a null address), without a branch.
#[inline]
fn same_name(a: Option<&'static str>, b: Option<&'static str>) -> bool {
    let words =
        |name: Option<&'static str>| name.map_or((0, 0), |s| (s.as_ptr() as usize, s.len()));
    words(a) == words(b)
}

/// Copies `src` into `dst` at `at` and returns where it ends; for `const` composition.
const fn put(dst: &mut [u8; OPENING_CAP], at: usize, src: &[u8]) -> usize {
    let mut i = 0;
    // Bounded: counted over src (a const fn has no `for`).
    while i < src.len() {
        dst[at + i] = src[i];
        i += 1;
    }
    at + src.len()
}

/// Writes `unix_secs` as an IMF-fixdate. Years past 9999 are shown as 9999-12-31 23:59:59.
pub fn format_imf_fixdate(unix_secs: u64, out: &mut [u8; HTTP_DATE_LEN]) {
    const MAX: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let secs = unix_secs.min(MAX);
    let days = secs / 86_400;
    let in_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);

    let two = |n: u64| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
    out[0..3].copy_from_slice(DAYS[(days % 7) as usize]);
    out[3..5].copy_from_slice(b", ");
    out[5..7].copy_from_slice(&two(day));
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    out[11] = b' ';
    out[12..14].copy_from_slice(&two(year / 100));
    out[14..16].copy_from_slice(&two(year % 100));
    out[16] = b' ';
    out[17..19].copy_from_slice(&two(in_day / 3600));
    out[19] = b':';
    out[20..22].copy_from_slice(&two(in_day / 60 % 60));
    out[22] = b':';
    out[23..25].copy_from_slice(&two(in_day % 60));
    out[25..29].copy_from_slice(b" GMT");
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01, in the proleptic
/// Gregorian calendar (the era arithmetic of H. Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as u64;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(secs: u64) -> [u8; HTTP_DATE_LEN] {
        let mut out = [0; HTTP_DATE_LEN];
        format_imf_fixdate(secs, &mut out);
        out
    }

    /// RFC 9110 §5.6.7's example: `Sun, 06 Nov 1994 08:49:37 GMT`.
    #[test]
    fn rfc_example() {
        assert_eq!(&fmt(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn known_dates() {
        assert_eq!(&fmt(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&fmt(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(&fmt(1_798_761_599), b"Thu, 31 Dec 2026 23:59:59 GMT");
        assert_eq!(&fmt(4_107_542_400), b"Mon, 01 Mar 2100 00:00:00 GMT");
        assert_eq!(&fmt(u64::MAX), b"Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn cache_updates_once_per_second() {
        let mut date = HttpDate::new();
        assert!(date.update(784_111_777));
        assert!(!date.update(784_111_777));
        assert!(date.update(784_111_778));
        assert_eq!(date.as_bytes(), b"Sun, 06 Nov 1994 08:49:38 GMT");
    }

    /// The opening lines follow the date and the name they are composed for; a name too long
    /// for their array leaves them uncomposed.
    #[test]
    fn opening_lines() {
        let opening = |date: &HttpDate, server| {
            date.opening(server)
                .map(|(lines, len)| std::string::String::from_utf8(lines[..len].to_vec()).unwrap())
        };
        let mut date = HttpDate::new();
        date.update(784_111_777);
        assert_eq!(
            opening(&date, date.server()).unwrap(),
            "HTTP/1.1 200 OK\r\nServer: zzz\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        );
        assert_eq!(opening(&date, None), None);
        date.for_server(None);
        assert_eq!(
            opening(&date, None).unwrap(),
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        );
        let long = "a-server-name-longer-than-the-composed-lines-allow/1.0";
        date.for_server(Some(long));
        assert_eq!(opening(&date, Some(long)), None);
        // The name is compared as a slice (address and length): the same one, not an equal one.
        let name = "x";
        date.for_server(Some(name));
        date.update(784_111_778);
        assert_eq!(
            opening(&date, Some(name)).unwrap(),
            "HTTP/1.1 200 OK\r\nServer: x\r\nDate: Sun, 06 Nov 1994 08:49:38 GMT\r\n"
        );
    }
}
