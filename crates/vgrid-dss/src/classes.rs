//! The OpenDSS classes the reader knows, with their property names in OpenDSS's order.
//!
//! Property order matters twice in OpenDSS, and so here:
//! - a value without `name=` goes to the property after the previous one
//!   (`New EnergyMeter.Feeder Line.L115 1` sets `element`, then `terminal`);
//! - an abbreviated name selects the *first* property starting with it, in this order
//!   (`Load.x kv=...` is `kV`, `conn=` is `conn`, `%r` on a transformer is `%R`).
//!
//! ```text
//! Transformer: phases windings wdg bus conn kv kva tap %r rneut xneut buses conns kvs kvas ...
//! "k"  -> kv (first match)      "kvas" -> kvas (exact)      "pctr" -> %r (pct = %)
//! ```

use crate::error::did_you_mean;
use crate::hash::FxHashMap;

/// A class of OpenDSS object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Class {
    Vsource,
    Line,
    LineCode,
    LineGeometry,
    LineSpacing,
    WireData,
    CnData,
    TsData,
    Transformer,
    XfmrCode,
    Reactor,
    Capacitor,
    CapControl,
    RegControl,
    Load,
    Generator,
    PvSystem,
    Storage,
    Fuse,
    Recloser,
    Relay,
    SwtControl,
    EnergyMeter,
    Monitor,
    LoadShape,
    XyCurve,
    TShape,
    StorageController,
    /// Accepted and remembered by name only.
    Other(OtherClass),
}

/// Classes accepted without being modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum OtherClass {
    Spectrum,
    GrowthShape,
    TccCurve,
    PriceShape,
    InvControl,
    ExpControl,
    GenDispatcher,
    Fault,
    Isource,
    WindGen,
    IndMach012,
    Upfc,
    UpfcControl,
    Vccs,
    Sensor,
    GicLine,
    GicTransformer,
    GicSource,
    EsPvlControl,
    VsConverter,
    AutoTrans,
    DynamicExp,
}

const OTHER: &[(&str, OtherClass, bool)] = &[
    ("spectrum", OtherClass::Spectrum, false),
    ("growthshape", OtherClass::GrowthShape, false),
    ("tcc_curve", OtherClass::TccCurve, false),
    ("priceshape", OtherClass::PriceShape, false),
    ("invcontrol", OtherClass::InvControl, true),
    ("expcontrol", OtherClass::ExpControl, true),
    ("gendispatcher", OtherClass::GenDispatcher, true),
    ("fault", OtherClass::Fault, true),
    ("isource", OtherClass::Isource, true),
    ("windgen", OtherClass::WindGen, true),
    ("indmach012", OtherClass::IndMach012, true),
    ("upfc", OtherClass::Upfc, true),
    ("upfccontrol", OtherClass::UpfcControl, true),
    ("vccs", OtherClass::Vccs, true),
    ("sensor", OtherClass::Sensor, false),
    ("gicline", OtherClass::GicLine, true),
    ("gictransformer", OtherClass::GicTransformer, true),
    ("gicsource", OtherClass::GicSource, true),
    ("espvlcontrol", OtherClass::EsPvlControl, true),
    ("vsconverter", OtherClass::VsConverter, true),
    ("autotrans", OtherClass::AutoTrans, true),
    ("dynamicexp", OtherClass::DynamicExp, false),
];

const KNOWN: &[(&str, Class)] = &[
    ("vsource", Class::Vsource),
    ("line", Class::Line),
    ("linecode", Class::LineCode),
    ("linegeometry", Class::LineGeometry),
    ("linespacing", Class::LineSpacing),
    ("wiredata", Class::WireData),
    ("cndata", Class::CnData),
    ("tsdata", Class::TsData),
    ("transformer", Class::Transformer),
    ("xfmrcode", Class::XfmrCode),
    ("reactor", Class::Reactor),
    ("capacitor", Class::Capacitor),
    ("capcontrol", Class::CapControl),
    ("regcontrol", Class::RegControl),
    ("load", Class::Load),
    ("generator", Class::Generator),
    ("pvsystem", Class::PvSystem),
    ("storage", Class::Storage),
    ("tshape", Class::TShape),
    ("storagecontroller", Class::StorageController),
    ("fuse", Class::Fuse),
    ("recloser", Class::Recloser),
    ("relay", Class::Relay),
    ("swtcontrol", Class::SwtControl),
    ("energymeter", Class::EnergyMeter),
    ("monitor", Class::Monitor),
    ("loadshape", Class::LoadShape),
    ("xycurve", Class::XyCurve),
];

const WIRE_COMMON: &[&str] = &[
    "rdc",
    "rac",
    "runits",
    "gmrac",
    "gmrunits",
    "radius",
    "radunits",
    "normamps",
    "emergamps",
    "diam",
    "seasons",
    "ratings",
    "capradius",
];

const PD_TAIL: &[&str] = &[
    "normamps",
    "emergamps",
    "faultrate",
    "pctperm",
    "repair",
    "basefreq",
    "enabled",
    "like",
];

macro_rules! props {
    ($($p:literal)*) => { &[$($p),*] };
}

static VSOURCE: &[&str] = props!("bus1" "basekv" "pu" "angle" "frequency" "phases" "mvasc3" "mvasc1" "x1r1" "x0r0"
    "isc3" "isc1" "r1" "x1" "r0" "x0" "scantype" "sequence" "bus2" "z1" "z0" "z2" "puz1" "puz0" "puz2" "basemva"
    "yearly" "daily" "duty" "model" "puzideal" "spectrum" "basefreq" "enabled" "like");
static LINE: &[&str] = props!("bus1" "bus2" "linecode" "length" "phases" "r1" "x1" "r0" "x0" "c1" "c0" "rmatrix"
    "xmatrix" "cmatrix" "switch" "rg" "xg" "rho" "geometry" "units" "spacing" "wires" "earthmodel" "cncables"
    "tscables" "b1" "b0" "seasons" "ratings" "linetype");
static LINECODE: &[&str] = props!("nphases" "r1" "x1" "r0" "x0" "c1" "c0" "units" "rmatrix" "xmatrix" "cmatrix"
    "basefreq" "normamps" "emergamps" "faultrate" "pctperm" "repair" "kron" "rg" "xg" "rho" "neutral" "b1" "b0"
    "seasons" "ratings" "linetype" "like");
static GEOMETRY: &[&str] = props!("nconds" "nphases" "cond" "wire" "x" "h" "units" "normamps" "emergamps" "reduce"
    "spacing" "wires" "cncable" "tscable" "cncables" "tscables" "seasons" "ratings" "linetype" "like");
static SPACING: &[&str] = props!("nconds" "nphases" "x" "h" "units" "like");
static CN: &[&str] =
    props!("k" "diastrand" "gmrstrand" "rstrand" "epsr" "inslayer" "diains" "diacable");
static TS: &[&str] =
    props!("diashield" "tapelayer" "tapelap" "epsr" "inslayer" "diains" "diacable");
static TRANSFORMER: &[&str] = props!("phases" "windings" "wdg" "bus" "conn" "kv" "kva" "tap" "%r" "rneut" "xneut"
    "buses" "conns" "kvs" "kvas" "taps" "xhl" "xht" "xlt" "xscarray" "thermal" "n" "m" "flrise" "hsrise"
    "%loadloss" "%noloadloss" "normhkva" "emerghkva" "sub" "maxtap" "mintap" "numtaps" "subname" "%imag"
    "ppm_antifloat" "%rs" "bank" "xfmrcode" "xrconst" "x12" "x13" "x23" "leadlag" "wdgcurrents" "core" "rdcohms"
    "seasons" "ratings");
static XFMRCODE: &[&str] = props!("phases" "windings" "wdg" "conn" "kv" "kva" "tap" "%r" "rneut" "xneut" "conns"
    "kvs" "kvas" "taps" "xhl" "xht" "xlt" "xscarray" "thermal" "n" "m" "flrise" "hsrise" "%loadloss" "%noloadloss"
    "normhkva" "emerghkva" "maxtap" "mintap" "numtaps" "%imag" "ppm_antifloat" "%rs" "x12" "x13" "x23" "rdcohms"
    "seasons" "ratings" "like");
static REACTOR: &[&str] = props!("bus1" "bus2" "phases" "kvar" "kv" "conn" "rmatrix" "xmatrix" "parallel" "r" "x"
    "rp" "z1" "z2" "z0" "z" "rcurve" "lcurve" "lmh");
static CAPACITOR: &[&str] = props!("bus1" "bus2" "phases" "kvar" "kv" "conn" "cmatrix" "cuf" "r" "xl" "harm"
    "numsteps" "states");
static CAPCONTROL: &[&str] = props!("element" "terminal" "capacitor" "type" "ptratio" "ctratio" "onsetting"
    "offsetting" "delay" "voltoverride" "vmax" "vmin" "delayoff" "deadtime" "ctphase" "ptphase" "vbus" "eventlog"
    "usermodel" "userdata" "pctminkvar" "reset" "controlsignal" "basefreq" "enabled" "like");
static REGCONTROL: &[&str] = props!("transformer" "winding" "vreg" "band" "ptratio" "ctprim" "r" "x" "bus" "delay"
    "reversible" "revvreg" "revband" "revr" "revx" "tapdelay" "debugtrace" "maxtapchange" "inversetime"
    "tapwinding" "vlimit" "ptphase" "revthreshold" "revdelay" "revneutral" "eventlog" "remoteptratio" "tapnum"
    "reset" "ldc_z" "rev_z" "cogen" "basefreq" "enabled" "like");
static LOAD: &[&str] = props!("phases" "bus1" "kv" "kw" "pf" "model" "yearly" "daily" "duty" "growth" "conn"
    "kvar" "rneut" "xneut" "status" "class" "vminpu" "vmaxpu" "vminnorm" "vminemerg" "xfkva" "allocationfactor"
    "kva" "%mean" "%stddev" "cvrwatts" "cvrvars" "kwh" "kwhdays" "cfactor" "cvrcurve" "numcust" "zipv"
    "%seriesrl" "relweight" "vlowpu" "puxharm" "xrharm" "spectrum" "basefreq" "enabled" "like");
static GENERATOR: &[&str] = props!("phases" "bus1" "kv" "kw" "pf" "kvar" "model" "vminpu" "vmaxpu" "yearly"
    "daily" "duty" "dispmode" "dispvalue" "conn" "status" "class" "vpu" "maxkvar" "minkvar" "pvfactor" "forceon"
    "kva" "mva" "xd" "xdp" "xdpp" "h" "d" "usermodel" "userdata" "shaftmodel" "shaftdata" "dutystart"
    "debugtrace" "balanced" "xrdp" "usefuel" "fuelkwh" "%fuel" "%reserve" "refuel" "dynamiceq" "dynout"
    "spectrum" "basefreq" "enabled" "like");
static PVSYSTEM: &[&str] = props!("phases" "bus1" "kv" "irradiance" "pmpp" "%pmpp" "temperature" "pf" "conn"
    "kvar" "kva" "%cutin" "%cutout" "effcurve" "p-tcurve" "%r" "%x" "model" "vminpu" "vmaxpu" "balanced"
    "limitcurrent" "yearly" "daily" "duty" "tyearly" "tdaily" "tduty" "class" "usermodel" "userdata"
    "debugtrace" "varfollowinverter" "dutystart" "wattpriority" "pfpriority" "%pminnovars" "%pminkvarmax"
    "kvarmax" "kvarmaxabs" "kvdc" "kp" "pitol" "safevoltage" "safemode" "dynamiceq" "dynout" "controlmode"
    "amplimit" "amplimitgain" "spectrum" "basefreq" "enabled" "like");
static STORAGE: &[&str] = props!("phases" "bus1" "kv" "conn" "kw" "kvar" "pf" "kva" "%cutin" "%cutout"
    "effcurve" "varfollowinverter" "kvarmax" "kvarmaxabs" "wattpriority" "pfpriority" "%pminnovars"
    "%pminkvarmax" "kwrated" "%kwrated" "kwhrated" "kwhstored" "%stored" "%reserve" "state" "%discharge"
    "%charge" "%effcharge" "%effdischarge" "%idlingkw" "%idlingkvar" "%r" "%x" "model" "vminpu" "vmaxpu"
    "balanced" "limitcurrent" "yearly" "daily" "duty" "dispmode" "dischargetrigger" "chargetrigger"
    "timechargetrig" "class" "dynadll" "dynadata" "usermodel" "userdata" "debugtrace" "kvdc" "kp" "pitol"
    "safevoltage" "safemode" "dynamiceq" "dynout" "controlmode" "amplimit" "amplimitgain" "spectrum"
    "basefreq" "enabled" "like");
static FUSE: &[&str] = props!("monitoredobj" "monitoredterm" "switchedobj" "switchedterm" "fusecurve"
    "ratedcurrent" "delay" "action" "normal" "state" "basefreq" "enabled" "like");
static RECLOSER: &[&str] = props!("monitoredobj" "monitoredterm" "switchedobj" "switchedterm" "numfast"
    "phasefast" "phasedelayed" "groundfast" "grounddelayed" "phasetrip" "groundtrip" "phaseinst" "groundinst"
    "reset" "shots" "recloseintervals" "delay" "action" "tdphfast" "tdgrfast" "tdphdelayed" "tdgrdelayed"
    "normal" "state" "basefreq" "enabled" "like");
static RELAY: &[&str] = props!("monitoredobj" "monitoredterm" "switchedobj" "switchedterm" "type" "phasecurve"
    "groundcurve" "phasetrip" "groundtrip" "tdphase" "tdground" "phaseinst" "groundinst" "reset" "shots"
    "recloseintervals" "delay" "overvoltcurve" "undervoltcurve" "kvbase" "47%pickup" "46baseamps" "46%pickup"
    "46isqt" "variable" "overtrip" "undertrip" "breakertime" "action" "z1mag" "z1ang" "z0mag" "z0ang" "mphase"
    "mground" "eventlog" "debugtrace" "distreverse" "normal" "state" "doc_tiltanglelow" "doc_tiltanglehigh"
    "doc_tripsettinglow" "doc_tripsettinghigh" "doc_tripsettingmag" "doc_delayinner" "doc_phasecurveinner"
    "doc_phasetripinner" "doc_tdphaseinner" "doc_p1blocking" "basefreq" "enabled" "like");
static SWTCONTROL: &[&str] = props!("switchedobj" "switchedterm" "action" "lock" "delay" "normal" "state" "reset"
    "basefreq" "enabled" "like");
static ENERGYMETER: &[&str] = props!("element" "terminal" "action" "option" "kvanormal" "kvaemerg" "peakcurrent"
    "zonelist" "localonly" "mask" "losses" "linelosses" "xfmrlosses" "seqlosses" "3phaselosses" "vbaselosses"
    "phasevoltagereport" "int_rate" "int_duration" "saifi" "saifikw" "saidi" "caidi" "custinterrupts" "basefreq"
    "enabled" "like");
static MONITOR: &[&str] = props!("element" "terminal" "mode" "action" "residual" "vipolar" "ppolar" "basefreq"
    "enabled" "like");
static LOADSHAPE: &[&str] = props!("npts" "interval" "mult" "hour" "mean" "stddev" "csvfile" "sngfile" "dblfile"
    "action" "qmult" "useactual" "pmax" "qmax" "sinterval" "minterval" "pbase" "qbase" "pmult" "pqcsvfile"
    "memorymapping" "interpolation" "like");
static TSHAPE: &[&str] = props!("npts" "interval" "temp" "hour" "mean" "stddev" "csvfile" "sngfile" "dblfile"
    "sinterval" "minterval" "action" "like");
static STORAGECONTROLLER: &[&str] = props!("element" "terminal" "monphase" "kwtarget" "kwtargetlow" "%kwband"
    "kwband" "%kwbandlow" "kwbandlow" "elementlist" "weights" "modedischarge" "modecharge" "timedischargetrigger"
    "timechargetrigger" "%ratekw" "%ratecharge" "%reserve" "kwhtotal" "kwtotal" "kwhactual" "kwactual" "kwneed"
    "yearly" "daily" "duty" "eventlog" "inhibittime" "tup" "tflat" "tdn" "kwthreshold" "dispfactor" "resetlevel"
    "seasons" "seasontargets" "seasontargetslow" "basefreq" "enabled" "like");
static XYCURVE: &[&str] = props!("npts" "points" "yarray" "xarray" "csvfile" "sngfile" "dblfile" "x" "y" "xshift"
    "yshift" "xscale" "yscale" "like");

impl Class {
    /// Look a class up by its (case-insensitive) name.
    pub fn from_name(s: &str) -> Option<Class> {
        let s = crate::value::trim(s);
        KNOWN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, c)| *c)
            .or_else(|| {
                OTHER
                    .iter()
                    .find(|(n, _, _)| n.eq_ignore_ascii_case(s))
                    .map(|(_, o, _)| Class::Other(*o))
            })
    }

    /// A hint naming the closest known class.
    pub fn hint_for(s: &str) -> Option<String> {
        let names = KNOWN
            .iter()
            .map(|(n, _)| *n)
            .chain(OTHER.iter().map(|(n, _, _)| *n))
            .chain(["circuit"]);
        did_you_mean(&s.to_ascii_lowercase(), names)
    }

    /// OpenDSS's spelling, for messages and `Class.name`.
    pub fn dss_name(self) -> &'static str {
        match self {
            Class::Vsource => "Vsource",
            Class::Line => "Line",
            Class::LineCode => "LineCode",
            Class::LineGeometry => "LineGeometry",
            Class::LineSpacing => "LineSpacing",
            Class::WireData => "WireData",
            Class::CnData => "CNData",
            Class::TsData => "TSData",
            Class::Transformer => "Transformer",
            Class::XfmrCode => "XfmrCode",
            Class::Reactor => "Reactor",
            Class::Capacitor => "Capacitor",
            Class::CapControl => "CapControl",
            Class::RegControl => "RegControl",
            Class::Load => "Load",
            Class::Generator => "Generator",
            Class::PvSystem => "PVSystem",
            Class::Storage => "Storage",
            Class::Fuse => "Fuse",
            Class::Recloser => "Recloser",
            Class::Relay => "Relay",
            Class::SwtControl => "SwtControl",
            Class::EnergyMeter => "EnergyMeter",
            Class::Monitor => "Monitor",
            Class::LoadShape => "LoadShape",
            Class::XyCurve => "XYcurve",
            Class::TShape => "TShape",
            Class::StorageController => "StorageController",
            Class::Other(o) => OTHER
                .iter()
                .find(|(_, c, _)| *c == o)
                .map(|(n, _, _)| *n)
                .unwrap_or("?"),
        }
    }

    /// Whether an unmodelled class changes power-flow results (then its use is warned about).
    pub fn affects_solution(self) -> bool {
        match self {
            Class::Other(o) => OTHER.iter().any(|(_, c, a)| *c == o && *a),
            _ => false,
        }
    }

    /// Property names in OpenDSS order (empty for unmodelled classes: anything goes).
    #[cfg(test)]
    pub fn properties(self) -> &'static [&'static str] {
        self.property_table().map_or(&[], |t| t.names.as_slice())
    }

    /// The property names with their lookup (`None` for unmodelled classes).
    pub fn property_table(self) -> Option<&'static PropertyTable> {
        static CACHE: std::sync::OnceLock<Vec<(Class, PropertyTable)>> = std::sync::OnceLock::new();
        let cache = CACHE.get_or_init(|| {
            KNOWN
                .iter()
                .map(|(_, c)| (*c, PropertyTable::new(c.build_properties())))
                .collect()
        });
        // the table holds no `Other` class, so comparing variants is enough
        let me = std::mem::discriminant(&self);
        cache
            .iter()
            .find(|(c, _)| std::mem::discriminant(c) == me)
            .map(|(_, t)| t)
    }

    fn build_properties(self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        match self {
            Class::Vsource => v.extend(VSOURCE),
            Class::Line => {
                v.extend(LINE);
                v.extend(PD_TAIL);
            }
            Class::LineCode => v.extend(LINECODE),
            Class::LineGeometry => v.extend(GEOMETRY),
            Class::LineSpacing => v.extend(SPACING),
            Class::WireData => {
                v.extend(WIRE_COMMON);
                v.push("like");
            }
            Class::CnData => {
                v.extend(CN);
                v.extend(WIRE_COMMON);
                v.push("like");
            }
            Class::TsData => {
                v.extend(TS);
                v.extend(WIRE_COMMON);
                v.push("like");
            }
            Class::Transformer => {
                v.extend(TRANSFORMER);
                v.extend(PD_TAIL);
            }
            Class::XfmrCode => v.extend(XFMRCODE),
            Class::Reactor => {
                v.extend(REACTOR);
                v.extend(PD_TAIL);
            }
            Class::Capacitor => {
                v.extend(CAPACITOR);
                v.extend(PD_TAIL);
            }
            Class::CapControl => v.extend(CAPCONTROL),
            Class::RegControl => v.extend(REGCONTROL),
            Class::Load => v.extend(LOAD),
            Class::Generator => v.extend(GENERATOR),
            Class::PvSystem => v.extend(PVSYSTEM),
            Class::Storage => v.extend(STORAGE),
            Class::Fuse => v.extend(FUSE),
            Class::Recloser => v.extend(RECLOSER),
            Class::Relay => v.extend(RELAY),
            Class::SwtControl => v.extend(SWTCONTROL),
            Class::EnergyMeter => v.extend(ENERGYMETER),
            Class::Monitor => v.extend(MONITOR),
            Class::LoadShape => v.extend(LOADSHAPE),
            Class::XyCurve => v.extend(XYCURVE),
            Class::TShape => v.extend(TSHAPE),
            Class::StorageController => v.extend(STORAGECONTROLLER),
            Class::Other(_) => {}
        }
        v
    }
}

/// A class's property names, and the position of each short name packed into a word (most
/// names are short: `bus1`, `kv`, `linecode`), so an exact name is one hash lookup.
#[derive(Debug)]
pub(crate) struct PropertyTable {
    names: Vec<&'static str>,
    short: FxHashMap<(u64, usize), usize>,
}

/// Up to 8 bytes, lower-cased, packed into a word with their count (`None` if longer).
fn pack(name: &[u8]) -> Option<(u64, usize)> {
    if name.len() > 8 {
        return None;
    }
    let word = name.iter().enumerate().fold(0u64, |w, (k, b)| {
        w | u64::from(b.to_ascii_lowercase()) << (8 * k)
    });
    Some((word, name.len()))
}

impl PropertyTable {
    fn new(names: Vec<&'static str>) -> PropertyTable {
        let mut short = FxHashMap::default();
        for (i, n) in names.iter().enumerate() {
            if let Some(key) = pack(n.as_bytes()) {
                short.entry(key).or_insert(i); // the first of a repeated name, like a scan
            }
        }
        PropertyTable { names, short }
    }

    /// The names in OpenDSS order.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// The property `name` stands for, as an index into [`PropertyTable::names`], by OpenDSS's
    /// rule ([`resolve_property`]); a short exact name (the usual case) is found by hashing.
    pub fn index(&self, name: &str) -> Option<usize> {
        let exact = pack(crate::value::trim(name).as_bytes()).and_then(|key| self.short.get(&key));
        match exact {
            Some(&i) => Some(i),
            None => resolve_property(&self.names, name),
        }
    }
}

/// Resolve a property name as OpenDSS does: exact match, else the first property starting with
/// the text (letter case ignored). `pct` and `%` are interchangeable. Returns the index into
/// `props` (whose names are lower case).
pub(crate) fn resolve_property(props: &[&str], name: &str) -> Option<usize> {
    let name = crate::value::trim(name);
    if name.is_empty() {
        return None;
    }
    // candidates as (literal head, rest of the name): the name itself, then its pct/% twin
    let alt = if name.len() >= 3 && name.as_bytes()[..3].eq_ignore_ascii_case(b"pct") {
        Some(("%", &name[3..]))
    } else {
        name.strip_prefix('%').map(|rest| ("pct", rest))
    };
    let cands = std::iter::once(("", name)).chain(alt);
    let exact = |p: &str, (head, rest): (&str, &str)| {
        p.len() == head.len() + rest.len()
            && p.starts_with(head)
            && p[head.len()..].eq_ignore_ascii_case(rest)
    };
    let prefix = |p: &str, (head, rest): (&str, &str)| {
        p.len() >= head.len() + rest.len()
            && p.starts_with(head)
            && p.as_bytes()[head.len()..head.len() + rest.len()]
                .eq_ignore_ascii_case(rest.as_bytes())
    };
    for c in cands.clone() {
        if let Some(i) = props.iter().position(|p| exact(p, c)) {
            return Some(i);
        }
    }
    for c in cands {
        if let Some(i) = props.iter().position(|p| prefix(p, c)) {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_prefix() {
        assert_eq!(Class::from_name("LINE"), Some(Class::Line));
        assert_eq!(
            Class::from_name("tcc_curve"),
            Some(Class::Other(OtherClass::TccCurve))
        );
        assert_eq!(
            Class::hint_for("trasformer").as_deref(),
            Some("did you mean 'transformer'?")
        );
        let t = Class::Transformer.properties();
        assert!(Class::Other(OtherClass::Fault).properties().is_empty());
        assert_eq!(t[resolve_property(t, "k").unwrap()], "kv");
        assert_eq!(t[resolve_property(t, "kvas").unwrap()], "kvas");
        assert_eq!(t[resolve_property(t, "pctR").unwrap()], "%r");
        assert_eq!(t[resolve_property(t, "%LoadLoss").unwrap()], "%loadloss");
        assert_eq!(t[resolve_property(t, "ppm").unwrap()], "ppm_antifloat");
        let l = Class::Line.properties();
        assert_eq!(l[resolve_property(l, "len").unwrap()], "length");
        assert_eq!(resolve_property(l, "lenght"), None);
        let ld = Class::Load.properties();
        assert_eq!(ld[resolve_property(ld, "pctmean").unwrap()], "%mean");
        assert_eq!(ld[resolve_property(ld, "PCTMean").unwrap()], "%mean");
        assert_eq!(ld[resolve_property(ld, " kW ").unwrap()], "kw");
        assert_eq!(ld[resolve_property(ld, "%").unwrap()], "%mean");
        assert_eq!(ld[resolve_property(ld, "pct").unwrap()], "%mean");
        assert_eq!(resolve_property(ld, "kwé"), None);
        assert_eq!(resolve_property(ld, ""), None);
        let r = Class::Relay.properties();
        assert_eq!(r[resolve_property(r, "47%").unwrap()], "47%pickup");
    }

    /// The straightforward form of the rule (lower-case copies), as the reference.
    fn resolve_reference(props: &[&str], name: &str) -> Option<usize> {
        let l = name.trim().to_ascii_lowercase();
        if l.is_empty() {
            return None;
        }
        let alt = if let Some(rest) = l.strip_prefix("pct") {
            Some(format!("%{rest}"))
        } else {
            l.strip_prefix('%').map(|rest| format!("pct{rest}"))
        };
        let cands: Vec<&str> = std::iter::once(l.as_str()).chain(alt.as_deref()).collect();
        cands
            .iter()
            .find_map(|c| props.iter().position(|p| p == c))
            .or_else(|| {
                cands
                    .iter()
                    .find_map(|c| props.iter().position(|p| p.starts_with(c)))
            })
    }

    #[test]
    fn resolution_matches_reference_on_every_prefix() {
        for (_, c) in KNOWN {
            let props = c.properties();
            for p in props {
                for k in 1..=p.len() {
                    let head = &p[..k];
                    let twin = head
                        .strip_prefix('%')
                        .map(|r| format!("PcT{r}"))
                        .unwrap_or_else(|| head.replacen("pct", "%", 1));
                    for n in [
                        head.to_string(),
                        head.to_ascii_uppercase(),
                        twin,
                        format!(" {head}x"),
                    ] {
                        let want = resolve_reference(props, &n);
                        assert_eq!(resolve_property(props, &n), want, "{c:?} {n}");
                        let table = c.property_table().map(|t| t.index(&n));
                        assert_eq!(table, Some(want), "{c:?} {n}");
                    }
                }
            }
        }
    }

    #[test]
    fn property_tables_are_lower_case() {
        for (_, c) in KNOWN {
            for p in c.properties() {
                assert_eq!(*p, p.to_ascii_lowercase(), "{c:?}");
            }
        }
    }
}
