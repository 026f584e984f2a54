//! The files `vgrid timeseries` writes, as CSV or Parquet by the path's extension: a path
//! ending in `.parquet` gets an Apache Parquet file ([`vgrid_parquet`]), any other CSV, with
//! the same columns.
//!
//! ```text
//! let mut t = Table::create(path, &[Column::text("bus"), Column::f64("vmin_pu", 8)])?;
//! t.row(&[Value::Str("650"), Value::F64(0.98765432)])?;   // CSV: 650,0.98765432
//! t.finish()?;
//! ```
//!
//! In CSV a number is written with its column's decimals, a missing value ([`Value::Null`]) as
//! `nan`, a boolean as `1`/`0`, and text with a comma, quote or line break is quoted. In
//! Parquet numbers keep every bit and a missing value is null.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use vgrid_parquet::{ColumnType, ParquetWriter, Value};

/// One column: its name, its type, and the decimals of its numbers in CSV.
pub(crate) struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub decimals: usize,
}

impl Column {
    pub fn f64(name: &str, decimals: usize) -> Column {
        Column {
            name: name.to_string(),
            ty: ColumnType::F64,
            decimals,
        }
    }

    pub fn i64(name: &str) -> Column {
        Column {
            name: name.to_string(),
            ty: ColumnType::I64,
            decimals: 0,
        }
    }

    pub fn i32(name: &str) -> Column {
        Column {
            name: name.to_string(),
            ty: ColumnType::I32,
            decimals: 0,
        }
    }

    pub fn bool(name: &str) -> Column {
        Column {
            name: name.to_string(),
            ty: ColumnType::Bool,
            decimals: 0,
        }
    }

    pub fn text(name: &str) -> Column {
        Column {
            name: name.to_string(),
            ty: ColumnType::Utf8,
            decimals: 0,
        }
    }
}

/// A table being written, row by row.
pub(crate) enum Table {
    Csv {
        out: BufWriter<File>,
        decimals: Vec<usize>,
        line: String,
    },
    Parquet(ParquetWriter<BufWriter<File>>),
}

/// Whether `path` names a Parquet file (`.parquet`, any case).
pub(crate) fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn io_error(e: vgrid_parquet::Error) -> std::io::Error {
    match e {
        vgrid_parquet::Error::Io(e) => e,
        e => std::io::Error::other(e),
    }
}

impl Table {
    /// Create the file at `path` and write the header (CSV) or start the row groups (Parquet).
    pub fn create(path: &Path, columns: &[Column]) -> std::io::Result<Table> {
        if is_parquet(path) {
            let cols: Vec<(&str, ColumnType)> =
                columns.iter().map(|c| (c.name.as_str(), c.ty)).collect();
            return vgrid_parquet::create(path, &cols)
                .map(Table::Parquet)
                .map_err(io_error);
        }
        let mut out = BufWriter::new(File::create(path)?);
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        writeln!(out, "{}", names.join(","))?;
        Ok(Table::Csv {
            out,
            decimals: columns.iter().map(|c| c.decimals).collect(),
            line: String::new(),
        })
    }

    /// Write one row (as many values as columns, of the columns' types or null).
    pub fn row(&mut self, values: &[Value<'_>]) -> std::io::Result<()> {
        match self {
            Table::Parquet(w) => w.write_row(values).map_err(io_error),
            Table::Csv {
                out,
                decimals,
                line,
            } => {
                use std::fmt::Write as _;
                line.clear();
                for (k, v) in values.iter().enumerate() {
                    if k > 0 {
                        line.push(',');
                    }
                    let _ = match v {
                        Value::F64(x) => {
                            write!(line, "{x:.*}", decimals.get(k).copied().unwrap_or(6))
                        }
                        Value::I64(x) => write!(line, "{x}"),
                        Value::I32(x) => write!(line, "{x}"),
                        Value::Bool(b) => write!(line, "{}", u8::from(*b)),
                        Value::Str(s) if s.contains([',', '"', '\n', '\r']) => {
                            write!(line, "\"{}\"", s.replace('"', "\"\""))
                        }
                        Value::Str(s) => write!(line, "{s}"),
                        Value::Null => write!(line, "nan"),
                    };
                }
                line.push('\n');
                out.write_all(line.as_bytes())
            }
        }
    }

    /// Finish the file (Parquet's footer; flush).
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Table::Csv { mut out, .. } => out.flush(),
            Table::Parquet(w) => {
                let mut out = w.finish().map_err(io_error)?;
                out.flush()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("vgrid-cli-table-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    fn columns() -> Vec<Column> {
        vec![
            Column::text("element"),
            Column::f64("i_a", 3),
            Column::i64("n"),
            Column::bool("ok"),
            Column::f64("pct", 1),
        ]
    }

    #[test]
    fn csv_and_parquet_by_the_extension() {
        // the same first row in both formats
        let line_a = [
            Value::Str("Line.a"),
            Value::F64(1.23456),
            Value::I64(3),
            Value::Bool(true),
            Value::Null,
        ];
        let csv = tmp("t.csv");
        let mut t = Table::create(&csv, &columns()).unwrap();
        t.row(&line_a).unwrap();
        t.row(&[
            Value::Str("odd, \"name\""),
            Value::F64(f64::NAN),
            Value::I64(-1),
            Value::Bool(false),
            Value::F64(99.96),
        ])
        .unwrap();
        t.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&csv).unwrap(),
            "element,i_a,n,ok,pct\nLine.a,1.235,3,1,nan\n\"odd, \"\"name\"\"\",NaN,-1,0,100.0\n"
        );
        let pq = tmp("t.PARQUET");
        assert!(is_parquet(&pq) && !is_parquet(&csv));
        let mut t = Table::create(&pq, &columns()).unwrap();
        t.row(&line_a).unwrap();
        // a value of the wrong type is refused, not written
        assert!(t
            .row(&[
                Value::I64(1),
                Value::F64(0.0),
                Value::I64(0),
                Value::Bool(true),
                Value::Null
            ])
            .is_err());
        t.finish().unwrap();
        let bytes = std::fs::read(&pq).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
    }
}
