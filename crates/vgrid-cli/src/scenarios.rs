//! `vgrid scenarios`: run a list of what-ifs over the year on all cores and compare them side
//! by side.
//!
//! The scenario file (format in [`vgrid::scenario`]) names a base script and sections of
//! OpenDSS commands; each section is prepared (errors name the file and line before anything
//! runs), then every scenario's time series runs on its own worker thread (`--jobs`, default
//! all cores). One line per finished scenario goes to stderr; the comparison, with each
//! figure's change against the reference (`[base]`, else the first section), goes to stdout.
//!
//! ```text
//! vgrid scenarios examples/village/scenarios.txt --out village-scenarios
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use vgrid::scenario::{self, RunTotals, ScenarioFile, ScenarioOptions, ScenarioRun};

/// What `vgrid scenarios` was asked.
pub struct Options<'a> {
    pub file: &'a Path,
    pub jobs: Option<usize>,
    pub number: Option<u32>,
    pub out: Option<&'a Path>,
    pub lenient: bool,
}

/// Parse, prepare, run, compare.
pub fn run(o: &Options) -> Result<ExitCode> {
    let file = ScenarioFile::read(o.file)?;
    let mut opts = ScenarioOptions {
        lenient: o.lenient,
        number: o.number,
        ..ScenarioOptions::default()
    };
    if let Some(j) = o.jobs {
        opts.jobs = j.max(1);
    }
    let n = file.scenarios.len();
    eprintln!(
        "vgrid scenarios: {n} scenario{} over {}, {} job{}",
        if n == 1 { "" } else { "s" },
        file.base.display(),
        opts.jobs.min(n),
        if opts.jobs.min(n) == 1 { "" } else { "s" }
    );
    let start = Instant::now();
    let prepared = scenario::prepare_all(&file, &opts)?;
    let prepare_s = start.elapsed().as_secs_f64();
    for p in &prepared {
        for w in &p.warnings {
            eprintln!("warning: [{}]: {w}", p.name);
        }
    }
    let run_start = Instant::now();
    let width = file
        .scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4);
    let runs = scenario::run_prepared(prepared, opts.jobs, &|run, done, total| {
        eprintln!("  [{done}/{total}] {}", progress_line(run, width));
    });
    let run_s = run_start.elapsed().as_secs_f64();
    let cpu_s: f64 = runs.iter().map(|r| r.wall.as_secs_f64()).sum();
    let reference = file.reference();
    let mut out = std::io::stdout().lock();
    write_comparison(&mut out, &file, &runs, reference)?;
    writeln!(
        out,
        "  wall time            {:.2} s ({prepare_s:.2} s preparing, {run_s:.2} s running; the \
         runs' own times add up to {cpu_s:.2} s: {:.2}× on {} job{})",
        prepare_s + run_s,
        cpu_s / run_s.max(1e-9),
        opts.jobs.min(n),
        if opts.jobs.min(n) == 1 { "" } else { "s" }
    )?;
    if let Some(dir) = o.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let p = dir.join("scenarios.csv");
        write_csv(&p, &runs, reference).with_context(|| format!("writing {}", p.display()))?;
        writeln!(out, "  written              {}", p.display())?;
    }
    let failed = runs.iter().filter(|r| r.outcome.is_err()).count();
    for r in runs.iter().filter(|r| r.outcome.is_err()) {
        if let Err(e) = &r.outcome {
            eprintln!("error: [{}]: {e}", r.name);
        }
    }
    let not_converged = runs.iter().any(|r| {
        r.outcome
            .as_ref()
            .is_ok_and(|s| s.totals.steps_not_converged > 0)
    });
    Ok(if failed > 0 {
        ExitCode::from(2)
    } else if not_converged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn progress_line(run: &ScenarioRun, width: usize) -> String {
    let what = match &run.outcome {
        Ok(s) if s.totals.steps_not_converged == 0 => {
            format!("{} steps, all converged", s.totals.steps)
        }
        Ok(s) => format!(
            "{} steps, {} did NOT converge",
            s.totals.steps, s.totals.steps_not_converged
        ),
        Err(e) => format!("FAILED: {e}"),
    };
    format!(
        "{:<width$}  {:6.2} s  {what}",
        run.name,
        run.wall.as_secs_f64()
    )
}

/// One row of the comparison: a label and a figure per scenario.
struct Metric {
    label: &'static str,
    /// Column name in scenarios.csv (units in the name).
    column: &'static str,
    value: fn(&RunTotals) -> f64,
    /// Decimals on the terminal.
    decimals: usize,
    /// Show the change against the reference, and whether in % too.
    delta: Delta,
}

#[derive(Clone, Copy, PartialEq)]
enum Delta {
    None,
    Absolute,
    AbsoluteAndPct,
}

const METRICS: &[Metric] = &[
    Metric {
        label: "source energy MWh",
        column: "source_mwh",
        value: |t| t.source_kwh / 1000.0,
        decimals: 1,
        delta: Delta::AbsoluteAndPct,
    },
    Metric {
        label: "peak source kW",
        column: "peak_source_kw",
        value: |t| t.peak_source_kw,
        decimals: 1,
        delta: Delta::AbsoluteAndPct,
    },
    Metric {
        label: "losses MWh",
        column: "losses_mwh",
        value: |t| t.losses_kwh / 1000.0,
        decimals: 2,
        delta: Delta::AbsoluteAndPct,
    },
    Metric {
        label: "losses % of source",
        column: "losses_pct",
        value: |t| {
            if t.source_kwh.abs() > 0.0 {
                100.0 * t.losses_kwh / t.source_kwh
            } else {
                f64::NAN
            }
        },
        decimals: 2,
        delta: Delta::Absolute,
    },
    Metric {
        label: "min voltage pu",
        column: "vmin_pu",
        value: |t| t.vpu_min,
        decimals: 4,
        delta: Delta::Absolute,
    },
    Metric {
        label: "max voltage pu",
        column: "vmax_pu",
        value: |t| t.vpu_max,
        decimals: 4,
        delta: Delta::Absolute,
    },
    Metric {
        label: "steps not converged",
        column: "steps_not_converged",
        value: |t| t.steps_not_converged as f64,
        decimals: 0,
        delta: Delta::None,
    },
];

fn fmt_delta(v: f64, r: f64, m: &Metric) -> String {
    let d = v - r;
    let dec = m.decimals;
    match m.delta {
        Delta::None => String::new(),
        _ if !(d.is_finite()) => String::new(),
        _ if d == 0.0 || format!("{:.dec$}", d.abs()) == format!("{:.dec$}", 0.0) => "(=)".into(),
        Delta::Absolute => format!("({d:+.dec$})"),
        Delta::AbsoluteAndPct if r.abs() > 0.0 => format!("({:+.1} %)", 100.0 * d / r),
        Delta::AbsoluteAndPct => format!("({d:+.dec$})"),
    }
}

/// The side-by-side table: one column per scenario, one row per figure, with the change
/// against the reference in brackets.
fn write_comparison(
    o: &mut dyn Write,
    file: &ScenarioFile,
    runs: &[ScenarioRun],
    reference: usize,
) -> std::io::Result<()> {
    let ref_totals = runs
        .get(reference)
        .and_then(|r| r.outcome.as_ref().ok())
        .map(|s| s.totals);
    writeln!(
        o,
        "vgrid scenarios {} (changes against [{}])",
        file.path.display(),
        runs.get(reference).map_or("?", |r| r.name.as_str())
    )?;
    if let Some(t) = runs.iter().find_map(|r| r.outcome.as_ref().ok()) {
        writeln!(
            o,
            "  run                  {} steps of {} s ({} h)",
            t.totals.steps,
            t.totals.step_size_s,
            t.totals.hours()
        )?;
    }
    let cells: Vec<Vec<String>> = METRICS
        .iter()
        .map(|m| {
            runs.iter()
                .map(|r| match &r.outcome {
                    Ok(s) => {
                        let v = (m.value)(&s.totals);
                        let dec = m.decimals;
                        let delta = match ref_totals {
                            Some(rt) if r.index != reference => fmt_delta(v, (m.value)(&rt), m),
                            _ => String::new(),
                        };
                        format!("{v:.dec$} {delta}").trim_end().to_string()
                    }
                    Err(_) => "failed".into(),
                })
                .collect()
        })
        .collect();
    let label_w = METRICS.iter().map(|m| m.label.len()).max().unwrap_or(10) + 2;
    let col_w: Vec<usize> = (0..runs.len())
        .map(|k| {
            cells
                .iter()
                .map(|row| row[k].chars().count())
                .chain(std::iter::once(runs[k].name.chars().count()))
                .max()
                .unwrap_or(8)
                + 2
        })
        .collect();
    write!(o, "  {:<label_w$}", "")?;
    for (r, w) in runs.iter().zip(&col_w) {
        write!(o, "{:>w$}", r.name)?;
    }
    writeln!(o)?;
    for (m, row) in METRICS.iter().zip(&cells) {
        write!(o, "  {:<label_w$}", m.label)?;
        for (c, w) in row.iter().zip(&col_w) {
            write!(o, "{c:>w$}")?;
        }
        writeln!(o)?;
    }
    Ok(())
}

/// `scenarios.csv`: one row per scenario, units in the column names, the changes against the
/// reference in `delta_` columns.
fn write_csv(path: &Path, runs: &[ScenarioRun], reference: usize) -> std::io::Result<()> {
    let mut f = BufWriter::new(File::create(path)?);
    let ref_totals = runs
        .get(reference)
        .and_then(|r| r.outcome.as_ref().ok())
        .map(|s| s.totals);
    write!(f, "scenario,reference,status,steps,wall_s")?;
    for m in METRICS {
        write!(f, ",{}", m.column)?;
    }
    for m in METRICS.iter().filter(|m| m.delta != Delta::None) {
        write!(f, ",delta_{}", m.column)?;
    }
    writeln!(f)?;
    for r in runs {
        let status = match &r.outcome {
            Ok(s) if s.totals.steps_not_converged == 0 => "ok",
            Ok(_) => "not_converged",
            Err(_) => "failed",
        };
        write!(
            f,
            "{},{},{status},{},{:.3}",
            r.name,
            u8::from(r.index == reference),
            r.outcome.as_ref().map_or(0, |s| s.totals.steps),
            r.wall.as_secs_f64()
        )?;
        let t = r.outcome.as_ref().ok().map(|s| s.totals);
        for m in METRICS {
            match t {
                Some(t) => write!(f, ",{}", (m.value)(&t))?,
                None => write!(f, ",")?,
            }
        }
        for m in METRICS.iter().filter(|m| m.delta != Delta::None) {
            match (t, ref_totals) {
                (Some(t), Some(rt)) => write!(f, ",{}", (m.value)(&t) - (m.value)(&rt))?,
                _ => write!(f, ",")?,
            }
        }
        writeln!(f)?;
    }
    f.flush()
}
