//! vgrid on the SimBench grids of `../shared/simbench` against pandapower's `runpp` results at
//! the reference steps (`pandapower_reference/step<k>_*.csv`): every bus voltage, the slack
//! power, every line's and transformer's losses, every line's current.
//!
//! Achieved (5 steps per grid, taps at neutral as pandapower 3.5.6 has them):
//!
//! | grid | buses | max abs(dvm) pu | max abs(dva) deg | slack abs(dP) kW | branch losses abs(dP) kW | line abs(dI) A |
//! |---|---|---|---|---|---|---|
//! | 1-LV-rural1--0-sw | 15 | 2.3e-9 | 2.9e-7 | 2.1e-5 | 1.9e-7 | 4.6e-5 |
//! | 1-LV-urban6--0-sw | 59 | 5.4e-9 | 1.9e-7 | 3.9e-5 | 2.6e-8 | 2.1e-5 |
//! | 1-MV-urban--0-sw | 144 | 2.0e-9 | 2.7e-7 | 1.5e-2 (of ~20 MW) | 1.1e-6 | 4.9e-5 |

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use vgrid_simbench::{read_grid_with, Grid, ReadOptions, TapPositions};

/// Largest allowed |Δvm| in pu and |Δva| in degrees (1e-6 pu of arc is 5.7e-5°).
const MAX_VM_ERR_PU: f64 = 1e-6;
const MAX_VA_ERR_DEG: f64 = 1e-4;
/// Largest allowed slack-power error, as a fraction of the grid's rated power (the stiff
/// source's round-off is about 2e-7 of it, see `SLACK_Z_PU`).
const MAX_SLACK_ERR_REL: f64 = 1e-6;
/// Largest allowed error of one branch's losses, kW and kvar, and of a line current, A.
const MAX_LOSS_ERR_KW: f64 = 1e-4;
const MAX_CURRENT_ERR_A: f64 = 1e-4;

/// The grid's rated power, kVA: every load's and RES's rated apparent power.
fn rated_kva(grid: &Grid) -> f64 {
    let net = &grid.network;
    net.loads
        .iter()
        .map(|l| l.p_kw.hypot(l.q_kvar))
        .sum::<f64>()
        + net.generators.iter().map(|g| g.kva).sum::<f64>()
}

/// `../shared/simbench` beside the repository: a failure under CI when missing, else `None`
/// with a note.
pub(crate) fn simbench_dir() -> Option<PathBuf> {
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
pub(crate) fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
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

pub(crate) fn num(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col].parse().unwrap_or(f64::NAN)
}

pub(crate) fn angle_diff_deg(a: f64, b: f64) -> f64 {
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
    /// Slack power, kW and kvar.
    source_kw: f64,
    source_kvar: f64,
    /// Losses of one line or transformer, kW and kvar.
    branch_loss_kw: f64,
    branch_loss_kvar: f64,
    /// Current of one line (the larger of its two ends), A.
    current_a: f64,
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

    let names = |file: &str| -> HashMap<String, String> {
        read_csv(&reference.join(file))
            .iter()
            .map(|r| (r["id"].clone(), r["name"].to_lowercase()))
            .collect()
    };
    let (line_names, trafo_names) = (names("pp_line.csv"), names("pp_trafo.csv"));

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
        let at = |suffix: &str| file.with_file_name(format!("step{step:05}_{suffix}.csv"));
        let (p_mw, q_mvar) = read_csv(&at("ext_grid"))
            .iter()
            .fold((0.0, 0.0), |(p, q), r| {
                (p + num(r, "p_mw"), q + num(r, "q_mvar"))
            });
        dev.source_kw = dev.source_kw.max((sol.source_kw - 1000.0 * p_mw).abs());
        dev.source_kvar = dev
            .source_kvar
            .max((sol.source_kvar - 1000.0 * q_mvar).abs());

        let losses: HashMap<&str, (f64, f64)> = sol
            .element_losses
            .iter()
            .map(|l| (l.element.as_str(), (l.loss_kw, l.loss_kvar)))
            .collect();
        let currents: HashMap<&str, f64> = sol
            .loadings
            .iter()
            .map(|l| (l.element.as_str(), l.i_max_a))
            .collect();
        let mut check_branch =
            |elements: &[String], row: &HashMap<String, String>, i_col: Option<&str>| {
                let (kw, kvar) = elements.iter().fold((0.0, 0.0), |(p, q), e| {
                    let (lp, lq) = losses[e.as_str()];
                    (p + lp, q + lq)
                });
                dev.branch_loss_kw = dev
                    .branch_loss_kw
                    .max((kw - 1000.0 * num(row, "pl_mw")).abs());
                dev.branch_loss_kvar = dev
                    .branch_loss_kvar
                    .max((kvar - 1000.0 * num(row, "ql_mvar")).abs());
                if let Some(i_col) = i_col {
                    let i_a = currents[elements[0].as_str()];
                    dev.current_a = dev.current_a.max((i_a - 1000.0 * num(row, i_col)).abs());
                }
            };
        for row in read_csv(&at("line")) {
            let name = &line_names[&row["line"]];
            check_branch(&[format!("Line.{name}")], &row, Some("i_ka"));
        }
        for row in read_csv(&at("trafo")) {
            let name = &trafo_names[&row["trafo"]];
            let halves = [
                format!("Transformer.{name}"),
                format!(
                    "Transformer.{name}{}",
                    vgrid_simbench::build::LV_HALF_SUFFIX
                ),
            ];
            // vgrid's loading current of a transformer is its largest terminal current, HV or
            // LV: not comparable with pandapower's per-side currents; losses are.
            check_branch(&halves, &row, None);
        }
        dev.steps += 1;
    }
    dev
}

pub(crate) fn cases() -> Vec<PathBuf> {
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
fn simbench_grids_match_pandapower() {
    let mut failures = Vec::new();
    for case in cases() {
        let neutral = ReadOptions {
            taps: TapPositions::Neutral,
        };
        let grid = read_grid_with(&case, &neutral).unwrap();
        let dev = compare_grid(&case, &grid);
        let slack_tol_kw = MAX_SLACK_ERR_REL * rated_kva(&grid);
        eprintln!(
            "{:<20} {} steps x {} buses: max |dvm| = {:.1e} pu, max |dva| = {:.1e} deg ({}); \
             slack |dP| = {:.1e} kW, |dQ| = {:.1e} kvar; branch losses |dP| = {:.1e} kW, \
             |dQ| = {:.1e} kvar; line |dI| = {:.1e} A",
            case.file_name().unwrap().to_string_lossy(),
            dev.steps,
            dev.buses / dev.steps.max(1),
            dev.vm_pu,
            dev.va_deg,
            dev.worst,
            dev.source_kw,
            dev.source_kvar,
            dev.branch_loss_kw,
            dev.branch_loss_kvar,
            dev.current_a,
        );
        if dev.vm_pu > MAX_VM_ERR_PU
            || dev.va_deg > MAX_VA_ERR_DEG
            || dev.source_kw.max(dev.source_kvar) > slack_tol_kw
            || dev.branch_loss_kw.max(dev.branch_loss_kvar) > MAX_LOSS_ERR_KW
            || dev.current_a > MAX_CURRENT_ERR_A
        {
            failures.push(format!("{}: {dev:?}", case.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// pandapower 3.x leaves SimBench's tap positions unapplied (the converted trafos have no
/// `tap_changer_type`): the MV grid's HV/MV transformers at `tappos = -1` (1.5 % per step) are
/// what tells the two readings apart.
#[test]
fn pandapower_results_are_at_neutral_taps() {
    for case in cases() {
        let applied = read_grid_with(
            &case,
            &ReadOptions {
                taps: TapPositions::Applied,
            },
        )
        .unwrap();
        let off_neutral = applied
            .network
            .transformers
            .iter()
            .any(|t| t.windings.iter().any(|w| w.tap_pu != 1.0));
        let dev = compare_grid(&case, &applied);
        if off_neutral {
            assert!(dev.vm_pu > 1e-3, "{}: {dev:?}", case.display());
        } else {
            assert!(dev.vm_pu <= MAX_VM_ERR_PU, "{}: {dev:?}", case.display());
        }
    }
}

/// The stiff source's impedance moves no bus voltage by 1e-9 pu: dividing it by 100 changes
/// nothing at the step of largest load.
#[test]
fn slack_impedance_is_negligible() {
    for case in cases() {
        let grid = read_grid_with(
            &case,
            &ReadOptions {
                taps: TapPositions::Neutral,
            },
        )
        .unwrap();
        let step = largest_load_step(&grid);
        let mut net = grid.network_at_step(step).unwrap();
        let mut stiffer = net.clone();
        for s in &mut stiffer.sources {
            if let vgrid_model::SourceImpedance::Ohm {
                r1_ohm,
                x1_ohm,
                r0_ohm,
                x0_ohm,
            } = &mut s.impedance
            {
                for z in [r1_ohm, x1_ohm, r0_ohm, x0_ohm] {
                    *z /= 100.0;
                }
            }
        }
        let a = vgrid::solve_network(&mut net).unwrap();
        let b = vgrid::solve_network(&mut stiffer).unwrap();
        let worst = a
            .voltages
            .iter()
            .zip(&b.voltages)
            .filter_map(|(x, y)| Some((x.vmag_v - y.vmag_v).abs() / x.vbase_ln_kv? / 1000.0))
            .fold(0.0, f64::max);
        eprintln!(
            "{}: step {step}: slack impedance effect {worst:.1e} pu",
            case.file_name().unwrap().to_string_lossy()
        );
        assert!(worst < 1e-9, "{}: {worst:e} pu", case.display());
    }
}

/// The profile step with the largest total load.
fn largest_load_step(grid: &Grid) -> usize {
    let net = &grid.network;
    let shapes: HashMap<&str, &vgrid_model::LoadShape> = net
        .load_shapes
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    (0..grid.steps)
        .max_by(|&a, &b| {
            let total = |k: usize| -> f64 {
                net.loads
                    .iter()
                    .map(|l| match &l.yearly {
                        Some(n) => l.p_kw * shapes[n.as_str()].p_mult[k],
                        None => l.p_kw,
                    })
                    .sum()
            };
            total(a).total_cmp(&total(b))
        })
        .unwrap_or(0)
}

#[test]
fn simbench_models_validate_without_problems() {
    for case in cases() {
        let grid = vgrid_simbench::read_grid(&case).unwrap();
        let problems = grid.network.validate();
        assert!(problems.is_empty(), "{}: {problems:#?}", case.display());
    }
}
