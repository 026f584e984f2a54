//! Random input never panics, whatever the options.

use proptest::prelude::*;
use std::path::Path;
use vgrid_dss::{ReadOptions, Reader};

const TOKENS: &[&str] = &[
    "New",
    "Edit",
    "~",
    "More",
    "Set",
    "Solve",
    "Redirect",
    "Compile",
    "Clear",
    "BatchEdit",
    "Open",
    "Close",
    "Disable",
    "calcv",
    "BusCoords",
    "circuit.c",
    "Circuit.x",
    "Line.l",
    "Load.a",
    "Transformer.t",
    "LineCode.c",
    "LineGeometry.g",
    "WireData.w",
    "Loadshape.s",
    "RegControl.r",
    "Capacitor.c",
    "Fuse.f",
    "Vsource.source",
    "Line.l.length",
    "bus1=",
    "bus2=",
    "x.1.2",
    "a.0",
    "kw=",
    "kv=",
    "pf=",
    "phases=",
    "windings=",
    "wdg=",
    "buses=",
    "kvs=",
    "linecode=",
    "length=",
    "units=",
    "ft",
    "km",
    "mi",
    "rmatrix=",
    "nconds=",
    "cond=",
    "x=",
    "h=",
    "wires=",
    "mult=",
    "(file=x.txt)",
    "npts=",
    "like=",
    "transformer=",
    "tapnum=",
    "switch=y",
    "nphases=",
    "[1 2 3]",
    "(1 2 +)",
    "(1 0 /)",
    "(sqrt)",
    "[1 | 2 3]",
    "\"a b\"",
    "'q'",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "|",
    "=",
    ",",
    "!",
    "//",
    "/*",
    "*/",
    "0",
    "-1",
    "1e308",
    "1e-308",
    "3",
    "1000000000",
    "NaN",
    "inf",
    "..*",
    "^a$",
    "[a-",
    "\\",
    "%r=",
    "pct",
    "*",
    "\n",
    "\n",
    "\n",
    "  ",
];

fn run_all(text: &str) {
    for (lenient, keep_going) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut r = Reader::new(ReadOptions {
            lenient,
            keep_going,
        });
        let _ = r.run_text(
            text,
            "fuzz.dss",
            Path::new("/nonexistent-vgrid-dir"),
            &mut |_, _| Ok(()),
        );
        let _ = r.run_command(text, &mut |_, _| Err("no".into()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        run_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soup_never_panics(toks in proptest::collection::vec(proptest::sample::select(TOKENS), 0..80)) {
        run_all(&toks.join(" "));
    }

    #[test]
    fn token_soup_without_blanks_never_panics(toks in proptest::collection::vec(proptest::sample::select(TOKENS), 0..60)) {
        run_all(&toks.concat());
    }

    #[test]
    fn scripts_after_a_circuit_never_panic(toks in proptest::collection::vec(proptest::sample::select(TOKENS), 0..80)) {
        run_all(&format!("new circuit.c\nnew line.l bus1=a bus2=b\nnew transformer.t\nnew load.a\n{}", toks.join(" ")));
    }
}

#[test]
fn huge_and_odd_values_are_rejected_not_panicking() {
    for s in [
        "new circuit.c\nnew transformer.t windings=100000\n",
        "new circuit.c\nnew linegeometry.g nconds=1000000\n",
        "new circuit.c\nnew line.l phases=0\n",
        "new circuit.c\nnew loadshape.s npts=-1\n",
        "new circuit.c\nnew capacitor.c numsteps=1e300\n",
        "new circuit.c\nbatchedit load.[ kw=1\n",
        "new circuit.c\nopen line.x 99999999999\n",
    ] {
        run_all(s);
    }
}
