//! Hostile and malformed payloads: the server never panics and never answers 5xx to bad
//! input; anything it refuses is a 4xx with a JSON error.

use axum::http::StatusCode;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

/// JSON values of any shape, with the Segment field names turning up often.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type".to_string()),
        Just("userId".to_string()),
        Just("anonymousId".to_string()),
        Just("messageId".to_string()),
        Just("event".to_string()),
        Just("timestamp".to_string()),
        Just("sentAt".to_string()),
        Just("context".to_string()),
        Just("properties".to_string()),
        Just("traits".to_string()),
        Just("groupId".to_string()),
        Just("previousId".to_string()),
        Just("batch".to_string()),
        Just("ip".to_string()),
        Just("email".to_string()),
        "[a-z]{1,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("track".to_string()),
            Just("page".to_string()),
            Just("identify".to_string()),
            Just("group".to_string()),
            Just("alias".to_string()),
            Just("2026-09-30T10:00:00Z".to_string()),
            Just("9999-99-99T99:99:99Z".to_string()),
            Just("+262143-12-31T23:59:59Z".to_string()),
            Just("a@b.c".to_string()),
            Just("::ffff:1.2.3.4".to_string()),
            Just("Email Opened".to_string()),
            ".{0,12}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn path() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("/v1/track"),
        Just("/v1/page"),
        Just("/v1/identify"),
        Just("/v1/group"),
        Just("/v1/alias"),
        Just("/v1/batch"),
        Just("/v1/t"),
    ]
}

fn check(state: &std::sync::Arc<abmeter_server::AppState>, path: &str, body: Vec<u8>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, answer) = rt.block_on(send(state, post(path, body)));
    assert!(
        status == StatusCode::OK || status.is_client_error(),
        "{path}: {status} {answer}"
    );
    if status != StatusCode::OK {
        assert!(answer["error"]["code"].is_string(), "{answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_json_body_gets_200_or_a_4xx(path in path(), body in any_json()) {
        let dir = tempfile::tempdir().unwrap();
        let state = workspace(dir.path(), "");
        check(&state, path, body.to_string().into_bytes());
        // The same value as a batch item.
        check(&state, "/v1/batch", json!({"batch": [body]}).to_string().into_bytes());
    }

    #[test]
    fn any_bytes_get_a_4xx(path in path(), body in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        let state = workspace(dir.path(), "");
        check(&state, path, body);
    }
}
