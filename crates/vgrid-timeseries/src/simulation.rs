//! The step loop: OpenDSS's `SolveYearly` / `SolveDaily` / `SolveDuty` on a warm system.
//!
//! Each step does what OpenDSS does, in its order:
//!
//! 1. advance the clock by the step size ([`Clock::advance`], `Increment_time`);
//! 2. give every load its power at the new hour (its shape × multipliers, see
//!    [`crate::profile`](crate#what-a-load-draws)), generators, PV systems and storage
//!    elements their output;
//! 3. solve with the control mode in force (`SolveSnap`): with the default `static` mode the
//!    regulators and capacitor controls settle within the step (several power flows if taps
//!    move); with `time` their delays run on the simulation clock across steps; `off` solves
//!    once;
//! 4. with storage: storage controllers redispatch and the step is solved again while they
//!    change something; then every storage element's state of charge moves
//!    ([`crate::storage`]);
//! 5. report ([`StepReport`]) to the sink.
//!
//! The system is built and factorised once. A step only replaces the loads' current laws (no
//! refactorisation: the admittance matrix keeps the loads' nominal admittances, which the
//! fixed point does not depend on) and starts from the previous step's voltages; only a tap
//! move or a capacitor switching refactorises. As in the snapshot solver, controls decide on
//! flows converged to 1e-6 and the step is then polished to the full tolerance (1e-9), so the
//! voltages match OpenDSS's tight-tolerance solutions; a loop whose last flow already moved
//! less than 1e-9 is not polished again (`System::last_change_bound`).
//!
//! ## Where a flow starts
//! Two guesses, neither of which changes the answers (only the iterations):
//!
//! - when one shape drives every load, the solutions remembered by load level and control
//!   state (the `start_cache` module): each flow of the control loop,
//!   after a tap move too, starts from the quadratic interpolation of the remembered
//!   solutions in its tap positions nearest to its multiplier. The IEEE 123 year went from
//!   6.94 to 1.83 iterations per step (`bench/timeseries_peers.py`: 25.8 → 11.3 µs per step);
//! - otherwise the last solution extrapolated along the last step's load change (below).
//!
//! The controls' event texts are not written (`Controls::set_event_log`): a time series reads
//! taps and states, and formatting a text per tap move was ~4 % of the IEEE 123 year.
//!
//! ## What a step costs besides its power flows
//! The power flow iterates on a few hundred nodes where a feeder has thousands (the European
//! LV feeder: 462 of 2,721; pass-through and dead-end buses are recovered once per flow), so
//! whatever else a step does over every node shows. A step therefore touches each node twice
//! at most:
//!
//! - the start: the last solution extrapolated along the last step's change, `V + α·(V −
//!   V_last)` (see `predict_start`), written over the history only at the nodes the flow reads
//!   (`System::start_nodes`) and then exchanged with the solution, which becomes the history:
//!   no copy;
//! - the report: the smallest and largest `|V|²/V_base²` in four branch-free lanes, one square
//!   root each per step; sources, loads and shunts give the losses by the power balance.
//!
//! On the European LV day the two cost ~26 k of ~710 k instructions per step.

use vgrid_model::{ElementKind, Network, SolveMode};
use vgrid_network::C64;
use vgrid_powerflow::control::Controls;
use vgrid_powerflow::solve::{PfStatus, System};

use crate::clock::Clock;
use crate::profile::{GenerationDrivers, LoadDriver};
use crate::shape::Shape;
use crate::sink::{RunHeader, StepReport, StepSink};
use crate::start_cache::{Remembering, StartCache};
use crate::Error;

/// Tolerance of the power flows inside the control loop (relative voltage change).
const CONTROL_TOLERANCE: f64 = 1e-6;

/// Nodes below this per-unit voltage (neutrals, de-energised nodes) are left out of the
/// min/max voltage, as in the OpenDSS reference runs.
const VPU_FLOOR: f64 = 0.05;

/// Totals of a finished run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunSummary {
    /// Steps solved.
    pub steps: u64,
    /// Steps whose power flow did not converge (the run went on).
    pub steps_not_converged: u64,
    /// The first of them.
    pub first_not_converged: Option<u64>,
}

/// A time-series run of one circuit: the warm power-flow system, the controls' state, the
/// shapes and the clock.
///
/// ```no_run
/// # fn demo(net: &vgrid_model::Network) -> Result<(), vgrid_timeseries::Error> {
/// use vgrid_timeseries::{CsvSink, Simulation};
/// let mut sim = Simulation::new(net)?; // mode, number, stepsize from net.settings
/// let file = std::io::BufWriter::new(std::fs::File::create("per_step.csv").unwrap());
/// let summary = sim.run(&mut CsvSink::new(file))?;
/// println!("{} steps, {} did not converge", summary.steps, summary.steps_not_converged);
/// # Ok(()) }
/// ```
pub struct Simulation {
    sys: System,
    controls: Option<Controls>,
    /// The circuit (without shapes): settings and controls read it.
    net: Network,
    mode: SolveMode,
    shapes: Vec<Shape>,
    /// Work space: every shape's multipliers at the step's hour.
    sampled: Vec<(f64, f64)>,
    drivers: Vec<LoadDriver>,
    powers: Vec<(f64, f64)>,
    clock: Clock,
    step: u64,
    /// `1 / base volts` of each node; 0 for nodes without a base or de-energised.
    inv_base_v: Vec<f64>,
    /// `inv_base_v²`: a node's squared per-unit magnitude is `|V|²·inv_base_v2` (the same
    /// bits as `|V|²·(inv·inv)`); NaN for nodes without a base (never in the min/max).
    inv_base_v2: Vec<f64>,
    /// Branches that are shunts (their power is not a loss), in branch order.
    shunt_branches: Vec<usize>,
    /// Regulator names and tap numbers when no control loop runs.
    static_taps: Vec<(String, i32)>,
    regulators: Vec<String>,
    report: StepReport,
    /// Work space: conductor voltages of one branch.
    work_v: Vec<C64>,
    predictor: Predictor,
    /// How generators and PV systems follow their shapes, and their working copies.
    generation: Option<GenerationDrivers>,
    generators: Vec<vgrid_model::Generator>,
    pv_systems: Vec<vgrid_model::PvSystem>,
    /// Storage dispatch, state of charge and storage controllers (`crate::storage`).
    storage: Option<crate::storage::Fleet>,
    /// Solutions remembered by load level and control state (see `start_cache`), when the
    /// loads span one dimension.
    starts: Option<StartCache>,
}

/// History for the start-voltage prediction of a step.
#[derive(Debug, Clone, Default)]
struct Predictor {
    enabled: bool,
    /// The last step's change can be extrapolated (no control acted in it).
    valid: bool,
    /// Load powers of the last step and their change from the step before.
    last_powers: Vec<(f64, f64)>,
    last_delta: Vec<(f64, f64)>,
    /// Voltages at the start of the last step (the solution of the step before). The
    /// prediction is written over them and then changes place with the system's voltages,
    /// which thus become the new history: one pass, no copy.
    last_v: Vec<C64>,
}

impl Simulation {
    /// Lower `net`, factorise, assign voltage bases from the no-load solution, and resolve every
    /// load's shape for `net.settings.mode`. Taps and capacitor states start as they are in
    /// `net` (e.g. where earlier snapshot solves left them); the controls start reset, as after
    /// OpenDSS's `Set mode=`. The clock starts at `net.settings.hour` + `sec`.
    pub fn new(net: &Network) -> Result<Simulation, Error> {
        let mode = net.settings.mode;
        let step_size_s = net.settings.step_size_s;
        if mode != SolveMode::Snapshot && !(step_size_s.is_finite() && step_size_s > 0.0) {
            return Err(Error::BadStepSize { step_size_s });
        }
        let mut shapes = Vec::new();
        let drivers = LoadDriver::for_network(net, mode, &mut shapes)?;
        let generation = GenerationDrivers::for_network(net, mode, &mut shapes)?;
        let storage = crate::storage::Fleet::for_network(net, mode, &mut shapes)?;
        let mut sys = System::new(net)?;
        sys.initialize()?;
        sys.assign_voltage_bases(net);
        let mut inv_base_v = vec![0.0; sys.voltages().len()];
        for bus in &sys.net.buses {
            if let Some(kv) = bus.kv_base_ln.filter(|kv| *kv > 0.0) {
                for &(_, i) in &bus.nodes {
                    if sys.net.energized.get(i).copied().unwrap_or(true) {
                        inv_base_v[i] = 1.0 / (kv * 1000.0);
                    }
                }
            }
        }
        // NaN for a node without a base: left out of the min/max as a product with 0 was
        let inv_base_v2 = inv_base_v
            .iter()
            .map(|inv| if *inv > 0.0 { inv * inv } else { f64::NAN })
            .collect();
        let shunt_branches = sys
            .net
            .branches
            .iter()
            .enumerate()
            .filter(|(_, br)| match br.id.kind {
                ElementKind::Capacitor => net
                    .capacitors
                    .get(br.index)
                    .is_some_and(|c| c.bus2.is_none()),
                ElementKind::Reactor => {
                    net.reactors.get(br.index).is_some_and(|r| r.bus2.is_none())
                }
                _ => false,
            })
            .map(|(b, _)| b)
            .collect();
        let controlled = net.settings.control_mode != vgrid_model::ControlMode::Off
            && (net.reg_controls.iter().any(|r| r.enabled)
                || net.cap_controls.iter().any(|c| c.enabled));
        let circuit = net.clone_without_shapes();
        let controls = controlled.then(|| {
            let mut c = Controls::new(&circuit);
            // a time series reads taps and states, never the loops' event texts
            c.set_event_log(false);
            c
        });
        let static_taps = static_taps(net);
        let regulators = match &controls {
            Some(c) => c.regulator_names().map(str::to_string).collect(),
            None => static_taps.iter().map(|(n, _)| n.clone()).collect(),
        };
        let mut sim = Simulation {
            powers: drivers.iter().map(|_| (0.0, 0.0)).collect(),
            clock: Clock::new(net.settings.hour, net.settings.sec),
            sys,
            controls,
            net: circuit,
            mode,
            shapes,
            sampled: Vec::new(),
            drivers,
            step: 0,
            inv_base_v,
            inv_base_v2,
            shunt_branches,
            regulators,
            static_taps,
            report: StepReport::default(),
            work_v: Vec::new(),
            generators: net.generators.clone(),
            pv_systems: net.pv_systems.clone(),
            generation: generation.any().then_some(generation),
            storage,
            starts: None,
            predictor: Predictor {
                enabled: true,
                ..Predictor::default()
            },
        };
        sim.starts = sim.start_cache();
        Ok(sim)
    }

    /// The relative voltage change each step is iterated down to (default 1e-9, vgrid's
    /// snapshot tolerance). The error left is about a tenth of it; the script's own tolerance
    /// still decides whether a step counts as converged.
    pub fn tolerance_pu(&self) -> f64 {
        self.sys.settings.tolerance
    }

    /// Set the tolerance of [`Simulation::tolerance_pu`] (clamped to 1e-12 ..= 1e-4). Each
    /// decade costs about one fixed-point iteration per step.
    pub fn set_tolerance_pu(&mut self, tolerance_pu: f64) {
        let t = if tolerance_pu.is_finite() {
            tolerance_pu.clamp(1e-12, 1e-4)
        } else {
            1e-9
        };
        self.sys.settings.tolerance = t;
    }

    /// The solution mode the run follows.
    pub fn mode(&self) -> SolveMode {
        self.mode
    }

    /// The simulation clock (the time of the last solved step).
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Steps solved so far.
    pub fn steps_done(&self) -> u64 {
        self.step
    }

    /// The numerical system: voltages, branch currents, ...
    pub fn system(&self) -> &System {
        &self.sys
    }

    /// The shapes the loads follow, checked.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// Advance the clock by the step size, set every load's power at the new hour, solve with
    /// the controls, and report. A step that does not converge is reported
    /// (`converged == false`), not an error.
    pub fn step(&mut self) -> Result<&StepReport, Error> {
        if self.mode == SolveMode::Snapshot {
            return Err(Error::NotATimeMode);
        }
        self.clock.advance(self.net.settings.step_size_s);
        let hour = self.clock.hour();
        // each shape sampled once, however many loads follow it; shapes spaced alike (often
        // all of them) share the point, found once
        self.sampled.clear();
        let mut last: Option<((f64, usize), usize)> = None;
        self.sampled.extend(self.shapes.iter().map(|s| {
            let Some(spacing) = s.interval_spacing() else {
                return s.at_hour(hour);
            };
            let k = match last {
                Some((seen, k)) if seen == spacing => k,
                _ => {
                    let k = crate::shape::interval_point(spacing.0, spacing.1, hour);
                    last = Some((spacing, k));
                    k
                }
            };
            s.at_point(k).unwrap_or_else(|| s.at_hour(hour))
        }));
        for (p, d) in self.powers.iter_mut().zip(&self.drivers) {
            *p = d.power_sampled(&self.shapes, &self.sampled);
        }
        self.predict_start();
        if let Some(c) = self.starts.as_mut() {
            c.set_x(self.sampled[0].0);
        }
        self.sys.set_load_powers(&self.powers);
        if let Some(g) = &self.generation {
            g.apply(
                &self.shapes,
                &self.sampled,
                hour,
                &mut self.generators,
                &mut self.pv_systems,
            );
            self.sys.set_generation(&self.generators, &self.pv_systems);
        }
        if let Some(f) = self.storage.as_mut() {
            f.begin_step(&self.shapes, &self.clock);
            self.sys.set_storage(f.outputs());
        }
        self.step += 1;
        let mut quiet = self.solve_now()?.control_iterations == 1;
        if let Some(mut fleet) = self.storage.take() {
            // storage controllers redispatch after each flow; then the state of charge moves
            let mut solved = Ok(());
            // (with regulators or capacitor controls this happened inside their loop)
            while solved.is_ok()
                && self.controls.is_none()
                && fleet.has_controllers()
                && fleet.sample(&self.sys, &self.clock)
            {
                self.sys.set_storage(fleet.outputs());
                quiet = false;
                solved = self.solve_now().map(|_| ());
            }
            fleet.end_step(&self.sys);
            self.storage = Some(fleet);
            solved?;
        }
        // the next prediction may use this step's change if no control acted in it
        self.predictor.valid = quiet;
        Ok(&self.report)
    }

    /// Start the step from a prediction instead of the last step's voltages: the last step's
    /// voltage change scaled by how far the load powers move along the last step's load change
    /// (`α = ⟨ΔS_k, ΔS_k−1⟩ / |ΔS_k−1|²`). Exact to first order when the loads move together
    /// (one shape, or shapes in step), harmless otherwise: the iteration corrects the rest.
    /// Skipped after a step in which a control acted (its voltage change holds a tap move).
    fn predict_start(&mut self) {
        if self.starts.is_some() {
            // the remembered solutions give the start (a miss starts from the last solution)
            return;
        }
        let p = &mut self.predictor;
        let (mut dot, mut norm2) = (0.0, 0.0);
        for ((now, last), dlast) in self.powers.iter().zip(&p.last_powers).zip(&p.last_delta) {
            let d = (now.0 - last.0, now.1 - last.1);
            dot += d.0 * dlast.0 + d.1 * dlast.1;
            norm2 += dlast.0 * dlast.0 + dlast.1 * dlast.1;
        }
        let n = self.sys.voltages().len();
        let ready = p.valid && p.enabled && p.last_v.len() == n && norm2 > 0.0;
        // shift the history: this step's load change and starting voltages
        p.last_delta.clear();
        p.last_delta.extend(
            self.powers
                .iter()
                .zip(
                    p.last_powers
                        .iter()
                        .chain(std::iter::repeat(&(f64::NAN, f64::NAN))),
                )
                .map(|(now, last)| (now.0 - last.0, now.1 - last.1)),
        );
        if p.last_delta
            .iter()
            .any(|d| !(d.0.is_finite() && d.1.is_finite()))
        {
            p.last_delta.iter_mut().for_each(|d| *d = (0.0, 0.0));
        }
        p.last_powers.clone_from(&self.powers);
        if ready {
            // now + (now − last)·α, written over `last` (read once, in one pass); the start
            // then changes place with the present solution, which becomes the history
            let alpha = (dot / norm2).clamp(-4.0, 4.0);
            let now = self.sys.voltages();
            match self.sys.start_nodes() {
                // the power flow reads only these (it recovers the others from them): the
                // rest of the start keeps an older solution, never read
                Some(nodes) => {
                    for &i in nodes {
                        let (last, now) = (&mut p.last_v[i as usize], now[i as usize]);
                        *last = now + (now - *last) * alpha;
                    }
                }
                None => {
                    for (last, &now) in p.last_v.iter_mut().zip(now) {
                        *last = now + (now - *last) * alpha;
                    }
                }
            }
            if self.sys.swap_start_voltages(&mut p.last_v) {
                return;
            }
        }
        // no prediction: the start is the present solution, which is also the history
        p.last_v.clear();
        p.last_v.extend_from_slice(self.sys.voltages());
    }

    /// The start cache, when the loads span one dimension (see the `start_cache` module): one
    /// shape without `qmult` drives every load that moves, and no generator, PV system or
    /// storage element follows its own shape or state of charge.
    fn start_cache(&self) -> Option<StartCache> {
        if self.shapes.len() != 1 || self.generation.is_some() || self.storage.is_some() {
            return None;
        }
        let (x_min, x_max) = self.shapes[0].p_mult_range()?;
        let mut cache = StartCache::new(x_min, x_max, self.sys.voltages().len());
        // the control state at the start: the taps and steps the controls may move
        let model = self.sys.model();
        for rc in &self.net.reg_controls {
            if let Some(t) = model.transformer(&rc.transformer) {
                if let Some(w) = t.windings.get(rc.tap_winding.wrapping_sub(1)) {
                    cache.note_tap(&t.name, rc.tap_winding, w.tap_pu);
                }
            }
        }
        for cc in &self.net.cap_controls {
            if let Some(c) = model.capacitors.iter().find(|c| c.name == cc.capacitor) {
                cache.note_capacitor(&c.name, &c.states);
            }
        }
        Some(cache)
    }

    /// Whether flows start from the solutions remembered by load level and control state,
    /// where the loads span one dimension (default true; see the `start_cache` module). The
    /// answers do not depend on it beyond the tolerance; only the iterations do.
    pub fn set_start_cache(&mut self, on: bool) {
        self.starts = if on { self.start_cache() } else { None };
    }

    /// Flows started from remembered solutions and flows that found none near enough, and
    /// the solutions remembered; `None` when the start cache is not used.
    pub fn start_cache_use(&self) -> Option<(u64, u64, usize)> {
        self.starts.as_ref().map(|c| (c.hits, c.misses, c.size().0))
    }

    /// Whether steps start from a predicted voltage (default true). The answers do not depend
    /// on it beyond the tolerance; only the iterations do.
    pub fn set_prediction(&mut self, on: bool) {
        self.predictor.enabled = on;
    }

    /// Whether power flows may iterate on the load nodes only (default true; see
    /// `vgrid_powerflow::solve::System::set_load_node_iteration`). The answers do not depend
    /// on it beyond the tolerance; only the time does.
    pub fn set_load_node_iteration(&mut self, on: bool) {
        self.sys.set_load_node_iteration(on);
    }

    /// Whether power flows may run in positive sequence when the network is balanced (default
    /// true; see `vgrid_powerflow::solve::System::set_balanced_mode`). The answers do not
    /// depend on it beyond the tolerance; only the time does. `false` forces the three-phase
    /// solve.
    pub fn set_balanced_mode(&mut self, on: bool) {
        self.sys.set_balanced_mode(on);
    }

    /// Solve at the present time and loads without advancing the clock (a snapshot solve with
    /// the controls, e.g. the `Solve` commands of a script before the time series).
    pub fn solve_present(&mut self) -> Result<&StepReport, Error> {
        self.solve_now()
    }

    /// Run `net.settings.number` steps, streaming each step's report to `sink`.
    pub fn run(&mut self, sink: &mut dyn StepSink) -> Result<RunSummary, Error> {
        let n = u64::from(self.net.settings.number);
        let mut summary = RunSummary::default();
        for k in 0..n {
            let converged = self.step()?.converged;
            if k == 0 {
                sink.begin(&RunHeader {
                    regulators: self.regulators.clone(),
                    steps: n,
                    step_size_s: self.net.settings.step_size_s,
                })?;
            }
            sink.step(&self.report)?;
            summary.steps += 1;
            if !converged {
                summary.steps_not_converged += 1;
                summary.first_not_converged.get_or_insert(self.step);
            }
        }
        sink.finish()?;
        Ok(summary)
    }

    /// Every storage element after the last step: its power, kWh and state (empty without
    /// storage).
    pub fn storages(&self) -> &[crate::StorageStatus] {
        self.storage.as_ref().map_or(&[], |f| f.status())
    }

    /// Names of the regulator controls, in the order of [`StepReport::tap_numbers`].
    pub fn regulators(&self) -> &[String] {
        &self.regulators
    }

    /// Write the present taps and capacitor states into `net` (whose element tables must be
    /// those the simulation was built from).
    pub fn write_back(&self, net: &mut Network) {
        let model = self.sys.model();
        for (mt, t) in net.transformers.iter_mut().zip(&model.transformers) {
            if mt.name == t.name {
                for (w, tw) in mt.windings.iter_mut().zip(&t.windings) {
                    w.tap_pu = tw.tap_pu;
                }
            }
        }
        for (mc, c) in net.capacitors.iter_mut().zip(&model.capacitors) {
            if mc.name == c.name {
                mc.states.clone_from(&c.states);
            }
        }
    }

    /// Per-unit magnitude of every node with a base: `(bus, node, vmag_pu)`.
    pub fn node_voltages_pu(&self) -> impl Iterator<Item = (&str, u32, f64)> + '_ {
        let v = self.sys.voltages();
        self.sys.net.buses.iter().flat_map(move |bus| {
            bus.nodes
                .iter()
                .filter(|&&(_, i)| self.inv_base_v[i] > 0.0)
                .map(move |&(number, i)| {
                    (bus.name.as_str(), number, v[i].norm() * self.inv_base_v[i])
                })
        })
    }

    fn solve_now(&mut self) -> Result<&StepReport, Error> {
        self.sys.reset_iteration_count();
        let control_iterations: Option<u32> = match self.controls.as_mut() {
            Some(c) => {
                // Controls decide on voltages converged to 1e-6; the step is then polished.
                let tight = self.sys.settings.tolerance;
                self.sys.settings.tolerance = tight.max(CONTROL_TOLERANCE);
                c.set_time(self.clock.int_hour() as f64, self.clock.sec());
                let summary = match self.storage.as_mut().filter(|f| f.has_controllers()) {
                    // storage controllers redispatch after each flow of the control loop
                    Some(fleet) => c.run_snapshot(
                        &mut crate::storage::WithStorage {
                            sys: &mut self.sys,
                            fleet,
                            clock: self.clock,
                            tolerance: tight,
                        },
                        &self.net,
                    ),
                    None => match self.starts.as_mut() {
                        Some(cache) => c.run_snapshot(
                            &mut Remembering {
                                sys: &mut self.sys,
                                cache,
                            },
                            &self.net,
                        ),
                        None => c.run_snapshot(&mut self.sys, &self.net),
                    },
                };
                self.sys.settings.tolerance = tight;
                c.tap_numbers_into(&mut self.report.tap_numbers);
                Some(summary.control_iterations)
            }
            None => None,
        };
        let tight = self.sys.settings.tolerance;
        let status = match self.sys.last_outcome() {
            // the loop's last flow failed, or already moved less than the tolerance: nothing
            // to polish (the loop's flows were remembered as they converged)
            Some(o)
                if control_iterations.is_some()
                    && (o.status != PfStatus::Converged
                        || self.sys.last_change_bound().is_some_and(|b| b <= tight)) =>
            {
                o.status
            }
            _ => {
                if let Some(cache) = self
                    .starts
                    .as_mut()
                    .filter(|_| control_iterations.is_none())
                {
                    // no control loop: this is the step's only flow (after a loop, the polish
                    // starts from the loop's solution)
                    cache.start_flow(&mut self.sys);
                }
                let status = self.sys.solve()?.status;
                if let Some(cache) = self.starts.as_mut() {
                    cache.remember(&self.sys);
                }
                status
            }
        };
        let r = &mut self.report;
        r.step = self.step;
        r.hour = self.clock.hour();
        r.converged = status == PfStatus::Converged;
        r.iterations = self.sys.iteration_count();
        match control_iterations {
            Some(c) => r.control_iterations = c,
            None => {
                r.control_iterations = 1;
                r.tap_numbers.clear();
                r.tap_numbers
                    .extend(self.static_taps.iter().map(|(_, t)| *t));
            }
        }
        let source = self.sys.total_source_power_kva();
        r.p_source_kw = source.re;
        r.q_source_kvar = source.im;
        // power balance: what the sources deliver and the loads and shunts do not draw is
        // lost in the series elements (cheaper than summing every branch's V·conj(I))
        let drawn = self.sys.total_pc_power_kva();
        let shunts = branch_losses_kva(&self.sys, &self.shunt_branches, &mut self.work_v);
        let losses = source - drawn - shunts;
        r.losses_kw = losses.re;
        r.losses_kvar = losses.im;
        // squared per-unit magnitudes: one square root per step, not per node
        let (vmin2, vmax2) = vpu2_range(
            self.sys.voltages(),
            &self.inv_base_v2,
            VPU_FLOOR * VPU_FLOOR,
        );
        (r.vpu_min, r.vpu_max) = if vmin2 > vmax2 {
            (f64::NAN, f64::NAN)
        } else {
            (vmin2.sqrt(), vmax2.sqrt())
        };
        Ok(&self.report)
    }
}

/// The smallest and largest squared per-unit magnitude `|V|²·inv_base2` over the nodes
/// above `floor2` (NaN products are never above it); the smallest is `+∞` and the largest
/// `floor2` when no node is above it.
///
/// Usually every node is above the floor (no neutral or dead node has a base): one pass of
/// plain minima and maxima tells, and is the answer. Otherwise a second pass leaves the nodes
/// at or below the floor out of the minimum (the maximum needs no mask: a node at or below
/// the floor cannot raise it above the floor). A minimum or maximum does not depend on the
/// order it is taken in: the same numbers as a node-by-node loop.
fn vpu2_range(v: &[C64], inv_base2: &[f64], floor2: f64) -> (f64, f64) {
    let (lo, hi) = lanes::<false>(v, inv_base2, floor2);
    if lo > floor2 {
        return (lo, hi);
    }
    lanes::<true>(v, inv_base2, floor2)
}

/// [`vpu2_range`]'s pass, with or without the floor's `MASK` on the minimum. Four running
/// minima and maxima selected without branches: one of each would chain every node's
/// comparison on the one before, and the compiler keeps the lanes in vector registers. (Not
/// inlined: with its floor a constant, the compiler branches per lane.)
#[inline(never)]
fn lanes<const MASK: bool>(v: &[C64], inv_base2: &[f64], floor2: f64) -> (f64, f64) {
    const W: usize = 4;
    let mut lo = [f64::INFINITY; W];
    let mut hi = [floor2; W];
    // stage by stage over the four lanes: the form the compiler turns into vector
    // instructions (node by node, it mixes lanes and branches); a NaN wins no comparison
    let (vc, wc) = (v.chunks_exact(W), inv_base2.chunks_exact(W));
    let (v_tail, w_tail) = (vc.remainder(), wc.remainder());
    for (v, w) in vc.zip(wc) {
        let mut pu2 = [0.0; W];
        for k in 0..W {
            pu2[k] = v[k].norm_sqr() * w[k];
        }
        for k in 0..W {
            hi[k] = if pu2[k] > hi[k] { pu2[k] } else { hi[k] };
        }
        if MASK {
            for k in 0..W {
                if pu2[k] <= floor2 {
                    pu2[k] = f64::INFINITY;
                }
            }
        }
        for k in 0..W {
            lo[k] = if pu2[k] < lo[k] { pu2[k] } else { lo[k] };
        }
    }
    for (v, &w) in v_tail.iter().zip(w_tail) {
        let pu2 = v.norm_sqr() * w;
        hi[0] = if pu2 > hi[0] { pu2 } else { hi[0] };
        if !MASK || pu2 > floor2 {
            lo[0] = if pu2 < lo[0] { pu2 } else { lo[0] };
        }
    }
    let (mut min, mut max) = (f64::INFINITY, floor2);
    for k in 0..W {
        min = if lo[k] < min { lo[k] } else { min };
        max = if hi[k] > max { hi[k] } else { max };
    }
    (min, max)
}

/// Power drawn by the branches `which` (indices, in branch order), kW + j kvar:
/// `Σ V·conj(Yprim·V)` over each branch's conductors, without allocating.
fn branch_losses_kva(sys: &System, which: &[usize], v_work: &mut Vec<C64>) -> C64 {
    let v = sys.voltages();
    let zero = C64::new(0.0, 0.0);
    let mut total = zero;
    for br in which.iter().filter_map(|&b| sys.net.branches.get(b)) {
        v_work.clear();
        v_work.extend(br.nodes.iter().map(|n| n.map_or(zero, |i| v[i])));
        let m = v_work.len();
        let y = br.prim.y.as_slice();
        if y.len() != m * m {
            continue;
        }
        for (k, vk) in v_work.iter().enumerate() {
            let row = &y[k * m..(k + 1) * m];
            let ik: C64 = row.iter().zip(v_work.iter()).map(|(a, b)| a * b).sum();
            total += vk * ik.conj();
        }
    }
    total / 1000.0
}

/// Tap numbers of the regulated windings as they stand in the model (no control loop).
fn static_taps(net: &Network) -> Vec<(String, i32)> {
    net.reg_controls
        .iter()
        .filter_map(|r| {
            let t = net.transformer(&r.transformer)?;
            let w = t.windings.get(r.tap_winding.max(1) - 1)?;
            let step = (w.max_tap_pu - w.min_tap_pu) / f64::from(w.num_taps.max(1));
            let mid = 0.5 * (w.max_tap_pu + w.min_tap_pu);
            let n = if step > 0.0 {
                ((w.tap_pu - mid) / step).round() as i32
            } else {
                0
            };
            Some((r.name.clone(), n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vgrid_dss::{ReadOptions, Reader};

    /// A 12.47 kV source, one line, one 3-phase load following a 4-point hourly shape.
    fn network(extra: &str) -> Network {
        let script = format!(
            "
            Clear
            New Circuit.t basekv=12.47 bus1=src pu=1.0
            New Line.l1 bus1=src bus2=b r1=0.3 x1=0.6 length=2 units=km
            New Loadshape.s npts=4 interval=1 mult=[0.5 1.0 0.25 0.75]
            New Load.ld bus1=b kV=12.47 kW=1000 kvar=300 yearly=s
            Set voltagebases=[12.47]
            Set mode=yearly number=8 stepsize=1h
            {extra}
            "
        );
        let mut r = Reader::new(ReadOptions::default());
        r.run_text(&script, "t.dss", std::path::Path::new("."), &mut |_, _| {
            Ok(())
        })
        .unwrap();
        r.into_network()
    }

    #[test]
    fn loads_follow_their_shape_step_by_step() {
        let net = network("");
        let mut sim = Simulation::new(&net).unwrap();
        let mut rows = Vec::new();
        let s = sim.run(&mut |r: &StepReport| rows.push(r.clone())).unwrap();
        assert_eq!((s.steps, s.steps_not_converged), (8, 0));
        assert_eq!(rows[0].hour, 1.0);
        // the source delivers the load plus the line losses; the shape repeats every 4 h
        let mult = [0.5, 1.0, 0.25, 0.75];
        for (k, r) in rows.iter().enumerate() {
            let load_kw = 1000.0 * mult[k % 4];
            assert!(r.converged);
            assert!(
                (r.p_source_kw - r.losses_kw - load_kw).abs() < 1e-6,
                "{r:?}"
            );
            assert!(r.vpu_min < r.vpu_max && r.vpu_max <= 1.0 + 1e-9, "{r:?}");
        }
        assert!((rows[4].vpu_min - rows[0].vpu_min).abs() < 1e-9);
        assert!(rows[1].vpu_min < rows[0].vpu_min); // heavier load, lower voltage
    }

    #[test]
    fn a_step_that_does_not_converge_is_reported_and_the_run_goes_on() {
        // one iteration allowed to reach 1e-9: the load steps cannot converge
        let net = network("Set maxiterations=1 tolerance=1e-12");
        let mut sim = Simulation::new(&net).unwrap();
        let mut failed = Vec::new();
        let s = sim
            .run(&mut |r: &StepReport| {
                if !r.converged {
                    failed.push(r.step)
                }
            })
            .unwrap();
        assert_eq!(s.steps, 8);
        assert!(s.steps_not_converged >= 4, "{s:?}");
        assert_eq!(s.steps_not_converged, failed.len() as u64);
        assert_eq!(s.first_not_converged, failed.first().copied());
    }

    #[test]
    fn bad_settings_and_shapes_are_errors() {
        let mut net = network("");
        net.settings.step_size_s = 0.0;
        assert!(matches!(
            Simulation::new(&net),
            Err(Error::BadStepSize { .. })
        ));
        let mut net = network("");
        let shape = net.load_shapes.iter_mut().find(|s| s.name == "s").unwrap();
        shape.q_mult = vec![1.0, f64::NAN, 1.0, 1.0];
        let e = Simulation::new(&net).err().unwrap();
        assert!(e.to_string().contains("LoadShape.s"), "{e}");
        assert!(e.to_string().contains("point 2"), "{e}");
        let mut net = network("");
        net.settings.mode = SolveMode::Snapshot;
        let mut sim = Simulation::new(&net).unwrap();
        assert!(matches!(sim.step(), Err(Error::NotATimeMode)));
        assert!(sim.solve_present().unwrap().converged);
    }

    #[test]
    fn a_prediction_on_the_kept_nodes_only_gives_the_same_steps() {
        // pass-through buses m1, m2 and a dead end are eliminated (and the single-phase load
        // keeps the positive-sequence solve out): the prediction moves only the kept nodes;
        // every step agrees with the unpredicted run to the tolerance
        let net = network(
            "
            New Line.l2 bus1=b bus2=m1 r1=0.1 x1=0.2 c1=0 c0=0 length=1 units=km
            New Line.l3 bus1=m1 bus2=m2 r1=0.1 x1=0.2 c1=0 c0=0 length=1 units=km
            New Line.l4 bus1=m2 bus2=c r1=0.1 x1=0.2 c1=0 c0=0 length=1 units=km
            New Line.l5 bus1=c bus2=end r1=0.1 x1=0.2 c1=0 c0=0 length=1 units=km
            New Load.lc bus1=c.1 phases=1 kV=7.2 kW=500 kvar=100 yearly=s
            Set number=12
            ",
        );
        let run = |predict: bool| {
            let mut sim = Simulation::new(&net).unwrap();
            // one shape drives the load: without this the start cache would give the starts
            sim.set_start_cache(false);
            sim.set_prediction(predict);
            let mut rows = Vec::new();
            sim.run(&mut |r: &StepReport| rows.push(r.clone())).unwrap();
            (rows, sim)
        };
        let (predicted, sim) = run(true);
        let (plain, _) = run(false);
        let (eliminated, _) = sim.system().eliminated_nodes();
        assert!(eliminated >= 6, "{eliminated}");
        let kept = sim.system().start_nodes().map(<[u32]>::len);
        assert!(kept.is_some_and(|k| k + eliminated == sim.system().voltages().len()));
        for (a, b) in predicted.iter().zip(&plain) {
            assert!(a.converged && b.converged);
            assert!((a.vpu_min - b.vpu_min).abs() < 1e-8, "{a:?} {b:?}");
            assert!((a.vpu_max - b.vpu_max).abs() < 1e-8, "{a:?} {b:?}");
            assert!((a.p_source_kw - b.p_source_kw).abs() < 1e-6 * b.p_source_kw.abs());
        }
        let iterations = |rows: &[StepReport]| rows.iter().map(|r| r.iterations).sum::<u32>();
        assert!(iterations(&predicted) < iterations(&plain));
    }

    #[test]
    fn without_controls_the_start_cache_gives_the_start_too() {
        // one shape of four points over twelve hours: from the fifth hour on, every level has
        // been solved before
        let net = network("Set number=12");
        let run = |cache: bool| {
            let mut sim = Simulation::new(&net).unwrap();
            sim.set_start_cache(cache);
            let mut rows = Vec::new();
            sim.run(&mut |r: &StepReport| rows.push(r.clone())).unwrap();
            (rows, sim.start_cache_use())
        };
        let (cached, used) = run(true);
        let (plain, _) = run(false);
        let (hits, _, kept) = used.unwrap();
        assert!(hits >= 8 && kept == 4, "{used:?}");
        for (a, b) in cached.iter().zip(&plain) {
            assert!((a.vpu_min - b.vpu_min).abs() < 1e-8, "{a:?} {b:?}");
            assert!((a.p_source_kw - b.p_source_kw).abs() < 1e-6 * b.p_source_kw.abs());
        }
        // a level solved before starts from its own solution: one iteration confirms it
        assert!(cached[4..].iter().all(|r| r.iterations == 1), "{cached:?}");
        assert!(plain[4..].iter().any(|r| r.iterations > 1));
    }

    #[test]
    fn voltage_range_is_the_node_by_node_one() {
        // node by node, as the report did before the lanes
        let reference = |v: &[C64], w: &[f64], floor2: f64| {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for (v, w) in v.iter().zip(w) {
                let pu2 = v.norm_sqr() * w;
                if pu2 > floor2 {
                    lo = lo.min(pu2);
                    hi = hi.max(pu2);
                }
            }
            (lo, hi)
        };
        let floor2 = VPU_FLOOR * VPU_FLOOR;
        // every length up to a few lanes, neutrals (near 0), nodes without a base (weight 0
        // or NaN) and a NaN voltage, wherever they fall
        let mut x = 0.123_f64;
        let mut next = || {
            x = (x * 997.0 + 0.37).fract();
            x
        };
        for n in 0..23usize {
            for special in [None, Some(0), Some(n / 2), Some(n.saturating_sub(1))] {
                let mut v: Vec<C64> = (0..n)
                    .map(|_| C64::new(230.0 * (0.9 + 0.2 * next()), 40.0 * next()))
                    .collect();
                let mut w: Vec<f64> = (0..n).map(|_| (1.0 / 230.0f64).powi(2)).collect();
                if let Some(k) = special.filter(|&k| k < n) {
                    match n % 4 {
                        0 => v[k] = C64::new(0.5, 0.1),
                        1 => w[k] = 0.0,
                        2 => w[k] = f64::NAN,
                        _ => v[k] = C64::new(f64::NAN, 0.0),
                    }
                }
                let (lo, hi) = vpu2_range(&v, &w, floor2);
                let (rlo, rhi) = reference(&v, &w, floor2);
                if rlo > rhi {
                    // no node above the floor: the report's NaN
                    assert!(lo > hi, "{n} {special:?}");
                } else {
                    assert_eq!((lo.to_bits(), hi.to_bits()), (rlo.to_bits(), rhi.to_bits()));
                }
            }
        }
    }

    #[test]
    fn csv_sink_streams_one_row_per_step() {
        let net = network("");
        let mut sim = Simulation::new(&net).unwrap();
        let mut sink = crate::CsvSink::new(Vec::new());
        sim.run(&mut sink).unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        assert_eq!(text.lines().count(), 9);
        assert!(text.lines().nth(3).unwrap().starts_with("3,3.000000,1,"));
    }
}
