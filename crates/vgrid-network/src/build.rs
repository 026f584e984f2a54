//! Node numbering and element lowering: the engineering model becomes a [`SolverNetwork`].
//!
//! Every node of every bus that some element touches, except node 0 (ground), gets one index
//! `0..n`. Each element is lowered to its primitive matrix plus the node index of each of its
//! conductors (`None` for ground, for an opened conductor, or for a node cut off from every
//! source). Nothing here knows about iterations or load models: loads, generators and PV systems
//! are only located ([`PcRef`]); `vgrid-powerflow` gives them their current laws.
//!
//! ```text
//!   Line.650632  bus1=rg60.1.2.3  bus2=632.1.2.3
//!   conductors:  0    1    2    3    4    5
//!   nodes:       rg60.1 rg60.2 rg60.3 632.1 632.2 632.3  ->  indices 3 4 5 6 7 8
//! ```
//!
//! Islands: nodes that no chain of branches joins to a source are *isolated*: they are left out
//! of the system (their voltage is zero) and listed in [`SolverNetwork::isolated_buses`], so that
//! an open switch de-energises what lies behind it instead of making `Y` singular.

use std::collections::HashMap;

use vgrid_model::{BusRef, Connection, ElementId, ElementKind, Network};

use crate::prim::{self, source::SourcePrim, Prim};
use crate::{CMatrix, NetworkError, C64};

/// A node of a bus, as the solver sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Index into [`SolverNetwork::buses`].
    pub bus: usize,
    /// OpenDSS node number (1, 2, 3 = phases a, b, c; 4 = neutral, ...).
    pub number: u32,
}

/// A bus and its nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Bus {
    pub name: String,
    /// `(node number, node index)` in order of first use.
    pub nodes: Vec<(u32, usize)>,
    /// Line-to-neutral base voltage, kV, once voltage bases are known.
    pub kv_base_ln: Option<f64>,
    pub coord: Option<(f64, f64)>,
}

/// A power-delivery element (line, transformer, capacitor, reactor): its primitive matrix and
/// the node of each conductor.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub id: ElementId,
    /// Index into the model's table of that kind (`net.lines`, `net.transformers`, ...).
    pub index: usize,
    /// Primitive matrix with the rows and columns of opened conductors zeroed.
    pub prim: Prim,
    pub nodes: Vec<Option<usize>>,
    /// Conductors opened by `Open` or a switching device.
    pub open: Vec<bool>,
}

/// A voltage source: Norton equivalent (primitive matrix and EMF) and its nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: ElementId,
    pub index: usize,
    pub prim: SourcePrim,
    pub nodes: Vec<Option<usize>>,
}

impl Source {
    /// Norton current injected into each conductor: `Yprim · [E; 0]`.
    pub fn norton_currents(&self) -> Vec<C64> {
        let n = self.prim.prim.y.cols();
        let mut e = vec![C64::new(0.0, 0.0); n];
        for (k, v) in self.prim.emf_v.iter().enumerate() {
            e[k] = *v;
        }
        self.prim.prim.y.mul_vec(&e)
    }
}

/// A power-conversion element (load, generator, PV system, storage): where it connects.
#[derive(Debug, Clone, PartialEq)]
pub struct PcRef {
    pub id: ElementId,
    pub index: usize,
    pub nodes: Vec<Option<usize>>,
}

/// The network as the solver sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverNetwork {
    pub frequency_hz: f64,
    pub buses: Vec<Bus>,
    pub nodes: Vec<Node>,
    pub branches: Vec<Branch>,
    pub sources: Vec<Source>,
    pub loads: Vec<PcRef>,
    pub generators: Vec<PcRef>,
    pub pv_systems: Vec<PcRef>,
    pub storages: Vec<PcRef>,
    /// Buses with at least one node cut off from every source.
    pub isolated_buses: Vec<String>,
    /// Per node: joined to a source through branches.
    pub energized: Vec<bool>,
    bus_index: NameMap<usize>,
    branch_index: HashMap<ElementKind, NameMap<usize>>,
}

/// Number of conductors of a power-conversion element's terminal, as OpenDSS: wye elements have
/// a neutral conductor after the phases; delta elements have one conductor per phase, except
/// 1- and 2-phase delta elements, which span `phases + 1` conductors.
pub fn pc_conductors(phases: usize, conn: Connection) -> usize {
    match conn {
        Connection::Wye => phases + 1,
        Connection::Delta if phases <= 2 => phases + 1,
        Connection::Delta => phases,
    }
}

struct Numbering {
    buses: Vec<Bus>,
    nodes: Vec<Node>,
    bus_index: NameMap<usize>,
}

impl Numbering {
    fn bus(&mut self, name: &str) -> usize {
        if let Some(&b) = self.bus_index.get(name) {
            return b;
        }
        let b = self.buses.len();
        self.buses.push(Bus {
            name: name.to_string(),
            nodes: Vec::new(),
            kv_base_ln: None,
            coord: None,
        });
        self.bus_index.insert(name.to_string(), b);
        b
    }

    fn node(&mut self, bus: usize, number: u32) -> Option<usize> {
        if number == 0 {
            return None;
        }
        // a bus has a handful of nodes: a scan beats hashing
        if let Some(&(_, i)) = self.buses[bus].nodes.iter().find(|(n, _)| *n == number) {
            return Some(i);
        }
        let i = self.nodes.len();
        self.nodes.push(Node { bus, number });
        self.buses[bus].nodes.push((number, i));
        Some(i)
    }

    /// Node indices of `conductors` conductors of a terminal on `bus_ref`.
    fn terminal(
        &mut self,
        bus_ref: &BusRef,
        conductors: usize,
        phases: usize,
    ) -> Vec<Option<usize>> {
        let b = self.bus(&bus_ref.bus);
        (0..conductors)
            .map(|k| {
                let n = bus_ref.node_of_conductor(k, phases);
                self.node(b, n)
            })
            .collect()
    }
}

fn grounded(bus1: &BusRef, phases: usize) -> BusRef {
    BusRef {
        bus: bus1.bus.clone(),
        nodes: vec![0; phases],
    }
}

fn id(kind: ElementKind, name: &str) -> ElementId {
    ElementId {
        kind,
        name: name.to_string(),
    }
}

impl SolverNetwork {
    /// Lower `net` at its base frequency. Disabled elements are left out.
    pub fn build(net: &Network) -> Result<SolverNetwork, NetworkError> {
        let f = if net.base_frequency_hz > 0.0 {
            net.base_frequency_hz
        } else {
            net.settings.default_base_frequency_hz
        };
        let mut num = Numbering {
            buses: Vec::new(),
            nodes: Vec::new(),
            bus_index: NameMap::default(),
        };
        let mut sources = Vec::new();
        for (i, s) in net.sources.iter().enumerate().filter(|(_, s)| s.enabled) {
            let sp = prim::source::vsource(s, f)?;
            let c = sp.prim.conductors_per_terminal;
            let mut nodes = num.terminal(&s.bus1, c, s.phases);
            let b2 = s
                .bus2
                .clone()
                .unwrap_or_else(|| grounded(&s.bus1, s.phases));
            nodes.extend(num.terminal(&b2, c, s.phases));
            sources.push(Source {
                id: id(ElementKind::Vsource, &s.name),
                index: i,
                prim: sp,
                nodes,
            });
        }
        if sources.is_empty() {
            return Err(NetworkError::Network(
                "the network has no enabled voltage source (New Circuit.<name> creates one)".into(),
            ));
        }
        let mut branches = Vec::new();
        for (i, t) in net
            .transformers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.enabled)
        {
            let p = prim::transformer::transformer(t, f)?;
            let c = p.conductors_per_terminal;
            let nodes = t
                .windings
                .iter()
                .flat_map(|w| num.terminal(&w.bus, c, t.phases))
                .collect();
            branches.push(branch(ElementKind::Transformer, &t.name, i, p, nodes));
        }
        for (i, l) in net.lines.iter().enumerate().filter(|(_, l)| l.enabled) {
            let p = prim::line::line(l, net, f)?;
            let c = p.conductors_per_terminal;
            let mut nodes = num.terminal(&l.bus1, c, l.phases);
            nodes.extend(num.terminal(&l.bus2, c, l.phases));
            branches.push(branch(ElementKind::Line, &l.name, i, p, nodes));
        }
        for (i, c) in net.capacitors.iter().enumerate().filter(|(_, c)| c.enabled) {
            let p = prim::shunt::capacitor(c, f)?;
            let nodes = two_terminal_shunt(&mut num, &p, &c.bus1, c.bus2.as_ref(), c.phases);
            branches.push(branch(ElementKind::Capacitor, &c.name, i, p, nodes));
        }
        for (i, r) in net.reactors.iter().enumerate().filter(|(_, r)| r.enabled) {
            let p = prim::shunt::reactor(r, f)?;
            let nodes = two_terminal_shunt(&mut num, &p, &r.bus1, r.bus2.as_ref(), r.phases);
            branches.push(branch(ElementKind::Reactor, &r.name, i, p, nodes));
        }
        let mut pc = |kind, name: &str, i, bus: &BusRef, phases, conn| PcRef {
            id: id(kind, name),
            index: i,
            nodes: num.terminal(bus, pc_conductors(phases, conn), phases),
        };
        let loads: Vec<PcRef> = net
            .loads
            .iter()
            .enumerate()
            .filter(|(_, l)| l.enabled)
            .map(|(i, l)| pc(ElementKind::Load, &l.name, i, &l.bus1, l.phases, l.conn))
            .collect();
        let generators: Vec<PcRef> = net
            .generators
            .iter()
            .enumerate()
            .filter(|(_, g)| g.enabled)
            .map(|(i, g)| {
                pc(
                    ElementKind::Generator,
                    &g.name,
                    i,
                    &g.bus1,
                    g.phases,
                    g.conn,
                )
            })
            .collect();
        let pv_systems: Vec<PcRef> = net
            .pv_systems
            .iter()
            .enumerate()
            .filter(|(_, p)| p.enabled)
            .map(|(i, p)| pc(ElementKind::PvSystem, &p.name, i, &p.bus1, p.phases, p.conn))
            .collect();
        let storages: Vec<PcRef> = net
            .storages
            .iter()
            .enumerate()
            .filter(|(_, s)| s.enabled)
            .map(|(i, s)| pc(ElementKind::Storage, &s.name, i, &s.bus1, s.phases, s.conn))
            .collect();

        let mut sn = SolverNetwork {
            frequency_hz: f,
            buses: num.buses,
            nodes: num.nodes,
            branches,
            sources,
            loads,
            generators,
            pv_systems,
            storages,
            isolated_buses: Vec::new(),
            energized: Vec::new(),
            bus_index: num.bus_index,
            branch_index: HashMap::new(),
        };
        for (i, b) in sn.branches.iter().enumerate() {
            sn.branch_index
                .entry(b.id.kind)
                .or_default()
                .insert(b.id.name.clone(), i);
        }
        sn.apply_open_terminals(net);
        sn.cut_isolated_nodes();
        for c in &net.bus_coords {
            if let Some(&b) = sn.bus_index.get(&c.bus) {
                sn.buses[b].coord = Some((c.x, c.y));
            }
        }
        Ok(sn)
    }

    /// Number of node unknowns.
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Index of a bus by (lower-case) name.
    pub fn bus_index(&self, name: &str) -> Option<usize> {
        self.bus_index.get(name).copied()
    }

    /// Node index of `bus.number`.
    pub fn node_index(&self, bus: &str, number: u32) -> Option<usize> {
        let b = self.bus_index(bus)?;
        self.buses[b]
            .nodes
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, i)| *i)
    }

    /// Find a branch by kind and name.
    pub fn branch(&self, kind: ElementKind, name: &str) -> Option<usize> {
        self.branch_index.get(&kind)?.get(name).copied()
    }

    /// Replace a branch's primitive matrix (a tap change, a capacitor step switched), keeping
    /// its opened conductors open.
    pub fn set_branch_prim(&mut self, branch: usize, mut prim: Prim) {
        let b = &mut self.branches[branch];
        open_conductors(&mut prim.y, &b.open);
        b.prim = prim;
    }

    fn apply_open_terminals(&mut self, net: &Network) {
        let mut touched = Vec::new();
        for o in &net.open_terminals {
            let Some(b) = self.branch(o.element.kind, &o.element.name) else {
                continue;
            };
            let br = &mut self.branches[b];
            let c = br.prim.conductors_per_terminal;
            let first = (o.terminal.max(1) - 1) * c;
            let conductors: Vec<usize> = match o.conductor {
                Some(k) if k >= 1 && k <= c => vec![first + k - 1],
                Some(_) => Vec::new(),
                None => (first..first + c).collect(),
            };
            for k in conductors {
                if k < br.open.len() {
                    br.open[k] = true;
                }
            }
            touched.push(b);
        }
        for b in touched {
            let br = &mut self.branches[b];
            open_conductors(&mut br.prim.y, &br.open);
        }
    }

    /// Mark nodes that no branch path joins to a source, and disconnect them.
    fn cut_isolated_nodes(&mut self) {
        let n = self.nodes.len();
        // union-find over nodes: two nodes are joined when some element couples them
        let mut sets = DisjointSets::new(n);
        let mut link = |prim: &CMatrix, nodes: &[Option<usize>]| {
            for (i, ni) in nodes.iter().enumerate() {
                let Some(a) = *ni else { continue };
                for (j, nj) in nodes.iter().enumerate().skip(i + 1) {
                    if let Some(b) = *nj {
                        if prim[(i, j)] != C64::new(0.0, 0.0) || prim[(j, i)] != C64::new(0.0, 0.0)
                        {
                            sets.union(a, b);
                        }
                    }
                }
            }
        };
        for b in &self.branches {
            link(&b.prim.y, &b.nodes);
        }
        for s in &self.sources {
            link(&s.prim.prim.y, &s.nodes);
        }
        // a load's conductors are joined through the load itself: a floating wye neutral
        // (`bus1=x.1.2.3.4` with nothing else on x.4) is energised through its phases
        for p in self
            .loads
            .iter()
            .chain(&self.generators)
            .chain(&self.pv_systems)
            .chain(&self.storages)
        {
            let mut on_network = p.nodes.iter().flatten();
            if let Some(&first) = on_network.next() {
                for &other in on_network {
                    sets.union(first, other);
                }
            }
        }
        let mut source_set = vec![false; n];
        for s in &self.sources {
            for &v in s.nodes.iter().flatten() {
                let r = sets.find(v);
                source_set[r] = true;
            }
        }
        let reached: Vec<bool> = (0..n).map(|v| source_set[sets.find(v)]).collect();
        self.energized = reached.clone();
        if reached.iter().all(|&r| r) {
            return;
        }
        let mut isolated: Vec<String> = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if !reached[i] {
                let name = &self.buses[node.bus].name;
                if isolated.last() != Some(name) && !isolated.contains(name) {
                    isolated.push(name.clone());
                }
            }
        }
        let cut = |nodes: &mut Vec<Option<usize>>| {
            for n in nodes.iter_mut() {
                if matches!(n, Some(i) if !reached[*i]) {
                    *n = None;
                }
            }
        };
        for b in &mut self.branches {
            cut(&mut b.nodes);
        }
        for p in self
            .loads
            .iter_mut()
            .chain(&mut self.generators)
            .chain(&mut self.pv_systems)
            .chain(&mut self.storages)
        {
            cut(&mut p.nodes);
        }
        self.isolated_buses = isolated;
    }
}

fn branch(
    kind: ElementKind,
    name: &str,
    index: usize,
    prim: Prim,
    nodes: Vec<Option<usize>>,
) -> Branch {
    Branch {
        id: id(kind, name),
        index,
        open: vec![false; nodes.len()],
        prim,
        nodes,
    }
}

fn two_terminal_shunt(
    num: &mut Numbering,
    p: &Prim,
    bus1: &BusRef,
    bus2: Option<&BusRef>,
    phases: usize,
) -> Vec<Option<usize>> {
    let c = p.conductors_per_terminal;
    let mut nodes = num.terminal(bus1, c, phases);
    if p.terminals >= 2 {
        let b2 = bus2.cloned().unwrap_or_else(|| grounded(bus1, c));
        nodes.extend(num.terminal(&b2, c, phases));
    }
    nodes
}

/// Remove opened conductors from a primitive matrix. An open conductor carries no current and
/// its voltage floats, so it is eliminated (Kron reduction) rather than zeroed: zeroing its
/// row and column would instead tie it to ground. A series element opened at one end is left
/// with only its shunt admittance at the other, and the open conductor with 1e-12 S to ground,
/// as in OpenDSS.
fn open_conductors(y: &mut CMatrix, open: &[bool]) {
    let n = y.cols();
    for (k, _) in open.iter().enumerate().filter(|(_, o)| **o) {
        let ykk = y[(k, k)];
        let scale = (0..n).map(|j| y[(j, j)].norm()).fold(0.0, f64::max);
        if ykk.norm() > scale * 1e-14 {
            for i in (0..n).filter(|&i| i != k) {
                let f = y[(i, k)] / ykk;
                if f == C64::new(0.0, 0.0) {
                    continue;
                }
                for j in (0..n).filter(|&j| j != k) {
                    let ykj = y[(k, j)];
                    y[(i, j)] -= f * ykj;
                }
            }
        }
        let z = C64::new(0.0, 0.0);
        for j in 0..n {
            y[(k, j)] = z;
            y[(j, k)] = z;
        }
        // as OpenDSS: the open conductor keeps a 1e-12 S tie to ground, so that an island
        // it leaves behind (a source alone on its bus) is not singular
        y[(k, k)] = C64::new(OPEN_CONDUCTOR_S, 0.0);
    }
}

/// Admittance to ground left on an opened conductor, siemens (OpenDSS's value).
const OPEN_CONDUCTOR_S: f64 = 1e-12;

/// A map keyed by element or bus name, with the fast non-cryptographic Fx hash (the keys come
/// from the user's own model; there is nothing to defend against).
type NameMap<V> = vgrid_model::hash::FxHashMap<String, V>;

/// Union–find with path halving and union by size.
struct DisjointSets {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> DisjointSets {
        DisjointSets {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut v: usize) -> usize {
        while self.parent[v] != v {
            self.parent[v] = self.parent[self.parent[v]];
            v = self.parent[v];
        }
        v
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_one_end_of_a_series_branch_leaves_its_shunt_only() {
        // one conductor: series 10 S, shunt 0.5 S at each end
        let c = |re: f64| C64::new(re, 0.0);
        let mut y = CMatrix::from_row_major(2, 2, vec![c(10.5), c(-10.0), c(-10.0), c(10.5)]);
        open_conductors(&mut y, &[false, true]);
        // 10.5 - 10·10/10.5: the series path through the floating end to its shunt
        assert!((y[(0, 0)] - c(10.5 - 100.0 / 10.5)).norm() < 1e-12);
        assert_eq!(y[(1, 1)], c(OPEN_CONDUCTOR_S));
        assert_eq!(y[(0, 1)], c(0.0));
    }

    #[test]
    fn a_pure_series_branch_opened_at_one_end_carries_nothing() {
        let c = |re: f64| C64::new(re, 0.0);
        let mut y = CMatrix::from_row_major(2, 2, vec![c(1e6), c(-1e6), c(-1e6), c(1e6)]);
        open_conductors(&mut y, &[false, true]);
        assert!(y[(0, 0)].norm() < 1e-6);
    }
}
