//! `vgrid scenarios`: run a list of what-ifs over the year on all cores and compare them side
//! by side.
//!
//! The scenario file (format in [`vgrid::scenario`]) names a base script and sections of
//! OpenDSS commands; each section is prepared (errors name the file and line before anything
//! runs), then every scenario's time series runs on its own worker thread (`--jobs`, default
//! all cores) and is studied as `vgrid timeseries` studies a run ([`vgrid::timeseries::study`]).
//! One line per finished scenario goes to stderr (under a progress bar over all the
//! scenarios' steps when stderr is a terminal); the comparison goes to stdout: the run's
//! figures with each one's change against the reference (`[base]`, else the first section),
//! then the most loaded lines and transformers, the same element on one row across scenarios.
//!
//! ```text
//! vgrid scenarios examples/village/scenarios.txt --out village-scenarios
//! ```
//!
//! `--out DIR` writes `scenarios.csv` (one row per scenario, units in the column names, the
//! changes in `delta_` columns), `elements_compared.csv` (one row per line and transformer,
//! its peak loading and hours above 100 % and above `--trip-pct` in each scenario), and per
//! scenario `DIR/<name>/elements.csv` and `DIR/<name>/nodes.csv`, the tables of
//! `vgrid timeseries --elements/--buses`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use vgrid::scenario::{self, ScenarioFile, ScenarioOptions, ScenarioRun};
use vgrid::timeseries::study::{StudyOptions, StudyResults, VoltageBand};

use crate::timeseries::{fmt_step, trim_num};

/// Elements shown per scenario in the comparison (their union, highest peak first).
const WORST_PER_SCENARIO: usize = 3;
/// Element rows in the comparison at most.
const MAX_ELEMENT_ROWS: usize = 8;

/// What `vgrid scenarios` was asked.
pub struct Options<'a> {
    pub file: &'a Path,
    pub jobs: Option<usize>,
    /// Run only these scenarios (names from the file).
    pub only: &'a [String],
    pub number: Option<u32>,
    pub out: Option<&'a Path>,
    pub band: VoltageBand,
    pub trip_pct: f64,
    pub no_elements: bool,
    pub lenient: bool,
    /// Print the comparison as JSON.
    pub json: bool,
}

/// Parse, prepare, run, compare.
pub fn run(o: &Options) -> Result<ExitCode> {
    let mut file = ScenarioFile::read(o.file)?;
    if !o.only.is_empty() {
        let names: Vec<&str> = o.only.iter().map(String::as_str).collect();
        file.select(&names)?;
    }
    let mut opts = ScenarioOptions {
        lenient: o.lenient,
        number: o.number,
        study: StudyOptions {
            band: o.band,
            trip_pct: o.trip_pct,
            elements: !o.no_elements,
            ..StudyOptions::default()
        },
        ..ScenarioOptions::default()
    };
    if let Some(j) = o.jobs {
        opts.jobs = j.max(1);
    }
    let n = file.scenarios.len();
    let jobs = opts.jobs.min(n);
    eprintln!(
        "vgrid scenarios: {n} scenario{} over {}, {jobs} job{}",
        plural(n),
        file.base.display(),
        plural(jobs)
    );
    let start = Instant::now();
    let prepared = scenario::prepare_all(&file, &opts)?;
    let prepare_s = start.elapsed().as_secs_f64();
    // the base script's warnings come with every scenario: say them once
    for (k, p) in prepared.iter().enumerate() {
        for w in &p.warnings {
            let everywhere = prepared.iter().all(|q| q.warnings.contains(w));
            if !everywhere {
                eprintln!("warning: [{}]: {w}", p.name);
            } else if k == 0 {
                eprintln!("warning: {w}");
            }
        }
    }
    let run_start = Instant::now();
    let width = file
        .scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4);
    let total_steps: u64 = prepared
        .iter()
        .map(|p| u64::from(p.network.settings.number))
        .sum();
    let steps_done = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    // characters of the progress bar on screen (cleared before a scenario's line)
    let bar = Mutex::new(0usize);
    let runs = std::thread::scope(|s| {
        if std::io::stderr().is_terminal() {
            s.spawn(|| draw_progress(&steps_done, total_steps, &finished, &bar));
        }
        let runs = scenario::run_prepared_counting(
            prepared,
            &opts,
            &|run, done, total| {
                let mut shown = bar.lock().unwrap_or_else(|e| e.into_inner());
                let mut err = std::io::stderr().lock();
                if *shown > 0 {
                    let _ = write!(err, "\r{:w$}\r", "", w = *shown);
                    *shown = 0;
                }
                let _ = writeln!(err, "  [{done}/{total}] {}", progress_line(run, width));
            },
            &steps_done,
        );
        finished.store(true, Ordering::Relaxed);
        runs
    });
    let run_s = run_start.elapsed().as_secs_f64();
    let busy_s: f64 = runs.iter().map(|r| r.wall.as_secs_f64()).sum();
    let reference = file.reference();
    let mut out = std::io::stdout().lock();
    let written = match o.out {
        Some(dir) => Some(write_out(dir, &runs, reference)?),
        None => None,
    };
    if o.json {
        let j = json_comparison(&file, &runs, reference, (prepare_s, run_s), jobs);
        serde_json::to_writer_pretty(&mut out, &j)?;
        writeln!(out)?;
    } else {
        write_comparison(&mut out, &file, &runs, reference)?;
        writeln!(
            out,
            "  wall time            {:.2} s ({prepare_s:.2} s reading the scenarios, {run_s:.2} s \
             running {n} scenario{} on {jobs} job{}; each run's own wall time adds up to {busy_s:.2} s)",
            prepare_s + run_s,
            plural(n),
            plural(jobs),
        )?;
        if let Some(w) = written {
            writeln!(out, "  written              {w}")?;
        }
    }
    for r in &runs {
        if let Err(e) = &r.outcome {
            eprintln!("error: [{}]: {e}", r.name);
        }
    }
    let failed = runs.iter().any(|r| r.outcome.is_err());
    let not_converged = runs.iter().any(|r| {
        r.outcome
            .as_ref()
            .is_ok_and(|s| s.totals.steps_not_converged > 0)
    });
    Ok(if failed {
        ExitCode::from(2)
    } else if not_converged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A progress line on stderr, redrawn five times a second until `finished` (after half a
/// second, so short runs stay quiet); cleared at the end.
fn draw_progress(done: &AtomicU64, total: u64, finished: &AtomicBool, shown: &Mutex<usize>) {
    let start = Instant::now();
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if start.elapsed() < Duration::from_millis(500) || finished.load(Ordering::Relaxed) {
            continue;
        }
        let n = done.load(Ordering::Relaxed).min(total);
        let secs = start.elapsed().as_secs_f64();
        let rate = n as f64 / secs.max(1e-9);
        let eta = (total.saturating_sub(n) as f64 / rate.max(1e-9)).round() as u64;
        let width = 30usize;
        let filled = (n as f64 / total.max(1) as f64 * width as f64) as usize;
        let bar: String = (0..width)
            .map(|i| if i < filled { '#' } else { '.' })
            .collect();
        let line = format!(
            "[{bar}] {n}/{total} steps  {rate:.0} steps/s  ETA {}:{:02}:{:02}",
            eta / 3600,
            (eta / 60) % 60,
            eta % 60
        );
        let mut w = shown.lock().unwrap_or_else(|e| e.into_inner());
        let pad = w.saturating_sub(line.len());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}{:pad$}", "");
        let _ = err.flush();
        *w = line.len();
    }
    let mut w = shown.lock().unwrap_or_else(|e| e.into_inner());
    if *w > 0 {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{:w$}\r", "", w = *w);
        let _ = err.flush();
        *w = 0;
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
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
    value: fn(&StudyResults) -> Option<f64>,
    /// Decimals on the terminal.
    decimals: usize,
    delta: Delta,
}

/// How a figure's change against the reference is shown.
#[derive(Clone, Copy, PartialEq)]
enum Delta {
    None,
    Absolute,
    Relative,
}

fn count(n: usize) -> Option<f64> {
    Some(n as f64)
}

const METRICS: &[Metric] = &[
    Metric {
        label: "source energy MWh",
        column: "source_mwh",
        value: |r| Some(r.totals.source_kwh / 1000.0),
        decimals: 1,
        delta: Delta::Relative,
    },
    Metric {
        label: "peak source kW",
        column: "peak_source_kw",
        value: |r| r.totals.peak_source_kw,
        decimals: 1,
        delta: Delta::Relative,
    },
    Metric {
        label: "losses MWh",
        column: "losses_mwh",
        value: |r| Some(r.totals.losses_kwh / 1000.0),
        decimals: 2,
        delta: Delta::Relative,
    },
    Metric {
        label: "losses % of source",
        column: "losses_pct",
        value: |r| {
            let t = &r.totals;
            (t.source_kwh.abs() > 0.0).then(|| 100.0 * t.losses_kwh / t.source_kwh)
        },
        decimals: 2,
        delta: Delta::Absolute,
    },
    Metric {
        label: "min voltage pu",
        column: "vmin_pu",
        value: |r| r.totals.v_min.as_ref().map(|v| v.vmag_pu),
        decimals: 4,
        delta: Delta::Absolute,
    },
    Metric {
        label: "max voltage pu",
        column: "vmax_pu",
        value: |r| r.totals.v_max.as_ref().map(|v| v.vmag_pu),
        decimals: 4,
        delta: Delta::Absolute,
    },
    Metric {
        label: "nodes below band",
        column: "nodes_below_band",
        value: |r| count(r.nodes.iter().filter(|n| n.below_band_h > 0.0).count()),
        decimals: 0,
        delta: Delta::Absolute,
    },
    Metric {
        label: "nodes above band",
        column: "nodes_above_band",
        value: |r| count(r.nodes.iter().filter(|n| n.above_band_h > 0.0).count()),
        decimals: 0,
        delta: Delta::Absolute,
    },
    Metric {
        label: "most h outside band (node)",
        column: "node_outside_band_max_h",
        value: |r| {
            Some(
                r.nodes
                    .iter()
                    .map(|n| n.below_band_h + n.above_band_h)
                    .fold(0.0, f64::max),
            )
        },
        decimals: 2,
        delta: Delta::Absolute,
    },
    Metric {
        label: "hours with an overload",
        column: "overload_h",
        value: |r| r.totals.overload_h,
        decimals: 2,
        delta: Delta::Absolute,
    },
    Metric {
        label: "elements above 100 %",
        column: "elements_above_100pct",
        value: |r| {
            r.elements_computed
                .then(|| r.elements.iter().filter(|e| e.above_100pct_h > 0.0).count() as f64)
        },
        decimals: 0,
        delta: Delta::Absolute,
    },
    Metric {
        label: "elements above trip",
        column: "elements_above_trip",
        value: |r| {
            r.elements_computed
                .then(|| r.elements.iter().filter(|e| e.above_trip_h > 0.0).count() as f64)
        },
        decimals: 0,
        delta: Delta::Absolute,
    },
    Metric {
        label: "steps not converged",
        column: "steps_not_converged",
        value: |r| Some(r.totals.steps_not_converged as f64),
        decimals: 0,
        delta: Delta::None,
    },
];

/// ` (+1.2 %)`, ` (-0.0031)`, ` (=)` or nothing.
fn fmt_delta(v: f64, r: f64, m: &Metric) -> String {
    let d = v - r;
    let dec = m.decimals;
    if m.delta == Delta::None || !d.is_finite() {
        return String::new();
    }
    let shown_zero = format!("{:.dec$}", d.abs()) == format!("{:.dec$}", 0.0);
    match m.delta {
        _ if d == 0.0 => " (=)".into(),
        Delta::Relative if r.abs() > 0.0 => {
            let pct = 100.0 * d / r;
            if format!("{:.1}", pct.abs()) == "0.0" {
                " (±0.0 %)".into()
            } else {
                format!(" ({pct:+.1} %)")
            }
        }
        _ if shown_zero => " (±0)".into(),
        _ => format!(" ({d:+.dec$})"),
    }
}

/// A table: a label column, then one right-aligned column per scenario.
fn write_table(
    o: &mut dyn Write,
    names: &[&str],
    rows: &[(String, Vec<String>)],
) -> std::io::Result<()> {
    let label_w = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(8) + 2;
    let col_w: Vec<usize> = (0..names.len())
        .map(|k| {
            rows.iter()
                .map(|r| r.1[k].chars().count())
                .chain(std::iter::once(names[k].chars().count()))
                .max()
                .unwrap_or(8)
                + 3
        })
        .collect();
    write!(o, "  {:<label_w$}", "")?;
    for (name, w) in names.iter().zip(&col_w) {
        write!(o, "{name:>w$}")?;
    }
    writeln!(o)?;
    for (label, cells) in rows {
        write!(o, "  {label:<label_w$}")?;
        for (c, w) in cells.iter().zip(&col_w) {
            write!(o, "{c:>w$}")?;
        }
        writeln!(o)?;
    }
    Ok(())
}

/// The side-by-side comparison: the run's figures, then the most loaded elements.
fn write_comparison(
    o: &mut dyn Write,
    file: &ScenarioFile,
    runs: &[ScenarioRun],
    reference: usize,
) -> std::io::Result<()> {
    let base = runs.get(reference).and_then(|r| r.outcome.as_ref().ok());
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    writeln!(
        o,
        "vgrid scenarios {} (changes against [{}])",
        file.path.display(),
        names.get(reference).copied().unwrap_or("?")
    )?;
    if let Some(r) = runs.iter().find_map(|r| r.outcome.as_ref().ok()) {
        writeln!(
            o,
            "  run                  {} steps of {} ({} h); band {}, trip at {} %",
            r.totals.steps,
            fmt_step(r.step_size_s),
            trim_num(r.totals.steps as f64 * r.step_size_s / 3600.0),
            r.options.band.name(),
            trim_num(r.options.trip_pct)
        )?;
    }
    let rows: Vec<(String, Vec<String>)> = METRICS
        .iter()
        .map(|m| {
            let cells = runs
                .iter()
                .map(|r| match &r.outcome {
                    Ok(s) => match (m.value)(s) {
                        Some(v) => {
                            let dec = m.decimals;
                            let delta = match base.and_then(|b| (m.value)(b)) {
                                Some(bv) if r.index != reference => fmt_delta(v, bv, m),
                                _ => String::new(),
                            };
                            format!("{v:.dec$}{delta}")
                        }
                        None => "-".into(),
                    },
                    Err(_) => "failed".into(),
                })
                .collect();
            (m.label.to_string(), cells)
        })
        .collect();
    write_table(o, &names, &rows)?;
    let worst = scenario::worst_elements(runs, WORST_PER_SCENARIO);
    if worst.is_empty() {
        return Ok(());
    }
    writeln!(
        o,
        "  most loaded lines and transformers: peak loading, hours above 100 %"
    )?;
    let lookup: Vec<HashMap<&str, (Option<f64>, f64)>> = runs
        .iter()
        .map(|r| match &r.outcome {
            Ok(s) => s
                .elements
                .iter()
                .map(|e| (e.element.as_str(), (e.peak_loading_pct, e.above_100pct_h)))
                .collect(),
            Err(_) => HashMap::new(),
        })
        .collect();
    let rows: Vec<(String, Vec<String>)> = worst
        .iter()
        .take(MAX_ELEMENT_ROWS)
        .map(|name| {
            let cells = lookup
                .iter()
                .map(|m| match m.get(name.as_str()) {
                    Some((Some(pct), h)) => format!("{pct:.1} % {} h", trim_num(round2(*h))),
                    Some((None, _)) => "unrated".into(),
                    None => "-".into(),
                })
                .collect();
            (name.clone(), cells)
        })
        .collect();
    write_table(o, &names, &rows)?;
    if worst.len() > MAX_ELEMENT_ROWS {
        writeln!(
            o,
            "  ... {} more (see elements_compared.csv with --out)",
            worst.len() - MAX_ELEMENT_ROWS
        )?;
    }
    Ok(())
}

/// The comparison as JSON: per scenario every figure of the table (units in the key names),
/// its change against the reference, and the most loaded elements.
fn json_comparison(
    file: &ScenarioFile,
    runs: &[ScenarioRun],
    reference: usize,
    (prepare_s, run_s): (f64, f64),
    jobs: usize,
) -> serde_json::Value {
    use serde_json::json;
    let base = runs.get(reference).and_then(|r| r.outcome.as_ref().ok());
    let worst = scenario::worst_elements(runs, WORST_PER_SCENARIO);
    let scenarios: Vec<_> = runs
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            o.insert("name".into(), json!(r.name));
            o.insert("reference".into(), json!(r.index == reference));
            o.insert("wall_s".into(), json!(r.wall.as_secs_f64()));
            o.insert("commands".into(), json!(r.commands));
            match &r.outcome {
                Ok(s) => {
                    o.insert("steps".into(), json!(s.totals.steps));
                    for m in METRICS {
                        let v = (m.value)(s);
                        o.insert(m.column.into(), json!(v));
                        if m.delta != Delta::None {
                            let d = v.zip(base.and_then(|b| (m.value)(b))).map(|(v, b)| v - b);
                            o.insert(format!("delta_{}", m.column), json!(d));
                        }
                    }
                    let elements: Vec<_> = worst
                        .iter()
                        .filter_map(|name| s.elements.iter().find(|e| e.element == *name))
                        .map(|e| {
                            json!({
                                "element": e.element,
                                "peak_loading_pct": e.peak_loading_pct,
                                "peak_hour_h": e.peak_hour_h,
                                "above_100pct_h": e.above_100pct_h,
                                "above_trip_h": e.above_trip_h,
                            })
                        })
                        .collect();
                    o.insert("most_loaded".into(), json!(elements));
                }
                Err(e) => {
                    o.insert("error".into(), json!(e.to_string()));
                }
            }
            serde_json::Value::Object(o)
        })
        .collect();
    json!({
        "file": file.path.display().to_string(),
        "base_script": file.base.display().to_string(),
        "reference": runs.get(reference).map(|r| r.name.clone()),
        "jobs": jobs,
        "prepare_s": prepare_s,
        "run_s": run_s,
        "scenarios": scenarios,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Every file of `--out DIR`; returns what was written, for the summary.
fn write_out(dir: &Path, runs: &[ScenarioRun], reference: usize) -> Result<String> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let p = dir.join("scenarios.csv");
    write_csv(&p, runs, reference).with_context(|| format!("writing {}", p.display()))?;
    let mut written = vec![p.display().to_string()];
    if runs
        .iter()
        .any(|r| r.outcome.as_ref().is_ok_and(|s| s.elements_computed))
    {
        let p = dir.join("elements_compared.csv");
        write_elements_compared(&p, runs).with_context(|| format!("writing {}", p.display()))?;
        written.push(p.display().to_string());
    }
    for r in runs {
        let Ok(s) = &r.outcome else { continue };
        let sub = dir.join(&r.name);
        std::fs::create_dir_all(&sub).with_context(|| format!("creating {}", sub.display()))?;
        let p = sub.join("nodes.csv");
        crate::timeseries::write_nodes(s, &p)
            .with_context(|| format!("writing {}", p.display()))?;
        if s.elements_computed {
            let p = sub.join("elements.csv");
            crate::timeseries::write_elements(s, &p)
                .with_context(|| format!("writing {}", p.display()))?;
        }
    }
    written.push(format!(
        "{}/<scenario>/{{nodes,elements}}.csv",
        dir.display()
    ));
    Ok(written.join(", "))
}

/// `scenarios.csv`: one row per scenario, units in the column names, the changes against the
/// reference in `delta_` columns.
fn write_csv(path: &Path, runs: &[ScenarioRun], reference: usize) -> std::io::Result<()> {
    let mut f = BufWriter::new(File::create(path)?);
    let base = runs.get(reference).and_then(|r| r.outcome.as_ref().ok());
    write!(f, "scenario,reference,status,steps,wall_s")?;
    for m in METRICS {
        write!(f, ",{}", m.column)?;
    }
    for m in METRICS.iter().filter(|m| m.delta != Delta::None) {
        write!(f, ",delta_{}", m.column)?;
    }
    writeln!(f)?;
    let opt = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x}"));
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
        let s = r.outcome.as_ref().ok();
        for m in METRICS {
            write!(f, ",{}", opt(s.and_then(|s| (m.value)(s))))?;
        }
        for m in METRICS.iter().filter(|m| m.delta != Delta::None) {
            let d = match (
                s.and_then(|s| (m.value)(s)),
                base.and_then(|b| (m.value)(b)),
            ) {
                (Some(v), Some(b)) => Some(v - b),
                _ => None,
            };
            write!(f, ",{}", opt(d))?;
        }
        writeln!(f)?;
    }
    f.flush()
}

/// `elements_compared.csv`: one row per rated line and transformer (of any scenario), its
/// figures in each scenario side by side (empty where a scenario has no such element).
fn write_elements_compared(path: &Path, runs: &[ScenarioRun]) -> std::io::Result<()> {
    let mut f = BufWriter::new(File::create(path)?);
    let trip = runs
        .iter()
        .find_map(|r| r.outcome.as_ref().ok())
        .map_or(100.0, |s| s.options.trip_pct);
    let trip = format!("{trip}").replace('.', "_");
    write!(f, "element")?;
    for r in runs {
        write!(
            f,
            ",{0}_peak_loading_pct,{0}_above_100pct_h,{0}_above_trip_{trip}pct_h",
            r.name
        )?;
    }
    writeln!(f)?;
    let mut order: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let tables: Vec<HashMap<&str, _>> = runs
        .iter()
        .map(|r| match &r.outcome {
            Ok(s) => s
                .elements
                .iter()
                .filter(|e| e.rated())
                .map(|e| {
                    if seen.insert(e.element.as_str()) {
                        order.push(e.element.as_str());
                    }
                    (e.element.as_str(), e)
                })
                .collect(),
            Err(_) => HashMap::new(),
        })
        .collect();
    for name in order {
        write!(f, "{name}")?;
        for t in &tables {
            match t.get(name) {
                Some(e) => write!(
                    f,
                    ",{:.3},{:.6},{:.6}",
                    e.peak_loading_pct.unwrap_or(f64::NAN),
                    e.above_100pct_h,
                    e.above_trip_h
                )?,
                None => write!(f, ",,,")?,
            }
        }
        writeln!(f)?;
    }
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_plainly() {
        let rel = &METRICS[0];
        assert_eq!(fmt_delta(120.0, 100.0, rel), " (+20.0 %)");
        assert_eq!(fmt_delta(100.0, 100.0, rel), " (=)");
        assert_eq!(fmt_delta(100.00001, 100.0, rel), " (±0.0 %)");
        let abs = METRICS.iter().find(|m| m.column == "vmin_pu").unwrap();
        assert_eq!(fmt_delta(0.95, 0.9612, abs), " (-0.0112)");
        assert_eq!(fmt_delta(0.9612000001, 0.9612, abs), " (±0)");
        let none = METRICS
            .iter()
            .find(|m| m.column == "steps_not_converged")
            .unwrap();
        assert_eq!(fmt_delta(3.0, 0.0, none), "");
    }
}
