//! Resolving columns of activities at once: what the `resolved_activities` view adds to each
//! row (SPEC §3, §4) — the contact and account, the rule that matched, the contact's
//! seniority, department and persona, the reason when nothing matched, and the activity's
//! minutes and weighted minutes.

use std::collections::HashMap;
use std::sync::Arc;

use abmeter_model::Config;
use abmeter_model::config::{ActivityType, SENIORITIES};
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, Int32Builder, StringBuilder,
    StructArray,
};
use arrow::datatypes::{DataType, Field, Fields};

use crate::identity::{ActivityKeys, IdentityMap};

/// The identifying and scoring columns of `activities`, in the order the resolver takes them.
pub const INPUT_COLUMNS: [&str; 7] = [
    "account_id",
    "contact_id",
    "email",
    "anonymous_id",
    "ip",
    "type",
    "duration_minutes",
];

/// The columns resolution adds, in order.
pub fn output_fields() -> Fields {
    Fields::from(vec![
        Field::new("resolved_contact_id", DataType::Utf8, true),
        Field::new("resolved_account_id", DataType::Utf8, true),
        Field::new("match_rule", DataType::Int32, true),
        Field::new("seniority", DataType::Utf8, false),
        Field::new("department", DataType::Utf8, false),
        Field::new("persona", DataType::Utf8, true),
        Field::new("unmatched_reason", DataType::Utf8, true),
        Field::new("minutes", DataType::Float64, false),
        Field::new("weighted_minutes", DataType::Float64, false),
    ])
}

/// The identity map plus what scoring needs from the config.
#[derive(Debug)]
pub struct Resolver {
    pub map: IdentityMap,
    catalogue: HashMap<String, ActivityType, ahash::RandomState>,
    /// Weights in the order of [`SENIORITIES`].
    seniority_weights: Vec<f64>,
    unknown_weight: f64,
    tier_weights: HashMap<crate::identity::Key, f64, ahash::RandomState>,
}

/// Read access to a string column whatever its Arrow layout.
enum Strings<'a> {
    Utf8(&'a arrow::array::StringArray),
    Large(&'a arrow::array::LargeStringArray),
    View(&'a arrow::array::StringViewArray),
    Null,
}

impl<'a> Strings<'a> {
    fn of(a: &'a ArrayRef) -> Result<Self, String> {
        Ok(match a.data_type() {
            DataType::Utf8 => Strings::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Strings::Large(a.as_string::<i64>()),
            DataType::Utf8View => Strings::View(a.as_string_view()),
            DataType::Null => Strings::Null,
            other => return Err(format!("expected a text column, got {other}")),
        })
    }
    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strings::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strings::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strings::Null => None,
        }
    }
}

impl Resolver {
    pub fn new(map: IdentityMap, config: &Config) -> Resolver {
        // Only accounts whose tier weighs other than 1 are listed.
        let tier_weights = map
            .accounts
            .iter()
            .map(|(id, tier)| (id.clone(), config.tier_weight(tier.as_deref())))
            .filter(|(_, w)| *w != 1.0)
            .collect();
        let seniority_weights = SENIORITIES
            .iter()
            .map(|s| config.seniority_weight(s))
            .collect();
        Resolver {
            map,
            catalogue: config
                .activities
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            seniority_weights,
            unknown_weight: config.seniority_weight("unknown"),
            tier_weights,
        }
    }

    /// Resolves a batch: `columns` are the [`INPUT_COLUMNS`] of the same rows.
    pub fn resolve_columns(&self, columns: &[ArrayRef]) -> Result<StructArray, String> {
        if columns.len() != INPUT_COLUMNS.len() {
            return Err(format!(
                "resolution takes {} columns ({}), got {}",
                INPUT_COLUMNS.len(),
                INPUT_COLUMNS.join(", "),
                columns.len()
            ));
        }
        let n = columns[0].len();
        let text: Vec<Strings> = columns[..6]
            .iter()
            .map(Strings::of)
            .collect::<Result<_, _>>()?;
        let duration = match columns[6].data_type() {
            DataType::Float64 => columns[6]
                .as_primitive::<arrow::datatypes::Float64Type>()
                .clone(),
            DataType::Null => Float64Array::new_null(n),
            _ => arrow::compute::cast(&columns[6], &DataType::Float64)
                .map_err(|e| e.to_string())?
                .as_primitive::<arrow::datatypes::Float64Type>()
                .clone(),
        };
        let mut contact = StringBuilder::with_capacity(n, n * 8);
        let mut account = StringBuilder::with_capacity(n, n * 8);
        let mut rule = Int32Builder::with_capacity(n);
        let mut seniority = StringBuilder::with_capacity(n, n * 8);
        let mut department = StringBuilder::with_capacity(n, n * 8);
        let mut persona = StringBuilder::with_capacity(n, 0);
        let mut reason = StringBuilder::with_capacity(n, n * 4);
        let mut minutes = Float64Builder::with_capacity(n);
        let mut weighted = Float64Builder::with_capacity(n);
        let mut last_type: Option<(&str, Option<&ActivityType>)> = None;
        for i in 0..n {
            let r = self.map.resolve(ActivityKeys {
                account_id: text[0].get(i),
                contact_id: text[1].get(i),
                email: text[2].get(i),
                anonymous_id: text[3].get(i),
                ip: text[4].get(i),
            });
            contact.append_option(r.contact_id);
            account.append_option(r.account_id);
            rule.append_option(r.rule.map(i32::from));
            let (sen, dep, per) = match r.contact {
                Some(c) => (c.seniority, c.department, c.persona.as_deref()),
                None => (SENIORITIES[5], "unknown", None),
            };
            seniority.append_value(sen);
            department.append_value(dep);
            persona.append_option(per);
            reason.append_option(r.reason.map(|r| r.as_str()));
            // Activities arrive sorted by time, not type; still, runs of one type are common.
            let ty = text[5].get(i).unwrap_or("");
            let kind = match last_type {
                Some((t, k)) if t == ty => k,
                _ => {
                    let k = self.catalogue.get(ty);
                    last_type = Some((ty, k));
                    k
                }
            };
            let d = (!duration.is_null(i)).then(|| duration.value(i));
            let m = kind.map_or(0.0, |k| k.minutes_for(d));
            // The map's levels are the `SENIORITIES` statics themselves: compare addresses
            // first (this runs for every row), text only for anything else.
            let w_sen = SENIORITIES
                .iter()
                .position(|s| std::ptr::eq(*s, sen))
                .or_else(|| SENIORITIES.iter().position(|s| *s == sen))
                .map_or(self.unknown_weight, |i| self.seniority_weights[i]);
            // Without tier weights in the config every account weighs 1: skip the lookup.
            let w_tier = match r.account_id {
                Some(a) if !self.tier_weights.is_empty() => {
                    self.tier_weights.get(a).copied().unwrap_or(1.0)
                }
                _ => 1.0,
            };
            minutes.append_value(m);
            weighted.append_value(m * w_sen * w_tier);
        }
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(contact.finish()),
            Arc::new(account.finish()),
            Arc::new(rule.finish()),
            Arc::new(seniority.finish()),
            Arc::new(department.finish()),
            Arc::new(persona.finish()),
            Arc::new(reason.finish()),
            Arc::new(minutes.finish()),
            Arc::new(weighted.finish()),
        ];
        StructArray::try_new(output_fields(), arrays, None).map_err(|e| e.to_string())
    }
}
