//! Customer satisfaction (SPEC §8): NPS and CSAT for a period beside the one before, for
//! all responses or by account and its segments; and the accounts whose NPS fell.
//!
//! `nps` = 100 × (promoters (9–10) − detractors (0–6)) / responses, −100..100; passives
//! (7–8) count only in the denominator. `csat` = 100 × scores of 4–5 / responses on the
//! 1–5 scale. No responses → null. A survey belongs to its `account_id` when that names an
//! account, else to its contact's account (SPEC §11: an unknown id counts as absent).

use std::collections::{BTreeMap, HashMap};

use abmeter_model::Period;
use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_store::StoreError;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::execution::context::SessionContext;
use serde_json::{Value, json};

use crate::cells::{at, micros, ratio, strings, times};
use crate::comparison;
use crate::deals::{Dim, Text};

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    pub by: Option<Dim>,
}

/// What NPS can be grouped by: the survey's account and the account's segments.
pub const DIMS: [Dim; 7] = [
    Dim::Account,
    Dim::Industry,
    Dim::Region,
    Dim::Country,
    Dim::Tier,
    Dim::Owner,
    Dim::IsTarget,
];

/// One survey response.
#[derive(Debug, Clone)]
pub struct Response {
    pub at: i64,
    pub nps: bool,
    pub score: i64,
    pub account: Option<Text>,
    pub account_name: Option<Text>,
    /// The group's value for the report's `--by`.
    pub key: Option<Text>,
}

/// Counts of one period's responses.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Scores {
    pub responses: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub csat_responses: u64,
    pub satisfied: u64,
}

impl Scores {
    pub fn add(&mut self, r: &Response) {
        if r.nps {
            self.responses += 1;
            match r.score {
                9.. => self.promoters += 1,
                7 | 8 => self.passives += 1,
                _ => self.detractors += 1,
            }
        } else {
            self.csat_responses += 1;
            self.satisfied += u64::from(r.score >= 4);
        }
    }

    pub fn nps(&self) -> Value {
        ratio(
            100.0 * (self.promoters as f64 - self.detractors as f64),
            self.responses as f64,
        )
    }

    pub fn csat(&self) -> Value {
        ratio(100.0 * self.satisfied as f64, self.csat_responses as f64)
    }

    fn values(&self) -> Vec<Value> {
        vec![
            json!(self.responses),
            json!(self.promoters),
            json!(self.passives),
            json!(self.detractors),
            self.nps(),
            json!(self.csat_responses),
            json!(self.satisfied),
            self.csat(),
        ]
    }
}

const FIELDS: [&str; 8] = [
    "responses",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "csat_responses",
    "satisfied",
    "csat",
];

pub async fn report(ctx: &SessionContext, p: &Params) -> Result<Report, StoreError> {
    let before = p.period.previous();
    let dim_sql = match p.by {
        None | Some(Dim::Account) => "NULL".to_string(),
        Some(Dim::IsTarget) => "CASE WHEN a.is_target THEN 'true' ELSE 'false' END".into(),
        Some(d) => format!("a.{}", d.name()),
    };
    let sql = format!(
        "SELECT s.timestamp, lower(s.kind) AS kind, CAST(s.score AS BIGINT) AS score,
       a.id AS account_id, a.name AS account_name, nullif(trim({dim_sql}), '') AS key
FROM surveys s
LEFT JOIN contacts c ON c.id = s.contact_id
LEFT JOIN accounts sa ON sa.id = s.account_id
LEFT JOIN accounts a ON a.id = coalesce(sa.id, c.account_id)
WHERE s.timestamp >= arrow_cast({from}, 'Timestamp(Microsecond, Some(\"UTC\"))')
  AND s.timestamp < arrow_cast({to}, 'Timestamp(Microsecond, Some(\"UTC\"))')",
        from = micros(before.start),
        to = micros(p.period.end),
    );
    let mut responses = Vec::new();
    for b in &ctx.sql(&sql).await?.collect().await? {
        let (stamp, kind, account, name, key) = (
            times(b, "timestamp"),
            strings(b, "kind"),
            strings(b, "account_id"),
            strings(b, "account_name"),
            strings(b, "key"),
        );
        let score = b
            .column_by_name("score")
            .and_then(|c| c.as_primitive_opt::<Int64Type>());
        for i in 0..b.num_rows() {
            let (Some(t), Some(k), Some(score)) = (at(stamp, i), at(kind, i), at(score, i)) else {
                continue;
            };
            let account = at(account, i).map(Text::from);
            responses.push(Response {
                at: t,
                nps: k == "nps",
                score,
                key: if p.by == Some(Dim::Account) {
                    account.clone()
                } else {
                    at(key, i).map(Text::from)
                },
                account,
                account_name: at(name, i).map(Text::from),
            });
        }
    }
    Ok(compute(p, &responses))
}

/// The report over the responses of the period and the one before.
pub fn compute(p: &Params, responses: &[Response]) -> Report {
    let (now, before) = (p.period.clone(), p.period.previous());
    let slot = |t: i64| {
        if micros(now.start) <= t && t < micros(now.end) {
            Some(0)
        } else if micros(before.start) <= t && t < micros(before.end) {
            Some(1)
        } else {
            None
        }
    };
    let mut columns = Vec::new();
    if let Some(dim) = p.by {
        columns.push(Column::new(dim.name(), ColumnKind::Text));
        if dim == Dim::Account {
            columns.push(Column::new("account_name", ColumnKind::Text));
        }
    }
    columns.extend(comparison::columns(&FIELDS, kind));
    let mut params = comparison::params(&now);
    params.insert("by".into(), json!(p.by.map(Dim::name)));
    let mut rep = Report::new("nps", params, columns);

    let mut groups: BTreeMap<(bool, Option<Text>), [Scores; 2]> = BTreeMap::new();
    let mut accounts: HashMap<Text, ([Scores; 2], Option<Text>)> = HashMap::new();
    for r in responses {
        let Some(s) = slot(r.at) else { continue };
        let key = if p.by.is_some() { r.key.clone() } else { None };
        // Groups in key order, an empty key last.
        groups.entry((key.is_none(), key)).or_default()[s].add(r);
        if let Some(a) = &r.account {
            let e = accounts
                .entry(a.clone())
                .or_insert_with(|| (Default::default(), r.account_name.clone()));
            e.0[s].add(r);
        }
    }
    if p.by.is_none() && groups.is_empty() {
        groups.insert((true, None), Default::default());
    }
    for ((_, key), [a, b]) in &groups {
        let mut row = Vec::new();
        if let Some(dim) = p.by {
            row.push(json!(key.as_deref()));
            if dim == Dim::Account {
                let name = key.as_ref().and_then(|k| accounts.get(k)?.1.clone());
                row.push(json!(name.as_deref()));
            }
        }
        row.extend(comparison::values(&a.values(), &b.values()));
        rep.rows.push(row);
    }

    // Accounts with an NPS in both periods whose NPS is lower now, the largest fall first.
    let mut fell: Vec<(f64, Value)> = accounts
        .iter()
        .filter_map(|(id, ([a, b], name))| {
            let (now, before) = (a.nps().as_f64()?, b.nps().as_f64()?);
            (now < before).then(|| {
                let change = now - before;
                let v = json!({"account_id": id.as_str(), "account_name": name.as_deref(),
                               "nps": now, "previous_nps": before, "nps_change": change,
                               "responses": a.responses});
                (change, v)
            })
        })
        .collect();
    fell.sort_by(|x, y| {
        x.0.total_cmp(&y.0)
            .then_with(|| x.1["account_id"].as_str().cmp(&y.1["account_id"].as_str()))
    });
    rep.extra.insert(
        "nps_fell".into(),
        fell.into_iter().map(|(_, v)| v).collect(),
    );
    rep
}

fn kind(field: &str) -> ColumnKind {
    match field {
        "nps" | "csat" => ColumnKind::Number,
        _ => ColumnKind::Integer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(nps: &[i64]) -> Scores {
        let mut s = Scores::default();
        for &score in nps {
            s.add(&Response {
                at: 0,
                nps: true,
                score,
                account: None,
                account_name: None,
                key: None,
            });
        }
        s
    }

    #[test]
    fn nps_edges() {
        // Bain's fixture: each score 0..10 once → (2 − 7) / 11 = −45.45.
        let all: Vec<i64> = (0..=10).collect();
        let v = scores(&all).nps().as_f64().unwrap();
        assert!((v - -45.454545).abs() < 1e-5, "{v}");
        assert_eq!(scores(&[7, 8, 7]).nps(), json!(0.0));
        assert_eq!(scores(&[]).nps(), Value::Null);
        assert_eq!(scores(&[10, 9]).nps(), json!(100.0));
        assert_eq!(scores(&[0, 6]).nps(), json!(-100.0));
    }

    #[test]
    fn csat_counts_four_and_five() {
        // Delighted: 42 fives, 32 fours, 10 threes, 9 twos, 14 ones → 74 / 107 = 69.16%.
        let mut s = Scores::default();
        for (score, n) in [(5, 42), (4, 32), (3, 10), (2, 9), (1, 14)] {
            for _ in 0..n {
                s.add(&Response {
                    at: 0,
                    nps: false,
                    score,
                    account: None,
                    account_name: None,
                    key: None,
                });
            }
        }
        let v = s.csat().as_f64().unwrap();
        assert!((v - 69.158878).abs() < 1e-5, "{v}");
        assert_eq!(s.nps(), Value::Null);
    }
}
