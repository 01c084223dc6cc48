//! The `resolved_activities` view (SPEC §3): every activity with its resolved contact and
//! account, the rule that matched, seniority, department, minutes and weighted minutes.
//!
//! Resolution runs in Rust, as one scalar function per resolved column
//! (`abmeter_resolved_account_id(account_id, contact_id, email, anonymous_id, ip)`, …,
//! `abmeter_weighted_minutes(…, type, duration_minutes)`) over the compiled identity map
//! (`abmeter_resolve::lookup`): a few hash probes per row instead of several SQL joins per
//! query. The functions share one resolution per batch, so a query pays for resolving a row
//! once and for building only the columns it reads. The map is read lazily, on the first
//! batch that needs it, so queries that never touch the view never pay for it.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use abmeter_model::{Config, Table};
use abmeter_resolve::lookup::Resolved;
use abmeter_resolve::resolved::{INPUT_COLUMNS, KEY_COLUMNS, Resolver, output_fields};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::manifest::Manifest;
use crate::{StoreError, identity};

/// The SQL name of the function giving resolved column `field`.
pub fn function_name(field: &str) -> String {
    format!("abmeter_{field}")
}

/// How many input columns the function of output field number `field` takes: minutes and
/// weighted minutes also read the type and duration.
fn arity(field: usize) -> usize {
    if field >= 7 {
        INPUT_COLUMNS.len()
    } else {
        KEY_COLUMNS
    }
}

/// The internal table the view reads: `activities` with its identifying columns read as
/// dictionaries.
pub const KEYED_ACTIVITIES: &str = "activities_keyed";

/// The schema of [`KEYED_ACTIVITIES`]: `activities`' with the identifying columns
/// ([`INPUT_COLUMNS`]`[..KEY_COLUMNS]`) as dictionaries. Activity files carry it as their
/// Arrow schema, so the Parquet reader hands the view each row group's dictionary page as is
/// and resolution looks up each distinct key once per row group, not once per row.
pub fn keyed_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let keys = &INPUT_COLUMNS[..KEY_COLUMNS];
            let fields: Vec<Field> = Table::Activities
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    if keys.contains(&f.name().as_str()) {
                        f.as_ref().clone().with_data_type(DataType::Dictionary(
                            Box::new(DataType::Int32),
                            Box::new(DataType::Utf8),
                        ))
                    } else {
                        f.as_ref().clone()
                    }
                })
                .collect();
            Arc::new(Schema::new(fields))
        })
        .clone()
}

/// The view's SQL: readable by users (`abmeter explain engagement` prints it), and the one
/// definition every metric reads.
pub fn view_sql() -> String {
    let keys = &INPUT_COLUMNS[..KEY_COLUMNS];
    let activities = Table::Activities.schema();
    // The identifying columns come back as text, as `activities` has them.
    let activity_columns = activities.fields().iter().map(|f| {
        let name = f.name();
        if keys.contains(&name.as_str()) {
            format!("arrow_cast({name}, 'Utf8') AS {name}")
        } else {
            name.to_string()
        }
    });
    let outputs = output_fields();
    let resolved = outputs.iter().enumerate().map(|(i, f)| {
        format!(
            "{}({}) AS {}",
            function_name(f.name()),
            INPUT_COLUMNS[..arity(i)].join(", "),
            f.name()
        )
    });
    // Calls that are not interactions (identify, group, alias, unmapped track) stay out.
    let calls: Vec<String> = abmeter_model::config::CALL_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect();
    format!(
        "SELECT {} FROM {KEYED_ACTIVITIES} WHERE type NOT IN ({})",
        activity_columns
            .chain(resolved)
            .collect::<Vec<_>>()
            .join(", "),
        calls.join(", ")
    )
}

/// Registers the functions on `ctx`.
pub fn register(
    ctx: &SessionContext,
    root: PathBuf,
    manifest: Manifest,
    config: Config,
) -> Result<(), StoreError> {
    let shared = Arc::new(Shared {
        generation: manifest.generation,
        root,
        manifest,
        config,
        resolver: OnceLock::new(),
        recent: Mutex::new(VecDeque::new()),
    });
    for (field, f) in output_fields().iter().enumerate() {
        ctx.register_udf(ScalarUDF::new_from_impl(ResolvedColumn {
            name: function_name(f.name()),
            // Deterministic, but declared volatile so the optimizer never copies the call
            // into a filter below the view's projection: DataFusion then evaluated it twice,
            // on every row for the filter and again on the rows kept.
            signature: Signature::any(arity(field), Volatility::Volatile),
            field,
            data_type: f.data_type().clone(),
            shared: shared.clone(),
        }));
    }
    Ok(())
}

/// What the functions of one session share: the resolver, and the last batches resolved.
struct Shared {
    root: PathBuf,
    generation: u64,
    manifest: Manifest,
    config: Config,
    resolver: OnceLock<std::result::Result<Resolver, String>>,
    /// The last few batches resolved, by their key arrays. Each resolved column the query
    /// reads is a call on the same batch; the first resolves it, the others reuse that.
    /// Holding the arrays keeps their addresses from being reused by another batch.
    recent: Mutex<VecDeque<ResolvedBatch>>,
}

/// A batch's key arrays and the resolution of its rows.
type ResolvedBatch = (Vec<ArrayRef>, Arc<Vec<Resolved>>);

/// Batches remembered: enough for every partition's current batch.
const RECENT_BATCHES: usize = 8;

impl Shared {
    fn resolver(&self) -> Result<&Resolver> {
        self.resolver
            .get_or_init(|| {
                identity::load_for_resolution(&self.root, &self.manifest)
                    .map(|lookup| Resolver::new(lookup, &self.config))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| DataFusionError::Execution(format!("identity map: {e}")))
    }

    /// The resolution of a batch's rows, computed once for all the columns read.
    fn resolve(&self, keys: &[ArrayRef]) -> Result<Arc<Vec<Resolved>>> {
        let same = |seen: &[ArrayRef]| seen.iter().zip(keys).all(|(a, b)| Arc::ptr_eq(a, b));
        {
            let recent = self.recent.lock().expect("cache lock");
            if let Some((_, rows)) = recent.iter().find(|(seen, _)| same(seen)) {
                return Ok(rows.clone());
            }
        }
        let rows = Arc::new(
            self.resolver()?
                .resolve_keys(keys)
                .map_err(DataFusionError::Execution)?,
        );
        let mut recent = self.recent.lock().expect("cache lock");
        if recent.len() == RECENT_BATCHES {
            recent.pop_front();
        }
        recent.push_back((keys.to_vec(), rows.clone()));
        Ok(rows)
    }
}

/// The function giving one resolved column.
struct ResolvedColumn {
    name: String,
    signature: Signature,
    /// Position in `output_fields()`.
    field: usize,
    data_type: DataType,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ResolvedColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedColumn")
            .field("name", &self.name)
            .field("root", &self.shared.root)
            .field("generation", &self.shared.generation)
            .finish()
    }
}

// Two instances are the same function when they give the same column of the same
// workspace state.
impl PartialEq for ResolvedColumn {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field
            && self.shared.root == other.shared.root
            && self.shared.generation == other.shared.generation
    }
}
impl Eq for ResolvedColumn {}
impl Hash for ResolvedColumn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.field.hash(state);
        self.shared.root.hash(state);
        self.shared.generation.hash(state);
    }
}

impl ScalarUDFImpl for ResolvedColumn {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.data_type.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = self.shared.resolve(&arrays[..KEY_COLUMNS])?;
        let column = self
            .shared
            .resolver()?
            .column(self.field, &rows, &arrays)
            .map_err(DataFusionError::Execution)?;
        Ok(ColumnarValue::Array(column))
    }
}

/// Starts reading the identity map on a thread of its own, for a query known to read the
/// view: its first batch would otherwise wait for the map with every other partition idle.
pub fn prefetch(ctx: &SessionContext) {
    let Ok(udf) = ctx.udf(&function_name("resolved_account_id")) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(f) = udf.inner().downcast_ref::<ResolvedColumn>() {
            // An error is reported again by the query that needs the map.
            let _ = f.shared.resolver();
        }
    });
}

/// Registers the view on `ctx` (after [`register`] and the tables).
pub async fn register_view(ctx: &SessionContext) -> Result<(), StoreError> {
    let df = ctx.sql(&view_sql()).await?;
    ctx.register_table("resolved_activities", df.into_view())?;
    Ok(())
}
