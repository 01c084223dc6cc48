//! The monthly report's data (SPEC §5, "a monthly report joins all of the above"): for one
//! month, the channel KPIs by channel and by campaign, the web KPIs and the funnel by lead
//! source and by first-touch channel, each already beside the previous month. `abmeter
//! report` renders it; callers bring the derived tables in [`DERIVED`] up to date first.

use abmeter_model::{Config, Granularity, Period, Report};
use abmeter_store::StoreError;
use abmeter_store::cube::Derived;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::attribution::journeys::By;
use crate::funnel::FunnelBy;
use crate::{channels, funnel, web};

/// The derived tables the monthly data reads.
pub const DERIVED: [Derived; 4] = [
    Derived::ChannelActivity,
    Derived::ContactFirstTouch,
    Derived::Milestones,
    Derived::WebVisits,
];

/// One month's channel, web and funnel reports (each with the previous month).
#[derive(Debug, Clone)]
pub struct Monthly {
    pub month: Period,
    pub channels: Report,
    pub campaigns: Report,
    pub web: Report,
    pub funnel: Report,
    pub funnel_by_channel: Report,
}

impl Monthly {
    /// `{"month": …, "previous_month": …, "channels": {report}, …}`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("month".into(), json!(self.month.label()));
        out.insert(
            "previous_month".into(),
            json!(self.month.previous().label()),
        );
        for (name, r) in [
            ("channels", &self.channels),
            ("campaigns", &self.campaigns),
            ("web", &self.web),
            ("funnel", &self.funnel),
            ("funnel_by_channel", &self.funnel_by_channel),
        ] {
            out.insert(name.into(), r.to_json());
        }
        Value::Object(out)
    }
}

/// The month containing `day` (calendar months; fiscal years do not move months).
pub fn month_of(day: chrono::NaiveDate, config: &Config) -> Period {
    Period::containing(Granularity::Month, day, config.fiscal_year_start_month)
}

pub async fn monthly(
    ctx: &SessionContext,
    config: &Config,
    month: &Period,
) -> Result<Monthly, StoreError> {
    let channel = |by| channels::Params {
        period: month.clone(),
        by,
    };
    let lead = |by| funnel::Params {
        period: month.clone(),
        by,
    };
    Ok(Monthly {
        month: month.clone(),
        channels: channels::report(ctx, config, &channel(By::Channel)).await?,
        campaigns: channels::report(ctx, config, &channel(By::Campaign)).await?,
        web: web::report(
            ctx,
            config,
            &web::Params {
                period: month.clone(),
            },
        )
        .await?,
        funnel: funnel::report(ctx, config, &lead(FunnelBy::LeadSource)).await?,
        funnel_by_channel: funnel::report(ctx, config, &lead(FunnelBy::Touch(By::Channel))).await?,
    })
}
