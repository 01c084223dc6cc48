//! Resolving columns of activities at once: what the `resolved_activities` view adds to each
//! row (SPEC §3, §4) — the contact and account, the rule that matched, the contact's
//! seniority, department and persona, the reason when nothing matched, and the activity's
//! minutes and weighted minutes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use abmeter_model::Config;
use abmeter_model::config::{ActivityType, SENIORITIES};
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, Int32Array, Int32Builder, StringArray,
    StringBuilder,
};
use arrow::datatypes::{DataType, Field, Fields, Int32Type};

use crate::lookup::{EmailFound, Found, Lookup, NONE, Probes, Resolved};

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

/// Read access to a text column whatever its Arrow layout, dictionaries included.
#[derive(Clone, Copy)]
pub enum Text<'a> {
    Utf8(&'a StringArray),
    Large(&'a arrow::array::LargeStringArray),
    View(&'a arrow::array::StringViewArray),
    /// Text numbered through a dictionary: the form the activity keys are read in.
    Dict {
        keys: &'a Int32Array,
        values: &'a ArrayRef,
        text: &'a StringArray,
    },
    /// A column of nulls, of this many rows.
    Null(usize),
}

impl<'a> Text<'a> {
    /// `a` as text. Dictionaries other than `Int32` keys over `Utf8` values are first cast
    /// to text with [`plain_text`].
    pub fn of(a: &'a ArrayRef) -> Result<Self, String> {
        Ok(match a.data_type() {
            DataType::Utf8 => Text::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Text::Large(a.as_string::<i64>()),
            DataType::Utf8View => Text::View(a.as_string_view()),
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let d = a.as_dictionary::<Int32Type>();
                Text::Dict {
                    keys: d.keys(),
                    values: d.values(),
                    text: d.values().as_string::<i32>(),
                }
            }
            DataType::Null => Text::Null(a.len()),
            other => return Err(format!("expected a text column, got {other}")),
        })
    }

    pub fn rows(&self) -> usize {
        match self {
            Text::Utf8(a) => a.len(),
            Text::Large(a) => a.len(),
            Text::View(a) => a.len(),
            Text::Dict { keys, .. } => keys.len(),
            Text::Null(rows) => *rows,
        }
    }

    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Text::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::Dict { keys, text, .. } => (!keys.is_null(i))
                .then(|| keys.value(i) as usize)
                .filter(|&k| k < text.len() && !text.is_null(k))
                .map(|k| text.value(k)),
            Text::Null(_) => None,
        }
    }
}

/// `a`, with a dictionary of any other layout than [`Text::Dict`]'s cast to plain text.
pub fn plain_text(a: &ArrayRef) -> Result<ArrayRef, String> {
    match a.data_type() {
        DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
            Ok(a.clone())
        }
        DataType::Dictionary(..) => {
            arrow::compute::cast(a, &DataType::Utf8).map_err(|e| e.to_string())
        }
        _ => Ok(a.clone()),
    }
}

/// The lookups of the distinct values of recent dictionaries, for one key column.
///
/// A Parquet column chunk stores its distinct values once, in a dictionary page, and the
/// reader hands every batch of the row group the same dictionary: looking its values up once
/// turns a probe per row (a cache miss in a map of hundreds of thousands of keys) into a
/// read of a small array.
struct Memo<T> {
    /// Each dictionary's values (held, so their buffers' addresses stay theirs) and their
    /// lookups.
    recent: Mutex<VecDeque<(ArrayRef, Arc<Vec<T>>)>>,
}

/// Dictionaries remembered per key column: one per partition being read, and some spare.
const RECENT_DICTIONARIES: usize = 8;

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            recent: Mutex::new(VecDeque::new()),
        }
    }
}

impl<T> std::fmt::Debug for Memo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

/// Whether two text arrays are the same one (the same buffers, not merely equal text).
fn same_text(a: &StringArray, b: &StringArray) -> bool {
    a.len() == b.len()
        && a.offsets().inner().as_ptr() == b.offsets().inner().as_ptr()
        && a.values().as_ptr() == b.values().as_ptr()
}

impl<T: Copy> Memo<T> {
    /// `f` of each row's value of `column` (`none` for a null), a dictionary's distinct
    /// values looked up once.
    fn probe(&self, column: &ArrayRef, none: T, f: impl Fn(&str) -> T) -> Result<Vec<T>, String> {
        let column = Text::of(column)?;
        let Text::Dict { keys, values, text } = column else {
            return Ok((0..column.rows())
                .map(|i| column.get(i).map_or(none, &f))
                .collect());
        };
        let looked_up = self.values(values, text, || {
            (0..text.len())
                .map(|k| {
                    if text.is_null(k) {
                        none
                    } else {
                        f(text.value(k))
                    }
                })
                .collect()
        });
        let at = |k: i32| looked_up.get(k as usize).copied().unwrap_or(none);
        Ok(match keys.nulls() {
            None => keys.values().iter().map(|&k| at(k)).collect(),
            Some(nulls) => keys
                .values()
                .iter()
                .zip(nulls.iter())
                .map(|(&k, valid)| if valid { at(k) } else { none })
                .collect(),
        })
    }

    /// The lookups of a dictionary's values: remembered, or made by `make` and remembered.
    fn values(
        &self,
        values: &ArrayRef,
        text: &StringArray,
        make: impl FnOnce() -> Vec<T>,
    ) -> Arc<Vec<T>> {
        let seen = |(v, _): &&(ArrayRef, Arc<Vec<T>>)| same_text(v.as_string::<i32>(), text);
        if let Some((_, found)) = self.recent.lock().expect("memo lock").iter().find(seen) {
            return found.clone();
        }
        let made = Arc::new(make());
        let mut recent = self.recent.lock().expect("memo lock");
        if recent.len() == RECENT_DICTIONARIES {
            recent.pop_front();
        }
        recent.push_back((values.clone(), made.clone()));
        made
    }
}

/// The memos of the five key columns.
#[derive(Debug, Default)]
struct Memos {
    account: Memo<u32>,
    contact: Memo<u32>,
    email: Memo<Option<EmailFound>>,
    visitor: Memo<u32>,
    ip: Memo<Option<Found>>,
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
    memos: Memos,
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
            memos: Memos::default(),
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
        let keys = keys[..KEY_COLUMNS]
            .iter()
            .map(plain_text)
            .collect::<Result<Vec<_>, _>>()?;
        let (l, m) = (&self.lookup, &self.memos);
        let probes = Probes {
            account: m.account.probe(&keys[0], NONE, |s| l.account_key(s))?,
            contact: m.contact.probe(&keys[1], NONE, |s| l.contact_key(s))?,
            email: m.email.probe(&keys[2], None, |s| l.email_key(s))?,
            visitor: m.visitor.probe(&keys[3], NONE, |s| l.visitor_key(s))?,
            ip: m.ip.probe(&keys[4], None, |s| l.ip_key(s))?,
        };
        Ok(l.decide(&probes))
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
        let type_column = plain_text(&inputs[KEY_COLUMNS])?;
        let types = Text::of(&type_column)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::NullArray;

    /// A key column of nulls (a function called with NULL) still has its rows.
    #[test]
    fn null_key_columns_resolve_every_row_to_no_identifiers() {
        let resolver = Resolver::new(Lookup::default(), &abmeter_model::Config::default());
        let nulls: ArrayRef = Arc::new(NullArray::new(3));
        let rows = resolver.resolve_keys(&vec![nulls; KEY_COLUMNS]).unwrap();
        assert_eq!(rows.len(), 3);
        for r in rows {
            assert_eq!(r.contact, NONE);
            assert_eq!(
                r.found.reason(),
                Some(crate::identity::Reason::NoIdentifiers)
            );
        }
    }
}
