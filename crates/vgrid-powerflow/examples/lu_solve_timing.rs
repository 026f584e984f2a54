//! Time of one sparse LU solve (forward and backward substitution) on the admittance
//! matrix of real feeders: the kernel every power-flow iteration runs.
//!
//! The last field printed is a checksum of the bits of the answer: two builds of the solve
//! that print the same checksum compute bit-identical results.
//!
//! ```sh
//! cargo run --release -p vgrid-powerflow --example lu_solve_timing -- ../shared/feeders/eulv/Master.dss [REPS]
//! ```

use std::path::Path;
use std::sync::Arc;

use vgrid_dss::{ReadOptions, Reader};
use vgrid_network::C64;
use vgrid_powerflow::lu::{NumericLu, SymbolicLu};
use vgrid_powerflow::solve::System;

#[path = "../benches/common/solve_timing.rs"]
mod solve_timing;
use solve_timing::{checksum, time_solves};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(script) = args.next() else {
        eprintln!("usage: lu_solve_timing MASTER.dss [REPS]");
        std::process::exit(2);
    };
    let reps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let mut r = Reader::new(ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    });
    if let Err(e) = r.run_file(Path::new(&script), &mut |_, _| Ok(())) {
        eprintln!("{script}: {e}");
        std::process::exit(1);
    }
    let net = r.into_network();
    let sys = match System::new(&net) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{script}: {e}");
            std::process::exit(1);
        }
    };
    let y = sys.ybus();
    let symbolic =
        Arc::new(SymbolicLu::analyze(y.n(), y.col_ptr(), y.row_idx()).expect("analysis"));
    let lu = NumericLu::factor(symbolic.clone(), y.values()).expect("factor");
    let b: Vec<C64> = (0..y.n())
        .map(|i| C64::new((i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()))
        .collect();
    let (times, x) = time_solves(&lu, &b, reps);
    let checksum = checksum(&x);
    println!(
        "{script}: n {} nnz(L+U) {}: solve {:.2} µs (median of 7 × {reps}; min {:.2} µs), \
         answer checksum {checksum:016x}",
        y.n(),
        symbolic.nnz_factors(),
        times[3] * 1e6,
        times[0] * 1e6
    );
}
