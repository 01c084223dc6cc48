//! Web KPIs (SPEC §5): sessions of page views, their channels and campaigns, engagement and
//! scroll depth, and visits by account, for a period beside the one before.
//!
//! - **Visitor**: the page view's resolved contact, else its anonymous id; page views with
//!   neither belong to no session.
//! - **Session**: a visitor's page views in time order (ties by id); a gap of more than
//!   `web.session_gap_minutes` or a page view with a `utm_campaign` different from the
//!   session's starts a new one. A session counts in the period it starts in.
//! - **Channel** of a session, from its first page: with a `utm_medium` or `utm_source`:
//!   `email` for medium email; for a paid medium (`web.paid_mediums`) `paid_search` or
//!   `paid_social` by the source (`web.search_referrers` / `social_referrers` fragments),
//!   `display` for mediums display and cpm, else `paid_other`; otherwise `social` for a
//!   social medium or source, `search` for a search source, else the medium (or `referral`).
//!   Without UTM, by the referrer's host: `search`, `social`, `referral`, or `direct` when
//!   there is no referrer. `campaign` is the first page's `utm_campaign`.
//! - `new_visitor_pct` = sessions that are their visitor's first ever / sessions × 100;
//!   `pages_per_session`; `avg_session_minutes` = mean of (last page time − first page time
//!   + the last page's duration when known); `bounce_rate` = one-page sessions / sessions.
//! - **Scroll depth**: a page view's depth is the largest of its own `scroll_depth` and the
//!   depths of the `scroll` events of the same visitor and URL after it, up to the next page
//!   view of that URL; among page views in the period with a depth, `scroll_25_pct` …
//!   `scroll_100_pct` = the share that reached 25, 50, 75, 100 × 100.
//! - **Visits by account**: sessions per account (the account of the session's first page
//!   that has one), split identified (resolved by anything but the IP) and reverse-IP.

use std::collections::HashMap;

use abmeter_model::config::WebConfig;
use abmeter_model::report::{ColumnKind, Report, View};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use abmeter_store::cube::WEB_VISITS_TABLE;
use datafusion::arrow::array::{AsArray, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{Float64Type, Int32Type};
use datafusion::execution::context::SessionContext;
use serde_json::{Value, json};

use crate::cells::{at, micros, ratio, strings, times};
use crate::comparison;
use crate::deals::Text;

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
}

/// Match rule 5 is reverse IP (SPEC §3).
const IP_RULE: i32 = 5;

/// One page view or scroll event, kept small: sorting and walking a million of them is the
/// report's cost. Its text fields stay in the query's batches ([`Texts`]) and are read only
/// where a session needs them.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The visitor's rank in text order among the report's visitors ([`Visitors`]):
    /// sorting and grouping by a number is far cheaper than by text.
    pub visitor: u32,
    pub at: i64,
    /// Where its text fields are: batch and row.
    pub batch: u32,
    pub row: u32,
    pub scroll_event: bool,
    /// The URL's hash: scroll events find their page view by it.
    pub url: Option<u64>,
    pub duration: Option<f64>,
    pub depth: Option<f64>,
    /// The visitor's first page view ever.
    pub first_visit: bool,
}

/// The text columns of one batch of hits.
pub struct Texts<'b> {
    id: Option<&'b StringArray>,
    account: Option<&'b StringArray>,
    rule: Option<&'b Int32Array>,
    referrer: Option<&'b StringArray>,
    source: Option<&'b StringArray>,
    medium: Option<&'b StringArray>,
    campaign: Option<&'b StringArray>,
}

impl<'b> Texts<'b> {
    pub fn new(b: &'b RecordBatch) -> Texts<'b> {
        let s = |name: &str| strings(b, name);
        Texts {
            id: s("id"),
            account: s("account_id"),
            rule: b
                .column_by_name("match_rule")
                .and_then(|c| c.as_primitive_opt::<Int32Type>()),
            referrer: s("referrer"),
            source: s("utm_source"),
            medium: s("utm_medium"),
            campaign: s("utm_campaign"),
        }
    }
}

/// A text cell, `None` when null or blank.
fn text(a: Option<&StringArray>, row: u32) -> Option<&str> {
    at(a, row as usize).filter(|v| !v.trim().is_empty())
}

/// The report's visitors: each gets a number as it is first read, and [`Visitors::ranks`]
/// turns those into ranks in text order, so sessions come out the same on every run.
#[derive(Default)]
pub struct Visitors {
    ids: HashMap<Text, u32, ahash::RandomState>,
    names: Vec<Text>,
}

impl Visitors {
    pub fn id(&mut self, visitor: &str) -> u32 {
        if let Some(id) = self.ids.get(visitor) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(Text::from(visitor), id);
        self.names.push(Text::from(visitor));
        id
    }

    /// The rank of each id.
    pub fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|a, b| self.names[*a as usize].cmp(&self.names[*b as usize]));
        let mut rank = vec![0; order.len()];
        for (r, id) in order.into_iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        rank
    }
}

/// One session.
#[derive(Debug, Clone, Default)]
struct Session {
    start: i64,
    end: i64,
    last_duration: Option<f64>,
    pages: usize,
    first: bool,
    channel: String,
    campaign: Option<Text>,
    account: Option<(Text, bool)>,
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let before = p.period.previous();
    let gap = (config.web.session_gap_minutes * 60_000_000.0) as i64;
    // A session starting at the window's start may have begun a gap earlier.
    let from = micros(before.start) - gap;
    let to = micros(p.period.end);
    let sql = format!(
        "SELECT visitor, timestamp, id, type, account_id, match_rule, url, referrer,
       utm_source, utm_medium, utm_campaign, duration_minutes, scroll_depth, visitor_first
FROM {WEB_VISITS_TABLE}
WHERE visitor IS NOT NULL
  AND timestamp >= arrow_cast({from}, 'Timestamp(Microsecond, Some(\"UTC\"))')
  AND timestamp < arrow_cast({to}, 'Timestamp(Microsecond, Some(\"UTC\"))')"
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut hits = Vec::new();
    let mut visitors = Visitors::default();
    for (k, b) in batches.iter().enumerate() {
        read_hits(b, k as u32, &mut visitors, &mut hits);
    }
    let ranks = visitors.ranks();
    for h in &mut hits {
        h.visitor = ranks[h.visitor as usize];
    }
    let texts: Vec<Texts> = batches.iter().map(Texts::new).collect();
    let mut rep = compute(config, p, &texts, hits);
    name_accounts(ctx, &mut rep).await?;
    Ok(rep)
}

fn read_hits(b: &RecordBatch, batch: u32, visitors: &mut Visitors, out: &mut Vec<Hit>) {
    let (visitor, kind, url) = (strings(b, "visitor"), strings(b, "type"), strings(b, "url"));
    let (stamp, first) = (times(b, "timestamp"), times(b, "visitor_first"));
    let f = |name: &str| {
        b.column_by_name(name)
            .and_then(|c| c.as_primitive_opt::<Float64Type>())
    };
    let (duration, depth) = (f("duration_minutes"), f("scroll_depth"));
    // Fixed keys: the hash only pairs scroll events with page views within one run.
    let hasher = ahash::RandomState::with_seeds(1, 2, 3, 4);
    for i in 0..b.num_rows() {
        let (Some(v), Some(t)) = (at(visitor, i), at(stamp, i)) else {
            continue;
        };
        out.push(Hit {
            visitor: visitors.id(v),
            at: t,
            batch,
            row: i as u32,
            scroll_event: at(kind, i) == Some("scroll"),
            url: text(url, i as u32).map(|u| hasher.hash_one(u)),
            duration: at(duration, i),
            depth: at(depth, i),
            first_visit: at(first, i) == Some(t),
        });
    }
}

/// Fills in `account_name` of the accounts `visits_by_account` lists.
async fn name_accounts(ctx: &SessionContext, rep: &mut Report) -> Result<(), StoreError> {
    let Some(Value::Array(visits)) = rep.extra.get_mut("visits_by_account") else {
        return Ok(());
    };
    let ids: Vec<String> = visits
        .iter()
        .filter_map(|v| v["account_id"].as_str())
        .map(|id| format!("'{}'", id.replace('\'', "''")))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut names = HashMap::new();
    let sql = format!(
        "SELECT id, name FROM accounts WHERE id IN ({})",
        ids.join(", ")
    );
    for b in &ctx.sql(&sql).await?.collect().await? {
        let (id, name) = (strings(b, "id"), strings(b, "name"));
        for i in 0..b.num_rows() {
            if let (Some(id), Some(name)) = (at(id, i), at(name, i)) {
                names.insert(id.to_string(), name.to_string());
            }
        }
    }
    for v in visits {
        let name = v["account_id"]
            .as_str()
            .and_then(|id| names.get(id))
            .cloned();
        v["account_name"] = json!(name);
    }
    Ok(())
}

/// The channel grouping rules of `[web]`, lower-cased once: a report classifies hundreds of
/// thousands of sessions.
pub struct Grouping {
    search: Vec<String>,
    social: Vec<String>,
    paid: Vec<String>,
}

impl Grouping {
    pub fn new(web: &WebConfig) -> Grouping {
        // A fragment's trailing dot is optional, so `google.` also matches a `utm_source` of
        // `google`; matching the fragment without it covers both.
        let fragments = |list: &[String]| {
            list.iter()
                .map(|f| f.trim().to_lowercase().trim_end_matches('.').to_string())
                .filter(|f| !f.is_empty())
                .collect()
        };
        Grouping {
            search: fragments(&web.search_referrers),
            social: fragments(&web.social_referrers),
            paid: web.paid_mediums.iter().map(|m| m.to_lowercase()).collect(),
        }
    }

    /// The channel of a session whose first page has these UTM fields and referrer (see
    /// the module docs).
    pub fn channel(
        &self,
        medium: Option<&str>,
        source: Option<&str>,
        referrer: Option<&str>,
    ) -> String {
        let matches =
            |text: &str, fragments: &[String]| fragments.iter().any(|f| text.contains(f.as_str()));
        if medium.is_some() || source.is_some() {
            let medium = medium.map(str::to_lowercase).unwrap_or_default();
            let source = source.map(str::to_lowercase).unwrap_or_default();
            let search = matches(&source, &self.search);
            let social = matches(&source, &self.social) || medium.contains("social");
            if medium == "email" || medium == "e-mail" {
                return "email".into();
            }
            if self.paid.contains(&medium) {
                return if search {
                    "paid_search"
                } else if social {
                    "paid_social"
                } else if medium == "display" || medium == "cpm" {
                    "display"
                } else {
                    "paid_other"
                }
                .into();
            }
            if social {
                return "social".into();
            }
            if search {
                return "search".into();
            }
            return if medium.is_empty() {
                "referral".into()
            } else {
                medium
            };
        }
        let Some(r) = referrer else {
            return "direct".into();
        };
        let host = host(r).to_lowercase();
        if matches(&host, &self.search) {
            "search"
        } else if matches(&host, &self.social) {
            "social"
        } else {
            "referral"
        }
        .into()
    }
}

/// The host of a URL (or the text itself).
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// The figures of one period's sessions and page views.
#[derive(Default)]
struct Figures {
    sessions: f64,
    new: f64,
    pages: f64,
    minutes: f64,
    bounces: f64,
    with_depth: f64,
    reached: [f64; 4],
}

impl Figures {
    fn values(&self) -> Vec<Value> {
        let n = self.sessions;
        let mut out = vec![
            json!(n as u64),
            json!(self.pages as u64),
            ratio(self.new * 100.0, n),
            ratio(self.pages, n),
            ratio(self.minutes, n),
            ratio(self.bounces, n),
            json!(self.with_depth as u64),
        ];
        out.extend(
            self.reached
                .iter()
                .map(|r| ratio(r * 100.0, self.with_depth)),
        );
        out
    }
}

const FIELDS: [&str; 11] = [
    "sessions",
    "page_views",
    "new_visitor_pct",
    "pages_per_session",
    "avg_session_minutes",
    "bounce_rate",
    "page_views_with_scroll_depth",
    "scroll_25_pct",
    "scroll_50_pct",
    "scroll_75_pct",
    "scroll_100_pct",
];

/// The report over the hits of the two periods (and a gap before them).
pub fn compute(config: &Config, p: &Params, texts: &[Texts], hits: Vec<Hit>) -> Report {
    let now = p.period.clone();
    let before = now.previous();
    let bounds = [
        (micros(now.start), micros(now.end)),
        (micros(before.start), micros(before.end)),
    ];
    let slot_of = |t: i64| bounds.iter().position(|(s, e)| *s <= t && t < *e);
    let gap = (config.web.session_gap_minutes * 60_000_000.0) as i64;
    let grouping = Grouping::new(&config.web);
    let cols = |h: &Hit| &texts[h.batch as usize];
    let id = |h: &Hit| text(cols(h).id, h.row);
    let campaign = |h: &Hit| text(cols(h).campaign, h.row);
    // Sort small keys, not the hits themselves (moving them costs more than comparing);
    // the id breaks ties of one visitor's same-moment hits.
    let mut order: Vec<(u32, i64, u32)> = hits
        .iter()
        .enumerate()
        .map(|(i, h)| (h.visitor, h.at, i as u32))
        .collect();
    order.sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| id(&hits[a.2 as usize]).cmp(&id(&hits[b.2 as usize])))
    });

    let mut sessions: Vec<Session> = Vec::new();
    let mut figures = [Figures::default(), Figures::default()];
    // Buffers reused from visitor to visitor.
    let mut visit: Vec<&Hit> = Vec::new();
    let mut page_depth: Vec<(usize, Option<f64>)> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let visitor = order[i].0;
        let mut j = i;
        while j < order.len() && order[j].0 == visitor {
            j += 1;
        }
        visit.clear();
        visit.extend(order[i..j].iter().map(|k| &hits[k.2 as usize]));
        let mut current: Option<Session> = None;
        // The visitor's page views: (index into visit, depth so far).
        page_depth.clear();
        for (k, h) in visit.iter().enumerate() {
            if h.scroll_event {
                // Belongs to the visitor's latest page view of the same URL.
                if let Some((_, d)) = page_depth
                    .iter_mut()
                    .rev()
                    .find(|(pk, _)| visit[*pk].url == h.url)
                    && let Some(x) = h.depth
                {
                    *d = Some(d.map_or(x, |y| y.max(x)));
                }
                continue;
            }
            page_depth.push((k, h.depth));
            let new_campaign =
                |s: &Session| campaign(h).is_some_and(|c| s.campaign.as_deref() != Some(c));
            let starts = match &current {
                None => true,
                Some(s) => h.at - s.end > gap || new_campaign(s),
            };
            if starts {
                if let Some(s) = current.take() {
                    sessions.push(s);
                }
                current = Some(Session {
                    start: h.at,
                    end: h.at,
                    first: h.first_visit,
                    channel: grouping.channel(
                        text(cols(h).medium, h.row),
                        text(cols(h).source, h.row),
                        text(cols(h).referrer, h.row),
                    ),
                    campaign: campaign(h).map(Text::from),
                    ..Session::default()
                });
            }
            let s = current.as_mut().expect("a session is open");
            s.end = h.at;
            s.last_duration = h.duration;
            s.pages += 1;
            if s.account.is_none()
                && let Some(a) = text(cols(h).account, h.row)
            {
                let rule = at(cols(h).rule, h.row as usize);
                s.account = Some((Text::from(a), rule == Some(IP_RULE)));
            }
        }
        if let Some(s) = current.take() {
            sessions.push(s);
        }
        for &(k, depth) in &page_depth {
            let h = &visit[k];
            let (Some(slot), Some(d)) = (slot_of(h.at), depth) else {
                continue;
            };
            let f = &mut figures[slot];
            f.with_depth += 1.0;
            for (r, level) in f.reached.iter_mut().zip([25.0, 50.0, 75.0, 100.0]) {
                if d >= level {
                    *r += 1.0;
                }
            }
        }
        i = j;
    }

    // Sessions by channel and campaign, and by account, in the period.
    let mut by_channel: HashMap<ChannelKey, [f64; 2]> = HashMap::new();
    let mut by_account: HashMap<Text, [f64; 3]> = HashMap::new();
    for s in &sessions {
        let Some(slot) = slot_of(s.start) else {
            continue;
        };
        let f = &mut figures[slot];
        f.sessions += 1.0;
        f.pages += s.pages as f64;
        f.new += f64::from(u8::from(s.first));
        f.bounces += f64::from(u8::from(s.pages == 1));
        f.minutes += (s.end - s.start) as f64 / 60_000_000.0 + s.last_duration.unwrap_or(0.0);
        by_channel
            .entry((s.channel.clone(), s.campaign.clone()))
            .or_default()[slot] += 1.0;
        if slot == 0
            && let Some((a, by_ip)) = &s.account
        {
            let e = by_account.entry(a.clone()).or_default();
            e[0] += 1.0;
            e[if *by_ip { 2 } else { 1 }] += 1.0;
        }
    }

    let columns = comparison::columns(&FIELDS, kind);
    let mut params = comparison::params(&now);
    params.insert(
        "session_gap_minutes".into(),
        json!(config.web.session_gap_minutes),
    );
    let mut rep = Report::new("web", params, columns);
    rep.view = View::Scorecard;
    let (a, b) = (figures[0].values(), figures[1].values());
    rep.rows.push(comparison::values(&a, &b));

    let mut channels: Vec<(&ChannelKey, &[f64; 2])> = by_channel.iter().collect();
    channels.sort_by(|x, y| y.1[0].total_cmp(&x.1[0]).then(x.0.cmp(y.0)));
    rep.extra.insert(
        "sessions_by_channel".into(),
        channels
            .iter()
            .filter(|(_, n)| n[0] > 0.0 || n[1] > 0.0)
            .map(|((channel, campaign), n)| {
                json!({"channel": channel, "campaign": campaign.as_deref(), "sessions": n[0] as u64,
                       "previous_sessions": n[1] as u64})
            })
            .collect(),
    );
    let mut accounts: Vec<(&Text, &[f64; 3])> = by_account.iter().collect();
    accounts.sort_by(|x, y| y.1[0].total_cmp(&x.1[0]).then(x.0.cmp(y.0)));
    rep.extra.insert(
        "visits_by_account".into(),
        accounts
            .iter()
            .take(VISITS_LISTED)
            .map(|(id, n)| {
                json!({"account_id": id.as_str(), "account_name": null, "sessions": n[0] as u64,
                       "identified_sessions": n[1] as u64, "reverse_ip_sessions": n[2] as u64})
            })
            .collect(),
    );
    rep.extra
        .insert("accounts_visiting".into(), json!(by_account.len()));
    rep
}

/// A session's (channel, campaign).
type ChannelKey = (String, Option<Text>);

/// How many accounts `visits_by_account` lists (the most sessions first).
const VISITS_LISTED: usize = 100;

fn kind(field: &str) -> ColumnKind {
    match field {
        "sessions" | "page_views" | "page_views_with_scroll_depth" => ColumnKind::Integer,
        _ => ColumnKind::Number,
    }
}
