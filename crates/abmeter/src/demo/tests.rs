use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use chrono::{DateTime, NaiveDate};

use super::activities::TYPES;
use super::{DemoOptions, DemoSummary, generate};

const HEADERS: &[(&str, &str)] = &[
    (
        "accounts",
        "id,name,domain,industry,region,country,employees,annual_revenue,tier,is_target,owner,created_at",
    ),
    (
        "contacts",
        "id,account_id,email,first_name,last_name,company,title,department,seniority,persona,lead_source,lead_source_detail,self_reported_source,status,created_at,mql_at",
    ),
    (
        "activities",
        "id,timestamp,type,contact_id,email,anonymous_id,account_id,ip,source,channel,campaign_id,url,referrer,utm_source,utm_medium,utm_campaign,utm_term,utm_content,duration_minutes,scroll_depth,status,properties",
    ),
    (
        "opportunities",
        "id,account_id,name,amount,stage,type,created_at,close_date,is_closed,is_won,source,lead_source,contract_months,loss_reason,competitor,product,owner,self_reported_source",
    ),
    ("opportunity_stages", "opportunity_id,stage,entered_at"),
    (
        "campaigns",
        "id,name,channel,type,start_date,end_date,budget,actual_cost",
    ),
    (
        "ad_performance",
        "date,channel,campaign_id,account_id,impressions,clicks,spend,video_views,video_completions,reach,leads,engagements",
    ),
    ("ip_ranges", "network,account_id,domain,type"),
    ("revenue", "account_id,month,mrr,product"),
    (
        "surveys",
        "id,timestamp,kind,score,account_id,contact_id,comment",
    ),
];

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()
}

fn opts(accounts: usize, activities: usize) -> DemoOptions {
    DemoOptions {
        accounts,
        activities,
        seed: 7,
        end: end(),
        contacts_per_account: None,
        ip_ranges: None,
    }
}

/// Rows of a table as maps from header to value.
fn read(dir: &Path, table: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join(format!("{table}.csv"))).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn ts(s: &str) -> i64 {
    assert!(s.ends_with('Z') && s.len() == 20, "timestamp format: {s}");
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .timestamp()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn num(s: &str) -> f64 {
    assert!(!s.contains(','), "plain number: {s}");
    s.parse::<f64>().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn boolean(s: &str) -> bool {
    match s {
        "true" => true,
        "false" => false,
        _ => panic!("bool: {s}"),
    }
}

fn unique<'a>(rows: &'a [HashMap<String, String>], field: &str) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for r in rows {
        assert!(
            seen.insert(r[field].as_str()),
            "duplicate {field} {}",
            r[field]
        );
    }
    seen
}

#[test]
fn small_run_is_complete_valid_and_deterministic() {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let s1 = generate(&opts(50, 3_000), d1.path()).unwrap();
    let s2 = generate(&opts(50, 3_000), d2.path()).unwrap();
    assert_eq!(
        s1.files.iter().map(|f| f.2).collect::<Vec<_>>(),
        s2.files.iter().map(|f| f.2).collect::<Vec<_>>()
    );

    // Every file, exact header, in the summary with its row count.
    assert_eq!(s1.files.len(), HEADERS.len());
    for (table, header) in HEADERS {
        let path = d1.path().join(format!("{table}.csv"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next().unwrap(), *header, "{table}");
        let entry = s1.files.iter().find(|f| f.0 == *table).expect(table);
        assert_eq!(entry.1, path);
        assert_eq!(
            entry.2 as usize,
            read(d1.path(), table).len(),
            "{table} row count"
        );
        assert!(entry.2 > 0, "{table} is empty");
        // Deterministic.
        let other = std::fs::read(d2.path().join(format!("{table}.csv"))).unwrap();
        assert!(
            text.as_bytes() == other.as_slice(),
            "{table} differs between runs"
        );
    }

    let acts = read(d1.path(), "activities");
    assert_eq!(acts.len(), 3_000);
    let types: HashSet<&str> = acts.iter().map(|a| a["type"].as_str()).collect();
    for t in TYPES {
        assert!(types.contains(t), "missing type {t}");
    }
    assert_eq!(types.len(), TYPES.len());
    unique(&acts, "id");
    let end_ts = end().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() + 86_400;
    let start_ts = end_ts - 730 * 86_400;
    let mut last = (i64::MIN, String::new());
    for a in &acts {
        let t = ts(&a["timestamp"]);
        assert!(t < end_ts, "activity after end: {}", a["timestamp"]);
        assert!(
            t >= start_ts,
            "activity before the window: {}",
            a["timestamp"]
        );
        let key = (t, a["id"].clone());
        assert!(key > last, "activities not sorted at {}", a["id"]);
        last = key;
    }

    // Entity ids unique; references resolve.
    let accounts = read(d1.path(), "accounts");
    let account_ids = unique(&accounts, "id");
    let contacts = read(d1.path(), "contacts");
    let contact_ids = unique(&contacts, "id");
    let campaigns = read(d1.path(), "campaigns");
    let campaign_ids = unique(&campaigns, "id");
    let opps = read(d1.path(), "opportunities");
    let opp_ids = unique(&opps, "id");
    unique(&read(d1.path(), "surveys"), "id");
    for a in &acts {
        for (field, ids) in [
            ("contact_id", &contact_ids),
            ("account_id", &account_ids),
            ("campaign_id", &campaign_ids),
        ] {
            let v = a[field].as_str();
            assert!(
                v.is_empty() || ids.contains(v),
                "activity {} names unknown {field} {v}",
                a["id"]
            );
        }
    }
    for c in &contacts {
        let v = c["account_id"].as_str();
        assert!(v.is_empty() || account_ids.contains(v));
    }

    // Opportunities and their stage history.
    let stages = read(d1.path(), "opportunity_stages");
    let mut history: BTreeMap<&str, Vec<(&str, i64)>> = BTreeMap::new();
    for s in &stages {
        assert!(
            opp_ids.contains(s["opportunity_id"].as_str()),
            "stage of unknown opportunity"
        );
        history
            .entry(s["opportunity_id"].as_str())
            .or_default()
            .push((s["stage"].as_str(), ts(&s["entered_at"])));
    }
    for o in &opps {
        let closed = boolean(&o["is_closed"]);
        let won = boolean(&o["is_won"]);
        assert!(!won || closed, "won but not closed: {}", o["id"]);
        assert_eq!(won, o["stage"] == "Closed Won", "{}", o["id"]);
        assert_eq!(closed, o["stage"].starts_with("Closed"), "{}", o["id"]);
        assert!(account_ids.contains(o["account_id"].as_str()));
        let h = &history[o["id"].as_str()];
        assert_eq!(h.last().unwrap().0, o["stage"], "last stage of {}", o["id"]);
        assert!(
            h.windows(2).all(|w| w[0].1 < w[1].1),
            "stage times not increasing for {}",
            o["id"]
        );
        assert_eq!(
            h[0].1,
            ts(&o["created_at"]),
            "first stage at creation for {}",
            o["id"]
        );
        assert!(
            h.last().unwrap().1 < end_ts,
            "stage after end for {}",
            o["id"]
        );
        let close = date(&o["close_date"]);
        if closed {
            assert!(close <= end());
            assert_eq!(
                close,
                DateTime::from_timestamp(h.last().unwrap().1, 0)
                    .unwrap()
                    .date_naive()
            );
        }
        assert!(ts(&o["created_at"]) < end_ts);
        assert!(num(&o["amount"]) > 0.0);
    }
}

#[test]
fn values_match_the_importer_rules() {
    let dir = tempfile::tempdir().unwrap();
    generate(&opts(40, 4_000), dir.path()).unwrap();
    let p = dir.path();
    let nonempty = |rows: &[HashMap<String, String>], fields: &[&str], table: &str| {
        for r in rows {
            for f in fields {
                assert!(!r[*f].is_empty(), "{table}.{f} empty");
            }
        }
    };

    let accounts = read(p, "accounts");
    nonempty(&accounts, &["id", "name"], "accounts");
    for a in &accounts {
        num(&a["employees"]);
        num(&a["annual_revenue"]);
        boolean(&a["is_target"]);
        ts(&a["created_at"]);
        assert!(
            a["domain"]
                .split(';')
                .all(|d| d.contains('.') && !d.contains(' '))
        );
    }

    let contacts = read(p, "contacts");
    nonempty(&contacts, &["id"], "contacts");
    for c in &contacts {
        assert_eq!(c["email"].matches('@').count(), 1, "email {}", c["email"]);
        ts(&c["created_at"]);
        if !c["mql_at"].is_empty() {
            assert!(ts(&c["mql_at"]) >= ts(&c["created_at"]));
        }
        let sen = c["seniority"].as_str();
        assert!(
            [
                "",
                "c_level",
                "vp",
                "director",
                "manager",
                "individual",
                "unknown"
            ]
            .contains(&sen)
        );
    }

    let acts = read(p, "activities");
    nonempty(&acts, &["id", "timestamp", "type"], "activities");
    for a in &acts {
        if !a["email"].is_empty() {
            assert_eq!(a["email"].matches('@').count(), 1, "email {}", a["email"]);
        }
        if !a["ip"].is_empty() {
            a["ip"]
                .parse::<IpAddr>()
                .unwrap_or_else(|_| panic!("ip {}", a["ip"]));
        }
        if !a["duration_minutes"].is_empty() {
            assert!(num(&a["duration_minutes"]) >= 0.0);
        }
        if !a["scroll_depth"].is_empty() {
            let d = num(&a["scroll_depth"]);
            assert!((0.0..=100.0).contains(&d));
        }
        if !a["properties"].is_empty() {
            let v: serde_json::Value = serde_json::from_str(&a["properties"]).unwrap();
            assert!(v.is_object());
        }
        let identified = ["contact_id", "email", "anonymous_id", "account_id", "ip"]
            .iter()
            .any(|f| !a[*f].is_empty());
        assert!(identified, "activity {} has no identity at all", a["id"]);
    }

    let opps = read(p, "opportunities");
    nonempty(
        &opps,
        &["id", "account_id", "amount", "stage", "created_at"],
        "opportunities",
    );
    for o in &opps {
        assert!(["new_business", "upsell", "cross_sell", "renewal"].contains(&o["type"].as_str()));
        assert!(["", "marketing", "sales", "partner", "other"].contains(&o["source"].as_str()));
        if !o["contract_months"].is_empty() {
            assert!(["12", "24", "36"].contains(&o["contract_months"].as_str()));
        }
        date(&o["close_date"]);
        if o["stage"] == "Closed Lost" {
            assert!(!o["loss_reason"].is_empty());
        }
    }

    let stages = read(p, "opportunity_stages");
    nonempty(
        &stages,
        &["opportunity_id", "stage", "entered_at"],
        "opportunity_stages",
    );

    let campaigns = read(p, "campaigns");
    nonempty(&campaigns, &["id", "name"], "campaigns");
    let channels: HashSet<&str> = campaigns.iter().map(|c| c["channel"].as_str()).collect();
    for ch in super::campaigns::CHANNELS {
        assert!(channels.contains(ch), "no campaign on {ch}");
    }
    for c in &campaigns {
        assert!(date(&c["start_date"]) <= date(&c["end_date"]));
        num(&c["budget"]);
        num(&c["actual_cost"]);
    }

    let ads = read(p, "ad_performance");
    nonempty(&ads, &["date", "channel"], "ad_performance");
    assert!(
        ads.iter().any(|r| !r["account_id"].is_empty()),
        "no account-level ad rows"
    );
    for r in &ads {
        assert!(date(&r["date"]) <= end());
        assert!(num(&r["clicks"]) <= num(&r["impressions"]));
        assert!(num(&r["reach"]) <= num(&r["impressions"]));
        if !r["video_views"].is_empty() {
            assert!(num(&r["video_completions"]) <= num(&r["video_views"]));
            assert!(num(&r["video_views"]) <= num(&r["impressions"]));
        }
        num(&r["spend"]);
    }

    let ranges = read(p, "ip_ranges");
    for r in &ranges {
        assert!(!r["network"].is_empty());
        assert!(!r["account_id"].is_empty() || !r["domain"].is_empty());
        assert!(["business", "isp", "hosting", "education"].contains(&r["type"].as_str()));
    }
    assert!(
        ranges.iter().any(|r| r["network"].contains('-')),
        "no start-end range"
    );
    assert!(
        ranges.iter().any(|r| r["network"].contains(':')),
        "no IPv6 range"
    );
    assert!(ranges.iter().any(|r| r["type"] == "isp"));
    assert!(ranges.iter().any(|r| r["type"] == "hosting"));

    let revenue = read(p, "revenue");
    for r in &revenue {
        assert_eq!(r["month"].len(), 7);
        NaiveDate::parse_from_str(&format!("{}-01", r["month"]), "%Y-%m-%d").unwrap();
        assert!(num(&r["mrr"]) > 0.0);
    }

    let surveys = read(p, "surveys");
    nonempty(&surveys, &["id", "timestamp", "kind", "score"], "surveys");
    for s in &surveys {
        let score: i64 = s["score"].parse().unwrap();
        match s["kind"].as_str() {
            "nps" => assert!((0..=10).contains(&score)),
            "csat" => assert!((1..=5).contains(&score)),
            k => panic!("survey kind {k}"),
        }
    }
}

#[test]
fn tiny_run_still_has_every_type() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&opts(200, 500), dir.path()).unwrap();
    let acts = read(dir.path(), "activities");
    assert_eq!(acts.len(), 500);
    assert_eq!(s.files.iter().find(|f| f.0 == "activities").unwrap().2, 500);
    let types: HashSet<&str> = acts.iter().map(|a| a["type"].as_str()).collect();
    assert_eq!(types.len(), TYPES.len());
    // Fewer activities than types: the first ones, still exact.
    let dir = tempfile::tempdir().unwrap();
    generate(&opts(3, 10), dir.path()).unwrap();
    assert_eq!(read(dir.path(), "activities").len(), 10);
}

/// IPv4 ranges of business accounts never overlap, so reverse-IP lookups are unambiguous.
#[test]
fn business_ranges_are_disjoint() {
    let dir = tempfile::tempdir().unwrap();
    generate(&opts(300, 100), dir.path()).unwrap();
    let mut spans: Vec<(u32, u32)> = Vec::new();
    for r in read(dir.path(), "ip_ranges") {
        if r["type"] == "isp" || r["type"] == "hosting" || r["network"].contains(':') {
            continue;
        }
        let net = r["network"].as_str();
        let (s, e) = if let Some((a, b)) = net.split_once('-') {
            (
                u32::from(a.parse::<std::net::Ipv4Addr>().unwrap()),
                u32::from(b.parse::<std::net::Ipv4Addr>().unwrap()),
            )
        } else {
            let (a, p) = net.split_once('/').unwrap();
            let base = u32::from(a.parse::<std::net::Ipv4Addr>().unwrap());
            let p: u32 = p.parse().unwrap();
            (base, base + ((1u64 << (32 - p)) - 1) as u32)
        };
        spans.push((s, e));
    }
    spans.sort();
    assert!(spans.len() > 100);
    for w in spans.windows(2) {
        assert!(w[0].1 < w[1].0, "overlapping ranges {w:?}");
    }
}

/// The realism the reports depend on: engagement rising before opportunities, target accounts
/// more engaged, leads that need domain/company matching, anonymous visitors stitched later.
#[test]
fn realism_signals_are_present() {
    let dir = tempfile::tempdir().unwrap();
    generate(&opts(150, 60_000), dir.path()).unwrap();
    let p = dir.path();
    let accounts = read(p, "accounts");
    let contacts = read(p, "contacts");
    let acts = read(p, "activities");
    let opps = read(p, "opportunities");

    let account_of: HashMap<&str, &str> = contacts
        .iter()
        .filter(|c| !c["account_id"].is_empty())
        .map(|c| (c["id"].as_str(), c["account_id"].as_str()))
        .collect();
    let mut per_account: HashMap<&str, Vec<i64>> = HashMap::new();
    for a in &acts {
        let acc = if !a["account_id"].is_empty() {
            Some(a["account_id"].as_str())
        } else {
            account_of.get(a["contact_id"].as_str()).copied()
        };
        if let Some(acc) = acc {
            per_account
                .entry(acc)
                .or_default()
                .push(ts(&a["timestamp"]));
        }
    }
    // Before new-business opportunities: the 60 days before creation vs. days 120-180 before.
    let start = ts("2024-10-01T00:00:00Z");
    let (mut near, mut far) = (0usize, 0usize);
    for o in opps.iter().filter(|o| o["type"] == "new_business") {
        let c = ts(&o["created_at"]);
        if c - 180 * 86_400 < start {
            continue;
        }
        let list = per_account
            .get(o["account_id"].as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        near += list
            .iter()
            .filter(|&&t| t >= c - 60 * 86_400 && t < c)
            .count();
        far += list
            .iter()
            .filter(|&&t| t >= c - 180 * 86_400 && t < c - 120 * 86_400)
            .count();
    }
    assert!(
        near as f64 > 1.5 * far as f64,
        "no ramp before opportunities: {near} vs {far}"
    );

    // Target accounts are more engaged on average.
    let mean = |target: &str| {
        let ids: Vec<&str> = accounts
            .iter()
            .filter(|a| a["is_target"] == target)
            .map(|a| a["id"].as_str())
            .collect();
        let total: usize = ids
            .iter()
            .map(|id| per_account.get(id).map_or(0, Vec::len))
            .sum();
        total as f64 / ids.len().max(1) as f64
    };
    assert!(
        mean("true") > 1.5 * mean("false"),
        "targets {} vs others {}",
        mean("true"),
        mean("false")
    );
    let targets =
        accounts.iter().filter(|a| a["is_target"] == "true").count() as f64 / accounts.len() as f64;
    assert!((0.1..0.32).contains(&targets), "target share {targets}");

    // Leads without an account: at a subdomain of an account domain, and free-mail ones.
    let domains: Vec<&str> = accounts
        .iter()
        .flat_map(|a| a["domain"].split(';'))
        .collect();
    let leads: Vec<&HashMap<String, String>> = contacts
        .iter()
        .filter(|c| c["account_id"].is_empty())
        .collect();
    assert!(leads.iter().any(|c| {
        let host = c["email"].split('@').nth(1).unwrap();
        domains.iter().any(|d| host.ends_with(&format!(".{d}")))
    }));
    assert!(
        leads
            .iter()
            .any(|c| c["email"].ends_with("@gmail.com") || c["email"].ends_with("@qq.com"))
    );
    assert!(leads.iter().all(|c| !c["company"].is_empty()));
    let unfilled = contacts
        .iter()
        .filter(|c| !c["title"].is_empty() && c["seniority"].is_empty())
        .count();
    assert!(unfilled as f64 > 0.2 * contacts.len() as f64);

    // Anonymous visitors, some stitched to a contact or email later.
    let anon_only: HashSet<&str> = acts
        .iter()
        .filter(|a| {
            !a["anonymous_id"].is_empty() && a["contact_id"].is_empty() && a["email"].is_empty()
        })
        .map(|a| a["anonymous_id"].as_str())
        .collect();
    let stitched = acts
        .iter()
        .filter(|a| {
            !a["anonymous_id"].is_empty() && (!a["contact_id"].is_empty() || !a["email"].is_empty())
        })
        .filter(|a| anon_only.contains(a["anonymous_id"].as_str()))
        .count();
    assert!(stitched > 10, "stitches: {stitched}");
    assert!(
        acts.iter()
            .any(|a| a["contact_id"].is_empty() && !a["email"].is_empty())
    );
    assert!(
        acts.iter()
            .any(|a| a["contact_id"].is_empty() && !a["account_id"].is_empty())
    );

    // Wins and losses, customers with revenue and surveys.
    assert!(opps.iter().any(|o| o["stage"] == "Closed Won"));
    assert!(
        opps.iter()
            .any(|o| o["stage"] == "Closed Lost" && !o["competitor"].is_empty())
    );
    assert!(
        opps.iter()
            .any(|o| o["is_closed"] == "false" && date(&o["close_date"]) > end())
    );
    assert!(
        opps.iter()
            .any(|o| o["source"].is_empty() && !o["lead_source"].is_empty())
    );
    assert!(!read(p, "revenue").is_empty());
}

/// The ground truth, `truth/activity_accounts.csv`, against the CSVs: one row per activity in
/// file order, true accounts that exist, and `resolvable` where SPEC §3 plainly finds the true
/// account (account_id, a contact with account_id by id, email or stitched anonymous id, an
/// email at the account's domain) or plainly cannot (a home address and nothing else).
fn check_truth(p: &Path, s: &DemoSummary) {
    let path = p.join("truth").join("activity_accounts.csv");
    assert_eq!(s.truth.path, path);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "activity_id,true_account_id,resolvable"
    );
    let truth = read(&p.join("truth"), "activity_accounts");
    let acts = read(p, "activities");
    assert_eq!(truth.len(), acts.len());
    assert_eq!(s.truth.rows as usize, acts.len());

    let accounts = read(p, "accounts");
    let account_ids: HashSet<&str> = accounts.iter().map(|a| a["id"].as_str()).collect();
    let mut by_domain: HashMap<&str, &str> = HashMap::new();
    for a in &accounts {
        for d in a["domain"].split(';') {
            assert!(
                by_domain.insert(d, a["id"].as_str()).is_none(),
                "shared {d}"
            );
        }
    }
    let domain_account = |email: &str| {
        let host = email.rsplit_once('@').unwrap().1;
        let mut h = host;
        loop {
            if let Some(a) = by_domain.get(h) {
                return Some(*a);
            }
            h = h.split_once('.')?.1;
        }
    };
    let contacts = read(p, "contacts");
    let member_of: HashMap<&str, &str> = contacts
        .iter()
        .filter(|c| !c["account_id"].is_empty())
        .map(|c| (c["id"].as_str(), c["account_id"].as_str()))
        .collect();
    let contact_by_email: HashMap<&str, &str> = contacts
        .iter()
        .map(|c| (c["email"].as_str(), c["id"].as_str()))
        .collect();
    // Stitching: the latest identification of each anonymous id (rows are in time order).
    let mut stitched: HashMap<&str, &str> = HashMap::new();
    for a in &acts {
        let contact = if !a["contact_id"].is_empty() {
            Some(a["contact_id"].as_str())
        } else {
            contact_by_email.get(a["email"].as_str()).copied()
        };
        if let Some(c) = contact
            && !a["anonymous_id"].is_empty()
        {
            stitched.insert(a["anonymous_id"].as_str(), c);
        }
    }

    // Reverse-IP: the smallest range containing an address (SPEC §11), with its account
    // (None for isp/hosting).
    let ranges: Vec<(u128, u128, Option<&str>)> = read(p, "ip_ranges")
        .iter()
        .map(|r| {
            let (s, e) = span(&r["network"]);
            let acc = match r["type"].as_str() {
                "isp" | "hosting" => None,
                _ if !r["account_id"].is_empty() => {
                    Some(account_ids.get(r["account_id"].as_str()).copied().unwrap())
                }
                _ => Some(by_domain[r["domain"].as_str()]),
            };
            (s, e, acc)
        })
        .collect();
    let mut ip_cache: HashMap<&str, Option<Option<&str>>> = HashMap::new();
    let mut ids = HashSet::new();
    let (mut with_account, mut resolvable) = (0u64, 0u64);
    let (mut by_stitch, mut home_only, mut by_ip) = (0usize, 0usize, 0usize);
    for (t, a) in truth.iter().zip(&acts) {
        let id = t["activity_id"].as_str();
        assert_eq!(id, a["id"], "truth rows follow activities.csv");
        assert!(ids.insert(id), "activity {id} twice in the truth");
        let want = t["true_account_id"].as_str();
        let ok = boolean(&t["resolvable"]);
        assert!(
            want.is_empty() || account_ids.contains(want),
            "{id}: unknown true account {want}"
        );
        assert!(
            !ok || !want.is_empty(),
            "{id}: resolvable without an account"
        );
        with_account += u64::from(!want.is_empty());
        resolvable += u64::from(ok);

        let contact = if !a["contact_id"].is_empty() {
            Some(a["contact_id"].as_str())
        } else {
            contact_by_email.get(a["email"].as_str()).copied()
        };
        let plain = if !a["account_id"].is_empty() {
            Some(a["account_id"].as_str())
        } else if let Some(acc) = contact.and_then(|c| member_of.get(c)) {
            Some(*acc)
        } else if !a["email"].is_empty()
            && let Some(acc) = domain_account(&a["email"])
        {
            Some(acc)
        } else if contact.is_none()
            && let Some(acc) = stitched
                .get(a["anonymous_id"].as_str())
                .and_then(|c| member_of.get(c))
        {
            by_stitch += 1;
            Some(*acc)
        } else {
            None
        };
        if let Some(acc) = plain {
            assert_eq!(want, acc, "{id}: true account");
            assert!(ok, "{id}: {acc} is plain to see, yet not resolvable");
        }
        // Only an IP (and perhaps an anonymous id never identified): rule 5 alone decides.
        if contact.is_none()
            && a["account_id"].is_empty()
            && a["email"].is_empty()
            && !stitched.contains_key(a["anonymous_id"].as_str())
        {
            let hit = *ip_cache.entry(a["ip"].as_str()).or_insert_with(|| {
                if a["ip"].is_empty() {
                    return None;
                }
                let (k, _) = span(&format!("{0}-{0}", a["ip"]));
                ranges
                    .iter()
                    .filter(|r| r.0 <= k && k <= r.1)
                    .min_by_key(|r| (r.1 - r.0, r.0))
                    .map(|r| r.2)
            });
            match hit.flatten() {
                Some(acc) => {
                    by_ip += 1;
                    assert_eq!(want, acc, "{id}: the IP names another account");
                    assert!(ok, "{id}: in {acc}'s range, yet not resolvable");
                }
                None => {
                    home_only += 1;
                    assert!(
                        !ok,
                        "{id}: an ISP, hosting or unlisted address, yet resolvable"
                    );
                }
            }
        }
    }
    assert_eq!(s.truth.with_account, with_account);
    assert_eq!(s.truth.resolvable, resolvable);
    let n = acts.len() as u64;
    assert!(resolvable > n / 2, "resolvable {resolvable} of {n}");
    assert!(
        with_account > resolvable,
        "some activities are not resolvable"
    );
    assert!(with_account < n, "some activities belong to no account");
    assert!(by_stitch > 0, "no activity resolvable by stitching only");
    assert!(home_only > 0, "no activity with only a home address");
    assert!(by_ip > 0, "no activity resolvable by its IP only");
}

#[test]
fn truth_file_matches_the_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&opts(120, 40_000), dir.path()).unwrap();
    check_truth(dir.path(), &s);
    // A subfolder: importing the folder does not read it.
    assert!(s.files.iter().all(|f| f.1.parent() == Some(dir.path())));
    assert!(!dir.path().join("activity_accounts.csv").exists());
}

/// An IPv4 or IPv6 network as a span of u128 (IPv4 below 2^32).
fn span(net: &str) -> (u128, u128) {
    let key = |s: &str| match s.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    if let Some((a, b)) = net.split_once('-') {
        return (key(a), key(b));
    }
    let (a, p) = net.split_once('/').unwrap();
    let start = key(a);
    let bits = if a.contains(':') { 128 } else { 32 };
    let host = bits - p.parse::<u32>().unwrap();
    let size = 1u128 << host;
    assert_eq!(start % size, 0, "{net} not aligned");
    (start, start + size - 1)
}

#[test]
fn scale_options_size_contacts_and_ip_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(80, 20_000);
    o.contacts_per_account = Some(40);
    o.ip_ranges = Some(4_000);
    let s = generate(&o, dir.path()).unwrap();
    let p = dir.path();
    let rows = |t: &str| s.files.iter().find(|f| f.0 == t).unwrap().2;
    let contacts = rows("contacts");
    assert!(
        (2_880..=3_520).contains(&contacts),
        "{contacts} contacts for 80 × 40"
    );
    assert_eq!(rows("ip_ranges"), 4_000);
    check_truth(p, &s);

    // Every kind and form of range.
    let ranges = read(p, "ip_ranges");
    assert_eq!(ranges.len(), 4_000);
    for kind in ["business", "education", "isp", "hosting"] {
        assert!(
            ranges.iter().filter(|r| r["type"] == kind).count() > 50,
            "few {kind} ranges"
        );
    }
    let v6 = ranges.iter().filter(|r| r["network"].contains(':')).count();
    let start_end = ranges.iter().filter(|r| r["network"].contains('-')).count();
    assert!(v6 > 100 && v6 < 2_000, "{v6} IPv6 ranges");
    assert!(start_end > 100, "{start_end} start-end ranges");

    // No conflicts: where ranges of different owners overlap, the inner one is a business
    // or education range strictly inside an isp/hosting one, so an account's addresses
    // always find the account.
    let accounts = read(p, "accounts");
    let by_domain: HashMap<&str, &str> = accounts
        .iter()
        .flat_map(|a| a["domain"].split(';').map(|d| (d, a["id"].as_str())))
        .collect();
    let mut spans: Vec<(u128, u128, String, bool)> = ranges
        .iter()
        .map(|r| {
            let (s, e) = span(&r["network"]);
            let provider = r["type"] == "isp" || r["type"] == "hosting";
            let owner = if provider {
                r["type"].clone()
            } else if !r["account_id"].is_empty() {
                r["account_id"].clone()
            } else {
                by_domain[r["domain"].as_str()].to_string()
            };
            (s, e, owner, provider)
        })
        .collect();
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut open: Vec<&(u128, u128, String, bool)> = Vec::new();
    for x in &spans {
        open.retain(|o| o.1 >= x.0);
        for o in &open {
            if o.2 == x.2 {
                continue;
            }
            assert!(
                o.3 && !x.3 && o.0 <= x.0 && x.1 <= o.1 && (o.0, o.1) != (x.0, x.1),
                "conflicting ranges {o:?} and {x:?}"
            );
        }
        open.push(x);
    }

    // Home and office addresses use the new ranges too.
    let acts = read(p, "activities");
    let in_new = |ip: &str| ip.starts_with("100.") || ip.starts_with("3fff:");
    assert!(acts.iter().any(|a| in_new(&a["ip"])));

    // Deterministic; fewer rows than the accounts' own ranges is refused.
    let d2 = tempfile::tempdir().unwrap();
    generate(&o, d2.path()).unwrap();
    for t in ["contacts", "ip_ranges", "activities"] {
        let f = format!("{t}.csv");
        assert!(std::fs::read(p.join(&f)).unwrap() == std::fs::read(d2.path().join(&f)).unwrap());
    }
    let truth = |d: &Path| std::fs::read(d.join("truth/activity_accounts.csv")).unwrap();
    assert!(truth(p) == truth(d2.path()));
    o.ip_ranges = Some(10);
    let err = generate(&o, tempfile::tempdir().unwrap().path()).unwrap_err();
    assert!(err.to_string().contains("at least"), "{err}");
}

/// Asking for exactly the default number of ranges changes nothing.
#[test]
fn default_sizes_given_explicitly_change_nothing() {
    let d1 = tempfile::tempdir().unwrap();
    let s1 = generate(&opts(60, 3_000), d1.path()).unwrap();
    let base = s1.files.iter().find(|f| f.0 == "ip_ranges").unwrap().2 as usize;
    let mut o = opts(60, 3_000);
    o.ip_ranges = Some(base);
    let d2 = tempfile::tempdir().unwrap();
    generate(&o, d2.path()).unwrap();
    for (t, _) in HEADERS {
        let f = format!("{t}.csv");
        assert!(
            std::fs::read(d1.path().join(&f)).unwrap()
                == std::fs::read(d2.path().join(&f)).unwrap(),
            "{t}"
        );
    }
}
