//! # Scenarios: what-ifs over the year, on all cores
//!
//! A planner rarely asks "what happens this year" alone; the question is "what happens if the
//! loads grow 20 %, or if `tb` is replaced by a 630 kVA unit, or if the village branch gets
//! another 60 kWp of PV". A *scenario file* names one OpenDSS base script and lists the
//! what-ifs, each as the OpenDSS commands that turn the base into it:
//!
//! ```text
//! # the village's year, five ways (vgrid scenarios examples/village/scenarios.txt)
//! base = Run_year.dss
//!
//! [base]                          # no changes: the reference of the comparison
//!
//! [growth-20]
//! load_growth_pct = 20            # shorthand: Set loadmult = 1.2 × the loadmult in force
//!
//! [tb-630kVA]
//! replace Transformer.tb kva=630 xhl=4.391 %loadloss=0.9841
//!
//! [pv-village]
//! pv bus=e1_3 kw=30               # shorthand: New PVSystem.pv_e1_3 bus1=e1_3 phases=3 kv=0.38 ...
//! New PVSystem.roof2 bus1=e2_3 phases=3 kv=0.38 pmpp=30 kva=33 irradiance=1 yearly=pv_irradiance
//!
//! [battery]
//! Redirect battery.dss            # paths are relative to the scenario file
//! ```
//!
//! ## The format
//! - `#`, `!` and `//` start comments (whole lines, or the rest of a shorthand line); blank
//!   lines are ignored.
//! - Before the first section: `base = SCRIPT.dss`, the OpenDSS script every scenario starts
//!   from (relative to the scenario file). It runs as `vgrid timeseries` runs a script: its
//!   snapshot `Solve`s solve (taps written back), a `Solve` in a time mode waits for the run.
//! - `[name]` starts a scenario (letters, digits, `-`, `_`, `.`, `+`, `%`; unique). Its lines
//!   run after the base script, in order, then the time series runs with the settings in force
//!   (`mode`, `number`, `stepsize`, `hour`). A section without lines is the base as it is. The
//!   comparison's reference is the section named `base`, else the first.
//! - A line in a section is an OpenDSS command (`Set`, `Edit`, `New`, `Redirect`,
//!   `Transformer.tb.kVAs=[630 630]`, ...), or one of four shorthands:
//!
//! | shorthand | runs |
//! |---|---|
//! | `load_growth_pct = P` | `Set loadmult=L` with `L` = the load multiplier in force × (1 + P/100): every load that follows `loadmult` draws P % more at every step (in yearly runs every load but `status=fixed` ones and those on shapes of actual values, `useactual=yes`; OpenDSS's `SetNominalLoad`) |
//! | `pv bus=B kw=K [kva=S] [shape=N] [phases=n] [kv=V] [pf=F] [name=X]` | `New PVSystem.X bus1=B phases=n kv=V pmpp=K kva=S irradiance=1 pf=F %cutin=0.1 %cutout=0.1 yearly=N daily=N duty=N`; defaults: `kva` 1.1 × `kw`, `pf` 1, `phases` the bus's phase nodes (or the nodes written after the bus), `kv` the bus's voltage base (line-to-line, or line-to-neutral for one phase), `shape` the irradiance shape every existing PV system follows, `name` `pv_B` |
//! | `replace Class.name prop=value ...` | `Edit Class.name prop=value ...`; for a transformer `kva=S` sets every winding (`kVAs=[S S]`) |
//! | `battery bus=B kw=K kwh=E [kva=S] [stored_pct=P] [phases=n] [kv=V] [name=X] [peak_shave=Class.name target_kw=T [charge_hour=H]]` | `New Storage.X bus1=B phases=n kv=V kWrated=K kva=S kWhrated=E %stored=P` (defaults: `kva` = `kw`, `stored_pct` OpenDSS's 100, `name` `battery_B`, `phases` and `kv` as for `pv`); with `peak_shave`, also `New StorageController.X Element=Class.name Terminal=1 ElementList=[X] ModeDischarge=PeakShave kWTarget=T ModeCharge=Time TimeChargeTrigger=H` (`H` default 2): the battery discharges to hold the element's power at `T` kW and recharges from hour `H`. Other dispatch: write the `Storage`/`StorageController` lines yourself |
//!
//! Errors name the file and line, e.g. `scenarios.txt:9: [pv-village]: pv: bus 'e9_9' is not in
//! the circuit (hint: did you mean 'e1_9'?)`; an OpenDSS error in a scenario's command is the
//! reader's own located diagnostic, at the scenario file's line.
//!
//! ## Running
//! [`run_scenarios`] first prepares every scenario (reads the base script, runs the scenario's
//! lines; [`prepare_all`]), so that a typo in the last scenario is found before any year is
//! run; then it runs each prepared circuit's time series ([`run_prepared`]) on `jobs` worker
//! threads (`std::thread::scope`), handing scenarios out in file order from an atomic counter.
//! Each scenario is one independent [`Simulation`] on its own thread, studied step by step as
//! `vgrid timeseries` studies a run ([`vgrid_timeseries::study`]: run totals, per node, per
//! element), so its figures are the same bit for bit whatever the number of jobs or the order
//! the runs finish in. Nothing is shared between the runs but the read-only scenario file;
//! [`worst_elements`] picks the lines and transformers worth comparing side by side.
//!
//! The village's year (35,040 quarter hours) through `examples/village/scenarios.txt`:
//!
//! | scenario | `Transformer.tb` peak, h above 100 % | hours with any overload | min / max voltage, pu | losses, MWh |
//! |---|---|---|---|---|
//! | base | 132.0 %, 140.75 h | 140.75 | 0.9091 / 1.0910 | 173.29 |
//! | growth-20 | 162.9 %, 420.5 h | 420.5 | 0.8737 / 1.0874 | 241.86 |
//! | tb-630kVA | 82.8 %, 0 h | 6.25 (`Line.b2_1`) | 0.9220 / 1.0910 | 174.12 |
//! | pv-village | 132.0 %, 140.75 h | 140.75 | 0.9091 / 1.0980 | 171.44 |
//! | battery | 99.7 %, 0 h | 9.5 (`Line.b2_1`) | 0.9145 / 1.0910 | 173.29 |
//!
//! ## Speed
//! The runs share nothing mutable (no locks, no shared allocations beyond the allocator's
//! per-thread arenas, one atomic add per 64 steps for the progress bar), so two cores run two
//! scenarios in the time of one. Measured on the 2-core machine of the project, four village
//! scenarios (base, growth-20, tb-630kVA, pv-village) × 4,380 quarter hours, release build,
//! in the moments both cores were otherwise idle (three pairs): `--jobs 1` 1.49, 1.46, 1.53 s,
//! `--jobs 2` 0.76, 0.77, 0.76 s, a speed-up of 1.90–2.01× (an earlier build: 4.38–4.49 s
//! against 2.24–2.31 s, 1.94–1.96×); the CPU time is the same either way (user time
//! 1.43–1.52 s serial, 1.45–1.47 s parallel), so memory and the allocator cost nothing extra
//! in parallel. Over half a year (17,520 steps each): 5.85 s against 3.02 s (1.94×). A busy machine says otherwise only because the other core is
//! taken: with another process on it, `--jobs 2` took as long as `--jobs 1` for the same CPU
//! time. Scenarios are not split across threads: five scenarios on two cores take three
//! rounds (1.67× at best).
//!
//! Each scenario reads the base script itself: the reader's per-object state (which `Edit`
//! needs) lives in the [`Reader`] and is not shared, and reading is cheap beside a year (the
//! village: 20 ms against 9 s). The prepared circuits are held until they run: memory grows
//! with the number of scenarios (the village: about 4 MB of year-long shapes each).
//!
//! ```no_run
//! use vgrid::scenario::{run_scenarios, ScenarioFile, ScenarioOptions};
//! let file = ScenarioFile::read("examples/village/scenarios.txt".as_ref()).unwrap();
//! let runs = run_scenarios(&file, &ScenarioOptions::default(), &|run, done, total| {
//!     eprintln!("[{done}/{total}] {} in {:.1} s", run.name, run.wall.as_secs_f64());
//! })
//! .unwrap();
//! for r in &runs {
//!     if let Ok(s) = &r.outcome {
//!         let tb = s.elements.iter().find(|e| e.element == "Transformer.tb").unwrap();
//!         println!(
//!             "{:<12} {:8.1} MWh lost, tb peaks at {:5.1} % and is overloaded {:5.1} h",
//!             r.name,
//!             s.totals.losses_kwh / 1000.0,
//!             tb.peak_loading_pct.unwrap_or(0.0),
//!             tb.above_100pct_h
//!         );
//!     }
//! }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use vgrid_dss::{Diagnostic, Directive, DssError, ReadOptions, Reader};
use vgrid_model::{BusRef, Network, SolveMode};
use vgrid_powerflow::solve::System;
use vgrid_timeseries::study::{Study, StudyOptions, StudyResults};
use vgrid_timeseries::Simulation;

/// A scenario file: the base script and the scenarios, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioFile {
    /// The scenario file (as given); errors and relative paths refer to it.
    pub path: PathBuf,
    /// The base script, resolved against the scenario file's directory.
    pub base: PathBuf,
    /// The line of `base = ...`.
    pub base_line: usize,
    pub scenarios: Vec<Scenario>,
}

/// One `[name]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    /// The line of `[name]`.
    pub line: usize,
    pub changes: Vec<Change>,
}

/// One line of a section, with its line number in the scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub line: usize,
    pub what: ChangeKind,
}

/// What a line of a section asks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChangeKind {
    /// An OpenDSS command, run as written.
    Dss(String),
    /// `load_growth_pct = P`.
    LoadGrowth { pct: f64 },
    /// `pv bus=... kw=...`.
    Pv(Placement),
    /// `battery bus=... kw=... kwh=...`.
    Battery(Placement),
    /// `replace Class.name prop=value ...`.
    Replace {
        element: String,
        properties: Vec<(String, String)>,
    },
}

/// Where and how big a new PV system or battery is (the shorthands' parameters).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Placement {
    /// `bus` as written (`e1_3`, `eh001.1`).
    pub bus: String,
    pub kw: f64,
    /// Battery energy, kWh (batteries only).
    pub kwh: Option<f64>,
    pub kva: Option<f64>,
    pub kv: Option<f64>,
    pub phases: Option<usize>,
    pub pf: Option<f64>,
    /// Irradiance shape (PV only).
    pub shape: Option<String>,
    /// Initial state of charge, % (batteries only).
    pub stored_pct: Option<f64>,
    pub name: Option<String>,
    /// Batteries: the element (`Transformer.tb`) whose power a `StorageController` holds at
    /// `target_kw` by discharging (OpenDSS's `ModeDischarge=PeakShave`).
    pub peak_shave: Option<String>,
    pub target_kw: Option<f64>,
    /// Batteries under `peak_shave`: the hour they start recharging (`ModeCharge=Time`,
    /// default 2).
    pub charge_hour: Option<f64>,
}

/// A problem in a scenario file or in applying it: where, what, and a hint when one helps.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// A line of the scenario file is malformed or asks for something impossible.
    #[error("{file}:{line}: {}{message}{}", scenario_prefix(.scenario), hint_suffix(.hint))]
    Line {
        file: String,
        line: usize,
        scenario: Option<String>,
        message: String,
        hint: Option<String>,
    },
    /// The scenario file cannot be read, or says nothing to run.
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// The OpenDSS reader refused the base script or a scenario's command; the diagnostic
    /// names the file and line (for a scenario's own lines: the scenario file's line).
    #[error("{}{diagnostic}", scenario_prefix(.scenario))]
    Dss {
        scenario: Option<String>,
        diagnostic: Box<Diagnostic>,
    },
}

fn scenario_prefix(s: &Option<String>) -> String {
    s.as_ref().map(|s| format!("[{s}]: ")).unwrap_or_default()
}

fn hint_suffix(h: &Option<String>) -> String {
    h.as_ref()
        .map(|h| format!(" (hint: {h})"))
        .unwrap_or_default()
}

/// Several problems, one per line when printed.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, e) in self.0.iter().enumerate() {
            if k > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

impl From<ScenarioError> for ScenarioErrors {
    fn from(e: ScenarioError) -> Self {
        ScenarioErrors(vec![e])
    }
}

const SHORTHANDS: [&str; 4] = ["load_growth_pct", "pv", "battery", "replace"];
const PV_KEYS: [&str; 8] = ["bus", "kw", "kva", "shape", "phases", "kv", "pf", "name"];
const BATTERY_KEYS: [&str; 11] = [
    "bus",
    "kw",
    "kwh",
    "kva",
    "stored_pct",
    "phases",
    "kv",
    "name",
    "peak_shave",
    "target_kw",
    "charge_hour",
];

impl ScenarioFile {
    /// Read and parse a scenario file.
    pub fn read(path: &Path) -> Result<ScenarioFile, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::File {
            file: path.display().to_string(),
            message: format!("cannot read the scenario file: {e}"),
        })?;
        ScenarioFile::parse(&text, path)
    }

    /// Parse the text of a scenario file found at `path` (which locates the base script and
    /// names the file in errors).
    pub fn parse(text: &str, path: &Path) -> Result<ScenarioFile, ScenarioError> {
        let file = path.display().to_string();
        let at = |line: usize, scenario: Option<&str>, message: String, hint: Option<&str>| {
            ScenarioError::Line {
                file: file.clone(),
                line,
                scenario: scenario.map(String::from),
                message,
                hint: hint.map(String::from),
            }
        };
        let mut base: Option<(String, usize)> = None;
        let mut scenarios: Vec<Scenario> = Vec::new();
        for (k, raw) in text.lines().enumerate() {
            let line = k + 1;
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with('!') || t.starts_with("//") {
                continue;
            }
            if let Some(rest) = t.strip_prefix('[') {
                let head = strip_comment(rest).trim_end();
                let Some(name) = head.strip_suffix(']') else {
                    return Err(at(
                        line,
                        None,
                        format!("a section heading ends with ']': {t:?}"),
                        Some("write [name] on a line of its own"),
                    ));
                };
                let name = name.trim();
                check_name(name).map_err(|(m, h)| at(line, None, m, Some(h)))?;
                if let Some(s) = scenarios.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
                    return Err(at(
                        line,
                        None,
                        format!("scenario [{name}] is already defined on line {}", s.line),
                        Some("give each scenario its own name"),
                    ));
                }
                scenarios.push(Scenario {
                    name: name.to_string(),
                    line,
                    changes: Vec::new(),
                });
                continue;
            }
            let Some(current) = scenarios.last_mut() else {
                // the header: only `base = ...`
                match key_value(t) {
                    Some((k, v)) if k.eq_ignore_ascii_case("base") => {
                        let v = strip_comment(v).trim();
                        if v.is_empty() {
                            return Err(at(
                                line,
                                None,
                                "base = needs the OpenDSS script every scenario starts from".into(),
                                Some("e.g. base = Run_year.dss"),
                            ));
                        }
                        if let Some((_, l)) = &base {
                            return Err(at(
                                line,
                                None,
                                format!("the base script is already named on line {l}"),
                                Some("one base per scenario file"),
                            ));
                        }
                        base = Some((unquote(v).to_string(), line));
                    }
                    _ => {
                        return Err(at(
                            line,
                            None,
                            format!("{t:?} before the first [section]"),
                            Some(
                                "the file starts with `base = SCRIPT.dss`; commands go inside a \
                                 [name] section",
                            ),
                        ))
                    }
                }
                continue;
            };
            let scenario = Some(current.name.as_str());
            let what = parse_change(t).map_err(|(m, h)| at(line, scenario, m, h.as_deref()))?;
            current.changes.push(Change { line, what });
        }
        let Some((base, base_line)) = base else {
            return Err(ScenarioError::File {
                file,
                message: "no base script: start the file with `base = SCRIPT.dss` (the OpenDSS \
                          script every scenario starts from)"
                    .into(),
            });
        };
        if scenarios.is_empty() {
            return Err(ScenarioError::File {
                file,
                message: "no scenarios: add sections such as [base] (no changes) and \
                          [growth-20] with `load_growth_pct = 20`"
                    .into(),
            });
        }
        Ok(ScenarioFile {
            base: dir_of(path).join(base),
            base_line,
            path: path.to_path_buf(),
            scenarios,
        })
    }

    /// The directory relative paths are resolved against.
    pub fn dir(&self) -> PathBuf {
        dir_of(&self.path)
    }

    /// Keep only the scenarios named in `names` (in the file's order), e.g. to rerun one or
    /// two; an unknown name is an error with the nearest name as a hint.
    pub fn select(&mut self, names: &[&str]) -> Result<(), ScenarioError> {
        for n in names {
            if !self
                .scenarios
                .iter()
                .any(|s| s.name.eq_ignore_ascii_case(n))
            {
                let all: Vec<&str> = self.scenarios.iter().map(|s| s.name.as_str()).collect();
                let prefixed = all
                    .iter()
                    .copied()
                    .find(|a| a.to_ascii_lowercase().starts_with(&n.to_ascii_lowercase()));
                let hint = match prefixed.or_else(|| closest(n, &all)) {
                    Some(c) => format!("did you mean '{c}'?"),
                    None => format!("the file has {}", all.join(", ")),
                };
                return Err(ScenarioError::File {
                    file: self.path.display().to_string(),
                    message: format!("no scenario [{n}] (hint: {hint})"),
                });
            }
        }
        self.scenarios
            .retain(|s| names.iter().any(|n| s.name.eq_ignore_ascii_case(n)));
        Ok(())
    }

    /// Index of the reference scenario: the one named `base`, else the first.
    pub fn reference(&self) -> usize {
        self.scenarios
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case("base"))
            .unwrap_or(0)
    }
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// `name = value` or `name=value` (the name a single word).
fn key_value(t: &str) -> Option<(&str, &str)> {
    let (k, v) = t.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && !k.contains(char::is_whitespace)).then_some((k, v))
}

/// The line up to a `#`, `!` or `//` comment (for the shorthands; OpenDSS lines keep theirs,
/// which the reader understands).
fn strip_comment(s: &str) -> &str {
    let mut end = s.len();
    for pat in ["#", "!", "//"] {
        if let Some(i) = s.find(pat) {
            end = end.min(i);
        }
    }
    &s[..end]
}

fn check_name(name: &str) -> Result<(), (String, &'static str)> {
    if name.is_empty() {
        return Err((
            "a scenario needs a name".into(),
            "e.g. [base], [growth-20], [tb-630kVA]",
        ));
    }
    if name.chars().all(|c| c == '.') {
        return Err((
            format!("scenario name [{name}] is only dots"),
            "names become folder names under --out: use letters or digits",
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || "-_.+%@".contains(*c)))
    {
        return Err((
            format!("scenario name [{name}] contains {c:?}"),
            "use letters, digits and - _ . + % (no spaces or commas: names head CSV columns)",
        ));
    }
    Ok(())
}

type ParseFail = (String, Option<String>);

fn fail(message: impl Into<String>, hint: Option<&str>) -> ParseFail {
    (message.into(), hint.map(String::from))
}

fn parse_change(t: &str) -> Result<ChangeKind, ParseFail> {
    let first = t
        .split(|c: char| c.is_whitespace() || c == '=')
        .next()
        .unwrap_or("");
    let word = first.to_ascii_lowercase();
    let rest = t[first.len()..].trim_start();
    match word.as_str() {
        "load_growth_pct" => {
            let v = rest.strip_prefix('=').ok_or_else(|| {
                fail(
                    "load_growth_pct needs a value",
                    Some("write load_growth_pct = 20 for 20 % more load"),
                )
            })?;
            let v = strip_comment(v).trim();
            let pct: f64 = v.parse().map_err(|_| {
                fail(
                    format!("load_growth_pct: {v:?} is not a number"),
                    Some("a percentage such as 20 or -5"),
                )
            })?;
            if !(pct.is_finite() && pct > -100.0) {
                return Err(fail(
                    format!("load_growth_pct = {pct}: the loads would vanish"),
                    Some("a growth above -100 %"),
                ));
            }
            Ok(ChangeKind::LoadGrowth { pct })
        }
        "pv" | "battery" => {
            let is_pv = word == "pv";
            let keys: &[&str] = if is_pv { &PV_KEYS } else { &BATTERY_KEYS };
            let mut p = Placement::default();
            let mut seen = Vec::new();
            for tok in strip_comment(rest).split_whitespace() {
                let Some((k, v)) = tok.split_once('=') else {
                    return Err(fail(
                        format!("{word}: {tok:?} is not key=value"),
                        Some(&format!("keys: {}", keys.join(", "))),
                    ));
                };
                let k = k.to_ascii_lowercase();
                if !keys.contains(&k.as_str()) {
                    let hint = match closest(&k, keys) {
                        Some(c) => {
                            format!("did you mean '{c}'? ({word} takes {})", keys.join(", "))
                        }
                        None => format!("{word} takes {}", keys.join(", ")),
                    };
                    return Err(fail(format!("{word}: unknown key '{k}'"), Some(&hint)));
                }
                if seen.contains(&k) {
                    return Err(fail(format!("{word}: '{k}' given twice"), None));
                }
                seen.push(k.clone());
                set_placement(&mut p, &k, v).map_err(|m| fail(format!("{word}: {m}"), None))?;
            }
            for required in if is_pv {
                &["bus", "kw"][..]
            } else {
                &["bus", "kw", "kwh"][..]
            } {
                if !seen.iter().any(|k| k == required) {
                    let example = if is_pv {
                        "pv bus=e1_3 kw=30"
                    } else {
                        "battery bus=b0 kw=100 kwh=200"
                    };
                    return Err(fail(
                        format!("{word}: {required}= is missing"),
                        Some(&format!("e.g. {example}")),
                    ));
                }
            }
            if p.peak_shave.is_some() != p.target_kw.is_some() {
                return Err(fail(
                    "battery: peak_shave= and target_kw= go together",
                    Some("e.g. peak_shave=Transformer.tb target_kw=280"),
                ));
            }
            if p.charge_hour.is_some() && p.peak_shave.is_none() {
                return Err(fail(
                    "battery: charge_hour= needs peak_shave= (the controller that recharges it)",
                    None,
                ));
            }
            Ok(if is_pv {
                ChangeKind::Pv(p)
            } else {
                ChangeKind::Battery(p)
            })
        }
        "replace" => {
            let mut toks = strip_comment(rest).split_whitespace();
            let element = toks.next().unwrap_or("");
            if !element.contains('.') || element.contains('=') {
                return Err(fail(
                    "replace names an element as Class.name, then its new properties",
                    Some("e.g. replace Transformer.tb kva=630 xhl=4.4"),
                ));
            }
            let mut properties = Vec::new();
            for tok in toks {
                let Some((k, v)) = tok.split_once('=') else {
                    return Err(fail(
                        format!("replace: {tok:?} is not property=value"),
                        Some("e.g. replace Transformer.tb kva=630"),
                    ));
                };
                properties.push((k.to_string(), v.to_string()));
            }
            if properties.is_empty() {
                return Err(fail(
                    format!("replace {element}: nothing to change"),
                    Some("give the new properties, e.g. kva=630"),
                ));
            }
            Ok(ChangeKind::Replace {
                element: element.to_string(),
                properties,
            })
        }
        "base" if rest.starts_with('=') => Err(fail(
            "base = ... inside a section",
            Some("name the base script once, before the first [section]"),
        )),
        _ => {
            // a near miss of a shorthand is more likely a typo than an OpenDSS command
            if let Some(c) = closest(&word, &SHORTHANDS).filter(|_| word.len() >= 4) {
                return Err(fail(
                    format!("'{first}' is neither an OpenDSS command nor a shorthand"),
                    Some(&format!("did you mean '{c}'?")),
                ));
            }
            Ok(ChangeKind::Dss(t.to_string()))
        }
    }
}

fn set_placement(p: &mut Placement, k: &str, v: &str) -> Result<(), String> {
    let num = |v: &str| -> Result<f64, String> {
        let x: f64 = v.parse().map_err(|_| format!("{k}={v}: not a number"))?;
        if !(x.is_finite() && x > 0.0) {
            return Err(format!("{k}={v}: must be positive"));
        }
        Ok(x)
    };
    if v.is_empty() {
        return Err(format!("{k}= has no value"));
    }
    match k {
        "bus" => p.bus = v.to_string(),
        "kw" => p.kw = num(v)?,
        "kwh" => p.kwh = Some(num(v)?),
        "kva" => p.kva = Some(num(v)?),
        "kv" => p.kv = Some(num(v)?),
        "pf" => {
            let x: f64 = v.parse().map_err(|_| format!("pf={v}: not a number"))?;
            if !(x.is_finite() && x.abs() <= 1.0 && x != 0.0) {
                return Err(format!("pf={v}: a power factor is in -1..1, not 0"));
            }
            p.pf = Some(x);
        }
        "phases" => {
            let n: usize = v
                .parse()
                .map_err(|_| format!("phases={v}: a whole number"))?;
            if !(1..=3).contains(&n) {
                return Err(format!("phases={v}: 1, 2 or 3"));
            }
            p.phases = Some(n);
        }
        "stored_pct" => {
            let x: f64 = v
                .parse()
                .map_err(|_| format!("stored_pct={v}: not a number"))?;
            if !(0.0..=100.0).contains(&x) {
                return Err(format!("stored_pct={v}: 0 to 100"));
            }
            p.stored_pct = Some(x);
        }
        "shape" => p.shape = Some(v.to_ascii_lowercase()),
        "name" => p.name = Some(v.to_ascii_lowercase()),
        "peak_shave" => {
            if !v.contains('.') {
                return Err(format!(
                    "peak_shave={v}: name the element as Class.name, e.g. Transformer.tb"
                ));
            }
            p.peak_shave = Some(v.to_string());
        }
        "target_kw" => p.target_kw = Some(num(v)?),
        "charge_hour" => {
            let x: f64 = v
                .parse()
                .map_err(|_| format!("charge_hour={v}: not a number"))?;
            if !(0.0..24.0).contains(&x) {
                return Err(format!("charge_hour={v}: an hour of the day, 0 to 24"));
            }
            p.charge_hour = Some(x);
        }
        _ => return Err(format!("unknown key '{k}'")),
    }
    Ok(())
}

/// The candidate nearest to `word` (edit distance at most 2, or a third of the word).
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let limit = (w.chars().count() / 3).clamp(1, 2);
    candidates
        .iter()
        .map(|c| (edit_distance(&w, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// How scenarios are prepared and run.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioOptions {
    /// Worker threads (default: the machine's available parallelism).
    pub jobs: usize,
    /// Unknown properties become warnings instead of errors.
    pub lenient: bool,
    /// Run this many steps instead of the scripts' `number` (e.g. a quick look at a day).
    pub number: Option<u32>,
    /// What each run's study counts (voltage band, trip threshold, element statistics).
    pub study: StudyOptions,
}

impl Default for ScenarioOptions {
    fn default() -> Self {
        ScenarioOptions {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            lenient: false,
            number: None,
            study: StudyOptions::default(),
        }
    }
}

/// A scenario ready to run: its circuit after the base script and its own lines.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub name: String,
    pub network: Network,
    /// The OpenDSS commands the scenario's lines ran (shorthands expanded), in order.
    pub commands: Vec<String>,
    /// The reader's warnings.
    pub warnings: Vec<String>,
}

/// Read the base script and apply one scenario's lines.
pub fn prepare(
    file: &ScenarioFile,
    index: usize,
    options: &ScenarioOptions,
) -> Result<Prepared, ScenarioError> {
    let Some(scenario) = file.scenarios.get(index) else {
        return Err(ScenarioError::File {
            file: file.path.display().to_string(),
            message: format!(
                "there is no scenario {index}: the file has {}",
                file.scenarios.len()
            ),
        });
    };
    let name = scenario.name.clone();
    let mut reader = Reader::new(ReadOptions {
        lenient: options.lenient,
        ..ReadOptions::default()
    });
    // as `vgrid timeseries`: snapshot solves solve (taps written back), time-mode ones wait
    let mut host = |net: &mut Network, d: Directive| -> Result<(), String> {
        if matches!(d, Directive::Solve) && net.settings.mode == SolveMode::Snapshot {
            crate::solve_network(net).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    let dss = |scenario: Option<&str>, e: DssError| ScenarioError::Dss {
        scenario: scenario.map(String::from),
        diagnostic: Box::new(e.diagnostic().clone()),
    };
    reader
        .run_file(&file.base, &mut host)
        .map_err(|e| dss(None, e))?;
    let origin = file.path.display().to_string();
    let dir = file.dir();
    let mut buses: Option<BusBases> = None;
    let mut commands = Vec::new();
    for change in &scenario.changes {
        let lines = expand(&change.what, reader.network(), &mut buses).map_err(|(m, h)| {
            ScenarioError::Line {
                file: origin.clone(),
                line: change.line,
                scenario: Some(name.clone()),
                message: m,
                hint: h,
            }
        })?;
        for cmd in lines {
            if let Err(e) = reader.run_text(&cmd, &origin, &dir, &mut host) {
                let mut d = e.diagnostic().clone();
                if d.file == origin {
                    d.line = change.line;
                    if !matches!(change.what, ChangeKind::Dss(_)) {
                        // the column is in the expansion, not in the file
                        d.column = 0;
                        d.message = format!("{} (running `{cmd}`)", d.message);
                    }
                }
                return Err(ScenarioError::Dss {
                    scenario: Some(name.clone()),
                    diagnostic: Box::new(d),
                });
            }
            commands.push(cmd);
        }
        if !matches!(change.what, ChangeKind::LoadGrowth { .. }) {
            // a new element or an edit may change the buses and bases found before
            buses = None;
        }
    }
    let warnings = reader.warnings().iter().map(|w| w.to_string()).collect();
    let mut network = reader.into_network();
    if let Some(n) = options.number {
        network.settings.number = n;
    }
    if network.settings.mode == SolveMode::Snapshot {
        return Err(ScenarioError::Line {
            file: origin,
            line: file.base_line,
            scenario: Some(name),
            message: format!(
                "{} leaves the solution mode at snapshot: there is no time series to run",
                file.base.display()
            ),
            hint: Some("add `Set mode=yearly` (and number=, stepsize=) to the base script".into()),
        });
    }
    if network.settings.number == 0 {
        return Err(ScenarioError::Line {
            file: origin,
            line: scenario.line,
            scenario: Some(name),
            message: "number=0: no steps to run".into(),
            hint: Some("set number= in the base script".into()),
        });
    }
    Ok(Prepared {
        name,
        network,
        commands,
        warnings,
    })
}

/// The buses of the circuit with their voltage bases, found on demand for the shorthands.
struct BusBases {
    /// `(name, phase nodes 1..=3 present, line-to-neutral base kV)`.
    buses: Vec<(String, Vec<u32>, Option<f64>)>,
}

impl BusBases {
    fn of(net: &Network) -> Result<BusBases, ParseFail> {
        let mut sys = System::new(net).map_err(|e| {
            fail(
                format!("cannot lower the circuit to find the bus: {e}"),
                None,
            )
        })?;
        sys.initialize()
            .map_err(|e| fail(format!("cannot solve the no-load circuit: {e}"), None))?;
        sys.assign_voltage_bases(net);
        Ok(BusBases {
            buses: sys
                .net
                .buses
                .iter()
                .map(|b| {
                    let mut phases: Vec<u32> = b
                        .nodes
                        .iter()
                        .map(|n| n.0)
                        .filter(|n| (1..=3).contains(n))
                        .collect();
                    phases.sort_unstable();
                    (b.name.clone(), phases, b.kv_base_ln.filter(|k| *k > 0.0))
                })
                .collect(),
        })
    }

    fn find(&self, bus: &str) -> Result<&(String, Vec<u32>, Option<f64>), ParseFail> {
        self.buses.iter().find(|b| b.0 == bus).ok_or_else(|| {
            let names: Vec<&str> = self.buses.iter().map(|b| b.0.as_str()).collect();
            let hint = closest(bus, &names).map(|c| format!("did you mean '{c}'?"));
            fail(
                format!("bus '{bus}' is not in the circuit"),
                hint.as_deref(),
            )
        })
    }
}

/// The OpenDSS commands a line stands for, given the circuit as it is at that line.
fn expand(
    what: &ChangeKind,
    net: &Network,
    buses: &mut Option<BusBases>,
) -> Result<Vec<String>, ParseFail> {
    match what {
        ChangeKind::Dss(c) => Ok(vec![c.clone()]),
        ChangeKind::LoadGrowth { pct } => {
            let lm = net.settings.load_mult * (1.0 + pct / 100.0);
            Ok(vec![format!("Set loadmult={lm}")])
        }
        ChangeKind::Replace {
            element,
            properties,
        } => {
            let (class, name) = element.split_once('.').unwrap_or((element, ""));
            let mut props = Vec::new();
            for (k, v) in properties {
                if k.eq_ignore_ascii_case("kva") {
                    if !class.eq_ignore_ascii_case("transformer") {
                        props.push(format!("{k}={v}"));
                        continue;
                    }
                    let t = net.transformer(&name.to_ascii_lowercase()).ok_or_else(|| {
                        let names: Vec<&str> =
                            net.transformers.iter().map(|t| t.name.as_str()).collect();
                        let hint = closest(&name.to_ascii_lowercase(), &names)
                            .map(|c| format!("did you mean 'Transformer.{c}'?"));
                        fail(
                            format!("replace: there is no {element} in the circuit"),
                            hint.as_deref(),
                        )
                    })?;
                    let all = vec![v.as_str(); t.windings.len().max(1)].join(" ");
                    props.push(format!("kVAs=[{all}]"));
                } else {
                    props.push(format!("{k}={v}"));
                }
            }
            Ok(vec![format!("Edit {element} {}", props.join(" "))])
        }
        ChangeKind::Pv(p) | ChangeKind::Battery(p) => {
            let is_pv = matches!(what, ChangeKind::Pv(_));
            let bases = match buses {
                Some(b) => b,
                None => buses.insert(BusBases::of(net)?),
            };
            let at = BusRef::parse(&p.bus.to_ascii_lowercase());
            let (bus, phase_nodes, kv_ln) = bases.find(&at.bus)?;
            let phases = p.phases.unwrap_or(if at.nodes.is_empty() {
                phase_nodes.len().max(1)
            } else {
                at.nodes.len()
            });
            let kv = match (p.kv, kv_ln) {
                (Some(kv), _) => kv,
                (None, Some(ln)) => {
                    if phases == 1 {
                        *ln
                    } else {
                        ln * 3f64.sqrt()
                    }
                }
                (None, None) => {
                    return Err(fail(
                        format!("bus '{bus}' has no voltage base"),
                        Some("give kv= (line-to-line; line-to-neutral for one phase)"),
                    ))
                }
            };
            let kind = if is_pv { "PVSystem" } else { "Storage" };
            let stem = if is_pv { "pv" } else { "battery" };
            let name = match &p.name {
                Some(n) => n.clone(),
                None => unique_name(net, is_pv, &format!("{stem}_{}", at.bus.replace('.', "_"))),
            };
            let bus1 = p.bus.to_ascii_lowercase();
            let kv = round_kv(kv);
            if is_pv {
                let shape = match &p.shape {
                    Some(s) => s.clone(),
                    None => pv_shape(net)?,
                };
                if net.load_shape(&shape).is_none() {
                    let names: Vec<&str> =
                        net.load_shapes.iter().map(|s| s.name.as_str()).collect();
                    let hint = closest(&shape, &names).map(|c| format!("did you mean '{c}'?"));
                    return Err(fail(
                        format!("pv: there is no LoadShape.{shape}"),
                        hint.as_deref(),
                    ));
                }
                let kva = p.kva.unwrap_or(1.1 * p.kw);
                let pf = p.pf.unwrap_or(1.0);
                Ok(vec![format!(
                    "New {kind}.{name} bus1={bus1} phases={phases} kv={kv} pmpp={} kva={kva} \
                     irradiance=1 pf={pf} %cutin=0.1 %cutout=0.1 yearly={shape} daily={shape} duty={shape}",
                    p.kw
                )])
            } else {
                let kva = p.kva.unwrap_or(p.kw);
                let kwh = p.kwh.unwrap_or(0.0);
                let stored = p
                    .stored_pct
                    .map(|s| format!(" %stored={s}"))
                    .unwrap_or_default();
                let mut lines = vec![format!(
                    "New {kind}.{name} bus1={bus1} phases={phases} kv={kv} kWrated={} kva={kva} \
                     kWhrated={kwh}{stored}",
                    p.kw
                )];
                if let (Some(element), Some(target)) = (&p.peak_shave, p.target_kw) {
                    check_element(net, element)?;
                    let hour = p.charge_hour.unwrap_or(2.0);
                    lines.push(format!(
                        "New StorageController.{name} Element={element} Terminal=1 \
                         ElementList=[{name}] ModeDischarge=PeakShave kWTarget={target} \
                         ModeCharge=Time TimeChargeTrigger={hour}"
                    ));
                }
                Ok(lines)
            }
        }
    }
}

/// `Transformer.x` or `Line.x` must be in the circuit (the controller watches it).
fn check_element(net: &Network, element: &str) -> Result<(), ParseFail> {
    let (class, name) = element.split_once('.').unwrap_or((element, ""));
    let name = name.to_ascii_lowercase();
    let names: Vec<&str> = if class.eq_ignore_ascii_case("transformer") {
        net.transformers.iter().map(|t| t.name.as_str()).collect()
    } else if class.eq_ignore_ascii_case("line") {
        net.lines.iter().map(|l| l.name.as_str()).collect()
    } else {
        return Err(fail(
            format!("battery: peak_shave={element}: a Transformer or a Line"),
            Some("e.g. peak_shave=Transformer.tb"),
        ));
    };
    if names.contains(&name.as_str()) {
        return Ok(());
    }
    let hint = closest(&name, &names).map(|c| format!("did you mean '{class}.{c}'?"));
    Err(fail(
        format!("battery: there is no {element} in the circuit"),
        hint.as_deref(),
    ))
}

/// kV to 6 significant figures (a voltage base derived through √3 reads as 0.38, not
/// 0.37999999999999995).
fn round_kv(kv: f64) -> f64 {
    let digits = 6 - kv.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits);
    (kv * scale).round() / scale
}

fn unique_name(net: &Network, pv: bool, stem: &str) -> String {
    let taken = |n: &str| {
        if pv {
            net.pv_systems.iter().any(|p| p.name == n)
        } else {
            net.storages.iter().any(|s| s.name == n)
        }
    };
    if !taken(stem) {
        return stem.to_string();
    }
    (2..)
        .map(|k| format!("{stem}_{k}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| stem.to_string())
}

/// The irradiance shape every existing PV system follows (for `pv` without `shape=`).
fn pv_shape(net: &Network) -> Result<String, ParseFail> {
    let mut shapes: Vec<&str> = net
        .pv_systems
        .iter()
        .filter_map(|p| p.yearly.as_deref().or(p.daily.as_deref()))
        .collect();
    shapes.sort_unstable();
    shapes.dedup();
    match shapes.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(fail(
            "pv: no shape= and no PV system in the circuit to take one from",
            Some("give shape=<LoadShape name> (the irradiance per unit over the run)"),
        )),
        many => Err(fail(
            format!(
                "pv: no shape=, and the PV systems follow {} shapes",
                many.len()
            ),
            Some(&format!("give shape= one of {}", many.join(", "))),
        )),
    }
}

/// Prepare every scenario ([`prepare`]) on `options.jobs` threads; every problem is reported,
/// not only the first.
pub fn prepare_all(
    file: &ScenarioFile,
    options: &ScenarioOptions,
) -> Result<Vec<Prepared>, ScenarioErrors> {
    let idx: Vec<usize> = (0..file.scenarios.len()).collect();
    let results = parallel_map(&idx, options.jobs, &|_, &i| prepare(file, i, options));
    let mut ok = Vec::new();
    let mut errors: Vec<ScenarioError> = Vec::new();
    for r in results {
        match r {
            Ok(p) => ok.push(p),
            // a broken base script breaks every scenario the same way: say it once
            Err(e) if errors.contains(&e) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(ScenarioErrors(errors))
    }
}

/// One scenario's run: its figures, or why it stopped.
#[derive(Debug)]
pub struct ScenarioRun {
    pub name: String,
    /// Position in the scenario file.
    pub index: usize,
    /// What the run found (the statistics of `vgrid timeseries`), or why it stopped.
    pub outcome: Result<StudyResults, vgrid_timeseries::Error>,
    /// Wall time of the run (on its worker thread).
    pub wall: Duration,
    /// The OpenDSS commands the scenario ran, and the reader's warnings.
    pub commands: Vec<String>,
    pub warnings: Vec<String>,
}

/// Run one prepared scenario's time series and study it.
pub fn run_one(
    p: &Prepared,
    study: &StudyOptions,
) -> Result<StudyResults, vgrid_timeseries::Error> {
    run_counting(p, study, None)
}

/// Steps between updates of the shared step counter (an atomic add every few milliseconds).
const COUNT_EVERY: u64 = 64;

fn run_counting(
    p: &Prepared,
    study: &StudyOptions,
    steps_done: Option<&AtomicU64>,
) -> Result<StudyResults, vgrid_timeseries::Error> {
    let mut sim = Simulation::new(&p.network)?;
    let mut study = Study::new(&sim, &p.network, study);
    // the step's report is borrowed from the simulation, which the study reads too: copy it
    // into a buffer that keeps its allocation
    let mut report = vgrid_timeseries::StepReport::default();
    let steps = u64::from(p.network.settings.number);
    for k in 1..=steps {
        report.clone_from(sim.step()?);
        study.add_step(&sim, &report);
        if k % COUNT_EVERY == 0 {
            if let Some(c) = steps_done {
                c.fetch_add(COUNT_EVERY, Ordering::Relaxed);
            }
        }
    }
    if let Some(c) = steps_done {
        c.fetch_add(steps % COUNT_EVERY, Ordering::Relaxed);
    }
    Ok(study.finish())
}

/// The elements worth a row in a comparison: each scenario's `per_scenario` most loaded rated
/// elements (peak loading), together, ordered by their highest peak in any scenario.
pub fn worst_elements(runs: &[ScenarioRun], per_scenario: usize) -> Vec<String> {
    let mut worst: Vec<(String, f64)> = Vec::new();
    for r in runs {
        let Ok(s) = &r.outcome else { continue };
        for e in s.elements_by_peak().into_iter().take(per_scenario) {
            let pct = e.peak_loading_pct.unwrap_or(0.0);
            match worst.iter_mut().find(|(n, _)| *n == e.element) {
                Some(w) => w.1 = w.1.max(pct),
                None => worst.push((e.element.clone(), pct)),
            }
        }
    }
    // an element among the worst of one scenario: its peak in every scenario counts
    for (name, pct) in worst.iter_mut() {
        for r in runs {
            if let Ok(s) = &r.outcome {
                if let Some(e) = s.elements.iter().find(|e| e.element == *name) {
                    *pct = pct.max(e.peak_loading_pct.unwrap_or(0.0));
                }
            }
        }
    }
    worst.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    worst.into_iter().map(|(n, _)| n).collect()
}

/// Called from the worker threads as each scenario finishes: the run, how many are done, of
/// how many.
pub type OnDone<'a> = dyn Fn(&ScenarioRun, usize, usize) + Sync + 'a;

/// Run every prepared scenario on `jobs` threads; the runs come back in file order.
pub fn run_prepared(
    prepared: Vec<Prepared>,
    options: &ScenarioOptions,
    on_done: &OnDone,
) -> Vec<ScenarioRun> {
    run_prepared_counting(prepared, options, on_done, &AtomicU64::new(0))
}

/// [`run_prepared`], adding the steps solved so far (of all scenarios) to `steps_done` as
/// the runs go, for a progress bar drawn by another thread.
pub fn run_prepared_counting(
    prepared: Vec<Prepared>,
    options: &ScenarioOptions,
    on_done: &OnDone,
    steps_done: &AtomicU64,
) -> Vec<ScenarioRun> {
    let total = prepared.len();
    let done = AtomicUsize::new(0);
    let items: Vec<std::sync::Mutex<Option<Prepared>>> = prepared
        .into_iter()
        .map(|p| std::sync::Mutex::new(Some(p)))
        .collect();
    parallel_map(&items, options.jobs, &|index, slot| {
        // take the circuit out, so that it is freed as soon as its run ends
        let p = slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("each scenario is handed out once");
        let start = Instant::now();
        let outcome = run_counting(&p, &options.study, Some(steps_done));
        let wall = start.elapsed();
        let run = ScenarioRun {
            name: p.name,
            index,
            outcome,
            wall,
            commands: p.commands,
            warnings: p.warnings,
        };
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        on_done(&run, n, total);
        run
    })
}

/// Prepare every scenario of `file`, then run them all on `options.jobs` threads. Problems in
/// the file or in any scenario's commands stop everything before the first run; a scenario
/// whose run fails (e.g. a shape missing) is reported in its [`ScenarioRun`] and the others go
/// on.
pub fn run_scenarios(
    file: &ScenarioFile,
    options: &ScenarioOptions,
    on_done: &OnDone,
) -> Result<Vec<ScenarioRun>, ScenarioErrors> {
    let prepared = prepare_all(file, options)?;
    Ok(run_prepared(prepared, options, on_done))
}

/// `f` over `items` on up to `jobs` scoped threads, taking items in order from an atomic
/// counter; results in the order of `items`. One job runs on the calling thread.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: &(dyn Fn(usize, &T) -> R + Sync),
) -> Vec<R> {
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        return items.iter().enumerate().map(|(i, t)| f(i, t)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(t) = items.get(i) else { break };
                        mine.push((i, f(i, t)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ScenarioFile, ScenarioError> {
        ScenarioFile::parse(text, Path::new("dir/s.txt"))
    }

    #[test]
    fn sections_hold_commands_and_shorthands() {
        let f = parse(
            "# what-ifs\nbase = Run_year.dss\n\n[base]\n[grow]\nload_growth_pct = 20 # more\n\
             Set loadmult=1.2\n[big]\nreplace Transformer.tb kva=630 xhl=4.4\n\
             [sun]\npv bus=e1_3 kw=30\nbattery bus=b0 kw=100 kwh=200 name=bat\n",
        )
        .unwrap();
        assert_eq!(f.base, Path::new("dir/Run_year.dss"));
        assert_eq!(f.base_line, 2);
        let names: Vec<&str> = f.scenarios.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["base", "grow", "big", "sun"]);
        assert_eq!(f.reference(), 0);
        assert!(f.scenarios[0].changes.is_empty());
        let grow = &f.scenarios[1].changes;
        assert_eq!(grow[0].line, 6);
        assert_eq!(grow[0].what, ChangeKind::LoadGrowth { pct: 20.0 });
        assert_eq!(grow[1].what, ChangeKind::Dss("Set loadmult=1.2".into()));
        assert_eq!(
            f.scenarios[2].changes[0].what,
            ChangeKind::Replace {
                element: "Transformer.tb".into(),
                properties: vec![("kva".into(), "630".into()), ("xhl".into(), "4.4".into())]
            }
        );
        let ChangeKind::Pv(p) = &f.scenarios[3].changes[0].what else {
            panic!()
        };
        assert_eq!((p.bus.as_str(), p.kw), ("e1_3", 30.0));
        let ChangeKind::Battery(b) = &f.scenarios[3].changes[1].what else {
            panic!()
        };
        assert_eq!(
            (b.kw, b.kwh, b.name.as_deref()),
            (100.0, Some(200.0), Some("bat"))
        );
    }

    #[test]
    fn errors_name_the_line_and_hint() {
        let cases = [
            (
                "base = a.dss\n[x]\npv bus=b kw=3 shap=s\n",
                "s.txt:3: [x]: pv: unknown key 'shap'",
                "did you mean 'shape'",
            ),
            (
                "base = a.dss\n[x]\nload_growth_pct = lots\n",
                "s.txt:3: [x]: load_growth_pct",
                "a percentage",
            ),
            (
                "base = a.dss\n[x]\n[x]\n",
                "s.txt:3: scenario [x] is already defined on line 2",
                "own name",
            ),
            (
                "base = a.dss\nSet loadmult=2\n[x]\n",
                "s.txt:2:",
                "inside a [name] section",
            ),
            (
                "base = a.dss\n[my case]\n",
                "s.txt:2: scenario name [my case]",
                "no spaces",
            ),
            (
                "base = a.dss\n[x]\nload_grouth_pct = 3\n",
                "s.txt:3: [x]:",
                "did you mean 'load_growth_pct'",
            ),
            (
                "base = a.dss\n[x]\nbattery bus=b kw=3\n",
                "s.txt:3: [x]: battery: kwh= is missing",
                "e.g. battery",
            ),
            (
                "base = a.dss\n[x]\nreplace kva=3\n",
                "s.txt:3: [x]: replace names an element",
                "Transformer.tb",
            ),
            ("base = a.dss\n[x\n", "s.txt:2: a section heading", "[name]"),
            (
                "base = a.dss\n[..]\n",
                "s.txt:2: scenario name [..] is only dots",
                "folder",
            ),
            (
                "base = a.dss\n[A]\n[a]\n",
                "s.txt:3: scenario [a] is already defined on line 2",
                "own name",
            ),
            (
                "base = a.dss\n[x]\nbattery bus=b kw=3 kwh=9 target_kw=2\n",
                "s.txt:3: [x]: battery: peak_shave= and target_kw= go together",
                "peak_shave=Transformer.tb",
            ),
            (
                "base = a.dss\n[x]\nbattery bus=b kw=3 kwh=9 peak_shave=tb target_kw=2\n",
                "s.txt:3: [x]: battery: peak_shave=tb: name the element as Class.name",
                "Transformer.tb",
            ),
        ];
        for (text, want, hint) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(e.contains(hint), "{e:?} lacks the hint {hint:?}");
        }
        let e = parse("[x]\n").unwrap_err().to_string();
        assert!(e.contains("no base script"), "{e}");
        let e = parse("base = a.dss\n").unwrap_err().to_string();
        assert!(e.contains("no scenarios"), "{e}");
    }

    #[test]
    fn a_selection_keeps_the_file_order() {
        let mut f = parse("base = a.dss\n[base]\n[b]\n[c]\n").unwrap();
        f.select(&["c", "BASE"]).unwrap();
        let names: Vec<&str> = f.scenarios.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["base", "c"]);
        let e = f.select(&["cc"]).unwrap_err().to_string();
        assert!(
            e.contains("no scenario [cc] (hint: did you mean 'c'?)"),
            "{e}"
        );
    }

    #[test]
    fn parallel_map_keeps_the_order() {
        let items: Vec<u64> = (0..37).collect();
        for jobs in [1, 2, 5, 64] {
            let out = parallel_map(&items, jobs, &|i, &x| (i as u64) * 1000 + x * x);
            let want: Vec<u64> = items.iter().map(|&x| x * 1000 + x * x).collect();
            assert_eq!(out, want, "jobs={jobs}");
        }
        assert!(parallel_map(&Vec::<u8>::new(), 4, &|_, &x| x).is_empty());
    }

    #[test]
    fn kv_reads_as_written() {
        assert_eq!(round_kv(0.22 * 3f64.sqrt() / 3f64.sqrt()), 0.22);
        assert_eq!(round_kv(0.38 / 3f64.sqrt() * 3f64.sqrt()), 0.38);
        assert_eq!(round_kv(12.47), 12.47);
    }
}
