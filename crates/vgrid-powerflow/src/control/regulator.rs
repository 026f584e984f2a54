//! Voltage regulators: OpenDSS's `RegControl` acting on a transformer winding tap.
//!
//! Each control iteration a regulator *samples* the solved circuit:
//!
//! 1. the control voltage is the monitored winding's voltage (line-to-neutral for a wye
//!    winding; line-to-line `V[i] − V[i±1]` for a delta or open-delta winding) of the PT phase,
//!    divided by the PT ratio: a voltage on the 120 V base;
//! 2. with line-drop compensation, `V_control += (R + jX) · I / CT`, where `I` is the current
//!    flowing *into* the monitored winding terminal on the PT phase's conductor (so for a
//!    regulator feeding its load out of that terminal this is `V − Z·I_load`);
//!    with `LDC_Z` it is `|V| − |I|·LDC_Z` instead;
//! 3. when `|vreg − |V_control|| > band/2`, the pending tap change is
//!    `round((vreg − |V_control|) · PT / V_base / step) · step` (per unit, `step = (max − min) /
//!    numtaps`), and — unless an action is already queued or the tap is at its limit in that
//!    direction — an action is queued `delay` seconds ahead. Back in band, the queued action
//!    is withdrawn.
//!
//! When the action executes in STATIC mode the tap moves 70 % of the pending change
//! (truncated), at least one step and at most `maxtapchange` steps:
//!
//! ```text
//! pending = +5 steps  →  trunc(0.7·5) = 3 steps now, re-evaluated next control iteration
//! pending = +1 step   →  1 step
//! ```
//!
//! In EVENT and TIME modes it moves one step, and queues the next step `tapdelay` seconds later
//! while a change is still pending.

use num_complex::Complex64 as C64;
use vgrid_model::{Connection, ControlMode, ElementId, ElementKind, Network, RegControl};

use super::queue::{Action, Owner};
use super::{ControlledSystem, Ctx};

/// OpenDSS's default delay before a regulator reverses, seconds (`revDelay`, not in the model).
const REVERSE_DELAY_S: f64 = 60.0;

/// `|z|` as OpenDSS's `Cabs`: `√(re² + im²)`, without the overflow guard of `hypot` (which
/// costs several times more; control voltages and currents are nowhere near overflowing).
#[inline]
fn cabs(z: C64) -> f64 {
    (z.re * z.re + z.im * z.im).sqrt()
}

/// Which phase the control voltage is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PtPhase {
    /// 1-based phase.
    Phase(usize),
    Max,
    Min,
}

/// The tap changer of one transformer winding, shared by every regulator acting on it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TapChanger {
    pub transformer: String,
    /// 1-based winding.
    pub winding: usize,
    pub tap_pu: f64,
    pub min_tap_pu: f64,
    pub max_tap_pu: f64,
    /// `(max − min) / numtaps` (0 when `numtaps` is 0).
    pub step_pu: f64,
}

impl TapChanger {
    /// OpenDSS's `TapNum`: steps from the middle of the range, rounded half to even.
    pub fn tap_number(&self) -> i32 {
        if self.step_pu == 0.0 {
            return 0;
        }
        ((self.tap_pu - (self.max_tap_pu + self.min_tap_pu) / 2.0) / self.step_pu).round_ties_even()
            as i32
    }
}

/// One regulator control with its persistent state.
#[derive(Debug, Clone)]
pub(crate) struct Regulator {
    pub cfg: RegControl,
    /// Its transformer (asked for voltages and currents at every sample).
    id: ElementId,
    /// Index of the tap changer it moves.
    pub tap: usize,
    phases: usize,
    monitored_conn: Connection,
    /// OpenDSS `DeltaDirection`: +1, or −1 when the windings differ and the high-voltage one is delta.
    delta_direction: i32,
    /// Base voltage of the monitored winding, V (kV·1000, or kV·1000/√3 for 2- and 3-phase wye).
    v_base_v: f64,
    pt_phase: PtPhase,
    ldc_active: bool,
    // --- state ---
    pub armed: bool,
    pub pending_tap_change_pu: f64,
    handle: u64,
    controlled_phase: usize,
    in_reverse_mode: bool,
    reverse_pending: bool,
    rev_handle: u64,
    /// Last sampled control voltage (120 V base), for the event log.
    last_v_control: f64,
    // --- found once, kept between samples ---
    /// The transformer's place in the system last sampled: (layout id, place), see
    /// [`ControlledSystem::layout_id`].
    located: Option<(u64, usize)>,
    /// Work space: the monitored terminal's conductor voltages.
    terminal_v: Vec<C64>,
    /// Work space: the voltages across the monitored winding, one per phase.
    winding_v: Vec<C64>,
}

impl Regulator {
    /// Build from the model; `Err` names what is missing.
    pub fn new(cfg: &RegControl, net: &Network, tap: usize) -> Result<Regulator, String> {
        let t = net
            .transformer(&cfg.transformer)
            .ok_or_else(|| format!("transformer '{}' not found", cfg.transformer))?;
        let w = t
            .windings
            .get(cfg.winding.wrapping_sub(1))
            .ok_or_else(|| format!("transformer '{}' has no winding {}", t.name, cfg.winding))?;
        if t.windings.get(cfg.tap_winding.wrapping_sub(1)).is_none() {
            return Err(format!(
                "transformer '{}' has no winding {}",
                t.name, cfg.tap_winding
            ));
        }
        let delta_direction = match (t.windings.first(), t.windings.get(1)) {
            (Some(w1), Some(w2)) if w1.conn != w2.conn => {
                let hv = if w1.kv >= w2.kv { w1 } else { w2 };
                // ANSI convention (the model has no `leadlag`): delta lags wye.
                if hv.conn == Connection::Wye {
                    1
                } else {
                    -1
                }
            }
            _ => 1,
        };
        let v_base_v = match w.conn {
            Connection::Wye if t.phases == 2 || t.phases == 3 => w.kv * 1000.0 / 3f64.sqrt(),
            _ => w.kv * 1000.0,
        };
        let using_bus = cfg.bus.is_some();
        let n = if using_bus { 1 } else { t.phases };
        let pt_phase = match cfg.pt_phase {
            0 => PtPhase::Max,
            p if p < 0 => PtPhase::Min,
            p if p as usize > n => PtPhase::Phase(1),
            p => PtPhase::Phase(p as usize),
        };
        Ok(Regulator {
            cfg: cfg.clone(),
            id: ElementId {
                kind: ElementKind::Transformer,
                name: cfg.transformer.clone(),
            },
            tap,
            phases: t.phases,
            monitored_conn: w.conn,
            delta_direction,
            v_base_v,
            pt_phase,
            ldc_active: cfg.r_ldc_v != 0.0 || cfg.x_ldc_v != 0.0 || cfg.ldc_z_v > 0.0,
            armed: false,
            pending_tap_change_pu: 0.0,
            handle: 0,
            controlled_phase: 1,
            in_reverse_mode: false,
            reverse_pending: false,
            rev_handle: 0,
            last_v_control: 0.0,
            located: None,
            terminal_v: Vec::new(),
            winding_v: Vec::new(),
        })
    }

    /// OpenDSS `RotatePhases`: the conductor (1-based) a delta winding's phase `i` closes on.
    fn rotate(&self, i: usize) -> usize {
        let r = i as i64 + self.delta_direction as i64;
        if self.phases > 2 {
            if r > self.phases as i64 {
                1
            } else if r < 1 {
                self.phases
            } else {
                r as usize
            }
        } else if r < 1 {
            3
        } else {
            r as usize
        }
    }

    /// The transformer's place in `sys`, found on the first sample (and again when the
    /// system's layout changes); `None` when the system has no places.
    fn place<S: ControlledSystem>(&mut self, sys: &S) -> Option<usize> {
        let layout = sys.layout_id();
        if layout == 0 {
            return None;
        }
        match self.located {
            Some((l, at)) if l == layout => Some(at),
            _ => {
                let at = sys.locate(&self.id)?;
                self.located = Some((layout, at));
                Some(at)
            }
        }
    }

    /// Voltages across the monitored winding, one per phase (V), into `out`; `terminal` is
    /// work space for the terminal's conductor voltages. False when they cannot be measured.
    fn winding_voltages<S: ControlledSystem>(
        &self,
        sys: &S,
        at: Option<usize>,
        terminal: &mut Vec<C64>,
        out: &mut Vec<C64>,
    ) -> bool {
        let found = match at {
            Some(at) => sys.located_terminal_voltages(at, self.cfg.winding, terminal),
            None => sys
                .terminal_voltages(&self.id, self.cfg.winding)
                .map(|v| *terminal = v)
                .is_some(),
        };
        if !found {
            return false;
        }
        let v = &terminal[..];
        let at = |k: usize| v.get(k.wrapping_sub(1)).copied().unwrap_or_default();
        out.resize(self.phases, C64::new(0.0, 0.0));
        for (o, i) in out.iter_mut().zip(1..) {
            *o = match self.monitored_conn {
                Connection::Wye => at(i) - at(self.phases + 1),
                Connection::Delta => at(i) - at(self.rotate(i)),
            };
        }
        true
    }

    /// Voltage of the regulated bus (`bus=`), as OpenDSS measures it: its first node, or its
    /// first node minus the node delta rotation picks for a delta winding; into `out`.
    fn regulated_bus_voltage<S: ControlledSystem>(&self, sys: &S, out: &mut Vec<C64>) -> bool {
        let Some(bus) = self.cfg.bus.as_ref() else {
            return false;
        };
        let node_v = |k: usize| -> Option<C64> {
            let node = bus.node_of_conductor(k, 1);
            if node == 0 {
                Some(C64::new(0.0, 0.0))
            } else {
                sys.node_voltage(&bus.bus, node)
            }
        };
        let measured = || -> Option<C64> {
            let v1 = node_v(0)?;
            Some(match self.monitored_conn {
                Connection::Wye => v1,
                Connection::Delta => {
                    let k = self.rotate(1) - 1;
                    v1 - if k < 2 {
                        node_v(k)?
                    } else {
                        C64::new(0.0, 0.0)
                    }
                }
            })
        };
        out.clear();
        out.extend(measured());
        !out.is_empty()
    }

    /// OpenDSS `GetControlVoltage`: the PT-phase voltage over the PT ratio; sets the controlled phase.
    fn control_voltage(&mut self, v: &[C64]) -> C64 {
        let pick = |better: fn(f64, f64) -> bool| {
            let mut k = 0;
            for i in 1..v.len() {
                if better(cabs(v[i]), cabs(v[k])) {
                    k = i;
                }
            }
            k + 1
        };
        self.controlled_phase = match self.pt_phase {
            PtPhase::Max => pick(|a, b| a > b),
            PtPhase::Min => pick(|a, b| a < b),
            PtPhase::Phase(p) => p.min(v.len()).max(1),
        };
        v.get(self.controlled_phase - 1)
            .copied()
            .unwrap_or_default()
            / self.cfg.pt_ratio
    }

    fn power_into_winding_w<S: ControlledSystem>(&self, sys: &S) -> Option<f64> {
        let id = &self.id;
        let v = sys.terminal_voltages(id, self.cfg.winding)?;
        let i = sys.terminal_currents(id, self.cfg.winding)?;
        Some(v.iter().zip(&i).map(|(v, i)| (v * i.conj()).re).sum())
    }

    /// Forward/reverse detection (`reversible=yes`): queue a mode toggle after the power has
    /// stayed reversed (or forward again) beyond the threshold.
    fn check_reverse<S: ControlledSystem>(&mut self, me: usize, sys: &S, ctx: &mut Ctx) {
        let Some(p) = self.power_into_winding_w(sys) else {
            return;
        };
        let forward_w = -p;
        let threshold_w = self.cfg.rev_threshold_kw * 1000.0;
        let wants_toggle = if self.in_reverse_mode {
            forward_w > threshold_w
        } else {
            forward_w < -threshold_w
        };
        if !self.reverse_pending && wants_toggle {
            self.reverse_pending = true;
            self.rev_handle = ctx.queue.push(
                ctx.time_s + REVERSE_DELAY_S,
                Owner::Regulator(me),
                Action::Reverse,
            );
        }
        if self.reverse_pending && !wants_toggle {
            self.reverse_pending = false;
            if self.rev_handle > 0 {
                ctx.queue.delete(self.rev_handle);
                self.rev_handle = 0;
            }
        }
    }

    fn time_delay_s(&self, v_actual: f64) -> f64 {
        if self.cfg.inverse_time {
            self.cfg.delay_s
                / (2.0 * (self.cfg.vreg_v - v_actual).abs() / self.cfg.band_v).min(10.0)
        } else {
            self.cfg.delay_s
        }
    }

    /// OpenDSS `RegControl.Sample`.
    pub fn sample<S: ControlledSystem>(
        &mut self,
        me: usize,
        sys: &S,
        tap: &TapChanger,
        ctx: &mut Ctx,
    ) {
        if self.cfg.max_tap_change == 0 {
            self.pending_tap_change_pu = 0.0;
            return;
        }
        // the work space is lent out for the sample and kept for the next one
        let mut terminal = std::mem::take(&mut self.terminal_v);
        let mut winding = std::mem::take(&mut self.winding_v);
        let at = self.place(sys);
        self.sample_with(me, sys, at, tap, ctx, &mut terminal, &mut winding);
        self.terminal_v = terminal;
        self.winding_v = winding;
    }

    /// [`Regulator::sample`] with the transformer's place and the work space.
    #[allow(clippy::too_many_arguments)]
    fn sample_with<S: ControlledSystem>(
        &mut self,
        me: usize,
        sys: &S,
        at: Option<usize>,
        tap: &TapChanger,
        ctx: &mut Ctx,
        terminal: &mut Vec<C64>,
        v: &mut Vec<C64>,
    ) {
        let using_bus = self.cfg.bus.is_some();
        if !using_bus && self.cfg.reversible {
            self.check_reverse(me, sys, ctx);
        }
        let measured = if using_bus {
            self.regulated_bus_voltage(sys, v)
        } else {
            self.winding_voltages(sys, at, terminal, v)
        };
        if !measured {
            ctx.log(|| {
                format!(
                    "RegControl.{}: cannot measure its voltage; skipped",
                    self.cfg.name
                )
            });
            return;
        }
        let mut v_control = self.control_voltage(v);
        let v_limit_active = self.cfg.v_limit_v > 0.0;
        let v_local = if !v_limit_active {
            0.0
        } else if using_bus {
            // the bus voltage in `v` has been used: the winding's replace it
            if self.winding_voltages(sys, at, terminal, v) {
                v.first().map_or(0.0, |w| cabs(w / self.cfg.pt_ratio))
            } else {
                0.0
            }
        } else {
            cabs(v_control)
        };
        if !using_bus && self.ldc_active {
            let conductor = self.controlled_phase - 1;
            let i_ldc = match at {
                Some(at) => sys.located_terminal_current(at, self.cfg.winding, conductor),
                None => sys.terminal_current(&self.id, self.cfg.winding, conductor),
            }
            .unwrap_or_default()
                / self.cfg.ct_prim_a;
            let reverse = self.in_reverse_mode;
            let z = if self.cfg.ldc_z_v == 0.0 {
                None
            } else if reverse {
                Some(0.0) // OpenDSS's revLDC_Z; not in the model, default 0
            } else {
                Some(self.cfg.ldc_z_v)
            };
            v_control = match z {
                None if reverse => {
                    v_control + C64::new(self.cfg.rev_r_ldc_v, self.cfg.rev_x_ldc_v) * i_ldc
                }
                None => v_control + C64::new(self.cfg.r_ldc_v, self.cfg.x_ldc_v) * i_ldc,
                Some(z) => C64::new(cabs(v_control) - cabs(i_ldc) * z, 0.0),
            };
        }
        let mut v_actual = cabs(v_control);
        let (v_reg, band) = if self.in_reverse_mode {
            v_actual /= tap.tap_pu;
            (self.cfg.rev_vreg_v, self.cfg.rev_band_v)
        } else {
            (self.cfg.vreg_v, self.cfg.band_v)
        };
        self.last_v_control = v_actual;
        let over_limit = v_limit_active && v_local > self.cfg.v_limit_v;
        if (v_reg - v_actual).abs() > band / 2.0 || over_limit {
            let boost_v = if over_limit {
                self.cfg.v_limit_v - v_local
            } else {
                v_reg - v_actual
            };
            let boost_pu = boost_v * self.cfg.pt_ratio / self.v_base_v;
            let step = tap.step_pu;
            self.pending_tap_change_pu = if step > 0.0 {
                (boost_pu / step).round_ties_even() * step
            } else {
                0.0
            };
            if self.cfg.tap_winding != self.cfg.winding || self.in_reverse_mode {
                self.pending_tap_change_pu = -self.pending_tap_change_pu;
            }
            let pending = self.pending_tap_change_pu;
            if pending != 0.0 && !self.armed {
                let room = if pending > 0.0 {
                    tap.tap_pu < tap.max_tap_pu
                } else {
                    tap.tap_pu > tap.min_tap_pu
                };
                if room {
                    let due = ctx.time_s + self.time_delay_s(v_actual);
                    self.handle = ctx.queue.push(due, Owner::Regulator(me), Action::TapChange);
                    self.armed = true;
                }
            }
        } else {
            self.pending_tap_change_pu = 0.0;
            if self.armed {
                ctx.queue.delete(self.handle);
                self.armed = false;
                self.handle = 0;
            }
        }
    }

    /// OpenDSS `RegControl.DoPendingAction`. Moves `tap` and tells the system.
    pub fn do_action<S: ControlledSystem>(
        &mut self,
        me: usize,
        action: Action,
        sys: &mut S,
        tap: &mut TapChanger,
        ctx: &mut Ctx,
    ) {
        match action {
            Action::Reverse => {
                if self.reverse_pending {
                    self.in_reverse_mode = !self.in_reverse_mode;
                    self.reverse_pending = false;
                    ctx.log(|| {
                        format!(
                            "RegControl.{}: {} mode",
                            self.cfg.name,
                            if self.in_reverse_mode {
                                "reverse"
                            } else {
                                "forward"
                            }
                        )
                    });
                }
            }
            Action::TapChange | Action::Switch => {
                if self.pending_tap_change_pu == 0.0 {
                    self.armed = false;
                    return;
                }
                let step = tap.step_pu;
                let (steps, change) = match ctx.mode {
                    ControlMode::Static | ControlMode::Off => {
                        let mut n = (0.7 * self.pending_tap_change_pu.abs() / step).trunc() as i64;
                        if n == 0 {
                            n = 1;
                        }
                        n = n.min(self.cfg.max_tap_change as i64);
                        let n = if self.pending_tap_change_pu > 0.0 {
                            n
                        } else {
                            -n
                        };
                        self.pending_tap_change_pu = 0.0;
                        (n, n as f64 * step)
                    }
                    ControlMode::Event | ControlMode::Time => {
                        let n: i64 = if self.pending_tap_change_pu > 0.0 {
                            1
                        } else {
                            -1
                        };
                        self.pending_tap_change_pu -= n as f64 * step;
                        if self.pending_tap_change_pu.abs() < 0.9 * step {
                            self.pending_tap_change_pu = 0.0;
                        }
                        (n, n as f64 * step)
                    }
                };
                let old = tap.tap_pu;
                let new = (old + change).clamp(tap.min_tap_pu, tap.max_tap_pu);
                if new != old {
                    tap.tap_pu = new;
                    sys.set_tap(&tap.transformer, tap.winding, new);
                }
                ctx.log(|| format!(
                    "RegControl.{}: tap {} -> {} ({:+} steps; control voltage {:.4} V, vreg {} V, band {} V)",
                    self.cfg.name, old, tap.tap_pu, steps, self.last_v_control, self.cfg.vreg_v, self.cfg.band_v
                ));
                let more = matches!(ctx.mode, ControlMode::Event | ControlMode::Time)
                    && self.pending_tap_change_pu != 0.0;
                if more {
                    // As OpenDSS, the handle of this follow-up action is not kept: if the
                    // regulator comes back in band it cannot withdraw it, and the action later
                    // executes whatever is pending then (nothing, or a new change).
                    ctx.queue.push(
                        ctx.time_s + self.cfg.tap_delay_s,
                        Owner::Regulator(me),
                        Action::TapChange,
                    );
                } else {
                    self.armed = false;
                }
            }
        }
    }

    /// OpenDSS `RegControl.Reset`.
    pub fn reset(&mut self) {
        self.pending_tap_change_pu = 0.0;
        self.armed = false;
    }
}
