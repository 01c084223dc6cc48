//! Reading query results cell by cell, and the small statistics the metrics share, for
//! metrics that compute in Rust after one query (follow-up, attribution, pipeline, velocity).

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::{
    Array, ArrayAccessor, AsArray, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{Float64Type, TimestampMicrosecondType};
use serde_json::{Value, json};

/// A text cell (`None` when null or not text).
pub fn text(b: &RecordBatch, name: &str, i: usize) -> Option<String> {
    str_at(b, name, i).map(str::to_string)
}

/// A text cell, borrowed.
pub fn str_at<'b>(b: &'b RecordBatch, name: &str, i: usize) -> Option<&'b str> {
    let a = b.column_by_name(name)?.as_string_opt::<i32>()?;
    (!a.is_null(i)).then(|| a.value(i))
}

/// A text column, to read row by row without looking it up each time ([`at`]).
pub fn strings<'b>(b: &'b RecordBatch, name: &str) -> Option<&'b StringArray> {
    b.column_by_name(name)?.as_string_opt::<i32>()
}

/// A timestamp column (µs).
pub fn times<'b>(b: &'b RecordBatch, name: &str) -> Option<&'b TimestampMicrosecondArray> {
    b.column_by_name(name)?
        .as_primitive_opt::<TimestampMicrosecondType>()
}

/// Row `i` of a column from [`strings`] or [`times`] (`None` when null or absent).
pub fn at<A: ArrayAccessor>(a: Option<A>, i: usize) -> Option<A::Item> {
    a.filter(|a| !a.is_null(i)).map(|a| a.value(i))
}

/// A timestamp cell in µs since the epoch.
pub fn ts(b: &RecordBatch, name: &str, i: usize) -> Option<i64> {
    let a = b
        .column_by_name(name)?
        .as_primitive_opt::<TimestampMicrosecondType>()?;
    (!a.is_null(i)).then(|| a.value(i))
}

/// A float cell.
pub fn float(b: &RecordBatch, name: &str, i: usize) -> Option<f64> {
    let a = b.column_by_name(name)?.as_primitive_opt::<Float64Type>()?;
    (!a.is_null(i)).then(|| a.value(i))
}

/// Midnight UTC of `d` in µs since the epoch.
pub fn micros(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_micros()
}

/// µs in a day, for durations in fractional days.
pub const DAY_MICROS: f64 = 86_400_000_000.0;

/// RFC 3339 of µs since the epoch.
pub fn rfc3339(t: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(t)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

/// The median (mean of the middle two for an even count); `None` when empty. Selects
/// instead of sorting: linear in the count (the order of `xs` changes).
pub fn median(xs: &mut [f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len();
    let (lower, mid, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    let mid = *mid;
    Some(if n % 2 == 1 {
        mid
    } else {
        // The middle two: the largest of the lower half and the selected one.
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + mid) / 2.0
    })
}

/// The sum, 0 (not −0, which Rust's float `sum` gives for nothing) when empty.
pub fn total(xs: impl Iterator<Item = f64>) -> f64 {
    xs.fold(0.0, |a, b| a + b)
}

/// The mean; `None` when empty.
pub fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// `n / d`, null when the denominator is 0 (SPEC §0).
pub fn ratio(n: f64, d: f64) -> Value {
    if d != 0.0 { json!(n / d) } else { Value::Null }
}

/// A JSON number, null for `None` or a non-finite value.
pub fn number(x: Option<f64>) -> Value {
    x.filter(|x| x.is_finite())
        .map_or(Value::Null, |x| json!(x))
}

/// The relative change in percent from `previous` to `current`; null when either is
/// missing or the previous is 0.
pub fn change_pct(current: &Value, previous: &Value) -> Value {
    match (current.as_f64(), previous.as_f64()) {
        (Some(c), Some(p)) if p != 0.0 => json!((c - p) / p * 100.0),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_means_and_changes() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut [5.0, 5.0, 1.0, 9.0, 5.0, 2.0]), Some(5.0));
        assert_eq!(median(&mut [7.0]), Some(7.0));
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
        assert!(total(std::iter::empty()).is_sign_positive());
        assert_eq!(ratio(1.0, 0.0), Value::Null);
        assert_eq!(change_pct(&json!(150.0), &json!(100.0)), json!(50.0));
        assert_eq!(change_pct(&json!(1.0), &json!(0.0)), Value::Null);
        assert_eq!(change_pct(&Value::Null, &json!(2.0)), Value::Null);
        assert_eq!(number(Some(f64::NAN)), Value::Null);
        let d = NaiveDate::from_ymd_opt(1970, 1, 2).unwrap();
        assert_eq!(micros(d), 86_400_000_000);
    }
}
