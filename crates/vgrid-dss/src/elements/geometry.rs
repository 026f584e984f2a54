//! `LineGeometry`, `LineSpacing`, `WireData`, `CNData`, `TSData`: conductor positions and
//! conductor data, converted to SI.
//!
//! Each quantity carries its own unit in OpenDSS: positions in the geometry's `units`,
//! resistances per `runits`, GMR in `gmrunits`, radii and cable dimensions in `radunits`.
//! The lowering converts each with its unit; an unspecified unit is "none", taken as metres
//! as OpenDSS's line-constants code does.
//!
//! ```text
//! New WireData.acsr336 Rac=0.306 Runits=mi GMRac=0.0255 GMRunits=ft Radius=0.3705 Radunits=in
//!   r_ac_ohm_per_m = 0.306 / 1609.344,  gmr_m = 0.0255 * 0.3048,  radius_m = 0.3705 * 0.0254
//! ```
//! Missing values follow OpenDSS: `GMR = 0.7788 × radius` (and back), `Rac = 1.02 × Rdc`
//! (and back), `emergamps = 1.5 × normamps` (and back), `gmrunits` and `radunits` default to
//! each other.

use super::{put, Ctx};
use crate::classes::Class;
use crate::error::{did_you_mean, Diagnostic};
use crate::lexer::Param;
use crate::value::{self, Res, Units};
use vgrid_model::{CableData, CableScreen, LineGeometry, LineSpacing, WireData, WireKind, WireRef};

/// Geometry side state: per-conductor raw positions with their units.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct GeometryState {
    pub nconds: usize,
    pub nphases: usize,
    pub active: usize,
    pub x: Vec<f64>,
    pub h: Vec<f64>,
    pub units: Vec<Units>,
    pub last_units: Units,
    pub wires: Vec<Option<WireRef>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct SpacingState {
    pub nconds: usize,
    pub x: Vec<f64>,
    pub h: Vec<f64>,
    pub units: Units,
}

/// Conductor data as given (negative = not given), with units.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WireState {
    pub rdc: f64,
    pub rac: f64,
    pub runits: Units,
    pub gmr: f64,
    pub gmr_units: Units,
    pub radius: f64,
    pub rad_units: Units,
    pub norm_amps: f64,
    pub emerg_amps: f64,
    pub k: f64,
    pub dia_strand: f64,
    pub gmr_strand: f64,
    pub r_strand: f64,
    pub eps_r: f64,
    pub ins_layer: f64,
    pub dia_ins: f64,
    pub dia_cable: f64,
    pub dia_shield: f64,
    pub tape_layer: f64,
    pub tape_lap: f64,
}

impl Default for WireState {
    fn default() -> Self {
        WireState {
            rdc: -1.0,
            rac: -1.0,
            runits: Units::None,
            gmr: -1.0,
            gmr_units: Units::None,
            radius: -1.0,
            rad_units: Units::None,
            norm_amps: -1.0,
            emerg_amps: -1.0,
            k: 2.0,
            dia_strand: -1.0,
            gmr_strand: -1.0,
            r_strand: -1.0,
            eps_r: 2.3,
            ins_layer: -1.0,
            dia_ins: -1.0,
            dia_cable: -1.0,
            dia_shield: -1.0,
            tape_layer: -1.0,
            tape_lap: 20.0,
        }
    }
}

pub(crate) fn wire_class(kind: WireKind) -> Class {
    match kind {
        WireKind::Bare => Class::WireData,
        WireKind::ConcentricNeutral => Class::CnData,
        WireKind::TapeShield => Class::TsData,
    }
}

fn wire_kind(class: Class) -> WireKind {
    match class {
        Class::CnData => WireKind::ConcentricNeutral,
        Class::TsData => WireKind::TapeShield,
        _ => WireKind::Bare,
    }
}

pub(crate) fn create_geometry(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store.geometries.insert(
        name.to_string(),
        GeometryState {
            last_units: Units::Ft,
            ..GeometryState::default()
        },
    );
    let g = LineGeometry {
        name: name.to_string(),
        phases: 0,
        x_m: Vec::new(),
        h_m: Vec::new(),
        wires: Vec::new(),
        reduce: false,
        norm_amps_a: 0.0,
        emerg_amps_a: 0.0,
    };
    put(&mut ctx.net.line_geometries, existing, g)
}

fn resize_geometry(st: &mut GeometryState, n: usize) {
    st.nconds = n;
    st.x.resize(n, 0.0);
    st.h.resize(n, 0.0);
    let u = st.last_units;
    st.units.resize(n, u);
    st.wires.resize(n, None);
    if st.nphases == 0 || st.nphases > n {
        st.nphases = n;
    }
    if st.active == 0 || st.active > n {
        st.active = 1;
    }
}

fn find_wire(ctx: &Ctx, name: &str, kind: Option<WireKind>) -> Res<WireRef> {
    let w = ctx
        .net
        .wires
        .iter()
        .find(|w| w.name == name && (kind.is_none() || kind == Some(w.kind)));
    match w {
        Some(w) => Ok(WireRef {
            kind: w.kind,
            name: name.to_string(),
        }),
        None => Err(
            Diagnostic::new(format!("wire '{name}' is not defined")).with_hint(did_you_mean(
                name,
                ctx.net.wires.iter().map(|w| w.name.as_str()),
            )),
        ),
    }
}

pub(crate) fn set_geometry(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let mut st = ctx.store.geometries.remove(name).unwrap_or_default();
    let r = set_geometry_inner(ctx, i, &mut st, prop, p);
    ctx.store.geometries.insert(name.to_string(), st);
    r.map_err(|d| d.at_column(p.col))
}

fn set_geometry_inner(
    ctx: &mut Ctx,
    i: usize,
    st: &mut GeometryState,
    prop: &str,
    p: &Param,
) -> Res<()> {
    let need = |st: &GeometryState| -> Res<usize> {
        if st.nconds == 0 {
            return Err(Diagnostic::new("set nconds before the conductors"));
        }
        Ok(st.active.clamp(1, st.nconds) - 1)
    };
    match prop {
        "nconds" => resize_geometry(st, value::count(p, 1, 1000)?),
        "nphases" => st.nphases = value::count(p, 1, 1000)?,
        "cond" => {
            let k = value::count(p, 1, 1000)?;
            if k > st.nconds {
                return Err(Diagnostic::new(format!(
                    "conductor {k} exceeds nconds={}",
                    st.nconds
                )));
            }
            st.active = k;
        }
        "x" => {
            let k = need(st)?;
            st.x[k] = value::number(p)?;
        }
        "h" => {
            let k = need(st)?;
            st.h[k] = value::number(p)?;
        }
        "units" => {
            let u = value::units(p)?;
            st.last_units = u;
            if st.nconds > 0 {
                let k = need(st)?;
                for v in st.units.iter_mut().skip(k) {
                    *v = u;
                }
            }
        }
        "wire" | "cncable" | "tscable" => {
            let k = need(st)?;
            let kind = match prop {
                "cncable" => WireKind::ConcentricNeutral,
                "tscable" => WireKind::TapeShield,
                _ => WireKind::Bare,
            };
            let names = value::words(p);
            for (j, n) in names.iter().enumerate() {
                let w = find_wire(ctx, &n.to_ascii_lowercase(), Some(kind))?;
                if let Some(slot) = st.wires.get_mut(k + j) {
                    *slot = Some(w);
                }
            }
        }
        "wires" | "cncables" | "tscables" => {
            if st.nconds == 0 {
                return Err(Diagnostic::new("set nconds before the conductors"));
            }
            let kind = match prop {
                "cncables" => Some(WireKind::ConcentricNeutral),
                "tscables" => Some(WireKind::TapeShield),
                _ => None,
            };
            let names = value::words(p);
            // Bare neutrals after cables: fill the conductors past the phases.
            let start = if prop == "wires"
                && names.len() == st.nconds.saturating_sub(st.nphases)
                && names.len() < st.nconds
            {
                st.nphases
            } else {
                0
            };
            for (j, n) in names.iter().enumerate() {
                let w = find_wire(ctx, &n.to_ascii_lowercase(), kind)?;
                if let Some(slot) = st.wires.get_mut(start + j) {
                    *slot = Some(w);
                }
            }
        }
        "normamps" => ctx.net.line_geometries[i].norm_amps_a = value::number(p)?,
        "emergamps" => ctx.net.line_geometries[i].emerg_amps_a = value::number(p)?,
        "reduce" => ctx.net.line_geometries[i].reduce = value::boolean(p)?,
        "spacing" => {
            let s = value::name(p);
            let Some(sp) = ctx.store.spacings.get(&s).cloned() else {
                return Err(
                    Diagnostic::new(format!("LineSpacing.{s} is not defined")).with_hint(
                        did_you_mean(&s, ctx.net.line_spacings.iter().map(|x| x.name.as_str())),
                    ),
                );
            };
            let phases = ctx
                .net
                .line_spacings
                .iter()
                .find(|x| x.name == s)
                .map(|x| x.phases)
                .unwrap_or(sp.nconds);
            resize_geometry(st, sp.nconds);
            st.nphases = phases;
            st.x = sp.x.clone();
            st.h = sp.h.clone();
            st.units = vec![sp.units; sp.nconds];
        }
        "seasons" | "ratings" | "linetype" => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of LineGeometry is not supported"
            )))
        }
    }
    Ok(())
}

pub(crate) fn finish_geometry(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    let Some(st) = ctx.store.geometries.get(name) else {
        return Ok(());
    };
    let g = &mut ctx.net.line_geometries[i];
    g.phases = st.nphases;
    g.x_m =
        st.x.iter()
            .zip(&st.units)
            .map(|(v, u)| v * u.to_m())
            .collect();
    g.h_m =
        st.h.iter()
            .zip(&st.units)
            .map(|(v, u)| v * u.to_m())
            .collect();
    let mut last: Option<WireRef> = None;
    g.wires = st
        .wires
        .iter()
        .map(|w| {
            if let Some(w) = w {
                last = Some(w.clone());
            }
            last.clone().unwrap_or(WireRef {
                kind: WireKind::Bare,
                name: String::new(),
            })
        })
        .collect();
    if g.norm_amps_a == 0.0 {
        if let Some(w) = g
            .wires
            .first()
            .and_then(|w| ctx.net.wires.iter().find(|x| x.name == w.name))
        {
            g.norm_amps_a = w.norm_amps_a;
            g.emerg_amps_a = w.emerg_amps_a;
        }
    }
    Ok(())
}

pub(crate) fn create_spacing(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store.spacings.insert(
        name.to_string(),
        SpacingState {
            units: Units::Ft,
            ..SpacingState::default()
        },
    );
    let s = LineSpacing {
        name: name.to_string(),
        phases: 0,
        x_m: Vec::new(),
        h_m: Vec::new(),
    };
    put(&mut ctx.net.line_spacings, existing, s)
}

pub(crate) fn set_spacing(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let st = ctx.store.spacings.entry(name.to_string()).or_default();
    match prop {
        "nconds" => {
            let n = value::count(p, 1, 1000)?;
            st.nconds = n;
            st.x.resize(n, 0.0);
            st.h.resize(n, 0.0);
            if ctx.net.line_spacings[i].phases == 0 || ctx.net.line_spacings[i].phases > n {
                ctx.net.line_spacings[i].phases = n;
            }
        }
        "nphases" => ctx.net.line_spacings[i].phases = value::count(p, 1, 1000)?,
        "x" | "h" => {
            let mut v = value::array(p)?;
            v.resize(st.nconds, 0.0);
            if prop == "x" {
                st.x = v;
            } else {
                st.h = v;
            }
        }
        "units" => st.units = value::units(p)?,
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of LineSpacing is not supported"
            )))
        }
    }
    Ok(())
}

pub(crate) fn finish_spacing(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    if let Some(st) = ctx.store.spacings.get(name) {
        let s = &mut ctx.net.line_spacings[i];
        s.x_m = st.x.iter().map(|v| v * st.units.to_m()).collect();
        s.h_m = st.h.iter().map(|v| v * st.units.to_m()).collect();
    }
    Ok(())
}

pub(crate) fn create_wire(
    ctx: &mut Ctx,
    class: Class,
    name: &str,
    existing: Option<usize>,
) -> usize {
    ctx.store
        .wires
        .insert((class, name.to_string()), WireState::default());
    let w = WireData {
        name: name.to_string(),
        kind: wire_kind(class),
        r_dc_ohm_per_m: 0.0,
        r_ac_ohm_per_m: 0.0,
        gmr_m: 0.0,
        radius_m: 0.0,
        norm_amps_a: 0.0,
        emerg_amps_a: 0.0,
        cable: None,
    };
    put(&mut ctx.net.wires, existing, w)
}

pub(crate) fn set_wire(ctx: &mut Ctx, class: Class, name: &str, prop: &str, p: &Param) -> Res<()> {
    let st = ctx
        .store
        .wires
        .entry((class, name.to_string()))
        .or_default();
    let num = || value::number(p);
    match prop {
        "rdc" => {
            st.rdc = num()?;
            if st.rac < 0.0 {
                st.rac = 1.02 * st.rdc;
            }
        }
        "rac" => {
            st.rac = num()?;
            if st.rdc < 0.0 {
                st.rdc = st.rac / 1.02;
            }
        }
        "runits" => st.runits = value::units(p)?,
        "gmrac" => {
            st.gmr = num()?;
            if st.radius < 0.0 {
                st.radius = st.gmr / 0.7788;
            }
        }
        "gmrunits" => {
            st.gmr_units = value::units(p)?;
            if st.rad_units == Units::None {
                st.rad_units = st.gmr_units;
            }
        }
        "radius" | "diam" => {
            let v = num()?;
            st.radius = if prop == "diam" { v / 2.0 } else { v };
            if st.gmr < 0.0 {
                st.gmr = 0.7788 * st.radius;
            }
        }
        "radunits" => {
            st.rad_units = value::units(p)?;
            if st.gmr_units == Units::None {
                st.gmr_units = st.rad_units;
            }
        }
        "normamps" => {
            st.norm_amps = num()?;
            if st.emerg_amps < 0.0 {
                st.emerg_amps = 1.5 * st.norm_amps;
            }
        }
        "emergamps" => {
            st.emerg_amps = num()?;
            if st.norm_amps < 0.0 {
                st.norm_amps = st.emerg_amps / 1.5;
            }
        }
        "k" => st.k = num()?,
        "diastrand" => {
            st.dia_strand = num()?;
            if st.gmr_strand <= 0.0 {
                st.gmr_strand = 0.7788 * 0.5 * st.dia_strand;
            }
        }
        "gmrstrand" => st.gmr_strand = num()?,
        "rstrand" => st.r_strand = num()?,
        "epsr" => st.eps_r = num()?,
        "inslayer" => st.ins_layer = num()?,
        "diains" => st.dia_ins = num()?,
        "diacable" => st.dia_cable = num()?,
        "diashield" => st.dia_shield = num()?,
        "tapelayer" => st.tape_layer = num()?,
        "tapelap" => st.tape_lap = num()?,
        "capradius" | "seasons" | "ratings" => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of {} is not supported",
                class.dss_name()
            )))
        }
    }
    Ok(())
}

pub(crate) fn finish_wire(ctx: &mut Ctx, class: Class, i: usize, name: &str) -> Res<()> {
    let Some(st) = ctx.store.wires.get(&(class, name.to_string())) else {
        return Ok(());
    };
    let pos = |v: f64| v.max(0.0);
    let per_m = |v: f64, u: Units| pos(v) / u.to_m();
    let m = |v: f64, u: Units| pos(v) * u.to_m();
    let w = &mut ctx.net.wires[i];
    w.r_dc_ohm_per_m = per_m(st.rdc, st.runits);
    w.r_ac_ohm_per_m = per_m(st.rac, st.runits);
    w.gmr_m = m(st.gmr, st.gmr_units);
    w.radius_m = m(st.radius, st.rad_units);
    w.norm_amps_a = pos(st.norm_amps);
    w.emerg_amps_a = pos(st.emerg_amps);
    let ru = st.rad_units;
    w.cable = match class {
        Class::CnData => Some(CableData {
            eps_r: st.eps_r,
            ins_layer_m: m(st.ins_layer, ru),
            dia_ins_m: m(st.dia_ins, ru),
            dia_cable_m: m(st.dia_cable, ru),
            screen: CableScreen::ConcentricNeutral {
                k: st.k.max(0.0).round() as u32,
                dia_strand_m: m(st.dia_strand, ru),
                gmr_strand_m: m(st.gmr_strand, ru),
                r_strand_ohm_per_m: per_m(st.r_strand, st.runits),
            },
        }),
        Class::TsData => Some(CableData {
            eps_r: st.eps_r,
            ins_layer_m: m(st.ins_layer, ru),
            dia_ins_m: m(st.dia_ins, ru),
            dia_cable_m: m(st.dia_cable, ru),
            screen: CableScreen::TapeShield {
                dia_shield_m: m(st.dia_shield, ru),
                tape_layer_m: m(st.tape_layer, ru),
                tape_lap_pct: st.tape_lap,
            },
        }),
        _ => None,
    };
    Ok(())
}
