//! The `vgrid` command: flags in, calls into the `vgrid` facade, reports out. Glue only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use vgrid::{ReadOptions, Session, Solution};

mod scenarios;
mod timeseries;

#[derive(Parser)]
#[command(
    name = "vgrid",
    version,
    about = "Plan and operate distribution grids: unbalanced three-phase power flow on OpenDSS models",
    long_about = "vgrid reads OpenDSS scripts as they are and solves unbalanced three-phase power flow \
with OpenDSS's models (regulators, switched capacitors, every load model), much faster.\n\n\
Examples:\n  vgrid solve examples/village/Master.dss\n  vgrid solve feeder.dss --voltages v.csv --losses l.csv\n  vgrid timeseries examples/village/Run_year.dss --elements el.csv --buses b.csv\n  vgrid check feeder.dss"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an OpenDSS script (Compile, edits, Set, Solve) and print a summary of the last solve.
    Solve {
        /// The OpenDSS script (e.g. Master.dss).
        script: PathBuf,
        /// Write one row per bus node: bus,node,vmag_v,vang_deg,vbase_ln_kv,vmag_pu.
        #[arg(long, value_name = "FILE.csv")]
        voltages: Option<PathBuf>,
        /// Write one row per power-delivery element: element,loss_kw,loss_kvar.
        #[arg(long, value_name = "FILE.csv")]
        losses: Option<PathBuf>,
        /// Write the loading of every line and transformer:
        /// element,i_max_a,i_rated_a,loading_pct.
        #[arg(long, value_name = "FILE.csv")]
        loadings: Option<PathBuf>,
        /// Voltage band in per unit, LOW,HIGH. Default: GB/T 12325's ±7 % for three-phase
        /// supply of 20 kV and below (use 0.90,1.07 for 220 V single-phase supply, or
        /// 0.90,1.10 for EN 50160).
        #[arg(long, value_name = "LOW,HIGH", default_value = "0.93,1.07", value_parser = parse_band)]
        band: (f64, f64),
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Unknown properties become warnings instead of errors.
        #[arg(long)]
        lenient: bool,
        /// Extra commands to run after the script and before the final solve,
        /// e.g. --command "Set controlmode=off". May be repeated.
        #[arg(long = "command", short = 'c', value_name = "DSS")]
        commands: Vec<String>,
    },
    /// Run a script's daily or yearly time series and report overloads and voltage-band
    /// violations over the whole run.
    ///
    /// The script runs up to the time series (its snapshot `Solve`s solve); the run then uses
    /// the script's `Set mode= number= stepsize= hour=`, which --mode, --number and --stepsize
    /// override. Steps are streamed to the files, never held in memory. Each file is CSV, or
    /// Apache Parquet (same columns) when its path ends in .parquet. The exit code is 1 when
    /// a step did not converge (the run goes on and the files are complete).
    #[command(
        after_help = "Examples:\n  vgrid timeseries examples/village/Run_year.dss --elements el.csv --buses b.csv --trip-risk trips.csv\n  vgrid timeseries examples/village/Run_year.dss --per-step steps.parquet --band EN50160\n  vgrid timeseries feeder/Master.dss --mode daily --number 96 --stepsize 15m --per-step steps.csv"
    )]
    Timeseries {
        /// The OpenDSS script (e.g. Run_year.dss, or a Master.dss with --mode/--number/--stepsize).
        script: PathBuf,
        /// Solution mode of the run (default: the script's `Set mode=`). Another mode than the
        /// script's resets number, stepsize and hour as OpenDSS's `Set mode=` does (daily:
        /// 24 × 1 h; yearly: 8760 × 1 h; duty: 100 × 1 s) before --number and --stepsize.
        #[arg(long, value_enum)]
        mode: Option<timeseries::Mode>,
        /// Number of steps (default: the script's `Set number=`).
        #[arg(long, value_name = "N")]
        number: Option<u32>,
        /// Step size: 15m, 1h, 60s, or seconds (default: the script's `Set stepsize=`).
        #[arg(long, value_name = "STEP", value_parser = timeseries::parse_step_size)]
        stepsize: Option<f64>,
        /// Stream one row per step: step,hour,converged,iterations,control_iterations,
        /// p_source_kw,q_source_kvar,losses_kw,losses_kvar,vpu_min,vpu_max,tap_<regcontrol>...
        #[arg(long, value_name = "FILE.csv|.parquet")]
        per_step: Option<PathBuf>,
        /// One row per line and transformer: element,i_rated_a,peak_i_a,peak_loading_pct,
        /// peak_hour_h,above_100pct_h,above_<trip>pct_h (left out when --trip-pct is 100),
        /// longest_above_<trip>pct_h (longest unbroken stretch),longest_above_<trip>pct_from_hour_h,
        /// energy_through_kwh,losses_kwh,trip_reference,trip_reference_a,trip_risk_episodes,
        /// trip_risk_h.
        #[arg(long, value_name = "FILE.csv|.parquet")]
        elements: Option<PathBuf>,
        /// One row per bus node with a voltage base: bus,node,vbase_ln_kv,vmin_pu,vmin_hour_h,
        /// vmax_pu,vmax_hour_h,below_band_h,above_band_h,voltage_class,band_low_pu,band_high_pu,
        /// bus_vuf_max_pct,bus_vuf_max_hour_h,bus_above_vuf_limit_h (the voltage unbalance of
        /// the node's bus when it has three phases, else nan).
        #[arg(long, value_name = "FILE.csv|.parquet")]
        buses: Option<PathBuf>,
        /// Voltage band: GBT12325 (default) judges each node by its class: three-phase 20 kV
        /// and below ±7 % (0.93–1.07 pu); single-phase 220 V supply, i.e. low-voltage nodes
        /// feeding a single-phase load or PV, or on buses with fewer than three phases,
        /// +7/−10 % (0.90–1.07); above 20 kV ±10 % (GB/T 12325's 10 % total deviation for
        /// 35 kV and above, approximated). EN50160: ±10 % for every node. LOW,HIGH: one band in
        /// per unit for every node (e.g. 0.95,1.05).
        #[arg(long, value_name = "GBT12325|EN50160|LOW,HIGH", default_value = "GBT12325", value_parser = timeseries::parse_band)]
        band: vgrid::timeseries::study::VoltageBand,
        /// Voltage unbalance factor |V2|/|V1|, %, above which a three-phase bus's hours are
        /// counted (GB/T 15543: 2 % in normal operation).
        #[arg(long, value_name = "PCT", default_value = "2", value_parser = timeseries::parse_pct)]
        vuf_limit: f64,
        /// Trip threshold, % of an element's reference current: the pickup of a protective
        /// device monitoring it (Fuse RatedCurrent, Recloser/Relay PhaseTrip), else its rating,
        /// for the trip-risk episodes; % of rating for the hours above it and the longest
        /// stretch in --elements.
        #[arg(long, value_name = "PCT", default_value = "100", value_parser = timeseries::parse_pct)]
        trip_pct: f64,
        /// Shortest stretch above --trip-pct that counts as a trip-risk episode: 30m (default;
        /// transformers and cables ride through shorter overloads), 1h, 2h, 0 (every step).
        #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = timeseries::parse_duration_h)]
        trip_after: f64,
        /// One row per trip-risk episode: element,reference,reference_a,threshold_a,
        /// start_hour_h,end_hour_h,duration_h,peak_loading_pct,peak_i_a,peak_hour_h.
        #[arg(long, value_name = "FILE.csv|.parquet")]
        trip_risk: Option<PathBuf>,
        /// Skip the per-step branch currents: no element statistics, about a third faster on
        /// large feeders.
        #[arg(long, conflicts_with_all = ["elements", "trip_risk"])]
        no_elements: bool,
        /// Solve every step as a full three-phase network, even when the network is balanced
        /// (SimBench grids: by default solved in positive sequence, the same voltages faster).
        #[arg(long)]
        three_phase: bool,
        /// Print the summary as JSON (every out-of-band node and overloaded element).
        #[arg(long)]
        json: bool,
        /// Unknown properties become warnings instead of errors.
        #[arg(long)]
        lenient: bool,
        /// Extra commands to run after the script and before the run,
        /// e.g. --command "Set controlmode=time". May be repeated.
        #[arg(long = "command", short = 'c', value_name = "DSS")]
        commands: Vec<String>,
    },
    /// Run a list of what-ifs (load growth, new PV, a transformer replaced, a battery) over
    /// the year on all cores, and compare them side by side.
    ///
    /// The scenario file names a base script (`base = Run_year.dss`) and sections `[name]` of
    /// OpenDSS commands run after it, or shorthands: `load_growth_pct = 20`,
    /// `pv bus=e1_3 kw=30`, `replace Transformer.tb kva=630`, `battery bus=b0 kw=100 kwh=200`.
    /// Every scenario is prepared first (errors name the file and line); then each runs its
    /// time series on a worker thread. The changes are against `[base]` (else the first
    /// section). Exit code 1 when a step did not converge, 2 when a scenario failed.
    #[command(
        after_help = "Example:\n  vgrid scenarios examples/village/scenarios.txt --out village-scenarios\n\n\
The file format, with every shorthand, is in examples/village/scenarios.txt and in the docs of vgrid::scenario."
    )]
    Scenarios {
        /// The scenario file (e.g. examples/village/scenarios.txt).
        file: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long, short = 'j', value_name = "N")]
        jobs: Option<usize>,
        /// Steps per scenario instead of the base script's `number` (e.g. 96 for a first day
        /// of 15-minute steps).
        #[arg(long, value_name = "N")]
        number: Option<u32>,
        /// Run only these scenarios, e.g. --only base,tb-630kVA (may be repeated).
        #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
        only: Vec<String>,
        /// Write into DIR: scenarios.csv (one row per scenario, changes against the
        /// reference), elements_compared.csv (each line and transformer across scenarios), and
        /// per scenario <name>/elements.csv and <name>/nodes.csv (as vgrid timeseries writes).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Voltage band, as for vgrid timeseries: GBT12325 (default, by voltage class),
        /// EN50160, or LOW,HIGH per unit.
        #[arg(long, value_name = "GBT12325|EN50160|LOW,HIGH", default_value = "GBT12325", value_parser = timeseries::parse_band)]
        band: vgrid::timeseries::study::VoltageBand,
        /// Trip threshold, % of an element's reference current (a monitoring protective
        /// device's pickup, else its rating), as for vgrid timeseries.
        #[arg(long, value_name = "PCT", default_value = "100", value_parser = timeseries::parse_pct)]
        trip_pct: f64,
        /// Skip the per-step branch currents: no element statistics, faster.
        #[arg(long)]
        no_elements: bool,
        /// Print the comparison as JSON (every figure, its change, the most loaded elements).
        #[arg(long)]
        json: bool,
        /// Unknown properties become warnings instead of errors.
        #[arg(long)]
        lenient: bool,
    },
    /// List every problem in a model without solving it.
    Check {
        /// The OpenDSS script.
        script: PathBuf,
        /// Unknown properties become warnings instead of errors.
        #[arg(long)]
        lenient: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Solve {
            script,
            voltages,
            losses,
            loadings,
            band,
            json,
            lenient,
            commands,
        } => solve(
            &script,
            &Outputs {
                voltages: voltages.as_deref(),
                losses: losses.as_deref(),
                loadings: loadings.as_deref(),
            },
            band,
            json,
            lenient,
            &commands,
        ),
        Command::Timeseries {
            script,
            mode,
            number,
            stepsize,
            per_step,
            elements,
            buses,
            band,
            trip_pct,
            trip_after,
            trip_risk,
            vuf_limit,
            no_elements,
            three_phase,
            json,
            lenient,
            commands,
        } => timeseries::run(&timeseries::Options {
            script: &script,
            mode,
            number,
            step_size_s: stepsize,
            per_step: per_step.as_deref(),
            elements: elements.as_deref(),
            buses: buses.as_deref(),
            study: vgrid::timeseries::StudyOptions {
                band,
                trip_pct,
                trip_min_h: trip_after,
                elements: !no_elements,
                vuf_limit_pct: vuf_limit,
            },
            trip_risk: trip_risk.as_deref(),
            three_phase,
            json,
            lenient,
            commands: &commands,
        }),
        Command::Scenarios {
            file,
            jobs,
            number,
            only,
            out,
            band,
            trip_pct,
            no_elements,
            json,
            lenient,
        } => scenarios::run(&scenarios::Options {
            file: &file,
            jobs,
            number,
            only: &only,
            out: out.as_deref(),
            band,
            trip_pct,
            no_elements,
            json,
            lenient,
        }),
        Command::Check { script, lenient } => check(&script, lenient),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Files `vgrid solve` writes.
struct Outputs<'a> {
    voltages: Option<&'a Path>,
    losses: Option<&'a Path>,
    loadings: Option<&'a Path>,
}

fn parse_band(s: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = s
        .split_once(',')
        .ok_or_else(|| format!("expected LOW,HIGH in per unit, e.g. 0.93,1.07, not {s:?}"))?;
    let lo: f64 = lo.trim().parse().map_err(|e| format!("LOW {lo:?}: {e}"))?;
    let hi: f64 = hi.trim().parse().map_err(|e| format!("HIGH {hi:?}: {e}"))?;
    if !(lo > 0.0 && lo < hi) {
        return Err(format!("need 0 < LOW < HIGH, got {lo},{hi}"));
    }
    Ok((lo, hi))
}

fn solve(
    script: &Path,
    out: &Outputs,
    band: (f64, f64),
    json: bool,
    lenient: bool,
    commands: &[String],
) -> Result<ExitCode> {
    let mut s = Session::new(ReadOptions {
        lenient,
        ..ReadOptions::default()
    });
    // Solves inside the script run as OpenDSS runs them; the summary is of the last one.
    s.run_file(script)?;
    for c in commands {
        s.run_command(c)
            .with_context(|| format!("in --command {c:?}"))?;
    }
    // after the extra commands, so that what they provoke is reported too
    for w in s.warnings() {
        eprintln!("warning: {w}");
    }
    let mode = s.network().settings.mode;
    if mode != vgrid::model::SolveMode::Snapshot {
        eprintln!(
            "warning: the script sets mode={mode:?}: `vgrid solve` solves one snapshot with the \
             loads at their base values; run the time series with `vgrid timeseries {}`",
            script.display()
        );
    }
    let sol = match s.solutions().last() {
        Some(sol) if commands.is_empty() => sol.clone(),
        _ => s.solve()?,
    };
    if let Some(p) = out.voltages {
        write_voltages(p, &sol).with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = out.losses {
        write_losses(p, &sol).with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = out.loadings {
        write_loadings(p, &sol).with_context(|| format!("writing {}", p.display()))?;
    }
    if json {
        let mut summary = serde_json::to_value(&sol)?;
        if let Some(o) = summary.as_object_mut() {
            o.remove("voltages");
            o.remove("element_losses");
            o.remove("loadings");
            let over: Vec<_> = sol
                .loadings
                .iter()
                .filter(|l| l.loading_pct > 100.0)
                .collect();
            o.insert("overloaded".into(), serde_json::to_value(over)?);
            let (lo, hi) = band;
            let outside: Vec<_> = sol
                .voltages
                .iter()
                .filter(|v| v.vmag_pu.is_some_and(|p| p > 0.05 && (p < lo || p > hi)))
                .map(|v| serde_json::json!({"bus": v.bus, "node": v.node, "vmag_pu": v.vmag_pu}))
                .collect();
            o.insert("band_pu".into(), serde_json::json!([lo, hi]));
            o.insert("outside_band".into(), serde_json::Value::Array(outside));
        }
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(script, &sol, band);
    }
    Ok(if sol.converged {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(script: &Path, sol: &Solution, (lo, hi): (f64, f64)) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "vgrid solve {}", script.display());
    if sol.converged {
        let _ = writeln!(
            o,
            "  converged            yes, {} iterations, {} control iterations",
            sol.iterations, sol.control_iterations
        );
    } else {
        let _ = writeln!(
            o,
            "  converged            NO ({}), after {} iterations",
            sol.status, sol.iterations
        );
        for (bus, node, change) in &sol.worst_nodes {
            let _ = writeln!(
                o,
                "    still moving: {bus}.{node} (relative change {change:.2e})"
            );
        }
    }
    let _ = writeln!(
        o,
        "  source power         {:.3} kW  {:.3} kvar",
        sol.source_kw, sol.source_kvar
    );
    let _ = writeln!(
        o,
        "  losses               {:.3} kW  {:.3} kvar  ({:.2} % of source kW)",
        sol.losses_kw,
        sol.losses_kvar,
        if sol.source_kw.abs() > 0.0 {
            100.0 * sol.losses_kw / sol.source_kw
        } else {
            0.0
        }
    );
    let _ = writeln!(
        o,
        "  loads                {:.3} kW  {:.3} kvar",
        sol.load_kw, sol.load_kvar
    );
    if let Some((v, at)) = &sol.v_min_pu {
        let _ = writeln!(o, "  min voltage          {v:.5} pu at {at}");
    }
    if let Some((v, at)) = &sol.v_max_pu {
        let _ = writeln!(o, "  max voltage          {v:.5} pu at {at}");
    }
    let outside: Vec<_> = sol
        .voltages
        .iter()
        .filter_map(|v| v.vmag_pu.filter(|p| *p > 0.05).map(|p| (p, v)))
        .filter(|(p, _)| *p < lo || *p > hi)
        .collect();
    let below = outside.iter().filter(|(p, _)| *p < lo).count();
    let _ = writeln!(
        o,
        "  voltage band         {lo:.2}–{hi:.2} pu: {} nodes below, {} above",
        below,
        outside.len() - below
    );
    let over: Vec<_> = sol
        .loadings
        .iter()
        .filter(|l| l.loading_pct > 100.0)
        .collect();
    let _ = writeln!(
        o,
        "  overloaded           {} of {} rated lines and transformers",
        over.len(),
        sol.loadings.len()
    );
    for l in sol.loadings.iter().take(5).filter(|l| l.loading_pct > 80.0) {
        let _ = writeln!(
            o,
            "    {:<28} {:6.1} %  ({:.1} A of {:.1} A)",
            l.element, l.loading_pct, l.i_max_a, l.i_rated_a
        );
    }
    if !sol.taps.is_empty() {
        let _ = writeln!(o, "  regulator taps");
        for t in &sol.taps {
            let _ = writeln!(
                o,
                "    {:<16} Transformer.{} winding {}: tap {:+} ({:.5} pu)",
                t.reg_control, t.transformer, t.winding, t.tap_number, t.tap_pu
            );
        }
    }
    if !sol.capacitor_states.is_empty() {
        let _ = writeln!(o, "  capacitors");
        for (c, st) in &sol.capacitor_states {
            let st: Vec<&str> = st.iter().map(|on| if *on { "on" } else { "off" }).collect();
            let _ = writeln!(o, "    {:<16} {}", c, st.join(" "));
        }
    }
    if !sol.isolated_buses.is_empty() {
        let _ = writeln!(
            o,
            "  de-energised buses   {} ({}{})",
            sol.isolated_buses.len(),
            sol.isolated_buses
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if sol.isolated_buses.len() > 5 {
                ", ..."
            } else {
                ""
            }
        );
    }
}

fn write_voltages(path: &Path, sol: &Solution) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "bus,node,vmag_v,vang_deg,vbase_ln_kv,vmag_pu")?;
    for v in &sol.voltages {
        let base = v
            .vbase_ln_kv
            .map_or("nan".to_string(), |b| format!("{b:.6}"));
        let pu = v.vmag_pu.map_or("nan".to_string(), |p| format!("{p:.8}"));
        writeln!(
            f,
            "{},{},{:.6},{:.6},{},{}",
            v.bus, v.node, v.vmag_v, v.vang_deg, base, pu
        )?;
    }
    f.flush()?;
    Ok(())
}

fn write_losses(path: &Path, sol: &Solution) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "element,loss_kw,loss_kvar")?;
    for l in &sol.element_losses {
        writeln!(f, "{},{:.6},{:.6}", l.element, l.loss_kw, l.loss_kvar)?;
    }
    f.flush()?;
    Ok(())
}

fn write_loadings(path: &Path, sol: &Solution) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "element,i_max_a,i_rated_a,loading_pct")?;
    for l in &sol.loadings {
        writeln!(
            f,
            "{},{:.4},{:.4},{:.3}",
            l.element, l.i_max_a, l.i_rated_a, l.loading_pct
        )?;
    }
    f.flush()?;
    Ok(())
}

fn check(script: &Path, lenient: bool) -> Result<ExitCode> {
    let opts = ReadOptions {
        lenient,
        keep_going: true,
    };
    let mut reader = vgrid::Reader::new(opts);
    let r = reader.run_file(script, &mut |_, _| Ok(()));
    let mut n_err = 0;
    for e in reader.errors() {
        println!("{e}");
        n_err += 1;
    }
    if let Err(e) = r {
        if reader.errors().is_empty() {
            println!("{e}");
            n_err += 1;
        }
    }
    for w in reader.warnings() {
        println!("{w}");
    }
    for p in reader.network().validate() {
        if p.severity == vgrid::model::Severity::Error {
            n_err += 1;
        }
        println!("{}: {p}", script.display());
    }
    if n_err == 0 {
        println!(
            "{}: no problems found ({} warnings)",
            script.display(),
            reader.warnings().len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{}: {n_err} problem(s)", script.display());
        Ok(ExitCode::from(1))
    }
}
