//! Capacitor banks and reactors (OpenDSS `Capacitor.pas`, `Reactor.pas`).
//!
//! ## Terminal and conductor layout (as OpenDSS)
//! * **Wye** (the default): two terminals of `phases` conductors. Terminal 1 is on `bus1`,
//!   terminal 2 on `bus2`, which defaults to bus1's bus at nodes `.0.0.0` (a grounded-wye
//!   shunt; the network builder applies the default). Naming `bus2` on another bus makes a
//!   series element; naming it on the same bus at one node (`b.4.4.4`) gives an ungrounded
//!   neutral. Each phase is one branch between conductor `k` of terminal 1 and conductor `k`
//!   of terminal 2:
//!   ```text
//!   Yprim = [  Y  −Y ]    Y = diag(y_phase)      (2n × 2n)
//!           [ −Y   Y ]
//!   ```
//! * **Delta**: one terminal on `bus1`. Branch `k` (k = 0..n−1) joins conductor `k` and
//!   conductor `(k+1) mod c`, with `c = n` conductors for `n ≥ 3` (the closed delta: 1-2, 2-3,
//!   3-1) and `c = n + 1` for one or two phases (a 1-phase delta is one branch between two
//!   conductors, `b.1.2`; a 2-phase one is an open delta 1-2, 2-3). So a 1-phase delta bank has
//!   2 conductors and `Yprim = [y −y; −y y]`.
//!
//! ## Capacitors
//! Each step `s` in service (`states[s]`) adds its own matrix. Its capacitance comes from kvar
//! or µF; OpenDSS sizes **every** step from the **first** step's kvar (`FkvarRating^[1]` in
//! `RecalcElementData`), and vgrid does the same:
//! ```text
//!   C = kvar[0]/n / (2πf · kV_phase² · 1000)     kV_phase = kV/√3 for wye with 2 or 3 phases,
//!                                                kV otherwise (delta: line-to-line)
//! ```
//! A step with series `R`, `XL` (a filter reactor; `R = |XL|/1000` when only `XL` is given):
//! wye `y = 1/(R + jXL + 1/(jωC))`; delta as OpenDSS: scale the first `n` diagonal entries of
//! the step's delta matrix by 1.000001, invert, add `R + jXL` to those diagonal entries,
//! invert back.
//!
//! Multi-step **delta** banks follow another OpenDSS (C-API 0.14.5) quirk that vgrid
//! reproduces: one work matrix serves all steps and each delta step is *added* into it before
//! its filter transformation, so the `k`-th step in service contributes the first `k` steps'
//! admittance again (two 300 kvar steps in service give 900 kvar). Single-step banks (the
//! usual case) and wye banks are unaffected.
//!
//! ## Reactors
//! * kvar: `X = kV_phase² · 1000 / (kvar/n)` (same `kV_phase` rule), in series with `R`
//!   (`r_ohm`); impedance: the given `R + jX` per phase. `y = 1/(R + jX)`, plus `1/Rp` when a
//!   parallel resistance is given. OpenDSS ignores `parallel` for these two forms.
//! * matrices (wye only): `Y = (R + jX)⁻¹`, or with `parallel` `Y = R⁻¹ + j·(−X)⁻¹` (a singular
//!   `R` or `X` contributes nothing, as in OpenDSS).
//!
//! Frequency: vgrid-model gives ratings without a base frequency, so kvar, `X` and `XL` are
//! taken at `frequency_hz` (the network's base frequency in a power-flow solution).
//!
//! ```
//! use vgrid_model::{BusRef, Capacitor, Connection, ShuntRating};
//! use vgrid_network::prim::shunt::capacitor;
//! let c = Capacitor {
//!     name: "cap1".into(), bus1: BusRef::parse("675"), bus2: None, phases: 3, kv: 4.16,
//!     conn: Connection::Wye, rating: ShuntRating::Kvar(vec![600.0]),
//!     r_ohm: vec![0.0], xl_ohm: vec![0.0], states: vec![true], enabled: true,
//! };
//! let p = capacitor(&c, 60.0).unwrap();
//! assert_eq!((p.terminals, p.conductors_per_terminal), (2, 3));
//! // 200 kvar per phase at 2.4 kV: b = 200e3 / 2401.8² = 0.03467 S.
//! assert!((p.y[(0, 0)].im - 200e3 / (4160.0f64 / 3f64.sqrt()).powi(2)).abs() < 1e-12);
//! assert_eq!(p.y[(0, 3)], -p.y[(0, 0)]);
//! ```

use super::source::positive;
use super::Prim;
use crate::{CMatrix, NetworkError, C64};
use std::f64::consts::PI;
use vgrid_model::{Capacitor, Connection, ElementKind, Reactor, ReactorRating, ShuntRating};

/// The primitive admittance matrix of a capacitor bank (see the module docs for the layout).
pub fn capacitor(c: &Capacitor, frequency_hz: f64) -> Result<Prim, NetworkError> {
    let err = |m: String| NetworkError::element(ElementKind::Capacitor, &c.name, m);
    let n = c.phases;
    check_common(n, c.kv, frequency_hz).map_err(err)?;
    let w = 2.0 * PI * frequency_hz;
    let (values, is_kvar) = match &c.rating {
        ShuntRating::Kvar(v) => (v, true),
        ShuntRating::Cuf(v) => (v, false),
    };
    if values.is_empty() || values.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(err(format!(
            "ratings must be finite and non-negative, got {values:?}"
        )));
    }
    let phase_kv = phase_kv(c.kv, n, c.conn);
    let mut prim = empty(n, c.conn);
    // OpenDSS reuses one work matrix for all steps and stamps a delta step into it by
    // addition, so a delta step also carries every earlier in-service step's matrix.
    let mut delta_work = empty(n, Connection::Delta);
    for (s, &value) in values.iter().enumerate() {
        if !c.states.get(s).copied().unwrap_or(true) {
            continue;
        }
        let farad = if is_kvar {
            // OpenDSS: every step sized from the first step's kvar.
            1.0 / (w * phase_kv * phase_kv * 1000.0 / (values[0] / n as f64))
        } else {
            value * 1e-6
        };
        let y_c = C64::new(0.0, farad * w);
        let xl = c.xl_ohm.get(s).copied().unwrap_or(0.0);
        let mut r = c.r_ohm.get(s).copied().unwrap_or(0.0);
        if xl != 0.0 && r == 0.0 {
            r = xl.abs() / 1000.0; // OpenDSS: "put in something so it doesn't fail"
        }
        if !r.is_finite() || !xl.is_finite() {
            return Err(err(format!("step {}: R and XL must be finite", s + 1)));
        }
        let z_l = (r + xl.abs() > 0.0).then_some(C64::new(r, xl));
        let step = match c.conn {
            Connection::Wye => wye(n, z_l.map_or(y_c, |z| (z + y_c.inv()).inv())),
            Connection::Delta => {
                add(&mut delta_work.y, &delta(n, y_c));
                if let Some(z) = z_l {
                    delta_work.y = with_series_z(&delta_work.y, n, z).ok_or_else(|| {
                        err(format!("step {}: cannot invert the delta bank", s + 1))
                    })?;
                }
                delta_work.clone()
            }
        };
        add(&mut prim.y, &step);
    }
    Ok(prim)
}

/// The primitive admittance matrix of a reactor (see the module docs for the layout).
pub fn reactor(r: &Reactor, frequency_hz: f64) -> Result<Prim, NetworkError> {
    let err = |m: String| NetworkError::element(ElementKind::Reactor, &r.name, m);
    let n = r.phases;
    let kv_needed = matches!(r.rating, ReactorRating::Kvar { .. });
    check_common(n, if kv_needed { r.kv } else { 1.0 }, frequency_hz).map_err(err)?;
    let g_p = match r.rp_ohm {
        Some(rp) if rp != 0.0 && rp.is_finite() => 1.0 / rp,
        _ => 0.0,
    };
    let branch = |z: C64| -> Result<C64, NetworkError> {
        let y = z.inv() + g_p;
        if y.is_finite() {
            Ok(y)
        } else {
            Err(err(format!("zero or invalid impedance {z} ohm")))
        }
    };
    let y_branch = match &r.rating {
        ReactorRating::Kvar { kvar } => {
            if !positive(*kvar) {
                return Err(err(format!("kvar must be positive, got {kvar}")));
            }
            let kv = phase_kv(r.kv, n, r.conn);
            let x = kv * kv * 1000.0 / (kvar / n as f64);
            branch(C64::new(r.r_ohm, x))?
        }
        ReactorRating::Impedance { r_ohm, x_ohm } => branch(C64::new(*r_ohm, *x_ohm))?,
        ReactorRating::Matrix { r_ohm, x_ohm } => {
            if r.conn == Connection::Delta {
                return Err(err(
                    "delta-connected R/X matrices are not supported (OpenDSS fails on them too)"
                        .into(),
                ));
            }
            return reactor_matrix(n, r_ohm, x_ohm, r.parallel).map_err(err);
        }
    };
    Ok(match r.conn {
        Connection::Wye => wye(n, y_branch),
        Connection::Delta => delta(n, y_branch),
    })
}

fn check_common(n: usize, kv: f64, frequency_hz: f64) -> Result<(), String> {
    if n == 0 {
        return Err("needs at least one phase".into());
    }
    if !positive(kv) {
        return Err(format!("kV must be positive, got {kv}"));
    }
    if !positive(frequency_hz) {
        return Err(format!("frequency must be positive, got {frequency_hz} Hz"));
    }
    Ok(())
}

/// OpenDSS's voltage across one phase of a bank rated `kv`.
fn phase_kv(kv: f64, n: usize, conn: Connection) -> f64 {
    match conn {
        Connection::Delta => kv,
        Connection::Wye if n == 2 || n == 3 => kv / 3f64.sqrt(),
        Connection::Wye => kv,
    }
}

fn delta_conductors(n: usize) -> usize {
    if n < 3 {
        n + 1
    } else {
        n
    }
}

fn empty(n: usize, conn: Connection) -> Prim {
    let (terminals, c) = match conn {
        Connection::Wye => (2, n),
        Connection::Delta => (1, delta_conductors(n)),
    };
    Prim {
        y: CMatrix::zeros(terminals * c, terminals * c),
        terminals,
        conductors_per_terminal: c,
    }
}

/// `n` branches of admittance `y`, conductor `k` of terminal 1 to conductor `k` of terminal 2.
fn wye(n: usize, y: C64) -> Prim {
    let mut p = empty(n, Connection::Wye);
    for k in 0..n {
        p.y[(k, k)] = y;
        p.y[(k + n, k + n)] = y;
        p.y[(k, k + n)] = -y;
        p.y[(k + n, k)] = -y;
    }
    p
}

/// `n` branches of admittance `y`, conductor `k` to conductor `(k+1) mod c`.
fn delta(n: usize, y: C64) -> Prim {
    let mut p = empty(n, Connection::Delta);
    let c = p.conductors_per_terminal;
    for k in 0..n {
        let (a, b) = (k, (k + 1) % c);
        p.y[(a, a)] += y;
        p.y[(b, b)] += y;
        p.y[(a, b)] -= y;
        p.y[(b, a)] -= y;
    }
    p
}

/// OpenDSS's delta bank `y` with a series filter impedance `z` in each of its `n` phases.
fn with_series_z(y: &CMatrix, n: usize, z: C64) -> Option<CMatrix> {
    let mut y = y.clone();
    for i in 0..n {
        y[(i, i)] *= 1.000001; // "add a little bit to each phase so it will invert"
    }
    let mut zm = y.inverse()?;
    for i in 0..n {
        zm[(i, i)] += z;
    }
    zm.inverse()
        .filter(|y| y.as_slice().iter().all(|v| v.is_finite()))
}

fn reactor_matrix(n: usize, r: &[f64], x: &[f64], parallel: bool) -> Result<Prim, String> {
    if r.len() != n * n || x.len() != n * n || r.iter().chain(x).any(|v| !v.is_finite()) {
        return Err(format!(
            "R and X matrices must have {} finite entries ({n} phases)",
            n * n
        ));
    }
    let real = |v: &[f64], sign: f64| {
        CMatrix::from_row_major(n, n, v.iter().map(|&a| C64::new(sign * a, 0.0)).collect())
    };
    let y = if parallel {
        // OpenDSS zeroes G or B when R or X cannot be inverted.
        let g = real(r, 1.0)
            .inverse()
            .unwrap_or_else(|| CMatrix::zeros(n, n));
        let b = real(x, -1.0)
            .inverse()
            .unwrap_or_else(|| CMatrix::zeros(n, n));
        let data = g
            .as_slice()
            .iter()
            .zip(b.as_slice())
            .map(|(g, b)| C64::new(g.re, b.re))
            .collect();
        CMatrix::from_row_major(n, n, data)
    } else {
        let z = CMatrix::from_row_major(
            n,
            n,
            r.iter().zip(x).map(|(&a, &b)| C64::new(a, b)).collect(),
        );
        z.inverse()
            .filter(|y| y.as_slice().iter().all(|v| v.is_finite()))
            .ok_or("singular R + jX matrix")?
    };
    Ok(super::source::two_terminal_series(&y))
}

fn add(a: &mut CMatrix, b: &Prim) {
    for i in 0..a.rows() {
        for j in 0..a.cols() {
            a[(i, j)] += b.y[(i, j)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::source::reference::{case_line, numbers, scalar, yprim_error};
    use super::*;
    use vgrid_model::BusRef;

    const DATA: &str = include_str!("../../tests/data/shunt/yprim.json");

    fn has(name: &str, text: &str) -> bool {
        case_line(DATA, name).contains(text)
    }

    fn conn(name: &str) -> Connection {
        if has(name, "\"conn\": \"delta\"") {
            Connection::Delta
        } else {
            Connection::Wye
        }
    }

    fn bus2(name: &str) -> Option<BusRef> {
        has(name, "\"series\": true").then(|| BusRef::parse("c"))
    }

    fn cap(name: &str) -> Capacitor {
        let values = numbers(DATA, name, "values");
        Capacitor {
            name: name.into(),
            bus1: BusRef::parse("b"),
            bus2: bus2(name),
            phases: scalar(DATA, name, "phases") as usize,
            kv: scalar(DATA, name, "kv"),
            conn: conn(name),
            rating: if has(name, "\"rating\": \"kvar\"") {
                ShuntRating::Kvar(values)
            } else {
                ShuntRating::Cuf(values)
            },
            r_ohm: numbers(DATA, name, "r_ohm"),
            xl_ohm: numbers(DATA, name, "xl_ohm"),
            states: numbers(DATA, name, "states")
                .iter()
                .map(|&s| s != 0.0)
                .collect(),
            enabled: true,
        }
    }

    fn react(name: &str) -> Reactor {
        let rating = if has(name, "\"rating\": \"kvar\"") {
            ReactorRating::Kvar {
                kvar: scalar(DATA, name, "kvar"),
            }
        } else if has(name, "\"rating\": \"impedance\"") {
            ReactorRating::Impedance {
                r_ohm: scalar(DATA, name, "r_ohm"),
                x_ohm: scalar(DATA, name, "x_ohm"),
            }
        } else {
            ReactorRating::Matrix {
                r_ohm: numbers(DATA, name, "rmatrix"),
                x_ohm: numbers(DATA, name, "xmatrix"),
            }
        };
        Reactor {
            name: name.into(),
            bus1: BusRef::parse("b"),
            bus2: bus2(name),
            phases: scalar(DATA, name, "phases") as usize,
            kv: scalar(DATA, name, "kv"),
            conn: conn(name),
            rating,
            rp_ohm: (!has(name, "\"rp_ohm\": null")).then(|| scalar(DATA, name, "rp_ohm")),
            r_ohm: scalar(DATA, name, "r_ohm"),
            parallel: has(name, "\"parallel\": true"),
            enabled: true,
        }
    }

    /// All case names in the reference file, in order.
    fn names() -> Vec<String> {
        DATA.lines()
            .filter_map(|l| {
                let s = l.find("{\"name\": \"")? + 10;
                Some(l[s..s + l[s..].find('"')?].to_string())
            })
            .collect()
    }

    #[test]
    fn yprim_matches_opendss() {
        let mut worst = (0.0f64, String::new());
        let all = names();
        assert!(all.len() >= 20, "{all:?}");
        for name in &all {
            let f = scalar(DATA, name, "frequency_hz");
            let p = if has(name, "\"kind\": \"capacitor\"") {
                capacitor(&cap(name), f).unwrap()
            } else {
                reactor(&react(name), f).unwrap()
            };
            assert_eq!(
                p.terminals,
                scalar(DATA, name, "terminals") as usize,
                "{name}"
            );
            let e = yprim_error(DATA, name, &p.y);
            // Delta banks with a filter reactor go through OpenDSS's near-singular inversion
            // (diagonal × 1.000001), which leaves ~1e-10 of rounding in either program.
            let tol = if name.starts_with("cap_delta") && name.contains("xl") {
                1e-9
            } else {
                1e-12
            };
            assert!(e <= tol, "{name}: Yprim error {e:e}");
            if e > worst.0 {
                worst = (e, name.clone());
            }
        }
        eprintln!("shunt: worst Yprim error {:e} ({})", worst.0, worst.1);
    }

    #[test]
    fn delta_layout_for_one_two_and_four_phases() {
        let mut c = cap("cap_delta");
        for (n, conductors) in [(1, 2), (2, 3), (3, 3), (4, 4)] {
            c.phases = n;
            let p = capacitor(&c, 60.0).unwrap();
            assert_eq!((p.terminals, p.conductors_per_terminal), (1, conductors));
            // Every row of a delta bank sums to zero (no path to ground).
            for i in 0..conductors {
                let s: C64 = (0..conductors).map(|j| p.y[(i, j)]).sum();
                assert!(s.norm() < 1e-15, "n = {n}");
            }
        }
    }

    #[test]
    fn bad_data_are_errors() {
        let mut c = cap("cap_ieee13_675");
        c.kv = 0.0;
        assert!(capacitor(&c, 60.0).is_err());
        let mut r = react("reactor_series_rx");
        r.rating = ReactorRating::Impedance {
            r_ohm: 0.0,
            x_ohm: 0.0,
        };
        assert!(reactor(&r, 60.0).is_err());
        let mut r = react("reactor_matrix");
        r.conn = Connection::Delta;
        assert!(reactor(&r, 60.0).is_err());
    }
}
