//! Pass-through buses: solved once per power flow instead of once per iteration.
//!
//! Feeders drawn from a GIS have many buses that only join two cable or line sections: a
//! vertex of the route, a joint, a pole without a service drop. The European LV test feeder
//! has 906 buses, 55 with a load; 701 join exactly two lines, and 53 end a line with nothing
//! on them. No current is injected at such a bus, so its voltage follows from its neighbours'
//! and the fixed-point iteration never needs it: only the loads' voltages feed the next
//! iteration.
//!
//! So the system marks the nodes with no source and no load, generator, PV or storage as
//! *candidates*, and the LU analysis ([`SymbolicLu::analyze_eliminating_first`]) eliminates
//! first those that cost no fill (a pass-through or a dead-end bus, repeatedly). An
//! iteration then solves the kept nodes only ([`NumericLu::solve_kept_in_place`]: the
//! eliminated nodes' right-hand side is zero, so their forward substitution is skipped and
//! what remains is Kron's reduction of the network), and the eliminated nodes are recovered
//! once, after the last iteration.
//!
//! ## Recovering a chain of series sections
//! Gaussian elimination recovers a pass-through bus from *both* its neighbours (its row of
//! `U` references the chain's two ends): as many products as the full solve saved. But a
//! chain `A – x₁ – … – x_k – B` of series sections (no shunt admittance: `Yprim =
//! [[Ys, −Ys], [−Ys, Ys]]`, as cables without charging capacitance, and as OpenDSS lines
//! with `C1 = C0 = 0`) carries one current `I = Z_Σ⁻¹·(V_A − V_B)` through all of its
//! sections (`Z = Ys⁻¹`, `Z_Σ` their sum), so
//!
//! ```text
//!   V_xᵢ = V_A − (Z₁ + … + Zᵢ)·I = V_A + Kᵢ·(V_B − V_A),   Kᵢ = (Z₁ + … + Zᵢ)·Z_Σ⁻¹
//! ```
//!
//! one small matrix product per bus (9 complex multiply-adds for three phases) instead of the
//! LU's 24, and a dead end (`B` absent) is `V_xᵢ = V_A`. [`ChainRecovery`] precomputes the
//! `Kᵢ` once; it covers every eliminated node or none (then the LU recovers them,
//! [`NumericLu::recover_eliminated_in_place`]), and it is checked against the LU's recovery
//! when built.
//!
//! ## Convergence test
//! Taken over the kept nodes with half the tolerance: a chain bus's change is
//! `(I − Kᵢ)·ΔV_A + Kᵢ·ΔV_B`, and with impedances in the first quadrant both factors are at
//! most 1 in size, so its change is at most the sum of its ends' changes.
//!
//! [`SymbolicLu::analyze_eliminating_first`]: crate::lu::SymbolicLu::analyze_eliminating_first
//! [`NumericLu::solve_kept_in_place`]: crate::lu::NumericLu::solve_kept_in_place
//! [`NumericLu::recover_eliminated_in_place`]: crate::lu::NumericLu::recover_eliminated_in_place

use vgrid_model::ElementKind;
use vgrid_network::{SolverNetwork, C64};

use crate::lu::NumericLu;

/// Most conductors per terminal a chain section may have.
const MAX_C: usize = 4;

/// The nodes that may be eliminated first: no source, no power-conversion element, not
/// isolated, touched by one or two series sections of lines (see [`ChainRecovery`]) and by
/// nothing else, and only as whole buses (every conductor of each section's terminal there a
/// candidate, the two sections with the same conductors in the same order).
pub(crate) fn candidates(net: &SolverNetwork, pc_nodes: &[Option<usize>], n: usize) -> Vec<bool> {
    let mut c: Vec<bool> = (0..n)
        .map(|i| net.energized.get(i).copied().unwrap_or(true))
        .collect();
    for s in &net.sources {
        for i in s.nodes.iter().flatten() {
            c[*i] = false;
        }
    }
    for i in pc_nodes.iter().flatten() {
        c[*i] = false;
    }
    // the terminals (as node lists) of series sections touching each node
    let mut seen: Vec<Option<[u32; MAX_C]>> = vec![None; n];
    let mut count = vec![0u8; n];
    let series: Vec<bool> = (0..net.branches.len())
        .map(|b| series_admittance(net, b).is_some())
        .collect();
    for (b, br) in net.branches.iter().enumerate() {
        let series = series[b];
        for t in 0..br.prim.terminals {
            let bus = terminal(net, b, t);
            let cpt = br.prim.conductors_per_terminal;
            for k in 0..cpt.min(MAX_C) {
                let Some(i) = br.nodes.get(t * cpt + k).copied().flatten() else {
                    continue;
                };
                count[i] = count[i].saturating_add(1);
                if !series || count[i] > 2 || seen[i].is_some_and(|s| s != bus) {
                    c[i] = false;
                }
                seen[i] = Some(bus);
            }
            if cpt > MAX_C {
                for i in br.nodes.iter().flatten() {
                    c[*i] = false;
                }
            }
        }
    }
    // whole buses only: a terminal with a non-candidate conductor makes all of it kept
    loop {
        let mut changed = false;
        for (b, br) in net.branches.iter().enumerate() {
            if !series[b] {
                continue;
            }
            let cpt = br.prim.conductors_per_terminal;
            for t in 0..2 {
                let nodes = &br.nodes[t * cpt..(t + 1) * cpt];
                if nodes.iter().flatten().any(|&i| !c[i]) && nodes.iter().flatten().any(|&i| c[i]) {
                    for &i in nodes.iter().flatten() {
                        c[i] = false;
                    }
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    c
}

/// One end of a chain walk: its sections, the eliminated buses after each, and the kept bus
/// it reached (`None`: a dead end).
type Walk = (Vec<usize>, Vec<[u32; MAX_C]>, Option<[u32; MAX_C]>);

/// A chain of eliminated buses between two kept ones (`b` absent: a dead end).
#[derive(Debug, Clone)]
struct Chain {
    /// Conductors per bus.
    c: usize,
    a: [u32; MAX_C],
    b: Option<[u32; MAX_C]>,
    /// Its buses: `buses[first..last]`.
    first: usize,
    last: usize,
}

/// The eliminated nodes, chain by chain, with their `Kᵢ` (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct ChainRecovery {
    chains: Vec<Chain>,
    /// Node of each conductor of each eliminated bus.
    buses: Vec<[u32; MAX_C]>,
    /// `Kᵢ` of each bus, `c × c` row-major, from `k[k_ptr[i]..]`.
    k: Vec<C64>,
    k_ptr: Vec<usize>,
    /// Branches of the chains (a change to one makes the recovery stale).
    pub(crate) branches: Vec<usize>,
}

/// `Ys` of a two-terminal series branch (`Yprim = [[Ys, −Ys], [−Ys, Ys]]`), row-major.
fn series_admittance(net: &SolverNetwork, b: usize) -> Option<(usize, Vec<C64>)> {
    let br = &net.branches[b];
    let p = &br.prim;
    let c = p.conductors_per_terminal;
    if br.id.kind != ElementKind::Line || p.terminals != 2 || c == 0 || c > MAX_C {
        return None;
    }
    if br.open.iter().any(|&o| o) || br.nodes.iter().any(|n| n.is_none()) {
        return None;
    }
    let m = 2 * c;
    let y = p.y.as_slice();
    let mut ys = vec![C64::new(0.0, 0.0); c * c];
    for r in 0..c {
        for s in 0..c {
            let v = y[r * m + s];
            // squared magnitudes: no square root (`hypot`) per entry
            let same = |w: C64| (w - v).norm_sqr() <= 1e-24 * v.norm_sqr().max(1e-300);
            if !same(y[(r + c) * m + s + c])
                || !same(-y[r * m + s + c])
                || !same(-y[(r + c) * m + s])
            {
                return None;
            }
            ys[r * c + s] = v;
        }
    }
    Some((c, ys))
}

/// Inverse of a small dense complex matrix (Gauss–Jordan with partial pivoting).
fn invert(c: usize, a: &[C64]) -> Option<Vec<C64>> {
    let mut m = a.to_vec();
    let mut inv: Vec<C64> = (0..c * c)
        .map(|k| C64::new(if k / c == k % c { 1.0 } else { 0.0 }, 0.0))
        .collect();
    let scale = a.iter().map(|z| z.norm()).fold(0.0, f64::max);
    for col in 0..c {
        let piv =
            (col..c).max_by(|&i, &j| m[i * c + col].norm().total_cmp(&m[j * c + col].norm()))?;
        if m[piv * c + col].norm() <= 1e-14 * scale || !m[piv * c + col].norm().is_finite() {
            return None;
        }
        for k in 0..c {
            m.swap(col * c + k, piv * c + k);
            inv.swap(col * c + k, piv * c + k);
        }
        let d = C64::new(1.0, 0.0) / m[col * c + col];
        for k in 0..c {
            m[col * c + k] *= d;
            inv[col * c + k] *= d;
        }
        for r in 0..c {
            if r != col {
                let f = m[r * c + col];
                if f != C64::new(0.0, 0.0) {
                    for k in 0..c {
                        let (mk, ik) = (m[col * c + k], inv[col * c + k]);
                        m[r * c + k] -= f * mk;
                        inv[r * c + k] -= f * ik;
                    }
                }
            }
        }
    }
    Some(inv)
}

fn matmul(c: usize, a: &[C64], b: &[C64]) -> Vec<C64> {
    let mut out = vec![C64::new(0.0, 0.0); c * c];
    for r in 0..c {
        for s in 0..c {
            out[r * c + s] = (0..c).map(|t| a[r * c + t] * b[t * c + s]).sum();
        }
    }
    out
}

/// The nodes of terminal `t` of branch `b` (its first [`MAX_C`] conductors; `u32::MAX` for
/// ground or a missing conductor).
fn terminal(net: &SolverNetwork, b: usize, t: usize) -> [u32; MAX_C] {
    let br = &net.branches[b];
    let c = br.prim.conductors_per_terminal;
    let mut out = [u32::MAX; MAX_C];
    let nodes = br.nodes.get(t * c..(t + 1) * c).unwrap_or(&[]);
    for (k, n) in nodes.iter().take(MAX_C).enumerate() {
        out[k] = n.map_or(u32::MAX, |i| i as u32);
    }
    out
}

impl ChainRecovery {
    /// The chains covering exactly the `eliminated` nodes, or `None` when some eliminated
    /// node is not a conductor of a bus in a chain of series sections.
    pub(crate) fn build(net: &SolverNetwork, eliminated: &[usize], n: usize) -> Option<Self> {
        if eliminated.is_empty() {
            return None;
        }
        let mut is_elim = vec![false; n];
        for &i in eliminated {
            is_elim[i] = true;
        }
        // branches touching each eliminated node
        let mut touching: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (b, br) in net.branches.iter().enumerate() {
            for i in br.nodes.iter().flatten() {
                if is_elim[*i] && touching[*i].last() != Some(&b) {
                    touching[*i].push(b);
                }
            }
        }
        // Every eliminated node: one or two series branches, each with the node's whole bus
        // (all its conductors eliminated) at one terminal.
        let mut ys: Vec<Option<(usize, Vec<C64>)>> = vec![None; net.branches.len()];
        for &i in eliminated {
            let t = &touching[i];
            if t.is_empty() || t.len() > 2 {
                return None;
            }
            for &b in t {
                if ys[b].is_none() {
                    ys[b] = Some(series_admittance(net, b)?);
                }
            }
        }
        let side_of = |b: usize, node: usize| -> Option<usize> {
            let c = net.branches[b].prim.conductors_per_terminal;
            let pos = net.branches[b]
                .nodes
                .iter()
                .position(|&x| x == Some(node))?;
            Some(pos / c)
        };
        let all_elim = |t: &[u32; MAX_C], c: usize| t[..c].iter().all(|&i| is_elim[i as usize]);
        let none_elim = |t: &[u32; MAX_C], c: usize| t[..c].iter().all(|&i| !is_elim[i as usize]);
        let mut visited = vec![false; n];
        let mut rec = ChainRecovery {
            chains: Vec::new(),
            buses: Vec::new(),
            k: Vec::new(),
            k_ptr: Vec::new(),
            branches: Vec::new(),
        };
        for &start in eliminated {
            if visited[start] {
                continue;
            }
            // the bus of `start`: a terminal of its first branch
            let b0 = touching[start][0];
            let c = net.branches[b0].prim.conductors_per_terminal;
            let bus0 = terminal(net, b0, side_of(b0, start)?);
            if !all_elim(&bus0, c) {
                return None;
            }
            // Walk to one end: from a bus, leave through the branch not arrived by.
            let walk = |from_bus: [u32; MAX_C], via: Option<usize>| -> Option<Walk> {
                let mut sections = Vec::new();
                let mut buses = Vec::new();
                let mut bus = from_bus;
                let mut arrived = via;
                loop {
                    let node = bus[0] as usize;
                    let t = &touching[node];
                    // the bus's conductors must all see the same branches
                    if bus[..c].iter().any(|&i| touching[i as usize] != *t) {
                        return None;
                    }
                    let next = t.iter().copied().find(|&b| Some(b) != arrived);
                    let Some(b) = next else {
                        return Some((sections, buses, None)); // a dead end
                    };
                    if net.branches[b].prim.conductors_per_terminal != c {
                        return None;
                    }
                    let side = side_of(b, node)?;
                    if terminal(net, b, side)[..c] != bus[..c] {
                        return None; // conductors in another order
                    }
                    let other = terminal(net, b, 1 - side);
                    sections.push(b);
                    if none_elim(&other, c) {
                        return Some((sections, buses, Some(other)));
                    }
                    if !all_elim(&other, c) || other[..c] == from_bus[..c] {
                        return None;
                    }
                    buses.push(other);
                    bus = other;
                    arrived = Some(b);
                    if buses.len() > n {
                        return None;
                    }
                }
            };
            let t0 = &touching[start];
            let (sec_a, buses_a, end_a) = walk(bus0, t0.get(1).copied())?;
            let (sec_b, buses_b, end_b) = if t0.len() == 2 {
                walk(bus0, Some(t0[0]))?
            } else {
                (Vec::new(), Vec::new(), None)
            };
            // Orient A → B, with A a kept bus: the walk that reached A reversed, then the
            // other; the sections from A, and the buses after each.
            let ((near_s, near_b), (far_s, far_b), a, b) = match (end_a, end_b) {
                (Some(a), b) => ((sec_a, buses_a), (sec_b, buses_b), a, b),
                (None, Some(b_end)) => ((sec_b, buses_b), (sec_a, buses_a), b_end, None),
                (None, None) => return None, // an island of eliminated buses
            };
            let mut sections: Vec<usize> = near_s.into_iter().rev().chain(far_s).collect();
            let mut buses: Vec<[u32; MAX_C]> = near_b
                .into_iter()
                .rev()
                .chain([bus0])
                .chain(far_b)
                .collect();
            if b.is_none() {
                // a dead end keeps its sections up to the last bus; none past it
                sections.truncate(buses.len());
            }
            if sections.len() != buses.len() + usize::from(b.is_some()) {
                return None;
            }
            for bus in &buses {
                for &i in &bus[..c] {
                    if visited[i as usize] {
                        return None;
                    }
                    visited[i as usize] = true;
                }
            }
            // Kᵢ = (Z₁ + … + Zᵢ)·Z_Σ⁻¹ (not needed for a dead end)
            let first = rec.buses.len();
            let zero = C64::new(0.0, 0.0);
            let z: Vec<Vec<C64>> = sections
                .iter()
                .map(|&s| invert(c, &ys[s].as_ref().expect("series checked").1))
                .collect::<Option<_>>()?;
            let mut z_sum = vec![zero; c * c];
            for zi in &z {
                for (s, x) in z_sum.iter_mut().zip(zi) {
                    *s += x;
                }
            }
            let z_sum_inv = if b.is_some() {
                Some(invert(c, &z_sum)?)
            } else {
                None
            };
            let mut z_cum = vec![zero; c * c];
            for (i, bus) in buses.iter().enumerate() {
                for (s, x) in z_cum.iter_mut().zip(&z[i]) {
                    *s += x;
                }
                rec.k_ptr.push(rec.k.len());
                if let Some(zi) = &z_sum_inv {
                    rec.k.extend(matmul(c, &z_cum, zi));
                }
                rec.buses.push(*bus);
            }
            rec.branches.extend(&sections);
            rec.chains.push(Chain {
                c,
                a,
                b,
                first,
                last: rec.buses.len(),
            });
            buses.clear();
            sections.clear();
        }
        // every eliminated node is covered
        if eliminated.iter().any(|&i| !visited[i]) {
            return None;
        }
        rec.branches.sort_unstable();
        rec.branches.dedup();
        Some(rec)
    }

    /// Writes the eliminated nodes' voltages into `v` from the kept ones.
    pub(crate) fn recover(&self, v: &mut [C64]) {
        for ch in &self.chains {
            let c = ch.c;
            let mut va = [C64::new(0.0, 0.0); MAX_C];
            for k in 0..c {
                va[k] = v[ch.a[k] as usize];
            }
            match ch.b {
                None => {
                    for bus in &self.buses[ch.first..ch.last] {
                        for k in 0..c {
                            v[bus[k] as usize] = va[k];
                        }
                    }
                }
                Some(b) => {
                    let mut d = [C64::new(0.0, 0.0); MAX_C];
                    for k in 0..c {
                        d[k] = v[b[k] as usize] - va[k];
                    }
                    if c == 3 {
                        self.recover_chain::<3>(ch, &va, &d, v);
                    } else {
                        for (i, bus) in self.buses[ch.first..ch.last].iter().enumerate() {
                            let k = &self.k[self.k_ptr[ch.first + i]..];
                            for r in 0..c {
                                let mut x = va[r];
                                for s in 0..c {
                                    x += k[r * c + s] * d[s];
                                }
                                v[bus[r] as usize] = x;
                            }
                        }
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn recover_chain<const C: usize>(
        &self,
        ch: &Chain,
        va: &[C64; MAX_C],
        d: &[C64; MAX_C],
        v: &mut [C64],
    ) {
        let start = self.k_ptr[ch.first];
        let ks = &self.k[start..start + (ch.last - ch.first) * C * C];
        for (bus, k) in self.buses[ch.first..ch.last]
            .iter()
            .zip(ks.chunks_exact(C * C))
        {
            for r in 0..C {
                let mut x = va[r];
                for s in 0..C {
                    x += k[r * C + s] * d[s];
                }
                v[bus[r] as usize] = x;
            }
        }
    }

    /// Largest difference, relative to the largest voltage, between this recovery and the
    /// LU's on the present voltages (a check when built).
    pub(crate) fn deviation_from(&self, lu: &NumericLu, v: &[C64], eliminated: &[usize]) -> f64 {
        let mut by_lu = v.to_vec();
        for &i in eliminated {
            by_lu[i] = C64::new(0.0, 0.0);
        }
        lu.recover_eliminated_in_place(&mut by_lu);
        let mut mine = v.to_vec();
        self.recover(&mut mine);
        let scale = v.iter().map(|z| z.norm()).fold(0.0, f64::max).max(1e-300);
        eliminated
            .iter()
            .map(|&i| (by_lu[i] - mine[i]).norm() / scale)
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use vgrid_dss::{ReadOptions, Reader};
    use vgrid_model::{Algorithm, Network};

    use crate::solve::{PfSettings, PfStatus, System};

    fn network(commands: &[String]) -> Network {
        let mut r = Reader::new(ReadOptions::default());
        for c in commands {
            r.run_command(c, &mut |_, _| Ok(())).unwrap();
        }
        r.into_network()
    }

    /// The fixed-point solve (with elimination) and its largest difference from the Newton
    /// solve (which eliminates nothing), relative to the node's voltage (at least 1 V).
    fn fixed_point_against_newton(net: &Network) -> (System, f64) {
        let fixed = solved(net, Algorithm::FixedPoint);
        let newton = solved(net, Algorithm::Newton);
        let worst = fixed
            .voltages()
            .iter()
            .zip(newton.voltages())
            .map(|(a, b)| (a - b).norm() / b.norm().max(1.0))
            .fold(0.0, f64::max);
        (fixed, worst)
    }

    fn solved(net: &Network, algorithm: Algorithm) -> System {
        let mut sys = System::new(net).unwrap();
        sys.settings = PfSettings {
            tolerance: 1e-12,
            max_iterations: 200,
            accept_tolerance: 1e-12,
            accept_iterations: 200,
            algorithm,
        };
        assert_eq!(sys.solve().unwrap().status, PfStatus::Converged);
        sys
    }

    /// A six-wire section (more conductors than a chain section may have) is simply kept.
    #[test]
    fn a_six_wire_line_is_kept_not_a_panic() {
        let line = |name: &str, b1: &str, b2: &str, phases: u32| {
            format!(
                "New Line.{name} bus1={b1} bus2={b2} phases={phases} r1=0.2 x1=0.1 r0=0.6 x0=0.3 c1=0 c0=0 length=1 units=km"
            )
        };
        let cmds = [
            "Clear".to_string(),
            "New Circuit.c basekv=10 phases=3 bus1=src".to_string(),
            line("a", "src", "j", 3),
            line("b", "j", "k", 3),
            line("six", "k.1.2.3.1.2.3", "m.1.2.3.4.5.6", 6),
            line("c", "m", "n", 3),
            line("d", "n", "p", 3),
            "New Load.p bus1=p phases=3 kv=10 kw=100 kvar=20".to_string(),
            "New Load.m bus1=m.4.5.6 phases=3 kv=10 kw=100 kvar=20".to_string(),
            "Set voltagebases=[10]".to_string(),
            "CalcVoltageBases".to_string(),
        ];
        let (_, worst) = fixed_point_against_newton(&network(&cmds));
        assert!(worst <= 1e-9, "largest relative difference {worst:e}");
    }

    /// A cable of five sections with joints between them, a dead-end stub of two sections, a
    /// single-phase tap, and a line with charging capacitance (not a series section): the
    /// joints and the stub are eliminated first and recovered by their chains, and every node
    /// equals the Newton solve's (which uses no elimination).
    #[test]
    fn joints_and_dead_ends_are_eliminated_and_recovered_exactly() {
        let mut cmds = vec![
            "Clear".to_string(),
            "New Circuit.c basekv=10 phases=3 bus1=src".to_string(),
            "New Transformer.t phases=3 windings=2 buses=[src lv] conns=[delta wye] kvs=[10 0.4] kvas=[400 400] xhl=4".to_string(),
        ];
        let mut from = "lv".to_string();
        for k in 1..=5 {
            let to = if k == 5 {
                "end".to_string()
            } else {
                format!("j{k}")
            };
            cmds.push(format!(
                "New Line.s{k} bus1={from} bus2={to} phases=3 r1=0.2 x1=0.08 r0=0.6 x0=0.3 c1=0 c0=0 length={} units=km",
                0.05 + 0.01 * k as f64
            ));
            from = to;
        }
        cmds.extend([
            "New Line.stub1 bus1=j2 bus2=d1 phases=3 r1=0.3 x1=0.08 r0=0.9 x0=0.3 c1=0 c0=0 length=0.04 units=km".to_string(),
            "New Line.stub2 bus1=d1 bus2=d2 phases=3 r1=0.3 x1=0.08 r0=0.9 x0=0.3 c1=0 c0=0 length=0.04 units=km".to_string(),
            "New Line.tap bus1=j3.2 bus2=h.2 phases=1 r1=0.4 x1=0.1 r0=0.4 x0=0.1 c1=0 c0=0 length=0.03 units=km".to_string(),
            "New Load.h bus1=h.2 phases=1 kv=0.23 kw=6 kvar=2".to_string(),
            "New Line.cap bus1=end bus2=far phases=3 r1=0.2 x1=0.08 r0=0.6 x0=0.3 c1=300 c0=150 length=0.1 units=km".to_string(),
            "New Load.far bus1=far phases=3 kv=0.4 kw=60 kvar=20".to_string(),
            "New Load.end bus1=end phases=3 kv=0.4 kw=40 kvar=10 model=2".to_string(),
            "Set voltagebases=[10 0.4]".to_string(),
            "CalcVoltageBases".to_string(),
        ]);
        let (fixed, worst) = fixed_point_against_newton(&network(&cmds));
        // j1 and j4 (joints), d1 and d2 (the stub); not j2 (the stub's junction: three
        // sections), j3 (the tap), lv (the transformer), end or far (loads)
        assert_eq!(fixed.eliminated_nodes(), (12, true));
        assert!(worst < 1e-9, "largest relative difference {worst:e}");
        // the stub carries no current: its buses sit at their junction's voltage
        let j2 = fixed.node_voltage("j2", 1).unwrap();
        assert_eq!(fixed.node_voltage("d2", 1).unwrap(), j2);
    }
}
