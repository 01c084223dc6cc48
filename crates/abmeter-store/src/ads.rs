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

/// The view's definition: an anti-join on the normalised (channel, campaign) keys, which
/// plans as a hash join (a correlated `NOT EXISTS` on them took ten times as long).
pub const AD_TOTALS_SQL: &str = "WITH campaign_level AS (
  SELECT DISTINCT lower(channel) AS channel, coalesce(campaign_id, '') AS campaign
  FROM ad_performance WHERE account_id IS NULL
)
SELECT p.* FROM ad_performance p
LEFT JOIN campaign_level c
  ON c.channel = lower(p.channel) AND c.campaign = coalesce(p.campaign_id, '')
WHERE p.account_id IS NULL OR c.channel IS NULL";

/// Registers the view on `ctx` (after the tables).
pub(crate) async fn register(ctx: &SessionContext) -> Result<(), StoreError> {
    let df = ctx.sql(AD_TOTALS_SQL).await?;
    ctx.register_table(AD_TOTALS_VIEW, df.into_view())?;
    Ok(())
}
