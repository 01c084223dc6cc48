//! One real server on port 0: the scheduled alert check runs, and a graceful shutdown flushes
//! what is pending.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use abmeter_model::Table;
use abmeter_server::{ApiError, Reports};
use abmeter_store::Store;

use super::*;

struct CountingAlerts(Arc<AtomicUsize>);

impl Reports for CountingAlerts {
    fn run(&self, report: &str, _: &[(String, String)]) -> Result<abmeter_model::Report, ApiError> {
        Err(ApiError::not_found(report.to_string()))
    }
    fn send_alerts(&self) -> Result<(), String> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_checks_alerts_on_schedule_and_flushes_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("abmeter.toml"),
        format!(
            "[alerts]\nwebhook_url = \"http://127.0.0.1:9/hook\"\ncheck_interval_secs = 1\n\
             [server]\nwrite_keys = [\"{WRITE_KEY}\"]\nflush_interval_secs = 3600\n"
        ),
    )
    .unwrap();
    let store = Store::open(dir.path()).unwrap();
    let checks = Arc::new(AtomicUsize::new(0));
    let state = abmeter_server::open(
        store.clone(),
        store.config().unwrap(),
        Arc::new(CountingAlerts(checks.clone())),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(abmeter_server::serve(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    let url = format!("http://{addr}/v1/track");
    let auth = basic(WRITE_KEY);
    let answer = tokio::task::spawn_blocking(move || {
        ureq::post(&url)
            .header("Authorization", &auth)
            .send(r#"{"userId": "u", "event": "Demo Requested", "messageId": "m-1"}"#)
            .map(|r| r.status().as_u16())
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(answer, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(checks.load(Ordering::SeqCst) >= 1, "the alert check ran");
    // Flushes are hourly here: only the shutdown flush can store the call.
    assert_eq!(store.manifest().unwrap().rows(Table::Activities), 0);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(store.manifest().unwrap().rows(Table::Activities), 1);
}
