//! SimBench's CSV dialect: one table per file, `;`-separated, a header row, `NULL` (or an empty
//! cell) for "not set", `.` as decimal point, no quoting of separators.
//!
//! A [`Table`] keeps every cell as text with its line number, so that each typed read can say
//! where a bad value is:
//!
//! ```text
//! id;r;x;b;iMax;type                  ← line 1 (header)
//! NAYY 4x150SE 0.6/1kV;0.2067;...     ← line 2: Row 0
//! ```
//!
//! Typed reads ([`Row::number`], [`Row::required`], ...) return [`Error`]s naming file, line and
//! column.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};

/// The text SimBench writes for a value that is not set.
const NULL: &str = "NULL";

/// One CSV table, every cell kept as text.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    /// File name as shown in errors (the name inside the grid folder, e.g. `Line.csv`).
    pub(crate) file: PathBuf,
    header: Vec<String>,
    /// Data rows: 1-based line number and the cells.
    rows: Vec<(usize, Vec<String>)>,
}

/// A column of a [`Table`], found by its header name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col<'t> {
    index: usize,
    name: &'t str,
}

/// One data row of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'t> {
    table: &'t Table,
    line: usize,
    cells: &'t [String],
}

impl Table {
    /// Read `dir/name`; `Ok(None)` when the file does not exist.
    pub(crate) fn read_optional(dir: &Path, name: &str) -> Result<Option<Table>, Error> {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Table::parse(name, &text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::new(ErrorKind::Io(e)).in_file(path)),
        }
    }

    /// Read `dir/name`, which must exist.
    pub(crate) fn read(dir: &Path, name: &str) -> Result<Table, Error> {
        Table::read_optional(dir, name)?
            .ok_or_else(|| Error::new(ErrorKind::MissingFile).in_file(dir.join(name)))
    }

    /// Parse the text of a table; `file` names it in errors.
    pub(crate) fn parse(file: impl Into<PathBuf>, text: &str) -> Result<Table, Error> {
        let file = file.into();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let header: Vec<String> = loop {
            match lines.next() {
                Some((_, l)) if l.trim().is_empty() => continue,
                Some((_, l)) => break split(l).map(str::to_string).collect(),
                None => return Err(Error::new(ErrorKind::Empty).in_file(file)),
            }
        };
        let mut rows = Vec::new();
        for (line, l) in lines {
            if l.trim().is_empty() {
                continue;
            }
            let cells: Vec<String> = split(l).map(str::to_string).collect();
            if cells.len() != header.len() {
                return Err(Error::new(ErrorKind::FieldCount {
                    expected: header.len(),
                    found: cells.len(),
                })
                .in_file(file)
                .at_line(line));
            }
            rows.push((line, cells));
        }
        Ok(Table { file, header, rows })
    }

    /// The column named `name` (exact header text).
    pub(crate) fn col<'t>(&self, name: &'t str) -> Result<Col<'t>, Error> {
        self.opt_col(name).ok_or_else(|| {
            Error::new(ErrorKind::MissingColumn(name.to_string())).in_file(&self.file)
        })
    }

    /// The column named `name`, if the table has it.
    pub(crate) fn opt_col<'t>(&self, name: &'t str) -> Option<Col<'t>> {
        self.header
            .iter()
            .position(|h| h == name)
            .map(|index| Col { index, name })
    }

    pub(crate) fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, cells)| Row {
            table: self,
            line: *line,
            cells,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(crate) fn row(&self, i: usize) -> Row<'_> {
        let (line, cells) = &self.rows[i];
        Row {
            table: self,
            line: *line,
            cells,
        }
    }

    /// Row index by the (required, unique) value of column `col`.
    pub(crate) fn index_by(&self, col: Col<'_>) -> Result<HashMap<&str, usize>, Error> {
        let mut index = HashMap::with_capacity(self.rows.len());
        for (i, row) in self.rows().enumerate() {
            let id = row.required(col)?;
            if let Some(&first) = index.get(id) {
                return Err(row.error(
                    col,
                    ErrorKind::DuplicateId {
                        value: id.to_string(),
                        first_line: self.row(first).line,
                    },
                ));
            }
            index.insert(id, i);
        }
        Ok(index)
    }
}

impl<'t> Row<'t> {
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    /// An error located at this row and `col`.
    pub(crate) fn error(&self, col: Col<'_>, kind: ErrorKind) -> Error {
        Error::new(kind)
            .in_file(&self.table.file)
            .at_line(self.line)
            .in_column(col.name)
    }

    /// The cell as written (trimmed).
    pub(crate) fn text(&self, col: Col<'_>) -> &'t str {
        self.cells[col.index].as_str()
    }

    /// The cell, `None` when it is `NULL` or empty.
    pub(crate) fn opt_text(&self, col: Col<'_>) -> Option<&'t str> {
        let t = self.text(col);
        (!is_null(t)).then_some(t)
    }

    /// The cell, which must be set.
    pub(crate) fn required(&self, col: Col<'_>) -> Result<&'t str, Error> {
        self.opt_text(col)
            .ok_or_else(|| self.error(col, ErrorKind::MissingValue(self.text(col).to_string())))
    }

    /// A finite number, which must be set.
    pub(crate) fn number(&self, col: Col<'_>) -> Result<f64, Error> {
        let t = self.required(col)?;
        parse_number(t).ok_or_else(|| self.error(col, ErrorKind::NotANumber(t.to_string())))
    }

    /// A finite number, `None` when not set.
    pub(crate) fn opt_number(&self, col: Col<'_>) -> Result<Option<f64>, Error> {
        match self.opt_text(col) {
            None => Ok(None),
            Some(t) => parse_number(t)
                .map(Some)
                .ok_or_else(|| self.error(col, ErrorKind::NotANumber(t.to_string()))),
        }
    }

    /// An `Invalid` error for this cell.
    pub(crate) fn invalid(&self, col: Col<'_>, reason: impl Into<String>) -> Error {
        self.error(
            col,
            ErrorKind::Invalid {
                value: self.text(col).to_string(),
                reason: reason.into(),
            },
        )
    }

    /// Look the cell up in another table's index: a broken foreign key names this cell.
    pub(crate) fn reference(
        &self,
        col: Col<'_>,
        index: &HashMap<&str, usize>,
        table: &str,
    ) -> Result<usize, Error> {
        let key = self.required(col)?;
        index.get(key).copied().ok_or_else(|| {
            self.error(
                col,
                ErrorKind::UnknownReference {
                    value: key.to_string(),
                    table: table.to_string(),
                },
            )
        })
    }
}

/// Whether a cell means "not set".
pub(crate) fn is_null(t: &str) -> bool {
    t.is_empty() || t.eq_ignore_ascii_case(NULL)
}

/// A finite decimal number (`NaN` and infinities are refused).
pub(crate) fn parse_number(t: &str) -> Option<f64> {
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The cells of one line: `;`-separated, trimmed, surrounding double quotes removed.
pub(crate) fn split(line: &str) -> impl Iterator<Item = &str> {
    line.split(';').map(|c| {
        let c = c.trim();
        c.strip_prefix('"')
            .and_then(|c| c.strip_suffix('"'))
            .unwrap_or(c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE_TYPES: &str = "id;r;x;b;iMax;type\n\
        NAYY;0.2067;0.08;260.752;270.0;cable\n\
        \n\
        bad;0.1;abc;NULL;NaN;ohl\n";

    #[test]
    fn typed_reads_name_file_line_and_column() {
        let t = Table::parse("LineType.csv", LINE_TYPES).unwrap();
        assert_eq!(t.len(), 2);
        let (r, x, b, imax) = (
            t.col("r").unwrap(),
            t.col("x").unwrap(),
            t.col("b").unwrap(),
            t.col("iMax").unwrap(),
        );
        let nayy = t.row(0);
        assert_eq!(nayy.number(r).unwrap(), 0.2067);
        let bad = t.row(1);
        assert_eq!(bad.line(), 4, "blank lines count");
        let e = bad.number(x).unwrap_err();
        assert_eq!(
            e.to_string(),
            "LineType.csv:4: column `x`: \"abc\" is not a number"
        );
        assert!(matches!(
            bad.number(b).unwrap_err().kind,
            ErrorKind::MissingValue(_)
        ));
        assert_eq!(bad.opt_number(b).unwrap(), None);
        assert!(matches!(
            bad.number(imax).unwrap_err().kind,
            ErrorKind::NotANumber(_)
        ));
        let e = t.col("length").unwrap_err();
        assert_eq!(e.to_string(), "LineType.csv: missing column `length`");
    }

    #[test]
    fn field_count_and_duplicates() {
        let e = Table::parse("Node.csv", "id;vmR\na;0.4\nb\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Node.csv:3: expected 2 fields (as the header), found 1"
        );
        let t = Table::parse("Node.csv", "id;vmR\na;0.4\nb;0.4\na;20\n").unwrap();
        let e = t.index_by(t.col("id").unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Node.csv:4: column `id`: \"a\" is defined twice (first on line 2)"
        );
        assert!(matches!(
            Table::parse("Node.csv", "\n").unwrap_err().kind,
            ErrorKind::Empty
        ));
    }

    #[test]
    fn broken_reference_names_the_referring_cell() {
        let nodes = Table::parse("Node.csv", "id;vmR\nbus 1;0.4\n").unwrap();
        let index = nodes.index_by(nodes.col("id").unwrap()).unwrap();
        let loads = Table::parse("Load.csv", "id;node\nload 1;bus 9\n").unwrap();
        let e = loads
            .row(0)
            .reference(loads.col("node").unwrap(), &index, "Node.csv")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Load.csv:2: column `node`: \"bus 9\" is not an id of Node.csv"
        );
    }
}
