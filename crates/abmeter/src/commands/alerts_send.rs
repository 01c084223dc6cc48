//! `abmeter alerts --send`: each alert not sent before goes to `alerts.webhook_url` once;
//! what was sent is remembered in the workspace (`alerts-sent.jsonl`).

use abmeter_metrics::alerts::Alert;
use abmeter_model::Config;
use abmeter_outputs::webhook::{Delivery, WebhookOptions, send_new};
use abmeter_store::Store;
use anyhow::anyhow;
use serde_json::json;

/// Where delivered alerts are recorded.
pub const SENT_FILE: &str = "alerts-sent.jsonl";

pub fn send(store: &Store, config: &Config, alerts: &[Alert]) -> anyhow::Result<()> {
    let url = config
        .alerts
        .webhook_url
        .clone()
        .ok_or_else(|| anyhow!("--send needs alerts.webhook_url in abmeter.toml"))?;
    let deliveries: Vec<Delivery> = alerts
        .iter()
        .map(|a| Delivery {
            key: a.key(),
            body: json!({
                "alert": a.kind,
                "account_id": a.account_id,
                "account_name": a.account_name,
                "week": a.week,
                "current": a.current,
                "baseline": a.baseline,
                "baseline_sd": a.baseline_sd,
                "ratio": a.ratio,
                "z": a.z,
                "top_contacts": a.top_contacts,
                "top_types": a.top_types,
            }),
        })
        .collect();
    let opts = WebhookOptions {
        url,
        ..WebhookOptions::default()
    };
    let summary = send_new(&opts, &store.root().join(SENT_FILE), &deliveries)?;
    eprintln!(
        "webhook: {} sent, {} sent before, {} failed",
        summary.sent.len(),
        summary.already_sent.len(),
        summary.failed.len()
    );
    for (key, error) in &summary.failed {
        eprintln!("webhook: {key} not delivered: {error} (retried on the next --send)");
    }
    if summary.failed.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(
            "{} alert(s) could not be delivered; they will be sent on the next run",
            summary.failed.len()
        ))
    }
}
