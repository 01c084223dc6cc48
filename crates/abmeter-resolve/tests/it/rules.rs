//! Each resolution rule, their order and the engine's normalisations, on small hand-made
//! inputs (SPEC §3 and §11 "Resolution"). The matcher's own normalisation, the free-mail
//! list and the IP index have unit tests in their modules; these go through
//! `identity::build` and `IdentityMap::resolve`.

use abmeter_resolve::identity::{
    Account, ActivityKeys, Contact, DomainOwner, Identification, IdentityMap, Inputs, IpRange,
    Reason, Resolution,
};

use crate::build;

fn account(id: &str, name: &str, domains: &[&str]) -> Account {
    Account {
        id: id.into(),
        name: name.into(),
        domains: domains.iter().map(|d| d.to_string()).collect(),
        tier: None,
    }
}

fn contact(
    id: &str,
    account_id: Option<&str>,
    email: Option<&str>,
    company: Option<&str>,
) -> Contact {
    Contact {
        id: id.into(),
        account_id: account_id.map(Into::into),
        email: email.map(Into::into),
        company: company.map(Into::into),
        ..Contact::default()
    }
}

fn range(network: &str, account_id: Option<&str>, kind: Option<&str>) -> IpRange {
    IpRange {
        network: network.into(),
        account_id: account_id.map(Into::into),
        domain: None,
        kind: kind.map(Into::into),
    }
}

fn ident(
    anon: &str,
    contact_id: Option<&str>,
    email: Option<&str>,
    ts: i64,
    act: &str,
) -> Identification {
    Identification {
        anonymous_id: anon.into(),
        contact_id: contact_id.map(Into::into),
        email: email.map(Into::into),
        timestamp: ts,
        activity_id: act.into(),
    }
}

#[derive(Default, Clone, Copy)]
struct K<'a> {
    account_id: Option<&'a str>,
    contact_id: Option<&'a str>,
    email: Option<&'a str>,
    anonymous_id: Option<&'a str>,
    ip: Option<&'a str>,
}

impl<'a> K<'a> {
    fn keys(self) -> ActivityKeys<'a> {
        ActivityKeys {
            account_id: self.account_id,
            contact_id: self.contact_id,
            email: self.email,
            anonymous_id: self.anonymous_id,
            ip: self.ip,
        }
    }
}

/// (account, rule) or the reason none was found.
type Outcome = Result<(String, u8), Reason>;

fn got(r: Resolution<'_>) -> Outcome {
    match (r.account_id, r.rule, r.reason) {
        (Some(a), Some(rule), None) => Ok((a.to_string(), rule)),
        (None, None, Some(reason)) => Err(reason),
        other => panic!("inconsistent resolution {other:?}"),
    }
}

fn ok(a: &str, rule: u8) -> Outcome {
    Ok((a.to_string(), rule))
}

/// Inputs with the activity emails and IPs registered (as the importer does), so the
/// precomputed lookups are used; `resolve` also works without them (see the IPv4 test).
fn inputs(
    accounts: Vec<Account>,
    contacts: Vec<Contact>,
    ip_ranges: Vec<IpRange>,
    identifications: Vec<Identification>,
    activity_emails: &[&str],
    activity_ips: &[&str],
) -> Inputs {
    Inputs {
        accounts,
        contacts,
        ip_ranges,
        identifications,
        activity_emails: activity_emails.iter().map(|s| s.to_string()).collect(),
        activity_ips: activity_ips.iter().map(|s| s.to_string()).collect(),
    }
}

fn five_accounts() -> Vec<Account> {
    vec![
        account("A1", "Alpha Dynamics", &["alpha.com"]),
        account("A2", "Bravo Robotics", &["bravo.com"]),
        account("A3", "Charlie Genomics", &["charlie.com"]),
        account("A4", "Delta Photonics", &["delta.com"]),
        account("A5", "Echo Outfitters", &["echo.com"]),
    ]
}

/// account_id beats the contact, which beats the email domain, which beats the company
/// name, which beats the IP.
#[test]
fn rule_order() {
    let map = build(&inputs(
        five_accounts(),
        vec![
            // Its own account A2, an email at A3's domain and A4's name.
            contact(
                "c2",
                Some("A2"),
                Some("kim@charlie.com"),
                Some("Delta Photonics"),
            ),
            // No account: its email names A3, its company A4.
            contact("c3", None, Some("lee@charlie.com"), Some("Delta Photonics")),
            // Free mail: only the company names an account.
            contact(
                "c4",
                None,
                Some("ann@gmail.com"),
                Some("Delta Photonics Inc."),
            ),
        ],
        vec![range("203.0.113.0/24", Some("A5"), None)],
        vec![ident("v2", Some("c2"), None, 10, "i1")],
        &["x@charlie.com", "x@delta.com"],
        &["203.0.113.7"],
    ));
    let ip = Some("203.0.113.7");
    let all = K {
        account_id: Some("A1"),
        contact_id: Some("c2"),
        email: Some("x@delta.com"),
        anonymous_id: Some("v2"),
        ip,
    };
    assert_eq!(got(map.resolve(all.keys())), ok("A1", 1));
    let res = map.resolve(all.keys());
    assert_eq!(
        res.contact_id,
        Some("c2"),
        "the contact is resolved under rule 1 too"
    );
    // The contact's account beats the activity's email domain, its company and the IP.
    let no_account = K {
        account_id: None,
        ..all
    };
    assert_eq!(got(map.resolve(no_account.keys())), ok("A2", 2));
    // ... also when the contact comes by stitching.
    let stitched = K {
        anonymous_id: Some("v2"),
        ip,
        ..K::default()
    };
    assert_eq!(got(map.resolve(stitched.keys())), ok("A2", 2));
    // The contact's email domain beats its company and the IP.
    let c3 = K {
        contact_id: Some("c3"),
        ip,
        ..K::default()
    };
    assert_eq!(got(map.resolve(c3.keys())), ok("A3", 3));
    // The activity's email domain beats the contact's company.
    let c4_email = K {
        contact_id: Some("c4"),
        email: Some("x@charlie.com"),
        ip,
        ..K::default()
    };
    assert_eq!(got(map.resolve(c4_email.keys())), ok("A3", 3));
    // The company beats the IP.
    let c4 = K {
        contact_id: Some("c4"),
        ip,
        ..K::default()
    };
    assert_eq!(got(map.resolve(c4.keys())), ok("A4", 4));
    // The IP alone.
    let ip_only = K { ip, ..K::default() };
    assert_eq!(got(map.resolve(ip_only.keys())), ok("A5", 5));
    assert_eq!(map.resolve(ip_only.keys()).contact_id, None);
    // Nothing at all.
    assert_eq!(
        got(map.resolve(K::default().keys())),
        Err(Reason::NoIdentifiers)
    );
}

/// SPEC §11: an unknown contact_id or account_id counts as absent (on activities, on
/// contacts and in identifications).
#[test]
fn unknown_ids_count_as_absent() {
    let map = build(&inputs(
        five_accounts(),
        vec![
            contact("c2", Some("A2"), Some("kim@bravo.com"), None),
            contact("c3", None, Some("lee@charlie.com"), None),
            // A stale account id: the contact's email decides.
            contact("stale", Some("A-DELETED"), Some("sam@delta.com"), None),
            contact(
                "stale2",
                Some("A-DELETED"),
                Some("ben@gmail.com"),
                Some("Echo Outfitters"),
            ),
        ],
        vec![range("203.0.113.0/24", Some("A5"), None)],
        vec![
            ident("v2", Some("c2"), None, 10, "i1"),
            // An unknown contact id with a known email: the email's contact.
            ident("v3", Some("C-DELETED"), Some("LEE@charlie.com"), 10, "i2"),
            // Nothing known: no stitching.
            ident(
                "v9",
                Some("C-DELETED"),
                Some("who@nowhere.example"),
                10,
                "i3",
            ),
        ],
        &["lee@charlie.com"],
        &["203.0.113.7"],
    ));
    let ip = Some("203.0.113.7");
    // Unknown account id: the IP decides.
    let k = K {
        account_id: Some("A-DELETED"),
        ip,
        ..K::default()
    };
    assert_eq!(got(map.resolve(k.keys())), ok("A5", 5));
    // Unknown contact id: the activity's email names the contact.
    let k = K {
        contact_id: Some("C-DELETED"),
        email: Some("lee@charlie.com"),
        ..K::default()
    };
    let res = map.resolve(k.keys());
    assert_eq!(res.contact_id, Some("c3"));
    assert_eq!(got(res), ok("A3", 3));
    // Unknown contact id, no email: the stitched visitor's contact.
    let k = K {
        contact_id: Some("C-DELETED"),
        anonymous_id: Some("v2"),
        ..K::default()
    };
    let res = map.resolve(k.keys());
    assert_eq!(res.contact_id, Some("c2"));
    assert_eq!(got(res), ok("A2", 2));
    // Unknown contact id alone: nothing.
    let k = K {
        contact_id: Some("C-DELETED"),
        account_id: Some("A-DELETED"),
        ..K::default()
    };
    let res = map.resolve(k.keys());
    assert_eq!(res.contact_id, None);
    assert_eq!(got(res), Err(Reason::NoIdentifiers));
    // A contact whose account id is unknown goes by its email, then its company.
    let k = K {
        contact_id: Some("stale"),
        ..K::default()
    };
    assert_eq!(got(map.resolve(k.keys())), ok("A4", 3));
    let k = K {
        contact_id: Some("stale2"),
        ..K::default()
    };
    assert_eq!(got(map.resolve(k.keys())), ok("A5", 4));
    // Identifications: an unknown id with a known email stitches to that email's contact;
    // one naming nobody is ignored.
    assert_eq!(&*map.visitors["v3"].contact_id, "c3");
    assert!(!map.visitors.contains_key("v9"));
    let k = K {
        anonymous_id: Some("v9"),
        ..K::default()
    };
    assert_eq!(map.resolve(k.keys()).contact_id, None);
}

/// SPEC §11: rule 3 tries the activity's email, then the contact's.
#[test]
fn activity_email_before_contact_email() {
    let map = build(&inputs(
        five_accounts(),
        vec![
            contact("c3", None, Some("lee@charlie.com"), Some("Delta Photonics")),
            contact("c5", None, Some("zoe@gmail.com"), Some("Nobody Known Ltd")),
        ],
        vec![],
        vec![],
        &["lee@delta.com", "lee@gmail.com"],
        &[],
    ));
    // The activity's own business email wins over the contact's.
    let k = K {
        contact_id: Some("c3"),
        email: Some("lee@delta.com"),
        ..K::default()
    };
    let res = map.resolve(k.keys());
    assert_eq!(res.contact_id, Some("c3"));
    assert_eq!(got(res), ok("A4", 3));
    // A free-mail, unknown-domain or unparsable activity email falls to the contact's.
    for email in [
        "lee@gmail.com",
        "lee@unknown-domain.example",
        "not an email",
        "x@co.uk",
    ] {
        let k = K {
            contact_id: Some("c3"),
            email: Some(email),
            ..K::default()
        };
        assert_eq!(got(map.resolve(k.keys())), ok("A3", 3), "{email}");
    }
    // An email not in the map (newer than the build), in capitals, still resolves.
    let k = K {
        email: Some("NEW.PERSON@MAIL.EU.ECHO.COM"),
        ..K::default()
    };
    assert_eq!(got(map.resolve(k.keys())), ok("A5", 3));
    // The reason is the activity email's, the first rule that had something to try.
    let k = K {
        contact_id: Some("c5"),
        email: Some("zoe@unknown-domain.example"),
        ..K::default()
    };
    assert_eq!(got(map.resolve(k.keys())), Err(Reason::UnknownDomain));
    let k = K {
        contact_id: Some("c5"),
        ..K::default()
    };
    assert_eq!(got(map.resolve(k.keys())), Err(Reason::FreeMail));
}

/// SPEC §11: an email two contacts share identifies neither; its domain still counts.
#[test]
fn email_shared_by_two_contacts_identifies_neither() {
    let map = build(&inputs(
        five_accounts(),
        vec![
            contact("s1", Some("A1"), Some("team@bravo.com"), None),
            contact("s2", Some("A2"), Some("TEAM@Bravo.com"), None),
            contact("f1", Some("A1"), Some("shared@gmail.com"), None),
            contact("f2", Some("A3"), Some("shared@gmail.com"), None),
        ],
        vec![],
        vec![ident("v1", None, Some("team@bravo.com"), 10, "i1")],
        &["team@bravo.com", "shared@gmail.com"],
        &[],
    ));
    assert_eq!(map.emails["team@bravo.com"].contact_id, None);
    let k = K {
        email: Some("Team@Bravo.com"),
        ..K::default()
    };
    let res = map.resolve(k.keys());
    assert_eq!(res.contact_id, None);
    // Not rule 2 (no contact), but rule 3 on the domain.
    assert_eq!(got(res), ok("A2", 3));
    let k = K {
        email: Some("shared@gmail.com"),
        ..K::default()
    };
    let res = map.resolve(k.keys());
    assert_eq!(res.contact_id, None);
    assert_eq!(got(res), Err(Reason::FreeMail));
    // An identification by the shared address stitches nobody.
    assert!(map.visitors.is_empty());
    // With its contact id the contact is known as usual.
    let k = K {
        contact_id: Some("s1"),
        email: Some("team@bravo.com"),
        ..K::default()
    };
    let res = map.resolve(k.keys());
    assert_eq!(res.contact_id, Some("s1"));
    assert_eq!(got(res), ok("A1", 2));
}

/// SPEC §11: a domain two accounts share matches neither (also for IP ranges given by
/// domain); domains compare case-insensitively and an account listing one twice is not
/// ambiguous.
#[test]
fn domain_shared_by_two_accounts_matches_neither() {
    let map = build(&inputs(
        vec![
            account("P", "Parent Holdings", &["parent.com"]),
            account("S", "Parent Insurance", &["Parent.com", "sub.com"]),
            account("T", "Twice Listed", &["twice.com", "TWICE.com"]),
        ],
        vec![
            contact("l1", None, Some("amy@parent.com"), None),
            contact(
                "l2",
                None,
                Some("bob@mail.parent.com"),
                Some("Parent Holdings Inc"),
            ),
        ],
        vec![IpRange {
            network: "198.51.100.0/24".into(),
            domain: Some("www.parent.com".into()),
            ..IpRange::default()
        }],
        vec![],
        &["x@parent.com", "y@sub.com", "z@twice.com"],
        &["198.51.100.1"],
    ));
    assert_eq!(
        map.domains["parent.com"],
        DomainOwner::Several(vec!["P".into(), "S".into()])
    );
    assert_eq!(map.domains["twice.com"], DomainOwner::One("T".into()));
    let by_email = |e: &str| {
        got(map.resolve(
            K {
                email: Some(e),
                ..K::default()
            }
            .keys(),
        ))
    };
    assert_eq!(by_email("x@parent.com"), Err(Reason::AmbiguousDomain));
    assert_eq!(by_email("x@eu.parent.com"), Err(Reason::AmbiguousDomain));
    assert_eq!(by_email("y@sub.com"), ok("S", 3));
    assert_eq!(by_email("z@twice.com"), ok("T", 3));
    // A lead at the shared domain: unmatched, unless its company names one account.
    assert_eq!(by_email("amy@parent.com"), Err(Reason::AmbiguousDomain));
    assert_eq!(by_email("bob@mail.parent.com"), ok("P", 4));
    // The range given by the shared domain names no single account: skipped, with a warning.
    assert_eq!(map.networks.len(), 0);
    assert_eq!(map.warnings.len(), 1, "{:?}", map.warnings);
    let k = K {
        ip: Some("198.51.100.1"),
        ..K::default()
    };
    assert_eq!(got(map.resolve(k.keys())), Err(Reason::NoIpRange));
}

/// Rule 5: the smallest range containing the address decides; an ISP or hosting range (or
/// one naming no account) ends the search even inside a larger business range.
#[test]
fn isp_range_ends_the_search() {
    let accounts = five_accounts();
    let ranges = vec![
        range("10.20.0.0/16", Some("A1"), None),
        range("10.20.5.0/24", None, Some("ISP")),
        range("10.20.5.128/25", Some("A2"), Some("business")),
        range("10.20.6.0-10.20.6.255", Some("A3"), Some("hosting")),
        range("10.20.7.0/24", Some("A-DELETED"), None),
        range("10.20.8.0/24", Some("A4"), Some("education")),
        range("2001:db8::/32", Some("A5"), None),
        range("2001:db8:1::/48", None, Some("isp")),
    ];
    let ips = [
        ("10.20.9.1", ok("A1", 5)),
        ("10.20.5.7", Err(Reason::IspOrHostingIp)),
        ("10.20.5.200", ok("A2", 5)),
        ("10.20.6.9", Err(Reason::IspOrHostingIp)),
        ("10.20.7.1", Err(Reason::RangeWithoutAccount)),
        ("10.20.8.1", ok("A4", 5)),
        ("2001:db8:2::1", ok("A5", 5)),
        ("2001:db8:1::1", Err(Reason::IspOrHostingIp)),
        ("10.21.0.1", Err(Reason::NoIpRange)),
        ("not an ip", Err(Reason::NoIpRange)),
    ];
    let listed: Vec<&str> = ips.iter().map(|(ip, _)| *ip).collect();
    for registered in [&listed[..], &[]] {
        let map = build(&inputs(
            accounts.clone(),
            vec![contact("c1", Some("A3"), None, None)],
            ranges.clone(),
            vec![],
            &[],
            registered,
        ));
        for (ip, want) in &ips {
            let k = K {
                ip: Some(ip),
                ..K::default()
            };
            assert_eq!(&got(map.resolve(k.keys())), want, "{ip}");
        }
        // An ISP address ends rule 5 only: a known contact still resolves.
        let k = K {
            contact_id: Some("c1"),
            ip: Some("10.20.5.7"),
            ..K::default()
        };
        assert_eq!(got(map.resolve(k.keys())), ok("A3", 2));
    }
}

/// SPEC §11: IPv4-mapped IPv6 addresses are IPv4, in activities and in ranges; looked up
/// precomputed (registered activity IPs) and on the fly.
#[test]
fn ipv4_mapped_ipv6_addresses() {
    let ranges = vec![
        range("203.0.113.0/24", Some("A1"), None),
        range("::ffff:198.51.100.0/120", Some("A2"), None),
        range("192.0.2.10-192.0.2.20", Some("A3"), None),
        range("::ffff:192.0.2.100-::ffff:192.0.2.120", Some("A4"), None),
    ];
    let ips = [
        ("::ffff:203.0.113.9", ok("A1", 5)),
        ("::FFFF:203.0.113.9", ok("A1", 5)),
        ("203.0.113.9", ok("A1", 5)),
        ("198.51.100.5", ok("A2", 5)),
        ("::ffff:198.51.100.5", ok("A2", 5)),
        ("::ffff:192.0.2.15", ok("A3", 5)),
        ("::ffff:c000:20f", ok("A3", 5)),
        ("192.0.2.110", ok("A4", 5)),
        ("::ffff:192.0.2.110", ok("A4", 5)),
        // IPv4-compatible (deprecated `::a.b.c.d`) is not IPv4.
        ("::203.0.113.9", Err(Reason::NoIpRange)),
    ];
    let listed: Vec<&str> = ips.iter().map(|(ip, _)| *ip).collect();
    for registered in [&listed[..], &[]] {
        let map = build(&inputs(
            five_accounts(),
            vec![],
            ranges.clone(),
            vec![],
            &[],
            registered,
        ));
        assert!(map.warnings.is_empty(), "{:?}", map.warnings);
        for (ip, want) in &ips {
            let k = K {
                ip: Some(ip),
                ..K::default()
            };
            assert_eq!(&got(map.resolve(k.keys())), want, "{ip}");
        }
    }
}

/// Emails and domains compare case-insensitively; sub-domains count by their registrable
/// domain (Public Suffix List); free mail is judged on the registrable domain and never
/// matches, not even an account that lists it.
#[test]
fn email_normalisation() {
    let map = build(&inputs(
        vec![
            account("UK", "Acme UK", &["acme.co.uk"]),
            account("CN", "华星科技有限公司", &["huaxing-tech.com.cn"]),
            account("G", "Google", &["google.com", "gmail.com"]),
            account("M", "Mixed Case", &["MixedCase.IO"]),
        ],
        vec![contact(
            "c1",
            None,
            Some("Jane.Doe@Mail.EU.Acme.CO.UK"),
            None,
        )],
        vec![],
        vec![],
        &[],
        &[],
    ));
    let by_email = |e: &str| {
        let r = map.resolve(
            K {
                email: Some(e),
                ..K::default()
            }
            .keys(),
        );
        (r.contact_id.map(str::to_string), got(r))
    };
    assert_eq!(
        by_email("jane.doe@mail.eu.acme.co.uk"),
        (Some("c1".into()), ok("UK", 3))
    );
    assert_eq!(
        by_email("JANE.DOE@MAIL.EU.ACME.CO.UK"),
        (Some("c1".into()), ok("UK", 3))
    );
    assert_eq!(by_email("bob@acme.co.uk"), (None, ok("UK", 3)));
    assert_eq!(
        by_email("wei@sales.huaxing-tech.com.cn"),
        (None, ok("CN", 3))
    );
    assert_eq!(by_email("x@mixedcase.io"), (None, ok("M", 3)));
    assert_eq!(by_email("x@google.com"), (None, ok("G", 3)));
    for free in [
        "x@gmail.com",
        "x@vip.qq.com",
        "x@mail.163.com",
        "x@GMAIL.COM",
        "x@outlook.com",
    ] {
        assert_eq!(by_email(free), (None, Err(Reason::FreeMail)), "{free}");
    }
    // Nothing registrable: a bare public suffix, an IP literal, no domain at all.
    for bad in ["x@co.uk", "x@10.0.0.1", "x@", "nobody"] {
        assert_eq!(by_email(bad), (None, Err(Reason::UnknownDomain)), "{bad}");
    }
    // The contact's stored email keeps its text but is looked up in lower case.
    assert_eq!(
        map.contacts["c1"].email.as_deref(),
        Some("jane.doe@mail.eu.acme.co.uk")
    );
}

/// Rule 4 through the engine: normalised names, typos, near misses, ambiguity, and blank
/// company texts counting as absent.
#[test]
fn company_names() {
    let accounts = vec![
        account("acme", "Acme", &["acme.com"]),
        account("labs", "Acme Labs, Inc.", &["acmelabs.com"]),
        account("nw", "Northwind Traders Ltd", &["northwind.com"]),
        account(
            "mu",
            "Müller Maschinenbau GmbH & Co. KG",
            &["mueller-maschinenbau.de"],
        ),
        account("sf", "Schäfer Elektrotechnik AG", &["schaefer.de"]),
        account("h1", "Hansen Logistics GmbH", &["hansen.de"]),
        account("h2", "Hansen Logistics Inc.", &["hansen.com"]),
        account("hx", "华星科技有限公司", &["huaxing.cn"]),
        account("jp", "株式会社サクラ電機", &["sakura-denki.co.jp"]),
    ];
    let cases: &[(&str, Outcome)] = &[
        ("ACME LABS", ok("labs", 4)),
        ("acme labs gmbh", ok("labs", 4)),
        ("Acme Lbas", ok("labs", 4)),
        ("Acme Inc.", ok("acme", 4)),
        ("Northwind Traders", ok("nw", 4)),
        ("Northwind-Traders, Inc.", ok("nw", 4)),
        ("ＮＯＲＴＨＷＩＮＤ　ＴＲＡＤＥＲＳ", ok("nw", 4)),
        ("Northwind Tradres", ok("nw", 4)),
        ("Muller Maschinenbau", ok("mu", 4)),
        ("MÜLLER MASCHINENBAU GMBH", ok("mu", 4)),
        ("Schaefer Elektrotechnik", ok("sf", 4)),
        ("华星科技", ok("hx", 4)),
        ("华星科技股份有限公司", ok("hx", 4)),
        ("サクラ電機株式会社", ok("jp", 4)),
        ("(株)サクラ電機", ok("jp", 4)),
        // Near misses: another company.
        ("Acme Robotics", Err(Reason::UnknownCompany)),
        ("Northwind Logistics", Err(Reason::UnknownCompany)),
        ("Northwind Traders Europe", Err(Reason::UnknownCompany)),
        ("华兴科技有限公司", Err(Reason::UnknownCompany)),
        ("サクラ商事株式会社", Err(Reason::UnknownCompany)),
        // Names that differ only by the legal form: neither wins.
        ("Hansen Logistics", Err(Reason::AmbiguousName)),
        ("Hansen Logistics GmbH", Err(Reason::AmbiguousName)),
    ];
    let mut contacts: Vec<Contact> = Vec::new();
    for (i, (company, _)) in cases.iter().enumerate() {
        // Without an email the company's own reason shows; with free mail, free mail (the
        // first rule that had something to try) does.
        contacts.push(contact(&format!("c{i}"), None, None, Some(company)));
        let email = format!("p{i}@gmail.com");
        contacts.push(contact(&format!("f{i}"), None, Some(&email), Some(company)));
    }
    contacts.push(contact("blank", None, None, Some("  ")));
    contacts.push(contact("none", None, None, None));
    let map = build(&inputs(accounts, contacts, vec![], vec![], &[], &[]));
    let by_contact = |id: &str| {
        got(map.resolve(
            K {
                contact_id: Some(id),
                ..K::default()
            }
            .keys(),
        ))
    };
    for (i, (company, want)) in cases.iter().enumerate() {
        assert_eq!(&by_contact(&format!("c{i}")), want, "{company}");
        let with_free_mail = match want {
            Err(_) => Err(Reason::FreeMail),
            w => w.clone(),
        };
        assert_eq!(by_contact(&format!("f{i}")), with_free_mail, "{company}");
    }
    assert_eq!(by_contact("blank"), Err(Reason::NoIdentifiers));
    assert_eq!(by_contact("none"), Err(Reason::NoIdentifiers));
}

/// SPEC §11: a visitor identified as two contacts belongs to the one identified latest by
/// event time (then activity id), whatever the input order; an activity's own contact id or
/// email beats its visitor's stitched contact.
#[test]
fn stitching_latest_identification_wins() {
    let accounts = five_accounts();
    let contacts = vec![
        contact("early", Some("A1"), Some("early@alpha.com"), None),
        contact("late", Some("A2"), Some("late@bravo.com"), None),
        contact("other", Some("A3"), Some("other@charlie.com"), None),
    ];
    let idents = vec![
        ident("v1", Some("late"), None, 200, "a-first"),
        ident("v1", Some("early"), None, 100, "z-last"),
        ident("v1", None, Some("EARLY@alpha.com"), 150, "m"),
        // Same time: the larger activity id wins.
        ident("v2", Some("early"), None, 100, "b"),
        ident("v2", Some("late"), None, 100, "a"),
        // A later identification naming nobody does not count.
        ident("v3", Some("early"), None, 100, "a"),
        ident("v3", Some("ghost"), Some("ghost@nowhere.example"), 900, "b"),
    ];
    for order in [false, true] {
        let mut idents = idents.clone();
        if order {
            idents.reverse();
        }
        let map = build(&inputs(
            accounts.clone(),
            contacts.clone(),
            vec![],
            idents,
            &[],
            &[],
        ));
        let v1 = &map.visitors["v1"];
        assert_eq!(
            (&*v1.contact_id, v1.identified_at, v1.contacts_seen),
            ("late", 200, 2)
        );
        let v2 = &map.visitors["v2"];
        assert_eq!((&*v2.contact_id, v2.contacts_seen), ("early", 2));
        let v3 = &map.visitors["v3"];
        assert_eq!((&*v3.contact_id, v3.contacts_seen), ("early", 1));
        let visit = |k: K<'_>| {
            let r = map.resolve(k.keys());
            (r.contact_id.map(str::to_string), got(r))
        };
        let anon = K {
            anonymous_id: Some("v1"),
            ..K::default()
        };
        assert_eq!(visit(anon), (Some("late".into()), ok("A2", 2)));
        let own_email = K {
            email: Some("other@charlie.com"),
            ..anon
        };
        assert_eq!(visit(own_email), (Some("other".into()), ok("A3", 2)));
        let own_id = K {
            contact_id: Some("other"),
            ..anon
        };
        assert_eq!(visit(own_id), (Some("other".into()), ok("A3", 2)));
        // An email naming no contact leaves the visitor's contact, whose account (rule 2)
        // beats the email's domain (rule 3).
        let stranger = K {
            email: Some("stranger@charlie.com"),
            ..anon
        };
        assert_eq!(visit(stranger), (Some("late".into()), ok("A2", 2)));
    }
}

/// Equal ranges written differently (a CIDR and its `start-end` form: different keys of
/// `ip_ranges`) resolve by the SPEC tie rule (the account id; an ISP row, naming none, first),
/// and the stored map (`to_record_batch` → `from_record_batches`) gives the same answers
/// for every kind of key, listed at build time or not.
#[test]
fn identity_map_round_trip_with_equal_ranges() {
    let inputs = inputs(
        five_accounts(),
        vec![contact("c1", Some("A1"), Some("c1@alpha.com"), None)],
        vec![
            range("10.9.0.0/24", Some("A4"), None),
            range("10.9.0.0-10.9.0.255", Some("A2"), None),
            range("10.8.0.0/24", Some("A3"), None),
            range("10.8.0.0-10.8.0.255", None, Some("isp")),
            range("10.7.0.0/24", Some("A5"), None),
        ],
        vec![ident("v1", Some("c1"), None, 1, "i")],
        &["c1@alpha.com", "x@bravo.com"],
        &["10.9.0.1", "10.8.0.1", "10.7.0.1", "10.6.0.1"],
    );
    let map = build(&inputs);
    let back = IdentityMap::from_record_batches(&[map.to_record_batch()]).expect("reads back");
    assert_eq!(back.to_record_batch(), map.to_record_batch());
    for ip in [
        "10.9.0.1", "10.8.0.1", "10.7.0.1", "10.6.0.1", "10.9.0.2", "10.8.0.2",
    ] {
        let k = K {
            ip: Some(ip),
            ..K::default()
        };
        assert_eq!(back.resolve(k.keys()), map.resolve(k.keys()), "{ip}");
    }
    let ip = |m: &IdentityMap, ip: &str| {
        got(m.resolve(
            K {
                ip: Some(ip),
                ..K::default()
            }
            .keys(),
        ))
    };
    // Equal ranges: the lower account id wins; an ISP row (no account) comes first.
    assert_eq!(ip(&map, "10.9.0.1"), ok("A2", 5));
    assert_eq!(ip(&back, "10.9.0.1"), ok("A2", 5));
    assert_eq!(ip(&map, "10.8.0.1"), Err(Reason::IspOrHostingIp));
    assert_eq!(ip(&back, "10.8.0.1"), Err(Reason::IspOrHostingIp));
    for k in [
        K {
            anonymous_id: Some("v1"),
            ..K::default()
        },
        K {
            email: Some("x@bravo.com"),
            ..K::default()
        },
        K {
            email: Some("c1@alpha.com"),
            ..K::default()
        },
    ] {
        assert_eq!(back.resolve(k.keys()), map.resolve(k.keys()));
    }
}
