//! Contacts of accounts, and leads without an account (domain and free-mail leads).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rand::Rng;

use super::accounts::{Account, NameParts};
use super::names::{self, Lang, Title};
use super::{Clock, DAY, Table, chance, pick, pick_w, ts_string, unif, unif_i};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// A contact with `account_id` set.
    Member,
    /// No account_id; email at one of the account's domains or a subdomain of it.
    DomainLead,
    /// No account_id; free-mail address, company text is a variant of the account name.
    FreemailMatch,
    /// No account_id; free-mail address, company matching no account.
    FreemailOther,
}

pub(crate) struct Contact {
    pub id: String,
    /// The account the person works at (ground truth; None for unrelated leads).
    pub truth: Option<u32>,
    pub kind: Kind,
    pub email: String,
    pub first: String,
    pub last: String,
    pub company: String,
    pub title: &'static str,
    pub department: &'static str,
    pub seniority: &'static str,
    /// Whether department/seniority are written (else left for the title rules).
    pub fill_roles: bool,
    pub persona: &'static str,
    pub lead_source: &'static str,
    pub lead_source_detail: &'static str,
    pub self_reported: &'static str,
    pub status: &'static str,
    pub created: i64,
    pub mql: Option<i64>,
    /// Anonymous id of the person's browser, linked to the contact at `stitch`.
    pub anon: Option<u32>,
    pub stitch: i64,
    /// Relative marketing/web activity of the person.
    pub weight: f32,
    /// Relative weight for sales meetings and events (seniority-biased).
    pub senior_weight: f32,
    /// Relative weight as a product user.
    pub user_weight: f32,
}

pub(crate) struct People {
    pub contacts: Vec<Contact>,
    /// Contacts of each account (members, then domain and free-mail leads that work there).
    pub by_account: Vec<Vec<u32>>,
    /// Number of members (account_id set) at the start of each `by_account` list.
    pub members: Vec<u32>,
    /// Free-mail leads that match no account.
    pub unrelated: Vec<u32>,
    /// Pure anonymous visitors of each account: ids `anon_first[a] .. + anon_count[a]`.
    pub anon_first: Vec<u32>,
    pub anon_count: Vec<u32>,
    /// Anonymous visitors from no account (ISP, hosting, unknown ranges).
    pub stray_first: u32,
    pub stray_count: u32,
}

const SUBDOMAINS: &[&str] = &[
    "mail", "eu", "us", "corp", "uk", "cn", "mail.eu", "apac", "hq",
];

/// Expected rows of `contacts.csv` per account in the natural mix: members 10–25 by tier
/// (15.5 on average: 15% tier 1 with 18–25, 35% tier 2 with 13–20, 50% tier 3 with 10–16)
/// plus 1.3 domain leads, 0.4 matching and 0.6 unrelated free-mail leads.
const NATURAL_PER_ACCOUNT: f64 = 0.15 * 21.5 + 0.35 * 16.5 + 0.5 * 13.0 + 1.3 + 0.4 + 0.6;

/// Contacts and leads; `per_account` scales every kind to about that many rows per account.
pub(crate) fn generate<R: Rng>(
    rng: &mut R,
    accts: &[Account],
    clock: &Clock,
    per_account: Option<usize>,
) -> People {
    let n = accts.len();
    let scale = per_account.map_or(1.0, |k| k as f64 / NATURAL_PER_ACCOUNT);
    let mut contacts: Vec<Contact> = Vec::with_capacity((n as f64 * 18.0 * scale) as usize);
    let mut by_account: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut members = vec![0u32; n];
    let mut emails: HashSet<String> = HashSet::new();
    let mut next_anon: u32 = 0;

    for (ai, a) in accts.iter().enumerate() {
        let count = match a.tier {
            1 => unif_i(rng, 18, 25),
            2 => unif_i(rng, 13, 20),
            _ => unif_i(rng, 10, 16),
        };
        let count = ((count as f64) * scale).round().max(1.0) as i64;
        for _ in 0..count {
            let c = make_person(rng, a, ai, Kind::Member, clock, &mut emails, &mut next_anon);
            by_account[ai].push(contacts.len() as u32);
            contacts.push(c);
        }
        members[ai] = count as u32;
    }
    // Leads without an account.
    let domain_leads = (n as f64 * 1.3 * scale).round() as usize;
    let freemail_match = (n as f64 * 0.4 * scale).round() as usize;
    for k in 0..(domain_leads + freemail_match) {
        let ai = rng.random_range(0..n);
        let kind = if k < domain_leads {
            Kind::DomainLead
        } else {
            Kind::FreemailMatch
        };
        let c = make_person(
            rng,
            &accts[ai],
            ai,
            kind,
            clock,
            &mut emails,
            &mut next_anon,
        );
        by_account[ai].push(contacts.len() as u32);
        contacts.push(c);
    }
    let mut unrelated = Vec::new();
    let freemail_other = ((n as f64 * 0.6 * scale).round() as usize).max(1);
    for _ in 0..freemail_other {
        let ai = rng.random_range(0..n);
        let c = make_person(
            rng,
            &accts[ai],
            ai,
            Kind::FreemailOther,
            clock,
            &mut emails,
            &mut next_anon,
        );
        unrelated.push(contacts.len() as u32);
        contacts.push(c);
    }
    let id_width = contacts.len().to_string().len().max(6);
    for (i, c) in contacts.iter_mut().enumerate() {
        c.id = format!("con-{:0w$}", i + 1, w = id_width);
    }
    // Pure anonymous visitors.
    let mut anon_first = Vec::with_capacity(n);
    let mut anon_count = Vec::with_capacity(n);
    for m in &members {
        let k = ((*m as f64) * 1.2).round().max(3.0) as u32;
        anon_first.push(next_anon);
        anon_count.push(k);
        next_anon += k;
    }
    let stray_first = next_anon;
    let stray_count = (n as u32).saturating_mul(3).max(10);
    People {
        contacts,
        by_account,
        members,
        unrelated,
        anon_first,
        anon_count,
        stray_first,
        stray_count,
    }
}

fn make_person<R: Rng>(
    rng: &mut R,
    a: &Account,
    ai: usize,
    kind: Kind,
    clock: &Clock,
    emails: &mut HashSet<String>,
    next_anon: &mut u32,
) -> Contact {
    let lang = if kind == Kind::FreemailOther {
        *pick(
            rng,
            &[Lang::En, Lang::En, Lang::Zh, Lang::Es, Lang::In, Lang::De],
        )
    } else if chance(rng, 0.85) {
        a.lang
    } else {
        *pick(rng, &[Lang::En, Lang::In, Lang::Zh, Lang::Es, Lang::Fr])
    };
    let (first, last, first_a, last_a) = person_name(rng, lang);

    // Title and roles.
    let title: Title = if chance(rng, 0.04) {
        ("", "unknown", "unknown", 0.0)
    } else if (lang == Lang::Zh || a.lang == Lang::Zh) && chance(rng, 0.6) {
        *pick_weighted_title(rng, names::ZH_TITLES)
    } else {
        *pick_weighted_title(rng, names::EN_TITLES)
    };
    let (title, department, seniority, _) = title;
    let fill_roles = !title.is_empty() && chance(rng, 0.70);
    let persona = persona_for(rng, department, seniority);

    // A lead from a small business the CRM does not know: about a third write from the
    // business's own domain, which no account has (the report's unmatched domains), the rest
    // from free mail.
    let other_company =
        (kind == Kind::FreemailOther).then(|| *pick(rng, names::UNRELATED_COMPANIES));
    let other_domain = other_company
        .and_then(names::unrelated_domain)
        .filter(|_| chance(rng, 0.35));

    // Email.
    let local = local_part(rng, lang, &first_a, &last_a);
    let domain: String = match kind {
        Kind::FreemailOther if other_domain.is_some() => {
            other_domain.map(str::to_string).unwrap_or_default()
        }
        Kind::Member => {
            let d = if a.domains.len() > 1 && chance(rng, 0.2) {
                &a.domains[1]
            } else {
                &a.domains[0]
            };
            if chance(rng, 0.05) {
                format!("{}.{d}", pick(rng, SUBDOMAINS))
            } else {
                d.clone()
            }
        }
        Kind::DomainLead => {
            let d = pick(rng, &a.domains).clone();
            if chance(rng, 0.45) {
                format!("{}.{d}", pick(rng, SUBDOMAINS))
            } else {
                d
            }
        }
        Kind::FreemailMatch | Kind::FreemailOther => {
            if lang == Lang::Zh {
                (*pick(rng, &["qq.com", "163.com", "qq.com", "gmail.com"])).to_string()
            } else {
                (*pick(rng, names::FREEMAIL)).to_string()
            }
        }
    };
    let mut email = format!("{local}@{domain}");
    let mut k = 2;
    while !emails.insert(email.clone()) {
        email = format!("{local}{k}@{domain}");
        k += 1;
    }
    let company = match kind {
        Kind::Member => String::new(),
        Kind::DomainLead | Kind::FreemailMatch => variant_name(rng, a),
        Kind::FreemailOther => other_company.unwrap_or_default().to_string(),
    };

    // Lifecycle.
    let acc_created = a.created.max(clock.start_ts - 1500 * DAY);
    let in_window_p = if kind == Kind::Member { 0.45 } else { 0.85 };
    let (lo, hi) = if acc_created < clock.start_ts && !chance(rng, in_window_p) {
        (acc_created, clock.start_ts - 1)
    } else {
        (acc_created.max(clock.start_ts), clock.end_ts - 3600)
    };
    // A working hour of the person's day, within the allowed span.
    let day = unif_i(rng, lo, hi).div_euclid(DAY) * DAY;
    let created = (day + unif_i(rng, 8 * 3600, 19 * 3600) - a.utc_offset * 3600).clamp(lo, hi);
    let lead_source = *pick_w(rng, names::LEAD_SOURCES);
    let lead_source_detail = *pick(rng, names::lead_source_details(lead_source));
    let self_reported = if chance(rng, 0.18) {
        *pick(rng, names::SELF_REPORTED)
    } else {
        ""
    };
    let mql = if chance(rng, 0.35) {
        let t = created + unif_i(rng, 3600, 120 * DAY);
        (t <= clock.end_ts).then_some(t)
    } else {
        None
    };
    let status = match mql {
        Some(_) => *pick_w(rng, &[("MQL", 5.0), ("SQL", 3.0), ("Working", 2.0)]),
        None => *pick_w(
            rng,
            &[
                ("Open", 4.0),
                ("Nurturing", 4.0),
                ("Working", 1.0),
                ("Disqualified", 1.0),
            ],
        ),
    };

    // Browser identity.
    let in_window = created >= clock.start_ts;
    let p_anon = match (kind, in_window) {
        (Kind::FreemailOther, _) => 0.4,
        (_, true) => 0.55,
        (_, false) => 0.2,
    };
    let anon = if chance(rng, p_anon) {
        let id = *next_anon;
        *next_anon += 1;
        Some(id)
    } else {
        None
    };

    let dept_f = match department {
        "marketing" => 3.0,
        "sales" => 1.5,
        "operations" => 1.2,
        "product" | "executive" => 1.0,
        "it" => 0.8,
        "engineering" => 0.7,
        _ => 0.5,
    };
    let activity = if chance(rng, 0.25) {
        0.05
    } else {
        (1.0 / (1.0 - rng.random::<f64>()).max(0.02))
            .powf(0.6)
            .min(8.0)
    };
    let sen_f = match seniority {
        "c_level" => 2.2,
        "vp" => 2.0,
        "director" => 1.8,
        "manager" => 1.2,
        "individual" => 0.6,
        _ => 0.5,
    };
    let user_f = match seniority {
        "individual" => 2.0,
        "manager" => 1.5,
        "director" => 0.6,
        _ => 0.2,
    } * if matches!(department, "marketing" | "sales" | "operations") {
        2.0
    } else {
        0.5
    };
    let weight = (dept_f * activity) as f32;
    let _ = ai;
    Contact {
        id: String::new(),
        truth: (kind != Kind::FreemailOther).then_some(ai as u32),
        kind,
        email,
        first,
        last,
        company,
        title,
        department,
        seniority,
        fill_roles,
        persona,
        lead_source,
        lead_source_detail,
        self_reported,
        status,
        created,
        mql,
        anon,
        stitch: created,
        weight,
        senior_weight: (sen_f * (0.3 + activity.min(3.0))) as f32,
        user_weight: (user_f * unif(rng, 0.2, 1.8)) as f32,
    }
}

fn pick_weighted_title<'a, R: Rng>(rng: &mut R, titles: &'a [Title]) -> &'a Title {
    let total: f64 = titles.iter().map(|t| t.3).sum();
    let mut r = rng.random::<f64>() * total;
    for t in titles {
        if r < t.3 {
            return t;
        }
        r -= t.3;
    }
    &titles[titles.len() - 1]
}

fn persona_for<R: Rng>(rng: &mut R, department: &str, seniority: &str) -> &'static str {
    if chance(rng, 0.15) {
        return "";
    }
    match seniority {
        "c_level" | "vp" => {
            if chance(rng, 0.7) {
                "economic_buyer"
            } else {
                "influencer"
            }
        }
        "director" | "manager" => match department {
            "marketing" | "sales" | "operations" if chance(rng, 0.5) => "champion",
            "marketing" | "sales" | "operations" => "influencer",
            "it" | "engineering" => "technical_buyer",
            "procurement" | "legal" | "finance" => "gatekeeper",
            _ => "influencer",
        },
        "individual" => "user",
        _ => "",
    }
}

/// (first, last, first ascii, last ascii).
fn person_name<R: Rng>(rng: &mut R, lang: Lang) -> (String, String, String, String) {
    let (f, l): (&str, &str) = match lang {
        Lang::Zh => {
            let (fz, fp) = *pick(rng, names::ZH_FIRST);
            let (lz, lp) = *pick(rng, names::ZH_LAST);
            return (
                fz.to_string(),
                lz.to_string(),
                fp.to_string(),
                lp.to_string(),
            );
        }
        Lang::Ja => (*pick(rng, names::JA_FIRST), *pick(rng, names::JA_LAST)),
        Lang::De => (*pick(rng, names::DE_FIRST), *pick(rng, names::DE_LAST)),
        Lang::Fr => (*pick(rng, names::FR_FIRST), *pick(rng, names::FR_LAST)),
        Lang::Es => (*pick(rng, names::ES_FIRST), *pick(rng, names::ES_LAST)),
        Lang::Pt => (*pick(rng, names::PT_FIRST), *pick(rng, names::PT_LAST)),
        Lang::Nl => (*pick(rng, names::NL_FIRST), *pick(rng, names::NL_LAST)),
        Lang::Sv => (*pick(rng, names::SV_FIRST), *pick(rng, names::SV_LAST)),
        Lang::In => (*pick(rng, names::IN_FIRST), *pick(rng, names::IN_LAST)),
        Lang::En => (*pick(rng, names::EN_FIRST), *pick(rng, names::EN_LAST)),
    };
    (f.to_string(), l.to_string(), ascii_fold(f), ascii_fold(l))
}

/// Lower-case ASCII for email local parts: accents folded, spaces and apostrophes dropped.
pub(crate) fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        let lower: String = ch.to_lowercase().collect();
        for c in lower.chars() {
            match c {
                'a'..='z' | '0'..='9' => out.push(c),
                'ä' => out.push_str("ae"),
                'ö' => out.push_str("oe"),
                'ü' => out.push_str("ue"),
                'ß' => out.push_str("ss"),
                'á' | 'à' | 'â' | 'ã' => out.push('a'),
                'é' | 'è' | 'ê' | 'ë' => out.push('e'),
                'í' | 'ì' | 'î' | 'ï' => out.push('i'),
                'ó' | 'ò' | 'ô' | 'õ' => out.push('o'),
                'ú' | 'ù' | 'û' => out.push('u'),
                'ç' => out.push('c'),
                'ñ' => out.push('n'),
                _ => {}
            }
        }
    }
    if out.is_empty() { "x".to_string() } else { out }
}

fn local_part<R: Rng>(rng: &mut R, lang: Lang, first: &str, last: &str) -> String {
    if lang == Lang::Zh {
        return match rng.random_range(0..3) {
            0 => format!("{first}.{last}"),
            1 => format!("{last}{first}"),
            _ => format!("{last}.{first}"),
        };
    }
    let initial = &first[..1];
    match rng.random_range(0..20) {
        0..=11 => format!("{first}.{last}"),
        12..=16 => format!("{initial}{last}"),
        17 | 18 => first.to_string(),
        _ => format!("{first}_{last}"),
    }
}

/// A spelling of the account's name as a lead would type it ("ACME Corp." for "Acme
/// Corporation Ltd"): case, punctuation and legal-suffix changes only, so a fuzzy matcher
/// can still recognise it.
pub(crate) fn variant_name<R: Rng>(rng: &mut R, a: &Account) -> String {
    match &a.parts {
        NameParts::Western { core, suffix } => {
            let alt = match *suffix {
                "Inc." | "Inc" => *pick(rng, &["Incorporated", "Inc", "inc."]),
                "LLC" => "L.L.C.",
                "Corp." | "Corporation" => *pick(rng, &["Corp", "Corporation", "Corp."]),
                "Ltd" | "Ltd." | "Limited" => *pick(rng, &["Limited", "Ltd.", "LTD"]),
                "GmbH" => "G.m.b.H.",
                "S.A." => "SA",
                "B.V." => "BV",
                other => other,
            };
            match rng.random_range(0..6) {
                0 => core.to_uppercase(),
                1 => format!("{core} {alt}"),
                2 => format!("{core}, {suffix}"),
                3 => core.to_lowercase(),
                4 => format!("{} {alt}", core.to_uppercase()),
                _ => core.replace(' ', "-"),
            }
        }
        NameParts::Chinese { city, core } => match rng.random_range(0..3) {
            0 => format!("{core}有限公司"),
            1 => format!("{city}{core}"),
            _ => format!("{city}{core}股份有限公司"),
        },
        NameParts::Japanese { core, prefix } => match rng.random_range(0..3) {
            0 => core.clone(),
            1 if *prefix => format!("{core}株式会社"),
            1 => format!("株式会社{core}"),
            _ => format!("{core}(株)"),
        },
    }
}

pub(crate) fn write(
    out_dir: &Path,
    people: &People,
    accts: &[Account],
    _clock: &Clock,
) -> Result<(String, PathBuf, u64)> {
    let mut t = Table::create(
        out_dir,
        "contacts",
        &[
            "id",
            "account_id",
            "email",
            "first_name",
            "last_name",
            "company",
            "title",
            "department",
            "seniority",
            "persona",
            "lead_source",
            "lead_source_detail",
            "self_reported_source",
            "status",
            "created_at",
            "mql_at",
        ],
    )?;
    for c in &people.contacts {
        let account_id = match (c.kind, c.truth) {
            (Kind::Member, Some(a)) => accts[a as usize].id.as_str(),
            _ => "",
        };
        let created = ts_string(c.created);
        let mql = c.mql.map(ts_string).unwrap_or_default();
        let (dept, sen) = if c.fill_roles {
            (c.department, c.seniority)
        } else {
            ("", "")
        };
        t.row([
            c.id.as_str(),
            account_id,
            c.email.as_str(),
            c.first.as_str(),
            c.last.as_str(),
            c.company.as_str(),
            c.title,
            dept,
            sen,
            c.persona,
            c.lead_source,
            c.lead_source_detail,
            c.self_reported,
            c.status,
            created.as_str(),
            mql.as_str(),
        ])?;
    }
    t.finish()
}
