//! Segment / RudderStack calls (`track`, `page`, `screen`, `identify`, `group`, `alias`)
//! turned into rows of the canonical tables (SPEC §2, §9).
//!
//! Every call becomes one `activities` row whose id is the call's `messageId`, so a
//! re-delivered call is dropped like any re-delivered activity. `identify` also gives a
//! contact patch and `group` an account patch (and a contact patch linking the user): only
//! the fields the call carries, laid over what is stored when the patch is committed.
//!
//! The rows come out as text cells by canonical field name, so they are validated by the same
//! [`crate::rows::RowAssembler`] as every file import and can be written to the server's
//! write-ahead log as they are.

use std::collections::{BTreeMap, HashSet};

use chrono::{SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cell;

/// Longest `messageId` accepted (Segment: "under 100 characters").
pub const MAX_MESSAGE_ID: usize = 100;

/// Text cells of one row, by canonical field name.
pub type Cells = BTreeMap<String, String>;

/// What one call adds to the workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRows {
    /// The `activities` row.
    #[serde(rename = "a")]
    pub activity: Cells,
    /// A `contacts` patch (identify, or group with a userId).
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Cells>,
    /// An `accounts` patch (group).
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Cells>,
}

/// A call refused: the JSON field at fault (`batch[3].userId`), a machine code and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CallError {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl CallError {
    fn missing(field: String, what: &str) -> CallError {
        CallError {
            code: "missing_field",
            message: format!("is required: {what}"),
            field,
        }
    }
    fn invalid(field: String, message: impl Into<String>) -> CallError {
        CallError {
            code: "invalid_field",
            message: message.into(),
            field,
        }
    }
}

/// What a call is read with besides its own JSON.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    /// The call type the path names (`/v1/track` → `track`); `None` for a batch item, which
    /// must say its own `type`.
    pub path_type: Option<&'a str>,
    /// When the server received the request, µs since the epoch.
    pub received_at: i64,
    /// The batch's `sentAt` when the item has none.
    pub sent_at: Option<&'a str>,
    /// The batch's top-level `context`, merged under each item's own.
    pub batch_context: Option<&'a Map<String, Value>>,
    /// The connection's address: the activity's ip when the call has no `context.ip`.
    pub request_ip: Option<&'a str>,
    /// Event name → activity type (`server.track_events`).
    pub track_events: &'a BTreeMap<String, String>,
    /// The catalogue's activity types (an event named like one is that type).
    pub activity_types: &'a HashSet<String>,
    /// Prefix of field names in errors: `batch[3].` for a batch item, empty otherwise.
    pub prefix: &'a str,
}

/// Reads one call. `msg` is the call's JSON object (a batch item, or a whole request body
/// for the single-call paths).
pub fn parse_call(msg: &Value, cx: &CallContext) -> Result<CallRows, CallError> {
    let f = |name: &str| format!("{}{name}", cx.prefix);
    let obj = msg
        .as_object()
        .ok_or_else(|| CallError::invalid(f(""), "a call must be a JSON object"))?;
    let kind = match (cx.path_type, obj.get("type")) {
        (Some(t), _) => t.to_string(),
        (None, Some(Value::String(t))) => t.clone(),
        (None, Some(_)) => return Err(CallError::invalid(f("type"), "must be a string")),
        (None, None) => {
            return Err(CallError::missing(
                f("type"),
                "every batch item says its type",
            ));
        }
    };
    let kind = match kind.as_str() {
        "t" => "track",
        "p" => "page",
        "i" => "identify",
        "g" => "group",
        "s" => "screen",
        "a" => "alias",
        k => k,
    };
    let text =
        |name: &str| -> Result<Option<String>, CallError> { id_text(obj.get(name), &f(name)) };
    let message_id = match text("messageId")? {
        Some(id) if id.chars().count() >= MAX_MESSAGE_ID => {
            return Err(CallError::invalid(
                f("messageId"),
                format!(
                    "must be under {MAX_MESSAGE_ID} characters, got {}",
                    id.chars().count()
                ),
            ));
        }
        Some(id) => id,
        None => generated_id(),
    };
    let user_id = text("userId")?;
    let mut anonymous_id = text("anonymousId")?;
    if kind == "alias" {
        // alias: previousId (usually the anonymous id) becomes the user.
        let previous = text("previousId")?.ok_or_else(|| {
            CallError::missing(f("previousId"), "alias links previousId to userId")
        })?;
        if user_id.is_none() {
            return Err(CallError::missing(
                f("userId"),
                "alias links previousId to userId",
            ));
        }
        anonymous_id = Some(previous);
    }
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(CallError::missing(
            f("userId"),
            "a call needs a userId or an anonymousId",
        ));
    }
    let context = merged_context(obj.get("context"), cx.batch_context, &f("context"))?;
    let properties = object(obj.get("properties"), &f("properties"))?;
    let traits = object(obj.get("traits"), &f("traits"))?;
    let ctx_traits = object(context.get("traits"), &f("context.traits"))?;
    let page = object(context.get("page"), &f("context.page"))?;
    let campaign = object(context.get("campaign"), &f("context.campaign"))?;

    let activity_type = match kind {
        "page" | "screen" => "page_view".to_string(),
        "track" => {
            let event = text("event")?
                .ok_or_else(|| CallError::missing(f("event"), "a track call names its event"))?;
            track_type(&event, cx)
        }
        "identify" | "group" | "alias" => kind.to_string(),
        other => {
            return Err(CallError::invalid(
                f("type"),
                format!(
                    "unknown call type {other:?} (expected track, page, screen, identify, group, alias)"
                ),
            ));
        }
    };
    let group_id =
        if kind == "group" {
            Some(text("groupId")?.ok_or_else(|| {
                CallError::missing(f("groupId"), "a group call names the account")
            })?)
        } else {
            id_text(context.get("groupId"), &f("context.groupId"))?
        };

    let mut a = Cells::new();
    put(&mut a, "id", Some(message_id));
    put(&mut a, "timestamp", Some(event_time(obj, cx, &f)?));
    put(&mut a, "type", Some(activity_type));
    put(&mut a, "contact_id", user_id.clone());
    put(&mut a, "anonymous_id", anonymous_id);
    put(&mut a, "account_id", group_id.clone());
    let email = [&traits, &ctx_traits, &properties]
        .into_iter()
        .find_map(|m| m.get("email").and_then(Value::as_str).map(str::to_string));
    put(&mut a, "email", email);
    let ip = match context.get("ip") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Null) | None => match obj.get("request_ip") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => cx.request_ip.map(str::to_string),
        },
        Some(Value::String(_)) => cx.request_ip.map(str::to_string),
        Some(_) => return Err(CallError::invalid(f("context.ip"), "must be a string")),
    };
    put(&mut a, "ip", ip);
    let library = object(context.get("library"), &f("context.library"))?;
    put(
        &mut a,
        "source",
        Some(scalar(library.get("name")).unwrap_or_else(|| "segment".to_string())),
    );
    put(&mut a, "channel", scalar(properties.get("channel")));
    put(&mut a, "campaign_id", scalar(properties.get("campaign_id")));
    put(
        &mut a,
        "url",
        scalar(properties.get("url")).or_else(|| scalar(page.get("url"))),
    );
    put(
        &mut a,
        "referrer",
        scalar(properties.get("referrer")).or_else(|| scalar(page.get("referrer"))),
    );
    for (from, to) in [
        ("source", "utm_source"),
        ("medium", "utm_medium"),
        ("name", "utm_campaign"),
        ("term", "utm_term"),
        ("content", "utm_content"),
    ] {
        put(&mut a, to, scalar(campaign.get(from)));
    }
    put(
        &mut a,
        "duration_minutes",
        scalar(properties.get("duration_minutes")),
    );
    put(
        &mut a,
        "scroll_depth",
        scalar(properties.get("scroll_depth"))
            .or_else(|| scalar(properties.get("percent_scrolled"))),
    );
    put(&mut a, "status", scalar(properties.get("status")));
    let mut props = match kind {
        "identify" if traits.is_empty() => ctx_traits.clone(),
        "identify" | "group" => traits.clone(),
        _ => properties.clone(),
    };
    for key in ["event", "name", "category"] {
        if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
            props.entry(key).or_insert_with(|| v.clone());
        }
    }
    if !props.is_empty() {
        put(&mut a, "properties", Some(Value::Object(props).to_string()));
    }

    let mut contact = None;
    let mut account = None;
    if kind == "identify"
        && let Some(uid) = &user_id
    {
        // RudderStack's SDKs send identify traits in context.traits only.
        let mut traits = normalised(&traits);
        for (k, v) in normalised(&ctx_traits) {
            traits.entry(k).or_insert(v);
        }
        let mut c = Cells::new();
        put(&mut c, "id", Some(uid.clone()));
        for field in [
            "email",
            "first_name",
            "last_name",
            "title",
            "department",
            "seniority",
            "persona",
            "lead_source",
            "status",
            "created_at",
        ] {
            put(&mut c, field, scalar(traits.get(field)));
        }
        match traits.get("company") {
            Some(Value::Object(co)) => {
                put(&mut c, "company", scalar(co.get("name")));
                put(&mut c, "account_id", scalar(co.get("id")));
            }
            other => put(&mut c, "company", scalar(other)),
        }
        if !c.contains_key("account_id") {
            put(&mut c, "account_id", group_id.clone());
        }
        contact = Some(c);
    }
    if kind == "group" {
        let traits = normalised(&traits);
        let mut g = Cells::new();
        put(&mut g, "id", group_id.clone());
        for field in [
            "name",
            "industry",
            "region",
            "tier",
            "owner",
            "employees",
            "annual_revenue",
            "created_at",
        ] {
            put(&mut g, field, scalar(traits.get(field)));
        }
        put(
            &mut g,
            "domain",
            scalar(traits.get("domain")).or_else(|| scalar(traits.get("website"))),
        );
        let country = match traits.get("address") {
            Some(Value::Object(addr)) => scalar(addr.get("country")),
            _ => None,
        };
        put(
            &mut g,
            "country",
            country.or_else(|| scalar(traits.get("country"))),
        );
        account = Some(g);
        if let Some(uid) = &user_id {
            let mut c = Cells::new();
            put(&mut c, "id", Some(uid.clone()));
            put(&mut c, "account_id", group_id.clone());
            contact = Some(c);
        }
    }
    Ok(CallRows {
        activity: a,
        contact,
        account,
    })
}

/// The activity type of a track event: the configured name, else the event name itself when
/// it is a catalogue type written any way (`Email Open`, `email_open`), else `track`.
fn track_type(event: &str, cx: &CallContext) -> String {
    if let Some(t) = cx.track_events.get(event) {
        return t.clone();
    }
    let snake = cell::snake(event);
    if cx.activity_types.contains(&snake) {
        snake
    } else {
        "track".to_string()
    }
}

/// When the event happened, on the server's clock: the client's timestamp corrected by the
/// skew its `sentAt` shows (`receivedAt − (sentAt − timestamp)`), else the client's
/// timestamp, else `receivedAt`.
fn event_time(
    obj: &Map<String, Value>,
    cx: &CallContext,
    f: &dyn Fn(&str) -> String,
) -> Result<String, CallError> {
    let ts = |name: &str| -> Result<Option<i64>, CallError> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => cell::parse_timestamp(s)
                .map(Some)
                .map_err(|why| CallError::invalid(f(name), format!("{s:?} {why}"))),
            Some(_) => Err(CallError::invalid(f(name), "must be an ISO-8601 string")),
        }
    };
    let client = match ts("originalTimestamp")? {
        Some(t) => Some(t),
        None => ts("timestamp")?,
    };
    let sent =
        match ts("sentAt")? {
            Some(t) => Some(t),
            None => match cx.sent_at {
                Some(s) => Some(cell::parse_timestamp(s).map_err(|why| {
                    CallError::invalid("sentAt".to_string(), format!("{s:?} {why}"))
                })?),
                None => None,
            },
        };
    let micros = match (client, sent) {
        (Some(t), Some(s)) => s
            .checked_sub(t)
            .and_then(|skew| cx.received_at.checked_sub(skew))
            .ok_or_else(|| CallError::invalid(f("sentAt"), "is too far from timestamp"))?,
        (Some(t), None) => t,
        (None, _) => cx.received_at,
    };
    let time = Utc
        .timestamp_micros(micros)
        .single()
        .ok_or_else(|| CallError::invalid(f("timestamp"), "is out of range"))?;
    Ok(time.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// The call's `context` over the batch's: the item's own keys win.
fn merged_context(
    own: Option<&Value>,
    batch: Option<&Map<String, Value>>,
    field: &str,
) -> Result<Map<String, Value>, CallError> {
    let mut out = batch.cloned().unwrap_or_default();
    for (k, v) in object(own, field)? {
        out.insert(k, v);
    }
    Ok(out)
}

/// An optional JSON object (null or absent = empty).
fn object(v: Option<&Value>, field: &str) -> Result<Map<String, Value>, CallError> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(CallError::invalid(
            field.to_string(),
            "must be a JSON object",
        )),
    }
}

/// An identifier: a string, or a number as its text (some SDKs send numeric user ids).
fn id_text(v: Option<&Value>, field: &str) -> Result<Option<String>, CallError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(CallError::invalid(field.to_string(), "must be a string")),
    }
}

/// A scalar JSON value as cell text; objects and arrays are not cells.
fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn put(row: &mut Cells, field: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        row.insert(field.to_string(), v);
    }
}

/// Trait keys as Segment says to read them: case-insensitive, camelCase = snake_case.
fn normalised(traits: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in traits {
        let mut key = String::with_capacity(k.len() + 4);
        let mut prev_lower = false;
        for c in k.chars() {
            if c.is_uppercase() && prev_lower {
                key.push('_');
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            match c {
                ' ' | '-' => key.push('_'),
                c => key.extend(c.to_lowercase()),
            }
        }
        // `employee_count` is the company object's name for `employees`.
        if key == "employee_count" {
            key = "employees".into();
        }
        out.entry(key).or_insert_with(|| v.clone());
    }
    out
}

/// An id for a call without a messageId: random, so such calls are never deduplicated.
fn generated_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("abm-{now:x}-{}-{n:x}", std::process::id())
}

#[cfg(test)]
mod tests;
