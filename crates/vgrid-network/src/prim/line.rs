//! Lines, cables and switches: the pi model of OpenDSS's `Line.pas`.
//!
//! A line has two terminals of `phases` conductors each (terminal 1 on `bus1`, terminal 2 on
//! `bus2`). With `Z` the series impedance matrix and `Yc` the shunt capacitive admittance
//! matrix of the whole length, half of `Yc` sits at each end:
//!
//! ```text
//!   Y = Z⁻¹        Yprim = [ Y + Yc/2     −Y     ]
//!                          [   −Y      Y + Yc/2  ]
//! ```
//!
//! * **Matrix** data: `Z = (R + j·X·f/f₀)·ℓ`, `Yc = j·2πf·C·ℓ` (`f₀` the line's base frequency).
//! * **Sequence** data: `Zs = (2·Z1 + Z0)/3`, `Zm = (Z0 − Z1)/3`, likewise for `C1`, `C0`; a
//!   single-phase line uses `Z1` and `C1` only (OpenDSS sets `Z0 = Z1`, `C0 = C1`).
//! * **Geometry** and **spacing + wires**: per-metre constants from [`crate::geometry`] at the
//!   solution frequency, times the length.
//!
//! Frequency: with matrix or sequence data OpenDSS scales `X` and the susceptance by `f/f₀`
//! and also adds an earth-return correction `Rg·(f/f₀ − 1)` to `R` and `−½·kXg·ln(f/f₀)` to `X`;
//! the correction vanishes at `f = f₀` (every power-flow case). vgrid-model carries no
//! `Rg`/`Xg`, so at `f ≠ f₀` this matches OpenDSS only for lines with `rg=0 xg=0`.
//!
//! Switches: OpenDSS's `switch=yes` only rewrites the input data (`r1=x1=r0=x0=1`,
//! `c1=1.1`, `c0=1` nF, length 0.001, no units), which later properties may override; the
//! primitive matrix is then computed like any line's, so `Line::is_switch` changes nothing here.
//!
//! A zero, negative or non-finite length, or a singular series impedance, is an error (OpenDSS
//! replaces the inverse by a tiny conductance and reports an error).
//!
//! ```
//! use vgrid_model::{BusRef, Line, LineImpedance, Network};
//! use vgrid_network::prim::line::line;
//! let l = Line {
//!     name: "l1".into(), bus1: BusRef::parse("a"), bus2: BusRef::parse("b"), phases: 1,
//!     length_m: 1000.0,
//!     impedance: LineImpedance::Sequence {
//!         r1_ohm_per_m: 3e-4, x1_ohm_per_m: 4e-4, r0_ohm_per_m: 0.0, x0_ohm_per_m: 0.0,
//!         c1_nf_per_m: 0.0, c0_nf_per_m: 0.0,
//!     },
//!     base_frequency_hz: 50.0, rho_ohm_m: 100.0, earth_model: vgrid_model::EarthModel::Deri,
//!     is_switch: false, line_code: None,
//!     norm_amps_a: 400.0, emerg_amps_a: 600.0, enabled: true,
//! };
//! let p = line(&l, &Network::default(), 50.0).unwrap();
//! // One phase uses Z1 only: Y = 1 / (0.3 + j0.4) = 1.2 − j1.6.
//! assert!((p.y[(0, 0)] - vgrid_network::C64::new(1.2, -1.6)).norm() < 1e-12);
//! assert_eq!(p.y[(0, 1)], -p.y[(0, 0)]);
//! ```

use super::source::{positive, two_terminal_series};
use super::Prim;
use crate::geometry::{line_constants_for_geometry, line_constants_for_spacing};
use crate::{CMatrix, NetworkError, C64};
use std::f64::consts::PI;
use vgrid_model::{ElementId, ElementKind, Line, LineImpedance, Network};

/// The primitive admittance matrix of a line at `frequency_hz` (see the module docs).
pub fn line(l: &Line, net: &Network, frequency_hz: f64) -> Result<Prim, NetworkError> {
    let err = |m: String| NetworkError::element(ElementKind::Line, &l.name, m);
    if !positive(l.length_m) {
        return Err(err(format!(
            "length must be positive and finite, got {} m",
            l.length_m
        )));
    }
    if !positive(frequency_hz) {
        return Err(err(format!(
            "solution frequency must be positive, got {frequency_hz} Hz"
        )));
    }
    let (z, yc) = total_series_and_shunt(l, net, frequency_hz)?;
    if l.phases != z.rows() {
        return Err(err(format!(
            "has {} phases but its impedance data has {} conductors",
            l.phases,
            z.rows()
        )));
    }
    let y = z
        .inverse()
        .filter(|y| y.as_slice().iter().all(|v| v.is_finite()))
        .ok_or_else(|| err("series impedance matrix is singular (zero impedance?)".into()))?;
    let mut prim = two_terminal_series(&y);
    let n = y.rows();
    for i in 0..n {
        for j in 0..n {
            let half = yc[(i, j)] / 2.0;
            prim.y[(i, j)] += half;
            prim.y[(i + n, j + n)] += half;
        }
    }
    Ok(prim)
}

/// Series impedance `Z` (ohm) and shunt admittance `Yc` (siemens) of the whole line at
/// `frequency_hz`.
fn total_series_and_shunt(
    l: &Line,
    net: &Network,
    frequency_hz: f64,
) -> Result<(CMatrix, CMatrix), NetworkError> {
    let err = |m: String| NetworkError::element(ElementKind::Line, &l.name, m);
    let missing = |what: &'static str, name: &str| NetworkError::Missing {
        element: ElementId {
            kind: ElementKind::Line,
            name: l.name.clone(),
        },
        what,
        name: name.to_string(),
    };
    let len = l.length_m;
    let n = l.phases;
    let base_hz = l.base_frequency_hz;
    let needs_base = matches!(
        l.impedance,
        LineImpedance::Matrix { .. } | LineImpedance::Sequence { .. }
    );
    if needs_base && !positive(base_hz) {
        return Err(err(format!(
            "base frequency must be positive, got {base_hz} Hz"
        )));
    }
    let freq_mult = frequency_hz / base_hz;
    match &l.impedance {
        LineImpedance::Matrix {
            r_ohm_per_m,
            x_ohm_per_m,
            c_nf_per_m,
        } => {
            for (what, m) in [("R", r_ohm_per_m), ("X", x_ohm_per_m), ("C", c_nf_per_m)] {
                if m.len() != n * n || m.iter().any(|v| !v.is_finite()) {
                    return Err(err(format!(
                        "{what} matrix must have {} finite entries ({n} phases), got {}",
                        n * n,
                        m.len()
                    )));
                }
            }
            let mut z = CMatrix::zeros(n, n);
            let mut yc = CMatrix::zeros(n, n);
            for i in 0..n {
                for j in 0..n {
                    let k = i * n + j;
                    z[(i, j)] = C64::new(r_ohm_per_m[k] * len, x_ohm_per_m[k] * len * freq_mult);
                    let b_per_m = 2.0 * PI * base_hz * c_nf_per_m[k] * 1e-9;
                    yc[(i, j)] = C64::new(0.0, b_per_m * len * freq_mult);
                }
            }
            Ok((z, yc))
        }
        LineImpedance::Sequence {
            r1_ohm_per_m,
            x1_ohm_per_m,
            r0_ohm_per_m,
            x0_ohm_per_m,
            c1_nf_per_m,
            c0_nf_per_m,
        } => {
            let values = [
                *r1_ohm_per_m,
                *x1_ohm_per_m,
                *r0_ohm_per_m,
                *x0_ohm_per_m,
                *c1_nf_per_m,
                *c0_nf_per_m,
            ];
            if values.iter().any(|v| !v.is_finite()) || n == 0 {
                return Err(err(format!(
                    "sequence data must be finite with at least one phase, got {values:?}"
                )));
            }
            let z1 = C64::new(*r1_ohm_per_m, *x1_ohm_per_m);
            let mut z0 = C64::new(*r0_ohm_per_m, *x0_ohm_per_m);
            let mut c0 = *c0_nf_per_m;
            if n == 1 {
                // OpenDSS: a single-phase line is its positive-sequence impedance.
                z0 = z1;
                c0 = *c1_nf_per_m;
            }
            let zs = (z1 * 2.0 + z0) / 3.0;
            let zm = (z0 - z1) / 3.0;
            let yc1 = C64::new(0.0, 2.0 * PI * base_hz * c1_nf_per_m * 1e-9);
            let yc0 = C64::new(0.0, 2.0 * PI * base_hz * c0 * 1e-9);
            let ys = (yc1 * 2.0 + yc0) / 3.0;
            let ym = (yc0 - yc1) / 3.0;
            let mut z = CMatrix::zeros(n, n);
            let mut yc = CMatrix::zeros(n, n);
            for i in 0..n {
                for j in 0..n {
                    let (zv, yv) = if i == j { (zs, ys) } else { (zm, ym) };
                    z[(i, j)] = C64::new(zv.re * len, zv.im * len * freq_mult);
                    yc[(i, j)] = C64::new(0.0, yv.im * len * freq_mult);
                }
            }
            Ok((z, yc))
        }
        LineImpedance::Geometry { geometry } => {
            let g = net
                .line_geometries
                .iter()
                .find(|g| g.name.eq_ignore_ascii_case(geometry))
                .ok_or_else(|| missing("line geometry", geometry))?;
            let lc = line_constants_for_geometry(g, net, l.rho_ohm_m, frequency_hz, l.earth_model)?;
            Ok(scaled(lc.z_ohm_per_m, lc.y_s_per_m, len))
        }
        LineImpedance::Spacing { spacing, wires } => {
            let s = net
                .line_spacings
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(spacing))
                .ok_or_else(|| missing("line spacing", spacing))?;
            let lc = line_constants_for_spacing(
                s,
                wires,
                net,
                l.rho_ohm_m,
                frequency_hz,
                l.earth_model,
            )?;
            Ok(scaled(lc.z_ohm_per_m, lc.y_s_per_m, len))
        }
    }
}

fn scaled(mut z: CMatrix, mut y: CMatrix, len: f64) -> (CMatrix, CMatrix) {
    z.scale(C64::new(len, 0.0));
    y.scale(C64::new(len, 0.0));
    (z, y)
}

#[cfg(test)]
mod tests {
    use super::super::source::reference::{case_line, numbers, scalar, yprim_error};
    use super::*;
    use vgrid_model::BusRef;

    const DATA: &str = include_str!("../../tests/data/line/yprim.json");

    /// The line of reference case `name`, built from the parameters the generator recorded.
    fn case(name: &str) -> Line {
        let s = |key: &str| scalar(DATA, name, key);
        let impedance = if case_line(DATA, name).contains("\"kind\": \"matrix\"") {
            LineImpedance::Matrix {
                r_ohm_per_m: numbers(DATA, name, "r_ohm_per_m"),
                x_ohm_per_m: numbers(DATA, name, "x_ohm_per_m"),
                c_nf_per_m: numbers(DATA, name, "c_nf_per_m"),
            }
        } else {
            LineImpedance::Sequence {
                r1_ohm_per_m: s("r1_ohm_per_m"),
                x1_ohm_per_m: s("x1_ohm_per_m"),
                r0_ohm_per_m: s("r0_ohm_per_m"),
                x0_ohm_per_m: s("x0_ohm_per_m"),
                c1_nf_per_m: s("c1_nf_per_m"),
                c0_nf_per_m: s("c0_nf_per_m"),
            }
        };
        Line {
            name: name.into(),
            bus1: BusRef::parse("a"),
            bus2: BusRef::parse("b"),
            phases: s("phases") as usize,
            length_m: s("length_m"),
            impedance,
            base_frequency_hz: s("base_frequency_hz"),
            rho_ohm_m: 100.0,
            earth_model: vgrid_model::EarthModel::Deri,
            is_switch: name == "switch",
            line_code: None,
            norm_amps_a: 400.0,
            emerg_amps_a: 600.0,
            enabled: true,
        }
    }

    const CASES: [(&str, f64); 13] = [
        ("mtx601", 60.0),
        ("mtx603", 60.0),
        ("mtx605", 60.0),
        ("mtx606", 60.0),
        ("mtx607", 60.0),
        ("switch", 60.0),
        ("sequence_kft", 60.0),
        ("sequence_one_phase", 60.0),
        ("sequence_two_phase", 60.0),
        ("eulv_4c_70", 50.0),
        ("eulv_2c_16", 50.0),
        ("eulv_35_sac_xsc", 50.0),
        ("frequency_50_at_60", 60.0),
    ];

    #[test]
    fn yprim_matches_opendss() {
        let mut worst = 0.0f64;
        for (name, f) in CASES {
            let l = case(name);
            let p = line(&l, &Network::default(), f).unwrap();
            assert_eq!((p.terminals, p.conductors_per_terminal), (2, l.phases));
            let e = yprim_error(DATA, name, &p.y);
            assert!(e <= 1e-10, "{name}: Yprim error {e:e}");
            worst = worst.max(e);
        }
        eprintln!("line: worst Yprim error {worst:e}");
    }

    #[test]
    fn zero_length_or_zero_impedance_is_an_error() {
        let mut l = case("mtx601");
        l.length_m = 0.0;
        assert!(line(&l, &Network::default(), 60.0).is_err());
        let mut l = case("switch");
        l.impedance = LineImpedance::Sequence {
            r1_ohm_per_m: 0.0,
            x1_ohm_per_m: 0.0,
            r0_ohm_per_m: 0.0,
            x0_ohm_per_m: 0.0,
            c1_nf_per_m: 0.0,
            c0_nf_per_m: 0.0,
        };
        let e = line(&l, &Network::default(), 60.0).unwrap_err();
        assert!(e.to_string().contains("singular"), "{e}");
    }

    #[test]
    fn wrong_matrix_size_and_missing_geometry_are_errors() {
        let mut l = case("mtx601");
        l.phases = 2;
        assert!(line(&l, &Network::default(), 60.0).is_err());
        l.impedance = LineImpedance::Geometry {
            geometry: "nope".into(),
        };
        let e = line(&l, &Network::default(), 60.0).unwrap_err();
        assert!(matches!(e, NetworkError::Missing { .. }), "{e}");
    }
}
