//! The `Date` header: IMF-fixdate (RFC 9110 §5.6.7) from a Unix timestamp the caller passes
//! in, formatted once per second and reused for every response in that second.

/// The length of an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const HTTP_DATE_LEN: usize = 29;

/// A cached IMF-fixdate. [`HttpDate::update`] reformats only when the second changes.
#[derive(Clone, Debug)]
pub struct HttpDate {
    secs: u64,
    text: [u8; HTTP_DATE_LEN],
}

impl Default for HttpDate {
    fn default() -> Self {
        HttpDate::new()
    }
}

impl HttpDate {
    /// The date of Unix time 0, until the first update.
    pub const fn new() -> HttpDate {
        HttpDate {
            secs: 0,
            text: *b"Thu, 01 Jan 1970 00:00:00 GMT",
        }
    }

    /// Sets the date to `unix_secs`; returns whether the text changed.
    pub fn update(&mut self, unix_secs: u64) -> bool {
        if unix_secs == self.secs {
            return false;
        }
        self.secs = unix_secs;
        format_imf_fixdate(unix_secs, &mut self.text);
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
}
