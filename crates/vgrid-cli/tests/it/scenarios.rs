//! `vgrid scenarios` as a user runs it: the bundled village's scenario file (a short window of
//! its year), the comparison on the terminal, `scenarios.csv`, and a broken scenario file.

use super::{repo, tmp, vgrid};

#[test]
fn the_bundled_scenarios_run_and_compare() {
    let out_dir = tmp("village-scenarios");
    // the first 96 quarter hours (1 January) keep the test short
    let out = vgrid()
        .arg("scenarios")
        .arg(repo().join("examples/village/scenarios.txt"))
        .args(["--number", "96", "--jobs", "2"])
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}\n{err}");
    for name in ["base", "growth-20", "tb-630kVA", "pv-village", "battery"] {
        assert!(text.contains(name), "the table lacks {name}:\n{text}");
        assert!(
            err.lines()
                .any(|l| l.contains(name) && l.contains("96 steps")),
            "no progress line for {name}:\n{err}"
        );
    }
    for row in [
        "source energy MWh",
        "losses MWh",
        "min voltage pu",
        "max voltage pu",
        "nodes above band",
        "hours with an overload",
        "most loaded lines and transformers",
    ] {
        assert!(text.contains(row), "the table lacks {row}:\n{text}");
    }
    // the same element on one row across the scenarios: peak loading and hours above 100 %
    let te = text
        .lines()
        .find(|l| l.trim_start().starts_with("Transformer.te "))
        .unwrap_or_else(|| panic!("no row for Transformer.te:\n{text}"));
    assert_eq!(te.matches(" % ").count(), 5, "{te}");
    assert!(text.contains("changes against [base]"), "{text}");
    // 20 % more load draws about 20 % more energy
    assert!(text.contains("(+20."), "{text}");
    let csv = std::fs::read_to_string(out_dir.join("scenarios.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..3], ["scenario", "reference", "status"]);
    for col in ["source_mwh", "losses_mwh", "vmin_pu", "delta_source_mwh"] {
        assert!(header.contains(&col), "{header:?} lacks {col}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0][..3], ["base", "1", "ok"]);
    let delta = header
        .iter()
        .position(|h| *h == "delta_source_mwh")
        .unwrap();
    let source = header.iter().position(|h| *h == "source_mwh").unwrap();
    let num = |s: &str| s.parse::<f64>().unwrap();
    assert_eq!(num(rows[0][delta]), 0.0);
    let growth = num(rows[1][source]) / num(rows[0][source]);
    assert!(growth > 1.19 && growth < 1.22, "{growth}");
    // every element across the scenarios, and each scenario's own tables
    let compared = std::fs::read_to_string(out_dir.join("elements_compared.csv")).unwrap();
    assert!(compared.starts_with(
        "element,base_peak_loading_pct,base_above_100pct_h,base_above_trip_100pct_h,growth-20_peak_loading_pct"
    ));
    assert!(compared.lines().any(|l| l.starts_with("Transformer.tb,")));
    for name in ["base", "growth-20", "tb-630kVA", "pv-village", "battery"] {
        let el = std::fs::read_to_string(out_dir.join(name).join("elements.csv")).unwrap();
        assert!(
            el.starts_with("element,i_rated_a,peak_i_a,peak_loading_pct"),
            "{el}"
        );
        let nodes = std::fs::read_to_string(out_dir.join(name).join("nodes.csv")).unwrap();
        assert!(nodes.starts_with("bus,node,vbase_ln_kv,vmin_pu"), "{nodes}");
    }
    // the bigger transformer: its loading falls by the ratio of the ratings
    let tb = |name: &str| -> f64 {
        let el = std::fs::read_to_string(out_dir.join(name).join("elements.csv")).unwrap();
        let row = el
            .lines()
            .find(|l| l.starts_with("Transformer.tb,"))
            .unwrap();
        num(row.split(',').nth(3).unwrap())
    };
    let ratio = tb("tb-630kVA") / tb("base");
    assert!((ratio - 400.0 / 630.0).abs() < 0.02, "{ratio}");
}

#[test]
fn a_broken_scenario_file_names_its_line() {
    let p = tmp("broken-scenarios.txt");
    let base = repo().join("examples/village/Run_year.dss");
    std::fs::write(
        &p,
        format!(
            "base = {}\n[base]\n[bigger]\nreplace Transformer.tbb kva=630\n",
            base.display()
        ),
    )
    .unwrap();
    let out = vgrid().arg("scenarios").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken-scenarios.txt:4: [bigger]"), "{err}");
    assert!(err.contains("did you mean 'Transformer.tb'"), "{err}");
    // --only with a name the file does not have
    let out = vgrid()
        .arg("scenarios")
        .arg(repo().join("examples/village/scenarios.txt"))
        .args(["--only", "base,tb-400"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no scenario [tb-400]"), "{err}");
    assert!(err.contains("tb-630kVA"), "{err}");
}

#[test]
fn json_compares_for_machines() {
    let out = vgrid()
        .arg("scenarios")
        .arg(repo().join("examples/village/scenarios.txt"))
        .args(["--number", "8", "--json", "--only", "base,tb-630kVA"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["reference"], "base");
    let s = j["scenarios"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[1]["name"], "tb-630kVA");
    assert_eq!(s[1]["steps"], 8);
    assert!(s[1]["commands"][0]
        .as_str()
        .unwrap()
        .starts_with("Edit Transformer.tb kVAs=[630 630]"));
    assert_eq!(s[0]["delta_source_mwh"], 0.0);
    assert!(s[1]["losses_mwh"].as_f64().unwrap() > 0.0);
    assert!(s[1]["most_loaded"]
        .as_array()
        .is_some_and(|m| !m.is_empty()));
}
