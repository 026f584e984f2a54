//! The positive-sequence (balanced) solve: one unknown per bus instead of three, where the
//! network allows it.
//!
//! ## Why it is exact
//! Number every bus's nodes 1, 2, 3 and cut `Y` into 3×3 blocks `Y_kl` between buses. A block
//! is *circulant* when each row is the row above shifted by one place:
//!
//! ```text
//!          ⎡ c0 c1 c2 ⎤
//!   Y_kl = ⎢ c2 c0 c1 ⎥        (c1 = c2 for a transposed line, c1 ≠ c2 for a Dy transformer)
//!          ⎣ c1 c2 c0 ⎦
//! ```
//!
//! Every circulant has the positive-sequence set `α = [1, a², a]` (`a = e^{j120°}`, phase 2
//! lagging by 120°) as an eigenvector: `Y_kl·α = λ_kl·α` with `λ_kl = c0 + c1·a² + c2·a =
//! (1/3)·αᴴ·Y_kl·α`. So when *every* block is circulant, voltages of the form `V_k·α` (one
//! complex number per bus) are mapped by `Y` to currents of the same form, `(Y1·V)_k·α`, with
//! the bus matrix `Y1[k][l] = λ_kl`. If the sources inject currents of that form and every
//! load, generator, PV system and storage element draws currents of that form at such
//! voltages, the fixed-point iteration of [`System`] (OpenDSS "Normal", see `solve.rs`)
//!
//! ```text
//!   Y · V(k+1) = I_source + Σ_pc ( Y_pc·V(k) − I_pc(V(k)) )
//! ```
//!
//! never leaves the set `{V_k·α}`: run on `V1` alone (`Y1·V1(k+1) = I1_source + Σ C1(V1(k))`,
//! `I1 = (1/3)·αᴴ·I_abc` per bus), it produces the same iterates, hence the same solution and
//! the same iteration count, with a third of the unknowns, a ninth of the LU's multiply-adds
//! (3×3 blocks become scalars) and one current law per element instead of three. The full
//! voltages are written back (`v1 = V`, `v2 = V·a²`, `v3 = V·a` at nodes 1, 2, 3), so branch
//! currents, losses, reports and time-series statistics read them unchanged.
//!
//! Example: a line of phase impedance `Zs` and mutual `Zm` (symmetric, so circulant with
//! `c1 = c2`) becomes its positive-sequence impedance `Zs − Zm` (`λ` of the inverse is the
//! inverse of `λ`); a Dy1 transformer's mutual block picks up the factor `e^{−j30°}`, its
//! phase shift, as it does in pandapower's and power-grid-model's balanced models.
//!
//! In use: a three-phase line feeding a three-phase load qualifies; the solve runs on one
//! unknown per bus and the phases come out 120° apart.
//!
//! ```
//! use vgrid_dss::{ReadOptions, Reader};
//! use vgrid_network::C64;
//! use vgrid_powerflow::solve::System;
//! let mut r = Reader::new(ReadOptions::default());
//! for c in [
//!     "Clear",
//!     "New Circuit.c basekv=11 phases=3 bus1=s",
//!     "New Line.l bus1=s bus2=b phases=3 r1=0.3 x1=0.4 r0=0.9 x0=1.2 length=2 units=km",
//!     "New Load.x bus1=b phases=3 kv=11 kw=900 kvar=200",
//! ] {
//!     r.run_command(c, &mut |_, _| Ok(())).unwrap();
//! }
//! let mut sys = System::new(&r.into_network()).unwrap();
//! assert_eq!(sys.balanced_qualifies(), Ok(()));
//! sys.solve().unwrap();
//! assert_eq!(sys.balanced_solves(), 1);
//! let (a, b) = (sys.node_voltage("b", 1).unwrap(), sys.node_voltage("b", 2).unwrap());
//! let lag = C64::from_polar(1.0, -120f64.to_radians());
//! assert!((b / a - lag).norm() < 1e-12);
//! // a one-phase load anywhere, and the three-phase solve runs instead
//! let mut r = Reader::new(ReadOptions::default());
//! for c in [
//!     "Clear",
//!     "New Circuit.c basekv=11 phases=3 bus1=s",
//!     "New Load.y bus1=s.2 phases=1 kv=6.35 kw=10",
//! ] {
//!     r.run_command(c, &mut |_, _| Ok(())).unwrap();
//! }
//! let sys = System::new(&r.into_network()).unwrap();
//! assert_eq!(sys.balanced_qualifies(), Err("Load.y: 1 phase(s), not 3"));
//! ```
//!
//! ## What qualifies (checked when the system is built, and `Y` again at every refactorisation)
//! - every bus has exactly the nodes 1, 2, 3 (no neutral or other extra node, no one- or
//!   two-phase bus);
//! - every 3×3 block of `Y` (diagonal and between buses) is circulant to `1e-10` of its largest
//!   entry: symmetric three-phase lines, Yy/Dy/Dyn/Yd transformers with balanced taps, shunts,
//!   source impedances, the nominal admittances of the elements below;
//! - every source's Norton current is a positive-sequence set;
//! - every load, generator, PV system and storage element is three-phase, on the three nodes
//!   of one bus: wye with its neutral grounded, or delta. Its branches are identical (vgrid's
//!   [`Injection`](crate::injection::Injection) gives every phase `P/3`, `Q/3` and the same
//!   law), and every OpenDSS law turns with its voltage (`I(V·e^{jθ}) = I(V)·e^{jθ}`), so
//!   balanced voltages draw balanced currents.
//!
//! What does not qualify, and then the three-phase solve runs as before: one- and two-phase
//! loads or laterals, a wye element with its neutral on a node, a neutral conductor, an
//! untransposed line given as a full impedance matrix, a one-phase regulator or a capacitor
//! with one phase switched, an open conductor. The reason is kept
//! ([`System::balanced_qualifies`]). A tap or capacitor change that makes `Y` non-circulant
//! drops the balanced mode for good for that system.
//!
//! ## Cost
//! A 3-phase wye element's compensation is evaluated on its first phase only
//! ([`Injection::balanced_wye_compensation`](crate::injection::Injection::balanced_wye_compensation),
//! the same arithmetic as the three-phase code's first phase); delta and other elements go
//! through their full three-phase compensation at `V·α` and are projected
//! (`C1 = (1/3)·αᴴ·C_abc`). [`System::total_pc_power_kva`] takes the same shortcut.
//!
//! SimBench 1-MV-urban's year (`vgrid timeseries`, 152 buses, 273 loads and generators),
//! callgrind instructions per quarter-hour step, three-phase → balanced, with the same 4.7
//! iterations per step (the iterates are the same):
//!
//! | | three-phase | balanced |
//! |---|---|---|
//! | power flow (`System::solve`) | 667k | 206k |
//! | of which the LU solves | 233k | 47k |
//! | `total_pc_power_kva` | 66k | 21k |
//! | the whole step with the element statistics | 892k | 386k |
//!
//! Wall time of the year, same minute, 2 shared cores: 2.33 s → 1.19 s (34 µs per step).
//! What is left per step is the compensation (~100 instructions per element and iteration,
//! mostly the current law itself), the statistics of `vgrid-timeseries` (which read the
//! three-phase voltages and branch currents: ~100k; [`System::balanced_branch_flows`] gives a
//! branch's flows from 4 products, which took the year to 1.02 s in a trial) and the per-step
//! load and generator updates.
//!
//! Tried and dropped: a plain scalar sparse LU for `Y1` (fewer operations on paper, more
//! instructions than [`NumericLu`](crate::lu::NumericLu)'s level-scheduled solve: slower);
//! records of the wye elements apart from the others (−1 % instructions); Anderson mixing of
//! depth 2 (6.8 → 5.9 iterations per step, but no longer the three-phase iterates).

use std::sync::Arc;

use super::{zero, PcElement, PfOutcome, PfStatus, PowerFlowError, System};
use crate::lu::{NumericLu, SymbolicLu};
use vgrid_network::{SolverNetwork, C64};

/// Largest deviation from a circulant allowed in a 3×3 block of `Y`, relative to the block's
/// largest entry; also the largest unbalance allowed in a source's Norton currents, relative
/// to the largest of them.
const CIRCULANT_TOL: f64 = 1e-10;

/// `√3/2`.
const HALF_SQRT3: f64 = 0.866_025_403_784_438_6;

/// The positive-sequence set at nodes 1, 2, 3: `[1, e^{−j120°}, e^{+j120°}]`.
const ALPHA: [C64; 3] = [
    C64::new(1.0, 0.0),
    C64::new(-0.5, -HALF_SQRT3),
    C64::new(-0.5, HALF_SQRT3),
];

/// Marks a grounded conductor in [`PcPlace::phases`].
const GROUND: u8 = u8::MAX;

/// Where one load, generator, PV system or storage element sits: its bus and the phase (0, 1,
/// 2, or [`GROUND`]) of each of its (at most 4) conductors.
#[derive(Debug, Clone, Copy)]
struct PcPlace {
    bus: u32,
    phases: [u8; 4],
    conductors: u8,
    /// 3-phase wye with its neutral grounded: its first phase alone is evaluated.
    wye: bool,
    /// Its stamped branch admittance `−yprim[0][3]` (wye), read again at every refresh.
    y_branch: C64,
    /// System node of its first conductor.
    node0: u32,
}

/// A branch of one or two three-phase terminals in positive sequence: `I1_t = Σ_u λ_tu·V1_u`.
#[derive(Debug, Clone, Copy)]
struct BranchSeq {
    terminals: u8,
    /// Per terminal: the system node of its first conductor and that conductor's phase.
    node0: [u32; 2],
    phase0: [u8; 2],
    /// `λ_tu = (1/3)·αᴴ·Y_tu·α` between terminals `t` and `u` (phases in the buses' labels).
    lambda: [[C64; 2]; 2],
}

impl BranchSeq {
    /// The view of `br`, when each terminal has three conductors on the three phases of one
    /// bus (and possibly a fourth, grounded: a wye winding's neutral, at 0 V, carrying no
    /// current at a balanced solution) and each 3×3 block of its `Yprim` is circulant in the
    /// buses' phase order.
    fn of(br: &vgrid_network::Branch, net: &SolverNetwork) -> Option<BranchSeq> {
        let (t_n, c) = (br.prim.terminals, br.prim.conductors_per_terminal);
        let m = br.nodes.len();
        if !(1..=2).contains(&t_n)
            || !(3..=4).contains(&c)
            || m != t_n * c
            || br.prim.y.as_slice().len() != m * m
        {
            return None;
        }
        // phase (0, 1, 2) of conductor k of terminal t at phase[3t + k]
        let mut phase = [0usize; 6];
        for t in 0..t_n {
            for k in 0..c {
                let n = br.nodes[t * c + k];
                if k == 3 {
                    if n.is_some() {
                        return None;
                    }
                    continue;
                }
                let node = net.nodes.get(n?)?;
                phase[3 * t + k] = node.number.checked_sub(1).filter(|&p| p < 3)? as usize;
            }
        }
        let y = br.prim.y.as_slice();
        let mut lambda = [[zero(); 2]; 2];
        for t in 0..t_n {
            for u in 0..t_n {
                let mut b = [zero(); 9];
                let mut seen = [false; 9];
                for k in 0..3 {
                    for l in 0..3 {
                        let slot = 3 * phase[3 * t + k] + phase[3 * u + l];
                        if std::mem::replace(&mut seen[slot], true) {
                            return None;
                        }
                        b[slot] = y[(t * c + k) * m + u * c + l];
                    }
                }
                if circulant_deviation(&b) > CIRCULANT_TOL * largest_entry(&b) {
                    return None;
                }
                lambda[t][u] = (0..3)
                    .map(|p| {
                        ALPHA[p].conj()
                            * (b[3 * p] * ALPHA[0]
                                + b[3 * p + 1] * ALPHA[1]
                                + b[3 * p + 2] * ALPHA[2])
                    })
                    .sum::<C64>()
                    / 3.0;
            }
        }
        let node0 = |t: usize| br.nodes[t * c].map_or(0, |i| i as u32);
        Some(BranchSeq {
            terminals: t_n as u8,
            node0: [node0(0), if t_n > 1 { node0(1) } else { 0 }],
            phase0: [phase[0] as u8, if t_n > 1 { phase[3] as u8 } else { 0 }],
            lambda,
        })
    }
}

/// A branch's flows at a balanced solution, per terminal: the voltage and the current (into
/// the branch) of the terminal's first conductor. Its other two phases carry the same set
/// turned by ∓120°, so every phase current has magnitude `|i|` and the terminal's three-phase
/// power is `3·v·conj(i)`. See [`System::balanced_branch_flows`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BalancedBranchFlows {
    /// Terminals (1 or 2); entries beyond are zero.
    pub terminals: usize,
    /// Voltage of each terminal's first conductor, V.
    pub v: [C64; 2],
    /// Current into the branch at each terminal's first conductor, A.
    pub i: [C64; 2],
}

/// The positive-sequence system of a qualifying network.
struct Plan {
    /// System node of phases 1, 2, 3 of each bus (bus order of [`SolverNetwork::buses`]).
    nodes: Vec<[usize; 3]>,
    /// `Y1` in compressed columns; its pattern is the block pattern of `Y`.
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    y1: Vec<C64>,
    /// For each entry of `Y` (CSC order): its block in `y1` and its place `3·p + q` in it.
    entry_block: Vec<(u32, u8)>,
    /// Work space: the 3×3 blocks of `Y`, row-major.
    blocks: Vec<[C64; 9]>,
    lu: Option<NumericLu>,
    /// The system's factorisation `y1` and `lu` were computed for.
    built_for: Option<u64>,
    /// Positive-sequence source current of each bus.
    i_source: Vec<C64>,
    pc: Vec<PcPlace>,
    /// Per bus: voltage, right-hand side, `1 / voltage level²`, last squared relative change.
    v1: Vec<C64>,
    rhs1: Vec<C64>,
    inv_ref2: Vec<f64>,
    change2: Vec<f64>,
    /// Per branch, its positive-sequence view (`None`: not a balanced branch of one or two
    /// three-phase terminals), rebuilt with `Y1`.
    branches: Vec<Option<BranchSeq>>,
}

/// The balanced mode of one [`System`]: whether it may be used, its positive-sequence system
/// (when the network qualifies) or why not.
pub(crate) struct BalancedMode {
    enabled: bool,
    solves: u64,
    plan: Option<Box<Plan>>,
    refused: Option<String>,
}

impl Default for BalancedMode {
    fn default() -> Self {
        BalancedMode {
            enabled: true,
            solves: 0,
            plan: None,
            refused: Some("not checked yet".into()),
        }
    }
}

/// `(1/3)·Σ conj(α_p)·x_p`: the positive-sequence part of a three-phase set.
#[inline]
fn project(x: [C64; 3]) -> C64 {
    (x[0] + x[1] * ALPHA[1].conj() + x[2] * ALPHA[2].conj()) / 3.0
}

/// Bus names of `net` for messages.
fn bus_name(net: &SolverNetwork, bus: usize) -> &str {
    net.buses.get(bus).map_or("?", |b| b.name.as_str())
}

impl Plan {
    /// The structure of the positive-sequence system, or why `net` does not qualify.
    fn new(
        net: &SolverNetwork,
        pc: &[PcElement],
        source_injection: &[C64],
        y_col_ptr: &[usize],
        y_row_idx: &[usize],
    ) -> Result<Plan, String> {
        let nb = net.buses.len();
        // bus and phase (0, 1, 2) of every node
        let mut place = vec![(u32::MAX, 0u8); net.nodes.len()];
        let mut nodes = Vec::with_capacity(nb);
        for (b, bus) in net.buses.iter().enumerate() {
            let mut triple = [usize::MAX; 3];
            let mut numbers: Vec<u32> = bus.nodes.iter().map(|&(n, _)| n).collect();
            numbers.sort_unstable();
            if numbers != [1, 2, 3] {
                return Err(format!(
                    "bus '{}' has nodes {numbers:?}, not exactly 1, 2, 3",
                    bus.name
                ));
            }
            for &(number, i) in &bus.nodes {
                let p = (number - 1) as usize;
                triple[p] = i;
                if let Some(x) = place.get_mut(i) {
                    *x = (b as u32, p as u8);
                }
            }
            nodes.push(triple);
        }
        if let Some(i) = place.iter().position(|&(b, _)| b == u32::MAX) {
            return Err(format!("node {i} belongs to no bus"));
        }
        let pc = pc
            .iter()
            .map(|p| pc_place(p, &place).map_err(|why| format!("{}: {why}", p.id)))
            .collect::<Result<Vec<_>, _>>()?;
        // sources: positive-sequence Norton currents
        let scale = source_injection
            .iter()
            .map(|i| i.norm())
            .fold(0.0, f64::max);
        let mut i_source = Vec::with_capacity(nb);
        for (b, t) in nodes.iter().enumerate() {
            let x = [
                source_injection[t[0]],
                source_injection[t[1]],
                source_injection[t[2]],
            ];
            let i1 = project(x);
            let dev = (0..3)
                .map(|p| (x[p] - i1 * ALPHA[p]).norm())
                .fold(0.0, f64::max);
            if dev > CIRCULANT_TOL * scale {
                return Err(format!(
                    "the source current at bus '{}' is not a positive-sequence set (unbalance {:.1e} of the largest source current)",
                    bus_name(net, b),
                    dev / scale
                ));
            }
            i_source.push(i1);
        }
        // the block pattern of Y, column by column
        let mut col_ptr = vec![0usize];
        let mut row_idx = Vec::new();
        let mut rows = Vec::new();
        for t in &nodes {
            rows.clear();
            for &c in t {
                for &r in &y_row_idx[y_col_ptr[c]..y_col_ptr[c + 1]] {
                    rows.push(place[r].0 as usize);
                }
            }
            rows.sort_unstable();
            rows.dedup();
            row_idx.extend_from_slice(&rows);
            col_ptr.push(row_idx.len());
        }
        let mut entry_block = vec![(0u32, 0u8); y_row_idx.len()];
        for c in 0..net.nodes.len() {
            let (kc, q) = place[c];
            let col = &row_idx[col_ptr[kc as usize]..col_ptr[kc as usize + 1]];
            for k in y_col_ptr[c]..y_col_ptr[c + 1] {
                let (kr, p) = place[y_row_idx[k]];
                let at = col.binary_search(&(kr as usize)).unwrap_or(0);
                entry_block[k] = ((col_ptr[kc as usize] + at) as u32, 3 * p + q);
            }
        }
        let nnz = row_idx.len();
        Ok(Plan {
            col_ptr,
            row_idx,
            y1: vec![zero(); nnz],
            entry_block,
            blocks: vec![[zero(); 9]; nnz],
            lu: None,
            built_for: None,
            i_source,
            pc,
            v1: vec![zero(); nb],
            rhs1: vec![zero(); nb],
            inv_ref2: vec![0.0; nb],
            change2: vec![0.0; nb],
            branches: Vec::new(),
            nodes,
        })
    }

    /// `Y1` from `Y`'s values, and its factorisation; why not when a block is not circulant
    /// or `Y1` is singular. The elements' stamped admittances are read again (they change
    /// with `Y`, e.g. a new load multiplier).
    fn refresh(
        &mut self,
        y_values: &[C64],
        net: &SolverNetwork,
        pc: &[PcElement],
    ) -> Result<(), String> {
        for (at, p) in self.pc.iter_mut().zip(pc) {
            if at.wye {
                at.y_branch = -p.yprim.as_slice().get(3).copied().unwrap_or_default();
            }
        }
        self.branches.clear();
        self.branches
            .extend(net.branches.iter().map(|br| BranchSeq::of(br, net)));
        for b in &mut self.blocks {
            *b = [zero(); 9];
        }
        for (&(b, slot), &y) in self.entry_block.iter().zip(y_values) {
            self.blocks[b as usize][slot as usize] = y;
        }
        for col in 0..self.nodes.len() {
            for k in self.col_ptr[col]..self.col_ptr[col + 1] {
                let b = &self.blocks[k];
                let largest = largest_entry(b);
                let dev = circulant_deviation(b);
                if dev > CIRCULANT_TOL * largest {
                    return Err(non_circulant(net, self.row_idx[k], col, dev / largest));
                }
                // λ = (1/3)·αᴴ·B·α
                let mut lambda = zero();
                for p in 0..3 {
                    let row =
                        b[3 * p] * ALPHA[0] + b[3 * p + 1] * ALPHA[1] + b[3 * p + 2] * ALPHA[2];
                    lambda += ALPHA[p].conj() * row;
                }
                self.y1[k] = lambda / 3.0;
            }
        }
        let singular = |e: crate::lu::LuError| {
            format!("the positive-sequence admittance matrix cannot be factored: {e}")
        };
        match self.lu.as_mut() {
            Some(lu) => lu.refactor(&self.y1).map_err(singular)?,
            None => {
                let n = self.nodes.len();
                let symbolic =
                    SymbolicLu::analyze(n, &self.col_ptr, &self.row_idx).map_err(singular)?;
                self.lu = Some(NumericLu::factor(Arc::new(symbolic), &self.y1).map_err(singular)?);
            }
        }
        Ok(())
    }
}

/// Why the block of `Y` between buses `row` and `col` stops the balanced mode, naming the
/// branch whose own part of that block is not circulant (else one that joins the buses).
fn non_circulant(net: &SolverNetwork, row: usize, col: usize, dev: f64) -> String {
    let place = |node: &Option<usize>| {
        let n = net.nodes.get((*node)?)?;
        Some((n.bus, n.number.checked_sub(1)? as usize))
    };
    let part = |br: &vgrid_network::Branch| {
        let mut b = [zero(); 9];
        let m = br.nodes.len();
        let y = br.prim.y.as_slice();
        for (i, ni) in br.nodes.iter().enumerate() {
            for (j, nj) in br.nodes.iter().enumerate() {
                if let (Some((bi, p)), Some((bj, q))) = (place(ni), place(nj)) {
                    if bi == row && bj == col && p < 3 && q < 3 && i * m + j < y.len() {
                        b[3 * p + q] += y[i * m + j];
                    }
                }
            }
        }
        b
    };
    let touches = |br: &vgrid_network::Branch| {
        let on = |bus: usize| {
            br.nodes
                .iter()
                .any(|n| place(n).is_some_and(|(b, _)| b == bus))
        };
        on(row) && on(col)
    };
    let culprit = net
        .branches
        .iter()
        .filter(|br| touches(br))
        .find(|br| circulant_deviation(&part(br)) > CIRCULANT_TOL * largest_entry(&part(br)))
        .or_else(|| net.branches.iter().find(|br| touches(br)))
        .map(|br| format!(": {}", br.id))
        .unwrap_or_default();
    let (a, b) = (bus_name(net, row), bus_name(net, col));
    if row == col {
        format!("the admittance at bus '{a}' is not balanced (deviation {dev:.1e} of its largest entry){culprit}")
    } else {
        format!("the admittance between buses '{a}' and '{b}' is not balanced (deviation {dev:.1e} of its largest entry){culprit}")
    }
}

/// Largest magnitude in a 3×3 block.
fn largest_entry(b: &[C64; 9]) -> f64 {
    b.iter().map(|x| x.norm()).fold(0.0, f64::max)
}

/// Largest distance of a 3×3 block (row-major) from the circulant of its first row.
fn circulant_deviation(b: &[C64; 9]) -> f64 {
    let mut dev = 0.0f64;
    for p in 0..3 {
        for q in 0..3 {
            dev = dev.max((b[3 * p + q] - b[(q + 3 - p) % 3]).norm());
        }
    }
    dev
}

/// How `p` is evaluated in positive sequence, or why it cannot be.
fn pc_place(p: &PcElement, place: &[(u32, u8)]) -> Result<PcPlace, String> {
    use vgrid_model::Connection;
    let inj = &p.injection;
    if inj.phases() != 3 {
        return Err(format!("{} phase(s), not 3", inj.phases()));
    }
    let conductors = inj.conductors();
    if p.nodes.len() != conductors || conductors > 4 {
        return Err(format!("{} conductors", p.nodes.len()));
    }
    let mut phases = [GROUND; 4];
    let mut bus = None;
    for (k, node) in p.nodes.iter().enumerate() {
        let is_neutral = inj.connection() == Connection::Wye && k == 3;
        match (node, is_neutral) {
            (None, true) => {}
            (Some(_), true) => return Err("the wye neutral is not grounded".into()),
            (None, false) => return Err(format!("phase conductor {} is grounded", k + 1)),
            (Some(i), false) => {
                let (b, ph) = place[*i];
                if *bus.get_or_insert(b) != b {
                    return Err("its phases are on different buses".into());
                }
                if phases[..k].contains(&ph) {
                    return Err("two phases on one node".into());
                }
                phases[k] = ph;
            }
        }
    }
    let bus = bus.ok_or("no phase conductor")?;
    Ok(PcPlace {
        bus,
        phases,
        conductors: conductors as u8,
        wye: inj.connection() == Connection::Wye,
        y_branch: zero(),
        node0: p.nodes[0].map_or(0, |i| i as u32),
    })
}

impl BalancedMode {
    /// The balanced mode of `sys`, qualifying or not (see the module docs).
    pub(super) fn plan(sys: &System) -> BalancedMode {
        let mut mode = BalancedMode::default();
        let planned = Plan::new(
            &sys.net,
            &sys.pc,
            &sys.source_injection,
            sys.ybus.col_ptr(),
            sys.ybus.row_idx(),
        )
        .and_then(|mut plan| {
            plan.refresh(sys.ybus.values(), &sys.net, &sys.pc)?;
            plan.built_for = Some(sys.factor_generation);
            Ok(plan)
        });
        match planned {
            Ok(plan) => {
                mode.plan = Some(Box::new(plan));
                mode.refused = None;
            }
            Err(why) => mode.refused = Some(why),
        }
        mode
    }
}

impl System {
    /// Allow (default) or forbid the positive-sequence solve of a balanced network (see the
    /// `balanced` module: the same voltages with a third of the unknowns). Forbidding it
    /// makes every power flow the full three-phase one.
    pub fn set_balanced_mode(&mut self, on: bool) {
        self.balanced.enabled = on;
    }

    /// Power flows solved in positive sequence since the system was built.
    pub fn balanced_solves(&self) -> u64 {
        self.balanced.solves
    }

    /// Whether the network qualifies for the positive-sequence solve (whether or not it is
    /// allowed): `Err` says why not, naming the bus, the element or the pair of buses.
    pub fn balanced_qualifies(&self) -> Result<(), &str> {
        match &self.balanced.refused {
            None => Ok(()),
            Some(why) => Err(why),
        }
    }

    /// The flows of branch `b` (an index of `net.branches`) at the present voltages, from the
    /// positive-sequence system: per terminal, its first conductor's voltage and current
    /// (what [`System::branch_currents`] gives for that conductor, to rounding). For a time
    /// series' statistics: 4 complex products per two-terminal branch instead of `Yprim·V`
    /// over 6 conductors. `None` when the balanced mode is off, the network does not qualify,
    /// or `b` is not a branch of one or two three-phase terminals with circulant blocks.
    /// Like the balanced solve, it assumes the present voltages are balanced, as every
    /// solution of a qualifying network is.
    pub fn balanced_branch_flows(&self, b: usize) -> Option<BalancedBranchFlows> {
        if !self.balanced.enabled {
            return None;
        }
        let seq = self.balanced.plan.as_ref()?.branches.get(b)?.as_ref()?;
        let t_n = seq.terminals as usize;
        let mut v = [zero(); 2];
        let mut v1 = [zero(); 2];
        for t in 0..t_n {
            v[t] = self.v[seq.node0[t] as usize];
            v1[t] = v[t] * ALPHA[seq.phase0[t] as usize].conj();
        }
        let mut i = [zero(); 2];
        for t in 0..t_n {
            let i1: C64 = (0..t_n).map(|u| seq.lambda[t][u] * v1[u]).sum();
            i[t] = i1 * ALPHA[seq.phase0[t] as usize];
        }
        Some(BalancedBranchFlows {
            terminals: t_n,
            v,
            i,
        })
    }

    /// [`System::total_pc_power_kva`] of a network solved in positive sequence: 3-phase wye
    /// elements from their first phase alone (three times its power), the others in full.
    /// Exact for balanced voltages, which every solution of a qualifying network has; `None`
    /// when the balanced mode is off or the network does not qualify.
    pub(super) fn balanced_pc_power_kva(&self) -> Option<C64> {
        let plan = self.balanced.plan.as_ref()?;
        if !self.balanced.enabled {
            return None;
        }
        let mut total = zero();
        for (p, at) in self.pc.iter().zip(&plan.pc) {
            if at.wye {
                if let Some(s) = p
                    .injection
                    .balanced_wye_power_kva(self.v[at.node0 as usize])
                {
                    total += s;
                    continue;
                }
            }
            let mut v = [zero(); 4];
            for (x, n) in v.iter_mut().zip(&p.nodes) {
                *x = n.map_or(zero(), |i| self.v[i]);
            }
            total += p.injection.power_kva(&v[..p.nodes.len().min(4)]);
        }
        Some(total)
    }

    /// Whether the next fixed-point power flow runs in positive sequence (rebuilding `Y1`
    /// after a change of `Y`; a `Y` that is no longer circulant ends the balanced mode).
    pub(super) fn use_balanced(&mut self) -> bool {
        if !self.balanced.enabled {
            return false;
        }
        let Some(plan) = self.balanced.plan.as_mut() else {
            return false;
        };
        if plan.built_for != Some(self.factor_generation) {
            if let Err(why) = plan.refresh(self.ybus.values(), &self.net, &self.pc) {
                self.balanced.plan = None;
                self.balanced.refused = Some(why);
                return false;
            }
            plan.built_for = Some(self.factor_generation);
        }
        true
    }

    /// The fixed-point iteration on the positive-sequence voltages, then every node's voltage.
    pub(super) fn solve_fixed_point_balanced(&mut self) -> Result<PfOutcome, PowerFlowError> {
        let Some(mut plan) = self.balanced.plan.take() else {
            return Err(PowerFlowError::Lu(
                "positive-sequence system missing".into(),
            ));
        };
        self.balanced.solves += 1;
        // start from the positive-sequence part of the present voltages
        for (k, t) in plan.nodes.iter().enumerate() {
            plan.v1[k] = project([self.v[t[0]], self.v[t[1]], self.v[t[2]]]);
            plan.inv_ref2[k] = self.v_inv_ref2[t[0]]
                .max(self.v_inv_ref2[t[1]])
                .max(self.v_inv_ref2[t[2]]);
        }
        let tol2 = self.settings.tolerance * self.settings.tolerance;
        let mut it = 0;
        let mut accepted = false;
        let mut max_change2;
        let status = loop {
            it += 1;
            let Plan {
                pc: places,
                v1,
                rhs1,
                i_source,
                ..
            } = &mut *plan;
            rhs1.copy_from_slice(i_source);
            for (p, at) in self.pc.iter().zip(places.iter()) {
                let b = at.bus as usize;
                if at.wye {
                    // the first phase alone (phase 1 of the bus nearly always)
                    let c = if at.phases[0] == 0 {
                        p.injection.balanced_wye_compensation(at.y_branch, v1[b])
                    } else {
                        let a = ALPHA[at.phases[0] as usize];
                        p.injection
                            .balanced_wye_compensation(at.y_branch, v1[b] * a)
                            .map(|c| c * a.conj())
                    };
                    if let Some(c) = c {
                        rhs1[b] += c;
                        continue;
                    }
                }
                let phases = &at.phases[..at.conductors as usize];
                rhs1[b] += any_compensation(p, v1[b], phases, &mut self.work_i);
            }
            if let Some(lu) = &plan.lu {
                lu.solve_in_place(&mut plan.rhs1);
            }
            max_change2 = 0.0f64;
            // a non-finite voltage makes its change non-finite: only then are they checked
            let mut suspect = false;
            for (((v, &new), c2_out), &inv) in plan
                .v1
                .iter_mut()
                .zip(&plan.rhs1)
                .zip(plan.change2.iter_mut())
                .zip(&plan.inv_ref2)
            {
                let c2 = (new - *v).norm_sqr() * inv;
                *c2_out = c2;
                if c2 > max_change2 {
                    max_change2 = c2;
                }
                suspect |= !c2.is_finite();
                *v = new;
            }
            if suspect && !plan.v1.iter().all(|x| x.re.is_finite() && x.im.is_finite()) {
                max_change2 = f64::INFINITY;
                break PfStatus::Diverged;
            }
            if let Some(status) = self.verdict(it, max_change2, tol2, &mut accepted) {
                break status;
            }
        };
        // every node: V·α at nodes 1, 2, 3
        for (t, &v1) in plan.nodes.iter().zip(&plan.v1) {
            self.v[t[0]] = v1;
            self.v[t[1]] = v1 * ALPHA[1];
            self.v[t[2]] = v1 * ALPHA[2];
        }
        // each node's last change, for the worst nodes of a flow that did not converge
        let mut change2 = std::mem::take(&mut self.change2);
        change2.resize(self.v.len(), 0.0);
        if status != PfStatus::Converged {
            for (t, &c2) in plan.nodes.iter().zip(&plan.change2) {
                for &i in t {
                    change2[i] = c2;
                }
            }
        }
        let outcome = self.outcome_of(status, it, max_change2.sqrt(), &change2, true);
        self.change2 = change2;
        self.balanced.plan = Some(plan);
        Ok(outcome)
    }
}

/// The positive-sequence compensation current of `p`, whose conductors sit at phases `phases`
/// (0, 1, 2, or [`GROUND`]) of a bus at positive-sequence voltage `v1`: its full three-phase
/// compensation at `v1·α`, projected.
fn any_compensation(p: &PcElement, v1: C64, phases: &[u8], work_i: &mut Vec<C64>) -> C64 {
    let m = phases.len().min(4);
    let mut v = [zero(); 4];
    let mut c = [zero(); 4];
    for (x, &ph) in v.iter_mut().zip(&phases[..m]) {
        if ph != GROUND {
            *x = v1 * ALPHA[ph as usize];
        }
    }
    p.compensation(&v[..m], &mut c[..m], work_i);
    let mut i1 = zero();
    for (&c, &ph) in c.iter().zip(&phases[..m]) {
        if ph != GROUND {
            i1 += c * ALPHA[ph as usize].conj();
        }
    }
    i1 / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use vgrid_dss::{ReadOptions, Reader};
    use vgrid_model::ElementKind;

    /// A small balanced feeder: source, three line sections, a Dyn transformer, loads.
    fn feeder() -> vgrid_model::Network {
        let lines = [
            "Clear",
            "New Circuit.f basekv=20 pu=1.0 phases=3 bus1=b0 MVAsc3=200 MVAsc1=150",
            "New Line.l1 bus1=b0 bus2=b1 phases=3 r1=0.2 x1=0.4 r0=0.6 x0=1.2 c1=9 c0=3 length=2 units=km",
            "New Line.l2 bus1=b1 bus2=b2 phases=3 r1=0.2 x1=0.4 r0=0.6 x0=1.2 c1=9 c0=3 length=2 units=km",
            "New Transformer.t phases=3 windings=2 buses=[b2 c0] conns=[delta wye] kvs=[20 0.4] kvas=[630 630] %rs=[0.5 0.5] xhl=6",
            "New Line.l3 bus1=c0 bus2=c1 phases=3 r1=0.2 x1=0.08 r0=0.8 x0=0.3 length=0.1 units=km",
            "New Load.a bus1=b1 phases=3 kv=20 kw=800 kvar=200",
            "New Load.b bus1=c1 phases=3 kv=0.4 kw=300 kvar=100 model=5",
            "Set voltagebases=[20 0.4]",
            "CalcVoltageBases",
        ];
        let mut r = Reader::new(ReadOptions::default());
        for l in lines {
            r.run_command(l, &mut |_, _| Ok(())).unwrap();
        }
        r.into_network()
    }

    #[test]
    fn alpha_is_an_eigenvector_of_every_circulant() {
        let c = [C64::new(3.0, -1.0), C64::new(-0.5, 0.2), C64::new(0.1, 0.7)];
        let mut b = [zero(); 9];
        for p in 0..3 {
            for q in 0..3 {
                b[3 * p + q] = c[(q + 3 - p) % 3];
            }
        }
        assert_eq!(circulant_deviation(&b), 0.0);
        let lambda = c[0] + c[1] * ALPHA[1] + c[2] * ALPHA[2];
        for p in 0..3 {
            let row: C64 = (0..3).map(|q| b[3 * p + q] * ALPHA[q]).sum();
            assert!((row - lambda * ALPHA[p]).norm() < 1e-14);
        }
    }

    #[test]
    fn a_y_that_stops_being_circulant_ends_the_balanced_mode() {
        let net = feeder();
        let mut sys = System::new(&net).unwrap();
        assert_eq!(sys.balanced_qualifies(), Ok(()));
        sys.solve().unwrap();
        assert_eq!(sys.balanced_solves(), 1);
        // one phase of line l3 changed: Y is refactored, Y1 refused
        let b = sys.net.branch(ElementKind::Line, "l3").unwrap();
        let mut prim = sys.net.branches[b].prim.clone();
        prim.y[(0, 0)] *= 1.01;
        prim.y[(3, 3)] *= 1.01;
        sys.replace_branch_prim(b, prim);
        let o = sys.solve().unwrap();
        assert_eq!(o.status, PfStatus::Converged);
        assert_eq!(sys.balanced_solves(), 1);
        let why = sys.balanced_qualifies().unwrap_err();
        assert!(why.contains("Line.l3"), "{why}");
        // and for good, even after a balanced change
        sys.set_tap("t", 2, 1.0125).unwrap();
        sys.solve().unwrap();
        assert_eq!(sys.balanced_solves(), 1);
    }

    #[test]
    fn a_new_load_multiplier_is_read_again() {
        let net = feeder();
        let mut fast = System::new(&net).unwrap();
        let mut full = System::new(&net).unwrap();
        full.set_balanced_mode(false);
        for (k, mult) in [1.0, 1.4, 0.6].into_iter().enumerate() {
            fast.set_load_mult(mult);
            full.set_load_mult(mult);
            fast.solve().unwrap();
            full.solve().unwrap();
            assert_eq!(fast.balanced_solves(), k as u64 + 1);
            let worst = fast
                .voltages()
                .iter()
                .zip(full.voltages())
                .map(|(a, b)| (a - b).norm() / b.norm())
                .fold(0.0, f64::max);
            assert!(worst < 1e-11, "load mult {mult}: {worst:e}");
        }
        // switched off and on again: the three-phase solve, then the balanced one
        fast.set_balanced_mode(false);
        fast.set_load_mult(1.1);
        fast.solve().unwrap();
        assert_eq!(fast.balanced_solves(), 3);
        fast.set_balanced_mode(true);
        fast.solve().unwrap();
        assert_eq!(fast.balanced_solves(), 4);
    }
}
