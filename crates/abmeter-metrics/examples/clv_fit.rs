//! Fits BG/NBD and Gamma-Gamma (`abmeter_metrics::clv_model`) to a CSV of account
//! summaries, for `bench/clv.py` (the comparison with the Python package `lifetimes`).
//!
//! `cargo run -q --release -p abmeter-metrics --example clv_fit -- FILE`
//!
//! FILE has a header naming at least `frequency,recency,T,monetary_value` (any order, other
//! columns ignored; numbers without quotes). Prints one JSON line on stdout: the parameters
//! and total log-likelihood of each model and the seconds each fit took, timed here so
//! process start-up and CSV parsing are left out.

use std::time::Instant;

use abmeter_metrics::clv_model::{Rfm, fit_bgnbd, fit_gamma_gamma};
use serde_json::json;

fn main() {
    if let Err(e) = run() {
        eprintln!("clv_fit: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file] = args.as_slice() else {
        return Err("usage: clv_fit FILE".to_string());
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().trim().split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("{file}: no column {name:?} in the header {header:?}"))
    };
    let [fi, ri, ti, mi] = [
        column("frequency")?,
        column("recency")?,
        column("T")?,
        column("monetary_value")?,
    ];

    let mut customers = Vec::new();
    let mut spends = Vec::new();
    for (n, line) in lines.enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let number = |i: usize| -> Result<f64, String> {
            let field = fields.get(i).copied().unwrap_or_default();
            field
                .parse()
                .map_err(|e| format!("{file} line {}: {field:?}: {e}", n + 2))
        };
        let (frequency, monetary) = (number(fi)?, number(mi)?);
        customers.push(Rfm {
            frequency,
            recency: number(ri)?,
            t: number(ti)?,
        });
        spends.push((frequency, monetary));
    }

    let started = Instant::now();
    let bg = fit_bgnbd(&customers).map_err(|e| format!("BG/NBD: {e}"))?;
    let bg_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let gg = fit_gamma_gamma(&spends).map_err(|e| format!("Gamma-Gamma: {e}"))?;
    let gg_seconds = started.elapsed().as_secs_f64();

    let out = json!({
        "customers": customers.len(),
        "bgnbd": {
            "r": bg.r,
            "alpha": bg.alpha,
            "a": bg.a,
            "b": bg.b,
            "log_likelihood": bg.log_likelihood,
            "seconds": bg_seconds,
        },
        "gamma_gamma": {
            "p": gg.p,
            "q": gg.q,
            "v": gg.v,
            "log_likelihood": gg.log_likelihood,
            "seconds": gg_seconds,
        },
    });
    println!("{out}");
    Ok(())
}
