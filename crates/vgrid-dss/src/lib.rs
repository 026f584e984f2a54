//! # vgrid-dss: the OpenDSS language reader
//!
//! Reads OpenDSS scripts as utilities write them and fills a [`vgrid_model::Network`]: every
//! element in SI units (metres, ohm per metre, nF per metre, kV, kW...) with lower-case names.
//! It does no numerics beyond unit conversion and simple arithmetic, and no solving: commands
//! that need the engine (`Solve`, `CalcVoltageBases`, `Show`...) are handed to the host as
//! [`Directive`]s at the point they occur, so a script can solve, edit, and solve again.
//!
//! ```
//! use vgrid_dss::{Directive, ReadOptions, Reader};
//!
//! let script = "
//! Clear
//! New Circuit.demo basekv=12.47 bus1=src
//! New Line.l1 bus1=src bus2=b r1=0.1 x1=0.2 length=2 units=km
//! New Load.ld bus1=b kV=12.47 kW=100 pf=0.9
//! Solve
//! Load.ld.kW=200
//! ";
//! let mut solves = 0;
//! let mut reader = Reader::new(ReadOptions::default());
//! reader
//!     .run_text(script, "demo.dss", std::path::Path::new("."), &mut |net, d| {
//!         if matches!(d, Directive::Solve) {
//!             solves += 1;
//!             assert_eq!(net.loads[0].p_kw, 100.0); // state at the point of Solve
//!         }
//!         Ok(())
//!     })
//!     .unwrap();
//! let net = reader.network();
//! assert_eq!(solves, 1);
//! assert_eq!(net.lines[0].length_m, 2000.0);
//! assert_eq!(net.loads[0].p_kw, 200.0);
//! ```
//!
//! ## How a script is read
//! - the lexer splits a line into `name=value` parameters exactly like OpenDSS's parser
//!   (quotes `() [] {} "" ''`, comments `!` and `//`, RPN math in quoted numbers);
//! - the command (`New`, `Edit`, `~`, `Set`, `Redirect`, ... or the implicit
//!   `Class.name.prop=value`) is found by OpenDSS's abbreviation rule;
//! - properties are resolved per class (exact name, else first prefix in OpenDSS's order;
//!   bare values go to the next property), set one by one, then the object is lowered into
//!   the model.
//!
//! Errors carry file, line, column, element, property and a hint, and print as
//! `feeder.dss:12:5: Line.650632: property 'lenght': unknown property of Line (hint: did you mean 'length'?)`.
//! The reader never panics, whatever the input.

#![forbid(unsafe_code)]
// Diagnostics travel on the cold path only; boxing them would obscure every property setter.
#![allow(clippy::result_large_err)]

mod classes;
mod elements;
mod error;
mod exec;
mod files;
use vgrid_model::hash;
mod lexer;
mod options;
mod regex;
mod rpn;
mod value;

pub use error::{Diagnostic, DssError};

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use vgrid_model::Network;

/// How strict the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// Unknown properties, options and classes become warnings (and are skipped) instead of errors.
    pub lenient: bool,
    /// Collect every error instead of stopping at the first (for `vgrid check`); the run then
    /// returns [`DssError::Many`] and [`Reader::errors`] lists them all.
    pub keep_going: bool,
}

/// Something the script asks the host (the engine) to do: the reader cannot solve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Directive {
    /// `Solve` (after applying any `mode=`/`number=`... given with it).
    Solve,
    /// `CalcVoltageBases` / `calcv`: assign base voltages from `voltage_bases_kv`.
    CalcVoltageBases,
    /// `Sample`: sample controls and meters.
    Sample,
    /// `Reset`: reset meters and monitors (the argument, if any, says which).
    Reset(String),
    /// `Show ...` with its arguments.
    Show(String),
    /// `Export ...` with its arguments.
    Export(String),
    /// `Plot ...` / `Visualize ...` with its arguments.
    Plot(String),
    /// Another reporting command (`Totals`, `Summary`, `Losses`, `Interpolate`...).
    Report { command: String, args: String },
}

/// The host callback: receives the network and each directive as it occurs.
pub type Host<'a> = dyn FnMut(&mut Network, Directive) -> Result<(), String> + 'a;

/// An OpenDSS script reader holding the network built so far.
#[derive(Debug)]
pub struct Reader {
    options: ReadOptions,
    network: Network,
    store: elements::Store,
    warnings: Vec<Diagnostic>,
    errors: Vec<Diagnostic>,
    /// Object edited by `~`/`More`.
    active: Option<(classes::Class, String)>,
    /// Class of the last object named, for `name.prop=value`.
    active_class: Option<classes::Class>,
    circuit_defined: bool,
    base_dir: PathBuf,
    /// Files being read, to detect `Redirect` cycles.
    stack: Vec<PathBuf>,
    warned_once: HashSet<String>,
}

impl Reader {
    /// An empty reader (60 Hz default base frequency, OpenDSS's default settings).
    pub fn new(options: ReadOptions) -> Reader {
        let mut r = Reader {
            options,
            network: exec::empty_network(),
            store: elements::Store::with_frequency(60.0),
            warnings: Vec::new(),
            errors: Vec::new(),
            active: None,
            active_class: None,
            circuit_defined: false,
            base_dir: PathBuf::from("."),
            stack: Vec::new(),
            warned_once: HashSet::new(),
        };
        r.install_defaults();
        r
    }

    /// The network built so far.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Mutable access, e.g. for the engine to write back solved taps and capacitor states.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.network
    }

    /// Consume the reader, keeping the network.
    pub fn into_network(self) -> Network {
        self.network
    }

    /// Run a script file as OpenDSS's `Compile` does: relative `Redirect`s resolve against the
    /// file's directory, and so do the paths of later commands ([`Reader::run_command`], e.g.
    /// `Redirect battery.dss` typed after the script), as in OpenDSS after a `Compile`.
    pub fn run_file(&mut self, path: &Path, host: &mut Host<'_>) -> Result<(), DssError> {
        self.top_level(|r| r.run_path(path, true, None, host))
    }

    /// Run `text` as if it were a file named `origin` in `base_dir`.
    pub fn run_text(
        &mut self,
        text: &str,
        origin: &str,
        base_dir: &Path,
        host: &mut Host<'_>,
    ) -> Result<(), DssError> {
        self.base_dir = base_dir.to_path_buf();
        self.top_level(|r| r.run_lines(text, origin, host))
    }

    /// Run one command line (e.g. `Transformer.Reg1.Taps=[1.0 1.0625]` or `Set Controlmode=OFF`).
    pub fn run_command(&mut self, line: &str, host: &mut Host<'_>) -> Result<(), DssError> {
        self.top_level(|r| r.run_lines(line, "<command>", host))
    }

    /// Warnings so far (unknown properties in lenient mode, redefinitions, unmodelled features).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Errors collected with [`ReadOptions::keep_going`].
    pub fn errors(&self) -> &[Diagnostic] {
        &self.errors
    }
}

/// Read a whole script, ignoring `Solve` and other directives. Returns the network and the
/// warnings.
pub fn read_file(
    path: &Path,
    options: ReadOptions,
) -> Result<(Network, Vec<Diagnostic>), DssError> {
    let mut r = Reader::new(options);
    r.run_file(path, &mut |_, _| Ok(()))?;
    let warnings = std::mem::take(&mut r.warnings);
    Ok((r.into_network(), warnings))
}
