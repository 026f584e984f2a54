//! The `vgrid` command: flags in, calls into the `vgrid` facade, reports out. Glue only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use vgrid::{ReadOptions, Session, Solution};

#[derive(Parser)]
#[command(
    name = "vgrid",
    version,
    about = "Plan and operate distribution grids: unbalanced three-phase power flow on OpenDSS models",
    long_about = "vgrid reads OpenDSS scripts as they are and solves unbalanced three-phase power flow \
with OpenDSS's models (regulators, switched capacitors, every load model), much faster.\n\n\
Examples:\n  vgrid solve examples/village/Master.dss\n  vgrid solve feeder.dss --voltages v.csv --losses l.csv\n  vgrid check feeder.dss"
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
            json,
            lenient,
            commands,
        } => solve(
            &script,
            voltages.as_deref(),
            losses.as_deref(),
            json,
            lenient,
            &commands,
        ),
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

fn solve(
    script: &Path,
    voltages: Option<&Path>,
    losses: Option<&Path>,
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
    for w in s.warnings() {
        eprintln!("warning: {w}");
    }
    for c in commands {
        s.run_command(c)
            .with_context(|| format!("in --command {c:?}"))?;
    }
    let sol = match s.solutions().last() {
        Some(sol) if commands.is_empty() => sol.clone(),
        _ => s.solve()?,
    };
    if let Some(p) = voltages {
        write_voltages(p, &sol).with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = losses {
        write_losses(p, &sol).with_context(|| format!("writing {}", p.display()))?;
    }
    if json {
        let mut summary = serde_json::to_value(&sol)?;
        if let Some(o) = summary.as_object_mut() {
            o.remove("voltages");
            o.remove("element_losses");
        }
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(script, &sol);
    }
    Ok(if sol.converged {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(script: &Path, sol: &Solution) {
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
