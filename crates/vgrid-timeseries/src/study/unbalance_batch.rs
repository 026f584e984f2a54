//! The voltage unbalance factor of every three-phase bus at each step, a few buses side by
//! side.
//!
//! A bus's factor `(|V2|/|V1|)²` needs its symmetrical components
//! `V1 = Va + a·Vb + a²·Vc`, `V2 = Va + a²·Vb + a·Vc` (`a = 1∠120°`; the 1/3 cancels): four
//! complex products and four sums, two squared magnitudes and a division per bus and step.
//! Here the buses are stored in chunks of [`LANES`] (see [`super::lanes`]), so that each
//! operation of that arithmetic serves the chunk's buses at once; the products are formed
//! as `num_complex` forms them, in the same order, so every factor is bit for bit the scalar
//! `unbalance2`'s. What follows a factor (a new highest with its hour, a step above the
//! limit, only for buses whose three phases are above the floor) stays a plain branch per
//! bus: rarely taken, well predicted.
//!
//! ```text
//! chunk:  Va = [Va of bus 0, Va of bus 1]  (real and imaginary parts apart), Vb, Vc alike
//!         V1, V2, |V1|², |V2|²/|V1|²       one instruction per operation for both buses
//! ```

use vgrid_network::C64;

use super::lanes::{L, LANES};

/// The lanes' voltages, real and imaginary parts apart.
#[inline(always)]
fn gather(v: &[C64], idx: &[usize; LANES]) -> (L, L) {
    let x: [C64; LANES] = std::array::from_fn(|l| v[idx[l]]);
    (
        L(std::array::from_fn(|l| x[l].re)),
        L(std::array::from_fn(|l| x[l].im)),
    )
}

/// Three-phase buses side by side: their unbalance factor `(|V2|/|V1|)²` at each step, the
/// highest with its hour, and the steps above a limit.
#[derive(Debug, Clone)]
pub(super) struct VufBatch {
    chunks: Vec<VufChunk>,
    /// `(limit / 100)²`.
    limit2: f64,
}

/// [`LANES`] buses.
#[derive(Debug, Clone, Copy)]
struct VufChunk {
    /// System nodes of phases 1, 2, 3 of each lane's bus.
    phases: [[usize; LANES]; 3],
    /// The bus's `1 / V_base²` (0 in unused lanes).
    inv_base2: L,
    /// 0 in a lane with a bus, NaN in an unused one.
    no_bus: L,
    max2: L,
    hour: L,
    /// `min(max2, limit2)` per lane: a factor at or below it (or NaN) changes nothing.
    quiet2: L,
    steps_above: [u32; LANES],
    /// The last step's factor of each lane, NaN where |V1| is zero or a phase is below the
    /// floor (kept, so that the arithmetic is done for the whole chunk at once, not sunk into
    /// the branches lane by lane).
    last2: L,
}

impl VufBatch {
    /// The batch of `buses`: `(system nodes of phases 1, 2, 3, 1 / V_base²)`, item `k` for
    /// the `k`-th; `limit2` the squared limit of the factor.
    pub(super) fn new(buses: &[([usize; 3], f64)], limit2: f64) -> VufBatch {
        let spare = buses.first().map_or([0; 3], |b| b.0);
        let chunks = buses
            .chunks(LANES)
            .map(|ch| VufChunk {
                phases: std::array::from_fn(|p| {
                    std::array::from_fn(|l| ch.get(l).map_or(spare, |b| b.0)[p])
                }),
                inv_base2: L(std::array::from_fn(|l| ch.get(l).map_or(0.0, |b| b.1))),
                no_bus: L(std::array::from_fn(|l| ch.get(l).map_or(f64::NAN, |_| 0.0))),
                max2: L::splat(f64::NEG_INFINITY),
                hour: L::splat(f64::NAN),
                quiet2: L::splat(f64::NEG_INFINITY),
                steps_above: [0; LANES],
                last2: L::ZERO,
            })
            .collect();
        VufBatch { chunks, limit2 }
    }

    /// Count a step: buses whose three phases are above the floor `floor2` (pu²).
    ///
    /// `lit`: the caller knows every phase node above the floor at this step (its `|V|²`
    /// times the same `1 / V_base²`), so that the tests of the floor are left out.
    pub(super) fn add(&mut self, v: &[C64], floor2: f64, hour: f64, lit: bool) {
        if lit {
            self.add_as::<true>(v, floor2, hour);
        } else {
            self.add_as::<false>(v, floor2, hour);
        }
    }

    #[inline(always)]
    fn add_as<const LIT: bool>(&mut self, v: &[C64], floor2: f64, hour: f64) {
        // √3 / 2, as `unbalance2`: a = −1/2 + jS, a² = −1/2 − jS
        const S: f64 = 0.866_025_403_784_438_6;
        let (a_re, a_im) = (L::splat(-0.5), L::splat(S));
        // num_complex: (x + jy)(u + jw) = (xu − yw) + j(xw + yu); with a = −1/2 + jS and
        // a² = −1/2 − jS the products by a and a² share their four real products, as
        // (−S)·w = −(S·w) and p − (−q) = p + q exactly:
        // a·U = (h′ − s″) + j(h″ + s′), a²·U = (h′ + s″) + j(h″ − s′), h = −U/2, s = S·U
        let by_a_a2 = |ur: L, ui: L| {
            let (hr, hi, sr, si) = (a_re * ur, a_re * ui, a_im * ur, a_im * ui);
            ((hr - si, hi + sr), (hr + si, hi - sr))
        };
        for ch in &mut self.chunks {
            let ((ar, ai), (br, bi), (cr, ci)) = (
                gather(v, &ch.phases[0]),
                gather(v, &ch.phases[1]),
                gather(v, &ch.phases[2]),
            );
            let ((ab_r, ab_i), (a2b_r, a2b_i)) = by_a_a2(br, bi);
            let ((ac_r, ac_i), (a2c_r, a2c_i)) = by_a_a2(cr, ci);
            // V1 = Va + a·Vb + a²·Vc, V2 = Va + a²·Vb + a·Vc (left to right)
            let (v1r, v1i) = (ar + ab_r + a2c_r, ai + ab_i + a2c_i);
            let (v2r, v2i) = (ar + a2b_r + ac_r, ai + a2b_i + ac_i);
            let d = v1r * v1r + v1i * v1i;
            let r2 = (v2r * v2r + v2i * v2i) / d;
            // NaN where |V1| is zero (as `unbalance2`) or a phase is at or below the floor:
            // never a maximum, never above the limit
            let f = L::splat(floor2);
            let nan = L::splat(f64::NAN);
            let r2 = d.gt_select(L::ZERO, r2, nan);
            ch.last2 = if LIT {
                // `r2 ≥ +0` (or NaN) is unchanged by `+ 0`; a lane without a bus is NaN
                r2 + ch.no_bus
            } else {
                let pu2 = |r: L, i: L| (r * r + i * i) * ch.inv_base2;
                let (pa, pb, pc) = (pu2(ar, ai), pu2(br, bi), pu2(cr, ci));
                let r2 = pa.gt_select(f, r2, nan);
                let r2 = pb.gt_select(f, r2, nan);
                pc.gt_select(f, r2, nan)
            };
            // the bookkeeping lane by lane, only when a lane has a new highest factor or one
            // above the limit
            if ch.last2.any_above(ch.quiet2) {
                for l in 0..LANES {
                    let r = ch.last2.0[l];
                    if r > ch.max2.0[l] {
                        ch.max2.0[l] = r;
                        ch.hour.0[l] = hour;
                    }
                    if r > self.limit2 {
                        ch.steps_above[l] += 1;
                    }
                    ch.quiet2.0[l] = ch.max2.0[l].min(self.limit2);
                }
            }
        }
    }

    /// Bus `k`'s highest `(|V2|/|V1|)²` and its hour (`(−∞, NaN)` before any energised step).
    pub(super) fn max2(&self, k: usize) -> (f64, f64) {
        let ch = &self.chunks[k / LANES];
        (ch.max2.0[k % LANES], ch.hour.0[k % LANES])
    }

    /// Bus `k`'s steps above the limit.
    pub(super) fn steps_above(&self, k: usize) -> u32 {
        self.chunks[k / LANES].steps_above[k % LANES]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unbalance_lanes_are_the_scalar_factor() {
        let a = C64::from_polar(1.0, 120f64.to_radians());
        let sets: Vec<[C64; 3]> = (0..5)
            .map(|k| {
                let e = 0.01 * k as f64;
                [
                    C64::new(230.0, 0.0),
                    a * a * (230.0 - 3.0 * e),
                    a * (230.0 + 7.0 * e),
                ]
            })
            .collect();
        // a zero-sequence set (|V1| = 0 exactly: no factor) and a de-energised bus
        let mut v: Vec<C64> = sets.iter().flatten().copied().collect();
        v.extend([C64::new(230.0, 0.0); 3]);
        v.extend([C64::new(1.0, 0.5), a * 230.0, a * a * 230.0]);
        let buses: Vec<([usize; 3], f64)> = (0..7)
            .map(|k| ([3 * k, 3 * k + 1, 3 * k + 2], 1.0 / (230.0 * 230.0)))
            .collect();
        let mut batch = VufBatch::new(&buses, 1e-12);
        // two steps alike: the highest stays the first's, the steps above count twice
        // the second with the floor known passed where it is (every node of the first five
        // buses): the same factors
        batch.add(&v, 0.0025, 4.0, false);
        let mut lit = VufBatch::new(&buses[..5], 1e-12);
        lit.add(&v, 0.0025, 4.0, true);
        for k in 0..5 {
            assert_eq!(lit.max2(k).0.to_bits(), batch.max2(k).0.to_bits(), "{k}");
        }
        batch.add(&v, 0.0025, 5.0, false);
        for (k, set) in sets.iter().enumerate() {
            let want = super::super::unbalance2(*set);
            assert_eq!(batch.max2(k).0.to_bits(), want.to_bits(), "{k}");
            assert_eq!(batch.max2(k).1, 4.0);
            assert_eq!(batch.steps_above(k), 2 * u32::from(want > 1e-12));
        }
        assert!(super::super::unbalance2([C64::new(230.0, 0.0); 3]).is_nan());
        for k in [5, 6] {
            assert_eq!(batch.max2(k).0, f64::NEG_INFINITY);
            assert!(batch.max2(k).1.is_nan());
            assert_eq!(batch.steps_above(k), 0);
        }
    }
}
