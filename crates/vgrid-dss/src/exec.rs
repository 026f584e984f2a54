//! The script runner and the executive commands.
//!
//! A script is read line by line. Block comments start with `/*` at the beginning of a line
//! and end on the line containing `*/`. Each line is one command:
//!
//! ```text
//! New Line.L1 bus1=a bus2=b      create (or redefine, with a warning) and edit
//! ~ length=2 units=km            continue editing the object of the previous New/Edit
//! Edit Line.L1 length=3          edit an existing object
//! Line.L1.length=3 units=kft     implicit edit: Class.name.property=value ...
//! Redirect sub/codes.dss         read another file (relative to this file; Compile also moves the base dir)
//! Set mode=daily  Solve          settings, then a directive for the host
//! ```
//! Command words may be abbreviated (`calcv` is `CalcVoltageBases`): the first command in
//! OpenDSS's order starting with the text is taken.

use crate::classes::{resolve_property, Class};
use crate::elements::{self, Ctx};
use crate::error::{did_you_mean, Diagnostic, DssError};
use crate::lexer::{split_params_into, Param};
use crate::options::{self, Outcome};
use crate::regex::Regex;
use crate::value;
use crate::{files, Directive, Host, Reader};
use std::path::{Path, PathBuf};
use vgrid_model::{BusCoord, ElementId, Network, OpenTerminal, Settings};

/// How deep `Redirect`s may nest.
const MAX_DEPTH: usize = 64;

/// OpenDSS's executive commands, in its order (for abbreviations).
const COMMANDS: &[&str] = &[
    "new",
    "edit",
    "more",
    "m",
    "~",
    "select",
    "save",
    "show",
    "solve",
    "enable",
    "disable",
    "plot",
    "reset",
    "compile",
    "set",
    "dump",
    "open",
    "close",
    "//",
    "redirect",
    "help",
    "quit",
    "?",
    "next",
    "panel",
    "sample",
    "clear",
    "about",
    "calcvoltagebases",
    "setkvbase",
    "buildy",
    "get",
    "init",
    "export",
    "fileedit",
    "voltages",
    "currents",
    "powers",
    "seqvoltages",
    "seqcurrents",
    "seqpowers",
    "losses",
    "phaselosses",
    "cktlosses",
    "allocateloads",
    "formedit",
    "totals",
    "capacity",
    "classes",
    "userclasses",
    "zsc",
    "zsc10",
    "zscrefresh",
    "ysc",
    "puvoltages",
    "varvalues",
    "varnames",
    "buscoords",
    "makebuslist",
    "makeposseq",
    "reduce",
    "interpolate",
    "alignfile",
    "top",
    "rotate",
    "vdiff",
    "summary",
    "distribute",
    "di_plot",
    "comparecases",
    "yearlycurves",
    "cd",
    "visualize",
    "closedi",
    "doscmd",
    "estimate",
    "reconductor",
    "_initsnap",
    "_solvenocontrol",
    "_samplecontrols",
    "_docontrolactions",
    "_showcontrolqueue",
    "_solvedirect",
    "_solvepflow",
    "addbusmarker",
    "uuids",
    "setloadandgenkv",
    "cvrtloadshapes",
    "nodediff",
    "rephase",
    "setbusxy",
    "updatestorage",
    "obfuscate",
    "latlongcoords",
    "batchedit",
    "pstcalc",
    "variable",
    "reprocessbuses",
    "clearbusmarkers",
    "relcalc",
    "var",
    "cleanup",
    "finishtimestep",
    "nodelist",
    "connect",
    "disconnect",
    "remove",
    "calcincmatrix",
    "calcincmatrix_o",
    "refine_buslevels",
    "calclaplacian",
    "exportoverloads",
    "exportvviolations",
    "zsc012",
    "allpceatbus",
    "allpdeatbus",
    "totalpowers",
    "giscoords",
    "clearall",
    "comhelp",
    "newactor",
    "wait",
    "solveall",
    "abort",
    "clone",
];

/// Commands that would change the circuit in ways the reader does not reproduce.
const UNSUPPORTED: &[&str] = &[
    "allocateloads",
    "makeposseq",
    "reduce",
    "distribute",
    "reconductor",
    "setloadandgenkv",
    "rephase",
    "remove",
    "connect",
    "disconnect",
    "variable",
    "var",
    "estimate",
    "clone",
    "newactor",
    "solveall",
    "_docontrolactions",
    "updatestorage",
    "doscmd",
    "obfuscate",
];

/// Read-only reports handed to the host as [`Directive::Report`].
const REPORTS: &[&str] = &[
    "voltages",
    "currents",
    "powers",
    "seqvoltages",
    "seqcurrents",
    "seqpowers",
    "losses",
    "phaselosses",
    "cktlosses",
    "totals",
    "capacity",
    "zsc",
    "zsc10",
    "zscrefresh",
    "ysc",
    "puvoltages",
    "interpolate",
    "summary",
    "di_plot",
    "comparecases",
    "yearlycurves",
    "closedi",
    "nodediff",
    "vdiff",
    "pstcalc",
    "relcalc",
    "finishtimestep",
    "nodelist",
    "calcincmatrix",
    "calcincmatrix_o",
    "refine_buslevels",
    "calclaplacian",
    "exportoverloads",
    "exportvviolations",
    "zsc012",
    "allpceatbus",
    "allpdeatbus",
    "totalpowers",
    "_initsnap",
    "_solvenocontrol",
    "_samplecontrols",
    "_showcontrolqueue",
    "_solvedirect",
    "_solvepflow",
    "cvrtloadshapes",
    "makebuslist",
    "buildy",
    "init",
    "uuids",
];

pub(crate) enum Flow {
    /// An input problem, to be located and reported (or collected with `keep_going`).
    Diag(Diagnostic),
    /// A file could not be read.
    Io(Diagnostic),
    /// Stop reading now (already located).
    Stop(DssError),
}

impl From<Diagnostic> for Flow {
    fn from(d: Diagnostic) -> Flow {
        Flow::Diag(d)
    }
}

type Out = Result<(), Flow>;

pub(crate) fn empty_network() -> Network {
    Network {
        base_frequency_hz: 60.0,
        ..Network::default()
    }
}

fn diag(msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(msg)
}

/// Where the current line is.
#[derive(Clone, Copy)]
pub(crate) struct Loc<'a> {
    file: &'a str,
    line: usize,
}

impl Loc<'_> {
    fn stamp(&self, mut d: Diagnostic) -> Diagnostic {
        if d.file.is_empty() {
            d.file = self.file.to_string();
            d.line = self.line;
        }
        d
    }
}

impl Reader {
    pub(crate) fn top_level(&mut self, f: impl FnOnce(&mut Reader) -> Out) -> Result<(), DssError> {
        let before = self.errors.len();
        let r = f(self);
        self.stack.clear();
        match r {
            Err(Flow::Stop(e)) => return Err(e),
            Err(Flow::Diag(d)) => return Err(DssError::Input(Box::new(d))),
            Err(Flow::Io(d)) => return Err(DssError::Io(Box::new(d))),
            Ok(()) => {}
        }
        let new = self.errors.len() - before;
        match self.errors.get(before) {
            Some(first) if new > 0 => Err(DssError::Many {
                count: new,
                first: Box::new(first.clone()),
            }),
            _ => Ok(()),
        }
    }

    fn ctx(&mut self) -> Ctx<'_> {
        Ctx {
            net: &mut self.network,
            store: &mut self.store,
            base_dir: &self.base_dir,
            warnings: Vec::new(),
        }
    }

    fn warn_at(&mut self, loc: &Loc, d: Diagnostic) {
        self.warnings.push(loc.stamp(d));
    }

    fn warn_once(&mut self, loc: &Loc, key: &str, d: Diagnostic) {
        if self.warned_once.insert(key.to_string()) {
            self.warn_at(loc, d);
        }
    }

    /// Report a problem that is an error in strict mode and a warning when lenient.
    fn strictness(&mut self, loc: &Loc, d: Diagnostic) -> Out {
        if self.options.lenient {
            self.warn_at(loc, d);
            Ok(())
        } else {
            Err(Flow::Diag(d))
        }
    }

    /// Read a file: `Redirect` (base dir restored after) or `Compile` (base dir moves).
    pub(crate) fn run_path(
        &mut self,
        path: &Path,
        compile: bool,
        loc: Option<&Loc>,
        host: &mut Host<'_>,
    ) -> Out {
        let located = |d: Diagnostic| match loc {
            Some(l) => l.stamp(d),
            None => Diagnostic {
                file: path.display().to_string(),
                ..d
            },
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(Flow::Diag(located(diag(format!(
                "Redirect nesting deeper than {MAX_DEPTH} files at '{}'",
                path.display()
            )))));
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            return Err(Flow::Diag(located(diag(format!(
                "Redirect cycle: '{}' is already being read",
                path.display()
            )))));
        }
        let text = match files::read_text(path) {
            Ok(t) => t,
            Err(e) => {
                return Err(Flow::Io(located(diag(format!(
                    "cannot read '{}': {e}",
                    path.display()
                )))));
            }
        };
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let saved = std::mem::replace(&mut self.base_dir, dir);
        self.stack.push(canonical);
        let r = self.run_lines(&text, &path.display().to_string(), host);
        self.stack.pop();
        if !compile {
            self.base_dir = saved;
        }
        r
    }

    pub(crate) fn run_lines(&mut self, text: &str, origin: &str, host: &mut Host<'_>) -> Out {
        let mut in_block = false;
        let mut params = Vec::new();
        for (k, raw) in lines(text).enumerate() {
            let loc = Loc {
                file: origin,
                line: k + 1,
            };
            let trimmed = raw.trim_start();
            if in_block {
                if raw.contains("*/") {
                    in_block = false;
                }
                continue;
            }
            if let Some(after) = trimmed.strip_prefix("/*") {
                in_block = !after.contains("*/");
                continue;
            }
            match self.exec_line(raw, &mut params, &loc, host) {
                Ok(()) => {}
                Err(Flow::Stop(e)) => return Err(Flow::Stop(e)),
                Err(Flow::Diag(d)) => {
                    let d = loc.stamp(d);
                    if self.options.keep_going {
                        self.errors.push(d);
                    } else {
                        return Err(Flow::Stop(DssError::Input(Box::new(d))));
                    }
                }
                Err(Flow::Io(d)) => {
                    let d = loc.stamp(d);
                    if self.options.keep_going {
                        self.errors.push(d);
                    } else {
                        return Err(Flow::Stop(DssError::Io(Box::new(d))));
                    }
                }
            }
        }
        Ok(())
    }

    /// Run one line; `params` is scratch space for its parameters (kept across lines).
    fn exec_line<'t>(
        &mut self,
        line: &'t str,
        params: &mut Vec<Param<'t>>,
        loc: &Loc,
        host: &mut Host<'_>,
    ) -> Out {
        split_params_into(line, params);
        let params = params.as_mut_slice();
        let Some(first) = params.first().copied() else {
            return Ok(());
        };
        if let Some(name) = first.name {
            if let Some(rest) = name.strip_prefix('~') {
                // `~prop=value`: continuation glued to its first property
                params[0].name = Some(rest).filter(|s| !s.is_empty());
                params[0].name_col += 1;
                return self.cmd_more(params, loc);
            }
            return self.implicit_edit(params, loc);
        }
        let word = first.value;
        if word.len() > 1 && word.starts_with('~') && !first.quoted {
            params[0].value = &first.value[1..];
            params[0].col += 1;
            return self.cmd_more(params, loc);
        }
        let Some(cmd) = resolve_command(word) else {
            let hint = did_you_mean(&word.to_ascii_lowercase(), COMMANDS.iter().copied());
            return Err(Flow::Diag(
                diag(format!("unknown command '{}'", first.value))
                    .with_hint(hint)
                    .at_column(first.col),
            ));
        };
        let rest = &params[1..];
        let r = self.dispatch(cmd, rest, loc, host);
        r.map_err(|f| match f {
            Flow::Diag(d) => Flow::Diag(d.at_column(first.col)),
            other => other,
        })
    }

    fn dispatch(
        &mut self,
        cmd: &'static str,
        rest: &[Param],
        loc: &Loc,
        host: &mut Host<'_>,
    ) -> Out {
        match cmd {
            "new" => self.cmd_new(rest, loc),
            "edit" => self.cmd_edit(rest, loc),
            "more" | "m" | "~" => self.cmd_more(rest, loc),
            "select" => {
                if let Some(p) = rest.first() {
                    let (c, n) = self.set_object(p.value).map_err(|d| d.at_column(p.col))?;
                    self.active = Some((c, n));
                    self.active_class = Some(c);
                }
                Ok(())
            }
            "set" => self.cmd_set(rest, loc),
            "solve" => {
                self.cmd_set(rest, loc)?;
                self.directive(Directive::Solve, loc, host)
            }
            "calcvoltagebases" => self.directive(Directive::CalcVoltageBases, loc, host),
            "sample" => self.directive(Directive::Sample, loc, host),
            "reset" => self.directive(Directive::Reset(join(rest)), loc, host),
            "show" => self.directive(Directive::Show(join(rest)), loc, host),
            "export" => self.directive(Directive::Export(join(rest)), loc, host),
            "plot" | "visualize" => self.directive(Directive::Plot(join(rest)), loc, host),
            "redirect" | "compile" => {
                let Some(p) = rest.first() else {
                    return Err(Flow::Diag(diag(format!("{cmd} needs a file name"))));
                };
                let path = files::resolve(&self.base_dir, p.value);
                self.run_path(&path, cmd == "compile", Some(loc), host)
                    .map_err(|f| match f {
                        Flow::Io(d) => Flow::Io(d.at_column(p.col)),
                        Flow::Diag(d) => Flow::Diag(d.at_column(p.col)),
                        other => other,
                    })
            }
            "clear" | "clearall" => {
                self.clear();
                Ok(())
            }
            "cd" => {
                if let Some(p) = rest.first() {
                    let dir = files::resolve(&self.base_dir, p.value);
                    if !dir.is_dir() {
                        return Err(Flow::Diag(
                            diag(format!("directory '{}' not found", p.value)).at_column(p.col),
                        ));
                    }
                    self.base_dir = dir;
                }
                Ok(())
            }
            "enable" | "disable" => self.cmd_enable(rest, cmd == "enable", loc),
            "open" | "close" => self.cmd_open(rest, cmd == "open"),
            "setkvbase" => self.cmd_setkvbase(rest),
            "buscoords" | "latlongcoords" | "giscoords" => {
                self.cmd_buscoords(rest, cmd != "buscoords", loc)
            }
            "setbusxy" => self.cmd_setbusxy(rest),
            "batchedit" => self.cmd_batchedit(rest, loc),
            c if UNSUPPORTED.contains(&c) => self.strictness(
                loc,
                diag(format!("command '{c}' is not supported by vgrid")),
            ),
            c if REPORTS.contains(&c) => self.directive(
                Directive::Report {
                    command: c.to_string(),
                    args: join(rest),
                },
                loc,
                host,
            ),
            _ => Ok(()), // help, about, panel, save, dump, get, ... : nothing to do
        }
    }

    fn directive(&mut self, d: Directive, loc: &Loc, host: &mut Host<'_>) -> Out {
        if matches!(d, Directive::Solve | Directive::CalcVoltageBases) {
            let mut ctx = self.ctx();
            elements::line::commit_cap_fix(&mut ctx);
        }
        host(&mut self.network, d)
            .map_err(|m| Flow::Stop(DssError::Host(Box::new(loc.stamp(diag(m))))))
    }

    /// Objects OpenDSS defines at startup and after `Clear` (`LoadShape.default`).
    pub(crate) fn install_defaults(&mut self) {
        const DEFAULT_SHAPE: [f64; 24] = [
            0.677, 0.6256, 0.6087, 0.5833, 0.58028, 0.6025, 0.657, 0.7477, 0.832, 0.88, 0.94,
            0.989, 0.985, 0.98, 0.9898, 0.999, 1.0, 0.958, 0.936, 0.913, 0.876, 0.876, 0.828,
            0.756,
        ];
        let mut ctx = self.ctx();
        if elements::create(&mut ctx, Class::LoadShape, "default").is_ok() {
            if let Some(s) = ctx.net.load_shapes.iter_mut().find(|s| s.name == "default") {
                s.p_mult = DEFAULT_SHAPE.to_vec();
            }
            let _ = elements::finish(&mut ctx, Class::LoadShape, "default");
        }
    }

    fn clear(&mut self) {
        self.store.clear();
        self.network = empty_network();
        let f = self.store.base_frequency;
        self.network.base_frequency_hz = f;
        self.network.settings = Settings {
            default_base_frequency_hz: f,
            ..Settings::default()
        };
        self.active = None;
        self.active_class = None;
        self.circuit_defined = false;
        self.install_defaults();
    }

    /// `Class.name` (or `name` in the active class) of an existing object.
    fn set_object(&mut self, text: &str) -> Result<(Class, String), Diagnostic> {
        let t = text.trim();
        let (class, name) = match t.split_once('.') {
            Some((c, n)) => {
                if c.eq_ignore_ascii_case("circuit") {
                    (Class::Vsource, "source".to_string())
                } else {
                    let class = Class::from_name(c).ok_or_else(|| {
                        diag(format!("unknown class '{c}'")).with_hint(Class::hint_for(c))
                    })?;
                    (class, n.trim().to_ascii_lowercase())
                }
            }
            None => {
                let class = self
                    .active_class
                    .ok_or_else(|| diag(format!("'{t}' names no class and no class is active")))?;
                (class, t.to_ascii_lowercase())
            }
        };
        let mut ctx = self.ctx();
        if !elements::exists(&mut ctx, class, &name) {
            let all = elements::names(&ctx, class);
            return Err(
                diag(format!("{}.{} does not exist", class.dss_name(), name))
                    .with_hint(did_you_mean(&name, all.iter().map(String::as_str))),
            );
        }
        Ok((class, name))
    }

    fn implicit_edit(&mut self, params: &mut [Param], loc: &Loc) -> Out {
        let full = params[0].name.unwrap_or_default();
        let col = params[0].name_col;
        let (obj, prop) = match full.rsplit_once('.') {
            Some((o, p)) => (Some(o), p),
            None => (None, full),
        };
        let (class, name) = match obj {
            Some(o) => self.set_object(o).map_err(|d| d.at_column(col))?,
            None => self.active.clone().ok_or_else(|| {
                diag(format!("unknown command '{full}'"))
                    .with_hint(Some("use Class.name.property=value".into()))
                    .at_column(col)
            })?,
        };
        params[0].name = Some(prop);
        params[0].name_col = col + full.len() - prop.len();
        self.edit_then_activate(class, name, params, loc)
    }

    /// Split `Class.name` for New/Edit, with `object=` allowed.
    fn object_param<'a>(&self, rest: &[Param<'a>]) -> Result<(&'a str, String, usize), Diagnostic> {
        let Some(p) = rest.first() else {
            return Err(diag("expected Class.name"));
        };
        if let Some(n) = &p.name {
            if !n.eq_ignore_ascii_case("object") {
                return Err(
                    diag(format!("expected Class.name, found '{n}='")).at_column(p.name_col)
                );
            }
        }
        let t = value::trim(p.value);
        match t.split_once('.') {
            Some((c, n)) if !value::trim(n).is_empty() => {
                Ok((c, value::trim(n).to_ascii_lowercase(), p.col))
            }
            _ => match self.active_class {
                Some(c) if !t.is_empty() && !t.contains('.') => {
                    Ok((c.dss_name(), t.to_ascii_lowercase(), p.col))
                }
                _ => Err(diag(format!("'{t}' is not of the form Class.name")).at_column(p.col)),
            },
        }
    }

    fn cmd_new(&mut self, rest: &[Param], loc: &Loc) -> Out {
        let (cname, name, col) = self.object_param(rest)?;
        if cname.eq_ignore_ascii_case("circuit") {
            return self.new_circuit(&name, &rest[1..], loc);
        }
        let Some(class) = Class::from_name(cname) else {
            let d = diag(format!("unknown class '{cname}'"))
                .with_hint(Class::hint_for(cname))
                .at_column(col);
            return self.strictness(loc, d);
        };
        if elements::element_kind(class).is_some() && !self.circuit_defined {
            let d = diag(format!(
                "{}.{name} defined before any circuit",
                class.dss_name()
            ))
            .with_hint(Some("start the script with New Circuit.name".into()))
            .at_column(col);
            self.strictness(loc, d)?;
        }
        if class.affects_solution() {
            self.warn_once(
                loc,
                class.dss_name(),
                diag(format!(
                    "class {} is accepted but not modelled; results may differ from OpenDSS",
                    class.dss_name()
                ))
                .at_column(col),
            );
        }
        let mut ctx = self.ctx();
        let existed = elements::create(&mut ctx, class, &name)?;
        if existed {
            self.warn_at(
                loc,
                diag(format!(
                    "{}.{name} is defined again; the new definition replaces it",
                    class.dss_name()
                ))
                .at_column(col),
            );
        }
        self.edit_then_activate(class, name, &rest[1..], loc)
    }

    /// Edit an object and make it the one `~` continues (and its class the active class).
    fn edit_then_activate(
        &mut self,
        class: Class,
        name: String,
        params: &[Param],
        loc: &Loc,
    ) -> Out {
        let r = self.edit_object(class, &name, params, loc);
        // editing never looks at the active object, so the name moves in afterwards
        self.active = Some((class, name));
        self.active_class = Some(class);
        rebuilt(r)
    }

    fn new_circuit(&mut self, name: &str, rest: &[Param], loc: &Loc) -> Out {
        if self.circuit_defined {
            self.warn_at(
                loc,
                diag(format!(
                    "New Circuit.{name} starts a new circuit; the previous one is discarded"
                )),
            );
            self.clear();
        }
        self.network.name = name.to_string();
        self.circuit_defined = true;
        let mut ctx = self.ctx();
        elements::create(&mut ctx, Class::Vsource, "source")?;
        self.active = Some((Class::Vsource, "source".into()));
        self.active_class = Some(Class::Vsource);
        self.edit_object(Class::Vsource, "source", rest, loc)
    }

    fn cmd_edit(&mut self, rest: &[Param], loc: &Loc) -> Out {
        let Some(p) = rest.first() else {
            return Err(Flow::Diag(diag("Edit needs Class.name")));
        };
        let (class, name) = self.set_object(p.value).map_err(|d| d.at_column(p.col))?;
        self.edit_then_activate(class, name, &rest[1..], loc)
    }

    fn cmd_more(&mut self, rest: &[Param], loc: &Loc) -> Out {
        let Some((class, name)) = self.active.take() else {
            return Err(Flow::Diag(diag("'~' (More) with no object being edited")));
        };
        let mut ctx = self.ctx();
        let r = if elements::exists(&mut ctx, class, &name) {
            self.edit_object(class, &name, rest, loc)
        } else {
            Err(Flow::Diag(diag(format!(
                "{}.{name} no longer exists",
                class.dss_name()
            ))))
        };
        self.active = Some((class, name)); // taken to edit without copying the name
        rebuilt(r)
    }

    /// Set properties of an object, then lower it.
    pub(crate) fn edit_object(
        &mut self,
        class: Class,
        name: &str,
        params: &[Param],
        loc: &Loc,
    ) -> Out {
        let table = class.property_table();
        let props = table.map_or(&[][..], |t| t.names());
        let element = || format!("{}.{}", class.dss_name(), name);
        let mut last: Option<usize> = None;
        let mut first_err: Option<Diagnostic> = None;
        let mut warns: Vec<Diagnostic> = Vec::new();
        // setting properties never moves the object, so its model row is found once
        let at = elements::locate(&mut self.ctx(), class, name);
        for p in params {
            if matches!(class, Class::Other(_)) {
                continue;
            }
            let idx = match &p.name {
                Some(n) => match table.and_then(|t| t.index(n)) {
                    Some(i) => i,
                    None => {
                        let d = diag(format!("unknown property of {}", class.dss_name()))
                            .with_hint(did_you_mean(&n.to_ascii_lowercase(), props.iter().copied()))
                            .with_property(n)
                            .at_column(p.name_col);
                        if self.options.lenient {
                            warns.push(d);
                            continue;
                        }
                        first_err = Some(d);
                        break;
                    }
                },
                None => {
                    let i = last.map_or(0, |l| l + 1);
                    if i >= props.len() {
                        first_err = Some(
                            diag(format!("value '{}' has no property to go to", p.value))
                                .at_column(p.col),
                        );
                        break;
                    }
                    i
                }
            };
            last = Some(idx);
            let prop = props[idx];
            let mut ctx = self.ctx();
            let r = if prop == "like" {
                elements::like(&mut ctx, class, name, p.value)
            } else {
                elements::set(&mut ctx, class, name, at, prop, p)
            };
            if !ctx.warnings.is_empty() {
                warns.extend(
                    ctx.warnings
                        .drain(..)
                        .map(|w| w.with_property(p.name.unwrap_or(prop)).at_column(p.col)),
                );
            }
            if let Err(d) = r {
                first_err = Some(d.with_property(p.name.unwrap_or(prop)).at_column(p.col));
                break;
            }
        }
        let mut ctx = self.ctx();
        let fin = elements::finish_at(&mut ctx, class, name, at);
        warns.append(&mut ctx.warnings);
        for mut w in warns {
            w.element.get_or_insert_with(element);
            self.warn_at(loc, w);
        }
        if first_err.is_none() && fin.is_ok() {
            return Ok(()); // (without moving the large error values around)
        }
        let err = first_err.or(fin.err());
        match err {
            Some(mut d) => {
                d.element.get_or_insert_with(element);
                Err(Flow::Diag(d))
            }
            None => Ok(()),
        }
    }

    fn cmd_set(&mut self, rest: &[Param], loc: &Loc) -> Out {
        for p in rest {
            let Some(n) = &p.name else {
                return Err(Flow::Diag(
                    diag(format!("expected option=value, found '{}'", p.value)).at_column(p.col),
                ));
            };
            let Some(opt) = options::resolve(n) else {
                let d = diag(format!("unknown option '{n}'"))
                    .with_hint(did_you_mean(
                        &n.to_ascii_lowercase(),
                        options::OPTIONS.iter().copied(),
                    ))
                    .at_column(p.name_col);
                self.strictness(loc, d)?;
                continue;
            };
            match options::apply(&mut self.network, opt, p).map_err(|d| d.with_property(opt))? {
                Outcome::Done => {}
                Outcome::NotModelled(m) => {
                    self.warn_at(loc, diag(m).with_property(opt).at_column(p.name_col))
                }
            }
            if matches!(opt, "defaultbasefrequency" | "basefrequency") {
                self.store.base_frequency = self.network.base_frequency_hz;
            }
        }
        Ok(())
    }

    /// `Enable`/`Disable Class.name` (`Class.*` for all of a class).
    fn cmd_enable(&mut self, rest: &[Param], on: bool, loc: &Loc) -> Out {
        let Some(p) = rest.first() else {
            return Ok(());
        };
        let t = p.value.trim();
        let (cname, name) = t.split_once('.').unwrap_or(("", t));
        let class = if cname.is_empty() {
            self.active_class
        } else {
            Class::from_name(cname)
        };
        let Some(class) = class else {
            return Err(Flow::Diag(
                diag(format!("unknown class '{cname}'"))
                    .with_hint(Class::hint_for(cname))
                    .at_column(p.col),
            ));
        };
        let name = name.to_ascii_lowercase();
        let targets = if name == "*" {
            elements::names(&self.ctx(), class)
        } else {
            vec![name]
        };
        for n in targets {
            let mut ctx = self.ctx();
            if !elements::set_enabled(&mut ctx, class, &n, on) {
                let all = elements::names(&ctx, class);
                let d = diag(format!(
                    "{}.{n} does not exist or cannot be disabled",
                    class.dss_name()
                ))
                .with_hint(did_you_mean(&n, all.iter().map(String::as_str)))
                .at_column(p.col);
                return self.strictness(loc, d);
            }
            // a disabled switching device no longer holds its terminal open
            let _ = elements::finish(&mut ctx, class, &n);
        }
        Ok(())
    }

    /// `Open`/`Close Class.name term [cond]`: positional, names ignored like OpenDSS.
    fn cmd_open(&mut self, rest: &[Param], open: bool) -> Out {
        let Some(p) = rest.first() else {
            return Err(Flow::Diag(diag("Open/Close needs Class.name")));
        };
        let element: ElementId =
            elements::element_ref(p.value).map_err(|m| diag(m).at_column(p.col))?;
        let (class, name) = self.set_object(p.value).map_err(|d| d.at_column(p.col))?;
        let _ = class;
        let terminal = match rest.get(1) {
            Some(t) => value::count(t, 1, 1000)?,
            None => 1,
        };
        let conductor = match rest.get(2) {
            Some(c) => match value::integer(c)? {
                0 => None,
                k if k > 0 && k < 10_000 => Some(k as usize),
                k => {
                    return Err(Flow::Diag(
                        diag(format!("conductor {k} is out of range")).at_column(c.col),
                    ))
                }
            },
            None => None,
        };
        let _ = name;
        let ot = &mut self.network.open_terminals;
        if open {
            let entry = OpenTerminal {
                element,
                terminal,
                conductor,
            };
            if !ot.contains(&entry) {
                ot.push(entry);
            }
        } else {
            ot.retain(|o| {
                !(o.element == element
                    && o.terminal == terminal
                    && (conductor.is_none() || o.conductor == conductor))
            });
        }
        Ok(())
    }

    fn cmd_setkvbase(&mut self, rest: &[Param]) -> Out {
        let names = ["bus", "kvll", "kvln"];
        let mut bus = None;
        let mut kv = None;
        for (k, p) in rest.iter().enumerate() {
            let which = match &p.name {
                Some(n) => resolve_property(&names, n).map(|i| names[i]),
                None => names.get(k).copied(),
            };
            match which {
                Some("bus") => bus = Some(value::name(p)),
                Some("kvll") => kv = Some(value::number(p)?),
                Some("kvln") => kv = Some(value::number(p)? * 3f64.sqrt()),
                _ => {
                    return Err(Flow::Diag(
                        diag("SetkVBase takes bus=, kVLL= or kVLN=").at_column(p.column()),
                    ))
                }
            }
        }
        let (Some(bus), Some(kv)) = (bus, kv) else {
            return Err(Flow::Diag(diag(
                "SetkVBase needs bus= and kVLL= (or kVLN=)",
            )));
        };
        let bases = &mut self.network.bus_kv_bases;
        match bases.iter_mut().find(|(b, _)| *b == bus) {
            Some(e) => e.1 = kv,
            None => bases.push((bus, kv)),
        }
        Ok(())
    }

    fn put_coord(&mut self, bus: String, x: f64, y: f64) {
        let coords = &mut self.network.bus_coords;
        match coords.iter_mut().find(|c| c.bus == bus) {
            Some(c) => {
                c.x = x;
                c.y = y;
            }
            None => coords.push(BusCoord { bus, x, y }),
        }
    }

    /// `BusCoords file` (bus, x, y) or `LatLongCoords file` (bus, lat, long -> x = long, y = lat).
    fn cmd_buscoords(&mut self, rest: &[Param], latlong: bool, loc: &Loc) -> Out {
        let Some(p) = rest.first() else {
            return Err(Flow::Diag(diag("BusCoords needs a file name")));
        };
        let path = files::resolve(&self.base_dir, p.value);
        let text = files::read_text(&path).map_err(|e| {
            Flow::Io(diag(format!("cannot read '{}': {e}", path.display())).at_column(p.col))
        })?;
        let mut index: crate::hash::FxHashMap<String, usize> = self
            .network
            .bus_coords
            .iter()
            .enumerate()
            .map(|(i, c)| (c.bus.clone(), i))
            .collect();
        let mut skipped = 0;
        for line in text.lines() {
            let t = line.split('!').next().unwrap_or("").trim();
            if t.is_empty() || t.starts_with("//") {
                continue;
            }
            let f: Vec<&str> = t
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .collect();
            let nums = (
                f.get(1).and_then(|s| crate::rpn::parse_number(s)),
                f.get(2).and_then(|s| crate::rpn::parse_number(s)),
            );
            let (Some(bus), (Some(a), Some(b))) = (f.first(), nums) else {
                skipped += 1;
                continue;
            };
            let bus = bus.trim_matches('"').to_ascii_lowercase();
            let (x, y) = if latlong { (b, a) } else { (a, b) };
            match index.get(&bus) {
                Some(&i) => {
                    if let Some(c) = self.network.bus_coords.get_mut(i) {
                        c.x = x;
                        c.y = y;
                    }
                }
                None => {
                    index.insert(bus.clone(), self.network.bus_coords.len());
                    self.network.bus_coords.push(BusCoord { bus, x, y });
                }
            }
        }
        if skipped > 0 {
            self.warn_at(
                loc,
                diag(format!(
                    "{skipped} line(s) of '{}' are not 'bus, x, y' and were skipped",
                    path.display()
                )),
            );
        }
        Ok(())
    }

    fn cmd_setbusxy(&mut self, rest: &[Param]) -> Out {
        let names = ["bus", "x", "y"];
        let (mut bus, mut x, mut y) = (None, None, None);
        for (k, p) in rest.iter().enumerate() {
            let which = match &p.name {
                Some(n) => resolve_property(&names, n).map(|i| names[i]),
                None => names.get(k).copied(),
            };
            match which {
                Some("bus") => bus = Some(value::name(p)),
                Some("x") => x = Some(value::number(p)?),
                Some("y") => y = Some(value::number(p)?),
                _ => {
                    return Err(Flow::Diag(
                        diag("SetBusXY takes bus=, x=, y=").at_column(p.column()),
                    ))
                }
            }
        }
        match (bus, x, y) {
            (Some(b), Some(x), Some(y)) => {
                self.put_coord(b, x, y);
                Ok(())
            }
            _ => Err(Flow::Diag(diag("SetBusXY needs bus=, x= and y="))),
        }
    }

    /// `BatchEdit Class.pattern prop=value ...`: edit every object whose name matches.
    fn cmd_batchedit(&mut self, rest: &[Param], loc: &Loc) -> Out {
        let Some(p) = rest.first() else {
            return Err(Flow::Diag(diag("BatchEdit needs Class.pattern")));
        };
        let t = p.value.trim();
        let Some((cname, pattern)) = t.split_once('.') else {
            return Err(Flow::Diag(
                diag(format!("'{t}' is not of the form Class.pattern")).at_column(p.col),
            ));
        };
        let Some(class) = Class::from_name(cname) else {
            let d = diag(format!("unknown class '{cname}'"))
                .with_hint(Class::hint_for(cname))
                .at_column(p.col);
            return self.strictness(loc, d);
        };
        let re = Regex::new(pattern)
            .map_err(|m| diag(format!("bad pattern '{pattern}': {m}")).at_column(p.col))?;
        let ctx = self.ctx();
        let targets: Vec<String> = elements::names(&ctx, class)
            .into_iter()
            .filter(|n| re.is_match(n))
            .collect();
        for n in targets {
            self.edit_object(class, &n, &rest[1..], loc)?;
        }
        Ok(())
    }
}

/// `r` itself, rebuilt rather than moved: an `Ok` is then written in place, not copied with
/// the room a diagnostic takes (a hot path returns through here on every edit).
fn rebuilt(r: Out) -> Out {
    match r {
        Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The lines of a text exactly as `str::lines` gives them (split at `\n`, a `\r` before the
/// `\n` dropped), found with a plain byte loop (`str::lines` makes two library calls per line).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let line = match find_newline(rest.as_bytes()) {
            Some(k) => {
                let line = &rest[..k];
                rest = &rest[k + 1..];
                match line.as_bytes().last() {
                    Some(b'\r') => &line[..line.len() - 1],
                    _ => line,
                }
            }
            None => std::mem::take(&mut rest),
        };
        Some(line)
    })
}

/// Position of the first `\n`, eight bytes at a time: a zero byte of `w ^ 0x0a0a...` is a
/// newline, and `(x - 0x0101...) & !x & 0x8080...` flags the first zero byte exactly.
fn find_newline(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w) ^ NEWLINES;
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(base + zeros.trailing_zeros() as usize / 8);
        }
        base += 8;
    }
    let tail = chunks.remainder();
    tail.iter().position(|&c| c == b'\n').map(|k| base + k)
}

/// The command a word stands for (any letter case): exact, else first in order starting with
/// it.
fn resolve_command(word: &str) -> Option<&'static str> {
    if word.is_empty() {
        return None;
    }
    COMMANDS
        .iter()
        .find(|c| c.eq_ignore_ascii_case(word))
        .or_else(|| COMMANDS.iter().find(|c| starts_with_ignore_case(c, word)))
        .copied()
}

/// `text` starts with `prefix`, ASCII letters compared without case.
pub(crate) fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Parameters back to text, for directives' arguments.
fn join(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| match p.name {
            Some(n) => format!("{n}={}", p.value),
            None => p.value.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_found_like_position() {
        let text = b"ab\ncdefghijklmnop\nq\n\n\x8a\x0a\xff\x0b0123456789abcdef\n";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let b = &text[start..end];
                assert_eq!(find_newline(b), b.iter().position(|&c| c == b'\n'), "{b:?}");
            }
        }
    }

    #[test]
    fn lines_like_std() {
        for t in [
            "",
            "a",
            "a\n",
            "\n",
            "\n\n",
            "a\r\nb",
            "a\rb\n",
            "a\r",
            "a\r\n\r\n",
            "é\nx\r\n",
            "\r",
            "a\n\nb\r\r\n",
        ] {
            assert_eq!(
                lines(t).collect::<Vec<_>>(),
                t.lines().collect::<Vec<_>>(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn command_abbreviations() {
        assert_eq!(resolve_command("calcv"), Some("calcvoltagebases"));
        assert_eq!(resolve_command("new"), Some("new"));
        assert_eq!(resolve_command("m"), Some("m"));
        assert_eq!(resolve_command("buscoords"), Some("buscoords"));
        assert_eq!(resolve_command("batchedit"), Some("batchedit"));
        assert_eq!(resolve_command("xyzzy"), None);
        assert_eq!(resolve_command("CalcV"), Some("calcvoltagebases"));
        assert_eq!(resolve_command("NEW"), Some("new"));
    }
}
