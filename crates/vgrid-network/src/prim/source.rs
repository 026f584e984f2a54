//! Voltage sources: an ideal EMF behind a short-circuit impedance (OpenDSS `Vsource`).
//!
//! A source has two terminals of `phases` conductors each: terminal 1 on `bus1`, terminal 2 on
//! `bus2` (by default bus1's bus at nodes `.0.0.0`, a grounded wye; the network builder applies
//! that default). Between them sits the phase impedance matrix `Z` built from the sequence
//! impedances `Z1 = Z2` and `Z0`:
//!
//! ```text
//!   Zs = (2·Z1 + Z0) / 3      (diagonal)        Y = Z⁻¹
//!   Zm = (Z0 − Z1) / 3        (off-diagonal)    Yprim = [ Y  −Y ]
//!                                                       [ −Y  Y ]
//! ```
//!
//! The EMF enters the network as the Norton current `Yprim · [E; 0]`.
//!
//! ## Short-circuit data, exactly as OpenDSS's `VSource.pas`
//! With `kV` the base voltage and `f = √3` (or 1 for a single-phase source):
//! * MVA: `X1 = kV² / MVAsc3 / √(1 + 1/(X1/R1)²)`, `R1 = X1 / (X1/R1)`; `Isc1 = MVAsc1·1000 / (f·kV)`
//!   and `R0` is the larger root of `(1 + (X0/R0)²)·R0² + 4(R1 + X1·X0/R0)·R0 + 4(R1² + X1²) − (3·kV·1000/f/Isc1)² = 0`,
//!   `X0 = R0·(X0/R0)`: the single-phase fault current through `2·Z1 + Z0` equals `Isc1`.
//! * Isc: `MVAsc3 = √3·kV·Isc3/1000`, then as above with the given `Isc1`.
//! * Ohm and per unit (on `kV²/MVAbase`) give `Z1`, `Z0` directly; a single-phase source then
//!   uses `Z0 = Z1`, so its impedance is `Z1`.
//!
//! The EMF of phase `k` (0-based) has magnitude `kV·pu·1000 / (2·sin(180°/n))` volts
//! (`kV·pu·1000` for one phase: line-to-neutral for three phases, half the line-to-line value
//! for two) and angle `angle − k·360°/n`.
//!
//! ```
//! use vgrid_model::{BusRef, SourceImpedance, Vsource};
//! use vgrid_network::prim::source::vsource;
//! let s = Vsource {
//!     name: "source".into(), bus1: BusRef::parse("sourcebus"), bus2: None, phases: 3,
//!     base_kv: 115.0, pu: 1.0, angle_deg: 0.0, frequency_hz: 60.0,
//!     impedance: SourceImpedance::Ohm { r1_ohm: 0.5, x1_ohm: 2.0, r0_ohm: 0.5, x0_ohm: 2.0 },
//!     enabled: true,
//! };
//! let p = vsource(&s, 60.0).unwrap();
//! assert_eq!(p.prim.y.rows(), 6);
//! // Z0 = Z1: no mutual coupling, Y11 = 1 / (0.5 + j2).
//! let y11 = p.prim.y[(0, 0)];
//! assert!((y11 - vgrid_network::C64::new(0.5, -2.0) / 4.25).norm() < 1e-12);
//! assert!((p.emf_v[0].norm() - 115e3 / 3f64.sqrt()).abs() < 1e-6);
//! ```

use super::Prim;
use crate::{CMatrix, NetworkError, C64};
use vgrid_model::{ElementKind, SourceImpedance, Vsource};

/// A source's primitive matrix and the EMF behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePrim {
    pub prim: Prim,
    /// EMF per phase behind the impedance, volts (complex), phase 1 at `angle_deg`.
    pub emf_v: Vec<C64>,
}

/// OpenDSS's `EPSILON2`: a source whose frequency differs from the solution frequency by more
/// than this contributes no EMF in a power-flow solution.
const FREQUENCY_MATCH_HZ: f64 = 1e-3;

/// The primitive matrix and EMF of a voltage source at `frequency_hz` (see the module docs).
///
/// `s.frequency_hz` is the frequency the impedance is given at and the EMF's frequency: the
/// reactances scale with `frequency_hz / s.frequency_hz`, and, as in OpenDSS, a source whose
/// frequency differs from the solution frequency has a zero EMF.
pub fn vsource(s: &Vsource, frequency_hz: f64) -> Result<SourcePrim, NetworkError> {
    let err = |m: String| NetworkError::element(ElementKind::Vsource, &s.name, m);
    let n = s.phases;
    if n == 0 {
        return Err(err("a source needs at least one phase".into()));
    }
    if !positive(s.base_kv) {
        return Err(err(format!("base kV must be positive, got {}", s.base_kv)));
    }
    if !positive(s.frequency_hz) || !positive(frequency_hz) {
        return Err(err(format!(
            "frequencies must be positive (source {} Hz, solution {} Hz)",
            s.frequency_hz, frequency_hz
        )));
    }
    let (zs, zm) = self_and_mutual_ohm(s, n).map_err(err)?;
    let freq_mult = frequency_hz / s.frequency_hz;
    let mut z = CMatrix::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            let v = if i == j { zs } else { zm };
            z[(i, j)] = C64::new(v.re, v.im * freq_mult);
        }
    }
    let y = z
        .inverse()
        .filter(|y| y.as_slice().iter().all(|v| v.is_finite()))
        .ok_or_else(|| {
            err(format!(
                "singular impedance matrix (Zs = {zs}, Zm = {zm} ohm)"
            ))
        })?;
    Ok(SourcePrim {
        prim: two_terminal_series(&y),
        emf_v: emf(s, n, frequency_hz),
    })
}

/// `x > 0` and finite (false for NaN).
pub(crate) fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

/// `[Y −Y; −Y Y]` over two terminals of `Y.rows()` conductors.
pub(crate) fn two_terminal_series(y: &CMatrix) -> Prim {
    let n = y.rows();
    let mut out = CMatrix::zeros(2 * n, 2 * n);
    for i in 0..n {
        for j in 0..n {
            let v = y[(i, j)];
            out[(i, j)] = v;
            out[(i + n, j + n)] = v;
            out[(i, j + n)] = -v;
            out[(i + n, j)] = -v;
        }
    }
    Prim {
        y: out,
        terminals: 2,
        conductors_per_terminal: n,
    }
}

/// Self and mutual impedance (ohm, at the source's own frequency) of the phase matrix.
fn self_and_mutual_ohm(s: &Vsource, n: usize) -> Result<(C64, C64), String> {
    let kv = s.base_kv;
    let sqrt3 = 3f64.sqrt();
    let factor = if n == 1 { 1.0 } else { sqrt3 };
    // Short-circuit MVA and currents: OpenDSS's ZSpecType 1 and 2.
    let from_short_circuit = |mva_sc3: f64, isc1: f64, x1_r1: f64, x0_r0: f64| {
        if ![mva_sc3, isc1, x1_r1, x0_r0].into_iter().all(positive) {
            return Err(format!(
                "short-circuit data must be positive (MVAsc3 {mva_sc3}, Isc1 {isc1} A, X1/R1 {x1_r1}, X0/R0 {x0_r0})"
            ));
        }
        let x1 = kv * kv / mva_sc3 / (1.0 + 1.0 / (x1_r1 * x1_r1)).sqrt();
        let r1 = x1 / x1_r1;
        let v_fault = 3.0 * kv * 1000.0 / factor / isc1;
        let r0 = larger_root(
            1.0 + x0_r0 * x0_r0,
            4.0 * (r1 + x1 * x0_r0),
            4.0 * (r1 * r1 + x1 * x1) - v_fault * v_fault,
        )
        .ok_or_else(|| {
            format!("single-phase short-circuit level (Isc1 = {isc1} A) gives no real zero-sequence impedance")
        })?;
        let x0 = r0 * x0_r0;
        let zs = C64::new((2.0 * r1 + r0) / 3.0, (2.0 * x1 + x0) / 3.0);
        let zm = C64::new((r0 - r1) / 3.0, (x0 - x1) / 3.0);
        Ok((zs, zm))
    };
    // Sequence impedances in ohm: OpenDSS's ZSpecType 3.
    let from_ohm = |r1: f64, x1: f64, r0: f64, x0: f64| {
        let (r0, x0) = if n == 1 { (r1, x1) } else { (r0, x0) };
        let rs = (2.0 * r1 + r0) / 3.0;
        let xs = (2.0 * x1 + x0) / 3.0;
        Ok((C64::new(rs, xs), C64::new((r0 - r1) / 3.0, xs - x1)))
    };
    match s.impedance {
        SourceImpedance::Mva {
            mva_sc3,
            mva_sc1,
            x1_r1,
            x0_r0,
        } => from_short_circuit(mva_sc3, mva_sc1 * 1000.0 / (factor * kv), x1_r1, x0_r0),
        SourceImpedance::Isc {
            isc3_a,
            isc1_a,
            x1_r1,
            x0_r0,
        } => from_short_circuit(sqrt3 * kv * isc3_a / 1000.0, isc1_a, x1_r1, x0_r0),
        SourceImpedance::Ohm {
            r1_ohm,
            x1_ohm,
            r0_ohm,
            x0_ohm,
        } => from_ohm(r1_ohm, x1_ohm, r0_ohm, x0_ohm),
        SourceImpedance::Pu {
            r1_pu,
            x1_pu,
            r0_pu,
            x0_pu,
            base_mva,
        } => {
            if !positive(base_mva) {
                return Err(format!("base MVA must be positive, got {base_mva}"));
            }
            let z_base = kv * kv / base_mva;
            from_ohm(
                r1_pu * z_base,
                x1_pu * z_base,
                r0_pu * z_base,
                x0_pu * z_base,
            )
        }
    }
}

/// The larger root of `a·x² + b·x + c = 0` (`a > 0`), `None` if complex.
fn larger_root(a: f64, b: f64, c: f64) -> Option<f64> {
    let d = b * b - 4.0 * a * c;
    (d >= 0.0).then(|| (-b + d.sqrt()) / (2.0 * a))
}

/// EMF per phase: magnitude `kV·pu·1000/(2·sin(180°/n))` (`kV·pu·1000` for one phase), angles
/// `angle − k·360°/n`; zero when the solution runs at another frequency than the source.
fn emf(s: &Vsource, n: usize, frequency_hz: f64) -> Vec<C64> {
    let mut v_mag = if n == 1 {
        s.base_kv * s.pu * 1000.0
    } else {
        s.base_kv * s.pu * 1000.0 / 2.0 / ((180.0 / n as f64) * std::f64::consts::PI / 180.0).sin()
    };
    if (frequency_hz - s.frequency_hz).abs() > FREQUENCY_MATCH_HZ {
        v_mag = 0.0;
    }
    (0..n)
        .map(|k| {
            let deg = 360.0 + s.angle_deg - k as f64 * 360.0 / n as f64;
            C64::from_polar(v_mag, deg.to_radians())
        })
        .collect()
}

/// Reading the committed OpenDSS reference data in tests (no JSON crate needed: the generator
/// scripts write one case per line and the arrays are flat numbers).
#[cfg(test)]
pub(crate) mod reference {
    use crate::{CMatrix, C64};

    /// The numbers of array `key` in the case named `case`.
    pub(crate) fn numbers(json: &str, case: &str, key: &str) -> Vec<f64> {
        let line = case_line(json, case);
        let k = line
            .find(&format!("\"{key}\": ["))
            .unwrap_or_else(|| panic!("case {case} has no {key}"));
        let rest = &line[k..];
        let open = rest.find('[').unwrap() + 1;
        let close = rest.find(']').unwrap();
        rest[open..close]
            .split(',')
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().parse::<f64>().unwrap())
            .collect()
    }

    /// The number `key` (first occurrence) in the case named `case`; `true`/`false` as 1/0.
    pub(crate) fn scalar(json: &str, case: &str, key: &str) -> f64 {
        let line = case_line(json, case);
        let k = line
            .find(&format!("\"{key}\": "))
            .unwrap_or_else(|| panic!("case {case} has no {key}"));
        let rest = &line[k + key.len() + 4..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        match rest[..end].trim() {
            "true" => 1.0,
            "false" => 0.0,
            t => t
                .parse()
                .unwrap_or_else(|_| panic!("case {case}: {key} = {t}")),
        }
    }

    /// The one line of the reference file holding case `case`.
    pub(crate) fn case_line<'a>(json: &'a str, case: &str) -> &'a str {
        let start = json
            .find(&format!("\"name\": \"{case}\""))
            .unwrap_or_else(|| panic!("case {case} not in reference data"));
        json[start..].lines().next().unwrap_or("")
    }

    /// Flat `[re, im, re, im, ...]` as complex numbers.
    pub(crate) fn complex(json: &str, case: &str, key: &str) -> Vec<C64> {
        numbers(json, case, key)
            .chunks(2)
            .map(|c| C64::new(c[0], c[1]))
            .collect()
    }

    /// `max |ΔY| / max |Y|` between `y` and OpenDSS's `yprim` of `case`.
    pub(crate) fn yprim_error(json: &str, case: &str, y: &CMatrix) -> f64 {
        let expected = complex(json, case, "yprim");
        assert_eq!(
            expected.len(),
            y.rows() * y.cols(),
            "{case}: order {} vs OpenDSS {}",
            y.rows(),
            (expected.len() as f64).sqrt()
        );
        let scale = expected.iter().map(|v| v.norm()).fold(0.0, f64::max);
        let diff = expected
            .iter()
            .zip(y.as_slice())
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        if scale == 0.0 {
            diff
        } else {
            diff / scale
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reference::{complex, yprim_error};
    use super::*;
    use vgrid_model::BusRef;

    const DATA: &str = include_str!("../../tests/data/source/yprim.json");

    fn source(
        phases: usize,
        base_kv: f64,
        pu: f64,
        angle_deg: f64,
        frequency_hz: f64,
        impedance: SourceImpedance,
    ) -> Vsource {
        Vsource {
            name: "source".into(),
            bus1: BusRef::parse("sourcebus"),
            bus2: None,
            phases,
            base_kv,
            pu,
            angle_deg,
            frequency_hz,
            impedance,
            enabled: true,
        }
    }

    fn cases() -> Vec<(&'static str, Vsource)> {
        use SourceImpedance::*;
        let mva = |mva_sc3, mva_sc1, x1_r1, x0_r0| Mva {
            mva_sc3,
            mva_sc1,
            x1_r1,
            x0_r0,
        };
        let ohm = |r1_ohm, x1_ohm, r0_ohm, x0_ohm| Ohm {
            r1_ohm,
            x1_ohm,
            r0_ohm,
            x0_ohm,
        };
        vec![
            (
                "ieee13",
                source(
                    3,
                    115.0,
                    1.0001,
                    30.0,
                    60.0,
                    mva(20000.0, 21000.0, 4.0, 3.0),
                ),
            ),
            (
                "eulv",
                source(
                    3,
                    11.0,
                    1.05,
                    0.0,
                    50.0,
                    Isc {
                        isc3_a: 3000.0,
                        isc1_a: 5.0,
                        x1_r1: 4.0,
                        x0_r0: 3.0,
                    },
                ),
            ),
            (
                "one_phase_mva",
                source(1, 2.4, 1.02, -10.0, 60.0, mva(100.0, 90.0, 6.0, 2.5)),
            ),
            (
                "one_phase_ohm",
                source(1, 7.2, 0.98, 5.0, 60.0, ohm(0.3, 1.7, 0.9, 4.2)),
            ),
            (
                "three_phase_ohm",
                source(3, 12.47, 1.03, 0.0, 60.0, ohm(0.5, 2.0, 1.2, 6.0)),
            ),
            (
                "three_phase_pu",
                source(
                    3,
                    69.0,
                    1.0,
                    0.0,
                    60.0,
                    Pu {
                        r1_pu: 0.01,
                        x1_pu: 0.1,
                        r0_pu: 0.02,
                        x0_pu: 0.25,
                        base_mva: 50.0,
                    },
                ),
            ),
            (
                "two_phase_mva",
                source(2, 13.2, 1.01, 15.0, 60.0, mva(500.0, 400.0, 4.0, 3.0)),
            ),
        ]
    }

    #[test]
    fn yprim_and_emf_match_opendss() {
        let mut worst = (0.0f64, 0.0f64);
        for (name, s) in cases() {
            let p = vsource(&s, s.frequency_hz).unwrap();
            assert_eq!(p.prim.terminals, 2);
            assert_eq!(p.prim.conductors_per_terminal, s.phases);
            let e = yprim_error(DATA, name, &p.prim.y);
            assert!(e <= 1e-12, "{name}: Yprim error {e:e}");
            // OpenDSS's open-circuit bus voltages carry its solver's ~1e-10 residual.
            let emf = complex(DATA, name, "emf_v");
            let scale = emf[0].norm();
            let de = emf
                .iter()
                .zip(&p.emf_v)
                .map(|(a, b)| (a - b).norm() / scale)
                .fold(0.0, f64::max);
            assert!(de <= 1e-9, "{name}: EMF error {de:e}");
            worst = (worst.0.max(e), worst.1.max(de));
        }
        eprintln!(
            "vsource: worst Yprim error {:e}, EMF error {:e}",
            worst.0, worst.1
        );
    }

    #[test]
    fn other_frequency_scales_reactance_and_drops_emf() {
        let s = &cases()[0].1;
        let base = vsource(s, 60.0).unwrap();
        let h3 = vsource(s, 180.0).unwrap();
        assert!(h3.emf_v.iter().all(|v| v.norm() == 0.0));
        assert!(h3.prim.y[(0, 0)].norm() < base.prim.y[(0, 0)].norm());
    }

    #[test]
    fn bad_data_is_an_error_not_nan() {
        let mut s = cases()[0].1.clone();
        s.impedance = SourceImpedance::Ohm {
            r1_ohm: 0.0,
            x1_ohm: 0.0,
            r0_ohm: 0.0,
            x0_ohm: 0.0,
        };
        assert!(vsource(&s, 60.0).is_err());
        s.phases = 0;
        assert!(vsource(&s, 60.0).is_err());
        let mut s = cases()[0].1.clone();
        s.base_kv = 0.0;
        assert!(vsource(&s, 60.0).is_err());
    }
}
