//! Read a SimBench grid, solve one quarter-hour, print the voltage range and the timings.
//!
//! ```sh
//! cargo run --release -p vgrid-simbench --example simbench_step -- ../shared/simbench/1-MV-urban--0-sw 33001
//! ```

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), step) = (args.next(), args.next()) else {
        eprintln!("usage: simbench_step <SimBench folder> [step]");
        std::process::exit(2);
    };
    let step: usize = match step.map(|s| s.parse()) {
        None => 0,
        Some(Ok(k)) => k,
        Some(Err(e)) => {
            eprintln!("step: {e}");
            std::process::exit(2);
        }
    };
    let t0 = Instant::now();
    let grid = match vgrid_simbench::read_grid(dir.as_ref()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let t_read = t0.elapsed();
    let t1 = Instant::now();
    let mut net = match grid.network_at_step(step) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let sol = match vgrid::solve_network(&mut net) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let t_solve = t1.elapsed();
    println!(
        "{}: {} nodes -> {} buses, {} lines, {} transformers (T-model halves), {} loads, {} RES, {} steps",
        net.name,
        grid.nodes.len(),
        net.bus_kv_bases.len(),
        net.lines.len(),
        net.transformers.len(),
        net.loads.len(),
        net.generators.len(),
        grid.steps
    );
    println!(
        "step {step}: {} after {} iterations; source {:.3} kW {:.3} kvar, losses {:.3} kW",
        sol.status, sol.iterations, sol.source_kw, sol.source_kvar, sol.losses_kw
    );
    if let (Some((lo, at_lo)), Some((hi, at_hi))) = (&sol.v_min_pu, &sol.v_max_pu) {
        println!("V min {lo:.6} pu at {at_lo}, max {hi:.6} pu at {at_hi}");
    }
    println!(
        "read {:.1} ms (tables and profiles), build + solve {:.2} ms",
        t_read.as_secs_f64() * 1e3,
        t_solve.as_secs_f64() * 1e3
    );
}
