//! Activity files keep their identifying keys dictionary-encoded and ask Arrow readers for
//! dictionaries (the form `resolved_activities` resolves fast); SQL still sees text, and a
//! workspace whose files hold plain text (written before) resolves the same.

use std::fs::File;

use abmeter_model::Table;
use abmeter_store::Store;
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{import, query};

const ACCOUNTS: &str = "id,name,domain\na1,Acme,acme.com\na2,Beta,beta.io\n";
const CONTACTS: &str = "id,account_id,email,title\nc1,a1,ann@acme.com,VP Marketing\n";
const IP_RANGES: &str = "network,account_id\n198.51.100.0/24,a2\n";
const ACTIVITIES: &str = "id,timestamp,type,contact_id,email,anonymous_id,account_id,ip\n\
e1,2026-09-01T10:00:00Z,email_open,c1,,,,\n\
e2,2026-09-01T11:00:00Z,page_view,,,v1,,198.51.100.7\n\
e3,2026-09-02T10:00:00Z,form_submit,,ann@acme.com,v1,,\n\
e4,2026-09-02T11:00:00Z,page_view,,bob@beta.io,,,\n\
e5,2026-09-03T10:00:00Z,page_view,,,,a2,\n\
e6,2026-10-03T10:00:00Z,page_view,,joe@gmail.com,v2,,203.0.113.9\n";

const RESOLVED: &str = "SELECT id, contact_id, email, anonymous_id, account_id, ip, \
     resolved_contact_id, resolved_account_id, match_rule, unmatched_reason \
     FROM resolved_activities ORDER BY id";

fn activity_files(store: &Store) -> Vec<std::path::PathBuf> {
    let m = store.manifest().unwrap();
    m.table(Table::Activities)
        .unwrap()
        .files
        .iter()
        .map(|f| store.root().join(&f.path))
        .collect()
}

#[test]
fn activity_keys_are_read_as_dictionaries_and_plain_files_resolve_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(
        &store,
        &[
            ("accounts.csv", ACCOUNTS),
            ("contacts.csv", CONTACTS),
            ("ip_ranges.csv", IP_RANGES),
            ("activities.csv", ACTIVITIES),
        ],
    );
    let resolved = query(&store, RESOLVED);
    assert_eq!(
        resolved,
        [
            // Rule 2: the contact's own account.
            "e1|c1|||||c1|a1|2|",
            // v1 is stitched to c1 by e3's email: its earlier activities go to c1 too, and
            // the contact's rule comes before the IP's.
            "e2|||v1||198.51.100.7|c1|a1|2|",
            "e3||ann@acme.com|v1|||c1|a1|2|",
            // Rule 3: the email's domain.
            "e4||bob@beta.io|||||a2|3|",
            // Rule 1: the activity's own account id.
            "e5||||a2|||a2|1|",
            // Free-mail, an unknown visitor, an IP in no range: the first reason met.
            "e6||joe@gmail.com|v2||203.0.113.9||||free_mail",
        ]
    );
    let files = activity_files(&store);
    assert_eq!(files.len(), 2, "one file per month");
    for path in &files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
        let schema = reader.schema().clone();
        for key in ["account_id", "contact_id", "email", "anonymous_id", "ip"] {
            assert!(
                matches!(
                    schema.field_with_name(key).unwrap().data_type(),
                    DataType::Dictionary(..)
                ),
                "{key} in {path:?}"
            );
        }
        assert_eq!(
            schema.field_with_name("type").unwrap().data_type(),
            &DataType::Utf8
        );
    }
    for table in ["activities", "resolved_activities"] {
        assert_eq!(
            query(
                &store,
                &format!("SELECT DISTINCT arrow_typeof(contact_id), arrow_typeof(ip) FROM {table}")
            ),
            ["Utf8|Utf8"],
            "{table}"
        );
    }

    // The view's filter runs in the Parquet scan: a filter above it would copy each row
    // group's dictionaries apart, and resolution would look every key up again per batch.
    let plan = query(&store, "EXPLAIN SELECT count(*) FROM resolved_activities").join("\n");
    assert!(plan.contains("DataSourceExec"), "{plan}");
    assert!(!plan.contains("FilterExec"), "{plan}");

    // Files as an older version wrote them: the keys typed as text.
    for path in &files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let schema = Table::Activities.schema();
        let batches: Vec<_> = reader
            .map(|b| {
                let b = b.unwrap();
                let columns = b
                    .columns()
                    .iter()
                    .zip(schema.fields())
                    .map(|(c, f)| datafusion::arrow::compute::cast(c, f.data_type()).unwrap())
                    .collect();
                datafusion::arrow::record_batch::RecordBatch::try_new(schema.clone(), columns)
                    .unwrap()
            })
            .collect();
        let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
        for b in &batches {
            w.write(b).unwrap();
        }
        w.close().unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
        assert_eq!(
            reader
                .schema()
                .field_with_name("email")
                .unwrap()
                .data_type(),
            &DataType::Utf8
        );
    }
    assert_eq!(query(&store, RESOLVED), resolved);
    // The next import rebuilds the map from such files too, and writes its own as
    // dictionaries.
    import(
        &store,
        &[(
            "activities.csv",
            "id,timestamp,type,email\ne7,2026-09-04T10:00:00Z,page_view,ann@acme.com\n",
        )],
    );
    let mut more = resolved.clone();
    more.push("e7||ann@acme.com||||c1|a1|2|".to_string());
    assert_eq!(query(&store, RESOLVED), more);
}
