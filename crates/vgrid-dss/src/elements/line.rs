//! `Line` and `LineCode`, with OpenDSS's length-unit bookkeeping.
//!
//! OpenDSS keeps a line's impedance "per unit length" in whatever unit it was given, plus a
//! conversion factor `F` from that unit to the line's `units`; the total impedance is
//! `Z × length / F`. The reader reproduces that bookkeeping and lowers it to SI:
//!
//! ```text
//! unit u  = line units, else the code's units, else none (taken as metre)
//! length_m        = length × metres(u)
//! z_ohm_per_m     = z / (F × metres(u))        so that z_ohm_per_m × length_m = Z × length / F
//! ```
//! Example (IEEE 13): `linecode=mtx601` (ohm per mile) with `length=2000 units=ft`:
//! `F = 1609.344 / 0.3048`, `length_m = 609.6`, `r_ohm_per_m = r_per_mile / 1609.344`.
//!
//! Sequence data (`r1 x1 r0 x0 c1 c0`, `b1 b0` in µS) resets the units to none like OpenDSS;
//! for 1-phase lines OpenDSS uses the positive-sequence values only (r0 = r1 ...), and so does
//! the lowering. The default capacitances (3.4 / 1.6 nF per kft) are rescaled to the line's
//! units at the next solve when the user gave impedances but no capacitance, as OpenDSS does.

use super::{default_bus, put, Ctx};
use crate::error::{did_you_mean, Diagnostic};
use crate::hash::FxHashMap;
use crate::lexer::Param;
use crate::value::{self, Res, Units};
use vgrid_model::{Line, LineImpedance, Network, WireKind, WireRef};

/// Per-unit-length data shared by lines and line codes. Capacitances in nF per unit length.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Impedance {
    pub phases: usize,
    pub r1: f64,
    pub x1: f64,
    pub r0: f64,
    pub x0: f64,
    pub c1: f64,
    pub c0: f64,
    /// Matrices (`phases × phases`) when given as matrices.
    pub rmat: Vec<f64>,
    pub xmat: Vec<f64>,
    pub cmat: Vec<f64>,
    /// Sequence data is authoritative (else the matrices are).
    pub sym: bool,
}

impl Impedance {
    fn default_for(phases: usize) -> Impedance {
        let mut z = Impedance {
            phases,
            r1: 0.058,
            x1: 0.1206,
            r0: 0.1784,
            x0: 0.4047,
            c1: 3.4,
            c0: 1.6,
            rmat: Vec::new(),
            xmat: Vec::new(),
            cmat: Vec::new(),
            sym: true,
        };
        z.matrices_from_sequence();
        z
    }

    /// Fill the matrices from sequence values (OpenDSS's `CalcMatricesFromZ1Z0`).
    pub fn matrices_from_sequence(&mut self) {
        let n = self.phases;
        let zs = |a1: f64, a0: f64| (2.0 * a1 + a0) / 3.0;
        let zm = |a1: f64, a0: f64| (a0 - a1) / 3.0;
        // refill in place: lines set r1, x1, r0, x0... one by one
        let fill = |m: &mut Vec<f64>, v: f64| {
            if m.capacity() < n * n {
                *m = vec![v; n * n];
            } else {
                m.clear();
                m.resize(n * n, v);
            }
        };
        fill(&mut self.rmat, zm(self.r1, self.r0));
        fill(&mut self.xmat, zm(self.x1, self.x0));
        fill(&mut self.cmat, zm(self.c1, self.c0));
        for i in 0..n {
            self.rmat[i * n + i] = zs(self.r1, self.r0);
            self.xmat[i * n + i] = zs(self.x1, self.x0);
            self.cmat[i * n + i] = zs(self.c1, self.c0);
        }
    }

    /// `*self = other.clone()`, reusing the matrices' allocations (a line takes its code's
    /// data this way).
    fn assign(&mut self, other: &Impedance) {
        let Impedance {
            phases,
            r1,
            x1,
            r0,
            x0,
            c1,
            c0,
            rmat,
            xmat,
            cmat,
            sym,
        } = other;
        (self.phases, self.sym) = (*phases, *sym);
        (self.r1, self.x1, self.r0, self.x0, self.c1, self.c0) = (*r1, *x1, *r0, *x0, *c1, *c0);
        self.rmat.clone_from(rmat);
        self.xmat.clone_from(xmat);
        self.cmat.clone_from(cmat);
    }

    fn resize(&mut self, phases: usize) {
        self.phases = phases;
        self.matrices_from_sequence();
    }
}

/// A `LineCode` (side state only: lines copy it when `linecode=` is assigned).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineCode {
    pub z: Impedance,
    pub units: Units,
    pub base_freq: f64,
    pub norm_amps: f64,
    pub emerg_amps: f64,
    pub rho: f64,
    pub neutral: usize,
    pub kron: bool,
}

/// What OpenDSS keeps about a line besides the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct LineState {
    pub z: Impedance,
    pub len: f64,
    pub units: Units,
    /// Units of the assigned line code (none without code).
    pub code_units: Units,
    /// OpenDSS's `FUnitsConvert`.
    pub f: f64,
    pub cap_specified: bool,
    pub sym_changed: bool,
    pub geometry: Option<String>,
    pub spacing: Option<String>,
    pub wires: Vec<WireRef>,
    pub wire_kind: Option<WireKind>,
}

pub(crate) fn create(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    let f = ctx.store.base_frequency;
    let st = LineState {
        z: Impedance::default_for(3),
        len: 1.0,
        units: Units::None,
        code_units: Units::None,
        f: 1.0,
        cap_specified: false,
        sym_changed: false,
        geometry: None,
        spacing: None,
        wires: Vec::new(),
        wire_kind: None,
    };
    let line = Line {
        name: name.to_string(),
        bus1: default_bus(name, 1),
        bus2: default_bus(name, 2),
        phases: 3,
        length_m: 1.0,
        impedance: LineImpedance::Sequence {
            r1_ohm_per_m: 0.0,
            x1_ohm_per_m: 0.0,
            r0_ohm_per_m: 0.0,
            x0_ohm_per_m: 0.0,
            c1_nf_per_m: 0.0,
            c0_nf_per_m: 0.0,
        },
        base_frequency_hz: f,
        rho_ohm_m: 100.0,
        earth_model: ctx.net.settings.earth_model,
        is_switch: false,
        line_code: None,
        norm_amps_a: 400.0,
        emerg_amps_a: 600.0,
        enabled: true,
    };
    ctx.store.lines.insert(name.to_string(), st);
    if !ctx.store.pending_cap_fix.is_empty() {
        ctx.store.pending_cap_fix.remove(name);
    }
    put(&mut ctx.net.lines, existing, line)
}

fn b_to_c(b_us: f64, freq: f64) -> f64 {
    b_us / (2.0 * std::f64::consts::PI * freq) * 1e3
}

pub(crate) fn set(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let store = &mut *ctx.store;
    let Some(st) = store.lines.get_mut(name) else {
        // a line the host added to the model: OpenDSS's defaults for its phases, then the edit
        let st = LineState {
            z: Impedance::default_for(ctx.net.lines[i].phases),
            len: 1.0,
            units: Units::None,
            code_units: Units::None,
            f: 1.0,
            cap_specified: true,
            sym_changed: false,
            geometry: None,
            spacing: None,
            wires: Vec::new(),
            wire_kind: None,
        };
        store.lines.insert(name.to_string(), st);
        return set(ctx, i, name, prop, p);
    };
    let codes = Codes {
        map: &store.linecodes,
        order: &store.linecode_order,
    };
    let r = set_inner(ctx.net, &codes, i, st, prop, p);
    if st.sym_changed && !st.cap_specified && !store.pending_cap_fix.contains(name) {
        store.pending_cap_fix.insert(name.to_string());
    }
    // rebuilt rather than moved, so that `Ok` does not copy the room of a diagnostic
    match r {
        Ok(()) => Ok(()),
        Err(d) => Err(d),
    }
}

/// The line codes, as a line reads them.
struct Codes<'a> {
    map: &'a FxHashMap<String, LineCode>,
    /// Names in creation order, for hints.
    order: &'a [String],
}

fn kill_code(line: &mut Line) {
    line.line_code = None;
}

fn set_sequence(st: &mut LineState, line: &mut Line) {
    kill_code(line);
    st.geometry = None;
    st.spacing = None;
    st.units = Units::None;
    st.f = 1.0;
    st.sym_changed = true;
    st.z.sym = true;
}

fn set_inner(
    net: &mut Network,
    codes: &Codes,
    i: usize,
    st: &mut LineState,
    prop: &str,
    p: &Param,
) -> Res<()> {
    let base_f = net.lines[i].base_frequency_hz;
    match prop {
        "bus1" => net.lines[i].bus1 = value::bus(p)?,
        "bus2" => net.lines[i].bus2 = value::bus(p)?,
        "linecode" => {
            fetch_code(net, codes, i, st, &value::name(p)).map_err(|d| d.at_column(p.col))?
        }
        "length" => st.len = value::number(p)?,
        "phases" => {
            let n = value::count(p, 1, 100)?;
            if n != st.z.phases {
                if st.z.sym && st.geometry.is_none() {
                    st.z.resize(n);
                    net.lines[i].phases = n;
                } else {
                    return Err(Diagnostic::new(format!(
                        "cannot change the number of phases of a line defined by matrices or geometry (has {})",
                        st.z.phases
                    ))
                    .at_column(p.col));
                }
            }
        }
        "r1" | "x1" | "r0" | "x0" | "c1" | "c0" | "b1" | "b0" => {
            let v = value::number(p)?;
            let line = &mut net.lines[i];
            set_sequence(st, line);
            match prop {
                "r1" => st.z.r1 = v,
                "x1" => st.z.x1 = v,
                "r0" => st.z.r0 = v,
                "x0" => st.z.x0 = v,
                "c1" => st.z.c1 = v,
                "c0" => st.z.c0 = v,
                "b1" => st.z.c1 = b_to_c(v, base_f),
                _ => st.z.c0 = b_to_c(v, base_f),
            }
            if matches!(prop, "c1" | "c0" | "b1" | "b0") {
                st.cap_specified = true;
            }
            st.z.matrices_from_sequence();
        }
        "rmatrix" | "xmatrix" | "cmatrix" => {
            let m = value::sym_matrix(p, st.z.phases)?;
            match prop {
                "rmatrix" => st.z.rmat = m,
                "xmatrix" => st.z.xmat = m,
                _ => {
                    st.z.cmat = m;
                    st.cap_specified = true;
                }
            }
            kill_code(&mut net.lines[i]);
            st.z.sym = false;
            st.units = Units::None;
            st.f = 1.0;
            st.geometry = None;
            st.spacing = None;
        }
        "switch" => {
            let on = value::boolean(p)?;
            net.lines[i].is_switch = on;
            if on {
                let line = &mut net.lines[i];
                set_sequence(st, line);
                st.z.r1 = 1.0;
                st.z.x1 = 1.0;
                st.z.r0 = 1.0;
                st.z.x0 = 1.0;
                st.z.c1 = 1.1;
                st.z.c0 = 1.0;
                st.z.matrices_from_sequence();
                st.len = 0.001;
            }
        }
        "rg" | "xg" => {}
        "earthmodel" => net.lines[i].earth_model = crate::options::earth_model(p),
        "rho" => net.lines[i].rho_ohm_m = value::number(p)?,
        "geometry" => {
            let g = value::name(p);
            let Some(geo) = net.line_geometries.iter().find(|x| x.name == g) else {
                let hint = did_you_mean(&g, net.line_geometries.iter().map(|x| x.name.as_str()));
                return Err(Diagnostic::new(format!("LineGeometry.{g} is not defined"))
                    .with_hint(hint)
                    .at_column(p.col));
            };
            st.z.phases = geo.phases;
            net.lines[i].phases = geo.phases;
            net.lines[i].norm_amps_a = geo.norm_amps_a;
            net.lines[i].emerg_amps_a = geo.emerg_amps_a;
            st.geometry = Some(g);
            st.spacing = None;
            st.z.sym = false;
            kill_code(&mut net.lines[i]);
        }
        "units" => {
            let u = value::units(p)?;
            if net.lines[i].line_code.is_some() {
                st.f = Units::convert(st.code_units, u);
            } else {
                st.f *= Units::convert(st.units, u);
            }
            st.units = u;
        }
        "spacing" => {
            let s = value::name(p);
            let Some(sp) = net.line_spacings.iter().find(|x| x.name == s) else {
                let hint = did_you_mean(&s, net.line_spacings.iter().map(|x| x.name.as_str()));
                return Err(Diagnostic::new(format!("LineSpacing.{s} is not defined"))
                    .with_hint(hint)
                    .at_column(p.col));
            };
            st.z.phases = sp.phases;
            net.lines[i].phases = sp.phases;
            st.spacing = Some(s);
            st.geometry = None;
        }
        "wires" | "cncables" | "tscables" => {
            let kind = match prop {
                "wires" => WireKind::Bare,
                "cncables" => WireKind::ConcentricNeutral,
                _ => WireKind::TapeShield,
            };
            let mut refs = Vec::new();
            for w in value::words(p) {
                let w = w.to_ascii_lowercase();
                let found = net
                    .wires
                    .iter()
                    .find(|x| x.name == w && (prop == "wires" || x.kind == kind));
                let Some(found) = found else {
                    let hint = did_you_mean(&w, net.wires.iter().map(|x| x.name.as_str()));
                    return Err(Diagnostic::new(format!("wire '{w}' is not defined"))
                        .with_hint(hint)
                        .at_column(p.col));
                };
                refs.push(WireRef {
                    kind: found.kind,
                    name: w,
                });
                net.lines[i].norm_amps_a = found.norm_amps_a;
                net.lines[i].emerg_amps_a = found.emerg_amps_a;
            }
            if prop == "wires" && st.wire_kind.is_some_and(|k| k != WireKind::Bare) {
                // bare neutrals added to a cable line
                let np = st.z.phases.min(st.wires.len());
                st.wires.truncate(np);
                st.wires.extend(refs);
            } else {
                st.wires = refs;
                st.wire_kind = Some(kind);
            }
            st.geometry = None;
            st.z.sym = false;
            kill_code(&mut net.lines[i]);
        }
        "normamps" => net.lines[i].norm_amps_a = value::number(p)?,
        "emergamps" => net.lines[i].emerg_amps_a = value::number(p)?,
        "basefreq" => net.lines[i].base_frequency_hz = value::number(p)?,
        "enabled" => net.lines[i].enabled = value::boolean(p)?,
        other if super::common(other) => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of Line is not supported"
            )))
        }
    }
    Ok(())
}

/// Copy a line code into a line (OpenDSS `FetchLineCode`).
fn fetch_code(
    net: &mut Network,
    codes: &Codes,
    i: usize,
    st: &mut LineState,
    code: &str,
) -> Res<()> {
    let Some(lc) = codes.map.get(code) else {
        let hint = did_you_mean(code, codes.order.iter().map(String::as_str));
        return Err(Diagnostic::new(format!("LineCode.{code} is not defined")).with_hint(hint));
    };
    let line = &mut net.lines[i];
    line.base_frequency_hz = lc.base_freq;
    line.rho_ohm_m = lc.rho;
    line.norm_amps_a = lc.norm_amps;
    line.emerg_amps_a = lc.emerg_amps;
    line.phases = lc.z.phases;
    line.line_code = Some(code.to_string());
    st.z.assign(&lc.z);
    st.code_units = lc.units;
    st.f = Units::convert(lc.units, st.units);
    st.geometry = None;
    st.spacing = None;
    Ok(())
}

/// Apply OpenDSS's fix-up of default capacitances (given per kft) when impedances were set
/// without capacitance; OpenDSS does it when the line is first built for a solution.
pub(crate) fn commit_cap_fix(ctx: &mut Ctx) {
    let names: Vec<String> = ctx.store.pending_cap_fix.drain().collect();
    for n in names {
        if let Some(st) = ctx.store.lines.get_mut(&n) {
            if st.sym_changed && !st.cap_specified {
                let k = Units::convert(Units::Kft, st.units);
                st.z.c1 /= k;
                st.z.c0 /= k;
                st.z.matrices_from_sequence();
                st.cap_specified = true;
            }
            st.sym_changed = false;
        }
        if let Some(i) = ctx
            .store
            .model_index(ctx.net, crate::classes::Class::Line, &n)
        {
            let _ = finish(ctx, i, &n);
        }
    }
}

pub(crate) fn finish(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    let Some(st) = ctx.store.lines.get(name) else {
        return Ok(());
    };
    let line = &mut ctx.net.lines[i];
    let u = if st.units != Units::None {
        st.units
    } else if line.line_code.is_some() {
        st.code_units
    } else {
        Units::None
    };
    let per_m = st.f * u.to_m();
    line.length_m = st.len * u.to_m();
    line.phases = st.z.phases;
    if let Some(g) = &st.geometry {
        line.impedance = LineImpedance::Geometry {
            geometry: g.clone(),
        };
        return Ok(());
    }
    if let Some(s) = &st.spacing {
        line.impedance = LineImpedance::Spacing {
            spacing: s.clone(),
            wires: st.wires.clone(),
        };
        return Ok(());
    }
    if per_m == 0.0 || !per_m.is_finite() {
        return Err(Diagnostic::new("length unit conversion is zero"));
    }
    let z = &st.z;
    line.impedance = if z.sym {
        let (mut c1, mut c0) = (z.c1, z.c0);
        if st.sym_changed && !st.cap_specified {
            let k = Units::convert(Units::Kft, st.units);
            c1 /= k;
            c0 /= k;
        }
        let (r0, x0, c0) = if z.phases == 1 {
            (z.r1, z.x1, c1)
        } else {
            (z.r0, z.x0, c0)
        };
        LineImpedance::Sequence {
            r1_ohm_per_m: z.r1 / per_m,
            x1_ohm_per_m: z.x1 / per_m,
            r0_ohm_per_m: r0 / per_m,
            x0_ohm_per_m: x0 / per_m,
            c1_nf_per_m: c1 / per_m,
            c0_nf_per_m: c0 / per_m,
        }
    } else {
        let n = z.phases;
        let fix = |m: &[f64]| -> Vec<f64> {
            let mut v: Vec<f64> = m.iter().map(|x| x / per_m).collect();
            v.resize(n * n, 0.0);
            v
        };
        LineImpedance::Matrix {
            r_ohm_per_m: fix(&z.rmat),
            x_ohm_per_m: fix(&z.xmat),
            c_nf_per_m: fix(&z.cmat),
        }
    };
    Ok(())
}

pub(crate) fn create_code(ctx: &mut Ctx, name: &str) {
    let code = LineCode {
        z: Impedance::default_for(3),
        units: Units::None,
        base_freq: ctx.store.base_frequency,
        norm_amps: 400.0,
        emerg_amps: 600.0,
        rho: 100.0,
        neutral: 3,
        kron: false,
    };
    if !ctx.store.linecodes.contains_key(name) {
        ctx.store.linecode_order.push(name.to_string());
    }
    ctx.store.linecodes.insert(name.to_string(), code);
}

pub(crate) fn set_code(ctx: &mut Ctx, name: &str, prop: &str, p: &Param) -> Res<()> {
    let Some(c) = ctx.store.linecodes.get_mut(name) else {
        return Err(Diagnostic::new(format!("LineCode.{name} does not exist")));
    };
    match prop {
        "nphases" => {
            let n = value::count(p, 1, 100)?;
            if n != c.z.phases {
                c.z.resize(n);
                c.neutral = n;
            }
        }
        "r1" => c.z.r1 = value::number(p)?,
        "x1" => c.z.x1 = value::number(p)?,
        "r0" => c.z.r0 = value::number(p)?,
        "x0" => c.z.x0 = value::number(p)?,
        "c1" => c.z.c1 = value::number(p)?,
        "c0" => c.z.c0 = value::number(p)?,
        "b1" => c.z.c1 = b_to_c(value::number(p)?, c.base_freq),
        "b0" => c.z.c0 = b_to_c(value::number(p)?, c.base_freq),
        "units" => c.units = value::units(p)?,
        "rmatrix" => c.z.rmat = value::sym_matrix(p, c.z.phases)?,
        "xmatrix" => c.z.xmat = value::sym_matrix(p, c.z.phases)?,
        "cmatrix" => c.z.cmat = value::sym_matrix(p, c.z.phases)?,
        "basefreq" => c.base_freq = value::number(p)?,
        "normamps" => c.norm_amps = value::number(p)?,
        "emergamps" => c.emerg_amps = value::number(p)?,
        "rho" => c.rho = value::number(p)?,
        "neutral" => c.neutral = value::count(p, 1, 100)?,
        "kron" => c.kron = value::boolean(p)?,
        "faultrate" | "pctperm" | "repair" | "rg" | "xg" | "seasons" | "ratings" | "linetype" => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of LineCode is not supported"
            )))
        }
    }
    match prop {
        "r1" | "x1" | "r0" | "x0" | "c1" | "c0" | "b1" | "b0" => {
            c.z.sym = true;
            c.z.matrices_from_sequence();
        }
        "rmatrix" | "xmatrix" | "cmatrix" => c.z.sym = false,
        _ => {}
    }
    Ok(())
}

/// Kron-reduce a code's neutral conductor when `Kron=yes` was given.
pub(crate) fn finish_code(ctx: &mut Ctx, name: &str) -> Res<()> {
    let Some(c) = ctx.store.linecodes.get_mut(name) else {
        return Ok(());
    };
    if c.kron {
        c.kron = false;
        let n = c.z.phases;
        let k = c.neutral.saturating_sub(1);
        if n > 1 && k < n && !c.z.sym {
            kron_reduce(&mut c.z, k);
            c.neutral = c.z.phases;
        }
    }
    Ok(())
}

/// Eliminate conductor `k` from the series matrices (complex Kron reduction) and from the
/// capacitance matrix (the same formula on the real matrix, as OpenDSS does).
fn kron_reduce(z: &mut Impedance, k: usize) {
    let n = z.phases;
    let at = |m: &[f64], i: usize, j: usize| m.get(i * n + j).copied().unwrap_or(0.0);
    let (rkk, xkk) = (at(&z.rmat, k, k), at(&z.xmat, k, k));
    let den = rkk * rkk + xkk * xkk;
    let ckk = at(&z.cmat, k, k);
    let keep: Vec<usize> = (0..n).filter(|&i| i != k).collect();
    let m = keep.len();
    let (mut r, mut x, mut c) = (vec![0.0; m * m], vec![0.0; m * m], vec![0.0; m * m]);
    for (a, &i) in keep.iter().enumerate() {
        for (b, &j) in keep.iter().enumerate() {
            // (Rik + jXik)(Rkj + jXkj) / (Rkk + jXkk)
            let (pr, pi) = (
                at(&z.rmat, i, k) * at(&z.rmat, k, j) - at(&z.xmat, i, k) * at(&z.xmat, k, j),
                at(&z.rmat, i, k) * at(&z.xmat, k, j) + at(&z.xmat, i, k) * at(&z.rmat, k, j),
            );
            let (qr, qi) = if den > 0.0 {
                ((pr * rkk + pi * xkk) / den, (pi * rkk - pr * xkk) / den)
            } else {
                (0.0, 0.0)
            };
            r[a * m + b] = at(&z.rmat, i, j) - qr;
            x[a * m + b] = at(&z.xmat, i, j) - qi;
            let cq = if ckk != 0.0 {
                at(&z.cmat, i, k) * at(&z.cmat, k, j) / ckk
            } else {
                0.0
            };
            c[a * m + b] = at(&z.cmat, i, j) - cq;
        }
    }
    z.phases = m;
    z.rmat = r;
    z.xmat = x;
    z.cmat = c;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_to_matrix() {
        let z = Impedance::default_for(3);
        assert!((z.rmat[0] - (2.0 * 0.058 + 0.1784) / 3.0).abs() < 1e-12);
        assert!((z.rmat[1] - (0.1784 - 0.058) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn assign_copies_everything() {
        let mut code = Impedance::default_for(2);
        code.sym = false;
        code.r1 = 9.0;
        code.cmat = vec![1.0; 4];
        let mut z = Impedance::default_for(3);
        z.assign(&code);
        assert_eq!(z, code);
    }

    #[test]
    fn kron_of_diagonal_neutral() {
        let mut z = Impedance::default_for(2);
        z.sym = false;
        z.rmat = vec![1.0, 0.5, 0.5, 2.0];
        z.xmat = vec![0.0; 4];
        z.cmat = vec![1.0, 0.0, 0.0, 1.0];
        kron_reduce(&mut z, 1);
        assert_eq!(z.phases, 1);
        assert!((z.rmat[0] - (1.0 - 0.25 / 2.0)).abs() < 1e-12);
    }
}
