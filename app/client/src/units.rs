//! Units a person types and reads: token amounts as decimals (`2.10`), durations with
//! units (`1h30m`), dates (`2026-12-01T00:00:00Z`). Shared by the command line and the
//! migrations, so every tool reads them alike.

use std::{fmt, str::FromStr};

/// A non-negative decimal amount of tokens as typed (`2.10`), turned into base units once
/// the mint's decimals are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal(String);

impl FromStr for Decimal {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with('-') {
            return Err(format!(
                "'{s}' is negative: amounts and prices must be 0 or more"
            ));
        }
        // Check the shape now, so a typo fails before anything is read or sent; the
        // mint's decimals bound the rest later.
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        let digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return Err(format!("'{s}' is not a number (write e.g. 2.10)"));
        }
        Ok(Self(s.to_string()))
    }
}

impl Decimal {
    /// Base units of a mint with `decimals` decimals.
    pub fn to_base_units(&self, decimals: u8) -> Result<u64, String> {
        Amount::parse(&self.0, decimals).map(|a| a.0)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token amount in base units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub u64);

impl Amount {
    /// Parses `2.10` into base units of a mint with `decimals` decimals.
    pub fn parse(s: &str, decimals: u8) -> Result<Self, String> {
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        let digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return Err(format!("'{s}' is not a number (write e.g. 2.10)"));
        }
        if fraction.len() > usize::from(decimals) {
            return Err(format!(
                "'{s}' has more than {decimals} decimal places, the most this token has"
            ));
        }
        let scale = 10u128.pow(u32::from(decimals));
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| format!("'{s}' is too large"))?
        };
        let padded = format!("{fraction:0<width$}", width = usize::from(decimals));
        let fraction: u128 = if padded.is_empty() {
            0
        } else {
            padded
                .parse()
                .map_err(|_| format!("'{s}' is not a number"))?
        };
        let total = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(fraction))
            .and_then(|t| u64::try_from(t).ok())
            .ok_or_else(|| format!("'{s}' is too large"))?;
        Ok(Self(total))
    }
}

/// `2_100_000` base units of a 6-decimal mint as `2.10`: at least two decimals, more only
/// where they are not zero.
pub fn format_amount(base_units: u64, decimals: u8) -> String {
    let scale = 10u64.pow(u32::from(decimals));
    let whole = base_units / scale;
    let fraction = base_units % scale;
    if decimals == 0 {
        return whole.to_string();
    }
    let mut digits = format!("{fraction:0width$}", width = usize::from(decimals));
    while digits.len() > 2 && digits.ends_with('0') {
        digits.pop();
    }
    format!("{whole}.{digits}")
}

/// A duration such as `90s`, `30m`, `2h` or `1d`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    pub seconds: i64,
}

impl FromStr for Duration {
    type Err = String;

    /// One or more `<number><unit>` parts, units `d`, `h`, `m`, `s` in that order, each at
    /// most once: `90s`, `2h`, `1h30m`, `7d`. A bare number is refused: it would be a
    /// guess at the unit.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let shape = || format!("'{s}' is not a duration: write e.g. 90s, 30m, 2h, 1h30m or 7d");
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("'{s}' has no unit: write {s}s, {s}m, {s}h or {s}d"));
        }
        let mut rest = s;
        let mut seconds: i64 = 0;
        // The units still allowed: each once, largest first.
        let mut units: &[(char, i64)] = &[('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];
        while !rest.is_empty() {
            let split = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let (number, tail) = rest.split_at(split);
            let unit = tail.chars().next().ok_or_else(shape)?;
            let n: i64 = number.parse().map_err(|_| shape())?;
            let at = units.iter().position(|(u, _)| *u == unit).ok_or_else(|| {
                if "dhms".contains(unit) {
                    format!("'{s}': write the units of a duration once each, largest first (e.g. 1h30m)")
                } else {
                    format!("unknown duration unit '{unit}' in '{s}': use s, m, h or d (e.g. 2h)")
                }
            })?;
            seconds = n
                .checked_mul(units[at].1)
                .and_then(|part| seconds.checked_add(part))
                .ok_or_else(|| format!("duration '{s}' is too long"))?;
            units = &units[at + 1..];
            rest = &tail[unit.len_utf8()..];
        }
        if seconds == 0 {
            return Err("a duration must be longer than zero".into());
        }
        Ok(Self { seconds })
    }
}

impl Duration {
    /// The duration as a standard one.
    pub fn std(self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::try_from(self.seconds).unwrap_or(0))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.seconds))
    }
}

/// `5400` seconds as `1h30m`.
pub fn format_duration(seconds: i64) -> String {
    let (d, rest) = (seconds / 86_400, seconds % 86_400);
    let (h, rest) = (rest / 3_600, rest % 3_600);
    let (m, s) = (rest / 60, rest % 60);
    let mut out = String::new();
    for (value, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if value != 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// A date: RFC 3339 in UTC (`2026-12-01T00:00:00Z`), held as unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub unix: i64,
}

impl FromStr for Date {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "'{s}' is a bare number: write a date, e.g. 2026-12-01T00:00:00Z"
            ));
        }
        let at = humantime::parse_rfc3339(s)
            .map_err(|e| format!("'{s}' is not a date ({e}): write e.g. 2026-12-01T00:00:00Z"))?;
        let seconds = at
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| format!("'{s}' is before 1970"))?
            .as_secs();
        let unix = i64::try_from(seconds).map_err(|_| format!("'{s}' is too far away"))?;
        Ok(Self { unix })
    }
}

/// Unix seconds as a UTC date, e.g. `2026-12-02T06:15:32Z` (the epoch for times before it).
pub fn format_date(unix: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0).unsigned_abs());
    humantime::format_rfc3339_seconds(at).to_string()
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_date(self.unix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bare_numbers_are_refused() {
        let date: Date = "2023-11-14T22:13:20Z".parse().unwrap();
        assert_eq!(date.unix, 1_700_000_000);
        assert_eq!(date.to_string(), "2023-11-14T22:13:20Z");
        assert_eq!(
            "1700000000".parse::<Date>().unwrap_err(),
            "'1700000000' is a bare number: write a date, e.g. 2026-12-01T00:00:00Z"
        );
        assert!("yesterday".parse::<Date>().is_err());
    }
}
