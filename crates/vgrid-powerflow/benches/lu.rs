//! Sparse LU on a synthetic radial three-phase feeder of the IEEE 8500-node size:
//! 8,500 buses × 3 phases = 25,500 unknowns, about 229,000 entries.
//!
//! Run: `cargo bench -p vgrid-powerflow --bench lu`
//!
//! Reference (KLU through klu-rs on this kind of machine, /work/shared/notes/measured-crates.md):
//! symbolic 5–7 ms, factor 7–10 ms, refactor 4–5 ms, solve 1.0 ms.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use vgrid_powerflow::lu::{NumericLu, SymbolicLu, C64};

#[path = "common/synthetic.rs"]
mod synthetic;
use synthetic::feeder;

fn bench_lu(c: &mut Criterion) {
    let (n, col_ptr, row_idx, values) = feeder(8_500, 0, 2024);
    let symbolic = Arc::new(SymbolicLu::analyze(n, &col_ptr, &row_idx).expect("valid pattern"));
    eprintln!(
        "feeder: n = {n}, nnz(A) = {}, nnz(L+U) = {}, fill-in = {}",
        row_idx.len(),
        symbolic.nnz_factors(),
        symbolic.fill_in()
    );
    let mut lu = NumericLu::factor(Arc::clone(&symbolic), &values).expect("nonsingular");
    // A tap change: every value slightly different, same pattern.
    let values2: Vec<C64> = values.iter().map(|v| v * 1.01).collect();
    let rhs: Vec<C64> = (0..n)
        .map(|i| C64::new((i % 7) as f64 * 0.1, -((i % 3) as f64)))
        .collect();

    let mut group = c.benchmark_group("lu_radial_25500");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("analyze", |b| {
        b.iter(|| SymbolicLu::analyze(n, black_box(&col_ptr), black_box(&row_idx)))
    });
    group.bench_function("factor", |b| {
        b.iter(|| NumericLu::factor(Arc::clone(&symbolic), black_box(&values)))
    });
    group.bench_function("refactor", |b| b.iter(|| lu.refactor(black_box(&values2))));
    let mut x = rhs.clone();
    group.bench_function("solve", |b| {
        b.iter(|| {
            x.copy_from_slice(&rhs);
            lu.solve_in_place(black_box(&mut x));
        })
    });
    group.finish();
}

/// The same feeder with 10 % meshing (850 ties between random buses): fill-in appears.
fn bench_lu_meshed(c: &mut Criterion) {
    let (n, col_ptr, row_idx, values) = feeder(8_500, 850, 2024);
    let symbolic = Arc::new(SymbolicLu::analyze(n, &col_ptr, &row_idx).expect("valid pattern"));
    eprintln!(
        "meshed feeder: n = {n}, nnz(A) = {}, nnz(L+U) = {}, fill-in = {}",
        row_idx.len(),
        symbolic.nnz_factors(),
        symbolic.fill_in()
    );
    let mut lu = NumericLu::factor(Arc::clone(&symbolic), &values).expect("nonsingular");
    let rhs: Vec<C64> = (0..n).map(|i| C64::new(1.0, (i % 5) as f64)).collect();
    let mut group = c.benchmark_group("lu_meshed10_25500");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("analyze", |b| {
        b.iter(|| SymbolicLu::analyze(n, black_box(&col_ptr), black_box(&row_idx)))
    });
    group.bench_function("refactor", |b| b.iter(|| lu.refactor(black_box(&values))));
    let mut x = rhs.clone();
    group.bench_function("solve", |b| {
        b.iter(|| {
            x.copy_from_slice(&rhs);
            lu.solve_in_place(black_box(&mut x));
        })
    });
    group.finish();
}

criterion_group!(benches, bench_lu, bench_lu_meshed);
criterion_main!(benches);
