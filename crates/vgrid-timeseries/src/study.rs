//! The study of a run: what each line and transformer carried and what each bus node saw,
//! accumulated step by step, without keeping the steps.
//!
//! A [`Study`] is built once from the [`Simulation`] (it reads the numbering, the voltage bases
//! and the ratings), takes every solved step with [`Study::add_step`], and gives plain data at
//! the end ([`Study::finish`] → [`StudyResults`]): run totals, per-node and per-element results.
//! Memory is per node and per element, never per step, so a year at one-minute steps costs the
//! same as a day.
//!
//! ```no_run
//! # fn demo(net: &vgrid_model::Network) -> Result<(), vgrid_timeseries::Error> {
//! use vgrid_timeseries::study::{Study, StudyOptions};
//! use vgrid_timeseries::Simulation;
//! let mut sim = Simulation::new(net)?;
//! let mut study = Study::new(&sim, net, &StudyOptions::default());
//! for _ in 0..net.settings.number {
//!     let report = sim.step()?.clone();
//!     study.add_step(&sim, &report);
//! }
//! let results = study.finish();
//! println!(
//!     "{} steps, {:.1} MWh from the source, {:.1} MWh lost",
//!     results.totals.steps,
//!     results.totals.source_kwh / 1000.0,
//!     results.totals.losses_kwh / 1000.0
//! );
//! for e in results.elements.iter().filter(|e| e.above_100pct_h > 0.0) {
//!     println!("{}: {:.1} h above its rating", e.element, e.above_100pct_h);
//! }
//! # Ok(()) }
//! ```
//!
//! ## What is counted
//! Each step stands for one step size of time: with 15-minute steps, a transformer above its
//! rating at 7 steps was overloaded for 7 × 0.25 = 1.75 h. A step's loading of a line or
//! transformer is its largest phase-conductor current at any terminal over that terminal's
//! rated current (lines: `normamps`; transformers: winding kVA / (√3 kV), or kVA / kV for one
//! phase), as `vgrid solve --loadings`. Besides the hours above 100 % and above
//! [`StudyOptions::trip_pct`], the longest unbroken stretch above `trip_pct` says how long a
//! protective device would have seen the overload. An element's energy is
//! `Σ |P at terminal 1| · Δt` (either direction) and its losses `Σ Re(Σ V·conj(I)) · Δt` over
//! its conductors, both from `Yprim·V` of the step; on the European LV day they equal
//! OpenDSS's energy meter on `Line.line1` (kWh, and the lines' losses) to 1e-9.
//!
//! A node counts when it has a voltage base and is above 0.05 pu at that step (neutrals are
//! left out); "below the band" is `|V| < low` pu, "above" `|V| > high` pu.
//!
//! ## Cost
//! Node statistics cost one squared magnitude per node per step. Element statistics need the
//! branch currents `Yprim·V` of every line and transformer at every step (+28 % run time on the
//! European LV day, +11 % on the village's year); [`StudyOptions::elements`] `= false` leaves
//! them out.

use vgrid_model::{ElementKind, Network};
use vgrid_network::C64;
use vgrid_powerflow::solve::System;

use crate::simulation::Simulation;
use crate::sink::StepReport;

/// Nodes below this per-unit voltage (neutrals, de-energised nodes) are left out, as in the
/// engine's per-step min/max.
const VPU_FLOOR: f64 = 0.05;

/// What a [`Study`] counts.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyOptions {
    /// The voltage band, per unit (default GB/T 12325's ±7 %: 0.93–1.07).
    pub band: (f64, f64),
    /// Loading, % of rating, above which an element's hours and stretches are counted as trip
    /// risk (default 120).
    pub trip_pct: f64,
    /// Compute the element statistics (branch currents at every step; default true).
    pub elements: bool,
}

impl Default for StudyOptions {
    fn default() -> StudyOptions {
        StudyOptions {
            band: (0.93, 1.07),
            trip_pct: 120.0,
            elements: true,
        }
    }
}

/// Run totals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunTotals {
    /// Steps taken.
    pub steps: u64,
    /// Steps whose power flow did not converge (the run went on).
    pub steps_not_converged: u64,
    /// The first of them: step number and hour.
    pub first_not_converged_step: Option<u64>,
    pub first_not_converged_hour_h: Option<f64>,
    /// Energy delivered by the sources, kWh and kvarh.
    pub source_kwh: f64,
    pub source_kvarh: f64,
    /// Energy lost in series elements, kWh.
    pub losses_kwh: f64,
    /// Highest source power of a step and its hour.
    pub peak_source_kw: Option<f64>,
    pub peak_source_hour_h: Option<f64>,
    /// Hour of the first and the last step.
    pub first_hour_h: Option<f64>,
    pub last_hour_h: f64,
    /// Time during which at least one rated element was above 100 % of its rating, hours
    /// (`None` without element statistics).
    pub overload_h: Option<f64>,
    /// Lowest and highest node voltage of the run, where and when.
    pub v_min: Option<VoltageExtreme>,
    pub v_max: Option<VoltageExtreme>,
}

/// An extreme voltage of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct VoltageExtreme {
    pub vmag_pu: f64,
    /// `bus.node`.
    pub node: String,
    pub hour_h: f64,
}

/// One bus node over the run (nodes that were energised above 0.05 pu at some step).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeResult {
    pub bus: String,
    pub node: u32,
    /// Line-to-neutral voltage base, kV.
    pub vbase_ln_kv: f64,
    /// The band this node is judged against, per unit.
    pub band_low_pu: f64,
    pub band_high_pu: f64,
    pub vmin_pu: f64,
    pub vmin_hour_h: f64,
    pub vmax_pu: f64,
    pub vmax_hour_h: f64,
    /// Time below and above the band, hours.
    pub below_band_h: f64,
    pub above_band_h: f64,
}

impl NodeResult {
    /// `bus.node`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.bus, self.node)
    }
}

/// One line or transformer over the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementResult {
    /// `Line.name`, `Transformer.name`.
    pub element: String,
    /// Rated current of the terminal where the peak loading occurred, A (`None`: unrated).
    pub i_rated_a: Option<f64>,
    /// Current at the peak loading, A.
    pub peak_i_a: f64,
    /// Highest loading, % of rating (`None`: unrated).
    pub peak_loading_pct: Option<f64>,
    /// Hour of the peak loading (of the first step when unrated).
    pub peak_hour_h: f64,
    /// Time above 100 % and above [`StudyOptions::trip_pct`] of rating, hours.
    pub above_100pct_h: f64,
    pub above_trip_h: f64,
    /// The longest unbroken stretch above `trip_pct`, hours, and the hour of its first step.
    pub longest_above_trip_h: f64,
    pub longest_above_trip_from_hour_h: Option<f64>,
    /// `Σ |P at terminal 1| · Δt`, kWh.
    pub energy_through_kwh: f64,
    /// `Σ losses · Δt`, kWh.
    pub losses_kwh: f64,
}

impl ElementResult {
    /// The element has a rating (its loading is known).
    pub fn rated(&self) -> bool {
        self.i_rated_a.is_some()
    }
}

/// Everything a study found: plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyResults {
    pub options: StudyOptions,
    /// Step size, seconds.
    pub step_size_s: f64,
    pub totals: RunTotals,
    /// Nodes seen energised, in bus order.
    pub nodes: Vec<NodeResult>,
    /// Lines and transformers in branch order; empty without element statistics.
    pub elements: Vec<ElementResult>,
    /// Whether element statistics were computed.
    pub elements_computed: bool,
}

impl StudyResults {
    /// Rated elements, highest peak loading first.
    pub fn elements_by_peak(&self) -> Vec<&ElementResult> {
        let mut v: Vec<&ElementResult> = self.elements.iter().filter(|e| e.rated()).collect();
        v.sort_by(|a, b| {
            b.peak_loading_pct
                .unwrap_or(0.0)
                .total_cmp(&a.peak_loading_pct.unwrap_or(0.0))
        });
        v
    }

    /// Nodes outside their band at some step, longest time outside first.
    pub fn nodes_outside_band(&self) -> Vec<&NodeResult> {
        let mut v: Vec<&NodeResult> = self
            .nodes
            .iter()
            .filter(|n| n.below_band_h + n.above_band_h > 0.0)
            .collect();
        v.sort_by(|a, b| {
            (b.below_band_h + b.above_band_h).total_cmp(&(a.below_band_h + a.above_band_h))
        });
        v
    }
}

/// Accumulates a run's statistics step by step (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Study {
    options: StudyOptions,
    step_size_s: f64,
    dt_h: f64,
    totals: Totals,
    nodes: NodeStats,
    elements: Option<ElementStats>,
}

impl Study {
    /// A study of `sim`'s run of `net` (the network the simulation was built from).
    pub fn new(sim: &Simulation, net: &Network, options: &StudyOptions) -> Study {
        let step_size_s = net.settings.step_size_s;
        let sys = sim.system();
        Study {
            options: options.clone(),
            step_size_s,
            dt_h: step_size_s / 3600.0,
            totals: Totals::default(),
            nodes: NodeStats::new(sys, options.band),
            elements: options
                .elements
                .then(|| ElementStats::new(sys, net, options.trip_pct)),
        }
    }

    /// Count the step just solved: `report` is what [`Simulation::step`] returned.
    pub fn add_step(&mut self, sim: &Simulation, report: &StepReport) {
        self.add_solution(sim.system(), report);
    }

    /// Count a step from the system's present solution and its report (for callers that
    /// drive a [`System`] themselves).
    pub fn add_solution(&mut self, sys: &System, report: &StepReport) {
        let dt_h = self.dt_h;
        self.totals.add(report, dt_h);
        self.nodes.add(sys, report.hour);
        if let Some(e) = self.elements.as_mut() {
            if e.add(sys, report.hour, dt_h) {
                self.totals.steps_overloaded += 1;
            }
        }
    }

    /// Steps counted so far.
    pub fn steps(&self) -> u64 {
        self.totals.steps
    }

    /// The results.
    pub fn finish(self) -> StudyResults {
        let dt_h = self.dt_h;
        let t = &self.totals;
        let extremes = self.nodes.extremes();
        let extreme = |e: Option<Extreme>| {
            e.map(|(pu, hour, k)| VoltageExtreme {
                vmag_pu: pu,
                node: self.nodes.name(k),
                hour_h: hour,
            })
        };
        let totals = RunTotals {
            steps: t.steps,
            steps_not_converged: t.not_converged,
            first_not_converged_step: t.first_not_converged.map(|(s, _)| s),
            first_not_converged_hour_h: t.first_not_converged.map(|(_, h)| h),
            source_kwh: t.source_kwh,
            source_kvarh: t.source_kvarh,
            losses_kwh: t.losses_kwh,
            peak_source_kw: t.peak_source_kw.map(|(p, _)| p),
            peak_source_hour_h: t.peak_source_kw.map(|(_, h)| h),
            first_hour_h: t.first_hour,
            last_hour_h: t.last_hour,
            overload_h: self
                .elements
                .is_some()
                .then_some(t.steps_overloaded as f64 * dt_h),
            v_min: extreme(extremes.map(|e| e.0)),
            v_max: extreme(extremes.map(|e| e.1)),
        };
        let nodes = self.nodes.results(dt_h);
        let elements_computed = self.elements.is_some();
        let elements = self.elements.map(|e| e.results(dt_h)).unwrap_or_default();
        StudyResults {
            options: self.options,
            step_size_s: self.step_size_s,
            totals,
            nodes,
            elements,
            elements_computed,
        }
    }
}

/// Run totals from the per-step reports.
#[derive(Debug, Clone, Default)]
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
    /// Steps with at least one element above 100 %.
    steps_overloaded: u64,
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
#[derive(Debug, Clone)]
struct NodeStats {
    /// `(bus, node number, system node index, base volts)` of nodes with a voltage base.
    nodes: Vec<(String, u32, usize, f64)>,
    inv_base2: Vec<f64>,
    band: Vec<(f64, f64)>,
    /// Squared band limits of each node.
    band2: Vec<(f64, f64)>,
    /// Squared per-unit extremes and the hour of each.
    min2: Vec<(f64, f64)>,
    max2: Vec<(f64, f64)>,
    steps_below: Vec<u32>,
    steps_above: Vec<u32>,
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
            band: vec![band; n],
            band2: vec![(band.0 * band.0, band.1 * band.1); n],
            min2: vec![(f64::INFINITY, f64::NAN); n],
            max2: vec![(f64::NEG_INFINITY, f64::NAN); n],
            steps_below: vec![0; n],
            steps_above: vec![0; n],
        }
    }

    fn add(&mut self, sys: &System, hour: f64) {
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
            if pu2 < self.band2[k].0 {
                self.steps_below[k] += 1;
            } else if pu2 > self.band2[k].1 {
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

    /// The lowest and highest voltage of the run: `(pu, hour, node)` each.
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

    fn results(&self, dt_h: f64) -> Vec<NodeResult> {
        self.seen()
            .map(|k| {
                let n = &self.nodes[k];
                NodeResult {
                    bus: n.0.clone(),
                    node: n.1,
                    vbase_ln_kv: n.3 / 1000.0,
                    band_low_pu: self.band[k].0,
                    band_high_pu: self.band[k].1,
                    vmin_pu: self.min2[k].0.sqrt(),
                    vmin_hour_h: self.min2[k].1,
                    vmax_pu: self.max2[k].0.sqrt(),
                    vmax_hour_h: self.max2[k].1,
                    below_band_h: f64::from(self.steps_below[k]) * dt_h,
                    above_band_h: f64::from(self.steps_above[k]) * dt_h,
                }
            })
            .collect()
    }
}

/// Per line and transformer over the run: peak loading against the rating, time above 100 %
/// and above the trip threshold, energy through terminal 1, losses.
#[derive(Debug, Clone)]
struct ElementStats {
    trip_pct: f64,
    elements: Vec<Element>,
    /// Work space: conductor voltages and currents of one branch.
    work_v: Vec<C64>,
    work_i: Vec<C64>,
}

#[derive(Debug, Clone)]
struct Element {
    name: String,
    /// Branch index in the system.
    branch: usize,
    /// `1 / rated current²` of each terminal, 1/A² (0 when the terminal has no rating).
    inv_rated2: Vec<f64>,
    /// Rated current of each terminal, A.
    rated_a: Vec<f64>,
    /// Phase conductors per terminal whose current counts.
    phases: usize,
    /// Peak `(|I|/I_rated)²`, its current and the rating of its terminal, and its hour.
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
        }
    }

    /// Count one step; true when some element was above 100 % of its rating.
    fn add(&mut self, sys: &System, hour: f64, dt_h: f64) -> bool {
        let v = sys.voltages();
        let zero = C64::new(0.0, 0.0);
        let trip2 = (self.trip_pct / 100.0).powi(2);
        let mut any_over = false;
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
                any_over = true;
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
        any_over
    }

    fn results(&self, dt_h: f64) -> Vec<ElementResult> {
        self.elements
            .iter()
            .map(|e| {
                let rated = e.rated();
                ElementResult {
                    element: e.name.clone(),
                    i_rated_a: rated.then_some(e.peak_rated_a),
                    peak_i_a: e.peak_i_a,
                    peak_loading_pct: rated.then(|| 100.0 * e.peak2.sqrt()),
                    peak_hour_h: e.peak_hour,
                    above_100pct_h: f64::from(e.steps_over_100) * dt_h,
                    above_trip_h: f64::from(e.steps_over_trip) * dt_h,
                    longest_above_trip_h: f64::from(e.longest_trip_run.0) * dt_h,
                    longest_above_trip_from_hour_h: (e.longest_trip_run.0 > 0)
                        .then_some(e.longest_trip_run.1),
                    energy_through_kwh: e.through_kwh,
                    losses_kwh: e.losses_kwh,
                }
            })
            .collect()
    }
}
