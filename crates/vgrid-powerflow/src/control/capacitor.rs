//! Switched capacitors: OpenDSS's `CapControl`.
//!
//! A capacitor control watches one terminal of an element (usually the line feeding the bank)
//! and switches its capacitor a step at a time:
//!
//! | type | measured | closes (adds a step) when | opens (removes a step) when |
//! |---|---|---|---|
//! | Current | `|I| / CT` | `> ON` | `< OFF` |
//! | Voltage | `|V| / PT` | `< ON` | `> OFF` |
//! | kvar | `Q` into the terminal, kvar | `> ON` | `< OFF` |
//! | PF | PF on a 0..2 scale (leading > 1) | `< PF_ON` and enough kvar | `> PF_OFF` |
//! | Time | time of day, h | `ON ≤ t < OFF` | otherwise |
//!
//! With `VoltOverride`, an open bank closes below `Vmin` and a closed bank opens above
//! `Vmax` whatever the main criterion says. A decision arms the control: the switching is
//! queued `Delay` (closing) or `DelayOFF` (opening) seconds ahead, and withdrawn if the
//! criterion resets before then. A single-step bank that opened cannot close again within
//! `DeadTime` seconds.
//!
//! Example: a 1-step bank on a Voltage control with `ON=118 OFF=126 PT=20` sees 2,340 V:
//! `2340/20 = 117 < 118`, so it closes after `Delay`.

use num_complex::Complex64 as C64;
use vgrid_model::{CapControl, CapControlKind, Connection, Network, ShuntRating};

use super::queue::{Action, Owner};
use super::{ControlledSystem, Ctx};

/// Which phase (or combination) is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// 1-based phase.
    One(usize),
    Avg,
    Max,
    Min,
}

impl Phase {
    /// From the model's convention: 1-based, 0 = AVG, −1 = MAX, −2 = MIN.
    fn from_model(p: i32) -> Phase {
        match p {
            0 => Phase::Avg,
            -1 => Phase::Max,
            p if p < -1 => Phase::Min,
            p => Phase::One(p as usize),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    None,
    Open,
    Close,
}

/// The steps of one capacitor bank, shared by every control acting on it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CapacitorBank {
    pub name: String,
    pub states: Vec<bool>,
    /// OpenDSS's terminal state (`Closed[0]`), which is what a CapControl calls the bank's
    /// OPEN/CLOSE state. It starts closed even when every step is out (OpenDSS then adds a
    /// step, "STEP UP", rather than closing); opening a single-step bank opens it.
    pub terminal_closed: bool,
    pub connection: Connection,
    pub phases: usize,
    /// Sum of the step ratings, kvar.
    pub total_kvar: f64,
}

impl CapacitorBank {
    pub fn new(c: &vgrid_model::Capacitor, frequency_hz: f64) -> CapacitorBank {
        let total_kvar = match &c.rating {
            ShuntRating::Kvar(k) => k.iter().sum(),
            // ω·C·kV² (wye bank at rated voltage), kvar.
            ShuntRating::Cuf(c_uf) => c_uf
                .iter()
                .map(|cf| {
                    2.0 * std::f64::consts::PI * frequency_hz * cf * 1e-6 * (c.kv * 1000.0).powi(2)
                        / 1000.0
                })
                .sum(),
        };
        CapacitorBank {
            name: c.name.clone(),
            states: c.states.clone(),
            terminal_closed: true,
            connection: c.conn,
            phases: c.phases,
            total_kvar,
        }
    }

    /// OpenDSS `LastStepInService`: the highest step in service (0 = none).
    fn last_step_in_service(&self) -> usize {
        self.states.iter().rposition(|&s| s).map_or(0, |i| i + 1)
    }

    fn available_steps(&self) -> usize {
        self.states.len() - self.last_step_in_service()
    }

    /// The steps the network sees: none while the terminal is open.
    pub fn effective_states(&self) -> Vec<bool> {
        self.states
            .iter()
            .map(|&s| s && self.terminal_closed)
            .collect()
    }

    /// Put the next step in service; false when all are.
    fn add_step(&mut self) -> bool {
        let k = self.last_step_in_service();
        if k == self.states.len() {
            return false;
        }
        self.states[k] = true;
        true
    }

    /// Take the last step in service out; false when none is left in service.
    fn subtract_step(&mut self) -> bool {
        let k = self.last_step_in_service();
        if k == 0 {
            return false;
        }
        self.states[k - 1] = false;
        self.last_step_in_service() > 0
    }
}

/// One capacitor control with its persistent state.
#[derive(Debug, Clone)]
pub(crate) struct CapSwitch {
    pub cfg: CapControl,
    /// Index of the capacitor bank it switches.
    pub bank: usize,
    monitored_phases: usize,
    pt_phase: Phase,
    ct_phase: Phase,
    pf_on: f64,
    pf_off: f64,
    // --- state ---
    closed: bool,
    pending: Change,
    should_switch: bool,
    pub armed: bool,
    handle: u64,
    last_open_time_s: f64,
    initial_closed: bool,
}

/// Power factor on OpenDSS's 0..2 scale: `|P|/|S|`, mirrored to `2 − pf` when Q < 0 (leading).
fn pf_1_to_2(s: C64) -> f64 {
    let a = s.norm();
    let pf = if a != 0.0 { s.re.abs() / a } else { 1.0 };
    if s.im < 0.0 {
        2.0 - pf
    } else {
        pf
    }
}

/// OpenDSS `NormalizeToTOD`: time of day in hours, 0..24.
fn time_of_day_h(time_s: f64) -> f64 {
    let h = (time_s / 3600.0).floor() as i64;
    let sec = time_s - h as f64 * 3600.0;
    let hour_of_day = if h > 24 { h - ((h - 1) / 24) * 24 } else { h };
    let t = hour_of_day as f64 + sec / 3600.0;
    if t - 24.0 > 1e-9 {
        t - 24.0
    } else {
        t
    }
}

impl CapSwitch {
    pub fn new(
        cfg: &CapControl,
        net: &Network,
        bank: usize,
        bank_state: &CapacitorBank,
    ) -> Result<CapSwitch, String> {
        let monitored_phases = net
            .element_phases(&cfg.element)
            .ok_or_else(|| format!("monitored element {} not found", cfg.element))?;
        let pf = |v: f64, default: f64| {
            if (-1.0..=1.0).contains(&v) {
                if v < 0.0 {
                    2.0 + v
                } else {
                    v
                }
            } else {
                default
            }
        };
        let fix = |p: Phase| match p {
            Phase::One(k) if k > bank_state.phases || k == 0 => Phase::One(1),
            p => p,
        };
        Ok(CapSwitch {
            cfg: cfg.clone(),
            bank,
            monitored_phases,
            pt_phase: fix(Phase::from_model(cfg.pt_phase)),
            ct_phase: fix(Phase::from_model(cfg.ct_phase)),
            pf_on: pf(cfg.on_setting, 0.95),
            pf_off: pf(cfg.off_setting, 1.05),
            closed: bank_state.terminal_closed,
            pending: Change::None,
            should_switch: false,
            armed: false,
            handle: 0,
            last_open_time_s: -cfg.dead_time_s,
            initial_closed: bank_state.terminal_closed,
        })
    }

    /// OpenDSS `GetControlVoltage` over the monitored terminal's conductor voltages.
    fn control_voltage(&self, v: &[C64], bank: &CapacitorBank) -> f64 {
        let at = |k: usize| v.get(k.wrapping_sub(1)).copied().unwrap_or_default();
        let mags = (1..=self.monitored_phases).map(|k| at(k).norm());
        let pt = self.cfg.pt_ratio;
        match self.pt_phase {
            Phase::Avg => mags.sum::<f64>() / self.monitored_phases as f64 / pt,
            Phase::Max => mags.fold(0.0, f64::max) / pt,
            Phase::Min => mags.fold(1e50, f64::min) / pt,
            Phase::One(p) => match bank.connection {
                Connection::Delta => {
                    let next = if p + 1 > bank.phases { 1 } else { p + 1 };
                    (at(p) - at(next)).norm() / pt
                }
                Connection::Wye => at(p).norm() / pt,
            },
        }
    }

    /// OpenDSS `GetControlCurrent`. A single CT phase reads terminal 1's conductor whatever
    /// the monitored terminal (as OpenDSS does); AVG/MAX/MIN read the monitored terminal.
    fn control_current(&self, i_term: &[C64], i_term1: &[C64], bank: &CapacitorBank) -> f64 {
        let mags = i_term.iter().take(bank.phases).map(|i| i.norm());
        let ct = self.cfg.ct_ratio;
        match self.ct_phase {
            Phase::Avg => mags.sum::<f64>() / bank.phases as f64 / ct,
            Phase::Max => mags.fold(0.0, f64::max) / ct,
            Phase::Min => mags.fold(1e50, f64::min) / ct,
            Phase::One(p) => i_term1.get(p - 1).map_or(0.0, |i| i.norm()) / ct,
        }
    }

    /// Decision for the "close when `x > on`, open when `x < off`" types (Current, kvar).
    fn rising_on(&mut self, x: f64, bank: &CapacitorBank) {
        let on = self.cfg.on_setting;
        let off = self.cfg.off_setting;
        if !self.closed {
            if x > on {
                self.set(Change::Close);
            } else {
                self.pending = Change::None;
            }
        } else if x < off {
            self.set(Change::Open);
        } else if bank.available_steps() > 0 {
            if x > on {
                self.set(Change::Close);
            }
        } else {
            self.pending = Change::None;
        }
    }

    fn set(&mut self, c: Change) {
        self.pending = c;
        self.should_switch = true;
    }

    /// OpenDSS `CapControl.Sample`.
    pub fn sample<S: ControlledSystem>(
        &mut self,
        me: usize,
        sys: &S,
        bank: &CapacitorBank,
        ctx: &mut Ctx,
    ) {
        self.closed = bank.terminal_closed;
        self.should_switch = false;
        let id = &self.cfg.element.clone();
        let term = self.cfg.terminal;
        if self.cfg.volt_override && self.cfg.kind != CapControlKind::Voltage {
            if let Some(v) = sys.terminal_voltages(id, term) {
                let vt = self.control_voltage(&v, bank);
                if !self.closed && vt < self.cfg.vmin_v {
                    self.set(Change::Close);
                    ctx.log(|| {
                        format!(
                            "CapControl.{}: low voltage override {vt:.6} V",
                            self.cfg.name
                        )
                    });
                } else if self.closed && vt > self.cfg.vmax_v {
                    self.set(Change::Open);
                    ctx.log(|| {
                        format!(
                            "CapControl.{}: high voltage override {vt:.6} V",
                            self.cfg.name
                        )
                    });
                }
            }
        }
        if !self.should_switch {
            let power = || -> Option<C64> {
                let v = sys.terminal_voltages(id, term)?;
                let i = sys.terminal_currents(id, term)?;
                Some(v.iter().zip(&i).map(|(v, i)| v * i.conj()).sum())
            };
            match self.cfg.kind {
                CapControlKind::Current => {
                    let (Some(i), Some(i1)) = (
                        sys.terminal_currents(id, term),
                        sys.terminal_currents(id, 1),
                    ) else {
                        return;
                    };
                    let x = self.control_current(&i, &i1, bank);
                    self.rising_on(x, bank);
                }
                CapControlKind::Kvar => {
                    let Some(s) = power() else { return };
                    self.rising_on(s.im * 0.001, bank);
                }
                CapControlKind::Voltage => {
                    let Some(v) = sys.terminal_voltages(id, term) else {
                        return;
                    };
                    let x = self.control_voltage(&v, bank);
                    let (on, off) = (self.cfg.on_setting, self.cfg.off_setting);
                    if !self.closed {
                        if x < on {
                            self.set(Change::Close);
                        } else {
                            self.pending = Change::None;
                        }
                    } else {
                        self.pending = Change::None;
                        if x > off {
                            self.set(Change::Open);
                        } else if bank.available_steps() > 0 && x < on {
                            self.set(Change::Close);
                        }
                    }
                }
                CapControlKind::PowerFactor => {
                    let Some(s) = power() else { return };
                    let pf = pf_1_to_2(s);
                    let q_kvar = s.im * 0.001;
                    if !self.closed {
                        // OpenDSS's default pctMinkvar = 50 %.
                        if pf < self.pf_on && q_kvar > bank.total_kvar * 0.5 {
                            self.set(Change::Close);
                        } else {
                            self.pending = Change::None;
                        }
                    } else if pf > self.pf_off {
                        self.set(Change::Open);
                    } else if bank.available_steps() > 0 {
                        if pf < self.pf_on
                            && q_kvar > bank.total_kvar / bank.states.len() as f64 * 0.5
                        {
                            self.set(Change::Close);
                        }
                    } else {
                        self.pending = Change::None;
                    }
                }
                CapControlKind::Time => {
                    let t = time_of_day_h(ctx.time_s);
                    let (on, off) = (self.cfg.on_setting, self.cfg.off_setting);
                    let in_on_window = if off > on {
                        t >= on && t < off
                    } else {
                        t >= on && t < 24.0
                    };
                    if !self.closed {
                        if in_on_window {
                            self.set(Change::Close);
                        } else {
                            self.pending = Change::None;
                        }
                    } else {
                        let should_open = if off > on {
                            t >= off || t < on
                        } else {
                            t >= off && t < on
                        };
                        if should_open {
                            self.set(Change::Open);
                        } else if bank.available_steps() > 0 {
                            if in_on_window {
                                self.set(Change::Close);
                            }
                        } else {
                            self.pending = Change::None;
                        }
                    }
                }
            }
        }
        if self.should_switch && !self.armed {
            let delay = if self.pending == Change::Close {
                let since_open = ctx.time_s - self.last_open_time_s;
                if since_open < self.cfg.dead_time_s {
                    self.cfg
                        .delay_s
                        .max(self.cfg.dead_time_s + self.cfg.delay_s - since_open)
                } else {
                    self.cfg.delay_s
                }
            } else {
                self.cfg.delay_off_s
            };
            self.handle = ctx
                .queue
                .push(ctx.time_s + delay, Owner::CapControl(me), Action::Switch);
            self.armed = true;
        }
        if self.armed && self.pending == Change::None {
            ctx.queue.delete(self.handle);
            self.armed = false;
        }
    }

    /// OpenDSS `CapControl.DoPendingAction`: switch the bank and tell the system.
    pub fn do_action<S: ControlledSystem>(
        &mut self,
        sys: &mut S,
        bank: &mut CapacitorBank,
        ctx: &mut Ctx,
    ) {
        let before = bank.effective_states();
        let was_closed = self.closed;
        let mut what = "";
        match self.pending {
            Change::Open if self.closed => {
                if bank.states.len() == 1 {
                    bank.terminal_closed = false;
                    bank.subtract_step();
                    self.closed = false;
                    self.last_open_time_s = ctx.time_s;
                    what = "opened";
                } else if !bank.subtract_step() {
                    bank.terminal_closed = false;
                    self.closed = false;
                    what = "opened";
                } else {
                    what = "step down";
                }
            }
            Change::Close => {
                if !self.closed {
                    bank.terminal_closed = true;
                    self.closed = true;
                    bank.add_step();
                    what = "closed";
                } else if bank.add_step() {
                    what = "step up";
                }
            }
            _ => {}
        }
        let after = bank.effective_states();
        if after != before {
            sys.set_capacitor_states(&bank.name, &after);
        }
        if !what.is_empty() {
            ctx.log(|| {
                format!(
                    "CapControl.{}: capacitor {} {what} (was {}; steps {:?} -> {:?})",
                    self.cfg.name,
                    bank.name,
                    if was_closed { "closed" } else { "open" },
                    before,
                    after
                )
            });
        }
        self.should_switch = false;
        self.armed = false;
    }

    /// OpenDSS `CapControl.Reset`: forget the pending change and the last opening, and put the
    /// bank's terminal back in its initial state (the steps are left as they are).
    pub fn reset(&mut self, bank: &mut CapacitorBank) {
        self.pending = Change::None;
        self.should_switch = false;
        self.armed = false;
        self.last_open_time_s = -self.cfg.dead_time_s;
        self.closed = self.initial_closed;
        bank.terminal_closed = self.initial_closed;
    }
}
