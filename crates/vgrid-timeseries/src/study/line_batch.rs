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
//! with the same number of conductors per terminal `c` are stored *side by side*, [`LANES`] of
//! them in a chunk, every coefficient as an array over the chunk's lines (real and imaginary
//! parts apart):
//!
//! ```text
//! d_re[chunk·c² + k·c + j] = [Re D_kj of the chunk's first line, of its second line]
//! ```
//!
//! so that every operation of the one-line formula is one operation on the chunk's lines, one
//! vector instruction (two lanes of `f64` fill an SSE2 register, which every x86-64 has; four
//! lanes measured slower: the compiler runs out of registers); the conductor loops have a fixed length (`c` is a
//! const parameter), so there are no branches left but the loop over chunks. The voltages are
//! gathered into the same layout first.
//!
//! The results are bit for bit those of the one-line code: every value goes through the same
//! operations in the same order (complex products as `num_complex` forms them, sums started
//! from zero and taken conductor by conductor, the first largest loading kept on ties). A
//! chunk's unused lanes compute on zeros and are not written back.
//!
//! For a three-conductor cable, one step costs the 18 complex products of `S·Σ` and `D·Δ` per
//! line, six `V·conj(I)` and six squared magnitudes, two lines per instruction. On SimBench
//! 1-MV-urban (147 such cables) the batch costs ~46 k instructions per step; the element
//! statistics cost ~120 k per step when the lines went one at a time.

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

/// Lines of `c` conductors per terminal, with or without shunt admittance, [`LANES`] per chunk.
#[derive(Debug, Clone)]
pub(super) struct LineBatch {
    c: usize,
    /// `S` is formed (the lines have shunt admittance); else it is zero for every line.
    shunt: bool,
    chunks: usize,
    /// Caller's index of each lane's line (`usize::MAX`: unused lane).
    elements: Vec<usize>,
    /// `[chunk · 2c + conductor]`: node index of each lane.
    nodes: Vec<[usize; LANES]>,
    /// `[chunk · c² + k·c + j]`.
    s_re: Vec<L>,
    s_im: Vec<L>,
    d_re: Vec<L>,
    d_im: Vec<L>,
    /// `[chunk]`.
    inv_rated2: Vec<L>,
    rated_a: Vec<L>,
    first_rated_a: Vec<L>,
    /// `[chunk]`: the last step's results.
    out: Vec<ChunkStep>,
}

/// A chunk's results: `(loss, p1, worst ratio², worst |I|², worst rating)` per lane.
#[derive(Debug, Clone, Copy)]
struct ChunkStep([L; 5]);

impl LineBatch {
    /// The batches of `lines` (each of 1 to 4 conductors per terminal): one per conductor count
    /// and shunt (S zero or not), and where each line's results are: `(element, batch, slot)`
    /// for [`LineBatch::result`]. Unused lanes point at the first line's first node with
    /// zero coefficients.
    pub(super) fn of(lines: &[LineSpec]) -> (Vec<LineBatch>, Vec<(usize, usize, usize)>) {
        let mut batches = Vec::new();
        let mut places = Vec::new();
        for c in 1..=4 {
            for shunt in [false, true] {
                let group: Vec<&LineSpec> = lines
                    .iter()
                    .filter(|l| l.nodes.len() == 2 * c && l.s_zero != shunt)
                    .collect();
                if !group.is_empty() {
                    for (slot, l) in group.iter().enumerate() {
                        places.push((l.element, batches.len(), slot));
                    }
                    batches.push(LineBatch::new(c, shunt, &group));
                }
            }
        }
        (batches, places)
    }

    /// The last step's results of the line in `slot` (its place in the batch).
    #[inline]
    pub(super) fn result(&self, slot: usize) -> LineStep {
        let (chunk, lane) = (slot / LANES, slot % LANES);
        let o = &self.out[chunk].0;
        LineStep {
            loss_w: o[0].0[lane],
            p1_w: o[1].0[lane],
            worst: (o[2].0[lane], o[3].0[lane], o[4].0[lane]),
        }
    }

    fn new(c: usize, shunt: bool, lines: &[&LineSpec]) -> LineBatch {
        assert!((1..=4).contains(&c), "1 to 4 conductors per terminal");
        let chunks = lines.len().div_ceil(LANES);
        let spare_node = lines.first().map_or(0, |l| l.nodes[0]);
        let mut b = LineBatch {
            c,
            shunt,
            chunks,
            elements: vec![usize::MAX; chunks * LANES],
            nodes: vec![[spare_node; LANES]; chunks * 2 * c],
            s_re: vec![L::ZERO; chunks * c * c],
            s_im: vec![L::ZERO; chunks * c * c],
            d_re: vec![L::ZERO; chunks * c * c],
            d_im: vec![L::ZERO; chunks * c * c],
            inv_rated2: vec![L::ZERO; chunks],
            rated_a: vec![L::ZERO; chunks],
            first_rated_a: vec![L([f64::NAN; LANES]); chunks],
            out: vec![ChunkStep([L::ZERO; 5]); chunks],
        };
        for (n, line) in lines.iter().enumerate() {
            assert!(line.nodes.len() == 2 * c && line.s.len() == c * c && line.d.len() == c * c);
            let (chunk, lane) = (n / LANES, n % LANES);
            b.elements[n] = line.element;
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
            b.inv_rated2[chunk].0[lane] = line.inv_rated2;
            b.rated_a[chunk].0[lane] = line.rated_a;
            b.first_rated_a[chunk].0[lane] = line.first_rated_a;
        }
        b
    }

    /// Every line's [`LineStep`] at node voltages `v` (then read with [`LineBatch::result`]).
    pub(super) fn evaluate(&mut self, v: &[C64]) {
        match (self.c, self.shunt) {
            (1, false) => self.evaluate_c::<1, false>(v),
            (1, true) => self.evaluate_c::<1, true>(v),
            (2, false) => self.evaluate_c::<2, false>(v),
            (2, true) => self.evaluate_c::<2, true>(v),
            (3, false) => self.evaluate_c::<3, false>(v),
            (3, true) => self.evaluate_c::<3, true>(v),
            (_, false) => self.evaluate_c::<4, false>(v),
            (_, true) => self.evaluate_c::<4, true>(v),
        }
    }

    fn evaluate_c<const C: usize, const SHUNT: bool>(&mut self, v: &[C64]) {
        for chunk in 0..self.chunks {
            self.out[chunk] = self.chunk::<C, SHUNT>(chunk, v);
        }
    }

    /// One chunk: `(loss, p1, worst ratio², worst |I|², worst rating)` per lane.
    #[inline(always)]
    fn chunk<const C: usize, const SHUNT: bool>(&self, chunk: usize, v: &[C64]) -> ChunkStep {
        // conductor voltages, lanes side by side
        let (mut vr, mut vi) = ([L::ZERO; 8], [L::ZERO; 8]);
        let nodes = &self.nodes[chunk * 2 * C..(chunk + 1) * 2 * C];
        for (n, idx) in nodes.iter().enumerate() {
            let x: [C64; LANES] = std::array::from_fn(|l| v[idx[l]]);
            vr[n] = L(std::array::from_fn(|l| x[l].re));
            vi[n] = L(std::array::from_fn(|l| x[l].im));
        }
        // Σ = V₁ + V₂, Δ = V₁ − V₂
        let (mut sr, mut si, mut dr, mut di) =
            ([L::ZERO; 4], [L::ZERO; 4], [L::ZERO; 4], [L::ZERO; 4]);
        for j in 0..C {
            dr[j] = vr[j] - vr[j + C];
            di[j] = vi[j] - vi[j + C];
            if SHUNT {
                sr[j] = vr[j] + vr[j + C];
                si[j] = vi[j] + vi[j + C];
            }
        }
        let co = chunk * C * C;
        let (d_re, d_im) = (&self.d_re[co..co + C * C], &self.d_im[co..co + C * C]);
        let (s_re, s_im) = (&self.s_re[co..co + C * C], &self.s_im[co..co + C * C]);
        // I₁ = P + Q, I₂ = P − Q with P = S·Σ (zero without shunt), Q = D·Δ; each product
        // as num_complex forms it, the sums from zero
        let (mut ir, mut ii) = ([L::ZERO; 8], [L::ZERO; 8]);
        for k in 0..C {
            let (mut qr, mut qi, mut pr, mut pi) = (L::ZERO, L::ZERO, L::ZERO, L::ZERO);
            for j in 0..C {
                let (ar, ai) = (d_re[k * C + j], d_im[k * C + j]);
                qr = qr + (ar * dr[j] - ai * di[j]);
                qi = qi + (ar * di[j] + ai * dr[j]);
                if SHUNT {
                    let (ar, ai) = (s_re[k * C + j], s_im[k * C + j]);
                    pr = pr + (ar * sr[j] - ai * si[j]);
                    pi = pi + (ar * si[j] + ai * sr[j]);
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
        let (inv2, rated) = (self.inv_rated2[chunk], self.rated_a[chunk]);
        let (mut w0, mut w1, mut w2) = (L::ZERO, L::ZERO, self.first_rated_a[chunk]);
        for n in 0..2 * C {
            let i2 = ir[n] * ir[n] + ii[n] * ii[n];
            let r2 = i2 * inv2;
            w1 = r2.gt_select(w0, i2, w1);
            w2 = r2.gt_select(w0, rated, w2);
            w0 = r2.gt_select(w0, r2, w0);
        }
        ChunkStep([loss, p1, w0, w1, w2])
    }
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
        for c in 1..=4 {
            for count in 0..10 {
                let lines: Vec<LineSpec> = (0..count)
                    .map(|n| {
                        let rated = [0.0, 80.0, 250.0][n % 3];
                        LineSpec {
                            element: 2 * n + 1,
                            nodes: (0..2 * c).map(|k| (n * 3 + k * 5) % v.len()).collect(),
                            s: (0..c * c)
                                .map(|k| {
                                    if n % 2 == 0 {
                                        coef(n, k) * 1e-3
                                    } else {
                                        C64::new(0.0, 0.0)
                                    }
                                })
                                .collect(),
                            d: (0..c * c).map(|k| coef(n + 100, k)).collect(),
                            s_zero: n % 2 == 1,
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
                for b in &mut batches {
                    b.evaluate(&v);
                }
                for (e, b, slot) in places {
                    out[e] = batches[b].result(slot);
                }
                for (k, o) in out.iter().enumerate() {
                    match lines.iter().find(|l| l.element == k) {
                        Some(line) => {
                            let want = one_line(line, &v, c);
                            assert_eq!(o.loss_w.to_bits(), want.loss_w.to_bits(), "{c} {k}");
                            assert_eq!(o.p1_w.to_bits(), want.p1_w.to_bits(), "{c} {k}");
                            assert_eq!(o.worst.0.to_bits(), want.worst.0.to_bits());
                            assert_eq!(o.worst.1.to_bits(), want.worst.1.to_bits());
                            assert_eq!(o.worst.2.to_bits(), want.worst.2.to_bits());
                        }
                        None => assert_eq!(*o, LineStep::default(), "lane {k} untouched"),
                    }
                }
            }
        }
    }
}
