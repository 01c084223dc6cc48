//! `abmeter attribution`: credit per channel or campaign under one model, or every model
//! side by side (SPEC §7).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use super::journeys::{By, Opportunity, account_touches, opportunities};
use super::markov::{markov, merge_repeats};
use super::rules::{RuleModel, weights};
use super::shapley::{linear_unique, shapley};
use super::{ChannelCredit, Credit, Journey};

/// The row that collects opportunities without a touch.
pub const UNATTRIBUTED: &str = "unattributed";

/// An attribution model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Rule(RuleModel),
    Markov,
    Shapley,
    LinearUnique,
}

impl Model {
    pub fn all() -> Vec<Model> {
        let mut v: Vec<Model> = RuleModel::ALL.iter().map(|m| Model::Rule(*m)).collect();
        v.extend([Model::Markov, Model::Shapley, Model::LinearUnique]);
        v
    }

    pub fn name(self) -> &'static str {
        match self {
            Model::Rule(m) => m.name(),
            Model::Markov => "markov",
            Model::Shapley => "shapley",
            Model::LinearUnique => "linear_unique",
        }
    }
}

impl FromStr for Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Model::all()
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Model::all().iter().map(|m| m.name()).collect();
                format!(
                    "unknown model `{s}`; expected all or one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Which models a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    One(Model),
    /// Every model side by side (`--model all`).
    All,
    /// The rule-based models side by side (`--model rules`).
    Rules,
}

impl Selection {
    pub fn name(self) -> &'static str {
        match self {
            Selection::One(m) => m.name(),
            Selection::All => "all",
            Selection::Rules => "rules",
        }
    }
}

impl FromStr for Selection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Selection::All),
            "rules" => Ok(Selection::Rules),
            other => other
                .parse()
                .map(Selection::One)
                .map_err(|e: String| format!("{e}, rules (every rule-based model)")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    /// The report date: non-converting journeys end no later than the day after it.
    pub at: chrono::NaiveDate,
    pub model: Selection,
    pub by: By,
    pub credit: Credit,
    /// Only this account's opportunities (rule-based models: each opportunity's credit is
    /// its own, so one account's share is exact).
    pub account: Option<String>,
}

/// Credit of one key (a channel or campaign) under one model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credited {
    pub opportunities: f64,
    pub pipeline: f64,
    pub revenue: f64,
    /// Markov removal effect or Shapley value.
    pub score: Option<f64>,
}

/// What one model credits per key, plus the unattributed opportunities.
pub fn credit(
    model: Model,
    opps: &[Opportunity],
    non_converting: &[Vec<String>],
    by: By,
    config: &Config,
) -> Result<BTreeMap<String, Credited>, String> {
    let mut out: BTreeMap<String, Credited> = BTreeMap::new();
    for o in opps.iter().filter(|o| o.touches.is_empty()) {
        let u = out.entry(UNATTRIBUTED.into()).or_default();
        u.opportunities += 1.0;
        u.pipeline += o.amount;
        u.revenue += won(o);
    }
    let touched: Vec<&Opportunity> = opps.iter().filter(|o| !o.touches.is_empty()).collect();
    match model {
        Model::Rule(rule) => {
            for o in touched {
                let w = weights(
                    rule,
                    &o.touches,
                    &o.conversion,
                    config.attribution.half_life_days,
                )?;
                for (t, w) in o.touches.iter().zip(w) {
                    let c = out.entry(by.key(t)).or_default();
                    c.opportunities += w;
                    c.pipeline += w * o.amount;
                    c.revenue += w * won(o);
                }
            }
        }
        data_driven => {
            if touched.is_empty() {
                return Ok(out);
            }
            let paths = path_table(opps, non_converting, by);
            let journeys = |revenue: bool| -> Vec<Journey> {
                paths
                    .iter()
                    .map(|(path, (conv, null, amount, won))| Journey {
                        path: path.clone(),
                        conversions: *conv,
                        nulls: *null,
                        value: if revenue { *won } else { *amount },
                    })
                    .collect()
            };
            let run = |j: &[Journey]| -> Result<Vec<ChannelCredit>, String> {
                match data_driven {
                    Model::Markov => {
                        Ok(markov(j, config.attribution.markov_order as usize)?.channels)
                    }
                    Model::Shapley => shapley(j),
                    _ => Ok(linear_unique(j)),
                }
            };
            let pipeline = run(&journeys(false))?;
            // Markov and Shapley split any value by the same shares as conversions; only
            // linear_unique splits each journey's own value, so it runs on revenue again.
            let revenue: BTreeMap<String, f64> = if data_driven == Model::LinearUnique {
                run(&journeys(true))?
                    .into_iter()
                    .map(|c| (c.channel, c.value))
                    .collect()
            } else {
                let total_conv: f64 = pipeline.iter().map(|c| c.conversions).sum();
                let total_won: f64 = touched.iter().map(|o| won(o)).sum();
                pipeline
                    .iter()
                    .map(|c| {
                        let share = if total_conv > 0.0 {
                            c.conversions / total_conv
                        } else {
                            0.0
                        };
                        (c.channel.clone(), total_won * share)
                    })
                    .collect()
            };
            for c in pipeline {
                let e = out.entry(c.channel.clone()).or_default();
                e.opportunities += c.conversions;
                e.pipeline += c.value;
                e.revenue += revenue.get(&c.channel).copied().unwrap_or(0.0);
                if data_driven != Model::LinearUnique {
                    e.score = Some(c.score);
                }
            }
        }
    }
    Ok(out)
}

/// The path table of the data-driven models: each distinct path (channels or campaigns,
/// consecutive repeats merged) → (conversions, non-conversions, amount, won amount). Each
/// touched opportunity is a converting journey; opportunities without touches are left out.
pub fn path_table(
    opps: &[Opportunity],
    non_converting: &[Vec<String>],
    by: By,
) -> BTreeMap<Vec<String>, (f64, f64, f64, f64)> {
    let mut paths: BTreeMap<Vec<String>, (f64, f64, f64, f64)> = BTreeMap::new();
    for o in opps.iter().filter(|o| !o.touches.is_empty()) {
        let keys: Vec<String> = o.touches.iter().map(|t| by.key(t)).collect();
        let e = paths.entry(merge_repeats(&keys)).or_default();
        e.0 += 1.0;
        e.2 += o.amount;
        e.3 += won(o);
    }
    for path in non_converting.iter().filter(|p| !p.is_empty()) {
        paths.entry(merge_repeats(path)).or_default().1 += 1.0;
    }
    paths
}

/// The path table as CSV in ChannelAttribution's layout (`path` as `a > b > c`, `conv`,
/// `null`, `value` = the opportunities' amount), for checking or further analysis.
pub async fn journeys_csv(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<String, StoreError> {
    let opps = opportunities(ctx, config, &p.period, p.credit, None).await?;
    let nc = non_converting(ctx, config, p, &opps).await?;
    let mut out = String::from("path,conv,null,value\n");
    for (path, (conv, null, amount, _)) in path_table(&opps, &nc, p.by) {
        let path = path.join(" > ").replace('"', "\"\"");
        out.push_str(&format!("\"{path}\",{conv},{null},{amount}\n"));
    }
    Ok(out)
}

/// The won amount of an opportunity (0 unless won).
fn won(o: &Opportunity) -> f64 {
    if o.is_won { o.amount } else { 0.0 }
}

/// The non-converting journeys of `period`: accounts with touches and no credited opportunity.
async fn non_converting(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
    opps: &[Opportunity],
) -> Result<Vec<Vec<String>>, StoreError> {
    let converted: BTreeSet<&str> = opps.iter().map(|o| o.account_id.as_str()).collect();
    // The window ends with the period, or the day after `--at` if that comes first
    // (SPEC §11): a journey still under way is not yet a non-conversion.
    let end = p.period.end.min(p.at + chrono::Days::new(1));
    Ok(account_touches(ctx, config, end)
        .await?
        .into_iter()
        .filter(|(a, _)| !converted.contains(a.as_str()))
        .map(|(_, ts)| ts.iter().map(|t| p.by.key(t)).collect())
        .collect())
}

fn params_json(config: &Config, p: &Params) -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("model".into(), json!(p.model.name()));
    params.insert("by".into(), json!(p.by.name()));
    params.insert(
        "credit".into(),
        json!(match p.credit {
            Credit::Pipeline => "pipeline",
            Credit::Revenue => "revenue",
        }),
    );
    params.insert("period".into(), json!(p.period.label()));
    params.insert("start".into(), json!(p.period.start.to_string()));
    params.insert("end".into(), json!(p.period.end.to_string()));
    params.insert(
        "lookback_days".into(),
        json!(config.attribution.lookback_days),
    );
    params
}

/// The models `--model all` compares under a credit (full path credits revenue only).
fn models_for(credit: Credit) -> Vec<Model> {
    Model::all()
        .into_iter()
        .filter(|m| credit == Credit::Revenue || *m != Model::Rule(RuleModel::FullPath))
        .collect()
}

/// Rows sorted by the credited amount, the unattributed row last.
fn ordered(keys: impl Iterator<Item = (String, f64)>) -> Vec<String> {
    let mut v: Vec<(String, f64)> = keys.collect();
    v.sort_by(|a, b| {
        (a.0 == UNATTRIBUTED)
            .cmp(&(b.0 == UNATTRIBUTED))
            .then(b.1.total_cmp(&a.1))
            .then(a.0.cmp(&b.0))
    });
    v.into_iter().map(|(k, _)| k).collect()
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let opps = opportunities(ctx, config, &p.period, p.credit, p.account.as_deref()).await?;
    let models: Vec<Model> = match p.model {
        Selection::One(m) => vec![m],
        Selection::All => models_for(p.credit),
        Selection::Rules => models_for(p.credit)
            .into_iter()
            .filter(|m| matches!(m, Model::Rule(_)))
            .collect(),
    };
    if p.account.is_some() {
        // Markov and Shapley value a channel from every journey, converting or not: one
        // account's share of them is not a credit of its own.
        if models.iter().any(|m| !matches!(m, Model::Rule(_))) {
            return Err(StoreError::Unanswerable(
                "--account: the data-driven models (markov, shapley) learn from every \
                 account's journeys; with --account use a rule-based model or --model rules"
                    .into(),
            ));
        }
    }
    let nc = if models.iter().any(|m| !matches!(m, Model::Rule(_))) {
        non_converting(ctx, config, p, &opps).await?
    } else {
        Vec::new()
    };
    // One model asked for: its error is the answer. Side by side, a model that cannot run
    // on this data (Shapley with more than 15 channels, say) shows nulls and says why.
    let mut results = Vec::new();
    let mut unavailable = Map::new();
    for m in &models {
        match credit(*m, &opps, &nc, p.by, config) {
            Ok(r) => results.push(Some(r)),
            Err(e) if models.len() > 1 => {
                unavailable.insert(m.name().into(), json!(e));
                results.push(None);
            }
            Err(e) => {
                return Err(StoreError::Unanswerable(format!("{}: {e}", m.name())));
            }
        }
    }
    let amount = |c: &Credited| match p.credit {
        Credit::Pipeline => c.pipeline,
        Credit::Revenue => c.revenue,
    };
    let mut params = params_json(config, p);
    params.insert("opportunities".into(), json!(opps.len()));
    if let Some(account) = &p.account {
        params.insert("account".into(), json!(account));
    }
    let key = p.by.name();
    let mut r = if let [Some(single)] = results.as_slice() {
        let model = models[0];
        let mut columns = vec![
            Column::new(key, ColumnKind::Text),
            Column::new("opportunities", ColumnKind::Number),
            Column::new("pipeline", ColumnKind::Number),
            Column::new("revenue", ColumnKind::Number),
        ];
        let score = match model {
            Model::Markov => Some("removal_effect"),
            Model::Shapley => Some("shapley_value"),
            _ => None,
        };
        if let Some(s) = score {
            columns.push(Column::new(s, ColumnKind::Number));
        }
        let mut rep = Report::new("attribution", params, columns);
        for k in ordered(single.iter().map(|(k, c)| (k.clone(), amount(c)))) {
            let c = &single[&k];
            let mut row = vec![
                json!(k),
                json!(c.opportunities),
                json!(c.pipeline),
                json!(c.revenue),
            ];
            if score.is_some() {
                row.push(json!(c.score));
            }
            rep.rows.push(row);
        }
        rep
    } else {
        let mut columns = vec![Column::new(key, ColumnKind::Text)];
        columns.extend(
            models
                .iter()
                .map(|m| Column::new(m.name(), ColumnKind::Number)),
        );
        let mut rep = Report::new("attribution", params, columns);
        let mut keys: BTreeMap<String, f64> = BTreeMap::new();
        for res in results.iter().flatten() {
            for (k, c) in res {
                let e = keys.entry(k.clone()).or_default();
                *e = e.max(amount(c));
            }
        }
        // Unattributed opportunities are the same under every model, one that could not
        // run included.
        let unattributed = results
            .iter()
            .flatten()
            .find_map(|r| r.get(UNATTRIBUTED))
            .map(amount);
        for k in ordered(keys.into_iter()) {
            let mut row = vec![json!(k)];
            row.extend(results.iter().map(|res| match res {
                Some(res) => res.get(&k).map_or(json!(0.0), |c| json!(amount(c))),
                None if k == UNATTRIBUTED => json!(unattributed),
                None => Value::Null,
            }));
            rep.rows.push(row);
        }
        if !unavailable.is_empty() {
            rep.params
                .insert("unavailable".into(), Value::Object(unavailable));
        }
        rep.params.insert(
            "amount".into(),
            json!(match p.credit {
                Credit::Pipeline => "pipeline",
                Credit::Revenue => "revenue",
            }),
        );
        rep
    };
    r.name = "attribution".into();
    Ok(r)
}
