//! Every validation rule of SPEC §1 with a failing row and its message.

use std::path::PathBuf;

use abmeter_model::Table;
use abmeter_sources::{ReadOptions, RejectedRow, SourceError, TableReader};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow::record_batch::RecordBatch;

fn options() -> ReadOptions {
    let mut types: Vec<String> = abmeter_model::config::builtin_activities()
        .into_keys()
        .collect();
    types.push("partner_referral".into()); // a type declared in the config
    ReadOptions::new(types)
}

struct Read {
    batches: Vec<RecordBatch>,
    rejected: Vec<RejectedRow>,
    warnings: Vec<String>,
    rows_read: u64,
}

fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn read(name: &str, table: Table, text: &str) -> Read {
    let (_dir, path) = write(name, text);
    let mut r = TableReader::open(&path, table, options()).unwrap();
    let batches: Vec<RecordBatch> = r.by_ref().map(Result::unwrap).collect();
    let rows_read = r.rows_read();
    Read {
        batches,
        rejected: r.rejected,
        warnings: r.warnings,
        rows_read,
    }
}

fn open_err(name: &str, table: Table, text: &str) -> SourceError {
    let (_dir, path) = write(name, text);
    match TableReader::open(&path, table, options()) {
        Err(e) => e,
        Ok(_) => panic!("expected the file to be refused"),
    }
}

/// The one problem of a file with one bad row, as displayed.
fn problem(name: &str, table: Table, text: &str) -> String {
    let r = read(name, table, text);
    assert_eq!(r.rejected.len(), 1, "rejected: {:?}", r.rejected);
    r.rejected[0].problem.to_string()
}

fn rows(r: &Read) -> usize {
    r.batches.iter().map(|b| b.num_rows()).sum()
}

const ACT: &str = "id,timestamp,type,contact_id,duration_minutes,scroll_depth,properties\n";

#[test]
fn valid_activities_are_typed() {
    let r = read(
        "activities.csv",
        Table::Activities,
        &format!(
            "{ACT}a1,2026-09-30T14:05:00Z,page_view,c1,2.5,80,\"{{\"\"k\"\":1}}\"\na2,2026-09-30,Email Open,,,,\n"
        ),
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(rows(&r), 2);
    let b = &r.batches[0];
    let ts = b.column(1).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ts.value(0), 1_790_777_100_000_000);
    assert_eq!(ts.value(1), 1_790_726_400_000_000);
    assert_eq!(
        b.column(2).as_string::<i32>().value(1),
        "email_open",
        "types compare as snake case"
    );
    let dur = b
        .column(b.schema().index_of("duration_minutes").unwrap())
        .as_primitive::<Float64Type>();
    assert_eq!(dur.value(0), 2.5);
    assert!(dur.is_null(1));
    let props = b
        .column(b.schema().index_of("properties").unwrap())
        .as_string::<i32>();
    assert_eq!(props.value(0), "{\"k\":1}");
}

#[test]
fn missing_required_field() {
    assert_problem(
        "activities.csv",
        Table::Activities,
        &format!("{ACT}a1,,page_view,,,,\n"),
        "activities.csv: line 2, column 2 (timestamp): is required but empty",
    );
}

/// Problems name the file as given (here in a temp dir), so compare the end.
fn assert_problem(name: &str, table: Table, text: &str, expected_suffix: &str) {
    let p = problem(name, table, text);
    assert!(
        p.ends_with(expected_suffix),
        "got: {p}\nwant suffix: {expected_suffix}"
    );
    assert!(p.contains(name), "names the file: {p}");
}

#[test]
fn unparsable_timestamp() {
    assert_problem(
        "activities.csv",
        Table::Activities,
        &format!("{ACT}a1,2026-13-01T00:00:00Z,page_view,,,,\n"),
        "line 2, column 2 (timestamp): \"2026-13-01T00:00:00Z\" is not a timestamp (expected RFC 3339 like 2026-09-30T14:05:00Z, or a date 2026-09-30)",
    );
}

#[test]
fn unparsable_number_and_negative_duration() {
    assert_problem(
        "activities.csv",
        Table::Activities,
        &format!("{ACT}a1,2026-09-01,call,,ten,,\n"),
        "line 2, column 5 (duration_minutes): \"ten\" is not a number (expected digits with an optional . like 1234.5)",
    );
    assert_problem(
        "activities.csv",
        Table::Activities,
        &format!("{ACT}a1,2026-09-01,call,,-3,,\n"),
        "column 5 (duration_minutes): \"-3\" must not be negative",
    );
}

#[test]
fn scroll_depth_range() {
    assert_problem(
        "activities.csv",
        Table::Activities,
        &format!("{ACT}a1,2026-09-01,scroll,,,150,\n"),
        "column 6 (scroll_depth): \"150\" must be between 0 and 100",
    );
}

#[test]
fn unknown_activity_type_and_config_types() {
    assert_problem(
        "activities.csv",
        Table::Activities,
        &format!("{ACT}a1,2026-09-01,telepathy,,,,\n"),
        "column 3 (type): \"telepathy\" is not a known activity type (see the [activities] catalogue in abmeter.toml, where custom types are declared)",
    );
    let r = read(
        "activities.csv",
        Table::Activities,
        &format!("{ACT}a1,2026-09-01,partner_referral,,,,\n"),
    );
    assert!(r.rejected.is_empty());
}

#[test]
fn properties_must_be_an_object() {
    assert_problem(
        "activities.csv",
        Table::Activities,
        &format!("{ACT}a1,2026-09-01,page_view,,,,[1]\n"),
        "column 7 (properties): \"[1]\" is not a JSON object (expected {\"key\": value, …})",
    );
}

#[test]
fn bools_and_enums() {
    let head = "id,name,is_target\n";
    assert_problem(
        "accounts.csv",
        Table::Accounts,
        &format!("{head}a1,Acme,maybe\n"),
        "column 3 (is_target): \"maybe\" is not a bool (expected true/false, 1/0 or yes/no)",
    );
    let r = read(
        "accounts.csv",
        Table::Accounts,
        &format!("{head}a1,Acme,YES\na2,Beta,0\na3,Gamma,\n"),
    );
    let b = &r.batches[0];
    let t = b
        .column(b.schema().index_of("is_target").unwrap())
        .as_boolean();
    assert!(t.value(0) && !t.value(1) && t.is_null(2));

    let opp = "id,account_id,amount,stage,type,created_at\n";
    assert_problem(
        "opportunities.csv",
        Table::Opportunities,
        &format!("{opp}o1,a1,100,Won,bogus,2026-01-01\n"),
        "column 5 (type): \"bogus\" is not one of new_business, upsell, cross_sell, renewal",
    );
    let r = read(
        "opportunities.csv",
        Table::Opportunities,
        &format!("{opp}o1,a1,100,Won,New Business,2026-01-01\n"),
    );
    assert_eq!(
        r.batches[0].column(5).as_string::<i32>().value(0),
        "new_business"
    );
}

#[test]
fn survey_score_ranges() {
    let head = "id,timestamp,kind,score\n";
    assert_problem(
        "surveys.csv",
        Table::Surveys,
        &format!("{head}s1,2026-09-01,nps,11\n"),
        "column 4 (score): \"11\" is out of range for this survey kind (0–10)",
    );
    assert_problem(
        "surveys.csv",
        Table::Surveys,
        &format!("{head}s1,2026-09-01,csat,0\n"),
        "column 4 (score): \"0\" is out of range for this survey kind (1–5)",
    );
    assert_problem(
        "surveys.csv",
        Table::Surveys,
        &format!("{head}s1,2026-09-01,ces,3\n"),
        "column 3 (kind): \"ces\" is not one of nps, csat",
    );
    let r = read(
        "surveys.csv",
        Table::Surveys,
        &format!("{head}s1,2026-09-01,nps,0\ns2,2026-09-01,csat,5\n"),
    );
    assert_eq!(rows(&r), 2);
    assert_eq!(
        r.batches[0].column(3).as_primitive::<Int64Type>().value(0),
        0
    );
}

#[test]
fn duplicate_id_in_an_entity_file() {
    assert_problem(
        "contacts.csv",
        Table::Contacts,
        "id,email\nc1,a@acme.com\nc2,b@acme.com\nc1,c@acme.com\n",
        "line 4, column 1 (id): \"c1\" is a duplicate id in this file (first on line 2)",
    );
}

#[test]
fn emails_ips_and_domains() {
    assert_problem(
        "contacts.csv",
        Table::Contacts,
        "id,email\nc1,jane.acme.com\n",
        "column 2 (email): \"jane.acme.com\" is not an email address (expected name@domain)",
    );
    assert_problem(
        "activities.csv",
        Table::Activities,
        "id,timestamp,type,ip\na1,2026-09-01,page_view,300.1.1.1\n",
        "column 4 (ip): \"300.1.1.1\" is not an IPv4 or IPv6 address",
    );
    let r = read(
        "accounts.csv",
        Table::Accounts,
        "id,name,domain\na1,Acme,https://www.Acme.co.uk/en; mail.acme.com.cn\n",
    );
    assert_eq!(
        r.batches[0].column(2).as_string::<i32>().value(0),
        "acme.co.uk;acme.com.cn"
    );
    assert_problem(
        "accounts.csv",
        Table::Accounts,
        "id,name,domain\na1,Acme,co.uk\n",
        "column 3 (domain): \"co.uk\" has \"co.uk\", which is not a registrable domain",
    );
}

#[test]
fn ip_ranges_rules() {
    let head = "network,account_id,domain,type\n";
    assert_problem(
        "ip_ranges.csv",
        Table::IpRanges,
        &format!("{head}203.0.113.0/24,,,business\n"),
        "line 2: needs an account_id or a domain",
    );
    assert_problem(
        "ip_ranges.csv",
        Table::IpRanges,
        &format!("{head}203.0.113.0/24,a1,,mobile\n"),
        "column 4 (type): \"mobile\" is not one of business, isp, hosting, education",
    );
    assert_problem(
        "ip_ranges.csv",
        Table::IpRanges,
        &format!("{head}203.0.113.0/33,a1,,\n"),
        "column 1 (network): \"203.0.113.0/33\" is not a network (expected CIDR like 203.0.113.0/24 or a range like 10.0.0.1-10.0.0.99)",
    );
    let r = read(
        "ip_ranges.csv",
        Table::IpRanges,
        &format!("{head}10.0.0.1-10.0.0.9,,acme.com,\n2001:db8::/32,a1,,isp\n"),
    );
    assert_eq!(rows(&r), 2);
}

#[test]
fn wrong_field_count_and_multiline_cells_keep_line_numbers() {
    let r = read(
        "campaigns.csv",
        Table::Campaigns,
        "id,name,budget\nk1,\"Spring\nlaunch\",100\nk2,Summer\nk3,Fall,abc\n",
    );
    let shown: Vec<String> = r.rejected.iter().map(|p| p.problem.to_string()).collect();
    assert!(
        shown[0].ends_with("campaigns.csv: line 4: has 2 fields, the header has 3"),
        "{shown:?}"
    );
    assert!(shown[1].ends_with("line 5, column 3 (budget): \"abc\" is not a number (expected digits with an optional . like 1234.5)"), "{shown:?}");
    assert_eq!(rows(&r), 1);
    assert_eq!(r.rows_read, 3);
    assert_eq!(r.rejected[0].raw, "k2,Summer");
}

#[test]
fn header_without_a_required_column_refuses_the_file() {
    let e = open_err(
        "activities.csv",
        Table::Activities,
        "id,type\na1,page_view\n",
    )
    .to_string();
    assert!(e.ends_with("activities.csv: line 1: the header lacks required column `timestamp` of activities (it has: id, type)"), "{e}");
    let e = open_err(
        "ip_ranges.csv",
        Table::IpRanges,
        "network,type\n10.0.0.0/8,isp\n",
    )
    .to_string();
    assert!(
        e.ends_with("ip_ranges needs an `account_id` or a `domain` column"),
        "{e}"
    );
}

#[test]
fn unknown_columns() {
    let r = read(
        "activities.csv",
        Table::Activities,
        "id,timestamp,type,gclid,properties\na1,2026-09-01,ad_click,xyz,\"{\"\"a\"\":1}\"\n",
    );
    let b = &r.batches[0];
    let props = b
        .column(b.schema().index_of("properties").unwrap())
        .as_string::<i32>();
    assert_eq!(props.value(0), "{\"a\":1,\"gclid\":\"xyz\"}");
    assert!(r.warnings.is_empty());
    let r = read(
        "accounts.csv",
        Table::Accounts,
        "id,name,favourite_colour\na1,Acme,blue\n",
    );
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0].ends_with("ignoring columns that accounts does not have: favourite_colour"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn header_bom_and_case_are_forgiven() {
    let r = read(
        "accounts.csv",
        Table::Accounts,
        "\u{feff}ID,Name\na1,Acme\n",
    );
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!(rows(&r), 1);
}

#[test]
fn json_lines() {
    let text = concat!(
        "{\"id\":\"a1\",\"timestamp\":\"2026-09-01T10:00:00+02:00\",\"type\":\"page_view\",\"duration_minutes\":3,\"properties\":{\"p\":true},\"plan\":\"pro\"}\n",
        "\n",
        "[1,2]\n",
        "{\"id\":\"a2\",\"timestamp\":\"2026-09-01\",\"type\":\"page_view\",\"url\":{\"nested\":1}}\n",
        "{\"id\":\"a3\",\"timestamp\":\"2026-09-01\"\n",
        "{\"id\":\"a4\",\"timestamp\":\"2026-09-01\",\"type\":\"page_view\",\"scroll_depth\":null}\n",
    );
    let r = read("activities-2026-09.jsonl", Table::Activities, text);
    assert_eq!(rows(&r), 2);
    let shown: Vec<String> = r.rejected.iter().map(|p| p.problem.to_string()).collect();
    assert!(
        shown[0].ends_with("line 3: is not a JSON object"),
        "{shown:?}"
    );
    assert!(shown[1].ends_with("line 4, field `url`: \"{\\\"nested\\\":1}\" is a JSON object or list where a single value belongs"), "{shown:?}");
    assert!(shown[2].contains("line 5: is not valid JSON"), "{shown:?}");
    let b = &r.batches[0];
    let props = b
        .column(b.schema().index_of("properties").unwrap())
        .as_string::<i32>();
    assert_eq!(props.value(0), "{\"p\":true,\"plan\":\"pro\"}");
    let ts = b.column(1).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ts.value(0), 1_788_249_600_000_000);
}

#[test]
fn invalid_utf8_is_a_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.csv");
    std::fs::write(&path, b"id,name\na1,Acme\na2,Bad\xff\xfeName\n").unwrap();
    let mut r = TableReader::open(&path, Table::Accounts, options()).unwrap();
    let n: usize = r.by_ref().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(n, 1);
    let p = r.rejected[0].problem.to_string();
    assert!(p.ends_with("line 3, column 2 (name): \"Bad\u{fffd}\u{fffd}Name\" is not valid UTF-8 (save the file as UTF-8)"), "{p}");
}
