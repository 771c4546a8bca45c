//! Human units on the command line: sizes (`24GiB`), token amounts and prices (`2.10`),
//! durations (`2h`), regions (`DE` or `276`), and their display.

use std::str::FromStr;

pub use gpu_market_client::units::{
    format_amount, format_date, format_duration, Amount, Date, Decimal, Duration,
};

/// A memory or disk size, held in MiB (what the registry stores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub mib: u64,
}

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        if number.is_empty() {
            return Err(format!(
                "'{s}' is not a size: write a number and a unit, e.g. 24GiB or 512MiB"
            ));
        }
        // Bytes per unit: binary units are powers of 1024, decimal ones of 1000.
        let bytes_per_unit: u128 = match unit.trim().to_ascii_lowercase().as_str() {
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            "tib" => 1 << 40,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            "" => return Err(format!("'{s}' has no unit: write e.g. {s}GiB or {s}MiB")),
            letter @ ("m" | "g" | "t") => {
                let upper = letter.to_ascii_uppercase();
                return Err(format!(
                    "'{s}' is ambiguous: write {number}{upper}iB (powers of 1024) or {number}{upper}B (powers of 1000)"
                ));
            }
            other => {
                return Err(format!(
                    "unknown size unit '{other}' in '{s}': use MiB, GiB, TiB (powers of 1024) or MB, GB, TB (powers of 1000), e.g. 24GiB"
                ))
            }
        };
        // Sizes like 1.5TiB: in fixed point with six decimals, rounded down to a MiB.
        let scaled = Amount::parse(number, 6)
            .map_err(|e| format!("'{s}' is not a size: {e}"))?
            .0;
        let mib = u128::from(scaled) * bytes_per_unit / 1_000_000 / (1 << 20);
        let mib = u64::try_from(mib).map_err(|_| format!("size '{s}' is too large"))?;
        if mib == 0 && scaled > 0 {
            return Err(format!(
                "'{s}' is less than 1MiB, the smallest size the market records"
            ));
        }
        Ok(Self { mib })
    }
}

impl Size {
    /// The size in MiB as the registry's `u32` fields hold it.
    pub fn mib_u32(self) -> Result<u32, String> {
        u32::try_from(self.mib).map_err(|_| format!("{} is too large", format_mib(self.mib)))
    }

    /// The size in GiB, rounded down, for the registry's disk field.
    pub fn gib_u32(self) -> Result<u32, String> {
        u32::try_from(self.mib >> 10).map_err(|_| format!("{} is too large", format_mib(self.mib)))
    }
}

/// `81920` MiB as `80GiB`, `1536` as `1.5GiB`.
pub fn format_mib(mib: u64) -> String {
    if mib >= 1 << 20 && mib.is_multiple_of(1 << 10) {
        format_scaled(mib, 1 << 20, "TiB")
    } else if mib >= 1 << 10 {
        format_scaled(mib, 1 << 10, "GiB")
    } else {
        format!("{mib}MiB")
    }
}

fn format_scaled(value: u64, unit: u64, name: &str) -> String {
    let whole = value / unit;
    let tenths = (value % unit) * 10 / unit;
    if tenths == 0 {
        format!("{whole}{name}")
    } else {
        format!("{whole}.{tenths}{name}")
    }
}

/// A region: an ISO 3166-1 country, as its alpha-2 (`DE`), alpha-3 (`DEU`) or numeric
/// (`276`) code; `any` for no region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(pub u16);

impl FromStr for Region {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("any") {
            return Ok(Self(0));
        }
        let country = if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
            s.parse::<usize>()
                .ok()
                .and_then(|code| celes::Country::from_value(code).ok())
                .ok_or_else(|| format!("'{s}' is not an ISO 3166-1 numeric country code"))?
        } else {
            let found = match s.len() {
                2 => celes::Country::from_alpha2(s).ok(),
                3 => celes::Country::from_alpha3(s).ok(),
                _ => None,
            };
            found.ok_or_else(|| {
                format!("unknown region '{s}': use an ISO 3166-1 country code, e.g. DE, DEU or 276, or any")
            })?
        };
        u16::try_from(country.value)
            .map(Self)
            .map_err(|_| format!("'{s}' is not an ISO 3166-1 numeric country code"))
    }
}

/// `276` as `DE`; `0` as `any`; a code no country has as the number.
pub fn format_region(code: u16) -> String {
    if code == 0 {
        return "any".into();
    }
    celes::Country::from_value(usize::from(code))
        .map_or_else(|_| code.to_string(), |c| c.alpha2.to_owned())
}

/// A SHA-256 digest written in hex (64 characters, optionally `sha256:`-prefixed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest(pub [u8; 32]);

impl FromStr for Digest {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        gpu_market_client::hex::decode_32(s.trim().trim_start_matches("sha256:"))
            .map(Self)
            .ok_or_else(|| format!("'{s}' is not a SHA-256 digest: expected 64 hex characters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!("24GiB".parse::<Size>().unwrap().mib, 24_576);
        assert_eq!("80GB".parse::<Size>().unwrap().mib, 76_293);
        assert_eq!("80GiB".parse::<Size>().unwrap().mib, 81_920);
        assert_eq!("1TB".parse::<Size>().unwrap().mib, 953_674);
        assert_eq!(
            "24G".parse::<Size>().unwrap_err(),
            "'24G' is ambiguous: write 24GiB (powers of 1024) or 24GB (powers of 1000)"
        );
        assert_eq!("512MiB".parse::<Size>().unwrap().mib, 512);
        assert_eq!("1.5TiB".parse::<Size>().unwrap().mib, 1_572_864);
        assert_eq!(
            "24GX".parse::<Size>().unwrap_err(),
            "unknown size unit 'gx' in '24GX': use MiB, GiB, TiB (powers of 1024) or MB, GB, TB (powers of 1000), e.g. 24GiB"
        );
        assert!("24".parse::<Size>().unwrap_err().contains("has no unit"));
        assert!("GiB".parse::<Size>().is_err());
        // Nothing non-zero rounds down to nothing.
        assert_eq!(
            "0.5MiB".parse::<Size>().unwrap_err(),
            "'0.5MiB' is less than 1MiB, the smallest size the market records"
        );
        assert_eq!("0GiB".parse::<Size>().unwrap().mib, 0);
        assert_eq!("1.5MiB".parse::<Size>().unwrap().mib, 1);
        assert_eq!(format_mib(81_920), "80GiB");
        assert_eq!(format_mib(1_536), "1.5GiB");
    }

    #[test]
    fn amounts() {
        let price: Decimal = "2.10".parse().unwrap();
        assert_eq!(price.to_base_units(6).unwrap(), 2_100_000);
        assert_eq!(Amount::parse("0.000001", 6).unwrap().0, 1);
        assert_eq!(Amount::parse("7", 0).unwrap().0, 7);
        assert!(Amount::parse("0.0000001", 6)
            .unwrap_err()
            .contains("decimal places"));
        assert!("-1".parse::<Decimal>().unwrap_err().contains("negative"));
        assert!("abc"
            .parse::<Decimal>()
            .unwrap_err()
            .contains("not a number"));
        assert!(Amount::parse("99999999999999999999", 6)
            .unwrap_err()
            .contains("too large"));
        assert_eq!(format_amount(2_100_000, 6), "2.10");
        assert_eq!(format_amount(1, 6), "0.000001");
        assert_eq!(format_amount(5_000_000, 6), "5.00");
    }

    #[test]
    fn durations_regions_digests() {
        assert_eq!("2h".parse::<Duration>().unwrap().seconds, 7_200);
        assert_eq!("90s".parse::<Duration>().unwrap().seconds, 90);
        assert_eq!("1h30m".parse::<Duration>().unwrap().seconds, 5_400);
        assert_eq!("1d2h3m4s".parse::<Duration>().unwrap().seconds, 93_784);
        for seconds in [1, 59, 60, 3_599, 5_400, 86_400, 93_784, 7 * 86_400 + 1] {
            let written = format_duration(seconds);
            assert_eq!(
                written.parse::<Duration>().unwrap().seconds,
                seconds,
                "{written}"
            );
        }
        assert_eq!(
            "90".parse::<Duration>().unwrap_err(),
            "'90' has no unit: write 90s, 90m, 90h or 90d"
        );
        assert_eq!(
            "2w".parse::<Duration>().unwrap_err(),
            "unknown duration unit 'w' in '2w': use s, m, h or d (e.g. 2h)"
        );
        assert_eq!(
            "30m1h".parse::<Duration>().unwrap_err(),
            "'30m1h': write the units of a duration once each, largest first (e.g. 1h30m)"
        );
        for bad in ["", "h", "1.5h", "-1h", "1h 30m"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "0s".parse::<Duration>().unwrap_err(),
            "a duration must be longer than zero"
        );
        assert_eq!(format_duration(5_400), "1h30m");
        assert_eq!("de".parse::<Region>().unwrap(), Region(276));
        assert_eq!("DEU".parse::<Region>().unwrap(), Region(276));
        assert_eq!("840".parse::<Region>().unwrap(), Region(840));
        // Every country, not a short list: Kenya, Chile, Viet Nam.
        assert_eq!("KE".parse::<Region>().unwrap(), Region(404));
        assert_eq!("cl".parse::<Region>().unwrap(), Region(152));
        assert_eq!("704".parse::<Region>().unwrap(), Region(704));
        assert_eq!("any".parse::<Region>().unwrap(), Region(0));
        assert_eq!(
            "XX".parse::<Region>().unwrap_err(),
            "unknown region 'XX': use an ISO 3166-1 country code, e.g. DE, DEU or 276, or any"
        );
        assert_eq!(
            "999".parse::<Region>().unwrap_err(),
            "'999' is not an ISO 3166-1 numeric country code"
        );
        assert_eq!(format_region(392), "JP");
        assert_eq!(format_region(404), "KE");
        assert_eq!(format_region(0), "any");
        assert_eq!(
            "ab".repeat(32).parse::<Digest>().unwrap(),
            Digest([0xab; 32])
        );
        assert!("abc".parse::<Digest>().is_err());
    }
}
