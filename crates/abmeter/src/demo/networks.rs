//! Extra reverse-IP ranges for scale runs (`--ip-ranges N`): `ip_ranges.csv` gets exactly N
//! rows, the accounts' own ranges (about one per account, `accounts.rs`) and three ISP and
//! hosting ranges first, then
//! - further blocks of accounts that already have a listed range (about two thirds of the
//!   extra rows; education accounts, typed `education`, get six times their share, as campus
//!   networks): /28 sub-blocks of the account's own /24 slot (inside or beside its listed
//!   range), a further IPv4 block (CIDR /24–/27 or a start-end range) and IPv6 /48s. Office
//!   addresses of the account fall in them too;
//! - `isp` (about a quarter) and `hosting` ranges named by the provider's domain; home and
//!   stray visitors' addresses fall in them too.
//!
//! The address plan keeps the generator's ground truth: every block of an account lies in
//! space no other account's range covers, and ISP and hosting ranges lie apart from every
//! business range. Account blocks: their slots (10.1.0.0–10.190.249.255), then 10.0.0.0/16,
//! 10.191.0.0–10.249.255.255, 10.252.0.0/14, 172.16.0.0/12, 192.168.0.0/16 and IPv6
//! 3fff:0000::/21 (the documentation prefix of RFC 9637). ISP and hosting: 100.64.0.0/10,
//! 198.18.0.0/15, then 3fff:800::/21. Untouched: the isp 10.250.0.0/16 with its nested
//! business /24s, the hosting 10.251.0.0/16 and 2001:db8:ffff::/48, and the unlisted stray
//! space (198.51.100.0/24, 203.0.113.0/24, 2001:db8:fffe::/48).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use anyhow::{Result, ensure};
use rand::Rng;
use rand::seq::SliceRandom;

use super::accounts::{self, Account, V4Form};
use super::{chance, names, pick_w, unif_i};

/// A listed block: an IPv4 span (inclusive) or an IPv6 /48.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    V4 { start: u32, end: u32 },
    V6 { prefix: u128 },
}

impl Span {
    /// An address inside the block chosen by `h` (not the first or last of a v4 block of
    /// three or more).
    pub fn ip(self, h: u64, out: &mut String) {
        match self {
            Span::V4 { start, end } => {
                let (s, e) = if end - start >= 3 {
                    (start + 1, end - 1)
                } else {
                    (start, end)
                };
                let ip = s + ((h >> 8) % u64::from(e - s + 1)) as u32;
                let _ = write!(out, "{}", Ipv4Addr::from(ip));
            }
            Span::V6 { prefix } => {
                let subnet = u128::from((h >> 8) & 0xff) << 64;
                let host = u128::from(((h >> 16) & 0xffff) | 1);
                let _ = write!(out, "{}", Ipv6Addr::from(prefix | subnet | host));
            }
        }
    }

    /// The `network` cell: `a.b.c.d/p` when the span is an aligned power of two, else
    /// `start-end`; `x::/48` for IPv6.
    fn network(self, as_range: bool) -> String {
        match self {
            Span::V4 { start, end } => {
                let size = u64::from(end - start) + 1;
                if !as_range && size.is_power_of_two() && u64::from(start) % size == 0 {
                    format!("{}/{}", Ipv4Addr::from(start), 32 - size.trailing_zeros())
                } else {
                    format!("{}-{}", Ipv4Addr::from(start), Ipv4Addr::from(end))
                }
            }
            Span::V6 { prefix } => format!("{}/48", Ipv6Addr::from(prefix)),
        }
    }
}

/// Who an extra range names.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owner {
    /// An account (by id, or by its first domain when the account's ranges name domains).
    Account(u32),
    /// A provider domain that names no account (isp and hosting ranges).
    Domain(&'static str),
}

/// One extra row of `ip_ranges.csv`.
#[derive(Debug)]
pub(crate) struct Extra {
    pub network: String,
    pub owner: Owner,
    pub kind: &'static str,
}

/// The extra ranges, and the ISP and hosting blocks visitors' addresses are drawn from.
#[derive(Debug, Default)]
pub(crate) struct Networks {
    pub extras: Vec<Extra>,
    pub isp: Vec<Span>,
    pub hosting: Vec<Span>,
}

impl Networks {
    /// An ISP block chosen by `h` (`isp` must not be empty).
    pub fn isp_span(&self, h: u64) -> Span {
        self.isp[((h >> 24) % self.isp.len() as u64) as usize]
    }

    /// A hosting block chosen by `h` (`hosting` must not be empty).
    pub fn hosting_span(&self, h: u64) -> Span {
        self.hosting[((h >> 24) % self.hosting.len() as u64) as usize]
    }
}

/// Rows of `ip_ranges.csv` without extras: the accounts' IPv4 and IPv6 ranges and the three
/// ISP/hosting ranges.
pub(crate) fn base_rows(accts: &[Account]) -> usize {
    let own: usize = accts
        .iter()
        .map(|a| usize::from(!matches!(a.v4, V4Form::None)) + usize::from(a.v6.is_some()))
        .sum();
    own + 3
}

/// Account blocks beyond the slots, ascending and disjoint.
const ACCOUNT_POOLS: &[(u32, u32)] = &[
    (0x0A00_0000, 0x0A00_FFFF), // 10.0.0.0/16
    (0x0ABF_0000, 0x0AF9_FFFF), // 10.191.0.0 – 10.249.255.255
    (0x0AFC_0000, 0x0AFF_FFFF), // 10.252.0.0/14
    (0xAC10_0000, 0xAC1F_FFFF), // 172.16.0.0/12
    (0xC0A8_0000, 0xC0A8_FFFF), // 192.168.0.0/16
];

/// ISP and hosting blocks, ascending and disjoint.
const PROVIDER_POOLS: &[(u32, u32)] = &[
    (0x6440_0000, 0x647F_FFFF), // 100.64.0.0/10
    (0xC612_0000, 0xC613_FFFF), // 198.18.0.0/15
];

/// 3fff::/20, the IPv6 documentation prefix: accounts in its lower half, providers above.
const V6_ACCOUNTS: u128 = 0x3fff_0000_u128 << 96;
const V6_PROVIDERS: u128 = 0x3fff_0800_u128 << 96;
const V6_MAX: u64 = 1 << 27;

/// Aligned blocks handed out in order from a list of pools.
struct Pool {
    ranges: &'static [(u32, u32)],
    i: usize,
    next: u64,
}

impl Pool {
    fn new(ranges: &'static [(u32, u32)]) -> Self {
        Self {
            ranges,
            i: 0,
            next: 0,
        }
    }

    /// The start of a free block of `size` addresses (a power of two), aligned to its size.
    fn alloc(&mut self, size: u64) -> Option<u32> {
        while let Some(&(s, e)) = self.ranges.get(self.i) {
            let at = self.next.max(u64::from(s)).div_ceil(size) * size;
            if at + size - 1 <= u64::from(e) {
                self.next = at + size;
                return Some(at as u32);
            }
            self.i += 1;
        }
        None
    }
}

/// IPv6 /48s handed out in order below `base`.
struct V6Pool {
    base: u128,
    next: u64,
}

impl V6Pool {
    fn alloc(&mut self) -> Result<Span> {
        ensure!(
            self.next < V6_MAX,
            "demo: out of IPv6 space for --ip-ranges"
        );
        let prefix = self.base | (u128::from(self.next) << 80);
        self.next += 1;
        Ok(Span::V6 { prefix })
    }
}

/// Plans `target − base_rows` extra ranges, records the accounts' further office blocks in
/// `Account::extra` and returns the rows and the provider blocks.
pub(crate) fn plan<R: Rng>(rng: &mut R, accts: &mut [Account], target: usize) -> Result<Networks> {
    let base = base_rows(accts);
    ensure!(
        target >= base,
        "demo: --ip-ranges must be at least {base} for {} accounts (their own ranges and three \
         ISP/hosting ranges)",
        accts.len()
    );
    let extra = target - base;
    let mut nets = Networks::default();
    if extra == 0 {
        return Ok(nets);
    }
    let weight = |a: &Account| -> u64 {
        let listed = !matches!(a.v4, V4Form::None) || a.v6.is_some();
        match (listed, a.industry == "Education") {
            (false, _) => 0,
            (true, true) => 6,
            (true, false) => 1,
        }
    };
    let total_w: u64 = accts.iter().map(weight).sum();
    let mut hosting = (extra as f64 * 0.08).round() as usize;
    let mut isp = (extra as f64 * 0.25).round() as usize;
    if total_w == 0 {
        isp = extra - hosting;
    }
    if isp + hosting > extra {
        hosting = extra.min(hosting);
        isp = extra - hosting;
    }
    let for_accounts = (extra - isp - hosting) as u64;

    // Accounts: shares by weight, the remainder one each in account order.
    let mut counts: Vec<u64> = accts
        .iter()
        .map(|a| for_accounts * weight(a) / total_w.max(1))
        .collect();
    let mut left = for_accounts - counts.iter().sum::<u64>();
    while left > 0 {
        for (i, a) in accts.iter().enumerate() {
            if left > 0 && weight(a) > 0 {
                counts[i] += 1;
                left -= 1;
            }
        }
    }
    let mut v4 = Pool::new(ACCOUNT_POOLS);
    let mut v6 = V6Pool {
        base: V6_ACCOUNTS,
        next: 0,
    };
    for (ai, a) in accts.iter_mut().enumerate() {
        let n = counts[ai] as usize;
        if n == 0 {
            continue;
        }
        let kind = accounts::range_kind(a);
        let mut slot_free: Vec<u32> = Vec::new();
        if let Some(slot) = accounts::slot_base(ai) {
            slot_free = (0..16).map(|j| slot + 16 * j).collect();
            slot_free.shuffle(rng);
        }
        a.extra.reserve_exact(n);
        for _ in 0..n {
            let r = rng.random::<f64>();
            let (span, as_range) = if r < 0.3 && !slot_free.is_empty() {
                let s = slot_free.pop().expect("not empty");
                (
                    Span::V4 {
                        start: s,
                        end: s + 15,
                    },
                    false,
                )
            } else if r < 0.8
                && let Some(b) = v4.alloc(256)
            {
                let form = rng.random::<f64>();
                if form < 0.45 {
                    (
                        Span::V4 {
                            start: b,
                            end: b + 255,
                        },
                        false,
                    )
                } else if form < 0.7 {
                    let size = *pick_w(rng, &[(128u32, 3.0), (64, 2.0), (32, 1.0)]);
                    (
                        Span::V4 {
                            start: b,
                            end: b + size - 1,
                        },
                        false,
                    )
                } else {
                    let start = b + unif_i(rng, 1, 64) as u32;
                    let end = b + unif_i(rng, 128, 254) as u32;
                    (Span::V4 { start, end }, true)
                }
            } else {
                (v6.alloc()?, false)
            };
            a.extra.push(span);
            nets.extras.push(Extra {
                network: span.network(as_range),
                owner: Owner::Account(ai as u32),
                kind,
            });
        }
    }

    // ISP and hosting ranges, named by provider domains no account has.
    let taken: HashSet<&str> = accts
        .iter()
        .flat_map(|a| a.domains.iter().map(String::as_str))
        .collect();
    let isp_domains: Vec<&'static str> = names::ISP_DOMAINS
        .iter()
        .copied()
        .filter(|d| !taken.contains(d))
        .collect();
    let hosting_domains: Vec<&'static str> = names::HOSTING_DOMAINS
        .iter()
        .copied()
        .filter(|d| !taken.contains(d))
        .collect();
    let mut pool = Pool::new(PROVIDER_POOLS);
    let mut pv6 = V6Pool {
        base: V6_PROVIDERS,
        next: 0,
    };
    // About 370 addresses on average: 12,000 ISP ranges fit in 100.64.0.0/10.
    const ISP_SIZES: &[(u64, f64)] = &[
        (64, 15.0),
        (128, 20.0),
        (256, 45.0),
        (512, 10.0),
        (1024, 6.0),
        (2048, 3.0),
        (4096, 1.0),
    ];
    const HOSTING_SIZES: &[(u64, f64)] = &[
        (32, 10.0),
        (64, 20.0),
        (128, 20.0),
        (256, 40.0),
        (1024, 10.0),
    ];
    for (count, sizes, domains, kind) in [
        (isp, ISP_SIZES, &isp_domains, "isp"),
        (hosting, HOSTING_SIZES, &hosting_domains, "hosting"),
    ] {
        for k in 0..count {
            let v6_share = if kind == "isp" { 0.08 } else { 0.15 };
            let block = if chance(rng, v6_share) {
                None
            } else {
                let size = *pick_w(rng, sizes);
                pool.alloc(size).map(|s| Span::V4 {
                    start: s,
                    end: s + (size - 1) as u32,
                })
            };
            let span = match block {
                Some(s) => s,
                None => pv6.alloc()?,
            };
            let as_range = matches!(span, Span::V4 { .. }) && chance(rng, 0.1);
            let domain = if domains.is_empty() {
                if kind == "isp" {
                    "isp.invalid"
                } else {
                    "hosting.invalid"
                }
            } else {
                domains[k % domains.len()]
            };
            nets.extras.push(Extra {
                network: span.network(as_range),
                owner: Owner::Domain(domain),
                kind,
            });
            if kind == "isp" {
                nets.isp.push(span);
            } else {
                nets.hosting.push(span);
            }
        }
    }
    debug_assert_eq!(nets.extras.len(), extra);
    Ok(nets)
}
