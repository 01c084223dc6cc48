//! Customer lifetime value (SPEC §8), two ways.
//!
//! **Simple**, over the months (S, E]: average annual revenue per customer (12 × MRR in E /
//! accounts paying in E) × `finance.gross_margin` × expected lifetime in years (1 / annual
//! logo churn rate) − CAC. The logo churn rate is the share of the accounts paying in S that
//! pay nothing in E, annualised when E − S is not 12 months (1 − (1 − c)^(12 / months)).
//! CAC = (marketing cost over (S, E] + `finance.monthly_sales_cost` × months) / new
//! customers, the accounts whose first paying month falls in (S, E].
//!
//! **BG/NBD + Gamma-Gamma** ([`crate::clv_model`]) fitted on won opportunities as purchases,
//! in months, as `lifetimes` summarises transactions with `freq="M"`: per account,
//! `frequency` = months with a won deal − 1, `recency` = months from the first to the last,
//! `t` = months from the first to E, `monetary_value` = the mean of the repeat months'
//! amounts. Each account's expected purchases, probability of being alive and expected
//! value over the horizon (discounted monthly) are the rows, most valuable first.

use std::collections::{BTreeMap, HashMap};

use abmeter_model::Config;
use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_store::StoreError;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Date32Type, Float64Type};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::attribution::journeys::By;
use crate::cells::{at, ratio, strings};
use crate::clv_model::{BgNbd, GammaGamma, Rfm, fit_bgnbd, fit_gamma_gamma, lifetime_value};
use crate::deals::Text;
use crate::mrr::{Book, Month};
use crate::retention::Movement;
use crate::roi::cost_between;

#[derive(Debug, Clone)]
pub struct Params {
    pub from: Month,
    pub to: Month,
    /// Months ahead the model's expected purchases and value cover.
    pub horizon_months: u32,
    /// Monthly discount rate of the expected value (lifetimes' default 0.01).
    pub discount: f64,
    /// How many accounts to list (0: all).
    pub limit: usize,
}

/// One account's purchase history, in months.
#[derive(Debug, Clone)]
pub struct History {
    pub account: Text,
    pub name: Option<Text>,
    pub rfm: Rfm,
    pub monetary: f64,
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let book = Book::load(ctx, false).await?;
    let (from, to) = (p.from.plus(1).first_day(), p.to.plus(1).first_day());
    let mut marketing_cost = 0.0;
    for b in &ctx
        .sql(&cost_between(from, to, By::Channel))
        .await?
        .collect()
        .await?
    {
        let cost = b
            .column_by_name("cost")
            .and_then(|c| c.as_primitive_opt::<Float64Type>());
        marketing_cost += (0..b.num_rows()).filter_map(|i| at(cost, i)).sum::<f64>();
    }
    let histories = histories(ctx, p.to).await?;
    Ok(compute(config, p, &book, marketing_cost, &histories))
}

/// Won opportunities summed per account and close month, up to the end of `to`.
async fn histories(ctx: &SessionContext, to: Month) -> Result<Vec<History>, StoreError> {
    let sql = format!(
        "SELECT o.account_id, a.name, o.close_date, CAST(coalesce(o.amount, 0) AS DOUBLE) AS amount
FROM opportunities o LEFT JOIN accounts a ON a.id = o.account_id
WHERE coalesce(o.is_won, false) AND o.close_date IS NOT NULL
  AND o.close_date < DATE '{}'",
        to.plus(1).first_day()
    );
    let mut months: HashMap<Text, (Option<Text>, BTreeMap<Month, f64>)> = HashMap::new();
    for b in &ctx.sql(&sql).await?.collect().await? {
        let (account, name) = (strings(b, "account_id"), strings(b, "name"));
        let close = b
            .column_by_name("close_date")
            .and_then(|c| c.as_primitive_opt::<Date32Type>());
        let amount = b
            .column_by_name("amount")
            .and_then(|c| c.as_primitive_opt::<Float64Type>());
        for i in 0..b.num_rows() {
            let (Some(a), Some(day)) = (
                at(account, i),
                close
                    .filter(|c| !c.is_null(i))
                    .and_then(|c| c.value_as_date(i)),
            ) else {
                continue;
            };
            let e = months
                .entry(Text::from(a))
                .or_insert_with(|| (at(name, i).map(Text::from), BTreeMap::new()));
            *e.1.entry(Month::of(day)).or_default() += at(amount, i).unwrap_or(0.0);
        }
    }
    let mut out: Vec<History> = months
        .into_iter()
        .map(|(account, (name, m))| summarise(account, name, &m, to))
        .collect();
    out.sort_by(|a, b| a.account.cmp(&b.account));
    Ok(out)
}

/// lifetimes' `summary_data_from_transaction_data` for one account's monthly totals.
pub fn summarise(
    account: Text,
    name: Option<Text>,
    months: &BTreeMap<Month, f64>,
    end: Month,
) -> History {
    let first = *months.keys().next().expect("at least one month");
    let last = *months.keys().next_back().expect("at least one month");
    let repeats: Vec<f64> = months.values().skip(1).copied().collect();
    History {
        account,
        name,
        rfm: Rfm {
            frequency: repeats.len() as f64,
            recency: f64::from(last.0 - first.0),
            t: f64::from(end.0 - first.0),
        },
        monetary: if repeats.is_empty() {
            0.0
        } else {
            repeats.iter().sum::<f64>() / repeats.len() as f64
        },
    }
}

const COLUMNS: [(&str, ColumnKind); 10] = [
    ("account_id", ColumnKind::Text),
    ("account_name", ColumnKind::Text),
    ("frequency", ColumnKind::Integer),
    ("recency", ColumnKind::Number),
    ("t", ColumnKind::Number),
    ("monetary_value", ColumnKind::Number),
    ("probability_alive", ColumnKind::Number),
    ("expected_purchases", ColumnKind::Number),
    ("expected_average_value", ColumnKind::Number),
    ("expected_value", ColumnKind::Number),
];

pub fn compute(
    config: &Config,
    p: &Params,
    book: &Book,
    marketing_cost: f64,
    histories: &[History],
) -> Report {
    let mut params = Map::new();
    params.insert("from".into(), json!(p.from.to_string()));
    params.insert("to".into(), json!(p.to.to_string()));
    params.insert("horizon_months".into(), json!(p.horizon_months));
    params.insert("monthly_discount".into(), json!(p.discount));
    let columns = COLUMNS.iter().map(|(n, k)| Column::new(*n, *k)).collect();
    let mut rep = Report::new("clv", params, columns);
    rep.extra
        .insert("simple".into(), simple(config, p, book, marketing_cost));

    let rfm: Vec<Rfm> = histories.iter().map(|h| h.rfm).collect();
    let bg = match fit_bgnbd(&rfm) {
        Ok(bg) => bg,
        Err(e) => {
            rep.extra.insert(
                "model".into(),
                json!({"error": format!("BG/NBD: {e}"), "accounts": histories.len()}),
            );
            return rep;
        }
    };
    let repeat: Vec<(f64, f64)> = histories
        .iter()
        .filter(|h| h.rfm.frequency > 0.0)
        .map(|h| (h.rfm.frequency, h.monetary))
        .collect();
    let gg = fit_gamma_gamma(&repeat);
    rep.extra.insert(
        "model".into(),
        model_json(&bg, &gg, histories.len(), repeat.len()),
    );
    let mut rows: Vec<(f64, Vec<Value>)> = histories
        .iter()
        .map(|h| {
            let (value, average) = match &gg {
                Ok(gg) => (
                    Some(lifetime_value(
                        &bg,
                        gg,
                        &h.rfm,
                        h.monetary,
                        p.horizon_months,
                        p.discount,
                        1.0,
                    )),
                    Some(gg.conditional_expected_value(h.rfm.frequency, h.monetary)),
                ),
                Err(_) => (None, None),
            };
            let row = vec![
                json!(h.account.as_str()),
                json!(h.name.as_deref()),
                json!(h.rfm.frequency as u64),
                json!(h.rfm.recency),
                json!(h.rfm.t),
                json!(h.monetary),
                json!(bg.probability_alive(&h.rfm)),
                json!(bg.conditional_expected_purchases(f64::from(p.horizon_months), &h.rfm)),
                json!(average),
                json!(value),
            ];
            (value.unwrap_or(0.0), row)
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let limit = if p.limit == 0 { rows.len() } else { p.limit };
    rep.rows = rows.into_iter().take(limit).map(|(_, r)| r).collect();
    rep
}

fn model_json(
    bg: &BgNbd,
    gg: &Result<GammaGamma, crate::clv_model::FitError>,
    accounts: usize,
    repeat: usize,
) -> Value {
    let gamma_gamma = match gg {
        Ok(g) => json!({"p": g.p, "q": g.q, "v": g.v, "log_likelihood": g.log_likelihood,
                        "accounts": repeat}),
        Err(e) => json!({"error": e.to_string(), "accounts": repeat}),
    };
    // At the edge of the parameter space the data show no drop-out (a → 0) or no spread of
    // purchase rates (r, α → ∞ with r/α fixed): the model then says no more than a common
    // purchase rate, and the reader should know.
    let warning = (bg.a < 1e-4 || bg.r > 1e4).then_some(
        "degenerate fit: the histories show no sign of accounts dropping out or of purchase \
         rates differing between accounts, so expected purchases follow one common rate \
         (r / alpha per month); prefer the simple CLV",
    );
    json!({
        "warning": warning,
        "transactions": "won opportunities, summed per close month",
        "time_unit": "month",
        "bg_nbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b,
                   "log_likelihood": bg.log_likelihood, "accounts": accounts},
        "gamma_gamma": gamma_gamma,
    })
}

/// The simple CLV with every input shown.
fn simple(config: &Config, p: &Params, book: &Book, marketing_cost: f64) -> Value {
    let months = f64::from(p.to.0 - p.from.0);
    let m = Movement::of(book, book.mrr.keys(), p.from, p.to);
    let customers = book.mrr.keys().filter(|u| book.at(u, p.to) > 0.0).count() as f64;
    let new_customers = book
        .mrr
        .keys()
        .filter(|u| {
            book.first_paying(u)
                .is_some_and(|f| p.from < f && f <= p.to)
        })
        .count() as f64;
    let average = ratio(12.0 * m.mrr_end, customers);
    let churn = m.logo_churn_rate().as_f64();
    let annual_churn = churn.map(|c| 1.0 - (1.0 - c).powf(12.0 / months));
    let lifetime = annual_churn.filter(|c| *c > 0.0).map(|c| 1.0 / c);
    let sales_cost = config.finance.monthly_sales_cost * months;
    let cac = ratio(marketing_cost + sales_cost, new_customers);
    let margin = config.finance.gross_margin;
    // Without new customers CAC is unknown, and so is CLV net of it.
    let gross = average
        .as_f64()
        .zip(lifetime)
        .map(|(avg, years)| avg * margin * years);
    let clv = gross.zip(cac.as_f64()).map(|(g, c)| g - c);
    json!({
        "clv": clv,
        "clv_before_cac": gross,
        "avg_annual_revenue_per_customer": average,
        "customers": customers as u64,
        "gross_margin": margin,
        "logo_churn_rate": churn,
        "annual_logo_churn_rate": annual_churn,
        "expected_lifetime_years": lifetime,
        "cac": cac,
        "marketing_cost": marketing_cost,
        "sales_cost": sales_cost,
        "new_customers": new_customers as u64,
        "months": months,
    })
}
