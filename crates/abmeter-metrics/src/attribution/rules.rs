//! Rule-based attribution models (SPEC §7): each turns one opportunity's touches into
//! weights that sum to 1, so a channel's credit is its touches' weights times the amount.

use std::fmt;
use std::str::FromStr;

use super::{Conversion, Credit, LEAD_CREATION, Touch};

/// A rule-based model, named as on the command line and in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleModel {
    FirstTouch,
    LastTouch,
    LastNonDirect,
    Linear,
    TimeDecay,
    PositionBased,
    WShaped,
    FullPath,
}

impl RuleModel {
    /// Every model, in the order reports list them.
    pub const ALL: [RuleModel; 8] = [
        RuleModel::FirstTouch,
        RuleModel::LastTouch,
        RuleModel::LastNonDirect,
        RuleModel::Linear,
        RuleModel::TimeDecay,
        RuleModel::PositionBased,
        RuleModel::WShaped,
        RuleModel::FullPath,
    ];

    /// The name used by `--model` and in output.
    pub fn name(self) -> &'static str {
        match self {
            RuleModel::FirstTouch => "first_touch",
            RuleModel::LastTouch => "last_touch",
            RuleModel::LastNonDirect => "last_non_direct",
            RuleModel::Linear => "linear",
            RuleModel::TimeDecay => "time_decay",
            RuleModel::PositionBased => "position_based",
            RuleModel::WShaped => "w_shaped",
            RuleModel::FullPath => "full_path",
        }
    }
}

impl fmt::Display for RuleModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuleModel {
    type Err = String;

    /// Exact names only, so a typo is refused with the list rather than guessed at.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleModel::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = RuleModel::ALL.iter().map(|m| m.name()).collect();
                format!(
                    "unknown rule-based attribution model `{s}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Microseconds in a day: time decay measures Δ in fractional days (SPEC §11).
const MICROS_PER_DAY: f64 = 86_400e6;

/// Weights of `touches` (sorted by (at, id), all inside the window ending at
/// `conv.converted_at`), one per touch, summing to 1 (empty input → empty output).
///
/// `half_life_days` is used by `time_decay` only. `full_path` credits revenue, so under
/// pipeline credit it is an error (whatever the touches, so a bad flag fails every time).
pub fn weights(
    model: RuleModel,
    touches: &[Touch],
    conv: &Conversion,
    half_life_days: f64,
) -> Result<Vec<f64>, String> {
    if model == RuleModel::FullPath && conv.credit == Credit::Pipeline {
        return Err("full_path credits revenue: use --credit revenue".to_string());
    }
    debug_assert!(
        touches
            .windows(2)
            .all(|w| (w[0].at, &w[0].id) <= (w[1].at, &w[1].id)),
        "touches must be sorted by (at, id)"
    );
    let n = touches.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    Ok(match model {
        RuleModel::FirstTouch => one_hot(n, 0),
        RuleModel::LastTouch => one_hot(n, n - 1),
        RuleModel::LastNonDirect => {
            let last = touches.iter().rposition(|t| t.channel != "direct");
            one_hot(n, last.unwrap_or(n - 1))
        }
        RuleModel::Linear => vec![1.0 / n as f64; n],
        RuleModel::TimeDecay => time_decay(touches, conv, half_life_days)?,
        RuleModel::PositionBased => position_based(n),
        RuleModel::WShaped => w_shaped(touches, conv),
        RuleModel::FullPath => full_path(touches, conv),
    })
}

fn one_hot(n: usize, i: usize) -> Vec<f64> {
    let mut w = vec![0.0; n];
    w[i] = 1.0;
    w
}

/// w_i ∝ 2^(−Δ_i/h). Δ is taken relative to the latest touch before exponentiating: the
/// ratios are unchanged, and the latest touch keeps weight 1, so a long lookback or a
/// short half-life cannot underflow every weight to 0.
fn time_decay(touches: &[Touch], conv: &Conversion, h: f64) -> Result<Vec<f64>, String> {
    if !(h.is_finite() && h > 0.0) {
        return Err(format!(
            "attribution.half_life_days must be a positive number of days, not {h}"
        ));
    }
    let days: Vec<f64> = touches
        .iter()
        .map(|t| (conv.converted_at - t.at) as f64 / MICROS_PER_DAY)
        .collect();
    let nearest = days.iter().copied().fold(f64::INFINITY, f64::min);
    let raw: Vec<f64> = days.iter().map(|d| (-(d - nearest) / h).exp2()).collect();
    Ok(normalise(raw))
}

/// U-shaped: 40% first, 40% last, 20% over the middle; 1 touch → 100%, 2 → 50/50.
fn position_based(n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![1.0],
        2 => vec![0.5, 0.5],
        _ => {
            let mut w = vec![0.2 / (n - 2) as f64; n];
            w[0] = 0.4;
            w[n - 1] = 0.4;
            w
        }
    }
}

/// `position_based` over the first `len` touches, the rest 0.
fn position_based_prefix(n: usize, len: usize) -> Vec<f64> {
    let mut w = position_based(len);
    w.resize(n, 0.0);
    w
}

/// OC: the last touch at or before the opportunity's creation (None if every touch came
/// after it, which only revenue credit's longer window allows).
fn opportunity_creation(touches: &[Touch], conv: &Conversion) -> Option<usize> {
    touches.iter().rposition(|t| t.at <= conv.created_at)
}

/// LC: the first lead-creation touch, counted only at or before OC (touches are sorted, so
/// "before OC in order" and "at or before creation" agree).
fn lead_creation(touches: &[Touch], oc: usize) -> Option<usize> {
    touches[..=oc]
        .iter()
        .position(|t| LEAD_CREATION.contains(&t.kind.as_str()))
}

/// W-shaped (Marketo Measure): 30% each to FT, LC and OC, 10% over the unmarked touches
/// strictly between FT and OC; touches after OC get nothing.
///
/// No LC → position_based over the touches up to OC. No OC at all (every touch after
/// creation, possible only under revenue credit) means there is no W to draw and nothing
/// "up to OC": the journey falls back to position_based over all its touches, as full_path
/// does, so the opportunity's credit is still distributed.
fn w_shaped(touches: &[Touch], conv: &Conversion) -> Vec<f64> {
    let n = touches.len();
    let Some(oc) = opportunity_creation(touches, conv) else {
        return position_based(n);
    };
    let Some(lc) = lead_creation(touches, oc) else {
        return position_based_prefix(n, oc + 1);
    };
    milestones(n, &[(0, 0.3), (lc, 0.3), (oc, 0.3)], 0.1, |i| {
        0 < i && i < oc
    })
}

/// Full path (Z-shaped): 22.5% each to FT, LC, OC and CW (the last touch), 10% over every
/// unmarked touch. Missing LC → position_based over all the touches; a missing OC (every
/// touch after creation) leaves LC undefined too, since LC must come at or before OC, and so
/// falls back the same way.
fn full_path(touches: &[Touch], conv: &Conversion) -> Vec<f64> {
    let n = touches.len();
    let Some(lc) = opportunity_creation(touches, conv)
        .and_then(|oc| lead_creation(touches, oc).map(|lc| (lc, oc)))
    else {
        return position_based(n);
    };
    let (lc, oc) = lc;
    milestones(
        n,
        &[(0, 0.225), (lc, 0.225), (oc, 0.225), (n - 1, 0.225)],
        0.1,
        |_| true,
    )
}

/// Milestone weights (summed where milestones share a touch) plus `rest` split equally over
/// the touches that hold no milestone and pass `eligible`. With no such touch the total is
/// short of 1 by `rest`; normalising then hands `rest` to the milestones in proportion to
/// their weights, as SPEC §7 asks.
fn milestones(
    n: usize,
    marks: &[(usize, f64)],
    rest: f64,
    eligible: impl Fn(usize) -> bool,
) -> Vec<f64> {
    let mut w = vec![0.0; n];
    let mut marked = vec![false; n];
    for &(i, m) in marks {
        w[i] += m;
        marked[i] = true;
    }
    let free: Vec<usize> = (0..n).filter(|&i| !marked[i] && eligible(i)).collect();
    if !free.is_empty() {
        let each = rest / free.len() as f64;
        for i in free {
            w[i] = each;
        }
    }
    normalise(w)
}

/// Scale to sum exactly-ish to 1, removing the rounding of sums like 0.3 + 0.3 + 0.3 + 0.1.
fn normalise(mut w: Vec<f64>) -> Vec<f64> {
    let total: f64 = w.iter().sum();
    for x in &mut w {
        *x /= total;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;
    const T0: i64 = 1_700_000_000_000_000;

    fn touch(at: i64, id: &str, kind: &str, channel: &str) -> Touch {
        Touch {
            at,
            id: id.to_string(),
            kind: kind.to_string(),
            channel: channel.to_string(),
            campaign: None,
        }
    }

    /// Touches one day apart; `kinds[i]` of "lc" makes a form_submit, anything else a page view.
    fn journey(kinds: &[&str]) -> Vec<Touch> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let kind = if *k == "lc" {
                    "form_submit"
                } else {
                    "web_visit"
                };
                touch(T0 + i as i64 * DAY, &format!("t{i:02}"), kind, "email")
            })
            .collect()
    }

    /// Pipeline credit: the window and the opportunity both end at `at`.
    fn pipeline(at: i64) -> Conversion {
        Conversion {
            created_at: at,
            converted_at: at,
            credit: Credit::Pipeline,
        }
    }

    fn revenue(created_at: i64, converted_at: i64) -> Conversion {
        Conversion {
            created_at,
            converted_at,
            credit: Credit::Revenue,
        }
    }

    /// Pipeline conversion at the last touch of `t`.
    fn at_last(t: &[Touch]) -> Conversion {
        pipeline(t.last().map_or(T0, |t| t.at))
    }

    /// Revenue conversion closing at the last touch of `t`, created at touch `oc`.
    fn closing(t: &[Touch], oc: usize) -> Conversion {
        revenue(t[oc].at, t.last().unwrap().at + DAY / 2)
    }

    fn w(model: RuleModel, t: &[Touch], c: &Conversion) -> Vec<f64> {
        weights(model, t, c, 7.0).unwrap()
    }

    #[track_caller]
    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, e) in got.iter().zip(want) {
            assert!((g - e).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn names_round_trip_and_typos_list_the_names() {
        for m in RuleModel::ALL {
            assert_eq!(m.name().parse::<RuleModel>(), Ok(m));
            assert_eq!(m.to_string(), m.name());
        }
        let err = "w-shaped".parse::<RuleModel>().unwrap_err();
        assert!(err.contains("w-shaped"), "{err}");
        for m in RuleModel::ALL {
            assert!(err.contains(m.name()), "{err}");
        }
    }

    #[test]
    fn empty_input_gives_empty_output() {
        for m in RuleModel::ALL {
            let c = if m == RuleModel::FullPath {
                revenue(T0, T0)
            } else {
                pipeline(T0)
            };
            assert_eq!(weights(m, &[], &c, 7.0), Ok(vec![]), "{m}");
        }
    }

    #[test]
    fn full_path_under_pipeline_is_an_error() {
        let t = journey(&["", "lc", ""]);
        assert_eq!(
            weights(RuleModel::FullPath, &t, &at_last(&t), 7.0),
            Err("full_path credits revenue: use --credit revenue".to_string())
        );
        assert!(weights(RuleModel::FullPath, &[], &pipeline(T0), 7.0).is_err());
    }

    // --- SPEC §7 worked fixtures ---

    #[test]
    fn spec_fixture_w_shaped() {
        // a(FT) b c(LC) d e(OC)
        let t = journey(&["", "", "lc", "", ""]);
        assert_close(
            &w(RuleModel::WShaped, &t, &at_last(&t)),
            &[0.30, 0.05, 0.30, 0.05, 0.30],
        );
    }

    #[test]
    fn spec_fixture_full_path() {
        // a(FT) b c(LC) d(OC) e f(CW)
        let t = journey(&["", "", "lc", "", "", ""]);
        assert_close(
            &w(RuleModel::FullPath, &t, &closing(&t, 3)),
            &[0.225, 0.05, 0.225, 0.225, 0.05, 0.225],
        );
    }

    #[test]
    fn spec_fixture_position_based() {
        let t = journey(&["", "", "", "", ""]);
        let credit: Vec<f64> = w(RuleModel::PositionBased, &t, &at_last(&t))
            .iter()
            .map(|x| x * 100.0)
            .collect();
        let third = 20.0 / 3.0;
        assert_close(&credit, &[40.0, third, third, third, 40.0]);
        assert_eq!(format!("{:.3}", credit[1]), "6.667");
    }

    #[test]
    fn spec_fixture_time_decay() {
        let c = pipeline(T0 + 14 * DAY);
        let t = vec![
            touch(T0, "a", "web_visit", "email"),
            touch(T0 + 7 * DAY, "b", "web_visit", "email"),
            touch(T0 + 14 * DAY, "c", "web_visit", "email"),
        ];
        assert_close(
            &w(RuleModel::TimeDecay, &t, &c),
            &[1.0 / 7.0, 2.0 / 7.0, 4.0 / 7.0],
        );
    }

    #[test]
    fn linear_counts_every_repeat() {
        // a a b → a 2/3, b 1/3.
        let t = vec![
            touch(T0, "1", "web_visit", "a"),
            touch(T0 + DAY, "2", "web_visit", "a"),
            touch(T0 + 2 * DAY, "3", "web_visit", "b"),
        ];
        let ws = w(RuleModel::Linear, &t, &at_last(&t));
        assert!((ws[0] + ws[1] - 2.0 / 3.0).abs() < 1e-12);
        assert!((ws[2] - 1.0 / 3.0).abs() < 1e-12);
    }

    // --- 1, 2 and 5 touches for every model ---

    #[test]
    fn one_touch_takes_everything_in_every_model() {
        for kind in ["", "lc"] {
            let t = journey(&[kind]);
            for m in RuleModel::ALL {
                let c = if m == RuleModel::FullPath {
                    closing(&t, 0)
                } else {
                    at_last(&t)
                };
                assert_close(&w(m, &t, &c), &[1.0]);
            }
        }
    }

    #[test]
    fn two_touches_every_model() {
        let t = journey(&["", "lc"]);
        let c = at_last(&t);
        assert_close(&w(RuleModel::FirstTouch, &t, &c), &[1.0, 0.0]);
        assert_close(&w(RuleModel::LastTouch, &t, &c), &[0.0, 1.0]);
        assert_close(&w(RuleModel::LastNonDirect, &t, &c), &[0.0, 1.0]);
        assert_close(&w(RuleModel::Linear, &t, &c), &[0.5, 0.5]);
        // One day apart with a 7-day half-life: 2^(−1/7) : 1.
        let r = (-1.0f64 / 7.0).exp2();
        assert_close(
            &w(RuleModel::TimeDecay, &t, &c),
            &[r / (1.0 + r), 1.0 / (1.0 + r)],
        );
        assert_close(&w(RuleModel::PositionBased, &t, &c), &[0.5, 0.5]);
        // FT | LC = OC: 0.3 vs 0.6, no intermediate → 1/3, 2/3.
        assert_close(&w(RuleModel::WShaped, &t, &c), &[1.0 / 3.0, 2.0 / 3.0]);
        // FT | LC = OC = CW: 0.225 vs 0.675 → 1/4, 3/4.
        assert_close(&w(RuleModel::FullPath, &t, &closing(&t, 1)), &[0.25, 0.75]);
    }

    #[test]
    fn two_touches_w_shaped_ft_lc_then_oc() {
        // FT = LC on one touch and OC on another → 2/3 and 1/3 (the brief's example).
        let t = journey(&["lc", ""]);
        assert_close(
            &w(RuleModel::WShaped, &t, &at_last(&t)),
            &[2.0 / 3.0, 1.0 / 3.0],
        );
    }

    #[test]
    fn five_touches_every_model() {
        let mut t = journey(&["", "", "lc", "", ""]);
        t[4].channel = "direct".to_string();
        let c = at_last(&t);
        assert_close(
            &w(RuleModel::FirstTouch, &t, &c),
            &[1.0, 0.0, 0.0, 0.0, 0.0],
        );
        assert_close(&w(RuleModel::LastTouch, &t, &c), &[0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_close(
            &w(RuleModel::LastNonDirect, &t, &c),
            &[0.0, 0.0, 0.0, 1.0, 0.0],
        );
        assert_close(&w(RuleModel::Linear, &t, &c), &[0.2; 5]);
        // Days before conversion 4, 3, 2, 1, 0.
        let raw: Vec<f64> = (0..5).map(|i| (-(4 - i) as f64 / 7.0).exp2()).collect();
        let total: f64 = raw.iter().sum();
        let want: Vec<f64> = raw.iter().map(|x| x / total).collect();
        assert_close(&w(RuleModel::TimeDecay, &t, &c), &want);
        let third = 0.2 / 3.0;
        assert_close(
            &w(RuleModel::PositionBased, &t, &c),
            &[0.4, third, third, third, 0.4],
        );
        assert_close(&w(RuleModel::WShaped, &t, &c), &[0.3, 0.05, 0.3, 0.05, 0.3]);
        // Revenue, created at touch 3: FT a, LC c, OC d, CW e; b the only free touch.
        assert_close(
            &w(RuleModel::FullPath, &t, &closing(&t, 3)),
            &[0.225, 0.1, 0.225, 0.225, 0.225],
        );
    }

    // --- last non-direct and time decay edges ---

    #[test]
    fn last_non_direct_all_direct_takes_the_last_touch() {
        let mut t = journey(&["", "", ""]);
        for x in &mut t {
            x.channel = "direct".to_string();
        }
        assert_close(
            &w(RuleModel::LastNonDirect, &t, &at_last(&t)),
            &[0.0, 0.0, 1.0],
        );
        t[0].channel = "paid_search".to_string();
        assert_close(
            &w(RuleModel::LastNonDirect, &t, &at_last(&t)),
            &[1.0, 0.0, 0.0],
        );
    }

    #[test]
    fn time_decay_equal_timestamps_share_equally() {
        let t = vec![
            touch(T0, "a", "web_visit", "email"),
            touch(T0, "b", "web_visit", "social"),
            touch(T0, "c", "web_visit", "email"),
        ];
        let c = pipeline(T0 + 3 * DAY);
        assert_close(&w(RuleModel::TimeDecay, &t, &c), &[1.0 / 3.0; 3]);
    }

    #[test]
    fn time_decay_fractional_days_and_extremes() {
        // 12 hours apart, half-life half a day: 1 : 2.
        let t = vec![
            touch(T0, "a", "web_visit", "email"),
            touch(T0 + DAY / 2, "b", "web_visit", "email"),
        ];
        let c = pipeline(T0 + DAY / 2);
        assert_close(
            &weights(RuleModel::TimeDecay, &t, &c, 0.5).unwrap(),
            &[1.0 / 3.0, 2.0 / 3.0],
        );
        // A tiny half-life over a long lookback does not underflow to 0/0.
        let far = vec![
            touch(T0 - 180 * DAY, "a", "web_visit", "email"),
            touch(T0 - 170 * DAY, "b", "web_visit", "email"),
        ];
        let ws = weights(RuleModel::TimeDecay, &far, &pipeline(T0), 0.01).unwrap();
        assert_close(&ws, &[0.0, 1.0]);
        for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(weights(RuleModel::TimeDecay, &t, &c, h).is_err(), "{h}");
        }
        // Other models ignore the half-life.
        assert!(weights(RuleModel::Linear, &t, &c, f64::NAN).is_ok());
    }

    // --- W-shaped milestones ---

    #[test]
    fn w_shaped_ft_equals_lc() {
        // a(FT,LC) b c(OC): 0.6, 0.1, 0.3.
        let t = journey(&["lc", "", ""]);
        assert_close(&w(RuleModel::WShaped, &t, &at_last(&t)), &[0.6, 0.1, 0.3]);
        // a(FT,LC) b(OC): no intermediate → 2/3, 1/3.
        let t = journey(&["lc", ""]);
        assert_close(
            &w(RuleModel::WShaped, &t, &at_last(&t)),
            &[2.0 / 3.0, 1.0 / 3.0],
        );
    }

    #[test]
    fn w_shaped_lc_equals_oc() {
        // a(FT) b c d(LC,OC): 0.3, 0.05, 0.05, 0.6.
        let t = journey(&["", "", "", "lc"]);
        assert_close(
            &w(RuleModel::WShaped, &t, &at_last(&t)),
            &[0.3, 0.05, 0.05, 0.6],
        );
    }

    #[test]
    fn w_shaped_all_milestones_on_one_touch() {
        let t = journey(&["lc"]);
        assert_close(&w(RuleModel::WShaped, &t, &at_last(&t)), &[1.0]);
        // Revenue: a(FT,LC,OC) then b, c after creation → all on a.
        let t = journey(&["lc", "", ""]);
        assert_close(
            &w(RuleModel::WShaped, &t, &closing(&t, 0)),
            &[1.0, 0.0, 0.0],
        );
    }

    #[test]
    fn w_shaped_first_lc_type_touch_counts() {
        // a(FT) b(LC) c(lc-type, intermediate) d(OC): c shares the 10% with nobody.
        let t = journey(&["", "lc", "lc", ""]);
        assert_close(
            &w(RuleModel::WShaped, &t, &at_last(&t)),
            &[0.3, 0.3, 0.1, 0.3],
        );
    }

    #[test]
    fn w_shaped_without_lc_falls_back_to_position_based() {
        let t = journey(&["", "", "", "", ""]);
        let c = at_last(&t);
        assert_eq!(
            w(RuleModel::WShaped, &t, &c),
            w(RuleModel::PositionBased, &t, &c)
        );
    }

    #[test]
    fn w_shaped_revenue_stops_at_opportunity_creation() {
        // a(FT) b(LC) c d(OC) | e f after creation get nothing.
        let t = journey(&["", "lc", "", "", "", ""]);
        assert_close(
            &w(RuleModel::WShaped, &t, &closing(&t, 3)),
            &[0.3, 0.3, 0.1, 0.3, 0.0, 0.0],
        );
        // A touch at the creation instant is OC; the close may fall on the last touch.
        let c = revenue(t[3].at, t[5].at);
        assert_close(
            &w(RuleModel::WShaped, &t, &c),
            &[0.3, 0.3, 0.1, 0.3, 0.0, 0.0],
        );
    }

    #[test]
    fn w_shaped_revenue_lc_after_oc_does_not_count() {
        // a b c(OC) d(lc-type, after creation): no LC → position_based over a b c.
        let t = journey(&["", "", "", "lc", ""]);
        assert_close(
            &w(RuleModel::WShaped, &t, &closing(&t, 2)),
            &[0.4, 0.2, 0.4, 0.0, 0.0],
        );
        // Only one touch up to OC → it takes everything.
        assert_close(
            &w(RuleModel::WShaped, &t, &closing(&t, 0)),
            &[1.0, 0.0, 0.0, 0.0, 0.0],
        );
    }

    #[test]
    fn w_shaped_revenue_every_touch_after_creation() {
        // No OC: position_based over all the touches.
        let t = journey(&["lc", "", ""]);
        let c = revenue(T0 - DAY, t[2].at);
        assert_close(&w(RuleModel::WShaped, &t, &c), &[0.4, 0.2, 0.4]);
    }

    // --- full path ---

    #[test]
    fn full_path_coinciding_milestones() {
        // a(FT,LC) b c(OC) d e(CW): 0.45, 0.05, 0.225, 0.05, 0.225.
        let t = journey(&["lc", "", "", "", ""]);
        assert_close(
            &w(RuleModel::FullPath, &t, &closing(&t, 2)),
            &[0.45, 0.05, 0.225, 0.05, 0.225],
        );
        // a(FT) b(LC,OC) c(CW): 0.225, 0.45, 0.225 → /0.9.
        let t = journey(&["", "lc", ""]);
        assert_close(
            &w(RuleModel::FullPath, &t, &closing(&t, 1)),
            &[0.25, 0.5, 0.25],
        );
        // a(FT) b c(LC,OC,CW): b takes the whole 10%.
        let t = journey(&["", "", "lc"]);
        assert_close(
            &w(RuleModel::FullPath, &t, &closing(&t, 2)),
            &[0.225, 0.1, 0.675],
        );
        // a(FT,LC,OC) b c(CW): 0.675, 0.1, 0.225.
        let t = journey(&["lc", "", ""]);
        assert_close(
            &w(RuleModel::FullPath, &t, &closing(&t, 0)),
            &[0.675, 0.1, 0.225],
        );
        // n = 2, a(FT,LC) b(OC,CW): 1/2, 1/2.
        let t = journey(&["lc", ""]);
        assert_close(&w(RuleModel::FullPath, &t, &closing(&t, 1)), &[0.5, 0.5]);
    }

    #[test]
    fn full_path_fallbacks_use_position_based_over_all_touches() {
        let pb = [0.4, 0.2 / 3.0, 0.2 / 3.0, 0.2 / 3.0, 0.4];
        // No LC-type touch at all.
        let t = journey(&["", "", "", "", ""]);
        assert_close(&w(RuleModel::FullPath, &t, &closing(&t, 2)), &pb);
        // The only LC-type touch comes after creation.
        let t = journey(&["", "", "", "lc", ""]);
        assert_close(&w(RuleModel::FullPath, &t, &closing(&t, 2)), &pb);
        // Every touch after creation: no OC.
        let t = journey(&["lc", "", "", "", ""]);
        let c = revenue(T0 - DAY, t[4].at);
        assert_close(&w(RuleModel::FullPath, &t, &c), &pb);
        // One touch, not LC-type.
        let t = journey(&[""]);
        assert_close(&w(RuleModel::FullPath, &t, &closing(&t, 0)), &[1.0]);
    }

    // --- property test ---

    /// A tiny deterministic LCG (Knuth's MMIX constants), so the test needs no dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn every_model_gives_finite_nonnegative_weights_summing_to_one() {
        let kinds = [
            "form_submit",
            "content_download",
            "demo_request",
            "web_visit",
            "email_open",
            "ad_click",
        ];
        let channels = ["direct", "email", "paid_search", "(none)", "social"];
        let mut rng = Lcg(0x5eed_ab3e);
        for round in 0..3000 {
            let n = 1 + round % 12;
            let created_at = T0 + rng.below(200) as i64 * DAY;
            let revenue_credit = rng.below(2) == 1;
            let converted_at = if revenue_credit {
                created_at + rng.below(90 * DAY as u64) as i64
            } else {
                created_at
            };
            let start = created_at - 180 * DAY;
            let mut t: Vec<Touch> = (0..n)
                .map(|i| {
                    // Coarse times so equal timestamps occur.
                    let span = (converted_at - start) as u64 / (DAY as u64 / 4);
                    let at = start + (rng.below(span + 1) * (DAY as u64 / 4)) as i64;
                    let kind = kinds[rng.below(kinds.len() as u64) as usize];
                    let channel = channels[rng.below(channels.len() as u64) as usize];
                    touch(at, &format!("act{i:02}"), kind, channel)
                })
                .collect();
            t.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
            let conv = Conversion {
                created_at,
                converted_at,
                credit: if revenue_credit {
                    Credit::Revenue
                } else {
                    Credit::Pipeline
                },
            };
            let h = [0.5, 7.0, 30.0][rng.below(3) as usize];
            for m in RuleModel::ALL {
                let res = weights(m, &t, &conv, h);
                if m == RuleModel::FullPath && !revenue_credit {
                    assert!(res.is_err());
                    continue;
                }
                let ws = res.unwrap();
                assert_eq!(ws.len(), n, "{m} {t:?}");
                assert!(
                    ws.iter().all(|x| x.is_finite() && *x >= 0.0),
                    "{m} {ws:?} {t:?}"
                );
                let total: f64 = ws.iter().sum();
                assert!((total - 1.0).abs() < 1e-12, "{m} sums to {total}: {t:?}");
                if m == RuleModel::WShaped {
                    // Nothing after opportunity creation.
                    for (x, tt) in ws.iter().zip(&t) {
                        assert!(tt.at <= created_at || *x == 0.0 || t[0].at > created_at);
                    }
                }
            }
        }
    }
}
