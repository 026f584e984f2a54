//! The one error type of the reader: where (file, line, column) and what ([`ErrorKind`]).
//!
//! Every problem with the input names the file, the line (1-based; the header is line 1, so the
//! first data row is line 2) and the column (by its header name) whenever they are known:
//!
//! ```text
//! Line.csv:5: column `type`: "NAYY 4x999" is not an id of LineType.csv
//! LoadProfile.csv:3: column `H0-A_pload`: "abc" is not a number
//! Node.csv: missing column `vmR`
//! ```

use std::fmt;
use std::path::PathBuf;

/// A problem reading a SimBench grid.
#[derive(Debug)]
pub struct Error {
    /// The file concerned (`None` for the grid folder itself).
    pub file: Option<PathBuf>,
    /// 1-based line of the file (the header is line 1).
    pub line: Option<usize>,
    /// Header name of the column.
    pub column: Option<String>,
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("cannot read: {0}")]
    Io(#[source] std::io::Error),
    #[error("required table is missing")]
    MissingFile,
    #[error("the file is empty (no header row)")]
    Empty,
    #[error("missing column `{0}`")]
    MissingColumn(String),
    #[error("expected {expected} fields (as the header), found {found}")]
    FieldCount { expected: usize, found: usize },
    #[error("a value is required (found \"{0}\")")]
    MissingValue(String),
    #[error("\"{0}\" is not a number")]
    NotANumber(String),
    #[error("\"{value}\" is not an id of {table}")]
    UnknownReference { value: String, table: String },
    #[error("\"{value}\" is defined twice (first on line {first_line})")]
    DuplicateId { value: String, first_line: usize },
    #[error("\"{value}\": {reason}")]
    Invalid { value: String, reason: String },
    #[error("not supported by this reader: {0}")]
    Unsupported(String),
    #[error("step {step} is outside the profiles ({steps} steps)")]
    StepOutOfRange { step: usize, steps: usize },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error {
            file: None,
            line: None,
            column: None,
            kind,
        }
    }

    pub(crate) fn in_file(mut self, file: impl Into<PathBuf>) -> Error {
        self.file = Some(file.into());
        self
    }

    pub(crate) fn at_line(mut self, line: usize) -> Error {
        self.line = Some(line);
        self
    }

    pub(crate) fn in_column(mut self, column: impl Into<String>) -> Error {
        self.column = Some(column.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}", file.display())?,
            None => write!(f, "SimBench grid")?,
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(column) = &self.column {
            write!(f, "column `{column}`: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_column() {
        let e = Error::new(ErrorKind::NotANumber("abc".into()))
            .in_file("Line.csv")
            .at_line(5)
            .in_column("length");
        assert_eq!(
            e.to_string(),
            "Line.csv:5: column `length`: \"abc\" is not a number"
        );
        let e = Error::new(ErrorKind::MissingColumn("vmR".into())).in_file("Node.csv");
        assert_eq!(e.to_string(), "Node.csv: missing column `vmR`");
    }
}
