//! Timing of vgrid's snapshot work, for `bench/compare_opendss.py` (which runs OpenDSS on the
//! same script in the same run and prints the ratio).
//!
//! ```text
//! cargo run --release -p vgrid --example snapshot_timing -- MASTER.dss RUNS RESOLVES LOAD [CMD ...]
//! ```
//! * read + solve: a fresh `Session` runs the script (its own `Solve` commands included), then
//!   the extra commands `CMD`, then one more solve with the control loop — the same work as
//!   OpenDSS's `compile` + commands + `solve`;
//! * re-solve after a load change: with the solver kept warm, `LOAD`'s kW and kvar alternate
//!   between 100 % and 110 % and the snapshot (power flow + control loop) is solved again.
//!
//! Prints one JSON object with every run's seconds and the medians.

use std::time::Instant;

use vgrid::{ReadOptions, Session, SnapshotSolver};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: snapshot_timing MASTER.dss RUNS RESOLVES LOAD [CMD ...]");
        std::process::exit(2);
    }
    let master = std::path::Path::new(&args[1]);
    let runs: usize = args[2].parse().expect("RUNS");
    let resolves: usize = args[3].parse().expect("RESOLVES");
    let load = args[4].to_ascii_lowercase();
    let cmds = &args[5..];

    // where the time of one read + solve goes
    let t = Instant::now();
    let mut s0 = Session::new(ReadOptions::default());
    s0.ignore_script_solves = true;
    s0.run_file(master).expect("read");
    for c in cmds {
        s0.run_command(c).expect("command");
    }
    let read_only_s = t.elapsed().as_secs_f64();
    let mut builds = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let built = SnapshotSolver::new(s0.network()).expect("build");
        builds.push(t.elapsed().as_secs_f64());
        drop(built);
    }
    let build_s = median(&mut builds);
    let mut snap0 = SnapshotSolver::new(s0.network()).expect("build");
    let t = Instant::now();
    let (o, r) = snap0.solve_quiet().expect("solve");
    let solve_s = t.elapsed().as_secs_f64();
    let control_iterations = r.map_or(0, |r| r.control_iterations);
    let t = Instant::now();
    let _ = snap0.solve().expect("report");
    let report_s = t.elapsed().as_secs_f64();
    eprintln!(
        "breakdown: read {:.3} ms, build (median) {:.3} ms, solve {:.3} ms ({} iterations, {} control iterations), re-solve + report {:.3} ms",
        read_only_s * 1e3,
        build_s * 1e3,
        solve_s * 1e3,
        o.iterations,
        control_iterations,
        report_s * 1e3
    );

    let mut read_solve = Vec::new();
    let mut session = None;
    let mut losses_kw = 0.0;
    let mut converged = false;
    for _ in 0..runs {
        let t = Instant::now();
        let mut s = Session::new(ReadOptions::default());
        s.run_file(master).expect("read");
        for c in cmds {
            s.run_command(c).expect("command");
        }
        let sol = s.solve().expect("solve");
        read_solve.push(t.elapsed().as_secs_f64());
        losses_kw = sol.losses_kw;
        converged = sol.converged;
        session = Some(s);
    }
    let s = session.expect("at least one run");
    let mut snap = SnapshotSolver::new(s.network()).expect("build");
    snap.solve_quiet().expect("first solve");
    let base = s
        .network()
        .loads
        .iter()
        .find(|l| l.name == load)
        .map(|l| (l.p_kw, l.q_kvar))
        .expect("no such load");
    let mut resolve = Vec::new();
    let mut iterations = Vec::new();
    for k in 0..resolves {
        let f = if k % 2 == 0 { 1.1 } else { 1.0 };
        let t = Instant::now();
        snap.set_load(&load, base.0 * f, base.1 * f);
        let (outcome, _) = snap.solve_quiet().expect("re-solve");
        resolve.push(t.elapsed().as_secs_f64());
        iterations.push(outcome.iterations);
    }
    let nodes = snap.system().net.n_nodes();
    eprintln!(
        "sparsity (unknowns, nnz Y, nnz LU): {:?}; eliminated first (nodes, by chains): {:?}",
        snap.system().sparsity(),
        snap.system().eliminated_nodes()
    );
    let rs_med = median(&mut read_solve.clone());
    let re_med = median(&mut resolve.clone());
    iterations.sort_unstable();
    println!(
        "{{\"nodes\": {nodes}, \"converged\": {converged}, \"losses_kw\": {losses_kw}, \
         \"read_solve_s_median\": {rs_med}, \"resolve_s_median\": {re_med}, \
         \"resolve_iterations_median\": {}, \"read_solve_s\": {:?}, \"runs\": {runs}, \"resolves\": {resolves}}}",
        iterations[iterations.len() / 2],
        read_solve
    );
}
