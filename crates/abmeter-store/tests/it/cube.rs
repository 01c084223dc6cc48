//! The engagement cube is a cache: fresh after a refresh, stale after an import or a change
//! to the scoring config, identical to its live definition, never in the way of a query.

use std::fs::File;

use abmeter_store::Store;
use abmeter_store::cube::Refresh;

use super::{import, query};

const ACCOUNTS: &str = "id,name,tier\na1,Acme,Tier 1\na2,Beta,\n";
const CONTACTS: &str =
    "id,account_id,email,title\nc1,a1,ann@acme.com,VP Marketing\nc2,a2,bob@beta.io,Engineer\n";
const ACTIVITIES: &str = "id,timestamp,type,contact_id,account_id,duration_minutes\n\
e1,2026-08-30T10:00:00Z,webinar_attended,c1,,200\n\
e2,2026-08-31T10:00:00Z,email_open,c1,,\n\
e3,2026-09-01T09:00:00Z,content_download,c2,,\n\
e4,2026-09-01T09:30:00Z,page_view,,a2,5\n\
e5,2026-09-02T12:00:00Z,email_send,c2,,\n";

fn refresh(store: &Store) -> Refresh {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(store.refresh_cube())
        .unwrap()
}

const CUBE_ROWS: &str = "SELECT account_id, CAST(day AS VARCHAR), coalesce(contact_id, '-'), type, department, \
     seniority, minutes, weighted_minutes, activities FROM engagement_cube ORDER BY 1, 2, 3, 4";

#[test]
fn the_stored_cube_equals_its_live_definition_and_refreshes_when_stale() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(
        &store,
        &[
            ("accounts.csv", ACCOUNTS),
            ("contacts.csv", CONTACTS),
            ("activities.csv", ACTIVITIES),
        ],
    );
    // Before any refresh the relation is the live view.
    let live = query(&store, CUBE_ROWS);
    assert_eq!(
        live,
        [
            // 180 capped minutes × vp 1.5; the email open 1 × 1.5.
            "a1|2026-08-30|c1|webinar_attended|marketing|vp|180.0|270.0|1",
            "a1|2026-08-31|c1|email_open|marketing|vp|1.0|1.5|1",
            // Anonymous page view: unknown 0.5; an individual engineer 0.8.
            "a2|2026-09-01|-|page_view|unknown|unknown|5.0|2.5|1",
            "a2|2026-09-01|c2|content_download|engineering|individual|10.0|8.0|1",
            "a2|2026-09-02|c2|email_send|engineering|individual|0.0|0.0|1",
        ]
    );
    match refresh(&store) {
        Refresh::Rebuilt { months, rows } => {
            assert_eq!(months, ["2026-08", "2026-09"]);
            assert_eq!(rows, 5);
        }
        other => panic!("expected a rebuild, got {other:?}"),
    }
    assert_eq!(refresh(&store), Refresh::Fresh);
    assert_eq!(query(&store, CUBE_ROWS), live);
    let files = |d: &std::path::Path| {
        std::fs::read_dir(d.join("cube"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "parquet")
            })
            .count()
    };
    assert_eq!(files(dir.path()), 2);

    // A scoring change makes it stale: tier 1 now weighs double.
    std::fs::write(
        dir.path().join("abmeter.toml"),
        "[tier_weights]\n\"Tier 1\" = 2.0\n",
    )
    .unwrap();
    assert!(matches!(refresh(&store), Refresh::Rebuilt { .. }));
    assert_eq!(
        query(
            &store,
            "SELECT sum(weighted_minutes) FROM engagement_cube WHERE account_id = 'a1'"
        ),
        ["543.0"]
    );

    // An import makes it stale; the old month files are replaced, not kept.
    import(
        &store,
        &[(
            "activities.csv",
            "id,timestamp,type,contact_id\ne6,2026-10-05T08:00:00Z,demo_request,c2\n",
        )],
    );
    assert!(matches!(refresh(&store), Refresh::Rebuilt { ref months, .. } if months.len() == 3));
    assert_eq!(files(dir.path()), 3);
    assert_eq!(
        query(
            &store,
            "SELECT count(*), sum(activities) FROM engagement_cube"
        ),
        ["6|6"]
    );
}

#[test]
fn a_busy_or_broken_cube_never_stops_a_query() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(
        &store,
        &[
            ("accounts.csv", ACCOUNTS),
            ("contacts.csv", CONTACTS),
            ("activities.csv", ACTIVITIES),
        ],
    );
    // Another process holds the refresh lock: no waiting, and queries answer live.
    std::fs::create_dir_all(dir.path().join("cube")).unwrap();
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("cube/.lock"))
        .unwrap();
    lock.lock().unwrap();
    assert_eq!(refresh(&store), Refresh::Busy);
    assert_eq!(query(&store, "SELECT count(*) FROM engagement_cube"), ["5"]);
    drop(lock);
    assert!(matches!(refresh(&store), Refresh::Rebuilt { .. }));
    // A damaged index is a stale cache: rebuilt, not an error.
    std::fs::write(dir.path().join("cube/index.json"), "{ not json").unwrap();
    assert!(matches!(refresh(&store), Refresh::Rebuilt { .. }));
    assert_eq!(query(&store, "SELECT count(*) FROM engagement_cube"), ["5"]);
}

#[test]
fn attribution_touches_are_the_resolved_touch_type_activities() {
    use abmeter_store::cube::Derived;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    import(
        &store,
        &[
            ("accounts.csv", ACCOUNTS),
            ("contacts.csv", CONTACTS),
            ("activities.csv", ACTIVITIES),
        ],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rows = "SELECT account_id, id, type, channel FROM attribution_touches ORDER BY id";
    // email_send is worth 0 minutes: not a touch by default.
    let want = [
        "a1|e1|webinar_attended|(none)",
        "a1|e2|email_open|(none)",
        "a2|e3|content_download|(none)",
        "a2|e4|page_view|(none)",
    ];
    assert_eq!(query(&store, rows), want, "live");
    assert!(matches!(
        rt.block_on(store.refresh(Derived::Touches)).unwrap(),
        Refresh::Rebuilt { rows: 4, .. }
    ));
    assert_eq!(query(&store, rows), want, "stored");
    assert_eq!(
        rt.block_on(store.refresh(Derived::Touches)).unwrap(),
        Refresh::Fresh
    );
    // Naming the touch types rebuilds them.
    std::fs::write(
        dir.path().join("abmeter.toml"),
        "[attribution]\ntouch_types = [\"email_send\", \"page_view\"]\n",
    )
    .unwrap();
    assert!(matches!(
        rt.block_on(store.refresh(Derived::Touches)).unwrap(),
        Refresh::Rebuilt { rows: 2, .. }
    ));
    assert_eq!(
        query(&store, rows),
        ["a2|e4|page_view|(none)", "a2|e5|email_send|(none)"]
    );
}
