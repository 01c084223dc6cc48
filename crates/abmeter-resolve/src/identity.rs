//! The identity map (SPEC §3): every contact id, email, anonymous id and distinct IP seen in
//! the workspace, mapped to its contact and account, built from the stored entity tables and
//! the identifying activities. It is a pure function of its inputs: rebuilt whenever they
//! change, so late data re-attributes earlier activities while the activities stay as stored.

use std::collections::HashMap;
use std::sync::OnceLock;

use abmeter_model::domain::registrable_domain;

use crate::company::{CompanyMatch, CompanyMatcher};
use crate::free_mail::is_free_mail;
use crate::ip_ranges::{IpIndex, parse_ip, parse_network};
use crate::lookup::Lookup;
pub use crate::lookup::{ActivityKeys, Resolution};
use crate::titles::TitleClassifier;

/// Identifiers as map keys and values: inline up to 24 bytes (ids, most emails, IPs), so a
/// lookup compares the key without following a pointer to another cache line.
pub type Key = compact_str::CompactString;

pub(crate) type Map<V> = HashMap<Key, V, ahash::RandomState>;

/// An account as resolution needs it.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// Registrable domains (already normalised by the importer).
    pub domains: Vec<String>,
    pub tier: Option<String>,
}

/// A contact as resolution needs it.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    pub id: String,
    pub account_id: Option<String>,
    pub email: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub seniority: Option<String>,
    pub persona: Option<String>,
}

/// One `ip_ranges` row.
#[derive(Debug, Clone, Default)]
pub struct IpRange {
    pub network: String,
    pub account_id: Option<String>,
    pub domain: Option<String>,
    /// `business` (also when empty), `isp`, `hosting` or `education`.
    pub kind: Option<String>,
}

/// An activity that carries an anonymous id and a contact id or email: it links the
/// visitor to that contact (an `identify` call is one).
#[derive(Debug, Clone, Default)]
pub struct Identification {
    pub anonymous_id: String,
    pub contact_id: Option<String>,
    pub email: Option<String>,
    /// Event time, microseconds since the epoch.
    pub timestamp: i64,
    pub activity_id: String,
}

/// Everything the map is built from.
#[derive(Debug, Default)]
pub struct Inputs {
    pub accounts: Vec<Account>,
    pub contacts: Vec<Contact>,
    pub ip_ranges: Vec<IpRange>,
    pub identifications: Vec<Identification>,
    /// Distinct emails and IPs of the stored activities, looked up once here so that
    /// resolving an activity is a few hash lookups.
    pub activity_emails: Vec<String>,
    pub activity_ips: Vec<String>,
}

/// Why an activity or contact has no account, by the first rule that had something to try
/// (rule order 3 → 4 → 5); `NoIdentifiers` when it had no email, company or IP at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    FreeMail,
    UnknownDomain,
    AmbiguousDomain,
    UnknownCompany,
    AmbiguousName,
    IspOrHostingIp,
    RangeWithoutAccount,
    NoIpRange,
    NoIdentifiers,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::FreeMail,
        Reason::UnknownDomain,
        Reason::AmbiguousDomain,
        Reason::UnknownCompany,
        Reason::AmbiguousName,
        Reason::IspOrHostingIp,
        Reason::RangeWithoutAccount,
        Reason::NoIpRange,
        Reason::NoIdentifiers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::FreeMail => "free_mail",
            Reason::UnknownDomain => "unknown_domain",
            Reason::AmbiguousDomain => "ambiguous_domain",
            Reason::UnknownCompany => "unknown_company",
            Reason::AmbiguousName => "ambiguous_name",
            Reason::IspOrHostingIp => "isp_or_hosting_ip",
            Reason::RangeWithoutAccount => "range_without_account",
            Reason::NoIpRange => "no_ip_range",
            Reason::NoIdentifiers => "no_identifiers",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// What a user can do about it, for the report.
    pub fn advice(self) -> &'static str {
        match self {
            Reason::FreeMail => "personal or disposable email: cannot name a company",
            Reason::UnknownDomain => "add the domain to its account's `domain`",
            Reason::AmbiguousDomain => "the domain belongs to several accounts: keep it on one",
            Reason::UnknownCompany => "no account name is close: set the contact's account_id",
            Reason::AmbiguousName => "close to several account names: set the account_id",
            Reason::IspOrHostingIp => "the IP belongs to an ISP or hosting range",
            Reason::RangeWithoutAccount => "the IP range names no known account",
            Reason::NoIpRange => "the IP is in no ip_ranges network",
            Reason::NoIdentifiers => "no contact, email, company or IP to go on",
        }
    }
}

/// An account found for something, or the reason none was.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Account { account_id: Key, rule: u8 },
    Unmatched(Reason),
}

impl Verdict {
    fn account(&self) -> Option<(&str, u8)> {
        match self {
            Verdict::Account { account_id, rule } => Some((account_id, *rule)),
            Verdict::Unmatched(_) => None,
        }
    }
}

/// A domain's accounts: one, or several (ambiguous).
#[derive(Debug, Clone, PartialEq)]
pub enum DomainOwner {
    One(Key),
    Several(Vec<Key>),
}

/// A known contact with the fields resolution hands on.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactEntry {
    /// The contact's own account by rules 2 (its account_id), 3 (its email's domain) or 4
    /// (its company name).
    pub verdict: Verdict,
    /// One of SPEC §4's levels and departments (static: a map holds 100,000s of contacts).
    pub seniority: &'static str,
    pub department: &'static str,
    pub persona: Option<Key>,
    /// The contact's email and company as stored, for the report.
    pub email: Option<Key>,
    pub company: Option<Key>,
    /// How rule 4 judged the company text, when it did not match: `unknown_company` or
    /// `ambiguous_name` (whatever the contact's own account came from).
    pub company_reason: Option<Reason>,
}

/// An email address: the one contact that has it (none when no or several contacts do),
/// and its domain's verdict (rule 3).
#[derive(Debug, Clone, PartialEq)]
pub struct EmailEntry {
    pub contact_id: Option<Key>,
    pub domain: Option<Key>,
    pub verdict: Verdict,
}

/// A visitor stitched to a contact by its latest identification.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitorEntry {
    pub contact_id: Key,
    /// Time of the identification that won, microseconds since the epoch.
    pub identified_at: i64,
    /// Distinct contacts the visitor was identified as (> 1 is a stitching conflict).
    pub contacts_seen: u32,
}

/// An IP range after its account was looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkEntry {
    pub network: Key,
    pub kind: Key,
    pub verdict: Verdict,
}

/// The identity map: the lookup tables resolution runs on.
#[derive(Debug, Default)]
pub struct IdentityMap {
    /// Known accounts and their tier.
    pub accounts: Map<Option<Key>>,
    pub domains: Map<DomainOwner>,
    pub contacts: Map<ContactEntry>,
    pub emails: Map<EmailEntry>,
    pub visitors: Map<VisitorEntry>,
    /// The identifications the visitors were stitched from, one per (anonymous id, contact
    /// id, email) with its latest time: kept so the next build need not rescan activities.
    pub identifications: Vec<Identification>,
    /// Distinct activity IPs and the network that contains them (None: no network).
    pub ips: Map<Option<u32>>,
    /// Every indexed network; `ips` points into it.
    pub networks: Vec<NetworkEntry>,
    /// Ranges skipped while building, with why (a domain naming no account, …).
    pub warnings: Vec<String>,
    /// The map compiled for resolving activities, made on first use.
    lookup: OnceLock<Lookup>,
}

fn boxed(s: &str) -> Key {
    s.into()
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Builds the map. `titles` derives seniority, department and persona.
pub fn build(inputs: &Inputs, titles: &TitleClassifier) -> IdentityMap {
    let mut map = IdentityMap::default();

    // Accounts and their domains (rule 3's lookup table).
    let mut owners: Map<Vec<Key>> = Map::default();
    for a in &inputs.accounts {
        map.accounts
            .insert(boxed(&a.id), a.tier.as_deref().map(boxed));
        for d in &a.domains {
            let d = d.trim().to_ascii_lowercase();
            if d.is_empty() {
                continue;
            }
            let list = owners.entry(d.into()).or_default();
            if !list.iter().any(|x| **x == *a.id) {
                list.push(boxed(&a.id));
            }
        }
    }
    for (d, mut list) in owners {
        let owner = if list.len() == 1 {
            DomainOwner::One(list.pop().expect("one"))
        } else {
            list.sort();
            DomainOwner::Several(list)
        };
        map.domains.insert(d, owner);
    }

    // Emails of contacts: an address two contacts share identifies neither.
    let mut email_contacts: Map<Option<Key>> = Map::default();
    for c in &inputs.contacts {
        if let Some(e) = non_empty(&c.email) {
            let e = e.to_lowercase();
            email_contacts
                .entry(e.into())
                .and_modify(|v| *v = None)
                .or_insert_with(|| Some(boxed(&c.id)));
        }
    }

    // The rest are three independent parts, built side by side: contacts (their company
    // names and titles), emails and IP ranges (with the domains), stitched visitors.
    let (contacts, (emails, networks), (identifications, visitors)) = std::thread::scope(|s| {
        let contacts = s.spawn(|| contact_entries(&map, inputs, titles));
        let signals = s.spawn(|| {
            (
                email_entries(&map.domains, &email_contacts, inputs),
                networks_and_ips(&map, inputs),
            )
        });
        let stitched = stitch(inputs, &email_contacts);
        (
            contacts.join().expect("contact builder panicked"),
            signals.join().expect("email and network builder panicked"),
            stitched,
        )
    });
    map.contacts = contacts;
    map.emails = emails;
    (map.networks, map.ips, map.warnings) = networks;
    map.identifications = identifications;
    map.visitors = visitors;
    map
}

/// Each contact's own account (rules 2, 3, 4), seniority, department and persona. `map` has
/// the accounts and domains.
fn contact_entries(
    map: &IdentityMap,
    inputs: &Inputs,
    titles: &TitleClassifier,
) -> Map<ContactEntry> {
    let mut contacts = Map::default();
    // Company names of contacts that need rule 4: matched once per distinct name.
    let matcher = CompanyMatcher::new(
        inputs
            .accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.as_str())),
    );
    let mut companies: Vec<&str> = Vec::new();
    let mut company_seen: Map<()> = Map::default();
    for c in &inputs.contacts {
        if let Some(company) = non_empty(&c.company)
            && company_seen.insert(boxed(company), ()).is_none()
        {
            companies.push(company);
        }
    }
    let company_matches: Map<CompanyMatch> = companies
        .iter()
        .map(|c| boxed(c))
        .zip(matcher.match_many(&companies))
        .collect();

    for c in &inputs.contacts {
        let verdict = contact_verdict(map, c, &company_matches);
        let title = non_empty(&c.title);
        let seniority = titles.seniority(c.seniority.as_deref(), title);
        let department = titles.department(c.department.as_deref(), title);
        let persona = titles.persona(c.persona.as_deref(), department, seniority, title);
        contacts.insert(
            boxed(&c.id),
            ContactEntry {
                verdict,
                seniority,
                department,
                persona: persona.as_deref().map(boxed),
                email: non_empty(&c.email).map(|e| boxed(&e.to_lowercase())),
                company: non_empty(&c.company).map(boxed),
                company_reason: non_empty(&c.company).and_then(|k| match company_matches.get(k) {
                    Some(CompanyMatch::Matched { .. }) => None,
                    Some(CompanyMatch::Ambiguous { .. }) => Some(Reason::AmbiguousName),
                    _ => Some(Reason::UnknownCompany),
                }),
            },
        );
    }

    contacts
}

/// Every email seen (contacts' and activities'), with its one contact and its domain's
/// verdict.
fn email_entries(
    domains: &Map<DomainOwner>,
    email_contacts: &Map<Option<Key>>,
    inputs: &Inputs,
) -> Map<EmailEntry> {
    let mut emails: Map<EmailEntry> = Map::default();
    let all_emails = email_contacts
        .keys()
        .map(|k| k.to_string())
        .chain(inputs.activity_emails.iter().map(|e| e.to_lowercase()));
    for e in all_emails {
        if emails.contains_key(e.as_str()) {
            continue;
        }
        let contact_id = email_contacts.get(e.as_str()).cloned().flatten();
        let (domain, verdict) = email_verdict(domains, &e);
        emails.insert(
            e.into(),
            EmailEntry {
                contact_id,
                domain,
                verdict,
            },
        );
    }

    emails
}

/// Stitching: each visitor goes to the contact of its latest identification (event time,
/// then activity id); identifications naming no known contact are not identifications.
fn stitch(
    inputs: &Inputs,
    email_contacts: &Map<Option<Key>>,
) -> (Vec<Identification>, Map<VisitorEntry>) {
    let known: HashMap<&str, (), ahash::RandomState> = inputs
        .contacts
        .iter()
        .map(|c| (c.id.as_str(), ()))
        .collect();
    // The contact named by a contact id (if known), else by an email one contact has.
    let contact_of = |id: Option<&str>, email: Option<&str>| -> Option<Key> {
        if let Some(id) = id
            && known.contains_key(id)
        {
            return Some(boxed(id));
        }
        let e = email?;
        email_contacts
            .get(e)
            .or_else(|| email_contacts.get(e.to_lowercase().as_str()))?
            .clone()
    };
    let identifications = latest_identifications(&inputs.identifications);
    let mut visitors: Map<VisitorEntry> = Map::default();
    let mut latest: Map<(i64, &str, Key)> = Map::default();
    let mut seen: HashMap<(&str, Key), (), ahash::RandomState> = HashMap::default();
    let mut seen_count: Map<u32> = Map::default();
    for i in &identifications {
        let Some(contact) = contact_of(i.contact_id.as_deref(), i.email.as_deref()) else {
            continue;
        };
        if seen
            .insert((i.anonymous_id.as_str(), contact.clone()), ())
            .is_none()
        {
            *seen_count.entry(boxed(&i.anonymous_id)).or_default() += 1;
        }
        let key = (i.timestamp, i.activity_id.as_str());
        match latest.get_mut(i.anonymous_id.as_str()) {
            Some(cur) if (cur.0, cur.1) >= key => {}
            Some(cur) => *cur = (key.0, key.1, contact),
            None => {
                latest.insert(boxed(&i.anonymous_id), (key.0, key.1, contact));
            }
        }
    }
    for (anon, (ts, _, contact)) in latest {
        let contacts_seen = seen_count.get(&anon).copied().unwrap_or(1);
        visitors.insert(
            anon,
            VisitorEntry {
                contact_id: contact,
                identified_at: ts,
                contacts_seen,
            },
        );
    }

    (identifications, visitors)
}

/// Each indexed IP range with its verdict, and every distinct activity IP with the range
/// holding it; `map` has the accounts and domains. Ranges skipped come back as warnings.
fn networks_and_ips(
    map: &IdentityMap,
    inputs: &Inputs,
) -> (Vec<NetworkEntry>, Map<Option<u32>>, Vec<String>) {
    let (mut networks, mut ips, mut warnings) = (Vec::new(), Map::default(), Vec::new());
    let mut entries = Vec::new();
    for r in &inputs.ip_ranges {
        let Some((start, end)) = parse_network(&r.network) else {
            warnings.push(format!("ip range {}: not a network, skipped", r.network));
            continue;
        };
        let kind = r
            .kind
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .unwrap_or("business")
            .to_ascii_lowercase();
        let verdict = match network_verdict(map, r, &kind) {
            Some(v) => v,
            None => {
                warnings.push(format!(
                    "ip range {}: domain {} names no single account, skipped",
                    r.network,
                    r.domain.as_deref().unwrap_or("")
                ));
                continue;
            }
        };
        let idx = networks.len() as u32;
        let tie = verdict
            .account()
            .map_or(String::new(), |(a, _)| a.to_string());
        entries.push((start, end, tie, idx));
        networks.push(NetworkEntry {
            network: boxed(&r.network),
            kind: kind.into(),
            verdict,
        });
    }
    let index = IpIndex::new(entries);
    for ip in &inputs.activity_ips {
        if ips.contains_key(ip.as_str()) {
            continue;
        }
        let hit = parse_ip(ip).and_then(|n| index.lookup(n).copied());
        ips.insert(boxed(ip), hit);
    }
    (networks, ips, warnings)
}

/// One identification per (anonymous id, contact id, email): the latest by time, then
/// activity id. Stitching only ever needs that one.
fn latest_identifications(all: &[Identification]) -> Vec<Identification> {
    let mut best: HashMap<(&str, Option<&str>, Option<&str>), &Identification, ahash::RandomState> =
        HashMap::default();
    for i in all {
        let key = (
            i.anonymous_id.as_str(),
            i.contact_id.as_deref(),
            i.email.as_deref(),
        );
        let newer = |cur: &&Identification| {
            (i.timestamp, i.activity_id.as_str()) > (cur.timestamp, cur.activity_id.as_str())
        };
        match best.get(&key) {
            Some(cur) if !newer(cur) => {}
            _ => {
                best.insert(key, i);
            }
        }
    }
    let mut out: Vec<Identification> = best.into_values().cloned().collect();
    out.sort_by(|a, b| {
        (a.anonymous_id.as_str(), a.timestamp, a.activity_id.as_str()).cmp(&(
            b.anonymous_id.as_str(),
            b.timestamp,
            b.activity_id.as_str(),
        ))
    });
    out
}

/// A contact's own account: rule 2, then rule 3 on its email, then rule 4 on its company.
fn contact_verdict(map: &IdentityMap, c: &Contact, companies: &Map<CompanyMatch>) -> Verdict {
    if let Some(a) = non_empty(&c.account_id)
        && map.accounts.contains_key(a)
    {
        return Verdict::Account {
            account_id: boxed(a),
            rule: 2,
        };
    }
    let mut first_reason = None;
    if let Some(e) = non_empty(&c.email) {
        match email_verdict(&map.domains, &e.to_lowercase()).1 {
            v @ Verdict::Account { .. } => return v,
            Verdict::Unmatched(r) => first_reason = Some(r),
        }
    }
    if let Some(company) = non_empty(&c.company) {
        match companies.get(company) {
            Some(CompanyMatch::Matched { account_id, .. }) => {
                return Verdict::Account {
                    account_id: boxed(account_id),
                    rule: 4,
                };
            }
            Some(CompanyMatch::Ambiguous { .. }) => {
                first_reason.get_or_insert(Reason::AmbiguousName);
            }
            Some(CompanyMatch::NoMatch { .. }) | Some(CompanyMatch::Empty) | None => {
                first_reason.get_or_insert(Reason::UnknownCompany);
            }
        }
    }
    Verdict::Unmatched(first_reason.unwrap_or(Reason::NoIdentifiers))
}

/// Rule 3 for one (lower-case) email: its registrable domain, unless free-mail, naming
/// exactly one account.
fn email_verdict(domains: &Map<DomainOwner>, email: &str) -> (Option<Key>, Verdict) {
    let Some(domain) = registrable_domain(email) else {
        return (None, Verdict::Unmatched(Reason::UnknownDomain));
    };
    let verdict = if is_free_mail(&domain) {
        Verdict::Unmatched(Reason::FreeMail)
    } else {
        match domains.get(domain.as_str()) {
            Some(DomainOwner::One(a)) => Verdict::Account {
                account_id: a.clone(),
                rule: 3,
            },
            Some(DomainOwner::Several(_)) => Verdict::Unmatched(Reason::AmbiguousDomain),
            None => Verdict::Unmatched(Reason::UnknownDomain),
        }
    };
    (Some(domain.into()), verdict)
}

/// The account an IP range attributes to. `None`: the range is skipped (its domain names no
/// single account). ISP and hosting ranges are kept whatever they name: they end the search.
fn network_verdict(map: &IdentityMap, r: &IpRange, kind: &str) -> Option<Verdict> {
    if kind == "isp" || kind == "hosting" {
        return Some(Verdict::Unmatched(Reason::IspOrHostingIp));
    }
    if let Some(a) = non_empty(&r.account_id)
        && map.accounts.contains_key(a)
    {
        return Some(Verdict::Account {
            account_id: boxed(a),
            rule: 5,
        });
    }
    match non_empty(&r.domain) {
        Some(d) => match registrable_domain(d).and_then(|d| map.domains.get(d.as_str())) {
            Some(DomainOwner::One(a)) => Some(Verdict::Account {
                account_id: a.clone(),
                rule: 5,
            }),
            _ => None,
        },
        // An account_id naming no account and no domain: the range still wins, unmatched.
        None => Some(Verdict::Unmatched(Reason::RangeWithoutAccount)),
    }
}

impl IdentityMap {
    /// What this map learnt from activities (identifications, emails, IPs): with the
    /// current entity tables it is all a rebuild needs, so imports never rescan old
    /// activities.
    pub fn activity_inputs(&self) -> (Vec<Identification>, Vec<String>, Vec<String>) {
        (
            self.identifications.clone(),
            self.emails.keys().map(|k| k.to_string()).collect(),
            self.ips.keys().map(|k| k.to_string()).collect(),
        )
    }

    /// The map compiled for resolving activities (built on first use).
    pub fn lookup(&self) -> &Lookup {
        self.lookup.get_or_init(|| Lookup::from_map(self))
    }

    /// Resolves one activity (SPEC §3, first matching rule wins).
    pub fn resolve(&self, keys: ActivityKeys<'_>) -> Resolution<'_> {
        self.lookup().resolve(keys)
    }
}
