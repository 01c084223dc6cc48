//! `abmeter resolve --report` (SPEC §3): how many activities and contacts each rule matched,
//! why the rest did not match, stitching, and the unmatched domains and company names a user
//! fixes their account data from. Every number is a query over `resolved_activities` and
//! `identity_map`, so `abmeter sql` over the same view agrees with it.

use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_resolve::identity::Reason;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use abmeter_store::StoreError;

use crate::batches_to_report;

/// The rules of SPEC §3, by number.
pub const RULES: [(i64, &str); 5] = [
    (1, "account_id"),
    (2, "contact"),
    (3, "email_domain"),
    (4, "company_name"),
    (5, "ip_range"),
];

/// How many unmatched domains and company names the report lists.
const TOP: usize = 10;

const BY_RULE: &str = include_str!("../sql/identity_by_rule.sql");
const CONTACTS_BY_RULE: &str = include_str!("../sql/identity_contacts_by_rule.sql");
const STITCHING: &str = include_str!("../sql/identity_stitching.sql");
const UNMATCHED_DOMAINS: &str = include_str!("../sql/identity_unmatched_domains.sql");
const UNMATCHED_COMPANIES: &str = include_str!("../sql/identity_unmatched_companies.sql");
const AMBIGUOUS_DOMAINS: &str = include_str!("../sql/identity_ambiguous_domains.sql");
const AMBIGUOUS_EMAILS: &str = include_str!("../sql/identity_ambiguous_emails.sql");

/// One row per finding: `section`, `item`, `activities`, `contacts`, `visitors`, `detail`.
/// Without `full`, only the totals and the rows per rule and per unmatched reason.
pub async fn report(ctx: &SessionContext, full: bool) -> Result<Report, StoreError> {
    let col = |name: &str, kind| Column {
        name: name.into(),
        kind,
    };
    let mut r = Report::new(
        "resolve",
        Map::new(),
        vec![
            col("section", ColumnKind::Text),
            col("item", ColumnKind::Text),
            col("activities", ColumnKind::Integer),
            col("contacts", ColumnKind::Integer),
            col("visitors", ColumnKind::Integer),
            col("detail", ColumnKind::Text),
        ],
    );
    let mut push =
        |section: &str, item: &str, activities: Value, contacts: Value, detail: Value| {
            r.rows.push(vec![
                json!(section),
                json!(item),
                activities,
                contacts,
                Value::Null,
                detail,
            ])
        };

    // Rows: (match_rule, unmatched_reason, n).
    let activities = rows(ctx, BY_RULE).await?;
    let contacts = rows(ctx, CONTACTS_BY_RULE).await?;
    let count = |rows: &[Vec<Value>], rule: Option<i64>, reason: Option<&str>| -> i64 {
        rows.iter()
            .filter(|r| r[0].as_i64() == rule && r[1].as_str() == reason)
            .map(|r| r[2].as_i64().unwrap_or(0))
            .sum()
    };
    let total_activities: i64 = activities.iter().map(|r| r[2].as_i64().unwrap_or(0)).sum();
    let total_contacts: i64 = contacts.iter().map(|r| r[2].as_i64().unwrap_or(0)).sum();
    push(
        "total",
        "all",
        json!(total_activities),
        json!(total_contacts),
        Value::Null,
    );
    for (rule, name) in RULES {
        // A contact's own account comes from rules 2–4 only.
        let c = (2..=4)
            .contains(&rule)
            .then(|| json!(count(&contacts, Some(rule), None)));
        push(
            "matched",
            &format!("{rule} {name}"),
            json!(count(&activities, Some(rule), None)),
            c.unwrap_or(Value::Null),
            Value::Null,
        );
    }
    for reason in Reason::ALL {
        let a = count(&activities, None, Some(reason.as_str()));
        let c = count(&contacts, None, Some(reason.as_str()));
        if a > 0 || c > 0 {
            push(
                "unmatched",
                reason.as_str(),
                json!(a),
                json!(c),
                json!(reason.advice()),
            );
        }
    }

    if !full {
        return Ok(r);
    }
    // Stitching rows carry visitor counts, pushed after the closure's last use below.
    let stitching = rows(ctx, STITCHING).await?;
    for row in rows(ctx, &UNMATCHED_DOMAINS.replace("{top}", &TOP.to_string())).await? {
        push(
            "unmatched_domain",
            row[0].as_str().unwrap_or(""),
            row[1].clone(),
            row[2].clone(),
            json!(Reason::UnknownDomain.advice()),
        );
    }
    for row in rows(ctx, &UNMATCHED_COMPANIES.replace("{top}", &TOP.to_string())).await? {
        push(
            "unmatched_company",
            row[0].as_str().unwrap_or(""),
            row[1].clone(),
            row[2].clone(),
            match row[3].as_str().and_then(Reason::parse) {
                Some(r) => json!(format!("{}: {}", r.as_str(), r.advice())),
                None => Value::Null,
            },
        );
    }
    for row in rows(ctx, AMBIGUOUS_DOMAINS).await? {
        push(
            "ambiguous_domain",
            row[0].as_str().unwrap_or(""),
            Value::Null,
            Value::Null,
            json!(format!("accounts {}", row[1].as_str().unwrap_or(""))),
        );
    }
    for row in rows(ctx, &AMBIGUOUS_EMAILS.replace("{top}", &TOP.to_string())).await? {
        push(
            "ambiguous_email",
            row[0].as_str().unwrap_or(""),
            Value::Null,
            row[1].clone(),
            json!("several contacts share it: it identifies none of them"),
        );
    }
    for row in rows(
        ctx,
        "SELECT key FROM identity_map WHERE kind = 'warning' ORDER BY key",
    )
    .await?
    {
        push(
            "ip_range_skipped",
            row[0].as_str().unwrap_or(""),
            Value::Null,
            Value::Null,
            Value::Null,
        );
    }
    if let Some(s) = stitching.first() {
        r.rows.push(vec![
            json!("stitching"),
            json!("visitors identified"),
            s[2].clone(),
            Value::Null,
            s[0].clone(),
            json!("activities: anonymous ones that got their contact through stitching"),
        ]);
        r.rows.push(vec![
            json!("stitching"),
            json!("visitors identified as several contacts"),
            Value::Null,
            Value::Null,
            s[1].clone(),
            json!("conflicts: the latest identification wins"),
        ]);
    }
    Ok(r)
}

/// Runs `sql` and returns its rows as JSON values (the same conversion every report uses).
async fn rows(ctx: &SessionContext, sql: &str) -> Result<Vec<Vec<Value>>, StoreError> {
    let df = ctx.sql(sql).await?;
    let schema = df.schema().as_arrow().clone();
    let batches = df.collect().await?;
    Ok(batches_to_report("rows", Map::new(), &schema, &batches)?.rows)
}
