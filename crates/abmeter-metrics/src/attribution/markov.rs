//! Markov-chain attribution (SPEC §7, algorithms.md §2.1): the removal effect of each
//! channel in an order-k absorbing chain built from the journeys, solved exactly.
//!
//! **States.** `(start)`, the order-k states, `(conversion)` and `(null)`. A journey's path
//! (consecutive repeats merged) of n channels gives the sliding k-grams `c1..ck`,
//! `c2..c(k+1)`, …, `c(n−k+1)..cn`; a path shorter than k is one state, the whole path. This
//! is how ChannelAttribution (`markov_model_cpp`) forms its states, so a 2-channel path at
//! order 3 is a state of its own, distinct from every 3-gram. After merging, two consecutive
//! k-grams always differ, so ChannelAttribution's collapsing of repeated states is a no-op.
//!
//! **Counts.** Each journey adds `conversions + nulls` to every transition along
//! `(start) → s1 → … → sm`, then `conversions` to `sm → (conversion)` and `nulls` to
//! `sm → (null)`; probabilities are counts over row totals.
//!
//! **Solve.** P(conversion) is the absorption probability x(start) of `x = Q x + r` over
//! the transient states (r = the one-step probability into `(conversion)`), solved as a
//! linear system, never by simulation, so results are deterministic (every map is
//! iterated in a sorted order). Up to [`DENSE_MAX`] states (order 1, small order 2) it is
//! Gaussian elimination with partial pivoting. Above that (order 2–3: thousands of states,
//! a few tens of thousands of transitions) a dense factorisation costs n³ per solve, so it is
//! Gauss–Seidel on the sparse rows, swept from the states farthest from `(start)` inwards
//! (an acyclic chain then converges in one sweep), until no value changes by more than
//! 1e-15 of the largest. The chain is absorbing (every state lies on an observed journey
//! that ends in an absorbing transition), so the spectral radius ρ of Q is < 1 and the
//! iteration converges; the error left is at most that last change × ρ/(1−ρ). No sparse
//! solver crate: a direct sparse LU of an order-3 chain fills in badly, and this needs no
//! dependency. (The counts form a flow out of `(start)`, so P(conversion) always equals the
//! journeys' overall conversion rate Σ conversions / Σ (conversions + nulls); the tests use
//! that as a check. The removal solves are where the solver matters.)
//!
//! **Removal effect.** Removing channel c removes every state containing it; transitions
//! into those states go to `(null)`. `RE_c = 1 − P_{−c}(conversion) / P(conversion)`, and
//! channel c is credited `Σ conversions × RE_c / Σ RE` (value likewise). The removal solves
//! reuse the base chain (removed states are held at 0) and start from the base solution,
//! an upper bound, from which Gauss–Seidel decreases monotonically.

use std::collections::{BTreeSet, HashMap};

use super::{ChannelCredit, Journey};

/// Chains with at most this many channel states are solved by dense elimination.
pub const DENSE_MAX: usize = 256;
/// Gauss–Seidel stops when no value moved by more than this fraction of the largest.
const GS_TOLERANCE: f64 = 1e-15;
/// A cap on Gauss–Seidel sweeps, far beyond what an observed journey set needs.
const GS_MAX_SWEEPS: usize = 200_000;

/// Consecutive repeats merged: a > a > b → a > b.
pub fn merge_repeats(path: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(path.len());
    for channel in path {
        if out.last() != Some(channel) {
            out.push(channel.clone());
        }
    }
    out
}

/// The Markov model's result.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkovResult {
    /// The absorption probability into `(conversion)` from `(start)`.
    pub p_conversion: f64,
    /// One row per channel, sorted by channel name; `score` is the removal effect.
    pub channels: Vec<ChannelCredit>,
}

/// Whether the data-driven models use a journey: it must name a channel and stand for at
/// least one journey (`conversions + nulls > 0`); SPEC §11 leaves journeys without touches
/// out. Negative or non-finite counts are an error, not data to weigh.
pub(crate) fn used(index: usize, journey: &Journey) -> Result<bool, String> {
    let Journey {
        conversions,
        nulls,
        value,
        ..
    } = journey;
    if !(conversions.is_finite() && *conversions >= 0.0 && nulls.is_finite() && *nulls >= 0.0) {
        return Err(format!(
            "journey {index}: conversions ({conversions}) and nulls ({nulls}) must be finite and not negative"
        ));
    }
    if !value.is_finite() {
        return Err(format!("journey {index}: value ({value}) must be finite"));
    }
    Ok(!journey.path.is_empty() && conversions + nulls > 0.0)
}

/// Which linear solver [`absorb`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Solver {
    Dense,
    GaussSeidel,
}

/// The transient part of the chain: `(start)`'s row, and the channel states' rows in CSR.
struct Chain {
    /// `(start)` → state probabilities.
    start: Vec<(u32, f64)>,
    row_ptr: Vec<usize>,
    col: Vec<u32>,
    prob: Vec<f64>,
    /// State → `(conversion)` probability.
    to_conversion: Vec<f64>,
    /// For each channel id, the states containing it.
    states_of_channel: Vec<Vec<u32>>,
    /// The Gauss–Seidel sweep: states by decreasing distance from `(start)`.
    sweep: Vec<u32>,
}

impl Chain {
    fn len(&self) -> usize {
        self.to_conversion.len()
    }

    fn row(&self, s: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let span = self.row_ptr[s]..self.row_ptr[s + 1];
        self.col[span.clone()]
            .iter()
            .zip(&self.prob[span])
            .map(|(&t, &p)| (t as usize, p))
    }

    /// Builds the order-`order` chain over channel ids (`paths[i]` already merged, with
    /// weight `weights[i]` = conversions + nulls and `conversions[i]`).
    fn build(
        paths: &[Vec<u32>],
        weights: &[f64],
        conversions: &[f64],
        channels: usize,
        order: usize,
    ) -> Chain {
        let mut ids: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut states_of_channel: Vec<Vec<u32>> = vec![Vec::new(); channels];
        let mut start: HashMap<u32, f64> = HashMap::new();
        let mut trans: HashMap<(u32, u32), f64> = HashMap::new();
        let mut absorbed: Vec<(f64, f64)> = Vec::new(); // (conversion, null) counts
        let mut walk: Vec<u32> = Vec::new();
        for ((path, &w), &conv) in paths.iter().zip(weights).zip(conversions) {
            walk.clear();
            let grams: Box<dyn Iterator<Item = &[u32]>> = if path.len() < order {
                Box::new(std::iter::once(path.as_slice()))
            } else {
                Box::new(path.windows(order))
            };
            for gram in grams {
                let next = ids.len() as u32;
                let id = *ids.entry(gram.to_vec()).or_insert_with(|| {
                    let distinct: BTreeSet<u32> = gram.iter().copied().collect();
                    for c in distinct {
                        states_of_channel[c as usize].push(next);
                    }
                    absorbed.push((0.0, 0.0));
                    next
                });
                walk.push(id);
            }
            *start.entry(walk[0]).or_default() += w;
            for pair in walk.windows(2) {
                *trans.entry((pair[0], pair[1])).or_default() += w;
            }
            let last = &mut absorbed[*walk.last().expect("a used path is not empty") as usize];
            last.0 += conv;
            last.1 += w - conv;
        }
        let n = ids.len();
        let mut total: Vec<f64> = absorbed.iter().map(|(c, u)| c + u).collect();
        let mut trans: Vec<((u32, u32), f64)> = trans.into_iter().collect();
        trans.sort_unstable_by_key(|&(key, _)| key);
        for &((from, _), count) in &trans {
            total[from as usize] += count;
        }
        let mut row_ptr = vec![0usize; n + 1];
        for &((from, _), _) in &trans {
            row_ptr[from as usize + 1] += 1;
        }
        for s in 0..n {
            row_ptr[s + 1] += row_ptr[s];
        }
        let col: Vec<u32> = trans.iter().map(|&((_, to), _)| to).collect();
        let prob: Vec<f64> = trans
            .iter()
            .map(|&((from, _), count)| count / total[from as usize])
            .collect();
        let to_conversion: Vec<f64> = absorbed
            .iter()
            .zip(&total)
            .map(|(&(c, _), &t)| c / t)
            .collect();
        let start_total: f64 = weights.iter().sum();
        let mut start: Vec<(u32, f64)> = start
            .into_iter()
            .map(|(s, count)| (s, count / start_total))
            .collect();
        start.sort_unstable_by_key(|&(s, _)| s);

        // Breadth-first distances from (start); sweep the farthest states first.
        let mut depth = vec![usize::MAX; n];
        let mut queue: std::collections::VecDeque<u32> = std::collections::VecDeque::new();
        for &(s, _) in &start {
            depth[s as usize] = 0;
            queue.push_back(s);
        }
        while let Some(s) = queue.pop_front() {
            let s = s as usize;
            for &t in &col[row_ptr[s]..row_ptr[s + 1]] {
                if depth[t as usize] == usize::MAX {
                    depth[t as usize] = depth[s] + 1;
                    queue.push_back(t);
                }
            }
        }
        let mut sweep: Vec<u32> = (0..n as u32).collect();
        sweep.sort_by_key(|&s| (std::cmp::Reverse(depth[s as usize]), s));

        Chain {
            start,
            row_ptr,
            col,
            prob,
            to_conversion,
            states_of_channel,
            sweep,
        }
    }
}

/// Absorption probabilities into `(conversion)` of every state (0 for removed ones), and
/// that of `(start)`.
fn absorb(
    chain: &Chain,
    removed: &[bool],
    solver: Solver,
    warm: Option<&[f64]>,
) -> Result<(f64, Vec<f64>), String> {
    let x = match solver {
        Solver::Dense => dense(chain, removed)?,
        Solver::GaussSeidel => gauss_seidel(chain, removed, warm)?,
    };
    let p = chain
        .start
        .iter()
        .filter(|&&(s, _)| !removed[s as usize])
        .map(|&(s, p)| p * x[s as usize])
        .sum();
    Ok((p, x))
}

/// `(I − Q) x = r` over the kept states by Gaussian elimination with partial pivoting.
fn dense(chain: &Chain, removed: &[bool]) -> Result<Vec<f64>, String> {
    let n = chain.len();
    let kept: Vec<usize> = (0..n).filter(|&s| !removed[s]).collect();
    let mut index = vec![usize::MAX; n];
    for (i, &s) in kept.iter().enumerate() {
        index[s] = i;
    }
    let m = kept.len();
    let w = m + 1; // the augmented column holds r
    let mut a = vec![0.0; m * w];
    for (i, &s) in kept.iter().enumerate() {
        a[i * w + i] = 1.0;
        for (t, p) in chain.row(s) {
            if index[t] != usize::MAX {
                a[i * w + index[t]] -= p;
            }
        }
        a[i * w + m] = chain.to_conversion[s];
    }
    for k in 0..m {
        let pivot = (k..m)
            .max_by(|&i, &j| a[i * w + k].abs().total_cmp(&a[j * w + k].abs()))
            .expect("k < m");
        if a[pivot * w + k].abs() < 1e-300 {
            return Err("the Markov chain is singular (a state never leaves)".to_string());
        }
        if pivot != k {
            for j in k..w {
                a.swap(k * w + j, pivot * w + j);
            }
        }
        let d = a[k * w + k];
        for i in k + 1..m {
            let f = a[i * w + k] / d;
            if f != 0.0 {
                for j in k..w {
                    a[i * w + j] -= f * a[k * w + j];
                }
            }
        }
    }
    let mut y = vec![0.0; m];
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|j| a[i * w + j] * y[j]).sum();
        y[i] = (a[i * w + m] - s) / a[i * w + i];
    }
    let mut x = vec![0.0; n];
    for (i, &s) in kept.iter().enumerate() {
        x[s] = y[i];
    }
    Ok(x)
}

/// `x = Q x + r` by Gauss–Seidel sweeps over the sparse rows (see the module doc).
fn gauss_seidel(chain: &Chain, removed: &[bool], warm: Option<&[f64]>) -> Result<Vec<f64>, String> {
    let n = chain.len();
    let mut x = match warm {
        Some(w) => w.to_vec(),
        None => vec![0.0; n],
    };
    for s in 0..n {
        if removed[s] {
            x[s] = 0.0;
        }
    }
    let mut last_change = f64::INFINITY;
    for _ in 0..GS_MAX_SWEEPS {
        let mut change: f64 = 0.0;
        let mut scale: f64 = 0.0;
        for &s in &chain.sweep {
            let s = s as usize;
            if removed[s] {
                continue;
            }
            let mut v = chain.to_conversion[s];
            for (t, p) in chain.row(s) {
                v += p * x[t];
            }
            change = change.max((v - x[s]).abs());
            scale = scale.max(v.abs());
            x[s] = v;
        }
        if change <= GS_TOLERANCE * scale {
            return Ok(x);
        }
        last_change = change / scale;
    }
    Err(format!(
        "the Markov chain did not converge in {GS_MAX_SWEEPS} sweeps (last relative change {last_change:e})"
    ))
}

/// SPEC §7 `markov`: the order-`order` removal effect of every channel, solved exactly.
///
/// Journeys are merged with [`merge_repeats`] first; journeys with an empty path or no
/// weight are left out. Err on order 0, on bad counts, and when nothing converted.
pub fn markov(journeys: &[Journey], order: usize) -> Result<MarkovResult, String> {
    markov_with(journeys, order, None)
}

fn markov_with(
    journeys: &[Journey],
    order: usize,
    force: Option<Solver>,
) -> Result<MarkovResult, String> {
    if order == 0 {
        return Err("the Markov model's order must be at least 1".to_string());
    }
    let mut kept: Vec<&Journey> = Vec::with_capacity(journeys.len());
    for (i, j) in journeys.iter().enumerate() {
        if used(i, j)? {
            kept.push(j);
        }
    }
    let names: Vec<&str> = kept
        .iter()
        .flat_map(|j| j.path.iter().map(String::as_str))
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .collect();
    let id: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, i as u32))
        .collect();
    let paths: Vec<Vec<u32>> = kept
        .iter()
        .map(|j| {
            let mut p: Vec<u32> = j.path.iter().map(|c| id[c.as_str()]).collect();
            p.dedup();
            p
        })
        .collect();
    let weights: Vec<f64> = kept.iter().map(|j| j.conversions + j.nulls).collect();
    let conversions: Vec<f64> = kept.iter().map(|j| j.conversions).collect();
    let total_conversions: f64 = conversions.iter().sum();
    let total_value: f64 = kept.iter().map(|j| j.value).sum();
    if total_conversions <= 0.0 {
        return Err(
            "no journey converted: the Markov model needs at least one conversion".to_string(),
        );
    }

    let chain = Chain::build(&paths, &weights, &conversions, names.len(), order);
    let solver = force.unwrap_or(if chain.len() <= DENSE_MAX {
        Solver::Dense
    } else {
        Solver::GaussSeidel
    });
    let none = vec![false; chain.len()];
    let (p, base) = absorb(&chain, &none, solver, None)?;
    if p <= 0.0 {
        return Err("P(conversion) is 0: the Markov model has nothing to attribute".to_string());
    }
    let mut effects = Vec::with_capacity(names.len());
    let mut removed = vec![false; chain.len()];
    for states in &chain.states_of_channel {
        if states.is_empty() {
            effects.push(0.0);
            continue;
        }
        for &s in states {
            removed[s as usize] = true;
        }
        let (p_without, _) = absorb(&chain, &removed, solver, Some(&base))?;
        effects.push(1.0 - p_without / p);
        for &s in states {
            removed[s as usize] = false;
        }
    }
    let sum: f64 = effects.iter().sum();
    let channels = names
        .iter()
        .zip(&effects)
        .map(|(&channel, &re)| ChannelCredit {
            channel: channel.to_string(),
            conversions: total_conversions * re / sum,
            value: total_value * re / sum,
            score: re,
        })
        .collect();
    Ok(MarkovResult {
        p_conversion: p,
        channels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::attribution::journey as j;

    fn credit<'a>(r: &'a MarkovResult, channel: &str) -> &'a ChannelCredit {
        r.channels.iter().find(|c| c.channel == channel).unwrap()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn merge_repeats_merges_consecutive_only() {
        let p = |s: &str| -> Vec<String> { s.split(' ').map(String::from).collect() };
        assert_eq!(merge_repeats(&p("a a b")), p("a b"));
        assert_eq!(merge_repeats(&p("a b a a a c c")), p("a b a c"));
        assert_eq!(merge_repeats(&p("a")), p("a"));
        assert!(merge_repeats(&[]).is_empty());
    }

    #[test]
    fn bryl_example() {
        let js = [
            j("c1>c2>c3", 1.0, 0.0, 100.0),
            j("c1", 0.0, 1.0, 0.0),
            j("c2>c3", 0.0, 1.0, 0.0),
        ];
        for solver in [Solver::Dense, Solver::GaussSeidel] {
            let r = markov_with(&js, 1, Some(solver)).unwrap();
            assert!((r.p_conversion - 1.0 / 3.0).abs() < 1e-12);
            let names: Vec<&str> = r.channels.iter().map(|c| c.channel.as_str()).collect();
            assert_eq!(names, ["c1", "c2", "c3"]);
            for (c, re, conv) in [("c1", 0.5, 0.2), ("c2", 1.0, 0.4), ("c3", 1.0, 0.4)] {
                let cr = credit(&r, c);
                assert!((cr.score - re).abs() < 1e-12, "{c} {}", cr.score);
                assert!((cr.conversions - conv).abs() < 1e-12);
                assert!((cr.value - conv * 100.0).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn puzyrov_example() {
        let js = [
            j("google ads", 2.0, 0.0, 0.0),
            j("mailing", 1.0, 0.0, 0.0),
            j("google ads>mailing", 1.0, 0.0, 0.0),
            j("google ads", 0.0, 1.0, 0.0),
        ];
        let r = markov(&js, 1).unwrap();
        assert!((r.p_conversion - 0.8).abs() < 1e-12);
        assert!((credit(&r, "google ads").score - 0.75).abs() < 1e-12);
        assert!((credit(&r, "mailing").score - 0.5).abs() < 1e-12);
        assert!((credit(&r, "google ads").conversions - 2.4).abs() < 1e-12);
        assert!((credit(&r, "mailing").conversions - 1.6).abs() < 1e-12);
    }

    #[test]
    fn repeats_are_merged() {
        let js = [j("a>a>b", 1.0, 1.0, 0.0), j("b", 1.0, 1.0, 0.0)];
        let r = markov(&js, 1).unwrap();
        assert!((r.p_conversion - 0.5).abs() < 1e-12);
        assert!((credit(&r, "a").score - 0.5).abs() < 1e-12);
        assert!((credit(&r, "b").score - 1.0).abs() < 1e-12);
        assert!((credit(&r, "a").conversions - 2.0 / 3.0).abs() < 1e-12);
        assert!((credit(&r, "b").conversions - 4.0 / 3.0).abs() < 1e-12);
        let merged = markov(&[j("a>b", 1.0, 1.0, 0.0), j("b", 1.0, 1.0, 0.0)], 1).unwrap();
        assert_eq!(r, merged);
    }

    #[test]
    fn errors() {
        let js = [j("a>b", 1.0, 1.0, 0.0)];
        assert!(markov(&js, 0).unwrap_err().contains("order"));
        let none = [j("a>b", 0.0, 3.0, 0.0), j("b", 0.0, 1.0, 0.0)];
        assert!(
            markov(&none, 1)
                .unwrap_err()
                .contains("no journey converted")
        );
        assert!(markov(&[], 1).unwrap_err().contains("no journey converted"));
        assert!(markov(&[j("a", -1.0, 1.0, 0.0)], 1).is_err());
        assert!(markov(&[j("a", 1.0, 1.0, f64::NAN)], 1).is_err());
    }

    #[test]
    fn empty_and_weightless_journeys_are_left_out() {
        let base = [j("a>b", 2.0, 1.0, 10.0), j("b", 1.0, 3.0, 5.0)];
        let mut more = base.to_vec();
        more.push(Journey {
            path: vec![],
            conversions: 4.0,
            nulls: 0.0,
            value: 7.0,
        });
        more.push(j("a>c", 0.0, 0.0, 0.0));
        assert_eq!(markov(&base, 1).unwrap(), markov(&more, 1).unwrap());
    }

    #[test]
    fn order_k_states_follow_channel_attribution() {
        // Order 2: `a>b>c` walks (start) → a·b → b·c; `a` (shorter than 2) is its own state.
        let js = [
            j("a>b>c", 1.0, 1.0, 0.0),
            j("a", 1.0, 3.0, 0.0),
            j("b>c", 0.0, 2.0, 0.0),
        ];
        let r = markov(&js, 2).unwrap();
        // (start) → a·b 2/8 → b·c (1/2 conversion) ; → a 4/8 (1/4) ; → b·c 2/8.
        // b·c's row: from a·b 2 (1 conv, 1 null) and its own 2 nulls: 1/4 conversion.
        // P = 2/8·1/4 + 4/8·1/4 + 2/8·1/4 = 1/4.
        assert!((r.p_conversion - 0.25).abs() < 1e-12);
        // Removing a drops a·b and a: P = 2/8·1/4; removing b or c drops a·b and b·c.
        assert!((credit(&r, "a").score - 0.75).abs() < 1e-12);
        assert!((credit(&r, "b").score - 0.5).abs() < 1e-12);
        assert!((credit(&r, "c").score - 0.5).abs() < 1e-12);
    }

    /// A small deterministic generator (xorshift64*), so the tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn random_journeys(seed: u64, rows: usize, channels: u64, max_len: u64) -> Vec<Journey> {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        (0..rows)
            .map(|_| {
                let len = 1 + rng.below(max_len);
                let path = (0..len)
                    .map(|_| format!("ch{}", rng.below(channels)))
                    .collect();
                let conversions = rng.below(3) as f64;
                let nulls = rng.below(4) as f64;
                let value = conversions * (10 + rng.below(90)) as f64;
                Journey {
                    path,
                    conversions,
                    nulls,
                    value,
                }
            })
            .collect()
    }

    /// An independent oracle: states named by strings, the absorbing chain written with
    /// explicit `(conversion)` and `(null)` columns, removal done by rerouting transitions
    /// into removed states to `(null)`, and `P = [(I − Q)^−1 R](start, conversion)` with a
    /// plain Gauss–Jordan inverse.
    fn oracle(journeys: &[Journey], order: usize) -> (f64, Vec<(String, f64)>) {
        let mut states: Vec<String> = vec!["(start)".to_string()];
        let mut counts: Vec<(String, String, f64)> = Vec::new();
        let mut channels: Vec<String> = Vec::new();
        for jr in journeys {
            let w = jr.conversions + jr.nulls;
            if jr.path.is_empty() || w == 0.0 {
                continue;
            }
            let mut merged: Vec<String> = Vec::new();
            for c in &jr.path {
                if merged.last() != Some(c) {
                    merged.push(c.clone());
                }
                if !channels.contains(c) {
                    channels.push(c.clone());
                }
            }
            let mut names = Vec::new();
            if merged.len() <= order {
                names.push(merged.join("|"));
            } else {
                for i in 0..=merged.len() - order {
                    names.push(merged[i..i + order].join("|"));
                }
            }
            let mut prev = "(start)".to_string();
            for n in names {
                if !states.contains(&n) {
                    states.push(n.clone());
                }
                counts.push((prev, n.clone(), w));
                prev = n;
            }
            counts.push((prev.clone(), "(conversion)".into(), jr.conversions));
            counts.push((prev, "(null)".into(), jr.nulls));
        }
        channels.sort();
        let solve = |removed: Option<&str>| -> f64 {
            let gone =
                |s: &str| removed.is_some_and(|c| s != "(start)" && s.split('|').any(|x| x == c));
            let n = states.len();
            let pos = |s: &str| states.iter().position(|x| x == s);
            let mut q = vec![vec![0.0; n]; n];
            let mut r = vec![[0.0f64; 2]; n];
            for (from, to, w) in &counts {
                let i = pos(from).unwrap();
                match to.as_str() {
                    "(conversion)" => r[i][0] += w,
                    "(null)" => r[i][1] += w,
                    _ if gone(to) => r[i][1] += w,
                    _ => q[i][pos(to).unwrap()] += w,
                }
            }
            for i in 0..n {
                let t: f64 = q[i].iter().sum::<f64>() + r[i][0] + r[i][1];
                for v in q[i].iter_mut() {
                    *v /= t;
                }
                r[i][0] /= t;
                r[i][1] /= t;
            }
            // Gauss–Jordan inverse of I − Q.
            let mut a: Vec<Vec<f64>> = (0..n)
                .map(|i| (0..n).map(|k| f64::from(i == k) - q[i][k]).collect())
                .collect();
            let mut inv: Vec<Vec<f64>> = (0..n)
                .map(|i| (0..n).map(|k| f64::from(i == k)).collect())
                .collect();
            for c in 0..n {
                let p = (c..n)
                    .max_by(|&x, &y| a[x][c].abs().partial_cmp(&a[y][c].abs()).unwrap())
                    .unwrap();
                a.swap(c, p);
                inv.swap(c, p);
                let d = a[c][c];
                for k in 0..n {
                    a[c][k] /= d;
                    inv[c][k] /= d;
                }
                for i in 0..n {
                    if i != c && a[i][c] != 0.0 {
                        let f = a[i][c];
                        for k in 0..n {
                            a[i][k] -= f * a[c][k];
                            inv[i][k] -= f * inv[c][k];
                        }
                    }
                }
            }
            (0..n).map(|k| inv[0][k] * r[k][0]).sum()
        };
        let p = solve(None);
        let re = channels
            .iter()
            .map(|c| (c.clone(), 1.0 - solve(Some(c)) / p))
            .collect();
        (p, re)
    }

    #[test]
    fn matches_the_fundamental_matrix_on_random_journeys() {
        for (seed, rows, channels, max_len) in [(1, 40, 4, 5), (2, 60, 5, 6), (3, 30, 3, 7)] {
            let js = random_journeys(seed, rows, channels, max_len);
            for order in 1..=3 {
                let (p, re) = oracle(&js, order);
                for solver in [Solver::Dense, Solver::GaussSeidel] {
                    let r = markov_with(&js, order, Some(solver)).unwrap();
                    assert!(close(r.p_conversion, p, 1e-9), "{seed} {order} {solver:?}");
                    assert_eq!(r.channels.len(), re.len());
                    for (c, (name, e)) in r.channels.iter().zip(&re) {
                        assert_eq!(&c.channel, name);
                        assert!(close(c.score, *e, 1e-9), "{seed} {order} {name}");
                    }
                    let conv: f64 = js.iter().map(|j| j.conversions).sum();
                    let value: f64 = js.iter().map(|j| j.value).sum();
                    // The counts form a flow from (start), so P(conversion) is the overall
                    // conversion rate at every order.
                    let all: f64 = js.iter().map(|j| j.conversions + j.nulls).sum();
                    assert!(close(r.p_conversion, conv / all, 1e-12));
                    let sc: f64 = r.channels.iter().map(|c| c.conversions).sum();
                    let sv: f64 = r.channels.iter().map(|c| c.value).sum();
                    assert!(close(sc, conv, 1e-9) && close(sv, value, 1e-9));
                }
            }
        }
    }

    #[test]
    fn acyclic_paths_match_enumerated_path_probabilities() {
        // Without revisits the order-1 chain over a < b < c (always in that order) is
        // acyclic: P(conversion) is the sum over (start) → … → (conversion) walks.
        let js = [
            j("a>b>c", 3.0, 2.0, 0.0),
            j("a>c", 1.0, 4.0, 0.0),
            j("b", 2.0, 2.0, 0.0),
            j("a", 0.0, 5.0, 0.0),
            j("b>c", 1.0, 0.0, 0.0),
        ];
        // Counts: start→a 15, start→b 5; a→b 5, a→c 5, a→null 5; b→c 6, b→conv 2, b→null 2;
        // c→conv 5, c→null 6.
        let (a_b, a_c, b_c, b_conv, c_conv) = (5.0 / 15.0, 5.0 / 15.0, 0.6, 0.2, 5.0 / 11.0);
        let from_b = b_conv + b_c * c_conv;
        let from_a = a_b * from_b + a_c * c_conv;
        let p = 0.75 * from_a + 0.25 * from_b;
        for order in [1, 2] {
            let r = markov(&js, order).unwrap();
            if order == 1 {
                assert!(close(r.p_conversion, p, 1e-12));
            }
            let (po, _) = oracle(&js, order);
            assert!(close(r.p_conversion, po, 1e-12));
        }
    }

    #[test]
    fn gauss_seidel_and_dense_agree_on_a_larger_chain() {
        let js = random_journeys(7, 3000, 6, 6);
        for order in [2, 3] {
            let d = markov_with(&js, order, Some(Solver::Dense)).unwrap();
            let g = markov_with(&js, order, Some(Solver::GaussSeidel)).unwrap();
            assert!(close(d.p_conversion, g.p_conversion, 1e-12));
            for (a, b) in d.channels.iter().zip(&g.channels) {
                assert!(close(a.score, b.score, 1e-11), "{order} {}", a.channel);
            }
        }
    }
}
