//! `Capacitor` and `Reactor`.
//!
//! A capacitor has one or more steps: `kvar=[300 300]` (or `cuf=[...]`) sets the number of
//! steps to the array length; `states=[1 0]` says which are in. Without `bus2` (or with
//! `bus2` = bus1 grounded, OpenDSS's default) it is a shunt bank.
//!
//! ```text
//! New Capacitor.C83 Bus1=83 Phases=3 kVAR=600 kV=4.16   -> Kvar([600]), states [true]
//! ```
//! A reactor is rated by `kvar` (at `kV`), by `R`/`X` (or `Z=[R X]`, `LmH`), or by matrices;
//! the last given wins.

use super::{default_bus, put, Ctx};
use crate::error::Diagnostic;
use crate::lexer::Param;
use crate::value::{self, Res};
use vgrid_model::{BusRef, Capacitor, Connection, Reactor, ReactorRating, ShuntRating};

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct CapState {
    pub use_cuf: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReactorState {
    pub kvar: f64,
    pub r: f64,
    pub x: f64,
    pub rmat: Vec<f64>,
    pub xmat: Vec<f64>,
    pub spec: u8,
}

fn bus2(b: BusRef, bus1: &BusRef) -> Option<BusRef> {
    let grounded = b.bus == bus1.bus && !b.nodes.is_empty() && b.nodes.iter().all(|&n| n == 0);
    if grounded {
        None
    } else {
        Some(b)
    }
}

pub(crate) fn create_capacitor(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store
        .capacitors
        .insert(name.to_string(), CapState::default());
    let c = Capacitor {
        name: name.to_string(),
        bus1: default_bus(name, 1),
        bus2: None,
        phases: 3,
        kv: 12.47,
        conn: Connection::Wye,
        rating: ShuntRating::Kvar(vec![1200.0]),
        r_ohm: vec![0.0],
        xl_ohm: vec![0.0],
        states: vec![true],
        enabled: true,
    };
    put(&mut ctx.net.capacitors, existing, c)
}

fn steps_of(c: &Capacitor) -> usize {
    match &c.rating {
        ShuntRating::Kvar(v) | ShuntRating::Cuf(v) => v.len(),
    }
}

fn set_steps(c: &mut Capacitor, n: usize) {
    let n = n.max(1);
    let fill = |v: &mut Vec<f64>| {
        let last = v.last().copied().unwrap_or(0.0);
        v.resize(n, last);
    };
    match &mut c.rating {
        ShuntRating::Kvar(v) | ShuntRating::Cuf(v) => fill(v),
    }
    c.r_ohm.resize(n, 0.0);
    c.xl_ohm.resize(n, 0.0);
    c.states.resize(n, true);
}

pub(crate) fn set_capacitor(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let st = ctx.store.capacitors.entry(name.to_string()).or_default();
    let c = &mut ctx.net.capacitors[i];
    match prop {
        "bus1" => c.bus1 = value::bus(p)?,
        "bus2" => c.bus2 = bus2(value::bus(p)?, &c.bus1),
        "phases" => c.phases = value::count(p, 1, 100)?,
        "kvar" => {
            let v = value::array(p)?;
            if v.is_empty() {
                return Err(Diagnostic::new("kvar needs at least one value").at_column(p.col));
            }
            st.use_cuf = false;
            let n = v.len();
            c.rating = ShuntRating::Kvar(v);
            set_steps(c, n);
        }
        "cuf" => {
            let v = value::array(p)?;
            if v.is_empty() {
                return Err(Diagnostic::new("cuf needs at least one value").at_column(p.col));
            }
            st.use_cuf = true;
            let n = v.len();
            c.rating = ShuntRating::Cuf(v);
            set_steps(c, n);
        }
        "kv" => c.kv = value::number(p)?,
        "conn" => c.conn = value::connection(p)?,
        "r" | "xl" => {
            let mut v = value::array(p)?;
            v.resize(steps_of(c), v.last().copied().unwrap_or(0.0));
            if prop == "r" {
                c.r_ohm = v;
            } else {
                c.xl_ohm = v;
            }
        }
        "numsteps" => {
            let n = value::count(p, 1, 1000)?;
            set_steps(c, n);
        }
        "states" => {
            let v = value::array(p)?;
            for (k, s) in v.iter().enumerate().take(c.states.len()) {
                c.states[k] = *s != 0.0;
            }
        }
        "enabled" => c.enabled = value::boolean(p)?,
        "cmatrix" => {
            return Err(Diagnostic::new(
                "capacitor cmatrix is not supported; use kvar or cuf",
            ))
        }
        "harm" | "normamps" | "emergamps" | "basefreq" => {}
        other if super::common(other) => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of Capacitor is not supported"
            )))
        }
    }
    Ok(())
}

pub(crate) fn finish_capacitor(_ctx: &mut Ctx, _i: usize) -> Res<()> {
    Ok(())
}

pub(crate) fn create_reactor(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store.reactors.insert(
        name.to_string(),
        ReactorState {
            kvar: 100.0,
            r: 0.0,
            x: 0.0,
            rmat: Vec::new(),
            xmat: Vec::new(),
            spec: 0,
        },
    );
    let r = Reactor {
        name: name.to_string(),
        bus1: default_bus(name, 1),
        bus2: None,
        phases: 3,
        kv: 12.47,
        conn: Connection::Wye,
        rating: ReactorRating::Kvar { kvar: 100.0 },
        rp_ohm: None,
        r_ohm: 0.0,
        parallel: false,
        enabled: true,
    };
    put(&mut ctx.net.reactors, existing, r)
}

pub(crate) fn set_reactor(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let freq = ctx.store.base_frequency;
    let st = ctx
        .store
        .reactors
        .entry(name.to_string())
        .or_insert_with(|| ReactorState {
            kvar: 100.0,
            r: 0.0,
            x: 0.0,
            rmat: Vec::new(),
            xmat: Vec::new(),
            spec: 0,
        });
    let r = &mut ctx.net.reactors[i];
    match prop {
        "bus1" => r.bus1 = value::bus(p)?,
        "bus2" => r.bus2 = bus2(value::bus(p)?, &r.bus1),
        "phases" => r.phases = value::count(p, 1, 100)?,
        "kvar" => {
            st.kvar = value::number(p)?;
            st.spec = 0;
        }
        "kv" => r.kv = value::number(p)?,
        "conn" => r.conn = value::connection(p)?,
        "rmatrix" | "xmatrix" => {
            let m = value::sym_matrix(p, r.phases)?;
            if prop == "rmatrix" {
                st.rmat = m;
            } else {
                st.xmat = m;
            }
            st.spec = 2;
        }
        "parallel" => r.parallel = value::boolean(p)?,
        "r" => {
            st.r = value::number(p)?;
            r.r_ohm = st.r;
        }
        "x" => {
            st.x = value::number(p)?;
            st.spec = 1;
        }
        "lmh" => {
            st.x = value::number(p)? * 1e-3 * 2.0 * std::f64::consts::PI * freq;
            st.spec = 1;
        }
        "z" | "z1" => {
            let v = value::array(p)?;
            st.r = v.first().copied().unwrap_or(0.0);
            st.x = v.get(1).copied().unwrap_or(0.0);
            r.r_ohm = st.r;
            st.spec = 1;
        }
        "rp" => r.rp_ohm = Some(value::number(p)?),
        "enabled" => r.enabled = value::boolean(p)?,
        "z2" | "z0" => {
            ctx.warnings.push(Diagnostic::new(format!(
                "Reactor {prop} is not modelled; the reactor uses Z1 only"
            )));
        }
        "rcurve" | "lcurve" | "normamps" | "emergamps" | "basefreq" => {}
        other if super::common(other) => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of Reactor is not supported"
            )))
        }
    }
    Ok(())
}

pub(crate) fn finish_reactor(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    let Some(st) = ctx.store.reactors.get(name) else {
        return Ok(());
    };
    let r = &mut ctx.net.reactors[i];
    r.rating = match st.spec {
        0 => ReactorRating::Kvar { kvar: st.kvar },
        1 => ReactorRating::Impedance {
            r_ohm: st.r,
            x_ohm: st.x,
        },
        _ => {
            let n = r.phases * r.phases;
            let mut rm = st.rmat.clone();
            let mut xm = st.xmat.clone();
            rm.resize(n, 0.0);
            xm.resize(n, 0.0);
            ReactorRating::Matrix {
                r_ohm: rm,
                x_ohm: xm,
            }
        }
    };
    Ok(())
}
