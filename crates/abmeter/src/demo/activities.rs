//! The activity stream (`activities.csv`).
//!
//! Activities are generated as compact `Ev` records (32 bytes), sorted by time and written
//! with ids assigned in that order, so the file is ordered by timestamp, then id. The volume
//! is exact: one event of every catalogue type first, then structural events (visitor
//! stitches, lead creation, demo requests and meetings before opportunities), then groups
//! (web sessions, email sends, ad delivery, social, content, webinars/events, sales touches,
//! product usage) drawn until the requested count.
//!
//! When things happen is drawn from per-(account, day) intensity tables: marketing engagement
//! grows with tier, target status, a 60-day ramp before each new-business opportunity, interest
//! bursts and customer status; sales touches follow open opportunities; product usage follows
//! paying customers.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use rand::Rng;
use rand::seq::SliceRandom;

use super::accounts::{self, Account};
use super::campaigns::{
    CHANNELS, Campaign, DIRECT, DISPLAY, EMAIL, EVENT, ORGANIC_SEARCH, ORGANIC_SOCIAL, PAID_SEARCH,
    PAID_SOCIAL, REFERRAL, SALES, SYNDICATION, WEBINAR,
};
use super::deals::{Book, NEW_BUSINESS};
use super::names;
use super::networks::Networks;
use super::people::People;
use super::truth::{Found, Model, TruthFile};
use super::{
    Clock, DAY, FileEntry, TruthSummary, chance, civil, mix, normalish, pick, pick_w, push_ts,
    unif, unif_i,
};

pub(crate) struct World<'a> {
    pub clock: &'a Clock,
    pub accounts: &'a [Account],
    pub people: &'a People,
    pub campaigns: &'a [Campaign],
    pub book: &'a Book,
    pub nets: &'a Networks,
}

/// The SPEC §4 activity catalogue, in its order.
pub(crate) const TYPES: [&str; 35] = [
    "page_view",
    "scroll",
    "email_send",
    "email_bounce",
    "email_unsubscribe",
    "ad_impression",
    "meeting_scheduled",
    "meeting_canceled",
    "campaign_member",
    "email_open",
    "email_click",
    "ad_click",
    "ad_engagement",
    "social_follow",
    "social_like",
    "form_submit",
    "content_download",
    "video_view",
    "webinar_registration",
    "event_registration",
    "webinar_attended",
    "event_attended",
    "dinner_attended",
    "social_share",
    "social_comment",
    "social_mention",
    "review_posted",
    "demo_request",
    "trial_signup",
    "product_usage",
    "campaign_responded",
    "task_completed",
    "call",
    "sales_email_reply",
    "meeting_held",
];
const PAGE_VIEW: u8 = 0;
const SCROLL: u8 = 1;
const EMAIL_SEND: u8 = 2;
const EMAIL_BOUNCE: u8 = 3;
const EMAIL_UNSUBSCRIBE: u8 = 4;
const AD_IMPRESSION: u8 = 5;
const MEETING_SCHEDULED: u8 = 6;
const MEETING_CANCELED: u8 = 7;
const CAMPAIGN_MEMBER: u8 = 8;
const EMAIL_OPEN: u8 = 9;
const EMAIL_CLICK: u8 = 10;
const AD_CLICK: u8 = 11;
const AD_ENGAGEMENT: u8 = 12;
const SOCIAL_FOLLOW: u8 = 13;
const SOCIAL_LIKE: u8 = 14;
const FORM_SUBMIT: u8 = 15;
const CONTENT_DOWNLOAD: u8 = 16;
const VIDEO_VIEW: u8 = 17;
const WEBINAR_REGISTRATION: u8 = 18;
const EVENT_REGISTRATION: u8 = 19;
const WEBINAR_ATTENDED: u8 = 20;
const EVENT_ATTENDED: u8 = 21;
const DINNER_ATTENDED: u8 = 22;
const SOCIAL_SHARE: u8 = 23;
const SOCIAL_COMMENT: u8 = 24;
const SOCIAL_MENTION: u8 = 25;
const REVIEW_POSTED: u8 = 26;
const DEMO_REQUEST: u8 = 27;
const TRIAL_SIGNUP: u8 = 28;
const PRODUCT_USAGE: u8 = 29;
const CAMPAIGN_RESPONDED: u8 = 30;
const TASK_COMPLETED: u8 = 31;
const CALL: u8 = 32;
const SALES_EMAIL_REPLY: u8 = 33;
const MEETING_HELD: u8 = 34;

fn source_of(ty: u8) -> &'static str {
    match ty {
        PAGE_VIEW | SCROLL | DEMO_REQUEST => "web",
        AD_IMPRESSION | AD_CLICK | AD_ENGAGEMENT => "ads",
        SOCIAL_FOLLOW | SOCIAL_LIKE | SOCIAL_SHARE | SOCIAL_COMMENT | SOCIAL_MENTION
        | REVIEW_POSTED => "social",
        TRIAL_SIGNUP | PRODUCT_USAGE => "product",
        CAMPAIGN_MEMBER | CAMPAIGN_RESPONDED | TASK_COMPLETED => "crm",
        MEETING_SCHEDULED | MEETING_CANCELED | CALL | SALES_EMAIL_REPLY | MEETING_HELD => "sales",
        _ => "marketing_automation",
    }
}

const SITE: &str = "https://www.abmeter.example";
const PAGES: [&str; 31] = [
    "/",
    "/pricing",
    "/product",
    "/product/intent-data",
    "/product/engagement-minutes",
    "/solutions/account-based-marketing",
    "/solutions/sales-intelligence",
    "/customers",
    "/customers/northwind-case-study",
    "/blog/what-is-abm",
    "/blog/abm-metrics-that-matter",
    "/blog/w-shaped-attribution",
    "/blog/intent-data-101",
    "/resources/abm-benchmark-report",
    "/resources/buyers-guide",
    "/webinars",
    "/events",
    "/demo",
    "/contact-us",
    "/integrations/salesforce",
    "/integrations/hubspot",
    "/docs/getting-started",
    "/compare/alternatives",
    "/about",
    "/careers",
    "/zh/",
    "/zh/pricing",
    "/ja/",
    "/lp/abm-guide",
    "/lp/book-a-demo",
    "/app/login",
];
const P_HOME: u8 = 0;
const P_PRICING: u8 = 1;
const P_PRODUCT: u8 = 2;
const P_DEMO: u8 = 17;
const P_CONTACT: u8 = 18;
const P_RESOURCES: u8 = 13;
const P_WEBINARS: u8 = 15;
const P_DOCS: u8 = 21;
const P_ZH: u8 = 25;
const P_JA: u8 = 27;
const P_LP_GUIDE: u8 = 28;
const P_LP_DEMO: u8 = 29;
const P_APP: u8 = 30;
/// Browsing weights of the pages (0 = only as a landing page).
const PAGE_W: [(u8, f64); 25] = [
    (0, 10.0),
    (1, 8.0),
    (2, 8.0),
    (3, 4.0),
    (4, 4.0),
    (5, 5.0),
    (6, 3.0),
    (7, 4.0),
    (8, 3.0),
    (9, 3.0),
    (10, 3.0),
    (11, 3.0),
    (12, 3.0),
    (13, 2.0),
    (14, 2.0),
    (15, 2.0),
    (16, 1.0),
    (17, 3.0),
    (18, 2.0),
    (19, 2.0),
    (20, 2.0),
    (21, 3.0),
    (22, 2.0),
    (23, 2.0),
    (24, 1.0),
];

const REFERRERS: [&str; 10] = [
    "",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://www.baidu.com/",
    "https://www.linkedin.com/",
    "https://t.co/",
    "https://weixin.qq.com/",
    "https://www.g2.com/products/abmeter/reviews",
    "https://partners.northbridge.example/",
    "https://news.industry-weekly.example/",
];
const R_GOOGLE: u8 = 1;
const R_BING: u8 = 2;
const R_BAIDU: u8 = 3;
const R_LINKEDIN: u8 = 4;
const R_TCO: u8 = 5;
const R_WEIXIN: u8 = 6;
const R_G2: u8 = 7;
const R_PARTNER: u8 = 8;
const R_PUBLISHER: u8 = 9;
const R_INTERNAL: u8 = 32;

const SEARCH_TERMS: [&str; 6] = [
    "abm software",
    "account based marketing platform",
    "intent data tools",
    "b2b attribution",
    "abm platform pricing",
    "engagement scoring",
];
const AD_CONTENT: [&str; 4] = ["carousel-a", "video-15s", "single-image-b", "document-ad"];
const FORMS: [&str; 5] = [
    "contact-us",
    "newsletter",
    "pricing-request",
    "ebook",
    "webinar-registration",
];
const ASSETS: [&str; 5] = [
    "ABM Benchmark Report 2026",
    "The ABM Buyer's Guide",
    "Attribution Playbook",
    "State of B2B Marketing",
    "Intent Data Field Guide",
];
const VIDEOS: [&str; 4] = [
    "Product tour",
    "Customer story: Northwind",
    "Heatmaps in 3 minutes",
    "CEO keynote",
];
const FEATURES: [&str; 8] = [
    "dashboards",
    "account_timeline",
    "heatmap",
    "attribution",
    "mqa_alerts",
    "reports",
    "audience_sync",
    "sql_console",
];
const MEETING_SUBJECTS: [&str; 5] = [
    "Discovery call",
    "Product demo",
    "Technical deep dive",
    "Pricing review",
    "QBR",
];
const AD_ACTIONS: [&str; 4] = ["like", "comment", "share", "follow"];

const NONE32: u32 = u32::MAX;
const NONE16: u16 = u16::MAX;
const NONE8: u8 = u8::MAX;

const F_CONTACT_ID: u8 = 1;
const F_EMAIL: u8 = 2;
const F_ACCOUNT_ID: u8 = 4;
const F_IP: u8 = 8;
const F_UTM: u8 = 16;
const F_GHOST_EMAIL: u8 = 32;
const F_ANON: u8 = 64;
const F_HOME_IP: u8 = 128;

/// One activity, compactly. `account` is the ground-truth account (used for its IP range,
/// ghost email domains and `account_id` when `F_ACCOUNT_ID` is set).
#[derive(Clone, Copy)]
struct Ev {
    ts: i64,
    contact: u32,
    anon: u32,
    account: u32,
    campaign: u16,
    dur: u16,
    aux: u16,
    ty: u8,
    channel: u8,
    flags: u8,
    url: u8,
    refr: u8,
    depth: u8,
}

impl Ev {
    fn new(ts: i64, ty: u8) -> Self {
        Self {
            ts,
            contact: NONE32,
            anon: NONE32,
            account: NONE32,
            campaign: NONE16,
            dur: NONE16,
            aux: 0,
            ty,
            channel: NONE8,
            flags: 0,
            url: NONE8,
            refr: 0,
            depth: NONE8,
        }
    }
}

/// Cumulative weights over (account, day) cells, for sampling.
struct Cum {
    cum: Vec<f64>,
    days: usize,
}

impl Cum {
    fn from_rows(rows: impl Iterator<Item = Vec<f64>>, days: usize) -> Self {
        let mut cum = Vec::new();
        let mut total = 0.0;
        for row in rows {
            for w in row {
                total += w.max(0.0);
                cum.push(total);
            }
        }
        Self { cum, days }
    }
    fn total(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }
    /// (row, day)
    fn sample<R: Rng>(&self, rng: &mut R) -> Option<(usize, i64)> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let r = rng.random::<f64>() * total;
        let i = self
            .cum
            .partition_point(|&c| c <= r)
            .min(self.cum.len() - 1);
        Some((i / self.days, (i % self.days) as i64))
    }
}

#[derive(Clone, Copy)]
enum Group {
    WebKnown,
    WebAnon,
    WebStray,
    Email,
    Ads,
    Social,
    Content,
    Gathering,
    Sales,
    Product,
    Intent,
}

const GROUPS: [(Group, f64); 11] = [
    (Group::WebKnown, 12.0),
    (Group::WebAnon, 15.0),
    (Group::WebStray, 4.0),
    (Group::Email, 26.0),
    (Group::Ads, 9.0),
    (Group::Social, 4.0),
    (Group::Content, 4.0),
    (Group::Gathering, 2.5),
    (Group::Sales, 5.0),
    (Group::Product, 8.0),
    (Group::Intent, 0.4),
];

struct Gen<'w, 'a, R: Rng> {
    w: &'w World<'a>,
    rng: R,
    evs: Vec<Ev>,
    /// Marketing engagement, sales touches, product usage, per (account, day).
    m: Cum,
    s: Cum,
    p: Cum,
    /// Stray (no account) traffic per day.
    u: Cum,
    /// Active campaigns per day and channel.
    active: Vec<Vec<Vec<u16>>>,
    /// Webinar and event campaigns.
    gatherings: Vec<u16>,
    /// Customer record of each account.
    cust_of: Vec<Option<usize>>,
    anon_salt: u64,
}

/// Generates and writes `activities.csv` and its ground truth, `truth/activity_accounts.csv`.
pub(crate) fn generate_and_write<R: Rng>(
    rng: &mut R,
    world: &World,
    n: usize,
    out_dir: &Path,
) -> Result<(FileEntry, TruthSummary)> {
    let seed_salt = rng.random::<u64>();
    let mut g = Gen::new(world, rng, seed_salt);
    g.evs.reserve_exact(n + 64);
    g.guarantee(n);
    g.structural(n);
    g.fill(n);
    g.evs.truncate(n);
    g.evs.sort_by_key(|e| e.ts);
    g.write(out_dir)
}

impl<'w, 'a, R: Rng> Gen<'w, 'a, R> {
    fn new(w: &'w World<'a>, mut rng: R, anon_salt: u64) -> Self {
        let clock = w.clock;
        let days = clock.days;
        let start_day = clock.start_ts.div_euclid(DAY);
        // Calendar factors.
        let mut weekday = vec![false; days];
        let mut season = vec![1.0f64; days];
        for d in 0..days {
            let ed = start_day + d as i64;
            weekday[d] = (ed + 3).rem_euclid(7) < 5;
            let (_, m, dd) = civil(ed);
            let holiday =
                (m == 12 && dd >= 20) || (m == 1 && dd <= 2) || (m == 8 && (5..=20).contains(&dd));
            let growth = 0.75 + 0.5 * d as f64 / days as f64;
            season[d] = growth * if holiday { 0.4 } else { 1.0 };
        }
        let mut opps_of: Vec<Vec<usize>> = vec![Vec::new(); w.accounts.len()];
        for (i, o) in w.book.opps.iter().enumerate() {
            opps_of[o.account as usize].push(i);
        }
        let mut cust_of: Vec<Option<usize>> = vec![None; w.accounts.len()];
        for (i, c) in w.book.customers.iter().enumerate() {
            cust_of[c.account as usize] = Some(i);
        }
        let di = |ts: i64| clock.day_of(ts).clamp(0, days as i64) as usize;

        // Marketing engagement.
        let mut m_rows = Vec::with_capacity(w.accounts.len());
        let mut s_rows = Vec::with_capacity(w.accounts.len());
        let mut p_rows = Vec::with_capacity(w.accounts.len());
        for (ai, a) in w.accounts.iter().enumerate() {
            let mut row = vec![0.0f64; days];
            let created = di(a.created);
            for d in created..days {
                row[d] = a.base * season[d] * if weekday[d] { 1.0 } else { 0.25 };
            }
            // Interest bursts that do not lead anywhere (surges for the alerts).
            for _ in 0..rng.random_range(0..3) {
                let s = rng.random_range(0..days);
                let len = rng.random_range(10..30);
                let f = unif(&mut rng, 2.0, 4.0);
                for v in row.iter_mut().skip(s).take(len) {
                    *v *= f;
                }
            }
            for &oi in &opps_of[ai] {
                let o = &w.book.opps[oi];
                let c = clock.day_of(o.created);
                let (ramp_len, peak) = if o.kind == NEW_BUSINESS {
                    (60, 6.0)
                } else {
                    (30, 2.0)
                };
                for d in (c - ramp_len).max(0)..c.min(days as i64) {
                    let x = (d - (c - ramp_len)) as f64 / ramp_len as f64;
                    row[d as usize] *= 1.0 + (peak - 1.0) * x;
                }
                let until = clock.day_of(o.worked_until(clock));
                for d in c.max(0)..until.min(days as i64) {
                    row[d as usize] *= if o.kind == NEW_BUSINESS { 2.5 } else { 1.3 };
                }
            }
            if let Some(ci) = cust_of[ai] {
                let cu = &w.book.customers[ci];
                let from = di(cu.since);
                let to = cu.churn.map(di).unwrap_or(days);
                for v in row.iter_mut().take(to).skip(from) {
                    *v *= 1.4;
                }
                for v in row.iter_mut().skip(to) {
                    *v *= 0.3;
                }
            }
            m_rows.push(row);

            // Sales touches.
            let mut srow = vec![0.0f64; days];
            let tier_w = match a.tier {
                1 => 1.5,
                2 => 1.0,
                _ => 0.7,
            };
            if a.is_target {
                for v in srow.iter_mut().skip(created) {
                    *v += 0.04;
                }
            }
            for &oi in &opps_of[ai] {
                let o = &w.book.opps[oi];
                let c = clock.day_of(o.created);
                let until = clock.day_of(o.worked_until(clock)) + 1;
                let k = match o.kind {
                    NEW_BUSINESS => 3.0,
                    "renewal" => 1.0,
                    _ => 1.5,
                };
                for d in (c - 21).max(0)..until.min(days as i64) {
                    srow[d as usize] += k * tier_w;
                }
            }
            if let Some(ci) = cust_of[ai] {
                let cu = &w.book.customers[ci];
                let to = cu.churn.map(di).unwrap_or(days);
                for v in srow.iter_mut().take(to).skip(di(cu.since)) {
                    *v += 0.15 * tier_w;
                }
            }
            for (d, v) in srow.iter_mut().enumerate() {
                *v *= if weekday[d] { 1.0 } else { 0.08 };
            }
            s_rows.push(srow);

            // Product usage.
            let mut prow = vec![0.0f64; days];
            if let Some(ci) = cust_of[ai] {
                let cu = &w.book.customers[ci];
                let from = di(cu.since);
                let to = cu.churn.map(di).unwrap_or(days);
                for d in from..to {
                    // Adoption ramps up over the first two months.
                    let ramp = ((d - from) as f64 / 60.0).min(1.0) * 0.8 + 0.2;
                    prow[d] = cu.seats * ramp * if weekday[d] { 1.0 } else { 0.2 };
                }
            }
            p_rows.push(prow);
        }
        let m = Cum::from_rows(m_rows.into_iter(), days);
        let s = Cum::from_rows(s_rows.into_iter(), days);
        let p = Cum::from_rows(p_rows.into_iter(), days);
        let u_row: Vec<f64> = (0..days)
            .map(|d| season[d] * if weekday[d] { 1.0 } else { 0.5 })
            .collect();
        let u = Cum::from_rows(std::iter::once(u_row), days);

        let mut active = vec![vec![Vec::new(); CHANNELS.len()]; days];
        let mut gatherings = Vec::new();
        for (ci, c) in w.campaigns.iter().enumerate() {
            let from = clock.day_of(c.start).max(0);
            let to = clock.day_of(c.end).min(days as i64 - 1);
            for d in from..=to {
                active[d as usize][c.channel as usize].push(ci as u16);
            }
            if c.channel == WEBINAR || c.channel == EVENT {
                gatherings.push(ci as u16);
            }
        }
        Self {
            w,
            rng,
            evs: Vec::new(),
            m,
            s,
            p,
            u,
            active,
            gatherings,
            cust_of,
            anon_salt,
        }
    }

    fn push(&mut self, e: Ev) -> bool {
        if e.ts >= self.w.clock.start_ts && e.ts <= self.w.clock.end_ts {
            self.evs.push(e);
            true
        } else {
            false
        }
    }

    /// A time on window day `d` during (mostly) business hours of account `a`.
    fn at(&mut self, a: u32, d: i64) -> i64 {
        let offset = if a == NONE32 {
            0
        } else {
            self.w.accounts[a as usize].utc_offset
        };
        let local = if chance(&mut self.rng, 0.88) {
            unif(&mut self.rng, 8.0, 18.5)
        } else {
            unif(&mut self.rng, 0.0, 24.0)
        };
        let mut ts = self.w.clock.day_ts(d) + (local * 3600.0) as i64 - offset * 3600;
        if ts < self.w.clock.start_ts {
            ts += DAY;
        }
        if ts > self.w.clock.end_ts {
            ts -= DAY;
        }
        ts
    }

    fn campaign_on(&mut self, d: i64, channel: u8) -> Option<u16> {
        let d = d.clamp(0, self.w.clock.days as i64 - 1) as usize;
        let list = &self.active[d][channel as usize];
        if list.is_empty() {
            None
        } else {
            Some(list[self.rng.random_range(0..list.len())])
        }
    }

    /// A contact of account `a` known by time `ts`, by weight kind (0 web, 1 senior, 2 user).
    fn contact_of(&mut self, a: usize, ts: i64, kind: u8, members_only: bool) -> Option<u32> {
        let people = self.w.people;
        let list = &people.by_account[a];
        let list = if members_only {
            &list[..people.members[a] as usize]
        } else {
            &list[..]
        };
        let weight = |c: u32| {
            let p = &people.contacts[c as usize];
            if p.created > ts {
                0.0
            } else {
                f64::from(match kind {
                    0 => p.weight,
                    1 => p.senior_weight,
                    _ => p.user_weight,
                })
            }
        };
        let total: f64 = list.iter().map(|&c| weight(c)).sum();
        if total <= 0.0 {
            return None;
        }
        let mut r = self.rng.random::<f64>() * total;
        for &c in list {
            let wgt = weight(c);
            if r < wgt {
                return Some(c);
            }
            r -= wgt;
        }
        list.iter().rev().copied().find(|&c| weight(c) > 0.0)
    }

    fn truth(&self, c: u32) -> u32 {
        self.w.people.contacts[c as usize].truth.unwrap_or(NONE32)
    }

    /// Identity flags for a known contact's marketing event.
    fn id_flags(&mut self) -> u8 {
        let r = self.rng.random::<f64>();
        if r < 0.5 {
            F_CONTACT_ID | F_EMAIL
        } else if r < 0.75 {
            F_EMAIL
        } else {
            F_CONTACT_ID
        }
    }

    /// One event of type `ty` at a plausible place: used to guarantee every catalogue type.
    fn single(&mut self, ty: u8) -> Ev {
        let table = match ty {
            PRODUCT_USAGE => &self.p,
            MEETING_SCHEDULED | MEETING_CANCELED | MEETING_HELD | CALL | SALES_EMAIL_REPLY
            | TASK_COMPLETED => &self.s,
            _ => &self.m,
        };
        let (a, d) = table
            .sample(&mut self.rng)
            .or_else(|| self.m.sample(&mut self.rng))
            .unwrap_or((0, self.w.clock.days as i64 - 1));
        let ts = self.at(a as u32, d);
        let contact = self
            .contact_of(a, ts, 0, false)
            .or_else(|| self.contact_of(a, self.w.clock.end_ts, 0, false));
        let mut e = Ev::new(ts, ty);
        e.account = a as u32;
        if let Some(c) = contact {
            e.contact = c;
            e.account = self.truth(c);
            e.flags = F_CONTACT_ID | F_EMAIL;
        } else {
            e.flags = F_ACCOUNT_ID;
        }
        let channel = match ty {
            PAGE_VIEW | SCROLL | VIDEO_VIEW => DIRECT,
            EMAIL_SEND | EMAIL_BOUNCE | EMAIL_UNSUBSCRIBE | EMAIL_OPEN | EMAIL_CLICK => EMAIL,
            AD_IMPRESSION | AD_CLICK | AD_ENGAGEMENT => PAID_SOCIAL,
            MEETING_SCHEDULED | MEETING_CANCELED | MEETING_HELD | CALL | SALES_EMAIL_REPLY
            | TASK_COMPLETED => SALES,
            CAMPAIGN_MEMBER | CAMPAIGN_RESPONDED | WEBINAR_REGISTRATION | WEBINAR_ATTENDED => {
                WEBINAR
            }
            EVENT_REGISTRATION | EVENT_ATTENDED | DINNER_ATTENDED => EVENT,
            SOCIAL_FOLLOW | SOCIAL_LIKE | SOCIAL_SHARE | SOCIAL_COMMENT | SOCIAL_MENTION => {
                ORGANIC_SOCIAL
            }
            REVIEW_POSTED => REFERRAL,
            FORM_SUBMIT | CONTENT_DOWNLOAD | TRIAL_SIGNUP => ORGANIC_SEARCH,
            DEMO_REQUEST => PAID_SEARCH,
            _ => NONE8,
        };
        e.channel = channel;
        if channel != NONE8 && channel != DIRECT && channel != ORGANIC_SEARCH {
            e.campaign = if ty == DINNER_ATTENDED {
                self.w
                    .campaigns
                    .iter()
                    .position(|c| c.dinner)
                    .map(|i| i as u16)
                    .unwrap_or(NONE16)
            } else {
                self.campaign_on(d, channel).unwrap_or(NONE16)
            };
        }
        e.aux = self.rng.random::<u16>();
        match ty {
            PAGE_VIEW => {
                e.url = P_PRICING;
                e.dur = 25;
                e.depth = 80;
                e.flags |= F_IP;
            }
            SCROLL => {
                e.url = P_PRICING;
                e.depth = 75;
                e.flags |= F_IP;
            }
            VIDEO_VIEW => {
                e.url = P_PRODUCT;
                e.dur = 45;
            }
            FORM_SUBMIT => e.url = P_CONTACT,
            CONTENT_DOWNLOAD => e.url = P_RESOURCES,
            DEMO_REQUEST => e.url = P_DEMO,
            TRIAL_SIGNUP => e.url = P_PRICING,
            MEETING_HELD => e.dur = 450,
            CALL => e.dur = 120,
            WEBINAR_ATTENDED => e.dur = 450,
            EVENT_ATTENDED => e.dur = 2400,
            DINNER_ATTENDED => e.dur = 1500,
            PRODUCT_USAGE => {
                e.dur = 350;
                e.flags |= F_ACCOUNT_ID;
            }
            _ => {}
        }
        e
    }

    fn guarantee(&mut self, n: usize) {
        for ty in 0..TYPES.len().min(n) {
            let e = self.single(ty as u8);
            self.evs.push(e);
        }
    }

    /// Stitches, lead creation and the milestones before opportunities; at most 30% of `n`.
    fn structural(&mut self, n: usize) {
        let base = self.evs.len();
        let clock = self.w.clock;
        let people = self.w.people;
        // Anonymous visitors who identify themselves (form fill carrying anonymous_id + email).
        for (ci, c) in people.contacts.iter().enumerate() {
            let in_window = c.created >= clock.start_ts && c.created <= clock.end_ts;
            if !in_window {
                continue;
            }
            let acc = c.truth.unwrap_or(NONE32);
            if let Some(anon) = c.anon {
                let pages = self.rng.random_range(1..4);
                let mut t = c.stitch - pages as i64 * unif_i(&mut self.rng, 40, 200);
                for k in 0..pages {
                    let mut e = Ev::new(t, PAGE_VIEW);
                    e.anon = anon;
                    e.account = acc;
                    e.flags = F_ANON | F_IP;
                    e.channel = ORGANIC_SEARCH;
                    e.refr = if k == 0 {
                        R_GOOGLE
                    } else {
                        R_INTERNAL + P_RESOURCES
                    };
                    e.url = if k + 1 == pages {
                        P_CONTACT
                    } else {
                        P_RESOURCES
                    };
                    e.dur = unif_i(&mut self.rng, 3, 40) as u16;
                    e.depth = unif_i(&mut self.rng, 30, 100) as u8;
                    self.push(e);
                    t += unif_i(&mut self.rng, 40, 200);
                }
                let mut e = Ev::new(c.stitch, FORM_SUBMIT);
                e.anon = anon;
                e.account = acc;
                e.contact = ci as u32;
                e.flags = F_ANON
                    | F_IP
                    | if chance(&mut self.rng, 0.6) {
                        F_EMAIL
                    } else {
                        F_CONTACT_ID
                    };
                e.channel = ORGANIC_SEARCH;
                e.url = P_CONTACT;
                e.aux = self.rng.random_range(0..4);
                self.push(e);
            } else if c.truth.is_none() || c.kind != super::people::Kind::Member {
                // A lead created by a form fill or a syndicated download, known only by email.
                let synd = c.lead_source == "Content Syndication";
                let mut e = Ev::new(c.created, if synd { CONTENT_DOWNLOAD } else { FORM_SUBMIT });
                e.contact = ci as u32;
                e.account = acc;
                e.flags = F_EMAIL;
                e.channel = match c.lead_source {
                    "Content Syndication" => SYNDICATION,
                    "Paid Social" => PAID_SOCIAL,
                    "Paid Search" => PAID_SEARCH,
                    "Referral" | "Partner" => REFERRAL,
                    _ => ORGANIC_SEARCH,
                };
                let d = clock.day_of(c.created);
                if matches!(e.channel, SYNDICATION | PAID_SOCIAL | PAID_SEARCH) {
                    e.campaign = self.campaign_on(d, e.channel).unwrap_or(NONE16);
                }
                e.url = if synd { NONE8 } else { P_CONTACT };
                e.aux = self.rng.random::<u16>();
                self.push(e);
            }
        }
        // Demo request → meeting scheduled → meeting held → opportunity created.
        for o in &self.w.book.opps {
            let Some(ch) = o.champion else { continue };
            if o.created < clock.start_ts + 30 * DAY {
                continue;
            }
            let acc = o.account;
            if o.kind == NEW_BUSINESS {
                let demo = chance(&mut self.rng, 0.6);
                let mut t = o.created - unif_i(&mut self.rng, 3 * DAY, 25 * DAY);
                if demo {
                    let mut e = Ev::new(t, DEMO_REQUEST);
                    e.contact = ch;
                    e.account = acc;
                    e.flags = F_CONTACT_ID | F_EMAIL | F_IP;
                    e.channel = *pick(
                        &mut self.rng,
                        &[PAID_SEARCH, ORGANIC_SEARCH, DIRECT, PAID_SOCIAL],
                    );
                    if matches!(e.channel, PAID_SEARCH | PAID_SOCIAL) {
                        e.campaign = self
                            .campaign_on(clock.day_of(t), e.channel)
                            .unwrap_or(NONE16);
                    }
                    e.url = P_DEMO;
                    self.push(e);
                }
                t += unif_i(&mut self.rng, 3 * 3600, 3 * DAY);
                let mut e = Ev::new(t, MEETING_SCHEDULED);
                e.contact = ch;
                e.account = acc;
                e.flags = F_CONTACT_ID;
                e.channel = SALES;
                e.aux = 0;
                self.push(e);
                let held = (o.created - unif_i(&mut self.rng, 0, 2 * DAY)).max(t + 3600);
                let mut e = Ev::new(held, MEETING_HELD);
                e.contact = ch;
                e.account = acc;
                e.flags = F_CONTACT_ID;
                e.channel = SALES;
                e.dur = (unif_i(&mut self.rng, 30, 60) * 10) as u16;
                e.aux = 1;
                self.push(e);
            } else if chance(&mut self.rng, 0.5) {
                let t = o.created - unif_i(&mut self.rng, 0, 5 * DAY);
                let mut e = Ev::new(t, MEETING_HELD);
                e.contact = ch;
                e.account = acc;
                e.flags = F_CONTACT_ID;
                e.channel = SALES;
                e.dur = (unif_i(&mut self.rng, 30, 60) * 10) as u16;
                e.aux = 4;
                self.push(e);
            }
        }
        let cap = n * 3 / 10;
        let added = self.evs.len() - base;
        if added > cap {
            let tail = &mut self.evs[base..];
            tail.shuffle(&mut self.rng);
            self.evs.truncate(base + cap);
        }
    }

    fn fill(&mut self, n: usize) {
        let mut idle = 0;
        while self.evs.len() < n {
            let g = *pick_w(&mut self.rng, &GROUPS);
            let before = self.evs.len();
            match g {
                Group::WebKnown => self.web(Some(true)),
                Group::WebAnon => self.web(Some(false)),
                Group::WebStray => self.web(None),
                Group::Email => self.email(),
                Group::Ads => self.ads(),
                Group::Social => self.social(),
                Group::Content => self.content(),
                Group::Gathering => self.gathering(),
                Group::Sales => self.sales(),
                Group::Product => self.product(),
                Group::Intent => self.intent(),
            }
            if self.evs.len() == before {
                idle += 1;
                if idle > 1000 {
                    // Nothing else can be generated (degenerate inputs): stray traffic always can.
                    self.web(None);
                }
            } else {
                idle = 0;
            }
        }
    }

    /// A web session: `Some(true)` a known contact (anonymous until their stitch),
    /// `Some(false)` an anonymous visitor of an account, `None` a visitor from no account.
    fn web(&mut self, known: Option<bool>) {
        let people = self.w.people;
        let (acc, d) = match known {
            None => {
                let (_, d) = self.u.sample(&mut self.rng).unwrap_or((0, 0));
                (NONE32, d)
            }
            Some(_) => match self.m.sample(&mut self.rng) {
                Some((a, d)) => (a as u32, d),
                None => return,
            },
        };
        let start = self.at(acc, d);
        let mut contact = NONE32;
        let mut anon = NONE32;
        match known {
            Some(true) => {
                let Some(c) = self.contact_of(acc as usize, self.w.clock.end_ts, 0, false) else {
                    return;
                };
                let p = &people.contacts[c as usize];
                match p.anon {
                    Some(an) if start < p.stitch => anon = an,
                    Some(an) => {
                        anon = an;
                        contact = c;
                    }
                    None if start < p.created => return,
                    None => contact = c,
                }
            }
            Some(false) => {
                let a = acc as usize;
                anon = people.anon_first[a] + self.rng.random_range(0..people.anon_count[a]);
            }
            None => anon = people.stray_first + self.rng.random_range(0..people.stray_count),
        }
        let zh = acc != NONE32 && self.w.accounts[acc as usize].lang == names::Lang::Zh;
        let ja = acc != NONE32 && self.w.accounts[acc as usize].lang == names::Lang::Ja;
        let customer = contact != NONE32 && self.is_customer(acc, start);
        let channel = if customer && chance(&mut self.rng, 0.4) {
            DIRECT
        } else {
            *pick_w(
                &mut self.rng,
                &[
                    (ORGANIC_SEARCH, 30.0),
                    (DIRECT, 22.0),
                    (PAID_SEARCH, 10.0),
                    (PAID_SOCIAL, 10.0),
                    (ORGANIC_SOCIAL, 7.0),
                    (REFERRAL, 6.0),
                    (DISPLAY, 4.0),
                    (EMAIL, if contact != NONE32 { 8.0 } else { 0.0 }),
                    (SYNDICATION, 2.0),
                ],
            )
        };
        self.session(start, acc, contact, anon, channel, zh, ja, customer, None);
    }

    fn is_customer(&self, acc: u32, ts: i64) -> bool {
        if acc == NONE32 {
            return false;
        }
        self.cust_of[acc as usize].is_some_and(|i| {
            let c = &self.w.book.customers[i];
            c.since <= ts && c.churn.is_none_or(|x| ts < x)
        })
    }

    /// Page views (and scrolls) of one visit. `landing` forces the first page.
    #[allow(clippy::too_many_arguments)]
    fn session(
        &mut self,
        start: i64,
        acc: u32,
        contact: u32,
        anon: u32,
        mut channel: u8,
        zh: bool,
        ja: bool,
        customer: bool,
        landing: Option<u8>,
    ) {
        let d = self.w.clock.day_of(start);
        let mut campaign = NONE16;
        if matches!(
            channel,
            PAID_SEARCH | PAID_SOCIAL | DISPLAY | EMAIL | SYNDICATION
        ) {
            match self.campaign_on(d, channel) {
                Some(c) => campaign = c,
                None => channel = ORGANIC_SEARCH,
            }
        } else if (channel == ORGANIC_SOCIAL && chance(&mut self.rng, 0.3))
            || (channel == REFERRAL && chance(&mut self.rng, 0.4))
        {
            campaign = self.campaign_on(d, channel).unwrap_or(NONE16);
        }
        let utm = matches!(
            channel,
            PAID_SEARCH | PAID_SOCIAL | DISPLAY | EMAIL | SYNDICATION
        ) || (channel == ORGANIC_SOCIAL && campaign != NONE16);
        let (refr, first_page) = {
            let r = &mut self.rng;
            match channel {
                ORGANIC_SEARCH => (
                    if zh && chance(r, 0.5) {
                        R_BAIDU
                    } else if chance(r, 0.85) {
                        R_GOOGLE
                    } else {
                        R_BING
                    },
                    *pick(r, &[9u8, 10, 11, 12, 0, 0, 1, 21, 13, 22]),
                ),
                PAID_SEARCH => (
                    if chance(r, 0.9) { R_GOOGLE } else { R_BING },
                    *pick(r, &[P_PRICING, P_LP_DEMO, P_PRODUCT, 22]),
                ),
                PAID_SOCIAL => (
                    R_LINKEDIN,
                    *pick(r, &[P_LP_GUIDE, P_LP_GUIDE, 11, P_RESOURCES, P_PRODUCT]),
                ),
                DISPLAY => (R_PUBLISHER, *pick(r, &[P_LP_GUIDE, P_HOME])),
                ORGANIC_SOCIAL => (
                    if zh {
                        R_WEIXIN
                    } else {
                        *pick(r, &[R_LINKEDIN, R_LINKEDIN, R_LINKEDIN, R_TCO])
                    },
                    *pick(r, &[9u8, 10, 11, 7, 8, 0]),
                ),
                REFERRAL => (
                    if chance(r, 0.5) { R_G2 } else { R_PARTNER },
                    *pick(r, &[P_HOME, 7, 22, 19, 20]),
                ),
                EMAIL => (0, *pick(r, &[10u8, 11, P_WEBINARS, 3, 4, 8])),
                SYNDICATION => (0, *pick(r, &[P_RESOURCES, 14])),
                _ => (
                    0,
                    if customer && chance(r, 0.5) {
                        P_APP
                    } else {
                        *pick(r, &[P_HOME, P_HOME, P_PRICING, P_DOCS, P_PRODUCT])
                    },
                ),
            }
        };
        let first_page = landing.unwrap_or(if zh && chance(&mut self.rng, 0.3) {
            P_ZH
        } else if ja && chance(&mut self.rng, 0.3) {
            P_JA
        } else {
            first_page
        });
        let pages = if chance(&mut self.rng, 0.42) {
            1
        } else {
            let mut k = 2;
            while k < 12 && chance(&mut self.rng, 0.62) {
                k += 1;
            }
            k
        };
        let flags_id = if contact != NONE32 { F_CONTACT_ID } else { 0 }
            | if anon != NONE32 { F_ANON } else { 0 };
        let home_ip = if contact != NONE32 && chance(&mut self.rng, 0.3) {
            F_HOME_IP
        } else {
            0
        };
        let aux = self.rng.random::<u16>();
        let mut ts = start;
        let mut prev = NONE8;
        for k in 0..pages {
            let url = if k == 0 {
                first_page
            } else if zh && prev == P_ZH && chance(&mut self.rng, 0.7) {
                P_ZH + 1
            } else {
                *pick_w(&mut self.rng, &PAGE_W)
            };
            let minutes = (0.1 + (0.9 * normalish(&mut self.rng)).exp() * 0.9).min(30.0);
            let depth = {
                let r = self.rng.random::<f64>();
                if r < 0.2 {
                    unif_i(&mut self.rng, 5, 25)
                } else if r < 0.5 {
                    unif_i(&mut self.rng, 25, 60)
                } else if r < 0.8 {
                    unif_i(&mut self.rng, 60, 95)
                } else {
                    100
                }
            } as u8;
            let mut e = Ev::new(ts, PAGE_VIEW);
            e.contact = contact;
            e.anon = anon;
            e.account = acc;
            e.campaign = campaign;
            e.channel = channel;
            e.flags = flags_id | F_IP | home_ip | if k == 0 && utm { F_UTM } else { 0 };
            e.url = url;
            e.refr = if k == 0 { refr } else { R_INTERNAL + prev };
            e.depth = depth;
            e.dur = (minutes * 10.0).round() as u16;
            e.aux = aux;
            if !self.push(e) {
                break;
            }
            if depth >= 25 && chance(&mut self.rng, 0.3) {
                let mut s = e;
                s.ty = SCROLL;
                s.ts = ts + (minutes * 60.0 * unif(&mut self.rng, 0.3, 0.9)) as i64 + 1;
                s.depth = (depth / 25) * 25;
                s.dur = NONE16;
                s.flags &= !F_UTM;
                self.push(s);
            }
            // Conversions on high-intent pages.
            if contact != NONE32 || acc != NONE32 {
                let conv = match url {
                    P_DEMO | P_LP_DEMO if chance(&mut self.rng, 0.03) => Some(DEMO_REQUEST),
                    P_CONTACT if chance(&mut self.rng, 0.05) => Some(FORM_SUBMIT),
                    P_RESOURCES | 14 | P_LP_GUIDE if chance(&mut self.rng, 0.04) => {
                        Some(CONTENT_DOWNLOAD)
                    }
                    _ => None,
                };
                if let Some(ty) = conv {
                    let mut c = e;
                    c.ty = ty;
                    c.ts = ts + (minutes * 60.0) as i64 + 2;
                    c.dur = NONE16;
                    c.depth = NONE8;
                    c.flags &= !F_UTM;
                    c.refr = 0;
                    if contact != NONE32 {
                        c.flags |= F_EMAIL;
                    } else {
                        // The visitor fills the form with a work email we do not know yet.
                        c.flags |= F_GHOST_EMAIL;
                    }
                    c.aux = self.rng.random::<u16>();
                    self.push(c);
                }
            }
            prev = url;
            ts += (minutes * 60.0) as i64 + unif_i(&mut self.rng, 5, 90);
        }
    }

    fn email(&mut self) {
        let (acc, d, c) = if chance(&mut self.rng, 0.03) && !self.w.people.unrelated.is_empty() {
            let (_, d) = self.u.sample(&mut self.rng).unwrap_or((0, 0));
            let c = *pick(&mut self.rng, &self.w.people.unrelated);
            (NONE32, d, c)
        } else {
            let Some((a, d)) = self.m.sample(&mut self.rng) else {
                return;
            };
            let ts = self.w.clock.day_ts(d + 1);
            let Some(c) = self.contact_of(a, ts, 0, false) else {
                return;
            };
            (a as u32, d, c)
        };
        let p = &self.w.people.contacts[c as usize];
        let acc = if acc == NONE32 {
            NONE32
        } else {
            p.truth.unwrap_or(NONE32)
        };
        let Some(campaign) = self.campaign_on(d, EMAIL) else {
            return;
        };
        let offset = if acc == NONE32 {
            0
        } else {
            self.w.accounts[acc as usize].utc_offset
        };
        let send =
            self.w.clock.day_ts(d) + unif_i(&mut self.rng, 9 * 3600, 11 * 3600) - offset * 3600;
        if send < p.created {
            return;
        }
        let flags = self.id_flags();
        let mut e = Ev::new(send, EMAIL_SEND);
        e.contact = c;
        e.account = acc;
        e.campaign = campaign;
        e.channel = EMAIL;
        e.flags = flags;
        if !self.push(e) {
            return;
        }
        if chance(&mut self.rng, 0.025) {
            let mut b = e;
            b.ty = EMAIL_BOUNCE;
            b.ts = send + unif_i(&mut self.rng, 5, 300);
            b.aux = u16::from(chance(&mut self.rng, 0.7));
            self.push(b);
            return;
        }
        let engaged = if acc != NONE32 && self.w.accounts[acc as usize].is_target {
            1.3
        } else {
            1.0
        };
        if chance(&mut self.rng, 0.24 * engaged) {
            let mut o = e;
            o.ty = EMAIL_OPEN;
            o.ts = send + ((-unif(&mut self.rng, 0.001, 1.0).ln()) * 5.0 * 3600.0) as i64 + 30;
            o.flags |= F_IP;
            if !self.push(o) {
                return;
            }
            if chance(&mut self.rng, 0.2) {
                let mut o2 = o;
                o2.ts = o.ts + unif_i(&mut self.rng, 600, 2 * DAY);
                self.push(o2);
            }
            if chance(&mut self.rng, 0.25) {
                let mut k = o;
                k.ty = EMAIL_CLICK;
                k.ts = o.ts + unif_i(&mut self.rng, 10, 600);
                if self.push(k) && chance(&mut self.rng, 0.7) {
                    // The click lands on the site.
                    let zh = acc != NONE32 && self.w.accounts[acc as usize].lang == names::Lang::Zh;
                    let p = &self.w.people.contacts[c as usize];
                    let anon = p.anon.filter(|_| k.ts >= p.stitch).unwrap_or(NONE32);
                    let customer = self.is_customer(acc, k.ts);
                    self.session(k.ts + 5, acc, c, anon, EMAIL, zh, false, customer, None);
                }
            }
            if chance(&mut self.rng, 0.01) {
                let mut u = o;
                u.ty = EMAIL_UNSUBSCRIBE;
                u.ts = o.ts + unif_i(&mut self.rng, 10, 300);
                self.push(u);
            }
        } else if chance(&mut self.rng, 0.002) {
            let mut u = e;
            u.ty = EMAIL_UNSUBSCRIBE;
            u.ts = send + unif_i(&mut self.rng, 3600, 3 * DAY);
            self.push(u);
        }
    }

    fn ads(&mut self) {
        let Some((a, d)) = self.m.sample(&mut self.rng) else {
            return;
        };
        let channel = if chance(&mut self.rng, 0.65) {
            PAID_SOCIAL
        } else {
            DISPLAY
        };
        let Some(campaign) = self.campaign_on(d, channel) else {
            return;
        };
        let acc = a as u32;
        let account_only = chance(&mut self.rng, 0.25);
        let probe = self.w.clock.day_ts(d + 1);
        let contact = if account_only {
            None
        } else {
            self.contact_of(a, probe, 0, true)
        };
        let (contact, flags) = match contact {
            Some(c) => (c, F_CONTACT_ID),
            None => (NONE32, F_ACCOUNT_ID),
        };
        let n = unif_i(&mut self.rng, 1, 6);
        let mut last = 0;
        for _ in 0..n {
            let mut e = Ev::new(self.at(acc, d), AD_IMPRESSION);
            e.contact = contact;
            e.account = acc;
            e.campaign = campaign;
            e.channel = channel;
            e.flags = flags;
            e.aux = self.rng.random_range(0..4);
            if self.push(e) {
                last = e.ts;
            }
        }
        if last == 0 || contact == NONE32 {
            return;
        }
        if chance(&mut self.rng, 0.06) {
            let mut e = Ev::new(last + unif_i(&mut self.rng, 2, 30), AD_CLICK);
            e.contact = contact;
            e.account = acc;
            e.campaign = campaign;
            e.channel = channel;
            e.flags = flags;
            if self.push(e) {
                let zh = self.w.accounts[a].lang == names::Lang::Zh;
                let p = &self.w.people.contacts[contact as usize];
                let anon = p.anon.filter(|_| e.ts >= p.stitch).unwrap_or(NONE32);
                self.session(
                    e.ts + 3,
                    acc,
                    contact,
                    anon,
                    channel,
                    zh,
                    false,
                    false,
                    None,
                );
            }
        } else if channel == PAID_SOCIAL && chance(&mut self.rng, 0.05) {
            let mut e = Ev::new(last + unif_i(&mut self.rng, 2, 120), AD_ENGAGEMENT);
            e.contact = contact;
            e.account = acc;
            e.campaign = campaign;
            e.channel = channel;
            e.flags = flags;
            e.aux = self.rng.random_range(0..AD_ACTIONS.len() as u16);
            self.push(e);
        }
    }

    fn social(&mut self) {
        let Some((a, d)) = self.m.sample(&mut self.rng) else {
            return;
        };
        let ts = self.at(a as u32, d);
        let Some(c) = self.contact_of(a, ts, 0, false) else {
            return;
        };
        let ty = *pick_w(
            &mut self.rng,
            &[
                (SOCIAL_LIKE, 40.0),
                (SOCIAL_FOLLOW, 14.0),
                (SOCIAL_SHARE, 15.0),
                (SOCIAL_COMMENT, 15.0),
                (SOCIAL_MENTION, 12.0),
                (REVIEW_POSTED, 3.0),
            ],
        );
        let mut e = Ev::new(ts, ty);
        e.contact = c;
        e.account = self.truth(c);
        e.flags = if chance(&mut self.rng, 0.7) {
            F_CONTACT_ID
        } else {
            F_EMAIL
        };
        e.aux = self.rng.random::<u16>();
        if ty == REVIEW_POSTED {
            e.channel = REFERRAL;
            e.campaign = self
                .w
                .campaigns
                .iter()
                .position(|c| c.name.starts_with("G2"))
                .map(|i| i as u16)
                .unwrap_or(NONE16);
        } else {
            e.channel = ORGANIC_SOCIAL;
            if chance(&mut self.rng, 0.4) {
                e.campaign = self.campaign_on(d, ORGANIC_SOCIAL).unwrap_or(NONE16);
            }
        }
        self.push(e);
    }

    fn content(&mut self) {
        let Some((a, d)) = self.m.sample(&mut self.rng) else {
            return;
        };
        let acc = a as u32;
        let ts = self.at(acc, d);
        let ty = *pick_w(
            &mut self.rng,
            &[
                (CONTENT_DOWNLOAD, 40.0),
                (FORM_SUBMIT, 30.0),
                (VIDEO_VIEW, 30.0),
            ],
        );
        let ghost = ty != VIDEO_VIEW && chance(&mut self.rng, 0.25);
        let unrelated =
            !ghost && chance(&mut self.rng, 0.05) && !self.w.people.unrelated.is_empty();
        let mut e = Ev::new(ts, ty);
        e.aux = self.rng.random::<u16>();
        if ghost {
            e.account = acc;
            e.flags = F_GHOST_EMAIL | F_IP;
        } else if unrelated {
            let c = *pick(&mut self.rng, &self.w.people.unrelated);
            if self.w.people.contacts[c as usize].created > ts {
                return;
            }
            e.contact = c;
            e.flags = F_EMAIL | F_IP | F_HOME_IP;
        } else {
            let Some(c) = self.contact_of(a, ts, 0, false) else {
                return;
            };
            e.contact = c;
            e.account = self.truth(c);
            e.flags = self.id_flags() | F_IP;
        }
        e.channel = if ty == CONTENT_DOWNLOAD && chance(&mut self.rng, 0.35) {
            SYNDICATION
        } else {
            *pick(
                &mut self.rng,
                &[
                    ORGANIC_SEARCH,
                    ORGANIC_SEARCH,
                    DIRECT,
                    PAID_SOCIAL,
                    EMAIL,
                    ORGANIC_SOCIAL,
                ],
            )
        };
        if matches!(e.channel, SYNDICATION | PAID_SOCIAL | EMAIL) {
            match self.campaign_on(d, e.channel) {
                Some(c) => e.campaign = c,
                None => e.channel = ORGANIC_SEARCH,
            }
        }
        match ty {
            VIDEO_VIEW => {
                e.url = *pick(&mut self.rng, &[P_PRODUCT, 8, P_HOME]);
                e.dur = unif_i(&mut self.rng, 5, 250) as u16;
            }
            FORM_SUBMIT => {
                e.url = *pick(
                    &mut self.rng,
                    &[P_CONTACT, P_PRICING, P_WEBINARS, P_RESOURCES],
                )
            }
            _ => {
                if e.channel != SYNDICATION {
                    e.url = *pick(&mut self.rng, &[P_RESOURCES, 14, P_LP_GUIDE]);
                }
            }
        }
        if e.channel == SYNDICATION {
            // Syndicated leads arrive by email from the partner, without web context.
            e.flags &= !(F_IP | F_CONTACT_ID);
            if e.flags & (F_EMAIL | F_GHOST_EMAIL) == 0 {
                e.flags |= F_EMAIL;
            }
        }
        self.push(e);
    }

    /// A webinar or event registrant, attendance and campaign membership.
    fn gathering(&mut self) {
        let Some((a, d)) = self.m.sample(&mut self.rng) else {
            return;
        };
        let acc = a as u32;
        let day_ts = self.w.clock.day_ts(d);
        // The webinar/event being promoted on that day (or the next one within 45 days).
        let mut best: Option<u16> = None;
        for &ci in &self.gatherings {
            let c = &self.w.campaigns[ci as usize];
            if c.start <= day_ts + 45 * DAY && day_ts <= c.event_day {
                let better =
                    best.is_none_or(|b| c.event_day < self.w.campaigns[b as usize].event_day);
                if better {
                    best = Some(ci);
                }
            }
        }
        let Some(ci) = best else { return };
        let camp = &self.w.campaigns[ci as usize];
        // Executive dinners are small and by invitation, mostly for target accounts.
        if camp.dinner
            && !(self.w.accounts[a].is_target && chance(&mut self.rng, 0.3))
            && !chance(&mut self.rng, 0.03)
        {
            return;
        }
        let is_webinar = camp.channel == WEBINAR;
        let reg_ts = self.at(acc, d);
        let (contact, flags) = if chance(&mut self.rng, 0.1) {
            (NONE32, F_GHOST_EMAIL)
        } else {
            let senior = if is_webinar { 0 } else { 1 };
            let Some(c) = self.contact_of(a, reg_ts, senior, false) else {
                return;
            };
            (
                c,
                if chance(&mut self.rng, 0.75) {
                    F_CONTACT_ID | F_EMAIL
                } else {
                    F_EMAIL
                },
            )
        };
        let acc = if contact != NONE32 {
            self.truth(contact)
        } else {
            acc
        };
        let ghost_aux = self.rng.random::<u16>();
        let base = |ts: i64, ty: u8| {
            let mut e = Ev::new(ts, ty);
            e.contact = contact;
            e.account = acc;
            e.campaign = ci;
            e.channel = camp.channel;
            e.flags = flags;
            e.aux = ghost_aux;
            e
        };
        // Dinners are by invitation: no registration form.
        if !camp.dinner {
            self.push(base(
                reg_ts,
                if is_webinar {
                    WEBINAR_REGISTRATION
                } else {
                    EVENT_REGISTRATION
                },
            ));
        }
        if contact != NONE32 && chance(&mut self.rng, 0.6) {
            let mut m = base(reg_ts + 60, CAMPAIGN_MEMBER);
            m.flags = F_CONTACT_ID;
            m.aux = 0; // status Registered
            self.push(m);
        }
        let p_attend = if camp.dinner {
            0.7
        } else if is_webinar {
            0.42
        } else {
            0.6
        };
        if !chance(&mut self.rng, p_attend) {
            return;
        }
        let offset = if acc == NONE32 {
            0
        } else {
            self.w.accounts[acc as usize].utc_offset
        };
        let start = camp.event_day
            + if camp.dinner {
                19 * 3600 - offset * 3600
            } else if is_webinar {
                16 * 3600
            } else {
                unif_i(&mut self.rng, 9 * 3600, 15 * 3600) - offset * 3600
            };
        let (ty, minutes) = if camp.dinner {
            (DINNER_ATTENDED, unif_i(&mut self.rng, 90, 200))
        } else if is_webinar {
            (WEBINAR_ATTENDED, unif_i(&mut self.rng, 10, 60))
        } else {
            (EVENT_ATTENDED, unif_i(&mut self.rng, 60, 480))
        };
        let mut e = base(start + unif_i(&mut self.rng, 0, 600), ty);
        e.dur = (minutes * 10) as u16;
        if !self.push(e) {
            return;
        }
        if contact != NONE32 && chance(&mut self.rng, 0.6) {
            let mut r = base(e.ts + minutes * 60, CAMPAIGN_RESPONDED);
            r.flags = F_CONTACT_ID;
            self.push(r);
        }
    }

    fn sales(&mut self) {
        let Some((a, d)) = self.s.sample(&mut self.rng) else {
            return;
        };
        let acc = a as u32;
        let ts = self.at(acc, d);
        let contact = self.contact_of(a, ts, 1, true);
        let ty = *pick_w(
            &mut self.rng,
            &[
                (CALL, 30.0),
                (SALES_EMAIL_REPLY, 25.0),
                (TASK_COMPLETED, 15.0),
                (MEETING_SCHEDULED, 30.0),
            ],
        );
        let mut e = Ev::new(ts, ty);
        e.account = acc;
        e.channel = SALES;
        match contact {
            Some(c) => {
                e.contact = c;
                e.flags = if ty == SALES_EMAIL_REPLY && chance(&mut self.rng, 0.4) {
                    F_EMAIL
                } else {
                    F_CONTACT_ID
                };
            }
            None if ty == TASK_COMPLETED => e.flags = F_ACCOUNT_ID,
            None => return,
        }
        if ty == TASK_COMPLETED && chance(&mut self.rng, 0.3) {
            e.contact = NONE32;
            e.flags = F_ACCOUNT_ID;
        }
        if chance(&mut self.rng, 0.25) {
            e.campaign = self.campaign_on(d, SALES).unwrap_or(NONE16);
        }
        e.aux = self.rng.random::<u16>();
        match ty {
            CALL => {
                let connected = chance(&mut self.rng, 0.55);
                e.dur = if connected {
                    unif_i(&mut self.rng, 30, 450)
                } else {
                    unif_i(&mut self.rng, 3, 15)
                } as u16;
                e.aux = u16::from(connected);
                self.push(e);
            }
            MEETING_SCHEDULED => {
                e.aux = 0;
                if !self.push(e) {
                    return;
                }
                let mut m = e;
                m.ts = ts + unif_i(&mut self.rng, DAY, 10 * DAY);
                if chance(&mut self.rng, 0.8) {
                    m.ty = MEETING_HELD;
                    m.dur = *pick(&mut self.rng, &[300u16, 300, 450, 600]);
                    m.aux = 1;
                } else {
                    m.ty = MEETING_CANCELED;
                    m.aux = 2;
                }
                self.push(m);
            }
            _ => {
                self.push(e);
            }
        }
    }

    fn product(&mut self) {
        let Some((a, d)) = self.p.sample(&mut self.rng) else {
            return;
        };
        let acc = a as u32;
        for _ in 0..unif_i(&mut self.rng, 1, 4) {
            let ts = self.at(acc, d);
            let Some(c) = self.contact_of(a, ts, 2, true) else {
                return;
            };
            let mut e = Ev::new(ts, PRODUCT_USAGE);
            e.contact = c;
            e.account = acc;
            e.flags = F_CONTACT_ID
                | F_IP
                | if chance(&mut self.rng, 0.25) {
                    F_ACCOUNT_ID
                } else {
                    0
                };
            e.dur = ((unif(&mut self.rng, 0.0, 1.0).powi(2) * 58.0 + 1.0) * 10.0) as u16;
            e.aux = self.rng.random::<u16>();
            self.push(e);
        }
    }

    /// High-intent actions: demo requests and trial sign-ups after a visit.
    fn intent(&mut self) {
        let Some((a, d)) = self.m.sample(&mut self.rng) else {
            return;
        };
        let acc = a as u32;
        let ts = self.at(acc, d);
        let ty = if chance(&mut self.rng, 0.6) {
            DEMO_REQUEST
        } else {
            TRIAL_SIGNUP
        };
        let contact = self.contact_of(a, ts, 0, false);
        let p_page = if ty == DEMO_REQUEST {
            P_DEMO
        } else {
            P_PRICING
        };
        let channel = *pick(
            &mut self.rng,
            &[PAID_SEARCH, ORGANIC_SEARCH, DIRECT, PAID_SOCIAL, REFERRAL],
        );
        let (c, anon) = match contact {
            Some(c) => {
                let p = &self.w.people.contacts[c as usize];
                (c, p.anon.filter(|_| ts >= p.stitch).unwrap_or(NONE32))
            }
            None => (NONE32, self.w.people.anon_first[a]),
        };
        let zh = self.w.accounts[a].lang == names::Lang::Zh;
        let before = self.evs.len();
        self.session(ts, acc, c, anon, channel, zh, false, false, Some(p_page));
        let Some(last) = self.evs[before..]
            .iter()
            .rev()
            .find(|e| e.ty == PAGE_VIEW)
            .copied()
        else {
            return;
        };
        let mut e = last;
        e.ty = ty;
        e.ts = last.ts + 30;
        e.url = p_page;
        e.dur = NONE16;
        e.depth = NONE8;
        e.refr = 0;
        e.flags &= !F_UTM;
        e.flags |= if c != NONE32 { F_EMAIL } else { F_GHOST_EMAIL };
        e.aux = self.rng.random::<u16>();
        self.push(e);
    }

    /// The contact a row names by its contact_id, else by its email (a made-up work address
    /// names a contact only when some contact has exactly that address).
    fn named_contact(&self, e: &Ev, model: &Model, ghost: &mut String) -> Option<u32> {
        if e.flags & (F_CONTACT_ID | F_EMAIL) != 0 && e.contact != NONE32 {
            return Some(e.contact);
        }
        if e.flags & F_GHOST_EMAIL != 0 && e.account != NONE32 {
            ghost.clear();
            ghost_email(ghost, &self.w.accounts[e.account as usize], e.aux);
            return model.by_email(ghost);
        }
        None
    }

    /// The contact each anonymous id is stitched to: the one named by the latest row that
    /// carries the anonymous id and a contact id or a contact's email (rows are in time
    /// order, ties by id, so the last such row in the file).
    fn stitches(&self, model: &Model) -> Vec<u32> {
        let size = self
            .evs
            .iter()
            .filter(|e| e.anon != NONE32)
            .map(|e| e.anon as usize + 1)
            .max()
            .unwrap_or(0);
        let mut stitched = vec![NONE32; size];
        let mut ghost = String::with_capacity(64);
        for e in &self.evs {
            if e.flags & F_ANON != 0
                && e.anon != NONE32
                && let Some(c) = self.named_contact(e, model, &mut ghost)
            {
                stitched[e.anon as usize] = c;
            }
        }
        stitched
    }

    /// SPEC §3 on a row as written (see `truth.rs`): the account it resolves to, nothing, or
    /// unsure (left to the fuzzy company matcher). `office` says the row's IP is an office
    /// address of `e.account`.
    fn resolve(
        &self,
        e: &Ev,
        model: &Model,
        stitched: &[u32],
        office: bool,
        ghost: &mut String,
    ) -> Found {
        // 1. The row's account_id.
        if e.flags & F_ACCOUNT_ID != 0 && e.account != NONE32 {
            return Found::Account(e.account);
        }
        // The contact: contact_id, else email, else the stitched anonymous id.
        let contact = self.named_contact(e, model, ghost).or_else(|| {
            (e.flags & F_ANON != 0 && e.anon != NONE32)
                .then(|| stitched[e.anon as usize])
                .filter(|&c| c != NONE32)
        });
        // 2. The contact's account_id.
        if let Some(c) = contact
            && let f @ Found::Account(_) = model.member(c)
        {
            return f;
        }
        // 3. The row's email: a contact's address, or a made-up one at the account's domain.
        if e.flags & F_EMAIL != 0 && e.contact != NONE32 {
            if let f @ Found::Account(_) = model.mail(e.contact) {
                return f;
            }
        } else if e.flags & F_GHOST_EMAIL != 0 && e.account != NONE32 {
            return Found::Account(e.account);
        }
        // 3 and 4 for the contact: its email, then its company.
        if let Some(c) = contact {
            match model.rest(c) {
                Found::Nothing => {}
                f => return f,
            }
        }
        // 5. The IP.
        if office {
            Found::Account(e.account)
        } else {
            Found::Nothing
        }
    }

    fn write(&self, out_dir: &Path) -> Result<(FileEntry, TruthSummary)> {
        let w = self.w;
        let model = Model::new(w.accounts, w.people);
        let stitched = self.stitches(&model);
        let mut truth = TruthFile::create(out_dir)?;
        let mut ghost2 = String::with_capacity(64);
        let path = out_dir.join("activities.csv");
        let mut wtr = csv::WriterBuilder::new()
            .buffer_capacity(1 << 20)
            .from_path(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        wtr.write_record([
            "id",
            "timestamp",
            "type",
            "contact_id",
            "email",
            "anonymous_id",
            "account_id",
            "ip",
            "source",
            "channel",
            "campaign_id",
            "url",
            "referrer",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "duration_minutes",
            "scroll_depth",
            "status",
            "properties",
        ])?;
        let width = self.evs.len().to_string().len().max(7);
        let mut id = String::with_capacity(16);
        let mut ts = String::with_capacity(24);
        let mut anon = String::with_capacity(24);
        let mut ip = String::with_capacity(40);
        let mut url = String::with_capacity(160);
        let mut refr = String::with_capacity(80);
        let mut ghost = String::with_capacity(64);
        let mut dur = String::with_capacity(8);
        let mut depth = String::with_capacity(4);
        let mut props = String::with_capacity(80);
        for (i, e) in self.evs.iter().enumerate() {
            id.clear();
            let _ = write!(id, "act-{:0width$}", i + 1);
            ts.clear();
            push_ts(&mut ts, e.ts);
            let contact = if e.flags & F_CONTACT_ID != 0 && e.contact != NONE32 {
                w.people.contacts[e.contact as usize].id.as_str()
            } else {
                ""
            };
            ghost.clear();
            let email = if e.flags & F_EMAIL != 0 && e.contact != NONE32 {
                w.people.contacts[e.contact as usize].email.as_str()
            } else if e.flags & F_GHOST_EMAIL != 0 && e.account != NONE32 {
                ghost_email(&mut ghost, &w.accounts[e.account as usize], e.aux);
                ghost.as_str()
            } else {
                ""
            };
            anon.clear();
            if e.flags & F_ANON != 0 && e.anon != NONE32 {
                let _ = write!(
                    anon,
                    "anon-{:016x}",
                    mix(self.anon_salt ^ u64::from(e.anon))
                );
            }
            let account = if e.flags & F_ACCOUNT_ID != 0 && e.account != NONE32 {
                w.accounts[e.account as usize].id.as_str()
            } else {
                ""
            };
            ip.clear();
            let mut office = false;
            if e.flags & F_IP != 0 {
                let who = if e.anon != NONE32 {
                    u64::from(e.anon)
                } else if e.contact != NONE32 {
                    (1 << 40) | u64::from(e.contact)
                } else {
                    (2 << 40) | u64::from(e.aux)
                };
                let h = mix(self.anon_salt.rotate_left(17) ^ who);
                if e.account == NONE32 {
                    if e.anon != NONE32 && e.anon >= w.people.stray_first {
                        accounts::stray_ip(h, w.nets, &mut ip);
                    } else {
                        accounts::home_ip(h, w.nets, &mut ip);
                    }
                } else if e.flags & F_HOME_IP == 0
                    && w.accounts[e.account as usize].office_ip(h, &mut ip)
                {
                    office = true;
                } else {
                    ip.clear();
                    accounts::home_ip(h, w.nets, &mut ip);
                }
            }
            let channel = if e.channel == NONE8 {
                ""
            } else {
                CHANNELS[e.channel as usize]
            };
            let campaign = if e.campaign == NONE16 {
                None
            } else {
                Some(&w.campaigns[e.campaign as usize])
            };
            let campaign_id = campaign.map(|c| c.id.as_str()).unwrap_or("");

            // UTM parameters of a session's landing page.
            let (mut us, mut um, mut uc, mut ut, mut ucon) = ("", "", "", "", "");
            if e.flags & F_UTM != 0 {
                uc = campaign.map(|c| c.slug.as_str()).unwrap_or("");
                match e.channel {
                    PAID_SOCIAL => {
                        us = "linkedin";
                        um = "paid_social";
                        ucon = AD_CONTENT[e.aux as usize % AD_CONTENT.len()];
                    }
                    PAID_SEARCH => {
                        us = if e.refr == R_BING { "bing" } else { "google" };
                        um = "cpc";
                        ut = SEARCH_TERMS[e.aux as usize % SEARCH_TERMS.len()];
                    }
                    DISPLAY => {
                        us = "dv360";
                        um = "display";
                        ucon = ["banner-300x250", "banner-728x90", "video-30s"][e.aux as usize % 3];
                    }
                    EMAIL => {
                        us = "newsletter";
                        um = "email";
                        ucon = ["cta-button", "header-link"][e.aux as usize % 2];
                    }
                    SYNDICATION => {
                        us = "syndication-partner";
                        um = "syndication";
                    }
                    _ => {
                        us = "linkedin";
                        um = "social";
                    }
                }
            }
            url.clear();
            if e.url != NONE8 {
                url.push_str(SITE);
                url.push_str(PAGES[e.url as usize]);
                if e.flags & F_UTM != 0 {
                    let _ = write!(url, "?utm_source={us}&utm_medium={um}&utm_campaign={uc}");
                    if !ut.is_empty() {
                        url.push_str("&utm_term=");
                        url.push_str(&ut.replace(' ', "+"));
                    }
                    if !ucon.is_empty() {
                        url.push_str("&utm_content=");
                        url.push_str(ucon);
                    }
                }
            }
            refr.clear();
            if e.ty == PAGE_VIEW || e.ty == SCROLL {
                if e.refr >= R_INTERNAL {
                    let p = (e.refr - R_INTERNAL) as usize;
                    if p < PAGES.len() {
                        refr.push_str(SITE);
                        refr.push_str(PAGES[p]);
                    }
                } else {
                    refr.push_str(REFERRERS[e.refr as usize]);
                }
            }
            dur.clear();
            if e.dur != NONE16 {
                let _ = write!(dur, "{}.{}", e.dur / 10, e.dur % 10);
            }
            depth.clear();
            if e.depth != NONE8 {
                let _ = write!(depth, "{}", e.depth);
            }
            let status = match e.ty {
                CAMPAIGN_MEMBER => "Registered",
                CAMPAIGN_RESPONDED => "Responded",
                MEETING_SCHEDULED => "scheduled",
                MEETING_HELD => "completed",
                MEETING_CANCELED => "canceled",
                TASK_COMPLETED => "Completed",
                CALL => {
                    if e.aux == 1 {
                        "connected"
                    } else {
                        "voicemail"
                    }
                }
                EMAIL_BOUNCE => {
                    if e.aux == 1 {
                        "hard"
                    } else {
                        "soft"
                    }
                }
                _ => "",
            };
            props.clear();
            let a = e.aux as usize;
            match e.ty {
                FORM_SUBMIT => {
                    let _ = write!(props, "{{\"form\":\"{}\"}}", FORMS[a % FORMS.len()]);
                }
                CONTENT_DOWNLOAD => {
                    let _ = write!(props, "{{\"asset\":\"{}\"}}", ASSETS[a % ASSETS.len()]);
                }
                VIDEO_VIEW => {
                    let _ = write!(
                        props,
                        "{{\"video\":\"{}\",\"percent\":{}}}",
                        VIDEOS[a % VIDEOS.len()],
                        10 + (a >> 3) % 91
                    );
                }
                PRODUCT_USAGE => {
                    let _ = write!(
                        props,
                        "{{\"feature\":\"{}\",\"events\":{}}}",
                        FEATURES[a % FEATURES.len()],
                        1 + (a >> 4) % 40
                    );
                }
                MEETING_SCHEDULED | MEETING_HELD | MEETING_CANCELED => {
                    let _ = write!(
                        props,
                        "{{\"subject\":\"{}\"}}",
                        MEETING_SUBJECTS[(a + i) % MEETING_SUBJECTS.len()]
                    );
                }
                REVIEW_POSTED => {
                    let _ = write!(props, "{{\"site\":\"G2\",\"rating\":{}}}", 3 + a % 3);
                }
                AD_ENGAGEMENT => {
                    let _ = write!(
                        props,
                        "{{\"action\":\"{}\"}}",
                        AD_ACTIONS[a % AD_ACTIONS.len()]
                    );
                }
                DEMO_REQUEST => props.push_str("{\"form\":\"book-a-demo\"}"),
                TRIAL_SIGNUP => props.push_str("{\"plan\":\"trial\"}"),
                _ => {}
            }
            wtr.write_record([
                id.as_str(),
                ts.as_str(),
                TYPES[e.ty as usize],
                contact,
                email,
                anon.as_str(),
                account,
                ip.as_str(),
                source_of(e.ty),
                channel,
                campaign_id,
                url.as_str(),
                refr.as_str(),
                us,
                um,
                if e.flags & F_UTM != 0 { uc } else { "" },
                ut,
                ucon,
                dur.as_str(),
                depth.as_str(),
                status,
                props.as_str(),
            ])
            .with_context(|| format!("writing {}", path.display()))?;

            let true_account = (e.account != NONE32).then(|| &w.accounts[e.account as usize]);
            let found = self.resolve(e, &model, &stitched, office, &mut ghost2);
            let resolvable = true_account.is_some() && found == Found::Account(e.account);
            truth.row(&id, true_account.map(|a| a.id.as_str()), resolvable)?;
        }
        wtr.flush()
            .with_context(|| format!("writing {}", path.display()))?;
        Ok((
            ("activities".to_string(), path, self.evs.len() as u64),
            truth.finish()?,
        ))
    }
}

/// A work email at the account's domain for someone who is not (yet) a contact.
fn ghost_email(out: &mut String, a: &Account, aux: u16) {
    let h = mix(u64::from(aux) ^ 0x5EED_0000);
    let first =
        super::people::ascii_fold(names::EN_FIRST[(h % names::EN_FIRST.len() as u64) as usize]);
    let last = super::people::ascii_fold(
        names::EN_LAST[((h >> 16) % names::EN_LAST.len() as u64) as usize],
    );
    let domain = &a.domains[((h >> 32) % a.domains.len() as u64) as usize];
    let sub = if (h >> 40).is_multiple_of(4) {
        "mail."
    } else {
        ""
    };
    let _ = write!(out, "{first}.{last}@{sub}{domain}");
}
