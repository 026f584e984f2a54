//! Storage in a time series: dispatch, state of charge and `StorageController`s, as OpenDSS
//! (`Storage.pas`, `StorageController.pas` of DSS C-API 0.14) runs them step by step.
//!
//! ## A step
//! 1. **Dispatch** (`SetNominalStorageOutput`). Dispatch mode `follow`: the element's shape
//!    (`yearly=`, else `daily=`, in yearly runs; `daily=`; `duty=`, else `daily=`) sets its kW,
//!    `kWrated × value`: positive discharges (while `kWh > kWhReserve`), negative charges
//!    (while `kWh < kWhrated`), zero idles. Mode `default`: the element keeps its `state=`
//!    (`kW=` sets it too) at `%discharge` / `%charge`, unless `ChargeTrigger` /
//!    `DischargeTrigger` are set: then it charges when the shape falls below the charge
//!    trigger (or at `TimeChargeTrig` o'clock) and discharges when it rises above the
//!    discharge trigger. A fleet under a controller (`external`) keeps what the controller set.
//!    The output follows from the state ([`vgrid_powerflow::injection::storage_output`]).
//! 2. **Solve**, and let every `StorageController` sample the solution and redispatch its
//!    fleet; solve again while one of them changed something (OpenDSS's control iterations,
//!    at most `maxcontroliter` power flows).
//! 3. **State of charge** (`UpdateStorage`), with the terminal power `P` of the solution and
//!    the step `Δt`:
//!
//!    ```text
//!    discharging: kWh −= (|P| + P_idling) / η_discharge · Δt   (down to kWhReserve, then idle)
//!    charging:    kWh += (|P| − P_idling) · η_charge · Δt      (up to kWhrated, then idle)
//!    ```
//!
//!    with `P_idling = %IdlingkW · kWrated`. An idling element only draws `P_idling`; its
//!    kWh does not change.
//!
//! A 100 kW / 400 kWh battery at 30 % (120 kWh, `%reserve=20`: 80 kWh) following a shape of
//! 0.5 for an hour discharges 50 kW and would need `(50 + 1)/0.9 = 56.7` kWh: it stops at the
//! reserve, 80 kWh, and idles. The next hour at −0.5 it charges 50 kW and stores
//! `(50 − 1)·0.9 = 44.1` kWh: 124.1 kWh.
//!
//! ## StorageController (peak shaving, valley filling)
//! Each control iteration the controller reads the power `S` through its monitored terminal
//! (`MonPhase=max`, the default: the phase with the largest |P| times the number of phases;
//! `avg`: the sum; a phase number: that phase times the phases) and compares it with its
//! targets (`HalfkWBand` is half the `kWBand`, or `%kWBand` of the target):
//!
//! - **`ModeDischarge=PeakShave`**: with `ΔP = P − kWTarget` (plus the fleet's own charging
//!   kW while it charges), when `|ΔP| > HalfkWBand` every element discharges at
//!   `min(kWrated, kW_now + ΔP·weight/Σweights)` (idles if that is ≤ 0), while the fleet has
//!   more than its reserve; when `ΔP` is below the band, charging is allowed.
//! - **`ModeDischarge=Support`**: as peak shaving with `ΔP = P + kWTarget` (keeps a
//!   generating feeder's power above `−kWTarget`).
//! - **`ModeDischarge=Time`**: discharging at `%RatekW` starts at `TimeDischargeTrigger`.
//! - **`ModeDischarge=LoadShape`** (and `ModeCharge=LoadShape`): the controller's own shape
//!   (`yearly=`, `daily=`, `duty=` as for a storage element) sets the fleet's rate: a value
//!   `m > 0` discharges at `m·kWrated`, `m < 0` charges at `|m|·kWrated`, 0 idles (a rate
//!   is applied when it changes).
//! - **`ModeCharge=Time`** (default): at `TimeChargeTrigger` o'clock the fleet charges at
//!   `%RateCharge` until full; discharging is inhibited for `InhibitTime` hours (in OpenDSS's
//!   static control mode the inhibit is released within the same step, as here).
//! - **`ModeCharge=PeakShaveLow`** (valley filling): with `ΔP = P − kWTargetLow` (plus the
//!   fleet's discharging kW), when `ΔP < 0` and `|ΔP| > HalfkWBandLow` every element charges
//!   at `max(−kWrated, kW_now + ΔP·weight/Σweights)`.
//!
//! The fleet is the controller's `ElementList`, or every storage element not already under a
//! controller; it is switched to external dispatch at `%RatekW` / `%RateCharge`.
//!
//! A grounded conductor of the monitored terminal (the 4th conductor of a delta transformer
//! winding) counts 0 kW here. OpenDSS 0.14.5 (`GetPhasePower`) leaves its entry unset, so
//! with `MonPhase=max` or `avg` on such a terminal OpenDSS reads whatever the memory holds —
//! usually 0, sometimes a huge number that makes the fleet discharge at full power at night.
//! The reference cases therefore monitor lines (or one phase of a transformer).
//!
//! ## Not modelled (an error names them when a script uses them)
//! Storage dispatch modes `loadlevel` and `price`; controller discharge modes `Follow`,
//! `Schedule`, `I-PeakShave`, charge mode `I-PeakShaveLow`; seasonal targets. Storage
//! controllers act in time series only: a snapshot solve (`vgrid solve`) keeps every storage
//! element in the state its script gives it. Silently as OpenDSS's defaults: the inverter efficiency
//! curve (ideal inverter), `%CutIn`/`%CutOut` hysteresis inside a controller's dispatch,
//! `VarFollowInverter`, kvar dispatch.
//!
//! With regulators or capacitor controls in the circuit, the storage controllers act inside
//! their control loop (`WithStorage`): every power flow of the loop is followed by the
//! storage controllers' redispatch until they settle, then the regulators and capacitors
//! sample. OpenDSS samples all controls after each flow and lets the storage's "act now"
//! actions go first; the two orders reach the same taps as long as a regulator's pending
//! change is decided on the flow after the storage settled (OpenDSS re-samples an armed
//! regulator each iteration). Control-iteration counts differ.

use vgrid_model::{
    ControlMode, ElementId, Network, SolveMode, Storage, StorageChargeMode, StorageController,
    StorageDischargeMode, StorageState,
};
use vgrid_network::C64;
use vgrid_powerflow::control::ControlledSystem;
use vgrid_powerflow::injection::{idling_kw, storage_output, StorageDispatch, StorageOutput};
use vgrid_powerflow::solve::System;

use crate::clock::Clock;
use crate::profile::shape_index;
use crate::shape::Shape;
use crate::Error;

/// OpenDSS's `EPSILON`.
const EPSILON: f64 = 1e-12;

/// How one element is dispatched.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Default,
    Follow,
    /// Dispatched by a controller (or `dispmode=external`): keeps its state between steps.
    External,
}

/// What a storage element did in the last step.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageStatus {
    /// The element's name (lower case).
    pub name: String,
    /// Power at its terminal in the solution, kW and kvar (discharging positive).
    pub p_kw: f64,
    pub q_kvar: f64,
    /// Energy stored after the step, kWh.
    pub kwh_stored: f64,
    /// State after the step (an element that emptied or filled up is idling).
    pub state: StorageState,
}

#[derive(Debug, Clone)]
struct Unit {
    /// Index in `Network::storages` (also `System::model().storages`).
    index: usize,
    model: Storage,
    dispatch: StorageDispatch,
    mode: Mode,
    shape: Option<usize>,
    enabled: bool,
}

/// An action on the control queue: release the discharge inhibit of a controller.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Release {
    time_s: f64,
    controller: usize,
}

#[derive(Debug, Clone)]
struct Controller {
    cfg: StorageController,
    /// Indices into `Fleet::units` and their weights.
    fleet: Vec<usize>,
    weights: Vec<f64>,
    total_weight: f64,
    fleet_state: StorageState,
    charging_allowed: bool,
    discharge_inhibited: bool,
    out_of_oomph: bool,
    wait4step: bool,
    /// Monitored element (not needed in `LoadShape` and `Time` modes) and its phases.
    element: Option<ElementId>,
    phases: usize,
    /// The controller's own shape (`LoadShape` modes) and its value this step.
    shape: Option<usize>,
    shape_mult: f64,
    /// Fleet rates, % of kWrated (`%RatekW`, `%RateCharge`; `LoadShape` mode changes them).
    pct_rate_kw: f64,
    pct_rate_charge: f64,
}

/// The storage elements of a run, their controllers and the control queue.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    units: Vec<Unit>,
    outputs: Vec<StorageOutput>,
    controllers: Vec<Controller>,
    queue: Vec<Release>,
    /// Actions due now (pushed at the present time) that keep the control loop going.
    pushed_now: bool,
    status: Vec<StorageStatus>,
    step_s: f64,
    time_controls: bool,
    max_control_iterations: u32,
    control_iteration: u32,
}

/// OpenDSS's `NormalizeToTOD`: the time of day, hours.
fn time_of_day(clock: &Clock, wrap_at_24: bool) -> f64 {
    let h = clock.int_hour();
    let hour_of_day = if h > 23 { h - (h / 24) * 24 } else { h };
    let t = hour_of_day as f64 + clock.sec() / 3600.0;
    if (wrap_at_24 && t >= 24.0) || t > 24.0 {
        t - 24.0
    } else {
        t
    }
}

fn unsupported(what: String) -> Error {
    Error::Unsupported { what }
}

impl Fleet {
    /// The storage elements and controllers of `net` for `mode`; `None` without storage.
    pub(crate) fn for_network(
        net: &Network,
        mode: SolveMode,
        shapes: &mut Vec<Shape>,
    ) -> Result<Option<Fleet>, Error> {
        if net.storages.is_empty() {
            return Ok(None);
        }
        let mut units = Vec::with_capacity(net.storages.len());
        for (index, s) in net.storages.iter().enumerate() {
            let m = match s.dispatch_mode.as_str() {
                "follow" => Mode::Follow,
                "external" => Mode::External,
                "default" | "" => Mode::Default,
                other => {
                    return Err(unsupported(format!(
                        "Storage.{} dispatch mode '{other}'",
                        s.name
                    )))
                }
            };
            let name = match mode {
                SolveMode::Yearly => s.yearly.as_deref().or(s.daily.as_deref()),
                SolveMode::Daily => s.daily.as_deref(),
                SolveMode::Duty => s.duty.as_deref().or(s.daily.as_deref()),
                SolveMode::Snapshot => None,
            };
            let shape = match name {
                Some(n) => Some(shape_index(net, &format!("Storage.{}", s.name), n, shapes)?),
                None => None,
            };
            units.push(Unit {
                index,
                model: s.clone(),
                dispatch: StorageDispatch::of(s),
                mode: m,
                shape,
                enabled: s.enabled,
            });
        }
        let mut controllers = Vec::new();
        for c in net.storage_controllers.iter().filter(|c| c.enabled) {
            controllers.push(Controller::new(c, net, &mut units, mode, shapes)?);
        }
        let outputs = units
            .iter()
            .map(|u| storage_output(&u.model, &u.dispatch))
            .collect();
        let status = units
            .iter()
            .map(|u| StorageStatus {
                name: u.model.name.clone(),
                p_kw: 0.0,
                q_kvar: 0.0,
                kwh_stored: u.dispatch.kwh_stored,
                state: u.dispatch.state,
            })
            .collect();
        Ok(Some(Fleet {
            units,
            outputs,
            controllers,
            queue: Vec::new(),
            pushed_now: false,
            status,
            step_s: net.settings.step_size_s,
            time_controls: net.settings.control_mode == ControlMode::Time,
            max_control_iterations: net.settings.max_control_iterations.max(1),
            control_iteration: 0,
        }))
    }

    /// What each element puts out now, in `Network::storages` order.
    pub(crate) fn outputs(&self) -> &[StorageOutput] {
        &self.outputs
    }

    /// The last step's result of every element.
    pub(crate) fn status(&self) -> &[StorageStatus] {
        &self.status
    }

    fn refresh(&mut self, u: usize) {
        let unit = &mut self.units[u];
        let out = storage_output(&unit.model, &unit.dispatch);
        unit.dispatch.state = out.state;
        unit.dispatch.inverter_on = out.inverter_on;
        self.outputs[unit.index] = out;
    }

    /// Step 1: every element's state and output at the new time (`SetNominalStorageOutput`).
    pub(crate) fn begin_step(&mut self, shapes: &[Shape], clock: &Clock) {
        let hour = clock.hour();
        for u in 0..self.units.len() {
            let unit = &mut self.units[u];
            if unit.mode != Mode::External {
                let level = unit.shape.map_or(1.0, |i| shapes[i].at_hour(hour).0);
                check_trigger(unit, level, clock, self.step_s);
                if unit.mode == Mode::Follow {
                    unit.dispatch.follow = Some(level);
                    match unit.dispatch.state {
                        StorageState::Charging => unit.dispatch.pct_charge = level.abs() * 100.0,
                        StorageState::Discharging => {
                            unit.dispatch.pct_discharge = level.abs() * 100.0
                        }
                        StorageState::Idling => {}
                    }
                }
            }
            self.refresh(u);
        }
        for c in &mut self.controllers {
            c.shape_mult = c.shape.map_or(1.0, |i| shapes[i].at_hour(hour).0);
        }
        self.control_iteration = 0;
    }

    /// Whether controllers dispatch this fleet (then [`Fleet::sample`] runs after each flow).
    pub(crate) fn has_controllers(&self) -> bool {
        !self.controllers.is_empty()
    }

    /// Step 2, after a power flow: every controller samples the solution (OpenDSS
    /// `CheckControls`). Returns whether another power flow is due (some output changed or an
    /// action is pending now); then [`Fleet::outputs`] holds the new outputs.
    pub(crate) fn sample(&mut self, sys: &System, clock: &Clock) -> bool {
        self.control_iteration += 1;
        if self.control_iteration >= self.max_control_iterations {
            return false;
        }
        self.pushed_now = false;
        for c in 0..self.controllers.len() {
            self.sample_controller(c, sys, clock);
        }
        // DoControlActions: actions pushed for now come first; in static mode the nearest
        // pending action (a release) is done whatever its time, in time mode only when due
        if self.pushed_now {
            // LoadsNeedUpdating: every element recomputes its output for the next flow
            for u in 0..self.units.len() {
                self.refresh(u);
            }
            return true;
        }
        let now_s = clock.int_hour() as f64 * 3600.0 + clock.sec();
        let nearest = self
            .queue
            .iter()
            .map(|r| r.time_s)
            .fold(f64::INFINITY, f64::min);
        if nearest.is_finite() && (!self.time_controls || nearest <= now_s) {
            let (due, keep): (Vec<Release>, Vec<Release>) =
                self.queue.iter().partition(|r| r.time_s <= nearest);
            self.queue = keep;
            for r in due {
                let ctl = &mut self.controllers[r.controller];
                if ctl.cfg.mode_discharge != StorageDischargeMode::Follow {
                    ctl.discharge_inhibited = false;
                }
            }
            return true;
        }
        false
    }

    /// Step 3: the state of charge after the step (`UpdateStorage`), from the terminal powers
    /// of the final solution.
    pub(crate) fn end_step(&mut self, sys: &System) {
        let interval_h = self.step_s / 3600.0;
        let powers = storage_powers(sys, self.units.len());
        for (unit, st) in self.units.iter_mut().zip(self.status.iter_mut()) {
            let p = powers.get(unit.index).copied().unwrap_or_default();
            st.p_kw = -p.re;
            st.q_kvar = -p.im;
            if unit.enabled {
                update_storage(unit, p.re, interval_h);
            }
            st.kwh_stored = unit.dispatch.kwh_stored;
            st.state = unit.dispatch.state;
        }
    }

    fn sample_controller(&mut self, c: usize, sys: &System, clock: &Clock) {
        self.controllers[c].charging_allowed = false;
        self.controllers[c].wait4step = false;
        match self.controllers[c].cfg.mode_discharge {
            StorageDischargeMode::PeakShave => self.peak_shave(c, sys, false),
            StorageDischargeMode::Support => self.peak_shave(c, sys, true),
            StorageDischargeMode::Time => self.time_mode(c, clock, true),
            StorageDischargeMode::LoadShape => self.load_shape_mode(c),
            _ => {}
        }
        if self.controllers[c].charging_allowed {
            match self.controllers[c].cfg.mode_charge {
                StorageChargeMode::Time => self.time_mode(c, clock, false),
                StorageChargeMode::PeakShaveLow => self.valley_fill(c, sys),
                _ => {}
            }
        }
    }

    fn fleet_kw(&self, c: usize) -> f64 {
        self.controllers[c]
            .fleet
            .iter()
            .map(|&u| self.outputs[self.units[u].index].kw)
            .sum()
    }

    fn fleet_kwh(&self, c: usize) -> (f64, f64, f64) {
        let (mut stored, mut rating, mut reserve) = (0.0, 0.0, 0.0);
        for &u in &self.controllers[c].fleet {
            let unit = &self.units[u];
            stored += unit.dispatch.kwh_stored;
            rating += unit.model.kwh_rated;
            reserve += unit.model.kwh_reserve;
        }
        (stored, rating, reserve)
    }

    /// `Set_StorageState`: declined (idling) when empty or full.
    fn set_state(&mut self, u: usize, state: StorageState) {
        let unit = &mut self.units[u];
        let d = &mut unit.dispatch;
        d.state = match state {
            StorageState::Charging if d.kwh_stored < unit.model.kwh_rated => state,
            StorageState::Discharging if d.kwh_stored > unit.model.kwh_reserve => state,
            _ => StorageState::Idling,
        };
    }

    fn set_fleet_state(&mut self, c: usize, state: StorageState) {
        for k in 0..self.controllers[c].fleet.len() {
            let u = self.controllers[c].fleet[k];
            self.set_state(u, state);
        }
        self.controllers[c].fleet_state = state;
    }

    /// `Set_kW` then `SetNominalStorageOutput`.
    fn set_kw(&mut self, u: usize, kw: f64) {
        let unit = &mut self.units[u];
        let d = &mut unit.dispatch;
        if kw > 0.0 {
            d.state = StorageState::Discharging;
            d.pct_discharge = kw / unit.model.kw_rated * 100.0;
        } else if kw < 0.0 {
            d.state = StorageState::Charging;
            d.pct_charge = kw.abs() / unit.model.kw_rated * 100.0;
        } else {
            d.state = StorageState::Idling;
        }
        self.refresh(u);
    }

    /// The element's `kW` property: what its state and rates ask for.
    fn asked_kw(&self, u: usize) -> f64 {
        let unit = &self.units[u];
        let d = &unit.dispatch;
        match d.state {
            StorageState::Charging => -d.pct_charge * unit.model.kw_rated / 100.0,
            StorageState::Discharging => d.pct_discharge * unit.model.kw_rated / 100.0,
            StorageState::Idling => -idling_kw(&unit.model),
        }
    }

    fn update_fleet_idle(&mut self, c: usize) {
        if self.controllers[c].fleet_state != StorageState::Idling
            && self.controllers[c]
                .fleet
                .iter()
                .all(|&u| self.units[u].dispatch.state == StorageState::Idling)
            && !self.controllers[c].fleet.is_empty()
        {
            self.controllers[c].fleet_state = StorageState::Idling;
        }
    }

    /// `DoLoadShapeMode`: the fleet charges (shape < 0) or discharges (> 0) at the shape's
    /// value times its kWrated, idles at 0.
    fn load_shape_mode(&mut self, c: usize) {
        let saved = self.controllers[c].fleet_state;
        let mut rate_changed = false;
        let mult = self.controllers[c].shape_mult;
        if mult < 0.0 {
            self.controllers[c].charging_allowed = true;
            let rate = mult.abs() * 100.0;
            if rate != self.controllers[c].pct_rate_charge {
                rate_changed = true;
                self.controllers[c].pct_rate_charge = rate;
                for k in 0..self.controllers[c].fleet.len() {
                    let u = self.controllers[c].fleet[k];
                    self.units[u].dispatch.pct_charge = rate;
                }
                self.set_fleet_state(c, StorageState::Charging);
            }
        } else if mult == 0.0 {
            self.set_fleet_idle(c);
        } else {
            let rate = mult * 100.0;
            if rate != self.controllers[c].pct_rate_kw {
                rate_changed = true;
                self.controllers[c].pct_rate_kw = rate;
                for k in 0..self.controllers[c].fleet.len() {
                    let u = self.controllers[c].fleet[k];
                    self.units[u].dispatch.pct_discharge = rate;
                }
                self.set_fleet_state(c, StorageState::Discharging);
            }
        }
        if self.controllers[c].fleet_state != saved || rate_changed {
            self.pushed_now = true;
        }
    }

    /// `DoLoadFollowMode` in `PeakShave` discharge mode (`support`: `Support` mode, which
    /// keeps the monitored power above −kWTarget: `ΔP = P + kWTarget`).
    fn peak_shave(&mut self, c: usize, sys: &System, support: bool) {
        if self.controllers[c].fleet.is_empty() {
            return;
        }
        let s = self.controllers[c].control_power_kw(sys);
        let target = self.controllers[c].cfg.kw_target;
        let half_band = self.controllers[c].cfg.half_kw_band;
        let disp_factor = self.controllers[c].cfg.disp_factor;
        let mut pdiff = if support { s + target } else { s - target };
        let kw_needed = pdiff;
        self.update_fleet_idle(c);
        let mut skip = false;
        let mut changed = false;
        if self.controllers[c].discharge_inhibited {
            skip = true;
        } else {
            if self.controllers[c].fleet_state == StorageState::Charging {
                pdiff += self.fleet_kw(c);
            }
            if matches!(
                self.controllers[c].fleet_state,
                StorageState::Charging | StorageState::Idling
            ) && (pdiff - half_band < 0.0 || self.controllers[c].out_of_oomph)
            {
                self.controllers[c].charging_allowed = true;
                skip = true;
                if self.controllers[c].out_of_oomph {
                    let reset = self.controllers[c].cfg.reset_level;
                    let all_above = self.controllers[c].fleet.iter().all(|&u| {
                        let m = &self.units[u];
                        m.dispatch.kwh_stored / m.model.kwh_rated >= reset
                    });
                    self.controllers[c].out_of_oomph = !all_above;
                }
            }
        }
        if !skip {
            let (remaining, _, reserve) = self.fleet_kwh(c);
            if remaining > reserve {
                if pdiff.abs() > half_band {
                    if self.controllers[c].fleet_state != StorageState::Discharging {
                        self.set_fleet_state(c, StorageState::Discharging);
                    }
                    let total = self.controllers[c].total_weight;
                    for k in 0..self.controllers[c].fleet.len() {
                        let u = self.controllers[c].fleet[k];
                        let w = self.controllers[c].weights[k];
                        let present = self.outputs[self.units[u].index].kw;
                        let rated = self.units[u].model.kw_rated;
                        let dispatch = rated.min(present + kw_needed * disp_factor * (w / total));
                        if dispatch <= 0.0 {
                            self.units[u].dispatch.state = StorageState::Idling;
                            if present.abs() - idling_kw(&self.units[u].model) > EPSILON {
                                self.refresh(u);
                                changed = true;
                            }
                        } else if (self.asked_kw(u) - dispatch).abs() / dispatch.abs() > 0.0001
                            && self.units[u].dispatch.kwh_stored > self.units[u].model.kwh_reserve
                        {
                            self.set_kw(u, dispatch);
                            changed = true;
                        }
                    }
                }
            } else {
                if self.controllers[c].fleet_state == StorageState::Charging {
                    self.set_fleet_idle(c);
                    self.pushed_now = true;
                }
                self.controllers[c].charging_allowed = true;
                self.controllers[c].out_of_oomph = true;
            }
        }
        if changed {
            self.pushed_now = true;
        }
    }

    /// `SetFleetToIdle`: idle, `kW = 0`.
    fn set_fleet_idle(&mut self, c: usize) {
        for k in 0..self.controllers[c].fleet.len() {
            let u = self.controllers[c].fleet[k];
            self.units[u].dispatch.state = StorageState::Idling;
            self.refresh(u);
        }
        self.controllers[c].fleet_state = StorageState::Idling;
    }

    /// `DoTimeMode`: discharge (`discharge`) or charge at the trigger time.
    fn time_mode(&mut self, c: usize, clock: &Clock, discharge: bool) {
        let (remaining, rating, reserve) = self.fleet_kwh(c);
        let tod = time_of_day(clock, true);
        let half_step_h = self.step_s / 7200.0;
        let cfg = &self.controllers[c].cfg;
        if discharge {
            let trigger = cfg.time_discharge_trigger_h;
            if trigger > 0.0 {
                if (tod - trigger).abs() < half_step_h {
                    if self.controllers[c].fleet_state != StorageState::Discharging
                        && remaining > reserve
                    {
                        self.set_fleet_state(c, StorageState::Discharging);
                        let rate = self.controllers[c].pct_rate_kw;
                        for k in 0..self.controllers[c].fleet.len() {
                            let u = self.controllers[c].fleet[k];
                            self.units[u].dispatch.pct_discharge = rate;
                            self.refresh(u);
                        }
                        self.controllers[c].discharge_inhibited = false;
                        self.pushed_now = true;
                    }
                } else {
                    self.controllers[c].charging_allowed = true;
                }
            }
        } else {
            let trigger = cfg.time_charge_trigger_h;
            let inhibit_s = f64::from(cfg.inhibit_time_h) * 3600.0;
            if trigger > 0.0
                && (tod - trigger).abs() < half_step_h
                && self.controllers[c].fleet_state != StorageState::Charging
                && remaining < rating
            {
                self.set_fleet_state(c, StorageState::Charging);
                for k in 0..self.controllers[c].fleet.len() {
                    let u = self.controllers[c].fleet[k];
                    self.refresh(u);
                }
                self.controllers[c].discharge_inhibited = true;
                self.controllers[c].out_of_oomph = false;
                self.pushed_now = true;
                let now_s = clock.int_hour() as f64 * 3600.0 + clock.sec();
                self.queue.push(Release {
                    time_s: now_s + inhibit_s,
                    controller: c,
                });
            }
        }
    }

    /// `DoPeakShaveModeLow`: charge in the valleys.
    fn valley_fill(&mut self, c: usize, sys: &System) {
        if self.controllers[c].fleet.is_empty() {
            return;
        }
        let s = self.controllers[c].control_power_kw(sys);
        let target = self.controllers[c].cfg.kw_target_low;
        let half_band = self.controllers[c].cfg.half_kw_band_low;
        let disp_factor = self.controllers[c].cfg.disp_factor;
        let mut pdiff = s - target;
        let kw_needed = pdiff;
        let (stored, rating, _) = self.fleet_kwh(c);
        self.update_fleet_idle(c);
        if self.controllers[c].fleet_state == StorageState::Discharging {
            pdiff += self.fleet_kw(c);
        }
        if matches!(
            self.controllers[c].fleet_state,
            StorageState::Discharging | StorageState::Idling
        ) && (pdiff > 0.0 || stored >= rating || self.controllers[c].wait4step)
        {
            self.controllers[c].charging_allowed = false;
            self.controllers[c].wait4step = false;
            return;
        }
        let mut changed = false;
        if stored < rating {
            if pdiff.abs() > half_band {
                if self.controllers[c].fleet_state != StorageState::Charging {
                    self.set_fleet_state(c, StorageState::Charging);
                }
                let total = self.controllers[c].total_weight;
                for k in 0..self.controllers[c].fleet.len() {
                    let u = self.controllers[c].fleet[k];
                    let w = self.controllers[c].weights[k];
                    let present = self.outputs[self.units[u].index].kw;
                    let rated = self.units[u].model.kw_rated;
                    let mut charge = present + kw_needed * (w / total) * disp_factor;
                    if charge < 0.0 {
                        charge = charge.max(-rated);
                    }
                    if charge >= 0.0 {
                        self.units[u].dispatch.state = StorageState::Idling;
                        if present.abs() - idling_kw(&self.units[u].model) > EPSILON {
                            self.refresh(u);
                            changed = true;
                        }
                    } else if (self.asked_kw(u) - charge).abs() / charge.abs() > 0.0001
                        && self.units[u].dispatch.kwh_stored < self.units[u].model.kwh_rated
                    {
                        self.set_kw(u, charge);
                        changed = true;
                    }
                }
            }
        } else {
            if self.controllers[c].fleet_state == StorageState::Charging {
                self.set_fleet_idle(c);
                self.pushed_now = true;
            }
            self.controllers[c].charging_allowed = false;
        }
        if changed {
            self.pushed_now = true;
        }
    }
}

impl Controller {
    fn new(
        cfg: &StorageController,
        net: &Network,
        units: &mut [Unit],
        mode: SolveMode,
        shapes: &mut Vec<Shape>,
    ) -> Result<Controller, Error> {
        let name = format!("StorageController.{}", cfg.name);
        use StorageDischargeMode as D;
        match cfg.mode_discharge {
            D::PeakShave | D::Support | D::Time | D::LoadShape => {}
            m => return Err(unsupported(format!("{name}: ModeDischarge={m:?}"))),
        }
        match cfg.mode_charge {
            StorageChargeMode::Time
            | StorageChargeMode::PeakShaveLow
            | StorageChargeMode::LoadShape => {}
            m => return Err(unsupported(format!("{name}: ModeCharge={m:?}"))),
        }
        let shape_name = match mode {
            SolveMode::Yearly => cfg.yearly.as_deref().or(cfg.daily.as_deref()),
            SolveMode::Daily => cfg.daily.as_deref(),
            SolveMode::Duty => cfg.duty.as_deref().or(cfg.daily.as_deref()),
            SolveMode::Snapshot => None,
        };
        let shape = match shape_name {
            Some(n) => Some(shape_index(net, &name, n, shapes)?),
            None => None,
        };
        let needs_element = !matches!(cfg.mode_discharge, D::LoadShape | D::Time)
            || cfg.mode_charge == StorageChargeMode::PeakShaveLow;
        let element = match (&cfg.element, needs_element) {
            (Some(e), _) => Some(e.clone()),
            (None, false) => None,
            (None, true) => {
                return Err(unsupported(format!("{name} without a monitored Element")));
            }
        };
        // MakeFleetList
        let (fleet, weights): (Vec<usize>, Vec<f64>) = if cfg.elements.is_empty() {
            units
                .iter()
                .enumerate()
                .filter(|(_, u)| u.enabled && u.mode != Mode::External)
                .map(|(k, _)| (k, 1.0))
                .unzip()
        } else {
            let mut f = Vec::new();
            let mut w = Vec::new();
            for (k, n) in cfg.elements.iter().enumerate() {
                let u = units
                    .iter()
                    .position(|u| &u.model.name == n)
                    .ok_or_else(|| Error::MissingElement {
                        element: name.clone(),
                        missing: format!("Storage.{n}"),
                    })?;
                if units[u].enabled {
                    f.push(u);
                    w.push(cfg.weights.get(k).copied().unwrap_or(1.0));
                }
            }
            (f, w)
        };
        let phases = match &element {
            Some(e) => net.element_phases(e).ok_or_else(|| Error::MissingElement {
                element: name.clone(),
                missing: e.to_string(),
            })?,
            None => 1,
        };
        // SetFleetToExternal, SetAllFleetValues
        for &u in &fleet {
            let unit = &mut units[u];
            unit.mode = Mode::External;
            unit.dispatch.follow = None;
            unit.dispatch.pct_charge = cfg.pct_rate_charge;
            unit.dispatch.pct_discharge = cfg.pct_rate_kw;
        }
        Ok(Controller {
            total_weight: weights.iter().sum(),
            cfg: cfg.clone(),
            fleet,
            weights,
            fleet_state: StorageState::Idling,
            charging_allowed: false,
            discharge_inhibited: false,
            out_of_oomph: false,
            wait4step: false,
            element,
            phases,
            shape,
            shape_mult: 1.0,
            pct_rate_kw: cfg.pct_rate_kw,
            pct_rate_charge: cfg.pct_rate_charge,
        })
    }

    /// The monitored active power, kW (`GetControlPower`).
    fn control_power_kw(&self, sys: &System) -> f64 {
        let t = self.cfg.terminal;
        let Some(element) = &self.element else {
            return 0.0;
        };
        let (Some(v), Some(i)) = (
            sys.terminal_voltages(element, t),
            sys.terminal_currents(element, t),
        ) else {
            return 0.0;
        };
        let per: Vec<C64> = v.iter().zip(&i).map(|(v, i)| v * i.conj()).collect();
        let phases = self.phases;
        let s = if phases == 1 {
            per.iter().sum::<C64>()
        } else {
            match self.cfg.mon_phase {
                -1 => per.iter().sum::<C64>(),
                -2 => {
                    let mut best = C64::new(0.0, 0.0);
                    for x in &per {
                        if x.re.abs() > best.re.abs() {
                            best = *x;
                        }
                    }
                    best * phases as f64
                }
                -3 => {
                    let mut best = C64::new(1e50, 1e50);
                    for x in &per {
                        if x.re.abs() < best.re.abs() {
                            best = *x;
                        }
                    }
                    best * phases as f64
                }
                k => per.get((k - 1) as usize).copied().unwrap_or_default() * phases as f64,
            }
        };
        s.re * 0.001
    }
}

/// The power-flow system as the regulator and capacitor controls see it when storage
/// controllers act too: each power flow is solved to `tolerance` and followed by the storage
/// controllers' redispatch (and another flow) until they settle.
pub(crate) struct WithStorage<'a> {
    pub sys: &'a mut System,
    pub fleet: &'a mut Fleet,
    pub clock: Clock,
    /// Tolerance of the flows the storage controllers sample.
    pub tolerance: f64,
}

impl ControlledSystem for WithStorage<'_> {
    fn solve_power_flow(&mut self) -> bool {
        let loop_tolerance = self.sys.settings.tolerance;
        self.sys.settings.tolerance = self.tolerance;
        let converged = loop {
            let ok = self.sys.solve_power_flow();
            if !ok || !self.fleet.sample(self.sys, &self.clock) {
                break ok;
            }
            self.sys.set_storage(self.fleet.outputs());
        };
        self.sys.settings.tolerance = loop_tolerance;
        converged
    }
    controlled_reads_from_sys!();
    fn set_tap(&mut self, transformer: &str, winding: usize, tap_pu: f64) {
        ControlledSystem::set_tap(self.sys, transformer, winding, tap_pu);
    }
    fn set_capacitor_states(&mut self, capacitor: &str, states: &[bool]) {
        ControlledSystem::set_capacitor_states(self.sys, capacitor, states);
    }
}

/// `CheckStateTriggerLevel` for dispatch modes `default` and `follow`.
fn check_trigger(unit: &mut Unit, level: f64, clock: &Clock, step_s: f64) {
    let m = &unit.model;
    let d = &mut unit.dispatch;
    if unit.mode == Mode::Follow {
        d.state = if level > 0.0 && d.kwh_stored > m.kwh_reserve {
            StorageState::Discharging
        } else if level < 0.0 && d.kwh_stored < m.kwh_rated {
            StorageState::Charging
        } else {
            StorageState::Idling
        };
        return;
    }
    let (ct, dt) = (m.charge_trigger, m.discharge_trigger);
    if ct == 0.0 && dt == 0.0 {
        return;
    }
    match d.state {
        StorageState::Charging => {
            if ct != 0.0 && (ct < level || d.kwh_stored >= m.kwh_rated) {
                d.state = StorageState::Idling;
            }
        }
        StorageState::Discharging => {
            if dt != 0.0 && (dt > level || d.kwh_stored <= m.kwh_reserve) {
                d.state = StorageState::Idling;
            }
        }
        StorageState::Idling => {}
    }
    if d.state == StorageState::Idling {
        if dt != 0.0 && dt < level && d.kwh_stored > m.kwh_reserve {
            d.state = StorageState::Discharging;
        } else if ct != 0.0 && ct > level && d.kwh_stored < m.kwh_rated {
            d.state = StorageState::Charging;
        }
        if d.state != StorageState::Charging
            && m.time_charge_trigger_h > 0.0
            && (time_of_day(clock, false) - m.time_charge_trigger_h).abs() < step_s / 3600.0
        {
            d.state = StorageState::Charging;
        }
    }
}

/// `UpdateStorage` with the terminal power `p_in_kw` (into the element: negative when
/// discharging) over `interval_h`.
fn update_storage(unit: &mut Unit, p_in_kw: f64, interval_h: f64) {
    let m = &unit.model;
    let d = &mut unit.dispatch;
    let idling = idling_kw(m);
    let eff_c = m.pct_eff_charge * 0.01;
    let eff_d = m.pct_eff_discharge * 0.01;
    let dc_kw = p_in_kw.abs();
    match d.state {
        StorageState::Discharging => {
            d.kwh_stored -= (dc_kw + idling) / eff_d * interval_h;
            if d.kwh_stored < m.kwh_reserve {
                d.kwh_stored = m.kwh_reserve;
                d.state = StorageState::Idling;
            }
        }
        StorageState::Charging => {
            if dc_kw - idling >= 0.0 {
                d.kwh_stored += (dc_kw - idling) * eff_c * interval_h;
                if d.kwh_stored > m.kwh_rated {
                    d.kwh_stored = m.kwh_rated;
                    d.state = StorageState::Idling;
                }
            } else {
                d.kwh_stored += (dc_kw - idling) / eff_d * interval_h;
                if d.kwh_stored < m.kwh_reserve {
                    d.kwh_stored = m.kwh_reserve;
                    d.state = StorageState::Idling;
                }
            }
        }
        StorageState::Idling => {}
    }
}

/// Power into each storage element (kW + j kvar, `Network::storages` order; 0 for elements
/// not in the solved network).
fn storage_powers(sys: &System, n: usize) -> Vec<C64> {
    let mut out = vec![C64::new(0.0, 0.0); n];
    let storages = &sys.net.storages;
    let mut k = 0;
    for (id, s) in sys.pc_powers_kva() {
        if id.kind == vgrid_model::ElementKind::Storage {
            if let Some(r) = storages.get(k) {
                if let Some(o) = out.get_mut(r.index) {
                    *o = s;
                }
            }
            k += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vgrid_dss::{ReadOptions, Reader};

    fn network(extra: &str) -> Network {
        let script = format!(
            "
            Clear
            New Circuit.t basekv=12.47 bus1=src pu=1.0
            New Line.l1 bus1=src bus2=b r1=0.3 x1=0.6 length=2 units=km
            New Load.ld bus1=b kV=12.47 kW=500 kvar=100
            New Loadshape.sh npts=4 interval=1 mult=[0.5 -0.5 0 1]
            {extra}
            Set voltagebases=[12.47]
            Set mode=daily number=4 stepsize=1h
            "
        );
        let mut r = Reader::new(ReadOptions::default());
        r.run_text(&script, "t.dss", std::path::Path::new("."), &mut |_, _| {
            Ok(())
        })
        .unwrap();
        r.into_network()
    }

    /// The module docs' example: 120 kWh of 400, reserve 80.
    #[test]
    fn state_of_charge_stops_at_the_reserve_and_recharges() {
        let net = network(
            "New Storage.s bus1=b kV=12.47 kWrated=100 kWhrated=400 %stored=30 dispmode=follow daily=sh",
        );
        let mut sim = crate::Simulation::new(&net).unwrap();
        let mut seen = Vec::new();
        for _ in 0..4 {
            sim.step().unwrap();
            let s = &sim.storages()[0];
            seen.push((s.p_kw, s.kwh_stored, s.state));
        }
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        // hour 1: 50 kW out would take 56.7 kWh: stops at the 80 kWh reserve and idles
        assert!(close(seen[0].0, 50.0) && close(seen[0].1, 80.0), "{seen:?}");
        assert_eq!(seen[0].2, StorageState::Idling);
        // hour 2: charges 50 kW, stores (50 − 1)·0.9
        assert!(
            close(seen[1].0, -50.0) && close(seen[1].1, 124.1),
            "{seen:?}"
        );
        // hour 3: idles, drawing its 1 kW of losses; the kWh stay
        assert!(
            close(seen[2].0, -1.0) && close(seen[2].1, 124.1),
            "{seen:?}"
        );
    }

    #[test]
    fn unmodelled_controller_modes_are_errors() {
        let net = network(
            "New Storage.s bus1=b kV=12.47
             New StorageController.c element=Line.l1 modedischarge=follow",
        );
        let e = crate::Simulation::new(&net).err().unwrap();
        assert!(e.to_string().contains("StorageController.c"), "{e}");
        assert!(e.to_string().contains("not modelled"), "{e}");
        let net = network(
            "New Storage.s bus1=b kV=12.47
             New StorageController.c element=Line.l1 elementlist=[nope]",
        );
        let e = crate::Simulation::new(&net).err().unwrap();
        assert!(e.to_string().contains("Storage.nope"), "{e}");
    }

    #[test]
    fn time_of_day_wraps() {
        let c = Clock::new(26.0, 1800.0);
        assert!((time_of_day(&c, true) - 2.5).abs() < 1e-12);
        let c = Clock::new(2.0, 0.0);
        assert_eq!(time_of_day(&c, true), 2.0);
    }
}
