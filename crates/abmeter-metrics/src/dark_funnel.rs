//! Self-reported ("dark funnel") sources (SPEC §6): the free-text `self_reported_source` of
//! contacts and opportunities ("How did you hear about us?") grouped into categories by the
//! `[[dark_funnel.rules]]` keywords, side by side with the first touch abmeter tracked.
//!
//! In scope: contacts created in the period and opportunities created in it; without a
//! period every contact and opportunity (contacts without `created_at` count only then).
//! A response is a non-blank text; the rest are counted as `without_response`.
//!
//! The tracked first touch of an opportunity is `first_touch_channel` of the
//! `sourced_opportunities` view (the account's first attribution touch within the lookback
//! before creation). A contact's is the channel of its earliest activity (ties by activity
//! id) that resolved to that contact and has an attribution touch type — the types and the
//! channel spelling of `attribution_touches` (lower case, `(none)` without one), but not its
//! account requirement: a lead with no account still has a tracked first touch. Any time,
//! before or after the contact was created. No touch → `(untracked)`.
//!
//! Two queries bring the responses (text, channel, amount) into Rust, which classifies each
//! distinct text once and sums; a third counts everything in scope.

use std::collections::HashMap;

use abmeter_model::config::DARK_FUNNEL_OTHER;
use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use abmeter_store::cube::CONTACT_FIRST_TOUCH_TABLE;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

/// The first-touch channel of a response with no tracked touch.
pub const UNTRACKED: &str = "(untracked)";

#[derive(Debug, Clone, Default)]
pub struct Params {
    /// The period whose new contacts and opportunities count; `None`: all time.
    pub period: Option<Period>,
}

/// The SQL condition that puts a `created_at` in the period (`TRUE` without one).
fn created_in(period: Option<&Period>, column: &str) -> String {
    match period {
        Some(p) => format!(
            "{column} >= TIMESTAMP '{s}T00:00:00Z' AND {column} < TIMESTAMP '{e}T00:00:00Z'",
            s = p.start,
            e = p.end
        ),
        None => "TRUE".into(),
    }
}

/// Opportunities in scope with a text: `text`, `channel` (null when untracked), `amount`.
pub fn opportunities_sql(p: &Params) -> String {
    let scope = created_in(p.period.as_ref(), "created_at");
    format!(
        "SELECT self_reported_source AS text, first_touch_channel AS channel, \
         coalesce(amount, 0.0) AS amount\n\
         FROM sourced_opportunities\n\
         WHERE {scope} AND self_reported_source IS NOT NULL"
    )
}

/// How many contacts and opportunities are in scope, with a text or not: `n`.
pub fn in_scope_sql(p: &Params) -> String {
    let scope = created_in(p.period.as_ref(), "created_at");
    format!(
        "SELECT (SELECT count(*) FROM contacts WHERE {scope}) \
         + (SELECT count(*) FROM opportunities WHERE {scope}) AS n"
    )
}

/// Contacts in scope with a text: `text` and the `channel` of their first touch (null when
/// untracked).
pub fn contacts_sql(p: &Params) -> String {
    let scope = created_in(p.period.as_ref(), "c.created_at");
    format!(
        "SELECT c.self_reported_source AS text, f.channel\n\
         FROM contacts c LEFT JOIN {CONTACT_FIRST_TOUCH_TABLE} f ON f.contact_id = c.id\n\
         WHERE {scope} AND c.self_reported_source IS NOT NULL"
    )
}

/// A column as UTF-8 text, whatever string type the engine chose.
fn utf8(b: &RecordBatch, name: &str) -> Result<ArrayRef, StoreError> {
    let col = b
        .column_by_name(name)
        .ok_or_else(|| StoreError::Unanswerable(format!("dark funnel: no column {name}")))?;
    Ok(cast(col, &DataType::Utf8)?)
}

async fn count(ctx: &SessionContext, sql: &str) -> Result<u64, StoreError> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_primitive_opt::<Int64Type>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0)
        .max(0) as u64)
}

/// Per (category, channel): contacts, opportunities, pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Cell {
    contacts: u64,
    opportunities: u64,
    pipeline: f64,
}

impl Cell {
    fn responses(&self) -> u64 {
        self.contacts + self.opportunities
    }
}

/// The responses summed per (category, channel), channels interned.
#[derive(Debug, Default)]
struct Tally {
    channels: Vec<String>,
    channel_ids: HashMap<String, usize>,
    cells: HashMap<(usize, usize), Cell>,
}

impl Tally {
    fn channel(&mut self, name: &str) -> usize {
        if let Some(id) = self.channel_ids.get(name) {
            return *id;
        }
        self.channels.push(name.to_string());
        self.channel_ids
            .insert(name.to_string(), self.channels.len() - 1);
        self.channels.len() - 1
    }

    /// Classifies and adds the responses (non-blank texts) of `batches`.
    fn add(
        &mut self,
        batches: &[RecordBatch],
        classify: &mut impl FnMut(&str) -> usize,
        opportunity: bool,
    ) -> Result<(), StoreError> {
        for b in batches.iter().filter(|b| b.num_rows() > 0) {
            let texts = utf8(b, "text")?;
            let texts = texts.as_string::<i32>();
            let channels = utf8(b, "channel")?;
            let channels = channels.as_string::<i32>();
            let amounts = match b.column_by_name("amount") {
                Some(a) => Some(cast(a, &DataType::Float64)?),
                None => None,
            };
            let amounts = amounts.as_ref().map(|a| a.as_primitive::<Float64Type>());
            for i in 0..b.num_rows() {
                if texts.is_null(i) || texts.value(i).trim().is_empty() {
                    continue;
                }
                let category = classify(texts.value(i));
                let channel = self.channel(if channels.is_null(i) {
                    UNTRACKED
                } else {
                    channels.value(i)
                });
                let cell = self.cells.entry((category, channel)).or_default();
                if opportunity {
                    cell.opportunities += 1;
                    cell.pipeline += amounts
                        .filter(|a| !a.is_null(i))
                        .map_or(0.0, |a| a.value(i));
                } else {
                    cell.contacts += 1;
                }
            }
        }
        Ok(())
    }
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let opps = ctx.sql(&opportunities_sql(p)).await?.collect().await?;
    let contacts = ctx.sql(&contacts_sql(p)).await?.collect().await?;
    let in_scope = count(ctx, &in_scope_sql(p)).await?;

    let categories = config.dark_funnel.categories();
    let classifier = config.dark_funnel.classifier();
    let index: HashMap<&str, usize> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i))
        .collect();
    let other = index[DARK_FUNNEL_OTHER];
    // Texts repeat ("LinkedIn", "G2"): classify each distinct one once.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut classify = |text: &str| -> usize {
        if let Some(i) = seen.get(text) {
            return *i;
        }
        let i = index
            .get(classifier.category(text))
            .copied()
            .unwrap_or(other);
        seen.insert(text.to_string(), i);
        i
    };
    let mut tally = Tally::default();
    tally.add(&contacts, &mut classify, false)?;
    tally.add(&opps, &mut classify, true)?;
    // Blank texts, and the rows without one that were never fetched: in scope − responses.
    let responses: u64 = tally.cells.values().map(Cell::responses).sum();
    let without_response = in_scope.saturating_sub(responses);

    let channels = &tally.channels;
    let mut rows: Vec<(usize, &str, Cell)> = tally
        .cells
        .iter()
        .map(|((category, channel), cell)| (*category, channels[*channel].as_str(), *cell))
        .collect();
    rows.sort_by(|(ca, cha, a), (cb, chb, b)| {
        ca.cmp(cb)
            .then(b.responses().cmp(&a.responses()))
            .then(cha.cmp(chb))
    });

    let mut params = Map::new();
    match &p.period {
        Some(period) => {
            params.insert("period".into(), json!(period.label()));
            params.insert("start".into(), json!(period.start.to_string()));
            params.insert("end".into(), json!(period.end.to_string()));
        }
        None => {
            for k in ["period", "start", "end"] {
                params.insert(k.into(), Value::Null);
            }
        }
    }
    params.insert("responses".into(), json!(responses));
    params.insert("without_response".into(), json!(without_response));

    let mut rep = Report::new(
        "sources",
        params,
        vec![
            Column::new("self_reported", ColumnKind::Text),
            Column::new("first_touch_channel", ColumnKind::Text),
            Column::new("contacts", ColumnKind::Integer),
            Column::new("opportunities", ColumnKind::Integer),
            Column::new("pipeline", ColumnKind::Number),
        ],
    );
    let mut totals = vec![(Cell::default(), None::<&str>); categories.len()];
    for (category, channel, cell) in &rows {
        let t = &mut totals[*category];
        t.0.contacts += cell.contacts;
        t.0.opportunities += cell.opportunities;
        t.0.pipeline += cell.pipeline;
        // Rows are in order: the first of a category has the most responses.
        t.1.get_or_insert(channel);
        rep.rows.push(vec![
            json!(categories[*category]),
            json!(channel),
            json!(cell.contacts),
            json!(cell.opportunities),
            json!(cell.pipeline),
        ]);
    }
    let summary: Vec<Value> = categories
        .iter()
        .zip(&totals)
        .map(|(name, (cell, top))| {
            json!({
                "self_reported": name,
                "contacts": cell.contacts,
                "opportunities": cell.opportunities,
                "pipeline": cell.pipeline,
                "responses_pct": if responses > 0 {
                    json!(cell.responses() as f64 / responses as f64 * 100.0)
                } else {
                    Value::Null
                },
                "top_first_touch_channel": top,
            })
        })
        .collect();
    rep.extra.insert("categories".into(), Value::Array(summary));
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session with the relations the report reads, as literal views.
    async fn session(contacts: &str, opportunities: &str, activities: &str) -> SessionContext {
        let ctx = SessionContext::new();
        for sql in [
            format!(
                "CREATE VIEW contacts AS SELECT column1 AS id, column2 AS self_reported_source, \
                 CAST(column3 AS TIMESTAMP) AS created_at FROM (VALUES {contacts})"
            ),
            format!(
                "CREATE VIEW sourced_opportunities AS SELECT column1 AS id, \
                 column2 AS self_reported_source, CAST(column3 AS TIMESTAMP) AS created_at, \
                 column4 AS first_touch_channel, CAST(column5 AS DOUBLE) AS amount \
                 FROM (VALUES {opportunities})"
            ),
            "CREATE VIEW opportunities AS SELECT id, created_at FROM sourced_opportunities".into(),
            format!(
                "CREATE VIEW resolved_activities AS SELECT column1 AS id, \
                 CAST(column2 AS TIMESTAMP) AS timestamp, column3 AS type, \
                 column4 AS resolved_contact_id, column5 AS channel, \
                 CAST(NULL AS VARCHAR) AS campaign_id FROM (VALUES {activities})"
            ),
            // The stored table's own definition, over the literal activities.
            format!(
                "CREATE VIEW {CONTACT_FIRST_TOUCH_TABLE} AS {}",
                abmeter_store::cube::Derived::ContactFirstTouch.sql(&Config::default())
            ),
        ] {
            ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        }
        ctx
    }

    fn rows(r: &Report) -> Vec<String> {
        r.rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[tokio::test]
    async fn blank_texts_ties_and_first_touches() {
        let ctx = session(
            // Whitespace-only texts are no response; c4 has no created_at.
            "('c1', 'Podcast', '2026-08-01T00:00:00Z'), ('c2', ' \t ', '2026-08-01T00:00:00Z'), \
             ('c3', 'G2', '2026-08-02T00:00:00Z'), ('c4', 'podcast', NULL), \
             ('c5', NULL, '2026-08-03T00:00:00Z')",
            "('o1', 'a podcast', '2026-08-05T00:00:00Z', 'email', 100), \
             ('o2', '', '2026-08-05T00:00:00Z', NULL, 50), \
             ('o3', 'zzz', '2026-08-06T00:00:00Z', NULL, NULL)",
            // c1: two touches at the same instant, the lower id wins; an email_send is no
            // touch type. c3: a channel in capitals, lower-cased.
            "('e2', '2026-07-01T00:00:00Z', 'page_view', 'c1', 'paid_search'), \
             ('e1', '2026-07-01T00:00:00Z', 'page_view', 'c1', 'display'), \
             ('e0', '2026-06-01T00:00:00Z', 'email_send', 'c1', 'email'), \
             ('e3', '2026-07-02T00:00:00Z', 'form_submit', 'c3', 'Paid_Social')",
        )
        .await;
        let config = Config::default();
        let period = Period::parse("2026-08", chrono::NaiveDate::MIN, 1).unwrap();
        let r = report(
            &ctx,
            &config,
            &Params {
                period: Some(period),
            },
        )
        .await
        .unwrap();
        // podcast: c1 (display) and o1 (email), one each, by channel; review_site: c3;
        // other: o3 untracked with a null amount (0).
        assert_eq!(
            rows(&r),
            [
                "podcast display 1 0 0.0",
                "podcast email 0 1 100.0",
                "review_site paid_social 1 0 0.0",
                "other (untracked) 0 1 0.0",
            ]
        );
        // In scope: c1, c2, c3, c5 and o1, o2, o3 (7); 4 responses.
        assert_eq!(r.params["responses"], 4);
        assert_eq!(r.params["without_response"], 3);
        let podcast = &r.extra["categories"][0];
        assert_eq!(podcast["top_first_touch_channel"], "display");
        assert_eq!(podcast["responses_pct"], 50.0);

        // All time adds c4 (podcast, untracked).
        let r = report(&ctx, &config, &Params::default()).await.unwrap();
        assert_eq!(r.params["period"], Value::Null);
        assert_eq!(r.params["responses"], 5);
        assert_eq!(r.rows[0][1], "(untracked)");
    }
}
