//! PV system current law: OpenDSS `PVSystem.pas` in snapshot mode (`ComputePanelPower`,
//! `ComputeInverterPower`, `SetNominalPVSystemOuput`, `DoConstantPQPVsystemObj`), per phase, in
//! generator sense.

use vgrid_model::{Connection, PvSystem, XyCurve};
use vgrid_network::C64;

use super::{machine_v_base_volts, machine_yeq_at_limit};

const SQRT3: f64 = 1.732_050_807_568_877_2;

/// Active and reactive output of the inverter, kW and kvar (generation positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PvOutput {
    pub kw: f64,
    pub kvar: f64,
}

/// Per-phase constants of one PV system.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PvLaw {
    delta: bool,
    delta_ll_to_ln: bool,
    p_w: f64,
    q_var: f64,
    v_base_min: f64,
    v_base_max: f64,
    yeq: C64,
    yeq_min: C64,
    yeq_max: C64,
}

/// Pascal's `Math.Sign`: -1, 0 or 1 (PV systems and storage).
pub(super) fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `TXYcurveObj.GetYValue`: linear interpolation, extrapolated from the end segments; a point
/// closer than 1e-5 in x is returned as is; one point → its y; no point → 0.
pub(crate) fn xy_value(c: &XyCurve, x: f64) -> f64 {
    let n = c.x.len().min(c.y.len());
    let (xs, ys) = (&c.x[..n], &c.y[..n]);
    let interpolate = |i: usize, j: usize| {
        let den = xs[i] - xs[j];
        if den != 0.0 {
            ys[j] + (x - xs[j]) / den * (ys[i] - ys[j])
        } else {
            ys[i]
        }
    };
    match n {
        0 => return 0.0,
        1 => return ys[0],
        _ => {}
    }
    if xs[0] > x {
        return interpolate(0, 1);
    }
    for i in 0..n {
        if (xs[i] - x).abs() < 0.00001 {
            return ys[i];
        } else if xs[i] > x {
            return interpolate(i, i - 1);
        }
    }
    interpolate(n - 1, n - 2)
}

fn find_curve<'a>(curves: &'a [XyCurve], name: &Option<String>) -> Option<&'a XyCurve> {
    let name = name.as_deref()?;
    curves.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The snapshot output of a PV system: panel power from irradiance, Pmpp and the P-T curve; the
/// inverter's %cutout, efficiency, %Pmpp limit, pf or kvar with `kvarMax`, and kVA limit
/// (reactive power has priority, OpenDSS's default).
pub(crate) fn pv_output(p: &PvSystem, curves: &[XyCurve]) -> PvOutput {
    let kva = p.kva;
    // ComputePanelPower (snapshot: no irradiance or temperature shape).
    let temp_factor =
        find_curve(curves, &p.p_t_curve).map_or(1.0, |c| xy_value(c, p.temperature_c));
    let panel_kw = p.irradiance_kw_per_m2 * 1.0 * p.pmpp_kw * temp_factor;
    // ComputeInverterPower. The inverter starts on and switches off below %cutout.
    let cut_out_kw = p.pct_cutout * kva / 100.0;
    let inverter_on = panel_kw >= cut_out_kw;
    let mut kw = 0.0;
    if inverter_on {
        let eff = find_curve(curves, &p.eff_curve).map_or(1.0, |c| xy_value(c, panel_kw / kva));
        let pac = panel_kw * eff;
        let limit = p.pmpp_kw * (p.pct_pmpp / 100.0);
        kw = if pac > limit { limit } else { pac };
    }
    let kvar_limit = p.kvar_limit.map_or(kva, f64::abs);
    let kvar_limit_neg = kvar_limit;
    let mut kvar = match p.q_kvar {
        None => {
            if p.pf == 1.0 {
                0.0
            } else {
                let mut q = kw * (1.0 / (p.pf * p.pf) - 1.0).sqrt() * sign(p.pf);
                if q.abs() > kvar_limit || q.abs() > kvar_limit_neg {
                    q = if q > 0.0 { kvar_limit } else { kvar_limit_neg } * sign(kw) * sign(p.pf);
                }
                q
            }
        }
        Some(req) => {
            if (req > 0.0 && req.abs() >= kvar_limit) || (req < 0.0 && req.abs() >= kvar_limit_neg)
            {
                if req > 0.0 {
                    kvar_limit * sign(req)
                } else {
                    kvar_limit_neg * sign(req)
                }
            } else {
                req
            }
        }
    };
    // kVA limit, reactive power priority: back off the active power.
    if (kw * kw + kvar * kvar).sqrt() > kva {
        if kvar.abs() > kva {
            // OpenDSS would take the root of a negative number here; vgrid keeps the kVA as vars.
            kvar = kva * sign(kvar);
            kw = 0.0;
        } else {
            kw = (kva * kva - kvar * kvar).sqrt() * sign(kw);
        }
    }
    PvOutput { kw, kvar }
}

impl PvLaw {
    pub(crate) fn new(p: &PvSystem, curves: &[XyCurve]) -> PvLaw {
        let out = pv_output(p, curves);
        let nphases = p.phases as f64;
        let v_base = machine_v_base_volts(p.phases, p.kv);
        let p_w = 1000.0 * out.kw / nphases;
        let q_var = 1000.0 * out.kvar / nphases;
        let yeq = C64::new(p_w, -q_var) / (v_base * v_base);
        let yeq_min = machine_yeq_at_limit(yeq, p.vmin_pu);
        let yeq_max = machine_yeq_at_limit(yeq, p.vmax_pu);
        PvLaw {
            delta: p.conn == Connection::Delta,
            delta_ll_to_ln: p.conn == Connection::Delta && matches!(p.phases, 2 | 3),
            p_w,
            q_var,
            v_base_min: p.vmin_pu * v_base,
            v_base_max: p.vmax_pu * v_base,
            yeq,
            yeq_min,
            yeq_max,
        }
    }

    /// The admittance OpenDSS stamps into Yprim for each phase branch (`-Yeq`, `-Yeq/3` for delta).
    pub(crate) fn y_branch(&self) -> C64 {
        if self.delta {
            -self.yeq / 3.0
        } else {
            -self.yeq
        }
    }

    /// Current delivered by one phase branch at branch voltage `v` (generator sense).
    #[inline]
    pub(crate) fn phase_current(&self, v: C64) -> C64 {
        let vmag = v.norm_sqr().sqrt();
        let s = C64::new(self.p_w, self.q_var);
        if self.delta {
            let vmag_ln = if self.delta_ll_to_ln {
                vmag / SQRT3
            } else {
                vmag
            };
            if vmag_ln <= self.v_base_min {
                (self.yeq_min / 3.0) * v
            } else if vmag_ln > self.v_base_max {
                (self.yeq_max / 3.0) * v
            } else {
                (s / v).conj()
            }
        } else if vmag <= self.v_base_min {
            self.yeq_min * v
        } else if vmag > self.v_base_max {
            self.yeq_max * v
        } else {
            (s / v).conj()
        }
    }

    /// Output power per phase, W and var (generation positive).
    #[cfg(test)]
    pub(crate) fn nominal_per_phase(&self) -> (f64, f64) {
        (self.p_w, self.q_var)
    }
}
