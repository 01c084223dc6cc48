//! Channel KPIs (SPEC §5), ads: per channel or campaign and period, the delivery totals of
//! `ad_totals` (impressions, clicks, spend, video views and completions, leads,
//! engagements), their ratios (`ctr`, `cpm`, `cpc`, `cpl`, `view_rate`, `completion_rate`,
//! `engagement_rate`), account reach and `target_reach_pct`, and the top titles and accounts
//! among the people who clicked or engaged; each with the previous period and the change.
//!
//! Account reach = distinct accounts with an impression: account-level `ad_performance` rows
//! with impressions > 0, and `ad_impression` activities resolved to an account. The titles
//! and accounts come from `ad_click` and `ad_engagement` activities resolved to a contact
//! (titles) or an account. The ad activities are read resolved from the derived table
//! `channel_activity` (channels lower-cased there, like the keys here).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use abmeter_model::report::{Column, ColumnKind, Report, View};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use abmeter_store::cube::{CHANNEL_ACTIVITY_TABLE, CONTACT_FIRST_TOUCH_TABLE};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::attribution::journeys::By;
use crate::cells::{float, ratio, text};
use crate::comparison;
use crate::roi::cost_sql;

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    pub by: By,
}

/// The summed delivery fields of `ad_totals`, in this order.
const SUMS: [&str; 7] = [
    "impressions",
    "clicks",
    "spend",
    "video_views",
    "video_completions",
    "leads",
    "engagements",
];

/// The row's metrics after the key, each also as `previous_<m>` and `<m>_change_pct`.
const METRICS: [&str; 17] = [
    "impressions",
    "clicks",
    "spend",
    "video_views",
    "video_completions",
    "leads",
    "engagements",
    "ctr",
    "cpm",
    "cpc",
    "cpl",
    "view_rate",
    "completion_rate",
    "engagement_rate",
    "accounts_reached",
    "target_accounts_reached",
    "target_reach_pct",
];

/// How many titles and accounts a row lists.
const TOP: usize = 3;

/// One key's figures in one period.
#[derive(Default)]
struct Figures {
    sums: [f64; SUMS.len()],
    reached: BTreeSet<String>,
    /// What `roi` counts as the key's cost (ad spend plus campaign costs): `cpl` falls back
    /// on it when there was no ad spend (content syndication bought per lead, SPEC §5).
    cost: f64,
}

impl Figures {
    fn values(&self, targets: &BTreeSet<String>) -> Vec<Value> {
        let s = &self.sums;
        let (impressions, clicks, spend, views, completions, leads, engagements) =
            (s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
        let reached_targets = self.reached.intersection(targets).count() as f64;
        // Counts stay integers; spend is money.
        let mut out: Vec<Value> = s
            .iter()
            .zip(SUMS)
            .map(|(x, f)| {
                if f == "spend" {
                    json!(x + 0.0)
                } else {
                    json!(*x as u64)
                }
            })
            .collect();
        out.extend([
            ratio(clicks, impressions),
            ratio(spend * 1000.0, impressions),
            ratio(spend, clicks),
            ratio(if spend > 0.0 { spend } else { self.cost }, leads),
            ratio(views, impressions),
            ratio(completions, views),
            ratio(engagements, impressions),
            json!(self.reached.len()),
            json!(reached_targets as u64),
            ratio(reached_targets * 100.0, targets.len() as f64),
        ]);
        out
    }
}

/// Row `i`'s period in a result with a `now` column: 0 for the period asked, 1 for the one
/// before.
fn slot_of(b: &RecordBatch, i: usize) -> usize {
    let now = b
        .column_by_name("now")
        .and_then(|c| c.as_boolean_opt())
        .is_some_and(|a| a.value(i));
    usize::from(!now)
}

fn key_sql(by: By, channel: &str, campaign: &str) -> String {
    match by {
        By::Channel => format!("lower(coalesce({channel}, '(none)'))"),
        By::Campaign => format!("coalesce({campaign}, '(none)')"),
    }
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let now = p.period.clone();
    let before = now.previous();
    let (from, to, cut) = (before.start, now.end, now.start);
    let key = key_sql(p.by, "channel", "campaign_id");
    // Delivery totals, both periods in one pass (`now` tells which).
    let sums: Vec<String> = SUMS
        .iter()
        .map(|f| format!("sum(CAST({f} AS DOUBLE)) AS {f}"))
        .collect();
    let totals = ctx
        .sql(&format!(
            "SELECT {key} AS key, date >= DATE '{cut}' AS now, {sums}
FROM ad_totals WHERE date >= DATE '{from}' AND date < DATE '{to}'
GROUP BY 1, 2",
            sums = sums.join(", ")
        ))
        .await?
        .collect()
        .await?;
    // Accounts reached: account-level rows and resolved ad impressions.
    let reach = ctx
        .sql(&format!(
            "SELECT {key} AS key, date >= DATE '{cut}' AS now, account_id
FROM ad_performance
WHERE account_id IS NOT NULL AND coalesce(impressions, 0) > 0
  AND date >= DATE '{from}' AND date < DATE '{to}'
UNION
SELECT {key} AS key, day >= DATE '{cut}' AS now, account_id
FROM {CHANNEL_ACTIVITY_TABLE}
WHERE type = 'ad_impression' AND account_id IS NOT NULL
  AND day >= DATE '{from}' AND day < DATE '{to}'"
        ))
        .await?
        .collect()
        .await?;
    // Who clicked or engaged in the period: their titles and accounts.
    let engaged = ctx
        .sql(&format!(
            "SELECT {key} AS key, r.contact_id, c.title, r.account_id, a.name AS account_name
FROM {CHANNEL_ACTIVITY_TABLE} r
LEFT JOIN contacts c ON c.id = r.contact_id
LEFT JOIN accounts a ON a.id = r.account_id
WHERE r.type IN ('ad_click', 'ad_engagement')
  AND r.day >= DATE '{cut}' AND r.day < DATE '{to}'",
            key = key_sql(p.by, "r.channel", "r.campaign_id"),
        ))
        .await?
        .collect()
        .await?;
    let targets: BTreeSet<String> = ctx
        .sql("SELECT id FROM accounts WHERE is_target")
        .await?
        .collect()
        .await?
        .iter()
        .flat_map(|b| (0..b.num_rows()).filter_map(move |i| text(b, "id", i)))
        .collect();
    let names: HashMap<String, String> = match p.by {
        By::Channel => HashMap::new(),
        By::Campaign => ctx
            .sql("SELECT id, name FROM campaigns")
            .await?
            .collect()
            .await?
            .iter()
            .flat_map(|b| {
                (0..b.num_rows())
                    .filter_map(move |i| Some((text(b, "id", i)?, text(b, "name", i)?)))
            })
            .collect(),
    };

    // key → (now, before)
    let mut figures: BTreeMap<String, [Figures; 2]> = BTreeMap::new();
    // What roi counts as each key's cost, for `cpl` without ad spend.
    let mut costs: [HashMap<String, f64>; 2] = [HashMap::new(), HashMap::new()];
    for (slot, period) in [&now, &before].into_iter().enumerate() {
        for b in &ctx.sql(&cost_sql(period, p.by)).await?.collect().await? {
            for i in 0..b.num_rows() {
                if let Some(k) = text(b, "key", i) {
                    *costs[slot].entry(k).or_default() += float(b, "cost", i).unwrap_or(0.0);
                }
            }
        }
    }
    for b in &totals {
        for i in 0..b.num_rows() {
            let k = text(b, "key", i).unwrap_or_else(|| "(none)".into());
            let f = &mut figures.entry(k).or_default()[slot_of(b, i)];
            for (j, name) in SUMS.iter().enumerate() {
                f.sums[j] += float(b, name, i).unwrap_or(0.0);
            }
        }
    }
    for b in &reach {
        for i in 0..b.num_rows() {
            let (Some(k), Some(account)) = (text(b, "key", i), text(b, "account_id", i)) else {
                continue;
            };
            figures.entry(k).or_default()[slot_of(b, i)]
                .reached
                .insert(account);
        }
    }
    // key → title → people; key → account → (name, activities)
    let mut titles: HashMap<String, HashMap<String, BTreeSet<String>>> = HashMap::new();
    let mut accounts: HashMap<String, HashMap<String, (Option<String>, u64)>> = HashMap::new();
    for b in &engaged {
        for i in 0..b.num_rows() {
            let k = text(b, "key", i).unwrap_or_else(|| "(none)".into());
            if let (Some(contact), Some(title)) = (text(b, "contact_id", i), text(b, "title", i)) {
                let title = title.trim().to_string();
                if !title.is_empty() {
                    titles
                        .entry(k.clone())
                        .or_default()
                        .entry(title)
                        .or_default()
                        .insert(contact);
                }
            }
            if let Some(account) = text(b, "account_id", i) {
                let e = accounts
                    .entry(k.clone())
                    .or_default()
                    .entry(account)
                    .or_insert((text(b, "account_name", i), 0));
                e.1 += 1;
            }
            figures.entry(k).or_default();
        }
    }

    let mut columns = vec![Column::new(p.by.name(), ColumnKind::Text)];
    if p.by == By::Campaign {
        columns.push(Column::new("campaign_name", ColumnKind::Text));
    }
    let kind = |m: &str| match m {
        "spend" => ColumnKind::Number,
        m if SUMS.contains(&m) => ColumnKind::Integer,
        "accounts_reached" | "target_accounts_reached" => ColumnKind::Integer,
        _ => ColumnKind::Number,
    };
    columns.extend(comparison::columns(&METRICS, kind));
    columns.push(Column::new("top_titles", ColumnKind::Json));
    columns.push(Column::new("top_accounts", ColumnKind::Json));

    let mut params = comparison::params(&now);
    params.insert("by".into(), json!(p.by.name()));
    params.insert("target_accounts".into(), json!(targets.len()));
    params.insert("currency".into(), json!(config.finance.currency));
    let mut rep = Report::new("channels", params, columns);
    rep.view = View::Scorecard;

    let mut rows: Vec<(f64, Vec<Value>)> = Vec::new();
    for (k, [cur, prev]) in &mut figures {
        cur.cost = costs[0].get(k).copied().unwrap_or(0.0);
        prev.cost = costs[1].get(k).copied().unwrap_or(0.0);
        let (a, b) = (cur.values(&targets), prev.values(&targets));
        let mut row = vec![json!(k)];
        if p.by == By::Campaign {
            row.push(json!(names.get(k)));
        }
        row.extend(comparison::values(&a, &b));
        row.push(top_titles(titles.get(k)));
        row.push(top_accounts(accounts.get(k)));
        rows.push((cur.sums[2], row));
    }
    // The largest spend first, then the key.
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    rep.rows = rows.into_iter().map(|(_, r)| r).collect();
    rep.extra
        .insert("email".into(), email(ctx, p, &now, &before).await?);
    rep.extra
        .insert("social".into(), social(ctx, p, &now, &before).await?);
    Ok(rep)
}

/// The email fields counted unique per contact and campaign, by activity type.
const EMAIL_TYPES: [&str; 5] = [
    "email_send",
    "email_bounce",
    "email_open",
    "email_click",
    "email_unsubscribe",
];

/// Email KPIs per key: sends, bounces, delivered = sends − bounces, unique opens and clicks,
/// unsubscribes (each a distinct contact × campaign), `open_rate`, `click_rate`,
/// `click_to_open`, `unsubscribe_rate`, and `leads` — contacts created in the period whose
/// first touch was on this channel or campaign; with the previous period's rates.
async fn email(
    ctx: &SessionContext,
    p: &Params,
    now: &Period,
    before: &Period,
) -> Result<Value, StoreError> {
    let (from, to, cut) = (before.start, now.end, now.start);
    let key = key_sql(p.by, "channel", "campaign_id");
    let counts = ctx
        .sql(&format!(
            "SELECT {key} AS key, day >= DATE '{cut}' AS now, type,
       CAST(count(DISTINCT concat(contact_id, '|', coalesce(campaign_id, ''))) AS DOUBLE) AS n
FROM {CHANNEL_ACTIVITY_TABLE}
WHERE type IN ('{types}') AND contact_id IS NOT NULL
  AND day >= DATE '{from}' AND day < DATE '{to}'
GROUP BY 1, 2, 3",
            types = EMAIL_TYPES.join("', '")
        ))
        .await?
        .collect()
        .await?;
    let leads = ctx
        .sql(&format!(
            "SELECT {key} AS key, c.created_at >= TIMESTAMP '{cut}T00:00:00Z' AS now,
       CAST(count(*) AS DOUBLE) AS n
FROM contacts c JOIN {CONTACT_FIRST_TOUCH_TABLE} f ON f.contact_id = c.id
WHERE c.created_at >= TIMESTAMP '{from}T00:00:00Z' AND c.created_at < TIMESTAMP '{to}T00:00:00Z'
GROUP BY 1, 2",
            key = key_sql(p.by, "f.channel", "f.campaign_id"),
        ))
        .await?
        .collect()
        .await?;
    // key → [now, before] → counts by EMAIL_TYPES, then leads
    let mut by: BTreeMap<String, [[f64; EMAIL_TYPES.len() + 1]; 2]> = BTreeMap::new();
    for b in &counts {
        for i in 0..b.num_rows() {
            let (Some(k), Some(t)) = (text(b, "key", i), text(b, "type", i)) else {
                continue;
            };
            let Some(j) = EMAIL_TYPES.iter().position(|x| *x == t) else {
                continue;
            };
            let slot = slot_of(b, i);
            by.entry(k).or_default()[slot][j] += float(b, "n", i).unwrap_or(0.0);
        }
    }
    for b in &leads {
        for i in 0..b.num_rows() {
            let Some(k) = text(b, "key", i) else { continue };
            // Leads count only for keys that sent email.
            if let Some(e) = by.get_mut(&k) {
                let slot = slot_of(b, i);
                e[slot][EMAIL_TYPES.len()] += float(b, "n", i).unwrap_or(0.0);
            }
        }
    }
    let rates = |c: &[f64; EMAIL_TYPES.len() + 1]| {
        let (sends, bounces, opens, clicks, unsubscribes) = (c[0], c[1], c[2], c[3], c[4]);
        let delivered = (sends - bounces).max(0.0);
        (
            delivered,
            ratio(opens, delivered),
            ratio(clicks, delivered),
            ratio(clicks, opens),
            ratio(unsubscribes, delivered),
        )
    };
    Ok(by
        .iter()
        .filter(|(_, [c, prev])| c.iter().chain(prev).any(|x| *x > 0.0))
        .map(|(k, [c, prev])| {
            let (delivered, open_rate, click_rate, click_to_open, unsubscribe_rate) = rates(c);
            let (_, prev_open, prev_click, _, _) = rates(prev);
            json!({
                p.by.name(): k,
                "sends": c[0] as u64, "bounces": c[1] as u64, "delivered": delivered as u64,
                "unique_opens": c[2] as u64, "unique_clicks": c[3] as u64,
                "unsubscribes": c[4] as u64, "open_rate": open_rate, "click_rate": click_rate,
                "click_to_open": click_to_open, "unsubscribe_rate": unsubscribe_rate,
                "leads": c[5] as u64, "previous_open_rate": prev_open,
                "previous_click_rate": prev_click,
            })
        })
        .collect())
}

/// The social activity types, in report order.
const SOCIAL_TYPES: [&str; 5] = [
    "social_follow",
    "social_like",
    "social_share",
    "social_comment",
    "social_mention",
];

/// Social KPIs per key: engagements by type and in all, and the distinct accounts that
/// engaged; with the previous period's engagements and accounts.
async fn social(
    ctx: &SessionContext,
    p: &Params,
    now: &Period,
    before: &Period,
) -> Result<Value, StoreError> {
    let (from, to, cut) = (before.start, now.end, now.start);
    let key = key_sql(p.by, "channel", "campaign_id");
    let batches = ctx
        .sql(&format!(
            "SELECT {key} AS key, day >= DATE '{cut}' AS now, type, account_id
FROM {CHANNEL_ACTIVITY_TABLE}
WHERE type IN ('{types}') AND day >= DATE '{from}' AND day < DATE '{to}'",
            types = SOCIAL_TYPES.join("', '")
        ))
        .await?
        .collect()
        .await?;
    // key → [now, before] → (count by type, accounts)
    type Tally = ([u64; SOCIAL_TYPES.len()], BTreeSet<String>);
    let mut by: BTreeMap<String, [Tally; 2]> = BTreeMap::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            let (Some(k), Some(t)) = (text(b, "key", i), text(b, "type", i)) else {
                continue;
            };
            let Some(j) = SOCIAL_TYPES.iter().position(|x| *x == t) else {
                continue;
            };
            let slot = slot_of(b, i);
            let e = &mut by.entry(k).or_default()[slot];
            e.0[j] += 1;
            if let Some(a) = text(b, "account_id", i) {
                e.1.insert(a);
            }
        }
    }
    Ok(by
        .iter()
        .map(|(k, [(c, accounts), (prev, prev_accounts)])| {
            let mut row = Map::new();
            row.insert(p.by.name().into(), json!(k));
            for (t, n) in SOCIAL_TYPES.iter().zip(c) {
                row.insert(t.trim_start_matches("social_").to_string() + "s", json!(n));
            }
            row.insert("engagements".into(), json!(c.iter().sum::<u64>()));
            row.insert("engaged_accounts".into(), json!(accounts.len()));
            row.insert(
                "previous_engagements".into(),
                json!(prev.iter().sum::<u64>()),
            );
            row.insert(
                "previous_engaged_accounts".into(),
                json!(prev_accounts.len()),
            );
            Value::Object(row)
        })
        .collect())
}

/// The titles with the most people, ties by title.
fn top_titles(titles: Option<&HashMap<String, BTreeSet<String>>>) -> Value {
    let mut list: Vec<(&String, usize)> = titles
        .map(|t| t.iter().map(|(k, v)| (k, v.len())).collect())
        .unwrap_or_default();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    list.iter()
        .take(TOP)
        .map(|(title, n)| json!({"name": title, "people": n}))
        .collect()
}

/// The accounts with the most clicks and engagements, ties by id.
fn top_accounts(accounts: Option<&HashMap<String, (Option<String>, u64)>>) -> Value {
    let mut list: Vec<(&String, &(Option<String>, u64))> =
        accounts.map(|a| a.iter().collect()).unwrap_or_default();
    list.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
    list.iter()
        .take(TOP)
        .map(|(id, (name, n))| json!({"account_id": id, "name": name, "activities": n}))
        .collect()
}
