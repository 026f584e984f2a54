//! vgrid on the SimBench grids of `../shared/simbench` against pandapower's `runpp` results at
//! the reference steps (`pandapower_reference/step<k>_bus.csv`), bus by bus.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use vgrid_simbench::{read_grid_with, Grid, ReadOptions, TapPositions};

/// Largest allowed |Δvm| in pu and |Δva| in degrees (1e-6 pu of arc is 5.7e-5°).
const MAX_VM_ERR_PU: f64 = 1e-6;
const MAX_VA_ERR_DEG: f64 = 1e-4;

/// `../shared/simbench` beside the repository: a failure under CI when missing, else `None`
/// with a note.
fn simbench_dir() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/simbench");
    if p.is_dir() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "../shared/simbench is missing beside the repository (looked in {}); CI needs the SimBench grids",
            p.display()
        );
    }
    eprintln!("note: ../shared/simbench not found; skipping the pandapower comparison");
    None
}

/// Rows of a pandapower CSV (`,`-separated, header) as maps column → text.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col].parse().unwrap_or(f64::NAN)
}

fn angle_diff_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    if d > 180.0 {
        d - 360.0
    } else {
        d
    }
}

/// Worst deviations of one grid over all reference steps.
#[derive(Debug, Default)]
struct Deviation {
    steps: usize,
    buses: usize,
    vm_pu: f64,
    va_deg: f64,
    worst: String,
}

fn compare_grid(case: &Path, grid: &Grid) -> Deviation {
    let reference = case.join("pandapower_reference");
    let pp_bus = read_csv(&reference.join("pp_bus.csv"));
    let bus_names: HashMap<String, String> = pp_bus
        .iter()
        .map(|r| (r["id"].clone(), r["name"].clone()))
        .collect();
    let mut step_files: Vec<(usize, PathBuf)> = std::fs::read_dir(&reference)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().to_string();
            let k = name.strip_prefix("step")?.strip_suffix("_bus.csv")?;
            Some((k.parse().ok()?, reference.join(&name)))
        })
        .collect();
    step_files.sort();
    assert!(
        !step_files.is_empty(),
        "{}: no step files",
        reference.display()
    );

    let mut dev = Deviation::default();
    for (step, file) in step_files {
        let mut net = grid.network_at_step(step).unwrap();
        let sol = vgrid::solve_network(&mut net).unwrap();
        assert!(
            sol.converged,
            "{} step {step}: {}",
            case.display(),
            sol.status
        );
        let v: HashMap<(&str, u32), (f64, f64)> = sol
            .voltages
            .iter()
            .map(|n| ((n.bus.as_str(), n.node), (n.vmag_v, n.vang_deg)))
            .collect();
        for row in read_csv(&file) {
            let name = &bus_names[&row["bus"]];
            let node = grid
                .node(name)
                .unwrap_or_else(|| panic!("pandapower bus {name} is not a SimBench node"));
            let (vmag_v, vang_deg) = v[&(node.bus.as_str(), 1)];
            let vm_pu = vmag_v / (node.vn_kv * 1000.0 / 3f64.sqrt());
            let dvm = (vm_pu - num(&row, "vm_pu")).abs();
            let dva = angle_diff_deg(vang_deg, num(&row, "va_degree")).abs();
            if dvm > dev.vm_pu {
                dev.vm_pu = dvm;
                dev.worst = format!("step {step} bus {name}");
            }
            dev.va_deg = dev.va_deg.max(dva);
            dev.buses += 1;
        }
        dev.steps += 1;
    }
    dev
}

fn cases() -> Vec<PathBuf> {
    let Some(dir) = simbench_dir() else {
        return Vec::new();
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.join("pandapower_reference").is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no SimBench grids in {}", dir.display());
    cases
}

#[test]
fn bus_voltages_match_pandapower() {
    let mut failures = Vec::new();
    for case in cases() {
        for taps in [TapPositions::Neutral, TapPositions::Applied] {
            let grid = read_grid_with(&case, &ReadOptions { taps }).unwrap();
            let dev = compare_grid(&case, &grid);
            eprintln!(
                "{:<20} {taps:?}: {} steps x {} buses: max |dvm| = {:.2e} pu, max |dva| = {:.2e} deg ({})",
                case.file_name().unwrap().to_string_lossy(),
                dev.steps,
                dev.buses / dev.steps.max(1),
                dev.vm_pu,
                dev.va_deg,
                dev.worst
            );
            if taps == TapPositions::Neutral
                && (dev.vm_pu > MAX_VM_ERR_PU || dev.va_deg > MAX_VA_ERR_DEG)
            {
                failures.push(format!("{}: {dev:?}", case.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
