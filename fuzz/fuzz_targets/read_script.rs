//! Fuzz the OpenDSS reader: any bytes, as a script and as a single command, in every mode.
//! Run with `cargo +nightly fuzz run read_script` from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use vgrid_dss::{ReadOptions, Reader};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (lenient, keep_going) in [(false, false), (true, true)] {
        let mut reader = Reader::new(ReadOptions { lenient, keep_going });
        // A directory that does not exist keeps Redirect/BusCoords away from real files.
        let _ = reader.run_text(&text, "fuzz.dss", Path::new("/nonexistent-vgrid-fuzz"), &mut |_, _| Ok(()));
        let _ = reader.run_command(&text, &mut |_, _| Ok(()));
    }
});
