//! Generator current laws: OpenDSS `Generator.pas` (`SetNominalGeneration`, `DoConstantPQGen`,
//! `DoConstantZGen`, `DoFixedQGen`, `DoFixedQZGen`, `DoCurrentLimitedPQ`), per phase, in
//! generator sense (the current delivered out of the phase branch).

use vgrid_model::{Connection, Generator};
use vgrid_network::C64;

use super::{machine_v_base_volts, machine_yeq_at_limit};

const SQRT3: f64 = 1.732_050_807_568_877_2;

/// The generator models vgrid evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GenModel {
    /// 1: constant P and Q (also used for models 3 and 6, see the module docs).
    ConstantPq,
    /// 2: constant impedance.
    ConstantZ,
    /// 4: constant P, fixed Q (vars at nominal, independent of voltage).
    ConstantPFixedQ,
    /// 5: constant P, fixed reactance.
    ConstantPFixedX,
    /// 7: constant P and Q, current limited to the current at `vminpu`.
    CurrentLimited,
}

impl GenModel {
    fn from_number(n: u32) -> GenModel {
        match n {
            2 => GenModel::ConstantZ,
            4 => GenModel::ConstantPFixedQ,
            5 => GenModel::ConstantPFixedX,
            7 => GenModel::CurrentLimited,
            _ => GenModel::ConstantPq,
        }
    }
}

/// Per-phase constants of one generator, as `Generator.pas` keeps them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GeneratorLaw {
    model: GenModel,
    delta: bool,
    /// Delta with 2 or 3 phases: compare `|V_LL|/√3` with the thresholds.
    delta_ll_to_ln: bool,
    /// Nominal watts and vars per phase (`Pnominalperphase`, `Qnominalperphase`).
    p_w: f64,
    q_var: f64,
    /// `varBase` and `YQFixed` (models 4, 5).
    var_base: f64,
    yq_fixed: f64,
    v_base95: f64,
    v_base105: f64,
    /// Line-to-neutral nominal admittance per phase and its variants at `vminpu`, `vmaxpu`.
    yeq: C64,
    yeq95: C64,
    yeq105: C64,
    /// Model 7: current at nominal power and `vminpu`, and its magnitude.
    phase_current_limit: C64,
    max_phase_current: f64,
    /// The generator's `(kW, kvar, kV, vminpu, vmaxpu, model)` the law was built from.
    source: (f64, f64, f64, f64, f64, u32),
}

impl GeneratorLaw {
    pub(crate) fn new(g: &Generator) -> GeneratorLaw {
        let nphases = g.phases as f64;
        let v_base = machine_v_base_volts(g.phases, g.kv);
        let v_base95 = g.vmin_pu * v_base;
        let v_base105 = g.vmax_pu * v_base;
        // Snapshot: GenMultiplier (1) times the nominal values.
        let p_w = 1000.0 * g.p_kw / nphases;
        let q_var = 1000.0 * g.q_kvar / nphases;
        let yeq = C64::new(p_w, -q_var) / (v_base * v_base);
        let yeq95 = machine_yeq_at_limit(yeq, g.vmin_pu);
        let yeq105 = machine_yeq_at_limit(yeq, g.vmax_pu);
        let var_base = 1000.0 * g.q_kvar / nphases;
        let phase_current_limit = C64::new(p_w, -q_var) / v_base95;
        GeneratorLaw {
            model: GenModel::from_number(g.model),
            delta: g.conn == Connection::Delta,
            delta_ll_to_ln: g.conn == Connection::Delta && matches!(g.phases, 2 | 3),
            p_w,
            q_var,
            var_base,
            yq_fixed: -var_base / (v_base * v_base),
            v_base95,
            v_base105,
            yeq,
            yeq95,
            yeq105,
            phase_current_limit,
            max_phase_current: phase_current_limit.norm(),
            source: (g.p_kw, g.q_kvar, g.kv, g.vmin_pu, g.vmax_pu, g.model),
        }
    }

    /// Whether [`GeneratorLaw::new`]`(g)` is this law (given `g`'s phases and connection).
    #[inline]
    pub(crate) fn is_of(&self, g: &Generator) -> bool {
        self.source == (g.p_kw, g.q_kvar, g.kv, g.vmin_pu, g.vmax_pu, g.model)
    }

    /// The admittance OpenDSS stamps into Yprim for each phase branch (`-Yeq`, `-Yeq/3` for delta).
    pub(crate) fn y_branch(&self) -> C64 {
        if self.delta {
            -self.yeq / 3.0
        } else {
            -self.yeq
        }
    }

    /// Current delivered by one phase branch at branch voltage `v` (generator sense). The
    /// wye constant-PQ law (most generators) is inlined into the caller.
    #[inline(always)]
    pub(crate) fn phase_current(&self, v: C64) -> C64 {
        if self.model == GenModel::ConstantPq && !self.delta {
            let vmag = v.norm_sqr().sqrt();
            if vmag <= self.v_base95 {
                self.yeq95 * v
            } else if vmag > self.v_base105 {
                self.yeq105 * v
            } else {
                (C64::new(self.p_w, self.q_var) / v).conj()
            }
        } else {
            self.any_phase_current(v)
        }
    }

    /// [`GeneratorLaw::phase_current`] of any model and connection.
    #[inline(never)]
    fn any_phase_current(&self, v: C64) -> C64 {
        let mut vmag = v.norm_sqr().sqrt();
        let s = C64::new(self.p_w, self.q_var);
        // Delta branches see line-line volts; impedance modes use the delta equivalent Y/3.
        let d = if self.delta { 3.0 } else { 1.0 };
        match self.model {
            GenModel::ConstantZ => (self.yeq / d) * v,
            GenModel::ConstantPq => {
                if self.delta_ll_to_ln {
                    vmag /= SQRT3;
                }
                if vmag <= self.v_base95 {
                    self.scaled(self.yeq95) * v
                } else if vmag > self.v_base105 {
                    self.scaled(self.yeq105) * v
                } else {
                    (s / v).conj()
                }
            }
            GenModel::ConstantPFixedQ => {
                if self.delta_ll_to_ln {
                    vmag /= SQRT3;
                }
                if vmag <= self.v_base95 {
                    C64::new(self.yeq95.re / d, self.yq_fixed / d) * v
                } else if vmag > self.v_base105 {
                    C64::new(self.yeq105.re / d, self.yq_fixed / d) * v
                } else {
                    (C64::new(self.p_w, self.var_base) / v).conj()
                }
            }
            GenModel::ConstantPFixedX => {
                if self.delta_ll_to_ln {
                    vmag /= SQRT3;
                }
                if vmag <= self.v_base95 {
                    C64::new(self.yeq95.re / d, self.yq_fixed / d) * v
                } else if vmag > self.v_base105 {
                    C64::new(self.yeq105.re / d, self.yq_fixed / d) * v
                } else {
                    (C64::new(self.p_w, 0.0) / v).conj() + C64::new(0.0, self.yq_fixed / d) * v
                }
            }
            GenModel::CurrentLimited => {
                let curr = (s / v).conj();
                if self.delta_ll_to_ln {
                    if curr.norm() * SQRT3 > self.max_phase_current {
                        (self.phase_current_limit / (v / (vmag / SQRT3))).conj()
                    } else {
                        curr
                    }
                } else if curr.norm() > self.max_phase_current {
                    (self.phase_current_limit / (v / vmag)).conj()
                } else {
                    curr
                }
            }
        }
    }

    /// `Yeq95/3` for delta (constant-PQ outside the band), unchanged for wye.
    fn scaled(&self, y: C64) -> C64 {
        if self.delta {
            y / 3.0
        } else {
            y
        }
    }
}
