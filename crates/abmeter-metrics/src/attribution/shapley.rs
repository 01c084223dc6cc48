//! Shapley attribution (SPEC §7): the conversion-rate game of Dalessandro et al. (2012),
//! exact over every subset of channels, and `linear_unique`, the Shapley value of the
//! "conversions of journeys contained in S" game (Zhao et al. 2018), which collapses to an
//! equal split over each converting journey's distinct channels.
//!
//! A [`Journey`] row with `conversions = c` and `nulls = u` stands for c + u journeys, c of
//! which converted; rows with an empty path or no journeys (c + u = 0) are left out, as the
//! Markov model leaves them out (see [`super::markov`]).

use std::collections::BTreeSet;

use super::markov::used;
use super::{ChannelCredit, Journey};

/// Above this many channels the exact sum over 2^n subsets is refused.
pub const MAX_CHANNELS: usize = 15;

/// The journeys a model uses, the sorted channel names, and each journey's set of distinct
/// channels as indices into the names.
struct ChannelSets<'a> {
    kept: Vec<&'a Journey>,
    names: Vec<&'a str>,
    sets: Vec<Vec<usize>>,
}

impl<'a> ChannelSets<'a> {
    fn new(kept: Vec<&'a Journey>) -> Self {
        let names: Vec<&str> = kept
            .iter()
            .flat_map(|j| j.path.iter().map(String::as_str))
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .collect();
        let sets = kept
            .iter()
            .map(|j| {
                let distinct: BTreeSet<&str> = j.path.iter().map(String::as_str).collect();
                distinct
                    .into_iter()
                    .map(|c| names.binary_search(&c).expect("every channel is named"))
                    .collect()
            })
            .collect();
        ChannelSets { kept, names, sets }
    }
}

/// SPEC §7 conversion-rate Shapley (Dalessandro 2012): v(S) = conversions/journeys among
/// journeys whose set of distinct channels is exactly S (0 where none), exact over all
/// subsets; Err above 15 channels ("… group channels …").
///
/// `score` is φ_c, reported as is, negative included (a channel whose journeys convert
/// less often than those without it earns a negative φ). Credit is `Σ conversions × φ_c /
/// Σ φ` (value likewise), which keeps the credits summing to the totals even with a negative
/// φ. By efficiency Σ φ = v(all channels) − v(∅) = v(all channels); it is taken as that
/// exact value rather than the rounded sum of the φ, so "no journey touched every channel"
/// is exactly 0, not a rounding residue that would blow the credits up. Σ φ ≤ 0 — no
/// converting journey touched every channel — has no meaningful normalisation and is an
/// error.
pub fn shapley(journeys: &[Journey]) -> Result<Vec<ChannelCredit>, String> {
    let mut kept = Vec::with_capacity(journeys.len());
    for (i, j) in journeys.iter().enumerate() {
        if used(i, j)? {
            kept.push(j);
        }
    }
    let ChannelSets { kept, names, sets } = ChannelSets::new(kept);
    let n = names.len();
    if n > MAX_CHANNELS {
        return Err(format!(
            "Shapley attribution is exact over at most {MAX_CHANNELS} channels and the journeys \
             name {n}: group channels (for example into channel families) and run it again"
        ));
    }
    let total_conversions: f64 = kept.iter().map(|j| j.conversions).sum();
    let total_value: f64 = kept.iter().map(|j| j.value).sum();
    if total_conversions <= 0.0 {
        return Err(
            "no journey converted: Shapley attribution needs at least one conversion".to_string(),
        );
    }
    let subsets = 1usize << n;
    let mut conversions = vec![0.0; subsets];
    let mut trials = vec![0.0; subsets];
    for (j, set) in kept.iter().zip(&sets) {
        let mask: usize = set.iter().map(|&c| 1usize << c).sum();
        conversions[mask] += j.conversions;
        trials[mask] += j.conversions + j.nulls;
    }
    let v: Vec<f64> = conversions
        .iter()
        .zip(&trials)
        .map(|(&c, &t)| if t > 0.0 { c / t } else { 0.0 })
        .collect();
    // weight[s] = s!(n−s−1)!/n!, built as a ratio so nothing overflows.
    let weight: Vec<f64> = (0..n)
        .map(|s| {
            let mut w = 1.0 / n as f64;
            for k in 1..=s {
                w *= k as f64 / (n - k) as f64;
            }
            w
        })
        .collect();
    let phi: Vec<f64> = (0..n)
        .map(|c| {
            let bit = 1usize << c;
            (0..subsets)
                .filter(|mask| mask & bit == 0)
                .map(|mask| weight[mask.count_ones() as usize] * (v[mask | bit] - v[mask]))
                .sum()
        })
        .collect();
    let sum = v[subsets - 1];
    if sum <= 0.0 {
        return Err(format!(
            "Shapley attribution (conversion-rate form) cannot normalise: Σφ = v(all {n} \
             channels) = {sum}, because no converting journey touched every channel; group \
             channels, or use linear_unique or markov"
        ));
    }
    Ok(names
        .iter()
        .zip(&phi)
        .map(|(&channel, &phi)| ChannelCredit {
            channel: channel.to_string(),
            conversions: total_conversions * phi / sum,
            value: total_value * phi / sum,
            score: phi,
        })
        .collect())
}

/// Each converting journey's conversions (and value) split equally over its distinct
/// channels. `score` is the unnormalised credit, here the conversions credited. Journeys
/// [`shapley`] would refuse (negative or non-finite counts) are left out.
pub fn linear_unique(journeys: &[Journey]) -> Vec<ChannelCredit> {
    let kept = journeys
        .iter()
        .enumerate()
        .filter(|(i, j)| matches!(used(*i, j), Ok(true)))
        .map(|(_, j)| j)
        .collect();
    let ChannelSets { kept, names, sets } = ChannelSets::new(kept);
    let mut credit: Vec<(f64, f64)> = vec![(0.0, 0.0); names.len()];
    for (j, set) in kept.iter().zip(&sets) {
        let share = set.len() as f64;
        for &c in set {
            credit[c].0 += j.conversions / share;
            credit[c].1 += j.value / share;
        }
    }
    names
        .iter()
        .zip(credit)
        .map(|(&channel, (conversions, value))| ChannelCredit {
            channel: channel.to_string(),
            conversions,
            value,
            score: conversions,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::attribution::journey as j;

    fn get<'a>(r: &'a [ChannelCredit], channel: &str) -> &'a ChannelCredit {
        r.iter().find(|c| c.channel == channel).unwrap()
    }

    #[test]
    fn two_channels_by_hand() {
        // v(a) = 1/4, v(b) = 1/2, v(ab) = 3/4.
        // φ_a = ½·v(a) + ½·(v(ab) − v(b)) = 1/4; φ_b = ½·v(b) + ½·(v(ab) − v(a)) = 1/2.
        let js = [
            j("a", 1.0, 3.0, 10.0),
            j("b", 1.0, 1.0, 20.0),
            j("a>b>a", 3.0, 1.0, 60.0),
        ];
        let r = shapley(&js).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].channel, "a");
        assert!((get(&r, "a").score - 0.25).abs() < 1e-12);
        assert!((get(&r, "b").score - 0.5).abs() < 1e-12);
        assert!((get(&r, "a").conversions - 5.0 / 3.0).abs() < 1e-12);
        assert!((get(&r, "b").conversions - 10.0 / 3.0).abs() < 1e-12);
        assert!((get(&r, "a").value - 30.0).abs() < 1e-10);
        assert!((get(&r, "b").value - 60.0).abs() < 1e-10);
    }

    #[test]
    fn negative_phi_is_reported_and_credited_as_is() {
        // v(a) = 1/2, v(b) = 0, v(ab) = 1/4: φ_a = 3/8, φ_b = −1/8, Σφ = v(ab) = 1/4.
        let js = [
            j("a", 1.0, 1.0, 0.0),
            j("b", 0.0, 1.0, 0.0),
            j("a>b", 1.0, 3.0, 0.0),
        ];
        let r = shapley(&js).unwrap();
        assert!((get(&r, "a").score - 0.375).abs() < 1e-12);
        assert!((get(&r, "b").score + 0.125).abs() < 1e-12);
        assert!((get(&r, "a").conversions - 3.0).abs() < 1e-12);
        assert!((get(&r, "b").conversions + 1.0).abs() < 1e-12);
    }

    #[test]
    fn no_converting_journey_with_every_channel_is_an_error() {
        // v(ab) = 0 (no journey touched both): Σφ = 0, so nothing to normalise by.
        let js = [j("a", 1.0, 1.0, 0.0), j("b", 1.0, 1.0, 0.0)];
        assert!(shapley(&js).unwrap_err().contains("touched every channel"));
        let js = [j("a", 1.0, 1.0, 0.0), j("a>b", 0.0, 5.0, 0.0)];
        assert!(shapley(&js).unwrap_err().contains("touched every channel"));
    }

    #[test]
    fn other_errors() {
        let many: Vec<Journey> = (0..16)
            .map(|c| j(&format!("c{c}"), 1.0, 0.0, 0.0))
            .collect();
        assert!(shapley(&many).unwrap_err().contains("group channels"));
        assert!(
            shapley(&many[..15])
                .unwrap_err()
                .contains("touched every channel")
        );
        assert!(
            shapley(&[j("a", 0.0, 2.0, 0.0)])
                .unwrap_err()
                .contains("no journey converted")
        );
        assert!(shapley(&[]).unwrap_err().contains("no journey converted"));
        assert!(shapley(&[j("a", 1.0, -1.0, 0.0)]).is_err());
    }

    /// The same Shapley value computed another way: the average, over every ordering of the
    /// channels, of each channel's marginal contribution when it joins.
    fn by_orderings(js: &[Journey]) -> Vec<(String, f64)> {
        let mut names: Vec<String> = js.iter().flat_map(|j| j.path.clone()).collect();
        names.sort();
        names.dedup();
        let v = |s: &[String]| -> f64 {
            let (mut c, mut t) = (0.0, 0.0);
            for jr in js {
                let mut set: Vec<String> = jr.path.clone();
                set.sort();
                set.dedup();
                let mut want = s.to_vec();
                want.sort();
                if set == want {
                    c += jr.conversions;
                    t += jr.conversions + jr.nulls;
                }
            }
            if t > 0.0 { c / t } else { 0.0 }
        };
        let mut phi = vec![0.0; names.len()];
        let mut perms = 0.0;
        let mut order: Vec<usize> = (0..names.len()).collect();
        // Heap's algorithm over all orderings.
        fn heap(k: usize, order: &mut [usize], visit: &mut dyn FnMut(&[usize])) {
            if k == 1 {
                visit(order);
                return;
            }
            for i in 0..k {
                heap(k - 1, order, visit);
                let swap = if k.is_multiple_of(2) { i } else { 0 };
                order.swap(swap, k - 1);
            }
        }
        let n = names.len();
        heap(n, &mut order, &mut |o: &[usize]| {
            perms += 1.0;
            let mut s: Vec<String> = Vec::new();
            for &c in o {
                let before = v(&s);
                s.push(names[c].clone());
                phi[c] += v(&s) - before;
            }
        });
        names
            .into_iter()
            .zip(phi.into_iter().map(|p| p / perms))
            .collect()
    }

    fn random_journeys(seed: u64, rows: usize, channels: u64) -> Vec<Journey> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move |n: u64| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        };
        (0..rows)
            .map(|_| {
                let len = 1 + next(channels + 2);
                let path = (0..len).map(|_| format!("ch{}", next(channels))).collect();
                let conversions = next(3) as f64;
                Journey {
                    path,
                    conversions,
                    nulls: next(4) as f64,
                    value: conversions * 25.0,
                }
            })
            .collect()
    }

    #[test]
    fn matches_the_permutation_definition_and_is_efficient() {
        for (seed, channels) in [(1, 3), (2, 4), (3, 5)] {
            let mut js = random_journeys(seed, 200, channels);
            // Make sure some converting journey touched every channel.
            let all: Vec<String> = (0..channels).map(|c| format!("ch{c}")).collect();
            js.push(Journey {
                path: all,
                conversions: 2.0,
                nulls: 1.0,
                value: 50.0,
            });
            let r = shapley(&js).unwrap();
            let expected = by_orderings(&js);
            assert_eq!(r.len(), expected.len());
            for (c, (name, phi)) in r.iter().zip(&expected) {
                assert_eq!(&c.channel, name);
                assert!((c.score - phi).abs() < 1e-12, "{seed} {name}");
            }
            let conv: f64 = js.iter().map(|j| j.conversions).sum();
            let value: f64 = js.iter().map(|j| j.value).sum();
            let sc: f64 = r.iter().map(|c| c.conversions).sum();
            let sv: f64 = r.iter().map(|c| c.value).sum();
            assert!((sc - conv).abs() < 1e-9 * conv && (sv - value).abs() < 1e-9 * value);
        }
    }

    #[test]
    fn channels_that_always_appear_together_get_equal_credit() {
        let js = [
            j("x>y", 2.0, 3.0, 0.0),
            j("a>x>y", 1.0, 1.0, 0.0),
            j("y>a>x", 4.0, 1.0, 0.0),
            j("a", 1.0, 4.0, 0.0),
            j("b>y>x>a", 3.0, 2.0, 0.0),
            j("b", 0.0, 2.0, 0.0),
            j("b>a", 1.0, 1.0, 0.0),
        ];
        let r = shapley(&js).unwrap();
        assert!((get(&r, "x").score - get(&r, "y").score).abs() < 1e-14);
        assert!((get(&r, "x").conversions - get(&r, "y").conversions).abs() < 1e-12);
        let total: f64 = r.iter().map(|c| c.conversions).sum();
        assert!((total - 12.0).abs() < 1e-12);
    }

    #[test]
    fn fifteen_channels_are_fast_enough() {
        let mut js: Vec<Journey> = (0..15)
            .map(|c| j(&format!("c{c:02}"), 1.0, 2.0, 0.0))
            .collect();
        let all: Vec<String> = (0..15).map(|c| format!("c{c:02}")).collect();
        js.push(Journey {
            path: all,
            conversions: 1.0,
            nulls: 0.0,
            value: 0.0,
        });
        let r = shapley(&js).unwrap();
        assert_eq!(r.len(), 15);
        let phi: f64 = r.iter().map(|c| c.score).sum();
        assert!((phi - 1.0).abs() < 1e-12);
        // Symmetric channels: equal shares.
        for c in &r {
            assert!((c.conversions - 16.0 / 15.0).abs() < 1e-9);
        }
    }

    #[test]
    fn linear_unique_splits_over_distinct_channels() {
        let r = linear_unique(&[j("a", 4.0, 0.0, 40.0), j("a>b", 6.0, 0.0, 60.0)]);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].channel.as_str(), r[0].conversions), ("a", 7.0));
        assert_eq!((r[1].channel.as_str(), r[1].conversions), ("b", 3.0));
        assert_eq!((r[0].value, r[1].value), (70.0, 30.0));
        assert_eq!(r[0].score, 7.0);
        // Repeats count once; a channel only on non-converting journeys gets 0.
        let r = linear_unique(&[j("a>b>a>a", 3.0, 1.0, 9.0), j("c", 0.0, 2.0, 0.0)]);
        let got: Vec<(&str, f64, f64)> = r
            .iter()
            .map(|c| (c.channel.as_str(), c.conversions, c.value))
            .collect();
        assert_eq!(got, [("a", 1.5, 4.5), ("b", 1.5, 4.5), ("c", 0.0, 0.0)]);
    }
}
