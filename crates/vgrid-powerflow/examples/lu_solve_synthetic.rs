//! Time of one sparse LU solve on the synthetic feeders of the `lu` bench: a radial
//! three-phase feeder of the IEEE 8500-node size (25,500 unknowns), or the same with 10 %
//! meshing (850 ties between random buses, much fill-in). Prints the minimum and median of 7
//! timings and a checksum of the answer's bits (equal checksums: bit-identical solves).
//!
//! ```sh
//! cargo run --release -p vgrid-powerflow --example lu_solve_synthetic -- radial|meshed [REPS]
//! ```

use std::sync::Arc;
use std::time::Instant;

use vgrid_powerflow::lu::{NumericLu, SymbolicLu, C64};

#[path = "../benches/common/synthetic.rs"]
mod synthetic;
use synthetic::feeder;

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
    let mut x = b.clone();
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..reps {
            x.copy_from_slice(&b);
            lu.solve_in_place(&mut x);
            std::hint::black_box(&mut x);
        }
        times.push(t.elapsed().as_secs_f64() / reps as f64);
    }
    times.sort_by(f64::total_cmp);
    let checksum = x
        .iter()
        .flat_map(|z| [z.re.to_bits(), z.im.to_bits()])
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, w| {
            (h ^ w).wrapping_mul(0x0000_0100_0000_01b3)
        });
    println!(
        "n {n} nnz(L+U) {} fill-in {}: solve {:.1} µs (median of 7 × {reps}; min {:.1} µs), \
         answer checksum {checksum:016x}",
        symbolic.nnz_factors(),
        symbolic.fill_in(),
        times[3] * 1e6,
        times[0] * 1e6
    );
}
