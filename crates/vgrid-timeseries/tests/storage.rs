//! Storage dispatch, state of charge, StorageControllers and PV temperature shapes against
//! OpenDSS, step by step. References written by `tests/data/gen_storage.py` (DSS C-API
//! 0.14.5, tolerance 1e-10).

mod support;

use std::collections::HashMap;
use std::path::Path;

use vgrid_timeseries::Simulation;

/// Largest differences over a run.
#[derive(Debug, Default)]
struct Worst {
    vpu: f64,
    storage_kw_rel: f64,
    storage_kwh_rel: f64,
    source_rel: f64,
    pv_rel: f64,
    steps: usize,
}

fn run_case(case: &str, script: &str, mode: &str, step: &str) -> Worst {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (header, rows) = support::read_csv(&data.join(format!("storage_{case}.csv")));
    let cmds = vec![
        format!("compile \"{}\"", data.join(script).display()),
        "set tolerance=1e-10 maxiterations=1000".to_string(),
        format!("set mode={mode} number={} stepsize={step}", rows.len()),
    ];
    let net = support::run_setup(&cmds);
    let mut sim = Simulation::new(&net).unwrap();
    let col: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let rated: HashMap<String, (f64, f64)> = net
        .storages
        .iter()
        .map(|s| (s.name.clone(), (s.kw_rated, s.kwh_rated)))
        .collect();
    let mut w = Worst::default();
    for row in &rows {
        let num = |name: &str| -> f64 {
            let i = *col
                .get(name)
                .unwrap_or_else(|| panic!("{case}: no column {name}"));
            row[i].parse().unwrap()
        };
        let r = sim.step().unwrap().clone();
        assert!(r.converged, "{case} step {}", r.step);
        assert!(
            (r.hour - num("hour")).abs() < 1e-9,
            "{case} step {}",
            r.step
        );
        let kva = num("p_source_kw").hypot(num("q_source_kvar"));
        w.source_rel = w.source_rel.max(
            (r.p_source_kw - num("p_source_kw"))
                .abs()
                .max((r.q_source_kvar - num("q_source_kvar")).abs())
                / kva,
        );
        for s in sim.storages() {
            let (kw_rated, kwh_rated) = rated[&s.name];
            let d_kw = (s.p_kw - num(&format!("{}.kw", s.name)))
                .abs()
                .max((s.q_kvar - num(&format!("{}.kvar", s.name))).abs());
            w.storage_kw_rel = w.storage_kw_rel.max(d_kw / kw_rated);
            let d_kwh = (s.kwh_stored - num(&format!("{}.kwh", s.name))).abs();
            w.storage_kwh_rel = w.storage_kwh_rel.max(d_kwh / kwh_rated);
        }
        for pv in &net.pv_systems {
            let p = sim
                .system()
                .pc_powers_kva()
                .into_iter()
                .find(|(id, _)| {
                    id.to_string()
                        .eq_ignore_ascii_case(&format!("PVSystem.{}", pv.name))
                })
                .map(|(_, s)| -s.re)
                .unwrap();
            w.pv_rel = w
                .pv_rel
                .max((p - num(&format!("{}.kw", pv.name))).abs() / pv.pmpp_kw);
        }
        let mut matched = 0;
        for (bus, node, pu) in sim.node_voltages_pu() {
            if let Some(&i) = col.get(format!("{bus}.{node}").as_str()) {
                let want: f64 = row[i].parse().unwrap();
                w.vpu = w.vpu.max((pu - want).abs());
                matched += 1;
            }
        }
        let node_columns = header
            .iter()
            .filter(|h| !h.contains("kw") && !h.contains("kvar") && h.contains('.'))
            .count();
        assert_eq!(matched, node_columns, "{case}: every node compared");
        w.steps += 1;
    }
    eprintln!("storage_{case}: {w:?}");
    w
}

fn check(w: &Worst) {
    assert!(w.vpu <= 1e-6, "{w:?}");
    assert!(w.storage_kw_rel <= 1e-6, "{w:?}");
    assert!(w.storage_kwh_rel <= 1e-6, "{w:?}");
    assert!(w.source_rel <= 1e-6, "{w:?}");
    assert!(w.pv_rel <= 1e-6, "{w:?}");
}

/// A battery following a daily shape (reserve and full reached), one in default dispatch with
/// charge and discharge triggers, an idle one, and a PV system with a temperature shape.
#[test]
fn storage_follow_and_pv_temperature_match_opendss() {
    let w = run_case("follow", "storage_follow.dss", "daily", "1h");
    check(&w);
}

/// A StorageController peak-shaving a transformer, charging at 2 o'clock, 15-minute steps.
#[test]
fn storage_controller_peak_shaving_matches_opendss() {
    let w = run_case("peakshave", "storage_peakshave.dss", "daily", "15m");
    check(&w);
}

/// Peak shaving and valley filling with two weighted batteries, 30-minute steps.
#[test]
fn storage_controller_valley_filling_matches_opendss() {
    let w = run_case("valley", "storage_valley.dss", "daily", "30m");
    check(&w);
}

/// A StorageController and a RegControl in one control loop, 15-minute steps.
#[test]
fn storage_controller_with_a_regulator_matches_opendss() {
    let w = run_case("regulated", "storage_regulated.dss", "daily", "15m");
    check(&w);
}

/// A controller dispatching two batteries from its own shape (LoadShape modes), and one in
/// Support mode, 30-minute steps.
#[test]
fn storage_controller_load_shape_and_support_modes_match_opendss() {
    let w = run_case("loadshape", "storage_loadshape.dss", "daily", "30m");
    check(&w);
}
