//! Time `vgrid_dss::read_file` on a script: reads it N times and prints the median.
//!
//! ```text
//! cargo run --release -p vgrid-dss --example read_timing -- /work/shared/feeders/ieee123/IEEE123Master.dss 200
//! cargo run --release -p vgrid-dss --example read_timing -- feeder.dss 1 --dump out.txt
//! ```
//! `--dump` writes the network and the warnings (`{:#?}`) of the last read, or the error, so
//! two builds of the reader can be compared on any script.

use std::path::PathBuf;
use std::time::Instant;
use vgrid_dss::{read_file, ReadOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: read_timing <script.dss> [runs]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let dump = match (args.next().as_deref(), args.next()) {
        (Some("--dump"), Some(out)) => Some(PathBuf::from(out)),
        _ => None,
    };
    if let Some(out) = &dump {
        let text = match read_file(&path, ReadOptions::default()) {
            Ok((net, warnings)) => format!("{net:#?}\n{warnings:#?}\n"),
            Err(e) => format!("error: {e}\n"),
        };
        if let Err(e) = std::fs::write(out, text) {
            eprintln!("cannot write '{}': {e}", out.display());
            std::process::exit(1);
        }
        return;
    }
    let mut times_ms = Vec::with_capacity(runs);
    let mut elements = 0;
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        let (net, _warnings) = match read_file(&path, ReadOptions::default()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        times_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        elements = net.lines.len() + net.loads.len() + net.transformers.len();
    }
    times_ms.sort_by(f64::total_cmp);
    let median = times_ms[times_ms.len() / 2];
    let min = times_ms[0];
    println!(
        "{}: median {median:.3} ms, min {min:.3} ms over {} runs ({elements} lines+loads+transformers)",
        path.display(),
        times_ms.len()
    );
}
