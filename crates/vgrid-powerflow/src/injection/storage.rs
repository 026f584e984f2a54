//! Storage: OpenDSS `Storage.pas` (the inverter-based storage of DSS C-API 0.14): what the
//! element puts out in a given state (`ComputePresentkW`, `ComputeInverterPower`,
//! `kWOut_Calc`) and its current law (`DoConstantPQStorageObj`, `DoConstantZStorageObj`), per
//! phase, in generator sense.
//!
//! ## Output at the terminal (kW positive = discharging)
//!
//! | state | kW |
//! |---|---|
//! | discharging (while `kWh > kWhReserve`) | `kWrated · %discharge/100` (dispatch `follow`: `kWrated · shape`) |
//! | charging (while `kWh < kWhrated`) | `−kWrated · %charge/100` (`follow`: `kWrated · shape`, negative) |
//! | idling (or empty / full) | `−kWrated · %IdlingkW/100`: the idling losses are drawn |
//!
//! then limited to `±kWrated · %kWrated/100`; the inverter switches off below `%cutout` of
//! the kVA (and back on at `%cutin`), which idles the element. The kvar follow `pf`
//! (`kW·√(1/pf² − 1)·sign(pf)`) or the requested `kvar=`, clipped to `kvarMax` /
//! `kvarMaxAbs`; beyond the kVA the kW is backed off (reactive priority), except when idling,
//! where the kvar are. A 100 kW battery at `%discharge=50` puts out 50 kW; idle, it draws
//! 1 kW:
//!
//! ```text
//! StorageDispatch { state: Discharging, pct_discharge: 50, .. } -> 50 kW, 0 kvar
//! StorageDispatch { state: Idling, .. }                         -> −1 kW (%IdlingkW = 1)
//! ```
//!
//! ## Current law
//! Model 1 (default) is a generator of constant P and Q between `vminpu` and `vmaxpu` and
//! the constant admittance that gives the nominal power at the limit outside (as a PV system);
//! model 2 is the constant admittance `Y_eq = (P − jQ)/phases / V_base²` at every voltage. The
//! admittance stamped into `Y` is OpenDSS's for the state the element was built in (charging
//! `+kWrated/phases/V_base²`, discharging the negative, idling 0); the solution does not
//! depend on it.
//!
//! Not modelled: the efficiency curve (`EffCurve`: the inverter is ideal), `%PminNoVars`,
//! `%PminkvarMax`, `WattPriority`, `PFPriority`, `VarFollowInverter`, `LimitCurrent`,
//! `Balanced`, user and dynamic models (model 3 is taken as model 1).

use vgrid_model::{Connection, Storage, StorageState};
use vgrid_network::C64;

use super::pv::sign;
use super::{machine_v_base_volts, machine_yeq_at_limit};

const SQRT3: f64 = 1.732_050_807_568_877_2;

/// The dispatch state of a storage element: what decides its output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageDispatch {
    pub state: StorageState,
    /// Discharge and charge rates, % of kWrated (OpenDSS `%discharge`, `%charge`).
    pub pct_discharge: f64,
    pub pct_charge: f64,
    pub kwh_stored: f64,
    /// The inverter is on (it starts on; `%cutout` / `%cutin` switch it).
    pub inverter_on: bool,
    /// Dispatch mode `follow`: the shape's value, kW = kWrated × value.
    pub follow: Option<f64>,
}

impl StorageDispatch {
    /// The dispatch state written in the model (a snapshot solve).
    pub fn of(s: &Storage) -> StorageDispatch {
        StorageDispatch {
            state: s.state,
            pct_discharge: s.pct_discharge,
            pct_charge: s.pct_charge,
            kwh_stored: s.kwh_stored,
            inverter_on: true,
            follow: None,
        }
    }
}

/// Output at the terminal (generation positive) and the state it leaves the element in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageOutput {
    pub kw: f64,
    pub kvar: f64,
    pub state: StorageState,
    pub inverter_on: bool,
}

/// The idling losses drawn from the grid, kW (`kWOutIdling` with an ideal inverter).
pub fn idling_kw(s: &Storage) -> f64 {
    s.pct_idling_kw * s.kw_rated / 100.0
}

/// OpenDSS's `ComputekWkvar`: the terminal output of `s` in dispatch state `d`.
pub fn storage_output(s: &Storage, d: &StorageDispatch) -> StorageOutput {
    let idling = idling_kw(s);
    let mut state = d.state;
    // ComputePresentkW
    let mut kw = 0.0;
    match state {
        StorageState::Charging => {
            if d.kwh_stored < s.kwh_rated {
                kw = match d.follow {
                    Some(f) => s.kw_rated * f,
                    None => -s.kw_rated * d.pct_charge / 100.0,
                };
            } else {
                state = StorageState::Idling;
            }
        }
        StorageState::Discharging => {
            if d.kwh_stored > s.kwh_reserve {
                kw = match d.follow {
                    Some(f) => s.kw_rated * f,
                    None => s.kw_rated * d.pct_discharge / 100.0,
                };
            } else {
                state = StorageState::Idling;
            }
        }
        StorageState::Idling => {}
    }
    if state == StorageState::Idling {
        kw = -idling;
    }
    // ComputeInverterPower (ideal inverter: the cut-in and cut-out are on the AC side as given)
    let cut_in_kw = s.pct_cutin * s.kva / 100.0;
    let cut_out_kw = s.pct_cutout * s.kva / 100.0;
    let mut inverter_on = d.inverter_on;
    if inverter_on {
        if kw.abs() < cut_out_kw {
            inverter_on = false;
            state = StorageState::Idling;
        }
    } else if kw.abs() >= cut_in_kw {
        inverter_on = true;
    } else {
        state = StorageState::Idling;
    }
    if inverter_on {
        // kWOut_Calc
        let limit = s.kw_rated * s.pct_kw_rated / 100.0;
        let limit = if state == StorageState::Discharging {
            limit
        } else {
            -limit
        };
        if (limit > 0.0 && kw > limit) || (limit < 0.0 && kw < limit) {
            kw = limit;
        }
    } else {
        kw = -idling;
    }
    let (limit, limit_neg) = (s.kvar_max, s.kvar_max_abs);
    let requested = s.q_kvar.unwrap_or(0.0);
    let mut kvar = if state == StorageState::Idling {
        match s.q_kvar {
            None => {
                let q = kw * (1.0 / (s.pf * s.pf) - 1.0).sqrt() * sign(s.pf);
                if q > 0.0 && q.abs() > limit {
                    limit
                } else if q < 0.0 && q.abs() > limit_neg {
                    limit_neg * sign(requested)
                } else {
                    q
                }
            }
            Some(req) => {
                if req > 0.0 && req.abs() > limit {
                    limit
                } else if req < 0.0 && req.abs() > limit_neg {
                    limit_neg * sign(req)
                } else {
                    req
                }
            }
        }
    } else {
        match s.q_kvar {
            None if s.pf == 1.0 => 0.0,
            None => {
                let q = kw * (1.0 / (s.pf * s.pf) - 1.0).sqrt() * sign(s.pf);
                if q.abs() > limit || q.abs() > limit_neg {
                    let l = if q > 0.0 { limit } else { limit_neg };
                    l * sign(kw) * sign(s.pf)
                } else {
                    q
                }
            }
            Some(req) => {
                if (req > 0.0 && req.abs() > limit) || (req < 0.0 && req.abs() > limit_neg) {
                    if req > 0.0 {
                        limit * sign(req)
                    } else {
                        limit_neg * sign(req)
                    }
                } else {
                    req
                }
            }
        }
    };
    // the inverter's kVA
    let kva = s.kva;
    if (kw * kw + kvar * kvar).sqrt() > kva {
        if state == StorageState::Idling {
            kvar = (kva * kva - kw * kw).max(0.0).sqrt() * sign(kvar);
        } else if kvar.abs() > kva {
            // OpenDSS would take the root of a negative number; vgrid keeps the kVA as vars
            kvar = kva * sign(kvar);
            kw = 0.0;
        } else {
            kw = (kva * kva - kvar * kvar).sqrt() * sign(kw);
        }
    }
    StorageOutput {
        kw,
        kvar,
        state,
        inverter_on,
    }
}

/// Per-phase constants of one storage element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StorageLaw {
    delta: bool,
    delta_ll_to_ln: bool,
    constant_z: bool,
    p_w: f64,
    q_var: f64,
    v_base_min: f64,
    v_base_max: f64,
    yeq: C64,
    yeq_min: C64,
    yeq_max: C64,
    /// What OpenDSS stamps for the state (line-neutral, before the delta 1/3).
    y_state: C64,
}

impl StorageLaw {
    /// The law of `s` putting out `kw + j kvar` (generation positive); `state` picks the
    /// stamped admittance.
    pub(crate) fn new(s: &Storage, kw: f64, kvar: f64, state: StorageState) -> StorageLaw {
        let nphases = s.phases.max(1) as f64;
        let v_base = machine_v_base_volts(s.phases, s.kv);
        let p_w = 1000.0 * kw / nphases;
        let q_var = 1000.0 * kvar / nphases;
        let yeq = C64::new(p_w, -q_var) / (v_base * v_base);
        let y_discharge = C64::new(s.kw_rated * 1000.0 / (v_base * v_base) / nphases, 0.0);
        let y_state = match state {
            StorageState::Charging => y_discharge,
            StorageState::Idling => C64::new(0.0, 0.0),
            StorageState::Discharging => -y_discharge,
        };
        StorageLaw {
            delta: s.conn == Connection::Delta,
            delta_ll_to_ln: s.conn == Connection::Delta && s.phases > 1,
            constant_z: s.model == 2,
            p_w,
            q_var,
            v_base_min: s.vmin_pu * v_base,
            v_base_max: s.vmax_pu * v_base,
            yeq,
            yeq_min: machine_yeq_at_limit(yeq, s.vmin_pu),
            yeq_max: machine_yeq_at_limit(yeq, s.vmax_pu),
            y_state,
        }
    }

    /// The admittance stamped per phase branch (`Y_state`, `/3` for delta).
    pub(crate) fn y_branch(&self) -> C64 {
        if self.delta {
            self.y_state / 3.0
        } else {
            self.y_state
        }
    }

    /// Current delivered by one phase branch at branch voltage `v` (generator sense).
    pub(crate) fn phase_current(&self, v: C64) -> C64 {
        let d = if self.delta { 3.0 } else { 1.0 };
        if self.constant_z {
            return (self.yeq / d) * v;
        }
        let mut vmag = v.norm_sqr().sqrt();
        if self.delta_ll_to_ln {
            vmag /= SQRT3;
        }
        if vmag <= self.v_base_min {
            (self.yeq_min / d) * v
        } else if vmag > self.v_base_max {
            (self.yeq_max / d) * v
        } else {
            (C64::new(self.p_w, self.q_var) / v).conj()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vgrid_model::BusRef;

    fn battery() -> Storage {
        Storage {
            name: "b".into(),
            bus1: BusRef::parse("x"),
            phases: 3,
            conn: Connection::Wye,
            kv: 0.4,
            kw_rated: 100.0,
            kva: 100.0,
            kwh_rated: 400.0,
            kwh_stored: 200.0,
            pct_reserve: 20.0,
            pct_charge: 100.0,
            pct_discharge: 100.0,
            pct_eff_charge: 90.0,
            pct_eff_discharge: 90.0,
            pct_idling_kw: 1.0,
            state: StorageState::Idling,
            dispatch_mode: "default".into(),
            yearly: None,
            daily: None,
            duty: None,
            enabled: true,
            pf: 1.0,
            q_kvar: None,
            kvar_max: 100.0,
            kvar_max_abs: 100.0,
            pct_cutin: 0.0,
            pct_cutout: 0.0,
            pct_kw_rated: 100.0,
            kwh_reserve: 80.0,
            vmin_pu: 0.9,
            vmax_pu: 1.1,
            model: 1,
            charge_trigger: 0.0,
            discharge_trigger: 0.0,
            time_charge_trigger_h: 2.0,
        }
    }

    fn out(s: &Storage, state: StorageState, follow: Option<f64>) -> StorageOutput {
        let mut d = StorageDispatch::of(s);
        d.state = state;
        d.follow = follow;
        storage_output(s, &d)
    }

    #[test]
    fn states_rates_and_limits() {
        let mut s = battery();
        s.pct_discharge = 50.0;
        assert_eq!(out(&s, StorageState::Discharging, None).kw, 50.0);
        assert_eq!(out(&s, StorageState::Charging, None).kw, -100.0);
        assert_eq!(out(&s, StorageState::Idling, None).kw, -1.0);
        // follow: kWrated × shape, limited to %kWrated
        assert_eq!(out(&s, StorageState::Discharging, Some(0.3)).kw, 30.0);
        assert_eq!(out(&s, StorageState::Discharging, Some(1.5)).kw, 100.0);
        s.pct_kw_rated = 80.0;
        assert_eq!(out(&s, StorageState::Charging, Some(-1.0)).kw, -80.0);
        // empty and full idle
        s.kwh_stored = 80.0;
        let o = out(&s, StorageState::Discharging, None);
        assert_eq!((o.kw, o.state), (-1.0, StorageState::Idling));
        s.kwh_stored = 400.0;
        let o = out(&s, StorageState::Charging, None);
        assert_eq!((o.kw, o.state), (-1.0, StorageState::Idling));
    }

    #[test]
    fn power_factor_and_kva_limit() {
        let mut s = battery();
        s.pf = 0.8;
        let o = out(&s, StorageState::Discharging, Some(0.8));
        assert!((o.kvar - 60.0).abs() < 1e-9, "{o:?}");
        // 100 kW at pf 0.8 asks 75 kvar: the kVA backs the kW off to √(100² − 75²)
        let o = out(&s, StorageState::Discharging, None);
        assert!((o.kvar - 75.0).abs() < 1e-9 && (o.kw - 4375f64.sqrt()).abs() < 1e-9);
        s.pf = 1.0;
        s.q_kvar = Some(-30.0);
        assert_eq!(out(&s, StorageState::Idling, None).kvar, -30.0);
    }

    #[test]
    fn constant_pq_between_the_limits() {
        let s = battery();
        let law = StorageLaw::new(&s, 30.0, 6.0, StorageState::Discharging);
        let vln = 400.0 / SQRT3;
        let v = C64::new(vln * 1.02, 0.0);
        let i = law.phase_current(v);
        let sph = v * i.conj();
        assert!((sph - C64::new(10_000.0, 2_000.0)).norm() < 1e-6);
        assert!(law.y_branch().re < 0.0);
    }
}
