//! BG/NBD and Gamma-Gamma (`abmeter_metrics::clv_model`) against the Python package
//! `lifetimes` on the CDNOW summaries it ships (2,357 customers, time in weeks; FHL 2005).
//!
//! The data are read from the installed package, so the test needs `python3` with
//! `pip install lifetimes`; without them it fails and says so rather than passing quietly.
//! The oracle numbers below were printed by lifetimes 0.11.3 (numpy 2.4, pandas 3.1,
//! scipy 1.17) with
//! `d = load_cdnow_summary(index_col=[0]); bgf = BetaGeoFitter().fit(d['frequency'],
//! d['recency'], d['T'])` and `m = load_cdnow_summary_data_with_monetary_value();
//! ggf = GammaGammaFitter().fit(m[m.frequency>0]['frequency'], m[m.frequency>0]['monetary_value'])`.
//! (`d.T` would be pandas' transpose: the column must be written `d['T']`.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use abmeter_metrics::clv_model::{BgNbd, Rfm, fit_bgnbd, fit_gamma_gamma, lifetime_value};

/// The `datasets` folder of the installed `lifetimes`, asked once: importing it takes python
/// about a second.
fn lifetimes_datasets() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(find_lifetimes_datasets)
}

fn find_lifetimes_datasets() -> PathBuf {
    let install = "pip install lifetimes";
    let out = Command::new("python3")
        .args([
            "-c",
            "import lifetimes, os; print(os.path.dirname(lifetimes.__file__))",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}): this test needs python3 with `{install}`")
        });
    assert!(
        out.status.success(),
        "python3 cannot import lifetimes: run `{install}`\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("datasets");
    assert!(
        dir.is_dir(),
        "{} is missing: reinstall with `{install}`",
        dir.display()
    );
    dir
}

/// The rows of a lifetimes CSV, after checking its header.
fn read_csv(file: &str, header: &[&str]) -> Vec<Vec<f64>> {
    let path = lifetimes_datasets().join(file);
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let got: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(got, header, "{}: unexpected header", path.display());
    reader
        .records()
        .map(|record| {
            let record = record.expect("a CSV record");
            record
                .iter()
                .map(|v| v.parse().expect("a number"))
                .collect()
        })
        .collect()
}

/// `load_cdnow_summary`: (frequency, recency, T) in weeks.
fn cdnow() -> Vec<Rfm> {
    read_csv(
        "cdnow_customers_summary.csv",
        &["ID", "frequency", "recency", "T"],
    )
    .into_iter()
    .map(|row| Rfm {
        frequency: row[1],
        recency: row[2],
        t: row[3],
    })
    .collect()
}

/// `load_cdnow_summary_data_with_monetary_value`: the same customers with the mean value of
/// their repeat purchases (0 for frequency 0).
fn cdnow_with_monetary() -> Vec<(Rfm, f64)> {
    read_csv(
        "cdnow_customers_summary_with_transactions.csv",
        &["ID", "x", "t_x", "T", "zbar"],
    )
    .into_iter()
    .map(|row| {
        let rfm = Rfm {
            frequency: row[1],
            recency: row[2],
            t: row[3],
        };
        (rfm, row[4])
    })
    .collect()
}

#[track_caller]
fn close(got: f64, want: f64, rel: f64, what: &str) {
    let err = (got - want).abs() / want.abs();
    assert!(
        err <= rel,
        "{what}: got {got}, want {want} (relative error {err:.2e})"
    );
}

/// The same to 3 significant digits, as the published estimates are read.
#[track_caller]
fn same_3_digits(got: f64, published: f64, what: &str) {
    assert_eq!(
        format!("{got:.2e}"),
        format!("{published:.2e}"),
        "{what}: got {got}, published {published}"
    );
}

fn fit_cdnow() -> BgNbd {
    let customers = cdnow();
    assert_eq!(customers.len(), 2357);
    fit_bgnbd(&customers).expect("BG/NBD fits CDNOW")
}

#[test]
fn bgnbd_fit_matches_lifetimes() {
    let bg = fit_cdnow();
    // FHL 2005 / lifetimes' Quickstart, and bgf.params_ to full precision.
    for (got, published, lifetimes, what) in [
        (bg.r, 0.2426, 0.24259292828, "r"),
        (bg.alpha, 4.4135, 4.413532265272, "alpha"),
        (bg.a, 0.7929, 0.792885966441, "a"),
        (bg.b, 2.4258, 2.425752382626, "b"),
    ] {
        same_3_digits(got, published, what);
        // lifetimes stops scipy's BFGS at a gradient norm of 1e-7; ours is tighter.
        close(got, lifetimes, 1e-4, what);
    }
    // -len(d) * BetaGeoFitter._negative_log_likelihood(np.log(bgf.params_.values),
    // d.frequency, d.recency, d['T'], np.ones(len(d)), 0) (unscaled weeks; lifetimes'
    // own `_negative_log_likelihood_` 0.2502717288 is a mean in its rescaled time).
    close(
        bg.log_likelihood,
        -9582.425560567368,
        1e-8,
        "log-likelihood",
    );
}

#[test]
fn bgnbd_predictions_match_lifetimes() {
    let bg = fit_cdnow();
    let customers = cdnow();
    // bgf.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86) and
    // bgf.conditional_probability_alive(2, 30.43, 38.86).
    let first = Rfm {
        frequency: 2.0,
        recency: 30.43,
        t: 38.86,
    };
    close(
        bg.conditional_expected_purchases(39.0, &first),
        1.2259,
        1e-3,
        "E[Y(39)|2, 30.43, 38.86]",
    );
    close(
        bg.probability_alive(&first),
        0.726609,
        1e-3,
        "P(alive|2, 30.43, 38.86)",
    );
    // sub = d.loc[[1, 2, 3, 18, 157, 1516, 1645]];
    // bgf.conditional_expected_number_of_purchases_up_to_time(39, sub['frequency'],
    // sub['recency'], sub['T']) and bgf.conditional_probability_alive(...) of the same.
    // 157 has the most purchases (29), 1516 a late one (26 by week 30.86 of 31).
    for (id, want_e39, want_alive) in [
        (1, 1.225910424174, 0.726609136799),
        (2, 0.203250624256, 0.212227388072),
        (3, 0.194780857939, 1.0),
        (18, 0.297764230721, 0.310915280966),
        (157, 20.053665319497, 0.969133594004),
        (1516, 20.750570498763, 0.968919715969),
        (1645, 0.236384088318, 1.0),
    ] {
        let c = &customers[id - 1];
        close(
            bg.conditional_expected_purchases(39.0, c),
            want_e39,
            1e-3,
            &format!("E[Y(39)] of customer {id}"),
        );
        close(
            bg.probability_alive(c),
            want_alive,
            1e-3,
            &format!("P(alive) of customer {id}"),
        );
    }
    // bgf.expected_number_of_purchases_up_to_time([0.1429, 1, 3, 31.8571, 32, 78]).
    for (t, want) in [
        (0.1429, 0.00781607),
        (1.0, 0.05318474),
        (3.0, 0.15063192),
        (31.8571, 1.04049424),
        (32.0, 1.04373717),
        (78.0, 1.8579717),
    ] {
        close(bg.expected_purchases(t), want, 1e-3, &format!("E[X({t})]"));
    }
}

#[test]
fn gamma_gamma_and_lifetime_value_match_lifetimes() {
    let data = cdnow_with_monetary();
    assert_eq!(data.len(), 2357);
    let spends: Vec<(f64, f64)> = data.iter().map(|(c, m)| (c.frequency, *m)).collect();
    let gg = fit_gamma_gamma(&spends).expect("Gamma-Gamma fits CDNOW");
    for (got, published, lifetimes, what) in [
        (gg.p, 6.2488, 6.248802496071, "p"),
        (gg.q, 3.7446, 3.744588460924, "q"),
        (gg.v, 15.4477, 15.447748064944, "v"),
    ] {
        same_3_digits(got, published, what);
        close(got, lifetimes, 1e-4, what);
    }
    // -ggf._negative_log_likelihood_ * 946 (a mean over the 946 repeat buyers, unscaled).
    close(
        gg.log_likelihood,
        -4055.9232435028644,
        1e-8,
        "log-likelihood",
    );

    // ggf.conditional_expected_average_profit(m['frequency'], m['monetary_value']).head(10).
    let expected_value = [
        24.658616189238,
        18.911479869934,
        35.171002152507,
        35.171002152507,
        35.171002152507,
        71.462850804533,
        18.911479869934,
        35.171002152507,
        27.282407581074,
        35.171002152507,
    ];
    for ((c, m), want) in data.iter().zip(expected_value) {
        close(
            gg.conditional_expected_value(c.frequency, *m),
            want,
            1e-3,
            "E[M|x, m]",
        );
    }

    // bgf = BetaGeoFitter().fit(m['frequency'], m['recency'], m['T']);
    // ggf.customer_lifetime_value(bgf, m['frequency'], m['recency'], m['T'],
    // m['monetary_value'], time=12, discount_rate=0.01).head(10) — freq="D", lifetimes'
    // default, although CDNOW is in weeks: 30 "days" a month.
    let customers: Vec<Rfm> = data.iter().map(|(c, _)| *c).collect();
    let bg = fit_bgnbd(&customers).expect("BG/NBD fits CDNOW");
    let clv_days = [
        140.096217601086,
        18.943466298946,
        38.180574708815,
        38.180574708815,
        38.180574708815,
        1003.868285471264,
        28.109681152312,
        38.180574708815,
        167.418223693827,
        38.180574708815,
    ];
    // The same with freq='W' (4.345 weeks a month), the unit CDNOW is really in.
    let clv_weeks = [
        36.278495763628,
        4.637466328571,
        8.34409312181,
        8.34409312181,
        8.34409312181,
        283.523592590376,
        6.881406907983,
        8.34409312181,
        43.353642396863,
        8.34409312181,
    ];
    for (i, ((c, m), (want_d, want_w))) in data
        .iter()
        .zip(clv_days.into_iter().zip(clv_weeks))
        .enumerate()
    {
        close(
            lifetime_value(&bg, &gg, c, *m, 12, 0.01, 30.0),
            want_d,
            1e-3,
            &format!("CLV (freq D) of customer {}", i + 1),
        );
        close(
            lifetime_value(&bg, &gg, c, *m, 12, 0.01, 4.345),
            want_w,
            1e-3,
            &format!("CLV (freq W) of customer {}", i + 1),
        );
    }
}
