//! Locating `../shared`, reading OpenDSS's reference files, and running a script's setup.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use vgrid_dss::{Directive, ReadOptions, Reader};
use vgrid_model::{Network, SolveMode};
use vgrid_timeseries::Simulation;

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

/// Text of a file, gunzipped when it ends in `.gz`.
pub fn read_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        s
    } else {
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// A CSV as a header and rows of fields.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = read_text(path);
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
        .collect();
    (header, rows)
}

/// `(bus, node) -> vmag_pu` from a reference `voltages_step*.csv` (rows without a base left out).
pub fn read_voltages_pu(path: &Path) -> HashMap<(String, u32), f64> {
    let (_, rows) = read_csv(path);
    rows.iter()
        .filter_map(|r| {
            let pu: f64 = r.get(5)?.parse().ok()?;
            pu.is_finite()
                .then(|| ((r[0].to_ascii_lowercase(), r[1].parse().unwrap_or(0)), pu))
        })
        .collect()
}

/// Run OpenDSS commands as OpenDSS would up to the time series: every `Solve` in snapshot mode
/// is a power flow with controls whose taps are written back. Returns the network as it stands.
pub fn run_setup(commands: &[String]) -> Network {
    let mut reader = Reader::new(ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    });
    for c in commands {
        reader
            .run_command(c, &mut |net, d| {
                if matches!(d, Directive::Solve) && net.settings.mode == SolveMode::Snapshot {
                    let mut sim = Simulation::new(net).map_err(|e| e.to_string())?;
                    sim.solve_present().map_err(|e| e.to_string())?;
                    sim.write_back(net);
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{c}: {e}"));
    }
    reader.into_network()
}
