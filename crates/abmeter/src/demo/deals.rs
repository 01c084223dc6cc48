//! Opportunities with stage history, monthly recurring revenue and customer surveys.

use std::path::{Path, PathBuf};

use anyhow::Result;
use rand::Rng;

use super::accounts::Account;
use super::names;
use super::people::{Kind, People};
use super::{
    Clock, DAY, FileEntry, Table, add_months, chance, date_string, log_unif, money, pick, pick_str,
    pick_w, ts_string, unif, unif_i,
};

const OPEN_STAGES: [&str; 5] = [
    "Prospecting",
    "Discovery",
    "Demo",
    "Proposal",
    "Negotiation",
];
const WON: &str = "Closed Won";
const LOST: &str = "Closed Lost";

pub(crate) const NEW_BUSINESS: &str = "new_business";
const UPSELL: &str = "upsell";
const CROSS_SELL: &str = "cross_sell";
const RENEWAL: &str = "renewal";

pub(crate) struct Opp {
    pub id: String,
    pub account: u32,
    pub name: String,
    pub amount: f64,
    pub stage: &'static str,
    pub kind: &'static str,
    pub created: i64,
    /// Midnight of close_date.
    pub close: i64,
    pub closed: bool,
    pub won: bool,
    pub source: &'static str,
    pub lead_source: &'static str,
    pub contract_months: Option<u32>,
    pub loss_reason: &'static str,
    pub competitor: &'static str,
    pub product: &'static str,
    pub owner: &'static str,
    pub self_reported: &'static str,
    pub stages: Vec<(&'static str, i64)>,
    /// The contact driving the deal (for demo requests and meetings before creation).
    pub champion: Option<u32>,
}

impl Opp {
    /// When the deal stops being worked: the close time, or the end of the data when open.
    pub fn worked_until(&self, clock: &Clock) -> i64 {
        if self.closed {
            self.stages.last().map(|s| s.1).unwrap_or(self.close)
        } else {
            clock.end_ts
        }
    }
}

/// A paying customer: from the first win to churn (exclusive), if any.
pub(crate) struct Customer {
    pub account: u32,
    pub since: i64,
    pub churn: Option<i64>,
    /// Relative product usage (grows with upsells).
    pub seats: f64,
}

pub(crate) struct RevenueRow {
    pub account: u32,
    pub month: i64,
    pub product: &'static str,
    pub mrr: f64,
}

pub(crate) struct Book {
    pub opps: Vec<Opp>,
    pub customers: Vec<Customer>,
    pub revenue: Vec<RevenueRow>,
}

enum RevEvent {
    Set(&'static str, f64),
    Add(&'static str, f64),
    Churn,
}

struct Ctx<'a> {
    clock: &'a Clock,
    people: &'a People,
}

pub(crate) fn generate<R: Rng>(
    rng: &mut R,
    accts: &[Account],
    people: &People,
    clock: &Clock,
) -> Book {
    let ctx = Ctx { clock, people };
    let mut opps: Vec<Opp> = Vec::new();
    let mut customers: Vec<Customer> = Vec::new();
    let mut revenue: Vec<RevenueRow> = Vec::new();
    let days = clock.days as i64;

    for (ai, a) in accts.iter().enumerate() {
        let acc_day = clock.day_of(a.created);
        let mut win: Option<(i64, u32, f64)> = None;

        // Customers since before the window.
        let legacy_created =
            clock.day_ts(days - 1 - unif_i(rng, 800, 1150)) + local_hour_ts(rng, a);
        let p_legacy = match a.tier {
            1 => 0.10,
            2 => 0.06,
            _ => 0.04,
        };
        if chance(rng, p_legacy) && a.created < legacy_created - 30 * DAY {
            let cycle = unif_i(rng, 30, 120);
            let o = new_business(rng, &ctx, a, ai, legacy_created, cycle, Some(true));
            win = Some((
                o.worked_until(clock),
                o.contract_months.unwrap_or(12),
                o.amount,
            ));
            opps.push(o);
        } else {
            let p_opp = match (a.is_target, a.tier) {
                (true, 1) => 0.6,
                (true, _) => 0.5,
                (false, 1) => 0.25,
                (false, _) => 0.17,
            } * if a.base < 0.3 { 0.4 } else { 1.0 };
            let lo = 75.max(acc_day + 90);
            let hi = days - 3;
            if chance(rng, p_opp) && lo < hi {
                // More recent deals are more frequent (growing business), so some are still open.
                let day = lo + ((hi - lo) as f64 * rng.random::<f64>().sqrt()) as i64;
                let created = clock.day_ts(day) + local_hour_ts(rng, a);
                let cycle = match a.tier {
                    1 => unif_i(rng, 60, 200),
                    2 => unif_i(rng, 40, 140),
                    _ => unif_i(rng, 20, 90),
                };
                let o = new_business(rng, &ctx, a, ai, created, cycle, None);
                let lost_at = (o.closed && !o.won).then_some(o.close);
                if o.won {
                    win = Some((
                        o.worked_until(clock),
                        o.contract_months.unwrap_or(12),
                        o.amount,
                    ));
                }
                opps.push(o);
                // A lost deal sometimes comes back later.
                if let Some(lost) = lost_at {
                    let again = lost + unif_i(rng, 120, 300) * DAY;
                    if chance(rng, 0.2) && again < clock.end_ts - 3 * DAY {
                        let cycle = unif_i(rng, 30, 120);
                        let o2 = new_business(rng, &ctx, a, ai, again, cycle, None);
                        if o2.won {
                            win = Some((
                                o2.worked_until(clock),
                                o2.contract_months.unwrap_or(12),
                                o2.amount,
                            ));
                        }
                        opps.push(o2);
                    }
                }
            }
        }

        if let Some((win_ts, cm, amount)) = win {
            journey(
                rng,
                &ctx,
                a,
                ai,
                win_ts,
                cm,
                amount,
                &mut opps,
                &mut customers,
                &mut revenue,
            );
        }
    }

    opps.sort_by_key(|o| (o.created, o.account));
    let width = opps.len().to_string().len().max(5);
    for (i, o) in opps.iter_mut().enumerate() {
        o.id = format!("opp-{:0w$}", i + 1, w = width);
    }
    revenue.sort_by_key(|r| (r.account, r.month));
    Book {
        opps,
        customers,
        revenue,
    }
}

/// Seconds into a day for a local business hour of the account, as UTC offset from midnight.
fn local_hour_ts<R: Rng>(rng: &mut R, a: &Account) -> i64 {
    let local = unif_i(rng, 9 * 3600, 17 * 3600);
    (local - a.utc_offset * 3600).clamp(0, DAY - 1)
}

fn champion<R: Rng>(rng: &mut R, ctx: &Ctx, ai: usize, before: i64) -> Option<u32> {
    let list = &ctx.people.by_account[ai];
    let members = ctx.people.members[ai] as usize;
    let cands: Vec<(u32, f64)> = list[..members]
        .iter()
        .filter(|&&c| ctx.people.contacts[c as usize].created < before)
        .map(|&c| (c, f64::from(ctx.people.contacts[c as usize].senior_weight)))
        .collect();
    if cands.is_empty() {
        None
    } else {
        Some(*pick_w(rng, &cands))
    }
}

/// Stage history: the first stage at `created`, `reached` open stages in all, then the closing
/// stage at `closed_at` when given; open deals keep every entry before the end of the data.
fn history<R: Rng>(
    rng: &mut R,
    created: i64,
    until: i64,
    reached: usize,
    close: Option<(&'static str, i64)>,
) -> Vec<(&'static str, i64)> {
    let reached = reached.clamp(1, OPEN_STAGES.len());
    let span = (until - created).max(reached as i64 * 7200);
    let mut fracs: Vec<f64> = (1..reached).map(|_| unif(rng, 0.05, 0.9)).collect();
    fracs.sort_by(f64::total_cmp);
    let mut out = Vec::with_capacity(reached + 1);
    out.push((OPEN_STAGES[0], created));
    let mut last = created;
    for (k, f) in fracs.iter().enumerate() {
        let t = (created + (span as f64 * f) as i64).max(last + 3600);
        out.push((OPEN_STAGES[k + 1], t));
        last = t;
    }
    if let Some((stage, at)) = close {
        out.push((stage, at.max(last + 3600)));
    }
    out
}

fn lead_source_for<R: Rng>(rng: &mut R, source: &str) -> &'static str {
    match source {
        "marketing" => pick_str(
            rng,
            &[
                "Web",
                "Webinar",
                "Paid Social",
                "Paid Search",
                "Content Syndication",
                "Event",
            ],
        ),
        "sales" => "Outbound",
        "partner" => "Partner",
        "other" => pick_str(rng, &["Referral", "Customer Referral"]),
        _ => pick_str(
            rng,
            &[
                "Web",
                "Webinar",
                "Paid Social",
                "Outbound",
                "Event",
                "Partner",
                "Referral",
            ],
        ),
    }
}

fn competitor_for<R: Rng>(rng: &mut R, reason: &str, won: bool) -> &'static str {
    let p = if reason == "Competitor" {
        1.0
    } else if won {
        0.35
    } else {
        0.3
    };
    if chance(rng, p) {
        pick_str(rng, names::COMPETITORS)
    } else {
        ""
    }
}

fn other_owner<R: Rng>(rng: &mut R, a: &Account) -> &'static str {
    if chance(rng, 0.8) {
        return a.owner;
    }
    names::OWNERS
        .iter()
        .find(|(r, _)| *r == a.region)
        .map(|(_, o)| *pick(rng, o))
        .unwrap_or(a.owner)
}

/// A new-business deal created at `created`; `force_won` closes it as won (legacy customers).
fn new_business<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    a: &Account,
    ai: usize,
    created: i64,
    cycle: i64,
    force_won: Option<bool>,
) -> Opp {
    let clock = ctx.clock;
    let acv = match a.tier {
        1 => log_unif(rng, 80_000.0, 400_000.0),
        2 => log_unif(rng, 30_000.0, 120_000.0),
        _ => log_unif(rng, 10_000.0, 40_000.0),
    };
    let cm = *pick_w(rng, &[(12u32, 60.0), (24, 25.0), (36, 15.0)]);
    let amount = (acv * cm as f64 / 12.0 / 100.0).round() * 100.0;
    let source = *pick_w(
        rng,
        &[
            ("marketing", 45.0),
            ("sales", 22.0),
            ("partner", 8.0),
            ("other", 5.0),
            ("", 20.0),
        ],
    );
    let lead_source = if source.is_empty() && chance(rng, 0.3) {
        ""
    } else {
        lead_source_for(rng, source)
    };
    let close_day_ts = (created + cycle * DAY).div_euclid(DAY) * DAY;
    let close_at = close_day_ts + unif_i(rng, 14 * 3600, 20 * 3600);
    let closes = force_won.is_some() || close_at <= clock.end_ts;
    let name = format!("{} - {}", a.short(), names::CORE_PRODUCT);
    let self_reported = if chance(rng, 0.25) {
        *pick(rng, names::SELF_REPORTED)
    } else {
        ""
    };
    let mut o = Opp {
        id: String::new(),
        account: ai as u32,
        name,
        amount,
        stage: "",
        kind: NEW_BUSINESS,
        created,
        close: close_day_ts,
        closed: false,
        won: false,
        source,
        lead_source,
        contract_months: if chance(rng, 0.9) { Some(cm) } else { None },
        loss_reason: "",
        competitor: "",
        product: names::CORE_PRODUCT,
        owner: other_owner(rng, a),
        self_reported,
        stages: Vec::new(),
        champion: champion(rng, ctx, ai, created),
    };
    if closes {
        let p_win =
            0.24 + if a.is_target { 0.12 } else { 0.0 } + if a.tier == 3 { 0.04 } else { 0.0 };
        let won = force_won.unwrap_or_else(|| chance(rng, p_win));
        finish_closed(rng, &mut o, won, close_at);
        if won {
            o.contract_months = Some(cm);
        }
    } else {
        finish_open(rng, &mut o, cycle, clock);
    }
    o
}

fn finish_closed<R: Rng>(rng: &mut R, o: &mut Opp, won: bool, close_at: i64) {
    o.closed = true;
    o.won = won;
    if won {
        let reached = *pick_w(rng, &[(5usize, 70.0), (4, 25.0), (3, 5.0)]);
        o.stages = history(rng, o.created, close_at, reached, Some((WON, close_at)));
        o.competitor = competitor_for(rng, "", true);
    } else {
        let reached = unif_i(rng, 1, 5) as usize;
        o.stages = history(rng, o.created, close_at, reached, Some((LOST, close_at)));
        o.loss_reason = *pick_w(rng, names::LOSS_REASONS);
        o.competitor = competitor_for(rng, o.loss_reason, false);
    }
    o.stage = o.stages.last().map(|s| s.0).unwrap_or(WON);
    // The close date is the day of the closing stage.
    o.close = o
        .stages
        .last()
        .map(|s| s.1.div_euclid(DAY) * DAY)
        .unwrap_or(o.close);
}

fn finish_open<R: Rng>(rng: &mut R, o: &mut Opp, cycle: i64, clock: &Clock) {
    let elapsed = (clock.end_ts - o.created) as f64 / (cycle * DAY) as f64;
    let reached = ((elapsed * 5.0).floor() as usize + 1).clamp(1, 5);
    let until = clock.end_ts - 3600;
    o.stages = history(rng, o.created, until, reached, None);
    // Keep the history inside the data window.
    for s in &mut o.stages {
        s.1 = s.1.min(until);
    }
    let mut last = 0;
    for s in &mut o.stages {
        if s.1 <= last {
            s.1 = last + 1;
        }
        last = s.1;
    }
    o.stage = o.stages.last().map(|s| s.0).unwrap_or("Prospecting");
    // Most open deals are expected to close in the future; a few have slipped past due.
    let end_day = clock.end_ts.div_euclid(DAY) * DAY;
    if chance(rng, 0.08) && o.created < end_day - 25 * DAY {
        o.close = end_day - unif_i(rng, 1, 20) * DAY;
    } else if o.close <= end_day {
        o.close = end_day + unif_i(rng, 7, 60) * DAY;
    }
    if o.competitor.is_empty() && chance(rng, 0.25) {
        o.competitor = *pick(rng, names::COMPETITORS);
    }
}

/// After the first win: expansions, renewals, contraction and churn, with the MRR they imply.
#[allow(clippy::too_many_arguments)]
fn journey<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    a: &Account,
    ai: usize,
    win_ts: i64,
    cm: u32,
    amount: f64,
    opps: &mut Vec<Opp>,
    customers: &mut Vec<Customer>,
    revenue: &mut Vec<RevenueRow>,
) {
    let clock = ctx.clock;
    let short = a.short();
    let mut platform = amount / cm as f64;
    let mut events: Vec<(i64, RevEvent)> =
        vec![(win_ts, RevEvent::Set(names::CORE_PRODUCT, platform))];
    let mut owned: Vec<&'static str> = vec![names::CORE_PRODUCT];
    let mut contract_end = add_months(win_ts, cm as i64);
    let mut next_exp = win_ts + unif_i(rng, 90, 200) * DAY;
    let mut churn = None;
    let mut seats = match a.tier {
        1 => 6.0,
        2 => 3.0,
        _ => 1.5,
    };
    loop {
        while next_exp < contract_end - 60 * DAY && next_exp <= clock.end_ts - 3 * DAY {
            let cross = chance(rng, 0.4) && owned.len() < 1 + names::CROSS_SELL_PRODUCTS.len();
            let (kind, product, annual) = if cross {
                let choices: Vec<&'static str> = names::CROSS_SELL_PRODUCTS
                    .iter()
                    .copied()
                    .filter(|p| !owned.contains(p))
                    .collect();
                let p = *pick(rng, &choices);
                (CROSS_SELL, p, platform * 12.0 * unif(rng, 0.1, 0.35))
            } else {
                (
                    UPSELL,
                    names::CORE_PRODUCT,
                    platform * 12.0 * unif(rng, 0.15, 0.5),
                )
            };
            let amount = (annual / 100.0).round().max(10.0) * 100.0;
            let created = next_exp.div_euclid(DAY) * DAY + local_hour_ts(rng, a);
            let cycle = unif_i(rng, 20, 70);
            let mut o = expansion_opp(rng, ctx, a, ai, kind, product, amount, created, 12);
            o.name = if kind == UPSELL {
                format!("{short} - Upsell - additional seats")
            } else {
                format!("{short} - {product}")
            };
            let close_day = (created + cycle * DAY).div_euclid(DAY) * DAY;
            let close_at = close_day + unif_i(rng, 14 * 3600, 20 * 3600);
            if close_at <= clock.end_ts {
                let won = chance(rng, 0.55);
                finish_closed(rng, &mut o, won, close_at);
                if won {
                    if kind == UPSELL {
                        platform += amount / 12.0;
                        events.push((close_at, RevEvent::Add(names::CORE_PRODUCT, amount / 12.0)));
                        seats *= 1.3;
                    } else {
                        owned.push(product);
                        events.push((close_at, RevEvent::Set(product, amount / 12.0)));
                    }
                }
            } else {
                o.close = close_day;
                finish_open(rng, &mut o, cycle, clock);
            }
            opps.push(o);
            next_exp += unif_i(rng, 150, 330) * DAY;
        }
        // Renewal, opened 90 days before the contract ends.
        let created = (contract_end - 90 * DAY).div_euclid(DAY) * DAY + local_hour_ts(rng, a);
        if created > clock.end_ts - DAY {
            break;
        }
        let cm2 = *pick_w(rng, &[(12u32, 70.0), (24, 20.0), (36, 10.0)]);
        let close_day = contract_end.div_euclid(DAY) * DAY;
        let close_at = close_day + unif_i(rng, 14 * 3600, 20 * 3600);
        if close_at <= clock.end_ts {
            let won = chance(rng, 0.72);
            let new_platform = if won {
                (platform * unif(rng, 0.75, 1.2) / 10.0).round() * 10.0
            } else {
                platform
            };
            let amount = (new_platform * cm2 as f64 / 100.0).round().max(1.0) * 100.0;
            let mut o = expansion_opp(
                rng,
                ctx,
                a,
                ai,
                RENEWAL,
                names::CORE_PRODUCT,
                amount,
                created,
                cm2,
            );
            finish_closed(rng, &mut o, won, close_at);
            if won {
                platform = amount / cm2 as f64;
                events.push((close_at, RevEvent::Set(names::CORE_PRODUCT, platform)));
                opps.push(o);
                contract_end = add_months(contract_end, cm2 as i64);
                next_exp = next_exp.max(close_at + 30 * DAY);
            } else {
                events.push((close_at, RevEvent::Churn));
                churn = Some(close_at);
                opps.push(o);
                break;
            }
        } else {
            let amount = (platform * 12.0 / 100.0).round().max(1.0) * 100.0;
            let mut o = expansion_opp(
                rng,
                ctx,
                a,
                ai,
                RENEWAL,
                names::CORE_PRODUCT,
                amount,
                created,
                12,
            );
            o.close = close_day;
            finish_open(rng, &mut o, (close_at - created) / DAY + 1, clock);
            // A renewal is due on the contract end date.
            o.close = close_day;
            opps.push(o);
            break;
        }
    }

    // Monthly MRR rows from the win month to the end month (or churn).
    let first = Clock::month_of(win_ts);
    let last = Clock::month_of(clock.end_ts);
    events.sort_by_key(|e| e.0);
    let mut lines: Vec<(&'static str, f64)> = Vec::new();
    let mut k = 0;
    for m in first..=last {
        let mut churned = false;
        while k < events.len() && Clock::month_of(events[k].0) <= m {
            match events[k].1 {
                RevEvent::Set(p, v) => match lines.iter_mut().find(|l| l.0 == p) {
                    Some(l) => l.1 = v,
                    None => lines.push((p, v)),
                },
                RevEvent::Add(p, v) => match lines.iter_mut().find(|l| l.0 == p) {
                    Some(l) => l.1 += v,
                    None => lines.push((p, v)),
                },
                RevEvent::Churn => churned = true,
            }
            k += 1;
        }
        if churned {
            break;
        }
        for (p, v) in &lines {
            if *v > 0.0 {
                revenue.push(RevenueRow {
                    account: ai as u32,
                    month: m,
                    product: p,
                    mrr: (*v * 100.0).round() / 100.0,
                });
            }
        }
    }
    customers.push(Customer {
        account: ai as u32,
        since: win_ts,
        churn,
        seats,
    });
}

#[allow(clippy::too_many_arguments)]
fn expansion_opp<R: Rng>(
    rng: &mut R,
    ctx: &Ctx,
    a: &Account,
    ai: usize,
    kind: &'static str,
    product: &'static str,
    amount: f64,
    created: i64,
    cm: u32,
) -> Opp {
    let (year, _, _) = super::civil(created.div_euclid(DAY));
    let source = if kind == RENEWAL {
        *pick_w(rng, &[("other", 60.0), ("", 40.0)])
    } else {
        *pick_w(rng, &[("sales", 50.0), ("marketing", 25.0), ("", 25.0)])
    };
    let lead_source = if source == "marketing" {
        lead_source_for(rng, source)
    } else {
        "Existing Customer"
    };
    Opp {
        id: String::new(),
        account: ai as u32,
        name: format!("{} - Renewal {year}", a.short()),
        amount,
        stage: "",
        kind,
        created,
        close: created,
        closed: false,
        won: false,
        source,
        lead_source,
        contract_months: Some(cm),
        loss_reason: "",
        competitor: "",
        product,
        owner: a.owner,
        self_reported: "",
        stages: Vec::new(),
        champion: champion(rng, ctx, ai, created),
    }
}

pub(crate) fn write_opportunities(
    out_dir: &Path,
    book: &Book,
    accts: &[Account],
    _clock: &Clock,
) -> Result<(FileEntry, FileEntry)> {
    let mut t = Table::create(
        out_dir,
        "opportunities",
        &[
            "id",
            "account_id",
            "name",
            "amount",
            "stage",
            "type",
            "created_at",
            "close_date",
            "is_closed",
            "is_won",
            "source",
            "lead_source",
            "contract_months",
            "loss_reason",
            "competitor",
            "product",
            "owner",
            "self_reported_source",
        ],
    )?;
    let mut s = Table::create(
        out_dir,
        "opportunity_stages",
        &["opportunity_id", "stage", "entered_at"],
    )?;
    for o in &book.opps {
        let amount = format!("{}", o.amount);
        let created = ts_string(o.created);
        let close = date_string(o.close);
        let cm = o.contract_months.map(|c| c.to_string()).unwrap_or_default();
        t.row([
            o.id.as_str(),
            accts[o.account as usize].id.as_str(),
            o.name.as_str(),
            amount.as_str(),
            o.stage,
            o.kind,
            created.as_str(),
            close.as_str(),
            if o.closed { "true" } else { "false" },
            if o.won { "true" } else { "false" },
            o.source,
            o.lead_source,
            cm.as_str(),
            o.loss_reason,
            o.competitor,
            o.product,
            o.owner,
            o.self_reported,
        ])?;
        for (stage, at) in &o.stages {
            let at = ts_string(*at);
            s.row([o.id.as_str(), stage, at.as_str()])?;
        }
    }
    Ok((t.finish()?, s.finish()?))
}

pub(crate) fn write_revenue(
    out_dir: &Path,
    book: &Book,
    accts: &[Account],
) -> Result<(String, PathBuf, u64)> {
    let mut t = Table::create(
        out_dir,
        "revenue",
        &["account_id", "month", "mrr", "product"],
    )?;
    for r in &book.revenue {
        let month = format!(
            "{:04}-{:02}",
            r.month.div_euclid(12),
            r.month.rem_euclid(12) + 1
        );
        let mrr = money(r.mrr);
        t.row([
            accts[r.account as usize].id.as_str(),
            month.as_str(),
            mrr.as_str(),
            r.product,
        ])?;
    }
    t.finish()
}

pub(crate) fn write_surveys<R: Rng>(
    rng: &mut R,
    out_dir: &Path,
    book: &Book,
    accts: &[Account],
    people: &People,
    clock: &Clock,
) -> Result<(String, PathBuf, u64)> {
    struct Survey {
        ts: i64,
        kind: &'static str,
        score: u8,
        account: u32,
        contact: Option<u32>,
        with_account: bool,
        comment: &'static str,
    }
    let mut rows: Vec<Survey> = Vec::new();
    for cust in &book.customers {
        let ai = cust.account as usize;
        let contacts: Vec<u32> = people.by_account[ai]
            .iter()
            .copied()
            .filter(|&c| people.contacts[c as usize].kind == Kind::Member)
            .collect();
        if contacts.is_empty() {
            continue;
        }
        // Accounts that will churn are less happy.
        let health = if cust.churn.is_some() {
            unif(rng, 0.0, 0.5)
        } else {
            unif(rng, 0.3, 1.0)
        };
        let stop = cust.churn.unwrap_or(clock.end_ts).min(clock.end_ts);
        let mut t = (cust.since + unif_i(rng, 60, 120) * DAY).max(clock.start_ts);
        // Quarterly NPS pulses.
        while t < stop {
            for _ in 0..unif_i(rng, 1, 3) {
                let ts = t + unif_i(rng, 0, 10 * DAY);
                if ts > stop {
                    continue;
                }
                let p_prom = 0.25 + 0.45 * health;
                let p_det = 0.35 - 0.3 * health;
                let r = rng.random::<f64>();
                let score: u8 = if r < p_prom {
                    unif_i(rng, 9, 10) as u8
                } else if r < p_prom + p_det {
                    *pick(rng, &[0u8, 2, 3, 4, 5, 5, 6, 6, 6])
                } else {
                    unif_i(rng, 7, 8) as u8
                };
                let comment = if chance(rng, 0.35) {
                    match score {
                        9..=10 => *pick(rng, names::NPS_COMMENTS_PROMOTER),
                        7..=8 => *pick(rng, names::NPS_COMMENTS_PASSIVE),
                        _ => *pick(rng, names::NPS_COMMENTS_DETRACTOR),
                    }
                } else {
                    ""
                };
                rows.push(Survey {
                    ts,
                    kind: "nps",
                    score,
                    account: cust.account,
                    contact: Some(*pick(rng, &contacts)),
                    with_account: chance(rng, 0.8),
                    comment,
                });
            }
            t += unif_i(rng, 80, 100) * DAY;
        }
        // Support CSAT, a few a quarter.
        let mut t = cust.since.max(clock.start_ts) + unif_i(rng, 5, 40) * DAY;
        while t < stop {
            let score = *pick_w(
                rng,
                &[
                    (5u8, 45.0 * (0.5 + health)),
                    (4, 30.0),
                    (3, 12.0),
                    (2, 8.0),
                    (1, 5.0 * (1.5 - health)),
                ],
            );
            rows.push(Survey {
                ts: t,
                kind: "csat",
                score,
                account: cust.account,
                contact: chance(rng, 0.9).then(|| *pick(rng, &contacts)),
                with_account: true,
                comment: if chance(rng, 0.3) {
                    pick_str(rng, names::CSAT_COMMENTS)
                } else {
                    ""
                },
            });
            t += unif_i(rng, 10, 60) * DAY + unif_i(rng, 0, DAY);
        }
    }
    rows.sort_by_key(|s| (s.ts, s.account));
    let mut t = Table::create(
        out_dir,
        "surveys",
        &[
            "id",
            "timestamp",
            "kind",
            "score",
            "account_id",
            "contact_id",
            "comment",
        ],
    )?;
    let width = rows.len().to_string().len().max(6);
    for (i, s) in rows.iter().enumerate() {
        let id = format!("srv-{:0w$}", i + 1, w = width);
        let ts = ts_string(s.ts.min(clock.end_ts));
        let score = s.score.to_string();
        let account = if s.with_account {
            accts[s.account as usize].id.as_str()
        } else {
            ""
        };
        let contact = s
            .contact
            .map(|c| people.contacts[c as usize].id.as_str())
            .unwrap_or("");
        let account = if account.is_empty() && contact.is_empty() {
            accts[s.account as usize].id.as_str()
        } else {
            account
        };
        t.row([
            id.as_str(),
            ts.as_str(),
            s.kind,
            score.as_str(),
            account,
            contact,
            s.comment,
        ])?;
    }
    t.finish()
}
