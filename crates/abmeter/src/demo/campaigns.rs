//! Campaigns on every channel, and daily ad delivery (`ad_performance.csv`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use rand::Rng;

use super::accounts::Account;
use super::{Clock, DAY, Table, chance, civil, date_string, log_unif, money, unif, unif_i};

pub(crate) const CHANNELS: [&str; 12] = [
    "paid_social",
    "paid_search",
    "display",
    "email",
    "content_syndication",
    "webinar",
    "event",
    "organic_search",
    "organic_social",
    "referral",
    "direct",
    "sales",
];
pub(crate) const PAID_SOCIAL: u8 = 0;
pub(crate) const PAID_SEARCH: u8 = 1;
pub(crate) const DISPLAY: u8 = 2;
pub(crate) const EMAIL: u8 = 3;
pub(crate) const SYNDICATION: u8 = 4;
pub(crate) const WEBINAR: u8 = 5;
pub(crate) const EVENT: u8 = 6;
pub(crate) const ORGANIC_SEARCH: u8 = 7;
pub(crate) const ORGANIC_SOCIAL: u8 = 8;
pub(crate) const REFERRAL: u8 = 9;
pub(crate) const DIRECT: u8 = 10;
pub(crate) const SALES: u8 = 11;

pub(crate) fn is_ad_channel(ch: u8) -> bool {
    matches!(ch, PAID_SOCIAL | PAID_SEARCH | DISPLAY | SYNDICATION)
}

pub(crate) struct Campaign {
    pub id: String,
    pub name: String,
    pub channel: u8,
    pub kind: &'static str,
    /// Midnight of start_date / end_date.
    pub start: i64,
    pub end: i64,
    pub budget: f64,
    pub actual_cost: f64,
    /// utm_campaign value.
    pub slug: String,
    pub video: bool,
    /// Planned media spend per day (ad channels).
    pub daily: f64,
    /// Day of the webinar / event (midnight), for webinar and event campaigns.
    pub event_day: i64,
    pub dinner: bool,
}

struct Plan {
    name: String,
    channel: u8,
    kind: &'static str,
    start: i64,
    end: i64,
    video: bool,
    daily: f64,
    event_day: i64,
    dinner: bool,
}

fn quarter_label(ts: i64) -> String {
    let (y, m, _) = civil(ts.div_euclid(DAY));
    format!("{y}-Q{}", (m - 1) / 3 + 1)
}

fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

pub(crate) fn generate<R: Rng>(rng: &mut R, clock: &Clock) -> Vec<Campaign> {
    let days = clock.days as i64;
    let mut plans: Vec<Plan> = Vec::new();
    let always_start = clock.day_ts(-unif_i(rng, 60, 200));
    let always_end = clock.day_ts(days + 180);

    // Time-boxed ad programmes.
    let series: [(u8, &str, &[&str], f64, f64); 4] = [
        (
            PAID_SOCIAL,
            "LinkedIn",
            &[
                "Tier 1 Intent",
                "Thought Leadership Video",
                "Retargeting",
                "Conversation Ads",
                "Document Ads - ABM Guide",
                "Customer Stories Video",
            ],
            300.0,
            1000.0,
        ),
        (
            PAID_SEARCH,
            "Google Ads",
            &[
                "ABM Software",
                "Competitor Terms",
                "Intent Data",
                "Attribution Keywords",
            ],
            150.0,
            600.0,
        ),
        (
            DISPLAY,
            "Display",
            &[
                "Account Retargeting",
                "Intent Surge",
                "Programmatic Video",
                "Industry Publishers",
            ],
            100.0,
            400.0,
        ),
        (
            SYNDICATION,
            "Syndication",
            &[
                "ABM Benchmark Report",
                "Buyer's Guide",
                "Attribution Playbook",
                "State of B2B Marketing",
            ],
            150.0,
            450.0,
        ),
    ];
    for (ch, platform, themes, lo, hi) in series {
        let mut t = -unif_i(rng, 0, 40);
        let mut k = rng.random_range(0..themes.len());
        while t < days + 20 {
            let len = unif_i(rng, 60, 150);
            let theme = themes[k % themes.len()];
            k += 1;
            let start = clock.day_ts(t);
            plans.push(Plan {
                name: format!("{platform} - {theme} - {}", quarter_label(start)),
                channel: ch,
                kind: match ch {
                    PAID_SOCIAL => "Paid Social",
                    PAID_SEARCH => "Paid Search",
                    DISPLAY => "Advertisement",
                    _ => "Content Syndication",
                },
                start,
                end: clock.day_ts(t + len - 1),
                video: theme.contains("Video"),
                daily: unif(rng, lo, hi),
                event_day: 0,
                dinner: false,
            });
            t += ((len as f64) * unif(rng, 0.55, 1.0)) as i64;
        }
    }
    plans.push(Plan {
        name: "Google Ads - Brand".into(),
        channel: PAID_SEARCH,
        kind: "Paid Search",
        start: always_start,
        end: always_end,
        video: false,
        daily: unif(rng, 80.0, 200.0),
        event_day: 0,
        dinner: false,
    });

    // Email programmes.
    for (name, kind) in [
        ("Monthly Newsletter", "Email"),
        ("Nurture - Marketing Leaders", "Nurture"),
        ("Nurture - Sales & RevOps", "Nurture"),
        ("Customer Newsletter", "Email"),
    ] {
        plans.push(Plan {
            name: name.into(),
            channel: EMAIL,
            kind,
            start: always_start,
            end: always_end,
            video: false,
            daily: 0.0,
            event_day: 0,
            dinner: false,
        });
    }
    for (name, at) in [
        ("Product Launch - Intent Data", 0.3),
        ("Event Invite - B2B Marketing Summit", 0.45),
        ("Product Launch - Data-Driven Attribution", 0.8),
    ] {
        let d = (days as f64 * at) as i64;
        plans.push(Plan {
            name: name.into(),
            channel: EMAIL,
            kind: "Email",
            start: clock.day_ts(d),
            end: clock.day_ts(d + 30),
            video: false,
            daily: 0.0,
            event_day: 0,
            dinner: false,
        });
    }

    // Webinars: one every ~10 weeks, the last one upcoming.
    let topics = [
        "Engagement minutes explained",
        "ABM metrics that matter",
        "Attribution beyond last touch",
        "Building your ideal heatmap",
        "From MQL to MQA",
        "Intent data in practice",
        "Pipeline velocity for RevOps",
        "ABM for APAC: 出海营销实战",
        "Expansion revenue playbook",
        "Dark funnel: self-reported attribution",
    ];
    let mut d = unif_i(rng, 20, 60);
    let mut k = 0;
    while d < days + 25 {
        let day = clock.day_ts(d);
        let (y, m, _) = civil(day.div_euclid(DAY));
        plans.push(Plan {
            name: format!("Webinar: {} ({y}-{m:02})", topics[k % topics.len()]),
            channel: WEBINAR,
            kind: "Webinar",
            start: clock.day_ts(d - 21),
            end: day,
            video: false,
            daily: 0.0,
            event_day: day,
            dinner: false,
        });
        k += 1;
        d += unif_i(rng, 56, 84);
    }

    // Events: a yearly summit, a Shanghai summit, executive dinners.
    let mut events: Vec<(String, i64, bool)> = Vec::new();
    for year_off in [0i64, 365] {
        let d = 150 + year_off + unif_i(rng, -20, 20);
        let (y, _, _) = civil(clock.day_ts(d).div_euclid(DAY));
        events.push((format!("B2B Marketing Summit {y}"), d, false));
        let d2 = 250 + year_off + unif_i(rng, -20, 20);
        let (y2, _, _) = civil(clock.day_ts(d2).div_euclid(DAY));
        events.push((format!("ABM 营销峰会 上海 {y2}"), d2, false));
    }
    for (city, at) in [
        ("New York", 0.15),
        ("London", 0.38),
        ("San Francisco", 0.62),
        ("Singapore", 0.78),
        ("London", 0.97),
    ] {
        let d = (days as f64 * at) as i64 + unif_i(rng, -10, 10);
        events.push((format!("Executive Dinner - {city}"), d, true));
    }
    events.sort_by_key(|e| e.1);
    for (name, d, dinner) in events {
        let day = clock.day_ts(d);
        plans.push(Plan {
            name,
            channel: EVENT,
            kind: if dinner { "Field Event" } else { "Conference" },
            start: clock.day_ts(d - 35),
            end: day + if dinner { 0 } else { DAY },
            video: false,
            daily: 0.0,
            event_day: day,
            dinner,
        });
    }

    // Always-on organic, referral, direct and sales programmes.
    for (name, ch, kind) in [
        ("SEO - Always On", ORGANIC_SEARCH, "Website"),
        ("Organic Social - Company Page", ORGANIC_SOCIAL, "Social"),
        ("Partner Referral Program", REFERRAL, "Referral Program"),
        ("G2 Review Campaign", REFERRAL, "Referral Program"),
        ("Direct / Brand Traffic", DIRECT, "Website"),
        ("SDR Outbound - Tier 1", SALES, "Outbound"),
        ("AE Executive Outreach", SALES, "Outbound"),
        ("SDR Outbound - EMEA", SALES, "Outbound"),
    ] {
        plans.push(Plan {
            name: name.into(),
            channel: ch,
            kind,
            start: always_start,
            end: always_end,
            video: false,
            daily: 0.0,
            event_day: 0,
            dinner: false,
        });
    }

    plans.sort_by_key(|p| p.start);
    let width = plans.len().to_string().len().max(3);
    plans
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let len_days = ((p.end - p.start) / DAY + 1).max(1) as f64;
            let elapsed =
                ((clock.end_ts.min(p.end + DAY - 1) - p.start) as f64 / DAY as f64 / len_days)
                    .clamp(0.0, 1.0);
            let (budget, actual) = if is_ad_channel(p.channel) {
                // Budget = media + agency/creative fees; actual_cost is the non-media cost
                // only, since ROI adds ad spend from ad_performance to it.
                let media = p.daily * len_days;
                let fees = media * unif(rng, 0.05, 0.12);
                (media + fees, fees * elapsed)
            } else {
                let budget = match p.channel {
                    EMAIL => len_days * unif(rng, 15.0, 40.0),
                    WEBINAR => unif(rng, 2_000.0, 12_000.0),
                    EVENT if p.dinner => unif(rng, 8_000.0, 25_000.0),
                    EVENT => unif(rng, 40_000.0, 150_000.0),
                    ORGANIC_SEARCH => len_days * unif(rng, 60.0, 120.0),
                    ORGANIC_SOCIAL => len_days * unif(rng, 20.0, 50.0),
                    REFERRAL => len_days * unif(rng, 10.0, 40.0),
                    DIRECT => len_days * unif(rng, 2.0, 6.0),
                    _ => len_days * unif(rng, 80.0, 200.0),
                };
                let budget = (budget / 100.0).round() * 100.0;
                (budget, budget * unif(rng, 0.8, 1.1) * elapsed)
            };
            let slug = format!("{}-{}", slugify(&p.name), i + 1);
            Campaign {
                id: format!("cmp-{:0w$}", i + 1, w = width),
                name: p.name,
                channel: p.channel,
                kind: p.kind,
                start: p.start,
                end: p.end,
                budget: (budget * 100.0).round() / 100.0,
                actual_cost: (actual * 100.0).round() / 100.0,
                slug,
                video: p.video,
                daily: p.daily,
                event_day: p.event_day,
                dinner: p.dinner,
            }
        })
        .collect()
}

pub(crate) fn write_campaigns(
    out_dir: &Path,
    camps: &[Campaign],
    _clock: &Clock,
) -> Result<(String, PathBuf, u64)> {
    let mut t = Table::create(
        out_dir,
        "campaigns",
        &[
            "id",
            "name",
            "channel",
            "type",
            "start_date",
            "end_date",
            "budget",
            "actual_cost",
        ],
    )?;
    for c in camps {
        let start = date_string(c.start);
        let end = date_string(c.end);
        let budget = money(c.budget);
        let actual = money(c.actual_cost);
        t.row([
            c.id.as_str(),
            c.name.as_str(),
            CHANNELS[c.channel as usize],
            c.kind,
            start.as_str(),
            end.as_str(),
            budget.as_str(),
            actual.as_str(),
        ])?;
    }
    t.finish()
}

struct AdRow {
    day: i64,
    campaign: u32,
    account: u32,
    impressions: u64,
    clicks: u64,
    spend: f64,
    video: Option<(u64, u64)>,
    reach: u64,
    leads: u64,
    engagements: u64,
}

/// Rounds `x` to an integer, randomly up or down in proportion (keeps small rates unbiased).
fn round_rand<R: Rng>(x: f64, rng: &mut R) -> u64 {
    let x = x.max(0.0);
    let f = x.floor();
    (f + if rng.random::<f64>() < x - f {
        1.0
    } else {
        0.0
    }) as u64
}

pub(crate) fn write_ad_performance<R: Rng>(
    rng: &mut R,
    out_dir: &Path,
    camps: &[Campaign],
    accts: &[Account],
    clock: &Clock,
) -> Result<(String, PathBuf, u64)> {
    let mut rows: Vec<AdRow> = Vec::new();
    let last_day = clock.end_ts - (DAY - 1);
    for (ci, c) in camps.iter().enumerate() {
        if !is_ad_channel(c.channel) {
            continue;
        }
        let from = c.start.max(clock.start_ts);
        let to = c.end.min(last_day);
        let mut day = from;
        while day <= to {
            let weekday = (day.div_euclid(DAY) + 3).rem_euclid(7);
            let wk = if weekday >= 5 { 0.55 } else { 1.0 };
            let spend = c.daily * wk * unif(rng, 0.75, 1.25);
            let row = match c.channel {
                PAID_SOCIAL => {
                    let imp = round_rand(spend / unif(rng, 35.0, 75.0) * 1000.0, rng);
                    let clicks = round_rand(imp as f64 * unif(rng, 0.004, 0.009), rng).min(imp);
                    let video = c.video.then(|| {
                        let v = round_rand(imp as f64 * unif(rng, 0.2, 0.35), rng).min(imp);
                        (v, round_rand(v as f64 * unif(rng, 0.25, 0.5), rng).min(v))
                    });
                    let eng =
                        (clicks + round_rand(imp as f64 * unif(rng, 0.002, 0.008), rng)).min(imp);
                    AdRow {
                        day,
                        campaign: ci as u32,
                        account: u32::MAX,
                        impressions: imp,
                        clicks,
                        spend,
                        video,
                        reach: round_rand(imp as f64 * unif(rng, 0.55, 0.8), rng),
                        leads: round_rand(clicks as f64 * unif(rng, 0.03, 0.1), rng),
                        engagements: eng,
                    }
                }
                PAID_SEARCH => {
                    let clicks = round_rand(spend / unif(rng, 4.0, 14.0), rng);
                    let imp = round_rand(clicks as f64 / unif(rng, 0.02, 0.07), rng).max(clicks);
                    AdRow {
                        day,
                        campaign: ci as u32,
                        account: u32::MAX,
                        impressions: imp,
                        clicks,
                        spend,
                        video: None,
                        reach: round_rand(imp as f64 * unif(rng, 0.7, 0.9), rng),
                        leads: round_rand(clicks as f64 * unif(rng, 0.02, 0.06), rng),
                        engagements: clicks,
                    }
                }
                DISPLAY => {
                    let imp = round_rand(spend / unif(rng, 3.0, 9.0) * 1000.0, rng);
                    let clicks = round_rand(imp as f64 * unif(rng, 0.0008, 0.003), rng).min(imp);
                    let video = c.video.then(|| {
                        let v = round_rand(imp as f64 * unif(rng, 0.3, 0.6), rng).min(imp);
                        (v, round_rand(v as f64 * unif(rng, 0.4, 0.75), rng).min(v))
                    });
                    AdRow {
                        day,
                        campaign: ci as u32,
                        account: u32::MAX,
                        impressions: imp,
                        clicks,
                        spend,
                        video,
                        reach: round_rand(imp as f64 * unif(rng, 0.3, 0.6), rng),
                        leads: round_rand(clicks as f64 * unif(rng, 0.005, 0.02), rng),
                        engagements: clicks,
                    }
                }
                _ => {
                    // Content syndication is bought per lead.
                    let cpl = unif(rng, 60.0, 140.0);
                    let leads = round_rand(spend / cpl, rng);
                    let spend = leads as f64 * cpl;
                    let imp = round_rand(
                        leads as f64 * unif(rng, 80.0, 200.0) + unif(rng, 50.0, 300.0),
                        rng,
                    );
                    let clicks =
                        (round_rand(leads as f64 * unif(rng, 2.0, 5.0), rng) + leads).min(imp);
                    AdRow {
                        day,
                        campaign: ci as u32,
                        account: u32::MAX,
                        impressions: imp,
                        clicks,
                        spend,
                        video: None,
                        reach: round_rand(imp as f64 * unif(rng, 0.6, 0.9), rng),
                        leads,
                        engagements: clicks,
                    }
                }
            };
            rows.push(row);
            day += DAY;
        }
        // LinkedIn-style company reach: weekly rows per reached account.
        if c.channel == PAID_SOCIAL {
            for (ai, a) in accts.iter().enumerate() {
                let p = if a.is_target {
                    0.8
                } else if a.tier == 1 {
                    0.3
                } else {
                    0.03
                };
                if !chance(rng, p) {
                    continue;
                }
                let tier_f = match a.tier {
                    1 => 2.0,
                    2 => 1.0,
                    _ => 0.5,
                };
                // First Monday on or after `from`.
                let dow = (from.div_euclid(DAY) + 3).rem_euclid(7);
                let mut week = from + ((7 - dow) % 7) * DAY;
                while week <= to {
                    if chance(rng, 0.85) {
                        let imp = round_rand(log_unif(rng, 15.0, 400.0) * tier_f, rng);
                        let clicks = round_rand(imp as f64 * unif(rng, 0.003, 0.012), rng).min(imp);
                        let video = c.video.then(|| {
                            let v = round_rand(imp as f64 * unif(rng, 0.2, 0.35), rng).min(imp);
                            (v, round_rand(v as f64 * unif(rng, 0.25, 0.5), rng).min(v))
                        });
                        let reach = round_rand(unif(rng, 2.0, 40.0) * tier_f, rng)
                            .clamp(1, imp.max(1))
                            .min(imp);
                        rows.push(AdRow {
                            day: week,
                            campaign: ci as u32,
                            account: ai as u32,
                            impressions: imp,
                            clicks,
                            spend: imp as f64 * unif(rng, 35.0, 75.0) / 1000.0,
                            video,
                            reach,
                            leads: u64::from(chance(rng, 0.02)).min(clicks),
                            engagements: (clicks
                                + round_rand(imp as f64 * unif(rng, 0.0, 0.01), rng))
                            .min(imp),
                        });
                    }
                    week += 7 * DAY;
                }
            }
        }
    }
    rows.sort_by_key(|r| (r.day, r.campaign, r.account));

    let mut t = Table::create(
        out_dir,
        "ad_performance",
        &[
            "date",
            "channel",
            "campaign_id",
            "account_id",
            "impressions",
            "clicks",
            "spend",
            "video_views",
            "video_completions",
            "reach",
            "leads",
            "engagements",
        ],
    )?;
    for r in &rows {
        let c = &camps[r.campaign as usize];
        let date = date_string(r.day);
        let account = if r.account == u32::MAX {
            ""
        } else {
            accts[r.account as usize].id.as_str()
        };
        let imp = r.impressions.to_string();
        let clicks = r.clicks.to_string();
        let spend = money(r.spend);
        let (vv, vc) = match r.video {
            Some((v, comp)) => (v.to_string(), comp.to_string()),
            None => (String::new(), String::new()),
        };
        let reach = r.reach.min(r.impressions).to_string();
        let leads = r.leads.to_string();
        let eng = r.engagements.to_string();
        t.row([
            date.as_str(),
            CHANNELS[c.channel as usize],
            c.id.as_str(),
            account,
            imp.as_str(),
            clicks.as_str(),
            spend.as_str(),
            vv.as_str(),
            vc.as_str(),
            reach.as_str(),
            leads.as_str(),
            eng.as_str(),
        ])?;
    }
    t.finish()
}
