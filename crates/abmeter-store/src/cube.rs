//! The daily engagement cube (ARCHITECTURE "Performance design"): resolved activities summed
//! per account × day × contact × type, with the contact's department, seniority and persona,
//! minutes, weighted minutes and the activity count. Engagement, heatmaps, trends, MQAs and
//! alerts read it instead of resolving millions of raw events on every query.
//!
//! The contact is part of the grain, so distinct engaged contacts stay exact over any period
//! (a count of contacts per cell would not add up across days).
//!
//! **A cache, never a source of truth.** Queries see one relation, `engagement_cube`: the
//! stored cube when it matches the workspace, else a view computing the same rows live from
//! `resolved_activities` ([`CUBE_SQL`]), so a stale or missing cube only costs time.
//! [`Store::refresh_cube`] rebuilds it, one Parquet file per month, and records what it was
//! built from in `cube/index.json` (replaced atomically): the activity files, the identity
//! map's files and the configuration that weighs minutes; any change rebuilds it whole.
//! Rebuilding per month would only help when activities change without a new identity map,
//! which an import never does (it always rebuilds the map).

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use abmeter_model::{Config, Table};
use chrono::Datelike;
use datafusion::arrow::array::{AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{sort_to_indices, take, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Schema, SchemaRef, UInt32Type};
use datafusion::execution::context::SessionContext;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::identity::IDENTITY_MAP;
use crate::manifest::{DataFile, Manifest, sync_dir};
use crate::{Store, StoreError};

/// The relation every engagement report reads.
pub const CUBE_TABLE: &str = "engagement_cube";
/// The relation attribution reads: every touch resolved to an account.
pub const TOUCHES_TABLE: &str = "attribution_touches";
/// The relation deal velocity reads: the sales milestones before an opportunity.
pub const MILESTONES_TABLE: &str = "sales_milestones";
/// The milestone activity types, in the order a deal reaches them (SPEC §6).
pub const MILESTONES: [&str; 3] = ["demo_request", "meeting_scheduled", "meeting_held"];
const INDEX_FILE: &str = "index.json";
const LOCK_FILE: &str = ".lock";
const FORMAT: u32 = 3;

/// The attribution touch types as a SQL list (`NULL` when there are none: nothing matches).
pub fn touch_types_sql(config: &Config) -> String {
    let types: Vec<String> = config
        .attribution
        .effective_touch_types(&config.activities)
        .iter()
        .map(|t| format!("'{}'", t.replace('\'', "''")))
        .collect();
    if types.is_empty() {
        "NULL".into()
    } else {
        types.join(", ")
    }
}

/// The tables derived from resolved activities and kept as caches beside the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    /// The daily engagement cube.
    EngagementCube,
    /// Attribution's touches: activities of a touch type with their resolved account, so
    /// attribution reads them instead of resolving every activity again.
    Touches,
    /// The [`MILESTONES`] activities with their resolved account, for deal velocity.
    Milestones,
    /// Who sourced each opportunity (`sourced_opportunities`, [`crate::sourcing`]); it
    /// depends on the opportunities and accounts as well as on the touches and milestones.
    Sourcing,
    /// Days each opportunity spent in each stage ([`STAGE_TIME_SQL`]), for deal velocity.
    StageTime,
    /// Each contact's first touch (any touch resolved to the contact, with or without an
    /// account), for the dark-funnel report.
    ContactFirstTouch,
    /// The [`CHANNEL_TYPES`] activities (ads, email, social) with their resolved contact and
    /// account, channel and campaign, for the channel report.
    ChannelActivity,
    /// Page views and scroll events with their visitor (the resolved contact, else the
    /// anonymous id), the visitor's first page view ever and the resolved account, for the
    /// web report's sessions.
    WebVisits,
}

impl Derived {
    /// In build order: sourcing reads the touches and the milestones.
    pub const ALL: [Derived; 8] = [
        Derived::EngagementCube,
        Derived::Touches,
        Derived::Milestones,
        Derived::Sourcing,
        Derived::StageTime,
        Derived::ContactFirstTouch,
        Derived::ChannelActivity,
        Derived::WebVisits,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Derived::EngagementCube => CUBE_TABLE,
            Derived::Touches => TOUCHES_TABLE,
            Derived::Milestones => MILESTONES_TABLE,
            Derived::Sourcing => crate::sourcing::SOURCED_VIEW,
            Derived::StageTime => STAGE_TIME_TABLE,
            Derived::ContactFirstTouch => CONTACT_FIRST_TOUCH_TABLE,
            Derived::ChannelActivity => CHANNEL_ACTIVITY_TABLE,
            Derived::WebVisits => WEB_VISITS_TABLE,
        }
    }

    /// Its folder in the workspace.
    fn dir(self) -> &'static str {
        match self {
            Derived::EngagementCube => "cube",
            Derived::Touches => "touches",
            Derived::Milestones => "milestones",
            Derived::Sourcing => "sourcing",
            Derived::StageTime => "stage-time",
            Derived::ContactFirstTouch => "contact-first-touch",
            Derived::ChannelActivity => "channel-activity",
            Derived::WebVisits => "web-visits",
        }
    }

    /// Its definition over `resolved_activities`.
    pub fn sql(self, config: &Config) -> String {
        match self {
            Derived::EngagementCube => CUBE_SQL.to_string(),
            Derived::Touches => {
                let types = touch_types_sql(config);
                format!(
                    "SELECT resolved_account_id AS account_id, CAST(timestamp AS DATE) AS day,
       timestamp, id, type, lower(coalesce(channel, '(none)')) AS channel, campaign_id
FROM resolved_activities
WHERE resolved_account_id IS NOT NULL AND type IN ({types})"
                )
            }
            Derived::Milestones => format!(
                "SELECT resolved_account_id AS account_id, CAST(timestamp AS DATE) AS day,
       timestamp, id, type, lower(coalesce(channel, '(none)')) AS channel
FROM resolved_activities
WHERE resolved_account_id IS NOT NULL AND type IN ('{}')",
                MILESTONES.join("', '")
            ),
            Derived::Sourcing => crate::sourcing::view_sql(config),
            Derived::StageTime => STAGE_TIME_SQL.to_string(),
            Derived::ContactFirstTouch => format!(
                "SELECT resolved_contact_id AS contact_id,
       first_value(lower(coalesce(channel, '(none)')) ORDER BY timestamp, id) AS channel,
       min(timestamp) AS timestamp,
       first_value(campaign_id ORDER BY timestamp, id) AS campaign_id
FROM resolved_activities
WHERE resolved_contact_id IS NOT NULL AND type IN ({})
GROUP BY resolved_contact_id",
                touch_types_sql(config)
            ),
            Derived::WebVisits => "SELECT *,
       min(CASE WHEN type = 'page_view' THEN timestamp END) OVER (PARTITION BY visitor)
         AS visitor_first
FROM (
  SELECT CAST(timestamp AS DATE) AS day, timestamp, id, type,
         CASE WHEN resolved_contact_id IS NOT NULL THEN concat('c:', resolved_contact_id)
              WHEN anonymous_id IS NOT NULL AND anonymous_id <> ''
              THEN concat('a:', anonymous_id)
         END AS visitor,
         resolved_account_id AS account_id, match_rule, url, referrer, utm_source,
         utm_medium, utm_campaign, duration_minutes, scroll_depth
  FROM resolved_activities
  WHERE type IN ('page_view', 'scroll')
) v"
            .to_string(),
            Derived::ChannelActivity => format!(
                "SELECT CAST(timestamp AS DATE) AS day, timestamp, type,
       lower(coalesce(channel, '(none)')) AS channel, campaign_id,
       resolved_contact_id AS contact_id, resolved_account_id AS account_id
FROM resolved_activities
WHERE type IN ('{}')",
                CHANNEL_TYPES.join("', '")
            ),
        }
    }

    /// Its columns, as stored and as the live view returns them.
    pub fn schema(self) -> SchemaRef {
        match self {
            Derived::EngagementCube => schema(),
            Derived::Touches | Derived::Milestones => {
                // An activity resolved to its account and its channel; touches add the
                // campaign.
                let mut fields = vec![
                    Field::new("account_id", DataType::Utf8, true),
                    Field::new("day", DataType::Date32, true),
                    Field::new("timestamp", abmeter_model::table::timestamp_type(), true),
                    Field::new("id", DataType::Utf8, true),
                    Field::new("type", DataType::Utf8, true),
                ];
                fields.push(Field::new("channel", DataType::Utf8, true));
                if self == Derived::Touches {
                    fields.push(Field::new("campaign_id", DataType::Utf8, true));
                }
                Arc::new(Schema::new(fields))
            }
            Derived::Sourcing => crate::sourcing::schema(),
            Derived::StageTime => Arc::new(Schema::new(vec![
                Field::new("opportunity_id", DataType::Utf8, true),
                Field::new("stage", DataType::Utf8, true),
                Field::new("first_entry", DataType::UInt64, true),
                Field::new("days", DataType::Float64, true),
                Field::new("last_end", abmeter_model::table::timestamp_type(), true),
            ])),
            Derived::WebVisits => {
                let text = |name: &str| Field::new(name, DataType::Utf8, true);
                Arc::new(Schema::new(vec![
                    Field::new("day", DataType::Date32, true),
                    Field::new("timestamp", abmeter_model::table::timestamp_type(), true),
                    text("id"),
                    text("type"),
                    text("visitor"),
                    text("account_id"),
                    Field::new("match_rule", DataType::Int32, true),
                    text("url"),
                    text("referrer"),
                    text("utm_source"),
                    text("utm_medium"),
                    text("utm_campaign"),
                    Field::new("duration_minutes", DataType::Float64, true),
                    Field::new("scroll_depth", DataType::Float64, true),
                    Field::new(
                        "visitor_first",
                        abmeter_model::table::timestamp_type(),
                        true,
                    ),
                ]))
            }
            Derived::ChannelActivity => Arc::new(Schema::new(vec![
                Field::new("day", DataType::Date32, true),
                Field::new("timestamp", abmeter_model::table::timestamp_type(), true),
                Field::new("type", DataType::Utf8, true),
                Field::new("channel", DataType::Utf8, true),
                Field::new("campaign_id", DataType::Utf8, true),
                Field::new("contact_id", DataType::Utf8, true),
                Field::new("account_id", DataType::Utf8, true),
            ])),
            Derived::ContactFirstTouch => Arc::new(Schema::new(vec![
                Field::new("contact_id", DataType::Utf8, true),
                Field::new("channel", DataType::Utf8, true),
                Field::new("timestamp", abmeter_model::table::timestamp_type(), true),
                Field::new("campaign_id", DataType::Utf8, true),
            ])),
        }
    }

    /// The configuration its rows depend on (beyond the identity map).
    fn scoring(self, config: &Config) -> serde_json::Value {
        match self {
            Derived::EngagementCube => serde_json::json!({
                "activities": config.activities,
                "seniority_weights": config.seniority_weights,
                "tier_weights": config.tier_weights,
            }),
            Derived::Touches => serde_json::json!({
                "touch_types": config.attribution.effective_touch_types(&config.activities),
            }),
            Derived::Milestones => serde_json::json!({ "types": MILESTONES }),
            Derived::Sourcing => serde_json::json!({
                "touch_types": config.attribution.effective_touch_types(&config.activities),
                "lookback_days": config.attribution.lookback_days,
                "sourcing": config.sourcing,
                "milestones": MILESTONES,
            }),
            Derived::StageTime => serde_json::json!({}),
            Derived::ContactFirstTouch => serde_json::json!({
                "touch_types": config.attribution.effective_touch_types(&config.activities),
            }),
            Derived::ChannelActivity => serde_json::json!({ "types": CHANNEL_TYPES }),
            Derived::WebVisits => serde_json::json!({}),
        }
    }
}

/// The relation the web report reads: page views and scroll events with their visitor.
pub const WEB_VISITS_TABLE: &str = "web_visits";

/// The relation the channel report reads: ad, email and social activities resolved.
pub const CHANNEL_ACTIVITY_TABLE: &str = "channel_activity";
/// The activity types of the channel report: ads, email and social.
pub const CHANNEL_TYPES: [&str; 13] = [
    "ad_impression",
    "ad_click",
    "ad_engagement",
    "email_send",
    "email_bounce",
    "email_unsubscribe",
    "email_open",
    "email_click",
    "social_follow",
    "social_like",
    "social_share",
    "social_comment",
    "social_mention",
];

/// The relation the dark-funnel and channel reports read: each contact's first touch
/// (channel, time, campaign).
pub const CONTACT_FIRST_TOUCH_TABLE: &str = "contact_first_touch";

/// The relation deal velocity reads: days per opportunity and stage.
pub const STAGE_TIME_TABLE: &str = "stage_time";

/// Days in each stage (SPEC §6) per opportunity, from `opportunity_stages`: a stage lasts
/// from its entry to the deal's next entry (entries at the same instant in stage order);
/// the last stage of a closed deal ends at its close date (midnight) unless it was entered
/// on or after it (the closing marker, no duration); the stage an open deal is in has not
/// ended. One row per opportunity and stage: `first_entry` (the 1-based position of its
/// first entry in the history), `days` (all its visits) and `last_end` (when its last
/// ended visit ended; null when none ended).
pub const STAGE_TIME_SQL: &str = "WITH v AS (
  SELECT s.opportunity_id, s.stage, s.entered_at,
         lead(s.entered_at) OVER (PARTITION BY s.opportunity_id ORDER BY s.entered_at, s.stage)
           AS next_at,
         row_number() OVER (PARTITION BY s.opportunity_id ORDER BY s.entered_at, s.stage) AS n,
         CASE WHEN coalesce(o.is_closed, false) OR coalesce(o.is_won, false)
              THEN arrow_cast(CAST(o.close_date AS TIMESTAMP), 'Timestamp(Microsecond, Some(\"UTC\"))')
         END AS closed_at
  FROM opportunity_stages s LEFT JOIN opportunities o ON o.id = s.opportunity_id
), visits AS (
  SELECT opportunity_id, stage, n, entered_at,
         coalesce(next_at, CASE WHEN closed_at > entered_at THEN closed_at END) AS ended
  FROM v
)
SELECT opportunity_id, stage, CAST(min(n) AS BIGINT UNSIGNED) AS first_entry,
       coalesce(sum(CASE WHEN ended IS NOT NULL
                THEN CAST(greatest(
                       arrow_cast(ended, 'Int64') - arrow_cast(entered_at, 'Int64'), 0)
                     AS DOUBLE) / 86400000000.0 END), 0.0) AS days,
       max(ended) AS last_end
FROM visits GROUP BY opportunity_id, stage";

/// The cube's definition over `resolved_activities`: engagement summed per account × day ×
/// contact × type, then the contact's department, seniority and persona from the identity
/// map (the values resolution itself uses; `unknown` without a contact). Joining them after
/// the aggregation keeps three text columns out of the grouping, which halves its cost.
pub const CUBE_SQL: &str = "SELECT f.account_id, f.day, f.contact_id, f.type,
       coalesce(p.department, 'unknown') AS department,
       coalesce(p.seniority, 'unknown') AS seniority,
       p.persona,
       f.minutes, f.weighted_minutes, f.activities
FROM (
  SELECT resolved_account_id AS account_id,
         CAST(timestamp AS DATE) AS day,
         resolved_contact_id AS contact_id,
         type,
         sum(minutes) AS minutes,
         sum(weighted_minutes) AS weighted_minutes,
         count(*) AS activities
  FROM resolved_activities
  WHERE resolved_account_id IS NOT NULL
  GROUP BY resolved_account_id, CAST(timestamp AS DATE), resolved_contact_id, type
) f
LEFT JOIN (
  SELECT key AS contact_id, department, seniority, persona
  FROM identity_map WHERE kind = 'contact'
) p ON p.contact_id = f.contact_id";

/// The cube's columns, as stored and as the live view returns them.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("account_id", DataType::Utf8, true),
        Field::new("day", DataType::Date32, true),
        Field::new("contact_id", DataType::Utf8, true),
        Field::new("type", DataType::Utf8, true),
        Field::new("department", DataType::Utf8, true),
        Field::new("seniority", DataType::Utf8, true),
        Field::new("persona", DataType::Utf8, true),
        Field::new("minutes", DataType::Float64, true),
        Field::new("weighted_minutes", DataType::Float64, true),
        Field::new("activities", DataType::Int64, true),
    ]))
}

/// What a cube was built from; any difference makes it stale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stamp {
    format: u32,
    /// The activity files.
    activities: Vec<String>,
    /// The identity map's files: a new map can move any activity to another account.
    identity: Vec<String>,
    /// The files of the other tables it reads (opportunities and accounts, for sourcing).
    #[serde(default)]
    tables: Vec<String>,
    /// Its definition: a changed definition (a new release) rebuilds it.
    #[serde(default)]
    definition: String,
    /// The configuration that turns activities into (weighted) minutes.
    scoring: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CubeIndex {
    stamp: Stamp,
    /// One file per month with account-resolved activities.
    files: Vec<DataFile>,
}

/// What [`Store::refresh_cube`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Refresh {
    /// The cube already matched the workspace.
    Fresh,
    /// It was rebuilt: these months (`YYYY-MM`) have rows, this many in all.
    Rebuilt { months: Vec<String>, rows: u64 },
    /// Another process is refreshing it; queries read the live view meanwhile.
    Busy,
}

fn files_of(manifest: &Manifest, table: &str) -> Vec<String> {
    manifest
        .tables
        .get(table)
        .map(|t| t.files.iter().map(|f| f.path.clone()).collect())
        .unwrap_or_default()
}

fn stamp(kind: Derived, manifest: &Manifest, config: &Config) -> Stamp {
    Stamp {
        format: FORMAT,
        activities: files_of(manifest, Table::Activities.name()),
        identity: files_of(manifest, IDENTITY_MAP),
        tables: match kind {
            Derived::Sourcing => [Table::Opportunities, Table::Accounts]
                .iter()
                .flat_map(|t| files_of(manifest, t.name()))
                .collect(),
            Derived::StageTime => [Table::Opportunities, Table::OpportunityStages]
                .iter()
                .flat_map(|t| files_of(manifest, t.name()))
                .collect(),
            _ => Vec::new(),
        },
        scoring: kind.scoring(config),
        definition: kind.sql(config),
    }
}

fn read_index(root: &Path, kind: Derived) -> Result<Option<CubeIndex>, StoreError> {
    let path = root.join(kind.dir()).join(INDEX_FILE);
    match fs::read_to_string(&path) {
        // An index we cannot read is a stale cache, not an error: it is rebuilt.
        Ok(text) => Ok(serde_json::from_str(&text).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io { path, source }),
    }
}

/// The stored files of `kind` when they match `manifest` and `config` exactly.
fn fresh_files(
    root: &Path,
    kind: Derived,
    manifest: &Manifest,
    config: &Config,
) -> Result<Option<Vec<DataFile>>, StoreError> {
    let want = stamp(kind, manifest, config);
    Ok(read_index(root, kind)?
        .filter(|i| i.stamp == want)
        .map(|i| i.files))
}

/// Registers every derived table on `ctx`: the stored files when fresh, else the live view.
pub(crate) async fn register(
    store: &Store,
    ctx: &SessionContext,
    manifest: &Manifest,
    config: &Config,
) -> Result<(), StoreError> {
    for kind in Derived::ALL {
        match fresh_files(store.root(), kind, manifest, config)? {
            Some(files) if !files.is_empty() => {
                store.register_files(ctx, kind.table(), kind.schema(), &files)?;
            }
            _ => {
                let df = ctx.sql(&kind.sql(config)).await?;
                ctx.register_table(kind.table(), df.into_view())?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// Brings the engagement cube up to date ([`Store::refresh`]).
    pub async fn refresh_cube(&self) -> Result<Refresh, StoreError> {
        self.refresh(Derived::EngagementCube).await
    }

    /// Brings a derived table up to date with the workspace: rebuilds it whole when the
    /// activities, the identity map (every import that brings activities, contacts, accounts
    /// or ranges makes a new one) or the configuration it depends on changed. Another
    /// process refreshing at the same time is not waited for ([`Refresh::Busy`]).
    pub async fn refresh(&self, kind: Derived) -> Result<Refresh, StoreError> {
        let root = self.root();
        let dir = root.join(kind.dir());
        fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            source,
        })?;
        let Some(_lock) = crate::try_lock(&dir.join(LOCK_FILE))? else {
            return Ok(Refresh::Busy);
        };
        let manifest = self.manifest()?;
        let config = self.config()?;
        let want = stamp(kind, &manifest, &config);
        if read_index(root, kind)?.is_some_and(|i| i.stamp == want) {
            return Ok(Refresh::Fresh);
        }
        let written = self.build(kind, &manifest, &config).await?;
        let index = CubeIndex {
            stamp: want,
            files: written.values().cloned().collect(),
        };
        write_index(root, kind, &index)?;
        remove_unlisted(root, kind, &index);
        Ok(Refresh::Rebuilt {
            rows: index.files.iter().map(|f| f.rows).sum(),
            months: written.into_keys().collect(),
        })
    }

    /// Computes a derived table in one query and streams its rows into one file per month,
    /// each batch cut into its months' runs.
    async fn build(
        &self,
        kind: Derived,
        manifest: &Manifest,
        config: &Config,
    ) -> Result<BTreeMap<String, DataFile>, StoreError> {
        let ctx = self.session().await?;
        let mut stream = ctx.sql(&kind.sql(config)).await?.execute_stream().await?;
        // One open file per month: each batch is cut into its months' runs.
        let mut writers: BTreeMap<u32, MonthWriter> = BTreeMap::new();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            // A table without a day (sourcing) goes to one file.
            let keys: UInt32Array = match batch.column_by_name("day") {
                Some(day) => day
                    .as_primitive::<Date32Type>()
                    .iter()
                    .map(|d| d.map_or(0, month_key))
                    .collect(),
                None => UInt32Array::from(vec![0; batch.num_rows()]),
            };
            let order = sort_to_indices(&keys, None, None)?;
            let sorted = take_record_batch(&batch, &order)?;
            let keys = take(&keys, &order, None)?;
            let keys = keys.as_primitive::<UInt32Type>();
            let mut from = 0;
            while from < sorted.num_rows() {
                let key = keys.value(from);
                let len = keys.values()[from..]
                    .iter()
                    .position(|k| *k != key)
                    .unwrap_or(sorted.num_rows() - from);
                let writer = match writers.entry(key) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => e.insert(MonthWriter::create(
                        self.root(),
                        kind,
                        manifest.generation,
                        format!("{:04}-{:02}", key / 12, key % 12 + 1),
                    )?),
                };
                writer.write(&sorted.slice(from, len))?;
                from += len;
            }
        }
        let mut out = BTreeMap::new();
        for (_, w) in writers {
            let (month, file) = w.finish()?;
            out.insert(month, file);
        }
        sync_dir(&self.root().join(kind.dir()))?;
        Ok(out)
    }
}

/// year × 12 + month − 1 of a Date32 day.
fn month_key(day: i32) -> u32 {
    Date32Type::to_naive_date_opt(day).map_or(0, |d| d.year() as u32 * 12 + d.month0())
}

/// The file of one month being written.
struct MonthWriter {
    month: String,
    rel: String,
    path: PathBuf,
    writer: ArrowWriter<File>,
    rows: u64,
}

impl MonthWriter {
    fn create(
        root: &Path,
        kind: Derived,
        generation: u64,
        month: String,
    ) -> Result<MonthWriter, StoreError> {
        let rel = format!(
            "{}/{month}-g{generation:08}-{}.parquet",
            kind.dir(),
            std::process::id()
        );
        let path = root.join(&rel);
        let file = File::create(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let writer = ArrowWriter::try_new(file, kind.schema(), Some(writer_properties()))?;
        Ok(MonthWriter {
            month,
            rel,
            path,
            writer,
            rows: 0,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), StoreError> {
        self.rows += batch.num_rows() as u64;
        self.writer.write(batch)?;
        Ok(())
    }

    fn finish(self) -> Result<(String, DataFile), StoreError> {
        let file = self.writer.into_inner()?;
        file.sync_all().map_err(|source| StoreError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok((
            self.month,
            DataFile {
                path: self.rel,
                rows: self.rows,
            },
        ))
    }
}

/// Dictionaries for the repetitive text columns, none for the numbers.
fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(64 * 1024))
        .build()
}

fn write_index(root: &Path, kind: Derived, index: &CubeIndex) -> Result<(), StoreError> {
    let dir = root.join(kind.dir());
    let tmp = dir.join(format!("{INDEX_FILE}.tmp"));
    let io = |path: &PathBuf| {
        let path = path.clone();
        move |source| StoreError::Io { path, source }
    };
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(&serde_json::to_vec_pretty(index).expect("index serialises"))
        .map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    let dest = dir.join(INDEX_FILE);
    fs::rename(&tmp, &dest).map_err(io(&dest))?;
    sync_dir(&dir)
}

/// Deletes cube files the index no longer lists (best effort: they are only a cache).
fn remove_unlisted(root: &Path, kind: Derived, index: &CubeIndex) {
    let listed: HashSet<PathBuf> = index.files.iter().map(|f| root.join(&f.path)).collect();
    let Ok(entries) = fs::read_dir(root.join(kind.dir())) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "parquet") && !listed.contains(&path) {
            let _ = fs::remove_file(path);
        }
    }
}
