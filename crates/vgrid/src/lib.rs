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
pub use vgrid_simbench as simbench;
pub use vgrid_timeseries::{self as timeseries, Simulation};

use vgrid_model::ControlMode;
use vgrid_powerflow::control::Controls;
use vgrid_powerflow::solve::{PowerFlowError, System};

mod report;
pub mod scenario;
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
/// state, as OpenDSS does, instead of rebuilding everything. So does a `Solve` after edits of
/// load powers only (`Load.x.kW=...`, `kvar`, `pf`): the changes go through
/// [`SnapshotSolver::set_load`], with its secant start when one load moves.
#[derive(Default)]
struct Warm {
    solver: Option<SnapshotSolver>,
}

impl Warm {
    fn solve(&mut self, net: &mut Network) -> Result<Solution, Error> {
        let solver = match self.solver.take() {
            // the solver's own copy of the circuit carries the taps it wrote back
            Some(s) if s.net.same_circuit(net) => s,
            // only load powers changed (`Load.x.kW=...`): keep the factors, voltages and
            // controls, as OpenDSS continues from its last solution
            Some(mut s) => match s.load_power_changes(net) {
                Some(changed) => {
                    for i in changed {
                        s.set_load_at(i, net.loads[i].p_kw, net.loads[i].q_kvar);
                    }
                    s
                }
                None => SnapshotSolver::new(net)?,
            },
            None => SnapshotSolver::new(net)?,
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
///
/// **Secant start.** When exactly one load changed since the last solve, and the last solve
/// was itself a change of that load along the same kW : kvar direction with no control action,
/// the flow starts from `V_prev + t·ΔV_last` (`t` = this change / last change, at most 4): a
/// cached linear sensitivity of the voltages to that load. When the solve before that was
/// also such a step, the start is the parabola through the last three solutions (unless the
/// points nearly coincide or the weights exceed 8). Only the start moves; the flow still
/// iterates until one iteration changes no node by more than the tolerance (1e-9), so the
/// answer is the same fixed point. The control loop's final polish to 1e-9 is skipped when
/// its last flow already met 1e-9 and no control acted after it.
///
/// The steps are not stored as voltage differences but as the solutions themselves: before a
/// solve after one load's change, one pass over the nodes both saves the present solution
/// `S₀` (it becomes the base of the next step) and moves the start, reading the two earlier
/// solutions `S₁`, `S₂` it keeps:
///
/// ```text
/// start = S₀ + t·(S₀ − S₁)                      linear
/// start = S₀ + α·(S₀ − S₁) + β·(S₁ − S₂)        parabola
/// ```
///
/// the same numbers as adding cached differences, without a second pass after the solve to
/// form them (on IEEE 123 these passes were ~10 % of a re-solve, mostly stores).
///
/// Measured with `bench/compare_opendss.py 20 3000` (one load alternating 100 % / 110 %, so
/// the secant is exact up to the previous solve's 1e-9 convergence), with the per-iteration
/// work of `vgrid-powerflow` also cut: IEEE 123 7 → 1 iteration per re-solve, 54 → 8 µs;
/// European LV 3 → 1, 163 → 50 µs; IEEE 13 12.5 → 1.7 µs. The same load on other patterns
/// (mean power-flow iterations, median µs per re-solve; linear secant only → with the
/// parabola): a triangle 100 → 150 → 100 % in 10 % steps, IEEE 123 2.6 it / 20 µs → 1.4 it /
/// 8.2 µs, EULV 1.8 / 104 → 1.2 / 52; uniformly random 90–110 %, IEEE 123 2.4 / 14 → 2.1 / 8.3,
/// EULV 1.7 / 101 → 1.5 / 52.
pub struct SnapshotSolver {
    sys: System,
    controls: Option<Controls>,
    net: Network,
    /// Load changes since the last solve (see [`SnapshotSolver::set_load`]).
    pending: PendingChange,
    /// The solutions before the last solve (`[0]`) and before that (`[1]`), where `secant`
    /// and `older` say they are steps of one load.
    history: [Vec<C64>; 2],
    /// The system's voltages are a converged solution (a base for the next step).
    prev_valid: bool,
    /// This solve's prediction saved the solution it started from into `history[0]`.
    saved: bool,
    /// The last solve's load change (from `history[0]` to the present solution).
    secant: Option<Secant>,
    /// The step before `secant` (from `history[1]` to `history[0]`), of the same load along
    /// the same direction: with it the start is extrapolated on a parabola through the last
    /// three solutions.
    older: Option<Secant>,
}

/// Largest sum of weights `|α| + |β|` of the two cached steps in the parabolic start (beyond
/// it, the convergence noise of the steps would be amplified; the linear start is used).
const MAX_PARABOLA_WEIGHT: f64 = 8.0;

/// Largest multiple of the cached load change that the secant extrapolates.
const MAX_SECANT_RATIO: f64 = 4.0;

/// What changed since the last solve.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PendingChange {
    None,
    /// One load's power moved by `(dp_kw, dq_kvar)`.
    One {
        load: usize,
        dp_kw: f64,
        dq_kvar: f64,
    },
    /// Several loads moved: no prediction.
    Many,
}

/// A step between two kept solutions: load `load` moved by `(dp_kw, dq_kvar)` and nothing else
/// changed (no control action); the solutions' difference is a linear sensitivity.
struct Secant {
    load: usize,
    dp_kw: f64,
    dq_kvar: f64,
}

impl Secant {
    /// The factor `t` with `(dp, dq) = t·(self.dp, self.dq)`, when the new change is along the
    /// cached one (same load, same kW/kvar direction to 1e-12).
    fn ratio(&self, load: usize, dp_kw: f64, dq_kvar: f64) -> Option<f64> {
        if load != self.load {
            return None;
        }
        let norm2 = self.dp_kw * self.dp_kw + self.dq_kvar * self.dq_kvar;
        if norm2 <= 0.0 || !norm2.is_finite() {
            return None;
        }
        let t = (dp_kw * self.dp_kw + dq_kvar * self.dq_kvar) / norm2;
        let cross = dp_kw * self.dq_kvar - dq_kvar * self.dp_kw;
        let norm2_new = dp_kw * dp_kw + dq_kvar * dq_kvar;
        (t.is_finite() && cross.abs() <= 1e-12 * (norm2 * norm2_new).sqrt()).then_some(t)
    }
}

impl SnapshotSolver {
    /// Lower `net`, factorise, find the voltage bases from the no-load solution.
    pub fn new(net: &Network) -> Result<SnapshotSolver, Error> {
        let mut sys = System::new(net)?;
        sys.initialize()?;
        sys.assign_voltage_bases(net);
        let controlled = net.settings.control_mode != ControlMode::Off
            && (net.reg_controls.iter().any(|r| r.enabled)
                || net.cap_controls.iter().any(|c| c.enabled));
        let mut net = net.clone_without_shapes();
        Ok(SnapshotSolver {
            controls: controlled.then(|| Controls::new(&net)),
            sys,
            net: std::mem::take(&mut net),
            pending: PendingChange::None,
            history: [Vec::new(), Vec::new()],
            prev_valid: false,
            saved: false,
            secant: None,
            older: None,
        })
    }

    /// Solve with the control loop, and report.
    pub fn solve(&mut self) -> Result<Solution, Error> {
        let (outcome, summary) = self.solve_quiet()?;
        let report = summary
            .zip(self.controls.as_ref())
            .map(|(s, c)| c.report(s));
        Ok(report::solution(&self.sys, &self.net, outcome, report))
    }

    /// Solve with the control loop, without building the full report (nor the controls'
    /// final taps and capacitor states: a re-solve in which no control acts allocates
    /// nothing). The outcome's `iterations` are the power-flow iterations summed over every
    /// control iteration, as OpenDSS counts them.
    pub fn solve_quiet(
        &mut self,
    ) -> Result<
        (
            vgrid_powerflow::PfOutcome,
            Option<vgrid_powerflow::control::ControlSummary>,
        ),
        Error,
    > {
        self.predict();
        self.sys.reset_iteration_count();
        let report = match self.controls.as_mut() {
            Some(c) => {
                // Controls decide on voltages converged to 1e-6 (OpenDSS decides on 1e-4);
                // the final state is then polished to the full tolerance.
                let tight = self.sys.settings.tolerance;
                self.sys.settings.tolerance = tight.max(CONTROL_TOLERANCE);
                let r = c.run_snapshot(&mut self.sys, &self.net);
                self.sys.settings.tolerance = tight;
                Some(r)
            }
            None => None,
        };
        let tight = self.sys.settings.tolerance;
        let mut outcome = match self.sys.last_outcome() {
            Some(o) if report.is_some() && o.status != PfStatus::Converged => o.clone(),
            // the loop's last flow already met the full tolerance and no control acted after it
            Some(o)
                if report.as_ref().is_some_and(|r| r.settled)
                    && o.status == PfStatus::Converged
                    && o.max_change <= tight =>
            {
                o.clone()
            }
            _ => self.sys.solve()?,
        };
        outcome.iterations = self.sys.iteration_count();
        self.learn(&outcome, report.as_ref());
        Ok((outcome, report))
    }

    /// Start from the previous solution moved along the cached secant, when exactly one load
    /// changed since the last solve, along the direction (kW : kvar) of the last solve's change
    /// of that same load. The prediction only moves the starting point: the flow still iterates
    /// until one iteration changes no voltage by more than the tolerance. In the same pass the
    /// present solution is saved as the base of the next step (whenever one load changed).
    fn predict(&mut self) {
        self.saved = false;
        let PendingChange::One {
            load,
            dp_kw,
            dq_kvar,
        } = self.pending
        else {
            return;
        };
        if !self.prev_valid {
            return;
        }
        let v = self.sys.voltages();
        let n = v.len();
        let [spare, last] = &mut self.history;
        // `last` becomes the solution before this one (S₁); `spare` (S₂, read first where
        // the parabola needs it) receives the start, then changes place with the present
        // solution S₀, which thus becomes `history[0]`
        std::mem::swap(spare, last);
        let known = last.len() == n;
        let t = self
            .secant
            .as_ref()
            .filter(|_| known)
            .and_then(|s| s.ratio(load, dp_kw, dq_kvar).map(|t| (s, t)))
            // extrapolation: keep it near the steps it was learnt from
            .filter(|&(_, t)| t.abs() <= MAX_SECANT_RATIO);
        // The last solution is at x = 0, the one before at x = −1 (S₀ − S₁ apart), the older
        // one at x = −1 − r (S₁ − S₂ apart, r = older step / last step). Newton's form of the
        // parabola through them, at x = t: S₀ + α·(S₀ − S₁) + β·(S₁ − S₂).
        let parabola = t.and_then(|(s, t)| {
            let o = self.older.as_ref()?;
            let r = s.ratio(o.load, o.dp_kw, o.dq_kvar)?;
            // three distinct points, not too far apart, and modest weights
            if r.abs() < 0.1 || (1.0 + r).abs() < 0.25 || spare.len() != n {
                return None;
            }
            let alpha = t + t * (t + 1.0) / (1.0 + r);
            let beta = -t * (t + 1.0) / (r * (1.0 + r));
            (alpha.abs() + beta.abs() <= MAX_PARABOLA_WEIGHT).then_some((alpha, beta))
        });
        match (t, parabola) {
            (Some(_), Some((alpha, beta))) => {
                for ((x, &s0), &s1) in spare.iter_mut().zip(v).zip(last.iter()) {
                    *x = s0 + (s0 - s1) * alpha + (s1 - *x) * beta;
                }
            }
            (Some((_, t)), None) => {
                spare.resize(n, C64::new(0.0, 0.0));
                for ((x, &s0), &s1) in spare.iter_mut().zip(v).zip(last.iter()) {
                    *x = s0 + (s0 - s1) * t;
                }
            }
            (None, _) => {
                // no prediction: the start is the present solution
                spare.clear();
                spare.extend_from_slice(v);
            }
        }
        self.saved = self.sys.swap_start_voltages(spare);
    }

    /// After a solve: the one load's change that led from the saved solution to this one is
    /// the new secant, if the flow converged and no control acted (a tap or capacitor move is
    /// no load sensitivity).
    fn learn(
        &mut self,
        outcome: &vgrid_powerflow::PfOutcome,
        report: Option<&vgrid_powerflow::control::ControlSummary>,
    ) {
        let pending = std::mem::replace(&mut self.pending, PendingChange::None);
        let saved = std::mem::take(&mut self.saved);
        let converged = outcome.status == PfStatus::Converged;
        let quiet = converged && report.is_none_or(|r| r.settled && r.control_iterations == 1);
        // a converged solution after control actions is still the base of the next step
        self.prev_valid = converged;
        if let PendingChange::One {
            load,
            dp_kw,
            dq_kvar,
        } = pending
        {
            if quiet && saved {
                // the last step becomes the older one if it moved the same load the same way
                let last = self.secant.take();
                self.older = last.filter(|c| c.ratio(load, dp_kw, dq_kvar).is_some());
                self.secant = Some(Secant {
                    load,
                    dp_kw,
                    dq_kvar,
                });
                return;
            }
        }
        if !quiet || pending != PendingChange::None {
            self.secant = None;
            self.older = None;
        }
    }

    /// Change one load's nominal kW and kvar (by load name, lower-case). Returns false when
    /// there is no such load.
    pub fn set_load(&mut self, name: &str, p_kw: f64, q_kvar: f64) -> bool {
        match self.net.loads.iter().position(|l| l.name == name) {
            Some(i) => {
                self.set_load_at(i, p_kw, q_kvar);
                true
            }
            None => false,
        }
    }

    /// [`SnapshotSolver::set_load`] by position in the circuit's load table.
    fn set_load_at(&mut self, i: usize, p_kw: f64, q_kvar: f64) {
        let (dp, dq) = (
            p_kw - self.net.loads[i].p_kw,
            q_kvar - self.net.loads[i].q_kvar,
        );
        self.pending = match self.pending {
            PendingChange::None => PendingChange::One {
                load: i,
                dp_kw: dp,
                dq_kvar: dq,
            },
            PendingChange::One {
                load,
                dp_kw,
                dq_kvar,
            } if load == i => PendingChange::One {
                load,
                dp_kw: dp_kw + dp,
                dq_kvar: dq_kvar + dq,
            },
            _ => PendingChange::Many,
        };
        self.net.loads[i].p_kw = p_kw;
        self.net.loads[i].q_kvar = q_kvar;
        self.sys.set_load_kw_kvar(i, p_kw, q_kvar);
    }

    /// The loads whose kW or kvar differ in `net`, when that is the only difference between
    /// `net` and the solver's circuit (so the solver can stay warm: [`Warm::solve`]).
    fn load_power_changes(&mut self, net: &Network) -> Option<Vec<usize>> {
        if self.net.loads.len() != net.loads.len() {
            return None;
        }
        let mut changed = Vec::new();
        for (i, (a, b)) in self.net.loads.iter().zip(&net.loads).enumerate() {
            if a == b {
                continue;
            }
            let mut c = a.clone();
            c.p_kw = b.p_kw;
            c.q_kvar = b.q_kvar;
            if c != *b {
                return None;
            }
            changed.push(i);
        }
        if changed.is_empty() {
            return None;
        }
        // everything else must be the same circuit
        let own = std::mem::replace(&mut self.net.loads, net.loads.clone());
        let same = self.net.same_circuit(net);
        self.net.loads = own;
        same.then_some(changed)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A small feeder: source, two line sections, a 3-phase and a 1-phase load.
    fn feeder() -> Network {
        let mut s = Session::new(ReadOptions::default());
        for c in [
            "new circuit.t basekv=12.47 pu=1.0 phases=3 bus1=src",
            "new line.l1 bus1=src bus2=b1 phases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 length=2 units=km",
            "new line.l2 bus1=b1 bus2=b2 phases=3 r1=0.3 x1=0.6 r0=0.6 x0=1.8 length=1 units=km",
            "new load.big bus1=b2 phases=3 kv=12.47 kw=1500 kvar=600",
            "new load.small bus1=b1.2 phases=1 kv=7.2 kw=300 kvar=100",
            "set voltagebases=[12.47]",
            "calcvoltagebases",
        ] {
            s.run_command(c).unwrap();
        }
        s.network().clone()
    }

    /// A fresh solve of `net` with load `name` at `(p, q)`.
    fn fresh(net: &Network, name: &str, p: f64, q: f64) -> Vec<C64> {
        let mut net = net.clone();
        let l = net.loads.iter_mut().find(|l| l.name == name).unwrap();
        l.p_kw = p;
        l.q_kvar = q;
        let mut s = SnapshotSolver::new(&net).unwrap();
        s.solve_quiet().unwrap();
        s.system().voltages().to_vec()
    }

    fn max_rel_diff(a: &[C64], b: &[C64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).norm() / y.norm().max(1.0))
            .fold(0.0, f64::max)
    }

    #[test]
    fn secant_start_keeps_the_solution_and_saves_iterations() {
        let net = feeder();
        let (p, q) = (1500.0, 600.0);
        let mut s = SnapshotSolver::new(&net).unwrap();
        s.solve_quiet().unwrap();
        assert!(s.set_load("big", 1.1 * p, 1.1 * q));
        let (first, _) = s.solve_quiet().unwrap();
        assert!(
            s.secant.is_some(),
            "one load changed, no control: secant kept"
        );
        // back to 100 %: the secant predicts the start, the flow still converges to 1e-9
        s.set_load("big", p, q);
        let (back, _) = s.solve_quiet().unwrap();
        assert_eq!(back.status, PfStatus::Converged);
        assert!(back.iterations < first.iterations, "{back:?} vs {first:?}");
        let d = max_rel_diff(s.system().voltages(), &fresh(&net, "big", p, q));
        assert!(d < 1e-8, "predicted start changed the answer by {d:e}");
        // a ramp beyond the learnt points (extrapolation) is still the same solution
        for f in [1.1, 1.2, 1.3] {
            s.set_load("big", f * p, f * q);
            let (o, _) = s.solve_quiet().unwrap();
            assert_eq!(o.status, PfStatus::Converged);
            let d = max_rel_diff(s.system().voltages(), &fresh(&net, "big", f * p, f * q));
            assert!(d < 1e-8, "at {f}: {d:e}");
        }
        // another load, or another direction: no prediction, same answers
        s.set_load("small", 330.0, 110.0);
        s.solve_quiet().unwrap();
        assert_eq!(s.secant.as_ref().map(|c| c.load), Some(1));
        s.set_load("small", 330.0, 0.0);
        let (o, _) = s.solve_quiet().unwrap();
        assert_eq!(o.status, PfStatus::Converged);
        let mut net2 = net.clone();
        net2.loads[0].p_kw = 1.3 * p;
        net2.loads[0].q_kvar = 1.3 * q;
        let d = max_rel_diff(s.system().voltages(), &fresh(&net2, "small", 330.0, 0.0));
        assert!(d < 1e-8, "{d:e}");
        // two loads at once: no secant
        s.set_load("small", 300.0, 100.0);
        s.set_load("big", p, q);
        s.solve_quiet().unwrap();
        assert!(s.secant.is_none());
    }

    #[test]
    fn session_stays_warm_across_load_power_edits() {
        let master = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/feeders/ieee13/IEEE13Nodeckt.dss");
        if !master.is_file() {
            eprintln!("note: ../shared not found; skipped");
            return;
        }
        let mut s = Session::new(ReadOptions::default());
        s.run_file(&master).unwrap();
        let mut iterations = Vec::new();
        for kw in ["1300", "1155", "900"] {
            s.run_command(&format!("Load.671.kW={kw}")).unwrap();
            s.run_command("Solve").unwrap();
            let warm = s.solutions().last().unwrap().clone();
            assert!(
                s.warm
                    .solver
                    .as_ref()
                    .is_some_and(|w| w.net.same_circuit(s.network())),
                "the solver kept its circuit in step"
            );
            let fresh = solve_network(&mut s.network().clone()).unwrap();
            assert!(warm.converged && fresh.converged);
            iterations.push((warm.iterations, fresh.iterations));
            assert_eq!(warm.taps, fresh.taps);
            for (a, b) in warm.voltages.iter().zip(&fresh.voltages) {
                assert_eq!((&a.bus, a.node), (&b.bus, b.node));
                let d = (a.vmag_v - b.vmag_v).abs() / b.vmag_v.max(1.0);
                assert!(d < 1e-8, "{}.{}: {d:e}", a.bus, a.node);
                assert!((a.vang_deg - b.vang_deg).abs() < 1e-6 || b.vmag_v < 1.0);
            }
            assert!((warm.losses_kw - fresh.losses_kw).abs() < 1e-6 * fresh.losses_kw);
        }
        // the third edit starts from the secant learnt from the second
        assert!(iterations[2].0 < iterations[2].1, "{iterations:?}");
        // any other edit rebuilds
        s.run_command("Load.671.kV=4.2").unwrap();
        s.run_command("Solve").unwrap();
        assert!(s.solutions().last().unwrap().converged);
    }

    #[test]
    fn secant_ratio_needs_the_same_load_and_direction() {
        let c = Secant {
            load: 2,
            dp_kw: 10.0,
            dq_kvar: 4.0,
        };
        assert_eq!(c.ratio(2, -10.0, -4.0), Some(-1.0));
        assert_eq!(c.ratio(2, 20.0, 8.0), Some(2.0));
        assert_eq!(c.ratio(3, 10.0, 4.0), None);
        assert_eq!(c.ratio(2, 10.0, 5.0), None);
        let z = Secant {
            dp_kw: 0.0,
            dq_kvar: 0.0,
            ..c
        };
        assert_eq!(z.ratio(2, 1.0, 0.0), None);
    }
}
