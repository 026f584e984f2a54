//! The per-step branch currents of many lines at once, a few lines side by side.
//!
//! A study needs, at every step and for every line, the currents `Yprim·V` into its
//! conductors, and from them three numbers: its losses `Re Σ V·conj(I)`, the power into
//! terminal 1 `Re Σ_{k<c} V·conj(I)`, and its loading, the largest `|I|²/I_rated²`. A line's
//! `Yprim = [[A, B], [B, A]]` is kept as `S = (A + B)/2`, `D = (A − B)/2` (see
//! `SymmetricPrim` in the parent module): with `Σ = V₁ + V₂` and `Δ = V₁ − V₂`,
//! `I₁ = S·Σ + D·Δ` and `I₂ = S·Σ − D·Δ`.
//!
//! One line at a time, that is a few dozen complex products behind a chain of branches
//! (which conductor count, is there shunt admittance, is the terminal rated). Here the lines
//! with the same number of conductors per terminal `c` and the same *form* of `S` and `D`
//! are stored side by side, [`LANES`] of them in a chunk, every coefficient as an array over
//! the chunk's lines (real and imaginary parts apart):
//!
//! ```text
//! d_re[chunk·c² + k·c + j] = [Re D_kj of the chunk's first line, of its second line]
//! ```
//!
//! so that every operation of the one-line formula is one operation on the chunk's lines, one
//! vector instruction (two lanes of `f64` fill an SSE2 register, which every x86-64 has; four
//! lanes measured slower: the compiler runs out of registers). The conductor loops have a
//! fixed length (`c` is a const parameter), so no branch is left but the loop over chunks.
//!
//! The form says which products can be left out. `S` is zero (no shunt admittance), purely
//! imaginary (shunt capacitance), purely imaginary and diagonal (no capacitive coupling
//! between phases), or anything; `D` is diagonal (no mutual coupling, as SimBench's lines) or
//! not. With finite voltages, a product with a zero factor is `±0`, and adding `±0` to a sum
//! that started from `+0` (so is never `−0`) leaves it as it was; a purely imaginary `s`
//! gives `s·Σ = (±0 − s″·Σ″) + j(±0 + s″·Σ′)`, which adds to a sum as `− s″·Σ″` and
//! `+ s″·Σ′`. So a three-conductor SimBench cable needs 3 complex products of `D·Δ` and 6
//! real ones of `S·Σ` instead of 18 complex products. A chunk whose voltage sums or
//! differences are not all finite (a diverged step) takes every product instead.
//!
//! The results are bit for bit those of the one-line code: every value goes through the same
//! operations in the same order (complex products as `num_complex` forms them, sums started
//! from zero and taken conductor by conductor, the first largest loading kept on ties). A
//! chunk's unused lanes compute on zeros and are not read.
//!
//! On SimBench 1-MV-urban (147 three-conductor cables, `D` diagonal, `S` imaginary and
//! diagonal) the batch costs ~32 k instructions per step; the element statistics cost ~120 k
//! per step when the lines went one at a time through the full products.
//!
//! A batch also does what the caller did next for every line at every step: it sums the
//! energies (`losses += loss · Δt`, `through += |P₁| · Δt`, the same operations lane by lane)
//! and tests the loading against the line's quiet bound (set by the caller after each step it
//! handed on). Only the lines above their bound (a new peak, an overload, an episode going
//! on; NaN) are handed back, so a quiet line costs the caller nothing. When the caller knows
//! every node voltage finite with a finite `|V|²` (its node pass sees them all), the sums
//! and differences of two voltages are finite and the shortened forms skip their check.
//! The chunks' coefficients, nodes and state are walked as slices of known length (no
//! bounds checks in the arithmetic), and a batch whose terminals' nodes are numbered in a row
//! (`bus.1.2.3`) reads each terminal as one slice. IEEE 123 (126 lines in six batches, 66
//! chunks): ~30 k → ~22 k instructions per step for the batches and the per-line pass they
//! replace.

use vgrid_network::C64;

use super::lanes::{L, LANES};

/// The lines' results of one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct LineStep {
    /// `Re Σ V·conj(I)` over all conductors, W.
    pub loss_w: f64,
    /// `Re Σ V·conj(I)` over terminal 1's conductors, W.
    pub p1_w: f64,
    /// `(|I|²/I_rated², |I|², I_rated)` of the first largest loading over both terminals'
    /// conductors (`(0, 0, first rating)` when no conductor is above zero or the line is
    /// unrated).
    pub worst: (f64, f64, f64),
}

/// One line as the batch takes it.
#[derive(Debug, Clone)]
pub(super) struct LineSpec {
    /// Index of the line in the caller's table (where its results go).
    pub element: usize,
    /// System node index of each of its `2c` conductors (terminal 1, then terminal 2).
    pub nodes: Vec<usize>,
    /// `S` and `D`, row-major `c × c`.
    pub s: Vec<C64>,
    pub d: Vec<C64>,
    /// `S` is zero (no shunt admittance): `S·Σ` is not formed.
    pub s_zero: bool,
    /// `1 / I_rated²` (0: unrated), the rating, A, and the rating standing for the line when
    /// no conductor carries current (NaN when unrated).
    pub inv_rated2: f64,
    pub rated_a: f64,
    pub first_rated_a: f64,
}

/// What is known of a batch's `S` (the same for all its lines), which decides the terms
/// `S·Σ` needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SForm {
    /// Zero (no shunt admittance): `P = 0`, not formed.
    Zero,
    /// Purely imaginary and diagonal (shunt capacitance without coupling between phases).
    ImagDiagonal,
    /// Purely imaginary.
    Imag,
    /// Anything else.
    Full,
}

impl SForm {
    fn of(line: &LineSpec, c: usize) -> SForm {
        let zero = C64::new(0.0, 0.0);
        if line.s_zero {
            SForm::Zero
        } else if line.s.iter().any(|x| x.re != 0.0) {
            SForm::Full
        } else if off_diagonal_zero(&line.s, c) {
            SForm::ImagDiagonal
        } else {
            debug_assert!(line.s.iter().any(|x| *x != zero));
            SForm::Imag
        }
    }

    /// As a const parameter.
    const fn code(self) -> u8 {
        self as u8
    }
}

const S_ZERO: u8 = SForm::Zero.code();
const S_IMAG_DIAGONAL: u8 = SForm::ImagDiagonal.code();
const S_IMAG: u8 = SForm::Imag.code();
const S_FULL: u8 = SForm::Full.code();

/// Every entry of the `c × c` matrix `m` off its diagonal is zero.
fn off_diagonal_zero(m: &[C64], c: usize) -> bool {
    (0..c).all(|k| (0..c).all(|j| k == j || m[k * c + j] == C64::new(0.0, 0.0)))
}

/// Lines of `c` conductors per terminal whose `S` and `D` have the same form, [`LANES`] per
/// chunk.
#[derive(Debug, Clone)]
pub(super) struct LineBatch {
    c: usize,
    s_form: SForm,
    /// `D` is diagonal for every line (phases without mutual coupling).
    d_diagonal: bool,
    /// `[chunk · 2c + conductor]`: node index of each lane.
    nodes: Vec<[usize; LANES]>,
    /// `[chunk · 2 + terminal]`: the first node of each lane's terminal, when every terminal
    /// of the batch is on `c` nodes that follow one another (`bus.1.2.3` numbered in a row):
    /// a terminal's voltages are then one slice (one bounds check, not `c`).
    starts: Option<Vec<[usize; LANES]>>,
    /// `[chunk · c² + k·c + j]`.
    s_re: Vec<L>,
    s_im: Vec<L>,
    d_re: Vec<L>,
    d_im: Vec<L>,
    /// `[chunk]`: ratings, results and energies.
    state: Vec<ChunkState>,
}

/// A chunk's lines apart from their coefficients: ratings, the last step's results, energies.
#[derive(Debug, Clone, Copy)]
struct ChunkState {
    inv_rated2: L,
    rated_a: L,
    first_rated_a: L,
    /// The last step's results.
    out: ChunkStep,
    /// Each line's energies so far, kWh: `Σ loss · Δt` and `Σ |P at terminal 1| · Δt`, summed
    /// here as the caller would, so that a quiet line costs the caller nothing.
    losses_kwh: L,
    through_kwh: L,
    /// Each line's quiet bound, set by the caller ([`LineBatch::set_quiet2`]): a step whose
    /// loading `|I|²/I_rated²` is at or below it is only summed into the energies; the others
    /// are handed to the caller. −∞ (every step handed on) until set.
    quiet2: L,
    /// A bit per lane holding a line.
    used: u8,
}

/// A chunk's results: `(loss, p1, worst ratio², worst |I|², worst rating)` per lane.
#[derive(Debug, Clone, Copy)]
struct ChunkStep([L; 5]);

impl LineBatch {
    /// The batches of `lines` (each of 1 to 4 conductors per terminal): one per conductor count
    /// and form of `S` and `D`, and where each line's results are: `(element, batch, slot)`
    /// for [`LineBatch::result`]. Unused lanes point at the first line's first node with
    /// zero coefficients.
    pub(super) fn of(lines: &[LineSpec]) -> (Vec<LineBatch>, Vec<(usize, usize, usize)>) {
        let form = |l: &LineSpec| {
            let c = l.nodes.len() / 2;
            (c, SForm::of(l, c), off_diagonal_zero(&l.d, c))
        };
        let mut forms: Vec<(usize, SForm, bool)> = lines.iter().map(form).collect();
        forms.sort();
        forms.dedup();
        let mut batches = Vec::new();
        let mut places = Vec::new();
        for f in forms {
            let group: Vec<&LineSpec> = lines.iter().filter(|l| form(l) == f).collect();
            for (slot, l) in group.iter().enumerate() {
                places.push((l.element, batches.len(), slot));
            }
            batches.push(LineBatch::new(f.0, f.1, f.2, &group));
        }
        (batches, places)
    }

    /// The last step's results of the line in `slot` (its place in the batch).
    #[inline]
    pub(super) fn result(&self, slot: usize) -> LineStep {
        let (chunk, lane) = (slot / LANES, slot % LANES);
        let o = &self.state[chunk].out.0;
        LineStep {
            loss_w: o[0].0[lane],
            p1_w: o[1].0[lane],
            worst: (o[2].0[lane], o[3].0[lane], o[4].0[lane]),
        }
    }

    fn new(c: usize, s_form: SForm, d_diagonal: bool, lines: &[&LineSpec]) -> LineBatch {
        assert!((1..=4).contains(&c), "1 to 4 conductors per terminal");
        let chunks = lines.len().div_ceil(LANES);
        let spare_node = lines.first().map_or(0, |l| l.nodes[0]);
        let mut b = LineBatch {
            c,
            s_form,
            d_diagonal,
            nodes: vec![[spare_node; LANES]; chunks * 2 * c],
            starts: None,
            s_re: vec![L::ZERO; chunks * c * c],
            s_im: vec![L::ZERO; chunks * c * c],
            d_re: vec![L::ZERO; chunks * c * c],
            d_im: vec![L::ZERO; chunks * c * c],
            state: vec![
                ChunkState {
                    inv_rated2: L::ZERO,
                    rated_a: L::ZERO,
                    first_rated_a: L::splat(f64::NAN),
                    out: ChunkStep([L::ZERO; 5]),
                    losses_kwh: L::ZERO,
                    through_kwh: L::ZERO,
                    // unused lanes: never handed on (at finite voltages)
                    quiet2: L::splat(f64::INFINITY),
                    used: 0,
                };
                chunks
            ],
        };
        let in_a_row = |t: &[usize]| t.windows(2).all(|w| w[1] == w[0] + 1);
        if c > 1 && lines.iter().all(|l| l.nodes.chunks(c).all(in_a_row)) {
            let mut starts = vec![[spare_node; LANES]; chunks * 2];
            for (n, line) in lines.iter().enumerate() {
                for t in 0..2 {
                    starts[n / LANES * 2 + t][n % LANES] = line.nodes[t * c];
                }
            }
            b.starts = Some(starts);
        }
        for (n, line) in lines.iter().enumerate() {
            assert!(line.nodes.len() == 2 * c && line.s.len() == c * c && line.d.len() == c * c);
            let (chunk, lane) = (n / LANES, n % LANES);
            for (k, &node) in line.nodes.iter().enumerate() {
                b.nodes[chunk * 2 * c + k][lane] = node;
            }
            for (k, (s, d)) in line.s.iter().zip(&line.d).enumerate() {
                let at = chunk * c * c + k;
                b.s_re[at].0[lane] = s.re;
                b.s_im[at].0[lane] = s.im;
                b.d_re[at].0[lane] = d.re;
                b.d_im[at].0[lane] = d.im;
            }
            let st = &mut b.state[chunk];
            st.inv_rated2.0[lane] = line.inv_rated2;
            st.rated_a.0[lane] = line.rated_a;
            st.first_rated_a.0[lane] = line.first_rated_a;
            st.used |= 1 << lane;
            st.quiet2.0[lane] = f64::NEG_INFINITY;
        }
        b
    }

    /// The line in `slot`'s energies so far, kWh: `(losses, through terminal 1)`.
    pub(super) fn energies_kwh(&self, slot: usize) -> (f64, f64) {
        let (chunk, lane) = (slot / LANES, slot % LANES);
        let st = &self.state[chunk];
        (st.losses_kwh.0[lane], st.through_kwh.0[lane])
    }

    /// Set the quiet bound of the line in `slot` (see [`LineBatch::evaluate`]).
    #[inline]
    pub(super) fn set_quiet2(&mut self, slot: usize, quiet2: f64) {
        self.state[slot / LANES].quiet2.0[slot % LANES] = quiet2;
    }

    /// Every line's [`LineStep`] at node voltages `v` (then read with [`LineBatch::result`]),
    /// its energies summed (`kwh_per_w`: the step's kWh per W); `loud` is given the slot of
    /// each line whose loading is above its quiet bound (or NaN), in slot order. `bounded`:
    /// the caller knows every voltage of `v` finite with a finite `|V|²`, so that every sum
    /// and difference of two is finite and the shortened forms need no check.
    pub(super) fn evaluate(
        &mut self,
        v: &[C64],
        bounded: bool,
        kwh_per_w: f64,
        loud: impl FnMut(usize),
    ) {
        match self.c {
            1 => self.evaluate_c::<1>(v, bounded, kwh_per_w, loud),
            2 => self.evaluate_c::<2>(v, bounded, kwh_per_w, loud),
            3 => self.evaluate_c::<3>(v, bounded, kwh_per_w, loud),
            _ => self.evaluate_c::<4>(v, bounded, kwh_per_w, loud),
        }
    }

    fn evaluate_c<const C: usize>(&mut self, v: &[C64], b: bool, k: f64, loud: impl FnMut(usize)) {
        match (self.s_form, self.d_diagonal) {
            (SForm::Zero, false) => self.evaluate_form::<C, S_ZERO, false>(v, b, k, loud),
            (SForm::Zero, true) => self.evaluate_form::<C, S_ZERO, true>(v, b, k, loud),
            (SForm::ImagDiagonal, false) => {
                self.evaluate_form::<C, S_IMAG_DIAGONAL, false>(v, b, k, loud)
            }
            (SForm::ImagDiagonal, true) => {
                self.evaluate_form::<C, S_IMAG_DIAGONAL, true>(v, b, k, loud)
            }
            (SForm::Imag, false) => self.evaluate_form::<C, S_IMAG, false>(v, b, k, loud),
            (SForm::Imag, true) => self.evaluate_form::<C, S_IMAG, true>(v, b, k, loud),
            (SForm::Full, false) => self.evaluate_form::<C, S_FULL, false>(v, b, k, loud),
            (SForm::Full, true) => self.evaluate_form::<C, S_FULL, true>(v, b, k, loud),
        }
    }

    fn evaluate_form<const C: usize, const S: u8, const D_DIAGONAL: bool>(
        &mut self,
        v: &[C64],
        bounded: bool,
        kwh_per_w: f64,
        mut loud: impl FnMut(usize),
    ) {
        let kwh_per_w = L::splat(kwh_per_w);
        let cc = C * C;
        // the chunks' coefficients, nodes and state side by side (slices of known length:
        // no bounds checks in the arithmetic)
        let coefs = (self.s_re.chunks_exact(cc).zip(self.s_im.chunks_exact(cc)))
            .zip(self.d_re.chunks_exact(cc).zip(self.d_im.chunks_exact(cc)))
            .map(|((s_re, s_im), (d_re, d_im))| Coefs {
                s_re,
                s_im,
                d_re,
                d_im,
            });
        let starts = self.starts.as_deref();
        let chunks = coefs
            .zip(self.nodes.chunks_exact(2 * C))
            .zip(self.state.iter_mut())
            .enumerate();
        for (chunk, ((co, nodes), st)) in chunks {
            let (vr, vi) = match starts {
                Some(starts) => gather_in_a_row::<C>(&starts[chunk * 2..chunk * 2 + 2], v),
                None => gather::<C>(nodes, v),
            };
            // the shortened forms drop products with a zero factor, which leave a sum as it
            // is only when the other factor is finite: else every product is formed
            let out = if bounded {
                chunk_step::<C, S, D_DIAGONAL, false>(&co, st, &vr, &vi)
            } else {
                match chunk_step::<C, S, D_DIAGONAL, true>(&co, st, &vr, &vi) {
                    Some(r) => Some(r),
                    None if S == S_ZERO => chunk_step::<C, S_ZERO, false, true>(&co, st, &vr, &vi),
                    None => chunk_step::<C, S_FULL, false, true>(&co, st, &vr, &vi),
                }
            }
            .unwrap_or(ChunkStep([L::splat(f64::NAN); 5]));
            // the caller's `e.losses_kwh += loss_w * kwh_per_w`, `e.through_kwh +=
            // p1_w.abs() * kwh_per_w` and `if worst.0 <= e.quiet2 { continue }`, lane by lane
            st.out = out;
            let [loss, p1, w0, ..] = out.0;
            st.losses_kwh = st.losses_kwh + loss * kwh_per_w;
            st.through_kwh = st.through_kwh + p1.abs() * kwh_per_w;
            if !w0.all_at_most(st.quiet2) {
                for l in 0..LANES {
                    // above the bound, or NaN
                    let quiet = w0.0[l] <= st.quiet2.0[l];
                    if !quiet && st.used & (1 << l) != 0 {
                        loud(chunk * LANES + l);
                    }
                }
            }
        }
    }
}

/// A chunk's coefficients, `C × C` each.
struct Coefs<'a> {
    s_re: &'a [L],
    s_im: &'a [L],
    d_re: &'a [L],
    d_im: &'a [L],
}

/// A chunk's conductor voltages, lanes side by side, from the nodes of each conductor.
#[inline(always)]
fn gather<const C: usize>(nodes: &[[usize; LANES]], v: &[C64]) -> ([L; 8], [L; 8]) {
    let (mut vr, mut vi) = ([L::ZERO; 8], [L::ZERO; 8]);
    for (n, idx) in nodes.iter().take(2 * C).enumerate() {
        let x: [C64; LANES] = std::array::from_fn(|l| v[idx[l]]);
        vr[n] = L(std::array::from_fn(|l| x[l].re));
        vi[n] = L(std::array::from_fn(|l| x[l].im));
    }
    (vr, vi)
}

/// The same from the first node of each terminal (`[terminal 1, terminal 2]`), its nodes in
/// a row.
#[inline(always)]
fn gather_in_a_row<const C: usize>(starts: &[[usize; LANES]], v: &[C64]) -> ([L; 8], [L; 8]) {
    let (mut vr, mut vi) = ([L::ZERO; 8], [L::ZERO; 8]);
    for (t, first) in starts.iter().take(2).enumerate() {
        let x: [&[C64]; LANES] = std::array::from_fn(|l| &v[first[l]..first[l] + C]);
        for k in 0..C {
            vr[t * C + k] = L(std::array::from_fn(|l| x[l][k].re));
            vi[t * C + k] = L(std::array::from_fn(|l| x[l][k].im));
        }
    }
    (vr, vi)
}

/// One chunk: `(loss, p1, worst ratio², worst |I|², worst rating)` per lane; `None` when
/// a shortened form meets a voltage sum or difference that is not finite (looked at with
/// `CHECK` only: without, the caller knows them finite).
///
/// The one-line formula term by term: every complex product as `num_complex` forms it,
/// `(a·c − b·d) + j(a·d + b·c)`, every sum from zero, conductor by conductor. With `S`
/// of form `S` and a diagonal `D`, the products with a zero factor are left out: with
/// finite voltages such a product is `±0`, and adding `±0` to a sum that started from
/// `+0` (so is never `−0`) leaves it unchanged; a purely imaginary `s` gives
/// `s·Σ = (±0 − s″·Σ″) + j(±0 + s″·Σ′)`, which adds to a sum as `− s″·Σ″` and `+ s″·Σ′`.
#[inline(always)]
fn chunk_step<const C: usize, const S: u8, const D_DIAGONAL: bool, const CHECK: bool>(
    co: &Coefs<'_>,
    st: &ChunkState,
    vr: &[L; 8],
    vi: &[L; 8],
) -> Option<ChunkStep> {
    // Σ = V₁ + V₂, Δ = V₁ − V₂
    let (mut sr, mut si, mut dr, mut di) = ([L::ZERO; 4], [L::ZERO; 4], [L::ZERO; 4], [L::ZERO; 4]);
    for j in 0..C {
        dr[j] = vr[j] - vr[j + C];
        di[j] = vi[j] - vi[j + C];
        if S != S_ZERO {
            sr[j] = vr[j] + vr[j + C];
            si[j] = vi[j] + vi[j + C];
        }
    }
    let shortened = D_DIAGONAL || S == S_IMAG || S == S_IMAG_DIAGONAL;
    if CHECK && shortened && !(finite::<C>(&dr, &di) && finite::<C>(&sr, &si)) {
        return None;
    }
    let (d_re, d_im) = (&co.d_re[..C * C], &co.d_im[..C * C]);
    let (s_re, s_im) = (&co.s_re[..C * C], &co.s_im[..C * C]);
    // I₁ = P + Q, I₂ = P − Q with P = S·Σ (zero without shunt), Q = D·Δ
    let (mut ir, mut ii) = ([L::ZERO; 8], [L::ZERO; 8]);
    for k in 0..C {
        let (mut qr, mut qi, mut pr, mut pi) = (L::ZERO, L::ZERO, L::ZERO, L::ZERO);
        for j in 0..C {
            let at = k * C + j;
            if !D_DIAGONAL || j == k {
                let (ar, ai) = (d_re[at], d_im[at]);
                qr = qr + (ar * dr[j] - ai * di[j]);
                qi = qi + (ar * di[j] + ai * dr[j]);
            }
            match S {
                S_FULL => {
                    let (ar, ai) = (s_re[at], s_im[at]);
                    pr = pr + (ar * sr[j] - ai * si[j]);
                    pi = pi + (ar * si[j] + ai * sr[j]);
                }
                S_IMAG => {
                    pr = pr - s_im[at] * si[j];
                    pi = pi + s_im[at] * sr[j];
                }
                S_IMAG_DIAGONAL if j == k => {
                    pr = pr - s_im[at] * si[j];
                    pi = pi + s_im[at] * sr[j];
                }
                _ => {}
            }
        }
        ir[k] = pr + qr;
        ii[k] = pi + qi;
        ir[k + C] = pr - qr;
        ii[k + C] = pi - qi;
    }
    // Re V·conj(I) = Re V · Re I − Im V · (−Im I), summed from zero conductor by conductor
    let (mut loss, mut p1) = (L::ZERO, L::ZERO);
    for n in 0..2 * C {
        let s = vr[n] * ir[n] - vi[n] * -ii[n];
        loss = loss + s;
        if n < C {
            p1 = p1 + s;
        }
    }
    // the first largest |I|²/I_rated²: terminal 1's conductors, then terminal 2's (an
    // unrated line has inv2 = 0: 0 or NaN, never above w0 ≥ 0)
    let inv2 = st.inv_rated2;
    let (mut w0, mut w1) = (L::ZERO, L::ZERO);
    for n in 0..2 * C {
        let i2 = ir[n] * ir[n] + ii[n] * ii[n];
        let r2 = i2 * inv2;
        w1 = r2.gt_select(w0, i2, w1);
        w0 = r2.gt_select(w0, r2, w0);
    }
    // both terminals have the line's rating: it is the rating of the largest loading
    // when there is one (w0 > 0), else the first rating stands
    let w2 = w0.gt_select(L::ZERO, st.rated_a, st.first_rated_a);
    Some(ChunkStep([loss, p1, w0, w1, w2]))
}

/// The first `C` entries of `re` and `im` are finite in every lane (`x · 0` is `±0` for a
/// finite `x`, NaN else).
#[inline(always)]
fn finite<const C: usize>(re: &[L; 4], im: &[L; 4]) -> bool {
    let mut z = L::ZERO;
    for j in 0..C {
        z = z + re[j] * L::ZERO + im[j] * L::ZERO;
    }
    z.0.iter().all(|x| *x == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-line formula, written plainly with complex numbers.
    fn one_line(spec: &LineSpec, v: &[C64], c: usize) -> LineStep {
        let zero = C64::new(0.0, 0.0);
        let vs: Vec<C64> = spec.nodes.iter().map(|&n| v[n]).collect();
        let mut i = vec![zero; 2 * c];
        for k in 0..c {
            let (mut p, mut q) = (zero, zero);
            for j in 0..c {
                q += spec.d[k * c + j] * (vs[j] - vs[j + c]);
                if !spec.s_zero {
                    p += spec.s[k * c + j] * (vs[j] + vs[j + c]);
                }
            }
            i[k] = p + q;
            i[k + c] = p - q;
        }
        let (mut loss, mut p1) = (zero, 0.0);
        for (k, (vk, ik)) in vs.iter().zip(&i).enumerate() {
            let s = vk * ik.conj();
            loss += s;
            if k < c {
                p1 += s.re;
            }
        }
        let mut worst = (0.0, 0.0, spec.first_rated_a);
        if spec.inv_rated2 > 0.0 {
            for x in &i {
                let i2 = x.norm_sqr();
                if i2 * spec.inv_rated2 > worst.0 {
                    worst = (i2 * spec.inv_rated2, i2, spec.rated_a);
                }
            }
        }
        LineStep {
            loss_w: loss.re,
            p1_w: p1,
            worst,
        }
    }

    #[test]
    fn lanes_give_the_bits_of_the_one_line_formula() {
        // 1 to 4 conductors, 0 to 9 lines (partial chunks), with and without shunt, rated or not
        let v: Vec<C64> = (0..40)
            .map(|k| C64::from_polar(230.0 + 0.37 * k as f64, -0.7 * k as f64))
            .collect();
        let coef = |seed: usize, k: usize| {
            let x = (seed * 31 + k * 7) as f64;
            C64::new(1.0 + (x * 0.37).sin(), -3.0 + (x * 0.11).cos())
        };
        // voltages with an infinite and a NaN node: the lines on them take the full form
        let mut v_bad = v.clone();
        v_bad[7] = C64::new(f64::INFINITY, 0.0);
        v_bad[12] = C64::new(1.0, f64::NAN);
        let zero = C64::new(0.0, 0.0);
        let diagonal = |c: usize, k: usize| k / c == k % c;
        // nodes scattered, or each terminal's in a row (read as one slice)
        for (c, count, v, in_a_row) in (1..=4)
            .flat_map(|c| (0..14).map(move |count| (c, count)))
            .flat_map(|(c, count)| [(c, count, &v), (c, count, &v_bad)])
            .flat_map(|(c, count, v)| [(c, count, v, false), (c, count, v, true)])
        {
            {
                // forms by n % 5: S full and D full; S zero; S imaginary and diagonal with D
                // diagonal; S imaginary; S zero with D diagonal
                let lines: Vec<LineSpec> = (0..count)
                    .map(|n| {
                        let rated = [0.0, 80.0, 250.0][n % 3];
                        let form = n % 5;
                        LineSpec {
                            element: 2 * n + 1,
                            nodes: (0..2 * c)
                                .map(|k| match (in_a_row, k < c) {
                                    (false, _) => (n * 3 + k * 5) % v.len(),
                                    (true, true) => (n * 3) % 30 + k,
                                    (true, false) => (n * 5 + 11) % 30 + k - c,
                                })
                                .collect(),
                            s: (0..c * c)
                                .map(|k| {
                                    let x = coef(n, k) * 1e-3;
                                    match form {
                                        0 => x,
                                        2 if diagonal(c, k) => C64::new(0.0, x.im),
                                        3 => C64::new(if k % 2 == 0 { 0.0 } else { -0.0 }, x.im),
                                        _ => zero,
                                    }
                                })
                                .collect(),
                            d: (0..c * c)
                                .map(|k| match form {
                                    2 | 4 if !diagonal(c, k) => zero,
                                    _ => coef(n + 100, k),
                                })
                                .collect(),
                            s_zero: form == 1 || form == 4,
                            inv_rated2: if rated > 0.0 {
                                1.0 / (rated * rated)
                            } else {
                                0.0
                            },
                            rated_a: rated,
                            first_rated_a: if rated > 0.0 { rated } else { f64::NAN },
                        }
                    })
                    .collect();
                let mut out = vec![LineStep::default(); 2 * count + 2];
                let (mut batches, places) = LineBatch::of(&lines);
                assert_eq!(places.len(), count);
                for b in &batches {
                    assert_eq!(b.starts.is_some(), in_a_row && c > 1);
                }
                if count >= 5 && c > 1 {
                    assert_eq!(batches.len(), 5, "one batch per form");
                }
                // two steps at 15 minutes: the energies are the one-line sums; every line is
                // handed on at the first step (no quiet bound yet), then only those above the
                // bound set after it (here the loading itself: none, but where it is NaN)
                let kwh_per_w = 0.25 / 1000.0;
                let mut energies = vec![(0.0, 0.0); 2 * count + 2];
                let mut bound = vec![f64::NAN; 2 * count + 2];
                for step in 0..2 {
                    // the second step takes the voltages as known finite where they are
                    let bounded = step == 1 && v.iter().all(|x| x.norm_sqr().is_finite());
                    for (bi, b) in batches.iter_mut().enumerate() {
                        let mut loud = Vec::new();
                        b.evaluate(v, bounded, kwh_per_w, |slot| loud.push(slot));
                        let mine: Vec<&(usize, usize, usize)> =
                            places.iter().filter(|p| p.1 == bi).collect();
                        let want: Vec<usize> = mine
                            .iter()
                            .filter(|p| step == 0 || bound[p.0].is_nan())
                            .map(|p| p.2)
                            .collect();
                        let mut got = loud.clone();
                        got.sort();
                        let mut want = want;
                        want.sort();
                        assert_eq!(got, want, "{c} step {step}");
                        for p in mine {
                            let (e, slot) = (p.0, p.2);
                            let o = b.result(slot);
                            let line = lines.iter().find(|l| l.element == e).unwrap();
                            let want = one_line(line, v, c);
                            let same = |a: f64, b: f64| {
                                a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan()
                            };
                            assert!(same(o.loss_w, want.loss_w), "{c} {e} step {step}");
                            assert!(same(o.worst.0, want.worst.0), "{c} {e} step {step}");
                            let en: &mut (f64, f64) = &mut energies[e];
                            en.0 += o.loss_w * kwh_per_w;
                            en.1 += o.p1_w.abs() * kwh_per_w;
                            let got = b.energies_kwh(slot);
                            assert!(same(got.0, en.0) && same(got.1, en.1), "{c} {e}");
                            bound[e] = o.worst.0;
                            b.set_quiet2(slot, o.worst.0);
                        }
                    }
                }
                for (e, b, slot) in places {
                    out[e] = batches[b].result(slot);
                }
                for (k, o) in out.iter().enumerate() {
                    match lines.iter().find(|l| l.element == k) {
                        Some(line) => {
                            let want = one_line(line, v, c);
                            // the same bits (NaN where the one-line formula gives NaN)
                            let same = |a: f64, b: f64| {
                                a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan()
                            };
                            assert!(same(o.loss_w, want.loss_w), "{c} {k} {o:?} {want:?}");
                            assert!(same(o.p1_w, want.p1_w), "{c} {k}");
                            assert!(same(o.worst.0, want.worst.0), "{c} {k}");
                            assert!(same(o.worst.1, want.worst.1), "{c} {k}");
                            assert!(same(o.worst.2, want.worst.2), "{c} {k}");
                        }
                        None => assert_eq!(*o, LineStep::default(), "lane {k} untouched"),
                    }
                }
            }
        }
    }
}
