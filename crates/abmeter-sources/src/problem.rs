//! Bad input as data: every refused row names its file, line, column and value.

use std::fmt;
use std::path::PathBuf;

/// One refused row: where, what and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line where the row starts (the header is line 1 of a CSV).
    pub line: u64,
    /// 1-based column number in the file (CSV), when the problem is one cell's.
    pub column_number: Option<usize>,
    /// The column or JSON field name.
    pub column: Option<String>,
    /// The offending value, as written.
    pub value: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: line {}", self.file, self.line)?;
        match (&self.column, self.column_number) {
            (Some(name), Some(n)) => write!(f, ", column {n} ({name})")?,
            (Some(name), None) => write!(f, ", field `{name}`")?,
            _ => {}
        }
        match &self.value {
            Some(v) => write!(f, ": {:?} {}", truncate(v, 80), self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// A refused row and its original text, for `rejected-<kind>.csv`.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub problem: Problem,
    pub raw: String,
}

/// What stops a whole file: it cannot be read, or its header does not fit the table.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: line {line}: {message}")]
    Format {
        file: String,
        line: u64,
        message: String,
    },
}
