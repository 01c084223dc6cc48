//! The `resolved_activities` view (SPEC §3): every activity with its resolved contact and
//! account, the rule that matched, seniority, department, minutes and weighted minutes.
//!
//! Resolution runs in Rust as one scalar function over the identifying columns
//! (`abmeter_resolve(account_id, contact_id, email, anonymous_id, ip, type,
//! duration_minutes)`), a handful of hash lookups per row in the stored identity map, instead
//! of several SQL joins per query. The map is read lazily, on the first batch that needs it,
//! so queries that never touch the view never pay for it.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use abmeter_model::{Config, Table};
use abmeter_resolve::resolved::{INPUT_COLUMNS, Resolver, output_fields};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::manifest::Manifest;
use crate::{StoreError, identity};

/// The function's name in SQL.
pub const RESOLVE_FUNCTION: &str = "abmeter_resolve";

/// The view's SQL: readable by users (`abmeter sql "SHOW CREATE …"` is not supported, so the
/// docs print it), and the one definition every metric reads.
pub fn view_sql() -> String {
    let activity_columns: Vec<String> = Table::Activities
        .schema()
        .fields()
        .iter()
        .map(|f| format!("a.{}", f.name()))
        .collect();
    let resolved: Vec<String> = output_fields()
        .iter()
        .map(|f| format!("a.r['{0}'] AS {0}", f.name()))
        .collect();
    // Calls that are not interactions (identify, group, alias, unmapped track) stay out.
    let calls: Vec<String> = abmeter_model::config::CALL_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect();
    format!(
        "SELECT {}, {} FROM (SELECT *, {RESOLVE_FUNCTION}({}) AS r FROM activities \
         WHERE type NOT IN ({})) a",
        activity_columns.join(", "),
        resolved.join(", "),
        INPUT_COLUMNS.join(", "),
        calls.join(", ")
    )
}

/// Registers the function, the stored `identity_map` table and the view on `ctx`.
pub fn register(
    ctx: &SessionContext,
    root: PathBuf,
    manifest: Manifest,
    config: Config,
) -> Result<(), StoreError> {
    let udf = ResolveUdf {
        // Deterministic, but declared volatile so the optimizer never copies the call into a
        // filter below the view's projection: DataFusion then evaluated it twice, on every
        // row for the filter and again on the rows kept. Volatile, it runs once per batch.
        signature: Signature::any(INPUT_COLUMNS.len(), Volatility::Volatile),
        generation: manifest.generation,
        root,
        manifest,
        config,
        resolver: OnceLock::new(),
        recent: Mutex::new(VecDeque::new()),
    };
    ctx.register_udf(ScalarUDF::new_from_impl(udf));
    Ok(())
}

struct ResolveUdf {
    signature: Signature,
    root: PathBuf,
    generation: u64,
    manifest: Manifest,
    config: Config,
    resolver: OnceLock<std::result::Result<Resolver, String>>,
    /// The last few batches resolved, by their input arrays. DataFusion evaluates
    /// `r['field']` as a separate expression per field read, each calling the function on the
    /// same batch; this makes the second and later calls a lookup instead of a resolution.
    recent: Mutex<VecDeque<(Vec<ArrayRef>, ArrayRef)>>,
}

/// Batches remembered: enough for every partition's current batch.
const RECENT_BATCHES: usize = 8;

impl std::fmt::Debug for ResolveUdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolveUdf")
            .field("root", &self.root)
            .field("generation", &self.generation)
            .finish()
    }
}

// Two instances are the same function when they read the same workspace state.
impl PartialEq for ResolveUdf {
    fn eq(&self, other: &Self) -> bool {
        self.root == other.root && self.generation == other.generation
    }
}
impl Eq for ResolveUdf {}
impl Hash for ResolveUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.root.hash(state);
        self.generation.hash(state);
    }
}

impl ResolveUdf {
    fn resolver(&self) -> Result<&Resolver> {
        self.resolver
            .get_or_init(|| {
                identity::load_for_resolution(&self.root, &self.manifest)
                    .map(|map| Resolver::new(map, &self.config))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| DataFusionError::Execution(format!("identity map: {e}")))
    }
}

impl ScalarUDFImpl for ResolveUdf {
    fn name(&self) -> &str {
        RESOLVE_FUNCTION
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(output_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let same = |seen: &[ArrayRef]| seen.iter().zip(&arrays).all(|(a, b)| Arc::ptr_eq(a, b));
        {
            let recent = self.recent.lock().expect("cache lock");
            if let Some((_, out)) = recent.iter().find(|(seen, _)| same(seen)) {
                return Ok(ColumnarValue::Array(out.clone()));
            }
        }
        let out: ArrayRef = Arc::new(
            self.resolver()?
                .resolve_columns(&arrays)
                .map_err(DataFusionError::Execution)?,
        );
        let mut recent = self.recent.lock().expect("cache lock");
        if recent.len() == RECENT_BATCHES {
            recent.pop_front();
        }
        recent.push_back((arrays, out.clone()));
        Ok(ColumnarValue::Array(out))
    }
}

/// Starts reading the identity map on a thread of its own, for a query known to read the
/// view: its first batch would otherwise wait for the map with every other partition idle.
pub fn prefetch(ctx: &SessionContext) {
    let Ok(udf) = ctx.udf(RESOLVE_FUNCTION) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(f) = udf.inner().downcast_ref::<ResolveUdf>() {
            // An error is reported again by the query that needs the map.
            let _ = f.resolver();
        }
    });
}

/// Registers the view on `ctx` (after [`register`] and the tables).
pub async fn register_view(ctx: &SessionContext) -> Result<(), StoreError> {
    let df = ctx.sql(&view_sql()).await?;
    ctx.register_table("resolved_activities", df.into_view())?;
    Ok(())
}
