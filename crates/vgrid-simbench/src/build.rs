//! From SimBench tables to a [`vgrid_model::Network`]: nodes fused through closed switches,
//! then one model element per SimBench row (see the crate docs for the mapping table).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use vgrid_model::{
    BusCoord, BusRef, Connection, Generator, Line, LineImpedance, Load, LoadModel, LoadShape,
    LoadStatus, Network, Settings, SourceImpedance, Transformer, Vsource, Winding,
};

use crate::error::{Error, ErrorKind};
use crate::profile::{ProfileTable, PROFILE_INTERVAL_H};
use crate::table::{Col, Row, Table};
use crate::transformer::shift_connection;
use crate::{Grid, NodeInfo, ReadOptions, StudyCase, TapPositions};

/// System frequency of every SimBench grid, Hz.
pub const FREQUENCY_HZ: f64 = 50.0;

/// Impedance of the stiff source that stands for an `ExternalNet`, per unit on the source's
/// rated voltage and on the grid's rated power `S_grid` (the apparent power of every load and RES
/// at its rated value, at least 1 kVA).
///
/// pandapower's `ext_grid` is an ideal voltage source; vgrid's `Vsource` is a voltage behind an
/// impedance `z`. Two errors pull in opposite directions:
/// * a grid drawing `S` moves the source bus by about `z·S/S_grid` pu: 1e-9 pu at rated power;
/// * the source current is `(E − V)/z`, and `V` is known to one unit in the last place (`ε`), so
///   the reported source power carries a round-off of about `ε/z·S_grid` (2e-7 of `S_grid`).
///
/// At 1e-9 both stay far below the 1e-6 pu the comparison with pandapower asks for.
pub const SLACK_Z_PU: f64 = 1e-9;

/// Smallest `S_grid` used to scale the slack impedance, MVA.
const MIN_GRID_MVA: f64 = 1e-3;

/// Suffix of the internal bus of a transformer's T-model.
pub const MID_BUS_SUFFIX: &str = "#mid";
/// Suffix of the second (LV-side) half of a transformer's T-model.
pub const LV_HALF_SUFFIX: &str = "#lv";

/// Name of the load shape of a load profile.
pub fn load_shape_name(profile: &str) -> String {
    format!("load:{}", profile.to_lowercase())
}

/// Name of the load shape of a RES profile.
pub fn res_shape_name(profile: &str) -> String {
    format!("res:{}", profile.to_lowercase())
}

/// Tables of SimBench's format this reader does not model; a grid with rows in one of them is
/// refused rather than solved without them.
const UNSUPPORTED_TABLES: &[&str] = &[
    "Transformer3W.csv",
    "PowerPlant.csv",
    "Storage.csv",
    "Shunt.csv",
    "DCLine.csv",
    "Ward.csv",
    "ExtWard.csv",
];

pub(crate) fn read_grid(dir: &Path, options: &ReadOptions) -> Result<Grid, Error> {
    if !dir.is_dir() {
        return Err(Error::new(ErrorKind::MissingFile).in_file(dir));
    }
    for name in UNSUPPORTED_TABLES {
        if let Some(t) = Table::read_optional(dir, name)? {
            if t.len() > 0 {
                return Err(Error::new(ErrorKind::Unsupported(format!(
                    "{name} has {} rows; this element kind is not modelled",
                    t.len()
                )))
                .in_file(dir.join(name))
                .at_line(t.row(0).line()));
            }
        }
    }

    let mut net = Network {
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default(),
        base_frequency_hz: FREQUENCY_HZ,
        settings: Settings {
            default_base_frequency_hz: FREQUENCY_HZ,
            max_iterations: 100,
            tolerance_pu: 1e-9,
            ..Settings::default()
        },
        ..Network::default()
    };

    let node_table = Table::read(dir, "Node.csv")?;
    let nodes = Nodes::new(&node_table, dir)?;
    let buses = nodes.buses()?;

    let coords = Table::read_optional(dir, "Coordinates.csv")?;
    if let Some(coords) = &coords {
        net.bus_coords = bus_coords(&node_table, &nodes, &buses, coords)?;
    }

    external_nets(dir, &nodes, &buses, &mut net)?;
    lines(dir, &nodes, &buses, &mut net)?;
    let mid_buses = transformers(dir, &nodes, &buses, options, &mut net)?;
    let load_profiles = loads(dir, &nodes, &buses, &mut net)?;
    let (res_profiles, generator_types) = res(dir, &nodes, &buses, &mut net)?;
    let study_cases = study_cases(dir)?;
    load_shapes(dir, &load_profiles, &res_profiles, &mut net)?;
    set_slack_impedance(&mut net);

    // Voltage bases: every bus gets its node's rated voltage.
    let mut kv_set = BTreeSet::new();
    for (b, kv) in buses.names.iter().zip(&buses.kv) {
        net.bus_kv_bases.push((b.clone(), *kv));
        kv_set.insert(kv.to_bits());
    }
    for (b, kv) in mid_buses {
        net.bus_kv_bases.push((b, kv));
    }
    net.voltage_bases_kv = kv_set.into_iter().map(f64::from_bits).collect();

    let steps = net
        .load_shapes
        .iter()
        .map(|s| s.p_mult.len())
        .min()
        .unwrap_or(0);
    let node_infos = (0..node_table.len())
        .map(|i| NodeInfo {
            id: nodes.ids[i].clone(),
            bus: buses.names[nodes.bus_of[i]].clone(),
            vn_kv: nodes.vn_kv[i],
        })
        .collect();
    Ok(Grid {
        network: net,
        nodes: node_infos,
        steps,
        generator_types,
        study_cases,
    })
}

/// The `Node` table, with the fusing of closed switches.
struct Nodes {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    vn_kv: Vec<f64>,
    /// Bus (index into `Buses`) of each node.
    bus_of: Vec<usize>,
    /// Per node: set-point of magnitude and angle (`vmSetp`, `vaSetp`), with the line.
    setpoints: Vec<(Option<f64>, Option<f64>, usize)>,
    auxiliary: Vec<bool>,
}

/// Electrical buses: groups of nodes joined by closed switches.
struct Buses {
    names: Vec<String>,
    kv: Vec<f64>,
}

impl Nodes {
    fn new(table: &Table, dir: &Path) -> Result<Nodes, Error> {
        let (id, vm_r, kind) = (table.col("id")?, table.col("vmR")?, table.col("type")?);
        let (vm_setp, va_setp) = (table.opt_col("vmSetp"), table.opt_col("vaSetp"));
        let index = table.index_by(id)?;
        let mut ids = Vec::with_capacity(table.len());
        let mut vn_kv = Vec::with_capacity(table.len());
        let mut setpoints = Vec::with_capacity(table.len());
        let mut auxiliary = Vec::with_capacity(table.len());
        for row in table.rows() {
            ids.push(row.required(id)?.to_string());
            let kv = row.number(vm_r)?;
            if kv <= 0.0 {
                return Err(row.invalid(vm_r, "the rated voltage must be positive"));
            }
            vn_kv.push(kv);
            let vm = vm_setp.map(|c| row.opt_number(c)).transpose()?.flatten();
            let va = va_setp.map(|c| row.opt_number(c)).transpose()?.flatten();
            setpoints.push((vm, va, row.line()));
            auxiliary.push(row.text(kind).eq_ignore_ascii_case("auxiliary"));
        }
        let index: HashMap<String, usize> =
            index.into_iter().map(|(k, v)| (k.to_string(), v)).collect();

        // Fuse nodes joined by closed switches (union-find).
        let mut parent: Vec<usize> = (0..ids.len()).collect();
        let switches = Table::read(dir, "Switch.csv")?;
        let (a, b, cond) = (
            switches.col("nodeA")?,
            switches.col("nodeB")?,
            switches.col("cond")?,
        );
        for row in switches.rows() {
            let na = row.reference(a, &as_str_index(&index), "Node.csv")?;
            let nb = row.reference(b, &as_str_index(&index), "Node.csv")?;
            let closed = match row.required(cond)? {
                "1" => true,
                "0" => false,
                _ => return Err(row.invalid(cond, "expected 1 (closed) or 0 (open)")),
            };
            if closed {
                let (ra, rb) = (find(&mut parent, na), find(&mut parent, nb));
                if ra != rb {
                    // keep the smaller index as root: the bus is named after its first node
                    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
                    parent[hi] = lo;
                }
            }
        }
        let roots: Vec<usize> = (0..ids.len()).map(|i| find(&mut parent, i)).collect();
        let mut bus_index: HashMap<usize, usize> = HashMap::new();
        let mut bus_of = Vec::with_capacity(ids.len());
        for &r in &roots {
            let next = bus_index.len();
            bus_of.push(*bus_index.entry(r).or_insert(next));
        }
        Ok(Nodes {
            ids,
            index,
            vn_kv,
            bus_of,
            setpoints,
            auxiliary,
        })
    }

    /// Name each bus after its first non-auxiliary node (else its first node), lower-case, and
    /// check that fused nodes agree on their rated voltage.
    fn buses(&self) -> Result<Buses, Error> {
        let n = self.bus_of.iter().max().map_or(0, |m| m + 1);
        let mut name_of: Vec<Option<usize>> = vec![None; n];
        for (i, &b) in self.bus_of.iter().enumerate() {
            match name_of[b] {
                None => name_of[b] = Some(i),
                Some(j) if self.auxiliary[j] && !self.auxiliary[i] => name_of[b] = Some(i),
                _ => {}
            }
        }
        let mut kv: Vec<Option<f64>> = vec![None; n];
        for (i, &b) in self.bus_of.iter().enumerate() {
            match kv[b] {
                None => kv[b] = Some(self.vn_kv[i]),
                Some(k) if (k - self.vn_kv[i]).abs() > 1e-9 * k => {
                    return Err(Error::new(ErrorKind::Invalid {
                        value: self.ids[i].clone(),
                        reason: format!(
                            "joined by closed switches to a node rated {k} kV, but rated {} kV",
                            self.vn_kv[i]
                        ),
                    })
                    .in_file("Node.csv")
                    .at_line(self.setpoints[i].2)
                    .in_column("vmR"));
                }
                _ => {}
            }
        }
        let names: Vec<String> = name_of
            .iter()
            .map(|i| self.ids[i.unwrap_or(0)].to_lowercase())
            .collect();
        let mut seen = HashSet::new();
        for (b, name) in names.iter().enumerate() {
            if !seen.insert(name.as_str()) {
                let i = name_of[b].unwrap_or(0);
                return Err(Error::new(ErrorKind::Invalid {
                    value: self.ids[i].clone(),
                    reason: "another node has the same id up to case (vgrid names are \
                             case-insensitive)"
                        .into(),
                })
                .in_file("Node.csv")
                .at_line(self.setpoints[i].2)
                .in_column("id"));
            }
        }
        Ok(Buses {
            names,
            kv: kv.into_iter().map(|k| k.unwrap_or(0.0)).collect(),
        })
    }

    fn str_index(&self) -> HashMap<&str, usize> {
        as_str_index(&self.index)
    }
}

fn as_str_index(index: &HashMap<String, usize>) -> HashMap<&str, usize> {
    index.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn bus_ref(bus: &str) -> BusRef {
    BusRef {
        bus: bus.to_string(),
        nodes: Vec::new(),
    }
}

fn bus_coords(
    node_table: &Table,
    nodes: &Nodes,
    buses: &Buses,
    coords: &Table,
) -> Result<Vec<BusCoord>, Error> {
    let Some(coord_col) = node_table.opt_col("coordID") else {
        return Ok(Vec::new());
    };
    let (id, x, y) = (coords.col("id")?, coords.col("x")?, coords.col("y")?);
    let index = coords.index_by(id)?;
    let mut done = vec![false; buses.names.len()];
    let mut out = Vec::new();
    for (i, row) in node_table.rows().enumerate() {
        let b = nodes.bus_of[i];
        if done[b] || row.opt_text(coord_col).is_none() {
            continue;
        }
        let c = coords.row(row.reference(coord_col, &index, "Coordinates.csv")?);
        out.push(BusCoord {
            bus: buses.names[b].clone(),
            x: c.number(x)?,
            y: c.number(y)?,
        });
        done[b] = true;
    }
    Ok(out)
}

fn external_nets(dir: &Path, nodes: &Nodes, buses: &Buses, net: &mut Network) -> Result<(), Error> {
    let t = Table::read(dir, "ExternalNet.csv")?;
    let (id, node, calc) = (t.col("id")?, t.col("node")?, t.col("calc_type")?);
    t.index_by(id)?;
    let index = nodes.str_index();
    for row in t.rows() {
        let n = row.reference(node, &index, "Node.csv")?;
        let kind = row.required(calc)?;
        if !kind.eq_ignore_ascii_case("vavm") {
            return Err(row.error(
                calc,
                ErrorKind::Unsupported(format!(
                    "external net type \"{kind}\" (only \"vavm\", a slack with voltage set-point, is modelled)"
                )),
            ));
        }
        let (vm, va, node_line) = nodes.setpoints[n];
        let vm = vm.ok_or_else(|| {
            Error::new(ErrorKind::MissingValue("NULL".into()))
                .in_file("Node.csv")
                .at_line(node_line)
                .in_column("vmSetp")
        })?;
        let kv = nodes.vn_kv[n];
        net.sources.push(Vsource {
            name: row.required(id)?.to_lowercase(),
            bus1: bus_ref(&buses.names[nodes.bus_of[n]]),
            bus2: None,
            phases: 3,
            base_kv: kv,
            pu: vm,
            angle_deg: va.unwrap_or(0.0),
            frequency_hz: FREQUENCY_HZ,
            // set by `set_slack_impedance` once the grid's rating is known
            impedance: SourceImpedance::Ohm {
                r1_ohm: 0.0,
                x1_ohm: 0.0,
                r0_ohm: 0.0,
                x0_ohm: 0.0,
            },
            enabled: true,
        });
    }
    if net.sources.is_empty() {
        return Err(Error::new(ErrorKind::Invalid {
            value: String::new(),
            reason: "no external net: the grid has no slack".into(),
        })
        .in_file("ExternalNet.csv"));
    }
    Ok(())
}

fn lines(dir: &Path, nodes: &Nodes, buses: &Buses, net: &mut Network) -> Result<(), Error> {
    let types = Table::read(dir, "LineType.csv")?;
    let (tid, r, x, b, i_max) = (
        types.col("id")?,
        types.col("r")?,
        types.col("x")?,
        types.col("b")?,
        types.col("iMax")?,
    );
    let type_index = types.index_by(tid)?;
    let t = Table::read(dir, "Line.csv")?;
    let (id, a, bb, ty, length) = (
        t.col("id")?,
        t.col("nodeA")?,
        t.col("nodeB")?,
        t.col("type")?,
        t.col("length")?,
    );
    t.index_by(id)?;
    let index = nodes.str_index();
    let omega = 2.0 * std::f64::consts::PI * FREQUENCY_HZ;
    for row in t.rows() {
        let na = row.reference(a, &index, "Node.csv")?;
        let nb = row.reference(bb, &index, "Node.csv")?;
        let lt = types.row(row.reference(ty, &type_index, "LineType.csv")?);
        let length_km = row.number(length)?;
        if length_km <= 0.0 {
            return Err(row.invalid(length, "the length must be positive"));
        }
        let (r_ohm_per_km, x_ohm_per_km) = (lt.number(r)?, lt.number(x)?);
        if r_ohm_per_km < 0.0 || x_ohm_per_km < 0.0 || r_ohm_per_km + x_ohm_per_km == 0.0 {
            return Err(lt.invalid(r, "r and x must be non-negative and not both zero"));
        }
        let b_us_per_km = lt.number(b)?;
        // b µS/km = ω·C: C = b·1e-6/ω F/km = b/ω nF/m.
        let c_nf_per_m = b_us_per_km / omega;
        let r1_ohm_per_m = r_ohm_per_km / 1000.0;
        let x1_ohm_per_m = x_ohm_per_km / 1000.0;
        let i_max_a = lt.number(i_max)?;
        net.lines.push(Line {
            name: row.required(id)?.to_lowercase(),
            bus1: bus_ref(&buses.names[nodes.bus_of[na]]),
            bus2: bus_ref(&buses.names[nodes.bus_of[nb]]),
            phases: 3,
            length_m: length_km * 1000.0,
            impedance: LineImpedance::Sequence {
                r1_ohm_per_m,
                x1_ohm_per_m,
                r0_ohm_per_m: r1_ohm_per_m,
                x0_ohm_per_m: x1_ohm_per_m,
                c1_nf_per_m: c_nf_per_m,
                c0_nf_per_m: c_nf_per_m,
            },
            base_frequency_hz: FREQUENCY_HZ,
            rho_ohm_m: 100.0,
            earth_model: vgrid_model::EarthModel::default(),
            is_switch: false,
            line_code: Some(row.required(ty)?.to_lowercase()),
            norm_amps_a: i_max_a,
            emerg_amps_a: i_max_a,
            enabled: true,
        });
    }
    Ok(())
}

/// Every source gets [`SLACK_Z_PU`] on its kV and the grid's rated power (see there).
fn set_slack_impedance(net: &mut Network) {
    let s_grid_kva: f64 = net
        .loads
        .iter()
        .map(|l| l.p_kw.hypot(l.q_kvar))
        .sum::<f64>()
        + net.generators.iter().map(|g| g.kva).sum::<f64>();
    let s_grid_mva = (s_grid_kva / 1000.0).max(MIN_GRID_MVA);
    for s in &mut net.sources {
        // X/R = 1: the angle of a negligible impedance does not matter
        let z_ohm = SLACK_Z_PU * s.base_kv * s.base_kv / s_grid_mva;
        s.impedance = SourceImpedance::Ohm {
            r1_ohm: z_ohm,
            x1_ohm: z_ohm,
            r0_ohm: z_ohm,
            x0_ohm: z_ohm,
        };
    }
}

/// Columns of `TransformerType.csv`.
struct TypeCols<'a> {
    s_r: Col<'a>,
    vm_hv: Col<'a>,
    vm_lv: Col<'a>,
    va0: Col<'a>,
    vm_imp: Col<'a>,
    p_cu: Col<'a>,
    p_fe: Col<'a>,
    i_no_load: Col<'a>,
    tapable: Col<'a>,
    tapside: Col<'a>,
    d_vm: Col<'a>,
    d_va: Col<'a>,
    tap_neutr: Col<'a>,
    tap_min: Col<'a>,
    tap_max: Col<'a>,
}

/// Returns the internal buses created, with their kV base.
fn transformers(
    dir: &Path,
    nodes: &Nodes,
    buses: &Buses,
    options: &ReadOptions,
    net: &mut Network,
) -> Result<Vec<(String, f64)>, Error> {
    let types = Table::read(dir, "TransformerType.csv")?;
    let c = TypeCols {
        s_r: types.col("sR")?,
        vm_hv: types.col("vmHV")?,
        vm_lv: types.col("vmLV")?,
        va0: types.col("va0")?,
        vm_imp: types.col("vmImp")?,
        p_cu: types.col("pCu")?,
        p_fe: types.col("pFe")?,
        i_no_load: types.col("iNoLoad")?,
        tapable: types.col("tapable")?,
        tapside: types.col("tapside")?,
        d_vm: types.col("dVm")?,
        d_va: types.col("dVa")?,
        tap_neutr: types.col("tapNeutr")?,
        tap_min: types.col("tapMin")?,
        tap_max: types.col("tapMax")?,
    };
    let type_index = types.index_by(types.col("id")?)?;
    let t = Table::read(dir, "Transformer.csv")?;
    let (id, hv, lv, ty, tappos) = (
        t.col("id")?,
        t.col("nodeHV")?,
        t.col("nodeLV")?,
        t.col("type")?,
        t.col("tappos")?,
    );
    t.index_by(id)?;
    let index = nodes.str_index();
    let bus_names: HashSet<&str> = buses.names.iter().map(String::as_str).collect();
    let mut mids = Vec::new();
    for row in t.rows() {
        let n_hv = row.reference(hv, &index, "Node.csv")?;
        let n_lv = row.reference(lv, &index, "Node.csv")?;
        let tt = types.row(row.reference(ty, &type_index, "TransformerType.csv")?);
        let mut data = TrafoData::from_type(tt, &c)?;
        if options.taps == TapPositions::Applied {
            data.apply_tap(tt, &c, row.number(tappos)?)?;
        }
        let name = row.required(id)?.to_lowercase();
        let mid = format!("{name}{MID_BUS_SUFFIX}");
        if bus_names.contains(mid.as_str()) {
            return Err(row.invalid(
                id,
                format!("the internal bus name \"{mid}\" is taken by a node"),
            ));
        }
        let hv_bus = &buses.names[nodes.bus_of[n_hv]];
        let lv_bus = &buses.names[nodes.bus_of[n_lv]];
        net.transformers
            .extend(t_model(&name, hv_bus, &mid, lv_bus, &data));
        mids.push((mid, nodes.vn_kv[n_lv]));
    }
    Ok(mids)
}

/// A transformer type's data in the units of vgrid's model, with a tap position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TrafoData {
    pub(crate) kva: f64,
    pub(crate) kv_hv: f64,
    pub(crate) kv_lv: f64,
    /// Short-circuit resistance and reactance, % on `kva`.
    pub(crate) vkr_pct: f64,
    pub(crate) xk_pct: f64,
    /// Magnetising branch: iron losses and magnetising current, % on `kva`.
    pub(crate) noload_loss_pct: f64,
    pub(crate) imag_pct: f64,
    pub(crate) shift: crate::transformer::ShiftConnection,
    /// Ratio of each winding, per unit of its rated voltage, and the tap range of each side
    /// (`min`, `max`, number of steps).
    pub(crate) tap_hv: f64,
    pub(crate) tap_lv: f64,
    pub(crate) range_hv: (f64, f64, u32),
    pub(crate) range_lv: (f64, f64, u32),
    /// The tap changer sits on the HV side (`tapside = HV`).
    pub(crate) hv_tapped: bool,
}

impl TrafoData {
    /// The data of a `TransformerType` row, at the neutral tap.
    fn from_type(tt: Row<'_>, c: &TypeCols<'_>) -> Result<TrafoData, Error> {
        let s_mva = tt.number(c.s_r)?;
        if s_mva <= 0.0 {
            return Err(tt.invalid(c.s_r, "the rating must be positive"));
        }
        let (kv_hv, kv_lv) = (tt.number(c.vm_hv)?, tt.number(c.vm_lv)?);
        if kv_hv <= 0.0 || kv_lv <= 0.0 {
            return Err(tt.invalid(c.vm_hv, "rated voltages must be positive"));
        }
        let vk_pct = tt.number(c.vm_imp)?;
        let vkr_pct = tt.number(c.p_cu)? / (s_mva * 1000.0) * 100.0;
        if vk_pct <= 0.0 || vkr_pct < 0.0 || vkr_pct > vk_pct {
            return Err(tt.invalid(
                c.vm_imp,
                format!("need 0 ≤ vkr ≤ vk, with vkr = pCu/sR = {vkr_pct} %"),
            ));
        }
        let noload_loss_pct = tt.number(c.p_fe)? / (s_mva * 1000.0) * 100.0;
        let i0_pct = tt.number(c.i_no_load)?;
        if noload_loss_pct < 0.0 || i0_pct < 0.0 {
            return Err(tt.invalid(c.p_fe, "no-load losses and current must be ≥ 0"));
        }
        let shift_deg = tt.number(c.va0)?;
        let shift = shift_connection(shift_deg).ok_or_else(|| {
            tt.error(
                c.va0,
                ErrorKind::Unsupported(format!(
                    "phase shift {shift_deg}° (modelled: odd multiples of 30° and multiples of 120°)"
                )),
            )
        })?;
        let tapable = tt.number(c.tapable)? != 0.0;
        let hv_tapped = match tt.opt_text(c.tapside) {
            Some(s) if s.eq_ignore_ascii_case("HV") => true,
            Some(s) if s.eq_ignore_ascii_case("LV") => false,
            None if !tapable => true,
            _ => return Err(tt.invalid(c.tapside, "expected HV or LV")),
        };
        let fixed = (1.0, 1.0, 0);
        let range = match (
            tapable,
            tt.opt_number(c.tap_min)?,
            tt.opt_number(c.tap_max)?,
        ) {
            (true, Some(lo), Some(hi)) => {
                let step_pct = tt.opt_number(c.d_vm)?.unwrap_or(0.0);
                let neutral = tt.opt_number(c.tap_neutr)?.unwrap_or(0.0);
                (
                    1.0 + (lo - neutral) * step_pct / 100.0,
                    1.0 + (hi - neutral) * step_pct / 100.0,
                    (hi - lo).max(0.0) as u32,
                )
            }
            _ => fixed,
        };
        Ok(TrafoData {
            kva: s_mva * 1000.0,
            kv_hv,
            kv_lv,
            vkr_pct,
            xk_pct: (vk_pct * vk_pct - vkr_pct * vkr_pct).sqrt(),
            noload_loss_pct,
            imag_pct: (i0_pct * i0_pct - noload_loss_pct * noload_loss_pct)
                .max(0.0)
                .sqrt(),
            shift,
            tap_hv: 1.0,
            tap_lv: 1.0,
            range_hv: if hv_tapped { range } else { fixed },
            range_lv: if hv_tapped { fixed } else { range },
            hv_tapped,
        })
    }

    /// Set the tapped winding's ratio to `1 + (tappos − tapNeutr)·dVm/100`.
    fn apply_tap(&mut self, tt: Row<'_>, c: &TypeCols<'_>, pos: f64) -> Result<(), Error> {
        if tt.number(c.tapable)? == 0.0 {
            return Ok(());
        }
        let neutral = tt.number(c.tap_neutr)?;
        if tt.opt_number(c.d_va)?.unwrap_or(0.0) != 0.0 && pos != neutral {
            return Err(tt.error(
                c.d_va,
                ErrorKind::Unsupported("phase-shifting tap changers (dVa ≠ 0)".into()),
            ));
        }
        let ratio = 1.0 + (pos - neutral) * tt.number(c.d_vm)? / 100.0;
        if self.hv_tapped {
            self.tap_hv = ratio;
        } else {
            self.tap_lv = ratio;
        }
        Ok(())
    }
}

/// pandapower's T-model as two transformers meeting at bus `mid` (see [`crate::transformer`]).
pub(crate) fn t_model(
    name: &str,
    hv_bus: &str,
    mid: &str,
    lv_bus: &str,
    d: &TrafoData,
) -> [Transformer; 2] {
    let winding =
        |bus: BusRef, conn: Connection, kv: f64, tap: f64, range: (f64, f64, u32)| Winding {
            bus,
            conn,
            kv,
            kva: d.kva,
            pct_r: d.vkr_pct / 4.0,
            r_neutral_ohm: -1.0,
            x_neutral_ohm: 0.0,
            tap_pu: tap,
            min_tap_pu: range.0,
            max_tap_pu: range.1,
            num_taps: range.2,
        };
    let with_nodes = |bus: &str, nodes: [u32; 3]| BusRef {
        bus: bus.to_string(),
        nodes: if nodes == [1, 2, 3] {
            Vec::new()
        } else {
            nodes.to_vec()
        },
    };
    let half = |name: String, windings: Vec<Winding>, magnetising: bool| Transformer {
        name,
        phases: 3,
        windings,
        x_sc_pct: vec![d.xk_pct / 2.0],
        pct_noload_loss: if magnetising { d.noload_loss_pct } else { 0.0 },
        pct_imag: if magnetising { d.imag_pct } else { 0.0 },
        ppm_antifloat: 0.0,
        norm_hkva: d.kva,
        emerg_hkva: d.kva,
        bank: None,
        is_substation: false,
        enabled: true,
    };
    let fixed = (1.0, 1.0, 0);
    [
        half(
            name.to_string(),
            vec![
                winding(
                    with_nodes(hv_bus, d.shift.hv_nodes),
                    d.shift.hv_conn,
                    d.kv_hv,
                    d.tap_hv,
                    d.range_hv,
                ),
                winding(
                    with_nodes(mid, d.shift.lv_nodes),
                    Connection::Wye,
                    d.kv_lv,
                    d.tap_lv,
                    d.range_lv,
                ),
            ],
            true,
        ),
        half(
            format!("{name}{LV_HALF_SUFFIX}"),
            vec![
                winding(bus_ref(mid), Connection::Wye, d.kv_lv, d.tap_lv, fixed),
                winding(bus_ref(lv_bus), Connection::Wye, d.kv_lv, d.tap_lv, fixed),
            ],
            false,
        ),
    ]
}

/// Returns the load profiles used (original spelling), in order of first use.
fn loads(
    dir: &Path,
    nodes: &Nodes,
    buses: &Buses,
    net: &mut Network,
) -> Result<Vec<(String, usize)>, Error> {
    let t = Table::read(dir, "Load.csv")?;
    let (id, node, profile, p, q) = (
        t.col("id")?,
        t.col("node")?,
        t.col("profile")?,
        t.col("pLoad")?,
        t.col("qLoad")?,
    );
    t.index_by(id)?;
    let index = nodes.str_index();
    let mut profiles: Vec<(String, usize)> = Vec::new();
    for row in t.rows() {
        let n = row.reference(node, &index, "Node.csv")?;
        let prof = row.opt_text(profile);
        if let Some(pr) = prof {
            if !profiles.iter().any(|(x, _)| x == pr) {
                profiles.push((pr.to_string(), row.line()));
            }
        }
        net.loads.push(Load {
            name: row.required(id)?.to_lowercase(),
            bus1: bus_ref(&buses.names[nodes.bus_of[n]]),
            phases: 3,
            conn: Connection::Wye,
            kv: nodes.vn_kv[n],
            p_kw: row.number(p)? * 1000.0,
            q_kvar: row.number(q)? * 1000.0,
            model: LoadModel::ConstantPq,
            zipv: Vec::new(),
            cvr_watts: 1.0,
            cvr_vars: 2.0,
            vmin_pu: 0.0,
            vmax_pu: 10.0,
            status: LoadStatus::Variable,
            yearly: prof.map(load_shape_name),
            daily: None,
            duty: None,
            enabled: true,
        });
    }
    Ok(profiles)
}

/// Profiles used by RES, and the SimBench `type` of every generator.
type ResOutcome = (Vec<(String, usize)>, Vec<String>);

fn res(dir: &Path, nodes: &Nodes, buses: &Buses, net: &mut Network) -> Result<ResOutcome, Error> {
    let Some(t) = Table::read_optional(dir, "RES.csv")? else {
        return Ok((Vec::new(), Vec::new()));
    };
    let kind_col = t.col("type")?;
    let mut types = Vec::with_capacity(t.len());
    let (id, node, profile, calc, p, q) = (
        t.col("id")?,
        t.col("node")?,
        t.col("profile")?,
        t.col("calc_type")?,
        t.col("pRES")?,
        t.col("qRES")?,
    );
    let s_r = t.opt_col("sR");
    t.index_by(id)?;
    let index = nodes.str_index();
    let mut profiles: Vec<(String, usize)> = Vec::new();
    for row in t.rows() {
        let n = row.reference(node, &index, "Node.csv")?;
        let kind = row.required(calc)?;
        if !kind.eq_ignore_ascii_case("pq") {
            return Err(row.error(
                calc,
                ErrorKind::Unsupported(format!(
                    "RES control type \"{kind}\" (only \"pq\", constant power, is modelled)"
                )),
            ));
        }
        let prof = row.opt_text(profile);
        if let Some(pr) = prof {
            if !profiles.iter().any(|(x, _)| x == pr) {
                profiles.push((pr.to_string(), row.line()));
            }
        }
        types.push(row.text(kind_col).to_string());
        let (p_kw, q_kvar) = (row.number(p)? * 1000.0, row.number(q)? * 1000.0);
        let kva = match s_r.map(|c| row.opt_number(c)).transpose()?.flatten() {
            Some(s) => s * 1000.0,
            None => p_kw.hypot(q_kvar),
        };
        net.generators.push(Generator {
            name: row.required(id)?.to_lowercase(),
            bus1: bus_ref(&buses.names[nodes.bus_of[n]]),
            phases: 3,
            conn: Connection::Wye,
            kv: nodes.vn_kv[n],
            p_kw,
            q_kvar,
            kva,
            model: 1,
            vmin_pu: 0.0,
            vmax_pu: 10.0,
            yearly: prof.map(res_shape_name),
            daily: None,
            duty: None,
            enabled: true,
        });
    }
    Ok((profiles, types))
}

/// `StudyCases.csv`, if present.
fn study_cases(dir: &Path) -> Result<Vec<StudyCase>, Error> {
    let Some(t) = Table::read_optional(dir, "StudyCases.csv")? else {
        return Ok(Vec::new());
    };
    let (name, pload, qload, wind, pv, res, slack) = (
        t.col("Study Case")?,
        t.col("pload")?,
        t.col("qload")?,
        t.col("Wind_p")?,
        t.col("PV_p")?,
        t.col("RES_p")?,
        t.col("Slack_vm")?,
    );
    t.index_by(name)?;
    t.rows()
        .map(|row| {
            Ok(StudyCase {
                name: row.required(name)?.to_string(),
                load_p: row.number(pload)?,
                load_q: row.number(qload)?,
                wind_p: row.number(wind)?,
                pv_p: row.number(pv)?,
                res_p: row.number(res)?,
                slack_vm_pu: row.number(slack)?,
            })
        })
        .collect()
}

fn load_shapes(
    dir: &Path,
    load_profiles: &[(String, usize)],
    res_profiles: &[(String, usize)],
    net: &mut Network,
) -> Result<(), Error> {
    let missing_profile = |file: &str, line: usize, value: &str, table: String| {
        Error::new(ErrorKind::UnknownReference {
            value: value.to_string(),
            table,
        })
        .in_file(file)
        .at_line(line)
        .in_column("profile")
    };
    if !load_profiles.is_empty() {
        let t = ProfileTable::read_optional(dir, "LoadProfile.csv")?.ok_or_else(|| {
            Error::new(ErrorKind::MissingFile).in_file(dir.join("LoadProfile.csv"))
        })?;
        let mut names = Vec::new();
        for (p, line) in load_profiles {
            for suffix in ["_pload", "_qload"] {
                let col = format!("{p}{suffix}");
                if !t.has_column(&col) {
                    return Err(missing_profile(
                        "Load.csv",
                        *line,
                        p,
                        format!("LoadProfile.csv (no column {col})"),
                    ));
                }
                names.push(col);
            }
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut columns = t.columns(&refs)?.into_iter();
        for (p, _) in load_profiles {
            let (p_mult, q_mult) = (columns.next(), columns.next());
            net.load_shapes.push(shape(
                load_shape_name(p),
                p_mult.unwrap_or_default(),
                q_mult.unwrap_or_default(),
            ));
        }
    }
    if !res_profiles.is_empty() {
        let t = ProfileTable::read_optional(dir, "RESProfile.csv")?.ok_or_else(|| {
            Error::new(ErrorKind::MissingFile).in_file(dir.join("RESProfile.csv"))
        })?;
        for (p, line) in res_profiles {
            if !t.has_column(p) {
                return Err(missing_profile(
                    "RES.csv",
                    *line,
                    p,
                    "RESProfile.csv".into(),
                ));
            }
        }
        let refs: Vec<&str> = res_profiles.iter().map(|(p, _)| p.as_str()).collect();
        for ((p, _), p_mult) in res_profiles.iter().zip(t.columns(&refs)?) {
            // SimBench scales only the active power of RES; reactive power stays at qRES.
            let q_mult = vec![1.0; p_mult.len()];
            net.load_shapes
                .push(shape(res_shape_name(p), p_mult, q_mult));
        }
    }
    Ok(())
}

fn shape(name: String, p_mult: Vec<f64>, q_mult: Vec<f64>) -> LoadShape {
    LoadShape {
        name,
        interval_h: Some(PROFILE_INTERVAL_H),
        hours: Vec::new(),
        p_mult,
        q_mult,
        use_actual: false,
        p_base: 0.0,
        q_base: 0.0,
    }
}
