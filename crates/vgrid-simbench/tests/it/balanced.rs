//! SimBench grids are balanced by construction: vgrid solves them in positive sequence
//! (`vgrid_powerflow`'s `solve/balanced.rs`). On the grids of `../shared/simbench`: the
//! balanced mode is used, gives the three-phase solve's voltages to 1e-9 pu at pandapower's
//! reference steps and over two windows of the year's time series, and still matches
//! pandapower's results to 1e-6 pu.
//!
//! Achieved (5 reference steps and 2 × 96 time steps per grid):
//!
//! | grid | balanced vs three-phase, max abs(dV) pu | balanced vs pandapower, max abs(dvm) pu |
//! |---|---|---|
//! | 1-LV-rural1--0-sw | see the test's output | |

use std::collections::HashMap;
use std::path::Path;

use vgrid::model::SolveMode;
use vgrid::powerflow::{PfStatus, System};
use vgrid::Simulation;
use vgrid_simbench::{read_grid, read_grid_with, ReadOptions, TapPositions};

use crate::pandapower::{angle_diff_deg, cases, num, read_csv};

/// Largest allowed difference between the balanced and the three-phase solve, pu.
const MAX_BALANCED_DIFF_PU: f64 = 1e-9;
/// Largest allowed |Δvm| against pandapower, pu, and |Δva|, degrees.
const MAX_VM_ERR_PU: f64 = 1e-6;
const MAX_VA_ERR_DEG: f64 = 1e-4;

/// Largest |Δv| between two systems' node voltages, per unit of each bus's base (of the
/// node's magnitude where the bus has no base).
fn largest_difference_pu(a: &System, b: &System) -> f64 {
    let net = &a.net;
    assert_eq!(a.voltages().len(), b.voltages().len());
    a.voltages()
        .iter()
        .zip(b.voltages())
        .zip(&net.nodes)
        .map(|((x, y), node)| {
            let base_v = net.buses[node.bus]
                .kv_base_ln
                .map_or(y.norm(), |kv| kv * 1000.0);
            (x - y).norm() / base_v
        })
        .fold(0.0, f64::max)
}

/// The reference steps of a grid's `pandapower_reference`.
fn reference_steps(case: &Path) -> Vec<usize> {
    let mut steps: Vec<usize> = std::fs::read_dir(case.join("pandapower_reference"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().to_string();
            name.strip_prefix("step")?
                .strip_suffix("_bus.csv")?
                .parse()
                .ok()
        })
        .collect();
    steps.sort_unstable();
    steps
}

#[test]
fn simbench_grids_solve_in_positive_sequence_at_the_reference_steps() {
    for case in cases() {
        let neutral = ReadOptions {
            taps: TapPositions::Neutral,
        };
        let grid = read_grid_with(&case, &neutral).unwrap();
        let reference = case.join("pandapower_reference");
        let bus_names: HashMap<String, String> = read_csv(&reference.join("pp_bus.csv"))
            .into_iter()
            .map(|r| (r["id"].clone(), r["name"].clone()))
            .collect();
        let (mut worst_balanced, mut worst_vm, mut worst_va) = (0.0f64, 0.0f64, 0.0f64);
        let steps = reference_steps(&case);
        assert!(!steps.is_empty(), "{}: no reference steps", case.display());
        for &step in &steps {
            let net = grid.network_at_step(step).unwrap();
            let mut balanced = System::new(&net).unwrap();
            let mut full = System::new(&net).unwrap();
            full.set_balanced_mode(false);
            assert_eq!(balanced.balanced_qualifies(), Ok(()), "{}", case.display());
            assert_eq!(balanced.solve().unwrap().status, PfStatus::Converged);
            assert_eq!(full.solve().unwrap().status, PfStatus::Converged);
            assert_eq!(balanced.balanced_solves(), 1);
            assert_eq!(full.balanced_solves(), 0);
            worst_balanced = worst_balanced.max(largest_difference_pu(&balanced, &full));
            let file = reference.join(format!("step{step:05}_bus.csv"));
            for row in read_csv(&file) {
                let name = &bus_names[&row["bus"]];
                let node = grid.node(name).unwrap();
                let v = balanced.node_voltage(&node.bus, 1).unwrap();
                let vm_pu = v.norm() / (node.vn_kv * 1000.0 / 3f64.sqrt());
                worst_vm = worst_vm.max((vm_pu - num(&row, "vm_pu")).abs());
                let va_deg = v.arg().to_degrees();
                worst_va = worst_va.max(angle_diff_deg(va_deg, num(&row, "va_degree")).abs());
            }
        }
        eprintln!(
            "{:<20} {} steps: balanced vs three-phase {worst_balanced:.1e} pu; vs pandapower |dvm| {worst_vm:.1e} pu, |dva| {worst_va:.1e} deg",
            case.file_name().unwrap().to_string_lossy(),
            steps.len()
        );
        assert!(
            worst_balanced <= MAX_BALANCED_DIFF_PU,
            "{}: {worst_balanced:e}",
            case.display()
        );
        assert!(
            worst_vm <= MAX_VM_ERR_PU,
            "{}: {worst_vm:e}",
            case.display()
        );
        assert!(
            worst_va <= MAX_VA_ERR_DEG,
            "{}: {worst_va:e}",
            case.display()
        );
    }
}

/// Two windows of the year (January and a summer week), step by step, balanced and
/// three-phase side by side, taps as SimBench gives them.
#[test]
fn simbench_time_series_in_positive_sequence_match_the_three_phase_run() {
    const STEPS: u32 = 96;
    for case in cases() {
        let grid = read_grid(&case).unwrap();
        let mut worst = 0.0f64;
        let mut worst_source_kw = 0.0f64;
        for start_h in [0.0, 4380.0] {
            let mut net = grid.network.clone();
            net.settings.mode = SolveMode::Yearly;
            net.settings.step_size_s = 900.0;
            net.settings.number = STEPS;
            net.settings.hour = start_h;
            net.settings.sec = 0.0;
            let mut balanced = Simulation::new(&net).unwrap();
            let mut full = Simulation::new(&net).unwrap();
            full.set_balanced_mode(false);
            for k in 0..STEPS {
                let a = balanced.step().unwrap().clone();
                let b = full.step().unwrap().clone();
                assert!(a.converged && b.converged, "{} step {k}", case.display());
                worst = worst.max(largest_difference_pu(balanced.system(), full.system()));
                worst_source_kw = worst_source_kw.max((a.p_source_kw - b.p_source_kw).abs());
            }
            assert_eq!(balanced.system().balanced_solves(), u64::from(STEPS));
            assert_eq!(full.system().balanced_solves(), 0);
        }
        eprintln!(
            "{:<20} 2 x {STEPS} steps: balanced vs three-phase {worst:.1e} pu, source {worst_source_kw:.1e} kW",
            case.file_name().unwrap().to_string_lossy(),
        );
        assert!(
            worst <= MAX_BALANCED_DIFF_PU,
            "{}: {worst:e}",
            case.display()
        );
    }
}
