//! Parsing one text cell into a typed value. Each parser returns the reason a value is
//! refused, written for the person who has to fix the file.

use std::borrow::Cow;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

const EPOCH_DAYS_CE: i32 = 719_163; // days from 0001-01-01 to 1970-01-01

/// `true/false/1/0/yes/no`, any case.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "f" | "n" => Ok(false),
        _ => Err("is not a bool (expected true/false, 1/0 or yes/no)".into()),
    }
}

/// A timestamp as microseconds since the epoch, UTC. RFC 3339 with any offset, the same
/// without an offset (read as UTC, `T` or a space between date and time), or a bare date
/// (midnight UTC).
pub fn parse_timestamp(s: &str) -> Result<i64, String> {
    const WHY: &str =
        "is not a timestamp (expected RFC 3339 like 2026-09-30T14:05:00Z, or a date 2026-09-30)";
    let b = s.as_bytes();
    if b.len() == 10 {
        return parse_date(s)
            .map(|d| d as i64 * 86_400_000_000)
            .map_err(|_| WHY.into());
    }
    if b.len() < 19 {
        return Err(WHY.into());
    }
    let has_offset =
        matches!(b[b.len() - 1], b'Z' | b'z') || b[19..].iter().any(|&c| c == b'+' || c == b'-');
    let micros = if has_offset {
        if b[10] == b' ' {
            // RFC 3339 allows a space; chrono's parser wants `T`.
            let mut t = s.to_string();
            t.replace_range(10..11, "T");
            DateTime::parse_from_rfc3339(&t).map(|d| d.timestamp_micros())
        } else {
            DateTime::parse_from_rfc3339(s).map(|d| d.timestamp_micros())
        }
    } else {
        let fmt = if b[10] == b' ' {
            "%Y-%m-%d %H:%M:%S%.f"
        } else {
            "%Y-%m-%dT%H:%M:%S%.f"
        };
        NaiveDateTime::parse_from_str(s, fmt).map(|d| d.and_utc().timestamp_micros())
    };
    micros.map_err(|_| WHY.into())
}

/// A calendar date as days since 1970-01-01. A full timestamp is accepted and cut to its
/// UTC date (CRM exports often carry `2026-09-30T00:00:00Z` in date fields).
pub fn parse_date(s: &str) -> Result<i32, String> {
    const WHY: &str = "is not a date (expected YYYY-MM-DD like 2026-09-30)";
    if s.len() == 10 {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| WHY.to_string())?;
        return Ok(days_since_epoch(d));
    }
    if s.len() > 10 {
        let micros = parse_timestamp(s).map_err(|_| WHY.to_string())?;
        return Ok(micros.div_euclid(86_400_000_000) as i32);
    }
    Err(WHY.into())
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - EPOCH_DAYS_CE
}

/// A calendar month `2026-09`, returned in that form.
pub fn parse_month(s: &str) -> Result<String, String> {
    let ok = s.len() == 7
        && s.as_bytes()[4] == b'-'
        && NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").is_ok();
    if ok {
        Ok(s.to_string())
    } else {
        Err("is not a month (expected YYYY-MM like 2026-09)".into())
    }
}

pub fn parse_int(s: &str) -> Result<i64, String> {
    s.parse::<i64>().map_err(|_| "is not a whole number".into())
}

pub fn parse_count(s: &str) -> Result<i64, String> {
    match parse_int(s) {
        Ok(n) if n >= 0 => Ok(n),
        Ok(_) => Err("must not be negative".into()),
        // `12.0` from a spreadsheet is still a count.
        Err(e) => match s.parse::<f64>() {
            Ok(f) if f.fract() == 0.0 && (0.0..9.0e15).contains(&f) => Ok(f as i64),
            _ => Err(e),
        },
    }
}

pub fn parse_float(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(f),
        _ => Err("is not a number (expected digits with an optional . like 1234.5)".into()),
    }
}

pub fn parse_non_negative(s: &str) -> Result<f64, String> {
    let f = parse_float(s)?;
    if f < 0.0 {
        Err("must not be negative".into())
    } else {
        Ok(f)
    }
}

pub fn parse_percent(s: &str) -> Result<f64, String> {
    let f = parse_float(s)?;
    if (0.0..=100.0).contains(&f) {
        Ok(f)
    } else {
        Err("must be between 0 and 100".into())
    }
}

/// An email address, lower case: one `@`, text on both sides, a dot in the domain.
pub fn parse_email(s: &str) -> Result<Cow<'_, str>, String> {
    let mut parts = s.split('@');
    let (local, domain) = (parts.next().unwrap_or(""), parts.next());
    match domain {
        Some(d)
            if parts.next().is_none()
                && !local.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !s.contains(char::is_whitespace) =>
        {
            // Most addresses are lower case already: no copy for them.
            Ok(if s.chars().any(char::is_uppercase) {
                Cow::Owned(s.to_lowercase())
            } else {
                Cow::Borrowed(s)
            })
        }
        _ => Err("is not an email address (expected name@domain)".into()),
    }
}

/// A dotted IPv4 address as `parse_ip` would write it: Rust's parser refuses leading zeros,
/// so any address made of digits and dots that parses is already canonical.
pub fn is_canonical_ipv4(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.parse::<std::net::Ipv4Addr>().is_ok()
}

pub fn parse_ip(s: &str) -> Result<String, String> {
    s.parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| "is not an IPv4 or IPv6 address".into())
}

/// A network: CIDR (host bits are cleared: `203.0.113.7/24` → `203.0.113.0/24`) or
/// `start_ip-end_ip` of one address family with start ≤ end.
pub fn parse_network(s: &str) -> Result<String, String> {
    const WHY: &str =
        "is not a network (expected CIDR like 203.0.113.0/24 or a range like 10.0.0.1-10.0.0.99)";
    if s.contains('/') {
        let net: ipnet::IpNet = s.parse().map_err(|_| WHY.to_string())?;
        return Ok(net.trunc().to_string());
    }
    let (a, b) = s.split_once('-').ok_or_else(|| WHY.to_string())?;
    let (a, b): (IpAddr, IpAddr) = match (a.trim().parse(), b.trim().parse()) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(WHY.into()),
    };
    if a.is_ipv4() != b.is_ipv4() {
        return Err("mixes an IPv4 and an IPv6 address".into());
    }
    if a > b {
        return Err("starts after it ends".into());
    }
    Ok(format!("{a}-{b}"))
}

/// A JSON object, returned in compact form.
pub fn parse_json_object(s: &str) -> Result<String, String> {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v.to_string()),
        Ok(_) => Err("is not a JSON object (expected {\"key\": value, …})".into()),
        Err(e) => Err(format!("is not valid JSON ({e})")),
    }
}

/// One of a closed list, compared lower-case with spaces and hyphens read as `_`
/// (`New Business` → `new_business`).
pub fn parse_one_of(s: &str, allowed: &[&str]) -> Result<String, String> {
    let norm = snake(s);
    if allowed.contains(&norm.as_str()) {
        Ok(norm)
    } else {
        Err(format!("is not one of {}", allowed.join(", ")))
    }
}

/// Lower case, spaces and hyphens as `_`: how type and enum names compare.
pub fn snake(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| {
            if c == ' ' || c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let z = parse_timestamp("2026-09-30T14:05:00Z").unwrap();
        assert_eq!(parse_timestamp("2026-09-30T16:05:00+02:00").unwrap(), z);
        assert_eq!(parse_timestamp("2026-09-30 14:05:00").unwrap(), z);
        assert_eq!(parse_timestamp("2026-09-30T14:05:00").unwrap(), z);
        assert_eq!(parse_timestamp("2026-09-30 14:05:00Z").unwrap(), z);
        assert_eq!(
            parse_timestamp("2026-09-30T14:05:00.5Z").unwrap(),
            z + 500_000
        );
        assert_eq!(parse_timestamp("1970-01-02").unwrap(), 86_400_000_000);
        for bad in [
            "2026-13-01",
            "2026-02-30T00:00:00Z",
            "yesterday",
            "2026-09-30T25:00:00Z",
            "2026/09/30",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_and_months() {
        assert_eq!(parse_date("1970-01-02").unwrap(), 1);
        assert_eq!(parse_date("1969-12-31").unwrap(), -1);
        assert_eq!(
            parse_date("2026-09-30T23:00:00-02:00").unwrap(),
            parse_date("2026-10-01").unwrap()
        );
        assert!(parse_date("30/09/2026").is_err());
        assert_eq!(parse_month("2026-09").unwrap(), "2026-09");
        assert!(parse_month("2026-13").is_err());
        assert!(parse_month("2026-9").is_err());
    }

    #[test]
    fn scalars() {
        assert!(parse_bool("YES").unwrap());
        assert!(!parse_bool("0").unwrap());
        assert!(parse_bool("maybe").is_err());
        assert_eq!(parse_count("12.0").unwrap(), 12);
        assert!(parse_count("-1").is_err());
        assert!(parse_float("1,234").is_err());
        assert!(parse_float("NaN").is_err());
        assert!(parse_percent("100.5").is_err());
        assert_eq!(parse_email("Jane@ACME.com").unwrap(), "jane@acme.com");
        assert!(parse_email("jane@").is_err());
        assert!(parse_email("a@b@c.com").is_err());
        assert_eq!(parse_ip("::ffff:10.0.0.1").unwrap(), "::ffff:10.0.0.1");
        assert!(is_canonical_ipv4("203.0.113.7"));
        assert!(!is_canonical_ipv4("203.0.113.07"));
        assert!(!is_canonical_ipv4("::ffff:203.0.113.7"));
        assert_eq!(parse_ip("203.0.113.7").unwrap(), "203.0.113.7");
        assert_eq!(parse_network("203.0.113.7/24").unwrap(), "203.0.113.0/24");
        assert_eq!(
            parse_network("10.0.0.1 - 10.0.0.9").unwrap(),
            "10.0.0.1-10.0.0.9"
        );
        assert!(parse_network("10.0.0.9-10.0.0.1").is_err());
        assert!(parse_network("10.0.0.1-::1").is_err());
        assert_eq!(parse_json_object("{ \"a\": 1 }").unwrap(), "{\"a\":1}");
        assert!(parse_json_object("[1]").is_err());
        assert_eq!(
            parse_one_of("New Business", &["new_business"]).unwrap(),
            "new_business"
        );
    }
}
