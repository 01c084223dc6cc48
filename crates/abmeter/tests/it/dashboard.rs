//! The dashboard and the review file as a user meets them: `abmeter demo` serving the pages,
//! every page against the read API's numbers, sign-in, languages, downloads, bad input; the
//! `abmeter report` file; and the pages in a real browser (Debian's chromium driven by
//! playwright-core, `crates/abmeter/tests/browser`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::server::{Server, agent};
use super::{abmeter, ok};

const END: &str = "2026-09-30";
const Q: &str = "period=2026-Q3&at=2026-09-30";

/// A demo workspace (its abmeter.toml has a read token) and that token.
fn demo(dir: &Path) -> (PathBuf, String) {
    let ws = dir.join("demo");
    ok(
        &ws,
        &[
            "demo",
            "--accounts",
            "120",
            "--activities",
            "40000",
            "--seed",
            "7",
            "--end",
            END,
            "--no-serve",
        ],
    );
    let config = std::fs::read_to_string(ws.join("abmeter.toml")).unwrap();
    let token = config
        .split("read_tokens = [\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the demo config has a read token")
        .to_string();
    (ws, token)
}

/// `abmeter report --period 2026-Q3 -o FILE`.
fn write_review(ws: &Path, file: &Path) {
    ok(
        ws,
        &[
            "report",
            "--period",
            "2026-Q3",
            "-o",
            file.to_str().unwrap(),
        ],
    );
}

/// GET with the session cookie of a `Set-Cookie` header: status, body.
fn with_cookie(url: &str, set_cookie: &str) -> (u16, String) {
    let mut res = agent()
        .get(url)
        .header("Cookie", set_cookie.split(';').next().unwrap())
        .call()
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// GET with the bearer token: status, body.
fn page(server: &Server, token: &str, path: &str, lang: Option<&str>) -> (u16, String) {
    let mut req = agent()
        .get(format!("{}{path}", server.url))
        .header("Authorization", &format!("Bearer {token}"));
    if let Some(l) = lang {
        req = req.header("Accept-Language", l);
    }
    let mut res = req.call().unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

fn ok_page(server: &Server, token: &str, path: &str) -> String {
    let (status, body) = page(server, token, path, None);
    assert_eq!(status, 200, "{path}: {body}");
    assert!(
        !body.contains("role=\"alert\""),
        "{path} shows an error: {}",
        alert(&body)
    );
    assert!(body.starts_with("<!DOCTYPE html>"), "{path}");
    body
}

fn alert(body: &str) -> &str {
    body.split("role=\"alert\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
}

fn api(server: &Server, token: &str, path: &str) -> Value {
    let (status, body) = page(server, token, &format!("/api/v1/{path}"), None);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// A number as the pages print it (two decimals, thousands grouped).
fn shown(v: &Value) -> String {
    abmeter_outputs_display(v)
}

/// Whether `body` shows the number `v` as a cell or card (`>1,234.50<`). Sums of floats
/// may differ in their last bits between two runs of a report (DataFusion adds partitions
/// in any order), so a value within 1e-6 of a rounding boundary may round either way.
fn shows(body: &str, v: &Value) -> bool {
    let f = v.as_f64().unwrap();
    [f, f - 1e-6, f + 1e-6].iter().any(|x| {
        let x = if v.is_i64() {
            v.clone()
        } else {
            Value::from(*x)
        };
        body.contains(&format!(">{}<", shown(&x)))
    })
}

fn abmeter_outputs_display(v: &Value) -> String {
    // The same rule as abmeter_outputs::display_cell, restated so the test checks it.
    match v.as_i64() {
        Some(i) => group(&i.to_string()),
        None => {
            let s = format!("{:.2}", v.as_f64().unwrap());
            let (int, frac) = s.split_once('.').unwrap();
            format!("{}.{frac}", group(int))
        }
    }
}

fn group(digits: &str) -> String {
    let (sign, d) = digits.strip_prefix('-').map_or(("", digits), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn every_page_shows_the_numbers_of_the_read_api() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, token) = demo(dir.path());
    let server = Server::start(&ws);

    // Overview: engaged accounts are the engagement rows with weighted minutes; pipeline and
    // revenue are the pipeline report's.
    let overview = ok_page(&server, &token, &format!("/?{Q}"));
    let eng = api(&server, &token, &format!("engagement?{Q}"));
    let rows = eng["rows"].as_array().unwrap();
    let engaged = rows
        .iter()
        .filter(|r| r["weighted_minutes"].as_f64().unwrap() > 0.0)
        .count();
    assert!(engaged > 10, "the demo engages accounts");
    assert!(
        overview.contains(&format!(
            "<span class=\"label\">Engaged accounts</span><a class=\"value\" href=\"/accounts?period=2026-Q3&amp;at=2026-09-30\">{engaged}</a>"
        )),
        "{overview}"
    );
    let pipeline = api(&server, &token, &format!("pipeline?{Q}"));
    for field in ["pipeline", "revenue"] {
        let want = &pipeline["rows"][0][field];
        assert!(shows(&overview, want), "{field} {want}");
    }
    assert!(overview.contains("<svg"), "the EKG is drawn");

    // Accounts: the list is the engagement report, with MQA badges and a sparkline per row.
    let accounts = ok_page(&server, &token, &format!("/accounts?{Q}"));
    let top = &rows[0];
    assert!(accounts.contains(&html_escape(top["account_name"].as_str().unwrap())));
    assert!(shows(&accounts, &top["weighted_minutes"]));
    let mqa = api(&server, &token, "mqa?at=2026-09-30");
    let mqas = mqa["rows"].as_array().unwrap().len();
    assert_eq!(
        accounts
            .matches("<span class=\"badge mqa\">MQA</span>")
            .count(),
        mqas.min(100)
    );
    assert_eq!(
        accounts.matches("<svg").count(),
        rows.len().min(100),
        "a sparkline per shown account"
    );
    // Sorted ascending by change, and only MQAs.
    let sorted = ok_page(
        &server,
        &token,
        &format!("/accounts?{Q}&sort=change_pct&dir=asc&mqa=1"),
    );
    assert_eq!(
        sorted.matches("<tr>").count() - 1,
        mqas.min(100),
        "header + one row per MQA"
    );
    let csv = {
        let mut res = agent()
            .get(format!("{}/accounts?{Q}&mqa=1&format=csv", server.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        res.body_mut().read_to_string().unwrap()
    };
    assert_eq!(
        csv.lines().count(),
        mqas + 1,
        "the download is the list as shown"
    );

    // Account page: its timeline rows are the timeline report's; a heatmap cell links to the
    // timeline filtered by its department and seniority.
    let id = top["account_id"].as_str().unwrap();
    let account = ok_page(&server, &token, &format!("/accounts/{id}?{Q}"));
    let timeline = api(&server, &token, &format!("timeline?account={id}&to={END}"));
    let n = timeline["rows"].as_array().unwrap().len();
    assert!(n > 0);
    assert_eq!(
        account.matches("data-field=\"timestamp\"").count(),
        n.min(400)
    );
    let heat = api(&server, &token, &format!("heatmap?account={id}&at={END}"));
    let blind = heat["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["blind_spot"] == Value::Bool(true))
        .count();
    let marked = account
        .split("<g class=\"ch-cell ")
        .skip(1)
        .filter(|cell| cell.split('"').next().unwrap().contains("ch-blind"))
        .count();
    assert_eq!(marked, blind, "every blind spot of the report is marked");
    let cell = account
        .split("<a class=\"ch-link\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("heatmap cells are links")
        .replace("&amp;", "&");
    let (dept, seniority) = {
        let q: Vec<&str> = cell.split(['?', '&', '#']).collect();
        let get = |k: &str| {
            q.iter()
                .find_map(|p| p.strip_prefix(&format!("segment={k}%3D")))
                .unwrap()
                .to_string()
        };
        (get("department"), get("seniority"))
    };
    let filtered = ok_page(&server, &token, cell.split('#').next().unwrap());
    let api_filtered = api(
        &server,
        &token,
        &format!(
            "timeline?account={id}&to={END}&segment=department%3D{dept}&segment=seniority%3D{seniority}"
        ),
    );
    let m = api_filtered["rows"].as_array().unwrap().len();
    assert_eq!(
        filtered.matches("data-field=\"timestamp\"").count(),
        m.min(400)
    );
    assert!(filtered.contains(&format!("data-segment=\"department={dept}\"")));
    // Contacts by engagement: the engagement report by contact.
    let contacts = api(
        &server,
        &token,
        &format!("engagement?{Q}&account={id}&by=contact"),
    );
    let first = contacts["rows"][0]["contact_name"].as_str().unwrap();
    assert!(account.contains(&html_escape(first)), "{first}");

    // The other pages: no section fails, and a number of each report is on its page.
    for (path, report, field) in [
        ("/mqa", "mqa?at=2026-09-30", "weighted_minutes"),
        (
            "/channels",
            "channels?period=2026-Q3&at=2026-09-30",
            "clicks",
        ),
        ("/funnel", "funnel?period=2026-Q3&at=2026-09-30", "leads"),
        (
            "/pipeline",
            "velocity?period=2026-Q3&at=2026-09-30",
            "opportunities_created",
        ),
        (
            "/attribution",
            "attribution?period=2026-Q3&at=2026-09-30&model=linear&by=channel&credit=pipeline",
            "pipeline",
        ),
        (
            "/customers",
            "nps?period=2026-Q3&at=2026-09-30",
            "responses",
        ),
        (
            "/roi",
            "roi?period=2026-Q3&at=2026-09-30&model=linear",
            "revenue",
        ),
    ] {
        let body = ok_page(&server, &token, &format!("{path}?{Q}"));
        let r = api(&server, &token, report);
        let v = &r["rows"][0][field];
        assert!(!v.is_null(), "{report} has {field}");
        assert!(shows(&body, v), "{path} shows {field} = {}", shown(v));
    }
    ok_page(&server, &token, &format!("/web?{Q}"));
    // The ROI calculator recomputes on the server: 100 accounts × 0.5 × 0.2 × 0.5 = 5 deals.
    let inputs = "accounts=100&engagement_rate=0.5&opportunity_rate=0.2&win_rate=0.5&deal_size=10000&cost=20000";
    let roi = ok_page(&server, &token, &format!("/roi?{inputs}"));
    let what_if = api(&server, &token, &format!("roi?what_if=&{inputs}"));
    assert_eq!(what_if["rows"][0]["deals_won"], 5.0);
    for (field, label) in [
        ("deals_won", "Deals won"),
        ("revenue", "Revenue"),
        ("roi", "ROI"),
    ] {
        let card = format!(
            "<span class=\"label\">{label}</span><span class=\"value\">{}</span>",
            shown(&what_if["rows"][0][field])
        );
        assert!(roi.contains(&card), "{card}");
    }

    // Downloads are the reports: the pipeline CSV is the CLI's.
    let (status, csv) = page(
        &server,
        &token,
        &format!("/download/pipeline?{Q}&format=csv"),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        csv,
        ok(
            &ws,
            &[
                "pipeline", "--period", "2026-Q3", "--at", END, "--format", "csv"
            ]
        )
    );
    let (_, part) = page(
        &server,
        &token,
        &format!("/download/pipeline?{Q}&format=csv&part=loss_reasons"),
        None,
    );
    assert!(part.starts_with("rank,loss_reason,"), "{part}");

    // Languages: Accept-Language, then ?lang= (remembered in a cookie).
    let (_, zh) = page(
        &server,
        &token,
        &format!("/?{Q}"),
        Some("zh-CN,zh;q=0.9,en;q=0.5"),
    );
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("概览") && zh.contains("活跃客户"));
    let (_, en) = page(&server, &token, &format!("/?{Q}&lang=en"), Some("zh-CN"));
    assert!(en.contains("<html lang=\"en\">") && en.contains("Engaged accounts"));

    // Bad input: named in the page, or a 4xx with a JSON error.
    let (status, body) = page(&server, &token, "/?period=2026-Q9&at=2026-09-30", None);
    assert_eq!(status, 200);
    assert!(alert(&body).contains("2026-Q9"), "{}", alert(&body));
    let (status, body) = page(&server, &token, "/accounts/no-such-account", None);
    assert_eq!(status, 404);
    assert!(alert(&body).contains("no-such-account"));
    // An id that would break naive SQL quoting is only an unknown account.
    let (status, body) = page(&server, &token, "/accounts/o%27brien%22%3B--", None);
    assert_eq!(status, 404, "{body}");
    assert!(alert(&body).contains("o'brien"), "{}", alert(&body));
    let (status, body) = page(&server, &token, "/download/pipeline?format=xml", None);
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["field"],
        "format"
    );
    let (status, _) = page(&server, &token, "/download/import?format=csv", None);
    assert_eq!(status, 404, "commands that write are not reports");

    // Sign-in: pages redirect to /login; a wrong token is refused; the right one sets a
    // cookie that opens the pages.
    let res = no_redirects()
        .get(format!("{}/accounts", server.url))
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2Faccounts");
    let res = no_redirects()
        .post(format!("{}/login", server.url))
        .send_form([("token", "wrong"), ("next", "/accounts")])
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = no_redirects()
        .post(format!("{}/login", server.url))
        .send_form([("token", token.as_str()), ("next", "//evil.example/")])
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/", "never an open redirect");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let (status, body) = with_cookie(&format!("{}/mqa?{Q}", server.url), &cookie);
    assert_eq!(status, 200);
    assert!(body.contains("MQAs and alerts"));
    // The read API still wants its bearer token, not the cookie.
    let res = agent()
        .get(format!("{}/api/v1/mqa", server.url))
        .header("Cookie", cookie.split(';').next().unwrap())
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let (_, metrics) = page(&server, &token, "/metrics", None);
    assert!(metrics.contains("route=\"dashboard\""), "{metrics}");
    assert!(
        metrics.contains("abmeter_report_cache_total{result=\"hit\"}"),
        "{metrics}"
    );

    // Kept reports never outlive their data: an import while the server runs shows at once.
    let count = |server: &Server| {
        api(
            server,
            &token,
            "sql?q=SELECT%20count(*)%20AS%20n%20FROM%20activities",
        )["rows"][0]["n"]
            .as_u64()
            .unwrap()
    };
    let before = count(&server);
    assert_eq!(count(&server), before, "asked twice, kept");
    let extra = dir.path().join("activities-late.csv");
    std::fs::write(
        &extra,
        "id,timestamp,type,account_id\nlate-1,2026-09-29T10:00:00Z,page_view,acc-00001\n",
    )
    .unwrap();
    ok(&ws, &["import", extra.to_str().unwrap()]);
    assert_eq!(count(&server), before + 1);
    server.stop();
}

#[test]
fn the_review_file_is_self_contained_and_matches_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = demo(dir.path());
    let file = dir.path().join("review.html");
    write_review(&ws, &file);
    let html = std::fs::read_to_string(&file).unwrap();
    // Nothing fetched: no scripts, stylesheets, images, fonts or frames from anywhere.
    for needle in ["<script", "<link", "src=", "url(", "@import", "<iframe"] {
        assert!(!html.contains(needle), "{needle} in the review");
    }
    assert!(html.contains("<style>") && html.matches("<svg").count() >= 4);
    let review: Value = serde_json::from_str(&ok(
        &ws,
        &["report", "--period", "2026-Q3", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(review["report"], "review");
    assert_eq!(review["params"]["previous_period"], "2026-Q2");
    let kpi = |metric: &str| {
        review["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == metric)
            .unwrap_or_else(|| panic!("no {metric}"))
            .clone()
    };
    let pipeline: Value = serde_json::from_str(&ok(
        &ws,
        &["pipeline", "--period", "2026-Q3", "--format", "json"],
    ))
    .unwrap();
    let p = &pipeline["rows"][0];
    assert_eq!(kpi("pipeline")["value"], p["pipeline"]);
    assert_eq!(kpi("pipeline")["previous"], p["previous_pipeline"]);
    assert_eq!(kpi("opportunities")["value"], p["opportunities"]);
    assert_eq!(kpi("pipeline")["group"], "impact");
    assert_eq!(kpi("mqas")["group"], "output");
    assert_eq!(kpi("meetings_held")["group"], "action");
    assert_eq!(kpi("followed_up_share")["group"], "readiness");
    let eng: Value = serde_json::from_str(&ok(
        &ws,
        &["engagement", "--period", "2026-Q3", "--format", "json"],
    ))
    .unwrap();
    let engaged = eng["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["weighted_minutes"].as_f64().unwrap() > 0.0)
        .count();
    assert_eq!(kpi("engaged_accounts")["value"], engaged);
    let mqa: Value =
        serde_json::from_str(&ok(&ws, &["mqa", "--at", END, "--format", "json"])).unwrap();
    assert_eq!(kpi("mqas")["value"], mqa["rows"].as_array().unwrap().len());
    assert!(shows(&html, &p["pipeline"]), "pipeline in the file");
    assert!(html.contains("data-metric=\"nrr\""));
    // In Chinese.
    let zh = dir.path().join("review-zh.html");
    ok(
        &ws,
        &[
            "report",
            "--period",
            "2026-Q3",
            "--lang",
            "zh-CN",
            "-o",
            zh.to_str().unwrap(),
        ],
    );
    let zh = std::fs::read_to_string(zh).unwrap();
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("业务回顾") && zh.contains("影响"));
    // Bad input names the option.
    for (args, needle) in [
        (&["report", "--period", "2026-Q9"][..], "--period"),
        (&["report", "--format", "xml"][..], "--format"),
        (&["report", "--lang", "fr"][..], "--lang"),
    ] {
        let out = abmeter(&ws, args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn demo_ends_serving_the_dashboard_at_the_printed_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_abmeter"))
        .arg("--workspace")
        .arg(dir.path().join("demo"))
        .args([
            "demo",
            "--accounts",
            "30",
            "--activities",
            "3000",
            "--bind",
            "127.0.0.1:0",
        ])
        .env_remove("ABMETER_WORKSPACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("dashboard: ").map(str::to_string))
        .expect("the demo prints the dashboard's address");
    // The printed link signs in (a cookie) and lands on the overview.
    let res = no_redirects().get(&url).call().unwrap();
    assert_eq!(res.status().as_u16(), 303, "{url}");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    let base = url.split("/?").next().unwrap();
    let (status, body) = with_cookie(&format!("{base}/"), &cookie);
    assert_eq!(status, 200);
    assert!(body.contains("Engaged accounts"));
    let _ = child.kill();
    let _ = child.wait();
}

/// Debian's chromium, headless, driven by playwright-core: every page loads without a
/// console error or a failed request; accounts → account → a heatmap cell → the filtered
/// timeline; screenshots of the account page and the review file into target/screenshots.
#[test]
fn the_pages_work_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "install Debian's chromium (apt-get install chromium; .ci/run does) for the browser test"
    );
    let dir = tempfile::tempdir().unwrap();
    let (ws, token) = demo(dir.path());
    let review = dir.path().join("review.html");
    write_review(&ws, &review);
    let server = Server::start(&ws);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/check.mjs");
    let out = Command::new("node")
        .arg(&script)
        .args([
            &server.url,
            &token,
            review.to_str().unwrap(),
            shots.to_str().unwrap(),
            END,
        ])
        .output()
        .expect("node runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser check failed:\n{text}");
    assert!(text.contains("click-through ok"), "{text}");
    for f in ["account.png", "review.png", "accounts.png"] {
        let size = std::fs::metadata(shots.join(f)).map_or(0, |m| m.len());
        assert!(size > 10_000, "{f}: {size} bytes");
    }
    server.stop();
}

/// The report options the pages added, by hand on the tiny workspace of `snapshots.rs`:
/// a1 has a Director's 10-minute download every week from 2026-07-06 to 08-24 (12.5
/// weighted: director × 1.25), then a VP's webinar, a CTO's meeting and an anonymous page
/// view in the week of 08-31.
#[test]
fn trend_by_account_timeline_filters_and_engagement_by_contact_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let ws = super::snapshots::setup(dir.path());
    let json = |args: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&ok(&ws, &all)).unwrap()
    };
    // Two weeks per account. W35 (from 08-24): 12.5, baseline over W27–W34 = 7 × 12.5 / 8
    // = 10.9375, population SD = sqrt((7 × 1.5625² + 10.9375²) / 8) = 4.1340. W36: the
    // baseline is 8 × 12.5 / 8 = 12.5 with SD 0.
    let t = json(&[
        "trend",
        "--by",
        "account",
        "--weeks",
        "2",
        "--at",
        "2026-09-06",
    ]);
    let rows = t["rows"].as_array().unwrap();
    let a1: Vec<&Value> = rows.iter().filter(|r| r["account_id"] == "a1").collect();
    assert_eq!(a1.len(), 2);
    assert_eq!(a1[0]["account_name"], "Acme Robotics");
    assert_eq!(a1[0]["week"], "2026-W35");
    super::close(&a1[0]["weighted_minutes"], 12.5, "W35");
    super::close(&a1[0]["baseline"], 10.9375, "W35 baseline");
    let sd = ((7.0 * 1.5625f64.powi(2) + 10.9375f64.powi(2)) / 8.0).sqrt();
    super::close(&a1[0]["baseline_sd"], sd, "W35 sd");
    super::close(&a1[1]["baseline"], 12.5, "W36 baseline");
    super::close(&a1[1]["baseline_sd"], 0.0, "W36 sd");
    // Each account's series is its own trend.
    let a2: Vec<&Value> = rows.iter().filter(|r| r["account_id"] == "a2").collect();
    let own = json(&[
        "trend",
        "--account",
        "a2",
        "--weeks",
        "2",
        "--at",
        "2026-09-06",
    ]);
    for (by, alone) in a2.iter().zip(own["rows"].as_array().unwrap()) {
        assert_eq!(by["weighted_minutes"], alone["weighted_minutes"]);
        assert_eq!(by["baseline"], alone["baseline"]);
    }
    assert_eq!(rows.len(), 4, "two accounts × two weeks");

    // The timeline filtered to marketing: the Director's 8 downloads and the VP's webinar.
    let tl = |segments: &[&str]| {
        let mut args = vec!["timeline", "--account", "a1", "--at", "2026-09-06"];
        for s in segments {
            args.extend(["--segment", s]);
        }
        json(&args)
    };
    let all = tl(&[]);
    assert_eq!(all["rows"].as_array().unwrap().len(), 11);
    let marketing = tl(&["department=marketing"]);
    let m = marketing["rows"].as_array().unwrap();
    assert_eq!(m.len(), 9);
    assert!(m.iter().all(|r| r["department"] == "marketing"));
    assert_eq!(marketing["params"]["segment"]["department"], "marketing");
    // Its per-day series sums the same rows: 8 days of 12.5 and the webinar day.
    let series = marketing["series"].as_array().unwrap();
    assert_eq!(series.len(), 9);
    let wm: f64 = series
        .iter()
        .map(|d| d["weighted_minutes"].as_f64().unwrap())
        .sum();
    let rows_wm: f64 = m
        .iter()
        .map(|r| r["weighted_minutes"].as_f64().unwrap())
        .sum();
    super::close(&Value::from(wm), rows_wm, "series = rows");
    let vp = tl(&["department=marketing", "seniority=vp"]);
    assert_eq!(vp["rows"].as_array().unwrap().len(), 1);
    assert_eq!(vp["rows"][0]["type"], "webinar_attended");
    let out = abmeter(
        &ws,
        &[
            "timeline",
            "--account",
            "a1",
            "--segment",
            "industry=Software",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`industry`"));

    // Engagement by contact in 2026-Q3: Raj's 8 downloads are 80 minutes, 100 weighted.
    let by = json(&[
        "engagement",
        "--account",
        "a1",
        "--by",
        "contact",
        "--period",
        "2026-Q3",
    ]);
    let rows = by["rows"].as_array().unwrap();
    let raj = rows.iter().find(|r| r["contact_id"] == "c2").unwrap();
    assert_eq!(raj["contact_name"], "Raj Rao");
    assert_eq!(raj["title"], "Director of Demand Generation");
    super::close(&raj["minutes"], 80.0, "Raj's minutes");
    super::close(&raj["weighted_minutes"], 100.0, "Raj's weighted minutes");
    assert_eq!(raj["activities"], 8);
    let li = rows.iter().find(|r| r["contact_id"] == "c3").unwrap();
    assert_eq!(li["contact_name"], "郭杰", "family name first, no space");
    let anonymous = rows.iter().find(|r| r["contact_id"].is_null()).unwrap();
    super::close(&anonymous["minutes"], 4.0, "the anonymous page view");
    assert_eq!(rows.len(), 4, "three contacts and the anonymous visitor");
}
