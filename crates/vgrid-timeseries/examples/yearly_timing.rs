//! Wall time of the two OpenDSS reference time series, for BENCHMARKS.md:
//! the IEEE 123-bus feeder over 8,760 hours (regulators active, static control mode) and the
//! IEEE European LV feeder over 1,440 one-minute steps, each set up exactly as
//! `../shared/bench/opendss_timeseries.py` sets up OpenDSS (default tolerance), and timed over
//! the run alone (set-up and building untimed, as OpenDSS's timed `solve`).
//!
//! ```sh
//! cargo run --release -p vgrid-timeseries --example yearly_timing [RUNS]
//! ```
//!
//! Seen on the 2-core shared machine (medians of 3, with OpenDSS timed by the same recipe
//! right before): IEEE 123 year 0.80 s at 1e-9 (0.72 s at 1e-7) against OpenDSS's 3.40 s
//! (4.06 s at tolerance 1e-10); European LV day 0.54 s (0.35 s) against 1.39 s (1.79 s).

use std::path::{Path, PathBuf};
use std::time::Instant;

use vgrid_dss::{Directive, ReadOptions, Reader};
use vgrid_model::{Network, SolveMode};
use vgrid_timeseries::{Simulation, StepReport};

fn setup(commands: &[String]) -> Network {
    let mut reader = Reader::new(ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    });
    for c in commands {
        reader
            .run_command(c, &mut |net, d| {
                if matches!(d, Directive::Solve) && net.settings.mode == SolveMode::Snapshot {
                    let mut sim = Simulation::new(net).map_err(|e| e.to_string())?;
                    sim.solve_present().map_err(|e| e.to_string())?;
                    sim.write_back(net);
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{c}: {e}"));
    }
    reader.into_network()
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let feeders = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/feeders");
    let compile = |p: &str| format!("compile \"{}\"", Path::new(&feeders).join(p).display());
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "ieee123_yearly (8760 h)",
            vec![
                compile("ieee123/IEEE123Master.dss"),
                "solve".into(),
                "Redirect LoadShape1.DSS".into(),
                "batchedit load..* yearly=loadshape1".into(),
                "solve".into(),
                "set mode=yearly".into(),
                "set stepsize=1h number=8760".into(),
                "Set Year=1".into(),
            ],
        ),
        (
            "eulv_daily (1440 min)",
            vec![
                compile("eulv/Master.dss"),
                "set mode=yearly number=1440 stepsize=1m".into(),
            ],
        ),
    ];
    for ((name, cmds), tolerance_pu) in cases.iter().flat_map(|c| [(c, 1e-9), (c, 1e-7)]) {
        let net = setup(cmds);
        let mut times = Vec::new();
        let mut not_converged = 0;
        let mut steps = 0;
        let mut iters = (0.0, 0.0);
        for _ in 0..runs {
            let mut sim = Simulation::new(&net).expect("build");
            sim.set_tolerance_pu(tolerance_pu);
            let mut energy_kwh = 0.0;
            let mut iterations = 0u64;
            let mut control_iterations = 0u64;
            let h = net.settings.step_size_s / 3600.0;
            let t0 = Instant::now();
            let s = sim
                .run(&mut |r: &StepReport| {
                    energy_kwh += r.p_source_kw * h;
                    iterations += u64::from(r.iterations);
                    control_iterations += u64::from(r.control_iterations);
                })
                .expect("run");
            times.push(t0.elapsed().as_secs_f64());
            not_converged = s.steps_not_converged;
            steps = s.steps;
            std::hint::black_box(energy_kwh);
            iters = (
                iterations as f64 / s.steps.max(1) as f64,
                control_iterations as f64 / s.steps.max(1) as f64,
            );
        }
        times.sort_by(f64::total_cmp);
        let med = times[times.len() / 2];
        println!(
            "{name}, tolerance {tolerance_pu:.0e}: median {:.1} ms over {runs} runs ({:.1} µs/step, {steps} steps, {not_converged} not converged, {:.2} power-flow and {:.3} control iterations per step); runs {:?} ms",
            med * 1e3,
            med / steps.max(1) as f64 * 1e6,
            iters.0,
            iters.1,
            times.iter().map(|t| (t * 1e4).round() / 10.0).collect::<Vec<_>>()
        );
    }
}
