//! The languages of the dashboard and the report files: English, and Simplified Chinese
//! because many people who run ABM programmes read it first.
//!
//! One table holds every sentence of the pages (`TEXT`) and one the labels of report fields
//! (`LABELS`); a field without a label shows its SPEC name, which is also what CSV and JSON
//! carry, so a reader can always find the definition.

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The BCP 47 tag, as in `<html lang>` and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// `en`, `en-US`, `zh`, `zh-CN`, `zh-Hans`, `zh_cn` (any case); other languages: none.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let primary = tag.split('-').next().unwrap_or_default();
        match primary {
            "en" => Some(Lang::En),
            // Traditional Chinese readers get English rather than the wrong script.
            "zh" if !(tag.contains("hant") || tag.ends_with("-tw") || tag.ends_with("-hk")) => {
                Some(Lang::ZhCn)
            }
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header (by q-value) that we speak;
    /// English when none is.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut choices: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q=")?.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        // Stable: equal q-values keep the header's order.
        choices.sort_by(|a, b| b.0.total_cmp(&a.0));
        choices.first().map_or(Lang::En, |c| c.1)
    }

    /// The sentence `key` in this language; the key itself when the table lacks it (a test
    /// checks every key the pages use is there).
    pub fn t(self, key: &'static str) -> &'static str {
        match TEXT_INDEX.get(key) {
            Some(&(en, zh)) => match self {
                Lang::En => en,
                Lang::ZhCn => zh,
            },
            None => key,
        }
    }

    /// The label of report field `name`: the table's, else the name with spaces
    /// (`weighted_minutes` → "weighted minutes").
    pub fn label(self, name: &str) -> String {
        match LABEL_INDEX.get(name) {
            Some(&(en, zh)) => match self {
                Lang::En => en.to_string(),
                Lang::ZhCn => zh.to_string(),
            },
            None => name.replace('_', " "),
        }
    }
}

type Pairs = HashMap<&'static str, (&'static str, &'static str)>;

static TEXT_INDEX: LazyLock<Pairs> =
    LazyLock::new(|| TEXT.iter().map(|&(k, en, zh)| (k, (en, zh))).collect());
static LABEL_INDEX: LazyLock<Pairs> =
    LazyLock::new(|| LABELS.iter().map(|&(k, en, zh)| (k, (en, zh))).collect());

/// Page text: key, English, Simplified Chinese.
pub const TEXT: &[(&str, &str, &str)] = &[
    // Navigation and page titles.
    ("overview", "Overview", "概览"),
    ("accounts", "Accounts", "客户"),
    ("account", "Account", "客户"),
    ("mqa_alerts", "MQAs and alerts", "MQA 与预警"),
    ("channels", "Channels", "渠道"),
    ("web", "Web", "网站"),
    ("funnel", "Funnel", "漏斗"),
    ("pipeline", "Pipeline and velocity", "商机管道与速度"),
    ("attribution", "Attribution", "归因"),
    (
        "customers",
        "Retention, CLV and NPS",
        "留存、客户终身价值与 NPS",
    ),
    ("roi", "ROI calculator", "ROI 计算器"),
    ("review", "Business review", "业务回顾"),
    // Controls.
    ("period", "Period", "周期"),
    ("at", "Date", "日期"),
    ("apply", "Apply", "应用"),
    ("language", "Language", "语言"),
    ("segment", "Segment", "细分"),
    ("search", "Search", "搜索"),
    ("all", "All", "全部"),
    ("filter", "Filter", "筛选"),
    ("clear_filters", "Clear filters", "清除筛选"),
    ("download", "Download", "下载"),
    ("model", "Model", "模型"),
    ("side_by_side", "All models side by side", "所有模型对比"),
    ("credit", "Credit", "归因对象"),
    ("by", "By", "按"),
    ("sort_by", "Sort by", "排序"),
    ("only_mqa", "MQAs only", "仅 MQA"),
    ("only_alerts", "With alerts only", "仅有预警"),
    ("only_targets", "Target accounts only", "仅目标客户"),
    ("compute", "Compute", "计算"),
    ("previous", "previous", "上期"),
    ("vs_previous", "vs previous period", "较上期"),
    (
        "no_data",
        "No data for this selection.",
        "当前选择下没有数据。",
    ),
    ("more_rows", "more rows in the download", "更多行见下载文件"),
    ("rows", "rows", "行"),
    // Login.
    ("login", "Sign in", "登录"),
    ("read_token", "Read token", "读取令牌"),
    (
        "login_hint",
        "Sign in with a read token from server.read_tokens (or ABMETER_READ_TOKENS).",
        "请使用 server.read_tokens（或 ABMETER_READ_TOKENS）中的读取令牌登录。",
    ),
    (
        "login_failed",
        "That token is not a read token of this server.",
        "该令牌不是本服务器的读取令牌。",
    ),
    ("logout", "Sign out", "退出"),
    (
        "no_tokens",
        "The dashboard is off: no read token is configured (server.read_tokens or ABMETER_READ_TOKENS).",
        "仪表盘未启用：未配置读取令牌（server.read_tokens 或 ABMETER_READ_TOKENS）。",
    ),
    // Overview.
    ("engaged_accounts", "Engaged accounts", "活跃客户"),
    ("mqas", "MQAs", "MQA"),
    ("newly_qualified", "Newly qualified", "新晋 MQA"),
    ("alerts", "Alerts", "预警"),
    ("surge", "Surge", "激增"),
    ("decline", "Decline", "下降"),
    ("pipeline_created", "Pipeline created", "新增商机金额"),
    ("revenue_won", "Revenue won", "赢单收入"),
    ("coverage", "Pipeline coverage", "商机覆盖率"),
    (
        "engagement_trend",
        "Engagement trend (EKG)",
        "参与度趋势（EKG）",
    ),
    ("top_accounts", "Top accounts", "重点客户"),
    (
        "weighted_minutes_week",
        "Weighted minutes per week",
        "每周加权分钟",
    ),
    ("baseline", "Baseline (8-week mean)", "基线（8 周均值）"),
    (
        "baseline_band",
        "Baseline ± 1 standard deviation",
        "基线 ± 1 个标准差",
    ),
    // Accounts and account page.
    ("trend", "Trend", "趋势"),
    ("badges", "Badges", "标记"),
    ("heatmap", "Buying group heatmap", "采购团队热力图"),
    (
        "heatmap_hint",
        "Minutes by department × seniority against the ideal; cells marked ! are blind spots. Click a cell for its activities.",
        "按部门 × 职级统计的分钟数与理想值对比；标有 ! 的单元格为盲区。点击单元格查看对应活动。",
    ),
    ("blind_spots", "Blind spots", "盲区"),
    ("heatmap_coverage", "Ideal coverage", "理想覆盖率"),
    ("timeline", "Timeline", "时间线"),
    ("week_of", "Week of", "周起始"),
    (
        "contacts_by_engagement",
        "Contacts by engagement",
        "按参与度排列的联系人",
    ),
    ("opportunities", "Opportunities", "商机"),
    (
        "opportunity_attribution",
        "Attribution of this account's pipeline in the period (rule-based models)",
        "本期该客户商机的归因（规则模型）",
    ),
    ("filtered_by", "Filtered by", "筛选条件"),
    ("activity_type", "Activity type", "活动类型"),
    ("department", "Department", "部门"),
    ("seniority", "Seniority", "职级"),
    ("channel", "Channel", "渠道"),
    ("unknown_account", "No such account", "没有该客户"),
    // Report sections.
    ("channel_kpis", "Channel KPIs", "渠道指标"),
    ("web_kpis", "Web KPIs", "网站指标"),
    ("funnel_kpis", "Leads and MQLs", "线索与 MQL"),
    ("meetings", "Demos and meetings", "演示与会议"),
    ("pipeline_kpis", "Pipeline and revenue", "商机与收入"),
    ("velocity", "Velocity", "速度"),
    ("loss_reasons", "Loss reasons", "丢单原因"),
    ("by_source", "By source", "按来源"),
    ("by_type", "By type", "按类型"),
    ("retention", "Revenue retention", "收入留存"),
    ("nrr_series", "NRR by month", "每月 NRR"),
    ("clv", "Customer lifetime value", "客户终身价值"),
    (
        "clv_model",
        "Expected value (BG/NBD + Gamma-Gamma)",
        "预期价值（BG/NBD + Gamma-Gamma）",
    ),
    ("nps", "NPS and CSAT", "NPS 与 CSAT"),
    ("nps_fell", "Accounts whose NPS fell", "NPS 下降的客户"),
    ("expansion", "Expansion", "扩展销售"),
    (
        "roi_measured",
        "Measured return by channel",
        "按渠道的实际回报",
    ),
    ("roi_what_if", "What if", "假设推演"),
    (
        "roi_hint",
        "Project a programme: the server computes the funnel and the return from these inputs (rates as fractions: 0.25 = 25 %).",
        "推演一个项目：服务器根据以下输入计算漏斗与回报（比率为小数：0.25 = 25%）。",
    ),
    (
        "attribution_hint",
        "Credit for the pipeline created in the period, by the chosen model.",
        "按所选模型分配本期新增商机的功劳。",
    ),
    // The business review file.
    ("review_title", "Business review", "业务回顾"),
    ("impact", "Impact", "影响"),
    ("output", "Output", "产出"),
    ("action", "Action", "行动"),
    ("readiness", "Team readiness", "团队就绪度"),
    ("kpi", "KPI", "指标"),
    ("this_period", "This period", "本期"),
    ("previous_period", "Previous period", "上期"),
    ("change", "Change", "变化"),
    (
        "target_heatmap",
        "Heatmap of target accounts",
        "目标客户热力图",
    ),
    (
        "attribution_by_channel",
        "Attribution by channel",
        "按渠道归因",
    ),
    ("generated", "Generated", "生成时间"),
    ("workspace", "Workspace", "工作区"),
    (
        "definitions",
        "Every figure follows the definitions of abmeter's SPEC; the JSON of this report (--format json) carries the same numbers.",
        "所有数字均遵循 abmeter SPEC 中的定义；本报告的 JSON（--format json）包含相同的数据。",
    ),
    ("error", "Error", "错误"),
    ("minutes_unit", "min", "分钟"),
    ("chart_no_data", "no data", "无数据"),
    ("chart_baseline", "baseline", "基线"),
    ("chart_range", "range", "波动范围"),
    ("chart_ideal", "ideal", "理想"),
    ("chart_blind_spot", "blind spot", "盲区"),
];

/// Report field labels: SPEC name, English, Simplified Chinese.
pub const LABELS: &[(&str, &str, &str)] = &[
    ("account_id", "Account ID", "客户 ID"),
    ("account_name", "Account", "客户"),
    ("minutes", "Minutes", "分钟"),
    ("weighted_minutes", "Weighted minutes", "加权分钟"),
    (
        "previous_weighted_minutes",
        "Previous weighted minutes",
        "上期加权分钟",
    ),
    ("engaged_contacts", "Engaged contacts", "活跃联系人"),
    ("activities", "Activities", "活动数"),
    ("meetings_scheduled", "Meetings scheduled", "已安排会议"),
    ("meetings_held", "Meetings held", "已举行会议"),
    ("meetings_canceled", "Meetings canceled", "已取消会议"),
    ("change_pct", "Change %", "变化 %"),
    ("rank", "Rank", "排名"),
    ("newly_qualified", "Newly qualified", "新晋"),
    ("kind", "Kind", "类型"),
    ("week", "Week", "周"),
    ("week_start", "Week start", "周起始日"),
    ("current", "This week", "本周"),
    ("baseline", "Baseline", "基线"),
    ("baseline_sd", "Baseline SD", "基线标准差"),
    ("ratio", "Ratio", "比率"),
    ("z", "z", "z 值"),
    ("top_contacts", "Top contacts", "主要联系人"),
    ("top_types", "Top activity types", "主要活动类型"),
    ("department", "Department", "部门"),
    ("seniority", "Seniority", "职级"),
    ("ideal_minutes", "Ideal minutes", "理想分钟"),
    ("blind_spot", "Blind spot", "盲区"),
    ("timestamp", "Time", "时间"),
    ("contact_id", "Contact ID", "联系人 ID"),
    ("contact_name", "Contact", "联系人"),
    ("title", "Title", "职位"),
    ("type", "Type", "类型"),
    ("channel", "Channel", "渠道"),
    ("campaign", "Campaign", "营销活动"),
    ("campaign_id", "Campaign ID", "营销活动 ID"),
    ("campaign_name", "Campaign", "营销活动"),
    ("source", "Source", "来源"),
    ("industry", "Industry", "行业"),
    ("region", "Region", "区域"),
    ("country", "Country", "国家"),
    ("tier", "Tier", "层级"),
    ("owner", "Owner", "负责人"),
    ("is_target", "Target account", "目标客户"),
    ("persona", "Persona", "角色画像"),
    ("opportunities", "Opportunities", "商机数"),
    ("pipeline", "Pipeline", "商机金额"),
    ("revenue", "Revenue", "收入"),
    ("cost", "Cost", "成本"),
    ("roas", "ROAS", "广告支出回报率"),
    ("roi", "ROI", "投资回报率"),
    ("won", "Won", "赢单"),
    ("lost", "Lost", "丢单"),
    ("win_rate", "Win rate", "赢单率"),
    ("avg_deal_size", "Average deal size", "平均交易额"),
    ("acv", "ACV", "年度合同价值"),
    ("open_pipeline", "Open pipeline", "未结商机"),
    ("quota", "Quota", "配额"),
    ("pipeline_coverage", "Pipeline coverage", "商机覆盖率"),
    (
        "new_business_pipeline",
        "New-business pipeline",
        "新业务商机金额",
    ),
    (
        "marketing_sourced_opportunities",
        "Marketing-sourced opportunities",
        "市场来源商机数",
    ),
    (
        "marketing_sourced_pipeline",
        "Marketing-sourced pipeline",
        "市场来源商机金额",
    ),
    (
        "marketing_sourced_pipeline_pct",
        "Marketing-sourced pipeline %",
        "市场来源商机占比 %",
    ),
    (
        "marketing_sourced_revenue",
        "Marketing-sourced revenue",
        "市场来源收入",
    ),
    ("revenue_target", "Revenue target", "收入目标"),
    ("revenue_target_pct", "Revenue target %", "收入目标达成 %"),
    ("loss_reason", "Loss reason", "丢单原因"),
    ("lost_amount", "Lost amount", "丢单金额"),
    ("lost_pct", "Lost %", "丢单占比 %"),
    ("created", "Created", "新建"),
    ("lead_source", "Lead source", "线索来源"),
    ("leads", "Leads", "线索"),
    ("mqls", "MQLs", "MQL"),
    ("cost_per_lead", "Cost per lead", "单线索成本"),
    ("cost_per_mql", "Cost per MQL", "单 MQL 成本"),
    ("target_account_pct", "Target account %", "目标客户占比 %"),
    ("icp_pct", "ICP %", "ICP 占比 %"),
    ("demo_requests", "Demo requests", "演示请求"),
    ("target", "Target", "目标"),
    ("sessions", "Sessions", "会话"),
    ("page_views", "Page views", "页面浏览"),
    ("new_visitors", "New visitors", "新访客"),
    ("pages_per_session", "Pages per session", "每会话页面数"),
    (
        "avg_session_minutes",
        "Average session minutes",
        "平均会话分钟",
    ),
    ("bounce_rate", "Bounce rate", "跳出率"),
    ("avg_scroll_depth", "Average scroll depth", "平均滚动深度"),
    ("impressions", "Impressions", "展示"),
    ("clicks", "Clicks", "点击"),
    ("ctr", "CTR", "点击率"),
    ("cpm", "CPM", "千次展示成本"),
    ("cpc", "CPC", "单次点击成本"),
    ("cpl", "CPL", "单线索成本"),
    ("spend", "Spend", "花费"),
    ("arr_start", "ARR at start", "期初 ARR"),
    ("arr_end", "ARR at end", "期末 ARR"),
    ("mrr_start", "MRR at start", "期初 MRR"),
    ("mrr_end", "MRR at end", "期末 MRR"),
    ("mrr", "MRR", "MRR"),
    ("arr", "ARR", "ARR"),
    ("nrr", "NRR", "净收入留存率"),
    ("grr", "GRR", "总收入留存率"),
    ("expansion_mrr", "Expansion MRR", "扩展 MRR"),
    ("contraction_mrr", "Contraction MRR", "收缩 MRR"),
    ("churned_mrr", "Churned MRR", "流失 MRR"),
    ("churned_accounts", "Churned accounts", "流失客户"),
    ("cohort_accounts", "Cohort accounts", "同期客户"),
    ("logo_churn_rate", "Logo churn rate", "客户流失率"),
    ("new_mrr", "New MRR", "新增 MRR"),
    ("new_accounts", "New accounts", "新客户"),
    ("month", "Month", "月份"),
    ("from", "From", "起始"),
    ("responses", "Responses", "回复数"),
    ("promoters", "Promoters", "推荐者"),
    ("passives", "Passives", "被动者"),
    ("detractors", "Detractors", "贬损者"),
    ("nps", "NPS", "NPS"),
    ("csat", "CSAT %", "CSAT %"),
    ("csat_responses", "CSAT responses", "CSAT 回复数"),
    ("satisfied", "Satisfied", "满意"),
    ("previous_nps", "Previous NPS", "上期 NPS"),
    ("nps_change", "NPS change", "NPS 变化"),
    ("clv", "CLV", "客户终身价值"),
    ("product", "Product", "产品"),
    ("people", "People", "人数"),
    ("signals", "Signals", "信号"),
    ("expected_purchases", "Expected purchases", "预期购买次数"),
    ("expected_value", "Expected value", "预期价值"),
    ("metric", "Metric", "指标"),
    ("group", "Group", "分组"),
    ("value", "Value", "数值"),
    ("previous", "Previous", "上期"),
    ("day", "Day", "日期"),
    ("match_rule", "Match rule", "匹配规则"),
    ("activity_id", "Activity ID", "活动 ID"),
    ("stage", "Stage", "阶段"),
    ("period", "Period", "周期"),
    ("model", "Model", "模型"),
    ("sales_cycle_days", "Sales cycle (days)", "销售周期（天）"),
    ("pipeline_velocity", "Pipeline velocity", "商机速度"),
    ("id", "ID", "ID"),
    ("customers", "Customers", "客户数"),
    ("frequency", "Repeat purchases", "重复购买次数"),
    ("recency", "Recency (months)", "最近购买（月）"),
    ("t", "Age (months)", "客户时长（月）"),
    ("monetary_value", "Average purchase", "平均购买额"),
    ("probability_alive", "Probability active", "仍活跃概率"),
    (
        "expected_average_value",
        "Expected average purchase",
        "预期平均购买额",
    ),
    ("amount", "Amount", "金额"),
    ("created_at", "Created", "创建时间"),
    ("close_date", "Close date", "结单日期"),
    ("is_won", "Won", "赢单"),
    ("engaged_accounts", "Engaged accounts", "活跃客户"),
    (
        "engaged_target_accounts",
        "Engaged target accounts",
        "活跃目标客户",
    ),
    ("mqas", "MQAs", "MQA 数"),
    ("accounts_reached", "Accounts reached", "触达客户"),
    ("accounts_visiting", "Accounts visiting", "访问客户"),
    (
        "accounts_with_meeting_held",
        "Accounts with a meeting held",
        "已开会客户",
    ),
    (
        "accounts_with_opportunity_after",
        "Accounts with an opportunity after",
        "会后产生商机的客户",
    ),
    (
        "annual_logo_churn_rate",
        "Annual logo churn rate",
        "年客户流失率",
    ),
    (
        "avg_annual_revenue_per_customer",
        "Average annual revenue per customer",
        "每客户平均年收入",
    ),
    ("bounces", "Bounces", "退信"),
    (
        "break_even_win_rate",
        "Break-even win rate",
        "盈亏平衡赢单率",
    ),
    ("cac", "CAC", "获客成本"),
    ("categories", "Categories", "类别"),
    ("click_rate", "Click rate", "点击率"),
    ("click_to_open", "Click-to-open rate", "点击打开率"),
    ("clv_before_cac", "CLV before CAC", "扣除获客成本前的 CLV"),
    ("comments", "Comments", "评论"),
    ("completion_rate", "Completion rate", "完播率"),
    ("contacts", "Contacts", "联系人"),
    ("cross_sell_signals", "Cross-sell signals", "交叉销售信号"),
    ("deals", "Deals", "交易数"),
    ("deals_won", "Deals won", "赢单数"),
    ("delivered", "Delivered", "送达"),
    ("dimension", "Dimension", "维度"),
    ("email", "Email", "邮件"),
    ("engagement_rate", "Engagement rate", "互动率"),
    ("engagements", "Engagements", "互动数"),
    (
        "expected_lifetime_years",
        "Expected lifetime (years)",
        "预期生命周期（年）",
    ),
    ("first_touch", "First touch", "首次触达"),
    ("first_touch_at", "First touch at", "首次跟进时间"),
    ("first_touch_channel", "First-touch channel", "首次触达渠道"),
    ("first_touch_type", "First touch type", "首次跟进类型"),
    ("followed_up", "Followed up", "已跟进"),
    ("followed_up_share", "Followed-up share", "跟进比例"),
    ("follows", "Follows", "关注"),
    ("gross_margin", "Gross margin", "毛利率"),
    (
        "hours_to_follow_up",
        "Hours to follow-up",
        "跟进用时（小时）",
    ),
    ("identified_sessions", "Identified sessions", "已识别会话"),
    ("interval", "Interval", "区间"),
    ("last_non_direct", "Last non-direct", "最后非直接触达"),
    ("last_touch", "Last touch", "最后触达"),
    ("likes", "Likes", "点赞"),
    ("linear", "Linear", "线性"),
    ("linear_unique", "Linear (unique)", "线性（去重）"),
    ("marketing_cost", "Marketing cost", "市场成本"),
    ("markov", "Markov", "马尔可夫"),
    ("mean_days", "Mean days", "平均天数"),
    ("median_days", "Median days", "中位天数"),
    (
        "median_hours",
        "Median hours to follow-up",
        "跟进用时中位数（小时）",
    ),
    (
        "meeting_to_opp_pct",
        "Meeting-to-opportunity %",
        "会议转商机 %",
    ),
    ("mentions", "Mentions", "提及"),
    ("milestones", "Milestones", "里程碑"),
    ("months", "Months", "月数"),
    ("name", "Name", "名称"),
    ("new_customers", "New customers", "新客户数"),
    ("new_visitor_pct", "New visitor %", "新访客 %"),
    ("open_opportunities", "Open opportunities", "未结商机数"),
    ("open_rate", "Open rate", "打开率"),
    (
        "opportunities_created",
        "Opportunities created",
        "新建商机数",
    ),
    (
        "page_views_with_scroll_depth",
        "Page views with scroll depth",
        "有滚动深度的页面浏览",
    ),
    ("position_based", "Position-based (U)", "位置归因（U 型）"),
    ("qualified_at", "Qualified at", "达标时间"),
    ("responses_pct", "Responses %", "回复占比 %"),
    (
        "reverse_ip_sessions",
        "Reverse-IP sessions",
        "反向 IP 识别会话",
    ),
    ("sales_cost", "Sales cost", "销售成本"),
    (
        "sales_cycle_days_mean",
        "Sales cycle, mean days",
        "销售周期平均天数",
    ),
    (
        "sales_cycle_days_median",
        "Sales cycle, median days",
        "销售周期中位天数",
    ),
    ("scroll_25_pct", "Scrolled 25 %", "滚动至 25 %"),
    ("scroll_50_pct", "Scrolled 50 %", "滚动至 50 %"),
    ("scroll_75_pct", "Scrolled 75 %", "滚动至 75 %"),
    ("scroll_100_pct", "Scrolled 100 %", "滚动至 100 %"),
    ("self_reported", "Self-reported", "自报来源"),
    ("sends", "Sends", "发送"),
    ("series", "Series", "序列"),
    ("sessions_by_channel", "Sessions by channel", "按渠道的会话"),
    ("shapley", "Shapley", "沙普利值"),
    ("shares", "Shares", "分享"),
    ("simple", "Simple CLV", "简单 CLV"),
    ("social", "Social", "社交"),
    ("stages", "Days in stage", "各阶段停留天数"),
    (
        "target_accounts_reached",
        "Target accounts reached",
        "触达目标客户",
    ),
    ("target_reach_pct", "Target reach %", "目标客户触达率 %"),
    ("time_decay", "Time decay", "时间衰减"),
    (
        "top_first_touch_channel",
        "Top first-touch channel",
        "主要首次触达渠道",
    ),
    ("top_titles", "Top titles", "主要职位"),
    ("totals", "Totals", "合计"),
    ("unique_clicks", "Unique clicks", "独立点击"),
    ("unique_opens", "Unique opens", "独立打开"),
    ("unsubscribe_rate", "Unsubscribe rate", "退订率"),
    ("unsubscribes", "Unsubscribes", "退订"),
    ("upsell_signals", "Upsell signals", "追加销售信号"),
    ("video_completions", "Video completions", "视频完播"),
    ("video_views", "Video views", "视频观看"),
    ("view_rate", "View rate", "观看率"),
    ("visits_by_account", "Visits by account", "按客户的访问"),
    ("w_shaped", "W-shaped", "W 型"),
    ("win_rate_by", "Win rate by segment", "按细分的赢单率"),
    ("full_path", "Full path (Z)", "全路径（Z 型）"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_language_we_speak() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::ZhCn
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR,en;q=0.5,zh;q=0.4"),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.3, zh-Hans;q=0.7"),
            Lang::ZhCn
        );
        assert_eq!(Lang::from_accept_language("zh-TW,de"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::parse("ZH_cn"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("de"), None);
    }

    #[test]
    fn every_entry_is_translated_once() {
        for table in [TEXT, LABELS] {
            let mut seen = std::collections::HashSet::new();
            for (key, en, zh) in table {
                assert!(seen.insert(key), "{key} twice");
                assert!(!en.is_empty() && !zh.is_empty(), "{key} untranslated");
                assert!(
                    zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) || zh.is_ascii(),
                    "{key}: {zh}"
                );
            }
        }
    }

    #[test]
    fn labels_fall_back_to_the_field_name() {
        assert_eq!(Lang::ZhCn.label("weighted_minutes"), "加权分钟");
        assert_eq!(Lang::En.label("some_new_field"), "some new field");
        assert_eq!(Lang::ZhCn.t("overview"), "概览");
        assert_eq!(Lang::En.t("not-a-key"), "not-a-key");
    }
}
