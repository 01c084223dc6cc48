//! The identity map as a table: one row per key, so it can be stored beside the data as
//! Parquet, read back without rebuilding, and queried by users as `identity_map`.
//!
//! `kind` says what `key` is: `account` (an account id, with its `tier`), `domain` (a
//! registrable domain, one row per account that has it), `contact` (a contact id, with its
//! own account, seniority, department, persona, email and company), `email`, `visitor` (an
//! anonymous id, with the stitched contact), `identification` (an anonymous id with the
//! contact id or email it was identified as, the latest time and activity), `ip` (a distinct activity IP, with the network
//! that holds it), `network` (an indexed ip_ranges network and its type) and `warning` (an
//! ip_ranges row skipped, and why).

use std::collections::HashMap;
use std::sync::Arc;

use abmeter_model::config::{DEPARTMENTS, SENIORITIES};
use arrow::array::{
    Array, ArrayRef, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
    TimestampMicrosecondBuilder, UInt8Array, UInt8Builder, UInt32Array, UInt32Builder,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::identity::{
    ContactEntry, DomainOwner, EmailEntry, Identification, IdentityMap, Key, NetworkEntry, Reason,
    Verdict, VisitorEntry,
};

const TEXT_COLUMNS: [&str; 16] = [
    "kind",
    "key",
    "contact_id",
    "account_id",
    "reason",
    "seniority",
    "department",
    "persona",
    "email",
    "company",
    "domain",
    "network",
    "network_type",
    "tier",
    "activity_id",
    "company_reason",
];

/// The schema of the stored identity map.
pub fn schema() -> SchemaRef {
    let mut fields: Vec<Field> = TEXT_COLUMNS
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, *n != "kind" && *n != "key"))
        .collect();
    fields.push(Field::new("match_rule", DataType::UInt8, true));
    fields.push(Field::new(
        "identified_at",
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        true,
    ));
    fields.push(Field::new("contacts_seen", DataType::UInt32, true));
    Arc::new(Schema::new(fields))
}

#[derive(Default)]
struct Row<'a> {
    text: [Option<&'a str>; 16],
    match_rule: Option<u8>,
    identified_at: Option<i64>,
    contacts_seen: Option<u32>,
}

/// Positions of the text columns in [`TEXT_COLUMNS`] (every row of a 500,000-key map sets
/// several: looking names up there at run time was most of the time to write a map).
mod col {
    pub const KIND: usize = 0;
    pub const KEY: usize = 1;
    pub const CONTACT_ID: usize = 2;
    pub const ACCOUNT_ID: usize = 3;
    pub const REASON: usize = 4;
    pub const SENIORITY: usize = 5;
    pub const DEPARTMENT: usize = 6;
    pub const PERSONA: usize = 7;
    pub const EMAIL: usize = 8;
    pub const COMPANY: usize = 9;
    pub const DOMAIN: usize = 10;
    pub const NETWORK: usize = 11;
    pub const NETWORK_TYPE: usize = 12;
    pub const TIER: usize = 13;
    pub const ACTIVITY_ID: usize = 14;
    pub const COMPANY_REASON: usize = 15;
}

impl<'a> Row<'a> {
    fn new(kind: &'a str, key: &'a str) -> Self {
        let mut r = Row::default();
        r.text[0] = Some(kind);
        r.text[1] = Some(key);
        r
    }
    fn set(mut self, column: usize, value: Option<&'a str>) -> Self {
        self.text[column] = value;
        self
    }
    fn verdict(mut self, v: &'a Verdict) -> Self {
        match v {
            Verdict::Account { account_id, rule } => {
                self.text[col::ACCOUNT_ID] = Some(account_id);
                self.match_rule = Some(*rule);
            }
            Verdict::Unmatched(r) => self.text[col::REASON] = Some(r.as_str()),
        }
        self
    }
}

struct Builders {
    text: Vec<StringBuilder>,
    match_rule: UInt8Builder,
    identified_at: TimestampMicrosecondBuilder,
    contacts_seen: UInt32Builder,
}

impl Builders {
    fn new() -> Builders {
        Builders {
            text: TEXT_COLUMNS.iter().map(|_| StringBuilder::new()).collect(),
            match_rule: UInt8Builder::new(),
            identified_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            contacts_seen: UInt32Builder::new(),
        }
    }

    fn finish(mut self) -> RecordBatch {
        let mut columns: Vec<ArrayRef> = self
            .text
            .iter_mut()
            .map(|s| Arc::new(s.finish()) as ArrayRef)
            .collect();
        columns.push(Arc::new(self.match_rule.finish()));
        columns.push(Arc::new(self.identified_at.finish()));
        columns.push(Arc::new(self.contacts_seen.finish()));
        RecordBatch::try_new(schema(), columns).expect("identity map schema")
    }

    fn push(&mut self, row: Row<'_>) {
        for (b, v) in self.text.iter_mut().zip(row.text) {
            b.append_option(v);
        }
        self.match_rule.append_option(row.match_rule);
        self.identified_at.append_option(row.identified_at);
        self.contacts_seen.append_option(row.contacts_seen);
    }
}

impl IdentityMap {
    /// The map as one record batch of [`schema`].
    pub fn to_record_batch(&self) -> RecordBatch {
        concat_batches(&schema(), &self.to_record_batches()).expect("identity map schema")
    }

    /// The map as record batches of [`schema`], in the order of [`Self::to_record_batch`]:
    /// three parts of about equal size, built side by side (each sorts its keys).
    pub fn to_record_batches(&self) -> Vec<RecordBatch> {
        let parts: [fn(&IdentityMap, &mut Builders); 3] = [
            Self::companies_and_contacts,
            Self::emails_and_visitors,
            Self::networks_and_ips,
        ];
        std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|part| {
                    s.spawn(move || {
                        let mut b = Builders::new();
                        part(self, &mut b);
                        b.finish()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("identity map writer panicked"))
                .collect()
        })
    }

    /// Accounts, domains and contacts.
    fn companies_and_contacts(&self, b: &mut Builders) {
        let mut accounts: Vec<_> = self.accounts.iter().collect();
        accounts.sort_unstable();
        for (id, tier) in accounts {
            b.push(
                Row::new("account", id)
                    .set(col::ACCOUNT_ID, Some(id))
                    .set(col::TIER, tier.as_deref()),
            );
        }
        let mut domains: Vec<_> = self.domains.iter().collect();
        domains.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (d, owner) in domains {
            match owner {
                DomainOwner::One(a) => b.push(Row::new("domain", d).set(col::ACCOUNT_ID, Some(a))),
                DomainOwner::Several(list) => {
                    for a in list {
                        b.push(
                            Row::new("domain", d)
                                .set(col::ACCOUNT_ID, Some(a))
                                .set(col::REASON, Some(Reason::AmbiguousDomain.as_str())),
                        );
                    }
                }
            }
        }
        let mut contacts: Vec<_> = self.contacts.iter().collect();
        contacts.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (id, c) in contacts {
            b.push(
                Row::new("contact", id)
                    .set(col::CONTACT_ID, Some(id))
                    .verdict(&c.verdict)
                    .set(col::SENIORITY, Some(c.seniority))
                    .set(col::DEPARTMENT, Some(c.department))
                    .set(col::PERSONA, c.persona.as_deref())
                    .set(col::EMAIL, c.email.as_deref())
                    .set(col::COMPANY, c.company.as_deref())
                    .set(col::COMPANY_REASON, c.company_reason.map(Reason::as_str)),
            );
        }
    }

    /// Emails, stitched visitors and the identifications behind them.
    fn emails_and_visitors(&self, b: &mut Builders) {
        let mut emails: Vec<_> = self.emails.iter().collect();
        emails.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (e, entry) in emails {
            b.push(
                Row::new("email", e)
                    .set(col::CONTACT_ID, entry.contact_id.as_deref())
                    .set(col::DOMAIN, entry.domain.as_deref())
                    .verdict(&entry.verdict),
            );
        }
        let mut visitors: Vec<_> = self.visitors.iter().collect();
        visitors.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (anon, v) in visitors {
            let mut row = Row::new("visitor", anon).set(col::CONTACT_ID, Some(&v.contact_id));
            row.identified_at = Some(v.identified_at);
            row.contacts_seen = Some(v.contacts_seen);
            b.push(row);
        }
        for i in &self.identifications {
            let mut row = Row::new("identification", &i.anonymous_id)
                .set(col::CONTACT_ID, i.contact_id.as_deref())
                .set(col::EMAIL, i.email.as_deref())
                .set(col::ACTIVITY_ID, Some(&i.activity_id));
            row.identified_at = Some(i.timestamp);
            b.push(row);
        }
    }

    /// IP ranges, the activity IPs and the build's warnings.
    fn networks_and_ips(&self, b: &mut Builders) {
        for n in &self.networks {
            b.push(
                Row::new("network", &n.network)
                    .set(col::NETWORK, Some(&n.network))
                    .set(col::NETWORK_TYPE, Some(&n.kind))
                    .verdict(&n.verdict),
            );
        }
        let mut ips: Vec<_> = self.ips.iter().collect();
        ips.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let no_range = Verdict::Unmatched(Reason::NoIpRange);
        for (ip, hit) in ips {
            let n = hit.map(|i| &self.networks[i as usize]);
            b.push(
                Row::new("ip", ip)
                    .set(col::NETWORK, n.map(|n| &*n.network))
                    .set(col::NETWORK_TYPE, n.map(|n| &*n.kind))
                    .verdict(n.map_or(&no_range, |n| &n.verdict)),
            );
        }
        for w in &self.warnings {
            b.push(Row::new("warning", w));
        }
    }

    /// Reads the map back from batches of [`schema`] (as stored). Rows of unknown kinds are
    /// ignored, so a newer writer's additions do not break an older reader.
    /// Contacts and emails (the larger half) are read on one thread, every other kind on
    /// another. (Queries over `resolved_activities` read the table compiled instead:
    /// [`crate::lookup::Lookup::from_stored`].)
    pub fn from_record_batches(batches: &[RecordBatch]) -> Result<IdentityMap, String> {
        let (people, rest) = std::thread::scope(|s| {
            let people = s.spawn(|| Self::read(batches, true));
            let rest = Self::read(batches, false);
            (people.join().expect("identity map reader panicked"), rest)
        });
        let (people, mut map) = (people?, rest?);
        map.contacts = people.contacts;
        map.emails = people.emails;
        Ok(map)
    }

    /// Reads the rows of contacts and emails (`people`), or of every other kind.
    fn read(batches: &[RecordBatch], people: bool) -> Result<IdentityMap, String> {
        let mut map = IdentityMap::default();
        let mut networks_by_name: HashMap<String, u32> = Default::default();
        let mut ip_rows: Vec<(Key, Option<String>)> = Vec::new();
        let mut several: crate::identity::Map<Vec<Key>> = Default::default();
        // Size the tables once: growing them row by row is most of the load time.
        let mut counts: HashMap<String, usize> = HashMap::new();
        for batch in batches {
            for k in string_column(batch, "kind")?.iter().flatten() {
                if let Some(n) = counts.get_mut(k) {
                    *n += 1;
                } else {
                    counts.insert(k.to_string(), 1);
                }
            }
        }
        let n = |k: &str| counts.get(k).copied().unwrap_or(0);
        map.accounts.reserve(n("account"));
        map.contacts.reserve(n("contact"));
        map.emails.reserve(n("email"));
        map.visitors.reserve(n("visitor"));
        map.ips.reserve(n("ip"));
        map.domains.reserve(n("domain"));
        map.identifications.reserve(n("identification"));
        ip_rows.reserve(n("ip"));
        for batch in batches {
            let text: Vec<&StringArray> = TEXT_COLUMNS
                .iter()
                .map(|n| string_column(batch, n))
                .collect::<Result<_, _>>()?;
            let get = |c: usize, i: usize| {
                let a = text[c];
                (!a.is_null(i)).then(|| a.value(i))
            };
            let rule = typed::<UInt8Array>(batch, "match_rule")?;
            let at = typed::<TimestampMicrosecondArray>(batch, "identified_at")?;
            let seen = typed::<UInt32Array>(batch, "contacts_seen")?;
            for i in 0..batch.num_rows() {
                let kind = get(col::KIND, i).unwrap_or("");
                if matches!(kind, "contact" | "email") != people {
                    continue;
                }
                let key: Key = get(col::KEY, i).unwrap_or_default().into();
                let verdict = || match (get(col::ACCOUNT_ID, i), rule.is_null(i)) {
                    (Some(a), false) => Verdict::Account {
                        account_id: a.into(),
                        rule: rule.value(i),
                    },
                    _ => Verdict::Unmatched(
                        get(col::REASON, i)
                            .and_then(Reason::parse)
                            .unwrap_or(Reason::NoIdentifiers),
                    ),
                };
                let boxed = |c: usize| get(c, i).map(Key::from);
                match kind {
                    "account" => {
                        map.accounts.insert(key, boxed(col::TIER));
                    }
                    "domain" => {
                        let a = boxed(col::ACCOUNT_ID).unwrap_or_default();
                        if get(col::REASON, i).is_some() {
                            several.entry(key).or_default().push(a);
                        } else {
                            map.domains.insert(key, DomainOwner::One(a));
                        }
                    }
                    "contact" => {
                        map.contacts.insert(
                            key,
                            ContactEntry {
                                verdict: verdict(),
                                seniority: known(&SENIORITIES, get(col::SENIORITY, i)),
                                department: known(&DEPARTMENTS, get(col::DEPARTMENT, i)),
                                persona: boxed(col::PERSONA),
                                email: boxed(col::EMAIL),
                                company: boxed(col::COMPANY),
                                company_reason: get(col::COMPANY_REASON, i).and_then(Reason::parse),
                            },
                        );
                    }
                    "email" => {
                        map.emails.insert(
                            key,
                            EmailEntry {
                                contact_id: boxed(col::CONTACT_ID),
                                domain: boxed(col::DOMAIN),
                                verdict: verdict(),
                            },
                        );
                    }
                    "visitor" => {
                        map.visitors.insert(
                            key,
                            VisitorEntry {
                                contact_id: boxed(col::CONTACT_ID).unwrap_or_default(),
                                identified_at: if at.is_null(i) { 0 } else { at.value(i) },
                                contacts_seen: if seen.is_null(i) { 1 } else { seen.value(i) },
                            },
                        );
                    }
                    "network" => {
                        networks_by_name.insert(key.to_string(), map.networks.len() as u32);
                        map.networks.push(NetworkEntry {
                            network: key,
                            kind: boxed(col::NETWORK_TYPE).unwrap_or_else(|| "business".into()),
                            verdict: verdict(),
                        });
                    }
                    "warning" => map.warnings.push(key.to_string()),
                    "identification" => map.identifications.push(Identification {
                        anonymous_id: key.to_string(),
                        contact_id: get(col::CONTACT_ID, i).map(str::to_string),
                        email: get(col::EMAIL, i).map(str::to_string),
                        timestamp: if at.is_null(i) { 0 } else { at.value(i) },
                        activity_id: get(col::ACTIVITY_ID, i).unwrap_or_default().to_string(),
                    }),
                    "ip" => ip_rows.push((key, get(col::NETWORK, i).map(str::to_string))),
                    _ => {}
                }
            }
        }
        for (d, list) in several {
            map.domains.insert(d, DomainOwner::Several(list));
        }
        for (ip, network) in ip_rows {
            let hit = network.and_then(|n| networks_by_name.get(&n).copied());
            map.ips.insert(ip, hit);
        }
        Ok(map)
    }
}

/// The static name in `list` equal to `value`; `unknown` for anything else.
fn known(list: &[&'static str], value: Option<&str>) -> &'static str {
    value
        .and_then(|v| list.iter().find(|s| **s == v))
        .copied()
        .unwrap_or("unknown")
}

fn string_column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b StringArray, String> {
    typed::<StringArray>(batch, name)
}

fn typed<'b, T: 'static>(batch: &'b RecordBatch, name: &str) -> Result<&'b T, String> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| format!("identity map: column {name} is missing or of the wrong type"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn column_positions_name_the_columns() {
        use super::{TEXT_COLUMNS, col};
        let named = [
            (col::KIND, "kind"),
            (col::KEY, "key"),
            (col::CONTACT_ID, "contact_id"),
            (col::ACCOUNT_ID, "account_id"),
            (col::REASON, "reason"),
            (col::SENIORITY, "seniority"),
            (col::DEPARTMENT, "department"),
            (col::PERSONA, "persona"),
            (col::EMAIL, "email"),
            (col::COMPANY, "company"),
            (col::DOMAIN, "domain"),
            (col::NETWORK, "network"),
            (col::NETWORK_TYPE, "network_type"),
            (col::TIER, "tier"),
            (col::ACTIVITY_ID, "activity_id"),
            (col::COMPANY_REASON, "company_reason"),
        ];
        for (i, name) in named {
            assert_eq!(TEXT_COLUMNS[i], name);
        }
    }
}
