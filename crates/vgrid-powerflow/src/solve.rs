//! The power-flow system and its fixed-point current-injection solution.
//!
//! `Y` holds every power-delivery element, every source impedance and the *nominal* admittance
//! of every load, generator and PV system. Each iteration computes the current that makes the
//! nominal admittance behave like the element's real current law (the compensation current),
//! then solves one linear system:
//!
//! ```text
//!   Y · V(k+1) = I_source + Σ_pc ( Y_pc · V(k) − I_pc(V(k)) )
//! ```
//!
//! This is OpenDSS's "Normal" algorithm. Its fixed point is the power-flow solution
//! `Y_pd · V = I_source − Σ I_pc(V)`, independent of the iteration. `Y` only changes when
//! a tap moves or a capacitor switches; then the values are re-stamped and the LU refactored
//! with the same symbolic analysis. Iterations stop when the largest change of any node voltage,
//! relative to the voltage level of its bus (its largest no-load node voltage, so that a
//! neutral near 0 V is judged on the bus's scale), falls below the tolerance.
//!
//! Non-convergence is an outcome ([`PfStatus`]), never a panic: the report names the nodes
//! whose voltage still moved most.
//!
//! ## Cost of an iteration, and what was tried to cut it
//! One iteration is: the compensation currents (every load, generator, PV), one sparse LU
//! solve, and the convergence test over every node. Callgrind instructions per iteration,
//! warm re-solve after a load change (`bench/compare_opendss.py`'s scenario), before → after:
//!
//! | | IEEE 123 (278 unknowns) | European LV (2,721) |
//! |---|---|---|
//! | LU solve (`lu.rs`: block layout, split values) | 58k → 40k | 575k → 402k |
//! | compensation (branch by branch, stack arrays) | 40k → 28k | 66k → 60k |
//! | regulator sampling per control iteration | 24k → 10k | — |
//!
//! The largest gain is not per iteration: a re-solve after one load's change starts from a
//! cached secant (`vgrid::SnapshotSolver`), which takes the IEEE 123 control loop from 7 to 1
//! iteration when the change repeats an earlier one, and to 2.4–2.6 for random or ramped
//! changes. Tried and rejected: Anderson acceleration (depth 2: 88 → 76 iterations over the
//! IEEE 123 control loop, slower on EULV), scaling the stamped load admittance (no consistent
//! gain), an elimination-order work vector for the LU solve (see `lu.rs`), the constant-PQ
//! law on the squared magnitude with one division (−1 % of the compensation instructions, no
//! measurable wall-time change). Anderson acceleration again, with its secant pairs kept
//! across the flows of a time series (depth 2–8): IEEE 123 year 6.94 → 6.29 iterations per
//! step, not worth its vector work; the fixed point already contracts by ~0.05 per iteration
//! there, so what pays is a better start (`vgrid-timeseries`' start cache). Deferring the
//! refactorisation after a tap move (`ΔY·V` carried on the right-hand side, branch
//! `defer-refactor`): IEEE 123's near-ideal regulators (`XHL = 0.01 %`) make `Y_f⁻¹·ΔY` ≈ 0.12
//! per tap step, and a flow took 13–25 iterations instead of 6–8; on IEEE 13 it halved the
//! refactorisations for −0.2 % of the instructions. Not kept. A memo of the LU rows a tap
//! move redoes (the union of the regulators' and capacitors' elimination-tree paths, 60 of
//! 278 steps on IEEE 123), saved per control state and put back when the state returns,
//! checked bit for bit against the rows' input values (branch `lu-memo-experiment`): over
//! the IEEE 123 year only 770 of the 4,163 partial refactorisations could be restored,
//! because re-stamping `Y` as `−old + new` rounds, so a tap state that comes back brings
//! back a `Y` that differs in its last bits (1,882 of the 2,652 returns of a control state;
//! 1,343 distinct states of 21.6 kB each). Callgrind 1.329 G → 1.438 G instructions (29 MB
//! memo) or 1.457 G (8 MiB). Even restoring whenever the control state returns (as if `Y`
//! did not drift; answers then differ in their last bits) gave 2,913 restores and 1.298 G
//! instructions (29 MB) or 1.425 G (8 MiB): a restore rewrote and repacked all 60 rows
//! (~27k instructions against ~58k for a partial refactorisation) and a save cost ~25k. It
//! could pay only with a `Y` that does not drift (re-stamping the changed entries from their
//! parts), restores that copy pre-packed values, and more than 8 MiB.
//!
//! The compensation of 1- and 3-phase wye loads and generators (nearly every element) is
//! gathered, evaluated and scattered inline (`compensate_wye_at`): one loop of fixed length per
//! law, no per-phase dispatch, the same arithmetic in the same order. On the time series of the
//! village, SimBench 1-LV-rural1 and 1-MV-urban this took the instructions per step outside
//! the LU from 2.53 M, 101 k and 1.69 M to 1.78 M, 73 k and 1.07 M. Tried again and rejected:
//! the squared-magnitude law with one division (−1.1 % instructions on 1-MV-urban, wall time
//! within noise, answers no longer bit-identical); putting the source currents back into `rhs`
//! in the pass that reads the solution instead of a copy (no gain).
//!
//! A wye element whose neutral is grounded (most loads) is compensated over its phases only
//! (the neutral's voltage is 0 and its current goes to ground), a 1-phase delta load has a
//! path of its own, and the constant-Z, constant-current and above-`vmaxpu` constant-PQ laws
//! are inline as well; constant PQ tests its band on `|V|²` against thresholds that give the
//! very outcome of the test on `|V|` (no square root inside the band); the law's variant is
//! an explicit tag. A time step sets each load's power without comparing its constants again
//! (`System` keeps every load's law lowered from its own load), and the loads' total power
//! takes the same inline paths. Callgrind, IEEE 123 year / European LV day, bit-identical
//! answers: compensation 13.7 k → 9.7 k instructions per iteration / 10.7 k → 5.4 k; per
//! step `set_load_powers` 15.9 k → 4.4 k, `total_pc_power_kva` 12.4 k → 8.4 k; the whole run
//! 467 k → 424 k per step / 569 k → 531 k. The load law's and the injection's fields laid out
//! hot first took the compensation's simulated L1 read misses from 632 to 488 per iteration
//! (IEEE 123). Reading callgrind: the `rhs` fill of `System::compensation_rhs` shows as
//! ~4.4 k instructions per IEEE 123 iteration in `memset`, but they are the byte steps of one
//! `rep stosb` over 4.4 kB (a few hundred cycles at most).

use std::sync::Arc;

use vgrid_model::{Algorithm, ElementId, ElementKind, Generator, Network, PvSystem};
use vgrid_network::{prim, BlockId, CMatrix, NetworkError, SolverNetwork, YBus, YBusBuilder, C64};

use crate::injection::Injection;
use crate::lu::{LuError, NumericLu, SymbolicLu};

mod balanced;
mod chains;
mod reduced;
pub use balanced::BalancedBranchFlows;
use balanced::BalancedMode;
use chains::ChainRecovery;
use reduced::LoadSpace;

/// Why a system could not be built or solved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PowerFlowError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The admittance matrix is singular: a node is floating.
    #[error("the admittance matrix is singular at node {node} (bus '{bus}', node {number}): nothing ties it to ground or to a source (hint: a floating delta winding or an unconnected neutral?)")]
    Singular {
        node: usize,
        bus: String,
        number: u32,
    },
    #[error("sparse LU: {0}")]
    Lu(String),
}

/// Outcome of one power flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PfStatus {
    Converged,
    /// Ran out of iterations; the voltages are the last iterate.
    MaxIterations,
    /// A voltage became non-finite.
    Diverged,
}

/// Report of one power flow.
#[derive(Debug, Clone, PartialEq)]
pub struct PfOutcome {
    pub status: PfStatus,
    pub iterations: u32,
    /// Largest relative voltage change in the last iteration.
    pub max_change: f64,
    /// Up to five nodes with the largest last change: `(bus, node, change)`.
    pub worst: Vec<(String, u32, f64)>,
}

pub(crate) struct PcElement {
    id: ElementId,
    pub(crate) nodes: Vec<Option<usize>>,
    pub(crate) injection: Injection,
    /// The admittance stamped into `Y` for this element (its nominal admittance when built).
    pub(crate) yprim: CMatrix,
    block: BlockId,
}

/// Tolerances of the power flow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PfSettings {
    /// Relative voltage change vgrid iterates down to (at most 1e-9).
    pub tolerance: f64,
    /// Iteration budget for reaching `tolerance` (at least 100).
    pub max_iterations: u32,
    /// The script's tolerance (`Set tolerance`, OpenDSS default 1e-4): a flow that reaches it
    /// within `accept_iterations` is converged, even if the polish to `tolerance` runs out.
    pub accept_tolerance: f64,
    /// The script's iteration limit (`Set maxiterations`, OpenDSS default 15): a flow that
    /// has not reached `accept_tolerance` by then stops with `MaxIterations`.
    pub accept_iterations: u32,
    /// Fixed-point current injection (OpenDSS "Normal", default) or Newton–Raphson over the
    /// same equations (`Set algorithm=newton`).
    pub algorithm: Algorithm,
}

impl PfSettings {
    /// The script's tolerance and iteration limit decide convergence, as in OpenDSS; once
    /// they are met vgrid keeps iterating down to 1e-9 (OpenDSS's default 1e-4 leaves errors
    /// of ~1e-5 pu), within a budget of at least 100 iterations.
    pub fn from_model(s: &vgrid_model::Settings) -> PfSettings {
        PfSettings {
            tolerance: s.tolerance_pu.min(1e-9),
            max_iterations: s.max_iterations.max(100),
            accept_tolerance: s.tolerance_pu.max(1e-9),
            accept_iterations: s.max_iterations.max(1),
            algorithm: s.algorithm,
        }
    }
}

/// The numerical system of one network topology.
pub struct System {
    pub net: SolverNetwork,
    model: Network,
    pub(crate) ybus: YBus,
    branch_blocks: Vec<BlockId>,
    pub(crate) pc: Vec<PcElement>,
    source_injection: Vec<C64>,
    /// The nodes where `source_injection` is not `+0 + j0` (a few: the sources' terminals).
    source_nodes: Vec<usize>,
    symbolic: Arc<SymbolicLu>,
    lu: Option<NumericLu>,
    y_dirty: bool,
    /// Unknowns whose rows and columns of `Y` changed since the last factorisation, when only
    /// some did (a tap, a capacitor step): the LU then redoes only their elimination-tree paths.
    y_changed_nodes: Vec<usize>,
    /// Some change touched all of `Y` (load multiplier): refactor everything.
    y_all_changed: bool,
    pub(crate) v: Vec<C64>,
    pub(crate) initialized: bool,
    pub settings: PfSettings,
    pub(crate) rhs: Vec<C64>,
    work_v: Vec<C64>,
    work_i: Vec<C64>,
    /// Pattern, symbolic analysis and work space of the Newton Jacobian, built on first use.
    pub(crate) newton: Option<Box<crate::newton::NewtonCache>>,
    last_outcome: Option<PfOutcome>,
    iteration_count: u32,
    /// Work space: squared relative change of each node in the last iteration.
    change2: Vec<f64>,
    /// Squared voltage level of each node, the yardstick of the convergence test.
    v_ref2: Vec<f64>,
    /// `1 / v_ref2`.
    v_inv_ref2: Vec<f64>,
    /// The load-node system, where iterating on the load nodes pays (see `reduced.rs`).
    load_space: Option<LoadSpace>,
    /// Counts factorisations; the load-node system remembers the one it was built with.
    factor_generation: u64,
    /// Full fixed-point iterations done with the present factorisation.
    iterations_on_factor: u64,
    /// Whether the load-node iteration may be used (default true).
    load_space_enabled: bool,
    /// Power flows solved on the load nodes.
    load_space_solves: u64,
    /// The positive-sequence solve of a balanced network (see `balanced.rs`).
    balanced: BalancedMode,
    /// This system's [`ControlledSystem::layout_id`](crate::control::ControlledSystem::layout_id):
    /// unique per system, so the controls' branch places are never used on another one.
    layout_id: u64,
    /// Nodes eliminated first in the LU (pass-through and dead-end buses, see `chains.rs`),
    /// recovered once per power flow; the others, iterated on, in `kept`.
    eliminated: Vec<usize>,
    kept: Vec<u32>,
    /// The chains' cheap recovery of the eliminated nodes (`None`: the LU's).
    chain_recovery: Option<ChainRecovery>,
    /// Whether the chain recovery was compared with the LU's.
    chains_checked: bool,
    /// How much the latest fixed-point flow's largest change understates the tolerance its
    /// test met: 1, 2 on the kept nodes (half the tolerance), 4 on the load nodes (a quarter);
    /// `NaN` after a Newton flow (see [`System::last_change_bound`]).
    change_scale: f64,
    /// Transformer matrices by branch and winding taps (bits), built once per tap position
    /// ([`System::set_tap`]); at most [`TAP_PRIMS`].
    tap_prims: std::collections::HashMap<(usize, [u64; 3]), prim::Prim>,
}

/// The most transformer matrices [`System::set_tap`] keeps (a 3-winding matrix is ~1 kB).
const TAP_PRIMS: usize = 4096;

/// The largest squared relative change `|new − old|²·inv_ref2` over the nodes (what
/// `relative_change2` computes, node by node, no bounds checks), and whether any change is
/// not finite. Four running maxima: one would chain every node's comparison on the one
/// before (on IEEE 123 that chain was half of the convergence test's time); the maximum of
/// the four is the same number.
fn largest_change2(old: &[C64], new: &[C64], inv_ref2: &[f64]) -> (f64, bool) {
    const W: usize = 4;
    let mut m = [0.0f64; W];
    let mut suspect = false;
    let mut node = |k: usize, old: &C64, new: &C64, inv_ref2: f64| {
        // a product, not a division, per node and iteration
        let c2 = (new - old).norm_sqr() * inv_ref2;
        if c2 > m[k] {
            m[k] = c2;
        }
        suspect |= !c2.is_finite();
    };
    let (o, n, w) = (
        old.chunks_exact(W),
        new.chunks_exact(W),
        inv_ref2.chunks_exact(W),
    );
    let (o_tail, n_tail, w_tail) = (o.remainder(), n.remainder(), w.remainder());
    for ((o, n), w) in o.zip(n).zip(w) {
        for k in 0..W {
            node(k, &o[k], &n[k], w[k]);
        }
    }
    for ((o, n), &w) in o_tail.iter().zip(n_tail).zip(w_tail) {
        node(0, o, n, w);
    }
    let mut max = 0.0;
    for x in m {
        if x > max {
            max = x;
        }
    }
    (max, suspect)
}

/// The next [`System`]'s layout id (never 0).
fn next_layout_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn zero() -> C64 {
    C64::new(0.0, 0.0)
}

/// Adds the compensation of `p`, a `P`-phase wye load or generator, to `rhs` at voltages `v`
/// (see [`Injection::add_compensation_wye`]); false, nothing added, for any other element.
/// A grounded neutral (most loads) takes only the phases: the neutral's voltage is 0 and its
/// current goes to ground.
#[inline(always)]
fn compensate_wye_at<const P: usize>(p: &PcElement, v: &[C64], rhs: &mut [C64]) -> bool {
    let n = P + 1;
    let mut vp = [zero(); 4];
    let mut c = [zero(); 4];
    if n > vp.len() || p.nodes.len() != n {
        return false;
    }
    if p.nodes[P].is_none() {
        // loops of length P (the phases' nodes)
        let phases = &p.nodes[..P];
        let mut vk = [zero(); P];
        for (x, node) in vk.iter_mut().zip(phases) {
            if let Some(i) = *node {
                *x = v[i];
            }
        }
        let Some(c) = p
            .injection
            .grounded_wye_compensation::<P>(p.yprim.as_slice(), &vk)
        else {
            return false;
        };
        for (&c, node) in c.iter().zip(phases) {
            if let Some(i) = *node {
                rhs[i] += c;
            }
        }
        return true;
    }
    for (x, node) in vp[..n].iter_mut().zip(&p.nodes) {
        if let Some(i) = *node {
            *x = v[i];
        }
    }
    if !p
        .injection
        .add_compensation_wye::<P>(p.yprim.as_slice(), &vp[..n], &mut c[..n])
    {
        return false;
    }
    for (&c, node) in c[..n].iter().zip(&p.nodes) {
        if let Some(i) = *node {
            rhs[i] += c;
        }
    }
    true
}

/// The voltages at the `N` conductors `nodes` (0 for ground), in a loop of fixed length;
/// `None` when there are not `N`.
#[inline(always)]
fn conductor_voltages_at<const N: usize>(nodes: &[Option<usize>], v: &[C64]) -> Option<[C64; N]> {
    let nodes: &[Option<usize>; N] = nodes.try_into().ok()?;
    let mut x = [zero(); N];
    for (x, node) in x.iter_mut().zip(nodes) {
        if let Some(i) = *node {
            *x = v[i];
        }
    }
    Some(x)
}

/// Adds the compensation of `p`, a 1-phase delta load or generator (one branch between its
/// two conductors), to `rhs` at voltages `v` (see [`Injection::delta1_compensation`]); false,
/// nothing added, for any other element.
#[inline(always)]
fn compensate_delta1_at(p: &PcElement, v: &[C64], rhs: &mut [C64]) -> bool {
    let [a, b] = p.nodes[..] else {
        return false;
    };
    let at = |n: Option<usize>| n.map_or(zero(), |i| v[i]);
    let Some(c) = p
        .injection
        .delta1_compensation(p.yprim.as_slice(), at(a) - at(b))
    else {
        return false;
    };
    if let Some(i) = a {
        rhs[i] += c;
    }
    if let Some(i) = b {
        rhs[i] -= c;
    }
    true
}

impl System {
    /// Lower and assemble `model`.
    pub fn new(model: &Network) -> Result<System, PowerFlowError> {
        let net = SolverNetwork::build(model)?;
        let n = net.n_nodes();
        let mut b = YBusBuilder::new(n);
        let branch_blocks: Vec<BlockId> = net
            .branches
            .iter()
            .map(|br| b.add_block(&br.nodes))
            .collect();
        let source_blocks: Vec<BlockId> =
            net.sources.iter().map(|s| b.add_block(&s.nodes)).collect();
        let f = net.frequency_hz;
        let lm = model.settings.load_mult;
        let mut pc = Vec::new();
        for r in &net.loads {
            let inj = Injection::load(&model.loads[r.index], lm, f);
            pc.push((r, inj));
        }
        for r in &net.generators {
            pc.push((r, Injection::generator(&model.generators[r.index], f)));
        }
        for r in &net.pv_systems {
            pc.push((
                r,
                Injection::pv_system(&model.pv_systems[r.index], &model.xy_curves, f),
            ));
        }
        for r in &net.storages {
            pc.push((r, Injection::storage(&model.storages[r.index], f)));
        }
        let pc: Vec<PcElement> = pc
            .into_iter()
            .map(|(r, injection)| PcElement {
                id: r.id.clone(),
                nodes: r.nodes.clone(),
                block: b.add_block(&r.nodes),
                yprim: injection.stamped_yprim(&r.nodes),
                injection,
            })
            .collect();
        // a node cut off from every source gets the equation V = 0 (a 1 S tie to ground)
        let isolated: Vec<BlockId> = (0..n)
            .filter(|&i| !net.energized.get(i).copied().unwrap_or(true))
            .map(|i| b.add_block(&[Some(i)]))
            .collect();
        let mut ybus = b.finish();
        for blk in &isolated {
            ybus.stamp(*blk, &CMatrix::identity(1), 1.0);
        }
        for (br, blk) in net.branches.iter().zip(&branch_blocks) {
            ybus.stamp(*blk, &br.prim.y, 1.0);
        }
        for (s, blk) in net.sources.iter().zip(&source_blocks) {
            ybus.stamp(*blk, &s.prim.prim.y, 1.0);
        }
        for p in &pc {
            ybus.stamp(p.block, &p.yprim, 1.0);
        }
        let mut source_injection = vec![zero(); n];
        for s in &net.sources {
            for (k, i) in s.norton_currents().into_iter().enumerate() {
                if let Some(node) = s.nodes[k] {
                    source_injection[node] += i;
                }
            }
        }
        // Pass-through and dead-end buses eliminated first where their chains can be
        // recovered cheaply and they are at least a fifth of the nodes (see `chains.rs`).
        let lu_err = |e: LuError| PowerFlowError::Lu(e.to_string());
        let pc_nodes: Vec<Option<usize>> =
            pc.iter().flat_map(|p| p.nodes.iter().copied()).collect();
        let candidates = chains::candidates(&net, &pc_nodes, n);
        // (the candidates are strict enough that the analysis takes nearly all of them)
        let symbolic = if n > 0 && 5 * candidates.iter().filter(|&&c| c).count() >= n {
            SymbolicLu::analyze_eliminating_first(n, ybus.col_ptr(), ybus.row_idx(), &candidates)
        } else {
            SymbolicLu::analyze(n, ybus.col_ptr(), ybus.row_idx())
        };
        let symbolic = Arc::new(symbolic.map_err(lu_err)?);
        let eliminated = symbolic.eliminated_first().to_vec();
        let chain_recovery = ChainRecovery::build(&net, &eliminated, n);
        let mut is_eliminated = vec![false; n];
        for &i in &eliminated {
            is_eliminated[i] = true;
        }
        let kept: Vec<u32> = (0..n)
            .filter(|&i| !is_eliminated[i])
            .map(|i| i as u32)
            .collect();
        let load_space = LoadSpace::plan(&pc, symbolic.nnz_factors_kept(), n);
        let mut sys = System {
            net,
            // the tables a solve changes or reads again; not the load shapes
            model: Network {
                transformers: model.transformers.clone(),
                capacitors: model.capacitors.clone(),
                loads: model.loads.clone(),
                generators: model.generators.clone(),
                pv_systems: model.pv_systems.clone(),
                storages: model.storages.clone(),
                xy_curves: model.xy_curves.clone(),
                settings: model.settings.clone(),
                base_frequency_hz: model.base_frequency_hz,
                ..Network::default()
            },
            ybus,
            branch_blocks,
            pc,
            source_nodes: (0..n)
                .filter(|&i| {
                    let c = source_injection[i];
                    c.re.to_bits() != 0 || c.im.to_bits() != 0
                })
                .collect(),
            source_injection,
            symbolic,
            lu: None,
            y_dirty: true,
            y_changed_nodes: Vec::new(),
            y_all_changed: true,
            v: vec![zero(); n],
            initialized: false,
            settings: PfSettings::from_model(&model.settings),
            rhs: vec![zero(); n],
            work_v: Vec::new(),
            work_i: Vec::new(),
            last_outcome: None,
            iteration_count: 0,
            change2: Vec::new(),
            v_ref2: Vec::new(),
            v_inv_ref2: Vec::new(),
            newton: None,
            load_space,
            factor_generation: 0,
            iterations_on_factor: 0,
            load_space_enabled: true,
            eliminated,
            kept,
            chain_recovery,
            chains_checked: false,
            load_space_solves: 0,
            balanced: BalancedMode::default(),
            layout_id: next_layout_id(),
            change_scale: f64::NAN,
            tap_prims: std::collections::HashMap::new(),
        };
        sys.factor()?;
        sys.balanced = BalancedMode::plan(&sys);
        Ok(sys)
    }

    /// The element tables this system was built from (transformers, capacitors, loads,
    /// generators, PV systems, curves and settings; not the rest), with taps, capacitor
    /// states and load powers as last set.
    pub fn model(&self) -> &Network {
        &self.model
    }

    fn lu_error(&self, e: LuError) -> PowerFlowError {
        match e {
            LuError::Singular { column, .. } if column < self.net.nodes.len() => {
                let node = &self.net.nodes[column];
                PowerFlowError::Singular {
                    node: column,
                    bus: self.net.buses[node.bus].name.clone(),
                    number: node.number,
                }
            }
            e => PowerFlowError::Lu(e.to_string()),
        }
    }

    fn factor(&mut self) -> Result<(), PowerFlowError> {
        if !self.y_dirty {
            return Ok(());
        }
        let r = match self.lu.as_mut() {
            Some(lu) if !self.y_all_changed && !self.y_changed_nodes.is_empty() => {
                lu.refactor_partial(self.ybus.values(), &self.y_changed_nodes)
            }
            Some(lu) => lu.refactor(self.ybus.values()),
            None => NumericLu::factor(self.symbolic.clone(), self.ybus.values()).map(|lu| {
                self.lu = Some(lu);
            }),
        };
        self.y_changed_nodes.clear();
        self.y_all_changed = false;
        self.factor_generation += 1;
        self.iterations_on_factor = 0;
        r.map_err(|e| self.lu_error(e))?;
        self.y_dirty = false;
        Ok(())
    }

    /// Node voltages, V (index = node index of [`SolverNetwork::nodes`]).
    pub fn voltages(&self) -> &[C64] {
        &self.v
    }

    /// Start the next power flow from the present voltages plus `t·dv` (a prediction along a
    /// cached sensitivity), in place. Ignored when the length differs or the system has not
    /// been initialised.
    pub fn shift_start_voltages(&mut self, dv: &[C64], t: f64) {
        if self.initialized && dv.len() == self.v.len() {
            for (v, d) in self.v.iter_mut().zip(dv) {
                *v += d * t;
            }
        }
    }

    /// Exchange the voltages the next power flow starts from with `v`: a prediction written
    /// into a spare vector goes in, the present solution comes out, without a copy. False,
    /// nothing exchanged, when the length differs or the system has not been initialised.
    /// The solution does not depend on the start, only the iterations do.
    pub fn swap_start_voltages(&mut self, v: &mut Vec<C64>) -> bool {
        if self.initialized && v.len() == self.v.len() {
            std::mem::swap(&mut self.v, v);
            true
        } else {
            false
        }
    }

    /// Start the next power flow from `v` (e.g. a time series' prediction of the next step)
    /// instead of the present voltages. Ignored when the length differs or the system has
    /// not been initialised. The solution does not depend on the start, only the iterations do.
    pub fn set_start_voltages(&mut self, v: &[C64]) {
        if self.initialized && v.len() == self.v.len() {
            self.v.copy_from_slice(v);
        }
    }

    /// Start from the no-load solution (every load at its nominal admittance), as OpenDSS does
    /// on a first solve.
    pub fn initialize(&mut self) -> Result<(), PowerFlowError> {
        self.factor()?;
        self.v.copy_from_slice(&self.source_injection);
        if let Some(lu) = &self.lu {
            lu.solve_in_place(&mut self.v);
        }
        self.v_ref2 = self.voltage_levels();
        self.v_inv_ref2 = self.v_ref2.iter().map(|r| 1.0 / r).collect();
        self.initialized = true;
        Ok(())
    }

    /// Squared voltage level of each node for the convergence test: the largest no-load
    /// voltage among the nodes of its bus. A neutral or a floating star point, whose own
    /// voltage is near zero, is thus judged against its bus's phase voltage.
    fn voltage_levels(&self) -> Vec<f64> {
        let mut bus_max = vec![0.0f64; self.net.buses.len()];
        for (i, node) in self.net.nodes.iter().enumerate() {
            bus_max[node.bus] = bus_max[node.bus].max(self.v[i].norm_sqr());
        }
        let global = bus_max.iter().copied().fold(0.0, f64::max).max(1.0);
        self.net
            .nodes
            .iter()
            .map(|node| {
                let m = bus_max[node.bus];
                if m > 0.0 && m.is_finite() {
                    m
                } else {
                    global
                }
            })
            .collect()
    }

    /// Change of node `i` relative to its voltage level, squared.
    #[inline]
    pub(crate) fn relative_change2(&self, i: usize, new: C64) -> f64 {
        (new - self.v[i]).norm_sqr() / self.v_ref2[i]
    }

    /// Change the load multiplier of every load (a new `Set loadmult`), keeping `Y`.
    pub fn set_load_mult(&mut self, load_mult: f64) {
        let f = self.net.frequency_hz;
        for (p, r) in self.pc.iter_mut().zip(&self.net.loads) {
            if p.id.kind == ElementKind::Load {
                p.injection = Injection::load(&self.model.loads[r.index], load_mult, f);
                let new = p.injection.stamped_yprim(&p.nodes);
                self.ybus.stamp(p.block, &p.yprim, -1.0);
                self.ybus.stamp(p.block, &new, 1.0);
                p.yprim = new;
                self.y_dirty = true;
                self.y_all_changed = true;
            }
        }
        self.model.settings.load_mult = load_mult;
    }

    /// Change one load's nominal power (kW, kvar) — the cheap path of a re-solve after a load
    /// change: `Y` keeps its nominal admittance; only the current law moves.
    pub fn set_load_kw_kvar(&mut self, load: usize, p_kw: f64, q_kvar: f64) {
        self.model.loads[load].p_kw = p_kw;
        self.model.loads[load].q_kvar = q_kvar;
        let f = self.net.frequency_hz;
        let lm = self.model.settings.load_mult;
        if let Some(p) = self
            .pc
            .iter_mut()
            .find(|p| p.id.kind == ElementKind::Load && p.id.name == self.model.loads[load].name)
        {
            // the admittance already in Y stays: the fixed point does not depend on it
            p.injection = Injection::load(&self.model.loads[load], lm, f);
        }
    }

    /// Set the nominal power of every load for a time step, `powers[i] = (kW, kvar)` of
    /// `model().loads[i]` with every multiplier applied (shape, load multiplier). `Y` keeps
    /// its nominal admittances (the fixed point does not depend on them), so nothing is
    /// refactored; loads beyond `powers` keep their present power.
    pub fn set_load_powers(&mut self, powers: &[(f64, f64)]) {
        for (p, r) in self.pc.iter_mut().zip(&self.net.loads) {
            if p.id.kind != ElementKind::Load {
                continue;
            }
            if let (Some(&(p_kw, q_kvar)), Some(load)) =
                (powers.get(r.index), self.model.loads.get(r.index))
            {
                // lowered from this very load (`new`, `set_load_mult`, `set_load_kw_kvar`
                // rebuild it whenever the load changes): only the power moves
                p.injection.set_power_of_own_load(load, p_kw, q_kvar);
            }
        }
    }

    /// Replace the current law of every generator and PV system for a time step:
    /// `generators[i]` and `pv_systems[i]` stand for `model().generators[i]` and
    /// `model().pv_systems[i]` with this step's output (kW, kvar, irradiance...). `Y` keeps its
    /// nominal admittances, as in [`System::set_load_powers`]; tables shorter than the model's
    /// leave the remaining elements as they are.
    pub fn set_generation(&mut self, generators: &[Generator], pv_systems: &[PvSystem]) {
        let f = self.net.frequency_hz;
        let records = self
            .net
            .loads
            .iter()
            .chain(&self.net.generators)
            .chain(&self.net.pv_systems);
        for (p, r) in self.pc.iter_mut().zip(records) {
            match p.id.kind {
                ElementKind::Generator => {
                    if let Some(g) = generators.get(r.index) {
                        p.injection.set_generator(g, f);
                    }
                }
                ElementKind::PvSystem => {
                    if let Some(pv) = pv_systems.get(r.index) {
                        p.injection = Injection::pv_system(pv, &self.model.xy_curves, f);
                    }
                }
                _ => {}
            }
        }
    }

    /// Replace the current law of every storage element for a time step: `outputs[i]` is
    /// what `model().storages[i]` puts out now (`vgrid_timeseries` dispatches them). `Y`
    /// keeps the admittances stamped when the system was built, as in [`System::set_generation`].
    pub fn set_storage(&mut self, outputs: &[crate::injection::StorageOutput]) {
        let f = self.net.frequency_hz;
        let first = self
            .pc
            .iter()
            .position(|p| p.id.kind == ElementKind::Storage)
            .unwrap_or(self.pc.len());
        for (p, r) in self.pc[first..].iter_mut().zip(&self.net.storages) {
            if let (Some(out), Some(s)) = (outputs.get(r.index), self.model.storages.get(r.index)) {
                p.injection = Injection::storage_with_output(s, out, f);
            }
        }
    }

    /// Run one power flow from the present voltages with the configured algorithm. The
    /// outcome is also kept ([`System::last_outcome`]) and its iterations added to
    /// [`System::iteration_count`].
    pub fn solve(&mut self) -> Result<PfOutcome, PowerFlowError> {
        let outcome = if self.settings.algorithm == Algorithm::Newton {
            self.change_scale = f64::NAN;
            self.solve_newton()?
        } else {
            self.solve_fixed_point()?
        };
        self.iteration_count += outcome.iterations;
        self.last_outcome = Some(outcome.clone());
        Ok(outcome)
    }

    /// The assembled admittance matrix `Y` (CSC), as last stamped.
    pub fn ybus(&self) -> &YBus {
        &self.ybus
    }

    /// Allow (default) or forbid iterating on the load nodes only (see the `reduced` module:
    /// the same voltages, fewer multiply-adds on feeders with many nodes and few loads).
    pub fn set_load_node_iteration(&mut self, on: bool) {
        self.load_space_enabled = on;
    }

    /// Nodes eliminated first and recovered once per power flow (pass-through and dead-end
    /// buses, see `solve/chains.rs`), and whether their chains recover them (else the LU).
    pub fn eliminated_nodes(&self) -> (usize, bool) {
        (self.eliminated.len(), self.chain_recovery.is_some())
    }

    /// Power flows solved by iterating on the load nodes only, since the system was built.
    pub fn load_node_solves(&self) -> u64 {
        self.load_space_solves
    }

    /// The nodes whose voltages the next power flow starts from, when it does not read them
    /// all (`None`: every node's start counts). With nodes eliminated first (see
    /// `solve/chains.rs`) the fixed-point iteration reads the kept nodes only, and recovers
    /// the others from them; a caller predicting the start (a time series) need move only
    /// these. `None` for Newton, a network the positive-sequence solve may take, and until the
    /// chains' first recovery (which reads every node) has been made.
    pub fn start_nodes(&self) -> Option<&[u32]> {
        let kept_only = self.initialized
            && self.chains_checked
            && !self.eliminated.is_empty()
            && self.settings.algorithm != Algorithm::Newton
            && self.balanced_qualifies().is_err();
        kept_only.then_some(self.kept.as_slice())
    }

    /// Outcome of the latest power flow.
    pub fn last_outcome(&self) -> Option<&PfOutcome> {
        self.last_outcome.as_ref()
    }

    /// The tolerance the latest power flow's final iteration met, when it converged by the
    /// fixed point: its largest relative change, on the scale of [`PfSettings::tolerance`].
    /// A flow converged to a loose tolerance (a control loop's 1e-6) whose last iteration
    /// happened to move less than the tight one already meets it, and needs no polish.
    /// `None` after a Newton flow or one that did not converge.
    pub fn last_change_bound(&self) -> Option<f64> {
        let o = self.last_outcome.as_ref()?;
        let bound = o.max_change * self.change_scale;
        (o.status == PfStatus::Converged && bound.is_finite()).then_some(bound)
    }

    /// Power-flow iterations since the system was built or the count reset.
    pub fn iteration_count(&self) -> u32 {
        self.iteration_count
    }

    /// Restart the iteration count (e.g. at the start of a control loop).
    pub fn reset_iteration_count(&mut self) {
        self.iteration_count = 0;
    }

    /// OpenDSS's "Normal" fixed-point iteration from the present voltages.
    fn solve_fixed_point(&mut self) -> Result<PfOutcome, PowerFlowError> {
        if !self.initialized {
            self.initialize()?;
        } else {
            self.factor()?;
        }
        if self.use_balanced() {
            self.change_scale = 1.0;
            return self.solve_fixed_point_balanced();
        }
        if self.load_space_enabled && self.use_load_space() {
            self.load_space_solves += 1;
            self.change_scale = 4.0;
            return self.solve_fixed_point_reduced();
        }
        if !self.eliminated.is_empty() {
            self.change_scale = 2.0;
            return Ok(self.solve_fixed_point_kept());
        }
        self.change_scale = 1.0;
        let n = self.v.len();
        // compare squared relative changes: no square roots in the hot loop
        let tol2 = self.settings.tolerance * self.settings.tolerance;
        let mut it = 0;
        let mut max_change2: f64;
        let mut change2 = std::mem::take(&mut self.change2);
        change2.resize(n, 0.0);
        let mut accepted = false;
        let status = loop {
            it += 1;
            self.compensation_rhs();
            if let Some(lu) = &self.lu {
                lu.solve_in_place(&mut self.rhs);
            }
            // A non-finite new voltage makes its change non-finite: only then are the new
            // voltages themselves checked (a finite voltage may still overflow the change).
            let suspect;
            // one read-only pass; the new voltages then take the place of the old by a swap,
            // the old ones staying in `rhs` (for the outcome) until the next compensation
            (max_change2, suspect) = largest_change2(&self.v, &self.rhs, &self.v_inv_ref2);
            std::mem::swap(&mut self.v, &mut self.rhs);
            if suspect && !self.v.iter().all(|x| x.re.is_finite() && x.im.is_finite()) {
                max_change2 = f64::INFINITY;
                break PfStatus::Diverged;
            }
            if let Some(status) = self.verdict(it, max_change2, tol2, &mut accepted) {
                break status;
            }
        };
        self.iterations_on_factor += u64::from(it);
        if status != PfStatus::Converged {
            // each node's last change, for the worst nodes of the outcome
            for (((c2, new), old), &inv_ref2) in change2
                .iter_mut()
                .zip(&self.v)
                .zip(&self.rhs)
                .zip(&self.v_inv_ref2)
            {
                *c2 = (new - old).norm_sqr() * inv_ref2;
            }
        }
        let outcome = self.outcome_of(status, it, max_change2.sqrt(), &change2, true);
        self.change2 = change2;
        Ok(outcome)
    }

    /// The fixed-point iteration over the kept nodes (see `chains.rs`), then one recovery of
    /// the eliminated ones. The test takes half the tolerance: a chain bus changes by at most
    /// the sum of its two ends' changes.
    fn solve_fixed_point_kept(&mut self) -> PfOutcome {
        let n = self.v.len();
        let tol2 = self.settings.tolerance * self.settings.tolerance / 4.0;
        let mut it = 0;
        let mut max_change2: f64;
        let mut change2 = std::mem::take(&mut self.change2);
        change2.resize(n, 0.0);
        let mut accepted = false;
        // The eliminated nodes' right-hand side stays zero (nothing writes it, the kept solve
        // leaves it): zero it once, then only the kept nodes' each iteration (462 of 2,721
        // nodes on the European LV feeder).
        self.rhs.fill(zero());
        let status = loop {
            it += 1;
            if it > 1 {
                for &i in &self.kept {
                    self.rhs[i as usize] = zero();
                }
            }
            self.add_compensation_rhs();
            if let Some(lu) = &self.lu {
                lu.solve_kept_in_place(&mut self.rhs);
            }
            max_change2 = 0.0;
            let mut finite = true;
            for &i in &self.kept {
                let i = i as usize;
                let (new, v) = (self.rhs[i], &mut self.v[i]);
                let c2 = (new - *v).norm_sqr() * self.v_inv_ref2[i];
                change2[i] = c2;
                if c2 > max_change2 {
                    max_change2 = c2;
                }
                finite &= new.re.is_finite() && new.im.is_finite();
                *v = new;
            }
            if !finite {
                max_change2 = f64::INFINITY;
                break PfStatus::Diverged;
            }
            if let Some(status) = self.verdict(it, max_change2, tol2, &mut accepted) {
                break status;
            }
        };
        self.recover_eliminated();
        self.iterations_on_factor += u64::from(it);
        let outcome = self.outcome_of(status, it, max_change2.sqrt(), &change2, true);
        self.change2 = change2;
        outcome
    }

    /// The eliminated nodes' voltages from the kept ones (in `v`): by their chains, or by
    /// the LU.
    pub(crate) fn recover_eliminated(&mut self) {
        if self.eliminated.is_empty() {
            return;
        }
        if !self.chains_checked {
            self.chains_checked = true;
            if let (Some(ch), Some(lu)) = (&self.chain_recovery, &self.lu) {
                // the two recoveries must agree (rounding only); otherwise the LU's is used
                let deviation = ch.deviation_from(lu, &self.v, &self.eliminated);
                if deviation.is_nan() || deviation > 1e-10 {
                    self.chain_recovery = None;
                }
            }
        }
        match &self.chain_recovery {
            Some(ch) => ch.recover(&mut self.v),
            None => {
                if let Some(lu) = &self.lu {
                    for &i in &self.eliminated {
                        self.v[i] = zero();
                    }
                    lu.recover_eliminated_in_place(&mut self.v);
                }
            }
        }
    }

    /// Whether a fixed-point flow stops after iteration `it` whose largest squared relative
    /// change is `max_change2`: converged below `tol2`; failed when the script's tolerance
    /// was not met within its iteration limit (`accepted` remembers that it was); converged
    /// when the polish below the script's tolerance runs out of budget.
    pub(crate) fn verdict(
        &self,
        it: u32,
        max_change2: f64,
        tol2: f64,
        accepted: &mut bool,
    ) -> Option<PfStatus> {
        if max_change2 <= tol2 {
            return Some(PfStatus::Converged);
        }
        let accept2 = self.settings.accept_tolerance * self.settings.accept_tolerance;
        *accepted |= max_change2 <= accept2 && it <= self.settings.accept_iterations;
        if !*accepted && it >= self.settings.accept_iterations {
            return Some(PfStatus::MaxIterations);
        }
        // the script's tolerance was met; the polish ran out of budget
        (it >= self.settings.max_iterations).then_some(PfStatus::Converged)
    }

    /// The outcome; `change` holds each node's last relative change.
    pub(crate) fn outcome(
        &self,
        status: PfStatus,
        iterations: u32,
        max_change: f64,
        change: &[f64],
    ) -> PfOutcome {
        self.outcome_of(status, iterations, max_change, change, false)
    }

    /// The outcome; `change` holds each node's last relative change (squared when `squared`).
    /// The worst nodes are only looked for when the flow did not converge.
    fn outcome_of(
        &self,
        status: PfStatus,
        iterations: u32,
        max_change: f64,
        change: &[f64],
        squared: bool,
    ) -> PfOutcome {
        let worst = if status == PfStatus::Converged {
            Vec::new()
        } else {
            let mut idx: Vec<usize> = (0..change.len()).collect();
            idx.sort_by(|&a, &b| change[b].total_cmp(&change[a]));
            idx.iter()
                .take(5)
                .map(|&i| {
                    let nd = &self.net.nodes[i];
                    let c = if squared { change[i].sqrt() } else { change[i] };
                    (self.net.buses[nd.bus].name.clone(), nd.number, c)
                })
                .collect()
        };
        PfOutcome {
            status,
            iterations,
            max_change,
            worst,
        }
    }

    /// `rhs = I_source + Σ (Y_pc·V − I_pc(V))`.
    pub(crate) fn compensation_rhs(&mut self) {
        self.rhs.fill(zero());
        self.add_compensation_rhs();
    }

    /// [`compensation_rhs`](Self::compensation_rhs) into an `rhs` that is already zero
    /// everywhere the sources and power-conversion elements do not write.
    fn add_compensation_rhs(&mut self) {
        // the source currents: (zeros,) and the few nodes that have one (the same bits as a
        // copy of `source_injection`, without reading it)
        for &i in &self.source_nodes {
            self.rhs[i] = self.source_injection[i];
        }
        const SMALL: usize = 8;
        for p in &self.pc {
            let m = p.nodes.len();
            // 1- and 3-phase wye and 1-phase delta loads and generators: gathered, evaluated
            // and scattered inline
            let inline = match m {
                2 if p.injection.connection() == vgrid_model::Connection::Delta => {
                    compensate_delta1_at(p, &self.v, &mut self.rhs)
                }
                2 => compensate_wye_at::<1>(p, &self.v, &mut self.rhs),
                4 => compensate_wye_at::<3>(p, &self.v, &mut self.rhs),
                _ => false,
            };
            if inline {
                continue;
            }
            if m <= SMALL && p.injection.conductors() == m {
                // branch by branch on stack arrays (see Injection::add_compensation)
                let mut v = [zero(); SMALL];
                for (x, n) in v.iter_mut().zip(&p.nodes) {
                    if let Some(i) = *n {
                        *x = self.v[i];
                    }
                }
                let mut c = [zero(); SMALL];
                p.injection
                    .add_compensation(p.yprim.as_slice(), &v[..m], &mut c[..m]);
                for (&c, n) in c.iter().zip(&p.nodes) {
                    if let Some(i) = *n {
                        self.rhs[i] += c;
                    }
                }
                continue;
            }
            self.work_v.clear();
            self.work_v
                .extend(p.nodes.iter().map(|n| n.map_or(zero(), |i| self.v[i])));
            self.work_i.clear();
            self.work_i.resize(m, zero());
            p.injection.currents(&self.work_v, &mut self.work_i);
            // compensation current: Y_pc·V − I_pc(V)
            let y = p.yprim.as_slice();
            for (k, node) in p.nodes.iter().enumerate() {
                if let Some(i) = node {
                    let yv: C64 = (0..m).map(|j| y[k * m + j] * self.work_v[j]).sum();
                    self.rhs[*i] += yv - self.work_i[k];
                }
            }
        }
    }

    /// Voltages at an element's conductors (0 for ground).
    fn conductor_voltages(&self, nodes: &[Option<usize>]) -> Vec<C64> {
        nodes
            .iter()
            .map(|n| n.map_or(zero(), |i| self.v[i]))
            .collect()
    }

    /// Currents into each conductor of branch `b` (`Yprim · V`).
    pub fn branch_currents(&self, b: usize) -> Vec<C64> {
        let br = &self.net.branches[b];
        br.prim.y.mul_vec(&self.conductor_voltages(&br.nodes))
    }

    /// Losses of branch `b`, kW + j kvar.
    pub fn branch_losses_kva(&self, b: usize) -> C64 {
        let br = &self.net.branches[b];
        let v = self.conductor_voltages(&br.nodes);
        let i = br.prim.y.mul_vec(&v);
        v.iter().zip(&i).map(|(v, i)| v * i.conj()).sum::<C64>() / 1000.0
    }

    /// Power delivered by each source into the network at its first terminal, kW + j kvar.
    pub fn source_powers_kva(&self) -> Vec<(ElementId, C64)> {
        self.net
            .sources
            .iter()
            .map(|s| {
                let v = self.conductor_voltages(&s.nodes);
                let i = s.prim.prim.y.mul_vec(&v);
                let norton = s.norton_currents();
                let c = s.prim.prim.conductors_per_terminal;
                let s_in: C64 = (0..c).map(|k| v[k] * (i[k] - norton[k]).conj()).sum();
                (s.id.clone(), -s_in / 1000.0)
            })
            .collect()
    }

    /// Power drawn by every load, generator and PV system, kW + j kvar (generation negative).
    pub fn pc_powers_kva(&self) -> Vec<(ElementId, C64)> {
        self.pc
            .iter()
            .map(|p| {
                let v = self.conductor_voltages(&p.nodes);
                (p.id.clone(), p.injection.power_kva(&v))
            })
            .collect()
    }

    /// Total power drawn by all loads, generators, PV systems and storage, kW + j kvar: the
    /// sum of [`System::pc_powers_kva`] without its per-element list (no allocation for
    /// elements of up to 8 conductors; a time series calls it every step).
    pub fn total_pc_power_kva(&self) -> C64 {
        if let Some(s) = self.balanced_pc_power_kva() {
            return s;
        }
        const SMALL: usize = 8;
        let mut total = zero();
        for p in &self.pc {
            // 1- and 3-phase wye and 1-phase delta loads and generators inline
            let s = match p.nodes.len() {
                2 => conductor_voltages_at::<2>(&p.nodes, &self.v).and_then(|v| {
                    p.injection
                        .power_kva_wye::<1>(&v)
                        .or_else(|| p.injection.delta1_power_kva(v[0] - v[1]))
                }),
                4 => conductor_voltages_at::<4>(&p.nodes, &self.v)
                    .and_then(|v| p.injection.power_kva_wye::<3>(&v)),
                _ => None,
            };
            if let Some(s) = s {
                total += s;
                continue;
            }
            if p.nodes.len() <= SMALL {
                let mut v = [zero(); SMALL];
                for (x, n) in v.iter_mut().zip(&p.nodes) {
                    *x = n.map_or(zero(), |i| self.v[i]);
                }
                total += p.injection.power_kva(&v[..p.nodes.len()]);
            } else {
                total += p.injection.power_kva(&self.conductor_voltages(&p.nodes));
            }
        }
        total
    }

    /// Total power delivered by all sources, kW + j kvar: the sum of
    /// [`System::source_powers_kva`] without its per-source list.
    pub fn total_source_power_kva(&self) -> C64 {
        let mut total = zero();
        for s in &self.net.sources {
            let y = s.prim.prim.y.as_slice();
            let m = s.nodes.len();
            let c = s.prim.prim.conductors_per_terminal;
            // `Source::norton_currents` row by row, without its vectors (a time series calls
            // this every step)
            let n = s.prim.prim.y.cols();
            let emf = |j: usize| s.prim.emf_v.get(j).copied().unwrap_or(zero());
            for k in 0..c.min(m).min(n) {
                let vk = s.nodes[k].map_or(zero(), |i| self.v[i]);
                let ik: C64 = (0..m)
                    .map(|j| y[k * m + j] * s.nodes[j].map_or(zero(), |i| self.v[i]))
                    .sum();
                let norton_k: C64 = (0..n).map(|j| y[k * n + j] * emf(j)).sum();
                total -= vk * (ik - norton_k).conj() / 1000.0;
            }
        }
        total
    }

    /// Replace the primitive matrix of branch `b` and re-stamp `Y`.
    fn replace_branch_prim(&mut self, b: usize, prim: prim::Prim) {
        if let Some(ch) = &self.chain_recovery {
            if ch.branches.binary_search(&b).is_ok() {
                // a section of a chain changed: the LU recovers its buses from now on
                self.chain_recovery = None;
            }
        }
        let blk = self.branch_blocks[b];
        let old = self.net.branches[b].prim.y.clone();
        self.ybus.stamp(blk, &old, -1.0);
        self.net.set_branch_prim(b, prim);
        let new = self.net.branches[b].prim.y.clone();
        self.ybus.stamp(blk, &new, 1.0);
        self.y_dirty = true;
        // only this element's rows and columns changed: a partial refactorisation will do
        self.y_changed_nodes
            .extend(self.net.branches[b].nodes.iter().flatten().copied());
    }

    /// Set a transformer winding tap (per unit) and re-stamp.
    pub fn set_tap(
        &mut self,
        transformer: &str,
        winding: usize,
        tap_pu: f64,
    ) -> Result<(), PowerFlowError> {
        let Some(ti) = self
            .model
            .transformers
            .iter()
            .position(|t| t.name == transformer)
        else {
            return Ok(());
        };
        let Some(w) = self.model.transformers[ti]
            .windings
            .get_mut(winding.wrapping_sub(1))
        else {
            return Ok(());
        };
        w.tap_pu = tap_pu;
        if let Some(b) = self.net.branch(ElementKind::Transformer, transformer) {
            // a regulator moves between a few dozen taps: each one's matrix is built once
            let t = &self.model.transformers[ti];
            let key = (t.windings.len() <= 3).then(|| {
                let mut taps = [0u64; 3];
                for (k, w) in taps.iter_mut().zip(&t.windings) {
                    *k = w.tap_pu.to_bits();
                }
                (b, taps)
            });
            let p = match key.and_then(|k| self.tap_prims.get(&k)) {
                Some(p) => p.clone(),
                None => {
                    let p = prim::transformer::transformer(t, self.net.frequency_hz)?;
                    if let Some(k) = key.filter(|_| self.tap_prims.len() < TAP_PRIMS) {
                        self.tap_prims.insert(k, p.clone());
                    }
                    p
                }
            };
            self.replace_branch_prim(b, p);
        }
        Ok(())
    }

    /// Set the step states of a capacitor and re-stamp.
    pub fn set_capacitor_states(
        &mut self,
        capacitor: &str,
        states: &[bool],
    ) -> Result<(), PowerFlowError> {
        let Some(ci) = self
            .model
            .capacitors
            .iter()
            .position(|c| c.name == capacitor)
        else {
            return Ok(());
        };
        self.model.capacitors[ci].states = states.to_vec();
        if let Some(b) = self.net.branch(ElementKind::Capacitor, capacitor) {
            let p = prim::shunt::capacitor(&self.model.capacitors[ci], self.net.frequency_hz)?;
            self.replace_branch_prim(b, p);
        }
        Ok(())
    }

    /// Conductor voltages of terminal `terminal` (1-based) of a branch or source.
    pub fn terminal_voltages(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        let (nodes, c) = self.terminal_nodes(element)?;
        let t = terminal.checked_sub(1)?;
        let s = nodes.get(t * c..(t + 1) * c)?;
        Some(self.conductor_voltages(s))
    }

    /// Currents into the element at the conductors of terminal `terminal` (1-based).
    pub fn terminal_currents(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        let b = self.net.branch(element.kind, &element.name)?;
        let c = self.net.branches[b].prim.conductors_per_terminal;
        let t = terminal.checked_sub(1)?;
        (t * c..(t + 1) * c)
            .map(|row| self.branch_current_at(b, row))
            .collect()
    }

    /// Current into conductor `conductor` (0-based) of terminal `terminal` (1-based).
    pub fn terminal_current(
        &self,
        element: &ElementId,
        terminal: usize,
        conductor: usize,
    ) -> Option<C64> {
        let b = self.net.branch(element.kind, &element.name)?;
        let c = self.net.branches[b].prim.conductors_per_terminal;
        if conductor >= c {
            return None;
        }
        self.branch_current_at(b, terminal.checked_sub(1)? * c + conductor)
    }

    /// Row `row` of `Yprim · V` of branch `b` (no allocation).
    fn branch_current_at(&self, b: usize, row: usize) -> Option<C64> {
        let br = &self.net.branches[b];
        let m = br.nodes.len();
        let y = br.prim.y.as_slice().get(row * m..(row + 1) * m)?;
        Some(
            y.iter()
                .zip(&br.nodes)
                .filter_map(|(y, n)| n.map(|i| y * self.v[i]))
                .sum(),
        )
    }

    fn terminal_nodes(&self, element: &ElementId) -> Option<(&[Option<usize>], usize)> {
        if let Some(b) = self.net.branch(element.kind, &element.name) {
            let br = &self.net.branches[b];
            return Some((&br.nodes, br.prim.conductors_per_terminal));
        }
        self.net
            .sources
            .iter()
            .find(|s| &s.id == element)
            .map(|s| (s.nodes.as_slice(), s.prim.prim.conductors_per_terminal))
    }

    /// Voltage of `bus.node`, V.
    pub fn node_voltage(&self, bus: &str, node: u32) -> Option<C64> {
        self.net.node_index(bus, node).map(|i| self.v[i])
    }

    /// Sparsity of the system: (unknowns, entries of `Y`, entries of its LU factors).
    pub fn sparsity(&self) -> (usize, usize, usize) {
        (
            self.ybus.n(),
            self.ybus.row_idx().len(),
            self.symbolic.nnz_factors(),
        )
    }

    /// Dense copy of `Y` (tests and small-network diagnostics only).
    pub fn y_dense(&self) -> CMatrix {
        let n = self.ybus.n();
        let mut m = CMatrix::zeros(n, n);
        for c in 0..n {
            for k in self.ybus.col_ptr()[c]..self.ybus.col_ptr()[c + 1] {
                m[(self.ybus.row_idx()[k], c)] = self.ybus.values()[k];
            }
        }
        m
    }
}

impl crate::control::ControlledSystem for System {
    fn solve_power_flow(&mut self) -> bool {
        matches!(self.solve(), Ok(o) if o.status == PfStatus::Converged)
    }
    fn terminal_voltages(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        System::terminal_voltages(self, element, terminal)
    }
    fn terminal_currents(&self, element: &ElementId, terminal: usize) -> Option<Vec<C64>> {
        System::terminal_currents(self, element, terminal)
    }
    fn terminal_current(
        &self,
        element: &ElementId,
        terminal: usize,
        conductor: usize,
    ) -> Option<C64> {
        System::terminal_current(self, element, terminal, conductor)
    }
    fn node_voltage(&self, bus: &str, node: u32) -> Option<C64> {
        System::node_voltage(self, bus, node)
    }
    fn layout_id(&self) -> u64 {
        self.layout_id
    }
    /// The branch index (transformers, lines, capacitors; sources have no place).
    fn locate(&self, element: &ElementId) -> Option<usize> {
        self.net.branch(element.kind, &element.name)
    }
    fn located_terminal_voltages(&self, at: usize, terminal: usize, out: &mut Vec<C64>) -> bool {
        let Some(br) = self.net.branches.get(at) else {
            return false;
        };
        let c = br.prim.conductors_per_terminal;
        let Some(nodes) = terminal
            .checked_sub(1)
            .and_then(|t| br.nodes.get(t * c..(t + 1) * c))
        else {
            return false;
        };
        out.clear();
        out.extend(nodes.iter().map(|n| n.map_or(zero(), |i| self.v[i])));
        true
    }
    fn located_terminal_current(
        &self,
        at: usize,
        terminal: usize,
        conductor: usize,
    ) -> Option<C64> {
        let c = self.net.branches.get(at)?.prim.conductors_per_terminal;
        if conductor >= c {
            return None;
        }
        self.branch_current_at(at, terminal.checked_sub(1)? * c + conductor)
    }
    fn set_tap(&mut self, transformer: &str, winding: usize, tap_pu: f64) {
        // the transformer was lowered once already, so its data cannot fail now
        let _ = System::set_tap(self, transformer, winding, tap_pu);
    }
    fn set_capacitor_states(&mut self, capacitor: &str, states: &[bool]) {
        let _ = System::set_capacitor_states(self, capacitor, states);
    }
}
