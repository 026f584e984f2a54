//! # vgrid: planning and operating distribution grids
//!
//! The one public Rust API of vgrid. It re-exports the engine's crates and adds the
//! [`Session`], which runs an OpenDSS script as OpenDSS would: every `Solve` in the script is a
//! power flow with the static control loop (regulators, switched capacitors), whose final tap
//! positions and capacitor states are written back into the model for the commands that follow.
//!
//! ```no_run
//! use vgrid::{Session, ReadOptions};
//! let mut s = Session::new(ReadOptions::default());
//! s.run_file("feeder/Master.dss".as_ref()).unwrap();
//! let sol = s.solve().unwrap();
//! println!("converged={} losses={:.1} kW", sol.converged, sol.losses_kw);
//! ```

use std::path::Path;

pub use vgrid_dss::{self as dss, Diagnostic, Directive, DssError, ReadOptions, Reader};
pub use vgrid_model::{self as model, Network};
pub use vgrid_network::{self as network, C64};
pub use vgrid_powerflow::{self as powerflow, PfStatus};
pub use vgrid_timeseries::{self as timeseries, Simulation};

use vgrid_model::ControlMode;
use vgrid_powerflow::control::Controls;
use vgrid_powerflow::solve::{PowerFlowError, System};

mod report;
pub use report::{BranchLoss, ElementLoading, NodeVoltage, Solution, TapPosition};

/// Anything that stops a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Dss(#[from] DssError),
    #[error(transparent)]
    PowerFlow(#[from] PowerFlowError),
    #[error("nothing to solve: {0}")]
    Empty(String),
}

/// An OpenDSS-style session: a reader holding the model, and the solutions of every `Solve`.
pub struct Session {
    reader: Reader,
    solutions: Vec<Solution>,
    warm: Warm,
    /// Skip the `Solve` commands of scripts (solve explicitly with [`Session::solve`]).
    pub ignore_script_solves: bool,
}

impl Session {
    pub fn new(options: ReadOptions) -> Session {
        Session {
            reader: Reader::new(options),
            solutions: Vec::new(),
            warm: Warm::default(),
            ignore_script_solves: false,
        }
    }

    /// The model as it stands.
    pub fn network(&self) -> &Network {
        self.reader.network()
    }

    /// Mutable access to the model (edits between solves).
    pub fn network_mut(&mut self) -> &mut Network {
        self.reader.network_mut()
    }

    /// Warnings collected by the reader (unknown properties in lenient mode, ignored commands).
    pub fn warnings(&self) -> &[Diagnostic] {
        self.reader.warnings()
    }

    /// Solutions of the `Solve` commands run so far, in order.
    pub fn solutions(&self) -> &[Solution] {
        &self.solutions
    }

    /// Run a script file; its `Solve` commands solve (unless [`Session::ignore_script_solves`]).
    pub fn run_file(&mut self, path: &Path) -> Result<(), Error> {
        let mut out = Vec::new();
        let skip = self.ignore_script_solves;
        let warm = &mut self.warm;
        let r = self
            .reader
            .run_file(path, &mut |net, d| handle(net, d, skip, &mut out, warm));
        self.solutions.extend(out);
        r.map_err(Error::from)
    }

    /// Run one command line, e.g. `Set controlmode=off` or `Transformer.reg1.taps=[1 1.0625]`.
    pub fn run_command(&mut self, line: &str) -> Result<(), Error> {
        let mut out = Vec::new();
        let skip = self.ignore_script_solves;
        let warm = &mut self.warm;
        let r = self
            .reader
            .run_command(line, &mut |net, d| handle(net, d, skip, &mut out, warm));
        self.solutions.extend(out);
        r.map_err(Error::from)
    }

    /// Solve the model as it stands (power flow with controls), and write the final taps and
    /// capacitor states back into the model.
    pub fn solve(&mut self) -> Result<Solution, Error> {
        let sol = self.warm.solve(self.reader.network_mut())?;
        self.solutions.push(sol.clone());
        Ok(sol)
    }
}

/// The solver of the last solve, kept while the circuit stays as it was: a second `Solve` of
/// an unchanged circuit continues from the factorised system, its voltages and the controls'
/// state, as OpenDSS does, instead of rebuilding everything.
#[derive(Default)]
struct Warm {
    solver: Option<SnapshotSolver>,
}

impl Warm {
    fn solve(&mut self, net: &mut Network) -> Result<Solution, Error> {
        let solver = match self.solver.take() {
            // the solver's own copy of the circuit carries the taps it wrote back
            Some(s) if s.net.same_circuit(net) => s,
            _ => SnapshotSolver::new(net)?,
        };
        let solver = self.solver.insert(solver);
        let sol = solver.solve()?;
        solver.write_back(net);
        Ok(sol)
    }
}

fn handle(
    net: &mut Network,
    d: Directive,
    skip: bool,
    out: &mut Vec<Solution>,
    warm: &mut Warm,
) -> Result<(), String> {
    match d {
        Directive::Solve if !skip => {
            let sol = warm.solve(net).map_err(|e| e.to_string())?;
            out.push(sol);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Solve `net` once: build the system, set voltage bases, run the control loop, and write the
/// final tap positions and capacitor states back into `net`.
pub fn solve_network(net: &mut Network) -> Result<Solution, Error> {
    let mut snap = SnapshotSolver::new(net)?;
    let sol = snap.solve()?;
    snap.write_back(net);
    Ok(sol)
}

/// Tolerance of the power flows inside the control loop (relative voltage change).
const CONTROL_TOLERANCE: f64 = 1e-6;

/// A solver kept warm between solves: the factorised system, its voltages and the controls'
/// state. Re-solving after a load change reuses all of it (no rebuild, no refactorisation
/// unless a tap or capacitor moves).
pub struct SnapshotSolver {
    sys: System,
    controls: Option<Controls>,
    net: Network,
}

impl SnapshotSolver {
    /// Lower `net`, factorise, find the voltage bases from the no-load solution.
    pub fn new(net: &Network) -> Result<SnapshotSolver, Error> {
        let mut sys = System::new(net)?;
        sys.initialize()?;
        report::assign_voltage_bases(&mut sys, net);
        let controlled = net.settings.control_mode != ControlMode::Off
            && (net.reg_controls.iter().any(|r| r.enabled)
                || net.cap_controls.iter().any(|c| c.enabled));
        let mut net = net.clone_without_shapes();
        Ok(SnapshotSolver {
            controls: controlled.then(|| Controls::new(&net)),
            sys,
            net: std::mem::take(&mut net),
        })
    }

    /// Solve with the control loop, and report.
    pub fn solve(&mut self) -> Result<Solution, Error> {
        let (outcome, report) = self.solve_quiet()?;
        Ok(report::solution(&self.sys, &self.net, outcome, report))
    }

    /// Solve with the control loop, without building the full report. The outcome's
    /// `iterations` are the power-flow iterations summed over every control iteration, as
    /// OpenDSS counts them.
    pub fn solve_quiet(
        &mut self,
    ) -> Result<
        (
            vgrid_powerflow::PfOutcome,
            Option<vgrid_powerflow::control::ControlReport>,
        ),
        Error,
    > {
        self.sys.reset_iteration_count();
        let report = match self.controls.as_mut() {
            Some(c) => {
                // Controls decide on voltages converged to 1e-6 (OpenDSS decides on 1e-4);
                // the final state is then polished to the full tolerance.
                let tight = self.sys.settings.tolerance;
                self.sys.settings.tolerance = tight.max(CONTROL_TOLERANCE);
                let r = c.solve_snapshot(&mut self.sys, &self.net);
                self.sys.settings.tolerance = tight;
                Some(r)
            }
            None => None,
        };
        let mut outcome = match self.sys.last_outcome() {
            Some(o) if report.is_some() && o.status != PfStatus::Converged => o.clone(),
            _ => self.sys.solve()?,
        };
        outcome.iterations = self.sys.iteration_count();
        Ok((outcome, report))
    }

    /// Change one load's nominal kW and kvar (by load name, lower-case). Returns false when
    /// there is no such load.
    pub fn set_load(&mut self, name: &str, p_kw: f64, q_kvar: f64) -> bool {
        match self.net.loads.iter().position(|l| l.name == name) {
            Some(i) => {
                self.net.loads[i].p_kw = p_kw;
                self.net.loads[i].q_kvar = q_kvar;
                self.sys.set_load_kw_kvar(i, p_kw, q_kvar);
                true
            }
            None => false,
        }
    }

    /// The numerical system (voltages, branch currents, ...).
    pub fn system(&self) -> &System {
        &self.sys
    }

    /// Write the present taps and capacitor states into `net` (and into the solver's own copy
    /// of the circuit).
    pub fn write_back(&mut self, net: &mut Network) {
        Self::copy_state(&self.sys, net);
        Self::copy_state(&self.sys, &mut self.net);
    }

    /// Taps and capacitor states from the system into `net` (same tables, same order, as the
    /// system was built from this circuit).
    fn copy_state(sys: &System, net: &mut Network) {
        for (mt, t) in net.transformers.iter_mut().zip(&sys.model().transformers) {
            if mt.name == t.name {
                for (w, tw) in mt.windings.iter_mut().zip(&t.windings) {
                    w.tap_pu = tw.tap_pu;
                }
            }
        }
        for (mc, c) in net.capacitors.iter_mut().zip(&sys.model().capacitors) {
            if mc.name == c.name {
                mc.states.clone_from(&c.states);
            }
        }
    }
}
