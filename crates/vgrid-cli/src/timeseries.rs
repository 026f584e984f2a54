//! `vgrid timeseries`: run a script's daily or yearly time series and report, over the whole
//! run, what each line and transformer carried and what each bus node saw.
//!
//! The script runs as OpenDSS runs it up to the time series: `Solve` commands in snapshot mode
//! solve (with the controls, taps written back); a `Solve` in a time mode does not run where it
//! stands. The one run happens after the script and the `-c` commands, with the settings then
//! in force (`mode`, `number`, `stepsize`, `hour`), which `--mode`, `--number` and `--stepsize`
//! override. Steps are streamed: per-step rows go to the `--per-step` file as each step is
//! solved, and only per-element and per-node accumulators are kept.
//!
//! ```text
//! vgrid timeseries examples/village/Run_year.dss --elements el.csv --buses buses.csv
//! vgrid timeseries examples/village/Run_year.dss --per-step steps.parquet --trip-risk trips.csv
//! ```
//!
//! Every file (`--per-step`, `--elements`, `--buses`, `--trip-risk`) is CSV, or Apache Parquet
//! with the same columns when its path ends in `.parquet` ([`table`]).
//!
//! ## What is counted
//! The statistics are the library's [`vgrid::timeseries::study`]: its module docs say what a
//! step's loading, an element's energy and losses, and a node's time outside the band are.
//! This command orchestrates the run, prints the summary and writes the files.
//!
//! ## Cost
//! Element statistics need the branch currents of every line and transformer at every step:
//! +28 % run time on the European LV day (906 branches, 1,440 steps: 0.48 → 0.62 s), +11 % on
//! the village's year; `--no-elements` leaves them out.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use vgrid::model::{Network, SolveMode};
use vgrid::timeseries::study::{
    BusResult, ElementResult, Study, StudyOptions, StudyResults, VoltageBand, VoltageClass,
    VoltageExtreme,
};
use vgrid::timeseries::{CsvSink, RunHeader, SinkError, StepReport, StepSink};
use vgrid_parquet::Value;

mod table;
use table::{Column, Table};
use vgrid::{Directive, ReadOptions, Reader, Simulation};

/// Overloaded elements and out-of-band nodes listed in the summary.
const TOP: usize = 10;

/// The time-series modes of `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Yearly,
    Daily,
    Duty,
}

impl From<Mode> for SolveMode {
    fn from(m: Mode) -> SolveMode {
        match m {
            Mode::Yearly => SolveMode::Yearly,
            Mode::Daily => SolveMode::Daily,
            Mode::Duty => SolveMode::Duty,
        }
    }
}

/// What `vgrid timeseries` was asked.
pub struct Options<'a> {
    pub script: &'a Path,
    pub mode: Option<Mode>,
    pub number: Option<u32>,
    pub step_size_s: Option<f64>,
    pub per_step: Option<&'a Path>,
    pub elements: Option<&'a Path>,
    pub buses: Option<&'a Path>,
    /// What the study counts (band, trip threshold, element statistics or not).
    pub study: StudyOptions,
    /// Where the trip-risk episodes go.
    pub trip_risk: Option<&'a Path>,
    /// Solve in full three phases even when the network is balanced (`--three-phase`).
    pub three_phase: bool,
    /// Print the summary as JSON.
    pub json: bool,
    pub lenient: bool,
    pub commands: &'a [String],
}

/// `15m`, `1h`, `60s`, `900` (seconds, as OpenDSS's `stepsize=900`) → seconds.
pub fn parse_step_size(s: &str) -> Result<f64, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, scale) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1.0),
        Some((i, 'm')) => (&t[..i], 60.0),
        Some((i, 'h')) => (&t[..i], 3600.0),
        _ => (t.as_str(), 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("expected a step such as 15m, 1h or 60s, not {s:?}"))?;
    let secs = v * scale;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("the step must be a positive duration, not {s:?}"));
    }
    Ok(secs)
}

/// `--band`: `GBT12325`, `EN50160` or `LOW,HIGH` per unit.
pub fn parse_band(s: &str) -> Result<VoltageBand, String> {
    s.parse()
        .map_err(|e: vgrid::timeseries::study::BandParseError| e.to_string())
}

/// `--trip-after`: `30m`, `1h`, `90s`, `0`, or seconds → hours (zero allowed).
pub fn parse_duration_h(s: &str) -> Result<f64, String> {
    let number = s
        .trim()
        .trim_end_matches(['s', 'm', 'h', 'S', 'M', 'H'])
        .trim();
    if number.parse::<f64>() == Ok(0.0) {
        return Ok(0.0);
    }
    parse_step_size(s)
        .map(|secs| secs / 3600.0)
        .map_err(|_| format!("expected a duration such as 30m, 1h, 90s or 0, not {s:?}"))
}

/// `--trip-pct`: a positive loading threshold, % of rating (`120` or `120%`).
pub fn parse_pct(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|e| format!("{s:?}: {e}"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("need a positive percentage, got {s:?}"));
    }
    Ok(v)
}
/// Run the script's setup, then the time series; write the files and print the summary.
pub fn run(o: &Options) -> Result<ExitCode> {
    let setup_start = Instant::now();
    let net = setup(o)?;
    let step_size_s = net.settings.step_size_s;
    let steps = u64::from(net.settings.number);
    if steps == 0 {
        bail!("number=0: no steps to run (set number= in the script or pass --number)");
    }
    let mut sim = Simulation::new(&net)
        .with_context(|| format!("preparing the time series of {}", o.script.display()))?;
    if o.three_phase {
        sim.set_balanced_mode(false);
    }
    let mut csv = match o.per_step {
        Some(p) => Some((per_step_sink(p)?, p)),
        None => None,
    };
    let mut study = Study::new(&sim, &net, &o.study);
    let mut progress = Progress::new(steps);
    let setup_time = setup_start.elapsed();
    let start = Instant::now();
    for k in 0..steps {
        let report = study.step(&mut sim)?;
        if let Some((sink, path)) = csv.as_mut() {
            let r = (|| {
                if k == 0 {
                    sink.begin(&RunHeader {
                        regulators: sim.regulators().to_vec(),
                        steps,
                        step_size_s,
                    })?;
                }
                sink.step(report)
            })();
            r.with_context(|| format!("writing {}", path.display()))?;
        }
        progress.tick(k + 1);
    }
    progress.clear();
    let wall = start.elapsed();
    if let Some((mut sink, path)) = csv {
        sink.finish()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let results = study.finish();
    if let Some(p) = o.buses {
        write_nodes(&results, p).with_context(|| format!("writing {}", p.display()))?;
    }
    if let (Some(p), true) = (o.elements, results.elements_computed) {
        write_elements(&results, p).with_context(|| format!("writing {}", p.display()))?;
    }
    if let (Some(p), true) = (o.trip_risk, results.elements_computed) {
        write_trip_risks(&results, p).with_context(|| format!("writing {}", p.display()))?;
    }
    let pf = power_flow_kind(&sim, o.three_phase);
    print_summary(o, &net, &results, &pf, (setup_time, wall));
    Ok(if results.totals.steps_not_converged == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Run the script and the extra commands; snapshot `Solve`s solve, time-mode ones wait for the
/// run. Apply the overrides.
fn setup(o: &Options) -> Result<Network> {
    if o.script.is_dir() {
        return setup_simbench(o);
    }
    let mut reader = Reader::new(ReadOptions {
        lenient: o.lenient,
        ..ReadOptions::default()
    });
    let mut time_solves = 0u32;
    let mut host = |net: &mut Network, d: Directive| -> Result<(), String> {
        if matches!(d, Directive::Solve) {
            if net.settings.mode == SolveMode::Snapshot {
                vgrid::solve_network(net).map_err(|e| e.to_string())?;
            } else {
                time_solves += 1;
            }
        }
        Ok(())
    };
    reader.run_file(o.script, &mut host)?;
    for c in o.commands {
        reader
            .run_command(c, &mut host)
            .with_context(|| format!("in --command {c:?}"))?;
    }
    for w in reader.warnings() {
        eprintln!("warning: {w}");
    }
    if time_solves > 1 {
        eprintln!(
            "warning: the script solves {time_solves} time series; vgrid timeseries runs one, \
             with the settings in force at the end of the script"
        );
    }
    // another mode than the script's: as OpenDSS's `Set mode=`, which also resets number,
    // stepsize and hour to the mode's defaults (daily 24 × 1 h, yearly 8760 × 1 h, duty 100 × 1 s)
    if let Some(m) = o
        .mode
        .filter(|m| SolveMode::from(*m) != reader.network().settings.mode)
    {
        let name = match m {
            Mode::Yearly => "yearly",
            Mode::Daily => "daily",
            Mode::Duty => "duty",
        };
        reader
            .run_command(&format!("Set mode={name}"), &mut |_, _| Ok(()))
            .with_context(|| format!("setting --mode {name}"))?;
    }
    let mut net = reader.into_network();
    if let Some(n) = o.number {
        net.settings.number = n;
    }
    if let Some(s) = o.step_size_s {
        net.settings.step_size_s = s;
    }
    if net.settings.mode == SolveMode::Snapshot {
        bail!(
            "{} leaves the solution mode at snapshot: add `Set mode=yearly` (or daily, duty) \
             to the script, or pass --mode yearly",
            o.script.display()
        );
    }
    Ok(net)
}

/// A SimBench grid folder: its year of 15-minute profiles (or `--number` steps of it), every
/// transformer at its tap position. SimBench has no commands: `-c` is refused.
fn setup_simbench(o: &Options) -> Result<Network> {
    if !o.commands.is_empty() {
        bail!(
            "{} is a SimBench folder: -c/--command takes OpenDSS commands, which apply to scripts only",
            o.script.display()
        );
    }
    if matches!(o.mode, Some(m) if SolveMode::from(m) != SolveMode::Yearly) {
        bail!("a SimBench grid runs its year of profiles: use --mode yearly (the default) or leave it out");
    }
    let grid = vgrid::simbench::read_grid(o.script)
        .with_context(|| format!("reading the SimBench grid {}", o.script.display()))?;
    let mut net = grid.network;
    net.settings.mode = SolveMode::Yearly;
    net.settings.step_size_s = 900.0;
    net.settings.number = u32::try_from(grid.steps).unwrap_or(u32::MAX);
    net.settings.hour = 0.0;
    net.settings.sec = 0.0;
    if let Some(n) = o.number {
        net.settings.number = n;
    }
    if let Some(s) = o.step_size_s {
        net.settings.step_size_s = s;
    }
    Ok(net)
}

/// One row per node seen energised (CSV, or Parquet for a `.parquet` path).
pub(crate) fn write_nodes(r: &StudyResults, path: &Path) -> std::io::Result<()> {
    let mut t = Table::create(
        path,
        &[
            Column::text("bus"),
            Column::i64("node"),
            Column::f64("vbase_ln_kv", 6),
            Column::f64("vmin_pu", 8),
            Column::f64("vmin_hour_h", 6),
            Column::f64("vmax_pu", 8),
            Column::f64("vmax_hour_h", 6),
            Column::f64("below_band_h", 6),
            Column::f64("above_band_h", 6),
            Column::text("voltage_class"),
            Column::f64("band_low_pu", 4),
            Column::f64("band_high_pu", 4),
            Column::f64("bus_vuf_max_pct", 6),
            Column::f64("bus_vuf_max_hour_h", 6),
            Column::f64("bus_above_vuf_limit_h", 6),
        ],
    )?;
    let by_bus: std::collections::HashMap<&str, &BusResult> =
        r.buses.iter().map(|b| (b.bus.as_str(), b)).collect();
    for n in &r.nodes {
        let bus = by_bus.get(n.bus.as_str());
        t.row(&[
            Value::Str(&n.bus),
            Value::I64(i64::from(n.node)),
            Value::F64(n.vbase_ln_kv),
            Value::F64(n.vmin_pu),
            Value::F64(n.vmin_hour_h),
            Value::F64(n.vmax_pu),
            Value::F64(n.vmax_hour_h),
            Value::F64(n.below_band_h),
            Value::F64(n.above_band_h),
            Value::Str(n.voltage_class.name()),
            Value::F64(n.band_low_pu),
            Value::F64(n.band_high_pu),
            bus.and_then(|b| b.vuf_max_pct).into(),
            bus.and_then(|b| b.vuf_max_hour_h).into(),
            bus.and_then(|b| b.above_vuf_limit_h).into(),
        ])?;
    }
    t.finish()
}

/// One row per line and transformer.
pub(crate) fn write_elements(r: &StudyResults, path: &Path) -> std::io::Result<()> {
    let trip = fmt_pct(r.options.trip_pct);
    // at --trip-pct 100 the hours above the threshold are the hours above 100 %: one column
    let trip_column = r.options.trip_pct != 100.0;
    let mut columns = vec![
        Column::text("element"),
        Column::f64("i_rated_a", 4),
        Column::f64("peak_i_a", 4),
        Column::f64("peak_loading_pct", 3),
        Column::f64("peak_hour_h", 6),
        Column::f64("above_100pct_h", 6),
    ];
    if trip_column {
        columns.push(Column::f64(&format!("above_{trip}pct_h"), 6));
    }
    columns.extend([
        Column::f64(&format!("longest_above_{trip}pct_h"), 6),
        Column::f64(&format!("longest_above_{trip}pct_from_hour_h"), 6),
        Column::f64("energy_through_kwh", 6),
        Column::f64("losses_kwh", 6),
        Column::text("trip_reference"),
        Column::f64("trip_reference_a", 4),
        Column::i64("trip_risk_episodes"),
        Column::f64("trip_risk_h", 6),
    ]);
    let mut t = Table::create(path, &columns)?;
    let mut row = Vec::with_capacity(columns.len());
    for e in &r.elements {
        row.clear();
        row.extend([
            Value::Str(&e.element),
            e.i_rated_a.into(),
            Value::F64(e.peak_i_a),
            e.peak_loading_pct.into(),
            Value::F64(e.peak_hour_h),
            Value::F64(e.above_100pct_h),
        ]);
        if trip_column {
            row.push(Value::F64(e.above_trip_h));
        }
        row.extend([
            Value::F64(e.longest_above_trip_h),
            e.longest_above_trip_from_hour_h.into(),
            Value::F64(e.energy_through_kwh),
            Value::F64(e.losses_kwh),
            Value::Str(&e.trip_reference),
            e.trip_reference_a.into(),
            Value::I64(i64::try_from(e.trip_risk_episodes).unwrap_or(i64::MAX)),
            Value::F64(e.trip_risk_h),
        ]);
        t.row(&row)?;
    }
    t.finish()
}

/// One row per trip-risk episode, in order of start.
fn write_trip_risks(r: &StudyResults, path: &Path) -> std::io::Result<()> {
    let mut t = Table::create(
        path,
        &[
            Column::text("element"),
            Column::text("reference"),
            Column::f64("reference_a", 4),
            Column::f64("threshold_a", 4),
            Column::f64("start_hour_h", 6),
            Column::f64("end_hour_h", 6),
            Column::f64("duration_h", 6),
            Column::f64("peak_loading_pct", 3),
            Column::f64("peak_i_a", 4),
            Column::f64("peak_hour_h", 6),
        ],
    )?;
    for x in &r.trip_risks {
        t.row(&[
            Value::Str(&x.element),
            Value::Str(&x.reference),
            Value::F64(x.reference_a),
            Value::F64(x.threshold_a),
            Value::F64(x.start_hour_h),
            Value::F64(x.end_hour_h),
            Value::F64(x.duration_h),
            Value::F64(x.peak_loading_pct),
            Value::F64(x.peak_i_a),
            Value::F64(x.peak_hour_h),
        ])?;
    }
    t.finish()
}

/// The per-step rows in Parquet: the columns of the engine's [`CsvSink`], with `converged`
/// a boolean and the taps 32-bit integers.
struct ParquetSteps {
    table: Option<Table>,
    path: std::path::PathBuf,
    row: Vec<f64>,
}

impl StepSink for ParquetSteps {
    fn begin(&mut self, header: &RunHeader) -> Result<(), SinkError> {
        let mut columns = vec![
            Column::i64("step"),
            Column::f64("hour", 6),
            Column::bool("converged"),
            Column::i32("iterations"),
            Column::i32("control_iterations"),
        ];
        for c in [
            "p_source_kw",
            "q_source_kvar",
            "losses_kw",
            "losses_kvar",
            "vpu_min",
            "vpu_max",
        ] {
            columns.push(Column::f64(c, 9));
        }
        columns.extend(
            header
                .regulators
                .iter()
                .map(|r| Column::i32(&format!("tap_{r}"))),
        );
        self.table = Some(Table::create(&self.path, &columns)?);
        Ok(())
    }

    fn step(&mut self, r: &StepReport) -> Result<(), SinkError> {
        let Some(t) = self.table.as_mut() else {
            return Ok(());
        };
        self.row.clear();
        self.row.extend([
            r.p_source_kw,
            r.q_source_kvar,
            r.losses_kw,
            r.losses_kvar,
            r.vpu_min,
            r.vpu_max,
        ]);
        let mut values = Vec::with_capacity(11 + r.tap_numbers.len());
        values.extend([
            Value::I64(i64::try_from(r.step).unwrap_or(i64::MAX)),
            Value::F64(r.hour),
            Value::Bool(r.converged),
            Value::I32(i32::try_from(r.iterations).unwrap_or(i32::MAX)),
            Value::I32(i32::try_from(r.control_iterations).unwrap_or(i32::MAX)),
        ]);
        values.extend(self.row.iter().map(|x| Value::F64(*x)));
        values.extend(r.tap_numbers.iter().map(|t| Value::I32(*t)));
        t.row(&values)?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        match self.table.take() {
            Some(t) => Ok(t.finish()?),
            None => Ok(()),
        }
    }
}

/// The `--per-step` file: the engine's CSV sink, or Parquet for a `.parquet` path.
fn per_step_sink(path: &Path) -> Result<Box<dyn StepSink>> {
    if table::is_parquet(path) {
        return Ok(Box::new(ParquetSteps {
            table: None,
            path: path.to_path_buf(),
            row: Vec::new(),
        }));
    }
    Ok(Box::new(CsvSink::new(BufWriter::new(
        File::create(path).with_context(|| format!("creating {}", path.display()))?,
    ))))
}

/// `120` → "120", `112.5` → "112.5" (for a column name).
fn fmt_pct(p: f64) -> String {
    let s = format!("{p}");
    s.replace('.', "_")
}

/// `hour` as "day 1 19:15 (hour 19.25)".
fn when(hour: f64) -> String {
    if !hour.is_finite() {
        return "?".to_string();
    }
    let total_min = (hour * 60.0).round() as i64;
    let day = total_min.div_euclid(24 * 60) + 1;
    let min_of_day = total_min.rem_euclid(24 * 60);
    format!(
        "day {day} {:02}:{:02} (hour {})",
        min_of_day / 60,
        min_of_day % 60,
        trim_num(hour)
    )
}

/// `x` with at most four decimals and no trailing zeros (`0.25`, `24`).
pub(crate) fn trim_num(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A step size in the largest whole unit (`15 min`, `1 h`, `30 s`).
pub(crate) fn fmt_step(step_s: f64) -> String {
    if step_s % 3600.0 == 0.0 {
        format!("{} h", step_s / 3600.0)
    } else if step_s % 60.0 == 0.0 {
        format!("{} min", step_s / 60.0)
    } else {
        format!("{step_s} s")
    }
}

/// `0.93–1.07 pu`, or `GB/T 12325 (three-phase 20 kV and below 0.93–1.07 pu, ...)` over the
/// classes the network has.
fn band_description(r: &StudyResults) -> String {
    let band = r.options.band;
    if let VoltageBand::Fixed { low_pu, high_pu } = band {
        return format!("{low_pu:.2}–{high_pu:.2} pu");
    }
    let mut present: Vec<VoltageClass> = r.nodes.iter().map(|n| n.voltage_class).collect();
    present.sort();
    present.dedup();
    let parts: Vec<String> = present
        .iter()
        .rev()
        .map(|c| {
            let (lo, hi) = band.limits_pu(*c);
            format!("{} {lo:.2}–{hi:.2} pu", c.description())
        })
        .collect();
    format!("{} ({})", band.name(), parts.join(", "))
}

/// The voltage-unbalance lines of the summary: the worst bus and those above the limit longest.
fn write_unbalance(o: &mut dyn Write, r: &StudyResults) -> std::io::Result<()> {
    let three_phase = r.buses.iter().filter(|b| b.vuf_max_pct.is_some()).count();
    let Some(worst) = r.worst_unbalance() else {
        return Ok(());
    };
    let above = r.buses_above_vuf_limit();
    writeln!(
        o,
        "  voltage unbalance    limit {} %: {} of {three_phase} three-phase buses above at some step; highest {:.2} % at {}, {}",
        trim_num(r.options.vuf_limit_pct),
        above.len(),
        worst.vuf_max_pct.unwrap_or(f64::NAN),
        worst.bus,
        when(worst.vuf_max_hour_h.unwrap_or(f64::NAN))
    )?;
    for b in above.iter().take(TOP) {
        writeln!(
            o,
            "    {:<28} {} h above (max {:.2} % at {})",
            b.bus,
            trim_num(b.above_vuf_limit_h.unwrap_or(0.0)),
            b.vuf_max_pct.unwrap_or(f64::NAN),
            when(b.vuf_max_hour_h.unwrap_or(f64::NAN))
        )?;
    }
    if above.len() > TOP {
        writeln!(o, "    ... {} more (see --buses)", above.len() - TOP)?;
    }
    Ok(())
}

/// How the run's power flows were solved: `(positive sequence?, in words)`.
fn power_flow_kind(sim: &Simulation, forced_three_phase: bool) -> (bool, String) {
    let sys = sim.system();
    if sys.balanced_solves() > 0 {
        return (
            true,
            "positive sequence, one unknown per bus: the network is balanced \
             (--three-phase solves all phases)"
                .into(),
        );
    }
    let why = if forced_three_phase {
        "--three-phase".to_string()
    } else {
        match sys.balanced_qualifies() {
            Ok(()) => "balanced, but not used".to_string(),
            Err(why) => format!("not balanced: {why}"),
        }
    };
    (false, format!("three-phase ({why})"))
}

fn print_summary(
    o: &Options,
    net: &Network,
    r: &StudyResults,
    pf: &(bool, String),
    times: (Duration, Duration),
) {
    let mut out = std::io::stdout().lock();
    if o.json {
        let mut j = json_summary(o, net, r, times);
        j["power_flow"] = serde_json::json!(if pf.0 {
            "positive_sequence"
        } else {
            "three_phase"
        });
        let _ = serde_json::to_writer_pretty(&mut out, &j);
        let _ = writeln!(out);
    } else {
        let _ = write_summary(&mut out, o, net, r, &pf.1, times);
    }
}

fn mode_name(m: SolveMode) -> &'static str {
    match m {
        SolveMode::Yearly => "yearly",
        SolveMode::Daily => "daily",
        SolveMode::Duty => "duty",
        SolveMode::Snapshot => "snapshot",
    }
}

/// The summary as JSON: the same figures as the text, with every out-of-band node and every
/// overloaded element (not only the first ten). Units in the key names.
fn json_summary(
    opts: &Options,
    net: &Network,
    r: &StudyResults,
    (setup, wall): (Duration, Duration),
) -> serde_json::Value {
    use serde_json::json;
    let t = &r.totals;
    let extreme = |e: &Option<VoltageExtreme>| {
        e.as_ref()
            .map(|e| json!({"vmag_pu": e.vmag_pu, "node": e.node, "hour_h": e.hour_h}))
    };
    let outside: Vec<_> = r
        .nodes
        .iter()
        .filter(|n| n.below_band_h + n.above_band_h > 0.0)
        .map(|n| {
            json!({
                "node": n.name(),
                "voltage_class": n.voltage_class.name(),
                "band_pu": [n.band_low_pu, n.band_high_pu],
                "vmin_pu": n.vmin_pu,
                "vmax_pu": n.vmax_pu,
                "below_band_h": n.below_band_h,
                "above_band_h": n.above_band_h,
            })
        })
        .collect();
    let overloaded = r.elements_computed.then(|| {
        r.elements_by_peak()
            .into_iter()
            .filter(|x| x.above_100pct_h > 0.0)
            .map(|x| {
                json!({
                    "element": x.element,
                    "peak_loading_pct": x.peak_loading_pct,
                    "peak_i_a": x.peak_i_a,
                    "i_rated_a": x.i_rated_a,
                    "peak_hour_h": x.peak_hour_h,
                    "above_100pct_h": x.above_100pct_h,
                    "above_trip_h": x.above_trip_h,
                    "longest_above_trip_h": x.longest_above_trip_h,
                    "longest_above_trip_from_hour_h": x.longest_above_trip_from_hour_h,
                    "trip_reference": x.trip_reference,
                    "trip_reference_a": x.trip_reference_a,
                    "trip_risk_episodes": x.trip_risk_episodes,
                    "trip_risk_h": x.trip_risk_h,
                })
            })
            .collect::<Vec<_>>()
    });
    let trip_risks = r.elements_computed.then(|| {
        r.trip_risks
            .iter()
            .map(|x| {
                json!({
                    "element": x.element,
                    "reference": x.reference,
                    "reference_a": x.reference_a,
                    "threshold_a": x.threshold_a,
                    "start_hour_h": x.start_hour_h,
                    "end_hour_h": x.end_hour_h,
                    "duration_h": x.duration_h,
                    "peak_loading_pct": x.peak_loading_pct,
                    "peak_i_a": x.peak_i_a,
                    "peak_hour_h": x.peak_hour_h,
                })
            })
            .collect::<Vec<_>>()
    });
    let vuf_max = r
        .worst_unbalance()
        .map(|b| json!({"bus": b.bus, "vuf_pct": b.vuf_max_pct, "hour_h": b.vuf_max_hour_h}));
    let vuf_above: Vec<_> = r
        .buses_above_vuf_limit()
        .iter()
        .map(|b| {
            json!({
                "bus": b.bus,
                "vuf_max_pct": b.vuf_max_pct,
                "vuf_max_hour_h": b.vuf_max_hour_h,
                "above_vuf_limit_h": b.above_vuf_limit_h,
            })
        })
        .collect();
    let band_pu = match r.options.band {
        VoltageBand::Fixed { low_pu, high_pu } => json!([low_pu, high_pu]),
        _ => serde_json::Value::Null,
    };
    let classes: serde_json::Map<String, serde_json::Value> = VoltageClass::ALL
        .iter()
        .map(|c| {
            let (lo, hi) = r.options.band.limits_pu(*c);
            (c.name().to_string(), json!([lo, hi]))
        })
        .collect();
    json!({
        "script": opts.script.display().to_string(),
        "mode": mode_name(net.settings.mode),
        "steps": t.steps,
        "step_size_s": r.step_size_s,
        "first_hour_h": t.first_hour_h,
        "last_hour_h": t.last_hour_h,
        "steps_not_converged": t.steps_not_converged,
        "first_not_converged_step": t.first_not_converged_step,
        "run_time_s": wall.as_secs_f64(),
        "setup_time_s": setup.as_secs_f64(),
        "steps_per_s": t.steps as f64 / wall.as_secs_f64().max(1e-9),
        "source_mwh": t.source_kwh / 1000.0,
        "source_mvarh": t.source_kvarh / 1000.0,
        "peak_source_kw": t.peak_source_kw,
        "peak_source_hour_h": t.peak_source_hour_h,
        "losses_mwh": t.losses_kwh / 1000.0,
        "losses_pct": if t.source_kwh.abs() > 0.0 { 100.0 * t.losses_kwh / t.source_kwh } else { 0.0 },
        "v_min": extreme(&t.v_min),
        "v_max": extreme(&t.v_max),
        "band": r.options.band.name(),
        "band_pu": band_pu,
        "band_by_class_pu": classes,
        "nodes_outside_band": outside,
        "vuf_limit_pct": r.options.vuf_limit_pct,
        "vuf_max": vuf_max,
        "buses_above_vuf_limit": vuf_above,
        "trip_pct": r.options.trip_pct,
        "overload_h": t.overload_h,
        "overloaded": overloaded,
        "trip_after_h": r.options.trip_min_h,
        "trip_risks": trip_risks,
    })
}

fn write_summary(
    o: &mut dyn Write,
    opts: &Options,
    net: &Network,
    r: &StudyResults,
    power_flow: &str,
    (setup, wall): (Duration, Duration),
) -> std::io::Result<()> {
    let t = &r.totals;
    let mode = mode_name(net.settings.mode);
    let step_size_s = r.step_size_s;
    let dt_h = step_size_s / 3600.0;
    writeln!(o, "vgrid timeseries {}", opts.script.display())?;
    writeln!(
        o,
        "  run                  {mode}, {} steps of {} ({} h, hours {} to {})",
        t.steps,
        fmt_step(step_size_s),
        trim_num(t.steps as f64 * dt_h),
        trim_num(t.first_hour_h.unwrap_or(f64::NAN)),
        trim_num(t.last_hour_h)
    )?;
    writeln!(o, "  power flow           {power_flow}")?;
    if t.steps_not_converged == 0 {
        writeln!(o, "  converged            every step")?;
    } else {
        writeln!(
            o,
            "  converged            NO at {} of {} steps (first: step {}, {}); the run went on",
            t.steps_not_converged,
            t.steps,
            t.first_not_converged_step.unwrap_or(0),
            when(t.first_not_converged_hour_h.unwrap_or(f64::NAN))
        )?;
    }
    let secs = wall.as_secs_f64();
    writeln!(
        o,
        "  wall time            {secs:.3} s ({:.0} steps/s); reading and preparing {:.3} s",
        t.steps as f64 / secs.max(1e-9),
        setup.as_secs_f64()
    )?;
    writeln!(
        o,
        "  source energy        {:.6} MWh  {:.6} Mvarh",
        t.source_kwh / 1000.0,
        t.source_kvarh / 1000.0
    )?;
    if let (Some(p), Some(h)) = (t.peak_source_kw, t.peak_source_hour_h) {
        writeln!(o, "  peak source power    {p:.3} kW at {}", when(h))?;
    }
    writeln!(
        o,
        "  losses               {:.6} MWh ({:.2} % of source energy)",
        t.losses_kwh / 1000.0,
        if t.source_kwh.abs() > 0.0 {
            100.0 * t.losses_kwh / t.source_kwh
        } else {
            0.0
        }
    )?;
    if let (Some(lo), Some(hi)) = (&t.v_min, &t.v_max) {
        writeln!(
            o,
            "  min voltage          {:.5} pu at {}, {}",
            lo.vmag_pu,
            lo.node,
            when(lo.hour_h)
        )?;
        writeln!(
            o,
            "  max voltage          {:.5} pu at {}, {}",
            hi.vmag_pu,
            hi.node,
            when(hi.hour_h)
        )?;
    }
    let outside = r.nodes_outside_band();
    writeln!(
        o,
        "  voltage band         {}: {} of {} nodes outside at some step",
        band_description(r),
        outside.len(),
        r.nodes.len()
    )?;
    for n in outside.iter().take(TOP) {
        let mut what = Vec::new();
        if n.below_band_h > 0.0 {
            what.push(format!(
                "{} h below (min {:.4} pu)",
                trim_num(n.below_band_h),
                n.vmin_pu
            ));
        }
        if n.above_band_h > 0.0 {
            what.push(format!(
                "{} h above (max {:.4} pu)",
                trim_num(n.above_band_h),
                n.vmax_pu
            ));
        }
        writeln!(o, "    {:<28} {}", n.name(), what.join(", "))?;
    }
    if outside.len() > TOP {
        writeln!(o, "    ... {} more (see --buses)", outside.len() - TOP)?;
    }
    write_unbalance(o, r)?;
    if !r.elements_computed {
        writeln!(o, "  overloaded           not computed (--no-elements)")?;
        return Ok(());
    }
    let ranked = r.elements_by_peak();
    let over: Vec<&&ElementResult> = ranked.iter().filter(|x| x.above_100pct_h > 0.0).collect();
    writeln!(
        o,
        "  overloaded           {} of {} rated lines and transformers above 100 % at some step{}",
        over.len(),
        ranked.len(),
        match t.overload_h {
            Some(h) if h > 0.0 => format!(" ({} h with at least one)", trim_num(h)),
            _ => String::new(),
        }
    )?;
    let trip = trim_num(r.options.trip_pct);
    // `ranked` is highest peak first, and so is `over`
    for x in over.iter().take(TOP) {
        let longest = match x.longest_above_trip_from_hour_h {
            Some(from) if x.longest_above_trip_h > 0.0 => format!(
                "; longest stretch {} h from {}",
                trim_num(x.longest_above_trip_h),
                when(from)
            ),
            _ => String::new(),
        };
        // at --trip-pct 100 the hours above the threshold are those above 100 %
        let above_trip = if r.options.trip_pct == 100.0 {
            String::new()
        } else {
            format!(", {} h above {trip} %", trim_num(x.above_trip_h))
        };
        writeln!(
            o,
            "    {:<28} peak {:6.1} % ({:.1} A of {:.1} A) at {}; {} h above 100 %{above_trip}{longest}",
            x.element,
            x.peak_loading_pct.unwrap_or(f64::NAN),
            x.peak_i_a,
            x.i_rated_a.unwrap_or(f64::NAN),
            when(x.peak_hour_h),
            trim_num(x.above_100pct_h),
        )?;
    }
    if over.len() > TOP {
        writeln!(o, "    ... {} more (see --elements)", over.len() - TOP)?;
    }
    if over.is_empty() {
        if let Some(x) = ranked.first() {
            writeln!(
                o,
                "    highest: {} at {:.1} %, {}",
                x.element,
                x.peak_loading_pct.unwrap_or(f64::NAN),
                when(x.peak_hour_h)
            )?;
        }
    }
    write_trip_risk(o, r)
}

/// `1 episode`, `3 episodes`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The trip-risk lines: per element at risk, its episodes, the longest and the peak.
fn write_trip_risk(o: &mut dyn Write, r: &StudyResults) -> std::io::Result<()> {
    let trip = trim_num(r.options.trip_pct);
    let after = fmt_step(r.options.trip_min_h * 3600.0);
    let mut at_risk: Vec<&ElementResult> = r
        .elements
        .iter()
        .filter(|e| e.trip_risk_episodes > 0)
        .collect();
    at_risk.sort_by(|a, b| b.trip_risk_h.total_cmp(&a.trip_risk_h));
    writeln!(
        o,
        "  trip risk            {} on {}: above {trip} % of rating (or device pickup) for {after} or more",
        plural(r.trip_risks.len(), "episode", "episodes"),
        plural(at_risk.len(), "line or transformer", "lines and transformers"),
    )?;
    for e in at_risk.iter().take(TOP) {
        let episodes = r.trip_risks.iter().filter(|t| t.element == e.element);
        // the longest; the earliest of equally long ones
        let longest = episodes.clone().fold(
            None::<&vgrid::timeseries::study::TripRisk>,
            |best, t| match best {
                Some(b) if b.duration_h >= t.duration_h => Some(b),
                _ => Some(t),
            },
        );
        let peak = episodes.max_by(|a, b| a.peak_loading_pct.total_cmp(&b.peak_loading_pct));
        let (Some(longest), Some(peak)) = (longest, peak) else {
            continue;
        };
        let reference = if e.trip_reference == "rating" {
            "rating".to_string()
        } else {
            format!("{} pickup", e.trip_reference)
        };
        writeln!(
            o,
            "    {}: {} above {trip} % of {reference} ({:.1} A) for {after} or more, {} h in all; \
             longest {} h starting {}; peak {:.1} % at {}",
            e.element,
            plural(e.trip_risk_episodes, "episode", "episodes"),
            e.trip_reference_a.unwrap_or(f64::NAN),
            trim_num(e.trip_risk_h),
            trim_num(longest.duration_h),
            when(longest.start_hour_h),
            peak.peak_loading_pct,
            when(peak.peak_hour_h),
        )?;
    }
    if at_risk.len() > TOP {
        writeln!(o, "    ... {} more (see --trip-risk)", at_risk.len() - TOP)?;
    }
    Ok(())
}

/// A progress line on stderr (`\r`, redrawn at most five times a second), only when stderr is
/// a terminal.
struct Progress {
    total: u64,
    start: Instant,
    last: Instant,
    shown: bool,
    enabled: bool,
    /// Characters of the last line drawn.
    width: usize,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let now = Instant::now();
        Progress {
            total,
            start: now,
            last: now,
            shown: false,
            enabled: std::io::stderr().is_terminal(),
            width: 0,
        }
    }

    fn tick(&mut self, done: u64) {
        // the clock is read every 64 steps only
        if !self.enabled || done % 64 != 0 {
            return;
        }
        let now = Instant::now();
        // short runs stay quiet; then at most five redraws a second
        if now.duration_since(self.start) < Duration::from_millis(500)
            || (self.shown && now.duration_since(self.last) < Duration::from_millis(200))
        {
            return;
        }
        self.last = now;
        self.shown = true;
        let secs = now.duration_since(self.start).as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let eta = (self.total.saturating_sub(done)) as f64 / rate.max(1e-9);
        let width = 30usize;
        let filled = ((done as f64 / self.total as f64) * width as f64) as usize;
        let bar: String = (0..width)
            .map(|i| if i < filled { '#' } else { '.' })
            .collect();
        let eta = eta.round() as u64;
        let line = format!(
            "[{bar}] {done}/{} steps  {rate:.0} steps/s  ETA {}:{:02}:{:02}",
            self.total,
            eta / 3600,
            (eta / 60) % 60,
            eta % 60
        );
        // pad over a longer previous line
        let pad = self.width.saturating_sub(line.len());
        self.width = line.len();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}{:pad$}", "");
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{:w$}\r", "", w = self.width);
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_sizes_parse_as_opendss_writes_them() {
        assert_eq!(parse_step_size("15m"), Ok(900.0));
        assert_eq!(parse_step_size("1h"), Ok(3600.0));
        assert_eq!(parse_step_size("60s"), Ok(60.0));
        assert_eq!(parse_step_size("900"), Ok(900.0));
        assert_eq!(parse_step_size("0.5H"), Ok(1800.0));
        assert!(parse_step_size("0m").is_err());
        assert!(parse_step_size("fast").is_err());
        assert_eq!(parse_duration_h("30m"), Ok(0.5));
        assert_eq!(parse_duration_h("2h"), Ok(2.0));
        assert_eq!(parse_duration_h("0"), Ok(0.0));
        assert_eq!(parse_duration_h("0m"), Ok(0.0));
        assert!(parse_duration_h("-1h").is_err());
        assert!(parse_duration_h("soon").is_err());
    }

    #[test]
    fn percentages_and_times_read_plainly() {
        assert_eq!(parse_pct("120"), Ok(120.0));
        assert_eq!(parse_pct("110%"), Ok(110.0));
        assert!(parse_pct("-5").is_err());
        assert_eq!(fmt_pct(120.0), "120");
        assert_eq!(fmt_pct(112.5), "112_5");
        assert_eq!(when(19.25), "day 1 19:15 (hour 19.25)");
        assert_eq!(when(24.0), "day 2 00:00 (hour 24)");
        assert_eq!(fmt_step(900.0), "15 min");
        assert_eq!(fmt_step(3600.0), "1 h");
    }
}
