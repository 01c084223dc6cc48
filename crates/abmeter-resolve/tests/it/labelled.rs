//! Precision and recall of every resolution rule on the labelled data set of `dataset`.
//!
//! Precision of rule r: activities given an account by r whose account is the true one, over
//! all activities given an account by r (an account given to an activity whose true account
//! is none counts against it). Recall of rule r: activities whose true account the rule order
//! first reaches by r (for rule 4: reachable only by the company name) that got it, over all
//! such.
//!
//! `SHOW_MISSES=1` also lists the company texts rule 4 left unmatched, with the matcher's
//! verdict (the missed typos, ambiguities and transliterations behind its recall).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use abmeter_resolve::company::CompanyMatcher;
use abmeter_resolve::identity::{IdentityMap, Reason};

use crate::build;
use crate::dataset::{self, Activity, Dataset};

pub const SEED: u64 = 20_260_930;

const RULES: [&str; 6] = [
    "",
    "1 account_id",
    "2 contact",
    "3 email domain",
    "4 company name",
    "5 ip range",
];

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    matched: usize,
    correct: usize,
    expected: usize,
    recalled: usize,
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn show(r: Option<f64>) -> String {
    r.map_or("-".to_string(), |r| format!("{:.4}", r))
}

fn describe(a: &Activity, map: &IdentityMap) -> String {
    let contact = a
        .truth_contact
        .as_deref()
        .or(a.contact_id.as_deref())
        .and_then(|c| map.contacts.get(c));
    format!(
        "{} {:?} [{}{}] truth={:?} keys=({:?}, {:?}, {:?}, {:?}, {:?}) contact company={:?} email={:?}",
        a.id,
        a.case,
        a.variant.unwrap_or(""),
        a.expected_rule
            .map_or(String::new(), |r| format!(" expects rule {r}")),
        a.truth,
        a.account_id,
        a.contact_id,
        a.email,
        a.anonymous_id,
        a.ip,
        contact.and_then(|c| c.company.as_deref()),
        contact.and_then(|c| c.email.as_deref()),
    )
}

#[test]
fn precision_and_recall_per_rule() {
    let t = Instant::now();
    let data: Dataset = dataset::generate(SEED);
    let generated = t.elapsed();
    let t = Instant::now();
    let map = build(&data.inputs);
    let built = t.elapsed();

    let mut rules = [Counts::default(); 6];
    let mut unmatched: BTreeMap<Reason, (usize, usize)> = BTreeMap::new();
    let mut variants: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut lookalikes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut false_positives = Vec::new();
    let mut wrong_contact = Vec::new();
    let mut missed_other = Vec::new();
    let mut missed_fuzzy: Vec<&Activity> = Vec::new();
    let t = Instant::now();
    for a in &data.activities {
        let res = map.resolve(a.keys());
        if res.contact_id != a.truth_contact.as_deref() {
            wrong_contact.push(format!(
                "{} -> contact {:?}",
                describe(a, &map),
                res.contact_id
            ));
        }
        match (res.account_id, res.rule) {
            (Some(got), Some(rule)) => {
                let c = &mut rules[usize::from(rule)];
                c.matched += 1;
                if Some(got) == a.truth.as_deref() {
                    c.correct += 1;
                } else if a.truth.is_none() {
                    false_positives.push(format!("{} -> {got} by rule {rule}", describe(a, &map)));
                } else {
                    wrong.push(format!("{} -> {got} by rule {rule}", describe(a, &map)));
                }
            }
            _ => {
                let reason = res.reason.expect("an unmatched activity has a reason");
                let e = unmatched.entry(reason).or_default();
                e.0 += 1;
                if a.truth.is_some() {
                    e.1 += 1;
                }
            }
        }
        let got_truth = a.truth.is_some() && res.account_id == a.truth.as_deref();
        if let Some(r) = a.expected_rule {
            let c = &mut rules[usize::from(r)];
            c.expected += 1;
            if got_truth {
                c.recalled += 1;
            } else if r == 4 {
                missed_fuzzy.push(a);
            } else {
                missed_other.push(format!(
                    "{} -> {:?} {:?}",
                    describe(a, &map),
                    res.account_id,
                    res.reason
                ));
            }
            if r == 4 {
                let v = variants.entry(a.variant.unwrap_or("?")).or_default();
                v.0 += 1;
                if got_truth {
                    v.1 += 1;
                }
            }
        }
        if a.case == "lookalike_lead" {
            let v = lookalikes.entry(a.variant.unwrap_or("?")).or_default();
            v.0 += 1;
            if res.account_id.is_none() {
                v.1 += 1;
            }
        }
    }
    let resolved = t.elapsed();

    // ----- Report
    let mut out = String::new();
    out.push_str(&format!(
        "\nlabelled data set (seed {SEED}): generated in {generated:.2?}, map built in {built:.2?}, \
         {} activities resolved in {resolved:.2?}\n",
        data.activities.len()
    ));
    for (k, n) in &data.sizes {
        out.push_str(&format!("  {k:<34} {n:>7}\n"));
    }
    out.push_str(&format!(
        "\n{:<16} {:>8} {:>8} {:>9}   {:>8} {:>8} {:>8}\n",
        "rule", "matched", "correct", "precision", "expected", "recalled", "recall"
    ));
    let mut total = Counts::default();
    for r in 1..=5 {
        let c = rules[r];
        total.matched += c.matched;
        total.correct += c.correct;
        total.expected += c.expected;
        total.recalled += c.recalled;
        out.push_str(&format!(
            "{:<16} {:>8} {:>8} {:>9}   {:>8} {:>8} {:>8}\n",
            RULES[r],
            c.matched,
            c.correct,
            show(ratio(c.correct, c.matched)),
            c.expected,
            c.recalled,
            show(ratio(c.recalled, c.expected)),
        ));
    }
    out.push_str(&format!(
        "{:<16} {:>8} {:>8} {:>9}   {:>8} {:>8} {:>8}\n",
        "all",
        total.matched,
        total.correct,
        show(ratio(total.correct, total.matched)),
        total.expected,
        total.recalled,
        show(ratio(total.recalled, total.expected)),
    ));
    let truth_none = data.activities.iter().filter(|a| a.truth.is_none()).count();
    out.push_str(&format!(
        "true account none: {truth_none} activities, {} given an account\n",
        false_positives.len()
    ));
    out.push_str("\nrule 4 recall by variation of the account name (reachable only by rule 4):\n");
    for (v, (n, hit)) in &variants {
        out.push_str(&format!(
            "  {v:<20} {hit:>5} / {n:<5} {}\n",
            show(ratio(*hit, *n))
        ));
    }
    out.push_str("\nlook-alike company names (true account none), left unmatched:\n");
    for (v, (n, kept)) in &lookalikes {
        out.push_str(&format!("  {v:<20} {kept:>5} / {n:<5}\n"));
    }
    out.push_str("\nunmatched by reason (all / with a true account):\n");
    for (r, (n, with_truth)) in &unmatched {
        out.push_str(&format!("  {:<22} {n:>7} {with_truth:>7}\n", r.as_str()));
    }
    eprintln!("{out}");
    for w in wrong.iter().chain(&false_positives).take(20) {
        eprintln!("WRONG {w}");
    }
    for w in wrong_contact.iter().take(10) {
        eprintln!("CONTACT {w}");
    }
    if std::env::var_os("SHOW_MISSES").is_some() {
        let matcher = CompanyMatcher::new(
            data.inputs
                .accounts
                .iter()
                .map(|a| (a.id.clone(), a.name.as_str())),
        );
        let names: HashMap<&str, &str> = data
            .inputs
            .accounts
            .iter()
            .map(|a| (a.id.as_str(), a.name.as_str()))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for a in &missed_fuzzy {
            let contact = a.truth_contact.as_deref().and_then(|c| map.contacts.get(c));
            let Some(company) = contact.and_then(|c| c.company.as_deref()) else {
                continue;
            };
            if !seen.insert(company) {
                continue;
            }
            let truth = a.truth.as_deref().unwrap_or("");
            eprintln!(
                "MISSED4 [{}] {company:?} (true: {:?}) -> {:?}",
                a.variant.unwrap_or(""),
                names.get(truth),
                matcher.match_company(company)
            );
        }
    }
    for w in missed_other.iter().take(10) {
        eprintln!("MISSED {w}");
    }

    // ----- The bars
    assert!(
        data.inputs.accounts.len() >= 1900,
        "{}",
        data.inputs.accounts.len()
    );
    for (r, c) in rules.iter().enumerate().skip(1) {
        assert!(c.matched > 0, "rule {r} matched nothing");
        let p = c.correct as f64 / c.matched as f64;
        assert!(p >= 0.99, "rule {r}: precision {p:.4} < 0.99");
    }
    let p = total.correct as f64 / total.matched as f64;
    assert!(p >= 0.99, "overall precision {p:.4} < 0.99");
    assert!(
        false_positives.is_empty(),
        "{} activities without a true account got one: {:#?}",
        false_positives.len(),
        &false_positives[..false_positives.len().min(10)]
    );
    // Rules 1, 2, 3 and 5 are exact lookups: everything they can reach, they reach.
    assert!(
        missed_other.is_empty(),
        "{:#?}",
        &missed_other[..missed_other.len().min(10)]
    );
    // The contact is exact too (by id, email or stitching; a shared address names none).
    assert!(
        wrong_contact.is_empty(),
        "{} wrong contacts: {:#?}",
        wrong_contact.len(),
        &wrong_contact[..wrong_contact.len().min(10)]
    );
    // The fuzzy rule must stay useful, not only precise.
    let fuzzy = rules[4];
    let recall = fuzzy.recalled as f64 / fuzzy.expected as f64;
    assert!(fuzzy.expected >= 1000, "{fuzzy:?}");
    assert!(recall >= 0.85, "rule 4 recall {recall:.4}");

    // Stitching conflicts: the later identification (by event time) wins.
    assert!(data.conflicts.len() >= 20);
    for c in &data.conflicts {
        let v = &map.visitors[c.anonymous_id.as_str()];
        assert_eq!(&*v.contact_id, c.later, "{c:?}");
        assert!(map.contacts.contains_key(c.earlier.as_str()), "{c:?}");
        assert_eq!(v.contacts_seen, 2, "{c:?}");
        let res = map.resolve(abmeter_resolve::identity::ActivityKeys {
            anonymous_id: Some(&c.anonymous_id),
            ..Default::default()
        });
        assert_eq!(res.contact_id, Some(c.later.as_str()));
        assert_eq!(res.rule, Some(2));
    }
}

/// The stored form of the map (`to_record_batch`, read back by `from_record_batches`, in
/// several batches) resolves every activity of the data set as the built map does, also for
/// emails and IPs first seen after the build; writing it again gives the same table.
#[test]
fn identity_map_round_trip_on_the_labelled_set() {
    let data = dataset::generate(SEED);
    let map = build(&data.inputs);
    let batch = map.to_record_batch();
    let n = batch.num_rows();
    let parts = [
        batch.slice(0, n / 3),
        batch.slice(n / 3, n / 3),
        batch.slice(2 * (n / 3), n - 2 * (n / 3)),
    ];
    let back = IdentityMap::from_record_batches(&parts).expect("reads back");
    assert_eq!(back.to_record_batch(), batch);
    assert_eq!(back.networks, map.networks);
    assert_eq!(back.warnings, map.warnings);
    for a in &data.activities {
        assert_eq!(back.resolve(a.keys()), map.resolve(a.keys()), "{a:?}");
    }
    // Keys the build never saw: upper-cased emails, and IPs next to the stored ones.
    for a in data.activities.iter().step_by(7) {
        let email = a.email.as_ref().map(|e| e.to_uppercase());
        let ip = a.ip.as_ref().map(|ip| match ip.rsplit_once(['.', ':']) {
            Some((head, tail)) if ip.contains('.') => {
                let last: u8 = tail.parse().unwrap_or(0);
                format!("{head}.{}", last.wrapping_add(1))
            }
            _ => ip.clone(),
        });
        let keys = abmeter_resolve::identity::ActivityKeys {
            email: email.as_deref(),
            ip: ip.as_deref(),
            ..a.keys()
        };
        assert_eq!(back.resolve(keys), map.resolve(keys), "{a:?} {keys:?}");
    }
}

/// The view resolves batches of Arrow columns: plain text, text views, or dictionaries (the
/// form activity files are read in, each row group's values looked up once and remembered
/// for the batches that share them). Every form, sliced into batches that share one
/// dictionary, resolves every activity of the data set as `IdentityMap::resolve` does.
#[test]
fn batches_of_text_views_or_dictionaries_resolve_as_single_activities() {
    use abmeter_resolve::resolved::{KEY_COLUMNS, Resolver};
    use arrow::array::{Array, ArrayRef, StringArray};
    use arrow::datatypes::DataType;
    use std::sync::Arc;

    let data = dataset::generate(SEED);
    let map = build(&data.inputs);
    let resolver = Resolver::new(
        abmeter_resolve::lookup::Lookup::from_map(&map),
        &abmeter_model::Config::default(),
    );
    let l = &resolver.lookup;
    let acts = &data.activities;
    let text = |f: fn(&Activity) -> Option<&String>| -> ArrayRef {
        Arc::new(StringArray::from_iter(
            acts.iter().map(|a| f(a).map(String::as_str)),
        ))
    };
    let plain: Vec<ArrayRef> = vec![
        text(|a| a.account_id.as_ref()),
        text(|a| a.contact_id.as_ref()),
        text(|a| a.email.as_ref()),
        text(|a| a.anonymous_id.as_ref()),
        text(|a| a.ip.as_ref()),
    ];
    assert_eq!(plain.len(), KEY_COLUMNS);
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let small_keys = DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::Utf8));
    for form in [DataType::Utf8, DataType::Utf8View, dictionary, small_keys] {
        let columns: Vec<ArrayRef> = plain
            .iter()
            .map(|c| arrow::compute::cast(c, &form).unwrap())
            .collect();
        assert!(columns[2].null_count() > 0, "some activities have no email");
        // Twice over, so the second pass reads every dictionary from the memo.
        for pass in 0..2 {
            let mut start = 0;
            while start < acts.len() {
                let len = 97.min(acts.len() - start);
                let batch: Vec<ArrayRef> = columns.iter().map(|c| c.slice(start, len)).collect();
                let rows = resolver.resolve_keys(&batch).unwrap();
                assert_eq!(rows.len(), len);
                for (r, a) in rows.iter().zip(&acts[start..start + len]) {
                    let want = map.resolve(a.keys());
                    let got = (
                        l.contact_id(r.contact),
                        l.account_id(r.found.account),
                        r.found.rule(),
                        r.found.reason(),
                    );
                    assert_eq!(
                        got,
                        (want.contact_id, want.account_id, want.rule, want.reason),
                        "{form} pass {pass}: {a:?}"
                    );
                }
                start += len;
            }
        }
    }
}
