//! Reading files back with real Parquet readers (pyarrow, DuckDB) through `read_back.py`, and
//! the same canonical text rendered from what the test wrote.
//!
//! Which Python: `VGRID_PYTHON` when set; otherwise, under CI (`CI` set, as `.ci/run` does),
//! `python3`. Under CI or with `VGRID_PYTHON` set, a Python without pyarrow fails the test;
//! locally with neither, the comparison is skipped with a note. DuckDB and polars are compared
//! too when the chosen Python can import them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use vgrid_parquet::{ColumnType, Value};

/// An owned cell, to keep the expected table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    F64(f64),
    I64(i64),
    I32(i32),
    Bool(bool),
    Str(String),
    Null,
}

impl Cell {
    pub fn as_value(&self) -> Value<'_> {
        match self {
            Cell::F64(v) => Value::F64(*v),
            Cell::I64(v) => Value::I64(*v),
            Cell::I32(v) => Value::I32(*v),
            Cell::Bool(v) => Value::Bool(*v),
            Cell::Str(s) => Value::Str(s),
            Cell::Null => Value::Null,
        }
    }

    /// The canonical JSON of `read_back.py`.
    fn canon(&self) -> String {
        match self {
            Cell::F64(v) => format!("\"f:{:016x}\"", v.to_bits()),
            Cell::I64(v) => v.to_string(),
            Cell::I32(v) => v.to_string(),
            Cell::Bool(v) => v.to_string(),
            Cell::Str(s) => {
                let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
                format!("\"s:{hex}\"")
            }
            Cell::Null => "null".to_string(),
        }
    }
}

/// A table as written: the schema, the rows and the row-group size used.
pub struct Table {
    pub columns: Vec<(String, ColumnType)>,
    pub rows: Vec<Vec<Cell>>,
    pub row_group_size: usize,
}

impl Table {
    pub fn column_refs(&self) -> Vec<(&str, ColumnType)> {
        self.columns.iter().map(|(n, t)| (n.as_str(), *t)).collect()
    }

    pub fn num_row_groups(&self) -> usize {
        self.rows.len().div_ceil(self.row_group_size)
    }

    /// What `read_back.py FILE pyarrow` should print.
    fn expected_pyarrow(&self) -> String {
        let mut out = format!(
            "meta\t{}\t{}\tvgrid-parquet version {}\n",
            self.rows.len(),
            self.num_row_groups(),
            env!("CARGO_PKG_VERSION")
        );
        self.push_columns(&mut out, |t| match t {
            ColumnType::F64 => "double",
            ColumnType::I64 => "int64",
            ColumnType::I32 => "int32",
            ColumnType::Bool => "bool",
            ColumnType::Utf8 => "string",
        });
        let groups: Vec<&[Vec<Cell>]> = self.rows.chunks(self.row_group_size).collect();
        for (g, rows) in groups.iter().enumerate() {
            for c in 0..self.columns.len() {
                let cells: Vec<&Cell> = rows.iter().map(|r| &r[c]).collect();
                let (nulls, bounds) = statistics(&cells);
                out.push_str(&format!("stat\t{g}\t{c}\t{nulls}\t{bounds}\n"));
            }
        }
        out
    }

    /// What `read_back.py FILE duckdb|polars` should print.
    fn expected_other(&self, reader: &str) -> String {
        let mut out = format!("meta\t{}\t-1\t-\n", self.rows.len());
        let type_name = match reader {
            "duckdb" => |t| match t {
                ColumnType::F64 => "DOUBLE",
                ColumnType::I64 => "BIGINT",
                ColumnType::I32 => "INTEGER",
                ColumnType::Bool => "BOOLEAN",
                ColumnType::Utf8 => "VARCHAR",
            },
            _ => |t| match t {
                ColumnType::F64 => "Float64",
                ColumnType::I64 => "Int64",
                ColumnType::I32 => "Int32",
                ColumnType::Bool => "Boolean",
                ColumnType::Utf8 => "String",
            },
        };
        self.push_columns(&mut out, type_name);
        out
    }

    fn push_columns(&self, out: &mut String, type_name: fn(ColumnType) -> &'static str) {
        for (c, (name, ty)) in self.columns.iter().enumerate() {
            let values: Vec<String> = self.rows.iter().map(|r| r[c].canon()).collect();
            out.push_str(&format!(
                "col\t{name}\t{}\t[{}]\n",
                type_name(*ty),
                values.join(",")
            ));
        }
    }
}

/// The statistics a correct writer records for one column chunk: null count and the
/// `[min, max]` of the non-null, non-NaN values (zeros as -0.0 / +0.0), or `null`.
fn statistics(cells: &[&Cell]) -> (usize, String) {
    let nulls = cells.iter().filter(|c| ***c == Cell::Null).count();
    let mut present: Vec<&Cell> = cells
        .iter()
        .copied()
        .filter(|c| !matches!(c, Cell::Null) && !matches!(c, Cell::F64(v) if v.is_nan()))
        .collect();
    if present.is_empty() {
        return (nulls, "null".to_string());
    }
    present.sort_by(|a, b| match (a, b) {
        (Cell::F64(x), Cell::F64(y)) => x.total_cmp(y),
        (Cell::I64(x), Cell::I64(y)) => x.cmp(y),
        (Cell::I32(x), Cell::I32(y)) => x.cmp(y),
        (Cell::Bool(x), Cell::Bool(y)) => x.cmp(y),
        (Cell::Str(x), Cell::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => unreachable!("one type per column"),
    });
    let zero = |c: &Cell, sign: f64| match c {
        Cell::F64(v) if *v == 0.0 => Cell::F64(0.0f64.copysign(sign)),
        c => c.clone(),
    };
    let min = zero(present[0], -1.0);
    let max = zero(present[present.len() - 1], 1.0);
    (nulls, format!("[{},{}]", min.canon(), max.canon()))
}

/// The Python to read with, or `None` (with a note) when the comparison is to be skipped.
fn python() -> Option<&'static PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            let python = match std::env::var_os("VGRID_PYTHON") {
                Some(p) => PathBuf::from(p),
                None if ci => PathBuf::from("python3"),
                None => {
                    eprintln!(
                        "note: VGRID_PYTHON not set and not under CI: Parquet files are not read \
                         back with pyarrow (set VGRID_PYTHON to a Python with pyarrow)"
                    );
                    return None;
                }
            };
            assert!(
                can_import(&python, "pyarrow"),
                "{} cannot import pyarrow (required under CI or with VGRID_PYTHON set; \
                 .ci/run installs it)",
                python.display()
            );
            Some(python)
        })
        .as_ref()
}

fn can_import(python: &Path, reader: &str) -> bool {
    Command::new(python)
        .arg(script())
        .args(["--check", reader])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/read_back.py")
}

fn read_back(python: &Path, file: &Path, reader: &str) -> String {
    let out = Command::new(python)
        .arg(script())
        .arg(file)
        .arg(reader)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{reader} could not read {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("read_back.py prints UTF-8")
}

/// Reads `file` with pyarrow (and DuckDB and polars when available) and asserts it holds
/// exactly `table`. Returns the readers used (empty when skipped).
pub fn check_with_readers(file: &Path, table: &Table) -> Vec<&'static str> {
    let Some(python) = python() else {
        return Vec::new();
    };
    let mut used = vec!["pyarrow"];
    assert_same(
        &read_back(python, file, "pyarrow"),
        &table.expected_pyarrow(),
        "pyarrow",
        file,
    );
    static OTHERS: OnceLock<Vec<&'static str>> = OnceLock::new();
    let others = OTHERS.get_or_init(|| {
        ["duckdb", "polars"]
            .into_iter()
            .filter(|r| can_import(python, r))
            .collect()
    });
    for reader in others {
        used.push(*reader);
        let got = read_back(python, file, reader);
        assert_same(&got, &table.expected_other(reader), reader, file);
    }
    used
}

/// Line-by-line comparison, reporting the first differing line (and within it, the first
/// differing value) rather than two huge strings.
fn assert_same(got: &str, expected: &str, reader: &str, file: &Path) {
    for (i, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
        if g != e {
            let at = g.bytes().zip(e.bytes()).take_while(|(a, b)| a == b).count();
            let from = at.saturating_sub(60);
            panic!(
                "{reader} reading {}: line {} differs at byte {at}\n   read: ...{}\n  wrote: ...{}",
                file.display(),
                i + 1,
                g.get(from..(at + 80).min(g.len())).unwrap_or(g),
                e.get(from..(at + 80).min(e.len())).unwrap_or(e)
            );
        }
    }
    assert_eq!(
        got.lines().count(),
        expected.lines().count(),
        "{reader} reading {}: line counts differ\n{got}",
        file.display()
    );
}
