//! `vgrid timeseries` on a SimBench folder: every step equals a snapshot solve of the grid at
//! that quarter-hour (the path checked against pandapower in `vgrid-simbench`'s tests).

use crate::{shared, tmp, vgrid};

#[test]
fn a_simbench_year_runs_step_by_step_like_snapshots() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("simbench/1-LV-rural1--0-sw");
    let per_step = tmp("sb_steps.csv");
    let out = vgrid()
        .arg("timeseries")
        .arg(&dir)
        .args(["--number", "96", "--per-step", per_step.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("96 steps of 15 min"), "{text}");
    // a SimBench grid is balanced: solved in positive sequence, and the summary says so
    assert!(
        text.contains("power flow           positive sequence"),
        "{text}"
    );
    let csv = std::fs::read_to_string(&per_step).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|x| x.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 96);
    let grid = vgrid::simbench::read_grid(&dir).unwrap();
    // step k (hour k/4) uses profile row k − 1
    for k in [1usize, 37, 50, 96] {
        let mut net = grid.network_at_step(k - 1).unwrap();
        let sol = vgrid::solve_network(&mut net).unwrap();
        let r = &rows[k - 1];
        let p = r[col("p_source_kw")];
        assert!(
            (p - sol.source_kw).abs() <= 1e-6 * sol.source_kw.abs().max(1.0),
            "step {k}: time series {p} kW, snapshot {} kW",
            sol.source_kw
        );
        let vmin = sol.v_min_pu.as_ref().unwrap().0;
        let vmax = sol.v_max_pu.as_ref().unwrap().0;
        assert!(
            (r[col("vpu_min")] - vmin).abs() < 1e-6,
            "step {k}: vmin {} vs {vmin}",
            r[col("vpu_min")]
        );
        assert!(
            (r[col("vpu_max")] - vmax).abs() < 1e-6,
            "step {k}: vmax {} vs {vmax}",
            r[col("vpu_max")]
        );
    }
}

#[test]
fn a_simbench_folder_refuses_dss_commands() {
    let Some(shared) = shared() else { return };
    let out = vgrid()
        .arg("timeseries")
        .arg(shared.join("simbench/1-LV-rural1--0-sw"))
        .args(["-c", "Set loadmult=2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SimBench folder"));
}
