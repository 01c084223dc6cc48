//! Domains as ABM matches them: lower case, no scheme, `www.` or path, cut to the
//! registrable domain by the ICANN section of the Public Suffix List (compiled in).

use psl::Type;

/// The registrable domain of a host, URL or email domain: `https://www.mail.eu.acme.co.uk/x`
/// → `acme.co.uk`. `None` when nothing registrable is left (a bare public suffix, an IP
/// address, an empty string).
pub fn registrable_domain(raw: &str) -> Option<String> {
    let host = host_of(raw)?;
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    // The longest trailing run of labels that is an ICANN public suffix. Private-section
    // entries (github.io, blogspot.com) are not suffixes here: SPEC §11 uses the ICANN part.
    for i in 0..labels.len() {
        let candidate = labels[i..].join(".");
        let is_icann_suffix = psl::suffix(candidate.as_bytes()).is_some_and(|s| {
            s.as_bytes() == candidate.as_bytes() && matches!(s.typ(), Some(Type::Icann) | None)
        });
        if is_icann_suffix {
            return (i > 0).then(|| labels[i - 1..].join("."));
        }
    }
    None
}

/// The host part of a domain, URL or email address, lower case, without `www.`, port,
/// path or trailing dot.
fn host_of(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = s.rsplit_once('@').map_or(s, |(_, d)| d);
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let s = s.split(['/', '?', '#']).next().unwrap_or("");
    let s = s.rsplit_once(':').map_or(s, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            s
        }
    });
    let s = s.trim_end_matches('.').to_lowercase();
    let s = s.strip_prefix("www.").unwrap_or(&s).to_string();
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::registrable_domain as rd;

    #[test]
    fn registrable_domains() {
        assert_eq!(rd("mail.eu.acme.co.uk").as_deref(), Some("acme.co.uk"));
        assert_eq!(
            rd("https://www.Acme.com/about?x=1").as_deref(),
            Some("acme.com")
        );
        assert_eq!(rd("jane@sales.acme.com.cn").as_deref(), Some("acme.com.cn"));
        assert_eq!(rd("acme.com:8443").as_deref(), Some("acme.com"));
        assert_eq!(rd("foo.github.io").as_deref(), Some("github.io"));
        assert_eq!(rd("co.uk"), None);
        assert_eq!(rd("10.0.0.1"), None);
        assert_eq!(rd(""), None);
        assert_eq!(rd("acme..com"), None);
    }
}
