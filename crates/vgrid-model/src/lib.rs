//! # vgrid-model: the engineering model of a distribution network
//!
//! This crate holds the network as an engineer describes it: named buses, and tables of typed
//! elements (sources, lines, transformers, loads, ...) with every physical quantity carrying its
//! unit in its name. It does no I/O and no numerics: readers (`vgrid-dss`, SimBench, ...) fill it,
//! `vgrid-network` lowers it to the solver model.
//!
//! ## Unit system of this layer
//! | quantity | unit | example field |
//! |---|---|---|
//! | voltage | kV (line-to-line for 2- and 3-phase elements, across the element for 1-phase ones, as OpenDSS) | `kv` |
//! | power | kW, kvar, kVA | `p_kw`, `q_kvar`, `s_kva` |
//! | series impedance per length | ohm per metre | `r_ohm_per_m` |
//! | shunt capacitance per length | nF per metre | `c_nf_per_m` |
//! | length | metre | `length_m` |
//! | percent quantities | % on the element's own rating | `pct_r`, `x_hl_pct` |
//! | angle | degree | `angle_deg` |
//! | time | second | `delay_s` |
//!
//! ## Connections
//! An element connects to buses through *terminals*; each terminal has *conductors*; each
//! conductor lands on a *node* of the bus. [`BusRef`] is OpenDSS's `bus.1.2.3` notation: the
//! nodes written by the user (possibly none). Node 0 is ground. Conductors the user did not
//! name get the default node: conductor `k` (0-based) of an element with `n` phases lands on
//! node `k + 1` when `k < n`, else on node 0 ([`BusRef::node_of_conductor`]).
//!
//! ```
//! use vgrid_model::BusRef;
//! let b = BusRef::parse("650.1.3");
//! assert_eq!(b.bus, "650");
//! assert_eq!(b.node_of_conductor(0, 2), 1);
//! assert_eq!(b.node_of_conductor(1, 2), 3);
//! let wye = BusRef::parse("671"); // 3-phase wye load: 4 conductors
//! assert_eq!((0..4).map(|k| wye.node_of_conductor(k, 3)).collect::<Vec<_>>(), vec![1, 2, 3, 0]);
//! ```
//!
//! Names of buses and elements are stored lower-case: OpenDSS names are case-insensitive.
//!
//! Per-phase and matrix quantities are `Vec<f64>`: matrices are `n × n`, row-major.

use serde::{Deserialize, Serialize};

pub mod hash;
mod validate;
pub use validate::{Problem, Severity};

/// A bus, a set of nodes, as written `name.n1.n2...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BusRef {
    /// Bus name, lower-case.
    pub bus: String,
    /// Nodes written after the bus name, in conductor order; may be shorter than the
    /// element's conductor count (see [`BusRef::node_of_conductor`]).
    pub nodes: Vec<u32>,
}

impl BusRef {
    /// Parse `bus.1.2.3` (no validation beyond splitting; non-numeric node parts are dropped
    /// here, the readers report them as errors before calling this).
    pub fn parse(text: &str) -> BusRef {
        let mut parts = text.split('.');
        let bus = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let nodes = parts.filter_map(|p| p.trim().parse::<u32>().ok()).collect();
        BusRef { bus, nodes }
    }

    /// The node that conductor `k` (0-based) lands on, for an element with `n_phases` phases.
    pub fn node_of_conductor(&self, k: usize, n_phases: usize) -> u32 {
        match self.nodes.get(k) {
            Some(&n) => n,
            None if k < n_phases => k as u32 + 1,
            None => 0,
        }
    }
}

impl std::fmt::Display for BusRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.bus)?;
        for n in &self.nodes {
            write!(f, ".{n}")?;
        }
        Ok(())
    }
}

/// Winding or element connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Connection {
    #[default]
    Wye,
    Delta,
}

/// The kind of an element, as in OpenDSS's `Class.name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ElementKind {
    Vsource,
    Line,
    Transformer,
    Capacitor,
    Reactor,
    Load,
    Generator,
    PvSystem,
    Storage,
    RegControl,
    CapControl,
    Fuse,
    Recloser,
    Relay,
    SwtControl,
    EnergyMeter,
    Monitor,
}

impl ElementKind {
    /// The OpenDSS class name, as written in element names like `Line.650632`.
    pub fn dss_class(self) -> &'static str {
        match self {
            ElementKind::Vsource => "Vsource",
            ElementKind::Line => "Line",
            ElementKind::Transformer => "Transformer",
            ElementKind::Capacitor => "Capacitor",
            ElementKind::Reactor => "Reactor",
            ElementKind::Load => "Load",
            ElementKind::Generator => "Generator",
            ElementKind::PvSystem => "PVSystem",
            ElementKind::Storage => "Storage",
            ElementKind::RegControl => "RegControl",
            ElementKind::CapControl => "CapControl",
            ElementKind::Fuse => "Fuse",
            ElementKind::Recloser => "Recloser",
            ElementKind::Relay => "Relay",
            ElementKind::SwtControl => "SwtControl",
            ElementKind::EnergyMeter => "EnergyMeter",
            ElementKind::Monitor => "Monitor",
        }
    }
}

/// A reference to an element: kind and lower-case name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ElementId {
    pub kind: ElementKind,
    pub name: String,
}

impl std::fmt::Display for ElementId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.kind.dss_class(), self.name)
    }
}

/// Short-circuit strength of a voltage source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SourceImpedance {
    /// Three-phase and single-phase short-circuit MVA at `base_kv`, with X/R ratios.
    Mva {
        mva_sc3: f64,
        mva_sc1: f64,
        x1_r1: f64,
        x0_r0: f64,
    },
    /// Three-phase and single-phase short-circuit currents in A, with X/R ratios.
    Isc {
        isc3_a: f64,
        isc1_a: f64,
        x1_r1: f64,
        x0_r0: f64,
    },
    /// Sequence impedances in ohm.
    Ohm {
        r1_ohm: f64,
        x1_ohm: f64,
        r0_ohm: f64,
        x0_ohm: f64,
    },
    /// Sequence impedances in per unit on `base_kv` and `base_mva`.
    Pu {
        r1_pu: f64,
        x1_pu: f64,
        r0_pu: f64,
        x0_pu: f64,
        base_mva: f64,
    },
}

/// An ideal voltage source behind its short-circuit impedance (OpenDSS `Vsource`/`Circuit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vsource {
    pub name: String,
    pub bus1: BusRef,
    /// Return terminal; `None` means bus1's bus at nodes 0 (grounded wye).
    pub bus2: Option<BusRef>,
    pub phases: usize,
    /// Base voltage, kV line-to-line (for 1 phase: kV of the phase).
    pub base_kv: f64,
    pub pu: f64,
    /// Angle of phase 1, degrees.
    pub angle_deg: f64,
    pub frequency_hz: f64,
    pub impedance: SourceImpedance,
    pub enabled: bool,
}

/// Series impedance and shunt capacitance of a line, per metre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LineImpedance {
    /// Phase matrices (`phases × phases`, row-major), per metre.
    Matrix {
        r_ohm_per_m: Vec<f64>,
        x_ohm_per_m: Vec<f64>,
        c_nf_per_m: Vec<f64>,
    },
    /// Sequence values, per metre.
    Sequence {
        r1_ohm_per_m: f64,
        x1_ohm_per_m: f64,
        r0_ohm_per_m: f64,
        x0_ohm_per_m: f64,
        c1_nf_per_m: f64,
        c0_nf_per_m: f64,
    },
    /// Computed from a [`LineGeometry`] (conductor positions and wire data).
    Geometry { geometry: String },
    /// Computed from a [`LineSpacing`] and one wire per conductor.
    Spacing {
        spacing: String,
        wires: Vec<WireRef>,
    },
}

/// A power line, cable or switch (OpenDSS `Line`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub name: String,
    pub bus1: BusRef,
    pub bus2: BusRef,
    pub phases: usize,
    pub length_m: f64,
    pub impedance: LineImpedance,
    /// Base frequency the impedances were given at.
    pub base_frequency_hz: f64,
    /// Earth resistivity for geometry-based impedances, ohm·m (OpenDSS default 100).
    pub rho_ohm_m: f64,
    /// Earth-return model for geometry-based impedances (OpenDSS `EarthModel`; a line takes the
    /// circuit default, `Set EarthModel=`, in force when it is created).
    #[serde(default)]
    pub earth_model: EarthModel,
    /// `switch=yes`: OpenDSS then forces r1=1 ohm/kft, x1=1 ohm/kft... (see the reader).
    pub is_switch: bool,
    pub line_code: Option<String>,
    pub norm_amps_a: f64,
    pub emerg_amps_a: f64,
    pub enabled: bool,
}

/// Earth-return model of line constants computed from conductor geometry (OpenDSS
/// `Set EarthModel=` / `Line.EarthModel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EarthModel {
    /// Deri's complex-depth return plane with the skin-effect internal impedance (OpenDSS's default).
    #[default]
    Deri,
    /// Carson's equations, first terms only (OpenDSS `Carson`, `SIMPLECARSON`): `Rac` as given.
    Carson,
    /// Carson's series to its fourth-order terms (OpenDSS `FullCarson`).
    FullCarson,
}

/// Kind of conductor in a line geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireKind {
    Bare,
    ConcentricNeutral,
    TapeShield,
}

/// A wire named in a geometry or a line: `wire=`, `cncable=` or `tscable=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRef {
    pub kind: WireKind,
    pub name: String,
}

/// Conductor data shared by bare wires, concentric-neutral and tape-shielded cables
/// (OpenDSS `WireData`, `CNData`, `TSData`), in SI units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireData {
    pub name: String,
    pub kind: WireKind,
    /// DC resistance, ohm per metre.
    pub r_dc_ohm_per_m: f64,
    /// AC resistance at base frequency, ohm per metre.
    pub r_ac_ohm_per_m: f64,
    /// Geometric mean radius, metre.
    pub gmr_m: f64,
    /// Outside radius of the conductor, metre.
    pub radius_m: f64,
    pub norm_amps_a: f64,
    pub emerg_amps_a: f64,
    /// Cable data (CN and TS only).
    pub cable: Option<CableData>,
}

/// Insulation and screen of a cable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CableData {
    /// Relative permittivity of the insulation.
    pub eps_r: f64,
    /// Insulation thickness, metre.
    pub ins_layer_m: f64,
    /// Diameter over insulation, metre.
    pub dia_ins_m: f64,
    /// Diameter over the cable jacket, metre.
    pub dia_cable_m: f64,
    pub screen: CableScreen,
}

/// The screen of a cable: concentric neutral strands or a tape shield.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CableScreen {
    ConcentricNeutral {
        /// Number of strands.
        k: u32,
        /// Strand diameter, metre.
        dia_strand_m: f64,
        /// Strand GMR, metre.
        gmr_strand_m: f64,
        /// Strand AC resistance, ohm per metre.
        r_strand_ohm_per_m: f64,
    },
    TapeShield {
        /// Diameter over the shield, metre.
        dia_shield_m: f64,
        /// Tape layer thickness, metre.
        tape_layer_m: f64,
        /// Tape lap, percent.
        tape_lap_pct: f64,
    },
}

/// Conductor positions and wires of an overhead line or cable run (OpenDSS `LineGeometry`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineGeometry {
    pub name: String,
    /// Number of phase conductors; the remaining conductors are neutrals, Kron-reduced away
    /// unless `reduce` is false.
    pub phases: usize,
    /// Horizontal position of each conductor, metre.
    pub x_m: Vec<f64>,
    /// Height of each conductor above ground (negative: buried), metre.
    pub h_m: Vec<f64>,
    pub wires: Vec<WireRef>,
    pub reduce: bool,
    pub norm_amps_a: f64,
    pub emerg_amps_a: f64,
}

/// Conductor positions only (OpenDSS `LineSpacing`), combined with wires on the line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineSpacing {
    pub name: String,
    pub phases: usize,
    pub x_m: Vec<f64>,
    pub h_m: Vec<f64>,
}

/// One transformer winding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Winding {
    pub bus: BusRef,
    pub conn: Connection,
    /// Rated voltage, kV (line-to-line for 2- and 3-phase, winding voltage for 1-phase).
    pub kv: f64,
    pub kva: f64,
    /// Winding resistance, % on the winding's kVA.
    pub pct_r: f64,
    /// Neutral resistance to ground, ohm; negative means ungrounded (OpenDSS default -1).
    pub r_neutral_ohm: f64,
    pub x_neutral_ohm: f64,
    /// Tap, per unit of `kv`.
    pub tap_pu: f64,
    pub min_tap_pu: f64,
    pub max_tap_pu: f64,
    pub num_taps: u32,
}

/// A 1- or n-phase transformer with any number of windings (OpenDSS `Transformer`).
///
/// Single-phase centre-tapped service transformers are three windings on one phase,
/// e.g. `buses=[x.1.0 y.1.0 y.0.2]`; nothing special is needed in the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transformer {
    pub name: String,
    pub phases: usize,
    pub windings: Vec<Winding>,
    /// Short-circuit reactances between winding pairs, % on winding 1's kVA:
    /// for 2 windings `[x_hl]`; for 3 `[x_hl, x_ht, x_lt]`; for more, the upper triangle
    /// (1-2, 1-3, ..., 1-n, 2-3, ...), OpenDSS's `XscArray`.
    pub x_sc_pct: Vec<f64>,
    pub pct_noload_loss: f64,
    pub pct_imag: f64,
    /// Anti-floating shunt, parts per million of the winding's series admittance (OpenDSS `ppm_antifloat`).
    pub ppm_antifloat: f64,
    pub norm_hkva: f64,
    pub emerg_hkva: f64,
    pub bank: Option<String>,
    /// A substation transformer (`sub=yes`); reporting only.
    pub is_substation: bool,
    pub enabled: bool,
}

/// Rating of a capacitor or reactor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShuntRating {
    /// kvar per step at `kv`.
    Kvar(Vec<f64>),
    /// Capacitance per step, µF.
    Cuf(Vec<f64>),
}

/// A shunt or series capacitor bank with one or more steps (OpenDSS `Capacitor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacitor {
    pub name: String,
    pub bus1: BusRef,
    /// Series capacitor when `Some`; shunt to ground (wye) otherwise.
    pub bus2: Option<BusRef>,
    pub phases: usize,
    pub kv: f64,
    pub conn: Connection,
    pub rating: ShuntRating,
    /// Series resistance and reactance per step, ohm.
    pub r_ohm: Vec<f64>,
    pub xl_ohm: Vec<f64>,
    /// Step states (true = in service).
    pub states: Vec<bool>,
    pub enabled: bool,
}

/// How a reactor's impedance was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReactorRating {
    /// Rated kvar at `kv` (total over phases), with series `r_ohm`.
    Kvar { kvar: f64 },
    /// Series impedance per phase, ohm.
    Impedance { r_ohm: f64, x_ohm: f64 },
    /// Phase matrices, ohm (`phases × phases`).
    Matrix { r_ohm: Vec<f64>, x_ohm: Vec<f64> },
}

/// A shunt or series reactor (OpenDSS `Reactor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reactor {
    pub name: String,
    pub bus1: BusRef,
    pub bus2: Option<BusRef>,
    pub phases: usize,
    pub kv: f64,
    pub conn: Connection,
    pub rating: ReactorRating,
    /// Resistance in parallel with the reactance, ohm (OpenDSS `Rp`), if given.
    pub rp_ohm: Option<f64>,
    /// Series R with kvar rating, ohm.
    pub r_ohm: f64,
    pub parallel: bool,
    pub enabled: bool,
}

/// OpenDSS load models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LoadModel {
    /// 1: constant P and Q.
    #[default]
    ConstantPq,
    /// 2: constant impedance.
    ConstantZ,
    /// 3: constant P, quadratic Q.
    ConstantPQuadraticQ,
    /// 4: linear P, quadratic Q (CVR factors).
    Cvr,
    /// 5: constant current magnitude.
    ConstantI,
    /// 6: constant P, fixed Q (at nominal voltage).
    ConstantPFixedQ,
    /// 7: constant P, fixed impedance Q.
    ConstantPFixedZQ,
    /// 8: ZIP, with `zipv` coefficients.
    Zip,
}

impl LoadModel {
    /// From OpenDSS's model number.
    pub fn from_number(n: i64) -> Option<LoadModel> {
        Some(match n {
            1 => LoadModel::ConstantPq,
            2 => LoadModel::ConstantZ,
            3 => LoadModel::ConstantPQuadraticQ,
            4 => LoadModel::Cvr,
            5 => LoadModel::ConstantI,
            6 => LoadModel::ConstantPFixedQ,
            7 => LoadModel::ConstantPFixedZQ,
            8 => LoadModel::Zip,
            _ => return None,
        })
    }
}

/// Load status (OpenDSS `status=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LoadStatus {
    /// Follows load multipliers and shapes.
    #[default]
    Variable,
    /// Always at its base value.
    Fixed,
    /// Follows shapes but not the global load multiplier... (OpenDSS `exempt`).
    Exempt,
}

/// A load (OpenDSS `Load`). `p_kw`/`q_kvar` are the nominal values at `kv`, before multipliers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Load {
    pub name: String,
    pub bus1: BusRef,
    pub phases: usize,
    pub conn: Connection,
    pub kv: f64,
    pub p_kw: f64,
    pub q_kvar: f64,
    pub model: LoadModel,
    /// ZIP coefficients for model 8: `[Z_p, I_p, P_p, Z_q, I_q, P_q, v_cutoff_pu]`.
    pub zipv: Vec<f64>,
    pub cvr_watts: f64,
    pub cvr_vars: f64,
    /// Below `vmin_pu` (and above `vmax_pu`) the load becomes constant impedance.
    pub vmin_pu: f64,
    pub vmax_pu: f64,
    pub status: LoadStatus,
    pub yearly: Option<String>,
    pub daily: Option<String>,
    pub duty: Option<String>,
    pub enabled: bool,
}

/// A generator in its snapshot model (OpenDSS `Generator`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    pub name: String,
    pub bus1: BusRef,
    pub phases: usize,
    pub conn: Connection,
    pub kv: f64,
    pub p_kw: f64,
    pub q_kvar: f64,
    pub kva: f64,
    /// OpenDSS generator model number (1 = constant PQ, 2 = constant Z, 3 = constant P |V|, ...).
    pub model: u32,
    pub vmin_pu: f64,
    pub vmax_pu: f64,
    pub yearly: Option<String>,
    pub daily: Option<String>,
    pub duty: Option<String>,
    pub enabled: bool,
}

/// A photovoltaic system in its snapshot model (OpenDSS `PVSystem`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PvSystem {
    pub name: String,
    pub bus1: BusRef,
    pub phases: usize,
    pub conn: Connection,
    pub kv: f64,
    pub pmpp_kw: f64,
    pub kva: f64,
    /// Irradiance, kW/m² (1.0 = standard test conditions).
    pub irradiance_kw_per_m2: f64,
    pub temperature_c: f64,
    /// Power factor; used when `kvar` is `None`.
    pub pf: f64,
    pub q_kvar: Option<f64>,
    pub pct_pmpp: f64,
    pub pct_cutin: f64,
    pub pct_cutout: f64,
    /// Inverter efficiency curve (XYcurve name: per-unit power → per-unit efficiency).
    pub eff_curve: Option<String>,
    /// Power-temperature curve (XYcurve name: °C → per-unit Pmpp).
    pub p_t_curve: Option<String>,
    pub kvar_limit: Option<f64>,
    pub vmin_pu: f64,
    pub vmax_pu: f64,
    pub yearly: Option<String>,
    pub daily: Option<String>,
    pub duty: Option<String>,
    pub t_yearly: Option<String>,
    pub t_daily: Option<String>,
    pub t_duty: Option<String>,
    pub enabled: bool,
}

/// Storage state (OpenDSS `State=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StorageState {
    #[default]
    Idling,
    Charging,
    Discharging,
}

/// A battery (OpenDSS `Storage`, its constant-PQ inverter model): see
/// `vgrid_powerflow::injection` for its output and `vgrid_timeseries` for its dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Storage {
    pub name: String,
    pub bus1: BusRef,
    pub phases: usize,
    pub conn: Connection,
    pub kv: f64,
    pub kw_rated: f64,
    pub kva: f64,
    pub kwh_rated: f64,
    pub kwh_stored: f64,
    pub pct_reserve: f64,
    pub pct_charge: f64,
    pub pct_discharge: f64,
    pub pct_eff_charge: f64,
    pub pct_eff_discharge: f64,
    pub pct_idling_kw: f64,
    pub state: StorageState,
    /// `default`, `follow`, `loadlevel`, `price` or `external` (OpenDSS `DispMode`).
    pub dispatch_mode: String,
    pub yearly: Option<String>,
    pub daily: Option<String>,
    pub duty: Option<String>,
    pub enabled: bool,
    /// Power factor, used when `q_kvar` is `None` (OpenDSS `pf`, default 1).
    #[serde(default = "one")]
    pub pf: f64,
    /// Requested kvar (OpenDSS `kvar=`); `None`: follow `pf`.
    #[serde(default)]
    pub q_kvar: Option<f64>,
    /// Largest kvar produced and absorbed (OpenDSS `kvarMax`, `kvarMaxAbs`; default the kVA).
    #[serde(default)]
    pub kvar_max: f64,
    #[serde(default)]
    pub kvar_max_abs: f64,
    /// Inverter cut-in and cut-out, % of kVA (default 0).
    #[serde(default)]
    pub pct_cutin: f64,
    #[serde(default)]
    pub pct_cutout: f64,
    /// Output limit, % of `kw_rated` (OpenDSS `%kWrated`, default 100).
    #[serde(default = "hundred")]
    pub pct_kw_rated: f64,
    /// Energy kept back, kWh: OpenDSS's `kWhReserve`, set to `%reserve` × `kWhrated` when
    /// either is given, and 0 when neither is (OpenDSS's own default).
    #[serde(default)]
    pub kwh_reserve: f64,
    #[serde(default = "vmin_default")]
    pub vmin_pu: f64,
    #[serde(default = "vmax_default")]
    pub vmax_pu: f64,
    /// Voltage model: 1 constant PQ (default), 2 constant Z.
    #[serde(default = "model_one")]
    pub model: u32,
    /// Shape levels that start charging and discharging in `default` dispatch (0: off).
    #[serde(default)]
    pub charge_trigger: f64,
    #[serde(default)]
    pub discharge_trigger: f64,
    /// Time of day charging starts in `default` dispatch when a trigger is set, hours (2).
    #[serde(default)]
    pub time_charge_trigger_h: f64,
}

fn one() -> f64 {
    1.0
}
fn hundred() -> f64 {
    100.0
}
fn vmin_default() -> f64 {
    0.9
}
fn vmax_default() -> f64 {
    1.1
}
fn model_one() -> u32 {
    1
}

/// How a [`StorageController`] discharges its fleet (OpenDSS `ModeDischarge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StorageDischargeMode {
    /// Keep the monitored power below `kw_target` (default).
    #[default]
    PeakShave,
    Follow,
    Support,
    LoadShape,
    Time,
    Schedule,
    /// Peak shaving on the monitored current (`I-PeakShave`).
    CurrentPeakShave,
}

/// How a [`StorageController`] charges its fleet (OpenDSS `ModeCharge`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StorageChargeMode {
    LoadShape,
    /// Start charging at `time_charge_trigger_h` (default).
    #[default]
    Time,
    /// Charge while the monitored power is below `kw_target_low` (valley filling).
    PeakShaveLow,
    CurrentPeakShaveLow,
}

/// A controller dispatching a fleet of storage elements from the power through a monitored
/// terminal (OpenDSS `StorageController`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageController {
    pub name: String,
    /// Monitored element and its 1-based terminal.
    pub element: Option<ElementId>,
    pub terminal: usize,
    /// Monitored phase: 1-based, or -1 average, -2 largest (default), -3 smallest.
    pub mon_phase: i32,
    pub kw_target: f64,
    pub kw_target_low: f64,
    /// Half the dead band around `kw_target` and `kw_target_low`, kW (from `%kWBand` or `kWBand`).
    pub half_kw_band: f64,
    pub half_kw_band_low: f64,
    /// The storage elements of the fleet (empty: every storage not already dispatched
    /// externally) and their weights.
    pub elements: Vec<String>,
    pub weights: Vec<f64>,
    pub mode_discharge: StorageDischargeMode,
    pub mode_charge: StorageChargeMode,
    /// Time of day of the discharge and charge triggers, hours (−1: off).
    pub time_discharge_trigger_h: f64,
    pub time_charge_trigger_h: f64,
    /// Fleet discharge and charge rates, % of each element's kWrated.
    pub pct_rate_kw: f64,
    pub pct_rate_charge: f64,
    pub pct_reserve: f64,
    /// Hours discharging stays inhibited after a time-triggered charge starts.
    pub inhibit_time_h: u32,
    pub disp_factor: f64,
    pub reset_level: f64,
    pub kw_threshold: f64,
    pub yearly: Option<String>,
    pub daily: Option<String>,
    pub duty: Option<String>,
    pub enabled: bool,
}

/// Voltage regulator control acting on a transformer winding's tap (OpenDSS `RegControl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegControl {
    pub name: String,
    pub transformer: String,
    /// Winding whose voltage and current are measured (1-based).
    pub winding: usize,
    /// Winding whose tap is changed (1-based; defaults to `winding`).
    pub tap_winding: usize,
    /// Voltage setting on the PT secondary (120 V base), volts.
    pub vreg_v: f64,
    pub band_v: f64,
    pub pt_ratio: f64,
    pub ct_prim_a: f64,
    /// Line drop compensator, volts on the 120 V base.
    pub r_ldc_v: f64,
    pub x_ldc_v: f64,
    /// PT phase: 1-based phase, or 0 for MAX, -1 for MIN (OpenDSS `PTphase=max|min`).
    pub pt_phase: i32,
    /// Time delay before the first tap change, seconds.
    pub delay_s: f64,
    /// Delay between subsequent tap changes, seconds.
    pub tap_delay_s: f64,
    pub max_tap_change: u32,
    pub reversible: bool,
    pub rev_vreg_v: f64,
    pub rev_band_v: f64,
    pub rev_r_ldc_v: f64,
    pub rev_x_ldc_v: f64,
    pub rev_threshold_kw: f64,
    /// Voltage limit on the PT secondary, volts (0 = none).
    pub v_limit_v: f64,
    /// Regulate a remote bus instead of the winding terminal.
    pub bus: Option<BusRef>,
    /// Use the LDC only above... OpenDSS `LDC_Z`; 0 = not used.
    pub ldc_z_v: f64,
    pub inverse_time: bool,
    pub enabled: bool,
}

impl RegControl {
    /// A regulator control with OpenDSS's defaults: winding 1, vreg 120 V, band 3 V, PT ratio
    /// 60, CT primary 300 A, no line-drop compensation, delay 15 s, tap delay 2 s, at most 16
    /// steps per change, not reversible.
    pub fn new(name: &str, transformer: &str) -> RegControl {
        RegControl {
            name: name.to_string(),
            transformer: transformer.to_string(),
            winding: 1,
            tap_winding: 1,
            vreg_v: 120.0,
            band_v: 3.0,
            pt_ratio: 60.0,
            ct_prim_a: 300.0,
            r_ldc_v: 0.0,
            x_ldc_v: 0.0,
            pt_phase: 1,
            delay_s: 15.0,
            tap_delay_s: 2.0,
            max_tap_change: 16,
            reversible: false,
            rev_vreg_v: 120.0,
            rev_band_v: 3.0,
            rev_r_ldc_v: 0.0,
            rev_x_ldc_v: 0.0,
            rev_threshold_kw: 100.0,
            v_limit_v: 0.0,
            bus: None,
            ldc_z_v: 0.0,
            inverse_time: false,
            enabled: true,
        }
    }
}

/// Capacitor control type (OpenDSS `CapControl.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CapControlKind {
    #[default]
    Current,
    Voltage,
    Kvar,
    PowerFactor,
    Time,
}

/// Switched capacitor control (OpenDSS `CapControl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapControl {
    pub name: String,
    /// Monitored element, e.g. `Line.l115`.
    pub element: ElementId,
    pub terminal: usize,
    pub capacitor: String,
    pub kind: CapControlKind,
    pub on_setting: f64,
    pub off_setting: f64,
    pub delay_s: f64,
    pub delay_off_s: f64,
    pub dead_time_s: f64,
    pub pt_ratio: f64,
    pub ct_ratio: f64,
    /// 1-based phase, 0 = AVG, -1 = MAX, -2 = MIN.
    pub pt_phase: i32,
    pub ct_phase: i32,
    pub volt_override: bool,
    pub vmin_v: f64,
    pub vmax_v: f64,
    pub enabled: bool,
}

/// Protective and switching devices: their state is honoured, their dynamics are not simulated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtectiveDevice {
    pub kind: ElementKind,
    pub name: String,
    pub monitored: Option<ElementId>,
    pub monitored_terminal: usize,
    pub switched: Option<ElementId>,
    pub switched_terminal: usize,
    /// Device state: `false` = open (the switched terminal is disconnected).
    pub closed: bool,
    pub enabled: bool,
    /// Phase current at which the device starts timing towards a trip, primary A, compared
    /// with the monitored terminal's phase currents: Fuse `RatedCurrent`, Recloser and Relay
    /// `PhaseTrip`. `None` unless the script sets it (OpenDSS's default, 1 A, is a placeholder).
    #[serde(default)]
    pub pickup_a: Option<f64>,
}

/// An EnergyMeter or Monitor: recorded for completeness, no effect on the solution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meter {
    pub kind: ElementKind,
    pub name: String,
    pub element: Option<ElementId>,
    pub terminal: usize,
    pub mode: i64,
    pub enabled: bool,
}

/// A terminal, or one conductor of it, opened by `Open`/`Close` or a switching device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenTerminal {
    pub element: ElementId,
    /// 1-based terminal.
    pub terminal: usize,
    /// 1-based conductor; `None` = every conductor of the terminal.
    pub conductor: Option<usize>,
}

/// A time-varying multiplier (OpenDSS `LoadShape`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadShape {
    pub name: String,
    /// Fixed interval between points, hours; `None` when `hours` gives the times.
    pub interval_h: Option<f64>,
    /// Time of each point, hours (only when `interval_h` is `None`).
    pub hours: Vec<f64>,
    pub p_mult: Vec<f64>,
    pub q_mult: Vec<f64>,
    /// Multipliers are actual kW/kvar rather than per unit of the element's base.
    pub use_actual: bool,
    pub p_base: f64,
    pub q_base: f64,
}

/// An x→y curve (OpenDSS `XYcurve`), e.g. inverter efficiency or PV power vs. temperature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XyCurve {
    pub name: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// Solution mode (OpenDSS `Set mode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SolveMode {
    #[default]
    Snapshot,
    Daily,
    Yearly,
    Duty,
}

/// Control mode (OpenDSS `Set controlmode=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ControlMode {
    #[default]
    Static,
    Event,
    Time,
    Off,
}

/// Power-flow algorithm (OpenDSS `Set algorithm=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Algorithm {
    /// OpenDSS's fixed-point current-injection iteration ("Normal").
    #[default]
    FixedPoint,
    Newton,
}

/// Solution settings, with OpenDSS's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub mode: SolveMode,
    pub control_mode: ControlMode,
    pub algorithm: Algorithm,
    /// Maximum power-flow iterations per solve (default 15).
    pub max_iterations: u32,
    /// Maximum control iterations per snapshot (default 10).
    pub max_control_iterations: u32,
    /// Convergence tolerance on voltage change, per unit (default 1e-4).
    pub tolerance_pu: f64,
    /// Global load multiplier (default 1).
    pub load_mult: f64,
    /// Number of time steps per `Solve` in time modes.
    pub number: u32,
    pub step_size_s: f64,
    /// Simulation clock: hour and seconds.
    pub hour: f64,
    pub sec: f64,
    pub default_base_frequency_hz: f64,
    /// Default load/generator shapes for daily/yearly runs when an element has none.
    pub default_daily: Option<String>,
    pub default_yearly: Option<String>,
    /// `Set EarthModel=`: the earth model a line takes when it is created.
    #[serde(default)]
    pub earth_model: EarthModel,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: SolveMode::Snapshot,
            control_mode: ControlMode::Static,
            algorithm: Algorithm::FixedPoint,
            max_iterations: 15,
            max_control_iterations: 10,
            tolerance_pu: 1e-4,
            load_mult: 1.0,
            number: 1,
            step_size_s: 3600.0,
            hour: 0.0,
            sec: 0.0,
            default_base_frequency_hz: 60.0,
            default_daily: None,
            default_yearly: None,
            earth_model: EarthModel::Deri,
        }
    }
}

/// Coordinates of a bus (`BusCoords` x/y or `LatLongCoords`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusCoord {
    pub bus: String,
    pub x: f64,
    pub y: f64,
}

/// The whole network: every element table, the settings and the voltage bases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Network {
    pub name: String,
    pub base_frequency_hz: f64,
    /// `Set voltagebases`: line-to-line kV, in the order given.
    pub voltage_bases_kv: Vec<f64>,
    /// Explicit bus bases (`SetkVBase`), line-to-line kV.
    pub bus_kv_bases: Vec<(String, f64)>,
    pub bus_coords: Vec<BusCoord>,
    pub sources: Vec<Vsource>,
    pub lines: Vec<Line>,
    pub line_geometries: Vec<LineGeometry>,
    pub line_spacings: Vec<LineSpacing>,
    pub wires: Vec<WireData>,
    pub transformers: Vec<Transformer>,
    pub capacitors: Vec<Capacitor>,
    pub reactors: Vec<Reactor>,
    pub loads: Vec<Load>,
    pub generators: Vec<Generator>,
    pub pv_systems: Vec<PvSystem>,
    pub storages: Vec<Storage>,
    #[serde(default)]
    pub storage_controllers: Vec<StorageController>,
    pub reg_controls: Vec<RegControl>,
    pub cap_controls: Vec<CapControl>,
    pub protective_devices: Vec<ProtectiveDevice>,
    pub meters: Vec<Meter>,
    pub open_terminals: Vec<OpenTerminal>,
    pub load_shapes: Vec<LoadShape>,
    /// Temperature shapes (OpenDSS `TShape`): the temperatures, °C, in `p_mult`.
    #[serde(default)]
    pub t_shapes: Vec<LoadShape>,
    pub xy_curves: Vec<XyCurve>,
    pub settings: Settings,
}

impl Network {
    /// A copy without the load shapes (the bulk of a model with year-long profiles), for
    /// solvers that only need the circuit.
    pub fn clone_without_shapes(&self) -> Network {
        let Network {
            name,
            base_frequency_hz,
            voltage_bases_kv,
            bus_kv_bases,
            bus_coords,
            sources,
            lines,
            line_geometries,
            line_spacings,
            wires,
            transformers,
            capacitors,
            reactors,
            loads,
            generators,
            pv_systems,
            storages,
            storage_controllers,
            reg_controls,
            cap_controls,
            protective_devices,
            meters,
            open_terminals,
            load_shapes: _,
            t_shapes: _,
            xy_curves,
            settings,
        } = self;
        Network {
            name: name.clone(),
            base_frequency_hz: *base_frequency_hz,
            voltage_bases_kv: voltage_bases_kv.clone(),
            bus_kv_bases: bus_kv_bases.clone(),
            bus_coords: bus_coords.clone(),
            sources: sources.clone(),
            lines: lines.clone(),
            line_geometries: line_geometries.clone(),
            line_spacings: line_spacings.clone(),
            wires: wires.clone(),
            transformers: transformers.clone(),
            capacitors: capacitors.clone(),
            reactors: reactors.clone(),
            loads: loads.clone(),
            generators: generators.clone(),
            pv_systems: pv_systems.clone(),
            storages: storages.clone(),
            storage_controllers: storage_controllers.clone(),
            reg_controls: reg_controls.clone(),
            cap_controls: cap_controls.clone(),
            protective_devices: protective_devices.clone(),
            meters: meters.clone(),
            open_terminals: open_terminals.clone(),
            load_shapes: Vec::new(),
            t_shapes: Vec::new(),
            xy_curves: xy_curves.clone(),
            settings: settings.clone(),
        }
    }

    /// Whether two models describe the same circuit for a snapshot solve: every table and
    /// setting equal, load shapes, bus coordinates and meters aside.
    pub fn same_circuit(&self, other: &Network) -> bool {
        self.base_frequency_hz == other.base_frequency_hz
            && self.settings == other.settings
            && self.voltage_bases_kv == other.voltage_bases_kv
            && self.bus_kv_bases == other.bus_kv_bases
            && self.sources == other.sources
            && self.lines == other.lines
            && self.line_geometries == other.line_geometries
            && self.line_spacings == other.line_spacings
            && self.wires == other.wires
            && self.transformers == other.transformers
            && self.capacitors == other.capacitors
            && self.reactors == other.reactors
            && self.loads == other.loads
            && self.generators == other.generators
            && self.pv_systems == other.pv_systems
            && self.storages == other.storages
            && self.storage_controllers == other.storage_controllers
            && self.reg_controls == other.reg_controls
            && self.cap_controls == other.cap_controls
            && self.protective_devices == other.protective_devices
            && self.open_terminals == other.open_terminals
            && self.xy_curves == other.xy_curves
    }

    /// Find a transformer by lower-case name.
    pub fn transformer(&self, name: &str) -> Option<&Transformer> {
        self.transformers.iter().find(|t| t.name == name)
    }
    /// Find a capacitor by lower-case name.
    pub fn capacitor(&self, name: &str) -> Option<&Capacitor> {
        self.capacitors.iter().find(|c| c.name == name)
    }
    /// Find a line by lower-case name.
    pub fn line(&self, name: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.name == name)
    }
    /// Phases of a circuit element (line, transformer, capacitor, reactor, source, load,
    /// generator, PV system, storage) by kind and lower-case name; `None` for other kinds or
    /// an unknown name.
    pub fn element_phases(&self, id: &ElementId) -> Option<usize> {
        fn find<T>(list: &[T], name: &str, of: impl Fn(&T) -> (&str, usize)) -> Option<usize> {
            list.iter()
                .map(of)
                .find(|(n, _)| *n == name)
                .map(|(_, p)| p)
        }
        let n = id.name.as_str();
        match id.kind {
            ElementKind::Line => find(&self.lines, n, |e| (&e.name, e.phases)),
            ElementKind::Transformer => find(&self.transformers, n, |e| (&e.name, e.phases)),
            ElementKind::Capacitor => find(&self.capacitors, n, |e| (&e.name, e.phases)),
            ElementKind::Reactor => find(&self.reactors, n, |e| (&e.name, e.phases)),
            ElementKind::Vsource => find(&self.sources, n, |e| (&e.name, e.phases)),
            ElementKind::Load => find(&self.loads, n, |e| (&e.name, e.phases)),
            ElementKind::Generator => find(&self.generators, n, |e| (&e.name, e.phases)),
            ElementKind::PvSystem => find(&self.pv_systems, n, |e| (&e.name, e.phases)),
            ElementKind::Storage => find(&self.storages, n, |e| (&e.name, e.phases)),
            _ => None,
        }
    }
    /// Find a load shape by lower-case name.
    pub fn load_shape(&self, name: &str) -> Option<&LoadShape> {
        self.load_shapes.iter().find(|s| s.name == name)
    }
    /// Find a temperature shape (`TShape`) by lower-case name.
    pub fn t_shape(&self, name: &str) -> Option<&LoadShape> {
        self.t_shapes.iter().find(|s| s.name == name)
    }
}
