//! # vgrid-simbench: SimBench grids as vgrid networks
//!
//! [SimBench](https://simbench.de) publishes benchmark distribution grids as a folder of
//! `;`-separated CSV tables (`Node.csv`, `Line.csv`, `LineType.csv`, `Transformer.csv`, ...) with
//! a year of 15-minute profiles (`LoadProfile.csv`, `RESProfile.csv`). This crate reads such a
//! folder into a [`vgrid_model::Network`] of balanced three-phase elements whose
//! positive-sequence behaviour is pandapower's (the model SimBench's own tools convert to), so
//! that vgrid's power flow reproduces pandapower's `runpp` results.
//!
//! ```no_run
//! let grid = vgrid_simbench::read_grid("1-LV-rural1--0-sw".as_ref()).unwrap();
//! println!("{} buses, {} steps", grid.nodes.len(), grid.steps);
//! // the circuit with every load and RES at its value of quarter-hour 9452
//! let net = grid.network_at_step(9452).unwrap();
//! assert!(net.load_shapes.is_empty());
//! ```
//!
//! ## Mapping
//! | SimBench table (columns) | vgrid element | notes |
//! |---|---|---|
//! | `Node` (`id`, `vmR` kV, `type`) | bus, lower-case `id` | nodes joined by closed switches are one bus, named after its first non-auxiliary node ([`Grid::nodes`] maps every node to its bus); `vmR` is the bus's kV base |
//! | `Switch` (`nodeA`, `nodeB`, `cond`) | none | `cond = 1`: the two nodes are fused (pandapower's ideal switch, `z_ohm = 0`); `cond = 0`: nothing connects them |
//! | `ExternalNet` (`node`, `calc_type = vavm`) | `Vsource`, 3 phases, `base_kv = vmR`, `pu = vmSetp`, `angle = vaSetp` of the node | a stiff source: impedance [`build::SLACK_Z_PU`] (1e-9 pu on the grid's rated power), so it holds its bus at the set-point as pandapower's ideal `ext_grid` does (measured effect < 1e-9 pu) |
//! | `Line` (`nodeA`, `nodeB`, `type`, `length` km) + `LineType` (`r`, `x` Ω/km, `b` µS/km, `iMax` A) | `Line`, sequence impedances with `Z0 = Z1` (no mutual coupling), `C = b/ω` | π model with half the charging at each end, as pandapower |
//! | `Transformer` (`nodeHV`, `nodeLV`, `type`, `tappos`) + `TransformerType` (`sR` MVA, `vmHV`, `vmLV` kV, `va0`°, `vmImp` %, `pCu`, `pFe` kW, `iNoLoad` %, `tapside`, `dVm` %, `tapNeutr`) | two `Transformer`s `<id>` and `<id>#lv` meeting at bus `<id>#mid` | pandapower's T-model, exactly: see [`transformer`] |
//! | `Load` (`node`, `pLoad` MW, `qLoad` Mvar, `profile`) | `Load`, 3-phase wye, constant PQ (`vmin_pu = 0`, `vmax_pu = 10`), `yearly = load:<profile>` | vgrid (like OpenDSS) still turns a load into a constant impedance below 0.5 pu |
//! | `RES` (`node`, `pRES` MW, `qRES` Mvar, `sR` MVA, `profile`, `calc_type = pq`) | `Generator`, model 1 (constant PQ), `yearly = res:<profile>` | |
//! | `LoadProfile` (`<profile>_pload`, `<profile>_qload`) | `LoadShape` `load:<profile>`, `interval_h = 0.25`, per-unit `p_mult`, `q_mult` | row k = quarter-hour k (the local-time labels are ignored) |
//! | `RESProfile` (`<profile>`) | `LoadShape` `res:<profile>`, `p_mult`; `q_mult = 1` | SimBench scales only the RES active power |
//! | `Coordinates` (`x`, `y`) via `Node.coordID` | `bus_coords` | |
//! | `StudyCases` (`pload`, `qload`, `Wind_p`, `PV_p`, `RES_p`, `Slack_vm`) | [`Grid::study_cases`] | [`Grid::network_for_study_case`] applies one |
//! | `Measurement`, `Substation` | ignored | no electrical effect |
//! | `Transformer3W`, `PowerPlant`, `Storage`, `Shunt`, `DCLine`, `Ward`, `ExtWard` | refused ([`ErrorKind::Unsupported`]) when they have rows | |
//!
//! All powers are converted from MW/Mvar/MVA to kW/kvar/kVA, lengths from km to m.
//!
//! ## Tap positions
//! `Transformer.tappos` is applied by default ([`TapPositions::Applied`]): the tapped winding's
//! ratio is `1 + (tappos − tapNeutr)·dVm/100`. pandapower 3.x applies a tap only when the
//! trafo's `tap_changer_type` is set, and SimBench's converter (simbench 1.6.3) leaves it empty,
//! so pandapower's results for SimBench grids are at the *neutral* position whatever `tappos`
//! says; [`TapPositions::Neutral`] reproduces them.
//!
//! ## Internal buses
//! Each transformer adds one bus, `<id>#mid`, the midpoint of its T-model (kV base: the LV
//! node's). Its voltage is a modelling artefact between the HV and LV voltages; it appears in
//! vgrid's voltage lists and min/max statistics like any bus.
//!
//! ## Agreement with pandapower
//! `tests/it/pandapower.rs` solves the three SimBench grids of `../shared/simbench` at pandapower's
//! five reference steps each and compares every bus (taps at neutral, see above): largest
//! deviations 5.4e-9 pu in magnitude and 2.9e-7° in angle (1-LV-urban6, 1-LV-rural1,
//! 1-MV-urban), branch losses within 1.1e-6 kW, line currents within 5e-5 A, slack power within
//! 2e-7 of the grid's rated power. `tests/it/tmodel.rs` checks the transformer model alone
//! against pandapower's formulas (LV-side taps and other phase shifts included).
//!
//! ## Not modelled
//! * `autoTap` (automatic tap changers): each transformer stays at `tappos` (pandapower's
//!   references were also computed without controllers).
//! * `Transformer3W`, `PowerPlant`, `Storage`, `Shunt`, `DCLine`, ward equivalents: refused.
//! * `ExternalNet` types other than `vavm`; `RES` with `calc_type` other than `pq`.
//! * Phase shifts of 60°, 180°, 300° (Yy6, Dd6, ...) and phase-shifting tap changers.
//! * Line conductance (SimBench line types have none), parallel lines and out-of-service
//!   elements (SimBench's tables have no such columns).
//!
//! ## Errors
//! Every problem is an [`Error`] naming the file, the line (the header is line 1) and the
//! column: a missing table or column, a non-numeric or missing value, an id that another table
//! refers to but that does not exist (a broken foreign key names the referring cell), a
//! duplicate id, a value outside its range, or an element kind the reader does not model.
//! Nothing panics on bad input.

#![forbid(unsafe_code)]

pub mod build;
mod error;
mod profile;
mod table;
pub mod transformer;

use std::collections::HashMap;
use std::path::Path;

pub use build::{load_shape_name, res_shape_name, FREQUENCY_HZ, SLACK_Z_PU};
pub use error::{Error, ErrorKind};
pub use profile::PROFILE_INTERVAL_H;
use vgrid_model::Network;

/// Whether `Transformer.tappos` is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TapPositions {
    /// Each transformer at its `tappos` (SimBench's intent).
    #[default]
    Applied,
    /// Every transformer at its neutral tap (what pandapower 3.x computes for SimBench grids,
    /// whose converted trafos have no `tap_changer_type`).
    Neutral,
}

/// Reader settings.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub taps: TapPositions,
}

/// One SimBench node and the vgrid bus it became.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    /// SimBench id, as written.
    pub id: String,
    /// vgrid bus (lower-case); fused nodes share it.
    pub bus: String,
    /// Rated voltage `vmR`, kV line-to-line.
    pub vn_kv: f64,
}

/// A SimBench grid read into vgrid's model.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The circuit at rated values, with one load shape per profile.
    pub network: Network,
    /// Every node of `Node.csv`, in file order.
    pub nodes: Vec<NodeInfo>,
    /// Number of profile steps (quarter-hours) every shape has.
    pub steps: usize,
    /// SimBench `RES.type` of each generator (`PV`, `Wind`, `lv_RES`, ...), in the order of
    /// `network.generators`.
    pub generator_types: Vec<String>,
    /// The grid's study cases (`StudyCases.csv`; empty without that table).
    pub study_cases: Vec<StudyCase>,
}

/// One row of `StudyCases.csv`: scaling factors of SimBench's planning cases (`hL` high load,
/// `n1`, `hW` high wind, `hPV` high PV, `lW`, `lPV`), applied to rated values.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyCase {
    pub name: String,
    /// Factors of every load's rated active and reactive power (`pload`, `qload`).
    pub load_p: f64,
    pub load_q: f64,
    /// Factors of the RES of type `Wind`, of type `PV`, and of every other RES (`Wind_p`,
    /// `PV_p`, `RES_p`); they scale active and reactive power.
    pub wind_p: f64,
    pub pv_p: f64,
    pub res_p: f64,
    /// Voltage set-point of every external net, pu (`Slack_vm`).
    pub slack_vm_pu: f64,
}

/// Read the SimBench grid in folder `dir`, applying each transformer's tap position.
pub fn read_grid(dir: &Path) -> Result<Grid, Error> {
    read_grid_with(dir, &ReadOptions::default())
}

/// Read the SimBench grid in folder `dir` with `options`.
pub fn read_grid_with(dir: &Path, options: &ReadOptions) -> Result<Grid, Error> {
    build::read_grid(dir, options)
}

impl Grid {
    /// The circuit of study case `name` (see [`StudyCase`]): loads and RES at their rated
    /// values times the case's factors, every source at the case's `Slack_vm`; no load shapes.
    pub fn network_for_study_case(&self, name: &str) -> Result<Network, Error> {
        let case = self
            .study_cases
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                Error::new(ErrorKind::UnknownReference {
                    value: name.to_string(),
                    table: "StudyCases.csv".into(),
                })
            })?;
        let mut net = self.network.clone_without_shapes();
        for l in &mut net.loads {
            l.p_kw *= case.load_p;
            l.q_kvar *= case.load_q;
            l.yearly = None;
        }
        for (g, kind) in net.generators.iter_mut().zip(&self.generator_types) {
            let factor = match kind.as_str() {
                "Wind" => case.wind_p,
                "PV" => case.pv_p,
                _ => case.res_p,
            };
            g.p_kw *= factor;
            g.q_kvar *= factor;
            g.yearly = None;
        }
        for s in &mut net.sources {
            s.pu = case.slack_vm_pu;
        }
        Ok(net)
    }

    /// The node with SimBench id `id`.
    pub fn node(&self, id: &str) -> Option<&NodeInfo> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The circuit at quarter-hour `step` (0-based row of the profiles): every load and
    /// generator with a profile gets `p = p_rated · p_mult[step]`, `q = q_rated · q_mult[step]`
    /// (`p_mult` when the shape has no `q_mult`, as OpenDSS). The copy has no load shapes and no
    /// `yearly` references.
    pub fn network_at_step(&self, step: usize) -> Result<Network, Error> {
        let mut net = self.network.clone_without_shapes();
        let shapes: HashMap<&str, &vgrid_model::LoadShape> = self
            .network
            .load_shapes
            .iter()
            .map(|s| (s.name.as_str(), s))
            .collect();
        let mult = |name: &Option<String>| -> Result<Option<(f64, f64)>, Error> {
            let Some(name) = name else { return Ok(None) };
            let s = shapes.get(name.as_str()).ok_or_else(|| {
                Error::new(ErrorKind::UnknownReference {
                    value: name.clone(),
                    table: "the network's load shapes".into(),
                })
            })?;
            let p = *s.p_mult.get(step).ok_or_else(|| {
                Error::new(ErrorKind::StepOutOfRange {
                    step,
                    steps: s.p_mult.len(),
                })
            })?;
            let q = if s.q_mult.is_empty() {
                p
            } else {
                *s.q_mult.get(step).ok_or_else(|| {
                    Error::new(ErrorKind::StepOutOfRange {
                        step,
                        steps: s.q_mult.len(),
                    })
                })?
            };
            Ok(Some((p, q)))
        };
        for l in &mut net.loads {
            if let Some((p, q)) = mult(&l.yearly)? {
                l.p_kw *= p;
                l.q_kvar *= q;
            }
            l.yearly = None;
        }
        for g in &mut net.generators {
            if let Some((p, q)) = mult(&g.yearly)? {
                g.p_kw *= p;
                g.q_kvar *= q;
            }
            g.yearly = None;
        }
        Ok(net)
    }
}
