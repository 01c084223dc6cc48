//! Accounts (companies), their domains and reverse-IP ranges.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use anyhow::Result;
use rand::Rng;

use super::names::{self, Lang};
use super::networks::{Networks, Owner, Span};
use super::{Clock, Table, chance, log_unif, normalish, pick, pick_w, ts_string, unif, unif_i};

/// How the company name is built, for variant spellings.
#[derive(Clone, Debug)]
pub(crate) enum NameParts {
    /// `brand word suffix`, e.g. ("Aster Cloud", "Inc.").
    Western { core: String, suffix: &'static str },
    /// `city brand industry 有限公司`.
    Chinese { city: &'static str, core: String },
    /// `株式会社 core` or `core 株式会社`.
    Japanese { core: String, prefix: bool },
}

/// The account's IPv4 block: the whole /24 slot, and what `ip_ranges.csv` says about it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum V4Form {
    None,
    Cidr { base: u32, prefix: u8 },
    Range { start: u32, end: u32 },
}

pub(crate) struct Account {
    pub id: String,
    pub name: String,
    pub parts: NameParts,
    pub domains: Vec<String>,
    pub industry: &'static str,
    pub region: &'static str,
    pub country: &'static str,
    pub lang: Lang,
    pub utc_offset: i64,
    pub employees: u32,
    pub annual_revenue: u64,
    pub tier: u8,
    pub is_target: bool,
    pub owner: &'static str,
    pub created: i64,
    /// Baseline engagement intensity.
    pub base: f64,
    pub v4: V4Form,
    /// IPv6 /48 block number (`2001:db8:XXXX::/48`).
    pub v6: Option<u16>,
    /// The business range sits inside the ISP /16 (10.250.0.0/16).
    pub nested: bool,
    /// ip_ranges rows name the domain instead of the account id.
    pub ip_by_domain: bool,
    /// Further office blocks listed for the account (`--ip-ranges`; empty by default).
    pub extra: Vec<Span>,
}

impl Account {
    /// The name without legal suffix, as people write it.
    pub fn short(&self) -> String {
        match &self.parts {
            NameParts::Western { core, .. } => core.clone(),
            NameParts::Chinese { core, .. } => core.clone(),
            NameParts::Japanese { core, .. } => core.clone(),
        }
    }

    /// An IP address of this account's office network, chosen by `h`; None when the account has
    /// no known range.
    pub fn office_ip(&self, h: u64, out: &mut String) -> bool {
        if !self.extra.is_empty() && (h >> 40).is_multiple_of(4) {
            // One of the further offices (only with `--ip-ranges`).
            self.extra[((h >> 42) % self.extra.len() as u64) as usize].ip(h, out);
            return true;
        }
        let v4 = match self.v4 {
            V4Form::None => None,
            V4Form::Cidr { base, prefix } => {
                let size = 1u32 << (32 - prefix);
                Some((base, base + size - 1))
            }
            V4Form::Range { start, end } => Some((start, end)),
        };
        match (v4, self.v6) {
            (Some((s, e)), v6) if v6.is_none() || !h.is_multiple_of(4) => {
                let (s, e) = if e - s >= 3 { (s + 1, e - 1) } else { (s, e) };
                let ip = s + ((h >> 8) % u64::from(e - s + 1)) as u32;
                let _ = write!(out, "{}", Ipv4Addr::from(ip));
                true
            }
            (_, Some(block)) => {
                let a = Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    block,
                    ((h >> 8) & 0xff) as u16,
                    0,
                    0,
                    0,
                    ((h >> 16) & 0xffff) as u16 | 1,
                );
                let _ = write!(out, "{a}");
                true
            }
            _ => false,
        }
    }
}

/// An address outside every account range: consumer ISP (inside the isp /16 but not in a
/// nested business range, or one of the extra ISP ranges), hosting/cloud, or unlisted
/// documentation space.
pub(crate) fn stray_ip(h: u64, nets: &Networks, out: &mut String) {
    let host = ((h >> 16) % 254 + 1) as u8;
    let extra = (h >> 56).is_multiple_of(2);
    match h % 10 {
        0..=4 if extra && !nets.isp.is_empty() => nets.isp_span(h).ip(h, out),
        5 | 6 if extra && !nets.hosting.is_empty() => nets.hosting_span(h).ip(h, out),
        0..=4 => {
            // 10.250.200-255.x: ISP space without any business sub-range.
            let third = 200 + ((h >> 24) % 56) as u8;
            let _ = write!(out, "{}", Ipv4Addr::new(10, 250, third, host));
        }
        5 | 6 => {
            let third = ((h >> 24) % 256) as u8;
            let _ = write!(out, "{}", Ipv4Addr::new(10, 251, third, host));
        }
        7 => {
            let _ = write!(out, "{}", Ipv4Addr::new(198, 51, 100, host));
        }
        8 => {
            let _ = write!(out, "{}", Ipv4Addr::new(203, 0, 113, host));
        }
        _ => {
            let a = Ipv6Addr::new(
                0x2001,
                0xdb8,
                0xfffe,
                0,
                0,
                0,
                0,
                ((h >> 32) & 0xffff) as u16 | 1,
            );
            let _ = write!(out, "{a}");
        }
    }
}

/// A home (consumer ISP) address, stable per person: in the isp /16, or with extra ISP
/// ranges mostly in one of those.
pub(crate) fn home_ip(h: u64, nets: &Networks, out: &mut String) {
    if !nets.isp.is_empty() && !(h >> 56).is_multiple_of(3) {
        nets.isp_span(h).ip(h, out);
        return;
    }
    let third = 200 + ((h >> 24) % 56) as u8;
    let host = ((h >> 16) % 254 + 1) as u8;
    let _ = write!(out, "{}", Ipv4Addr::new(10, 250, third, host));
}

const NESTED_MAX: u32 = 200;

/// The /24 slot of the `i`-th account (`10.1.0.0` … `10.190.249.0`), None beyond 47,500.
pub(crate) fn slot_base(i: usize) -> Option<u32> {
    let slot = u32::try_from(i).ok()?;
    (slot < 190 * 250).then(|| {
        u32::from(Ipv4Addr::new(
            10,
            (1 + slot / 250) as u8,
            (slot % 250) as u8,
            0,
        ))
    })
}

pub(crate) fn generate<R: Rng>(rng: &mut R, n: usize, clock: &Clock) -> Vec<Account> {
    let mut used_cores: HashSet<String> = HashSet::new();
    let mut used_domains: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(n);
    let id_width = (n.to_string().len()).max(5);
    let mut nested_count = 0u32;
    for i in 0..n {
        let region = *pick_w(rng, names::REGIONS);
        let countries: Vec<(&names::Country, f64)> = names::COUNTRIES
            .iter()
            .filter(|c| c.region == region)
            .map(|c| (c, c.weight))
            .collect();
        let country = *pick_w(rng, &countries);
        let weights: Vec<(usize, f64)> = names::INDUSTRIES
            .iter()
            .enumerate()
            .map(|(k, (_, w, _))| (k, *w))
            .collect();
        let ind = *pick_w(rng, &weights);
        let (industry, _, rev_per_emp) = names::INDUSTRIES[ind];

        let (name, parts, core_slug) = company_name(rng, country, ind, &mut used_cores, i);
        let domains = make_domains(rng, country, &core_slug, &parts, &mut used_domains, i);

        let tier = *pick_w(rng, &[(1u8, 15.0), (2u8, 35.0), (3u8, 50.0)]);
        let employees = match tier {
            1 => log_unif(rng, 5_000.0, 120_000.0),
            2 => log_unif(rng, 500.0, 5_000.0),
            _ => log_unif(rng, 20.0, 500.0),
        } as u32;
        let annual_revenue = ((employees as f64 * rev_per_emp * unif(rng, 0.6, 1.5)) / 100_000.0)
            .round()
            .max(1.0) as u64
            * 100_000;
        let p_target = match tier {
            1 => 0.55,
            2 => 0.22,
            _ => 0.07,
        };
        let is_target = chance(rng, p_target);
        let owners = names::OWNERS
            .iter()
            .find(|(r, _)| *r == region)
            .map(|(_, o)| *o)
            .unwrap_or(&["Jordan Blake"]);
        let owner = *pick(rng, owners);
        let created_day = if chance(rng, 0.88) {
            -unif_i(rng, 60, 1500)
        } else {
            unif_i(rng, 0, 600)
        };
        let created = clock.day_ts(created_day) + unif_i(rng, 8 * 3600, 18 * 3600);

        let tier_f = match tier {
            1 => 3.0,
            2 => 1.6,
            _ => 1.0,
        };
        let mut base = tier_f * if is_target { 2.5 } else { 1.0 } * (0.6 * normalish(rng)).exp();
        if chance(rng, 0.10) {
            base *= 0.15; // dormant
        }

        // Reverse-IP coverage.
        let regular_base = slot_base(i);
        let mut nested = false;
        let form_roll = rng.random::<f64>();
        let mut v6 = None;
        let v6_ok = i < 0xfff0;
        let mut v4 = V4Form::None;
        if let Some(slot_base) = regular_base {
            let want_nested =
                nested_count < NESTED_MAX && (chance(rng, 0.05) || (i == 2 && nested_count == 0));
            let base_ip = if want_nested {
                nested = true;
                let b = u32::from(Ipv4Addr::new(10, 250, nested_count as u8, 0));
                nested_count += 1;
                b
            } else {
                slot_base
            };
            if nested {
                v4 = V4Form::Cidr {
                    base: base_ip,
                    prefix: 24,
                };
            } else if form_roll < 0.10 {
                // no known range
            } else if form_roll < 0.62 {
                let prefix = *pick_w(
                    rng,
                    &[(24u8, 70.0), (25u8, 15.0), (26u8, 10.0), (27u8, 5.0)],
                );
                v4 = V4Form::Cidr {
                    base: base_ip,
                    prefix,
                };
            } else if form_roll < 0.80 {
                let start = base_ip + unif_i(rng, 1, 64) as u32;
                let end = base_ip + unif_i(rng, 128, 254) as u32;
                v4 = V4Form::Range { start, end };
            } else if form_roll < 0.88 {
                if v6_ok {
                    v6 = Some(i as u16 + 1);
                }
            } else {
                v4 = V4Form::Cidr {
                    base: base_ip,
                    prefix: 24,
                };
                if v6_ok {
                    v6 = Some(i as u16 + 1);
                }
            }
        }
        let ip_by_domain = chance(rng, 0.10);

        out.push(Account {
            id: format!("acc-{:0w$}", i + 1, w = id_width),
            name,
            parts,
            domains,
            industry,
            region,
            country: country.name,
            lang: country.lang,
            utc_offset: country.utc_offset,
            employees,
            annual_revenue,
            tier,
            is_target,
            owner,
            created,
            base,
            v4,
            v6,
            nested,
            ip_by_domain,
            extra: Vec::new(),
        });
    }
    out
}

fn company_name<R: Rng>(
    rng: &mut R,
    country: &names::Country,
    ind: usize,
    used: &mut HashSet<String>,
    i: usize,
) -> (String, NameParts, String) {
    for attempt in 0..400 {
        match country.lang {
            Lang::Zh => {
                let (bz, bp) = *pick(rng, names::ZH_BRANDS);
                let (iz, ip) = *pick(rng, names::ZH_INDUSTRY_WORDS[ind]);
                let (bz2, bp2) = if attempt > 40 {
                    *pick(rng, names::ZH_BRANDS)
                } else {
                    ("", "")
                };
                let core = format!("{bz}{bz2}{iz}");
                if !used.insert(core.clone()) {
                    continue;
                }
                let city = *pick(rng, names::ZH_CITIES);
                return (
                    format!("{city}{core}有限公司"),
                    NameParts::Chinese { city, core },
                    format!("{bp}{bp2}{ip}"),
                );
            }
            Lang::Ja => {
                let (bj, br) = *pick(rng, names::JA_BRANDS);
                let (ij, ir) = *pick(rng, names::JA_INDUSTRY_WORDS[ind]);
                let (bj2, br2) = if attempt > 40 {
                    *pick(rng, names::JA_BRANDS)
                } else {
                    ("", "")
                };
                let core = format!("{bj}{bj2}{ij}");
                if !used.insert(core.clone()) {
                    continue;
                }
                let prefix = chance(rng, 0.6);
                let name = if prefix {
                    format!("株式会社{core}")
                } else {
                    format!("{core}株式会社")
                };
                let slug = if chance(rng, 0.5) {
                    format!("{br}{br2}-{ir}")
                } else {
                    format!("{br}{br2}{ir}")
                };
                return (name, NameParts::Japanese { core, prefix }, slug);
            }
            _ => {
                let b = *pick(rng, names::BRANDS);
                let w = *pick(rng, names::INDUSTRY_WORDS[ind]);
                let core = if attempt > 60 {
                    let b2 = *pick(rng, names::BRANDS);
                    format!("{b} {b2} {w}")
                } else {
                    format!("{b} {w}")
                };
                if !used.insert(core.to_lowercase()) {
                    continue;
                }
                let suffix = *pick(rng, country.suffixes);
                let slug_words: Vec<String> = core.split(' ').map(str::to_lowercase).collect();
                let slug = if chance(rng, 0.2) {
                    slug_words.join("-")
                } else {
                    slug_words.join("")
                };
                return (
                    format!("{core} {suffix}"),
                    NameParts::Western { core, suffix },
                    slug,
                );
            }
        }
    }
    // Fallback for very large runs: number the name.
    let core = format!("Company {}", i + 1);
    used.insert(core.to_lowercase());
    (
        format!("{core} Ltd"),
        NameParts::Western {
            core,
            suffix: "Ltd",
        },
        format!("company{}", i + 1),
    )
}

fn make_domains<R: Rng>(
    rng: &mut R,
    country: &names::Country,
    slug: &str,
    parts: &NameParts,
    used: &mut HashSet<String>,
    i: usize,
) -> Vec<String> {
    let local_first = matches!(country.lang, Lang::Zh | Lang::Ja) || chance(rng, 0.7);
    let primary_tld = if local_first {
        *pick(rng, country.tlds)
    } else {
        ".com"
    };
    let mut domains = Vec::with_capacity(2);
    let mut first = format!("{slug}{primary_tld}");
    if !used.insert(first.clone()) {
        first = format!("{slug}{}{primary_tld}", i + 1);
        used.insert(first.clone());
    }
    domains.push(first);
    if chance(rng, 0.35) {
        let mut candidates: Vec<String> = Vec::new();
        if primary_tld != ".com" {
            candidates.push(format!("{slug}.com"));
        }
        for t in country.tlds {
            if *t != primary_tld {
                candidates.push(format!("{slug}{t}"));
            }
        }
        if primary_tld == ".com" && country.tlds[0] != ".com" {
            candidates.push(format!("{slug}{}", country.tlds[0]));
        }
        match parts {
            NameParts::Western { core, .. } => {
                let brand = core.split(' ').next().unwrap_or("brand").to_lowercase();
                candidates.push(format!("{brand}{}.io", slug.len()));
                candidates.push(format!("get{slug}.com"));
            }
            _ => candidates.push(format!("{slug}.net")),
        }
        let choice = candidates[rng.random_range(0..candidates.len())].clone();
        if used.insert(choice.clone()) {
            domains.push(choice);
        }
    }
    domains
}

pub(crate) fn write_accounts(
    out_dir: &Path,
    accts: &[Account],
    _clock: &Clock,
) -> Result<(String, PathBuf, u64)> {
    let mut t = Table::create(
        out_dir,
        "accounts",
        &[
            "id",
            "name",
            "domain",
            "industry",
            "region",
            "country",
            "employees",
            "annual_revenue",
            "tier",
            "is_target",
            "owner",
            "created_at",
        ],
    )?;
    for a in accts {
        let domain = a.domains.join(";");
        let employees = a.employees.to_string();
        let revenue = a.annual_revenue.to_string();
        let tier = format!("Tier {}", a.tier);
        let created = ts_string(a.created);
        t.row([
            a.id.as_str(),
            a.name.as_str(),
            domain.as_str(),
            a.industry,
            a.region,
            a.country,
            employees.as_str(),
            revenue.as_str(),
            tier.as_str(),
            if a.is_target { "true" } else { "false" },
            a.owner,
            created.as_str(),
        ])?;
    }
    t.finish()
}

/// The ranges type of an account's blocks.
pub(crate) fn range_kind(a: &Account) -> &'static str {
    if a.industry == "Education" {
        "education"
    } else {
        "business"
    }
}

pub(crate) fn write_ip_ranges(
    out_dir: &Path,
    accts: &[Account],
    nets: &Networks,
) -> Result<(String, PathBuf, u64)> {
    let mut t = Table::create(
        out_dir,
        "ip_ranges",
        &["network", "account_id", "domain", "type"],
    )?;
    let mut first_nested: Option<&Account> = None;
    for a in accts {
        let (acc, dom) = if a.ip_by_domain {
            ("", a.domains[0].as_str())
        } else {
            (a.id.as_str(), "")
        };
        let kind = range_kind(a);
        match a.v4 {
            V4Form::None => {}
            V4Form::Cidr { base, prefix } => {
                let net = format!("{}/{prefix}", Ipv4Addr::from(base));
                t.row([net.as_str(), acc, dom, kind])?;
            }
            V4Form::Range { start, end } => {
                let net = format!("{}-{}", Ipv4Addr::from(start), Ipv4Addr::from(end));
                t.row([net.as_str(), acc, dom, kind])?;
            }
        }
        if let Some(block) = a.v6 {
            let net = format!("{}/48", Ipv6Addr::new(0x2001, 0xdb8, block, 0, 0, 0, 0, 0));
            t.row([net.as_str(), acc, dom, kind])?;
        }
        if a.nested && first_nested.is_none() {
            first_nested = Some(a);
        }
    }
    // A consumer ISP /16 containing nested business /24s. A data vendor attributed it to an
    // account, but type `isp` never attributes: only the nested /24 does.
    let isp_owner = first_nested.unwrap_or(&accts[0]);
    t.row(["10.250.0.0/16", isp_owner.id.as_str(), "", "isp"])?;
    // A cloud/hosting range (VPNs, bots), listed under a software company's domain.
    let host_owner = accts
        .iter()
        .find(|a| a.industry == "Software")
        .unwrap_or(&accts[0]);
    t.row([
        "10.251.0.0/16",
        "",
        host_owner.domains[0].as_str(),
        "hosting",
    ])?;
    t.row(["2001:db8:ffff::/48", host_owner.id.as_str(), "", "hosting"])?;
    for x in &nets.extras {
        let (acc, dom) = match x.owner {
            Owner::Account(ai) => {
                let a = &accts[ai as usize];
                if a.ip_by_domain {
                    ("", a.domains[0].as_str())
                } else {
                    (a.id.as_str(), "")
                }
            }
            Owner::Domain(d) => ("", d),
        };
        t.row([x.network.as_str(), acc, dom, x.kind])?;
    }
    t.finish()
}
