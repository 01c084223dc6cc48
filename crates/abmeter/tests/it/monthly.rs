//! Issue 7, `metrics::monthly`: one month's channel, web and funnel data beside the
//! previous month, gathered for `abmeter report`, on a hand-made workspace.

use abmeter_metrics::monthly::{DERIVED, month_of, monthly};
use abmeter_store::Store;
use serde_json::json;

use super::close;
use super::engagement::workspace;

#[test]
fn a_month_with_the_month_before() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,One\n"),
            (
                "contacts.csv",
                "id,account_id,lead_source,created_at\n\
                 C1,A1,Webinar,2026-08-10T00:00:00Z\n\
                 C2,A1,Webinar,2026-09-10T00:00:00Z\n\
                 C3,A1,Event,2026-09-11T00:00:00Z\n",
            ),
            (
                "ad_performance.csv",
                "date,channel,impressions,clicks,spend\n\
                 2026-08-05,paid_social,100,1,10\n\
                 2026-09-05,paid_social,300,6,30\n",
            ),
            (
                "activities.csv",
                // C1: one session in August, two in September (an hour apart).
                "id,timestamp,type,contact_id,url\n\
                 p1,2026-08-20T10:00:00Z,page_view,C1,/a\n\
                 p2,2026-09-01T10:00:00Z,page_view,C1,/a\n\
                 p3,2026-09-01T11:00:00Z,page_view,C1,/b\n",
            ),
        ],
    );
    let store = Store::open(&ws).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let m = rt.block_on(async {
        for kind in DERIVED {
            store.refresh(kind).await.unwrap();
        }
        let config = store.config().unwrap();
        let ctx = store.session().await.unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 9, 15).unwrap();
        monthly(&ctx, &config, &month_of(day, &config))
            .await
            .unwrap()
    });
    let v = m.to_json();
    assert_eq!(v["month"], "2026-09");
    assert_eq!(v["previous_month"], "2026-08");
    let ch = &v["channels"]["rows"][0];
    assert_eq!(ch["channel"], "paid_social");
    close(&ch["impressions"], 300.0, "September impressions");
    close(&ch["previous_impressions"], 100.0, "August impressions");
    close(&ch["ctr"], 0.02, "September CTR");
    let web = &v["web"]["rows"][0];
    close(&web["sessions"], 2.0, "September sessions");
    close(&web["previous_sessions"], 1.0, "August sessions");
    close(&web["new_visitor_pct"], 0.0, "C1 first came in August");
    let total = v["funnel"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["lead_source"] == "(total)")
        .unwrap();
    close(&total["leads"], 2.0, "September leads");
    close(&total["previous_leads"], 1.0, "August leads");
    close(&total["cost_per_lead"], 15.0, "30 / 2");
    assert_eq!(v["campaigns"]["report"], json!("channels"));
    assert_eq!(v["funnel_by_channel"]["params"]["by"], json!("channel"));
}
