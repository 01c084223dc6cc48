use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use super::*;

fn types() -> HashSet<String> {
    [
        "page_view",
        "email_open",
        "webinar_attended",
        "demo_request",
    ]
    .map(String::from)
    .into_iter()
    .collect()
}

fn events() -> BTreeMap<String, String> {
    abmeter_model::config::default_track_events()
}

const RECEIVED: &str = "2026-09-30T12:00:10Z";

fn parse(v: serde_json::Value, path_type: Option<&str>) -> Result<CallRows, CallError> {
    let (ev, ty) = (events(), types());
    let cx = CallContext {
        path_type,
        received_at: cell::parse_timestamp(RECEIVED).unwrap(),
        sent_at: None,
        batch_context: None,
        request_ip: Some("198.51.100.7"),
        track_events: &ev,
        activity_types: &ty,
        prefix: "",
    };
    parse_call(&v, &cx)
}

fn cell<'a>(row: &'a Cells, k: &str) -> Option<&'a str> {
    row.get(k).map(String::as_str)
}

#[test]
fn track_maps_the_event_name_and_corrects_clock_skew() {
    // The client's clock is 5 minutes fast: sent at 12:05:10 by its clock, received at
    // 12:00:10 by ours, so the event at 12:05:00 (client) happened at 12:00:00.
    let r = parse(
        json!({"messageId": "m1", "userId": "c-1", "event": "Webinar Attended",
               "timestamp": "2026-09-30T12:05:00Z", "sentAt": "2026-09-30T12:05:10Z",
               "properties": {"duration_minutes": 45, "webinar": "ABM 101"},
               "context": {"groupId": "acc-9", "ip": "203.0.113.5",
                           "campaign": {"name": "q3", "source": "linkedin", "medium": "paid"}}}),
        Some("track"),
    )
    .unwrap();
    let a = &r.activity;
    assert_eq!(cell(a, "id"), Some("m1"));
    assert_eq!(cell(a, "type"), Some("webinar_attended"));
    assert_eq!(cell(a, "timestamp"), Some("2026-09-30T12:00:00.000000Z"));
    assert_eq!(cell(a, "contact_id"), Some("c-1"));
    assert_eq!(cell(a, "account_id"), Some("acc-9"));
    assert_eq!(cell(a, "ip"), Some("203.0.113.5"));
    assert_eq!(cell(a, "duration_minutes"), Some("45"));
    assert_eq!(cell(a, "utm_campaign"), Some("q3"));
    assert_eq!(cell(a, "utm_source"), Some("linkedin"));
    assert_eq!(cell(a, "utm_medium"), Some("paid"));
    assert_eq!(cell(a, "source"), Some("segment"));
    let props: serde_json::Value = serde_json::from_str(cell(a, "properties").unwrap()).unwrap();
    assert_eq!(props["event"], "Webinar Attended");
    assert_eq!(props["webinar"], "ABM 101");
    assert!(r.contact.is_none() && r.account.is_none());
}

#[test]
fn unknown_events_are_track_and_catalogue_names_map_themselves() {
    let ty = |event: &str| {
        parse(json!({"anonymousId": "v", "event": event}), Some("track"))
            .unwrap()
            .activity["type"]
            .clone()
    };
    assert_eq!(ty("Button Clicked"), "track");
    assert_eq!(ty("Email Open"), "email_open");
    assert_eq!(ty("demo_request"), "demo_request");
    assert_eq!(ty("Demo Requested"), "demo_request");
}

#[test]
fn page_takes_url_from_properties_or_context_and_ip_from_the_connection() {
    let r = parse(
        json!({"type": "page", "anonymousId": "v1", "timestamp": "2026-09-30T11:00:00+02:00",
               "context": {"page": {"url": "https://x.com/pricing", "referrer": "https://google.com/"}}}),
        None,
    )
    .unwrap();
    let a = &r.activity;
    assert_eq!(cell(a, "type"), Some("page_view"));
    // No sentAt: the client's timestamp as given, converted to UTC.
    assert_eq!(cell(a, "timestamp"), Some("2026-09-30T09:00:00.000000Z"));
    assert_eq!(cell(a, "url"), Some("https://x.com/pricing"));
    assert_eq!(cell(a, "referrer"), Some("https://google.com/"));
    assert_eq!(cell(a, "ip"), Some("198.51.100.7"));
    assert_eq!(cell(a, "anonymous_id"), Some("v1"));
    // No timestamp at all: when it was received.
    let r = parse(json!({"type": "screen", "userId": 42}), None).unwrap();
    assert_eq!(
        cell(&r.activity, "timestamp"),
        Some("2026-09-30T12:00:10.000000Z")
    );
    assert_eq!(cell(&r.activity, "contact_id"), Some("42"));
}

#[test]
fn identify_patches_the_contact_with_normalised_traits() {
    let r = parse(
        json!({"type": "identify", "userId": "c-7", "anonymousId": "v7", "messageId": "i1",
               "traits": {"email": "Ann@Acme.com", "firstName": "Ann", "Last Name": "Lee",
                          "title": "VP Marketing", "company": {"name": "Acme", "id": "acc-1"}}}),
        None,
    )
    .unwrap();
    assert_eq!(cell(&r.activity, "type"), Some("identify"));
    assert_eq!(cell(&r.activity, "anonymous_id"), Some("v7"));
    assert_eq!(cell(&r.activity, "email"), Some("Ann@Acme.com"));
    let c = r.contact.unwrap();
    assert_eq!(cell(&c, "id"), Some("c-7"));
    assert_eq!(cell(&c, "first_name"), Some("Ann"));
    assert_eq!(cell(&c, "last_name"), Some("Lee"));
    assert_eq!(cell(&c, "title"), Some("VP Marketing"));
    assert_eq!(cell(&c, "company"), Some("Acme"));
    assert_eq!(cell(&c, "account_id"), Some("acc-1"));
    // Only what the call carries: nothing to overwrite stored fields with.
    assert_eq!(cell(&c, "department"), None);
}

#[test]
fn identify_reads_rudderstacks_context_traits() {
    // RudderStack's SDKs put identify traits in context.traits only.
    let r = parse(
        json!({"type": "identify", "userId": "c-8",
               "context": {"traits": {"email": "kim@globex.com", "title": "CFO"}}}),
        None,
    )
    .unwrap();
    let c = r.contact.unwrap();
    assert_eq!(cell(&c, "email"), Some("kim@globex.com"));
    assert_eq!(cell(&c, "title"), Some("CFO"));
    assert!(cell(&r.activity, "properties").unwrap().contains("CFO"));
}

#[test]
fn group_patches_the_account_and_links_the_user() {
    let r = parse(
        json!({"type": "group", "userId": "c-7", "groupId": "acc-1",
               "traits": {"name": "Acme Inc", "website": "https://www.acme.com", "industry": "Software",
                          "employees": "250", "plan": "enterprise", "address": {"country": "DE"}}}),
        None,
    )
    .unwrap();
    let g = r.account.unwrap();
    assert_eq!(cell(&g, "id"), Some("acc-1"));
    assert_eq!(cell(&g, "name"), Some("Acme Inc"));
    assert_eq!(cell(&g, "domain"), Some("https://www.acme.com"));
    assert_eq!(cell(&g, "employees"), Some("250"));
    assert_eq!(cell(&g, "country"), Some("DE"));
    let c = r.contact.unwrap();
    assert_eq!(
        (cell(&c, "id"), cell(&c, "account_id")),
        (Some("c-7"), Some("acc-1"))
    );
    assert_eq!(cell(&r.activity, "account_id"), Some("acc-1"));
    assert!(
        cell(&r.activity, "properties")
            .unwrap()
            .contains("enterprise")
    );
}

#[test]
fn alias_links_the_previous_id() {
    let r = parse(
        json!({"type": "alias", "previousId": "v9", "userId": "c-9"}),
        None,
    )
    .unwrap();
    assert_eq!(cell(&r.activity, "anonymous_id"), Some("v9"));
    assert_eq!(cell(&r.activity, "contact_id"), Some("c-9"));
    assert_eq!(cell(&r.activity, "type"), Some("alias"));
}

#[test]
fn batch_context_is_merged_under_the_items() {
    let (ev, ty) = (events(), types());
    let batch_ctx = json!({"groupId": "acc-b", "ip": "192.0.2.1"});
    let cx = CallContext {
        path_type: None,
        received_at: 0,
        sent_at: Some("1970-01-01T00:00:01Z"),
        batch_context: batch_ctx.as_object(),
        request_ip: None,
        track_events: &ev,
        activity_types: &ty,
        prefix: "batch[0].",
    };
    let r = parse_call(
        &json!({"type": "page", "anonymousId": "v", "timestamp": "1970-01-01T00:00:00Z",
                "context": {"ip": "192.0.2.9"}}),
        &cx,
    )
    .unwrap();
    assert_eq!(cell(&r.activity, "ip"), Some("192.0.2.9"));
    assert_eq!(cell(&r.activity, "account_id"), Some("acc-b"));
    // The batch's sentAt corrects the item: received 0, sent +1 s after the event.
    assert_eq!(
        cell(&r.activity, "timestamp"),
        Some("1969-12-31T23:59:59.000000Z")
    );
}

#[test]
fn errors_name_the_field() {
    let e = |v: serde_json::Value, t: Option<&str>| parse(v, t).unwrap_err();
    let err = e(json!({"event": "x"}), Some("track"));
    assert_eq!((err.code, err.field.as_str()), ("missing_field", "userId"));
    assert_eq!(e(json!({"userId": "u"}), Some("track")).field, "event");
    assert_eq!(e(json!({"userId": "u"}), None).field, "type");
    assert_eq!(
        e(json!({"userId": "u", "type": "bogus"}), None).field,
        "type"
    );
    assert_eq!(e(json!({"userId": "u"}), Some("group")).field, "groupId");
    assert_eq!(e(json!({"userId": ["u"]}), Some("page")).field, "userId");
    let long = "x".repeat(100);
    assert_eq!(
        e(json!({"userId": "u", "messageId": long}), Some("page")).field,
        "messageId"
    );
    let err = e(
        json!({"userId": "u", "timestamp": "yesterday"}),
        Some("page"),
    );
    assert_eq!(err.field, "timestamp");
    assert!(err.message.contains("yesterday"), "{}", err.message);
    assert_eq!(
        e(json!({"userId": "u", "context": 5}), Some("page")).field,
        "context"
    );
    assert_eq!(
        e(json!({"userId": "u", "properties": "p"}), Some("page")).field,
        "properties"
    );
    assert_eq!(e(json!("text"), Some("page")).code, "invalid_field");
    assert_eq!(
        e(json!({"type": "alias", "userId": "u"}), None).field,
        "previousId"
    );
}

#[test]
fn rows_round_trip_through_json() {
    let r = parse(
        json!({"type": "identify", "userId": "c", "traits": {"title": "CTO"}}),
        None,
    )
    .unwrap();
    let text = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<CallRows>(&text).unwrap(), r);
}
