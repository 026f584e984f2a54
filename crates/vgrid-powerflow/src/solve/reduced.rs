//! Iterating on the load nodes only.
//!
//! The compensation currents act only at the nodes of loads, generators and PV systems (the
//! set `P`, `m` nodes); every other node's voltage follows linearly from them. Writing
//! `Z = Y⁻¹`, the fixed-point iteration restricted to `P` is
//!
//! ```text
//!   V_P(k+1) = V0_P + Z_PP · C(V_P(k)),      V0 = Y⁻¹ · I_source
//! ```
//!
//! which produces exactly the same iterates at those nodes as the full iteration (the full
//! iterate's other nodes are never read by the next compensation). Once converged, one sparse
//! solve with the last compensation recovers every node: the same voltages the full iteration
//! would give. The dense `m × m` product costs `m²` multiply-adds against the `~nnz(L+U)` of a
//! sparse solve, so this pays when a feeder has many nodes and few loads: the European LV
//! feeder (2,721 nodes, 55 single-phase loads) does 3,025 multiply-adds per iteration instead
//! of 24,471.
//!
//! `Z_PP` costs `m + 1` sparse solves to build and is rebuilt after every refactorisation, so it
//! is only built once a factorisation has already served `2m` full iterations (a time series
//! or repeated re-solves, never a one-off snapshot), and only where `3m² ≤ nnz(L+U)`.
//!
//! ## Convergence test
//! The test is the full iteration's (largest change relative to the bus's voltage level), taken
//! over the nodes of `P` with a quarter of the tolerance: the other nodes' changes are linear
//! combinations of these (between the fixed source and the loads on a radial feeder), and the
//! margin costs about one cheap iteration.

use super::{zero, PcElement, PfOutcome, PfStatus, PowerFlowError, System};
use vgrid_network::C64;

/// Ground marker in [`LoadSpace::pos`].
const GROUND: u32 = u32::MAX;

/// The load-node system: `Z_PP`, `V0_P` and work vectors.
pub(crate) struct LoadSpace {
    /// System node index of each load node.
    nodes: Vec<usize>,
    /// Per element, the position of each conductor in `nodes` (`GROUND` for ground), in
    /// `pos[start[e]..start[e + 1]]`.
    pos: Vec<u32>,
    start: Vec<usize>,
    /// `Z_PP`, row-major, real and imaginary parts apart (vectorisable product).
    z_re: Vec<f64>,
    z_im: Vec<f64>,
    v0: Vec<C64>,
    v: Vec<C64>,
    next: Vec<C64>,
    c_re: Vec<f64>,
    c_im: Vec<f64>,
    /// The factorisation `z_*` and `v0` were computed with (`None`: not yet).
    built_for: Option<u64>,
}

impl LoadSpace {
    /// The load nodes of `pc`, when iterating on them is cheaper than on all nodes.
    pub(crate) fn plan(pc: &[PcElement], nnz_factors: usize, n: usize) -> Option<LoadSpace> {
        let mut index = vec![GROUND; n];
        let mut nodes = Vec::new();
        let mut pos = Vec::new();
        let mut start = vec![0];
        for p in pc {
            for node in &p.nodes {
                pos.push(match *node {
                    Some(i) => {
                        if index[i] == GROUND {
                            index[i] = nodes.len() as u32;
                            nodes.push(i);
                        }
                        index[i]
                    }
                    None => GROUND,
                });
            }
            start.push(pos.len());
        }
        let m = nodes.len();
        if m == 0 || 3 * m * m > nnz_factors {
            return None;
        }
        Some(LoadSpace {
            nodes,
            pos,
            start,
            z_re: vec![0.0; m * m],
            z_im: vec![0.0; m * m],
            v0: vec![zero(); m],
            v: vec![zero(); m],
            next: vec![zero(); m],
            c_re: vec![0.0; m],
            c_im: vec![0.0; m],
            built_for: None,
        })
    }

    fn m(&self) -> usize {
        self.nodes.len()
    }
}

impl System {
    /// Whether the next fixed-point power flow iterates on the load nodes (building or
    /// rebuilding `Z_PP` for the present factorisation when that pays).
    pub(super) fn use_load_space(&mut self) -> bool {
        let Some(ls) = self.load_space.as_mut() else {
            return false;
        };
        if ls.built_for == Some(self.factor_generation) {
            return true;
        }
        if self.iterations_on_factor < 2 * ls.m() as u64 {
            return false;
        }
        let Some(lu) = &self.lu else {
            return false;
        };
        let m = ls.m();
        let work = &mut self.rhs;
        for j in 0..m {
            work.fill(zero());
            work[ls.nodes[j]] = C64::new(1.0, 0.0);
            lu.solve_in_place(work);
            for (i, &node) in ls.nodes.iter().enumerate() {
                ls.z_re[i * m + j] = work[node].re;
                ls.z_im[i * m + j] = work[node].im;
            }
        }
        work.copy_from_slice(&self.source_injection);
        lu.solve_in_place(work);
        for (v0, &node) in ls.v0.iter_mut().zip(&ls.nodes) {
            *v0 = work[node];
        }
        ls.built_for = Some(self.factor_generation);
        true
    }

    /// The fixed-point iteration on the load nodes, then one solve for every node.
    pub(super) fn solve_fixed_point_reduced(&mut self) -> Result<PfOutcome, PowerFlowError> {
        let Some(mut ls) = self.load_space.take() else {
            return Err(PowerFlowError::Lu("load-node system missing".into()));
        };
        let m = ls.m();
        for (x, &node) in ls.v.iter_mut().zip(&ls.nodes) {
            *x = self.v[node];
        }
        let tol2 = self.settings.tolerance * self.settings.tolerance / 16.0;
        let mut change2 = std::mem::take(&mut self.change2);
        change2.clear();
        change2.resize(self.v.len(), 0.0);
        let mut it = 0;
        let mut accepted = false;
        let mut max_change2;
        const SMALL: usize = 8;
        let status = loop {
            it += 1;
            ls.c_re.fill(0.0);
            ls.c_im.fill(0.0);
            for (e, p) in self.pc.iter().enumerate() {
                let pos = &ls.pos[ls.start[e]..ls.start[e + 1]];
                let k = pos.len();
                let mut v = [zero(); SMALL];
                let mut c = [zero(); SMALL];
                if k <= SMALL {
                    for (x, &q) in v.iter_mut().zip(pos) {
                        if q != GROUND {
                            *x = ls.v[q as usize];
                        }
                    }
                    p.compensation(&v[..k], &mut c[..k], &mut self.work_i);
                    for (&c, &q) in c.iter().zip(pos) {
                        if q != GROUND {
                            ls.c_re[q as usize] += c.re;
                            ls.c_im[q as usize] += c.im;
                        }
                    }
                } else {
                    self.work_v.clear();
                    self.work_v.extend(pos.iter().map(|&q| {
                        if q == GROUND {
                            zero()
                        } else {
                            ls.v[q as usize]
                        }
                    }));
                    let mut cw = vec![zero(); k];
                    p.compensation(&self.work_v, &mut cw, &mut self.work_i);
                    for (&c, &q) in cw.iter().zip(pos) {
                        if q != GROUND {
                            ls.c_re[q as usize] += c.re;
                            ls.c_im[q as usize] += c.im;
                        }
                    }
                }
            }
            // next = V0 + Z·C, row by row over split real and imaginary parts
            for (i, out) in ls.next.iter_mut().enumerate() {
                let (zr, zi) = (&ls.z_re[i * m..(i + 1) * m], &ls.z_im[i * m..(i + 1) * m]);
                *out = ls.v0[i] + dot(zr, zi, &ls.c_re, &ls.c_im);
            }
            max_change2 = 0.0f64;
            let mut finite = true;
            for ((x, &new), &node) in ls.v.iter_mut().zip(&ls.next).zip(&ls.nodes) {
                let c2 = (new - *x).norm_sqr() / self.v_ref2[node];
                change2[node] = c2;
                max_change2 = max_change2.max(c2);
                finite &= new.re.is_finite() && new.im.is_finite();
                *x = new;
            }
            if !finite {
                max_change2 = f64::INFINITY;
                break PfStatus::Diverged;
            }
            if let Some(status) = self.verdict(it, max_change2, tol2, &mut accepted) {
                break status;
            }
        };
        // every node from the last compensation: the full iterate whose load nodes are `ls.v`
        self.rhs.copy_from_slice(&self.source_injection);
        for ((&node, &re), &im) in ls.nodes.iter().zip(&ls.c_re).zip(&ls.c_im) {
            self.rhs[node] += C64::new(re, im);
        }
        if let Some(lu) = &self.lu {
            // (with nodes eliminated first, the kept ones, then their recovery)
            lu.solve_kept_in_place(&mut self.rhs);
        }
        std::mem::swap(&mut self.v, &mut self.rhs);
        self.recover_eliminated();
        let outcome = self.outcome_of(status, it, max_change2.sqrt(), &change2, true);
        self.change2 = change2;
        self.load_space = Some(ls);
        Ok(outcome)
    }
}

/// `Σ (a + jb)·(x + jy)` over split parts, in four independent lanes (which the compiler
/// keeps in vector registers; one running sum would serialise every addition).
#[inline]
fn dot(a: &[f64], b: &[f64], x: &[f64], y: &[f64]) -> C64 {
    const L: usize = 4;
    let (mut re, mut im) = ([0.0; L], [0.0; L]);
    let n = a.len().min(b.len()).min(x.len()).min(y.len());
    let body = n - n % L;
    for (((a, b), x), y) in a[..body]
        .chunks_exact(L)
        .zip(b[..body].chunks_exact(L))
        .zip(x[..body].chunks_exact(L))
        .zip(y[..body].chunks_exact(L))
    {
        for l in 0..L {
            re[l] += a[l] * x[l] - b[l] * y[l];
            im[l] += a[l] * y[l] + b[l] * x[l];
        }
    }
    let mut s = C64::new(re.iter().sum(), im.iter().sum());
    for k in body..n {
        s += C64::new(a[k] * x[k] - b[k] * y[k], a[k] * y[k] + b[k] * x[k]);
    }
    s
}

impl PcElement {
    /// Adds this element's compensation current `Y_pc·V − I_pc(V)` at conductor voltages `v`
    /// into `c` (both one entry per conductor).
    #[inline]
    pub(super) fn compensation(&self, v: &[C64], c: &mut [C64], work_i: &mut Vec<C64>) {
        let m = v.len();
        if self.injection.conductors() == m {
            self.injection.add_compensation(self.yprim.as_slice(), v, c);
            return;
        }
        work_i.clear();
        work_i.resize(m, zero());
        self.injection.currents(v, work_i);
        let y = self.yprim.as_slice();
        for k in 0..m {
            let yv: C64 = (0..m).map(|j| y[k * m + j] * v[j]).sum();
            c[k] += yv - work_i[k];
        }
    }
}
