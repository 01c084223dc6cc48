//! `ad_totals`: the `ad_performance` rows that add up to a channel's or campaign's delivery.
//!
//! Ad platforms export campaign-level rows and, as a separate report, account-level
//! breakdowns of the same delivery (LinkedIn's company report); adding both would count the
//! impressions and the spend twice. So a (channel, campaign) with any campaign-level row (no
//! `account_id`) takes its totals from those rows; account-level rows count toward totals
//! only for a (channel, campaign) that has no campaign-level row at all. Account reach reads
//! every account-level row of `ad_performance` itself.

use datafusion::execution::context::SessionContext;

use crate::StoreError;

pub const AD_TOTALS_VIEW: &str = "ad_totals";

/// The view's definition.
pub const AD_TOTALS_SQL: &str = "SELECT p.* FROM ad_performance p
WHERE p.account_id IS NULL
   OR NOT EXISTS (
     SELECT 1 FROM ad_performance q
     WHERE q.account_id IS NULL
       AND lower(q.channel) = lower(p.channel)
       AND coalesce(q.campaign_id, '') = coalesce(p.campaign_id, ''))";

/// Registers the view on `ctx` (after the tables).
pub(crate) async fn register(ctx: &SessionContext) -> Result<(), StoreError> {
    let df = ctx.sql(AD_TOTALS_SQL).await?;
    ctx.register_table(AD_TOTALS_VIEW, df.into_view())?;
    Ok(())
}
