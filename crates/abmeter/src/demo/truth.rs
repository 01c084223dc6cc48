//! Ground truth for testing identity resolution: `truth/activity_accounts.csv` (a subfolder,
//! so `abmeter import DIR` does not read it) with one row per activity,
//! `activity_id,true_account_id,resolvable`.
//!
//! `true_account_id` is the account the activity really belongs to (the generator's
//! `Ev.account`; empty for visitors and leads from no account). `resolvable` is the
//! generator's promise that SPEC §3, applied to the files as written, gives exactly that
//! account. It is decided by running the rules in their order on what the generator knows
//! each written field means (`activities.rs`, `Gen::resolve`):
//! 1. the row's `account_id`;
//! 2. the contact — its `contact_id`, else the contact whose email it carries, else the
//!    contact its `anonymous_id` was last identified as (by event time; an identification
//!    is any row carrying the anonymous id and a contact id or a contact's email) — when
//!    that contact has an `account_id`;
//! 3. the row's email, then the contact's, when at an account's domain (a subdomain
//!    included); free-mail never;
//! 4. the contact's company when it equals one account's name after normalisation (case,
//!    punctuation, spaces, legal forms such as Inc, GmbH & Co. KG, S.A. de C.V., 有限公司,
//!    株式会社, (株)); a company equal to several account names matches none and the next
//!    rule is tried; a company equal to no account name (a city left out of a Chinese name,
//!    an unrelated company) leaves the outcome to the fuzzy matcher, which is not promised:
//!    the row is not resolvable, whatever the later rules would say;
//! 5. the IP: an office address of the account (its own ranges, which no other account's
//!    smaller range covers) gives it; home addresses (ISP ranges) and stray ones (ISP,
//!    hosting or unlisted space) give nothing.
//!
//! A row is resolvable when the first rule that gives an account gives the true one; rows
//! without a true account are never resolvable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::accounts::Account;
use super::people::{Kind, People};

/// What SPEC §3 makes of a contact or field, as far as the generator can promise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// This account (index into the accounts).
    Account(u32),
    /// Nothing by this rule: the next rule is tried.
    Nothing,
    /// Up to the fuzzy company matcher: not promised either way.
    Unsure,
}

/// Per contact, what rules 2–4 make of it.
pub(crate) struct Model {
    /// Rule 2: members (contacts with `account_id`) give their account.
    member: Vec<Found>,
    /// Rule 3 on the contact's email: members and domain leads write an address at (a
    /// subdomain of) a domain of their account, the other leads a free-mail address.
    mail: Vec<Found>,
    /// Rules 3 then 4 for the contact: its email, else its company when that equals exactly
    /// one account's name after normalisation.
    rest: Vec<Found>,
    /// Lower-case email → contact (the generator keeps emails unique).
    by_email: HashMap<String, u32>,
}

impl Model {
    pub fn new(accts: &[Account], people: &People) -> Self {
        // Normalised account names: the first account with each key and how many share it.
        let mut names: HashMap<String, (u32, u32)> = HashMap::with_capacity(accts.len());
        for (i, a) in accts.iter().enumerate() {
            let key = company_key(&a.name);
            if !key.is_empty() {
                names
                    .entry(key)
                    .and_modify(|e| e.1 += 1)
                    .or_insert((i as u32, 1));
            }
        }
        let n = people.contacts.len();
        let mut model = Self {
            member: Vec::with_capacity(n),
            mail: Vec::with_capacity(n),
            rest: Vec::with_capacity(n),
            by_email: HashMap::with_capacity(n),
        };
        for (ci, c) in people.contacts.iter().enumerate() {
            model.by_email.insert(c.email.to_lowercase(), ci as u32);
            let (member, mail) = match (c.kind, c.truth) {
                (Kind::Member, Some(a)) => (Found::Account(a), Found::Account(a)),
                (Kind::DomainLead, Some(a)) => (Found::Nothing, Found::Account(a)),
                _ => (Found::Nothing, Found::Nothing),
            };
            let rest = if mail != Found::Nothing {
                mail
            } else {
                let key = company_key(&c.company);
                match names.get(&key) {
                    _ if key.is_empty() => Found::Nothing,
                    Some(&(a, 1)) => Found::Account(a),
                    Some(_) => Found::Nothing,
                    None => Found::Unsure,
                }
            };
            model.member.push(member);
            model.mail.push(mail);
            model.rest.push(rest);
        }
        model
    }

    /// Rule 2 for a contact.
    pub fn member(&self, c: u32) -> Found {
        self.member[c as usize]
    }

    /// Rule 3 for a contact's email.
    pub fn mail(&self, c: u32) -> Found {
        self.mail[c as usize]
    }

    /// Rules 3 then 4 for a contact (its email, then its company).
    pub fn rest(&self, c: u32) -> Found {
        self.rest[c as usize]
    }

    /// The contact an email address names, if any.
    pub fn by_email(&self, email: &str) -> Option<u32> {
        self.by_email.get(email).copied()
    }
}

/// Legal forms the generator writes (the countries' suffixes and the variants of
/// `people::variant_name`), as words after punctuation removal and the joining of single
/// letters.
const LEGAL: &[&[&str]] = &[
    &["inc"],
    &["incorporated"],
    &["llc"],
    &["corp"],
    &["corporation"],
    &["co"],
    &["and", "co"],
    &["ltd"],
    &["limited"],
    &["plc"],
    &["gmbh"],
    &["ag"],
    &["kg"],
    &["sa"],
    &["sas"],
    &["sl"],
    &["bv"],
    &["nv"],
    &["ab"],
    &["pty"],
    &["pte"],
    &["pvt"],
    &["ltda"],
    &["sa", "de", "cv"],
    &["srl"],
    &["spa"],
];

const CJK_SUFFIXES: &[&str] = &["股份有限公司", "有限公司", "株式会社"];
const CJK_PREFIXES: &[&str] = &["株式会社"];

/// A company name reduced for exact comparison (SPEC §3 rule 4's normalisation): lower case,
/// `(株)` spelled out, `&` → `and`, apostrophes dropped, other punctuation → space, runs of
/// single letters joined (`S.A.` → `sa`), legal forms stripped from the end (and 株式会社
/// from the start) while a word is left, then the spaces removed.
pub(crate) fn company_key(name: &str) -> String {
    let text = name.trim().to_lowercase().replace("(株)", " 株式会社 ");
    let mut cleaned = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '&' => cleaned.push_str(" and "),
            '\'' | '’' => {}
            c if c.is_alphanumeric() => cleaned.push(c),
            _ => cleaned.push(' '),
        }
    }
    let mut words: Vec<String> = Vec::new();
    let mut run = String::new();
    for w in cleaned.split_whitespace() {
        if w.len() == 1 && w.as_bytes()[0].is_ascii_lowercase() {
            run.push_str(w);
        } else {
            if !run.is_empty() {
                words.push(std::mem::take(&mut run));
            }
            words.push(w.to_string());
        }
    }
    if !run.is_empty() {
        words.push(run);
    }
    loop {
        let n = words.len();
        if n == 0 {
            break;
        }
        if let Some(len) = LEGAL
            .iter()
            .filter(|f| {
                f.len() < n
                    && words[n - f.len()..]
                        .iter()
                        .zip(f.iter())
                        .all(|(a, b)| a == b)
            })
            .map(|f| f.len())
            .max()
        {
            words.truncate(n - len);
            continue;
        }
        let last = &mut words[n - 1];
        if let Some(sfx) = CJK_SUFFIXES
            .iter()
            .find(|s| last.len() > s.len() && last.ends_with(**s))
        {
            last.truncate(last.len() - sfx.len());
            continue;
        }
        if n > 1 && CJK_SUFFIXES.contains(&last.as_str()) {
            words.pop();
            continue;
        }
        let first = &mut words[0];
        if let Some(pfx) = CJK_PREFIXES
            .iter()
            .find(|p| first.len() > p.len() && first.starts_with(**p))
        {
            first.drain(..pfx.len());
            continue;
        }
        if n > 1 && CJK_PREFIXES.contains(&first.as_str()) {
            words.remove(0);
            continue;
        }
        break;
    }
    words.concat()
}

/// The truth file being written.
pub(crate) struct TruthFile {
    path: PathBuf,
    w: csv::Writer<std::fs::File>,
    pub rows: u64,
    pub with_account: u64,
    pub resolvable: u64,
}

impl TruthFile {
    pub fn create(out_dir: &Path) -> Result<Self> {
        let dir = out_dir.join("truth");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("activity_accounts.csv");
        let mut w = csv::WriterBuilder::new()
            .buffer_capacity(1 << 20)
            .from_path(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        w.write_record(["activity_id", "true_account_id", "resolvable"])?;
        Ok(Self {
            path,
            w,
            rows: 0,
            with_account: 0,
            resolvable: 0,
        })
    }

    pub fn row(&mut self, id: &str, account: Option<&str>, resolvable: bool) -> Result<()> {
        self.w
            .write_record([
                id,
                account.unwrap_or(""),
                if resolvable { "true" } else { "false" },
            ])
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.rows += 1;
        self.with_account += u64::from(account.is_some());
        self.resolvable += u64::from(resolvable);
        Ok(())
    }

    pub fn finish(mut self) -> Result<super::TruthSummary> {
        self.w
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))?;
        Ok(super::TruthSummary {
            path: self.path,
            rows: self.rows,
            with_account: self.with_account,
            resolvable: self.resolvable,
        })
    }
}
