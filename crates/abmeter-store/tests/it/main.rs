//! The store's guarantees: upsert, dedupe, keyed replace, all-or-nothing commits, one
//! import at a time, read-only SQL.

mod cube;
mod resolved;

use std::path::Path;

use abmeter_model::Table;
use abmeter_sources::{ReadOptions, TableReader};
use abmeter_store::{Store, StoreError};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::record_batch::RecordBatch;

fn batches(dir: &Path, name: &str, text: &str) -> (Table, Vec<RecordBatch>) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let table = Table::from_file_name(name).unwrap();
    let types = abmeter_model::config::builtin_activities().into_keys();
    let mut r = TableReader::open(&path, table, ReadOptions::new(types)).unwrap();
    let out: Vec<RecordBatch> = r.by_ref().map(Result::unwrap).collect();
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    (table, out)
}

fn import(
    store: &Store,
    files: &[(&str, &str)],
) -> std::collections::BTreeMap<Table, abmeter_store::TableStats> {
    let tmp = tempfile::tempdir().unwrap();
    let mut imp = store.begin_import().unwrap();
    for (name, text) in files {
        let (table, bs) = batches(tmp.path(), name, text);
        for b in bs {
            imp.append(table, b).unwrap();
        }
    }
    imp.commit(&abmeter_model::Config::default()).unwrap()
}

fn query(store: &Store, sql: &str) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_, batches) = rt.block_on(store.sql(sql)).unwrap();
    let mut out = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            let cells: Vec<String> = b
                .columns()
                .iter()
                .map(|c| datafusion::arrow::util::display::array_value_to_string(c, i).unwrap())
                .collect();
            out.push(cells.join("|"));
        }
    }
    out
}

fn count(store: &Store, table: &str) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_, b) = rt
        .block_on(store.sql(&format!("SELECT count(*) FROM {table}")))
        .unwrap();
    b[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[test]
fn empty_workspace_has_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for t in Table::ALL {
        assert_eq!(count(&store, t.name()), 0, "{t}");
    }
}

#[test]
fn entities_upsert_by_id_latest_import_wins() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(
        &store,
        &[(
            "accounts.csv",
            "id,name,tier\na1,Acme,Tier 1\na2,Beta,Tier 2\n",
        )],
    );
    let stats = import(
        &store,
        &[(
            "accounts.csv",
            "id,name,tier\na2,Beta GmbH,Tier 1\na3,Gamma,\n",
        )],
    );
    let s = stats[&Table::Accounts];
    assert_eq!(
        (s.received, s.stored, s.replaced, s.deduplicated),
        (2, 2, 1, 0)
    );
    assert_eq!(
        query(&store, "SELECT id, name, tier FROM accounts ORDER BY id"),
        ["a1|Acme|Tier 1", "a2|Beta GmbH|Tier 1", "a3|Gamma|"]
    );
    // Two files of one import: the later file's row wins.
    let stats = import(
        &store,
        &[
            ("accounts-1.csv", "id,name\na1,Old\n"),
            ("accounts-2.csv", "id,name\na1,New\n"),
        ],
    );
    assert_eq!(stats[&Table::Accounts].deduplicated, 1);
    assert_eq!(
        query(&store, "SELECT name FROM accounts WHERE id = 'a1'"),
        ["New"]
    );
    // Replaced files are gone from disk: only the manifest's files remain.
    let files = std::fs::read_dir(dir.path().join("tables/accounts"))
        .unwrap()
        .count();
    assert_eq!(files, 1);
}

#[test]
fn activities_drop_ids_already_stored_and_partition_by_month() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let head = "id,timestamp,type\n";
    let stats = import(
        &store,
        &[(
            "activities.csv",
            &format!(
                "{head}e1,2026-08-31T23:59:59Z,page_view\ne2,2026-09-01T00:00:00Z,email_open\ne1,2026-09-02,call\n"
            ),
        )],
    );
    let s = stats[&Table::Activities];
    assert_eq!((s.received, s.stored, s.deduplicated), (3, 2, 1));
    assert_eq!(
        query(&store, "SELECT type FROM activities WHERE id = 'e1'"),
        ["page_view"],
        "first copy stays"
    );
    let stats = import(
        &store,
        &[(
            "activities.csv",
            &format!("{head}e2,2026-09-05,call\ne3,2026-09-05,call\n"),
        )],
    );
    assert_eq!(stats[&Table::Activities].deduplicated, 1);
    assert_eq!(count(&store, "activities"), 3);
    let m = store.manifest().unwrap();
    let paths: Vec<&str> = m
        .table(Table::Activities)
        .unwrap()
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("tables/activities/month=2026-08/")),
        "{paths:?}"
    );
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.starts_with("tables/activities/month=2026-09/"))
            .count(),
        2
    );
}

#[test]
fn small_activity_files_of_a_month_are_merged_by_the_eighth_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let files_in = |month: &str| -> Vec<u64> {
        let m = store.manifest().unwrap();
        let prefix = format!("tables/activities/month={month}/");
        m.table(Table::Activities)
            .unwrap()
            .files
            .iter()
            .filter(|f| f.path.starts_with(&prefix))
            .map(|f| f.rows)
            .collect()
    };
    for i in 0..7 {
        let rows = format!(
            "id,timestamp,type
s{i},2026-09-0{}T10:00:00Z,page_view
",
            i + 1
        );
        import(&store, &[("activities.csv", &rows)]);
    }
    assert_eq!(files_in("2026-09").len(), 7);
    // One of another month does not count toward September's eight.
    import(
        &store,
        &[(
            "activities.csv",
            "id,timestamp,type
o1,2026-10-01,call
",
        )],
    );
    assert_eq!(files_in("2026-09").len(), 7);
    import(
        &store,
        &[(
            "activities.csv",
            "id,timestamp,type
s7,2026-09-08,call
s8,2026-09-09,call
",
        )],
    );
    assert_eq!(
        files_in("2026-09"),
        [9],
        "eight small files merged into one"
    );
    assert_eq!(files_in("2026-10"), [1]);
    assert_eq!(count(&store, "activities"), 10);
    assert_eq!(
        query(
            &store,
            "SELECT count(DISTINCT id) FROM activities WHERE id LIKE 's%'"
        ),
        ["9"]
    );
    // The merged-away files are gone from disk.
    let on_disk = std::fs::read_dir(dir.path().join("tables/activities/month=2026-09"))
        .unwrap()
        .count();
    assert_eq!(on_disk, 1);
}

#[test]
fn keyed_facts_replace_what_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(
        &store,
        &[(
            "revenue.csv",
            "account_id,month,mrr,product\na1,2026-08,100,core\na1,2026-09,120,core\n",
        )],
    );
    let stats = import(
        &store,
        &[(
            "revenue.csv",
            "account_id,month,mrr,product\na1,2026-09,150,core\na1,2026-09,10,addon\n",
        )],
    );
    assert_eq!(stats[&Table::Revenue].replaced, 1);
    assert_eq!(
        query(
            &store,
            "SELECT month, product, mrr FROM revenue ORDER BY month, product"
        ),
        [
            "2026-08|core|100.0",
            "2026-09|addon|10.0",
            "2026-09|core|150.0"
        ]
    );
    // A key twice in one import: the later row wins for revenue (one MRR per key).
    let stats = import(
        &store,
        &[(
            "revenue.csv",
            "account_id,month,mrr,product\na2,2026-09,5,core\na2,2026-09,7,core\n",
        )],
    );
    assert_eq!(stats[&Table::Revenue].deduplicated, 1);
    assert_eq!(
        query(&store, "SELECT mrr FROM revenue WHERE account_id = 'a2'"),
        ["7.0"]
    );
    let ad = "date,channel,campaign_id,impressions\n2026-09-01,paid_social,k1,100\n2026-09-01,paid_social,k1,50\n";
    import(&store, &[("ad_performance.csv", ad)]);
    import(&store, &[("ad_performance.csv", ad)]);
    assert_eq!(
        query(&store, "SELECT sum(impressions) FROM ad_performance"),
        ["150"],
        "re-import does not double count"
    );
}

#[test]
fn an_import_dropped_before_commit_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(&store, &[("accounts.csv", "id,name\na1,Acme\n")]);
    let before = std::fs::read(dir.path().join("manifest.json")).unwrap();
    {
        let tmp = tempfile::tempdir().unwrap();
        let mut imp = store.begin_import().unwrap();
        let (t, bs) = batches(
            tmp.path(),
            "activities.csv",
            "id,timestamp,type\ne1,2026-09-01,call\n",
        );
        imp.append(t, bs.into_iter().next().unwrap()).unwrap();
        let (t, bs) = batches(tmp.path(), "accounts.csv", "id,name\na2,Beta\n");
        imp.append(t, bs.into_iter().next().unwrap()).unwrap();
        // A failure here (the importer found a bad row in a later file): drop, no commit.
    }
    assert_eq!(
        std::fs::read(dir.path().join("manifest.json")).unwrap(),
        before
    );
    assert_eq!(count(&store, "activities"), 0);
    assert_eq!(count(&store, "accounts"), 1);
    assert!(
        !dir.path()
            .join("tables/activities/month=2026-09")
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    );
}

#[test]
fn files_no_manifest_lists_are_removed_by_the_next_import() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // What a killed import leaves: a data file and a temporary manifest.
    std::fs::create_dir_all(dir.path().join("tables/accounts")).unwrap();
    std::fs::write(
        dir.path().join("tables/accounts/g00000001-0000.parquet"),
        b"torn",
    )
    .unwrap();
    std::fs::write(dir.path().join("manifest.json.tmp"), b"{").unwrap();
    assert_eq!(
        count(&store, "accounts"),
        0,
        "readable while garbage lies around"
    );
    import(&store, &[("accounts.csv", "id,name\na1,Acme\n")]);
    assert_eq!(count(&store, "accounts"), 1);
    assert!(!dir.path().join("manifest.json.tmp").exists());
}

#[test]
fn one_import_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = store.begin_import().unwrap();
    assert!(matches!(
        store.begin_import(),
        Err(StoreError::Locked { .. })
    ));
    drop(first);
    assert!(store.begin_import().is_ok());
}

#[test]
fn sql_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(&store, &[("accounts.csv", "id,name\na1,Acme\n")]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for stmt in [
        "CREATE TABLE x AS SELECT 1",
        "INSERT INTO accounts (id, name) VALUES ('a9', 'Evil')",
        "DELETE FROM accounts",
        "DROP TABLE accounts",
        "COPY accounts TO '/tmp/abmeter-copy-test.csv'",
        "SET datafusion.execution.batch_size = 1",
        "CREATE VIEW v AS SELECT 1",
        "EXPLAIN ANALYZE INSERT INTO accounts (id, name) VALUES ('a9', 'Evil')",
    ] {
        let e = rt.block_on(store.sql(stmt)).expect_err(stmt);
        assert!(matches!(e, StoreError::ReadOnly(_)), "{stmt}: {e}");
        assert!(
            e.to_string().starts_with("abmeter sql is read-only: "),
            "{stmt}: {e}"
        );
    }
    assert!(!Path::new("/tmp/abmeter-copy-test.csv").exists());
    assert_eq!(count(&store, "accounts"), 1);
}
