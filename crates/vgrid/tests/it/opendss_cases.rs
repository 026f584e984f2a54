//! The IEEE feeders and the European LV feeder, against OpenDSS.

use crate::support::{angle_diff_deg, read_voltages, reference_session};
use vgrid::Solution;

/// What one case reached, for the assertions and for the validation table in the docs.
#[derive(Debug)]
struct Comparison {
    case: String,
    nodes: usize,
    max_dv_pu: f64,
    worst_dv_node: String,
    max_dang_deg: f64,
    worst_dang_node: String,
    losses_kw: f64,
    ref_losses_kw: f64,
    balance_rel: f64,
    taps: Vec<(String, i32, i64)>,
    caps: Vec<(String, Vec<bool>, Vec<bool>)>,
    missing_nodes: Vec<String>,
}

fn run_case(case: &str) -> Option<(Comparison, Solution)> {
    // the reference compiles the master with its Solve lines removed, then replays its commands
    let (mut s, summary, dir) = reference_session(case, &[])?;
    let sol = s.solve().unwrap_or_else(|e| panic!("{case}: solve: {e}"));

    let reference = read_voltages(&dir.join("voltages_tol1e-10.csv"));
    let mut ours = std::collections::HashMap::new();
    for v in &sol.voltages {
        ours.insert((v.bus.clone(), v.node), v.clone());
    }
    let (mut max_dv, mut worst_dv, mut max_da, mut worst_da) =
        (0.0f64, String::new(), 0.0f64, String::new());
    let mut missing = Vec::new();
    for ((bus, node), r) in &reference {
        let Some(v) = ours.get(&(bus.clone(), *node)) else {
            missing.push(format!("{bus}.{node}"));
            continue;
        };
        let base_v = if r.vbase_ln_kv.is_finite() && r.vbase_ln_kv > 0.0 {
            r.vbase_ln_kv * 1000.0
        } else {
            r.vmag_v.max(1.0)
        };
        let dv = (v.vmag_v - r.vmag_v).abs() / base_v;
        if dv > max_dv {
            max_dv = dv;
            worst_dv = format!("{bus}.{node}");
        }
        if r.vmag_v / base_v > 1e-3 {
            let da = angle_diff_deg(v.vang_deg, r.vang_deg).abs();
            if da > max_da {
                max_da = da;
                worst_da = format!("{bus}.{node}");
            }
        }
    }
    let ref_losses_kw = summary["tight_tolerance"]["total_losses_kw"]
        .as_f64()
        .or_else(|| summary["total_losses_kw"].as_f64())
        .unwrap();
    // complex power balance: source = loads + series losses + shunt capacitors/reactors
    let balance = crate::support::power_balance(&sol);
    let mut taps = Vec::new();
    if let Some(m) = summary["tight_tolerance"]["regulator_taps"]
        .as_object()
        .or_else(|| summary["regulator_taps"].as_object())
    {
        for (name, t) in m {
            let ours = sol
                .taps
                .iter()
                .find(|x| x.reg_control == *name)
                .map_or(i32::MIN, |x| x.tap_number);
            taps.push((name.clone(), ours, t["tap_number"].as_i64().unwrap()));
        }
    }
    let mut caps = Vec::new();
    if let Some(m) = summary["capacitor_states"].as_object() {
        for (name, st) in m {
            let r: Vec<bool> = st
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64() == Some(1))
                .collect();
            let o = sol
                .capacitor_states
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            caps.push((name.clone(), o, r));
        }
    }
    let cmp = Comparison {
        case: case.to_string(),
        nodes: reference.len(),
        max_dv_pu: max_dv,
        worst_dv_node: worst_dv,
        max_dang_deg: max_da,
        worst_dang_node: worst_da,
        losses_kw: sol.losses_kw,
        ref_losses_kw,
        balance_rel: balance,
        taps,
        caps,
        missing_nodes: missing,
    };
    // one row of the validation table in docs/validation.md (run with --nocapture)
    eprintln!(
        "| {} | {} | {:.1e} ({}) | {:.1e} | {:.6} | {:.6} | {:.1e} | {} |",
        cmp.case,
        cmp.nodes,
        cmp.max_dv_pu,
        cmp.worst_dv_node,
        cmp.max_dang_deg,
        cmp.losses_kw,
        cmp.ref_losses_kw,
        cmp.balance_rel,
        cmp.taps
            .iter()
            .map(|(n, o, r)| format!("{n} {o}/{r}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Some((cmp, sol))
}

fn assert_matches_opendss(case: &str) {
    let Some((c, sol)) = run_case(case) else {
        return;
    };
    assert!(sol.converged, "{case}: did not converge: {}", sol.status);
    assert!(
        c.missing_nodes.is_empty(),
        "{case}: nodes missing from vgrid's solution: {:?}",
        c.missing_nodes
    );
    for (name, ours, reference) in &c.taps {
        assert_eq!(ours, &(*reference as i32), "{case}: tap of {name}");
    }
    for (name, ours, reference) in &c.caps {
        assert_eq!(ours, reference, "{case}: states of capacitor {name}");
    }
    assert!(
        c.max_dv_pu <= 1e-6,
        "{case}: max |ΔV| = {:.3e} pu at {} (limit 1e-6)",
        c.max_dv_pu,
        c.worst_dv_node
    );
    assert!(
        c.max_dang_deg <= 1e-3,
        "{case}: max |Δangle| = {:.3e}° at {} (limit 0.001°)",
        c.max_dang_deg,
        c.worst_dang_node
    );
    let dl = (c.losses_kw - c.ref_losses_kw).abs() / c.ref_losses_kw.abs();
    assert!(
        dl <= 1e-4,
        "{case}: losses {:.6} kW vs OpenDSS {:.6} kW ({:.3e} relative, limit 1e-4)",
        c.losses_kw,
        c.ref_losses_kw,
        dl
    );
    assert!(
        c.balance_rel <= 1e-8,
        "{case}: power balance off by {:.3e} relative (source {} kW, loads {} kW, losses {} kW, shunts {} kW)",
        c.balance_rel,
        sol.source_kw,
        sol.load_kw,
        sol.losses_kw,
        sol.shunt_kw
    );
}

#[test]
fn ieee13_published_taps() {
    assert_matches_opendss("ieee13_published_taps");
}

#[test]
fn ieee13_with_controls() {
    assert_matches_opendss("ieee13");
}

#[test]
fn ieee34_mod1_published_taps() {
    assert_matches_opendss("ieee34_mod1_published_taps");
}

#[test]
fn ieee34_mod1_with_controls() {
    assert_matches_opendss("ieee34_mod1");
}

#[test]
fn ieee34_mod2_with_controls() {
    assert_matches_opendss("ieee34_mod2");
}

#[test]
fn ieee37_published_taps() {
    assert_matches_opendss("ieee37_published_taps");
}

#[test]
fn ieee37_with_controls() {
    assert_matches_opendss("ieee37");
}

#[test]
fn ieee123_published_taps() {
    assert_matches_opendss("ieee123_published_taps");
}

#[test]
fn ieee123_with_controls() {
    assert_matches_opendss("ieee123");
}

#[test]
fn european_lv_snapshot() {
    assert_matches_opendss("eulv_snapshot");
}
