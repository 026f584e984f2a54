//! Load current laws: OpenDSS `Load.pas` (`SetNominalLoad`, `DoConstantPQLoad`, ...,
//! `DoZIPVModel`), per phase, in load sense (the current drawn through the phase branch).

use vgrid_model::{Connection, Load, LoadModel, LoadStatus};
use vgrid_network::C64;

/// OpenDSS's `VLowpu`: below this per-unit voltage every load model is its nominal admittance.
/// vgrid-model has no field for it; OpenDSS's default is used.
pub(crate) const VLOW_PU: f64 = 0.5;

/// Per-phase constants of one load, as `Load.pas` keeps them after `RecalcElementData`.
///
/// Laid out in this order (`repr(C)`): what the compensation loop reads at every iteration
/// first, so that the common laws touch one or two cache lines per load.
#[derive(Debug, Clone, PartialEq)]
#[repr(C)]
pub(crate) struct LoadLaw {
    model: LoadModel,
    /// Nominal watts and vars per phase, multipliers applied.
    w_nominal: f64,
    var_nominal: f64,
    /// The band of the constant-PQ law on the squared magnitude: `|V|² > v2_min` exactly when
    /// `|V| > VBaseLow` and `|V| > VBase95`, `|V|² ≤ v2_max` exactly when `|V| ≤ VBase105`
    /// (see [`sqrt_at_most`]): the law needs no square root inside its band.
    v2_min: f64,
    v2_max: f64,
    /// The admittance above `VBase105` ([`LoadLaw::yeq105`]), set with the power: where a
    /// feeder runs its loads above `vmaxpu` (the European LV feeder's), every iteration takes it.
    yeq105: C64,
    /// Nominal admittance per phase branch.
    yeq: C64,
    /// Volts across one phase branch at nominal (line-neutral for 2-/3-phase wye, else kV).
    v_base: f64,
    v_base_low: f64,
    v_base95: f64,
    v_base105: f64,
    /// Nominal vars per phase without multipliers (`varBase`, used by model 6).
    var_base: f64,
    /// Imaginary admittance of the fixed reactive part (models 6 and 7), `-varBase / VBase²`.
    yq_fixed: f64,
    cvr_watts: f64,
    cvr_vars: f64,
    zipv: [f64; 7],
    /// Phases, as a number; `vminpu`, `vmaxpu`.
    nphases: f64,
    vmin_pu: f64,
    vmax_pu: f64,
    /// The nominal `(kW, kvar)` the power-dependent fields were computed from.
    power: (f64, f64),
    /// The load's `(kV, kvar, cvrwatts, cvrvars)` the law was built from.
    source: (f64, f64, f64, f64),
    /// The load gave no ZIPV coefficients.
    zipv_empty: bool,
}

/// The largest `x ≥ 0` whose computed square root is at most `a` (NaN for NaN, −1 when no
/// `x ≥ 0` is): for every `x ≥ 0` (and NaN), `x.sqrt() > a` exactly when `x > t` and
/// `x.sqrt() <= a` exactly when `x <= t`, as the rounded square root is monotonic. A voltage
/// band is then tested on `|V|²` with the very outcome of the test on `|V|`.
pub(crate) fn sqrt_at_most(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    if a < 0.0 {
        return -1.0;
    }
    if a == f64::INFINITY {
        return f64::INFINITY;
    }
    // `x ≥ 0` here: its neighbours by the bit pattern
    let up = |x: f64| f64::from_bits(x.to_bits() + 1);
    let down = |x: f64| f64::from_bits(x.to_bits() - 1);
    let mut x = a * a;
    while x.sqrt() > a {
        x = down(x);
    }
    while up(x).sqrt() <= a {
        x = up(x);
    }
    x
}

/// `max(a, b)`, NaN when either is (`x > max(a, b)` exactly when `x > a && x > b`).
fn max_or_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// `VBase` of `Load.pas`: phase-branch volts at nominal.
pub(crate) fn v_base_volts(conn: Connection, phases: usize, kv: f64) -> f64 {
    match conn {
        Connection::Delta => kv * 1000.0,
        Connection::Wye => match phases {
            2 | 3 => kv * (1000.0 / 3f64.sqrt()),
            _ => kv * 1000.0,
        },
    }
}

impl LoadLaw {
    pub(crate) fn new(l: &Load, load_mult: f64) -> LoadLaw {
        // SetNominalLoad, snapshot mode, year 0: fixed and exempt loads ignore the load multiplier.
        let factor = match l.status {
            LoadStatus::Variable => load_mult,
            LoadStatus::Fixed | LoadStatus::Exempt => 1.0,
        };
        LoadLaw::with_power(l, l.p_kw * factor, l.q_kvar * factor)
    }

    /// The law with nominal power `p_kw + j q_kvar` (total over phases, every multiplier
    /// already applied, as `SetNominalLoad` leaves `WNominal`/`varNominal` in a time step);
    /// the fixed reactive base of models 6 and 7 stays the load's own `q_kvar`.
    pub(crate) fn with_power(l: &Load, p_kw: f64, q_kvar: f64) -> LoadLaw {
        let nphases = l.phases as f64;
        let v_base = v_base_volts(l.conn, l.phases, l.kv);
        let var_base = 1000.0 * l.q_kvar / nphases;
        let mut zipv = [0.0; 7];
        for (z, &c) in zipv.iter_mut().zip(&l.zipv) {
            *z = c;
        }
        let zero = C64::new(0.0, 0.0);
        let mut law = LoadLaw {
            model: l.model,
            v_base,
            v_base_low: VLOW_PU * v_base,
            v_base95: l.vmin_pu * v_base,
            v_base105: l.vmax_pu * v_base,
            w_nominal: 0.0,
            var_nominal: 0.0,
            var_base,
            yeq: zero,
            yeq105: zero,
            yq_fixed: -var_base / (v_base * v_base),
            cvr_watts: l.cvr_watts,
            cvr_vars: l.cvr_vars,
            zipv,
            v2_min: max_or_nan(
                sqrt_at_most(VLOW_PU * v_base),
                sqrt_at_most(l.vmin_pu * v_base),
            ),
            v2_max: sqrt_at_most(l.vmax_pu * v_base),
            nphases,
            vmin_pu: l.vmin_pu,
            vmax_pu: l.vmax_pu,
            power: (f64::NAN, f64::NAN),
            source: (l.kv, l.q_kvar, l.cvr_watts, l.cvr_vars),
            zipv_empty: l.zipv.is_empty(),
        };
        law.set_power(p_kw, q_kvar);
        law
    }

    /// Whether this law was built from `l` (everything but the power: base voltage, model,
    /// limits, fixed vars, CVR and ZIPV coefficients).
    #[inline]
    pub(crate) fn is_of(&self, l: &Load) -> bool {
        self.model == l.model
            && self.source == (l.kv, l.q_kvar, l.cvr_watts, l.cvr_vars)
            && self.vmin_pu == l.vmin_pu
            && self.vmax_pu == l.vmax_pu
            && self.nphases == l.phases as f64
            && ((l.zipv.is_empty() && self.zipv_empty) || self.zipv_is(&l.zipv))
    }

    /// Whether the ZIPV coefficients are `zipv` (missing ones 0, at most 7).
    fn zipv_is(&self, zipv: &[f64]) -> bool {
        zipv.len() <= self.zipv.len()
            && self.zipv[..zipv.len()] == *zipv
            && self.zipv[zipv.len()..].iter().all(|z| *z == 0.0)
    }

    /// Give the law the nominal power `p_kw + j q_kvar` (as [`LoadLaw::with_power`], the same
    /// numbers); nothing to do when it has it already.
    #[inline]
    pub(crate) fn set_power(&mut self, p_kw: f64, q_kvar: f64) {
        if self.power == (p_kw, q_kvar) {
            return;
        }
        self.power = (p_kw, q_kvar);
        // what depends on the power; the admittances outside the band follow from `yeq`
        let w_nominal = 1000.0 * p_kw / self.nphases;
        let var_nominal = 1000.0 * q_kvar / self.nphases;
        self.w_nominal = w_nominal;
        self.var_nominal = var_nominal;
        self.yeq = C64::new(w_nominal, -var_nominal) / (self.v_base * self.v_base);
        self.yeq105 = if self.vmax_pu != 0.0 {
            self.yeq / (self.vmax_pu * self.vmax_pu)
        } else {
            self.yeq
        };
    }

    /// The admittance OpenDSS stamps into Yprim for each phase branch.
    pub(crate) fn yeq(&self) -> C64 {
        self.yeq
    }

    /// The admittance that draws the nominal power at `vminpu` (0 when `vminpu` is 0); this
    /// and the following are evaluated where needed (outside the band), not at every change
    /// of power.
    fn yeq95(&self) -> C64 {
        if self.vmin_pu != 0.0 {
            self.yeq / (self.vmin_pu * self.vmin_pu)
        } else {
            C64::new(0.0, 0.0)
        }
    }

    /// The admittance that draws the nominal power at `vmaxpu` (`Yeq` when `vmaxpu` is 0),
    /// computed with the power.
    fn yeq105(&self) -> C64 {
        self.yeq105
    }

    /// The constant-current model's admittance at `vmaxpu` (`Yeq` when `vmaxpu` is 0).
    fn yeq105i(&self) -> C64 {
        if self.vmax_pu != 0.0 {
            self.yeq / self.vmax_pu
        } else {
            self.yeq
        }
    }

    /// `ILow`: the constant-Z current at `VBaseLow`.
    fn i_low(&self) -> C64 {
        self.yeq * self.v_base_low
    }

    /// `M95`: slope of the straight line from `ILow` to the current at `VBase95`.
    fn m95(&self) -> C64 {
        let i95 = self.yeq95() * self.v_base95;
        (i95 - self.i_low()) / (self.v_base95 - self.v_base_low)
    }

    /// `M95I`: the same for the constant-current model.
    fn m95i(&self) -> C64 {
        let i_base = self.yeq * self.v_base;
        (i_base - self.i_low()) / (self.v_base95 - self.v_base_low)
    }

    /// `InterpolateY95_YLow`: equivalent admittance between `VBaseLow` and `VBase95`.
    fn y95_low(&self, vmag: f64) -> C64 {
        (self.i_low() + self.m95() * (vmag - self.v_base_low)) / vmag
    }

    /// The current of models 1 and 4 outside their voltage band: the nominal admittance below
    /// `VBaseLow`, the interpolated one up to `VBase95`, the 105 % one above `VBase105`;
    /// `None` inside the band, where each model has its own law.
    fn pq_outside_band(&self, v: C64, vmag: f64) -> Option<C64> {
        if vmag <= self.v_base_low {
            Some(self.yeq * v)
        } else if vmag <= self.v_base95 {
            Some(self.y95_low(vmag) * v)
        } else if vmag > self.v_base105 {
            Some(self.yeq105() * v)
        } else {
            None
        }
    }

    /// `InterpolateY95I_YLow`: the same for the constant-current model.
    fn y95i_low(&self, vmag: f64) -> C64 {
        (self.i_low() + self.m95i() * (vmag - self.v_base_low)) / vmag
    }

    /// Current through one phase branch at branch voltage `v` (load sense). The common laws
    /// are inlined into the caller: constant PQ inside its voltage band and above it,
    /// constant current inside its band, constant Z (no magnitude needed); the other models,
    /// and these elsewhere, are one call away. The same arithmetic as [`LoadLaw::other_phase_current`],
    /// to the last bit.
    #[inline(always)]
    pub(crate) fn phase_current(&self, v: C64) -> C64 {
        match self.model {
            LoadModel::ConstantPq => {
                // the band on |V|², the same outcome as on |V| (see `sqrt_at_most`)
                let v2 = v.norm_sqr();
                let above_min = v2 > self.v2_min;
                if above_min && v2 <= self.v2_max {
                    (C64::new(self.w_nominal, self.var_nominal) / v).conj()
                } else if above_min && v2 > self.v2_max {
                    self.yeq105 * v
                } else {
                    self.other_phase_current(v)
                }
            }
            LoadModel::ConstantZ => self.yeq * v,
            LoadModel::ConstantI => {
                let vmag = v.norm_sqr().sqrt();
                if self.in_band(vmag) {
                    let s = C64::new(self.w_nominal, self.var_nominal);
                    (s / ((v / vmag) * self.v_base)).conj()
                } else {
                    self.other_phase_current(v)
                }
            }
            _ => self.other_phase_current(v),
        }
    }

    /// Whether `vmag` is inside the band where constant-PQ and constant-current laws hold
    /// (above `VBaseLow` and `VBase95`, at most `VBase105`); false for NaN, whose current the
    /// out-of-band path computes with the in-band formula all the same.
    #[inline(always)]
    fn in_band(&self, vmag: f64) -> bool {
        vmag > self.v_base_low && vmag > self.v_base95 && vmag <= self.v_base105
    }

    /// [`LoadLaw::phase_current`] of the models other than constant PQ, Z and I, and of
    /// constant PQ and I outside their voltage band.
    #[inline(never)]
    fn other_phase_current(&self, v: C64) -> C64 {
        let vmag = v.norm_sqr().sqrt();
        let s = C64::new(self.w_nominal, self.var_nominal);
        match self.model {
            LoadModel::ConstantZ => self.yeq * v,
            LoadModel::ConstantPq => self
                .pq_outside_band(v, vmag)
                .unwrap_or_else(|| (s / v).conj()),
            LoadModel::ConstantPQuadraticQ => self.pq_outside_band(v, vmag).unwrap_or_else(|| {
                (C64::new(self.w_nominal, 0.0) / v).conj() + C64::new(0.0, self.yeq.im) * v
            }),
            LoadModel::Cvr => self.cvr(v, vmag),
            LoadModel::ConstantI => {
                if vmag <= self.v_base_low {
                    self.yeq * v
                } else if vmag <= self.v_base95 {
                    self.y95i_low(vmag) * v
                } else if vmag > self.v_base105 {
                    self.yeq105i() * v
                } else {
                    (s / ((v / vmag) * self.v_base)).conj()
                }
            }
            LoadModel::ConstantPFixedQ => {
                if vmag <= self.v_base_low {
                    self.yeq * v
                } else if vmag <= self.v_base95 {
                    C64::new(self.yeq95().re, self.yq_fixed) * v
                } else if vmag > self.v_base105 {
                    C64::new(self.yeq105().re, self.yq_fixed) * v
                } else {
                    (C64::new(self.w_nominal, self.var_base) / v).conj()
                }
            }
            LoadModel::ConstantPFixedZQ => {
                if vmag <= self.v_base_low {
                    self.yeq * v
                } else if vmag <= self.v_base95 {
                    C64::new(self.yeq95().re, self.yq_fixed) * v
                } else if vmag > self.v_base105 {
                    C64::new(self.yeq105().re, self.yq_fixed) * v
                } else {
                    (C64::new(self.w_nominal, 0.0) / v).conj() + C64::new(0.0, self.yq_fixed) * v
                }
            }
            LoadModel::Zip => self.zipv(v, vmag),
        }
    }

    /// `DoCVRModel`: P ∝ (V/Vbase)^cvrwatts, Q ∝ (V/Vbase)^cvrvars inside the band.
    fn cvr(&self, v: C64, vmag: f64) -> C64 {
        if vmag <= self.v_base_low {
            return self.yeq * v;
        }
        if vmag <= self.v_base95 {
            return self.y95_low(vmag) * v;
        }
        if vmag > self.v_base105 {
            return self.yeq105() * v;
        }
        let v_ratio = vmag / self.v_base;
        let watt_factor = if self.cvr_watts != 1.0 {
            v_ratio.powf(self.cvr_watts)
        } else {
            v_ratio
        };
        let mut curr = if watt_factor > 0.0 {
            (C64::new(self.w_nominal * watt_factor, 0.0) / v).conj()
        } else {
            C64::new(0.0, 0.0)
        };
        let c_var = if vmag == 0.0 {
            C64::new(0.0, 0.0)
        } else if self.cvr_vars == 2.0 {
            C64::new(0.0, self.yeq.im) * v
        } else if self.cvr_vars == 3.0 {
            let var_factor = v_ratio * v_ratio * v_ratio;
            (C64::new(0.0, self.var_nominal * var_factor) / v).conj()
        } else {
            let var_factor = v_ratio.powf(self.cvr_vars);
            (C64::new(0.0, self.var_nominal * var_factor) / v).conj()
        };
        curr += c_var;
        curr
    }

    /// `DoZIPVModel`: a Z + I + P mix of the nominal power, with a smooth low-voltage cut-off.
    fn zipv(&self, v: C64, vmag: f64) -> C64 {
        let z = &self.zipv;
        if vmag <= self.v_base_low {
            return self.yeq * v;
        }
        let zero = C64::new(0.0, 0.0);
        let (mut curr_z, mut curr_i, mut curr_p) = (zero, zero, zero);
        let mut curr = if vmag <= self.v_base95 {
            if z[0] != 0.0 || z[3] != 0.0 {
                curr_z = C64::new(self.yeq.re * z[0], self.yeq.im * z[3]);
            }
            if z[2] != 0.0 || z[5] != 0.0 {
                let y = self.y95_low(vmag);
                curr_p = C64::new(y.re * z[2], y.im * z[5]);
            }
            if z[1] != 0.0 || z[4] != 0.0 {
                let y = self.y95i_low(vmag);
                curr_i = C64::new(y.re * z[1], y.im * z[4]);
            }
            (curr_z + curr_i + curr_p) * v
        } else if vmag > self.v_base105 {
            if z[0] != 0.0 || z[3] != 0.0 {
                curr_z = C64::new(self.yeq.re * z[0], self.yeq.im * z[3]);
            }
            if z[2] != 0.0 || z[5] != 0.0 {
                curr_p = C64::new(self.yeq105().re * z[2], self.yeq105().im * z[5]);
            }
            if z[1] != 0.0 || z[4] != 0.0 {
                curr_i = C64::new(self.yeq105i().re * z[1], self.yeq105i().im * z[4]);
            }
            (curr_z + curr_i + curr_p) * v
        } else {
            if z[0] != 0.0 || z[3] != 0.0 {
                curr_z = C64::new(self.yeq.re * z[0], self.yeq.im * z[3]) * v;
            }
            if z[1] != 0.0 || z[4] != 0.0 {
                let s = C64::new(self.w_nominal * z[1], self.var_nominal * z[4]);
                curr_i = (s / ((v / vmag) * self.v_base)).conj();
            }
            if z[2] != 0.0 || z[5] != 0.0 {
                let s = C64::new(self.w_nominal * z[2], self.var_nominal * z[5]);
                curr_p = (s / v).conj();
            }
            curr_z + curr_i + curr_p
        };
        // Low-voltage drop-out: a steep logistic step at z[6] per unit (skipped where it is 1.0).
        if z[6] > 0.0 {
            let vx = 500.0 * (vmag / self.v_base - z[6]);
            if vx < 20.0 {
                let evx = (2.0 * vx).exp();
                let yv = 0.5 * (1.0 + (evx - 1.0) / (evx + 1.0));
                curr *= yv;
            }
        }
        curr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vgrid_model::BusRef;

    fn load(model: LoadModel, zipv: Vec<f64>) -> Load {
        Load {
            name: "l".into(),
            bus1: BusRef::parse("b"),
            phases: 3,
            conn: Connection::Wye,
            kv: 12.47,
            p_kw: 300.0,
            q_kvar: 100.0,
            model,
            zipv,
            cvr_watts: 1.0,
            cvr_vars: 2.0,
            vmin_pu: 0.95,
            vmax_pu: 1.05,
            status: LoadStatus::Variable,
            yearly: None,
            daily: None,
            duty: None,
            enabled: true,
        }
    }

    /// The neighbours of a positive float.
    trait Steps {
        fn next_down_bits(self) -> f64;
        fn next_up_bits(self) -> f64;
    }
    impl Steps for f64 {
        fn next_down_bits(self) -> f64 {
            f64::from_bits(self.to_bits() - 1)
        }
        fn next_up_bits(self) -> f64 {
            f64::from_bits(self.to_bits() + 1)
        }
    }

    /// The inline laws of `phase_current` are those of `other_phase_current`, bit for bit, in
    /// every band of every model (and at NaN).
    #[test]
    fn inline_laws_are_the_full_laws() {
        let models = [
            LoadModel::ConstantPq,
            LoadModel::ConstantZ,
            LoadModel::ConstantPQuadraticQ,
            LoadModel::Cvr,
            LoadModel::ConstantI,
            LoadModel::ConstantPFixedQ,
            LoadModel::ConstantPFixedZQ,
            LoadModel::Zip,
        ];
        let vln = 12_470.0 / 3f64.sqrt();
        for model in models {
            let law = LoadLaw::with_power(
                &load(model, vec![0.2, 0.3, 0.5, 0.1, 0.1, 0.8, 0.6]),
                250.0,
                90.0,
            );
            // on the band's edges too (real and rotated, and one step either side)
            let mut vs: Vec<C64> = [0.0, 0.2, 0.5, 0.7, 0.95, 0.97, 1.0, 1.05, 1.1, f64::NAN]
                .iter()
                .map(|pu| C64::from_polar(pu * vln, -0.3))
                .collect();
            for edge in [law.v_base_low, law.v_base95, law.v_base105] {
                for x in [edge.next_down_bits(), edge, edge.next_up_bits()] {
                    vs.push(C64::new(x, 0.0));
                    vs.push(C64::new(0.6 * x, -0.8 * x));
                }
            }
            for v in vs {
                let pu = v.norm() / vln;
                let (a, b) = (law.phase_current(v), law.other_phase_current(v));
                assert_eq!(
                    (a.re.to_bits(), a.im.to_bits()),
                    (b.re.to_bits(), b.im.to_bits()),
                    "{model:?} at {pu} pu"
                );
            }
        }
    }

    /// The squared-magnitude threshold gives the outcome of the magnitude test, around
    /// every threshold a load law uses and at the edge cases.
    #[test]
    fn squared_thresholds_decide_as_the_magnitude() {
        let vln = 12_470.0 / 3f64.sqrt();
        let mut thresholds = vec![0.0, -1.0, 1e-300, 1e300, f64::MAX, f64::INFINITY, f64::NAN];
        for pu in [0.5, 0.9, 0.95, 1.0, 1.05, 1.1, 0.123456789] {
            for kv in [0.23, 0.4, 4.16, 12.47, 24.9, 115.0] {
                thresholds.push(pu * kv * 1000.0);
                thresholds.push(pu * vln);
            }
        }
        // and a few thousand more, log-uniform over 1e-3 .. 1e7 V (a fixed pseudo-random walk)
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..4000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            thresholds.push(10f64.powf(-3.0 + 10.0 * u));
        }
        for a in thresholds {
            let t = sqrt_at_most(a);
            let mut xs = vec![0.0, 1.0, f64::INFINITY, f64::NAN, t];
            if t.is_finite() && t > 0.0 {
                let mut x = t;
                let mut y = t;
                for _ in 0..8 {
                    x = f64::from_bits(x.to_bits() - 1);
                    y = f64::from_bits(y.to_bits() + 1);
                    xs.push(x);
                    xs.push(y);
                }
            }
            // squared magnitudes: never negative
            for x in xs.into_iter().filter(|x| x.is_nan() || *x >= 0.0) {
                assert_eq!(x.sqrt() > a, x > t, "{x:e} against {a:e}");
                assert_eq!(x.sqrt() <= a, x <= t, "{x:e} against {a:e}");
            }
        }
    }

    #[test]
    fn a_new_power_in_place_is_the_law_built_with_it() {
        for l in [
            load(LoadModel::ConstantPq, vec![]),
            load(LoadModel::Zip, vec![0.2, 0.3, 0.5, 0.1, 0.1, 0.8, 0.6]),
        ] {
            let mut law = LoadLaw::with_power(&l, 10.0, 2.0);
            assert!(law.is_of(&l));
            law.set_power(123.0, -45.0);
            assert_eq!(law, LoadLaw::with_power(&l, 123.0, -45.0));
            law.set_power(123.0, -45.0); // unchanged: nothing to do
            assert_eq!(law, LoadLaw::with_power(&l, 123.0, -45.0));
        }
        // another load's constants: not a law of it
        let law = LoadLaw::with_power(&load(LoadModel::ConstantPq, vec![]), 1.0, 1.0);
        let mut other = load(LoadModel::ConstantPq, vec![]);
        other.vmin_pu = 0.9;
        assert!(!law.is_of(&other));
        other = load(LoadModel::ConstantZ, vec![]);
        assert!(!law.is_of(&other));
        other = load(LoadModel::ConstantPq, vec![1.0]);
        assert!(!law.is_of(&other));
    }
}
