//! Integration tests: files written by vgrid-parquet, read back by real Parquet readers
//! (pyarrow, and DuckDB when installed) and compared value by value, bit for bit.
//! See `readers.rs` for when the readers run (always under CI).

mod readers;

use std::path::PathBuf;

use readers::{check_with_readers, Cell, Table};
use vgrid_parquet::{ColumnType, ParquetWriter};

fn out_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("vgrid-parquet-{name}.parquet"))
}

/// Writes `table` to a file through [`vgrid_parquet::create`], checks the framing, and reads it
/// back with the readers.
fn write_and_check(name: &str, table: &Table) -> Vec<&'static str> {
    let path = out_path(name);
    let mut w = vgrid_parquet::create(&path, &table.column_refs())
        .unwrap()
        .with_row_group_size(table.row_group_size);
    for row in &table.rows {
        let values: Vec<_> = row.iter().map(Cell::as_value).collect();
        w.write_row(&values).unwrap();
    }
    assert_eq!(w.rows_written(), table.rows.len() as u64);
    drop(w.finish().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
    let readers = check_with_readers(&path, table);
    eprintln!("{name}: read back with {readers:?}");
    std::fs::remove_file(&path).unwrap();
    readers
}

/// A fixed-seed xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn all_types() -> Vec<(String, ColumnType)> {
    [
        ("v_pu", ColumnType::F64),
        ("step", ColumnType::I64),
        ("tap", ColumnType::I32),
        ("overloaded", ColumnType::Bool),
        ("element", ColumnType::Utf8),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), *t))
    .collect()
}

/// `n` rows of every type, about one cell in `null_every` null.
fn random_rows(n: usize, null_every: u64, seed: u64) -> Vec<Vec<Cell>> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let mut row = vec![
                Cell::F64((rng.next() % 1_000_000) as f64 / 997.0 - 300.0),
                Cell::I64(rng.next() as i64),
                Cell::I32((rng.next() % 33) as i32 - 16),
                Cell::Bool(rng.next() % 2 == 0),
                Cell::Str(format!("Line.l{}", i % 97)),
            ];
            for cell in &mut row {
                if rng.next() % null_every == 0 {
                    *cell = Cell::Null;
                }
            }
            row
        })
        .collect()
}

#[test]
fn every_type_with_nulls_over_several_row_groups() {
    let table = Table {
        columns: all_types(),
        rows: random_rows(1_000, 7, 42),
        row_group_size: 128, // 7 full groups and one of 104 rows
    };
    write_and_check("types", &table);
}

#[test]
fn default_row_group_size_cuts_at_65536() {
    let table = Table {
        columns: all_types(),
        rows: random_rows(140_000, 50, 7),
        row_group_size: vgrid_parquet::DEFAULT_ROW_GROUP_SIZE,
    };
    assert_eq!(table.num_row_groups(), 3);
    // written with the default size (with_row_group_size is called with the same value)
    write_and_check("default-groups", &table);
}

#[test]
fn a_file_without_rows() {
    let table = Table {
        columns: all_types(),
        rows: Vec::new(),
        row_group_size: 10,
    };
    write_and_check("empty", &table);
}

#[test]
fn unicode_and_awkward_strings() {
    let strings = [
        "",
        "é",
        "日本語のバス",
        "rooftop PV ☀️🔋",
        "nul\u{0}inside",
        "tab\t\"quote\" back\\slash\nnewline",
        "\u{10FFFF}",
    ];
    let mut rows: Vec<Vec<Cell>> = strings
        .iter()
        .map(|s| vec![Cell::Str(s.to_string()), Cell::Str(s.repeat(3))])
        .collect();
    rows.push(vec![Cell::Null, Cell::Str("x".repeat(100_000))]);
    let table = Table {
        columns: vec![
            ("名前".to_string(), ColumnType::Utf8),
            ("bus name with spaces".to_string(), ColumnType::Utf8),
        ],
        rows,
        row_group_size: 3,
    };
    write_and_check("unicode", &table);
}

#[test]
fn special_floats_and_integer_extremes() {
    let floats = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        f64::MIN,
        1.0 / 3.0,
    ];
    let ints64 = [i64::MIN, -1, 0, 1, i64::MAX];
    let ints32 = [i32::MIN, -1, 0, 1, i32::MAX];
    let rows: Vec<Vec<Cell>> = (0..floats.len())
        .map(|i| {
            vec![
                Cell::F64(floats[i]),
                Cell::I64(ints64[i % 5]),
                Cell::I32(ints32[i % 5]),
            ]
        })
        .collect();
    let columns = vec![
        ("x".to_string(), ColumnType::F64),
        ("i64".to_string(), ColumnType::I64),
        ("i32".to_string(), ColumnType::I32),
    ];
    // one group with everything, then groups of only NaN / zeros / ±inf (statistics edge cases)
    for (name, size) in [("floats", 100), ("floats-by-one", 1), ("floats-by-two", 2)] {
        let table = Table {
            columns: columns.clone(),
            rows: rows.clone(),
            row_group_size: size,
        };
        write_and_check(name, &table);
    }
}

#[test]
fn all_null_columns_and_groups() {
    let mut rows = vec![vec![Cell::Null; 5]; 20];
    rows.extend(random_rows(20, 3, 5));
    let table = Table {
        columns: all_types(),
        rows,
        row_group_size: 8, // groups 0 and 1 all null, group 2 half
    };
    write_and_check("nulls", &table);
}

#[test]
fn twenty_columns_use_the_long_list_header() {
    let types = [
        ColumnType::F64,
        ColumnType::I64,
        ColumnType::I32,
        ColumnType::Bool,
        ColumnType::Utf8,
    ];
    let columns: Vec<(String, ColumnType)> =
        (0..20).map(|i| (format!("c{i}"), types[i % 5])).collect();
    let rows: Vec<Vec<Cell>> = random_rows(50, 4, 9)
        .into_iter()
        .map(|r| (0..20).map(|i| r[i % 5].clone()).collect())
        .collect();
    let table = Table {
        columns,
        rows,
        row_group_size: 16,
    };
    write_and_check("wide", &table);
}

#[test]
fn in_memory_output_round_trips_the_writer() {
    let mut w = ParquetWriter::new(Vec::new(), &[("a", ColumnType::Bool)]).unwrap();
    for i in 0..10 {
        w.write_row(&[(i % 3 == 0).into()]).unwrap();
    }
    let bytes = w.finish().unwrap();
    let path = out_path("in-memory");
    std::fs::write(&path, &bytes).unwrap();
    let table = Table {
        columns: vec![("a".to_string(), ColumnType::Bool)],
        rows: (0..10).map(|i| vec![Cell::Bool(i % 3 == 0)]).collect(),
        row_group_size: vgrid_parquet::DEFAULT_ROW_GROUP_SIZE,
    };
    check_with_readers(&path, &table);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn create_reports_the_path() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no/such/dir/x.parquet");
    let err = vgrid_parquet::create(&path, &[("a", ColumnType::I32)]).unwrap_err();
    assert!(matches!(err, vgrid_parquet::Error::Create { .. }));
    assert!(err.to_string().contains("no/such/dir/x.parquet"), "{err}");
}
