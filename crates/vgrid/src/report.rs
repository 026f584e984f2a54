//! What a solve reports: node voltages with their bases, losses, source power, taps.
//!
//! Voltage bases are OpenDSS's `CalcVoltageBases` (`vgrid_powerflow::bases`).

use serde::Serialize;
use vgrid_model::{ElementKind, Network};
use vgrid_powerflow::control::ControlReport;
use vgrid_powerflow::solve::{PfOutcome, PfStatus, System};

use crate::C64;

/// One bus node's voltage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeVoltage {
    pub bus: String,
    pub node: u32,
    pub vmag_v: f64,
    pub vang_deg: f64,
    /// Line-to-neutral base, kV (`None` when the bus has no base).
    pub vbase_ln_kv: Option<f64>,
    pub vmag_pu: Option<f64>,
}

/// Losses of one power-delivery element.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BranchLoss {
    /// `Class.name`, e.g. `Line.650632`.
    pub element: String,
    pub loss_kw: f64,
    pub loss_kvar: f64,
}

/// Loading of a line or transformer against its rating.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementLoading {
    /// `Class.name`.
    pub element: String,
    /// Largest phase-conductor current, A.
    pub i_max_a: f64,
    /// Rated current of that terminal, A (line `normamps`; transformer winding kVA at its kV).
    pub i_rated_a: f64,
    /// `100 · i_max_a / i_rated_a`.
    pub loading_pct: f64,
}

/// Final tap of a regulator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TapPosition {
    pub reg_control: String,
    pub transformer: String,
    pub winding: usize,
    pub tap_pu: f64,
    pub tap_number: i32,
}

/// The result of one solve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Solution {
    pub converged: bool,
    /// "converged", "max_iterations" or "diverged".
    pub status: String,
    /// Power-flow iterations, summed over the control iterations (as OpenDSS counts them).
    pub iterations: u32,
    pub control_iterations: u32,
    /// Controls reached a state with no pending action.
    pub controls_settled: bool,
    /// Power delivered by all sources, kW and kvar.
    pub source_kw: f64,
    pub source_kvar: f64,
    /// Losses in series elements (lines, transformers, series capacitors and reactors), as
    /// OpenDSS's circuit losses.
    pub losses_kw: f64,
    pub losses_kvar: f64,
    /// Power drawn by shunt capacitors and reactors (capacitors: negative kvar).
    pub shunt_kw: f64,
    pub shunt_kvar: f64,
    /// Power drawn by loads (generation negative), kW and kvar.
    pub load_kw: f64,
    pub load_kvar: f64,
    /// Smallest and largest per-unit node voltage among energised nodes with a base, and where.
    pub v_min_pu: Option<(f64, String)>,
    pub v_max_pu: Option<(f64, String)>,
    pub taps: Vec<TapPosition>,
    pub capacitor_states: Vec<(String, Vec<bool>)>,
    /// Nodes that moved most in the last iteration when not converged: (bus, node, change).
    pub worst_nodes: Vec<(String, u32, f64)>,
    pub isolated_buses: Vec<String>,
    pub voltages: Vec<NodeVoltage>,
    pub element_losses: Vec<BranchLoss>,
    /// Loading of every line and transformer with a rating, highest first.
    pub loadings: Vec<ElementLoading>,
    pub control_events: Vec<String>,
}

pub(crate) fn solution(
    sys: &System,
    net: &Network,
    outcome: PfOutcome,
    controls: Option<ControlReport>,
) -> Solution {
    let v = sys.voltages();
    let mut voltages = Vec::with_capacity(v.len());
    let mut vmin: Option<(f64, String)> = None;
    let mut vmax: Option<(f64, String)> = None;
    for bus in &sys.net.buses {
        for &(number, i) in &bus.nodes {
            let vm = v[i].norm();
            let pu = bus.kv_base_ln.map(|kv| vm / (kv * 1000.0));
            if let Some(p) = pu {
                if sys.net.energized.get(i).copied().unwrap_or(true) && p > 0.05 {
                    let name = format!("{}.{}", bus.name, number);
                    if vmin.as_ref().is_none_or(|(m, _)| p < *m) {
                        vmin = Some((p, name.clone()));
                    }
                    if vmax.as_ref().is_none_or(|(m, _)| p > *m) {
                        vmax = Some((p, name));
                    }
                }
            }
            voltages.push(NodeVoltage {
                bus: bus.name.clone(),
                node: number,
                vmag_v: vm,
                vang_deg: v[i].arg().to_degrees(),
                vbase_ln_kv: bus.kv_base_ln,
                vmag_pu: pu,
            });
        }
    }
    let (element_losses, loadings, losses, shunt) = branch_results(sys, net);
    let source: C64 = sys.source_powers_kva().iter().map(|(_, s)| *s).sum();
    let load: C64 = sys.pc_powers_kva().iter().map(|(_, s)| *s).sum();
    let (taps, capacitor_states, control_iterations, settled, events) = match controls {
        Some(r) => (
            r.taps
                .iter()
                .map(|t| TapPosition {
                    reg_control: t.regcontrol.clone(),
                    transformer: t.transformer.clone(),
                    winding: t.winding,
                    tap_pu: t.tap_pu,
                    tap_number: t.tap_number,
                })
                .collect(),
            r.capacitor_states.clone(),
            r.control_iterations,
            r.settled,
            r.events.clone(),
        ),
        None => (
            static_taps(net),
            net.capacitors
                .iter()
                .map(|c| (c.name.clone(), c.states.clone()))
                .collect(),
            1,
            true,
            Vec::new(),
        ),
    };
    let status = match outcome.status {
        PfStatus::Converged => "converged",
        PfStatus::MaxIterations => "max_iterations",
        PfStatus::Diverged => "diverged",
    };
    Solution {
        converged: outcome.status == PfStatus::Converged,
        status: status.to_string(),
        iterations: outcome.iterations,
        control_iterations,
        controls_settled: settled,
        source_kw: source.re,
        source_kvar: source.im,
        losses_kw: losses.re,
        losses_kvar: losses.im,
        shunt_kw: shunt.re,
        shunt_kvar: shunt.im,
        load_kw: load.re,
        load_kvar: load.im,
        v_min_pu: vmin,
        v_max_pu: vmax,
        taps,
        capacitor_states,
        worst_nodes: outcome.worst,
        isolated_buses: sys.net.isolated_buses.clone(),
        voltages,
        element_losses,
        loadings,
        control_events: events,
    }
}

/// Losses of every branch, and the loading of lines (against `normamps`) and transformers
/// (against each winding's rated current, largest phase-conductor current over all terminals;
/// highest first), in one pass that computes each branch's currents once into reused buffers.
/// Also the series losses and the shunt (capacitor, reactor to ground) power, kVA.
fn branch_results(sys: &System, net: &Network) -> (Vec<BranchLoss>, Vec<ElementLoading>, C64, C64) {
    let zero = C64::new(0.0, 0.0);
    let v_all = sys.voltages();
    let mut element_losses = Vec::with_capacity(sys.net.branches.len());
    let mut loadings = Vec::new();
    let (mut losses, mut shunt) = (zero, zero);
    let (mut v, mut i) = (Vec::new(), Vec::new());
    for br in &sys.net.branches {
        v.clear();
        v.extend(br.nodes.iter().map(|n| n.map_or(zero, |k| v_all[k])));
        let y = br.prim.y.as_slice();
        let m = v.len();
        i.clear();
        i.extend((0..m).map(|r| (0..m).map(|c| y[r * m + c] * v[c]).sum::<C64>()));
        let s_kva: C64 = v.iter().zip(&i).map(|(v, i)| v * i.conj()).sum::<C64>() / 1000.0;
        let is_shunt = match br.id.kind {
            ElementKind::Capacitor => net.capacitors[br.index].bus2.is_none(),
            ElementKind::Reactor => net.reactors[br.index].bus2.is_none(),
            _ => false,
        };
        if is_shunt {
            shunt += s_kva;
        } else {
            losses += s_kva;
        }
        let name = br.id.to_string();
        if let Some((im, r)) = worst_loading(br, net, &i) {
            loadings.push(ElementLoading {
                element: name.clone(),
                i_max_a: im,
                i_rated_a: r,
                loading_pct: 100.0 * im / r,
            });
        }
        element_losses.push(BranchLoss {
            element: name,
            loss_kw: s_kva.re,
            loss_kvar: s_kva.im,
        });
    }
    loadings.sort_by(|a, b| b.loading_pct.total_cmp(&a.loading_pct));
    (element_losses, loadings, losses, shunt)
}

/// The largest phase-conductor current of a line or transformer relative to its terminal's
/// rated current: `(i_max_a, i_rated_a)`; `None` for other elements or without a rating.
fn worst_loading(br: &vgrid_network::Branch, net: &Network, i: &[C64]) -> Option<(f64, f64)> {
    let c = br.prim.conductors_per_terminal;
    let (terminals, phases) = match br.id.kind {
        ElementKind::Line => (2, c),
        ElementKind::Transformer => {
            let t = &net.transformers[br.index];
            (t.windings.len(), t.phases)
        }
        _ => return None,
    };
    let rated = |t: usize| -> f64 {
        match br.id.kind {
            ElementKind::Line => net.lines[br.index].norm_amps_a,
            _ => {
                let tr = &net.transformers[br.index];
                let w = &tr.windings[t];
                if tr.phases == 1 {
                    w.kva / w.kv
                } else {
                    w.kva / (3f64.sqrt() * w.kv)
                }
            }
        }
    };
    let mut worst: Option<(f64, f64)> = None;
    for t in 0..terminals {
        let r = rated(t);
        if !(r.is_finite() && r > 0.0) {
            continue;
        }
        for k in 0..phases.min(c) {
            let im = i.get(t * c + k).map_or(0.0, |x| x.norm());
            if worst.is_none_or(|(w, wr)| im / r > w / wr) {
                worst = Some((im, r));
            }
        }
    }
    worst
}

/// Tap positions of regulated windings when no control loop ran.
fn static_taps(net: &Network) -> Vec<TapPosition> {
    net.reg_controls
        .iter()
        .filter_map(|r| {
            let t = net.transformer(&r.transformer)?;
            let w = t.windings.get(r.tap_winding.max(1) - 1)?;
            let step = (w.max_tap_pu - w.min_tap_pu) / f64::from(w.num_taps.max(1));
            Some(TapPosition {
                reg_control: r.name.clone(),
                transformer: t.name.clone(),
                winding: r.tap_winding,
                tap_pu: w.tap_pu,
                tap_number: ((w.tap_pu - 1.0) / step).round() as i32,
            })
        })
        .collect()
}
