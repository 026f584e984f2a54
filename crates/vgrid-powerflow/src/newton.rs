//! Newton–Raphson power flow over the same equations as the fixed-point iteration.
//!
//! The power-flow solution is the zero of the current mismatch at every node,
//!
//! ```text
//!   F(V) = Y·V − I_source − Σ_pc ( Y_pc·V − I_pc(V) )  =  Y_pd·V − I_source + Σ_pc I_pc(V)
//! ```
//!
//! where `Y` is the system matrix (power-delivery elements, source impedances and the nominal
//! admittance `Y_pc` stamped for every load, generator and PV system) and `I_pc(V)` the current
//! law of each such element ([`crate::injection::Injection::currents`]). The fixed-point method
//! ([`System::solve`] with the default algorithm) and this method have the same zero, so they
//! give the same voltages; Newton gets there in a handful of iterations up to close to the
//! nose of the P–V curve, and converges on heavily loaded feeders (or around a floating load
//! neutral) where the fixed point crawls or oscillates.
//!
//! ## Linearising a law that is not analytic
//! A constant-power load draws `I = conj(S/V)`, which has no complex derivative `dI/dV`: it
//! depends on `conj(V)`. Every law is therefore linearised in `V` *and* `conj(V)` (Wirtinger
//! derivatives), per element over its conductors:
//!
//! ```text
//!   dI = A·dV + B·conj(dV),   A = (∂I/∂x − j·∂I/∂y)/2,   B = (∂I/∂x + j·∂I/∂y)/2   (V = x + jy)
//! ```
//!
//! For the constant-power load above, `A = 0` and `B = −conj(S)/conj(V)²`; for a constant
//! impedance `I = Y·V`, `A = Y` and `B = 0`. `A` and `B` are taken by central differences of
//! the element's own current law on each conductor's real and imaginary part (a relative step
//! of 1e-6, which leaves a relative error of ~1e-10 in the Jacobian), so every law the
//! fixed point knows is also solved by Newton, with no second copy of the physics.
//!
//! With `J_A = Y_pd + Σ A` and `J_B = Σ B`, the Newton step solves the augmented complex system
//!
//! ```text
//!   [ J_A        J_B     ] [ dV       ]      [ F       ]
//!   [ conj(J_B)  conj(J_A)] [ conj(dV) ]  = −[ conj(F) ]
//! ```
//!
//! whose unknowns are interleaved per node (`2i` = `dV_i`, `2i+1` = `conj(dV_i)`), so its
//! pattern is that of `Y` with every entry a 2×2 block. The pattern and its symbolic analysis
//! ([`SymbolicLu`]) are built once per [`System`]; each iteration refactors the numbers.
//!
//! ## Last digits
//! The step is not computed from `F` itself. Adding the Jacobian times `V` to both sides, the
//! iteration solves for the new voltage directly,
//!
//! ```text
//!   J_A·V' + J_B·conj(V') = r,   r = I_source + Σ_pc ( A·V + B·conj(V) − I_pc(V) )
//! ```
//!
//! (and its conjugate), which is the same Newton step `V' = V + dV` but with no `Y·V` on the
//! right: `F = Y·V − …` cancels currents as large as `|Y|·|V|`, and a switch stamped at 1e7 S
//! (IEEE 13's 671–692) makes that 2.5e10 A, leaving ~1e-5 A of rounding in `F` and the
//! relative change stuck near 2e-9. `r` only holds element currents, as the fixed point's
//! right-hand side does. Once the largest relative change is below 1e-6 the factored Jacobian
//! (with its `A`, `B`) is kept for the following steps (chord steps, which contract by ~1e-6
//! each): a fresh factorisation rounds differently each time and would leave the change
//! wandering at `cond(J)·ε` instead of settling. A step that stops contracting refreshes it.
//!
//! ## Pivots
//! The sparse LU does not pivot. A node tied to nothing but constant-power elements (a floating
//! load neutral) has `J_A[i][i] ≈ 0` and only `J_B[i][i]` to stand on; for such a node the two
//! equations of its 2×2 block are exchanged (a static row pivot chosen per iteration by comparing
//! `|J_A[i][i]|` with `|J_B[i][i]|`), which leaves the solution unchanged.
//!
//! ## Worked example: one constant-power load behind an impedance
//! A source `E = 1` behind `z = 0.05 + j0.1` feeds `S = 1.5 + j0.5` (per unit). The mismatch at
//! the load node is `F(V) = (V − E)/z + conj(S/V)`, so `J_A = 1/z` and
//! `J_B = −conj(S)/conj(V)²`. From `V₀ = 1` the Newton steps change the voltage by (relative)
//! 0.24, 1.1e-2, 2.7e-5, 1.6e-10: the number of correct digits doubles each step, and
//! `V = 0.830719 − j0.125`. The fixed point (with the nominal admittance `conj(S)` in `Y`)
//! needs 19 iterations from the no-load voltage to reach a relative change of 1e-10; at heavier
//! loading it slows down without bound as the nose of the P–V curve approaches, where Newton
//! still takes a handful of steps.
//!
//! ## Cost
//! An iteration refactors a `2n × 2n` matrix with four times the entries of `Y`, so on a
//! lightly loaded feeder Newton's fewer iterations do not pay: a solve from the no-load voltage
//! takes 340 µs on IEEE 123 (3 iterations) against 67 µs for the fixed point (8 iterations),
//! 2.5 ms against 0.29 ms on the European LV feeder. The fixed point stays the default; Newton
//! is for the cases it cannot do, or does slowly.
//!
//! ## Convergence and outcome
//! As for the fixed point: converged when the largest change of any node voltage, relative to
//! its magnitude, is at most [`PfSettings::tolerance`](crate::PfSettings). Running out of
//! iterations is [`PfStatus::MaxIterations`]; a non-finite voltage or a singular Jacobian
//! (voltage collapse) is [`PfStatus::Diverged`]; either names the nodes that moved most.

use std::sync::Arc;

use vgrid_network::{YBus, C64};

use crate::lu::{LuError, NumericLu, SymbolicLu};
use crate::solve::{PcElement, PfOutcome, PfStatus, PowerFlowError, System};

/// Step of the central differences, relative to the largest conductor voltage of the element.
const FD_RELATIVE_STEP: f64 = 1e-6;

/// Below this largest relative change the Jacobian is kept (chord steps).
const FREEZE_CHANGE: f64 = 1e-6;

/// Marks a conductor on ground in a position table.
const GROUND: usize = usize::MAX;

fn zero() -> C64 {
    C64::new(0.0, 0.0)
}

/// The Newton Jacobian's pattern, symbolic analysis and work space, built once per [`System`].
pub(crate) struct NewtonCache {
    symbolic: Arc<SymbolicLu>,
    lu: Option<NumericLu>,
    /// Values of the augmented matrix, compressed columns (`2n × 2n`).
    values: Vec<C64>,
    /// For each entry `k` of `Y` (row `r`, column `c`): positions in `values` of the augmented
    /// entries `(2r, 2c)` and `(2r, 2c+1)`; the rows `2r+1` follow each directly.
    pos_even: Vec<usize>,
    pos_odd: Vec<usize>,
    /// Row of each entry of `Y`.
    row_of: Vec<usize>,
    /// Position in `Y` of each diagonal entry.
    diag: Vec<usize>,
    /// For each PC element: position in `Y` of its (conductor k, conductor j) entry, row-major;
    /// [`GROUND`] where either conductor is on ground.
    pc_pos: Vec<Vec<usize>>,
    /// `J_A` and `J_B` over the pattern of `Y`.
    ja: Vec<C64>,
    jb: Vec<C64>,
    /// Node whose two equations are exchanged (see "Pivots").
    swapped: Vec<bool>,
    /// Right-hand side `r` of the update (see [`System::solve_newton`]), and the augmented
    /// right-hand side / solution.
    r: Vec<C64>,
    x: Vec<C64>,
    /// `A` and `B` of every PC element (row-major `m × m` blocks, element `e` from
    /// `offset[e]`), as factored into the present Jacobian.
    a: Vec<C64>,
    b: Vec<C64>,
    offset: Vec<usize>,
    /// Per-element scratch: conductor voltages and two current evaluations.
    v_el: Vec<C64>,
    i_plus: Vec<C64>,
    i_minus: Vec<C64>,
}

/// Position of `(row, col)` in the compressed columns of `y`, if structurally present.
fn position(y: &YBus, row: usize, col: usize) -> Option<usize> {
    let start = y.col_ptr()[col];
    let rows = &y.row_idx()[start..y.col_ptr()[col + 1]];
    rows.iter().position(|&r| r == row).map(|k| start + k)
}

impl NewtonCache {
    /// The augmented pattern of `y` (every entry a 2×2 block) and its symbolic analysis.
    pub(crate) fn new(y: &YBus, pc: &[PcElement]) -> Result<NewtonCache, PowerFlowError> {
        let n = y.n();
        let (col_ptr, row_idx) = (y.col_ptr(), y.row_idx());
        let nnz = row_idx.len();
        let mut aug_ptr = Vec::with_capacity(2 * n + 1);
        let mut aug_rows = Vec::with_capacity(4 * nnz);
        let mut pos_even = vec![0; nnz];
        let mut pos_odd = vec![0; nnz];
        let mut row_of = vec![0; nnz];
        aug_ptr.push(0);
        for c in 0..n {
            let (start, end) = (col_ptr[c], col_ptr[c + 1]);
            let m = end - start;
            for k in start..end {
                let t = k - start;
                pos_even[k] = 4 * start + 2 * t;
                pos_odd[k] = 4 * start + 2 * m + 2 * t;
                row_of[k] = row_idx[k];
            }
            for _ in 0..2 {
                for &r in &row_idx[start..end] {
                    aug_rows.push(2 * r);
                    aug_rows.push(2 * r + 1);
                }
                aug_ptr.push(aug_rows.len());
            }
        }
        let symbolic = SymbolicLu::analyze(2 * n, &aug_ptr, &aug_rows)
            .map_err(|e| PowerFlowError::Lu(e.to_string()))?;
        let mut diag = Vec::with_capacity(n);
        for i in 0..n {
            // the Y-bus builder makes every diagonal structurally present
            let p = position(y, i, i)
                .ok_or_else(|| PowerFlowError::Lu(format!("no diagonal entry at node {i}")))?;
            diag.push(p);
        }
        let mut pc_pos = Vec::with_capacity(pc.len());
        let mut offset = Vec::with_capacity(pc.len());
        let mut total = 0;
        for p in pc {
            let m = p.nodes.len();
            offset.push(total);
            total += m * m;
            let mut pos = vec![GROUND; m * m];
            for (k, rk) in p.nodes.iter().enumerate() {
                for (j, cj) in p.nodes.iter().enumerate() {
                    if let (Some(r), Some(c)) = (rk, cj) {
                        pos[k * m + j] = position(y, *r, *c).ok_or_else(|| {
                            PowerFlowError::Lu(format!("entry ({r}, {c}) missing from Y"))
                        })?;
                    }
                }
            }
            pc_pos.push(pos);
        }
        Ok(NewtonCache {
            symbolic: Arc::new(symbolic),
            lu: None,
            values: vec![zero(); 4 * nnz],
            pos_even,
            pos_odd,
            row_of,
            diag,
            pc_pos,
            ja: vec![zero(); nnz],
            jb: vec![zero(); nnz],
            swapped: vec![false; n],
            r: vec![zero(); n],
            x: vec![zero(); 2 * n],
            a: vec![zero(); total],
            b: vec![zero(); total],
            offset,
            v_el: Vec::new(),
            i_plus: Vec::new(),
            i_minus: Vec::new(),
        })
    }

    /// Conductor voltages of `p` into `self.v_el` (0 for ground).
    fn gather(&mut self, p: &PcElement, v: &[C64]) {
        self.v_el.clear();
        self.v_el
            .extend(p.nodes.iter().map(|n| n.map_or(zero(), |i| v[i])));
    }

    /// `A` and `B` of element `e` at conductor voltages `self.v_el`, by central differences
    /// (columns of grounded conductors left zero).
    fn linearise(&mut self, e: usize, p: &PcElement) {
        let m = p.nodes.len();
        let block = self.offset[e]..self.offset[e] + m * m;
        let (a, b) = (&mut self.a[block.clone()], &mut self.b[block]);
        a.iter_mut().for_each(|x| *x = zero());
        b.iter_mut().for_each(|x| *x = zero());
        self.i_plus.resize(m, zero());
        self.i_minus.resize(m, zero());
        let scale = self.v_el.iter().map(|v| v.norm()).fold(0.0, f64::max);
        let h = FD_RELATIVE_STEP * if scale > 0.0 { scale } else { 1.0 };
        for j in 0..m {
            if p.nodes[j].is_none() {
                continue;
            }
            let v0 = self.v_el[j];
            for (part, step) in [(0, C64::new(h, 0.0)), (1, C64::new(0.0, h))] {
                self.v_el[j] = v0 + step;
                p.injection.currents(&self.v_el, &mut self.i_plus);
                self.v_el[j] = v0 - step;
                p.injection.currents(&self.v_el, &mut self.i_minus);
                for k in 0..m {
                    let d = (self.i_plus[k] - self.i_minus[k]) / (2.0 * h);
                    // d = ∂I/∂x (part 0) or ∂I/∂y (part 1); A = (∂x − j∂y)/2, B = (∂x + j∂y)/2
                    let (da, db) = if part == 0 {
                        (d * 0.5, d * 0.5)
                    } else {
                        (C64::new(0.0, -0.5) * d, C64::new(0.0, 0.5) * d)
                    };
                    a[k * m + j] += da;
                    b[k * m + j] += db;
                }
            }
            self.v_el[j] = v0;
        }
    }

    /// Linearise every element at `v` and fill `J_A`, `J_B` and the augmented matrix.
    fn assemble(&mut self, y: &YBus, pc: &[PcElement], v: &[C64]) {
        self.ja.copy_from_slice(y.values());
        self.jb.iter_mut().for_each(|b| *b = zero());
        for (e, p) in pc.iter().enumerate() {
            self.gather(p, v);
            self.linearise(e, p);
            let (yp, off) = (p.yprim.as_slice(), self.offset[e]);
            for (kj, &pos) in self.pc_pos[e].iter().enumerate() {
                if pos != GROUND {
                    // Y holds the nominal Y_pc; the Jacobian wants the law's A instead
                    self.ja[pos] += self.a[off + kj] - yp[kj];
                    self.jb[pos] += self.b[off + kj];
                }
            }
        }
        for (i, s) in self.swapped.iter_mut().enumerate() {
            let d = self.diag[i];
            *s = self.ja[d].norm() < self.jb[d].norm();
        }
        for k in 0..self.ja.len() {
            let (a, b) = (self.ja[k], self.jb[k]);
            // rows 2r (F) and 2r+1 (conj F), columns 2c (dV) and 2c+1 (conj dV)
            let (mut even, mut odd) = ([a, b.conj()], [b, a.conj()]);
            if self.swapped[self.row_of[k]] {
                even.swap(0, 1);
                odd.swap(0, 1);
            }
            let (pe, po) = (self.pos_even[k], self.pos_odd[k]);
            self.values[pe] = even[0];
            self.values[pe + 1] = even[1];
            self.values[po] = odd[0];
            self.values[po + 1] = odd[1];
        }
    }

    /// `r = compensation + Σ_pc ((A − Y_pc)·V + B·conj(V))` with the factored `A`, `B`.
    fn right_hand_side(&mut self, compensation: &[C64], pc: &[PcElement], v: &[C64]) {
        self.r.copy_from_slice(compensation);
        for (e, p) in pc.iter().enumerate() {
            self.gather(p, v);
            let (yp, m, off) = (p.yprim.as_slice(), p.nodes.len(), self.offset[e]);
            for (k, node) in p.nodes.iter().enumerate() {
                if let Some(i) = node {
                    let row = k * m..(k + 1) * m;
                    let block = off + k * m..off + (k + 1) * m;
                    self.r[*i] += self.a[block.clone()]
                        .iter()
                        .zip(&yp[row])
                        .zip(&self.b[block])
                        .zip(&self.v_el)
                        .map(|(((a, y), b), v)| (a - y) * v + b * v.conj())
                        .sum::<C64>();
                }
            }
        }
    }

    /// Factor the augmented matrix (first time) or refactor it with the cached analysis.
    fn factor(&mut self) -> Result<(), LuError> {
        match self.lu.as_mut() {
            Some(lu) => lu.refactor(&self.values),
            None => {
                self.lu = Some(NumericLu::factor(self.symbolic.clone(), &self.values)?);
                Ok(())
            }
        }
    }

    /// The new voltages into `self.x[2i]` (and their conjugates into `self.x[2i+1]`).
    fn solve(&mut self) {
        for (i, r) in self.r.iter().enumerate() {
            let (e, o) = (*r, r.conj());
            (self.x[2 * i], self.x[2 * i + 1]) = if self.swapped[i] { (o, e) } else { (e, o) };
        }
        if let Some(lu) = &self.lu {
            lu.solve_in_place(&mut self.x);
        }
    }
}

impl System {
    /// Newton–Raphson from the present voltages (the no-load solution on a first solve), to
    /// the same solution as the fixed-point iteration. See the module docs.
    pub(crate) fn solve_newton(&mut self) -> Result<PfOutcome, PowerFlowError> {
        if !self.initialized {
            self.initialize()?;
        }
        let mut cache = match self.newton.take() {
            Some(c) => c,
            None => Box::new(NewtonCache::new(&self.ybus, &self.pc)?),
        };
        let outcome = self.newton_iterations(&mut cache);
        self.newton = Some(cache);
        Ok(outcome)
    }

    fn newton_iterations(&mut self, c: &mut NewtonCache) -> PfOutcome {
        let n = self.v.len();
        let tol = self.settings.tolerance;
        let mut change = vec![0.0; n];
        let mut max_change = f64::INFINITY;
        let mut refresh = true;
        let mut it = 0;
        while it < self.settings.max_iterations {
            it += 1;
            // I_source + Σ (Y_pc·V − I_pc(V))
            self.compensation_rhs();
            if refresh {
                c.assemble(&self.ybus, &self.pc, &self.v);
                if let Err(e) = c.factor() {
                    // a singular Jacobian: voltage collapse, or a node nothing holds
                    change.iter_mut().for_each(|x| *x = 0.0);
                    if let LuError::Singular { column, .. } = e {
                        if let Some(x) = change.get_mut(column / 2) {
                            *x = f64::INFINITY;
                        }
                    }
                    return self.outcome(PfStatus::Diverged, it, f64::INFINITY, &change);
                }
            }
            c.right_hand_side(&self.rhs, &self.pc, &self.v);
            c.solve();
            let previous = max_change;
            max_change = 0.0;
            let mut finite = true;
            for i in 0..n {
                let new = c.x[2 * i];
                let ch = self.relative_change2(i, new).sqrt();
                change[i] = ch;
                max_change = max_change.max(ch);
                finite &= new.re.is_finite() && new.im.is_finite();
                self.v[i] = new;
            }
            if !finite {
                return self.outcome(PfStatus::Diverged, it, f64::INFINITY, &change);
            }
            if max_change <= tol {
                return self.outcome(PfStatus::Converged, it, max_change, &change);
            }
            // keep the factored Jacobian once close (see "Last digits"), unless it stops
            // contracting (a law crossed a kink)
            refresh = max_change > FREEZE_CHANGE || (!refresh && max_change > 0.25 * previous);
        }
        self.outcome(PfStatus::MaxIterations, it, max_change, &change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PfSettings;
    use vgrid_model::{
        Algorithm, BusRef, Connection, Line, LineImpedance, Load, LoadModel, LoadStatus, Network,
        Reactor, ReactorRating, SourceImpedance, Transformer, Vsource, Winding,
    };

    fn winding(bus: &str, conn: Connection, kv: f64) -> Winding {
        Winding {
            bus: BusRef::parse(bus),
            conn,
            kv,
            kva: 10_000.0,
            pct_r: 0.5,
            r_neutral_ohm: -1.0,
            x_neutral_ohm: 0.0,
            tap_pu: 1.0,
            min_tap_pu: 0.9,
            max_tap_pu: 1.1,
            num_taps: 32,
        }
    }

    fn load(name: &str, bus: &str, phases: usize, conn: Connection, model: LoadModel) -> Load {
        Load {
            name: name.into(),
            bus1: BusRef::parse(bus),
            phases,
            conn,
            kv: if phases == 1 && conn == Connection::Wye {
                12.47 / 3f64.sqrt()
            } else {
                12.47
            },
            p_kw: 0.0,
            q_kvar: 0.0,
            model,
            zipv: vec![],
            cvr_watts: 1.0,
            cvr_vars: 2.0,
            // keep every law in its own band down to low voltages (the fixed VLOW is 0.5)
            vmin_pu: 0.6,
            vmax_pu: 1.2,
            status: LoadStatus::Variable,
            yearly: None,
            daily: None,
            duty: None,
            enabled: true,
        }
    }

    /// Source 115 kV → Δ-Y 10 MVA transformer → 3-phase 12.47 kV line → loads of models 1, 2
    /// and 5 (wye, delta, 1-phase, and one wye load on a floating neutral), `kw` in total.
    fn network(kw: f64, floating_neutral: bool) -> Network {
        let mut net = Network {
            name: "newton".into(),
            base_frequency_hz: 60.0,
            voltage_bases_kv: vec![115.0, 12.47],
            ..Network::default()
        };
        net.sources.push(Vsource {
            name: "source".into(),
            bus1: BusRef::parse("src"),
            bus2: None,
            phases: 3,
            base_kv: 115.0,
            pu: 1.02,
            angle_deg: 0.0,
            frequency_hz: 60.0,
            impedance: SourceImpedance::Ohm {
                r1_ohm: 0.5,
                x1_ohm: 3.0,
                r0_ohm: 1.0,
                x0_ohm: 6.0,
            },
            enabled: true,
        });
        net.transformers.push(Transformer {
            name: "sub".into(),
            phases: 3,
            windings: vec![
                winding("src", Connection::Delta, 115.0),
                winding("mv", Connection::Wye, 12.47),
            ],
            x_sc_pct: vec![8.0],
            pct_noload_loss: 0.1,
            pct_imag: 0.5,
            ppm_antifloat: 1.0,
            norm_hkva: 11_000.0,
            emerg_hkva: 15_000.0,
            bank: None,
            is_substation: true,
            enabled: true,
        });
        net.lines.push(Line {
            name: "feeder".into(),
            bus1: BusRef::parse("mv"),
            bus2: BusRef::parse("end"),
            phases: 3,
            length_m: 3000.0,
            impedance: LineImpedance::Sequence {
                r1_ohm_per_m: 2.0e-4,
                x1_ohm_per_m: 4.0e-4,
                r0_ohm_per_m: 6.0e-4,
                x0_ohm_per_m: 1.2e-3,
                c1_nf_per_m: 10.0,
                c0_nf_per_m: 5.0,
            },
            base_frequency_hz: 60.0,
            rho_ohm_m: 100.0,
            earth_model: vgrid_model::EarthModel::Deri,
            is_switch: false,
            line_code: None,
            norm_amps_a: 600.0,
            emerg_amps_a: 800.0,
            enabled: true,
        });
        let mut loads = vec![
            (
                load("pq", "end", 3, Connection::Wye, LoadModel::ConstantPq),
                0.35,
                0.15,
            ),
            (
                load("z", "end.2", 1, Connection::Wye, LoadModel::ConstantZ),
                0.1,
                0.05,
            ),
            (
                load("i", "end", 3, Connection::Delta, LoadModel::ConstantI),
                0.2,
                0.05,
            ),
            (
                load("pq1", "end.3", 1, Connection::Wye, LoadModel::ConstantPq),
                0.1,
                0.02,
            ),
            (
                load(
                    "pqab",
                    "end.1.2",
                    1,
                    Connection::Delta,
                    LoadModel::ConstantPq,
                ),
                0.1,
                0.03,
            ),
            (
                load(
                    "float",
                    "end.1.2.3.4",
                    3,
                    Connection::Wye,
                    LoadModel::ConstantPq,
                ),
                0.15,
                0.05,
            ),
        ];
        for (l, p, q) in &mut loads {
            l.p_kw = *p * kw;
            l.q_kvar = *q * kw;
        }
        net.loads = loads.into_iter().map(|(l, _, _)| l).collect();
        if !floating_neutral {
            net.loads.pop();
            return net;
        }
        // the floating neutral of load "float" is held only by a 100 kΩ reactor to phase 1
        net.reactors.push(Reactor {
            name: "neutral".into(),
            bus1: BusRef::parse("end.4"),
            bus2: Some(BusRef::parse("end.1")),
            phases: 1,
            kv: 12.47,
            conn: Connection::Wye,
            rating: ReactorRating::Impedance {
                r_ohm: 0.0,
                x_ohm: 1e5,
            },
            rp_ohm: None,
            r_ohm: 0.0,
            parallel: false,
            enabled: true,
        });
        net
    }

    fn solve(net: &Network, algorithm: Algorithm, max_iterations: u32) -> (System, PfOutcome) {
        let mut sys = System::new(net).unwrap();
        sys.settings = PfSettings {
            tolerance: 1e-12,
            max_iterations,
            accept_tolerance: 1e-12,
            accept_iterations: max_iterations,
            algorithm,
        };
        let out = sys.solve().unwrap();
        (sys, out)
    }

    /// Largest difference of two voltage vectors, per unit of each bus's line-neutral base.
    fn max_diff_pu(sys: &System, a: &[C64], b: &[C64]) -> f64 {
        let base_v = |i: usize| {
            let bus = &sys.net.buses[sys.net.nodes[i].bus].name;
            (if bus == "src" { 115e3 } else { 12.47e3 }) / 3f64.sqrt()
        };
        (0..a.len())
            .map(|i| (a[i] - b[i]).norm() / base_v(i))
            .fold(0.0, f64::max)
    }

    /// Largest mismatch |F_i|, relative to the largest current drawn by any load.
    fn relative_mismatch(sys: &mut System) -> f64 {
        sys.compensation_rhs();
        let mut f = vec![zero(); sys.v.len()];
        sys.ybus.mul_vec(&sys.v, &mut f);
        let mut i_max: f64 = 0.0;
        for p in &sys.pc {
            let v: Vec<C64> = p
                .nodes
                .iter()
                .map(|n| n.map_or(zero(), |i| sys.v[i]))
                .collect();
            let mut i = vec![zero(); v.len()];
            p.injection.currents(&v, &mut i);
            i_max = i.iter().map(|x| x.norm()).fold(i_max, f64::max);
        }
        f.iter()
            .zip(&sys.rhs)
            .map(|(f, r)| (f - r).norm())
            .fold(0.0, f64::max)
            / i_max
    }

    fn min_phase_v_pu(sys: &System) -> f64 {
        let base = 12.47e3 / 3f64.sqrt();
        (1..=3)
            .map(|k| sys.node_voltage("end", k).unwrap().norm() / base)
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn newton_reaches_the_fixed_point_solution() {
        let net = network(3000.0, false);
        let (fp, fo) = solve(&net, Algorithm::FixedPoint, 500);
        let (mut nr, no) = solve(&net, Algorithm::Newton, 50);
        assert_eq!(fo.status, PfStatus::Converged, "{fo:?}");
        assert_eq!(no.status, PfStatus::Converged, "{no:?}");
        let d = max_diff_pu(&nr, fp.voltages(), nr.voltages());
        assert!(d < 1e-10, "max |ΔV| = {d:e} pu");
        assert!(no.iterations <= 5, "{no:?}");
        assert!(relative_mismatch(&mut nr) < 1e-10);
        eprintln!(
            "light: fixed point {} iterations, Newton {}, max |ΔV| {d:e} pu, Vmin {:.4} pu",
            fo.iterations,
            no.iterations,
            min_phase_v_pu(&nr)
        );
    }

    #[test]
    fn heavy_load_takes_few_newton_iterations() {
        // end-of-line voltages near 0.63 pu: the fixed point contracts slowly
        let net = network(22_000.0, false);
        let (fp, fo) = solve(&net, Algorithm::FixedPoint, 500);
        let (nr, no) = solve(&net, Algorithm::Newton, 50);
        assert_eq!(fo.status, PfStatus::Converged, "{fo:?}");
        assert_eq!(no.status, PfStatus::Converged, "{no:?}");
        assert!(fo.iterations >= 50, "{fo:?}");
        assert!(no.iterations <= 6, "{no:?}");
        let d = max_diff_pu(&nr, fp.voltages(), nr.voltages());
        assert!(d < 1e-10, "max |ΔV| = {d:e} pu");
        eprintln!(
            "heavy: fixed point {} iterations, Newton {}, max |ΔV| {d:e} pu, Vmin {:.4} pu",
            fo.iterations,
            no.iterations,
            min_phase_v_pu(&nr)
        );
    }

    #[test]
    fn newton_converges_where_the_fixed_point_runs_out_of_iterations() {
        let net = network(23_000.0, false);
        let (_, fo) = solve(&net, Algorithm::FixedPoint, 100);
        assert_eq!(fo.status, PfStatus::MaxIterations, "{fo:?}");
        assert_eq!(fo.worst.len(), 5);
        let (mut nr, no) = solve(&net, Algorithm::Newton, 100);
        assert_eq!(no.status, PfStatus::Converged, "{no:?}");
        assert!(no.iterations <= 8, "{no:?}");
        assert!(relative_mismatch(&mut nr) < 1e-10);
        // given far more iterations, the fixed point creeps to the same point
        let (fp, fo) = solve(&net, Algorithm::FixedPoint, 1000);
        assert_eq!(fo.status, PfStatus::Converged, "{fo:?}");
        let d = max_diff_pu(&nr, fp.voltages(), nr.voltages());
        assert!(d < 1e-10, "max |ΔV| = {d:e} pu");
        eprintln!(
            "heavier: fixed point {} iterations, Newton {}, max |ΔV| {d:e} pu, Vmin {:.4} pu",
            fo.iterations,
            no.iterations,
            min_phase_v_pu(&nr)
        );
    }

    #[test]
    fn floating_load_neutral_needs_newton() {
        // the neutral is held by 10 µS only: the compensation iteration oscillates there,
        // Newton pivots on the load's conj(dV) coefficient instead
        let net = network(3000.0, true);
        let (_, fo) = solve(&net, Algorithm::FixedPoint, 500);
        assert_eq!(fo.status, PfStatus::MaxIterations, "{fo:?}");
        assert_eq!(fo.worst[0].0, "end");
        assert_eq!(fo.worst[0].1, 4);
        let (mut nr, no) = solve(&net, Algorithm::Newton, 50);
        assert_eq!(no.status, PfStatus::Converged, "{no:?}");
        assert!(no.iterations <= 10, "{no:?}");
        let neutral = nr.net.node_index("end", 4).unwrap();
        assert!(nr.newton.as_ref().unwrap().swapped[neutral]);
        assert!(relative_mismatch(&mut nr) < 1e-10);
        // a converged system re-solves in one iteration
        let again = nr.solve().unwrap();
        assert_eq!((again.status, again.iterations), (PfStatus::Converged, 1));
        eprintln!(
            "floating neutral: fixed point fails after {} iterations, Newton {}",
            fo.iterations, no.iterations
        );
    }

    #[test]
    fn load_beyond_the_nose_is_an_outcome_not_a_panic() {
        let net = network(40_000.0, false);
        let (nr, no) = solve(&net, Algorithm::Newton, 30);
        assert_ne!(no.status, PfStatus::Converged, "{no:?}");
        assert_eq!(no.worst.len(), 5);
        assert!(no
            .worst
            .iter()
            .all(|(b, _, _)| nr.net.bus_index(b).is_some()));
    }

    #[test]
    fn resolves_after_a_tap_and_a_load_change_with_the_cached_pattern() {
        let net = network(9000.0, false);
        let change = |sys: &mut System| {
            sys.set_tap("sub", 2, 1.05).unwrap();
            sys.set_load_kw_kvar(0, 4000.0, 1500.0);
            sys.solve().unwrap()
        };
        let (mut fp, _) = solve(&net, Algorithm::FixedPoint, 500);
        let fo = change(&mut fp);
        let (mut nr, _) = solve(&net, Algorithm::Newton, 50);
        let no = change(&mut nr);
        assert_eq!(fo.status, PfStatus::Converged, "{fo:?}");
        assert_eq!(no.status, PfStatus::Converged, "{no:?}");
        assert!(no.iterations <= 5, "{no:?}");
        let d = max_diff_pu(&nr, fp.voltages(), nr.voltages());
        assert!(d < 1e-10, "max |ΔV| = {d:e} pu");
    }

    #[test]
    fn generators_are_linearised_like_loads() {
        let mut net = network(12_000.0, false);
        for (name, model, conn) in [("g1", 1, Connection::Wye), ("g7", 7, Connection::Delta)] {
            net.generators.push(vgrid_model::Generator {
                name: name.into(),
                bus1: BusRef::parse("end"),
                phases: 3,
                conn,
                kv: 12.47,
                p_kw: 2500.0,
                q_kvar: 500.0,
                kva: 3000.0,
                model,
                vmin_pu: 0.9,
                vmax_pu: 1.1,
                yearly: None,
                daily: None,
                duty: None,
                enabled: true,
            });
        }
        let (fp, fo) = solve(&net, Algorithm::FixedPoint, 500);
        let (mut nr, no) = solve(&net, Algorithm::Newton, 50);
        assert_eq!(fo.status, PfStatus::Converged, "{fo:?}");
        assert_eq!(no.status, PfStatus::Converged, "{no:?}");
        assert!(no.iterations <= 5, "{no:?}");
        let d = max_diff_pu(&nr, fp.voltages(), nr.voltages());
        assert!(d < 1e-10, "max |ΔV| = {d:e} pu");
        assert!(relative_mismatch(&mut nr) < 1e-10);
        eprintln!(
            "generators: fixed point {} iterations, Newton {}, max |ΔV| {d:e} pu",
            fo.iterations, no.iterations
        );
    }
}
