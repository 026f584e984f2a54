//! Iterating on the load nodes only (`solve/reduced.rs`) gives the voltages the full
//! iteration gives, solve after solve, on a synthetic long feeder with few loads and on the
//! European LV feeder from `../shared`.

use std::path::{Path, PathBuf};

use vgrid_dss::{ReadOptions, Reader};
use vgrid_model::Network;
use vgrid_powerflow::solve::{PfStatus, System};

/// 60 three-phase line sections, loads at three of them: many nodes, few load nodes.
fn long_feeder() -> Network {
    let mut lines = vec![
        "Clear".to_string(),
        "New Circuit.f basekv=11 pu=1.02 phases=3 bus1=b0 MVAsc3=100 MVAsc1=90".into(),
    ];
    for k in 1..=60 {
        lines.push(format!(
            "New Line.l{k} bus1=b{} bus2=b{k} phases=3 r1=0.3 x1=0.35 r0=0.9 x0=1.1 c1=10 c0=4 length=0.2 units=km",
            k - 1
        ));
    }
    lines.push("New Load.a bus1=b20.1 phases=1 kv=6.35 kw=300 kvar=90".into());
    lines.push("New Load.b bus1=b45.2 phases=1 kv=6.35 kw=250 kvar=60 model=5".into());
    lines.push("New Load.c bus1=b60 phases=3 kv=11 kw=900 kvar=300".into());
    lines.push("New Load.d bus1=b33.1.3 phases=1 kv=11 kw=120 kvar=20 model=2".into());
    lines.push("Set voltagebases=[11]".into());
    lines.push("CalcVoltageBases".into());
    let mut r = Reader::new(ReadOptions::default());
    for l in &lines {
        r.run_command(l, &mut |_, _| Ok(()))
            .unwrap_or_else(|e| panic!("{l}: {e}"));
    }
    r.into_network()
}

/// Solve `steps` times with load powers moving step by step, on two systems: one allowed the
/// load-node iteration, one not. Returns the largest voltage difference relative to the
/// node's magnitude and how many solves used the load nodes.
fn compare(net: &Network, steps: usize) -> (f64, u64) {
    let mut fast = System::new(net).unwrap();
    let mut full = System::new(net).unwrap();
    full.set_load_node_iteration(false);
    let base: Vec<(f64, f64)> = net.loads.iter().map(|l| (l.p_kw, l.q_kvar)).collect();
    let mut worst = 0.0f64;
    for k in 0..steps {
        for (i, &(p, q)) in base.iter().enumerate() {
            // every load moves, each on its own phase of a slow wave
            let m = 1.0 + 0.3 * ((k as f64) * 0.37 + i as f64).sin();
            fast.set_load_kw_kvar(i, p * m, q * m);
            full.set_load_kw_kvar(i, p * m, q * m);
        }
        let a = fast.solve().unwrap();
        let b = full.solve().unwrap();
        assert_eq!(a.status, PfStatus::Converged, "step {k}: {a:?}");
        assert_eq!(b.status, PfStatus::Converged, "step {k}: {b:?}");
        for (x, y) in fast.voltages().iter().zip(full.voltages()) {
            let scale = y.norm().max(1.0);
            worst = worst.max((x - y).norm() / scale);
        }
    }
    assert_eq!(full.load_node_solves(), 0);
    (worst, fast.load_node_solves())
}

#[test]
fn load_node_iteration_gives_the_full_iterations_voltages() {
    let net = long_feeder();
    let (worst, used) = compare(&net, 60);
    assert!(used > 20, "the load-node iteration was used {used} times");
    // both stop at 1e-9 relative change; they agree to well within it
    assert!(worst < 1e-9, "largest relative difference {worst:e}");
}

#[test]
fn european_lv_feeder_iterates_on_its_kept_nodes_not_its_load_nodes() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let master = shared.join("feeders/eulv/Master.dss");
    if !master.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing; CI needs ../shared",
            master.display()
        );
        eprintln!("note: ../shared not found; skipping");
        return;
    }
    let net = read(&master);
    let (worst, used) = compare(&net, 150);
    // 2,259 of its 2,721 nodes are pass-through or dead-end buses, eliminated first: the
    // iteration on the other 462 costs less than the load-node product (see solve/chains.rs)
    let sys = System::new(&net).unwrap();
    assert_eq!(sys.eliminated_nodes(), (2259, true));
    assert_eq!(used, 0, "the load-node iteration was used {used} times");
    assert!(worst < 1e-9, "largest relative difference {worst:e}");
}

fn read(path: &Path) -> Network {
    let mut r = Reader::new(ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    });
    r.run_file(path, &mut |_, _| Ok(())).unwrap();
    r.into_network()
}
