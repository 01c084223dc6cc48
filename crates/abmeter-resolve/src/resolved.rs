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
};
use arrow::datatypes::{DataType, Field, Fields};

use crate::lookup::{KeyColumns, Lookup, NONE, Resolved};

/// The identifying and scoring columns of `activities`, in the order the resolver takes them:
/// the first [`KEY_COLUMNS`] identify, the last two score.
pub const INPUT_COLUMNS: [&str; 7] = [
    "account_id",
    "contact_id",
    "email",
    "anonymous_id",
    "ip",
    "type",
    "duration_minutes",
];

/// How many of [`INPUT_COLUMNS`] identify the activity.
pub const KEY_COLUMNS: usize = 5;

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

/// The key columns of a batch, in the order of [`INPUT_COLUMNS`].
struct Columns<'a> {
    rows: usize,
    text: Vec<Strings<'a>>,
}

impl<'a> KeyColumns<'a> for Columns<'a> {
    fn rows(&self) -> usize {
        self.rows
    }
    fn account_id(&self, row: usize) -> Option<&'a str> {
        self.text[0].get(row)
    }
    fn contact_id(&self, row: usize) -> Option<&'a str> {
        self.text[1].get(row)
    }
    fn email(&self, row: usize) -> Option<&'a str> {
        self.text[2].get(row)
    }
    fn anonymous_id(&self, row: usize) -> Option<&'a str> {
        self.text[3].get(row)
    }
    fn ip(&self, row: usize) -> Option<&'a str> {
        self.text[4].get(row)
    }
}

/// The identity map compiled for resolution, plus what scoring needs from the config.
#[derive(Debug)]
pub struct Resolver {
    pub lookup: Lookup,
    catalogue: HashMap<String, ActivityType, ahash::RandomState>,
    /// Weights in the order of [`SENIORITIES`].
    seniority_weights: Vec<f64>,
    /// Weight of each account's tier, by account number.
    tier_weights: Vec<f64>,
}

impl Resolver {
    pub fn new(lookup: Lookup, config: &Config) -> Resolver {
        let tier_weights = lookup
            .tiers
            .iter()
            .map(|tier| config.tier_weight(tier.as_deref()))
            .collect();
        Resolver {
            lookup,
            catalogue: config
                .activities
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            seniority_weights: SENIORITIES
                .iter()
                .map(|s| config.seniority_weight(s))
                .collect(),
            tier_weights,
        }
    }

    /// Resolves a batch: `keys` are the first [`KEY_COLUMNS`] of [`INPUT_COLUMNS`] for the
    /// same rows. One [`Resolved`] per row, from which [`Self::column`] makes any output.
    pub fn resolve_keys(&self, keys: &[ArrayRef]) -> Result<Vec<Resolved>, String> {
        if keys.len() < KEY_COLUMNS {
            return Err(format!(
                "resolution takes the columns {}, got {}",
                INPUT_COLUMNS[..KEY_COLUMNS].join(", "),
                keys.len()
            ));
        }
        let columns = Columns {
            rows: keys[0].len(),
            text: [0, 1, 2, 3, 4]
                .map(|i| Strings::of(&keys[i]))
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(self.lookup.resolve_batch(&columns))
    }

    /// Output field `field` (a position in [`output_fields`]) of resolved rows. `inputs` are
    /// the rows' [`INPUT_COLUMNS`]; only minutes and weighted minutes read the last two.
    pub fn column(
        &self,
        field: usize,
        rows: &[Resolved],
        inputs: &[ArrayRef],
    ) -> Result<ArrayRef, String> {
        let n = rows.len();
        let l = &self.lookup;
        fn text<'a>(rows: &[Resolved], f: impl Fn(&Resolved) -> Option<&'a str>) -> ArrayRef {
            let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 10);
            for r in rows {
                b.append_option(f(r));
            }
            Arc::new(b.finish())
        }
        Ok(match field {
            0 => text(rows, |r| l.contact_id(r.contact)),
            1 => text(rows, |r| l.account_id(r.found.account)),
            2 => {
                let mut b = Int32Builder::with_capacity(n);
                for r in rows {
                    b.append_option(r.found.rule().map(i32::from));
                }
                Arc::new(b.finish())
            }
            3 => text(rows, |r| Some(l.contact_fields(r.contact).0)),
            4 => text(rows, |r| Some(l.contact_fields(r.contact).1)),
            5 => text(rows, |r| l.contact_fields(r.contact).2),
            6 => text(rows, |r| r.found.reason().map(|r| r.as_str())),
            7 | 8 => self.minutes(field == 8, rows, inputs)?,
            _ => return Err(format!("resolution has no output field {field}")),
        })
    }

    /// Minutes from the catalogue (SPEC §5), and weighted by seniority and tier.
    fn minutes(
        &self,
        weighted: bool,
        rows: &[Resolved],
        inputs: &[ArrayRef],
    ) -> Result<ArrayRef, String> {
        if inputs.len() != INPUT_COLUMNS.len() {
            return Err(format!(
                "minutes take the columns {}, got {}",
                INPUT_COLUMNS.join(", "),
                inputs.len()
            ));
        }
        let n = rows.len();
        let types = Strings::of(&inputs[KEY_COLUMNS])?;
        let duration = match inputs[KEY_COLUMNS + 1].data_type() {
            DataType::Float64 => inputs[KEY_COLUMNS + 1]
                .as_primitive::<arrow::datatypes::Float64Type>()
                .clone(),
            DataType::Null => Float64Array::new_null(n),
            _ => arrow::compute::cast(&inputs[KEY_COLUMNS + 1], &DataType::Float64)
                .map_err(|e| e.to_string())?
                .as_primitive::<arrow::datatypes::Float64Type>()
                .clone(),
        };
        let mut out = Float64Builder::with_capacity(n);
        let mut last_type: Option<(&str, Option<&ActivityType>)> = None;
        for (i, r) in rows.iter().enumerate() {
            // Activities arrive sorted by time, not type; still, runs of one type are common.
            let ty = types.get(i).unwrap_or("");
            let kind = match last_type {
                Some((t, k)) if t == ty => k,
                _ => {
                    let k = self.catalogue.get(ty);
                    last_type = Some((ty, k));
                    k
                }
            };
            let d = (!duration.is_null(i)).then(|| duration.value(i));
            let mut m = kind.map_or(0.0, |k| k.minutes_for(d));
            if weighted {
                m *= self.seniority_weights[self.lookup.seniority_level(r.contact)];
                if r.found.account != NONE {
                    m *= self.tier_weights[r.found.account as usize];
                }
            }
            out.append_value(m);
        }
        Ok(Arc::new(out.finish()))
    }
}
