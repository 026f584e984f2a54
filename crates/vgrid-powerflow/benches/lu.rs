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

/// 64-bit LCG (Knuth's constants): fixed seeds, no dependency.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, m: usize) -> usize {
        ((self.uniform() * m as f64) as usize).min(m - 1)
    }
}

/// CSC matrix of a feeder: a random tree of `buses` buses (mostly long chains, 30 %
/// branching to a random earlier bus) plus `ties` loop-closing branches between random buses, a
/// full 3×3 series admittance on each branch, diagonal = sum of the branch blocks + a small
/// shunt, nodes numbered bus by bus.
fn feeder(buses: usize, ties: usize, seed: u64) -> (usize, Vec<usize>, Vec<usize>, Vec<C64>) {
    const PHASES: usize = 3;
    let n = buses * PHASES;
    let mut rng = Lcg(seed);
    let mut triplets: Vec<(usize, usize, C64)> = Vec::with_capacity(n * 12);
    for branch in 1..buses + ties {
        let (from, bus) = if branch < buses {
            let from = if rng.uniform() < 0.7 {
                branch - 1
            } else {
                rng.below(branch)
            };
            (from, branch)
        } else {
            let (a, b) = (rng.below(buses), rng.below(buses));
            if a == b {
                continue;
            }
            (a, b)
        };
        let mut y = [[C64::new(0.0, 0.0); PHASES]; PHASES];
        for p in 0..PHASES {
            for q in p..PHASES {
                let base = if p == q {
                    C64::new(1.0, -3.0)
                } else {
                    C64::new(-0.3, 1.0)
                };
                y[p][q] = base * (0.5 + rng.uniform());
                y[q][p] = y[p][q];
            }
        }
        for p in 0..PHASES {
            for q in 0..PHASES {
                let (f, t) = (from * PHASES, bus * PHASES);
                triplets.push((f + p, f + q, y[p][q]));
                triplets.push((t + p, t + q, y[p][q]));
                triplets.push((f + p, t + q, -y[p][q]));
                triplets.push((t + p, f + q, -y[p][q]));
            }
        }
    }
    for i in 0..n {
        triplets.push((i, i, C64::new(0.001, 0.002) * (1.0 + rng.uniform())));
    }
    triplets.sort_by_key(|&(i, j, _)| (j, i));
    let mut col_ptr = vec![0; n + 1];
    let (mut row_idx, mut values): (Vec<usize>, Vec<C64>) = (Vec::new(), Vec::new());
    let mut last = None;
    for (i, j, v) in triplets {
        if last == Some((i, j)) {
            if let Some(x) = values.last_mut() {
                *x += v;
            }
        } else {
            row_idx.push(i);
            values.push(v);
            col_ptr[j + 1] += 1;
            last = Some((i, j));
        }
    }
    for j in 0..n {
        col_ptr[j + 1] += col_ptr[j];
    }
    (n, col_ptr, row_idx, values)
}

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
