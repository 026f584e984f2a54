//! Objects of the script: creation with OpenDSS's defaults, property setters, and the lowering
//! of each object into the engineering model.
//!
//! An edit (`New`, `Edit`, `~`, `Class.name.prop=value`) sets properties one by one with
//! [`set`] and then calls [`finish`], which recomputes what depends on several properties
//! (a load's kvar from kW and PF, a line's per-metre impedance from its code and units...).
//! Fields the engine may write back (transformer taps, capacitor states) live in the model
//! only, so later edits of other properties never undo them. Everything else OpenDSS keeps
//! (line codes, the unit bookkeeping of a line, the active winding) is side state in [`Store`].
//!
//! ```text
//! New Line.a linecode=mtx601 length=2000 units=ft
//!   set linecode  -> copy the code's matrices (ohm/mi) into the line's side state
//!   set length    -> 2000
//!   set units     -> ft; conversion factor mi -> ft = 5279.86
//!   finish        -> model: length_m = 609.6, r_ohm_per_m = r_per_mi / 1609.3
//! ```

pub(crate) mod control;
pub(crate) mod geometry;
pub(crate) mod line;
pub(crate) mod pc;
pub(crate) mod shape;
pub(crate) mod shunt;
pub(crate) mod source;
pub(crate) mod transformer;

use crate::classes::Class;
use crate::error::Diagnostic;
use crate::hash::{FxHashMap, FxHashSet};
use crate::lexer::{OwnedParam, Param};
use crate::value::Res;
use std::path::Path;
use vgrid_model::{ElementId, ElementKind, Network};

/// Side state of every object, by class and lower-case name.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Position of each modelled object in its network table.
    index: FxHashMap<Class, FxHashMap<String, usize>>,
    counts: FxHashMap<Class, usize>,
    pub lines: FxHashMap<String, line::LineState>,
    pub linecodes: FxHashMap<String, line::LineCode>,
    pub linecode_order: Vec<String>,
    pub geometries: FxHashMap<String, geometry::GeometryState>,
    pub spacings: FxHashMap<String, geometry::SpacingState>,
    pub wires: FxHashMap<(Class, String), geometry::WireState>,
    pub transformers: FxHashMap<String, transformer::XfState>,
    pub xfmrcodes: FxHashMap<String, Vec<(String, OwnedParam)>>,
    pub xfmrcode_order: Vec<String>,
    pub sources: FxHashMap<String, source::SourceState>,
    pub loads: FxHashMap<String, pc::LoadState>,
    pub generators: FxHashMap<String, pc::GenState>,
    pub storages: FxHashMap<String, pc::StorageState>,
    pub capacitors: FxHashMap<String, shunt::CapState>,
    pub reactors: FxHashMap<String, shunt::ReactorState>,
    pub regcontrols: FxHashMap<String, control::RegState>,
    pub storage_controllers: FxHashMap<String, control::StorageControllerState>,
    pub shapes: FxHashMap<String, shape::ShapeState>,
    pub tshapes: FxHashMap<String, shape::ShapeState>,
    pub curves: FxHashMap<String, shape::CurveState>,
    /// Unmodelled classes: names only, in creation order.
    pub others: FxHashMap<Class, Vec<String>>,
    /// The open terminal each switching device added (to remove exactly that one when it closes).
    pub device_open: FxHashMap<(vgrid_model::ElementKind, String), vgrid_model::OpenTerminal>,
    /// Lines whose default capacitance still waits for OpenDSS's unit fix-up (see `line`).
    pub pending_cap_fix: FxHashSet<String>,
    /// Default base frequency for new objects, Hz.
    pub base_frequency: f64,
}

/// What a setter needs: the model, the side state, where files are, and a warning sink.
pub(crate) struct Ctx<'a> {
    pub net: &'a mut Network,
    pub store: &'a mut Store,
    pub base_dir: &'a Path,
    pub warnings: Vec<Diagnostic>,
}

/// The model table length and the name at `i`, for the classes that live in the model.
fn model_name(net: &Network, class: Class, i: usize) -> Option<&str> {
    Some(match class {
        Class::Vsource => net.sources.get(i)?.name.as_str(),
        Class::Line => net.lines.get(i)?.name.as_str(),
        Class::LineGeometry => net.line_geometries.get(i)?.name.as_str(),
        Class::LineSpacing => net.line_spacings.get(i)?.name.as_str(),
        Class::WireData | Class::CnData | Class::TsData => {
            let w = net.wires.get(i)?;
            if geometry::wire_class(w.kind) != class {
                return None;
            }
            w.name.as_str()
        }
        Class::Transformer => net.transformers.get(i)?.name.as_str(),
        Class::Reactor => net.reactors.get(i)?.name.as_str(),
        Class::Capacitor => net.capacitors.get(i)?.name.as_str(),
        Class::CapControl => net.cap_controls.get(i)?.name.as_str(),
        Class::RegControl => net.reg_controls.get(i)?.name.as_str(),
        Class::Load => net.loads.get(i)?.name.as_str(),
        Class::Generator => net.generators.get(i)?.name.as_str(),
        Class::PvSystem => net.pv_systems.get(i)?.name.as_str(),
        Class::Storage => net.storages.get(i)?.name.as_str(),
        Class::Fuse | Class::Recloser | Class::Relay | Class::SwtControl => {
            let d = net.protective_devices.get(i)?;
            if Some(d.kind) != element_kind(class) {
                return None;
            }
            d.name.as_str()
        }
        Class::EnergyMeter | Class::Monitor => {
            let m = net.meters.get(i)?;
            if Some(m.kind) != element_kind(class) {
                return None;
            }
            m.name.as_str()
        }
        Class::LoadShape => net.load_shapes.get(i)?.name.as_str(),
        Class::XyCurve => net.xy_curves.get(i)?.name.as_str(),
        Class::TShape => net.t_shapes.get(i)?.name.as_str(),
        Class::StorageController => net.storage_controllers.get(i)?.name.as_str(),
        Class::LineCode | Class::XfmrCode | Class::Other(_) => return None,
    })
}

fn model_len(net: &Network, class: Class) -> usize {
    match class {
        Class::Vsource => net.sources.len(),
        Class::Line => net.lines.len(),
        Class::LineGeometry => net.line_geometries.len(),
        Class::LineSpacing => net.line_spacings.len(),
        Class::WireData | Class::CnData | Class::TsData => net.wires.len(),
        Class::Transformer => net.transformers.len(),
        Class::Reactor => net.reactors.len(),
        Class::Capacitor => net.capacitors.len(),
        Class::CapControl => net.cap_controls.len(),
        Class::RegControl => net.reg_controls.len(),
        Class::Load => net.loads.len(),
        Class::Generator => net.generators.len(),
        Class::PvSystem => net.pv_systems.len(),
        Class::Storage => net.storages.len(),
        Class::Fuse | Class::Recloser | Class::Relay | Class::SwtControl => {
            net.protective_devices.len()
        }
        Class::EnergyMeter | Class::Monitor => net.meters.len(),
        Class::LoadShape => net.load_shapes.len(),
        Class::XyCurve => net.xy_curves.len(),
        Class::TShape => net.t_shapes.len(),
        Class::StorageController => net.storage_controllers.len(),
        Class::LineCode | Class::XfmrCode | Class::Other(_) => 0,
    }
}

/// The model kind of a class, for `ElementId`s.
pub(crate) fn element_kind(class: Class) -> Option<ElementKind> {
    Some(match class {
        Class::Vsource => ElementKind::Vsource,
        Class::Line => ElementKind::Line,
        Class::Transformer => ElementKind::Transformer,
        Class::Capacitor => ElementKind::Capacitor,
        Class::Reactor => ElementKind::Reactor,
        Class::Load => ElementKind::Load,
        Class::Generator => ElementKind::Generator,
        Class::PvSystem => ElementKind::PvSystem,
        Class::Storage => ElementKind::Storage,
        Class::RegControl => ElementKind::RegControl,
        Class::CapControl => ElementKind::CapControl,
        Class::Fuse => ElementKind::Fuse,
        Class::Recloser => ElementKind::Recloser,
        Class::Relay => ElementKind::Relay,
        Class::SwtControl => ElementKind::SwtControl,
        Class::EnergyMeter => ElementKind::EnergyMeter,
        Class::Monitor => ElementKind::Monitor,
        _ => return None,
    })
}

/// Parse `Class.name` into an element reference of the model.
pub(crate) fn element_ref(text: &str) -> Result<ElementId, String> {
    let t = text.trim();
    let (c, n) = t
        .split_once('.')
        .ok_or_else(|| format!("'{t}' is not of the form Class.name"))?;
    let class = Class::from_name(c).ok_or_else(|| format!("unknown class '{c}' in '{t}'"))?;
    let kind = element_kind(class).ok_or_else(|| format!("'{t}' is not a circuit element"))?;
    if n.trim().is_empty() {
        return Err(format!("'{t}' has no element name"));
    }
    Ok(ElementId {
        kind,
        name: n.trim().to_ascii_lowercase(),
    })
}

impl Store {
    /// Position of a modelled object in its table, verified against the model (the host may
    /// have edited the tables).
    pub fn model_index(&mut self, net: &Network, class: Class, name: &str) -> Option<usize> {
        let found = self.index.get(&class).and_then(|m| m.get(name)).copied();
        if let Some(i) = found {
            if model_name(net, class, i) == Some(name) {
                return Some(i);
            }
        } else if self.counts.get(&class).copied().unwrap_or(0) == model_len(net, class) {
            return None;
        }
        self.rebuild(net, class);
        self.index.get(&class).and_then(|m| m.get(name)).copied()
    }

    fn rebuild(&mut self, net: &Network, class: Class) {
        let map = self.index.entry(class).or_default();
        map.clear();
        for i in 0..model_len(net, class) {
            if let Some(n) = model_name(net, class, i) {
                map.insert(n.to_string(), i);
            }
        }
        // Tables shared by several classes count every row so the check above stays exact.
        let total = model_len(net, class);
        self.counts.insert(class, total);
        for c in shared_with(class) {
            self.counts.insert(*c, total);
        }
    }

    fn note_created(&mut self, net: &Network, class: Class, name: &str, i: usize) {
        self.index
            .entry(class)
            .or_default()
            .insert(name.to_string(), i);
        let total = model_len(net, class);
        self.counts.insert(class, total);
        for c in shared_with(class) {
            self.counts.insert(*c, total);
        }
    }

    pub fn with_frequency(f: f64) -> Store {
        Store {
            base_frequency: f,
            ..Store::default()
        }
    }

    /// Drop everything (OpenDSS `Clear`).
    pub fn clear(&mut self) {
        let f = self.base_frequency;
        *self = Store::default();
        self.base_frequency = f;
    }
}

fn shared_with(class: Class) -> &'static [Class] {
    match class {
        Class::WireData | Class::CnData | Class::TsData => {
            &[Class::WireData, Class::CnData, Class::TsData]
        }
        Class::Fuse | Class::Recloser | Class::Relay | Class::SwtControl => &[
            Class::Fuse,
            Class::Recloser,
            Class::Relay,
            Class::SwtControl,
        ],
        Class::EnergyMeter | Class::Monitor => &[Class::EnergyMeter, Class::Monitor],
        _ => &[],
    }
}

/// Whether an object exists.
pub(crate) fn exists(ctx: &mut Ctx, class: Class, name: &str) -> bool {
    match class {
        Class::LineCode => ctx.store.linecodes.contains_key(name),
        Class::XfmrCode => ctx.store.xfmrcodes.contains_key(name),
        Class::Other(_) => ctx
            .store
            .others
            .get(&class)
            .map(|v| v.iter().any(|n| n == name))
            .unwrap_or(false),
        _ => ctx.store.model_index(ctx.net, class, name).is_some(),
    }
}

/// Names of every object of a class, in creation order.
pub(crate) fn names(ctx: &Ctx, class: Class) -> Vec<String> {
    match class {
        Class::LineCode => ctx.store.linecode_order.clone(),
        Class::XfmrCode => ctx.store.xfmrcode_order.clone(),
        Class::Other(_) => ctx.store.others.get(&class).cloned().unwrap_or_default(),
        _ => (0..model_len(ctx.net, class))
            .filter_map(|i| model_name(ctx.net, class, i).map(str::to_string))
            .collect(),
    }
}

/// Create an object with OpenDSS's defaults, replacing any object of the same name in place.
/// Returns whether one was replaced.
pub(crate) fn create(ctx: &mut Ctx, class: Class, name: &str) -> Res<bool> {
    let existing = locate(ctx, class, name);
    let existed = match class {
        Class::LineCode | Class::XfmrCode | Class::Other(_) => exists(ctx, class, name),
        _ => existing.is_some(),
    };
    let i = match class {
        Class::Vsource => source::create(ctx, name, existing),
        Class::Line => line::create(ctx, name, existing),
        Class::LineCode => {
            line::create_code(ctx, name);
            return Ok(existed);
        }
        Class::LineGeometry => geometry::create_geometry(ctx, name, existing),
        Class::LineSpacing => geometry::create_spacing(ctx, name, existing),
        Class::WireData | Class::CnData | Class::TsData => {
            geometry::create_wire(ctx, class, name, existing)
        }
        Class::Transformer => transformer::create(ctx, name, existing),
        Class::XfmrCode => {
            if !ctx.store.xfmrcodes.contains_key(name) {
                ctx.store.xfmrcode_order.push(name.to_string());
            }
            ctx.store.xfmrcodes.insert(name.to_string(), Vec::new());
            return Ok(existed);
        }
        Class::Reactor => shunt::create_reactor(ctx, name, existing),
        Class::Capacitor => shunt::create_capacitor(ctx, name, existing),
        Class::CapControl => control::create_capcontrol(ctx, name, existing),
        Class::RegControl => control::create_regcontrol(ctx, name, existing),
        Class::Load => pc::create_load(ctx, name, existing),
        Class::Generator => pc::create_generator(ctx, name, existing),
        Class::PvSystem => pc::create_pv(ctx, name, existing),
        Class::Storage => pc::create_storage(ctx, name, existing),
        Class::Fuse | Class::Recloser | Class::Relay | Class::SwtControl => {
            control::create_device(ctx, class, name, existing)
        }
        Class::EnergyMeter | Class::Monitor => control::create_meter(ctx, class, name, existing),
        Class::LoadShape => shape::create_shape(ctx, name, existing),
        Class::XyCurve => shape::create_curve(ctx, name, existing),
        Class::TShape => shape::create_tshape(ctx, name, existing),
        Class::StorageController => control::create_storage_controller(ctx, name, existing),
        Class::Other(_) => {
            let v = ctx.store.others.entry(class).or_default();
            if !v.iter().any(|n| n == name) {
                v.push(name.to_string());
            }
            return Ok(existed);
        }
    };
    if existing.is_none() {
        let net: &Network = ctx.net;
        ctx.store.note_created(net, class, name, i);
    }
    Ok(existed)
}

fn missing(class: Class, name: &str) -> Diagnostic {
    Diagnostic::new(format!("{}.{} does not exist", class.dss_name(), name))
}

/// The row of an object in its model table, found once per edit and handed to [`set`]
/// (`None` if it does not exist or its class lives in side state only).
pub(crate) fn locate(ctx: &mut Ctx, class: Class, name: &str) -> Option<usize> {
    if matches!(class, Class::LineCode | Class::XfmrCode | Class::Other(_)) {
        return None;
    }
    ctx.store.model_index(ctx.net, class, name)
}

/// Set one property (canonical lower-case name from [`Class::properties`]) of the object
/// `name` at model row `at` (from [`locate`]).
pub(crate) fn set(
    ctx: &mut Ctx,
    class: Class,
    name: &str,
    at: Option<usize>,
    prop: &str,
    p: &Param,
) -> Res<()> {
    if let Class::LineCode = class {
        return line::set_code(ctx, name, prop, p);
    }
    if let Class::XfmrCode = class {
        let v = ctx
            .store
            .xfmrcodes
            .get_mut(name)
            .ok_or_else(|| missing(class, name))?;
        v.push((prop.to_string(), OwnedParam::new(p)));
        return Ok(());
    }
    if let Class::Other(_) = class {
        return Ok(());
    }
    let i = at.ok_or_else(|| missing(class, name))?;
    match class {
        Class::Vsource => source::set(ctx, i, name, prop, p),
        Class::Line => line::set(ctx, i, name, prop, p),
        Class::LineGeometry => geometry::set_geometry(ctx, i, name, prop, p),
        Class::LineSpacing => geometry::set_spacing(ctx, i, name, prop, p),
        Class::WireData | Class::CnData | Class::TsData => {
            geometry::set_wire(ctx, class, name, prop, p)
        }
        Class::Transformer => transformer::set(ctx, i, name, prop, p),
        Class::Reactor => shunt::set_reactor(ctx, i, name, prop, p),
        Class::Capacitor => shunt::set_capacitor(ctx, i, name, prop, p),
        Class::CapControl => control::set_capcontrol(ctx, i, prop, p),
        Class::RegControl => control::set_regcontrol(ctx, i, name, prop, p),
        Class::Load => pc::set_load(ctx, i, name, prop, p),
        Class::Generator => pc::set_generator(ctx, i, name, prop, p),
        Class::PvSystem => pc::set_pv(ctx, i, prop, p),
        Class::Storage => pc::set_storage(ctx, i, prop, p),
        Class::Fuse | Class::Recloser | Class::Relay | Class::SwtControl => {
            control::set_device(ctx, i, prop, p)
        }
        Class::EnergyMeter | Class::Monitor => control::set_meter(ctx, i, prop, p),
        Class::LoadShape => shape::set_shape(ctx, i, name, prop, p),
        Class::XyCurve => shape::set_curve(ctx, name, prop, p),
        Class::TShape => shape::set_tshape(ctx, i, name, prop, p),
        Class::StorageController => control::set_storage_controller(ctx, i, name, prop, p),
        Class::LineCode | Class::XfmrCode | Class::Other(_) => Ok(()),
    }
}

/// Recompute derived model fields after an edit.
pub(crate) fn finish(ctx: &mut Ctx, class: Class, name: &str) -> Res<()> {
    let at = locate(ctx, class, name);
    finish_at(ctx, class, name, at)
}

/// [`finish`] for the object at model row `at` (from [`locate`]).
pub(crate) fn finish_at(ctx: &mut Ctx, class: Class, name: &str, at: Option<usize>) -> Res<()> {
    if let Class::LineCode = class {
        return line::finish_code(ctx, name);
    }
    let Some(i) = at else {
        return Ok(());
    };
    match class {
        Class::Vsource => source::finish(ctx, i, name),
        Class::Line => line::finish(ctx, i, name),
        Class::LineGeometry => geometry::finish_geometry(ctx, i, name),
        Class::LineSpacing => geometry::finish_spacing(ctx, i, name),
        Class::WireData | Class::CnData | Class::TsData => {
            geometry::finish_wire(ctx, class, i, name)
        }
        Class::Transformer => transformer::finish(ctx, i, name),
        Class::Capacitor => shunt::finish_capacitor(ctx, i),
        Class::Reactor => shunt::finish_reactor(ctx, i, name),
        Class::RegControl => control::finish_regcontrol(ctx, i, name),
        Class::Load => pc::finish_load(ctx, i, name),
        Class::Generator => pc::finish_generator(ctx, i, name),
        Class::Fuse | Class::Recloser | Class::Relay | Class::SwtControl => {
            control::finish_device(ctx, i)
        }
        Class::LoadShape => shape::finish_shape(ctx, i, name),
        Class::XyCurve => shape::finish_curve(ctx, i, name),
        Class::TShape => shape::finish_tshape(ctx, i, name),
        _ => Ok(()),
    }
}

/// `like=other`: copy every property of `other` into `name` (which keeps its name).
pub(crate) fn like(ctx: &mut Ctx, class: Class, name: &str, other: &str) -> Res<()> {
    let other = other.trim().to_ascii_lowercase();
    if !exists(ctx, class, &other) {
        let cands = names(ctx, class);
        return Err(
            Diagnostic::new(format!("{}.{} does not exist", class.dss_name(), other)).with_hint(
                crate::error::did_you_mean(&other, cands.iter().map(String::as_str)),
            ),
        );
    }
    macro_rules! copy_model {
        ($vec:ident, $map:ident) => {{
            let (Some(i), Some(j)) = (
                ctx.store.model_index(ctx.net, class, name),
                ctx.store.model_index(ctx.net, class, &other),
            ) else {
                return Ok(());
            };
            let mut e = ctx.net.$vec[j].clone();
            e.name = name.to_string();
            ctx.net.$vec[i] = e;
            if let Some(s) = ctx.store.$map.get(&other).cloned() {
                ctx.store.$map.insert(name.to_string(), s);
            }
        }};
        ($vec:ident) => {{
            let (Some(i), Some(j)) = (
                ctx.store.model_index(ctx.net, class, name),
                ctx.store.model_index(ctx.net, class, &other),
            ) else {
                return Ok(());
            };
            let mut e = ctx.net.$vec[j].clone();
            e.name = name.to_string();
            ctx.net.$vec[i] = e;
        }};
    }
    match class {
        Class::Vsource => copy_model!(sources, sources),
        Class::Line => copy_model!(lines, lines),
        Class::LineCode => {
            if let Some(c) = ctx.store.linecodes.get(&other).cloned() {
                ctx.store.linecodes.insert(name.to_string(), c);
            }
        }
        Class::LineGeometry => copy_model!(line_geometries, geometries),
        Class::LineSpacing => copy_model!(line_spacings, spacings),
        Class::WireData | Class::CnData | Class::TsData => {
            copy_model!(wires);
            if let Some(s) = ctx.store.wires.get(&(class, other.clone())).cloned() {
                ctx.store.wires.insert((class, name.to_string()), s);
            }
        }
        Class::Transformer => copy_model!(transformers, transformers),
        Class::XfmrCode => {
            if let Some(c) = ctx.store.xfmrcodes.get(&other).cloned() {
                ctx.store.xfmrcodes.insert(name.to_string(), c);
            }
        }
        Class::Reactor => copy_model!(reactors, reactors),
        Class::Capacitor => copy_model!(capacitors, capacitors),
        Class::CapControl => copy_model!(cap_controls),
        Class::RegControl => copy_model!(reg_controls, regcontrols),
        Class::Load => copy_model!(loads, loads),
        Class::Generator => copy_model!(generators, generators),
        Class::PvSystem => copy_model!(pv_systems),
        Class::Storage => copy_model!(storages, storages),
        Class::Fuse | Class::Recloser | Class::Relay | Class::SwtControl => {
            copy_model!(protective_devices)
        }
        Class::EnergyMeter | Class::Monitor => copy_model!(meters),
        Class::LoadShape => copy_model!(load_shapes, shapes),
        Class::XyCurve => copy_model!(xy_curves, curves),
        Class::TShape => copy_model!(t_shapes, tshapes),
        Class::StorageController => copy_model!(storage_controllers, storage_controllers),
        Class::Other(_) => {}
    }
    Ok(())
}

/// Enable or disable an object (`enabled=` or the `Enable`/`Disable` commands).
pub(crate) fn set_enabled(ctx: &mut Ctx, class: Class, name: &str, on: bool) -> bool {
    let Some(i) = ctx.store.model_index(ctx.net, class, name) else {
        return false;
    };
    let n = &mut *ctx.net;
    match class {
        Class::Vsource => n.sources[i].enabled = on,
        Class::Line => n.lines[i].enabled = on,
        Class::Transformer => n.transformers[i].enabled = on,
        Class::Reactor => n.reactors[i].enabled = on,
        Class::Capacitor => n.capacitors[i].enabled = on,
        Class::CapControl => n.cap_controls[i].enabled = on,
        Class::RegControl => n.reg_controls[i].enabled = on,
        Class::Load => n.loads[i].enabled = on,
        Class::Generator => n.generators[i].enabled = on,
        Class::PvSystem => n.pv_systems[i].enabled = on,
        Class::Storage => n.storages[i].enabled = on,
        Class::StorageController => n.storage_controllers[i].enabled = on,
        Class::Fuse | Class::Recloser | Class::Relay | Class::SwtControl => {
            n.protective_devices[i].enabled = on
        }
        Class::EnergyMeter | Class::Monitor => n.meters[i].enabled = on,
        _ => return false,
    }
    true
}

/// A default bus name for an unset terminal, as OpenDSS makes them (`name_1`, `name_2`).
pub(crate) fn default_bus(name: &str, terminal: usize) -> vgrid_model::BusRef {
    let mut bus = String::with_capacity(name.len() + 4);
    bus.push_str(name);
    bus.push('_');
    match char::from_digit(terminal as u32, 10) {
        Some(d) if terminal < 10 => bus.push(d),
        _ => bus.push_str(&terminal.to_string()),
    }
    vgrid_model::BusRef {
        bus,
        nodes: Vec::new(),
    }
}

/// The common tail of circuit elements: ratings, reliability, base frequency, enabled.
/// Returns `Ok(true)` when handled.
pub(crate) fn common(prop: &str) -> bool {
    matches!(
        prop,
        "faultrate"
            | "pctperm"
            | "repair"
            | "spectrum"
            | "seasons"
            | "ratings"
            | "linetype"
            | "eventlog"
            | "debugtrace"
            | "usermodel"
            | "userdata"
            | "class"
            | "numcust"
            | "relweight"
            | "dynamiceq"
            | "dynout"
    )
}

/// Push a new element or replace the existing one at `existing`; returns its index.
pub(crate) fn put<T>(vec: &mut Vec<T>, existing: Option<usize>, e: T) -> usize {
    match existing {
        Some(i) if i < vec.len() => {
            vec[i] = e;
            i
        }
        _ => {
            vec.push(e);
            vec.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bus_names() {
        assert_eq!(default_bus("l1", 2).bus, "l1_2");
        assert_eq!(default_bus("t", 12).bus, "t_12");
        assert!(default_bus("t", 1).nodes.is_empty());
    }
}
