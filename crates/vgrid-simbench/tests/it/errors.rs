//! Broken copies of the tiny grid: each error names file, line and column, and nothing panics.

use crate::support::Scratch;
use vgrid_simbench::{read_grid, ErrorKind};

/// Read the broken copy and return the error's text (with the scratch folder cut off).
fn error_of(s: &Scratch) -> String {
    let e = read_grid(s.path()).expect_err("the broken grid was accepted");
    e.to_string()
        .replace(&format!("{}/", s.path().display()), "")
}

#[test]
fn broken_foreign_keys_name_the_referring_cell() {
    let s = Scratch::new("fk-line-type");
    s.edit("Line.csv", ";NAYY 4x150SE 0.6/1kV;", ";NAYY 4x999;");
    assert_eq!(
        error_of(&s),
        "Line.csv:2: column `type`: \"NAYY 4x999\" is not an id of LineType.csv"
    );

    let s = Scratch::new("fk-load-node");
    s.edit("Load.csv", "Load 2;LV Bus 1;", "Load 2;LV Bus 9;");
    assert_eq!(
        error_of(&s),
        "Load.csv:3: column `node`: \"LV Bus 9\" is not an id of Node.csv"
    );

    let s = Scratch::new("fk-switch");
    s.edit("Switch.csv", "LV Bus 2;LV Bus 3;", "LV Bus 2;LV Bus 33;");
    assert_eq!(
        error_of(&s),
        "Switch.csv:6: column `nodeB`: \"LV Bus 33\" is not an id of Node.csv"
    );

    let s = Scratch::new("fk-trafo-type");
    s.edit("Transformer.csv", ";0.25 MVA 20/0.4 kV Dyn5;", ";0.4 MVA;");
    assert_eq!(
        error_of(&s),
        "Transformer.csv:2: column `type`: \"0.4 MVA\" is not an id of TransformerType.csv"
    );

    let s = Scratch::new("fk-profile");
    s.edit("Load.csv", ";H0-A;", ";H0-Z;");
    assert_eq!(
        error_of(&s),
        "Load.csv:2: column `profile`: \"H0-Z\" is not an id of LoadProfile.csv (no column H0-Z_pload)"
    );

    let s = Scratch::new("fk-res-profile");
    s.edit("RES.csv", ";PV1;", ";PV2;");
    assert_eq!(
        error_of(&s),
        "RES.csv:2: column `profile`: \"PV2\" is not an id of RESProfile.csv"
    );

    let s = Scratch::new("fk-coord");
    s.edit("Node.csv", ";coord_3;", ";coord_9;");
    assert_eq!(
        error_of(&s),
        "Node.csv:9: column `coordID`: \"coord_9\" is not an id of Coordinates.csv"
    );
}

#[test]
fn missing_tables_columns_and_values() {
    let s = Scratch::new("no-node-table");
    s.remove("Node.csv");
    assert_eq!(error_of(&s), "Node.csv: required table is missing");

    let s = Scratch::new("no-length-column");
    s.edit("Line.csv", ";length;", ";len;");
    assert_eq!(error_of(&s), "Line.csv: missing column `length`");

    let s = Scratch::new("null-length");
    s.edit("Line.csv", ";0.1;", ";NULL;");
    assert_eq!(
        error_of(&s),
        "Line.csv:2: column `length`: a value is required (found \"NULL\")"
    );

    let s = Scratch::new("no-setpoint");
    s.edit("Node.csv", "MV Bus 1;busbar;1.02;", "MV Bus 1;busbar;NULL;");
    assert_eq!(
        error_of(&s),
        "Node.csv:2: column `vmSetp`: a value is required (found \"NULL\")"
    );

    let s = Scratch::new("no-load-profile-file");
    s.remove("LoadProfile.csv");
    assert_eq!(error_of(&s), "LoadProfile.csv: required table is missing");
}

#[test]
fn non_numeric_and_out_of_range_values() {
    let s = Scratch::new("nan-r");
    s.edit("LineType.csv", ";0.2067;", ";abc;");
    assert_eq!(
        error_of(&s),
        "LineType.csv:2: column `r`: \"abc\" is not a number"
    );

    let s = Scratch::new("nan-profile");
    s.edit("LoadProfile.csv", ";2.0;", ";NaN;");
    assert_eq!(
        error_of(&s),
        "LoadProfile.csv:4: column `H0-A_pload`: \"NaN\" is not a number"
    );

    let s = Scratch::new("short-profile-row");
    s.edit("RESProfile.csv", "00:15;0.5", "00:15;0.5;7");
    assert_eq!(
        error_of(&s),
        "RESProfile.csv:3: expected 2 fields (as the header), found 3"
    );

    let s = Scratch::new("negative-length");
    s.edit("Line.csv", ";0.1;", ";-0.1;");
    assert_eq!(
        error_of(&s),
        "Line.csv:2: column `length`: \"-0.1\": the length must be positive"
    );

    let s = Scratch::new("vkr-above-vk");
    s.edit("TransformerType.csv", ";6.0;3.3;", ";0.1;3.3;");
    assert!(error_of(&s)
        .starts_with("TransformerType.csv:2: column `vmImp`: \"0.1\": need 0 ≤ vkr ≤ vk"));

    let s = Scratch::new("switch-state");
    s.edit("Switch.csv", "LS;0;", "LS;open;");
    assert_eq!(
        error_of(&s),
        "Switch.csv:6: column `cond`: \"open\": expected 1 (closed) or 0 (open)"
    );
}

#[test]
fn duplicates_and_unsupported_input() {
    let s = Scratch::new("duplicate-node");
    s.edit("Node.csv", "LV Bus 3;", "LV Bus 2;");
    assert_eq!(
        error_of(&s),
        "Node.csv:9: column `id`: \"LV Bus 2\" is defined twice (first on line 7)"
    );

    let s = Scratch::new("ext-pq");
    s.edit("ExternalNet.csv", ";vavm;", ";pq;");
    let e = read_grid(s.path()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Unsupported(_)));
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("calc_type")));

    let s = Scratch::new("shift-45");
    s.edit("TransformerType.csv", ";150.0;", ";45.0;");
    let e = read_grid(s.path()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{e}");
    assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("va0")));

    let s = Scratch::new("storage");
    std::fs::write(
        s.path().join("Storage.csv"),
        "id;node;type;profile;pStor;qStor;chargeLevel;sR;eStore;etaStore;sdStore;pMin;pMax;qMin;qMax;subnet;voltLvl\n\
         Storage 1;LV Bus 2;Battery;NULL;0;0;0.5;0.01;0.01;0.9;0;-0.01;0.01;0;0;LV;7\n",
    )
    .unwrap();
    let e = read_grid(s.path()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{e}");
    assert_eq!(e.line, Some(2));

    let s = Scratch::new("not-a-folder");
    let e = read_grid(&s.path().join("nothing-here")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::MissingFile));
}

/// Every table of the tiny grid cut short at many places, or with a cell garbled: the reader
/// returns (an error or a grid), it never panics.
#[test]
fn truncated_and_garbled_files_never_panic() {
    let s = Scratch::new("garbled");
    let files: Vec<String> = std::fs::read_dir(s.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f.ends_with(".csv"))
        .collect();
    let mut errors = 0;
    for file in &files {
        let path = s.path().join(file);
        let original = std::fs::read(&path).unwrap();
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for k in 0..=16 {
            variants.push(original[..original.len() * k / 16].to_vec());
        }
        for (i, b) in original.iter().enumerate().step_by(7) {
            let mut v = original.clone();
            v[i] = match b {
                b';' => b',',
                b'\n' => b';',
                _ => b';',
            };
            variants.push(v);
        }
        variants.push(vec![0xff, 0xfe, b';', b'\n']);
        for v in variants {
            std::fs::write(&path, &v).unwrap();
            if read_grid(s.path()).is_err() {
                errors += 1;
            }
        }
        std::fs::write(&path, &original).unwrap();
    }
    assert!(errors > 100, "only {errors} variants were refused");
    read_grid(s.path()).unwrap();
}
