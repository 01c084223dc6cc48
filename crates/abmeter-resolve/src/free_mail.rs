//! Free-mail, ISP and disposable email domains (SPEC §3 rule 3): an email at one of these
//! registrable domains says nothing about the sender's company, so it never matches an account
//! by domain.
//!
//! The list lives in `data/free-mail-domains.txt` (its header names the sources and licences)
//! and is compiled in, so resolution needs no network and no file at run time.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The list as shipped: one domain per line, `#` comments and blank lines ignored.
const LIST: &str = include_str!("../data/free-mail-domains.txt");

/// Built on first use; about 14,000 entries, so a hash lookup rather than a scan.
static DOMAINS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    LIST.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Whether `registrable_domain` (the eTLD+1 of an email address, e.g. `gmail.com`,
/// `hotmail.co.uk`) is a free-mail, ISP or disposable provider. Case-insensitive; blanks around
/// the name and a trailing dot (fully qualified form) are ignored. The match is exact: pass
/// the registrable domain, not the full host (`mail.qq.com` is not in the list, `qq.com` is).
pub fn is_free_mail(registrable_domain: &str) -> bool {
    let domain = registrable_domain.trim();
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return false;
    }
    // The list is lower-case ASCII; only allocate when the input is not.
    if domain.bytes().any(|b| b.is_ascii_uppercase()) {
        DOMAINS.contains(domain.to_ascii_lowercase().as_str())
    } else {
        DOMAINS.contains(domain)
    }
}

/// How many domains the compiled-in list holds.
pub fn free_mail_domain_count() -> usize {
    DOMAINS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_providers_are_free() {
        for d in [
            "gmail.com",
            "googlemail.com",
            "outlook.com",
            "hotmail.com",
            "hotmail.co.uk",
            "hotmail.fr",
            "live.com",
            "msn.com",
            "yahoo.com",
            "yahoo.co.jp",
            "ymail.com",
            "rocketmail.com",
            "aol.com",
            "icloud.com",
            "me.com",
            "mac.com",
            "proton.me",
            "protonmail.com",
            "pm.me",
            "tutanota.com",
            "zoho.com",
            "gmx.de",
            "gmx.net",
            "web.de",
            "t-online.de",
            "freenet.de",
            "yandex.ru",
            "yandex.com",
            "mail.ru",
            "bk.ru",
            "inbox.ru",
            "list.ru",
            "rambler.ru",
            "qq.com",
            "foxmail.com",
            "163.com",
            "126.com",
            "yeah.net",
            "sina.com",
            "sina.cn",
            "sohu.com",
            "aliyun.com",
            "139.com",
            "189.cn",
            "naver.com",
            "daum.net",
            "hanmail.net",
            "orange.fr",
            "free.fr",
            "laposte.net",
            "libero.it",
            "virgilio.it",
            "rediffmail.com",
        ] {
            assert!(is_free_mail(d), "{d} should be free mail");
        }
    }

    #[test]
    fn disposable_providers_are_free() {
        for d in [
            "mailinator.com",
            "guerrillamail.com",
            "guerrillamail.net",
            "sharklasers.com",
            "10minutemail.com",
            "temp-mail.org",
            "yopmail.com",
            "trashmail.com",
        ] {
            assert!(is_free_mail(d), "{d} should be disposable");
        }
    }

    #[test]
    fn company_domains_are_not_free() {
        for d in [
            "acme.com",
            "acme.co.uk",
            "example.org",
            "google.com",
            "microsoft.com",
            "apple.com",
            "tencent.com",
            "facebook.com",
            "alibaba.com",
            "",
            "   ",
            "com",
            "gmail",
        ] {
            assert!(!is_free_mail(d), "{d:?} should not be free mail");
        }
    }

    #[test]
    fn case_and_blanks_are_ignored() {
        assert!(is_free_mail("GMail.COM"));
        assert!(is_free_mail("QQ.com"));
        assert!(is_free_mail(" Hotmail.Co.UK "));
        assert!(is_free_mail("gmail.com."));
        assert!(!is_free_mail("ACME.COM"));
    }

    #[test]
    fn exact_match_only() {
        // The caller passes the registrable domain; neither a sub-domain nor a parent matches.
        assert!(!is_free_mail("mail.qq.com"));
        assert!(!is_free_mail("co.uk"));
        assert!(!is_free_mail("notgmail.com"));
    }

    #[test]
    fn list_is_clean() {
        let n = free_mail_domain_count();
        assert!(n > 10_000, "only {n} domains");
        for line in LIST.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            assert_eq!(t, line, "blanks around {line:?}");
            assert!(
                t.contains('.')
                    && t.bytes().all(|b| b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'.'
                        || b == b'-'),
                "bad entry {t:?}"
            );
        }
    }
}
