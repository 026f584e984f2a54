//! The study of a run: what each line and transformer carried and what each bus node saw,
//! accumulated step by step, without keeping the steps.
//!
//! A [`Study`] is built once from the [`Simulation`] (it reads the numbering, the voltage bases
//! and the ratings), takes every solved step with [`Study::add_step`], and gives plain data at
//! the end ([`Study::finish`] → [`StudyResults`]): run totals, per node, per bus (band, voltage
//! unbalance), per element, and the trip-risk episodes.
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
//! for t in &results.trip_risks {
//!     println!("{}: {:.2} h from hour {} (peak {:.0} %)", t.element, t.duration_h, t.start_hour_h, t.peak_loading_pct);
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
//! [`StudyOptions::trip_pct`] of rating, the longest unbroken stretch above `trip_pct` says how
//! long the overload lasted. An element's energy is
//! `Σ |P at terminal 1| · Δt` (either direction) and its losses `Σ Re(Σ V·conj(I)) · Δt` over
//! its conductors, both from `Yprim·V` of the step; on the European LV day they equal
//! OpenDSS's energy meter on `Line.line1` (kWh, and the lines' losses) to 1e-9.
//!
//! A node counts when it has a voltage base and is above 0.05 pu at that step (neutrals are
//! left out); "below the band" is `|V| < low` pu, "above" `|V| > high` pu, with the band of
//! the node's [`VoltageClass`] under the chosen [`VoltageBand`] (default GB/T 12325: ±7 % for
//! three-phase supply of 20 kV and below, +7 %/−10 % for single-phase 220 V supply, ±10 % above
//! 20 kV). A bus is below (above) its band at a step when any of its nodes is.
//!
//! Every bus with three energised phase nodes (1, 2, 3) gets its voltage unbalance factor at
//! each step, `VUF = |V2| / |V1| × 100 %` from the symmetrical components of its phase
//! voltages ([`voltage_unbalance_pct`]): the highest, when, and the hours above
//! [`StudyOptions::vuf_limit_pct`] (default 2 %, GB/T 15543).
//!
//! ## Trip risk
//! A line or transformer is at risk of tripping when its current stays above
//! [`StudyOptions::trip_pct`] % (default 100) of its *reference* for a while. The reference is
//! the pickup of a protective device monitoring it, where the script sets one (OpenDSS
//! `Fuse.RatedCurrent`, `Recloser.PhaseTrip`, `Relay.PhaseTrip`, on `MonitoredObj`, compared
//! with the phase currents of `MonitoredTerm`; the lowest when several watch it), else its
//! rating. Each unbroken stretch of steps above it that lasts at least
//! [`StudyOptions::trip_min_h`] is a [`TripRisk`] episode: when it starts and ends, how long it
//! lasts, its peak. With a 100 A rating, 15-minute steps and the default 30 minutes, loadings
//! of 90, 110, 120, 95, 105, 130, 110, 100, 101 % make two episodes: 0.5 h peaking at 120 %, then
//! 0.75 h peaking at 130 % (100 % is not above; the last step alone is too short).
//!
//! Why 30 minutes by default: distribution transformers and cables ride through short
//! overloads. A transformer's windings heat with time constants of minutes and its oil over
//! hours, and loading guides (IEC 60076-7, GB/T 1094.7) allow cyclic overloads above nameplate;
//! a cable's conductor heats over tens of minutes; fuses and breakers' thermal elements take
//! minutes to hours at modest overloads. An evening peak held for half an hour or more is what
//! burns fuses and trips breakers; a single quarter-hour above rating rarely does. Steps longer
//! than `trip_min_h` make every step above an episode.
//!
//! ## Cost
//! Node statistics cost one squared magnitude and two comparisons per node per step while the
//! node's voltage stays in its *quiet range* (within its extremes so far and its band); the
//! rest only when it leaves it. Element statistics need the branch currents `Yprim·V` of
//! every line and transformer at every step; [`StudyOptions::elements`] `= false` leaves them
//! out. A line's `Yprim = [[A, B], [B, A]]` is kept as `S = (A + B)/2`, `D = (A − B)/2`:
//! with `Σ = V₁ + V₂` and `Δ = V₁ − V₂`, `I₁ = S·Σ + D·Δ` and `I₂ = S·Σ − D·Δ`, half the
//! products of the dense `Yprim·V`. Lines are evaluated two at a time in batches of one form
//! (`line_batch`): conductor count, `S` zero, imaginary or diagonal, `D` diagonal; products
//! with a zero factor are left out (a SimBench cable: 3 complex and 6 real products instead of
//! 18 complex ones), bit for bit the one-line result. Three-phase buses' unbalance factors
//! are computed two at a time too (`unbalance_batch`). An element whose loading is at or below
//! `min(1, trip², peak²)` with no stretch or episode going on only adds its energy and losses.
//!
//! Measured (instructions per step of [`Study::add_solution`], callgrind; every file of
//! `vgrid timeseries` byte-identical to the one-line code's): SimBench 1-MV-urban 148 k →
//! 66 k, 1-LV-rural1 16.4 k → 9.3 k, the village 299 k → 141 k, IEEE 123 94 k → 50 k,
//! European LV day 759 k → 359 k (element statistics +63 % → +18 % of that run's time).
//!
//! Then for three-phase feeders (IEEE 123: 126 lines in six batches, eight wye transformers,
//! 278 nodes, 71 three-phase buses), each change bit for bit the same files:
//! - a batch also sums its lines' energies and tests their quiet loading, lanes side by side,
//!   and hands on only the lines above it, so a quiet line costs no pass of its own
//!   (`ElementStats::add` visits the elements outside the batches and the lines handed on);
//!   it walks its chunks as slices of known length (no bounds checks in the arithmetic) and
//!   reads a terminal whose nodes are numbered in a row as one slice;
//! - node voltages are read as one slice in system order (when the nodes follow one another
//!   there) and tested two at a time; the chunks outside their quiet range tell whether every
//!   `|V|²` is finite (then the batches' shortened forms skip their check of the voltage
//!   sums) and every node is above the floor (then the unbalance batch skips its floor
//!   tests): a node in its quiet range is both;
//! - a transformer's grounded neutrals (`Grounded`) shorten its `Yprim·V` (a single-phase
//!   regulator 4 products of 16, a three-phase wye–wye winding pair 36 of 64), rows of 4 and
//!   8 conductors in loops of fixed length;
//! - an unbalance chunk forms the products by `a` and `a²` from four shared real products and
//!   does its bookkeeping only when a factor is a new highest or above the limit.
//!
//! Instructions per step of [`Study::add_solution`] (callgrind): IEEE 123 year 49.6 k →
//! 37.3 k, the village 138 k → 99 k, 1-MV-urban 66.9 k → 47.6 k, 1-LV-rural1 9.3 k → 7.3 k,
//! European LV day 364 k → 264 k. On the IEEE 123 year the study's share of the process's
//! cycles went from 17.8 % to 14.9 % (perf) and `run_time_s` from 0.165 s to 0.157 s.

use vgrid_model::{ElementKind, Network};
use vgrid_network::C64;
use vgrid_powerflow::solve::System;

use crate::simulation::Simulation;
use crate::sink::StepReport;

mod lanes;
mod line_batch;
use lanes::{L, LANES};
mod unbalance_batch;
use line_batch::{LineBatch, LineSpec};
use unbalance_batch::VufBatch;

/// Nodes below this per-unit voltage (neutrals, de-energised nodes) are left out, as in the
/// engine's per-step min/max.
const VPU_FLOOR: f64 = 0.05;

/// What a [`Study`] counts.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyOptions {
    /// The voltage band each node is judged against (default [`VoltageBand::Gbt12325`]: by
    /// voltage class, see [`VoltageClass`]).
    pub band: VoltageBand,
    /// Loading above which an element is at risk of tripping, % of its reference current
    /// (its rating, or the pickup of a protective device monitoring it; default 100): its
    /// hours above it, its longest stretch, and its trip-risk episodes.
    pub trip_pct: f64,
    /// Shortest stretch above `trip_pct` that is a trip-risk episode, hours (default 0.5: a
    /// distribution transformer or cable rides through shorter overloads; see the module docs).
    pub trip_min_h: f64,
    /// Compute the element statistics (branch currents at every step; default true).
    pub elements: bool,
    /// Voltage unbalance factor above which a three-phase bus's hours are counted, % (default
    /// 2, GB/T 15543's limit for normal operation at the point of common coupling).
    pub vuf_limit_pct: f64,
}

impl Default for StudyOptions {
    fn default() -> StudyOptions {
        StudyOptions {
            band: VoltageBand::Gbt12325,
            trip_pct: 100.0,
            trip_min_h: 0.5,
            elements: true,
            vuf_limit_pct: 2.0,
        }
    }
}

/// The supply class of a node, which picks its band under [`VoltageBand::Gbt12325`].
///
/// The class comes from the node's bus voltage base (line-to-line, `√3 ×` the line-to-neutral
/// base) and what the node supplies:
///
/// | class | which nodes |
/// |---|---|
/// | [`SinglePhaseLv`](VoltageClass::SinglePhaseLv) | low voltage (base ≤ 1 kV line-to-line, e.g. 0.4 kV / 0.23 kV) and either a single-phase wye load or PV system connects there (phase to neutral), or its bus has fewer than three phase nodes (1, 2, 3), as a house's service bus `h17.1` |
/// | [`ThreePhaseUpTo20kV`](VoltageClass::ThreePhaseUpTo20kV) | every other node of a bus with a base of 20 kV line-to-line or less (MV feeders, LV three-phase buses and cable boxes) |
/// | [`Above20kV`](VoltageClass::Above20kV) | buses above 20 kV (35 kV, 66 kV, 110 kV, ...) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VoltageClass {
    /// Single-phase 220 V supply.
    SinglePhaseLv,
    /// Three-phase supply at 20 kV and below.
    ThreePhaseUpTo20kV,
    /// Supply above 20 kV.
    Above20kV,
}

impl VoltageClass {
    /// Every class, lowest voltage first.
    pub const ALL: [VoltageClass; 3] = [
        VoltageClass::SinglePhaseLv,
        VoltageClass::ThreePhaseUpTo20kV,
        VoltageClass::Above20kV,
    ];

    /// A short name for files: `1ph_220v`, `3ph_20kv_and_below`, `above_20kv`.
    pub fn name(self) -> &'static str {
        match self {
            VoltageClass::SinglePhaseLv => "1ph_220v",
            VoltageClass::ThreePhaseUpTo20kV => "3ph_20kv_and_below",
            VoltageClass::Above20kV => "above_20kv",
        }
    }

    /// How a person says it.
    pub fn description(self) -> &'static str {
        match self {
            VoltageClass::SinglePhaseLv => "single-phase 220 V",
            VoltageClass::ThreePhaseUpTo20kV => "three-phase 20 kV and below",
            VoltageClass::Above20kV => "above 20 kV",
        }
    }
}

/// Low voltage: a line-to-line base of 1 kV or less.
const LV_MAX_LL_KV: f64 = 1.0;
/// The GB/T 12325 boundary between ±7 % and the wider band, line-to-line kV.
const MV_MAX_LL_KV: f64 = 20.0;

/// The voltage band nodes are judged against.
///
/// | rule | single-phase 220 V | three-phase ≤ 20 kV | above 20 kV |
/// |---|---|---|---|
/// | [`Gbt12325`](VoltageBand::Gbt12325) (default) | 0.90–1.07 pu (+7 %/−10 %) | 0.93–1.07 pu (±7 %) | 0.90–1.10 pu (±10 %)¹ |
/// | [`En50160`](VoltageBand::En50160) | 0.90–1.10 | 0.90–1.10 | 0.90–1.10 |
/// | [`Fixed`](VoltageBand::Fixed) | low–high | low–high | low–high |
///
/// ¹ GB/T 12325-2008 asks of 35 kV and above that the absolute values of the positive and the
/// negative deviation add up to at most 10 % of nominal (the band may sit off-centre, chosen by
/// the utility); without that choice it is approximated here as ±10 %.
///
/// `"GBT12325"`, `"EN50160"` and `"0.95,1.05"` parse ([`str::parse`]):
///
/// ```
/// use vgrid_timeseries::study::{VoltageBand, VoltageClass};
/// let gb: VoltageBand = "GBT12325".parse().unwrap();
/// assert_eq!(gb.limits_pu(VoltageClass::SinglePhaseLv), (0.90, 1.07));
/// let fixed: VoltageBand = "0.95,1.05".parse().unwrap();
/// assert_eq!(fixed.limits_pu(VoltageClass::Above20kV), (0.95, 1.05));
/// assert!("1.1,0.9".parse::<VoltageBand>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VoltageBand {
    /// GB/T 12325 (China), by [`VoltageClass`].
    Gbt12325,
    /// EN 50160 (Europe): ±10 % everywhere.
    En50160,
    /// One band for every node, per unit.
    Fixed { low_pu: f64, high_pu: f64 },
}

impl VoltageBand {
    /// `(low, high)` per unit for a node of `class`.
    pub fn limits_pu(&self, class: VoltageClass) -> (f64, f64) {
        match (self, class) {
            (VoltageBand::Gbt12325, VoltageClass::SinglePhaseLv) => (0.90, 1.07),
            (VoltageBand::Gbt12325, VoltageClass::ThreePhaseUpTo20kV) => (0.93, 1.07),
            (VoltageBand::Gbt12325, VoltageClass::Above20kV) => (0.90, 1.10),
            (VoltageBand::En50160, _) => (0.90, 1.10),
            (VoltageBand::Fixed { low_pu, high_pu }, _) => (*low_pu, *high_pu),
        }
    }

    /// `GB/T 12325`, `EN 50160`, `0.95–1.05 pu`.
    pub fn name(&self) -> String {
        match self {
            VoltageBand::Gbt12325 => "GB/T 12325".to_string(),
            VoltageBand::En50160 => "EN 50160".to_string(),
            VoltageBand::Fixed { low_pu, high_pu } => format!("{low_pu:.2}–{high_pu:.2} pu"),
        }
    }
}

/// A voltage band that does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{text:?} is not a voltage band: expected GBT12325, EN50160, or LOW,HIGH in per unit with 0 < LOW < HIGH (e.g. 0.93,1.07)")]
pub struct BandParseError {
    pub text: String,
}

impl std::str::FromStr for VoltageBand {
    type Err = BandParseError;

    fn from_str(s: &str) -> Result<VoltageBand, BandParseError> {
        let err = || BandParseError {
            text: s.to_string(),
        };
        let key: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase();
        match key.as_str() {
            "GBT12325" | "GB12325" => return Ok(VoltageBand::Gbt12325),
            "EN50160" => return Ok(VoltageBand::En50160),
            _ => {}
        }
        let (lo, hi) = s.split_once(',').ok_or_else(err)?;
        let lo: f64 = lo.trim().parse().map_err(|_| err())?;
        let hi: f64 = hi.trim().parse().map_err(|_| err())?;
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo < hi) {
            return Err(err());
        }
        Ok(VoltageBand::Fixed {
            low_pu: lo,
            high_pu: hi,
        })
    }
}

/// The voltage unbalance factor `|V2| / |V1| × 100 %` of three phase voltages (phases 1, 2, 3 in
/// positive-sequence order), from their symmetrical components
/// `V1 = (Va + a·Vb + a²·Vc) / 3`, `V2 = (Va + a²·Vb + a·Vc) / 3`, `a = 1∠120°`.
///
/// Phase-to-ground and phase-to-neutral voltages give the same factor: they differ by the
/// neutral's voltage, common to the three phases, which is zero sequence only (and so are the
/// line-to-line voltages, whose V1 and V2 are those of the phase voltages times √3∠±30°).
/// `NaN` when `V1` is zero.
///
/// ```
/// use num_complex::Complex64 as C64;
/// use vgrid_timeseries::study::voltage_unbalance_pct;
/// // phase 3 ten per cent low: V2 = 0.1/3, V1 = 2.9/3, VUF = 0.1/2.9 = 3.448 %
/// let a = C64::from_polar(1.0, 120f64.to_radians());
/// let vuf = voltage_unbalance_pct([C64::new(1.0, 0.0), a * a, 0.9 * a]);
/// assert!((vuf - 100.0 * 0.1 / 2.9).abs() < 1e-12);
/// ```
pub fn voltage_unbalance_pct(v: [C64; 3]) -> f64 {
    let r2 = unbalance2(v);
    if r2.is_finite() {
        100.0 * r2.sqrt()
    } else {
        f64::NAN
    }
}

/// `|V2|² / |V1|²` (the 1/3 cancels).
fn unbalance2([va, vb, vc]: [C64; 3]) -> f64 {
    const S: f64 = 0.866_025_403_784_438_6; // √3 / 2
    let a = C64::new(-0.5, S);
    let a2 = C64::new(-0.5, -S);
    let v1 = va + a * vb + a2 * vc;
    let v2 = va + a2 * vb + a * vc;
    let d = v1.norm_sqr();
    if d > 0.0 {
        v2.norm_sqr() / d
    } else {
        f64::NAN
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
    pub voltage_class: VoltageClass,
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

/// One bus over the run: the extremes of its nodes and the time any of them was outside its
/// band (buses with at least one node seen energised).
#[derive(Debug, Clone, PartialEq)]
pub struct BusResult {
    pub bus: String,
    /// Line-to-neutral voltage base, kV.
    pub vbase_ln_kv: f64,
    /// The lowest class among its nodes (a three-phase cable box feeding a single-phase home
    /// on phase 1 is [`VoltageClass::SinglePhaseLv`]).
    pub voltage_class: VoltageClass,
    /// Lowest node voltage, which node (`bus.node`) and when.
    pub vmin_pu: f64,
    pub vmin_node: String,
    pub vmin_hour_h: f64,
    /// Highest node voltage, which node and when.
    pub vmax_pu: f64,
    pub vmax_node: String,
    pub vmax_hour_h: f64,
    /// Time during which at least one node was below (above) its band, hours.
    pub below_band_h: f64,
    pub above_band_h: f64,
    /// Buses with three energised phase nodes (1, 2, 3): the highest voltage unbalance factor
    /// of the run, % ([`voltage_unbalance_pct`]), its hour, and the time above
    /// [`StudyOptions::vuf_limit_pct`], hours. `None` for other buses.
    pub vuf_max_pct: Option<f64>,
    pub vuf_max_hour_h: Option<f64>,
    pub above_vuf_limit_h: Option<f64>,
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
    /// What the trip-risk episodes compare the current with: `rating`, or the protective
    /// device monitoring the element (`Fuse.f12`, `Recloser.r1`, `Relay.k3`).
    pub trip_reference: String,
    /// The reference current, A: the device's pickup, or the rating of the terminal of the
    /// peak loading (`None`: unrated and unprotected).
    pub trip_reference_a: Option<f64>,
    /// Trip-risk episodes ([`TripRisk`]) and their total duration, hours.
    pub trip_risk_episodes: usize,
    pub trip_risk_h: f64,
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

/// A trip-risk episode: an unbroken stretch of steps in which an element's current stayed
/// above [`StudyOptions::trip_pct`] of its reference (rating or device pickup), lasting at
/// least [`StudyOptions::trip_min_h`].
#[derive(Debug, Clone, PartialEq)]
pub struct TripRisk {
    /// `Line.name`, `Transformer.name`.
    pub element: String,
    /// `rating`, or the protective device whose pickup is the reference (`Fuse.f12`).
    pub reference: String,
    /// The reference current, A (pickup, or the rating of the terminal of the peak).
    pub reference_a: f64,
    /// `trip_pct` % of the reference, A.
    pub threshold_a: f64,
    /// Hour of the first and of the last step above the threshold.
    pub start_hour_h: f64,
    pub end_hour_h: f64,
    /// Steps above × step size, hours.
    pub duration_h: f64,
    /// Highest current of the episode, % of the reference, A, and when.
    pub peak_loading_pct: f64,
    pub peak_i_a: f64,
    pub peak_hour_h: f64,
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
    /// Buses with a node seen energised, in bus order.
    pub buses: Vec<BusResult>,
    /// Lines and transformers in branch order; empty without element statistics.
    pub elements: Vec<ElementResult>,
    /// Whether element statistics were computed.
    pub elements_computed: bool,
    /// Trip-risk episodes of every element, in order of their start (then element).
    pub trip_risks: Vec<TripRisk>,
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

    /// Three-phase buses above the unbalance limit at some step, longest time above first (then
    /// highest factor).
    pub fn buses_above_vuf_limit(&self) -> Vec<&BusResult> {
        let mut v: Vec<&BusResult> = self
            .buses
            .iter()
            .filter(|b| b.above_vuf_limit_h.unwrap_or(0.0) > 0.0)
            .collect();
        v.sort_by(|a, b| {
            let key = |x: &BusResult| {
                (
                    x.above_vuf_limit_h.unwrap_or(0.0),
                    x.vuf_max_pct.unwrap_or(0.0),
                )
            };
            let (ka, kb) = (key(a), key(b));
            kb.0.total_cmp(&ka.0).then(kb.1.total_cmp(&ka.1))
        });
        v
    }

    /// The three-phase bus with the highest unbalance factor of the run.
    pub fn worst_unbalance(&self) -> Option<&BusResult> {
        self.buses
            .iter()
            .filter(|b| b.vuf_max_pct.is_some())
            .max_by(|a, b| {
                a.vuf_max_pct
                    .unwrap_or(0.0)
                    .total_cmp(&b.vuf_max_pct.unwrap_or(0.0))
            })
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
    /// The report of the last step taken through [`Study::step`].
    last: StepReport,
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
            nodes: NodeStats::new(sys, net, options.band, options.vuf_limit_pct),
            elements: options
                .elements
                .then(|| ElementStats::new(sys, net, options)),
            last: StepReport::default(),
        }
    }

    /// Solve the next step of `sim` and count it: [`Simulation::step`] then
    /// [`Study::add_step`]. The step's report is returned (kept in the study until the next
    /// step).
    ///
    /// ```no_run
    /// # fn demo(net: &vgrid_model::Network) -> Result<(), vgrid_timeseries::Error> {
    /// # use vgrid_timeseries::{Simulation, Study, StudyOptions};
    /// let mut sim = Simulation::new(net)?;
    /// let mut study = Study::new(&sim, net, &StudyOptions::default());
    /// for _ in 0..net.settings.number {
    ///     let report = study.step(&mut sim)?;
    ///     if !report.converged {
    ///         eprintln!("step {} did not converge", report.step);
    ///     }
    /// }
    /// let results = study.finish();
    /// # Ok(()) }
    /// ```
    pub fn step(&mut self, sim: &mut Simulation) -> Result<&StepReport, crate::Error> {
        let mut last = std::mem::take(&mut self.last);
        last.clone_from(sim.step()?);
        self.add_solution(sim.system(), &last);
        self.last = last;
        Ok(&self.last)
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
        let bounded = self.nodes.add(sys, report.hour);
        if let Some(e) = self.elements.as_mut() {
            if e.add(sys, bounded, report.hour, dt_h) {
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
        let buses = self.nodes.bus_results(dt_h);
        let elements_computed = self.elements.is_some();
        let (elements, trip_risks) = self.elements.map(|e| e.results(dt_h)).unwrap_or_default();
        StudyResults {
            options: self.options,
            step_size_s: self.step_size_s,
            totals,
            nodes,
            buses,
            elements,
            elements_computed,
            trip_risks,
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
    /// `(bus, node number, system node index, base volts)` of nodes with a voltage base, bus by
    /// bus.
    nodes: Vec<(String, u32, usize, f64)>,
    class: Vec<VoltageClass>,
    band: Vec<(f64, f64)>,
    /// What each step reads first, [`LANES`] nodes side by side in the order of their system
    /// indices: where, the base, and the range of squared per-unit voltages within which the
    /// step changes nothing.
    quiet: Vec<NodeQuiet>,
    /// The first system index when those of `quiet` follow one another without a gap (as
    /// they do when every system node has a voltage base): the step reads the voltages as
    /// one slice, without gathering.
    run_start: Option<usize>,
    /// The rest of a node's per-step data, read when its voltage leaves that range.
    hot: Vec<NodeHot>,
    /// Buses: their nodes' range in `nodes`, and steps with a node below / above its band.
    buses: Vec<BusSpan>,
    /// The unbalance of the buses with phase nodes 1, 2, 3 ([`BusSpan::vuf`]).
    vuf: VufBatch,
}

/// Where to read [`LANES`] nodes, their bases, and their quiet ranges
/// `[max(min², low²), min(max², high²)]`: a squared per-unit voltage in it is neither a new
/// extreme nor outside the band, so the step leaves the node as it is (empty, `[∞, −∞]`, until
/// the node is first seen). A lane without a node reads the chunk's first node with a zero
/// base and the range `[−∞, ∞]`, and is never counted.
#[derive(Debug, Clone, Copy)]
struct NodeQuiet {
    /// System node index.
    index: [usize; LANES],
    /// The node's place in [`NodeStats::nodes`] (`usize::MAX`: no node).
    node: [usize; LANES],
    inv_base2: L,
    low2: L,
    high2: L,
    /// The floor `VPU_FLOOR²` (−∞ in a lane without a node).
    floor2: L,
}

/// One node's squared band, its squared per-unit extremes with their hours, and its steps
/// outside the band.
#[derive(Debug, Clone)]
struct NodeHot {
    /// `1 / V_base²`, 1/V².
    inv_base2: f64,
    band2: (f64, f64),
    min2: (f64, f64),
    max2: (f64, f64),
    steps_below: u32,
    steps_above: u32,
}

/// The lanes of `q` outside their quiet range at squared per-unit voltages `pu2`: their
/// extremes and steps outside the band in `hot`, and their new quiet ranges; true when one is
/// outside its band.
#[inline(never)]
fn count_node_lanes(
    q: &mut NodeQuiet,
    pu2: L,
    hot: &mut [NodeHot],
    floor2: f64,
    hour: f64,
) -> bool {
    let mut outside = false;
    for l in 0..LANES {
        let pu2 = pu2.0[l];
        if pu2 >= q.low2.0[l] && pu2 <= q.high2.0[l] {
            continue;
        }
        // a lane without a node (loud only on a voltage that is not finite)
        let Some(h) = hot.get_mut(q.node[l]) else {
            continue;
        };
        if pu2 <= floor2 {
            continue;
        }
        if pu2 < h.min2.0 {
            h.min2 = (pu2, hour);
        }
        if pu2 > h.max2.0 {
            h.max2 = (pu2, hour);
        }
        if pu2 < h.band2.0 {
            h.steps_below += 1;
            outside = true;
        } else if pu2 > h.band2.1 {
            h.steps_above += 1;
            outside = true;
        }
        q.low2.0[l] = h.min2.0.max(h.band2.0);
        q.high2.0[l] = h.max2.0.min(h.band2.1);
    }
    outside
}

#[derive(Debug, Clone)]
struct BusSpan {
    nodes: std::ops::Range<usize>,
    steps_below: u32,
    steps_above: u32,
    /// Buses with phase nodes 1, 2, 3: their item in [`NodeStats::vuf`].
    vuf: Option<usize>,
}

/// The class of a node of a bus with line-to-neutral base `kv_ln` and `phase_nodes` phase
/// nodes (1, 2, 3); `single_phase_load`: a single-phase wye load or PV system connects to it.
fn voltage_class(kv_ln: f64, phase_nodes: usize, single_phase_load: bool) -> VoltageClass {
    let kv_ll = kv_ln * 3f64.sqrt();
    if kv_ll > MV_MAX_LL_KV * (1.0 + 1e-6) {
        VoltageClass::Above20kV
    } else if kv_ll <= LV_MAX_LL_KV * (1.0 + 1e-6) && (single_phase_load || phase_nodes < 3) {
        VoltageClass::SinglePhaseLv
    } else {
        VoltageClass::ThreePhaseUpTo20kV
    }
}

/// System node indices that a single-phase wye load or PV system connects to (its phase node).
fn single_phase_supply_nodes(sys: &System, net: &Network) -> std::collections::HashSet<usize> {
    use vgrid_model::{BusRef, Connection};
    let single = |bus1: &BusRef, phases: usize, conn: Connection| {
        (phases == 1 && conn == Connection::Wye)
            .then(|| sys.net.node_index(&bus1.bus, bus1.node_of_conductor(0, 1)))
            .flatten()
    };
    let loads = net
        .loads
        .iter()
        .filter(|l| l.enabled)
        .filter_map(|l| single(&l.bus1, l.phases, l.conn));
    let pv = net
        .pv_systems
        .iter()
        .filter_map(|p| single(&p.bus1, p.phases, p.conn));
    loads.chain(pv).collect()
}

impl NodeStats {
    fn new(sys: &System, net: &Network, band: VoltageBand, vuf_limit_pct: f64) -> NodeStats {
        let single = single_phase_supply_nodes(sys, net);
        let mut nodes = Vec::new();
        let mut class = Vec::new();
        let mut buses = Vec::new();
        let mut vuf_buses = Vec::new();
        for bus in &sys.net.buses {
            let Some(kv) = bus.kv_base_ln.filter(|kv| *kv > 0.0) else {
                continue;
            };
            let phase_nodes = bus
                .nodes
                .iter()
                .filter(|(number, _)| (1..=3).contains(number))
                .count();
            let first = nodes.len();
            for &(number, i) in &bus.nodes {
                if sys.net.energized.get(i).copied().unwrap_or(true) {
                    nodes.push((bus.name.clone(), number, i, kv * 1000.0));
                    class.push(voltage_class(kv, phase_nodes, single.contains(&i)));
                }
            }
            if nodes.len() > first {
                let span = first..nodes.len();
                let phase = |p: u32| span.clone().find(|&k| nodes[k].1 == p).map(|k| nodes[k].2);
                let vuf = match (phase(1), phase(2), phase(3)) {
                    (Some(a), Some(b), Some(c)) => {
                        // the bus's base applies to all three phases
                        let base_v = nodes[first].3;
                        vuf_buses.push(([a, b, c], 1.0 / (base_v * base_v)));
                        Some(vuf_buses.len() - 1)
                    }
                    _ => None,
                };
                buses.push(BusSpan {
                    nodes: span,
                    steps_below: 0,
                    steps_above: 0,
                    vuf,
                });
            }
        }
        let limits: Vec<(f64, f64)> = class.iter().map(|c| band.limits_pu(*c)).collect();
        let mut order: Vec<usize> = (0..nodes.len()).collect();
        order.sort_by_key(|&k| nodes[k].2);
        NodeStats {
            run_start: order
                .iter()
                .enumerate()
                .all(|(p, &k)| nodes[k].2 == nodes[order[0]].2 + p)
                .then(|| order.first().map(|&k| nodes[k].2))
                .flatten(),
            quiet: order
                .chunks(LANES)
                .map(|ch| {
                    // a lane's value for its node, or `spare` without one
                    let lane = |f: fn(f64) -> f64, spare: f64| {
                        L(std::array::from_fn(|l| {
                            ch.get(l).map_or(spare, |&k| f(nodes[k].3))
                        }))
                    };
                    NodeQuiet {
                        index: std::array::from_fn(|l| nodes[*ch.get(l).unwrap_or(&ch[0])].2),
                        node: std::array::from_fn(|l| ch.get(l).copied().unwrap_or(usize::MAX)),
                        inv_base2: lane(|base| 1.0 / (base * base), 0.0),
                        low2: lane(|_| f64::INFINITY, f64::NEG_INFINITY),
                        high2: lane(|_| f64::NEG_INFINITY, f64::INFINITY),
                        floor2: lane(|_| VPU_FLOOR * VPU_FLOOR, f64::NEG_INFINITY),
                    }
                })
                .collect(),
            hot: limits
                .iter()
                .zip(&nodes)
                .map(|((l, h), n)| NodeHot {
                    inv_base2: 1.0 / (n.3 * n.3),
                    band2: (l * l, h * h),
                    min2: (f64::INFINITY, f64::NAN),
                    max2: (f64::NEG_INFINITY, f64::NAN),
                    steps_below: 0,
                    steps_above: 0,
                })
                .collect(),
            nodes,
            class,
            band: limits,
            buses,
            vuf: VufBatch::new(&vuf_buses, (vuf_limit_pct / 100.0).powi(2)),
        }
    }

    /// Count a step; true when every system node is one of `nodes` (read as one slice) and
    /// each one's `|V|²` is finite (see [`LineBatch::evaluate`]).
    fn add(&mut self, sys: &System, hour: f64) -> bool {
        let v = sys.voltages();
        let floor2 = VPU_FLOOR * VPU_FLOOR;
        let mut outside = false;
        // `Σ pu2 · 0`: zero when every `pu2` is finite, NaN else; one where every `pu2` is
        // above the floor, zero else. Only chunks outside their quiet range add to them: a
        // `pu2` in its range is finite (at most the band's top) and above the floor (at least
        // the node's lowest, which was above it, or the band's bottom)
        let mut finite = L::ZERO;
        let mut lit = L::splat(1.0);
        let hot = &mut self.hot;
        // `v.norm_sqr() * inv_base2` of a chunk's nodes, lane by lane, and those outside their
        // quiet range
        let mut visit = |q: &mut NodeQuiet, x: [C64; LANES]| {
            let (re, im) = (
                L(std::array::from_fn(|l| x[l].re)),
                L(std::array::from_fn(|l| x[l].im)),
            );
            let pu2 = (re * re + im * im) * q.inv_base2;
            // in the quiet range (so above the floor, or the band reaches below it): nothing
            // changes; NaN is never in it and changes nothing below either
            if !pu2.all_within(q.low2, q.high2) {
                finite = finite + pu2 * L::ZERO;
                lit = pu2.gt_select(q.floor2, lit, L::ZERO);
                outside |= count_node_lanes(q, pu2, hot, floor2, hour);
            }
        };
        match self.run_start {
            Some(start) => {
                // whole chunks from the slice, a last partial one by its indices
                let vs = &v[start..start + self.nodes.len()];
                let (whole, part) = self.quiet.split_at_mut(vs.len() / LANES);
                for (q, x) in whole.iter_mut().zip(vs.chunks_exact(LANES)) {
                    visit(q, std::array::from_fn(|l| x[l]));
                }
                for q in part {
                    visit(q, std::array::from_fn(|l| v[q.index[l]]));
                }
            }
            None => {
                for q in &mut self.quiet {
                    visit(q, std::array::from_fn(|l| v[q.index[l]]));
                }
            }
        }
        if outside {
            // which buses have a node outside its band at this step
            for bus in &mut self.buses {
                let (mut below, mut above) = (false, false);
                for k in bus.nodes.clone() {
                    let h = &self.hot[k];
                    let pu2 = v[self.nodes[k].2].norm_sqr() * h.inv_base2;
                    if pu2 <= floor2 {
                        continue;
                    }
                    if pu2 < h.band2.0 {
                        below = true;
                    } else if pu2 > h.band2.1 {
                        above = true;
                    }
                }
                bus.steps_below += u32::from(below);
                bus.steps_above += u32::from(above);
            }
        }
        // the unbalance buses' phase nodes are nodes here, with the bus's base: all above the
        // floor when every node is
        self.vuf.add(v, floor2, hour, lit.0 == [1.0; LANES]);
        // every node read (the slice is all of `v`), none with a |V|² that is not finite (a
        // zero base, whose `pu2` is NaN or infinite, only makes the answer false)
        self.run_start == Some(0) && self.nodes.len() == v.len() && finite.0 == [0.0; LANES]
    }

    /// The node was energised above the floor at some step.
    fn seen_node(&self, k: usize) -> bool {
        self.hot[k].max2.0.is_finite()
    }

    /// Indices of the nodes that were energised above the floor at some step.
    fn seen(&self) -> impl Iterator<Item = usize> + Clone + '_ {
        (0..self.nodes.len()).filter(|&k| self.seen_node(k))
    }

    fn name(&self, k: usize) -> String {
        format!("{}.{}", self.nodes[k].0, self.nodes[k].1)
    }

    /// The lowest and highest voltage of the run: `(pu, hour, node)` each.
    fn extremes(&self) -> Option<(Extreme, Extreme)> {
        self.extremes_among(self.seen())
    }

    fn extremes_among(
        &self,
        nodes: impl Iterator<Item = usize> + Clone,
    ) -> Option<(Extreme, Extreme)> {
        let lo = nodes
            .clone()
            .min_by(|&a, &b| self.hot[a].min2.0.total_cmp(&self.hot[b].min2.0))?;
        let hi = nodes.max_by(|&a, &b| self.hot[a].max2.0.total_cmp(&self.hot[b].max2.0))?;
        Some((
            (self.hot[lo].min2.0.sqrt(), self.hot[lo].min2.1, lo),
            (self.hot[hi].max2.0.sqrt(), self.hot[hi].max2.1, hi),
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
                    voltage_class: self.class[k],
                    band_low_pu: self.band[k].0,
                    band_high_pu: self.band[k].1,
                    vmin_pu: self.hot[k].min2.0.sqrt(),
                    vmin_hour_h: self.hot[k].min2.1,
                    vmax_pu: self.hot[k].max2.0.sqrt(),
                    vmax_hour_h: self.hot[k].max2.1,
                    below_band_h: f64::from(self.hot[k].steps_below) * dt_h,
                    above_band_h: f64::from(self.hot[k].steps_above) * dt_h,
                }
            })
            .collect()
    }

    fn bus_results(&self, dt_h: f64) -> Vec<BusResult> {
        self.buses
            .iter()
            .filter_map(|b| {
                let seen = b.nodes.clone().filter(|&k| self.seen_node(k));
                let ((lo, lo_h, lo_k), (hi, hi_h, hi_k)) = self.extremes_among(seen)?;
                let first = b.nodes.start;
                let vuf = b
                    .vuf
                    .map(|u| (self.vuf.max2(u), self.vuf.steps_above(u)))
                    .filter(|((max2, _), _)| max2.is_finite());
                Some(BusResult {
                    bus: self.nodes[first].0.clone(),
                    vbase_ln_kv: self.nodes[first].3 / 1000.0,
                    voltage_class: self.class[b.nodes.clone()]
                        .iter()
                        .copied()
                        .min()
                        .unwrap_or(VoltageClass::ThreePhaseUpTo20kV),
                    vmin_pu: lo,
                    vmin_node: self.name(lo_k),
                    vmin_hour_h: lo_h,
                    vmax_pu: hi,
                    vmax_node: self.name(hi_k),
                    vmax_hour_h: hi_h,
                    below_band_h: f64::from(b.steps_below) * dt_h,
                    above_band_h: f64::from(b.steps_above) * dt_h,
                    vuf_max_pct: vuf.map(|((max2, _), _)| 100.0 * max2.sqrt()),
                    vuf_max_hour_h: vuf.map(|((_, hour), _)| hour),
                    above_vuf_limit_h: vuf.map(|(_, steps)| f64::from(steps) * dt_h),
                })
            })
            .collect()
    }
}

/// Per line and transformer over the run: peak loading against the rating, time above 100 %
/// and above the trip threshold, trip-risk episodes, energy through terminal 1, losses.
#[derive(Debug, Clone)]
struct ElementStats {
    /// `(trip_pct / 100)²`.
    trip2: f64,
    rule: EpisodeRule,
    elements: Vec<Element>,
    /// Finished trip-risk episodes.
    episodes: Vec<TripRisk>,
    /// Work space: conductor voltages and currents of one branch (more than 8 conductors).
    work_v: Vec<C64>,
    work_i: Vec<C64>,
    /// Lines evaluated side by side, one batch per conductor count and shunt (see
    /// [`line_batch`]).
    batches: Vec<LineBatch>,
    /// `[batch][slot]`: the element of each line of a batch.
    slots: Vec<Vec<usize>>,
    /// The elements outside the batches.
    unbatched: Vec<usize>,
    /// Work space: `(batch, slot)` of the lines a batch handed on at this step.
    loud: Vec<(usize, usize)>,
}

/// When a stretch above the threshold is a trip-risk episode.
#[derive(Debug, Clone, Copy)]
struct EpisodeRule {
    /// Shortest episode, steps (at least 1).
    min_steps: u32,
    dt_h: f64,
    /// `trip_pct / 100`.
    trip_frac: f64,
}

/// A protective device's pickup watching one terminal of an element.
#[derive(Debug, Clone)]
struct Pickup {
    /// `Fuse.f12`.
    device: String,
    /// 0-based monitored terminal.
    terminal: usize,
    pickup_a: f64,
}

/// An episode above the trip threshold going on.
#[derive(Debug, Clone, Copy)]
struct Run {
    steps: u32,
    start_hour: f64,
    end_hour: f64,
    /// Peak `(|I| / reference)²`, its current, its reference current and hour.
    peak2: f64,
    peak_i_a: f64,
    reference_a: f64,
    peak_hour: f64,
}

#[derive(Debug, Clone)]
struct Element {
    name: String,
    /// Branch index in the system.
    branch: usize,
    /// A line's `Yprim` in terminal-symmetric form, when it has one (see [`SymmetricPrim`]).
    symmetric: Option<SymmetricPrim>,
    /// Its grounded conductors, when it has some and no symmetric form (see [`Grounded`]).
    grounded: Option<Grounded>,
    /// Evaluated in a [`LineBatch`] (a symmetric line of 1 to 4 conductors per terminal, all
    /// on nodes, both terminals rated alike, no protective device): `(batch, slot)`.
    batched: Option<(usize, usize)>,
    /// `1 / rated current²` of each terminal, 1/A² (0 when the terminal has no rating).
    inv_rated2: Vec<f64>,
    /// Rated current of each terminal, A.
    rated_a: Vec<f64>,
    /// The first positive rating, A (NaN when unrated).
    first_rated_a: f64,
    /// Some terminal has a rating ([`Element::rated`]).
    is_rated: bool,
    /// The device whose pickup is the trip reference, when one monitors the element.
    pickup: Option<Pickup>,
    /// Phase conductors per terminal whose current counts.
    phases: usize,
    /// Loadings `(|I|/I_rated)²` at or below this change nothing but the energy and losses:
    /// `min(1, (trip_pct/100)², peak2)` while no stretch above the trip threshold and no
    /// episode is going on and the element's trip reference is its rating, else −∞.
    quiet2: f64,
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
    /// The episode above the trip threshold (of the trip reference) going on.
    episode: Option<Run>,
    episodes: usize,
    episode_steps: u64,
    /// ∫|P at terminal 1| dt and ∫ losses dt, kWh.
    through_kwh: f64,
    losses_kwh: f64,
}

impl Element {
    /// An element of branch `branch` with the ratings `rated_a` of its terminals (A; a
    /// terminal without one: 0 or NaN), before any step.
    fn new(
        name: String,
        branch: usize,
        symmetric: Option<SymmetricPrim>,
        rated_a: Vec<f64>,
        pickup: Option<Pickup>,
        phases: usize,
    ) -> Element {
        let ok = |r: &f64| r.is_finite() && *r > 0.0;
        let inv_rated2: Vec<f64> = rated_a
            .iter()
            .map(|r| if ok(r) { 1.0 / (r * r) } else { 0.0 })
            .collect();
        Element {
            name,
            branch,
            symmetric,
            grounded: None,
            batched: None,
            is_rated: inv_rated2.iter().any(|r| *r > 0.0),
            inv_rated2,
            first_rated_a: rated_a.iter().copied().find(ok).unwrap_or(f64::NAN),
            rated_a,
            pickup,
            phases,
            quiet2: f64::NEG_INFINITY,
            peak2: 0.0,
            peak_i_a: 0.0,
            peak_rated_a: f64::NAN,
            peak_hour: f64::NAN,
            steps_over_100: 0,
            steps_over_trip: 0,
            trip_run: (0, f64::NAN),
            longest_trip_run: (0, f64::NAN),
            episode: None,
            episodes: 0,
            episode_steps: 0,
            through_kwh: 0.0,
            losses_kwh: 0.0,
        }
    }

    fn rated(&self) -> bool {
        self.is_rated
    }

    fn reference_name(&self) -> String {
        match &self.pickup {
            Some(p) => p.device.clone(),
            None => "rating".to_string(),
        }
    }
}

/// A two-terminal `Yprim = [[A, B], [B, A]]` (a line: series admittance and equal shunt halves
/// at both ends) as `S = (A + B)/2` and `D = (A − B)/2`, so that the branch currents are
/// `I₁ = S·(V₁ + V₂) + D·(V₁ − V₂)` and `I₂ = S·(V₁ + V₂) − D·(V₁ − V₂)`: half the products of
/// `Yprim·V` (a quarter without shunt admittance, `S = 0`), and the series current from the
/// voltage difference rather than from two large opposite terms.
#[derive(Debug, Clone)]
struct SymmetricPrim {
    /// Conductors per terminal.
    c: usize,
    s: Vec<C64>,
    d: Vec<C64>,
    /// `S` is zero: no shunt admittance.
    s_zero: bool,
}

impl SymmetricPrim {
    /// The form of `y` (row-major, `2c × 2c`), when its blocks are exactly symmetric.
    fn of(y: &[C64], c: usize) -> Option<SymmetricPrim> {
        let m = 2 * c;
        if c == 0 || y.len() != m * m {
            return None;
        }
        let at = |i: usize, j: usize| y[i * m + j];
        let mut s = Vec::with_capacity(c * c);
        let mut d = Vec::with_capacity(c * c);
        for i in 0..c {
            for j in 0..c {
                let (a, b) = (at(i, j), at(i, j + c));
                if at(i + c, j + c) != a || at(i + c, j) != b {
                    return None;
                }
                s.push((a + b) * 0.5);
                d.push((a - b) * 0.5);
            }
        }
        let s_zero = s.iter().all(|x| *x == C64::new(0.0, 0.0));
        Some(SymmetricPrim { c, s, d, s_zero })
    }

    /// The currents into the `2c` conductors at voltages `v`, into `i` (both `2c` entries,
    /// `c ≤ 4`); loops of fixed length for 1, 3 and 4 conductors per terminal.
    #[inline]
    fn currents(&self, v: &[C64], i: &mut [C64]) {
        match self.c {
            1 => self.currents_of::<1>(v, i),
            3 => self.currents_of::<3>(v, i),
            4 => self.currents_of::<4>(v, i),
            _ => self.currents_any(v, i),
        }
    }

    #[inline(always)]
    fn currents_of<const C: usize>(&self, v: &[C64], i: &mut [C64]) {
        let zero = C64::new(0.0, 0.0);
        let (v, i) = (&v[..2 * C], &mut i[..2 * C]);
        let (d, s) = (&self.d[..C * C], &self.s[..C * C]);
        let (mut sum, mut diff) = ([zero; C], [zero; C]);
        for j in 0..C {
            sum[j] = v[j] + v[j + C];
            diff[j] = v[j] - v[j + C];
        }
        for k in 0..C {
            let mut q = zero;
            for j in 0..C {
                q += d[k * C + j] * diff[j];
            }
            let mut p = zero;
            if !self.s_zero {
                for j in 0..C {
                    p += s[k * C + j] * sum[j];
                }
            }
            i[k] = p + q;
            i[k + C] = p - q;
        }
    }

    fn currents_any(&self, v: &[C64], i: &mut [C64]) {
        let c = self.c;
        let zero = C64::new(0.0, 0.0);
        let (mut sum, mut diff) = ([zero; 4], [zero; 4]);
        let (v1, v2) = v.split_at(c);
        for (((s, d), a), b) in sum.iter_mut().zip(diff.iter_mut()).zip(v1).zip(v2) {
            *s = a + b;
            *d = a - b;
        }
        let (sum, diff) = (&sum[..c], &diff[..c]);
        let (i1, i2) = i.split_at_mut(c);
        for (((x1, x2), d_row), s_row) in i1
            .iter_mut()
            .zip(i2.iter_mut())
            .zip(self.d.chunks_exact(c))
            .zip(self.s.chunks_exact(c))
        {
            let q: C64 = d_row.iter().zip(diff).map(|(a, b)| a * b).sum();
            let p: C64 = if self.s_zero {
                zero
            } else {
                s_row.iter().zip(sum).map(|(a, b)| a * b).sum()
            };
            *x1 = p + q;
            *x2 = p - q;
        }
    }
}

/// The pickup of each monitored element: the lowest of the enabled devices whose pickup the
/// script sets (OpenDSS `Fuse.RatedCurrent`, `Recloser.PhaseTrip`, `Relay.PhaseTrip`).
fn pickups(net: &Network) -> std::collections::HashMap<String, Pickup> {
    let mut out: std::collections::HashMap<String, Pickup> = std::collections::HashMap::new();
    for d in &net.protective_devices {
        let (Some(el), Some(a)) = (&d.monitored, d.pickup_a) else {
            continue;
        };
        if !(d.enabled && a.is_finite() && a > 0.0) {
            continue;
        }
        let p = Pickup {
            device: format!("{}.{}", d.kind.dss_class(), d.name),
            terminal: d.monitored_terminal.max(1) - 1,
            pickup_a: a,
        };
        let key = el.to_string().to_ascii_lowercase();
        match out.get(&key) {
            Some(q) if q.pickup_a <= a => {}
            _ => {
                out.insert(key, p);
            }
        }
    }
    out
}

impl ElementStats {
    fn new(sys: &System, net: &Network, options: &StudyOptions) -> ElementStats {
        let dt_h = net.settings.step_size_s / 3600.0;
        let mut devices = pickups(net);
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
            let name = br.id.to_string();
            // lines keep their Yprim through a run (taps and capacitor steps change others')
            let symmetric = match br.id.kind {
                ElementKind::Line => {
                    SymmetricPrim::of(br.prim.y.as_slice(), br.prim.conductors_per_terminal)
                        .filter(|_| br.nodes.len() == 2 * br.prim.conductors_per_terminal)
                }
                _ => None,
            };
            let pickup = devices.remove(&name.to_ascii_lowercase());
            let phases = phases.min(br.prim.conductors_per_terminal);
            let grounded = match symmetric {
                None => Grounded::of(&br.nodes, br.prim.conductors_per_terminal, phases),
                Some(_) => None,
            };
            let mut e = Element::new(name, b, symmetric, rated, pickup, phases);
            e.grounded = grounded;
            elements.push(e);
        }
        let min_steps = if dt_h > 0.0 {
            // a hair below a whole number of steps counts as that number (0.5 h / 0.25 h = 2)
            ((options.trip_min_h / dt_h) - 1e-9).ceil().max(1.0)
        } else {
            1.0
        };
        let batches = Self::batch_lines(sys, &mut elements);
        let mut slots: Vec<Vec<usize>> = vec![Vec::new(); batches.len()];
        for (k, e) in elements.iter().enumerate() {
            if let Some((b, slot)) = e.batched {
                let s = &mut slots[b];
                if s.len() <= slot {
                    s.resize(slot + 1, usize::MAX);
                }
                s[slot] = k;
            }
        }
        let unbatched = (0..elements.len())
            .filter(|&k| elements[k].batched.is_none())
            .collect();
        ElementStats {
            batches,
            slots,
            unbatched,
            loud: Vec::new(),
            trip2: (options.trip_pct / 100.0).powi(2),
            rule: EpisodeRule {
                min_steps: min_steps.min(f64::from(u32::MAX)) as u32,
                dt_h,
                trip_frac: options.trip_pct / 100.0,
            },
            elements,
            episodes: Vec::new(),
            work_v: Vec::new(),
            work_i: Vec::new(),
        }
    }

    /// Put the lines that can be evaluated side by side into batches, one per conductor count,
    /// and mark them.
    fn batch_lines(sys: &System, elements: &mut [Element]) -> Vec<LineBatch> {
        let mut specs = Vec::new();
        for (k, e) in elements.iter_mut().enumerate() {
            let Some(sym) = e.symmetric.as_ref() else {
                continue;
            };
            let br = &sys.net.branches[e.branch];
            let c = sym.c;
            let nodes: Option<Vec<usize>> = br.nodes.iter().copied().collect();
            let rated_alike = e.inv_rated2.len() == 2
                && e.inv_rated2[0].to_bits() == e.inv_rated2[1].to_bits()
                && e.rated_a.len() == 2
                && e.rated_a[0].to_bits() == e.rated_a[1].to_bits();
            let (Some(nodes), true) = (nodes, rated_alike) else {
                continue;
            };
            if !(1..=4).contains(&c)
                || e.phases != c
                || e.pickup.is_some()
                || nodes.len() != 2 * c
                || br.prim.y.as_slice().len() != 4 * c * c
            {
                continue;
            }
            specs.push(LineSpec {
                element: k,
                nodes,
                s: sym.s.clone(),
                d: sym.d.clone(),
                s_zero: sym.s_zero,
                inv_rated2: e.inv_rated2[0],
                rated_a: e.rated_a[0],
                first_rated_a: e.first_rated_a,
            });
        }
        let (batches, places) = LineBatch::of(&specs);
        for (k, b, slot) in places {
            elements[k].batched = Some((b, slot));
        }
        batches
    }

    /// Count one step; true when some element was above 100 % of its rating.
    ///
    /// The batched lines are counted by their batches (energies, and the quiet test against
    /// the bound each line's batch keeps for it); only the lines a batch hands on (loading
    /// above the bound) come back here, and then in the same way as the other elements.
    fn add(&mut self, sys: &System, bounded: bool, hour: f64, dt_h: f64) -> bool {
        let v = sys.voltages();
        // watts over the step to kWh: a product per element, not a division
        let kwh_per_w = dt_h / 1000.0;
        let mut loud = std::mem::take(&mut self.loud);
        loud.clear();
        for (b, batch) in self.batches.iter_mut().enumerate() {
            batch.evaluate(v, bounded, kwh_per_w, |slot| loud.push((b, slot)));
        }
        let mut any_over = false;
        for u in 0..self.unbatched.len() {
            let k = self.unbatched[u];
            let e = &mut self.elements[k];
            let Some((loss_w, p1_w, worst, reference)) =
                branch_step(e, sys, &mut self.work_v, &mut self.work_i)
            else {
                continue;
            };
            e.losses_kwh += loss_w * kwh_per_w;
            e.through_kwh += p1_w.abs() * kwh_per_w;
            if worst.0 <= e.quiet2 {
                continue;
            }
            any_over |= self.count(k, worst, reference, hour);
        }
        for &(b, slot) in &loud {
            let batch = &self.batches[b];
            let k = self.slots[b][slot];
            let o = batch.result(slot);
            // no protective device on a batched line: the rating is the reference
            let reference = self.elements[k].is_rated.then_some(o.worst);
            any_over |= self.count(k, o.worst, reference, hour);
            self.batches[b].set_quiet2(slot, self.elements[k].quiet2);
        }
        self.loud = loud;
        any_over
    }

    /// Count a step of element `k` whose loading `worst` is outside its quiet range (the
    /// energies counted); true when it is above 100 % of its rating.
    fn count(&mut self, k: usize, worst: Loading2, reference: Option<Loading2>, hour: f64) -> bool {
        let trip2 = self.trip2;
        let e = &mut self.elements[k];
        let over = worst.0 > 1.0;
        if over {
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
        if let Some((r2, i2, ref_a)) = reference {
            let above = r2 > trip2;
            // below the threshold with no episode going on: nothing to track
            if above || e.episode.is_some() {
                self.rule
                    .track(e, above, (r2, i2, ref_a), hour, &mut self.episodes);
            }
        }
        e.quiet2 = if e.pickup.is_none()
            && e.trip_run.0 == 0
            && e.episode.is_none()
            && !e.peak_hour.is_nan()
        {
            1f64.min(trip2).min(e.peak2)
        } else {
            f64::NEG_INFINITY
        };
        over
    }

    fn results(mut self, dt_h: f64) -> (Vec<ElementResult>, Vec<TripRisk>) {
        // the batched lines' energies were summed in their batches
        for e in &mut self.elements {
            if let Some((b, slot)) = e.batched {
                (e.losses_kwh, e.through_kwh) = self.batches[b].energies_kwh(slot);
            }
        }
        // close the episodes still going on at the end of the run
        for e in &mut self.elements {
            self.rule
                .track(e, false, (0.0, 0.0, f64::NAN), f64::NAN, &mut self.episodes);
        }
        let elements = self
            .elements
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
                    trip_reference: e.reference_name(),
                    trip_reference_a: match &e.pickup {
                        Some(p) => Some(p.pickup_a),
                        None => rated.then_some(e.peak_rated_a),
                    },
                    trip_risk_episodes: e.episodes,
                    trip_risk_h: e.episode_steps as f64 * dt_h,
                    energy_through_kwh: e.through_kwh,
                    losses_kwh: e.losses_kwh,
                }
            })
            .collect();
        let mut episodes = self.episodes;
        episodes.sort_by(|a, b| {
            a.start_hour_h
                .total_cmp(&b.start_hour_h)
                .then_with(|| a.element.cmp(&b.element))
        });
        (elements, episodes)
    }
}

/// `(|I|²/I_ref², |I|², I_ref A)`: a loading, squared.
type Loading2 = (f64, f64, f64);

/// Elements of up to this many conductors are evaluated on stack arrays.
const SMALL: usize = 8;

/// The grounded conductors of an element outside the batches (a wye winding's neutral on node
/// 0: no node, voltage zero), which shorten its `Yprim·V` (a regulator's single-phase
/// transformer: 4 of 16 products; a three-phase wye–wye one: 36 of 64).
///
/// A grounded conductor's column is left out of every row: its products `y·0` are `±0` when
/// `y` is finite, and adding `±0` to a sum that started from `+0` (so is never `−0`) leaves it
/// as it is. A grounded conductor's row is left out too (its current taken as zero) when it is
/// not a phase conductor, so that its current counts only in `Σ V·conj(I)`, where `0·conj(I)`
/// is `±0` for any finite `I`. Both hold when the entries of `Yprim` and the voltages are
/// finite and no product or sum overflows; the step checks a bound of them (the sum of their
/// magnitudes at most 10¹⁵⁰, so every product is below 10³⁰¹; over the whole `Yprim`, which
/// costs less than picking the rows and columns that matter) and takes the whole product when
/// it fails. The currents are then bit for bit the dense ones.
#[derive(Debug, Clone)]
struct Grounded {
    /// Conductors with a node: `(conductor, system node)`.
    live: Vec<(usize, usize)>,
    /// The rows formed: all but the grounded conductors that are not phase conductors.
    rows: Vec<usize>,
    /// A bit per conductor on a node (`1 << conductor`).
    on_node: u32,
}

impl Grounded {
    /// The magnitude bound of the entries and voltages (see the type's docs).
    const BOUND: f64 = 1e150;

    /// The grounded conductors of an element on `nodes` (`c` conductors per terminal, the
    /// first `phases` of each are phase conductors); `None` when it has none or more than
    /// [`SMALL`] conductors.
    fn of(nodes: &[Option<usize>], c: usize, phases: usize) -> Option<Grounded> {
        let m = nodes.len();
        if m > SMALL || c == 0 || nodes.iter().all(Option::is_some) {
            return None;
        }
        let left_out = |k: usize| nodes[k].is_none() && k % c >= phases;
        Some(Grounded {
            live: (0..m).filter_map(|j| nodes[j].map(|n| (j, n))).collect(),
            rows: (0..m).filter(|&k| !left_out(k)).collect(),
            on_node: (0..m)
                .filter(|&j| nodes[j].is_some())
                .fold(0, |bits, j| bits | 1 << j),
        })
    }

    /// The conductor voltages into `vs` and the currents into `is` (both zero on entry, `m`
    /// long) from node voltages `v` and `Yprim` `y` (`m × m`), left-out rows zero; false
    /// (with `vs` partly written) when the bound does not hold.
    #[inline]
    fn currents(&self, v: &[C64], y: &[C64], vs: &mut [C64], is: &mut [C64]) -> bool {
        let m = vs.len();
        // Σ |re| and Σ |im| side by side
        let mut size = L::ZERO;
        let abs = |x: C64| L([x.re, x.im]).abs();
        for &(j, n) in &self.live {
            let x = v[n];
            vs[j] = x;
            size = size + abs(x);
        }
        for &x in y {
            size = size + abs(x);
        }
        // false on NaN and on an infinite size
        let small = size.0.iter().sum::<f64>() <= Self::BOUND;
        if !small {
            return false;
        }
        match m {
            4 => self.rows_of::<4>(y, vs, is),
            8 => self.rows_of::<8>(y, vs, is),
            _ => {
                for &k in &self.rows {
                    let row = &y[k * m..(k + 1) * m];
                    // as `row·vs` summed from zero, without the grounded columns
                    let mut sum = C64::new(0.0, 0.0);
                    for &(j, _) in &self.live {
                        sum += row[j] * vs[j];
                    }
                    is[k] = sum;
                }
            }
        }
        true
    }

    /// The rows of `M` conductors, in loops of fixed length (a single-phase winding pair
    /// with neutrals has 4, a three-phase one 8).
    #[inline(always)]
    fn rows_of<const M: usize>(&self, y: &[C64], vs: &[C64], is: &mut [C64]) {
        let zero = C64::new(0.0, 0.0);
        let mut v = [zero; M];
        v.copy_from_slice(&vs[..M]);
        for &k in &self.rows {
            let mut row = [zero; M];
            row.copy_from_slice(&y[k * M..(k + 1) * M]);
            // as `row·vs` summed from zero, without the grounded columns
            let mut sum = zero;
            for j in 0..M {
                if self.on_node & (1 << j) != 0 {
                    sum += row[j] * v[j];
                }
            }
            is[k] = sum;
        }
    }
}

/// One element's step from its `Yprim·V` (elements outside the line batches):
/// `(losses W, power into terminal 1 W, worst loading, trip reference loading)`; `None` when
/// its `Yprim` does not match its nodes.
fn branch_step(
    e: &Element,
    sys: &System,
    work_v: &mut Vec<C64>,
    work_i: &mut Vec<C64>,
) -> Option<(f64, f64, Loading2, Option<Loading2>)> {
    let v = sys.voltages();
    let zero = C64::new(0.0, 0.0);
    let (mut v_small, mut i_small) = ([zero; SMALL], [zero; SMALL]);
    let br = &sys.net.branches[e.branch];
    let m = br.nodes.len();
    let y = br.prim.y.as_slice();
    if y.len() != m * m {
        return None;
    }
    let (vs, is): (&[C64], &[C64]) = if m <= SMALL {
        let (vs, is) = (&mut v_small[..m], &mut i_small[..m]);
        let shorter = e
            .grounded
            .as_ref()
            .is_some_and(|g| g.currents(v, y, vs, is));
        if !shorter {
            for (x, n) in vs.iter_mut().zip(&br.nodes) {
                *x = n.map_or(zero, |i| v[i]);
            }
            match &e.symmetric {
                Some(sym) if m <= 2 * 4 => sym.currents(vs, is),
                _ => {
                    for (x, row) in is.iter_mut().zip(y.chunks_exact(m)) {
                        *x = row.iter().zip(vs.iter()).map(|(a, b)| a * b).sum();
                    }
                }
            }
        }
        (vs, is)
    } else {
        work_v.clear();
        work_v.extend(br.nodes.iter().map(|n| n.map_or(zero, |i| v[i])));
        work_i.clear();
        work_i.extend(y.chunks_exact(m).map(|row| {
            row.iter()
                .zip(work_v.iter())
                .map(|(a, b)| a * b)
                .sum::<C64>()
        }));
        (work_v, work_i)
    };
    let c = br.prim.conductors_per_terminal;
    // losses: Σ V·conj(I) over all conductors; power into terminal 1
    let mut loss = zero;
    let mut p1 = 0.0;
    for (k, (vk, ik)) in vs.iter().zip(is).enumerate() {
        let s = vk * ik.conj();
        loss += s;
        if k < c {
            p1 += s.re;
        }
    }
    // loading: largest |I|²/I_rated² over phase conductors of rated terminals (with no
    // current at all, the first rated terminal's rating stands for the element's)
    let mut worst = (0.0, 0.0, e.first_rated_a);
    for (t, (&inv2, &rated)) in e.inv_rated2.iter().zip(&e.rated_a).enumerate() {
        if inv2 <= 0.0 {
            continue;
        }
        for k in 0..e.phases {
            let i2 = is.get(t * c + k).map_or(0.0, |x| x.norm_sqr());
            if i2 * inv2 > worst.0 {
                worst = (i2 * inv2, i2, rated);
            }
        }
    }
    // trip risk: against the device's pickup at its terminal, else the rating
    let reference = match &e.pickup {
        Some(p) => {
            let i2 = (0..e.phases)
                .filter_map(|k| is.get(p.terminal * c + k))
                .map(|x| x.norm_sqr())
                .fold(0.0, f64::max);
            Some((i2 / (p.pickup_a * p.pickup_a), i2, p.pickup_a))
        }
        None => e.is_rated.then_some(worst),
    };
    Some((loss.re, p1, worst, reference))
}

impl EpisodeRule {
    /// One step of an element's trip-risk episode: extend it while `above`, else close it
    /// (kept when it lasted `min_steps` or more). `now` is `((|I|/ref)², |I|², ref A)`.
    fn track(
        &self,
        e: &mut Element,
        above: bool,
        now: (f64, f64, f64),
        hour: f64,
        out: &mut Vec<TripRisk>,
    ) {
        if above {
            let run = e.episode.get_or_insert(Run {
                steps: 0,
                start_hour: hour,
                end_hour: hour,
                peak2: f64::NEG_INFINITY,
                peak_i_a: 0.0,
                reference_a: f64::NAN,
                peak_hour: hour,
            });
            run.steps += 1;
            run.end_hour = hour;
            if now.0 > run.peak2 {
                run.peak2 = now.0;
                run.peak_i_a = now.1.sqrt();
                run.reference_a = now.2;
                run.peak_hour = hour;
            }
            return;
        }
        let Some(run) = e.episode.take() else {
            return;
        };
        if run.steps < self.min_steps {
            return;
        }
        e.episodes += 1;
        e.episode_steps += u64::from(run.steps);
        out.push(TripRisk {
            element: e.name.clone(),
            reference: e.reference_name(),
            reference_a: run.reference_a,
            threshold_a: self.trip_frac * run.reference_a,
            start_hour_h: run.start_hour,
            end_hour_h: run.end_hour,
            duration_h: f64::from(run.steps) * self.dt_h,
            peak_loading_pct: 100.0 * run.peak2.sqrt(),
            peak_i_a: run.peak_i_a,
            peak_hour_h: run.peak_hour,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vgrid_dss::{ReadOptions, Reader};

    fn read(script: &str) -> Network {
        let mut r = Reader::new(ReadOptions::default());
        r.run_text(script, "t.dss", std::path::Path::new("."), &mut |_, _| {
            Ok(())
        })
        .unwrap();
        r.into_network()
    }

    /// 35 kV source, a 35/10 kV and a 10/0.4 kV transformer, an LV cable box `lv` with a
    /// single-phase home on phase 1 and a three-phase shop, and a service drop to house `h`.
    const GRID: &str = "
        Clear
        New Circuit.g basekv=35 bus1=src pu=1.0
        New Transformer.t35 phases=3 windings=2 buses=[src mv] conns=[delta wye] kvs=[35 10] kvas=[5000 5000] xhl=6
        New Transformer.t10 phases=3 windings=2 buses=[mv lv] conns=[delta wye] kvs=[10 0.4] kvas=[400 400] xhl=4
        New Line.svc bus1=lv.2 bus2=h.1 phases=1 r1=0.5 x1=0.1 r0=0.5 x0=0.1 length=0.05 units=km normamps=60
        New Loadshape.s npts=4 interval=1 mult=[0.5 1.0 0.25 0.75]
        New Load.home bus1=lv.1 phases=1 kV=0.23 kW=5 kvar=1 yearly=s
        New Load.house bus1=h.1 phases=1 kV=0.23 kW=8 kvar=2 yearly=s
        New Load.shop bus1=lv kV=0.4 kW=60 kvar=20 yearly=s
        Set voltagebases=[35 10 0.4]
        Calcvoltagebases
        Set mode=yearly number=8 stepsize=1h
    ";

    fn run(net: &Network, options: &StudyOptions) -> StudyResults {
        let mut sim = Simulation::new(net).unwrap();
        let mut study = Study::new(&sim, net, options);
        for _ in 0..net.settings.number {
            let r = sim.step().unwrap().clone();
            study.add_step(&sim, &r);
        }
        study.finish()
    }

    #[test]
    fn bands_parse_and_pick_limits_by_class() {
        use VoltageClass::*;
        let gb: VoltageBand = "GBT12325".parse().unwrap();
        assert_eq!(gb, VoltageBand::Gbt12325);
        assert_eq!("gb/t 12325".parse::<VoltageBand>().unwrap(), gb);
        assert_eq!(gb.limits_pu(SinglePhaseLv), (0.90, 1.07));
        assert_eq!(gb.limits_pu(ThreePhaseUpTo20kV), (0.93, 1.07));
        assert_eq!(gb.limits_pu(Above20kV), (0.90, 1.10));
        let en: VoltageBand = "en50160".parse().unwrap();
        for c in VoltageClass::ALL {
            assert_eq!(en.limits_pu(c), (0.90, 1.10));
        }
        let f: VoltageBand = " 0.95 , 1.05 ".parse().unwrap();
        assert_eq!(f.limits_pu(SinglePhaseLv), (0.95, 1.05));
        for bad in ["", "1.05,0.95", "0,1", "x,1", "0.9", "IEEE1547"] {
            assert!(bad.parse::<VoltageBand>().is_err(), "{bad}");
        }
        // class boundaries, line-to-neutral bases
        let ln = |kv_ll: f64| kv_ll / 3f64.sqrt();
        assert_eq!(voltage_class(ln(0.4), 3, false), ThreePhaseUpTo20kV);
        assert_eq!(voltage_class(ln(0.4), 3, true), SinglePhaseLv);
        assert_eq!(voltage_class(ln(0.4), 1, false), SinglePhaseLv);
        assert_eq!(voltage_class(ln(10.0), 1, true), ThreePhaseUpTo20kV);
        assert_eq!(voltage_class(ln(20.0), 3, false), ThreePhaseUpTo20kV);
        assert_eq!(voltage_class(ln(35.0), 3, false), Above20kV);
    }

    #[test]
    fn each_node_is_judged_by_its_class() {
        let net = read(GRID);
        let r = run(&net, &StudyOptions::default());
        let class = |bus: &str, node: u32| {
            r.nodes
                .iter()
                .find(|n| n.bus == bus && n.node == node)
                .map(|n| (n.voltage_class, n.band_low_pu, n.band_high_pu))
                .unwrap()
        };
        use VoltageClass::*;
        assert_eq!(class("src", 1), (Above20kV, 0.90, 1.10));
        assert_eq!(class("mv", 2), (ThreePhaseUpTo20kV, 0.93, 1.07));
        // the home on lv.1: single-phase; lv.2 feeds the service line, not a load: three-phase
        assert_eq!(class("lv", 1), (SinglePhaseLv, 0.90, 1.07));
        assert_eq!(class("lv", 2), (ThreePhaseUpTo20kV, 0.93, 1.07));
        assert_eq!(class("h", 1), (SinglePhaseLv, 0.90, 1.07));
        let lv = r.buses.iter().find(|b| b.bus == "lv").unwrap();
        assert_eq!(lv.voltage_class, SinglePhaseLv);
        // the bus's extremes are its nodes'
        let lv_nodes: Vec<&NodeResult> = r.nodes.iter().filter(|n| n.bus == "lv").collect();
        let lo = lv_nodes
            .iter()
            .map(|n| n.vmin_pu)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(lv.vmin_pu, lo);
        assert!(lv.vmin_node.starts_with("lv."));

        // a band whose low edge lies between the house's two lowest voltages of the 4-hour
        // cycle: exactly the two steps (one per cycle) at the lowest are below
        let mut sim = Simulation::new(&net).unwrap();
        let mut v_h = Vec::new();
        for _ in 0..net.settings.number {
            let hour = sim.step().unwrap().hour;
            let (_, _, v) = sim
                .node_voltages_pu()
                .find(|(b, n, _)| *b == "h" && *n == 1)
                .unwrap();
            v_h.push((v, hour));
        }
        let mut sorted: Vec<f64> = v_h.iter().map(|x| x.0).collect();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[0] - sorted[1]).abs() < 1e-9 && sorted[2] - sorted[1] > 1e-4);
        let low = 0.5 * (sorted[1] + sorted[2]);
        let r = run(
            &net,
            &StudyOptions {
                band: VoltageBand::Fixed {
                    low_pu: low,
                    high_pu: 2.0,
                },
                ..StudyOptions::default()
            },
        );
        let h = r.nodes.iter().find(|n| n.bus == "h").unwrap();
        assert_eq!(h.below_band_h, 2.0, "{h:?}");
        assert!((h.vmin_pu - sorted[0]).abs() < 1e-9);
        // the two lowest steps are equal to ~1e-12: either may be the minimum's hour
        let at_min = v_h.iter().find(|x| x.1 == h.vmin_hour_h).unwrap();
        assert!((at_min.0 - sorted[0]).abs() < 1e-9);
        let hb = r.buses.iter().find(|b| b.bus == "h").unwrap();
        assert_eq!(hb.below_band_h, 2.0);
        assert_eq!(r.totals.steps, 8);
    }
    #[test]
    fn unbalance_factor_of_known_sets() {
        let a = C64::from_polar(1.0, 120f64.to_radians());
        // balanced: 0; negative sequence only: NaN-free and huge; zero sequence added: unchanged
        let bal = [C64::new(1.0, 0.0), a * a, a];
        assert!(voltage_unbalance_pct(bal) < 1e-12);
        // V1 = 1, V2 = 0.02∠30°: Va = V1 + V2, Vb = a²V1 + aV2, Vc = aV1 + a²V2
        let v2 = C64::from_polar(0.02, 30f64.to_radians());
        let set = [C64::new(1.0, 0.0) + v2, a * a + a * v2, a + a * a * v2];
        assert!((voltage_unbalance_pct(set) - 2.0).abs() < 1e-12);
        let v0 = C64::new(0.3, -0.1);
        let shifted = set.map(|v| v + v0);
        assert!((voltage_unbalance_pct(shifted) - 2.0).abs() < 1e-12);
        // phase 3 ten per cent low: 0.1 / 2.9
        let low_c = [C64::new(1.0, 0.0), a * a, 0.9 * a];
        assert!((voltage_unbalance_pct(low_c) - 100.0 / 29.0).abs() < 1e-12);
        assert!(voltage_unbalance_pct([C64::new(0.0, 0.0); 3]).is_nan());
    }

    #[test]
    fn each_three_phase_bus_gets_its_unbalance() {
        let net = read(GRID);
        // the single-phase home and house unbalance the LV bus; limit between the hours
        let mut sim = Simulation::new(&net).unwrap();
        let mut vuf_lv = Vec::new();
        for _ in 0..net.settings.number {
            let hour = sim.step().unwrap().hour;
            let ph = [1, 2, 3].map(|n| sim.system().node_voltage("lv", n).unwrap());
            vuf_lv.push((voltage_unbalance_pct(ph), hour));
        }
        let max = vuf_lv.iter().map(|x| x.0).fold(0.0, f64::max);
        let min = vuf_lv.iter().map(|x| x.0).fold(f64::INFINITY, f64::min);
        assert!(max > min && min > 0.0, "{vuf_lv:?}");
        let limit = 0.5 * (max + min);
        let above = vuf_lv.iter().filter(|x| x.0 > limit).count();
        let r = run(
            &net,
            &StudyOptions {
                vuf_limit_pct: limit,
                ..StudyOptions::default()
            },
        );
        let lv = r.buses.iter().find(|b| b.bus == "lv").unwrap();
        assert!((lv.vuf_max_pct.unwrap() - max).abs() < 1e-9, "{lv:?}");
        let at = vuf_lv
            .iter()
            .find(|x| x.1 == lv.vuf_max_hour_h.unwrap())
            .unwrap();
        assert!((at.0 - max).abs() < 1e-9);
        assert_eq!(lv.above_vuf_limit_h, Some(above as f64));
        // the house's one-phase bus has none
        let h = r.buses.iter().find(|b| b.bus == "h").unwrap();
        assert_eq!((h.vuf_max_pct, h.above_vuf_limit_h), (None, None));
        assert_eq!(r.worst_unbalance().map(|b| b.bus.as_str()), Some("lv"));
        assert_eq!(r.buses_above_vuf_limit().len(), 1);
    }
    /// A bare element for the episode rule.
    fn element(name: &str) -> Element {
        Element::new(name.into(), 0, None, vec![100.0], None, 3)
    }

    #[test]
    fn grounded_conductors_shorten_the_product_to_the_same_bits() {
        // a single-phase wye–wye winding pair (phase, neutral on ground at both terminals) and
        // a three-phase one (three phases and a grounded neutral per terminal)
        for (nodes, c, phases) in [
            (vec![Some(0), None, Some(1), None], 2, 1),
            (
                vec![
                    Some(2),
                    Some(3),
                    Some(4),
                    None,
                    Some(5),
                    Some(6),
                    Some(7),
                    None,
                ],
                4,
                3,
            ),
        ] {
            let m = nodes.len();
            let g = Grounded::of(&nodes, c, phases).unwrap();
            let y: Vec<C64> = (0..m * m)
                .map(|k| C64::new(1.0 + (k as f64 * 0.7).sin(), -30.0 + (k as f64).cos()))
                .collect();
            let v: Vec<C64> = (0..8)
                .map(|k| C64::from_polar(2401.8 - k as f64, -2.1 * k as f64))
                .collect();
            let zero = C64::new(0.0, 0.0);
            let dense_v: Vec<C64> = nodes.iter().map(|n| n.map_or(zero, |i| v[i])).collect();
            let dense: Vec<C64> = (0..m)
                .map(|k| (0..m).map(|j| y[k * m + j] * dense_v[j]).sum())
                .collect();
            let (mut vs, mut is) = (vec![zero; m], vec![zero; m]);
            assert!(g.currents(&v, &y, &mut vs, &mut is));
            assert_eq!(vs, dense_v);
            for k in 0..m {
                if g.rows.contains(&k) {
                    // the same bits
                    assert_eq!(is[k].re.to_bits(), dense[k].re.to_bits(), "{m} {k}");
                    assert_eq!(is[k].im.to_bits(), dense[k].im.to_bits(), "{m} {k}");
                } else {
                    // a grounded neutral: left out, and 0·conj(I) adds nothing either way
                    assert!(nodes[k].is_none() && k % c >= phases);
                    assert_eq!(is[k], zero);
                }
            }
            // an entry that is not finite, or too large, takes the whole product
            for bad in [f64::NAN, f64::INFINITY, 1e200] {
                let mut y_bad = y.clone();
                y_bad[m - 1] = C64::new(bad, 0.0);
                let (mut vs, mut is) = (vec![zero; m], vec![zero; m]);
                assert!(!g.currents(&v, &y_bad, &mut vs, &mut is));
            }
        }
        // every conductor on a node, or a grounded phase conductor: the phase row is formed
        assert!(Grounded::of(&[Some(0), Some(1)], 1, 1).is_none());
        let g = Grounded::of(&[None, Some(1)], 1, 1).unwrap();
        assert_eq!(g.rows, vec![0, 1]);
    }

    #[test]
    fn symmetric_line_currents_are_the_dense_product() {
        // lines of 1 to 4 conductors: series blocks A, shunt halves at both ends
        for c in 1..=4 {
            let m = 2 * c;
            let a = |i: usize, j: usize| {
                let k = (i * c + j) as f64;
                if i == j {
                    C64::new(3.0 + 0.1 * k, -7.0 + 0.2 * k)
                } else {
                    C64::new(-1.0 + 0.05 * k, 2.0 - 0.03 * k)
                }
            };
            let shunt = |i: usize, j: usize| C64::new(0.0, if i == j { 0.01 } else { -0.002 });
            let mut y = vec![C64::new(0.0, 0.0); m * m];
            for i in 0..c {
                for j in 0..c {
                    y[i * m + j] = a(i, j) + shunt(i, j);
                    y[(i + c) * m + j + c] = a(i, j) + shunt(i, j);
                    y[i * m + j + c] = -a(i, j);
                    y[(i + c) * m + j] = -a(i, j);
                }
            }
            let sym = SymmetricPrim::of(&y, c).unwrap();
            assert!(!sym.s_zero);
            let v: Vec<C64> = (0..m)
                .map(|k| C64::from_polar(230.0 - (k / c) as f64, -2.1 * (k % c) as f64))
                .collect();
            let mut i = vec![C64::new(0.0, 0.0); m];
            sym.currents(&v, &mut i);
            for (k, ik) in i.iter().enumerate() {
                let dense: C64 = (0..m).map(|j| y[k * m + j] * v[j]).sum();
                assert!(
                    (ik - dense).norm() < 1e-12 * dense.norm().max(1.0),
                    "{c} {k}"
                );
            }
            // without shunt S = 0; an unsymmetric matrix has no such form
            let mut series = y.clone();
            for i in 0..c {
                for j in 0..c {
                    series[i * m + j] = a(i, j);
                    series[(i + c) * m + j + c] = a(i, j);
                }
            }
            assert!(SymmetricPrim::of(&series, c).unwrap().s_zero);
            y[1] += C64::new(1.0, 0.0);
            assert!(SymmetricPrim::of(&y, c).is_none());
        }
    }

    #[test]
    fn episodes_need_the_threshold_for_the_minimum_time() {
        // quarter-hour steps, above 100 % of a 100 A rating for at least 0.5 h (2 steps)
        let rule = EpisodeRule {
            min_steps: 2,
            dt_h: 0.25,
            trip_frac: 1.0,
        };
        let loading = [0.9, 1.1, 1.2, 0.95, 1.05, 1.3, 1.1, 1.0, 1.01];
        let mut e = element("Transformer.t");
        let mut out = Vec::new();
        for (k, l) in loading.iter().enumerate() {
            let hour = 0.25 * (k + 1) as f64;
            let i_a = 100.0 * l;
            rule.track(&mut e, *l > 1.0, (l * l, i_a * i_a, 100.0), hour, &mut out);
        }
        rule.track(&mut e, false, (0.0, 0.0, f64::NAN), f64::NAN, &mut out);
        // 1.1, 1.2 from hour 0.5; 1.05, 1.3, 1.1 from hour 1.25; 1.0 is not above; the last
        // single step (1.01) is too short
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(
            (out[0].start_hour_h, out[0].end_hour_h, out[0].duration_h),
            (0.5, 0.75, 0.5)
        );
        assert!((out[0].peak_loading_pct - 120.0).abs() < 1e-9);
        assert_eq!(out[0].peak_hour_h, 0.75);
        assert_eq!((out[1].start_hour_h, out[1].duration_h), (1.25, 0.75));
        assert!((out[1].peak_i_a - 130.0).abs() < 1e-9);
        assert_eq!(
            (
                out[1].reference.as_str(),
                out[1].reference_a,
                out[1].threshold_a
            ),
            ("rating", 100.0, 100.0)
        );
        assert_eq!((e.episodes, e.episode_steps), (2, 5));

        // 45 minutes needed: only the second
        let rule = EpisodeRule {
            min_steps: 3,
            ..rule
        };
        let mut e = element("Transformer.t");
        let mut out = Vec::new();
        for (k, l) in loading.iter().enumerate() {
            rule.track(
                &mut e,
                *l > 1.0,
                (l * l, 1e4 * l * l, 100.0),
                (k + 1) as f64,
                &mut out,
            );
        }
        rule.track(&mut e, false, (0.0, 0.0, f64::NAN), f64::NAN, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].start_hour_h, 5.0);
    }

    #[test]
    fn a_fuse_pickup_replaces_the_rating_as_the_trip_reference() {
        // the fuse on the house's service drop picks up at 30 A; the drop is rated 60 A
        let net = read(&format!(
            "{GRID}\nNew Fuse.f1 MonitoredObj=Line.svc MonitoredTerm=1 RatedCurrent=30\n\
             New Fuse.unset MonitoredObj=Transformer.t10\n"
        ));
        let id = vgrid_model::ElementId {
            kind: ElementKind::Line,
            name: "svc".into(),
        };
        let mut sim = Simulation::new(&net).unwrap();
        let mut above = Vec::new();
        for _ in 0..net.settings.number {
            let hour = sim.step().unwrap().hour;
            let i = sim.system().terminal_currents(&id, 1).unwrap()[0].norm();
            if i > 30.0 {
                above.push(hour);
            }
        }
        // full load at hours 2 and 6 only: two one-hour episodes
        assert_eq!(above, [2.0, 6.0]);
        let r = run(&net, &StudyOptions::default());
        let svc = r.elements.iter().find(|e| e.element == "Line.svc").unwrap();
        assert_eq!(
            (svc.trip_reference.as_str(), svc.trip_reference_a),
            ("Fuse.f1", Some(30.0))
        );
        assert_eq!((svc.trip_risk_episodes, svc.trip_risk_h), (2, 2.0));
        assert_eq!(svc.above_100pct_h, 0.0, "below its 60 A rating");
        assert_eq!(r.trip_risks.len(), 2, "{:?}", r.trip_risks);
        assert_eq!(r.trip_risks[0].start_hour_h, 2.0);
        assert_eq!(r.trip_risks[1].start_hour_h, 6.0);
        assert!(r.trip_risks[0].peak_loading_pct > 100.0);
        // a device without a pickup leaves the rating as the reference
        let t10 = r
            .elements
            .iter()
            .find(|e| e.element == "Transformer.t10")
            .unwrap();
        assert_eq!(
            (t10.trip_reference.as_str(), t10.trip_risk_episodes),
            ("rating", 0)
        );
        // two hours needed: none
        let r = run(
            &net,
            &StudyOptions {
                trip_min_h: 2.0,
                ..StudyOptions::default()
            },
        );
        assert!(r.trip_risks.is_empty());
    }
    #[test]
    fn totals_are_the_sums_of_the_steps() {
        let net = read(GRID);
        let mut sim = Simulation::new(&net).unwrap();
        let mut study = Study::new(&sim, &net, &StudyOptions::default());
        let (mut kwh, mut loss_kwh, mut vmin) = (0.0, 0.0, f64::INFINITY);
        for _ in 0..net.settings.number {
            let r = sim.step().unwrap().clone();
            kwh += r.p_source_kw; // 1-hour steps
            loss_kwh += r.losses_kw;
            vmin = vmin.min(r.vpu_min);
            study.add_step(&sim, &r);
        }
        assert_eq!(study.steps(), 8);
        let r = study.finish();
        let t = &r.totals;
        assert!((t.source_kwh - kwh).abs() < 1e-9 * kwh);
        assert!((t.losses_kwh - loss_kwh).abs() < 1e-9);
        assert_eq!((t.steps, t.steps_not_converged), (8, 0));
        assert_eq!((t.first_hour_h, t.last_hour_h), (Some(1.0), 8.0));
        assert!((t.v_min.as_ref().unwrap().vmag_pu - vmin).abs() < 1e-12);
        // nothing is near its rating: no overload, no trip risk
        assert_eq!(t.overload_h, Some(0.0));
        assert!(r.trip_risks.is_empty());
        // the elements' losses add up to the run's (no shunt elements here)
        let el: f64 = r.elements.iter().map(|e| e.losses_kwh).sum();
        assert!((el - loss_kwh).abs() < 1e-6, "{el} vs {loss_kwh}");
        // Study::step is Simulation::step then add_step
        let mut sim = Simulation::new(&net).unwrap();
        let mut stepped = Study::new(&sim, &net, &StudyOptions::default());
        for k in 0..net.settings.number {
            assert_eq!(stepped.step(&mut sim).unwrap().step, u64::from(k) + 1);
        }
        let stepped = stepped.finish();
        assert_eq!(stepped.totals, r.totals);
        assert_eq!(stepped.elements, r.elements);
        // without element statistics
        let r = run(
            &net,
            &StudyOptions {
                elements: false,
                ..StudyOptions::default()
            },
        );
        assert!(!r.elements_computed && r.elements.is_empty());
        assert_eq!(r.totals.overload_h, None);
    }
}
