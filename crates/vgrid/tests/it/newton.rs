//! `Set algorithm=newton` against the fixed point and against OpenDSS, on every reference case.
//!
//! Both algorithms solve the same equations, so the whole solve with controls must end on the
//! same taps, capacitor states and voltages (to the convergence tolerance), and within the
//! OpenDSS acceptance limits. A single power flow from the no-load start (controls off, taps
//! as compiled) also records how many iterations each algorithm needs.

use std::collections::HashMap;

use crate::support::{angle_diff_deg, read_voltages, shared};
use vgrid::model::{Algorithm, ControlMode};
use vgrid::{Session, SnapshotSolver, Solution};

/// The case compiled as the reference did, with `extra` commands after.
fn session(case: &str, extra: &[&str]) -> Option<Session> {
    crate::support::reference_session(case, extra).map(|(s, _, _)| s)
}

/// Largest |ΔV| (pu of the bus base, or of |V| without one) and |Δangle| (degrees, nodes above
/// 1e-3 pu) between two solutions, over the nodes of `a`.
fn max_diff(a: &Solution, b: &Solution) -> (f64, f64) {
    let b: HashMap<_, _> = b.voltages.iter().map(|v| ((&v.bus, v.node), v)).collect();
    let (mut dv, mut da) = (0.0f64, 0.0f64);
    for v in &a.voltages {
        let w = b
            .get(&(&v.bus, v.node))
            .unwrap_or_else(|| panic!("{}.{} missing", v.bus, v.node));
        let base = v.vbase_ln_kv.map_or(v.vmag_v.max(1.0), |kv| kv * 1000.0);
        dv = dv.max((v.vmag_v - w.vmag_v).abs() / base);
        if v.vmag_v / base > 1e-3 {
            da = da.max(angle_diff_deg(v.vang_deg, w.vang_deg).abs());
        }
    }
    (dv, da)
}

/// Largest |ΔV| (pu) and |Δangle| (degrees) against OpenDSS's tight-tolerance voltages.
fn max_diff_vs_opendss(case: &str, sol: &Solution) -> (f64, f64) {
    let Some(shared) = shared() else {
        return (0.0, 0.0);
    };
    let path = shared
        .join("feeders/reference/opendss")
        .join(case)
        .join("voltages_tol1e-10.csv");
    let ours: HashMap<_, _> = sol
        .voltages
        .iter()
        .map(|v| ((v.bus.clone(), v.node), v))
        .collect();
    let (mut dv, mut da) = (0.0f64, 0.0f64);
    for ((bus, node), r) in &read_voltages(&path) {
        let v = ours
            .get(&(bus.clone(), *node))
            .unwrap_or_else(|| panic!("{case}: {bus}.{node} missing"));
        let base = if r.vbase_ln_kv.is_finite() && r.vbase_ln_kv > 0.0 {
            r.vbase_ln_kv * 1000.0
        } else {
            r.vmag_v.max(1.0)
        };
        dv = dv.max((v.vmag_v - r.vmag_v).abs() / base);
        if r.vmag_v / base > 1e-3 {
            da = da.max(angle_diff_deg(v.vang_deg, r.vang_deg).abs());
        }
    }
    (dv, da)
}

/// Iterations of one power flow from the no-load start, controls off.
fn single_power_flow(s: &Session, algorithm: Algorithm) -> (u32, Solution) {
    let mut net = s.network().clone();
    net.settings.control_mode = ControlMode::Off;
    net.settings.algorithm = algorithm;
    let mut snap = SnapshotSolver::new(&net).unwrap();
    let sol = snap.solve().unwrap();
    assert!(sol.converged, "{algorithm:?}: {}", sol.status);
    crate::support::assert_power_balance(&format!("{algorithm:?}"), &sol);
    (sol.iterations, sol)
}

fn assert_newton_matches(case: &str) {
    // both converged far below the acceptance limits, so that their difference is visible
    let tight = "set tolerance=1e-12";
    let Some(fixed) = session(case, &[tight]) else {
        return;
    };
    let Some(newton) = session(case, &[tight, "set algorithm=newton"]) else {
        return;
    };
    assert_eq!(newton.network().settings.algorithm, Algorithm::Newton);

    // one power flow each: same voltages, and Newton's iteration count
    let (it_fp, one_fp) = single_power_flow(&fixed, Algorithm::FixedPoint);
    let (it_nr, one_nr) = single_power_flow(&fixed, Algorithm::Newton);
    let (dv1, da1) = max_diff(&one_fp, &one_nr);

    // the whole solve with controls
    let (mut fixed, mut newton) = (fixed, newton);
    let sol_fp = fixed.solve().unwrap();
    let sol_nr = newton.solve().unwrap();
    crate::support::assert_power_balance(case, &sol_fp);
    crate::support::assert_power_balance(case, &sol_nr);
    assert!(
        sol_nr.converged,
        "{case}: Newton did not converge: {}",
        sol_nr.status
    );
    let (dv, da) = max_diff(&sol_fp, &sol_nr);
    let (dv_ref, da_ref) = max_diff_vs_opendss(case, &sol_nr);
    eprintln!(
        "{case}: one power flow: fixed point {it_fp} iterations, Newton {it_nr} \
         (max |ΔV| {dv1:.1e} pu, {da1:.1e}°); with controls: Newton vs fixed point \
         {dv:.1e} pu, {da:.1e}°; Newton vs OpenDSS {dv_ref:.1e} pu, {da_ref:.1e}°; \
         losses {:.6} / {:.6} kW",
        sol_nr.losses_kw, sol_fp.losses_kw
    );
    assert!(it_nr <= 8, "{case}: Newton took {it_nr} iterations");
    assert!(
        dv1 <= 1e-8 && da1 <= 1e-6,
        "{case}: single power flow differs: {dv1:e} pu, {da1:e}°"
    );
    let taps = |s: &Solution| -> Vec<(String, i32)> {
        s.taps
            .iter()
            .map(|t| (t.reg_control.clone(), t.tap_number))
            .collect()
    };
    assert_eq!(taps(&sol_nr), taps(&sol_fp), "{case}: taps");
    assert_eq!(
        sol_nr.capacitor_states, sol_fp.capacitor_states,
        "{case}: capacitors"
    );
    assert!(
        dv <= 1e-8 && da <= 1e-6,
        "{case}: Newton vs fixed point: {dv:e} pu, {da:e}°"
    );
    assert!(
        dv_ref <= 1e-6 && da_ref <= 1e-3,
        "{case}: Newton vs OpenDSS: {dv_ref:e} pu, {da_ref:e}°"
    );
    let dl = (sol_nr.losses_kw - sol_fp.losses_kw).abs() / sol_fp.losses_kw.abs();
    assert!(
        dl <= 1e-8,
        "{case}: losses {} vs {} kW",
        sol_nr.losses_kw,
        sol_fp.losses_kw
    );
}

#[test]
fn newton_ieee13() {
    assert_newton_matches("ieee13");
}

#[test]
fn newton_ieee13_published_taps() {
    assert_newton_matches("ieee13_published_taps");
}

#[test]
fn newton_ieee34_mod1_published_taps() {
    assert_newton_matches("ieee34_mod1_published_taps");
}

#[test]
fn newton_ieee37_published_taps() {
    assert_newton_matches("ieee37_published_taps");
}

#[test]
fn newton_ieee123_published_taps() {
    assert_newton_matches("ieee123_published_taps");
}

#[test]
fn newton_ieee34_mod1() {
    assert_newton_matches("ieee34_mod1");
}

#[test]
fn newton_ieee34_mod2() {
    assert_newton_matches("ieee34_mod2");
}

#[test]
fn newton_ieee37() {
    assert_newton_matches("ieee37");
}

#[test]
fn newton_ieee123() {
    assert_newton_matches("ieee123");
}

#[test]
fn newton_european_lv() {
    assert_newton_matches("eulv_snapshot");
}
