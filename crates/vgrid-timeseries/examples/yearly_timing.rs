//! Engine time of OpenDSS time-series scripts, for BENCHMARKS.md and `bench/timeseries_peers.py`:
//! by default the two OpenDSS reference runs, the IEEE 123-bus feeder over 8,760 hours
//! (regulators active, static control mode) and the IEEE European LV feeder over 1,440
//! one-minute steps, read from the very scripts OpenDSS is timed on
//! (`../shared/feeders/reference/opendss_timeseries/<case>/run.dss`), and timed over the run
//! alone: reading the script and building the system untimed (reported apart), as OpenDSS's
//! timed `solve`. No statistics are gathered beyond the step reports (that is what
//! `vgrid timeseries` adds on top, see its `run_time_s`).
//!
//! ```sh
//! cargo run --release -p vgrid-timeseries --example yearly_timing [RUNS] [--json] [--no-start-cache] [--tol 1e-9]... [SCRIPT.dss]...
//! ```
//!
//! - `RUNS`: timed runs per case and tolerance (default 5); the median is reported.
//! - `--tol X`: the power-flow tolerance in pu (repeatable; default 1e-9, the engine's and the
//!   CLI's default, and 1e-7).
//! - `SCRIPT.dss`: any script that sets a time mode (`Set mode=yearly number=...`) and ends
//!   with (or without) its time-mode `Solve`; snapshot `Solve`s before it solve, as in
//!   `vgrid timeseries`.
//! - `--no-start-cache`: flows start from the step-to-step prediction only, not from the
//!   solutions remembered by load level and control state (`Simulation::set_start_cache`).
//! - `--json`: one JSON object per case and tolerance per line (times in seconds):
//!   `{"case","script","tolerance_pu","runs","steps","steps_not_converged","read_s","build_s",
//!   "run_s_median","run_s_all","us_per_step","iterations_per_step","control_iterations_per_step",
//!   "start_cache"}` (`start_cache`: `null` when not used, else `[flows started from remembered
//!   solutions, flows that found none, solutions remembered]`).
//!
//! Seen on the 2-core shared machine (medians of 3, with OpenDSS timed by the same recipe
//! right before): IEEE 123 year 0.80 s at 1e-9 (0.72 s at 1e-7) against OpenDSS's 3.40 s
//! (4.06 s at tolerance 1e-10); European LV day 0.54 s (0.35 s) against 1.39 s (1.79 s).

use std::path::{Path, PathBuf};
use std::time::Instant;

use vgrid_dss::{Directive, ReadOptions, Reader};
use vgrid_model::{Network, SolveMode};
use vgrid_timeseries::{Simulation, StepReport};

/// Run the script as `vgrid timeseries` does up to its time series: snapshot `Solve`s solve
/// (taps and capacitor states written back), time-mode ones wait for the timed run.
fn setup(script: &Path) -> Result<Network, String> {
    let mut reader = Reader::new(ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    });
    reader
        .run_file(script, &mut |net, d| {
            if matches!(d, Directive::Solve) && net.settings.mode == SolveMode::Snapshot {
                let mut sim = Simulation::new(net).map_err(|e| e.to_string())?;
                sim.solve_present().map_err(|e| e.to_string())?;
                sim.write_back(net);
            }
            Ok(())
        })
        .map_err(|e| format!("{}: {e}", script.display()))?;
    let net = reader.into_network();
    if net.settings.mode == SolveMode::Snapshot {
        return Err(format!(
            "{}: the script leaves the mode at snapshot; set mode=yearly (or daily, duty)",
            script.display()
        ));
    }
    Ok(net)
}

/// The case name: the script's folder (`ieee123_yearly` for `.../ieee123_yearly/run.dss`).
fn case_name(script: &Path) -> String {
    script
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| script.display().to_string())
}

struct Args {
    runs: usize,
    json: bool,
    start_cache: bool,
    tolerances_pu: Vec<f64>,
    scripts: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        runs: 5,
        json: false,
        start_cache: true,
        tolerances_pu: Vec::new(),
        scripts: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        if arg == "--json" {
            a.json = true;
        } else if arg == "--no-start-cache" {
            a.start_cache = false;
        } else if arg == "--tol" {
            let v = it.next().ok_or("--tol needs a value")?;
            let t: f64 = v.parse().map_err(|_| format!("--tol {v}: not a number"))?;
            a.tolerances_pu.push(t);
        } else if let Ok(n) = arg.parse::<usize>() {
            a.runs = n.max(1);
        } else {
            a.scripts.push(PathBuf::from(arg));
        }
    }
    if a.tolerances_pu.is_empty() {
        a.tolerances_pu = vec![1e-9, 1e-7];
    }
    if a.scripts.is_empty() {
        let reference = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/feeders/reference/opendss_timeseries");
        a.scripts = ["ieee123_yearly", "eulv_daily"]
            .iter()
            .map(|c| reference.join(c).join("run.dss"))
            .collect();
    }
    Ok(a)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("yearly_timing: {e}");
            std::process::exit(2);
        }
    };
    for script in &args.scripts {
        let name = case_name(script);
        let t_read = Instant::now();
        let net = match setup(script) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("yearly_timing: {e}");
                std::process::exit(1);
            }
        };
        let read_s = t_read.elapsed().as_secs_f64();
        for &tolerance_pu in &args.tolerances_pu {
            let mut times = Vec::new();
            let mut build_times = Vec::new();
            let mut not_converged = 0;
            let mut steps = 0;
            let mut iters = (0.0, 0.0);
            let mut cache_use = None;
            for _ in 0..args.runs {
                let t_build = Instant::now();
                let mut sim = match Simulation::new(&net) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("yearly_timing: {name}: {e}");
                        std::process::exit(1);
                    }
                };
                sim.set_tolerance_pu(tolerance_pu);
                sim.set_start_cache(args.start_cache);
                build_times.push(t_build.elapsed().as_secs_f64());
                let mut energy_kwh = 0.0;
                let mut iterations = 0u64;
                let mut control_iterations = 0u64;
                let h = net.settings.step_size_s / 3600.0;
                let t0 = Instant::now();
                let s = match sim.run(&mut |r: &StepReport| {
                    energy_kwh += r.p_source_kw * h;
                    iterations += u64::from(r.iterations);
                    control_iterations += u64::from(r.control_iterations);
                }) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("yearly_timing: {name}: {e}");
                        std::process::exit(1);
                    }
                };
                times.push(t0.elapsed().as_secs_f64());
                not_converged = s.steps_not_converged;
                steps = s.steps;
                std::hint::black_box(energy_kwh);
                cache_use = sim.start_cache_use();
                iters = (
                    iterations as f64 / s.steps.max(1) as f64,
                    control_iterations as f64 / s.steps.max(1) as f64,
                );
            }
            let all = times.clone();
            times.sort_by(f64::total_cmp);
            build_times.sort_by(f64::total_cmp);
            let med = times[times.len() / 2];
            let build_med = build_times[build_times.len() / 2];
            let us_per_step = med / steps.max(1) as f64 * 1e6;
            let (cache_json, cache_text) = match cache_use {
                Some((hits, misses, kept)) => (
                    format!("[{hits},{misses},{kept}]"),
                    format!("; start cache: {hits} flows started from remembered solutions, {misses} found none, {kept} remembered"),
                ),
                None => ("null".to_string(), String::new()),
            };
            if args.json {
                // hand-written JSON: the example has no serde dependency
                let list = all
                    .iter()
                    .map(|t| format!("{t:.6}"))
                    .collect::<Vec<_>>()
                    .join(",");
                println!(
                    "{{\"case\":\"{name}\",\"script\":\"{}\",\"tolerance_pu\":{tolerance_pu:e},\"runs\":{},\"steps\":{steps},\"steps_not_converged\":{not_converged},\"read_s\":{read_s:.6},\"build_s\":{build_med:.6},\"run_s_median\":{med:.6},\"run_s_all\":[{list}],\"us_per_step\":{us_per_step:.3},\"iterations_per_step\":{:.4},\"control_iterations_per_step\":{:.4},\"start_cache\":{cache_json}}}",
                    script.display().to_string().replace('\\', "/").replace('"', "'"),
                    args.runs,
                    iters.0,
                    iters.1,
                );
            } else {
                println!(
                    "{name}, tolerance {tolerance_pu:.0e}: median {:.1} ms over {} runs ({us_per_step:.1} µs/step, {steps} steps, {not_converged} not converged, {:.2} power-flow and {:.3} control iterations per step; reading {:.1} ms, building {:.1} ms untimed{cache_text}); runs {:?} ms",
                    med * 1e3,
                    args.runs,
                    iters.0,
                    iters.1,
                    read_s * 1e3,
                    build_med * 1e3,
                    all.iter().map(|t| (t * 1e4).round() / 10.0).collect::<Vec<_>>()
                );
            }
        }
    }
}
