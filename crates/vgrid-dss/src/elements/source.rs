//! `Vsource` (and `New Circuit.name`, which creates `Vsource.source`).
//!
//! The short-circuit strength can be given four ways; like OpenDSS, the *last* kind given
//! wins: `MVAsc3/MVAsc1` (with `x1r1`, `x0r0`), `Isc3/Isc1`, ohms (`R1 X1 R0 X0`, `Z1 Z0`),
//! or per unit (`puZ1 puZ0` on `baseMVA`). When only part of an ohm specification is given,
//! the rest keeps the values OpenDSS computed from the previous specification, so
//! `basekv=4.16 R1=0 X1=0.0001` keeps R0/X0 from the default 2000/2100 MVA at 115 kV:
//!
//! ```text
//! X1 = kV² / MVAsc3 / sqrt(1 + 1/x1r1²),   R1 = X1 / x1r1
//! R0 solves (1 + x0r0²) R0² + 4 (R1 + X1 x0r0) R0 + 4 (R1² + X1²) − (3 kV·1000 / (√3 Isc1))² = 0
//! X0 = R0 · x0r0
//! ```

use super::{put, Ctx};
use crate::error::Diagnostic;
use crate::lexer::Param;
use crate::value::{self, Res};
use vgrid_model::{BusRef, SourceImpedance, Vsource};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Spec {
    Mva,
    Isc,
    Ohm,
    Pu,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SourceState {
    pub spec: Spec,
    pub mva_sc3: f64,
    pub mva_sc1: f64,
    pub isc3: f64,
    pub isc1: f64,
    pub x1r1: f64,
    pub x0r0: f64,
    pub r1: f64,
    pub x1: f64,
    pub r0: f64,
    pub x0: f64,
    pub pu_z1: (f64, f64),
    pub pu_z0: (f64, f64),
    pub base_mva: f64,
}

impl Default for SourceState {
    fn default() -> Self {
        SourceState {
            spec: Spec::Mva,
            mva_sc3: 2000.0,
            mva_sc1: 2100.0,
            isc3: 10000.0,
            isc1: 10540.0,
            x1r1: 4.0,
            x0r0: 3.0,
            r1: 1.65,
            x1: 6.6,
            r0: 1.9,
            x0: 5.7,
            pu_z1: (0.0, 0.0),
            pu_z0: (0.0, 0.0),
            base_mva: 100.0,
        }
    }
}

pub(crate) fn create(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    let st = SourceState::default();
    let f = ctx.store.base_frequency;
    let v = Vsource {
        name: name.to_string(),
        bus1: BusRef {
            bus: "sourcebus".into(),
            nodes: Vec::new(),
        },
        bus2: None,
        phases: 3,
        base_kv: 115.0,
        pu: 1.0,
        angle_deg: 0.0,
        frequency_hz: f,
        impedance: SourceImpedance::Mva {
            mva_sc3: st.mva_sc3,
            mva_sc1: st.mva_sc1,
            x1_r1: st.x1r1,
            x0_r0: st.x0r0,
        },
        enabled: true,
    };
    ctx.store.sources.insert(name.to_string(), st);
    let i = put(&mut ctx.net.sources, existing, v);
    let _ = finish(ctx, i, name);
    i
}

fn pair(p: &Param) -> Res<(f64, f64)> {
    let v = value::array(p)?;
    match v.as_slice() {
        [r, x, ..] => Ok((*r, *x)),
        [r] => Ok((*r, 0.0)),
        [] => Err(Diagnostic::new("expected [R, X]").at_column(p.col)),
    }
}

pub(crate) fn set(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let st = ctx.store.sources.entry(name.to_string()).or_default();
    let s = &mut ctx.net.sources[i];
    match prop {
        "bus1" => s.bus1 = value::bus(p)?,
        "bus2" => {
            let b = value::bus(p)?;
            let grounded =
                b.bus == s.bus1.bus && !b.nodes.is_empty() && b.nodes.iter().all(|&n| n == 0);
            s.bus2 = if grounded { None } else { Some(b) };
        }
        "basekv" => s.base_kv = value::number(p)?,
        "pu" => s.pu = value::number(p)?,
        "angle" => s.angle_deg = value::number(p)?,
        "frequency" => s.frequency_hz = value::number(p)?,
        "phases" => s.phases = value::count(p, 1, 100)?,
        "mvasc3" => {
            st.mva_sc3 = value::number(p)?;
            st.spec = Spec::Mva;
        }
        "mvasc1" => {
            st.mva_sc1 = value::number(p)?;
            st.spec = Spec::Mva;
        }
        "isc3" => {
            st.isc3 = value::number(p)?;
            st.spec = Spec::Isc;
        }
        "isc1" => {
            st.isc1 = value::number(p)?;
            st.spec = Spec::Isc;
        }
        "x1r1" => st.x1r1 = value::number(p)?,
        "x0r0" => st.x0r0 = value::number(p)?,
        "r1" | "x1" | "r0" | "x0" => {
            let v = value::number(p)?;
            match prop {
                "r1" => st.r1 = v,
                "x1" => st.x1 = v,
                "r0" => st.r0 = v,
                _ => st.x0 = v,
            }
            st.spec = Spec::Ohm;
        }
        "z1" => {
            (st.r1, st.x1) = pair(p)?;
            st.spec = Spec::Ohm;
        }
        "z0" => {
            (st.r0, st.x0) = pair(p)?;
            st.spec = Spec::Ohm;
        }
        "z2" => st.spec = Spec::Ohm,
        "puz1" => {
            st.pu_z1 = pair(p)?;
            st.spec = Spec::Pu;
        }
        "puz0" => {
            st.pu_z0 = pair(p)?;
            st.spec = Spec::Pu;
        }
        "puz2" => st.spec = Spec::Pu,
        "basemva" => st.base_mva = value::number(p)?,
        "enabled" => s.enabled = value::boolean(p)?,
        "basefreq" => s.frequency_hz = value::number(p)?,
        "scantype" | "sequence" | "yearly" | "daily" | "duty" | "model" | "puzideal"
        | "spectrum" => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of Vsource is not supported"
            )))
        }
    }
    Ok(())
}

/// Positive root of `a r² + b r + c = 0` (OpenDSS's `QuadSolver`).
fn quad(a: f64, b: f64, c: f64) -> f64 {
    if a == 0.0 {
        return if b != 0.0 { -c / b } else { 0.0 };
    }
    let d = b * b - 4.0 * a * c;
    if d < 0.0 {
        return 0.0;
    }
    (-b + d.sqrt()) / (2.0 * a)
}

pub(crate) fn finish(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    let st = ctx.store.sources.entry(name.to_string()).or_default();
    let s = &mut ctx.net.sources[i];
    let kv = s.base_kv;
    let factor = if s.phases == 1 { 1.0 } else { 3f64.sqrt() };
    if matches!(st.spec, Spec::Mva | Spec::Isc) {
        if st.spec == Spec::Isc {
            st.mva_sc3 = 3f64.sqrt() * kv * st.isc3 / 1000.0;
            st.mva_sc1 = factor * kv * st.isc1 / 1000.0;
        } else {
            st.isc3 = st.mva_sc3 * 1000.0 / (3f64.sqrt() * kv);
            st.isc1 = st.mva_sc1 * 1000.0 / (factor * kv);
        }
        let x1 = kv * kv / st.mva_sc3 / (1.0 + 1.0 / (st.x1r1 * st.x1r1)).sqrt();
        let r1 = x1 / st.x1r1;
        let k = 3.0 * kv * 1000.0 / factor / st.isc1;
        let r0 = quad(
            1.0 + st.x0r0 * st.x0r0,
            4.0 * (r1 + x1 * st.x0r0),
            4.0 * (r1 * r1 + x1 * x1) - k * k,
        );
        if [x1, r1, r0].iter().all(|v| v.is_finite()) {
            st.r1 = r1;
            st.x1 = x1;
            st.r0 = r0;
            st.x0 = r0 * st.x0r0;
        }
    }
    s.impedance = match st.spec {
        Spec::Mva => SourceImpedance::Mva {
            mva_sc3: st.mva_sc3,
            mva_sc1: st.mva_sc1,
            x1_r1: st.x1r1,
            x0_r0: st.x0r0,
        },
        Spec::Isc => SourceImpedance::Isc {
            isc3_a: st.isc3,
            isc1_a: st.isc1,
            x1_r1: st.x1r1,
            x0_r0: st.x0r0,
        },
        Spec::Ohm => SourceImpedance::Ohm {
            r1_ohm: st.r1,
            x1_ohm: st.x1,
            r0_ohm: st.r0,
            x0_ohm: st.x0,
        },
        Spec::Pu => SourceImpedance::Pu {
            r1_pu: st.pu_z1.0,
            x1_pu: st.pu_z1.1,
            r0_pu: st.pu_z0.0,
            x0_pu: st.pu_z0.1,
            base_mva: st.base_mva,
        },
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_source_matches_opendss() {
        // OpenDSS reports R0=1.79603583012335 X0=5.38810749037006 for the default source.
        let st = SourceState::default();
        let kv: f64 = 115.0;
        let x1 = kv * kv / st.mva_sc3 / (1.0 + 1.0 / 16.0f64).sqrt();
        let r1 = x1 / 4.0;
        let isc1 = st.mva_sc1 * 1000.0 / (3f64.sqrt() * kv);
        let k = 3.0 * kv * 1000.0 / 3f64.sqrt() / isc1;
        let r0 = quad(
            10.0,
            4.0 * (r1 + 3.0 * x1),
            4.0 * (r1 * r1 + x1 * x1) - k * k,
        );
        assert!((r1 - 1.60376682055275).abs() < 1e-9);
        assert!((r0 - 1.79603583012335).abs() < 1e-9);
    }
}
