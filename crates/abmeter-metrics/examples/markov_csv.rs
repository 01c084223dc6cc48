//! Runs abmeter's exact Markov model on a CSV of journeys, for `bench/attribution_ca.py`
//! (the comparison with ChannelAttribution).
//!
//! `cargo run -q -p abmeter-metrics --example markov_csv -- FILE ORDER`
//!
//! FILE has the header `path,conv,null,value`, paths written `a > b > c` (channel names
//! without commas). Prints `channel,conversions,value,removal_effect` on stdout, and
//! P(conversion) and the model's time on stderr.
//!
//! With ORDER `heuristic` it prints `channel,first_touch,last_touch,linear` instead: the
//! conversions the rule-based models credit when each path's channels are its touches in
//! order (repeats kept), to check against ChannelAttribution's `heuristic_models`.

use std::time::Instant;

use std::collections::BTreeMap;

use abmeter_metrics::attribution::markov::markov;
use abmeter_metrics::attribution::rules::{RuleModel, weights};
use abmeter_metrics::attribution::{Conversion, Credit, Journey, Touch};

fn main() {
    if let Err(e) = run() {
        eprintln!("markov_csv: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, order] = args.as_slice() else {
        return Err("usage: markov_csv FILE ORDER".to_string());
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().trim();
    if header != "path,conv,null,value" {
        return Err(format!(
            "{file}: the header must be path,conv,null,value, not {header:?}"
        ));
    }
    let number = |field: &str, line: usize| -> Result<f64, String> {
        field
            .trim()
            .parse()
            .map_err(|e| format!("{file}:{line}: {field:?}: {e}"))
    };
    let mut journeys = Vec::new();
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let [path, conv, null, value] = fields.as_slice() else {
            return Err(format!("{file}:{}: expected 4 fields", i + 2));
        };
        journeys.push(Journey {
            path: path.split('>').map(|c| c.trim().to_string()).collect(),
            conversions: number(conv, i + 2)?,
            nulls: number(null, i + 2)?,
            value: number(value, i + 2)?,
        });
    }
    if order == "heuristic" {
        return heuristic(&journeys);
    }
    let order: usize = order.parse().map_err(|e| format!("ORDER {order:?}: {e}"))?;
    let started = Instant::now();
    let result = markov(&journeys, order)?;
    let elapsed = started.elapsed().as_secs_f64();
    println!("channel,conversions,value,removal_effect");
    for c in &result.channels {
        println!("{},{},{},{}", c.channel, c.conversions, c.value, c.score);
    }
    eprintln!(
        "journeys={} order={order} p_conversion={} seconds={elapsed:.6}",
        journeys.len(),
        result.p_conversion
    );
    Ok(())
}

/// First touch, last touch and linear over each path's channels as touches, one second apart.
fn heuristic(journeys: &[Journey]) -> Result<(), String> {
    let models = [
        RuleModel::FirstTouch,
        RuleModel::LastTouch,
        RuleModel::Linear,
    ];
    let mut credit: BTreeMap<String, [f64; 3]> = BTreeMap::new();
    for j in journeys.iter().filter(|j| j.conversions > 0.0) {
        let touches: Vec<Touch> = j
            .path
            .iter()
            .enumerate()
            .map(|(i, c)| Touch {
                at: i as i64 * 1_000_000,
                id: format!("{i:06}"),
                kind: "page_view".into(),
                channel: c.clone(),
                campaign: None,
            })
            .collect();
        let end = touches.last().map_or(0, |t| t.at);
        let conv = Conversion {
            created_at: end,
            converted_at: end,
            credit: Credit::Pipeline,
        };
        for (m, model) in models.iter().enumerate() {
            for (t, w) in touches.iter().zip(weights(*model, &touches, &conv, 7.0)?) {
                credit.entry(t.channel.clone()).or_default()[m] += w * j.conversions;
            }
        }
    }
    println!("channel,first_touch,last_touch,linear");
    for (c, v) in credit {
        println!("{c},{},{},{}", v[0], v[1], v[2]);
    }
    Ok(())
}
