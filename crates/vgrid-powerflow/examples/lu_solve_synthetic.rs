//! Time of one sparse LU solve on the synthetic feeders of the `lu` bench: a radial
//! three-phase feeder of the IEEE 8500-node size (25,500 unknowns), or the same with 10 %
//! meshing (850 ties between random buses, much fill-in). Prints the minimum and median of 7
//! timings and a checksum of the answer's bits (equal checksums: bit-identical solves).
//!
//! ```sh
//! cargo run --release -p vgrid-powerflow --example lu_solve_synthetic -- radial|meshed [REPS]
//! ```

use std::sync::Arc;

use vgrid_powerflow::lu::{NumericLu, SymbolicLu, C64};

#[path = "../benches/common/synthetic.rs"]
mod synthetic;
use synthetic::feeder;

#[path = "../benches/common/solve_timing.rs"]
mod solve_timing;
use solve_timing::{checksum, time_solves};

fn main() {
    let mut args = std::env::args().skip(1);
    let ties = match args.next().as_deref() {
        Some("radial") => 0,
        Some("meshed") => 850,
        _ => {
            eprintln!("usage: lu_solve_synthetic radial|meshed [REPS]");
            std::process::exit(2);
        }
    };
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let (n, col_ptr, row_idx, values) = feeder(8_500, ties, 2024);
    let symbolic = Arc::new(SymbolicLu::analyze(n, &col_ptr, &row_idx).expect("valid pattern"));
    let lu = NumericLu::factor(Arc::clone(&symbolic), &values).expect("nonsingular");
    let b: Vec<C64> = (0..n).map(|i| C64::new(1.0, (i % 5) as f64)).collect();
    let (times, x) = time_solves(&lu, &b, reps);
    let checksum = checksum(&x);
    println!(
        "n {n} nnz(L+U) {} fill-in {}: solve {:.1} µs (median of 7 × {reps}; min {:.1} µs), \
         answer checksum {checksum:016x}",
        symbolic.nnz_factors(),
        symbolic.fill_in(),
        times[3] * 1e6,
        times[0] * 1e6
    );
}
