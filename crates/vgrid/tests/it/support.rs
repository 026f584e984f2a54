//! Locating `../shared` and reading the reference files.

use std::collections::HashMap;
use std::path::PathBuf;

/// `../shared` beside the repository. Under CI a missing `../shared` is a failure; elsewhere the
/// caller skips with a note.
pub fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.join("feeders").is_dir() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "../shared is missing beside the repository (looked in {}); CI needs the reference feeders",
            p.display()
        );
    }
    eprintln!("note: ../shared not found; skipping reference comparison");
    None
}

/// One row of a reference `voltages*.csv`.
#[derive(Debug, Clone)]
pub struct RefVoltage {
    pub vmag_v: f64,
    pub vang_deg: f64,
    pub vbase_ln_kv: f64,
}

/// `(bus, node) -> voltage` from a reference voltages CSV.
pub fn read_voltages(path: &std::path::Path) -> HashMap<(String, u32), RefVoltage> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 6 {
            continue;
        }
        let num = |s: &str| s.trim().parse::<f64>().unwrap_or(f64::NAN);
        out.insert(
            (f[0].to_ascii_lowercase(), f[1].trim().parse().unwrap_or(0)),
            RefVoltage {
                vmag_v: num(f[2]),
                vang_deg: num(f[3]),
                vbase_ln_kv: num(f[4]),
            },
        );
    }
    out
}

/// Angle difference in degrees, wrapped to (-180, 180].
pub fn angle_diff_deg(a: f64, b: f64) -> f64 {
    let mut d = (a - b) % 360.0;
    if d > 180.0 {
        d -= 360.0;
    }
    if d <= -180.0 {
        d += 360.0;
    }
    d
}

/// Complex power balance of a solve, relative to the source power:
/// |source − loads − series losses − shunts| / |source|. The issue asks ≤ 1e-8 for every test solve.
pub fn power_balance(sol: &vgrid::Solution) -> f64 {
    let dp = sol.source_kw - sol.load_kw - sol.losses_kw - sol.shunt_kw;
    let dq = sol.source_kvar - sol.load_kvar - sol.losses_kvar - sol.shunt_kvar;
    dp.hypot(dq) / sol.source_kw.hypot(sol.source_kvar).max(1e-9)
}

/// Assert the power balance of a solve to 1e-8 relative.
pub fn assert_power_balance(what: &str, sol: &vgrid::Solution) {
    let b = power_balance(sol);
    assert!(
        b <= 1e-8,
        "{what}: power balance off by {b:.3e} relative (source {} kW, loads {} kW, losses {} kW, shunts {} kW)",
        sol.source_kw,
        sol.load_kw,
        sol.losses_kw,
        sol.shunt_kw
    );
}

/// A reference case compiled as OpenDSS's reference run did: the master with its `Solve`
/// commands skipped, the post-compile commands of `summary.json` replayed, then `extra`.
/// Returns the session, the case's `summary.json` and its folder; `None` without `../shared`.
pub fn reference_session(
    case: &str,
    extra: &[&str],
) -> Option<(vgrid::Session, serde_json::Value, PathBuf)> {
    let shared = shared()?;
    let dir = shared.join("feeders/reference/opendss").join(case);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let master = shared.join(summary["master"].as_str().unwrap());
    let mut s = vgrid::Session::new(vgrid::ReadOptions::default());
    s.ignore_script_solves = true;
    s.run_file(&master)
        .unwrap_or_else(|e| panic!("{case}: reading {}: {e}", master.display()));
    let post = summary["post_compile_commands"].as_array().unwrap();
    for c in post
        .iter()
        .map(|c| c.as_str().unwrap())
        .chain(extra.iter().copied())
    {
        s.run_command(c)
            .unwrap_or_else(|e| panic!("{case}: {c}: {e}"));
    }
    Some((s, summary, dir))
}
