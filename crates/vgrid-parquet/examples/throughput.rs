//! Writes a per-step-like table (1 string, 1 i64, 1 i32, 1 bool and 6 f64 columns, about 2 % nulls)
//! and prints rows/s and the file size.
//!
//! `cargo run --release -p vgrid-parquet --example throughput -- [ROWS] [FILE]`
//! (defaults: 1,000,000 rows, `throughput.parquet` in the system's temporary directory).

use std::time::Instant;

use vgrid_parquet::{ColumnType, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: u64 = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let path = args.next().map_or_else(
        || std::env::temp_dir().join("throughput.parquet"),
        Into::into,
    );
    let columns = [
        ("element", ColumnType::Utf8),
        ("step", ColumnType::I64),
        ("tap", ColumnType::I32),
        ("overloaded", ColumnType::Bool),
        ("p_kw", ColumnType::F64),
        ("q_kvar", ColumnType::F64),
        ("loss_kw", ColumnType::F64),
        ("v_min_pu", ColumnType::F64),
        ("v_max_pu", ColumnType::F64),
        ("loading_pct", ColumnType::F64),
    ];
    let names: Vec<String> = (0..500).map(|i| format!("Line.l{i}")).collect();
    let start = Instant::now();
    let mut w = vgrid_parquet::create(&path, &columns)?;
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for step in 0..rows {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = (x >> 11) as f64 / (1u64 << 53) as f64;
        let v = |k: f64| {
            if x % 50 == 0 {
                Value::Null
            } else {
                Value::F64(f * k)
            }
        };
        w.write_row(&[
            Value::Str(&names[(step % 500) as usize]),
            Value::I64(step as i64),
            Value::I32((x % 33) as i32 - 16),
            Value::Bool(f > 0.9),
            v(1000.0),
            v(300.0),
            v(12.0),
            Value::F64(0.93 + 0.05 * f),
            Value::F64(1.0 + 0.05 * f),
            v(140.0),
        ])?;
    }
    w.finish()?;
    let seconds = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path)?.len();
    println!(
        "{rows} rows x {} columns in {seconds:.3} s ({:.1} M rows/s), {:.1} MB ({:.1} bytes/row): {}",
        columns.len(),
        rows as f64 / seconds / 1e6,
        bytes as f64 / 1e6,
        bytes as f64 / rows as f64,
        path.display()
    );
    Ok(())
}
