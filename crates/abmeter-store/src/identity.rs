//! The identity map in the store: built from the tables a manifest lists, written beside them
//! as `tables/identity_map/…parquet` in the same commit, and read back for the
//! `resolved_activities` view. Every import rebuilds it, so contacts, accounts and ranges
//! that arrive late re-attribute earlier activities, and new visitors get stitched.

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;

use abmeter_model::{Config, Table};
use abmeter_resolve::identity::{
    self, Account, Contact, Identification, IdentityMap, Inputs, IpRange,
};
use abmeter_resolve::identity_table;
use abmeter_resolve::lookup::{Lookup, STORED_COLUMNS};
use abmeter_resolve::resolved::Text;
use abmeter_resolve::titles::TitleClassifier;
use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use crate::manifest::{DataFile, Manifest};
use crate::{StoreError, read_parquet_files};

/// The manifest entry and folder of the derived identity map.
pub const IDENTITY_MAP: &str = "identity_map";

/// Distinct values, hashed with ahash (this runs once per imported row).
pub type KeySet = HashSet<abmeter_resolve::identity::Key, ahash::RandomState>;

/// What resolution needs from activities: identifications for stitching, and the distinct
/// emails and IPs to look up once.
#[derive(Debug, Default)]
pub struct ActivityKeys {
    pub identifications: Vec<Identification>,
    pub emails: KeySet,
    pub ips: KeySet,
}

impl ActivityKeys {
    /// Adds the keys of a batch of activities.
    pub fn collect(&mut self, b: &RecordBatch) -> Result<(), StoreError> {
        collect_keys(b, self)
    }

    pub fn merge(&mut self, other: ActivityKeys) {
        self.identifications.extend(other.identifications);
        self.emails.extend(other.emails);
        self.ips.extend(other.ips);
    }

    /// The keys a stored map already holds (so an import adds only its own).
    pub fn of_map(map: &IdentityMap) -> ActivityKeys {
        let (identifications, emails, ips) = map.activity_inputs();
        ActivityKeys {
            identifications,
            emails: emails.iter().map(|e| e.as_str().into()).collect(),
            ips: ips.iter().map(|e| e.as_str().into()).collect(),
        }
    }
}

/// Builds the identity map of the entity tables `manifest` lists and the given activity keys.
pub fn build(
    root: &Path,
    manifest: &Manifest,
    config: &Config,
    keys: ActivityKeys,
) -> Result<IdentityMap, StoreError> {
    let mut inputs = Inputs::default();
    let read = |table: Table| -> Result<Vec<RecordBatch>, StoreError> {
        match manifest.table(table) {
            Some(files) => read_parquet_files(root, files, None),
            None => Ok(Vec::new()),
        }
    };
    for b in read(Table::Accounts)? {
        let (id, name, domain, tier) = (
            text(&b, "id")?,
            text(&b, "name")?,
            text(&b, "domain")?,
            text(&b, "tier")?,
        );
        for i in 0..b.num_rows() {
            inputs.accounts.push(Account {
                id: id.value(i).to_string(),
                name: get(name, i).unwrap_or_default(),
                domains: get(domain, i)
                    .map(|d| d.split(';').map(|s| s.trim().to_string()).collect())
                    .unwrap_or_default(),
                tier: get(tier, i),
            });
        }
    }
    for b in read(Table::Contacts)? {
        let cols = [
            "id",
            "account_id",
            "email",
            "company",
            "title",
            "department",
            "seniority",
            "persona",
        ]
        .map(|c| text(&b, c));
        let [
            id,
            account,
            email,
            company,
            title,
            department,
            seniority,
            persona,
        ] = cols;
        let (id, account, email, company, title, department, seniority, persona) = (
            id?,
            account?,
            email?,
            company?,
            title?,
            department?,
            seniority?,
            persona?,
        );
        for i in 0..b.num_rows() {
            inputs.contacts.push(Contact {
                id: id.value(i).to_string(),
                account_id: get(account, i),
                email: get(email, i),
                company: get(company, i),
                title: get(title, i),
                department: get(department, i),
                seniority: get(seniority, i),
                persona: get(persona, i),
            });
        }
    }
    for b in read(Table::IpRanges)? {
        let (network, account, domain, kind) = (
            text(&b, "network")?,
            text(&b, "account_id")?,
            text(&b, "domain")?,
            text(&b, "type")?,
        );
        for i in 0..b.num_rows() {
            inputs.ip_ranges.push(IpRange {
                network: network.value(i).to_string(),
                account_id: get(account, i),
                // A range lists one domain; several (`a.com;b.com`) take the first.
                domain: get(domain, i).map(|d| d.split(';').next().unwrap_or("").to_string()),
                kind: get(kind, i),
            });
        }
    }
    inputs.identifications = keys.identifications;
    inputs.activity_emails = keys.emails.iter().map(|k| k.to_string()).collect();
    inputs.activity_ips = keys.ips.iter().map(|k| k.to_string()).collect();
    let titles = TitleClassifier::new(&config.title_rules, &config.personas);
    Ok(identity::build(&inputs, &titles))
}

/// The keys of every stored activity, read from the activity files on all cores.
pub fn scan_activities(root: &Path, manifest: &Manifest) -> Result<ActivityKeys, StoreError> {
    const COLUMNS: [&str; 6] = [
        "id",
        "timestamp",
        "contact_id",
        "email",
        "anonymous_id",
        "ip",
    ];
    let Some(files) = manifest.table(Table::Activities) else {
        return Ok(ActivityKeys::default());
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<&DataFile>> = (0..threads)
        .map(|t| files.files.iter().skip(t).step_by(threads).collect())
        .collect();
    let parts: Vec<Result<ActivityKeys, StoreError>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || -> Result<ActivityKeys, StoreError> {
                    let mut keys = ActivityKeys::default();
                    for f in chunk {
                        let path = root.join(&f.path);
                        let file = File::open(&path).map_err(|source| StoreError::Io {
                            path: path.clone(),
                            source,
                        })?;
                        let builder = ParquetRecordBatchReaderBuilder::try_new(file)?
                            .with_batch_size(64 * 1024);
                        let indices: Vec<usize> = COLUMNS
                            .iter()
                            .filter_map(|c| builder.schema().index_of(c).ok())
                            .collect();
                        let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
                        for b in builder.with_projection(mask).build()? {
                            keys.collect(&b?)?;
                        }
                    }
                    Ok(keys)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("activity scan thread panicked"))
            .collect()
    });
    let mut all = ActivityKeys::default();
    for part in parts {
        all.merge(part?);
    }
    Ok(all)
}

fn collect_keys(b: &RecordBatch, keys: &mut ActivityKeys) -> Result<(), StoreError> {
    let ActivityKeys {
        identifications: ids,
        emails,
        ips,
    } = keys;
    let column = |name: &str| {
        b.column_by_name(name)
            .ok_or_else(|| corrupt(&format!("activities has no column {name}")))
            .and_then(|c| Text::of(c).map_err(|e| corrupt(&format!("activities.{name}: {e}"))))
    };
    let (id, contact, email, anon, ip) = (
        column("id")?,
        column("contact_id")?,
        column("email")?,
        column("anonymous_id")?,
        column("ip")?,
    );
    let ts = b
        .column_by_name("timestamp")
        .map(|c| c.as_primitive::<TimestampMicrosecondType>())
        .ok_or_else(|| corrupt("activities has no timestamp column"))?;
    add_distinct(&email, b.num_rows(), emails);
    add_distinct(&ip, b.num_rows(), ips);
    for i in 0..b.num_rows() {
        if let Some(anonymous_id) = anon.get(i) {
            let (contact_id, email) = (contact.get(i), email.get(i));
            if contact_id.is_none() && email.is_none() {
                continue;
            }
            ids.push(Identification {
                anonymous_id: anonymous_id.to_string(),
                contact_id: contact_id.map(str::to_string),
                email: email.map(str::to_string),
                timestamp: ts.value(i),
                activity_id: id.get(i).unwrap_or_default().to_string(),
            });
        }
    }
    Ok(())
}

/// Adds the distinct values of a key column to `set`.
fn add_distinct(column: &Text, rows: usize, set: &mut KeySet) {
    let mut add = |v: &str| {
        if !set.contains(v) {
            set.insert(v.into());
        }
    };
    match column {
        // A dictionary's values, each once (those the rows use: a sliced batch may not).
        Text::Dict { keys, text, .. } => {
            let mut seen = vec![false; text.len()];
            for (i, &k) in keys.values().iter().enumerate() {
                let k = k as usize;
                if keys.is_valid(i) && k < text.len() && !seen[k] {
                    seen[k] = true;
                    if text.is_valid(k) {
                        add(text.value(k));
                    }
                }
            }
        }
        // Neighbouring rows often repeat a value (a visitor's page views): skip the hash then.
        _ => {
            let mut last = None;
            for i in 0..rows {
                let v = column.get(i);
                if v.is_some() && v != last {
                    add(v.unwrap_or_default());
                }
                last = v;
            }
        }
    }
}

/// Writes the map as `tables/identity_map/g<generation>.parquet`; returns its manifest entry
/// and the path written.
pub fn write(
    root: &Path,
    generation: u64,
    map: &IdentityMap,
) -> Result<(DataFile, std::path::PathBuf), StoreError> {
    let rel = format!("tables/{IDENTITY_MAP}/g{generation:08}.parquet");
    let path = root.join(&rel);
    let io = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(path.parent().expect("folder")).map_err(io)?;
    let batches = map.to_record_batches();
    let file = File::create(&path).map_err(io)?;
    // No dictionaries for the columns that are (nearly) unique per row: building one only to
    // give it up costs more than the write.
    let props = [
        "key",
        "contact_id",
        "email",
        "company",
        "activity_id",
        "network",
    ]
    .into_iter()
    .fold(WriterProperties::builder(), |b, c| {
        b.set_column_dictionary_enabled(ColumnPath::from(c), false)
    })
    .build();
    let mut w = ArrowWriter::try_new(file, identity_table::schema(), Some(props))?;
    for b in &batches {
        w.write(b)?;
    }
    let file = w.into_inner()?;
    file.sync_all().map_err(io)?;
    Ok((
        DataFile {
            path: rel,
            rows: batches.iter().map(|b| b.num_rows() as u64).sum(),
        },
        path,
    ))
}

/// Reads the stored map of `manifest` whole; a workspace without one has an empty map.
pub fn load(root: &Path, manifest: &Manifest) -> Result<IdentityMap, StoreError> {
    IdentityMap::from_record_batches(&stored_batches(root, manifest, None)?)
        .map_err(|m| corrupt(&m))
}

/// Reads the stored map compiled for the `resolved_activities` view (only the columns it
/// needs).
pub fn load_for_resolution(root: &Path, manifest: &Manifest) -> Result<Lookup, StoreError> {
    let schema = identity_table::schema();
    let columns: Vec<usize> = STORED_COLUMNS
        .iter()
        .map(|c| schema.index_of(c).expect("a column of the map"))
        .collect();
    Lookup::from_stored(&stored_batches(root, manifest, Some(&columns))?).map_err(|m| corrupt(&m))
}

fn stored_batches(
    root: &Path,
    manifest: &Manifest,
    columns: Option<&[usize]>,
) -> Result<Vec<RecordBatch>, StoreError> {
    match manifest.tables.get(IDENTITY_MAP) {
        Some(files) => read_parquet_files(root, files, columns),
        None => Ok(Vec::new()),
    }
}

fn corrupt(message: &str) -> StoreError {
    StoreError::Corrupt {
        path: IDENTITY_MAP.into(),
        message: message.to_string(),
    }
}

fn text<'b>(b: &'b RecordBatch, name: &str) -> Result<&'b StringArray, StoreError> {
    b.column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| corrupt(&format!("a stored table has no text column {name}")))
}

fn get(a: &StringArray, i: usize) -> Option<String> {
    (!a.is_null(i)).then(|| a.value(i).to_string())
}
