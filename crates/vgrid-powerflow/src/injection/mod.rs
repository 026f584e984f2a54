//! Voltage-dependent currents of power-conversion elements (loads, generators, PV systems),
//! exactly as OpenDSS computes them.
//!
//! An element is lowered once into an [`Injection`]: its conductors, its *nominal admittance*
//! ([`Injection::yprim`], what OpenDSS puts into the system `Y` for its "Normal" fixed-point
//! method) and its *current law* ([`Injection::currents`], OpenDSS's terminal current
//! `ITerminal` at given conductor voltages). The solver stamps the nominal admittance once and,
//! at every iteration, injects the difference between what that admittance would draw and what
//! the law draws.
//!
//! ## Phase branches
//! Every element is `phases` identical branches. A wye branch `k` runs from conductor `k` to
//! the neutral (the last conductor); a delta branch `k` from conductor `k` to conductor `k+1`
//! (wrapping to the first for a 3-phase delta). A 1-phase delta is one branch between two
//! conductors; a 2-phase delta is an open delta over three conductors:
//!
//! | connection | conductors | branch voltage `V_k` | `V_base` (load) | `V_base` (generator, PV) |
//! |---|---|---|---|---|
//! | wye, 1 phase | 2 | `v[k] − v[n]` | kV | kV |
//! | wye, 2–3 phases | phases + 1 | `v[k] − v[n]` | kV/√3 | kV/√3 |
//! | delta, 1–2 phases | phases + 1 | `v[k] − v[k+1]` | kV | kV (1 ph), kV/√3 (2 ph) |
//! | delta, 3 phases | 3 | `v[k] − v[(k+1) mod 3]` | kV | kV/√3 |
//!
//! Each branch carries `P/phases`, `Q/phases` at `V_base`; its nominal admittance is
//! `Y_eq = (P − jQ)/phases / V_base²` (in watts, vars and volts). Loads stamp `Y_eq` per
//! branch; generators and PV stamp `−Y_eq` (wye) or `−Y_eq/3` (delta): OpenDSS's generator
//! `V_base` is line-neutral even for delta, hence the 1/3.
//!
//! ## Load models (`Load.pas`, per branch, load sense, `|V|` = branch voltage magnitude)
//! Thresholds: `V_low = 0.5·V_base` (OpenDSS `vlowpu`, fixed), `V_min = vminpu·V_base`,
//! `V_max = vmaxpu·V_base`. `S = (P + jQ)/phases` with the load multiplier (not for
//! `status=fixed|exempt`).
//!
//! | model | `|V| ≤ V_low` | `V_low < |V| ≤ V_min` | `|V| > V_max` | inside the band |
//! |---|---|---|---|---|
//! | 1 constant PQ | `Y_eq·V` | `Y₉₅(|V|)·V` | `Y_eq/vmaxpu²·V` | `conj(S/V)` |
//! | 2 constant Z | `Y_eq·V` | `Y_eq·V` | `Y_eq·V` | `Y_eq·V` |
//! | 3 motor: const P, quadratic Q | `Y_eq·V` | `Y₉₅(|V|)·V` | `Y_eq/vmaxpu²·V` | `conj(P/V) + j·Im(Y_eq)·V` |
//! | 4 CVR | `Y_eq·V` | `Y₉₅(|V|)·V` | `Y_eq/vmaxpu²·V` | `conj(P·r^cvrwatts/V) + conj(jQ·r^cvrvars/V)`, `r = |V|/V_base` (`cvrvars=2`: `j·Im(Y_eq)·V`) |
//! | 5 constant \|I\| | `Y_eq·V` | `Y₉₅ᴵ(|V|)·V` | `Y_eq/vmaxpu·V` | `conj(S/(V_base·V/|V|))` |
//! | 6 const P, fixed Q | `Y_eq·V` | `(Re Y_eq/vminpu², Y_Q)·V` | `(Re Y_eq/vmaxpu², Y_Q)·V` | `conj((P + jQ₀)/V)` |
//! | 7 const P, fixed X | `Y_eq·V` | `(Re Y_eq/vminpu², Y_Q)·V` | `(Re Y_eq/vmaxpu², Y_Q)·V` | `conj(P/V) + j·Y_Q·V` |
//! | 8 ZIPV | `Y_eq·V` | Z, I, P parts with `Y_eq`, `Y₉₅ᴵ`, `Y₉₅` | Z, I, P parts with `Y_eq`, `Y_eq/vmaxpu`, `Y_eq/vmaxpu²` | `Z·Y_eq·V + conj(I·S/(V_base·V/|V|)) + conj(P·S/V)` |
//!
//! `Y₉₅(|V|) = (I_low + M·(|V| − V_low))/|V|` joins the constant-Z current at `V_low`
//! (`I_low = Y_eq·V_low`) to the model's current at `V_min` on a straight line in `|V|`
//! (`M = (Y_eq/vminpu²·V_min − I_low)/(V_min − V_low)`; `Y₉₅ᴵ` uses `Y_eq·V_base` at `V_min`).
//! `Q₀` and `Y_Q = −Q₀/V_base²` are the nominal vars *without* the load multiplier.
//! ZIPV coefficients `[Zp, Ip, Pp, Zq, Iq, Pq, Vcut]` weigh the real and imaginary parts; with
//! `Vcut > 0` the current above `V_low` is multiplied by the logistic step
//! `½(1 + tanh(500·(|V|/V_base − Vcut)))`, so the load drops out below `Vcut`.
//!
//! ## Generator models (`Generator.pas`, generator sense) and PV systems (`PVSystem.pas`)
//! Thresholds `vminpu`, `vmaxpu` (defaults 0.9, 1.1) apply to `|V|` (delta 2–3 phases:
//! `|V|/√3`). Outside the band the generator is the constant admittance `Y_eq/vminpu²` or
//! `Y_eq/vmaxpu²` (÷3 for delta). Inside: model 1 `conj(S/V)`; model 2 `Y_eq·V` always;
//! model 4 `conj((P + jQ₀)/V)`; model 5 `conj(P/V) + j·Y_Q·V`; model 7 `conj(S/V)` limited in
//! magnitude to `|S|/V_min` (no band). Models 3 (PV bus) and 6 (user DLL) are evaluated as
//! model 1: a voltage-regulating generator needs solver support, not a current law.
//!
//! A PV system is a model-1 generator whose `S` comes from the panel and inverter:
//! `P_panel = irradiance·Pmpp·PT(T)`; the inverter is off below `%cutout·kVA` (P = 0);
//! `P = min(P_panel·eff(P_panel/kVA), Pmpp·%Pmpp)`; `Q = P·√(1/pf² − 1)·sign(pf)` or the
//! requested kvar, both clipped to `kvarMax` (default kVA); then if `√(P²+Q²) > kVA`,
//! `P = √(kVA² − Q²)` (reactive priority, OpenDSS's default).
//!
//! ## What is not modelled
//! vgrid-model has no field for these, so OpenDSS's defaults are used: load `Rneut`/`Xneut`
//! (open neutral), load `vlowpu` (0.5), PV `model` (1), `LimitCurrent`, `Balanced`,
//! `WattPriority`, `PFPriority`, `%PminNoVars`, `%PminkvarMax`, separate `kvarMaxAbs`
//! (= `kvarMax`), `VarFollowInverter` (no). Generator models 3 and 6 are evaluated as model 1.
//! The PV inverter state is taken as on iff `P_panel ≥ %cutout·kVA`; OpenDSS keeps it from
//! call to call (on at creation), which gives the same result unless `%cutin < %cutout`.
//!
//! ## Storage (`Storage.pas`)
//! A storage element is a constant-PQ machine like a PV system whose output comes from its
//! state (charging, discharging, idling with its losses), rates, kWh and inverter limits; see
//! [`storage_output`]. A snapshot solve uses the state written in the model.
//!
//! ## Example
//! A 3-phase wye constant-PQ load of 300 kW + 100 kvar at 12.47 kV draws exactly its power
//! at nominal voltage:
//! ```
//! use vgrid_model::{BusRef, Connection, Load, LoadModel, LoadStatus};
//! use vgrid_network::C64;
//! use vgrid_powerflow::injection::Injection;
//! let load = Load {
//!     name: "l1".into(), bus1: BusRef::parse("b"), phases: 3, conn: Connection::Wye,
//!     kv: 12.47, p_kw: 300.0, q_kvar: 100.0, model: LoadModel::ConstantPq, zipv: vec![],
//!     cvr_watts: 1.0, cvr_vars: 2.0, vmin_pu: 0.95, vmax_pu: 1.05,
//!     status: LoadStatus::Variable, yearly: None, daily: None, duty: None, enabled: true,
//! };
//! let inj = Injection::load(&load, 1.0, 60.0);
//! assert_eq!(inj.conductors(), 4);
//! let vln = 12_470.0 / 3f64.sqrt();
//! let a = C64::from_polar(1.0, -2.0 * std::f64::consts::PI / 3.0);
//! let v = [C64::new(vln, 0.0), a * vln, a * a * vln, C64::new(0.0, 0.0)];
//! let s = inj.power_kva(&v);
//! assert!((s - C64::new(300.0, 100.0)).norm() < 1e-9);
//! let mut i = [C64::new(0.0, 0.0); 4];
//! inj.currents(&v, &mut i);
//! assert!(i.iter().sum::<C64>().norm() < 1e-9); // what flows in flows out
//! ```

mod generator;
mod load;
mod pv;
mod storage;

pub use storage::{idling_kw, storage_output, StorageDispatch, StorageOutput};

use vgrid_model::{Connection, Generator, Load, PvSystem, Storage, XyCurve};
use vgrid_network::{CMatrix, C64};

use generator::GeneratorLaw;
use load::LoadLaw;
use pv::PvLaw;
use storage::StorageLaw;

/// The current law of one element. An explicit tag (not a niche in a law's fields): telling
/// the laws apart is one byte compare in the compensation loop.
#[derive(Debug, Clone, PartialEq)]
#[repr(u8)]
enum Law {
    /// Disabled element: no admittance, no current.
    Off,
    Load(LoadLaw),
    Generator(GeneratorLaw),
    Pv(PvLaw),
    Storage(StorageLaw),
}

/// Share of a load's nominal admittance stamped into `Y` (OpenDSS stamps all of it).
///
/// The stamped admittance is the iteration's guess of how the load's current answers a
/// change of voltage; the fixed point leaves the rest of the answer for the next iteration,
/// and the closer the guess, the fewer iterations. A constant-power current `conj(S/V)`
/// answers a change of the voltage's magnitude with the opposite sign of an admittance
/// (`ΔI = −conj(S)/conj(V)²·conj(ΔV)`) and a change of its angle with the same: the nominal
/// admittance is right for the angle and twice wrong for the magnitude, so stamping less of
/// it leaves less. And over a time series the loads run below nominal most of the time (a
/// load shape peaks at 1), so even a constant-impedance load draws less than its nominal
/// admittance. A fifth keeps every node tied to ground as before (the matrix stays as well
/// conditioned; wye loads with their neutral on a node keep all of it) and took, at the
/// same answers: the IEEE 123 year from 9.0 to 6.9 iterations
/// per step, the European LV day from 5.8 to 4.6, the IEEE 123 snapshot with its control
/// loop from 88 to 79.
pub const LOAD_STAMP: f64 = 0.2;

/// One PC element lowered for the solver: its conductors, its nominal admittance and its
/// current model.
///
/// Laid out in this order (`repr(C)`): the connection, phases and law, which the compensation
/// loop reads at every iteration, together at the start.
#[derive(Debug, Clone, PartialEq)]
#[repr(C)]
pub struct Injection {
    conn: Connection,
    phases: usize,
    law: Law,
    conductors: usize,
    frequency_hz: f64,
}

/// OpenDSS `SetNcondsForConnection`: wye → phases + 1 (neutral last); delta → phases for
/// three or more phases, phases + 1 for 1- and 2-phase delta (line-line and open delta).
/// `VBase` of `Generator.pas` and `PVSystem.pas`: line-neutral volts for 2- and 3-phase
/// machines (whatever the connection), the given kV otherwise. (Loads differ: `load::v_base_volts`.)
fn machine_v_base_volts(phases: usize, kv: f64) -> f64 {
    match phases {
        2 | 3 => kv * (1000.0 / 3f64.sqrt()),
        _ => kv * 1000.0,
    }
}

/// A generator's or PV system's constant-impedance equivalent beyond a voltage limit: the
/// nominal admittance scaled so that it draws nominal power at `limit_pu`; `yeq` itself when
/// the limit is 0 (loads differ: their low-voltage admittance is then zero).
fn machine_yeq_at_limit(yeq: C64, limit_pu: f64) -> C64 {
    if limit_pu != 0.0 {
        yeq / (limit_pu * limit_pu)
    } else {
        yeq
    }
}

fn conductors_for(conn: Connection, phases: usize) -> usize {
    match conn {
        Connection::Wye => phases + 1,
        Connection::Delta => match phases {
            1 | 2 => phases + 1,
            _ => phases,
        },
    }
}

/// A phase branch's current law in load sense (generators, PV systems and storage deliver
/// current: their law is negated).
trait BranchLaw {
    fn load_current(&self, v: C64) -> C64;
}

impl BranchLaw for LoadLaw {
    #[inline(always)]
    fn load_current(&self, v: C64) -> C64 {
        self.phase_current(v)
    }
}

impl BranchLaw for GeneratorLaw {
    #[inline(always)]
    fn load_current(&self, v: C64) -> C64 {
        -self.phase_current(v)
    }
}

impl BranchLaw for PvLaw {
    #[inline(always)]
    fn load_current(&self, v: C64) -> C64 {
        -self.phase_current(v)
    }
}

impl BranchLaw for StorageLaw {
    #[inline(always)]
    fn load_current(&self, v: C64) -> C64 {
        -self.phase_current(v)
    }
}

/// The compensation of a `P`-phase wye element (`P + 1` conductors, neutral last): each
/// branch ends at the neutral, whose current is accumulated locally in the same order as
/// branch by branch (the same sums to the last bit).
#[inline(always)]
fn compensate_wye<L: BranchLaw, const P: usize>(
    law: &L,
    yprim: &[C64],
    v: &[C64],
    out: &mut [C64],
) {
    let n = P + 1;
    let (yprim, v, out) = (&yprim[..n * n], &v[..n], &mut out[..n]);
    let vn = v[P];
    let mut out_n = out[P];
    let mut y_sum = C64::new(0.0, 0.0);
    for k in 0..P {
        let y = -yprim[k * n + P];
        y_sum += y;
        let vb = v[k] - vn;
        let c = y * vb - law.load_current(vb);
        out[k] += c;
        out_n -= c;
    }
    out_n += (yprim[P * n + P] - y_sum) * vn;
    out[P] = out_n;
}

/// [`compensate_wye`] of a wye element whose neutral is grounded (0 V), phases only: the
/// neutral's entry goes to ground and is not computed.
#[inline(always)]
fn compensate_grounded_wye<L: BranchLaw, const P: usize>(
    law: &L,
    yprim: &[C64],
    v: &[C64; P],
) -> [C64; P] {
    let n = P + 1;
    let mut c = [C64::new(0.0, 0.0); P];
    for k in 0..P {
        let y = -yprim[k * n + P];
        c[k] = y * v[k] - law.load_current(v[k]);
    }
    c
}

/// `Σ V_k·conj(I_k)` over the branches of a `P`-phase wye element, kW + j kvar.
#[inline(always)]
fn power_wye<L: BranchLaw, const P: usize>(law: &L, v: &[C64]) -> C64 {
    let v = &v[..P + 1];
    let mut s = C64::new(0.0, 0.0);
    for k in 0..P {
        let vb = v[k] - v[P];
        s += vb * law.load_current(vb).conj();
    }
    s / 1000.0
}

impl Injection {
    fn new(conn: Connection, phases: usize, frequency_hz: f64, enabled: bool, law: Law) -> Self {
        Injection {
            conn,
            phases,
            conductors: conductors_for(conn, phases),
            frequency_hz,
            law: if enabled { law } else { Law::Off },
        }
    }

    /// A load. `load_mult` is the global load multiplier (`Set loadmult`), applied as OpenDSS
    /// does in snapshot mode: to `status=variable` loads only, not to fixed or exempt ones.
    pub fn load(l: &Load, load_mult: f64, frequency_hz: f64) -> Injection {
        let law = Law::Load(LoadLaw::new(l, load_mult));
        Injection::new(l.conn, l.phases, frequency_hz, l.enabled, law)
    }

    /// A load drawing `p_kw + j q_kvar` at nominal voltage (total over phases, with every
    /// multiplier of a time step already applied: shape, load multiplier, growth). The fixed
    /// reactive part of models 6 and 7 stays the load's own `q_kvar`, as in OpenDSS.
    pub fn load_with_power(l: &Load, p_kw: f64, q_kvar: f64, frequency_hz: f64) -> Injection {
        let law = Law::Load(LoadLaw::with_power(l, p_kw, q_kvar));
        Injection::new(l.conn, l.phases, frequency_hz, l.enabled, law)
    }

    /// Make this injection [`Injection::load_with_power`]`(l, p_kw, q_kvar, frequency_hz)`: in
    /// place, recomputing only what depends on the power (nothing when the power is the one
    /// it has), when it is already a law of `l`; rebuilt otherwise. A time series calls it for
    /// every load at every step.
    pub fn set_load_power(&mut self, l: &Load, p_kw: f64, q_kvar: f64, frequency_hz: f64) {
        match &mut self.law {
            Law::Load(law)
                if l.enabled
                    && self.frequency_hz == frequency_hz
                    && self.conn == l.conn
                    && self.phases == l.phases
                    && law.is_of(l) =>
            {
                law.set_power(p_kw, q_kvar)
            }
            _ => *self = Injection::load_with_power(l, p_kw, q_kvar, frequency_hz),
        }
    }

    /// [`Injection::set_load_power`] of an injection that is known to be a law of `l` already
    /// (lowered from `l` at this frequency, nothing but the power changed since): the new
    /// power only, without comparing the load's constants; a disabled load stays off. A
    /// [`System`](crate::System) keeps each load's injection lowered from its own load, and
    /// calls this for every load at every step of a time series.
    #[inline]
    pub(crate) fn set_power_of_own_load(&mut self, l: &Load, p_kw: f64, q_kvar: f64) {
        debug_assert!(
            match &self.law {
                Law::Load(law) => l.enabled && law.is_of(l),
                Law::Off => !l.enabled,
                _ => false,
            },
            "set_power_of_own_load: not a law of load '{}'",
            l.name
        );
        if let Law::Load(law) = &mut self.law {
            law.set_power(p_kw, q_kvar);
        }
    }

    /// A generator (models 1, 2, 4, 5, 7; 3 and 6 as 1, see the module docs).
    pub fn generator(g: &Generator, frequency_hz: f64) -> Injection {
        let law = Law::Generator(GeneratorLaw::new(g));
        Injection::new(g.conn, g.phases, frequency_hz, g.enabled, law)
    }

    /// Make this injection [`Injection::generator`]`(g, frequency_hz)`, keeping it when it
    /// already is (a time step in which the generator's output did not change).
    pub fn set_generator(&mut self, g: &Generator, frequency_hz: f64) {
        if let Law::Generator(law) = &self.law {
            if g.enabled
                && self.frequency_hz == frequency_hz
                && self.conn == g.conn
                && self.phases == g.phases
                && law.is_of(g)
            {
                return;
            }
        }
        *self = Injection::generator(g, frequency_hz);
    }

    /// A PV system in snapshot mode; `curves` holds the efficiency and P-T curves it names
    /// (a name not found counts as no curve, factor 1).
    pub fn pv_system(p: &PvSystem, curves: &[XyCurve], frequency_hz: f64) -> Injection {
        let law = Law::Pv(PvLaw::new(p, curves));
        Injection::new(p.conn, p.phases, frequency_hz, p.enabled, law)
    }

    /// A storage element in the state written in the model (a snapshot solve).
    pub fn storage(s: &Storage, frequency_hz: f64) -> Injection {
        let out = storage_output(s, &StorageDispatch::of(s));
        Injection::storage_with_output(s, &out, frequency_hz)
    }

    /// A storage element putting out `out` (from [`storage_output`] with the step's dispatch).
    pub fn storage_with_output(s: &Storage, out: &StorageOutput, frequency_hz: f64) -> Injection {
        let law = Law::Storage(StorageLaw::new(s, out.kw, out.kvar, out.state));
        Injection::new(s.conn, s.phases, frequency_hz, s.enabled, law)
    }

    /// Number of conductors of its single terminal, as OpenDSS: wye → phases + 1 (neutral
    /// last); delta → phases for 3 phases, phases + 1 for 1- and 2-phase delta.
    pub fn conductors(&self) -> usize {
        self.conductors
    }

    /// Number of phase branches.
    pub fn phases(&self) -> usize {
        self.phases
    }

    /// Wye or delta.
    pub fn connection(&self) -> Connection {
        self.conn
    }

    /// The frequency the element was lowered at. The nominal admittance is that of the
    /// nominal power at this (fundamental) frequency; OpenDSS's frequency correction of its
    /// reactive part is 1 in power flow.
    pub fn frequency_hz(&self) -> f64 {
        self.frequency_hz
    }

    /// The admittance stamped per phase branch, siemens (loads `Y_eq`; generators and PV
    /// `−Y_eq`, `−Y_eq/3` for delta).
    fn y_branch(&self) -> C64 {
        match &self.law {
            Law::Off => C64::new(0.0, 0.0),
            Law::Load(l) => l.yeq(),
            Law::Generator(g) => g.y_branch(),
            Law::Pv(p) => p.y_branch(),
            Law::Storage(s) => s.y_branch(),
        }
    }

    /// The conductor at the far end of phase branch `k` (the neutral for wye).
    fn other_end(&self, k: usize) -> usize {
        match self.conn {
            Connection::Wye => self.conductors - 1,
            Connection::Delta => {
                if k + 1 >= self.conductors {
                    0
                } else {
                    k + 1
                }
            }
        }
    }

    /// The admittance the solver stamps into `Y` for this element, connected to `nodes`
    /// (`None`: ground): [`yprim`](Self::yprim), a load's scaled by [`LOAD_STAMP`] unless it
    /// is a wye whose neutral is a node (a floating neutral may hang on its loads alone). The
    /// fixed-point iteration injects the difference between the stamped admittance's current
    /// and the law's, so the solution does not depend on what is stamped, only how fast the
    /// iteration gets there.
    pub fn stamped_yprim(&self, nodes: &[Option<usize>]) -> CMatrix {
        let mut y = self.yprim();
        let floating_neutral = self.conn == Connection::Wye
            && nodes
                .get(self.conductors.wrapping_sub(1))
                .is_some_and(|n| n.is_some());
        if matches!(self.law, Law::Load(_)) && !floating_neutral {
            for r in 0..y.rows() {
                for c in 0..y.cols() {
                    y[(r, c)] *= LOAD_STAMP;
                }
            }
        }
        y
    }

    /// The element's nominal admittance over its conductors, siemens (OpenDSS `YPrim` in the
    /// normal power-flow mode, `loadmodel=powerflow` or `admittance` alike). A wye load's
    /// neutral diagonal is raised by 1 ppm, as OpenDSS does for an open (ungrounded) neutral.
    pub fn yprim(&self) -> CMatrix {
        let n = self.conductors;
        let mut m = CMatrix::zeros(n, n);
        let y = self.y_branch();
        if matches!(self.law, Law::Off) || n == 0 {
            return m;
        }
        match self.conn {
            Connection::Wye => {
                let nn = n - 1;
                for k in 0..self.phases {
                    m[(k, k)] = y;
                    m[(nn, nn)] += y;
                    m[(k, nn)] = -y;
                    m[(nn, k)] = -y;
                }
                if matches!(self.law, Law::Load(_)) {
                    // Rneut < 0 (open neutral), OpenDSS's load default: Yneut = 0, then ×1.000001.
                    m[(nn, nn)] *= 1.000001;
                }
            }
            Connection::Delta => {
                for k in 0..self.phases {
                    let j = self.other_end(k);
                    m[(k, k)] += y;
                    m[(j, j)] += y;
                    m[(k, j)] -= y;
                    m[(j, k)] -= y;
                }
            }
        }
        m
    }

    /// The current through phase branch `k` at branch voltage `v`, in load sense (from the
    /// branch's first conductor to its other end).
    fn branch_current(&self, v: C64) -> C64 {
        match &self.law {
            Law::Off => C64::new(0.0, 0.0),
            Law::Load(l) => l.phase_current(v),
            Law::Generator(g) => -g.phase_current(v),
            Law::Pv(p) => -p.phase_current(v),
            Law::Storage(s) => -s.phase_current(v),
        }
    }

    /// Current flowing INTO the element at each conductor, amperes (OpenDSS's terminal current
    /// `ITerminal`), given the conductor voltages, volts w.r.t. ground. Both slices have
    /// [`Injection::conductors`] entries (shorter slices leave `i_out` zeroed). Allocation-free.
    pub fn currents(&self, v: &[C64], i_out: &mut [C64]) {
        let n = self.conductors;
        for x in i_out.iter_mut() {
            *x = C64::new(0.0, 0.0);
        }
        debug_assert!(
            v.len() >= n && i_out.len() >= n,
            "Injection::currents: short slices"
        );
        if v.len() < n || i_out.len() < n || matches!(self.law, Law::Off) {
            return;
        }
        for k in 0..self.phases {
            let j = self.other_end(k);
            let c = self.branch_current(v[k] - v[j]);
            i_out[k] += c;
            i_out[j] -= c;
        }
    }

    /// Adds the compensation current `Y_stamped·V − I(V)` of each conductor to `out`, where
    /// `yprim` (row-major, [`Injection::conductors`]² entries) is what was stamped into `Y` for
    /// this element: [`Injection::yprim`] of an element of the same connection and phases, at
    /// any power. It is evaluated branch by branch (`y·V_k − I_k(V_k)` with `y` read back from
    /// `yprim`), plus the wye neutral's diagonal excess (OpenDSS's 1 ppm), instead of a dense
    /// product: 4 complex products per 3-phase wye load instead of 16. Allocation-free.
    #[inline]
    pub fn add_compensation(&self, yprim: &[C64], v: &[C64], out: &mut [C64]) {
        let n = self.conductors;
        if n == 0 || v.len() < n || out.len() < n || yprim.len() < n * n {
            return;
        }
        // one monomorphised loop per law: no per-phase dispatch, the law inlined
        match &self.law {
            Law::Off => {}
            Law::Load(l) => self.compensate(l, yprim, v, out),
            Law::Generator(g) => self.compensate(g, yprim, v, out),
            Law::Pv(p) => self.compensate(p, yprim, v, out),
            Law::Storage(s) => self.compensate(s, yprim, v, out),
        }
    }

    /// [`Injection::add_compensation`] of a `P`-phase wye load, generator or PV system (`P + 1`
    /// conductors), inlined into the caller; false (nothing added) for any other element,
    /// which then takes [`Injection::add_compensation`]. The same sums to the last bit.
    #[inline(always)]
    pub fn add_compensation_wye<const P: usize>(
        &self,
        yprim: &[C64],
        v: &[C64],
        out: &mut [C64],
    ) -> bool {
        let n = P + 1;
        if self.conn != Connection::Wye
            || self.phases != P
            || self.conductors != n
            || v.len() < n
            || out.len() < n
            || yprim.len() < n * n
        {
            return false;
        }
        match &self.law {
            Law::Load(l) => compensate_wye::<_, P>(l, yprim, v, out),
            Law::Generator(g) => compensate_wye::<_, P>(g, yprim, v, out),
            Law::Pv(p) => compensate_wye::<_, P>(p, yprim, v, out),
            _ => return false,
        }
        true
    }

    /// The compensation `y_k·V_k − I_k(V_k)` of each phase `k` of a `P`-phase wye load,
    /// generator or PV system whose neutral is grounded (`P + 1` conductors, the neutral's
    /// voltage 0 and its current going to ground), at phase voltages `v`: what
    /// [`Injection::add_compensation`] adds at the phase conductors, to the last bit, without
    /// the neutral's entry. `None` (nothing computed) for any other element.
    #[inline(always)]
    pub fn grounded_wye_compensation<const P: usize>(
        &self,
        yprim: &[C64],
        v: &[C64; P],
    ) -> Option<[C64; P]> {
        // the conductors follow from the connection and phases (`Injection::new`)
        let n = P + 1;
        if self.conn != Connection::Wye || self.phases != P || yprim.len() < n * n {
            return None;
        }
        match &self.law {
            Law::Load(l) => Some(compensate_grounded_wye::<_, P>(l, yprim, v)),
            Law::Generator(g) => Some(compensate_grounded_wye::<_, P>(g, yprim, v)),
            Law::Pv(p) => Some(compensate_grounded_wye::<_, P>(p, yprim, v)),
            _ => None,
        }
    }

    /// The compensation `y·V_b − I(V_b)` of a 1-phase delta load, generator or PV system (one
    /// branch between its two conductors) at branch voltage `vb = v[0] − v[1]`: it adds to
    /// the first conductor and subtracts from the second, as [`Injection::add_compensation`]
    /// (the same number). `None` for any other element.
    #[inline(always)]
    pub fn delta1_compensation(&self, yprim: &[C64], vb: C64) -> Option<C64> {
        if self.conn != Connection::Delta || self.phases != 1 || yprim.len() < 4 {
            return None;
        }
        let y = -yprim[1];
        match &self.law {
            Law::Load(l) => Some(y * vb - l.load_current(vb)),
            Law::Generator(g) => Some(y * vb - g.load_current(vb)),
            Law::Pv(p) => Some(y * vb - p.load_current(vb)),
            _ => None,
        }
    }

    /// [`Injection::power_kva`] of a 1-phase delta load, generator or PV system at its branch
    /// voltage `vb = v[0] − v[1]`, inlined into the caller (the same number); `None` for any
    /// other element.
    #[inline(always)]
    pub fn delta1_power_kva(&self, vb: C64) -> Option<C64> {
        if self.conn != Connection::Delta || self.phases != 1 {
            return None;
        }
        let i = match &self.law {
            Law::Load(l) => l.load_current(vb),
            Law::Generator(g) => g.load_current(vb),
            Law::Pv(p) => p.load_current(vb),
            _ => return None,
        };
        let mut s = C64::new(0.0, 0.0);
        s += vb * i.conj();
        Some(s / 1000.0)
    }

    /// The compensation current at the first conductor of a 3-phase wye element whose neutral
    /// is grounded, when its phase voltages are a balanced set whose first one is `v`: the
    /// first entry [`Injection::add_compensation`] adds (the same arithmetic, to the last bit),
    /// without the two other phases, which are this one rotated by ∓120°. `y_branch` is the
    /// branch admittance stamped for it, `−yprim[0][3]` of what was stamped. `None` for any
    /// other element. The positive-sequence iteration (`solve/balanced.rs`) calls it.
    #[inline(always)]
    pub fn balanced_wye_compensation(&self, y_branch: C64, v: C64) -> Option<C64> {
        if self.conn != Connection::Wye || self.phases != 3 || self.conductors != 4 {
            return None;
        }
        // branch 0 of `compensate_wye::<_, 3>` with the neutral at 0 V
        let y = y_branch;
        Some(match &self.law {
            Law::Off => C64::new(0.0, 0.0),
            Law::Load(l) => y * v - l.load_current(v),
            Law::Generator(g) => y * v - g.load_current(v),
            Law::Pv(p) => y * v - p.load_current(v),
            Law::Storage(s) => y * v - s.load_current(v),
        })
    }

    /// [`Injection::power_kva`] of a 3-phase wye element whose neutral is grounded, when its
    /// phase voltages are a balanced set whose first one is `v`: three times its first
    /// phase's. `None` for any other element.
    #[inline(always)]
    pub fn balanced_wye_power_kva(&self, v: C64) -> Option<C64> {
        if self.conn != Connection::Wye || self.phases != 3 || self.conductors != 4 {
            return None;
        }
        let i = match &self.law {
            Law::Off => return Some(C64::new(0.0, 0.0)),
            Law::Load(l) => l.load_current(v),
            Law::Generator(g) => g.load_current(v),
            Law::Pv(p) => p.load_current(v),
            Law::Storage(s) => s.load_current(v),
        };
        Some(v * i.conj() * (3.0 / 1000.0))
    }

    /// [`Injection::power_kva`] of a `P`-phase wye load, generator or PV system at its `P + 1` conductor
    /// voltages `v`, inlined into the caller (the same number); `None` for any other element.
    #[inline(always)]
    pub fn power_kva_wye<const P: usize>(&self, v: &[C64]) -> Option<C64> {
        let n = P + 1;
        if self.conn != Connection::Wye || self.phases != P || self.conductors != n || v.len() < n {
            return None;
        }
        match &self.law {
            Law::Load(l) => Some(power_wye::<_, P>(l, v)),
            Law::Generator(g) => Some(power_wye::<_, P>(g, v)),
            Law::Pv(p) => Some(power_wye::<_, P>(p, v)),
            _ => None,
        }
    }

    /// [`Injection::add_compensation`] with the branch law `law`; the slices are at least as
    /// long as the conductors (checked by the caller). 1- and 3-phase wye elements (most
    /// loads, generators and PV systems) get loops of fixed length.
    #[inline(always)]
    fn compensate<L: BranchLaw>(&self, law: &L, yprim: &[C64], v: &[C64], out: &mut [C64]) {
        match (self.conn, self.phases, self.conductors) {
            (Connection::Wye, 1, 2) => compensate_wye::<L, 1>(law, yprim, v, out),
            (Connection::Wye, 3, 4) => compensate_wye::<L, 3>(law, yprim, v, out),
            _ => self.compensate_any(law, yprim, v, out),
        }
    }

    /// [`Injection::compensate`] for any connection and number of phases.
    #[inline(never)]
    fn compensate_any<L: BranchLaw>(&self, law: &L, yprim: &[C64], v: &[C64], out: &mut [C64]) {
        let n = self.conductors;
        for k in 0..self.phases {
            let j = self.other_end(k);
            let y = -yprim[k * n + j];
            let vb = v[k] - v[j];
            let c = y * vb - law.load_current(vb);
            out[k] += c;
            out[j] -= c;
        }
        if self.conn == Connection::Wye {
            let nn = n - 1;
            let y_sum = (0..self.phases).fold(C64::new(0.0, 0.0), |s, k| s - yprim[k * n + nn]);
            out[nn] += (yprim[nn * n + nn] - y_sum) * v[nn];
        }
    }

    /// Total complex power into the element, kW and kvar (loads positive, generation negative),
    /// at those conductor voltages: `Σ V·conj(I)` over the conductors.
    pub fn power_kva(&self, v: &[C64]) -> C64 {
        let n = self.conductors;
        if v.len() < n || matches!(self.law, Law::Off) {
            return C64::new(0.0, 0.0);
        }
        let mut s = C64::new(0.0, 0.0);
        for k in 0..self.phases {
            let j = self.other_end(k);
            let vb = v[k] - v[j];
            s += vb * self.branch_current(vb).conj();
        }
        s / 1000.0
    }
}

#[cfg(test)]
mod tests;
