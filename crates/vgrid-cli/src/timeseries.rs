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
//! ```
//!
//! ## What is counted
//! Each step stands for one step size of time: with 15-minute steps, a transformer above its
//! rating at 7 steps was overloaded for 7 × 0.25 = 1.75 h. A step's loading of a line or
//! transformer is its largest phase-conductor current at any terminal over that terminal's
//! rated current (lines: `normamps`; transformers: winding kVA / (√3 kV), or kVA / kV for one
//! phase), exactly as `vgrid solve --loadings`. Besides the hours above 100 % and above
//! `--trip-pct`, the longest unbroken stretch above `--trip-pct` says how long a protective
//! device would have seen the overload. An element's energy is `Σ |P at terminal 1| · Δt`
//! (either direction) and its losses `Σ Re(Σ V·conj(I)) · Δt` over its conductors, both from
//! `Yprim·V` of the step; on the European LV day they equal OpenDSS's energy meter on
//! `Line.line1` (kWh, and the lines' losses) to 1e-9. A node counts when it has a voltage base
//! and is above 0.05 pu at that step (neutrals are left out); "below the band" is
//! `|V| < LOW` pu, "above" `|V| > HIGH` pu.
//!
//! ## Cost
//! Node statistics cost one squared magnitude per node per step. Element statistics need the
//! branch currents `Yprim·V` of every line and transformer at every step: +28 % run time on the
//! European LV day (906 branches, 1,440 steps: 0.48 → 0.62 s), +11 % on the village's year;
//! `--no-elements` leaves them out.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use vgrid::model::{ElementKind, Network, SolveMode};
use vgrid::powerflow::solve::System;
use vgrid::timeseries::{CsvSink, RunHeader, StepReport, StepSink};
use vgrid::{Directive, ReadOptions, Reader, Simulation, C64};

/// Nodes below this per-unit voltage (neutrals, de-energised nodes) are left out, as in the
/// engine's per-step min/max.
const VPU_FLOOR: f64 = 0.05;

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
    pub band: (f64, f64),
    pub trip_pct: f64,
    /// Skip the per-step branch currents (no element statistics, faster).
    pub no_elements: bool,
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
    let mut csv = match o.per_step {
        Some(p) => Some((
            CsvSink::new(BufWriter::new(
                File::create(p).with_context(|| format!("creating {}", p.display()))?,
            )),
            p,
        )),
        None => None,
    };
    let dt_h = step_size_s / 3600.0;
    let mut nodes = NodeStats::new(sim.system(), o.band);
    let mut elements = if o.no_elements {
        None
    } else {
        Some(ElementStats::new(sim.system(), &net, o.trip_pct))
    };
    let mut totals = Totals::default();
    let mut progress = Progress::new(steps);
    let mut report = StepReport::default();
    let setup_time = setup_start.elapsed();
    let start = Instant::now();
    for k in 0..steps {
        report.clone_from(sim.step()?);
        if let Some((sink, path)) = csv.as_mut() {
            let r = (|| {
                if k == 0 {
                    sink.begin(&RunHeader {
                        regulators: sim.regulators().to_vec(),
                        steps,
                        step_size_s,
                    })?;
                }
                sink.step(&report)
            })();
            r.with_context(|| format!("writing {}", path.display()))?;
        }
        totals.add(&report, dt_h);
        nodes.add(sim.system(), report.hour, dt_h);
        if let Some(e) = elements.as_mut() {
            e.add(sim.system(), report.hour, dt_h);
        }
        progress.tick(k + 1);
    }
    progress.clear();
    let wall = start.elapsed();
    if let Some((mut sink, path)) = csv {
        sink.finish()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(p) = o.buses {
        nodes
            .write(p)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let (Some(p), Some(e)) = (o.elements, elements.as_ref()) {
        e.write(p)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    print_summary(
        o,
        &net,
        &totals,
        &nodes,
        elements.as_ref(),
        (setup_time, wall),
        step_size_s,
    );
    Ok(if totals.not_converged == 0 {
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

/// Run totals from the per-step reports.
#[derive(Default)]
struct Totals {
    steps: u64,
    not_converged: u64,
    first_not_converged: Option<(u64, f64)>,
    source_kwh: f64,
    source_kvarh: f64,
    losses_kwh: f64,
    peak_source_kw: Option<(f64, f64)>,
    first_hour: Option<f64>,
    last_hour: f64,
}

impl Totals {
    fn add(&mut self, r: &StepReport, dt_h: f64) {
        self.steps += 1;
        if !r.converged {
            self.not_converged += 1;
            self.first_not_converged.get_or_insert((r.step, r.hour));
        }
        self.source_kwh += r.p_source_kw * dt_h;
        self.source_kvarh += r.q_source_kvar * dt_h;
        self.losses_kwh += r.losses_kw * dt_h;
        if self.peak_source_kw.is_none_or(|(p, _)| r.p_source_kw > p) {
            self.peak_source_kw = Some((r.p_source_kw, r.hour));
        }
        self.first_hour.get_or_insert(r.hour);
        self.last_hour = r.hour;
    }
}

/// `(pu, hour, node index)` of an extreme voltage.
type Extreme = (f64, f64, usize);

/// Per bus node over the run: extreme voltages and time outside the band.
struct NodeStats {
    /// `(bus, node number, system node index, base volts)` of nodes with a voltage base.
    nodes: Vec<(String, u32, usize, f64)>,
    inv_base2: Vec<f64>,
    band: (f64, f64),
    band2: (f64, f64),
    /// Squared per-unit extremes and the hour of each.
    min2: Vec<(f64, f64)>,
    max2: Vec<(f64, f64)>,
    steps_below: Vec<u32>,
    steps_above: Vec<u32>,
    dt_h: f64,
}

impl NodeStats {
    fn new(sys: &System, band: (f64, f64)) -> NodeStats {
        let mut nodes = Vec::new();
        for bus in &sys.net.buses {
            let Some(kv) = bus.kv_base_ln.filter(|kv| *kv > 0.0) else {
                continue;
            };
            for &(number, i) in &bus.nodes {
                if sys.net.energized.get(i).copied().unwrap_or(true) {
                    nodes.push((bus.name.clone(), number, i, kv * 1000.0));
                }
            }
        }
        let n = nodes.len();
        NodeStats {
            inv_base2: nodes.iter().map(|n| 1.0 / (n.3 * n.3)).collect(),
            nodes,
            band,
            band2: (band.0 * band.0, band.1 * band.1),
            min2: vec![(f64::INFINITY, f64::NAN); n],
            max2: vec![(f64::NEG_INFINITY, f64::NAN); n],
            steps_below: vec![0; n],
            steps_above: vec![0; n],
            dt_h: 0.0,
        }
    }

    fn add(&mut self, sys: &System, hour: f64, dt_h: f64) {
        self.dt_h = dt_h;
        let v = sys.voltages();
        let floor2 = VPU_FLOOR * VPU_FLOOR;
        for (k, n) in self.nodes.iter().enumerate() {
            let pu2 = v[n.2].norm_sqr() * self.inv_base2[k];
            if pu2 <= floor2 {
                continue;
            }
            if pu2 < self.min2[k].0 {
                self.min2[k] = (pu2, hour);
            }
            if pu2 > self.max2[k].0 {
                self.max2[k] = (pu2, hour);
            }
            if pu2 < self.band2.0 {
                self.steps_below[k] += 1;
            } else if pu2 > self.band2.1 {
                self.steps_above[k] += 1;
            }
        }
    }

    /// Indices of the nodes that were energised above the floor at some step.
    fn seen(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&k| self.max2[k].0.is_finite())
    }

    fn name(&self, k: usize) -> String {
        format!("{}.{}", self.nodes[k].0, self.nodes[k].1)
    }

    /// The lowest and highest voltage of the run.
    fn extremes(&self) -> Option<(Extreme, Extreme)> {
        let lo = self
            .seen()
            .min_by(|&a, &b| self.min2[a].0.total_cmp(&self.min2[b].0))?;
        let hi = self
            .seen()
            .max_by(|&a, &b| self.max2[a].0.total_cmp(&self.max2[b].0))?;
        Some((
            (self.min2[lo].0.sqrt(), self.min2[lo].1, lo),
            (self.max2[hi].0.sqrt(), self.max2[hi].1, hi),
        ))
    }

    fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut f = BufWriter::new(File::create(path)?);
        writeln!(
            f,
            "bus,node,vbase_ln_kv,vmin_pu,vmin_hour_h,vmax_pu,vmax_hour_h,below_band_h,above_band_h"
        )?;
        for k in self.seen() {
            let n = &self.nodes[k];
            writeln!(
                f,
                "{},{},{:.6},{:.8},{:.6},{:.8},{:.6},{:.6},{:.6}",
                n.0,
                n.1,
                n.3 / 1000.0,
                self.min2[k].0.sqrt(),
                self.min2[k].1,
                self.max2[k].0.sqrt(),
                self.max2[k].1,
                f64::from(self.steps_below[k]) * self.dt_h,
                f64::from(self.steps_above[k]) * self.dt_h,
            )?;
        }
        f.flush()
    }
}

/// Per line and transformer over the run: peak loading against the rating, time above 100 %
/// and above the trip threshold, energy through terminal 1, losses.
struct ElementStats {
    trip_pct: f64,
    elements: Vec<Element>,
    /// Work space: conductor voltages and currents of one branch.
    work_v: Vec<C64>,
    work_i: Vec<C64>,
    dt_h: f64,
}

struct Element {
    name: String,
    /// Branch index in the system.
    branch: usize,
    /// `1 / rated current²` of each terminal, 1/A² (0 when the terminal has no rating).
    inv_rated2: Vec<f64>,
    /// Rated current of the terminal of the peak, A.
    rated_a: Vec<f64>,
    /// Phase conductors per terminal whose current counts.
    phases: usize,
    /// Peak `(|I|/I_rated)²`, its current and terminal, and its hour.
    peak2: f64,
    peak_i_a: f64,
    peak_rated_a: f64,
    peak_hour: f64,
    steps_over_100: u32,
    steps_over_trip: u32,
    /// The stretch above the trip threshold going on (steps, first hour), and the longest.
    trip_run: (u32, f64),
    longest_trip_run: (u32, f64),
    /// ∫|P at terminal 1| dt and ∫ losses dt, kWh.
    through_kwh: f64,
    losses_kwh: f64,
}

impl Element {
    fn rated(&self) -> bool {
        self.inv_rated2.iter().any(|r| *r > 0.0)
    }
}

impl ElementStats {
    fn new(sys: &System, net: &Network, trip_pct: f64) -> ElementStats {
        let mut elements = Vec::new();
        for (b, br) in sys.net.branches.iter().enumerate() {
            let (rated, phases): (Vec<f64>, usize) = match br.id.kind {
                ElementKind::Line => match net.lines.get(br.index) {
                    Some(l) => (vec![l.norm_amps_a; 2], br.prim.conductors_per_terminal),
                    None => continue,
                },
                ElementKind::Transformer => match net.transformers.get(br.index) {
                    Some(t) => (
                        t.windings
                            .iter()
                            .map(|w| {
                                if t.phases == 1 {
                                    w.kva / w.kv
                                } else {
                                    w.kva / (3f64.sqrt() * w.kv)
                                }
                            })
                            .collect(),
                        t.phases,
                    ),
                    None => continue,
                },
                _ => continue,
            };
            let ok = |r: &f64| r.is_finite() && *r > 0.0;
            elements.push(Element {
                name: br.id.to_string(),
                branch: b,
                inv_rated2: rated
                    .iter()
                    .map(|r| if ok(r) { 1.0 / (r * r) } else { 0.0 })
                    .collect(),
                rated_a: rated,
                phases: phases.min(br.prim.conductors_per_terminal),
                peak2: 0.0,
                peak_i_a: 0.0,
                peak_rated_a: f64::NAN,
                peak_hour: f64::NAN,
                steps_over_100: 0,
                steps_over_trip: 0,
                trip_run: (0, f64::NAN),
                longest_trip_run: (0, f64::NAN),
                through_kwh: 0.0,
                losses_kwh: 0.0,
            });
        }
        ElementStats {
            trip_pct,
            elements,
            work_v: Vec::new(),
            work_i: Vec::new(),
            dt_h: 0.0,
        }
    }

    fn add(&mut self, sys: &System, hour: f64, dt_h: f64) {
        self.dt_h = dt_h;
        let v = sys.voltages();
        let zero = C64::new(0.0, 0.0);
        let trip2 = (self.trip_pct / 100.0).powi(2);
        for e in &mut self.elements {
            let br = &sys.net.branches[e.branch];
            let m = br.nodes.len();
            let y = br.prim.y.as_slice();
            if y.len() != m * m {
                continue;
            }
            self.work_v.clear();
            self.work_v
                .extend(br.nodes.iter().map(|n| n.map_or(zero, |i| v[i])));
            self.work_i.clear();
            self.work_i.extend(y.chunks_exact(m).map(|row| {
                row.iter()
                    .zip(&self.work_v)
                    .map(|(a, b)| a * b)
                    .sum::<C64>()
            }));
            let c = br.prim.conductors_per_terminal;
            // losses: Σ V·conj(I) over all conductors; power into terminal 1
            let mut loss = zero;
            let mut p1 = 0.0;
            for (k, (vk, ik)) in self.work_v.iter().zip(&self.work_i).enumerate() {
                let s = vk * ik.conj();
                loss += s;
                if k < c {
                    p1 += s.re;
                }
            }
            e.losses_kwh += loss.re / 1000.0 * dt_h;
            e.through_kwh += p1.abs() / 1000.0 * dt_h;
            // loading: largest |I|²/I_rated² over phase conductors of rated terminals
            let mut worst = (0.0, 0.0, f64::NAN);
            for (t, (&inv2, &rated)) in e.inv_rated2.iter().zip(&e.rated_a).enumerate() {
                if inv2 <= 0.0 {
                    continue;
                }
                for k in 0..e.phases {
                    let i2 = self.work_i.get(t * c + k).map_or(0.0, |x| x.norm_sqr());
                    if i2 * inv2 > worst.0 {
                        worst = (i2 * inv2, i2, rated);
                    }
                }
            }
            if worst.0 > 1.0 {
                e.steps_over_100 += 1;
            }
            if worst.0 > trip2 {
                e.steps_over_trip += 1;
                if e.trip_run.0 == 0 {
                    e.trip_run.1 = hour;
                }
                e.trip_run.0 += 1;
                if e.trip_run.0 > e.longest_trip_run.0 {
                    e.longest_trip_run = e.trip_run;
                }
            } else {
                e.trip_run.0 = 0;
            }
            if worst.0 > e.peak2 || e.peak_hour.is_nan() {
                e.peak2 = worst.0;
                e.peak_i_a = worst.1.sqrt();
                e.peak_rated_a = worst.2;
                e.peak_hour = hour;
            }
        }
    }

    /// Rated elements, highest peak first.
    fn by_peak(&self) -> Vec<&Element> {
        let mut v: Vec<&Element> = self.elements.iter().filter(|e| e.rated()).collect();
        v.sort_by(|a, b| b.peak2.total_cmp(&a.peak2));
        v
    }

    fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut f = BufWriter::new(File::create(path)?);
        let trip = fmt_pct(self.trip_pct);
        writeln!(
            f,
            "element,i_rated_a,peak_i_a,peak_loading_pct,peak_hour_h,above_100pct_h,above_{trip}pct_h,\
             longest_above_{trip}pct_h,longest_above_{trip}pct_from_hour_h,energy_through_kwh,losses_kwh"
        )?;
        for e in &self.elements {
            let (rated, pct) = if e.rated() {
                (
                    format!("{:.4}", e.peak_rated_a),
                    format!("{:.3}", 100.0 * e.peak2.sqrt()),
                )
            } else {
                ("nan".to_string(), "nan".to_string())
            };
            writeln!(
                f,
                "{},{},{:.4},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6}",
                e.name,
                rated,
                e.peak_i_a,
                pct,
                e.peak_hour,
                f64::from(e.steps_over_100) * self.dt_h,
                f64::from(e.steps_over_trip) * self.dt_h,
                f64::from(e.longest_trip_run.0) * self.dt_h,
                e.longest_trip_run.1,
                e.through_kwh,
                e.losses_kwh,
            )?;
        }
        f.flush()
    }
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

fn trim_num(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn fmt_step(step_s: f64) -> String {
    if step_s % 3600.0 == 0.0 {
        format!("{} h", step_s / 3600.0)
    } else if step_s % 60.0 == 0.0 {
        format!("{} min", step_s / 60.0)
    } else {
        format!("{step_s} s")
    }
}

fn print_summary(
    o: &Options,
    net: &Network,
    t: &Totals,
    nodes: &NodeStats,
    elements: Option<&ElementStats>,
    times: (Duration, Duration),
    step_size_s: f64,
) {
    let mut out = std::io::stdout().lock();
    if o.json {
        let j = json_summary(o, net, t, nodes, elements, times, step_size_s);
        let _ = serde_json::to_writer_pretty(&mut out, &j);
        let _ = writeln!(out);
    } else {
        let _ = write_summary(&mut out, o, net, t, nodes, elements, times, step_size_s);
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
    t: &Totals,
    nodes: &NodeStats,
    elements: Option<&ElementStats>,
    (setup, wall): (Duration, Duration),
    step_size_s: f64,
) -> serde_json::Value {
    use serde_json::json;
    let dt_h = step_size_s / 3600.0;
    let finite = |x: f64| x.is_finite().then_some(x);
    let extremes = nodes.extremes();
    let extreme = |e: Option<Extreme>| {
        e.map(|(pu, hour, k)| json!({"vmag_pu": pu, "node": nodes.name(k), "hour_h": hour}))
    };
    let outside: Vec<_> = nodes
        .seen()
        .filter(|&k| nodes.steps_below[k] + nodes.steps_above[k] > 0)
        .map(|k| {
            json!({
                "node": nodes.name(k),
                "vmin_pu": nodes.min2[k].0.sqrt(),
                "vmax_pu": nodes.max2[k].0.sqrt(),
                "below_band_h": f64::from(nodes.steps_below[k]) * dt_h,
                "above_band_h": f64::from(nodes.steps_above[k]) * dt_h,
            })
        })
        .collect();
    let overloaded = elements.map(|e| {
        e.by_peak()
            .into_iter()
            .filter(|x| x.steps_over_100 > 0)
            .map(|x| {
                json!({
                    "element": x.name,
                    "peak_loading_pct": 100.0 * x.peak2.sqrt(),
                    "peak_i_a": x.peak_i_a,
                    "i_rated_a": x.peak_rated_a,
                    "peak_hour_h": x.peak_hour,
                    "above_100pct_h": f64::from(x.steps_over_100) * dt_h,
                    "above_trip_h": f64::from(x.steps_over_trip) * dt_h,
                    "longest_above_trip_h": f64::from(x.longest_trip_run.0) * dt_h,
                    "longest_above_trip_from_hour_h": finite(x.longest_trip_run.1),
                })
            })
            .collect::<Vec<_>>()
    });
    json!({
        "script": opts.script.display().to_string(),
        "mode": mode_name(net.settings.mode),
        "steps": t.steps,
        "step_size_s": step_size_s,
        "first_hour_h": t.first_hour,
        "last_hour_h": t.last_hour,
        "steps_not_converged": t.not_converged,
        "first_not_converged_step": t.first_not_converged.map(|(s, _)| s),
        "run_time_s": wall.as_secs_f64(),
        "setup_time_s": setup.as_secs_f64(),
        "steps_per_s": t.steps as f64 / wall.as_secs_f64().max(1e-9),
        "source_mwh": t.source_kwh / 1000.0,
        "source_mvarh": t.source_kvarh / 1000.0,
        "peak_source_kw": t.peak_source_kw.map(|(p, _)| p),
        "peak_source_hour_h": t.peak_source_kw.map(|(_, h)| h),
        "losses_mwh": t.losses_kwh / 1000.0,
        "losses_pct": if t.source_kwh.abs() > 0.0 { 100.0 * t.losses_kwh / t.source_kwh } else { 0.0 },
        "v_min": extreme(extremes.map(|e| e.0)),
        "v_max": extreme(extremes.map(|e| e.1)),
        "band_pu": [nodes.band.0, nodes.band.1],
        "nodes_outside_band": outside,
        "trip_pct": opts.trip_pct,
        "overloaded": overloaded,
    })
}

fn write_summary(
    o: &mut dyn Write,
    opts: &Options,
    net: &Network,
    t: &Totals,
    nodes: &NodeStats,
    elements: Option<&ElementStats>,
    (setup, wall): (Duration, Duration),
    step_size_s: f64,
) -> std::io::Result<()> {
    let mode = mode_name(net.settings.mode);
    let dt_h = step_size_s / 3600.0;
    writeln!(o, "vgrid timeseries {}", opts.script.display())?;
    writeln!(
        o,
        "  run                  {mode}, {} steps of {} ({} h, hours {} to {})",
        t.steps,
        fmt_step(step_size_s),
        trim_num(t.steps as f64 * dt_h),
        trim_num(t.first_hour.unwrap_or(f64::NAN)),
        trim_num(t.last_hour)
    )?;
    if t.not_converged == 0 {
        writeln!(o, "  converged            every step")?;
    } else {
        let (step, hour) = t.first_not_converged.unwrap_or((0, f64::NAN));
        writeln!(
            o,
            "  converged            NO at {} of {} steps (first: step {step}, {}); the run went on",
            t.not_converged,
            t.steps,
            when(hour)
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
    if let Some((p, h)) = t.peak_source_kw {
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
    if let Some(((lo, lo_h, lo_k), (hi, hi_h, hi_k))) = nodes.extremes() {
        writeln!(
            o,
            "  min voltage          {lo:.5} pu at {}, {}",
            nodes.name(lo_k),
            when(lo_h)
        )?;
        writeln!(
            o,
            "  max voltage          {hi:.5} pu at {}, {}",
            nodes.name(hi_k),
            when(hi_h)
        )?;
    }
    let (blo, bhi) = nodes.band;
    let mut outside: Vec<usize> = nodes
        .seen()
        .filter(|&k| nodes.steps_below[k] + nodes.steps_above[k] > 0)
        .collect();
    outside.sort_by(|&a, &b| {
        let ta = nodes.steps_below[a] + nodes.steps_above[a];
        let tb = nodes.steps_below[b] + nodes.steps_above[b];
        tb.cmp(&ta).then(a.cmp(&b))
    });
    writeln!(
        o,
        "  voltage band         {blo:.2}–{bhi:.2} pu: {} of {} nodes outside at some step",
        outside.len(),
        nodes.seen().count()
    )?;
    for &k in outside.iter().take(TOP) {
        let below = f64::from(nodes.steps_below[k]) * dt_h;
        let above = f64::from(nodes.steps_above[k]) * dt_h;
        let mut what = Vec::new();
        if below > 0.0 {
            what.push(format!(
                "{} h below (min {:.4} pu)",
                trim_num(below),
                nodes.min2[k].0.sqrt()
            ));
        }
        if above > 0.0 {
            what.push(format!(
                "{} h above (max {:.4} pu)",
                trim_num(above),
                nodes.max2[k].0.sqrt()
            ));
        }
        writeln!(o, "    {:<28} {}", nodes.name(k), what.join(", "))?;
    }
    if outside.len() > TOP {
        writeln!(o, "    ... {} more (see --buses)", outside.len() - TOP)?;
    }
    match elements {
        Some(e) => {
            let ranked = e.by_peak();
            let over: Vec<&&Element> = ranked.iter().filter(|x| x.steps_over_100 > 0).collect();
            writeln!(
                o,
                "  overloaded           {} of {} rated lines and transformers above 100 % at some step",
                over.len(),
                ranked.len()
            )?;
            let trip = trim_num(e.trip_pct);
            // `ranked` is highest peak first, and so is `over`
            for x in over.iter().take(TOP) {
                let longest = match x.longest_trip_run {
                    (0, _) => String::new(),
                    (n, from) => format!(
                        "; longest stretch {} h from {}",
                        trim_num(f64::from(n) * dt_h),
                        when(from)
                    ),
                };
                writeln!(
                    o,
                    "    {:<28} peak {:6.1} % ({:.1} A of {:.1} A) at {}; {} h above 100 %, {} h above {trip} %{longest}",
                    x.name,
                    100.0 * x.peak2.sqrt(),
                    x.peak_i_a,
                    x.peak_rated_a,
                    when(x.peak_hour),
                    trim_num(f64::from(x.steps_over_100) * dt_h),
                    trim_num(f64::from(x.steps_over_trip) * dt_h),
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
                        x.name,
                        100.0 * x.peak2.sqrt(),
                        when(x.peak_hour)
                    )?;
                }
            }
        }
        None => writeln!(o, "  overloaded           not computed (--no-elements)")?,
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
