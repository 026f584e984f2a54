//! # vgrid-timeseries: quasi-static time series as OpenDSS runs them
//!
//! A time series solves the same circuit at many instants: loads follow their load shapes,
//! regulators and capacitors follow the voltages, and each step's results are streamed out.
//! This crate reproduces OpenDSS's `Set mode=yearly|daily|duty` runs step for step:
//!
//! | OpenDSS | here |
//! |---|---|
//! | `LoadShape` (`mult`, `qmult`, `interval`/`sinterval`/`minterval`, `hour=[...]`, `useactual`) | [`Shape`], sampled by [`Shape::at_hour`] exactly as `GetMultAtHour` |
//! | `Load.yearly=` / `daily=` / `duty=`, `status=fixed/exempt`, `Set loadmult` | what a load draws at each hour (see below) |
//! | `Generator.yearly=`..., `PVSystem.yearly=`... (irradiance), `PVSystem.Tyearly=`... (`TShape`, panel temperature) | their output at each hour |
//! | `Storage` (`dispmode=follow`/`default`, state of charge), `StorageController` (peak shaving, support, valley filling, time triggers, its own load shape) | [`storage`]; [`Simulation::storages`] after each step |
//! | `Set mode=`, `number=`, `stepsize=`, `hour=`, `sec=` | [`Simulation::new`] reads them from `Network::settings` |
//! | `Increment_time` then `SolveSnap` per step | [`Simulation::step`], [`Simulation::run`] |
//! | `controlmode=static` (default) / `time` / `off` | the controls of `vgrid-powerflow`, kept across steps |
//! | monitors and meters | a [`StepSink`] receiving a [`StepReport`] per step ([`CsvSink`]) |
//!
//! ```no_run
//! # fn demo(mut net: vgrid_model::Network) -> Result<(), vgrid_timeseries::Error> {
//! use vgrid_model::SolveMode;
//! use vgrid_timeseries::Simulation;
//! net.settings.mode = SolveMode::Yearly;
//! net.settings.number = 8760;
//! net.settings.step_size_s = 3600.0;
//! let mut sim = Simulation::new(&net)?;
//! let mut worst_vpu = f64::INFINITY;
//! let summary = sim.run(&mut |r: &vgrid_timeseries::StepReport| worst_vpu = worst_vpu.min(r.vpu_min))?;
//! println!("{} hours, lowest voltage {worst_vpu:.4} pu", summary.steps);
//! # Ok(()) }
//! ```
//!
//! ## What a load draws
//! At each step every load gets the nominal power OpenDSS's `Load.SetNominalLoad` gives it:
//! its base kW and kvar times the multipliers of its shape at the step's hour, times the load
//! multiplier (`status=fixed` loads stay at their base; `exempt` ones skip the load multiplier
//! in daily and duty runs but, as in OpenDSS, not in yearly ones). In yearly runs the shape is
//! `yearly=` (a `daily=` given alone stands in for it); in daily runs `daily=`; in duty runs
//! `duty=`, else `daily=`. A load without a shape keeps its base power. Shapes with actual
//! values (`useactual=yes`) give the kW (and kvar) directly.
//!
//! ## Fidelity to OpenDSS
//! Checked against OpenDSS (DSS C-API 0.14.5) at 1e-10 tolerance, every step
//! (`tests/opendss_timeseries.rs`):
//!
//! | case | steps | largest difference |
//! |---|---|---|
//! | IEEE 123, `LoadShape1` yearly, 7 regulators, static control | 8,760 h | min/max voltage 4e-10 pu, all node voltages at hours 1, 4380, 8760 8e-9 pu, source kW 5e-9 relative, taps identical every hour |
//! | IEEE 123, `controlmode=time`, from hour 4000 | 192 × 15 min | 3e-10 pu, taps identical (one tap per regulator per step) |
//! | European LV feeder, 55 one-minute profiles | 1,440 min | 1e-10 pu, node voltages 5e-9 pu, every load's voltage every minute within OpenDSS's own 1e-4-tolerance error |
//! | the same with constant-PQ loads (`vmaxpu=1.2`) | 1,440 min | 1e-10 pu |
//! | a small feeder: loads (`status=fixed`, `daily=` only), a generator with P and Q multipliers, a PV system following its irradiance shape | 48 h | 5e-11 pu, PV and generator output 1e-11 of rating |
//! | storage following a daily shape (reserve and full reached), storage on charge/discharge triggers, idle storage, PV with a `TShape` and P-T and efficiency curves (`tests/storage.rs`) | 48 h | 1.4e-11 pu, storage kW 9e-12 and kWh 3e-12 of rating, PV 9e-12 of Pmpp |
//! | a StorageController peak-shaving a transformer, charging at 2:00 | 192 × 15 min | 8e-11 pu, storage kW 2.7e-10, kWh 2.7e-10 of rating, source 6e-11 |
//! | two weighted batteries, peak shaving and valley filling (`PeakShaveLow`) | 96 × 30 min | 8.5e-11 pu, storage kW 1.4e-10, kWh 1.8e-10 of rating |
//! | a StorageController in `LoadShape` modes (two batteries) and one in `Support` mode | 96 × 30 min | 8.7e-11 pu, storage kW 1.4e-11, kWh 4e-12 of rating |
//! | a StorageController and a RegControl in one control loop (taps 3..5) | 96 × 15 min | 8e-11 pu, storage kW 1.9e-10, kWh 3.3e-10 of rating, source 1e-10 |
//! | the bundled village with `examples/village/battery.dss` (3 line regulators, 200 kW / 1000 kWh peak-shaving `tb`), OpenDSS at 1e-8 | 35,040 × 15 min | battery kW 3e-6 kW, kWh 8e-6 kWh, source power 1.2e-8 relative, every step |
//!
//! Generators follow their shapes (kW × P multiplier, kvar × Q multiplier), PV systems their
//! irradiance shapes (`yearly=`, else `daily=`) and temperature shapes. Not modelled yet: load
//! growth beyond year 1, CVR shapes, `genmult`, generator dispatch,
//! price curves, energy meters and monitors (a [`StepSink`] takes their place). OpenDSS's `default` load shape (`Set defaultyearly`)
//! does not drive loads (a load without a shape keeps its base power, `Load.pas`); it only sets
//! the hour multiplier generators use for dispatch.
//!
//! ## Speed
//! The system is factorised once; a step replaces the loads' current laws, starts from a
//! predicted voltage and iterates to 1e-9 ([`Simulation::set_tolerance_pu`] trades about one
//! iteration per step per decade). Where one shape drives every load, the prediction is the
//! interpolation of earlier solutions remembered by load level and tap positions (the
//! `start_cache` module, [`Simulation::set_start_cache`]; bounded at 16 MiB): the IEEE 123
//! year takes 1.83 iterations per step instead of 6.94. Elsewhere it is the last step's
//! change scaled along the load change. `examples/yearly_timing.rs` times both reference
//! runs.
//!
//! Modules: [`shape`] (sampling), [`clock`] (time), `profile` (a load's power at an hour),
//! [`simulation`] (the step loop), `start_cache` (remembered start voltages), [`sink`] (streamed results), [`study`] (what a run found:
//! per element, per bus, trip risks).

/// The reading half of `ControlledSystem` for a wrapper around the power-flow system (a field
/// `sys: &mut System`): voltages, currents and places come from the system itself, so the
/// controls see through the wrapper (`start_cache::Remembering`, `storage::WithStorage`);
/// each wrapper writes its own `solve_power_flow`, `set_tap` and `set_capacitor_states`.
macro_rules! controlled_reads_from_sys {
    () => {
        fn terminal_voltages(
            &self,
            element: &vgrid_model::ElementId,
            terminal: usize,
        ) -> Option<Vec<vgrid_network::C64>> {
            self.sys.terminal_voltages(element, terminal)
        }
        fn terminal_currents(
            &self,
            element: &vgrid_model::ElementId,
            terminal: usize,
        ) -> Option<Vec<vgrid_network::C64>> {
            self.sys.terminal_currents(element, terminal)
        }
        fn terminal_current(
            &self,
            element: &vgrid_model::ElementId,
            terminal: usize,
            conductor: usize,
        ) -> Option<vgrid_network::C64> {
            self.sys.terminal_current(element, terminal, conductor)
        }
        fn node_voltage(&self, bus: &str, node: u32) -> Option<vgrid_network::C64> {
            self.sys.node_voltage(bus, node)
        }
        fn layout_id(&self) -> u64 {
            vgrid_powerflow::control::ControlledSystem::layout_id(self.sys)
        }
        fn locate(&self, element: &vgrid_model::ElementId) -> Option<usize> {
            vgrid_powerflow::control::ControlledSystem::locate(self.sys, element)
        }
        fn located_terminal_voltages(
            &self,
            at: usize,
            terminal: usize,
            out: &mut Vec<vgrid_network::C64>,
        ) -> bool {
            self.sys.located_terminal_voltages(at, terminal, out)
        }
        fn located_terminal_current(
            &self,
            at: usize,
            terminal: usize,
            conductor: usize,
        ) -> Option<vgrid_network::C64> {
            self.sys.located_terminal_current(at, terminal, conductor)
        }
    };
}

pub mod clock;
mod profile;
pub mod shape;
pub mod simulation;
pub mod sink;
mod start_cache;
pub mod storage;
pub mod study;

pub use clock::Clock;
pub use shape::{Shape, ShapeError};
pub use simulation::{RunSummary, Simulation};
pub use sink::{CsvSink, RunHeader, SinkError, StepReport, StepSink};
pub use storage::StorageStatus;
pub use study::{Study, StudyOptions, StudyResults, TripRisk, VoltageBand, VoltageClass};

use vgrid_powerflow::solve::PowerFlowError;

/// Anything that stops a time-series run. (A step that does not converge does not: it is
/// reported in its [`StepReport`] and the run goes on.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A shape a load follows cannot be sampled.
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// An element names a shape that is not defined.
    #[error("{element} follows LoadShape.{shape}, which is not defined")]
    MissingShape { element: String, shape: String },
    /// A control or dispatch mode vgrid does not model (see [`storage`]).
    #[error("{what} is not modelled by vgrid's time series")]
    Unsupported { what: String },
    /// An element names another that does not exist.
    #[error("{element} names {missing}, which is not defined")]
    MissingElement { element: String, missing: String },
    /// The step size cannot advance the clock.
    #[error("the step size is {step_size_s} s; it must be a positive number of seconds (set stepsize=1h, 15m, 60s...)")]
    BadStepSize { step_size_s: f64 },
    /// Stepping was asked of a snapshot-mode circuit.
    #[error("the solution mode is snapshot: set mode=yearly, daily or duty to run a time series")]
    NotATimeMode,
    #[error(transparent)]
    PowerFlow(#[from] PowerFlowError),
    #[error(transparent)]
    Sink(#[from] SinkError),
}
