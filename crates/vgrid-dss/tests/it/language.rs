//! Language features on small scripts.

use std::path::Path;
use vgrid_dss::{DssError, ReadOptions, Reader};
use vgrid_model::Network;

pub fn run(script: &str) -> Reader {
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(script, "test.dss", Path::new("."), &mut |_, _| Ok(()))
        .unwrap_or_else(|e| panic!("{e}"));
    r
}

#[allow(dead_code)]
pub fn run_err(script: &str) -> DssError {
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(script, "test.dss", Path::new("."), &mut |_, _| Ok(()))
        .expect_err("script should fail")
}

fn net(script: &str) -> Network {
    run(script).into_network()
}

const HEAD: &str = "new circuit.t basekv=12.47\n";

#[test]
fn open_and_close_terminals() {
    let n = net(&format!(
        "{HEAD}New Line.Sw7 phases=3 Bus1=151 Bus2=300 switch=yes\nopen Line.Sw7 terminal=2\nOpen Line.sw7 1 2\n"
    ));
    assert_eq!(n.open_terminals.len(), 2);
    assert_eq!(n.open_terminals[0].terminal, 2);
    assert_eq!(n.open_terminals[1].conductor, Some(2));
    let n = net(&format!(
        "{HEAD}New Line.Sw7 Bus1=a Bus2=b\nopen Line.Sw7 2\nclose Line.Sw7 2\n"
    ));
    assert!(n.open_terminals.is_empty());
}
