//! OpenDSS's control loop: regulators ([`RegControl`](vgrid_model::RegControl)) and switched
//! capacitors ([`CapControl`](vgrid_model::CapControl)) acting between power flows.
//!
//! A snapshot solve is a sequence of *control iterations* (OpenDSS `SolveSnap`):
//!
//! ```text
//! repeat
//!     control_iteration += 1
//!     solve the power flow (from the present voltages)
//!     if control_iteration < max_control_iterations:
//!         if the power flow did not converge: stop
//!         every enabled control samples the solution and may queue an action `delay` s ahead
//!         STATIC: queue empty → settled;  else execute the actions due at the *earliest* time
//!         EVENT:  same, and the clock advances to that time
//!         TIME:   execute every action due by the present time; none → settled
//!         OFF:    settled at once (no sampling)
//! until settled or control_iteration ≥ max_control_iterations
//! ```
//!
//! Time does not advance in STATIC mode, so delays only *order* the controls: with
//! `creg1a delay=15` and every other regulator at `delay=30`, creg1a moves alone each
//! iteration until it is in band, and only then do the others act (all together, being
//! due at the same time). A control that is armed (its action queued) does not queue a
//! second one; it keeps updating its pending change, and the action executes whatever is
//! pending when it falls due.
//!
//! Worked example (IEEE 13-node regulator `Reg1`: `vreg=122 band=2 ptratio=20 R=3 X=9`,
//! winding 2.4 kV, 32 steps of 0.625 %). The first power flow gives a compensated 114.563 V:
//! boost `= (122 − 114.563)·20/2400 = 0.0620 pu = 9.92 steps → 10` pending, and STATIC moves
//! `trunc(0.7·10) = 7` steps (tap 1.04375). The second power flow gives 119.763 V: 3 steps
//! pending, 2 moved (1.05625). The third gives 121.342 V, in band: OpenDSS, and this module,
//! settle on taps 9/6/9 in 3 control iterations.
//!
//! State persists across calls ([`Controls`] keeps armed/pending flags, the queue, tap
//! positions and capacitor steps), so a time series calls [`Controls::set_time`] and
//! [`Controls::solve_snapshot`] once per step ([`Controls::solve_time_step`]): in TIME
//! mode an action queued at `t + delay` executes in the first step whose time reaches it.
//!
//! A warm re-solve after a load change is usually one control iteration in which nothing
//! acts, so sampling is kept cheap: on a system with places ([`ControlledSystem::layout_id`],
//! the power-flow `System` has them) a regulator finds its transformer once and reads its
//! terminal into buffers it keeps, and [`Controls::run_snapshot`] returns a
//! [`ControlSummary`], which allocates nothing unless a control acts; [`Controls::report`]
//! adds the final taps and capacitor states ([`Controls::solve_snapshot`] does both). On
//! IEEE 123 (7 regulators) this took a re-solve from 73.5k to 61.3k instructions.
//!
//! Submodules: [`queue`] (the time-ordered action queue), `regulator` (RegControl),
//! `capacitor` (CapControl).
//!
//! ## Fidelity to OpenDSS
//! Verified: on the IEEE 13, 34 (Mod1, Mod2), 37 and 123 feeders an independent re-enactment of
//! exactly these rules on OpenDSS's own power flow (`tests/data/control/gen_control_traces.py`)
//! reproduces OpenDSS's event log move for move: same taps moved by the same number of steps in
//! the same control iteration and order, same final taps, same control-iteration count.
//!
//! Implemented as OpenDSS does it: `SolveSnap`/`CheckControls` (no sampling at the last allowed
//! iteration, stop on a non-converged power flow); the control queue (tie order, delete by
//! handle, nearest-time and due-time execution); STATIC, EVENT, TIME and OFF control modes;
//! RegControl band test, PT ratio, `PTphase` (a phase, MAX, MIN), LDC with R/X and with `LDC_Z`,
//! delta/open-delta windings measured line-to-line with OpenDSS's phase rotation, winding base
//! voltage, pending change rounded half-to-even, 70 % / at-least-one-tap / `maxtapchange` in
//! STATIC, one tap per `tapdelay` in EVENT/TIME (including OpenDSS's un-withdrawable
//! follow-up action), tap limits, `tapwinding` ≠ `winding`, regulated `bus=`, `vlimit`,
//! `inversetime`, `reversible` (power-direction detection, reverse settings); CapControl
//! Current, Voltage, kvar, PF and Time types with their exact open/close/reset branches,
//! AVG/MAX/MIN phases, delta-bank line-to-line voltage, voltage override, ON/OFF delays,
//! dead time, multi-step banks.
//!
//! Not modelled (not in the engineering model, or outside snapshot/time-series power flow):
//! RegControl `cogen`, `revNeutral`, `revDelay` (fixed at OpenDSS's 60 s), `rev_Z` (0),
//! `RemotePTRatio` (the PT ratio is used), `leadlag` (ANSI assumed for the delta rotation),
//! AutoTrans; CapControl `VBus` (the monitored terminal is used), user models, `pctMinkvar`
//! (OpenDSS's 50 %), the kvar of µF-rated banks (taken as ω·C·kV²); the MULTIRATE control mode;
//! other control classes (SwtControl, relays, reclosers, fuses, InvControl; StorageControllers
//! act in time series, from `vgrid-timeseries`, which wraps this loop).
//! OpenDSS samples controls in creation order across classes; here regulators are sampled
//! before capacitor controls, which only changes the order of simultaneous actions in the log.

pub mod queue;

mod capacitor;
mod regulator;

use num_complex::Complex64 as C64;
use vgrid_model::{ControlMode, ElementId, Network};

use capacitor::{CapSwitch, CapacitorBank};
use queue::{ControlQueue, Owner, QueuedAction};
use regulator::{Regulator, TapChanger};

/// What the control loop needs from the power-flow system.
pub trait ControlledSystem {
    /// Run one power flow from the present state; returns true when it converged.
    fn solve_power_flow(&mut self) -> bool;
    /// Conductor voltages (V, complex, to ground) of terminal `terminal` (1-based) of an element
    /// (Transformer, Line, Capacitor...), in conductor order (a transformer terminal has
    /// phases+1 conductors, the neutral last).
    fn terminal_voltages(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>>;
    /// Currents (A) flowing INTO the element at the conductors of that terminal.
    fn terminal_currents(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>>;
    /// Current (A) INTO the element at conductor `conductor` (0-based) of terminal `terminal`;
    /// by default picked from [`ControlledSystem::terminal_currents`].
    fn terminal_current(
        &self,
        element: &ElementId,
        terminal: usize,
        conductor: usize,
    ) -> Option<C64> {
        self.terminal_currents(element, terminal)?
            .get(conductor)
            .copied()
    }
    /// Voltage of bus.node (for RegControl `bus=`), V.
    fn node_voltage(&self, bus: &str, node: u32) -> Option<C64>;
    /// Identifies where the system keeps its elements: a place found by
    /// [`ControlledSystem::locate`] stays valid while this number is the same. 0 (the default)
    /// means the system has no places, and the controls ask by name every time.
    ///
    /// A control samples the same element at every control iteration of every solve; with a
    /// place it skips the name lookup and the vectors of [`ControlledSystem::terminal_voltages`]:
    ///
    /// ```text
    /// at = sys.locate(&transformer)                        once (and after a layout change)
    /// sys.located_terminal_voltages(at, winding, &mut buf) every sample, into a kept buffer
    /// sys.located_terminal_current(at, winding, phase)     every sample with line-drop compensation
    /// ```
    fn layout_id(&self) -> u64 {
        0
    }
    /// The place of an element in the system (see [`ControlledSystem::layout_id`]).
    fn locate(&self, _element: &ElementId) -> Option<usize> {
        None
    }
    /// [`ControlledSystem::terminal_voltages`] of the element at place `at`, written into `out`
    /// (cleared first); false, `out` unspecified, when there is no such terminal.
    fn located_terminal_voltages(&self, _at: usize, _terminal: usize, _out: &mut Vec<C64>) -> bool {
        false
    }
    /// [`ControlledSystem::terminal_current`] of the element at place `at`.
    fn located_terminal_current(
        &self,
        _at: usize,
        _terminal: usize,
        _conductor: usize,
    ) -> Option<C64> {
        None
    }
    /// Set a transformer winding's tap (per unit); the system re-stamps Y.
    fn set_tap(&mut self, transformer: &str, winding: usize, tap_pu: f64);
    /// Set the step states of a capacitor (true = in service); the system re-stamps Y.
    fn set_capacitor_states(&mut self, capacitor: &str, states: &[bool]);
}

/// Final position of one regulator's tap.
#[derive(Debug, Clone, PartialEq)]
pub struct RegulatorTap {
    pub regcontrol: String,
    pub transformer: String,
    /// 1-based winding whose tap the regulator moves.
    pub winding: usize,
    pub tap_pu: f64,
    /// OpenDSS `TapNum`: `round((tap − (max+min)/2) / step)`, 0 at the middle of the range.
    pub tap_number: i32,
}

/// Outcome of [`Controls::solve_snapshot`].
#[derive(Debug, Clone, PartialEq)]
pub struct ControlReport {
    /// Power flows solved (OpenDSS `ControlIteration`).
    pub control_iterations: u32,
    /// Every power flow of the loop converged.
    pub power_flow_iterations_converged: bool,
    /// The controls settled (no action pending) before `max_control_iterations`, and the last
    /// power flow converged.
    pub settled: bool,
    /// One entry per regulator, in model order.
    pub taps: Vec<RegulatorTap>,
    /// Step states of every capacitor, in model order.
    pub capacitor_states: Vec<(String, Vec<bool>)>,
    /// Human-readable log: every tap move, switching and mode change, in order, each prefixed
    /// with its control iteration (`control iteration 2: RegControl.reg1: tap 1.04375 -> ...`).
    pub events: Vec<String>,
}

/// What one control loop did: [`ControlReport`] without the final taps and capacitor states,
/// from [`Controls::run_snapshot`]. It holds no names, so a loop in which no control acts
/// (a warm re-solve) allocates nothing; [`Controls::report`] completes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlSummary {
    /// Power flows solved (OpenDSS `ControlIteration`).
    pub control_iterations: u32,
    /// Every power flow of the loop converged.
    pub power_flow_iterations_converged: bool,
    /// The controls settled (no action pending) before `max_control_iterations`, and the last
    /// power flow converged.
    pub settled: bool,
    /// The event log, as [`ControlReport::events`].
    pub events: Vec<String>,
}

/// What a control needs while sampling or acting.
pub(crate) struct Ctx<'a> {
    pub queue: &'a mut ControlQueue,
    /// Present simulation time, seconds from hour 0.
    pub time_s: f64,
    pub mode: ControlMode,
    pub events: &'a mut Vec<String>,
    /// Whether events are written at all (see [`Controls::set_event_log`]).
    pub log_events: bool,
}

impl Ctx<'_> {
    /// Log an event; `event` is only formatted when the log is on.
    pub fn log(&mut self, event: impl FnOnce() -> String) {
        if self.log_events {
            self.events.push(event());
        }
    }
}

/// Every regulator and capacitor control of a network, with their persistent state.
#[derive(Debug, Clone)]
pub struct Controls {
    taps: Vec<TapChanger>,
    regulators: Vec<Regulator>,
    banks: Vec<CapacitorBank>,
    switches: Vec<CapSwitch>,
    queue: ControlQueue,
    time_s: f64,
    problems: Vec<String>,
    /// Whether the loops write their event log (default true).
    log_events: bool,
}

impl Controls {
    /// Build from the model: the taps and capacitor states at the start are the model's.
    /// Controls whose transformer, capacitor or monitored element is missing are left out and
    /// listed in [`Controls::problems`].
    pub fn new(net: &Network) -> Controls {
        let frequency_hz = if net.base_frequency_hz > 0.0 {
            net.base_frequency_hz
        } else {
            net.settings.default_base_frequency_hz
        };
        let banks: Vec<CapacitorBank> = net
            .capacitors
            .iter()
            .map(|c| CapacitorBank::new(c, frequency_hz))
            .collect();
        let mut taps: Vec<TapChanger> = Vec::new();
        let mut regulators = Vec::new();
        let mut problems = Vec::new();
        for rc in &net.reg_controls {
            let slot = net.transformer(&rc.transformer).and_then(|t| {
                let w = t.windings.get(rc.tap_winding.wrapping_sub(1))?;
                let found = taps
                    .iter()
                    .position(|s| s.transformer == t.name && s.winding == rc.tap_winding);
                Some(found.unwrap_or_else(|| {
                    taps.push(TapChanger {
                        transformer: t.name.clone(),
                        winding: rc.tap_winding,
                        tap_pu: w.tap_pu,
                        min_tap_pu: w.min_tap_pu,
                        max_tap_pu: w.max_tap_pu,
                        step_pu: if w.num_taps > 0 {
                            (w.max_tap_pu - w.min_tap_pu) / w.num_taps as f64
                        } else {
                            0.0
                        },
                    });
                    taps.len() - 1
                }))
            });
            match slot
                .ok_or_else(|| {
                    format!(
                        "transformer '{}' or its winding {} not found",
                        rc.transformer, rc.tap_winding
                    )
                })
                .and_then(|s| Regulator::new(rc, net, s))
            {
                Ok(r) => regulators.push(r),
                Err(e) => problems.push(format!("RegControl.{}: {e}", rc.name)),
            }
        }
        let mut switches = Vec::new();
        for cc in &net.cap_controls {
            let Some(b) = banks.iter().position(|b| b.name == cc.capacitor) else {
                problems.push(format!(
                    "CapControl.{}: capacitor '{}' not found",
                    cc.name, cc.capacitor
                ));
                continue;
            };
            match CapSwitch::new(cc, net, b, &banks[b]) {
                Ok(s) => switches.push(s),
                Err(e) => problems.push(format!("CapControl.{}: {e}", cc.name)),
            }
        }
        Controls {
            taps,
            regulators,
            banks,
            switches,
            queue: ControlQueue::default(),
            time_s: net.settings.hour * 3600.0 + net.settings.sec,
            problems,
            log_events: true,
        }
    }

    /// Controls that could not be built, one message each.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Set the simulation clock (OpenDSS `DynaVars.intHour`, `t`).
    pub fn set_time(&mut self, hour: f64, sec: f64) {
        self.time_s = hour * 3600.0 + sec;
    }

    /// Whether the control loops write their event log ([`ControlReport::events`], default
    /// true). A time series that never reads it switches it off: a tap move then formats
    /// no text (on the IEEE 123 year that was ~4 % of the run).
    pub fn set_event_log(&mut self, on: bool) {
        self.log_events = on;
    }

    /// Tap numbers of every regulator, in model order (as [`ControlReport::taps`]'s
    /// `tap_number`), written into `out` (cleared first): no names, no allocation once `out`
    /// has its size.
    pub fn tap_numbers_into(&self, out: &mut Vec<i32>) {
        out.clear();
        out.extend(
            self.regulators
                .iter()
                .map(|r| self.taps[r.tap].tap_number()),
        );
    }

    /// Names of every regulator (its RegControl), in model order.
    pub fn regulator_names(&self) -> impl Iterator<Item = &str> {
        self.regulators.iter().map(|r| r.cfg.name.as_str())
    }

    /// Present simulation time, seconds from hour 0 (advanced by EVENT mode).
    pub fn time_s(&self) -> f64 {
        self.time_s
    }

    /// Pending actions.
    pub fn queue(&self) -> &ControlQueue {
        &self.queue
    }

    /// OpenDSS `Reset` of every control (done on `Set mode=`): disarm, empty the queue, and put
    /// controlled capacitors back in their initial state.
    pub fn reset<S: ControlledSystem>(&mut self, sys: &mut S) {
        self.queue.clear();
        for r in &mut self.regulators {
            r.reset();
        }
        for s in &mut self.switches {
            let bank = &mut self.banks[s.bank];
            let before = bank.effective_states();
            s.reset(bank);
            let after = bank.effective_states();
            if after != before {
                sys.set_capacitor_states(&bank.name, &after);
            }
        }
    }

    /// One time step of a time series: set the clock, then [`Controls::solve_snapshot`].
    /// In TIME mode actions queued in earlier steps execute once the clock reaches them
    /// (regulators then move one step per action, `tapdelay` apart); in STATIC mode each step
    /// settles on its own, as in OpenDSS's daily/yearly runs with the default control mode.
    pub fn solve_time_step<S: ControlledSystem>(
        &mut self,
        sys: &mut S,
        net: &Network,
        hour: f64,
        sec: f64,
    ) -> ControlReport {
        self.set_time(hour, sec);
        self.solve_snapshot(sys, net)
    }

    /// OpenDSS `SolveSnap`: control iterations of (power flow, sample controls, execute due
    /// actions) until no action is pending or `net.settings.max_control_iterations`.
    pub fn solve_snapshot<S: ControlledSystem>(
        &mut self,
        sys: &mut S,
        net: &Network,
    ) -> ControlReport {
        let summary = self.run_snapshot(sys, net);
        self.report(summary)
    }

    /// [`Controls::solve_snapshot`] without the final taps and capacitor states (see
    /// [`ControlSummary`]; [`Controls::report`] adds them).
    pub fn run_snapshot<S: ControlledSystem>(
        &mut self,
        sys: &mut S,
        net: &Network,
    ) -> ControlSummary {
        let mode = net.settings.control_mode;
        let max_iterations = net.settings.max_control_iterations;
        let mut events = Vec::new();
        let mut iteration = 0;
        let mut all_converged = true;
        let mut last_converged;
        let mut done = false;
        loop {
            iteration += 1;
            let logged = events.len();
            last_converged = sys.solve_power_flow();
            all_converged &= last_converged;
            if iteration < max_iterations {
                if !last_converged {
                    events.push(format!(
                        "control iteration {iteration}: power flow did not converge; controls stop"
                    ));
                    done = true;
                } else if mode == ControlMode::Off {
                    done = true;
                } else {
                    self.sample_all(sys, mode, &mut events);
                    done = !self.do_control_actions(sys, mode, &mut events);
                }
            }
            for e in &mut events[logged..] {
                *e = format!("control iteration {iteration}: {e}");
            }
            if done || iteration >= max_iterations {
                break;
            }
        }
        if !done {
            events.push(format!(
                "maximum control iterations ({max_iterations}) exceeded"
            ));
        }
        ControlSummary {
            control_iterations: iteration,
            power_flow_iterations_converged: all_converged,
            settled: done && last_converged,
            events,
        }
    }

    /// The full report of a loop: its summary, with the present taps and capacitor states.
    pub fn report(&self, summary: ControlSummary) -> ControlReport {
        ControlReport {
            control_iterations: summary.control_iterations,
            power_flow_iterations_converged: summary.power_flow_iterations_converged,
            settled: summary.settled,
            taps: self.taps_report(),
            capacitor_states: self
                .banks
                .iter()
                .map(|b| (b.name.clone(), b.states.clone()))
                .collect(),
            events: summary.events,
        }
    }

    fn taps_report(&self) -> Vec<RegulatorTap> {
        self.regulators
            .iter()
            .map(|r| {
                let t = &self.taps[r.tap];
                RegulatorTap {
                    regcontrol: r.cfg.name.clone(),
                    transformer: t.transformer.clone(),
                    winding: t.winding,
                    tap_pu: t.tap_pu,
                    tap_number: t.tap_number(),
                }
            })
            .collect()
    }

    /// OpenDSS `SampleControlDevices`: every enabled control, regulators first, in model order.
    fn sample_all<S: ControlledSystem>(
        &mut self,
        sys: &S,
        mode: ControlMode,
        events: &mut Vec<String>,
    ) {
        let mut ctx = Ctx {
            queue: &mut self.queue,
            time_s: self.time_s,
            mode,
            events,
            log_events: self.log_events,
        };
        for (k, r) in self.regulators.iter_mut().enumerate() {
            if r.cfg.enabled {
                r.sample(k, sys, &self.taps[r.tap], &mut ctx);
            }
        }
        for (k, s) in self.switches.iter_mut().enumerate() {
            if s.cfg.enabled {
                s.sample(k, sys, &self.banks[s.bank], &mut ctx);
            }
        }
    }

    /// OpenDSS `DoControlActions`; returns false when the controls are done.
    fn do_control_actions<S: ControlledSystem>(
        &mut self,
        sys: &mut S,
        mode: ControlMode,
        events: &mut Vec<String>,
    ) -> bool {
        let due_time = match mode {
            ControlMode::Off => return false,
            ControlMode::Static | ControlMode::Event => match self.queue.nearest_time() {
                Some(t) => t,
                None => return false,
            },
            ControlMode::Time => self.time_s,
        };
        if mode == ControlMode::Event {
            self.time_s = due_time;
        }
        let mut any = false;
        while let Some(a) = self.queue.pop_first_due(due_time) {
            any = true;
            self.execute(a, sys, mode, events);
        }
        any
    }

    fn execute<S: ControlledSystem>(
        &mut self,
        a: QueuedAction,
        sys: &mut S,
        mode: ControlMode,
        events: &mut Vec<String>,
    ) {
        let mut ctx = Ctx {
            queue: &mut self.queue,
            time_s: self.time_s,
            mode,
            events,
            log_events: self.log_events,
        };
        match a.owner {
            Owner::Regulator(k) => {
                let r = &mut self.regulators[k];
                r.do_action(k, a.action, sys, &mut self.taps[r.tap], &mut ctx);
            }
            Owner::CapControl(k) => {
                let s = &mut self.switches[k];
                s.do_action(sys, &mut self.banks[s.bank], &mut ctx);
            }
        }
    }
}

#[cfg(test)]
mod tests;
