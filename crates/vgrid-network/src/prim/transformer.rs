//! Transformers: the primitive admittance matrix of an n-winding, m-phase transformer, computed
//! exactly as OpenDSS does (`Transformer.pas`: `RecalcElementData`, `CalcY_Terminal`,
//! `SetTermRef`, `BuildYPrimComponent`, `AddNeutralToY`).
//!
//! ## The model
//!
//! Every phase of a transformer is a set of `n` coupled single-phase windings. Winding `i` has two
//! ends (a *polarity* end and a *non-polarity* end); OpenDSS first builds the `2n × 2n` admittance
//! matrix of one phase over these winding ends (`Y_Terminal`), then lands the ends on the
//! conductors of the terminals, phase by phase.
//!
//! **Conductors.** Each winding is one terminal with `phases + 1` conductors: the phases, then the
//! winding's neutral, *also for delta windings* (whose neutral conductor is then unused).
//!
//! **Voltage base of winding `i`** (volts, the voltage across one winding):
//! `V_i = 1000·kV_i/√3` for a wye winding of a 2- or 3-phase transformer, else `V_i = 1000·kV_i`
//! (delta windings, single-phase transformers, and — as in OpenDSS — wye windings of transformers
//! with more than 3 phases).
//!
//! **Impedance base.** All per-unit data are on winding 1's rating: `S = 1000·kVA_1 / phases`
//! (VA per phase) and, on a one-volt base, `z_b = 1/S` ohm. The `%r` of every winding and every
//! short-circuit reactance `X_ij` (`x_sc_pct`) are percentages on this base; the kVA of the other
//! windings does not enter the matrix.
//!
//! **Short-circuit impedances** between winding 1 and winding `k+1` (`k = 1..n-1`) and their
//! mutual terms, on the one-volt base (`r_i = %r_i/100`, `x_ij = X_ij/100`, `f` = frequency
//! multiplier):
//!
//! ```text
//!   ZB[k][k] = (r_1 + r_{k+1} + j·f·x_{1,k+1}) · z_b
//!   ZB[k][l] = ( ZB[k][k] + ZB[l][l] − (r_{k+1} + r_{l+1} + j·f·x_{k+1,l+1})·z_b ) / 2
//! ```
//!
//! Inverting `ZB` and mapping it back to the `n` winding voltages with the incidence matrix
//! `A` (`(n−1) × n`, row `k`: `−1` on winding 1, `+1` on winding `k+1`) gives the one-volt
//! admittance of the windings, `Y_1V = Aᵀ · ZB⁻¹ · A` (each row sums to zero: a pure series
//! element). The no-load branch is a shunt across **winding 2** on the same base (OpenDSS places
//! it there, "closest to the core"):
//!
//! ```text
//!   Y_1V,NL[2][2] = (%noloadloss/100 − j·%imag/100 / f) / z_b
//! ```
//!
//! Each winding voltage on the one-volt base is `(V_polarity − V_nonpolarity) / (V_i·tap_i)`, so
//! with `B` (`n × 2n`, `B[i][2i] = 1/(V_i·tap_i)`, `B[i][2i+1] = −1/(V_i·tap_i)`)
//!
//! ```text
//!   Y_Terminal = Bᵀ · Y_1V · B            Y_Terminal,NL = Bᵀ · Y_1V,NL · B
//! ```
//!
//! (a tap of exactly 0 is taken as 0.0001). Taps are how regulators act: call [`transformer`]
//! again with the new `tap_pu`.
//!
//! **Anti-floating shunt.** With `ppm = ppm_antifloat·10⁻⁶ ≠ 0`, both ends of every winding get a
//! small admittance `j·y_ppm,i` on the diagonal of `Y_Terminal`, where
//! `y_ppm,i = −ppm / (V_i² / S) / 2` (a tiny inductive susceptance), so that a winding with no
//! path to ground still gives an invertible Y-bus.
//!
//! **Landing on conductors.** For phase `p`, winding `i` (terminal `i`, conductors
//! `i·(phases+1) ..`): a wye winding's ends are phase conductor `p` and the neutral conductor; a
//! delta winding's ends are phase `p` and the "next" phase `p ± 1` (wrapping around for 3 or more
//! phases; for 2 phases the next phase of phase 2 is conductor 3, which is the terminal's
//! neutral slot, as OpenDSS's open-delta convention has it). The direction is `+1` unless
//! windings 1 and 2 differ in connection and the higher-voltage one of them is delta
//! (ANSI: delta lags wye on the low side; OpenDSS's `LeadLag=ansi` default). Single-phase
//! transformers ignore the connection here: the ends are always conductors 1 and 2 of the
//! terminal (so an IEEE 37 open-delta regulator `buses=(799.1.2 ...)` spans nodes 1 and 2).
//! `Y_Terminal + Y_Terminal,NL` is added into `Yprim` once per phase.
//!
//! **Neutrals.** For each wye winding: `r_neutral_ohm < 0` leaves the neutral ungrounded (and,
//! with `ppm ≠ 0`, adds `j·y_ppm,i` once more to the neutral conductor); `r = x = 0` grounds it
//! through 10⁶ S; otherwise `1/(r + j·f·x)` is added from the neutral conductor to ground.
//!
//! **Frequency.** OpenDSS gives a transformer's reactances at the circuit's base frequency and
//! scales them by `f = frequency / base frequency` (resistances are not scaled). The model has no
//! per-transformer base frequency, so [`transformer`] takes the reactances as given at
//! `frequency_hz` (`f = 1`); [`transformer_at_frequency`] solves at another frequency.
//!
//! ## Worked example: a 2-winding single-phase transformer
//!
//! 50 kVA, 7.2 kV / 0.24 kV, `%r = 1` on each winding, `XHL = 2 %`. Then `S = 50 000 VA`,
//! `z_b = 2·10⁻⁵ Ω`, `ZB = (0.01 + 0.01 + j·0.02)·z_b = 4·10⁻⁷·(1 + j) Ω` and
//! `y = ZB⁻¹ = 1.25·10⁶·(1 − j) S`. On the 7.2 kV side this is
//! `y / 7200² = 0.024113·(1 − j) S` — the same as `(0.02 + j0.02)·7200²/50 000 = 20.736·(1 + j) Ω`
//! in series. The conductors are `[H1, H0, X1, X0]` and, leaving out the 1 ppm shunts,
//!
//! ```text
//!          ⎡  y/V₁²     −y/V₁²    −y/(V₁V₂)   y/(V₁V₂) ⎤
//!  Yprim = ⎢ −y/V₁²      y/V₁²     y/(V₁V₂)  −y/(V₁V₂) ⎥      V₁ = 7200, V₂ = 240
//!          ⎢ −y/(V₁V₂)   y/(V₁V₂)  y/V₂²     −y/V₂²    ⎥
//!          ⎣  y/(V₁V₂)  −y/(V₁V₂) −y/V₂²      y/V₂²    ⎦
//! ```
//!
//! ```
//! use vgrid_model::{BusRef, Connection, Transformer, Winding};
//! use vgrid_network::{prim::transformer::transformer, C64};
//!
//! let winding = |bus: &str, kv: f64| Winding {
//!     bus: BusRef::parse(bus),
//!     conn: Connection::Wye,
//!     kv,
//!     kva: 50.0,
//!     pct_r: 1.0,
//!     r_neutral_ohm: -1.0,
//!     x_neutral_ohm: 0.0,
//!     tap_pu: 1.0,
//!     min_tap_pu: 0.9,
//!     max_tap_pu: 1.1,
//!     num_taps: 32,
//! };
//! let t = Transformer {
//!     name: "t1".into(),
//!     phases: 1,
//!     windings: vec![winding("h.1.0", 7.2), winding("x.1.0", 0.24)],
//!     x_sc_pct: vec![2.0],
//!     pct_noload_loss: 0.0,
//!     pct_imag: 0.0,
//!     ppm_antifloat: 0.0,
//!     norm_hkva: 55.0,
//!     emerg_hkva: 75.0,
//!     bank: None,
//!     is_substation: false,
//!     enabled: true,
//! };
//! let prim = transformer(&t, 60.0).unwrap();
//! assert_eq!((prim.terminals, prim.conductors_per_terminal), (2, 2));
//! let y = C64::new(1.25e6, -1.25e6);
//! assert!((prim.y[(0, 0)] - y / (7200.0 * 7200.0)).norm() < 1e-12);
//! assert!((prim.y[(0, 2)] + y / (7200.0 * 240.0)).norm() < 1e-12);
//! assert!((prim.y[(3, 3)] - y / (240.0 * 240.0)).norm() < 1e-9);
//! ```

use super::Prim;
use crate::{CMatrix, NetworkError, C64};
use vgrid_model::{Connection, ElementKind, Transformer};

/// Admittance, siemens, OpenDSS uses for a solidly grounded neutral (`rneut = xneut = 0`).
const SOLID_GROUND_S: f64 = 1.0e6;

/// Solution frequencies below this are OpenDSS's GIC (quasi-dc) mode, not modelled here.
const MIN_FREQUENCY_HZ: f64 = 0.51;

/// Primitive admittance matrix of a transformer, as OpenDSS computes it (Transfrmr.pas CalcYPrim):
/// conductors_per_terminal = phases + 1 (the winding's neutral is the last conductor of each terminal,
/// also for delta windings, as in OpenDSS), terminals = windings.
///
/// The reactances (`x_sc_pct`, `x_neutral_ohm`) are taken as given at `frequency_hz`, i.e. the
/// frequency multiplier is 1; see [`transformer_at_frequency`] for other solution frequencies.
pub fn transformer(t: &Transformer, frequency_hz: f64) -> Result<Prim, NetworkError> {
    transformer_at_frequency(t, frequency_hz, frequency_hz)
}

/// [`transformer`] at solution frequency `frequency_hz` for reactances given at
/// `base_frequency_hz` (OpenDSS's element `BaseFrequency`): reactances scale by
/// `frequency_hz / base_frequency_hz`, the magnetising susceptance by its inverse.
pub fn transformer_at_frequency(
    t: &Transformer,
    base_frequency_hz: f64,
    frequency_hz: f64,
) -> Result<Prim, NetworkError> {
    check(t, base_frequency_hz, frequency_hz)?;
    let freq_mult = frequency_hz / base_frequency_hz;
    let n = t.windings.len();
    let phases = t.phases;
    let conductors = phases + 1;

    let va_per_phase = t.windings[0].kva * 1000.0 / phases as f64;
    let z_base_ohm = 1.0 / va_per_phase; // on a one-volt base
    let v_base_v: Vec<f64> = t
        .windings
        .iter()
        .map(|w| winding_voltage_base_v(w.conn, w.kv, phases))
        .collect();

    let y_one_volt = one_volt_admittance(t, z_base_ohm, freq_mult)?;
    let mut y_one_volt_noload = CMatrix::zeros(n, n);
    y_one_volt_noload[(1, 1)] = C64::new(
        t.pct_noload_loss / 100.0 / z_base_ohm,
        -t.pct_imag / 100.0 / z_base_ohm / freq_mult,
    );

    // Scale of winding i's voltage on the one-volt base: 1 / (V_i · tap_i).
    let scale: Vec<f64> = t
        .windings
        .iter()
        .zip(&v_base_v)
        .map(|(w, v)| 1.0 / (v * zero_tap_fix(w.tap_pu)))
        .collect();
    let mut y_term = terminal_admittance(&y_one_volt, &scale);
    let y_term_noload = terminal_admittance(&y_one_volt_noload, &scale);

    let ppm = t.ppm_antifloat * 1.0e-6;
    // Anti-floating susceptance of each winding, siemens (negative: inductive).
    let y_ppm: Vec<f64> = v_base_v
        .iter()
        .map(|v| -ppm / (v * v / va_per_phase) / 2.0)
        .collect();
    if ppm != 0.0 {
        for (i, &b) in y_ppm.iter().enumerate() {
            for end in [2 * i, 2 * i + 1] {
                y_term[(end, end)] += C64::new(0.0, b);
            }
        }
    }

    let ends = winding_ends(t, delta_direction(t));
    let order = n * conductors;
    let mut y_series = CMatrix::zeros(order, order);
    let mut y_shunt = CMatrix::zeros(order, order);
    for p in 0..phases {
        let phase_ends = &ends[p * 2 * n..(p + 1) * 2 * n];
        add_terminal_matrix(&mut y_series, &y_term, phase_ends);
        add_terminal_matrix(&mut y_shunt, &y_term_noload, phase_ends);
    }

    // Neutral impedances of wye windings.
    for (i, w) in t.windings.iter().enumerate() {
        if w.conn != Connection::Wye {
            continue;
        }
        let neutral = i * conductors + phases;
        if w.r_neutral_ohm >= 0.0 {
            let y = if w.r_neutral_ohm == 0.0 && w.x_neutral_ohm == 0.0 {
                C64::new(SOLID_GROUND_S, 0.0)
            } else {
                C64::new(1.0, 0.0) / C64::new(w.r_neutral_ohm, w.x_neutral_ohm * freq_mult)
            };
            y_series[(neutral, neutral)] += y;
        } else if ppm != 0.0 {
            y_series[(neutral, neutral)] += C64::new(0.0, y_ppm[i]);
        }
    }

    let mut y = y_series;
    for r in 0..order {
        for c in 0..order {
            y[(r, c)] += y_shunt[(r, c)];
        }
    }
    Ok(Prim {
        y,
        terminals: n,
        conductors_per_terminal: conductors,
    })
}

/// Every problem with the data that would make the matrix meaningless, as an error.
fn check(t: &Transformer, base_frequency_hz: f64, frequency_hz: f64) -> Result<(), NetworkError> {
    let fail = |message: String| {
        Err(NetworkError::element(
            ElementKind::Transformer,
            &t.name,
            message,
        ))
    };
    let n = t.windings.len();
    if t.phases == 0 {
        return fail("a transformer needs at least one phase".into());
    }
    if n < 2 {
        return fail(format!(
            "a transformer needs at least two windings, got {n}"
        ));
    }
    let expected = n * (n - 1) / 2;
    if t.x_sc_pct.len() != expected {
        return fail(format!(
            "{n} windings need {expected} short-circuit reactances (x_sc_pct), got {}",
            t.x_sc_pct.len()
        ));
    }
    if !(frequency_hz.is_finite() && frequency_hz >= MIN_FREQUENCY_HZ) {
        return fail(format!(
            "solution frequency {frequency_hz} Hz is not supported (needs >= {MIN_FREQUENCY_HZ} Hz)"
        ));
    }
    if !(base_frequency_hz.is_finite() && base_frequency_hz > 0.0) {
        return fail(format!(
            "base frequency {base_frequency_hz} Hz must be positive"
        ));
    }
    if !(t.windings[0].kva.is_finite() && t.windings[0].kva > 0.0) {
        return fail(format!(
            "winding 1 kVA must be positive, got {}",
            t.windings[0].kva
        ));
    }
    for (i, w) in t.windings.iter().enumerate() {
        if !(w.kv.is_finite() && w.kv > 0.0) {
            return fail(format!(
                "winding {} kV must be positive, got {}",
                i + 1,
                w.kv
            ));
        }
        if !w.tap_pu.is_finite() {
            return fail(format!("winding {} tap is not a number", i + 1));
        }
    }
    Ok(())
}

/// Voltage across one winding, volts, on which the winding's per-unit quantities are based.
fn winding_voltage_base_v(conn: Connection, kv: f64, phases: usize) -> f64 {
    match (conn, phases) {
        (Connection::Wye, 2 | 3) => kv * (1000.0 / 3f64.sqrt()),
        _ => kv * 1000.0,
    }
}

/// OpenDSS replaces a tap of exactly zero (which a regulator may try to set) by 0.0001.
fn zero_tap_fix(tap_pu: f64) -> f64 {
    if tap_pu == 0.0 {
        0.0001
    } else {
        tap_pu
    }
}

/// `Y_1V = Aᵀ · ZB⁻¹ · A`: the windings' admittance matrix on a one-volt, per-phase base.
fn one_volt_admittance(
    t: &Transformer,
    z_base_ohm: f64,
    freq_mult: f64,
) -> Result<CMatrix, NetworkError> {
    let n = t.windings.len();
    let r = |i: usize| t.windings[i].pct_r / 100.0;
    let x = |k: usize| t.x_sc_pct[k] / 100.0;
    let mut zb = CMatrix::zeros(n - 1, n - 1);
    for k in 0..n - 1 {
        zb[(k, k)] = C64::new(r(0) + r(k + 1), freq_mult * x(k)) * z_base_ohm;
    }
    // x_sc_pct after the first n-1 entries: pairs (2,3), (2,4), ..., (3,4), ...
    let mut pair = n - 1;
    for k in 0..n - 1 {
        for l in k + 1..n - 1 {
            let z_kl = C64::new(r(k + 1) + r(l + 1), freq_mult * x(pair)) * z_base_ohm;
            let m = (zb[(k, k)] + zb[(l, l)] - z_kl) * 0.5;
            zb[(k, l)] = m;
            zb[(l, k)] = m;
            pair += 1;
        }
    }
    let yb = zb.inverse().ok_or_else(|| {
        NetworkError::element(
            ElementKind::Transformer,
            &t.name,
            "singular short-circuit impedance matrix (check %r and x_sc_pct)",
        )
    })?;
    // Aᵀ · yb · A with A[k][0] = −1, A[k][k+1] = +1.
    let mut y = CMatrix::zeros(n, n);
    for k in 0..n - 1 {
        for l in 0..n - 1 {
            let v = yb[(k, l)];
            y[(k + 1, l + 1)] += v;
            y[(0, l + 1)] -= v;
            y[(k + 1, 0)] -= v;
            y[(0, 0)] += v;
        }
    }
    Ok(y)
}

/// `Bᵀ · Y · B`: from winding voltages on the one-volt base to the `2n` winding ends, where
/// winding `i`'s voltage is `scale[i] · (V_end(2i) − V_end(2i+1))`.
fn terminal_admittance(y: &CMatrix, scale: &[f64]) -> CMatrix {
    let n = scale.len();
    let mut out = CMatrix::zeros(2 * n, 2 * n);
    let sign = |end: usize| if end % 2 == 0 { 1.0 } else { -1.0 };
    for a in 0..2 * n {
        for b in 0..2 * n {
            let (i, j) = (a / 2, b / 2);
            out[(a, b)] = y[(i, j)] * (sign(a) * scale[i] * sign(b) * scale[j]);
        }
    }
    out
}

/// OpenDSS's delta direction: `+1`, or `−1` when windings 1 and 2 differ in connection and the
/// higher-voltage one of them is delta (ANSI: the high side leads).
fn delta_direction(t: &Transformer) -> isize {
    let (w1, w2) = (&t.windings[0], &t.windings[1]);
    if w1.conn == w2.conn {
        return 1;
    }
    let high = if w1.kv >= w2.kv { w1 } else { w2 };
    match high.conn {
        Connection::Wye => 1,
        Connection::Delta => -1,
    }
}

/// The conductor (0-based, over all terminals) each winding end lands on, ordered
/// phase-major: `ends[p·2n + 2i]` and `ends[p·2n + 2i + 1]` are the polarity and non-polarity
/// ends of winding `i` in phase `p` (OpenDSS's `TermRef`).
fn winding_ends(t: &Transformer, delta_direction: isize) -> Vec<usize> {
    let phases = t.phases;
    let conductors = phases + 1;
    let mut ends = Vec::with_capacity(2 * phases * t.windings.len());
    for p in 0..phases {
        for (i, w) in t.windings.iter().enumerate() {
            let first = i * conductors;
            ends.push(first + p);
            let other = if phases == 1 {
                first + phases
            } else {
                match w.conn {
                    Connection::Wye => first + phases,
                    Connection::Delta => first + next_phase(p, phases, delta_direction),
                }
            };
            ends.push(other);
        }
    }
    ends
}

/// The phase (0-based) a delta winding on phase `p` connects to (OpenDSS's `RotatePhases`):
/// wraps around for 3 or more phases; for 2 phases, "before phase 1" is the third conductor.
fn next_phase(p: usize, phases: usize, delta_direction: isize) -> usize {
    let mut q = p as isize + 1 + delta_direction; // 1-based, as OpenDSS
    if phases > 2 {
        if q > phases as isize {
            q = 1;
        }
        if q < 1 {
            q = phases as isize;
        }
    } else if q < 1 {
        q = 3;
    }
    (q - 1) as usize
}

/// Add a `2n × 2n` winding-end matrix into `y` through the conductor of each end, the way
/// OpenDSS's `AddElemSym` does over the lower triangle.
fn add_terminal_matrix(y: &mut CMatrix, y_term: &CMatrix, ends: &[usize]) {
    for a in 0..ends.len() {
        for b in 0..=a {
            let v = y_term[(a, b)];
            let (r, c) = (ends[a], ends[b]);
            y[(r, c)] += v;
            if r != c {
                y[(c, r)] += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vgrid_model::{BusRef, Winding};

    const CASES_JSON: &str = include_str!("../../tests/data/transformer/yprim.json");

    /// A minimal JSON reader, enough for the generator's output (objects, arrays, numbers,
    /// strings without escapes other than `\n` and `\"`, booleans, null).
    mod json {
        #[derive(Debug, Clone)]
        pub enum Value {
            Null,
            Bool(#[allow(dead_code)] bool),
            Num(f64),
            Str(String),
            Arr(Vec<Value>),
            Obj(Vec<(String, Value)>),
        }

        impl Value {
            pub fn get(&self, key: &str) -> &Value {
                match self {
                    Value::Obj(m) => m
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v)
                        .unwrap_or_else(|| panic!("missing key {key}")),
                    _ => panic!("not an object"),
                }
            }
            pub fn num(&self) -> f64 {
                match self {
                    Value::Num(x) => *x,
                    _ => panic!("not a number: {self:?}"),
                }
            }
            pub fn str(&self) -> &str {
                match self {
                    Value::Str(s) => s,
                    _ => panic!("not a string"),
                }
            }
            pub fn arr(&self) -> &[Value] {
                match self {
                    Value::Arr(a) => a,
                    _ => panic!("not an array"),
                }
            }
            pub fn nums(&self) -> Vec<f64> {
                self.arr().iter().map(Value::num).collect()
            }
        }

        pub fn parse(text: &str) -> Value {
            let mut p = Parser {
                s: text.as_bytes(),
                i: 0,
            };
            let v = p.value();
            p.ws();
            assert_eq!(p.i, p.s.len(), "trailing characters");
            v
        }

        struct Parser<'a> {
            s: &'a [u8],
            i: usize,
        }

        impl Parser<'_> {
            fn ws(&mut self) {
                while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                    self.i += 1;
                }
            }
            fn eat(&mut self, c: u8) -> bool {
                self.ws();
                if self.s.get(self.i) == Some(&c) {
                    self.i += 1;
                    true
                } else {
                    false
                }
            }
            fn value(&mut self) -> Value {
                self.ws();
                match self.s[self.i] {
                    b'{' => {
                        self.i += 1;
                        let mut m = Vec::new();
                        if !self.eat(b'}') {
                            loop {
                                self.ws();
                                let k = self.string();
                                assert!(self.eat(b':'));
                                m.push((k, self.value()));
                                if self.eat(b'}') {
                                    break;
                                }
                                assert!(self.eat(b','));
                            }
                        }
                        Value::Obj(m)
                    }
                    b'[' => {
                        self.i += 1;
                        let mut a = Vec::new();
                        if !self.eat(b']') {
                            loop {
                                a.push(self.value());
                                if self.eat(b']') {
                                    break;
                                }
                                assert!(self.eat(b','));
                            }
                        }
                        Value::Arr(a)
                    }
                    b'"' => Value::Str(self.string()),
                    b't' => self.word("true", Value::Bool(true)),
                    b'f' => self.word("false", Value::Bool(false)),
                    b'n' => self.word("null", Value::Null),
                    _ => {
                        let start = self.i;
                        while self.i < self.s.len()
                            && matches!(
                                self.s[self.i],
                                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                            )
                        {
                            self.i += 1;
                        }
                        let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                        Value::Num(t.parse().unwrap_or_else(|_| panic!("bad number {t}")))
                    }
                }
            }
            fn word(&mut self, w: &str, v: Value) -> Value {
                assert!(self.s[self.i..].starts_with(w.as_bytes()));
                self.i += w.len();
                v
            }
            fn string(&mut self) -> String {
                assert_eq!(self.s[self.i], b'"');
                self.i += 1;
                let mut out = Vec::new();
                while self.s[self.i] != b'"' {
                    if self.s[self.i] == b'\\' {
                        self.i += 1;
                        out.push(match self.s[self.i] {
                            b'n' => b'\n',
                            c => c,
                        });
                    } else {
                        out.push(self.s[self.i]);
                    }
                    self.i += 1;
                }
                self.i += 1;
                String::from_utf8(out).unwrap()
            }
        }
    }

    fn winding(bus: &str, conn: Connection, kv: f64, kva: f64, pct_r: f64) -> Winding {
        Winding {
            bus: BusRef::parse(bus),
            conn,
            kv,
            kva,
            pct_r,
            r_neutral_ohm: -1.0,
            x_neutral_ohm: 0.0,
            tap_pu: 1.0,
            min_tap_pu: 0.9,
            max_tap_pu: 1.1,
            num_taps: 32,
        }
    }

    fn model_from_case(case: &json::Value) -> Transformer {
        let windings = case
            .get("windings")
            .arr()
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let conn = match w.get("conn").str() {
                    "delta" => Connection::Delta,
                    _ => Connection::Wye,
                };
                let mut wdg = winding(
                    &format!("b{i}"),
                    conn,
                    w.get("kv").num(),
                    w.get("kva").num(),
                    w.get("pct_r").num(),
                );
                wdg.r_neutral_ohm = w.get("r_neutral_ohm").num();
                wdg.x_neutral_ohm = w.get("x_neutral_ohm").num();
                wdg.tap_pu = w.get("tap_pu").num();
                wdg
            })
            .collect();
        Transformer {
            name: case.get("name").str().to_string(),
            phases: case.get("phases").num() as usize,
            windings,
            x_sc_pct: case.get("x_sc_pct").nums(),
            pct_noload_loss: case.get("pct_noload_loss").num(),
            pct_imag: case.get("pct_imag").num(),
            ppm_antifloat: case.get("ppm_antifloat").num(),
            norm_hkva: 0.0,
            emerg_hkva: 0.0,
            bank: None,
            is_substation: false,
            enabled: true,
        }
    }

    /// Errors of our matrix against OpenDSS's for one case: `(max |ΔY| / max |Y|, worst
    /// entry-wise relative error max |ΔY_ij| / |Y_ij| over the nonzero entries)`; entries that
    /// are zero in OpenDSS must be zero here too.
    fn errors(case: &json::Value) -> (f64, f64) {
        let t = model_from_case(case);
        let base_hz = case.get("base_frequency_hz").num();
        let solve_hz = match case {
            json::Value::Obj(m) => m
                .iter()
                .find(|(k, _)| k == "solve_frequency_hz")
                .map_or(base_hz, |(_, v)| v.num()),
            _ => unreachable!(),
        };
        let prim = transformer_at_frequency(&t, base_hz, solve_hz).unwrap();
        let (re, im) = (case.get("yprim_re").nums(), case.get("yprim_im").nums());
        let order = prim.terminals * prim.conductors_per_terminal;
        assert_eq!(
            prim.conductors_per_terminal,
            case.get("conductors_per_terminal").num() as usize
        );
        assert_eq!(re.len(), order * order, "{}", t.name);
        let (mut max_y, mut max_dy, mut max_rel) = (0.0f64, 0.0f64, 0.0f64);
        for r in 0..order {
            for c in 0..order {
                let dss = C64::new(re[r * order + c], im[r * order + c]);
                let dy = (prim.y[(r, c)] - dss).norm();
                max_y = max_y.max(dss.norm());
                max_dy = max_dy.max(dy);
                if dss.norm() > 0.0 {
                    max_rel = max_rel.max(dy / dss.norm());
                } else {
                    assert_eq!(prim.y[(r, c)].norm(), 0.0, "{} ({r}, {c})", t.name);
                }
            }
        }
        (max_dy / max_y, max_rel)
    }

    #[test]
    fn matches_opendss_yprim_on_every_reference_case() {
        let doc = json::parse(CASES_JSON);
        let cases = doc.get("cases").arr();
        assert!(cases.len() >= 20);
        let (mut worst, mut worst_entry) = (0.0f64, 0.0f64);
        for case in cases {
            let name = case.get("name").str();
            let (e, e_entry) = errors(case);
            eprintln!("{name:<24} max|dY|/max|Y| = {e:.1e}   max|dYij|/|Yij| = {e_entry:.1e}");
            assert!(e <= 1e-10, "{name}: max|dY|/max|Y| = {e:e}");
            assert!(e_entry <= 1e-9, "{name}: max|dYij|/|Yij| = {e_entry:e}");
            worst = worst.max(e);
            worst_entry = worst_entry.max(e_entry);
        }
        eprintln!("worst: max|dY|/max|Y| = {worst:e}, max|dYij|/|Yij| = {worst_entry:e}");
    }

    fn single_phase(tap_pu: f64) -> Transformer {
        let mut w2 = winding("x.1", Connection::Wye, 0.24, 50.0, 1.0);
        w2.tap_pu = tap_pu;
        Transformer {
            name: "t".into(),
            phases: 1,
            windings: vec![winding("h.1", Connection::Wye, 7.2, 50.0, 1.0), w2],
            x_sc_pct: vec![2.0],
            pct_noload_loss: 0.0,
            pct_imag: 0.0,
            ppm_antifloat: 0.0,
            norm_hkva: 55.0,
            emerg_hkva: 75.0,
            bank: None,
            is_substation: false,
            enabled: true,
        }
    }

    #[test]
    fn series_element_without_shunts_has_zero_row_sums() {
        let prim = transformer(&single_phase(1.0), 60.0).unwrap();
        for r in 0..4 {
            let s: C64 = (0..4).map(|c| prim.y[(r, c)]).sum();
            assert!(s.norm() < 1e-9 * prim.y[(r, r)].norm(), "row {r}: {s}");
        }
    }

    #[test]
    fn tap_scales_the_winding_admittance() {
        let a = transformer(&single_phase(1.0), 60.0).unwrap();
        let b = transformer(&single_phase(1.1), 60.0).unwrap();
        // Winding 2's self admittance goes as 1/tap², the coupling as 1/tap.
        assert!((b.y[(2, 2)] * 1.21 - a.y[(2, 2)]).norm() < 1e-9 * a.y[(2, 2)].norm());
        assert!((b.y[(0, 2)] * 1.1 - a.y[(0, 2)]).norm() < 1e-12 * a.y[(0, 2)].norm());
        assert_eq!(a.y[(0, 0)], b.y[(0, 0)]);
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        let mut t = single_phase(1.0);
        t.x_sc_pct = vec![2.0, 3.0];
        assert!(transformer(&t, 60.0).is_err());
        let mut t = single_phase(1.0);
        t.windings.truncate(1);
        t.x_sc_pct.clear();
        assert!(transformer(&t, 60.0).is_err());
        let mut t = single_phase(1.0);
        t.windings[0].pct_r = 0.0;
        t.windings[1].pct_r = 0.0;
        t.x_sc_pct = vec![0.0];
        assert!(transformer(&t, 60.0).is_err());
        let mut t = single_phase(1.0);
        t.windings[1].kv = 0.0;
        assert!(transformer(&t, 60.0).is_err());
        assert!(transformer(&single_phase(1.0), 0.0).is_err());
    }
}
