//! The identity map compiled for resolving activities (SPEC §3), the form every query over
//! `resolved_activities` runs on.
//!
//! Every key (account id, contact id, email, anonymous id, IP) maps to a dense number, and
//! each number to a verdict of a few bytes. A full scan resolves millions of rows, each one
//! to three hash probes at random places in the map: the map's own tables (rich entries,
//! about 50 MB for 500,000 keys) made nearly every probe a trip to memory. Compiled, the
//! same map is about 15 MB (8-byte hash slots, keys packed in one buffer, 12-byte
//! entries), small enough to stay in the processor's cache.

use std::sync::OnceLock;

use abmeter_model::config::{DEPARTMENTS, SENIORITIES};
use abmeter_model::domain::registrable_domain;
use arrow::array::{Array, AsArray, RecordBatch, StringArray, UInt8Array};

use crate::free_mail::is_free_mail;
use crate::identity::{IdentityMap, Key, Reason};
use crate::ip_ranges::{IpIndex, parse_ip, parse_network};

/// "No such thing" in an index field.
pub const NONE: u32 = u32::MAX;
/// An email naming a contact id the map does not know (the contact is then unknown, and
/// stitching is not tried: the email did name someone).
const UNKNOWN_CONTACT: u32 = u32::MAX - 1;

/// Text keys numbered densely. The hash table's slots hold the key itself (inline up to 24
/// bytes: ids, most emails, IPs) and its number, so a probe reads one slot and nothing else.
#[derive(Clone)]
pub struct KeyIndex {
    hasher: ahash::RandomState,
    table: hashbrown::HashTable<(Key, u32)>,
    /// The keys by number, end to end (one buffer: no allocation per key), and where each
    /// ends.
    text: String,
    ends: Vec<usize>,
}

impl Default for KeyIndex {
    fn default() -> Self {
        KeyIndex::with_capacity(0)
    }
}

impl std::fmt::Debug for KeyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyIndex({} keys)", self.len())
    }
}

impl KeyIndex {
    pub fn with_capacity(keys: usize) -> Self {
        KeyIndex {
            hasher: ahash::RandomState::new(),
            table: hashbrown::HashTable::with_capacity(keys),
            text: String::new(),
            ends: Vec::with_capacity(keys),
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Key number `i`.
    pub fn key(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// The number of `key`, if known.
    #[inline]
    pub fn get(&self, key: &str) -> Option<u32> {
        self.table
            .find(self.hasher.hash_one(key), |(k, _)| {
                same(k.as_bytes(), key.as_bytes())
            })
            .map(|&(_, i)| i)
    }

    /// The number of `key`, numbering it if new.
    pub fn insert(&mut self, key: &str) -> u32 {
        let hasher = &self.hasher;
        let entry = self.table.entry(
            hasher.hash_one(key),
            |(k, _)| same(k.as_bytes(), key.as_bytes()),
            |(k, _)| hasher.hash_one(k.as_str()),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => e.get().1,
            hashbrown::hash_table::Entry::Vacant(e) => {
                let i = u32::try_from(self.ends.len()).expect("fewer than 4 billion keys");
                self.text.push_str(key);
                self.ends.push(self.text.len());
                e.insert((Key::from(key), i));
                i
            }
        }
    }
}

/// Whether two keys are equal. Most keys are 8 to 32 bytes (ids, IPs, anonymous ids, short
/// emails): compared as overlapping words, without a call to `memcmp` (a probe's
/// verification runs for every lookup of every row).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        17..=32 => {
            word(a, 0) == word(b, 0)
                && word(a, 8) == word(b, 8)
                && word(a, n - 16) == word(b, n - 16)
                && word(a, n - 8) == word(b, n - 8)
        }
        _ => a == b,
    }
}

/// An account found (with the rule, 1–5) or the reason none was: 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Account number, [`NONE`] when unmatched.
    pub account: u32,
    /// The rule when matched; [`Reason`] as a number (its position in [`Reason::ALL`]) when
    /// not.
    code: u8,
}

impl Found {
    pub fn account(account: u32, rule: u8) -> Found {
        Found {
            account,
            code: rule,
        }
    }

    pub fn unmatched(reason: Reason) -> Found {
        let code = Reason::ALL
            .iter()
            .position(|r| *r == reason)
            .expect("a listed reason") as u8;
        Found {
            account: NONE,
            code,
        }
    }

    pub fn is_match(self) -> bool {
        self.account != NONE
    }

    /// The rule, when matched.
    pub fn rule(self) -> Option<u8> {
        self.is_match().then_some(self.code)
    }

    /// Why not, when unmatched.
    pub fn reason(self) -> Option<Reason> {
        (!self.is_match()).then(|| Reason::ALL[self.code as usize])
    }
}

/// What resolution needs of a contact: 16 bytes.
#[derive(Debug, Clone, Copy)]
struct ContactRow {
    /// The contact's own account (rules 2, 3 or 4), or why none.
    own: Found,
    /// Positions in [`SENIORITIES`] and [`DEPARTMENTS`].
    seniority: u8,
    department: u8,
    /// Persona number, [`NONE`] when none.
    persona: u32,
}

/// What resolution says of one activity, as numbers: 12 bytes, one per row of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Contact number, [`NONE`] when unknown.
    pub contact: u32,
    pub found: Found,
}

/// What resolution says of one activity (SPEC §3), as text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution<'m> {
    pub contact_id: Option<&'m str>,
    pub account_id: Option<&'m str>,
    /// 1–5 (SPEC §3), None when unmatched.
    pub rule: Option<u8>,
    /// Why no account was found (None when one was).
    pub reason: Option<Reason>,
    /// The contact's seniority, department and persona (`unknown` without a contact).
    pub seniority: &'static str,
    pub department: &'static str,
    pub persona: Option<&'m str>,
}

/// The identifying fields of one activity.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActivityKeys<'a> {
    pub account_id: Option<&'a str>,
    pub contact_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub anonymous_id: Option<&'a str>,
    pub ip: Option<&'a str>,
}

/// What each identifying key of a batch's rows leads to, looked up key by key: the inputs
/// of the rules, one entry per row in each column.
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// The account of the activity's own account id ([`NONE`]: none, or not an account).
    pub account: Vec<u32>,
    /// The contact of its contact id ([`NONE`]: none, or not a contact).
    pub contact: Vec<u32>,
    /// What its email says (None: no email).
    pub email: Vec<Option<EmailFound>>,
    /// The contact its anonymous id is stitched to ([`NONE`]: none).
    pub visitor: Vec<u32>,
    /// The verdict of the network holding its IP (None: no IP).
    pub ip: Vec<Option<Found>>,
}

/// What an activity's email says: whose it is, and what its domain says (rule 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailFound {
    /// The contact with this email; [`NONE`] when no contact has it, [`UNKNOWN_CONTACT`]
    /// when it names a contact id the map does not know.
    contact: u32,
    domain: Found,
}

impl Probes {
    pub fn with_capacity(rows: usize) -> Probes {
        Probes {
            account: Vec::with_capacity(rows),
            contact: Vec::with_capacity(rows),
            email: Vec::with_capacity(rows),
            visitor: Vec::with_capacity(rows),
            ip: Vec::with_capacity(rows),
        }
    }
}

/// The compiled map.
#[derive(Debug, Default)]
pub struct Lookup {
    pub accounts: KeyIndex,
    /// Tier of each account, by number.
    pub tiers: Vec<Option<String>>,
    people: People,
    signals: CompanySignals,
}

/// Contacts and the keys that lead to them.
#[derive(Debug, Default)]
struct People {
    contacts: KeyIndex,
    contact_rows: Vec<ContactRow>,
    personas: KeyIndex,
    emails: KeyIndex,
    /// (contact number, the email domain's verdict) by email number.
    email_rows: Vec<(u32, Found)>,
    visitors: KeyIndex,
    /// The stitched contact's number, by visitor number.
    visitor_contacts: Vec<u32>,
}

/// What points at a company without naming a person: IPs and email domains.
#[derive(Debug, Default)]
struct CompanySignals {
    ips: KeyIndex,
    /// The verdict of the network holding each IP (`no_ip_range` when none does).
    ip_rows: Vec<Found>,
    /// For emails and IPs the map has not seen (events newer than the build).
    domains: KeyIndex,
    domain_rows: Vec<Found>,
    networks: Vec<(String, Found)>,
    network_index: OnceLock<IpIndex<u32>>,
}

/// The stored map's columns, as compiling reads them.
struct Stored<'b> {
    key: &'b StringArray,
    contact_id: &'b StringArray,
    account_id: &'b StringArray,
    reason: &'b StringArray,
    seniority: &'b StringArray,
    department: &'b StringArray,
    persona: &'b StringArray,
    tier: &'b StringArray,
    rule: &'b UInt8Array,
    /// The rows of each of [`KINDS`], found in one pass.
    by_kind: Vec<Vec<u32>>,
}

/// The kinds of stored rows compiling reads.
const KINDS: [&str; 7] = [
    "account", "contact", "email", "visitor", "ip", "network", "domain",
];

impl<'b> Stored<'b> {
    fn of(batch: &'b RecordBatch) -> Result<Self, String> {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| format!("identity map: no column {name}"))
        };
        let text = |name: &str| {
            column(name)?
                .as_string_opt::<i32>()
                .ok_or_else(|| format!("identity map: column {name} is not text"))
        };
        let kind = text("kind")?;
        let mut by_kind = vec![Vec::new(); KINDS.len()];
        for (i, k) in kind.iter().enumerate() {
            if let Some(at) = KINDS.iter().position(|x| Some(*x) == k) {
                by_kind[at].push(u32::try_from(i).expect("fewer than 4 billion rows"));
            }
        }
        Ok(Stored {
            key: text("key")?,
            contact_id: text("contact_id")?,
            account_id: text("account_id")?,
            reason: text("reason")?,
            seniority: text("seniority")?,
            department: text("department")?,
            persona: text("persona")?,
            tier: text("tier")?,
            by_kind,
            rule: column("match_rule")?
                .as_any()
                .downcast_ref::<UInt8Array>()
                .ok_or("identity map: column match_rule is not UInt8")?,
        })
    }

    /// Rows of one kind: (row, key).
    fn rows(&self, kind: &str) -> impl Iterator<Item = (usize, &'b str)> + '_ {
        let rows = KINDS
            .iter()
            .position(|k| *k == kind)
            .map_or(&[][..], |k| &self.by_kind[k][..]);
        rows.iter()
            .map(|&i| (i as usize, self.key.value(i as usize)))
    }

    /// The verdict of row `i`; every account it may name is numbered beforehand.
    fn verdict(&self, i: usize, accounts: &KeyIndex) -> Found {
        match (get(self.account_id, i), self.rule.is_null(i)) {
            (Some(a), false) => Found::account(
                accounts.get(a).expect("accounts numbered first"),
                self.rule.value(i),
            ),
            _ => Found::unmatched(
                get(self.reason, i)
                    .and_then(Reason::parse)
                    .unwrap_or(Reason::NoIdentifiers),
            ),
        }
    }
}

impl People {
    fn read(stored: &[Stored], accounts: &KeyIndex) -> People {
        let count = |kind| stored.iter().map(|s| s.rows(kind).count()).sum::<usize>();
        let mut p = People {
            contacts: KeyIndex::with_capacity(count("contact")),
            emails: KeyIndex::with_capacity(count("email")),
            visitors: KeyIndex::with_capacity(count("visitor")),
            ..People::default()
        };
        // Emails and visitors name contacts: all contacts are numbered first.
        for s in stored {
            for (i, k) in s.rows("contact") {
                let persona = get(s.persona, i).map_or(NONE, |x| p.personas.insert(x));
                let row = ContactRow {
                    own: s.verdict(i, accounts),
                    seniority: position(&SENIORITIES, get(s.seniority, i)),
                    department: position(&DEPARTMENTS, get(s.department, i)),
                    persona,
                };
                if p.contacts.insert(k) as usize == p.contact_rows.len() {
                    p.contact_rows.push(row);
                }
            }
        }
        for s in stored {
            for (i, k) in s.rows("email") {
                let contact = get(s.contact_id, i)
                    .map_or(NONE, |c| p.contacts.get(c).unwrap_or(UNKNOWN_CONTACT));
                let row = (contact, s.verdict(i, accounts));
                if p.emails.insert(k) as usize == p.email_rows.len() {
                    p.email_rows.push(row);
                }
            }
            for (i, k) in s.rows("visitor") {
                let contact = get(s.contact_id, i)
                    .and_then(|c| p.contacts.get(c))
                    .unwrap_or(NONE);
                if p.visitors.insert(k) as usize == p.visitor_contacts.len() {
                    p.visitor_contacts.push(contact);
                }
            }
        }
        p
    }
}

impl CompanySignals {
    fn read(stored: &[Stored], accounts: &KeyIndex) -> CompanySignals {
        let count = |kind| stored.iter().map(|s| s.rows(kind).count()).sum::<usize>();
        let mut c = CompanySignals {
            ips: KeyIndex::with_capacity(count("ip")),
            ..CompanySignals::default()
        };
        let ambiguous = Found::unmatched(Reason::AmbiguousDomain);
        for s in stored {
            for (i, k) in s.rows("ip") {
                if c.ips.insert(k) as usize == c.ip_rows.len() {
                    c.ip_rows.push(s.verdict(i, accounts));
                }
            }
            for (i, k) in s.rows("network") {
                c.networks.push((k.to_string(), s.verdict(i, accounts)));
            }
            // A domain of several accounts has a row for each, with the reason.
            for (i, k) in s.rows("domain") {
                // Every account id was numbered first; a row naming none says nothing.
                let account = get(s.account_id, i).and_then(|a| accounts.get(a));
                let found = match (get(s.reason, i), account) {
                    (Some(_), _) => ambiguous,
                    (None, Some(a)) => Found::account(a, 3),
                    (None, None) => continue,
                };
                let n = c.domains.insert(k) as usize;
                match c.domain_rows.get_mut(n) {
                    Some(f) => *f = found,
                    None => c.domain_rows.push(found),
                }
            }
        }
        c
    }
}

fn get(a: &StringArray, i: usize) -> Option<&str> {
    (!a.is_null(i)).then(|| a.value(i))
}

fn position(list: &[&str], value: Option<&str>) -> u8 {
    value
        .and_then(|v| list.iter().position(|s| *s == v))
        .unwrap_or(list.len() - 1) as u8
}

/// The columns of the stored map ([`crate::identity_table::schema`]) compiling reads.
pub const STORED_COLUMNS: [&str; 10] = [
    "kind",
    "key",
    "contact_id",
    "account_id",
    "reason",
    "match_rule",
    "seniority",
    "department",
    "persona",
    "tier",
];

impl Lookup {
    /// Compiles `map` (through its stored form, the one way a map is compiled).
    pub fn from_map(map: &IdentityMap) -> Lookup {
        Lookup::from_stored(&map.to_record_batches()).expect("a map's own table compiles")
    }

    /// Compiles the stored map: batches of [`crate::identity_table::schema`], of which only
    /// [`STORED_COLUMNS`] are read. Rows of kinds resolution does not use are skipped.
    pub fn from_stored(batches: &[RecordBatch]) -> Result<Lookup, String> {
        let stored: Vec<Stored> = batches.iter().map(Stored::of).collect::<Result<_, _>>()?;
        let mut l = Lookup::default();
        // Every account a row names is numbered first, so the rest can be read on two
        // threads sharing the numbers.
        for s in &stored {
            for (i, k) in s.rows("account") {
                l.account(k, get(s.tier, i));
            }
            for a in s.account_id.iter().flatten() {
                l.account(a, None);
            }
        }
        let (people, signals) = std::thread::scope(|scope| {
            let people = scope.spawn(|| People::read(&stored, &l.accounts));
            let signals = CompanySignals::read(&stored, &l.accounts);
            (
                people.join().expect("identity map reader panicked"),
                signals,
            )
        });
        l.people = people;
        l.signals = signals;
        Ok(l)
    }

    /// The number of an account, adding it when a verdict names one the map does not list.
    fn account(&mut self, id: &str, tier: Option<&str>) -> u32 {
        let i = self.accounts.insert(id);
        let tier = tier.map(str::to_string);
        if i as usize == self.tiers.len() {
            self.tiers.push(tier);
        } else if tier.is_some() {
            self.tiers[i as usize] = tier;
        }
        i
    }

    /// The email's number, also for an address not stored in lower case.
    fn email(&self, e: &str) -> Option<u32> {
        self.people.emails.get(e).or_else(|| {
            e.bytes()
                .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
                .then(|| self.people.emails.get(&e.to_lowercase()))
                .flatten()
        })
    }

    /// Rule 3 for an email the map has not seen: its registrable domain, unless free-mail,
    /// naming exactly one account.
    fn email_domain(&self, e: &str) -> Found {
        match registrable_domain(&e.to_lowercase()) {
            None => Found::unmatched(Reason::UnknownDomain),
            Some(d) if is_free_mail(&d) => Found::unmatched(Reason::FreeMail),
            Some(d) => self
                .signals
                .domains
                .get(&d)
                .map_or(Found::unmatched(Reason::UnknownDomain), |i| {
                    self.signals.domain_rows[i as usize]
                }),
        }
    }

    /// The verdict of the network holding `ip`.
    fn ip(&self, ip: &str) -> Found {
        if let Some(i) = self.signals.ips.get(ip) {
            return self.signals.ip_rows[i as usize];
        }
        let index = self.signals.network_index.get_or_init(|| {
            let entries = self
                .signals
                .networks
                .iter()
                .enumerate()
                .filter_map(|(i, (network, found))| {
                    let (start, end) = parse_network(network)?;
                    let tie = if found.is_match() {
                        self.accounts.key(found.account).to_string()
                    } else {
                        String::new()
                    };
                    Some((start, end, tie, i as u32))
                })
                .collect();
            IpIndex::new(entries)
        });
        parse_ip(ip)
            .and_then(|n| index.lookup(n))
            .map_or(Found::unmatched(Reason::NoIpRange), |&i| {
                self.signals.networks[i as usize].1
            })
    }

    /// The account numbered by an activity's own account id.
    pub fn account_key(&self, id: &str) -> u32 {
        self.accounts.get(id).unwrap_or(NONE)
    }

    /// The contact numbered by an activity's contact id.
    pub fn contact_key(&self, id: &str) -> u32 {
        self.people.contacts.get(id).unwrap_or(NONE)
    }

    /// What an activity's email says (None for an empty one).
    pub fn email_key(&self, e: &str) -> Option<EmailFound> {
        if e.is_empty() {
            return None;
        }
        Some(match self.email(e) {
            Some(i) => {
                let (contact, domain) = self.people.email_rows[i as usize];
                EmailFound { contact, domain }
            }
            None => EmailFound {
                contact: NONE,
                domain: self.email_domain(e),
            },
        })
    }

    /// The contact an anonymous id is stitched to.
    pub fn visitor_key(&self, anonymous_id: &str) -> u32 {
        self.people
            .visitors
            .get(anonymous_id)
            .map_or(NONE, |v| self.people.visitor_contacts[v as usize])
    }

    /// The verdict of an activity's IP (None for an empty one).
    pub fn ip_key(&self, ip: &str) -> Option<Found> {
        (!ip.is_empty()).then(|| self.ip(ip))
    }

    /// Probes one activity's keys.
    pub fn probe(&self, keys: &ActivityKeys<'_>, into: &mut Probes) {
        into.account
            .push(keys.account_id.map_or(NONE, |a| self.account_key(a)));
        into.contact
            .push(keys.contact_id.map_or(NONE, |c| self.contact_key(c)));
        into.email.push(keys.email.and_then(|e| self.email_key(e)));
        into.visitor
            .push(keys.anonymous_id.map_or(NONE, |a| self.visitor_key(a)));
        into.ip.push(keys.ip.and_then(|ip| self.ip_key(ip)));
    }

    /// Resolves a batch of activities from their probed keys: SPEC §3's rules in order, the
    /// first match wins. Only numbers are read here; the text was looked up once per
    /// distinct key when probing.
    pub fn decide(&self, probes: &Probes) -> Vec<Resolved> {
        (0..probes.contact.len())
            .map(|i| {
                let email = probes.email[i];
                // The contact by its own id, else by email, else by the stitched visitor.
                let contact = match (probes.contact[i], email.map(|e| e.contact)) {
                    (c, _) if c != NONE => c,
                    (_, Some(UNKNOWN_CONTACT)) => NONE,
                    (_, Some(c)) if c != NONE => c,
                    _ => probes.visitor[i],
                };
                let own = self
                    .people
                    .contact_rows
                    .get(contact as usize)
                    .map(|r| r.own);
                let found = self
                    .rules_before_ip(probes.account[i], own, email.map(|e| e.domain))
                    .unwrap_or_else(|reason| match probes.ip[i] {
                        Some(f) if f.is_match() => Found::account(f.account, 5),
                        by_ip => Found::unmatched(
                            reason
                                .or_else(|| by_ip.and_then(Found::reason))
                                .unwrap_or(Reason::NoIdentifiers),
                        ),
                    });
                Resolved { contact, found }
            })
            .collect()
    }

    /// Rules 1 to 4 for one activity: its account id's account, its contact's own account
    /// by rule 2, its email's domain, its contact's own account by rules 3–4. `Err` carries
    /// the first reason met (rule 5 is next).
    fn rules_before_ip(
        &self,
        account: u32,
        own: Option<Found>,
        email_domain: Option<Found>,
    ) -> Result<Found, Option<Reason>> {
        if account != NONE {
            return Ok(Found::account(account, 1));
        }
        if let Some(f) = own
            && f.rule() == Some(2)
        {
            return Ok(f);
        }
        let mut reason = None;
        if let Some(by_domain) = email_domain {
            if by_domain.is_match() {
                return Ok(Found::account(by_domain.account, 3));
            }
            reason = by_domain.reason();
        }
        if let Some(f) = own {
            if f.is_match() {
                return Ok(f);
            }
            if let Some(r) = f.reason().filter(|r| *r != Reason::NoIdentifiers) {
                reason.get_or_insert(r);
            }
        }
        Err(reason)
    }

    /// Resolves one activity, as text.
    pub fn resolve(&self, keys: ActivityKeys<'_>) -> Resolution<'_> {
        let mut probes = Probes::with_capacity(1);
        self.probe(&keys, &mut probes);
        let r = self.decide(&probes)[0];
        let (seniority, department, persona) = self.contact_fields(r.contact);
        Resolution {
            contact_id: self.contact_id(r.contact),
            account_id: self.account_id(r.found.account),
            rule: r.found.rule(),
            reason: r.found.reason(),
            seniority,
            department,
            persona,
        }
    }

    pub fn contact_id(&self, contact: u32) -> Option<&str> {
        (contact != NONE).then(|| self.people.contacts.key(contact))
    }

    pub fn account_id(&self, account: u32) -> Option<&str> {
        (account != NONE).then(|| self.accounts.key(account))
    }

    /// Seniority, department and persona of a contact number (`unknown` for [`NONE`]).
    pub fn contact_fields(&self, contact: u32) -> (&'static str, &'static str, Option<&str>) {
        match self.people.contact_rows.get(contact as usize) {
            Some(c) => (
                SENIORITIES[c.seniority as usize],
                DEPARTMENTS[c.department as usize],
                (c.persona != NONE).then(|| self.people.personas.key(c.persona)),
            ),
            None => ("unknown", "unknown", None),
        }
    }

    /// A contact's position in [`SENIORITIES`] (`unknown`'s for [`NONE`]).
    pub fn seniority_level(&self, contact: u32) -> usize {
        self.people
            .contact_rows
            .get(contact as usize)
            .map_or(SENIORITIES.len() - 1, |c| c.seniority as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_index_numbers_keys_densely_and_finds_them() {
        let mut k = KeyIndex::with_capacity(2);
        let words: Vec<String> = (0..10_000).map(|i| format!("key-{i}")).collect();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(k.insert(w), i as u32);
        }
        assert_eq!(k.insert("key-17"), 17, "a known key keeps its number");
        assert_eq!(k.len(), 10_000);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(k.get(w), Some(i as u32));
            assert_eq!(k.key(i as u32), w);
        }
        assert_eq!(k.get("key-10000"), None);
        assert_eq!(k.get(""), None);
        assert_eq!(k.insert(""), 10_000, "the empty key is a key");
        assert_eq!(k.get(""), Some(10_000));
    }

    #[test]
    fn keys_compare_equal_only_when_equal_at_every_length() {
        for n in 0..40 {
            let a: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(same(a.as_bytes(), a.clone().as_bytes()), "{a}");
            for at in 0..n {
                let mut b = a.clone().into_bytes();
                b[at] = b'#';
                assert!(!same(a.as_bytes(), &b), "{a} differs at {at}");
            }
            assert!(!same(a.as_bytes(), format!("{a}x").as_bytes()));
        }
    }

    #[test]
    fn found_round_trips_every_reason_and_rule() {
        for r in Reason::ALL {
            let f = Found::unmatched(r);
            assert_eq!((f.rule(), f.reason(), f.is_match()), (None, Some(r), false));
        }
        for rule in 1..=5 {
            let f = Found::account(7, rule);
            assert_eq!((f.rule(), f.reason()), (Some(rule), None));
        }
    }
}
