//! The manifest: the one file that says which Parquet files make up each table.
//!
//! **A table is exactly the files its manifest lists.** Data files are written first, under
//! new names; the manifest is then replaced atomically (write a temporary file, fsync,
//! rename over the old one, fsync the folder). A crash at any point leaves either the old
//! manifest or the new one, never a mix; files no manifest lists are garbage.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use abmeter_model::Table;
use serde::{Deserialize, Serialize};

use crate::StoreError;

pub const MANIFEST_FILE: &str = "manifest.json";
const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataFile {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableFiles {
    pub files: Vec<DataFile>,
}

impl TableFiles {
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// Incremented by every commit; new data files carry it in their names.
    pub generation: u64,
    pub committed_at: Option<String>,
    pub tables: BTreeMap<String, TableFiles>,
    /// The server's write-ahead log: every record up to this sequence number is in the
    /// tables (replay skips them). 0 when no server has flushed into the workspace.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wal_flushed_seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            format: FORMAT,
            generation: 0,
            committed_at: None,
            tables: BTreeMap::new(),
            wal_flushed_seq: 0,
        }
    }
}

impl Manifest {
    /// Reads the workspace's manifest; a workspace without one is empty.
    pub fn load(root: &Path) -> Result<Manifest, StoreError> {
        let path = root.join(MANIFEST_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if m.format != FORMAT {
            return Err(StoreError::Corrupt {
                path,
                message: format!(
                    "manifest format {} is not supported (expected {FORMAT})",
                    m.format
                ),
            });
        }
        Ok(m)
    }

    pub fn table(&self, table: Table) -> Option<&TableFiles> {
        self.tables.get(table.name())
    }

    pub fn rows(&self, table: Table) -> u64 {
        self.table(table).map_or(0, TableFiles::rows)
    }

    /// Replaces the workspace's manifest with this one, atomically and durably.
    pub fn commit(&self, root: &Path) -> Result<(), StoreError> {
        let tmp = root.join(format!("{MANIFEST_FILE}.tmp"));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        let text = serde_json::to_vec_pretty(self).expect("manifest serialises");
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&text).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        let dest = root.join(MANIFEST_FILE);
        fs::rename(&tmp, &dest).map_err(io(&dest))?;
        sync_dir(root)
    }
}

/// fsync a folder so a rename or a new file in it survives a power cut.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })
}
