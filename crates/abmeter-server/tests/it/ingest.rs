//! Ingestion: the Segment payloads, deduplication, identify/group patches, the log's replay,
//! and every refusal with its status and JSON error.

use std::io::Write;

use abmeter_model::Table;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use super::*;

/// Rows of `from` (a table, optionally with a WHERE), through the read API.
async fn count(state: &std::sync::Arc<abmeter_server::AppState>, from: &str) -> i64 {
    let rows = sql(state, &format!("SELECT count(*) AS n FROM {from}")).await;
    rows[0]["n"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_track_call_is_visible_at_once_and_stored_by_the_flush() {
    let dir = tempfile::tempdir().unwrap();
    let state = workspace(dir.path(), "");
    let call = json!({"messageId": "m-1", "userId": "c-1", "event": "Demo Requested",
                      "timestamp": "2026-09-30T10:00:00Z",
                      "context": {"groupId": "acc-1", "ip": "203.0.113.9"}});
    let (status, body) = send(&state, post("/v1/track", call.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true, "stored": 1, "duplicates": 0}));
    // Pending, not flushed, yet queryable; and held in about what one row takes.
    assert_eq!(abmeter_server::pending_events(&state), 1);
    let (_, health) = send(
        &state,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(
        health["pending_bytes"].as_u64().unwrap() < 16 * 1024,
        "{health}"
    );
    let rows = sql(
        &state,
        "SELECT id, type, contact_id, account_id, ip FROM activities",
    )
    .await;
    assert_eq!(
        rows,
        vec![
            json!({"id": "m-1", "type": "demo_request", "contact_id": "c-1",
                    "account_id": "acc-1", "ip": "203.0.113.9"})
        ]
    );
    abmeter_server::flush_now(&state);
    assert_eq!(abmeter_server::pending_events(&state), 0);
    let manifest = state.store.manifest().unwrap();
    assert_eq!(manifest.rows(Table::Activities), 1);
    assert_eq!(manifest.wal_flushed_seq, 1);
    // Flushed and no longer pending: still exactly one row.
    assert_eq!(count(&state, "activities").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzipped_batch_merges_its_context_and_duplicates_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let state = workspace(dir.path(), "");
    let body = json!({
        "batch": [
            {"type": "page", "messageId": "p-1", "anonymousId": "v-1",
             "properties": {"url": "https://acme.com/pricing"}},
            {"type": "track", "messageId": "t-1", "anonymousId": "v-1", "event": "Button Clicked"},
            {"type": "page", "messageId": "p-1", "anonymousId": "v-1"}
        ],
        "context": {"groupId": "acc-7", "campaign": {"name": "q3-abm", "source": "linkedin"}},
        "sentAt": "2026-09-30T10:00:00Z"
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.to_string().as_bytes()).unwrap();
    let req = Request::post("/v1/batch")
        .header("authorization", basic(WRITE_KEY))
        .header("content-encoding", "gzip")
        .body(Body::from(gz.finish().unwrap()))
        .unwrap();
    let (status, body) = send(&state, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stored"], 2);
    assert_eq!(body["duplicates"], 1);
    let rows = sql(
        &state,
        "SELECT id, type, account_id, utm_campaign, url FROM activities ORDER BY id",
    )
    .await;
    assert_eq!(rows[0]["id"], "p-1");
    assert_eq!(rows[0]["type"], "page_view");
    assert_eq!(rows[0]["account_id"], "acc-7");
    assert_eq!(rows[0]["utm_campaign"], "q3-abm");
    assert_eq!(rows[0]["url"], "https://acme.com/pricing");
    assert_eq!(rows[1]["type"], "track");
    // An unmapped event is kept, but it is not an interaction.
    assert_eq!(count(&state, "resolved_activities").await, 1);

    // After a flush and a restart, a re-delivered id is still not stored twice.
    abmeter_server::flush_now(&state);
    drop(state);
    let state = open(dir.path());
    let again = json!({"type": "page", "messageId": "p-1", "anonymousId": "v-1"});
    let (status, _) = send(&state, post("/v1/page", again.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    abmeter_server::flush_now(&state);
    assert_eq!(count(&state, "activities WHERE id = 'p-1'").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn identify_and_group_patch_stored_contacts_and_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let state = workspace(dir.path(), "");
    // A contact and an account the CRM import put there first.
    {
        let mut import = state.store.begin_import().unwrap();
        let contacts = std::fs::write(
            dir.path().join("contacts.csv"),
            "id,email,title,department,lead_source\nc-1,ann@acme.com,Director,marketing,webinar\n",
        );
        contacts.unwrap();
        let accounts = std::fs::write(
            dir.path().join("accounts.csv"),
            "id,name,domain,tier\nacc-1,Acme,acme.com,1\n",
        );
        accounts.unwrap();
        let opts = abmeter_sources::ReadOptions::new(Vec::<String>::new());
        for (file, table) in [
            ("contacts.csv", Table::Contacts),
            ("accounts.csv", Table::Accounts),
        ] {
            let reader =
                abmeter_sources::TableReader::open(&dir.path().join(file), table, opts.clone())
                    .unwrap();
            for b in reader {
                import.append(table, b.unwrap()).unwrap();
            }
        }
        import.commit(&state.config).unwrap();
    }
    let body = json!({"batch": [
        {"type": "identify", "messageId": "i-1", "userId": "c-1", "anonymousId": "v-1",
         "traits": {"title": "VP Marketing", "firstName": "Ann"}},
        {"type": "identify", "messageId": "i-2", "userId": "c-2",
         "traits": {"email": "bo@globex.com", "company": {"name": "Globex", "id": "acc-2"}}},
        {"type": "group", "messageId": "g-1", "userId": "c-2", "groupId": "acc-2",
         "traits": {"name": "Globex Corp", "website": "https://www.globex.com", "employees": 1200,
                    "industry": "Manufacturing", "plan": "enterprise"}},
        {"type": "group", "messageId": "g-2", "userId": "c-1", "groupId": "acc-1",
         "traits": {"industry": "Software"}}
    ]});
    let (status, body) = send(&state, post("/v1/batch", body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    abmeter_server::flush_now(&state);
    let contacts = sql(
        &state,
        "SELECT id, email, title, first_name, department, lead_source, account_id, company \
         FROM contacts ORDER BY id",
    )
    .await;
    assert_eq!(
        contacts,
        vec![
            // Stored fields the calls did not carry are kept.
            json!({"id": "c-1", "email": "ann@acme.com", "title": "VP Marketing",
                   "first_name": "Ann", "department": "marketing", "lead_source": "webinar",
                   "account_id": "acc-1"}),
            json!({"id": "c-2", "email": "bo@globex.com", "account_id": "acc-2",
                   "company": "Globex"}),
        ]
    );
    let accounts = sql(
        &state,
        "SELECT id, name, domain, industry, employees, tier FROM accounts ORDER BY id",
    )
    .await;
    assert_eq!(
        accounts,
        vec![
            json!({"id": "acc-1", "name": "Acme", "domain": "acme.com", "industry": "Software",
                   "tier": "1"}),
            json!({"id": "acc-2", "name": "Globex Corp", "domain": "globex.com",
                   "industry": "Manufacturing", "employees": 1200}),
        ]
    );
    // The identify calls are in activities (stitching reads them), not in the metrics' view.
    assert_eq!(count(&state, "activities").await, 4);
    assert_eq!(count(&state, "resolved_activities").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_before_the_flush_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = workspace(dir.path(), "");
    for i in 0..5 {
        let call = json!({"messageId": format!("m-{i}"), "anonymousId": "v", "type": "page"});
        let (status, _) = send(&state, post("/v1/p", call.to_string())).await;
        assert_eq!(status, StatusCode::OK);
    }
    // Dropped without a flush: what a kill -9 leaves is the log.
    drop(state);
    let state = open(dir.path());
    assert_eq!(abmeter_server::pending_events(&state), 5);
    assert_eq!(count(&state, "activities").await, 5);
    abmeter_server::flush_now(&state);
    drop(state);
    // Flushed: a restart replays nothing.
    let state = open(dir.path());
    assert_eq!(abmeter_server::pending_events(&state), 0);
    assert_eq!(count(&state, "activities").await, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_have_their_status_and_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let state = workspace(dir.path(), "");
    let err = |body: &Value| {
        (
            body["error"]["code"].clone(),
            body["error"]["field"].clone(),
        )
    };

    let (s, b) = send(&state, post("/v1/track", "{\"userId\": ")).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    let (s, b) = send(&state, post("/v1/track", json!({"event": "x"}).to_string())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(err(&b), (json!("missing_field"), json!("userId")));
    let batch =
        json!({"batch": [{"type": "page", "userId": "u"}, {"type": "track", "userId": "u"}]});
    let (s, b) = send(&state, post("/v1/batch", batch.to_string())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(err(&b), (json!("missing_field"), json!("batch[1].event")));
    // All or nothing: the valid first call was not stored.
    assert_eq!(abmeter_server::pending_events(&state), 0);
    let bad_email = json!({"type": "identify", "userId": "u", "traits": {"email": "not-an-email"}});
    let (s, b) = send(&state, post("/v1/identify", bad_email.to_string())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not-an-email"),
        "{b}"
    );

    // Sizes: one call over 32 KB, a batch over 500 KB, too many calls.
    let big = json!({"userId": "u", "properties": {"x": "a".repeat(40_000)}});
    let (s, _) = send(&state, post("/v1/page", big.to_string())).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let item = json!({"type": "page", "userId": "u", "properties": {"x": "a".repeat(40_000)}});
    let (s, b) = send(
        &state,
        post("/v1/batch", json!({"batch": [item]}).to_string()),
    )
    .await;
    assert_eq!(
        (s, err(&b).1),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("batch[0]"))
    );
    let items: Vec<Value> = (0..30)
        .map(|_| json!({"type": "page", "userId": "u", "properties": {"x": "a".repeat(20_000)}}))
        .collect();
    let (s, _) = send(
        &state,
        post("/v1/batch", json!({"batch": items}).to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let items: Vec<Value> = (0..2501)
        .map(|_| json!({"type": "page", "userId": "u"}))
        .collect();
    let (s, _) = send(
        &state,
        post("/v1/batch", json!({"batch": items}).to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    // Keys and tokens.
    let page = json!({"userId": "u"}).to_string();
    let no_key = Request::post("/v1/page")
        .body(Body::from(page.clone()))
        .unwrap();
    assert_eq!(send(&state, no_key).await.0, StatusCode::UNAUTHORIZED);
    let wrong = Request::post("/v1/page")
        .header("authorization", basic("nope"))
        .body(Body::from(page.clone()))
        .unwrap();
    assert_eq!(send(&state, wrong).await.0, StatusCode::UNAUTHORIZED);
    let read_token_writing = Request::post("/v1/page")
        .header("authorization", format!("Bearer {READ_TOKEN}"))
        .body(Body::from(page.clone()))
        .unwrap();
    assert_eq!(
        send(&state, read_token_writing).await.0,
        StatusCode::UNAUTHORIZED
    );
    let key_in_body = json!({"userId": "u", "writeKey": WRITE_KEY}).to_string();
    let body_key = Request::post("/v1/page")
        .body(Body::from(key_in_body))
        .unwrap();
    assert_eq!(send(&state, body_key).await.0, StatusCode::OK);
    let write_key_reading = Request::get("/api/v1/sql?q=SELECT%201")
        .header("authorization", basic(WRITE_KEY))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&state, write_key_reading).await.0,
        StatusCode::UNAUTHORIZED
    );
    let no_token = Request::get("/api/v1/sql?q=SELECT%201")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&state, no_token).await.0, StatusCode::UNAUTHORIZED);

    // Paths.
    let (s, b) = send(&state, post("/v1/nope", page.clone())).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, _) = send(&state, Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = send(
        &state,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, b) = send(
        &state,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let text = b.as_str().unwrap();
    assert!(text.contains("abmeter_events_received_total 1"), "{text}");
    assert!(
        text.contains("abmeter_requests_rejected_total{status=\"413\"} 4"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn overload_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let state = workspace(dir.path(), "max_pending_events = 2\n");
    for i in 0..2 {
        let call = json!({"messageId": format!("m-{i}"), "userId": "u"});
        assert_eq!(
            send(&state, post("/v1/page", call.to_string())).await.0,
            StatusCode::OK
        );
    }
    let res = abmeter_server::app(state.clone())
        .oneshot(post("/v1/page", json!({"userId": "u"}).to_string()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().get("retry-after").is_some());
    abmeter_server::flush_now(&state);
    let call = json!({"messageId": "m-3", "userId": "u"});
    assert_eq!(
        send(&state, post("/v1/page", call.to_string())).await.0,
        StatusCode::OK
    );
}
