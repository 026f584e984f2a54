//! Power-conversion elements: `Load`, `Generator`, `PVSystem`, `Storage`.
//!
//! A load's nominal power can be given as kW and PF, kW and kvar, or kVA and PF. Like
//! OpenDSS, setting `kW` selects "kW, PF", setting `kvar` selects "kW, kvar", setting `kVA`
//! selects "kVA, PF", and `PF` alone does not change the choice:
//!
//! ```text
//! kW=1 PF=0.95        q_kvar = 1 × sqrt(1/0.95² − 1) = 0.3287 (negative PF: negative kvar)
//! kW=10 kvar=5        q_kvar = 5
//! kVA=10 PF=0.8       p_kw = 8, q_kvar = 6
//! ```
//! Defaults are OpenDSS's: 12.47 kV, 10 kW, PF 0.88, model 1, Vminpu 0.95, Vmaxpu 1.05.
//! A load given a `UseActual` shape (yearly/daily/duty) takes that shape's peak kW/kvar.

use super::{default_bus, put, Ctx};
use crate::error::Diagnostic;
use crate::lexer::Param;
use crate::value::{self, Res};
use vgrid_model::{
    Connection, Generator, Load, LoadModel, LoadStatus, PvSystem, Storage, StorageState as Mode,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadSpec {
    KwPf,
    KwKvar,
    KvaPf,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadState {
    pub kw: f64,
    pub kvar: f64,
    pub pf: f64,
    pub kva: f64,
    pub spec: LoadSpec,
    pub pf_specified: bool,
}

impl Default for LoadState {
    fn default() -> Self {
        LoadState {
            kw: 10.0,
            kvar: 5.0,
            pf: 0.88,
            kva: 10.0 / 0.88,
            spec: LoadSpec::KwPf,
            pf_specified: false,
        }
    }
}

fn kvar_from_pf(kw: f64, pf: f64) -> f64 {
    if pf == 0.0 {
        return 0.0;
    }
    let q = kw * (1.0 / (pf * pf) - 1.0).max(0.0).sqrt();
    if pf < 0.0 {
        -q
    } else {
        q
    }
}

fn status(p: &Param) -> Res<LoadStatus> {
    let l = p.value.trim().to_ascii_lowercase();
    if l.starts_with('v') {
        Ok(LoadStatus::Variable)
    } else if l.starts_with('f') {
        Ok(LoadStatus::Fixed)
    } else if l.starts_with('e') {
        Ok(LoadStatus::Exempt)
    } else {
        Err(
            Diagnostic::new(format!("'{}' is not a load status", p.value))
                .with_hint(Some("OpenDSS accepts: variable, fixed, exempt".into()))
                .at_column(p.col),
        )
    }
}

fn shape_name(ctx: &Ctx, p: &Param) -> Res<Option<String>> {
    let n = value::name(p);
    if n.is_empty() || n == "none" {
        return Ok(None);
    }
    if !ctx.net.load_shapes.iter().any(|s| s.name == n) {
        return Err(Diagnostic::new(format!("LoadShape.{n} is not defined"))
            .with_hint(crate::error::did_you_mean(
                &n,
                ctx.net.load_shapes.iter().map(|s| s.name.as_str()),
            ))
            .at_column(p.col));
    }
    Ok(Some(n))
}

/// A `TShape` reference (`Tyearly=`, `Tdaily=`, `Tduty=` of a PV system), checked.
fn t_shape_name(ctx: &Ctx, p: &Param) -> Res<Option<String>> {
    let n = value::name(p);
    if n.is_empty() || n == "none" {
        return Ok(None);
    }
    if ctx.net.t_shape(&n).is_none() {
        return Err(Diagnostic::new(format!("TShape.{n} is not defined"))
            .with_hint(crate::error::did_you_mean(
                &n,
                ctx.net.t_shapes.iter().map(|s| s.name.as_str()),
            ))
            .at_column(p.col));
    }
    Ok(Some(n))
}

/// Peak (kW, kvar) of a shape that uses actual values.
fn actual_peak(ctx: &Ctx, shape: &str) -> Option<(f64, f64)> {
    let s = ctx.net.load_shapes.iter().find(|s| s.name == shape)?;
    if !s.use_actual {
        return None;
    }
    let i = s
        .p_mult
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)?;
    Some((s.p_mult[i], s.q_mult.get(i).copied().unwrap_or(0.0)))
}

pub(crate) fn create_load(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store
        .loads
        .insert(name.to_string(), LoadState::default());
    let l = Load {
        name: name.to_string(),
        bus1: default_bus(name, 1),
        phases: 3,
        conn: Connection::Wye,
        kv: 12.47,
        p_kw: 10.0,
        q_kvar: kvar_from_pf(10.0, 0.88),
        model: LoadModel::ConstantPq,
        zipv: vec![0.0; 7],
        cvr_watts: 1.0,
        cvr_vars: 2.0,
        vmin_pu: 0.95,
        vmax_pu: 1.05,
        status: LoadStatus::Variable,
        yearly: None,
        daily: None,
        duty: None,
        enabled: true,
    };
    put(&mut ctx.net.loads, existing, l)
}

pub(crate) fn set_load(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    match prop {
        "yearly" | "daily" | "duty" => {
            let s = shape_name(ctx, p)?;
            let peak = s.as_deref().and_then(|s| actual_peak(ctx, s));
            let l = &mut ctx.net.loads[i];
            match prop {
                "yearly" => l.yearly = s,
                "daily" => {
                    l.daily = s.clone();
                    if l.yearly.is_none() {
                        l.yearly = s;
                    }
                }
                _ => l.duty = s,
            }
            if let Some((kw, kvar)) = peak {
                let st = ctx.store.loads.entry(name.to_string()).or_default();
                st.kw = kw;
                st.kvar = kvar;
                st.spec = if st.pf_specified {
                    LoadSpec::KwPf
                } else {
                    LoadSpec::KwKvar
                };
            }
            return Ok(());
        }
        _ => {}
    }
    let Some(st) = ctx.store.loads.get_mut(name) else {
        // a load the host added to the model: OpenDSS's defaults, then the edit
        ctx.store
            .loads
            .insert(name.to_string(), LoadState::default());
        return set_load(ctx, i, name, prop, p);
    };
    let l = &mut ctx.net.loads[i];
    match prop {
        "phases" => l.phases = value::count(p, 1, 100)?,
        "bus1" => l.bus1 = value::bus(p)?,
        "kv" => l.kv = value::number(p)?,
        "kw" => {
            st.kw = value::number(p)?;
            st.spec = LoadSpec::KwPf;
        }
        "pf" => {
            st.pf = value::number(p)?;
            if st.pf.abs() > 1.0 || st.pf == 0.0 {
                return Err(
                    Diagnostic::new(format!("power factor {} is outside (0, 1]", st.pf))
                        .at_column(p.col),
                );
            }
            st.pf_specified = true;
        }
        "kvar" => {
            st.kvar = value::number(p)?;
            st.spec = LoadSpec::KwKvar;
            st.pf_specified = false;
        }
        "kva" => {
            st.kva = value::number(p)?;
            st.spec = LoadSpec::KvaPf;
        }
        "model" => {
            let n = value::integer(p)?;
            l.model = LoadModel::from_number(n).ok_or_else(|| {
                Diagnostic::new(format!("load model {n} does not exist"))
                    .with_hint(Some("OpenDSS accepts models 1 to 8".into()))
                    .at_column(p.col)
            })?;
        }
        "conn" => l.conn = value::connection(p)?,
        "status" => l.status = status(p)?,
        "vminpu" => l.vmin_pu = value::number(p)?,
        "vmaxpu" => l.vmax_pu = value::number(p)?,
        "cvrwatts" => l.cvr_watts = value::number(p)?,
        "cvrvars" => l.cvr_vars = value::number(p)?,
        "zipv" => {
            let v = value::array(p)?;
            if v.len() != 7 {
                return Err(
                    Diagnostic::new(format!("zipv needs 7 values, got {}", v.len()))
                        .at_column(p.col),
                );
            }
            l.zipv = v;
        }
        "enabled" => l.enabled = value::boolean(p)?,
        "xfkva" | "allocationfactor" | "kwh" | "kwhdays" | "cfactor" => {
            return Err(Diagnostic::new(format!(
                "load allocation ('{prop}') is not supported; give kW/kvar or kVA/PF"
            )))
        }
        "growth" | "rneut" | "xneut" | "vminnorm" | "vminemerg" | "%mean" | "%stddev"
        | "cvrcurve" | "%seriesrl" | "vlowpu" | "puxharm" | "xrharm" | "basefreq" => {}
        other if super::common(other) => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of Load is not supported"
            )))
        }
    }
    Ok(())
}

pub(crate) fn finish_load(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    let Some(st) = ctx.store.loads.get_mut(name) else {
        ctx.store
            .loads
            .insert(name.to_string(), LoadState::default());
        return finish_load(ctx, i, name);
    };
    match st.spec {
        LoadSpec::KwPf => {
            st.kvar = kvar_from_pf(st.kw, st.pf);
            st.kva = st.kw.hypot(st.kvar);
        }
        LoadSpec::KwKvar => {
            st.kva = st.kw.hypot(st.kvar);
            if st.kva > 0.0 {
                st.pf = st.kw / st.kva;
                if st.kvar != 0.0 && st.kw * st.kvar < 0.0 {
                    st.pf = -st.pf;
                }
            }
        }
        LoadSpec::KvaPf => {
            st.kw = st.kva * st.pf.abs();
            st.kvar = kvar_from_pf(st.kw, st.pf);
        }
    }
    let l = &mut ctx.net.loads[i];
    l.p_kw = st.kw;
    l.q_kvar = st.kvar;
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GenState {
    pub kw: f64,
    pub kvar: f64,
    pub pf: f64,
}

pub(crate) fn create_generator(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store.generators.insert(
        name.to_string(),
        GenState {
            kw: 1000.0,
            kvar: 60.0,
            pf: 0.88,
        },
    );
    let g = Generator {
        name: name.to_string(),
        bus1: default_bus(name, 1),
        phases: 3,
        conn: Connection::Wye,
        kv: 12.47,
        p_kw: 1000.0,
        q_kvar: 60.0,
        kva: 1200.0,
        model: 1,
        vmin_pu: 0.9,
        vmax_pu: 1.1,
        yearly: None,
        daily: None,
        duty: None,
        enabled: true,
    };
    put(&mut ctx.net.generators, existing, g)
}

pub(crate) fn set_generator(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    if matches!(prop, "yearly" | "daily" | "duty") {
        let s = shape_name(ctx, p)?;
        let g = &mut ctx.net.generators[i];
        match prop {
            "yearly" => g.yearly = s,
            "daily" => g.daily = s,
            _ => g.duty = s,
        }
        return Ok(());
    }
    let st = ctx
        .store
        .generators
        .entry(name.to_string())
        .or_insert(GenState {
            kw: 1000.0,
            kvar: 60.0,
            pf: 0.88,
        });
    let g = &mut ctx.net.generators[i];
    match prop {
        "phases" => g.phases = value::count(p, 1, 100)?,
        "bus1" => g.bus1 = value::bus(p)?,
        "kv" => g.kv = value::number(p)?,
        "kw" => {
            st.kw = value::number(p)?;
            st.kvar = kvar_from_pf(st.kw, st.pf);
        }
        "pf" => {
            st.pf = value::number(p)?;
            st.kvar = kvar_from_pf(st.kw, st.pf);
        }
        "kvar" => {
            st.kvar = value::number(p)?;
            let s = st.kw.hypot(st.kvar);
            if s > 0.0 {
                st.pf = st.kw / s;
            }
        }
        "model" => g.model = value::count(p, 1, 7)? as u32,
        "vminpu" => g.vmin_pu = value::number(p)?,
        "vmaxpu" => g.vmax_pu = value::number(p)?,
        "conn" => g.conn = value::connection(p)?,
        "kva" => g.kva = value::number(p)?,
        "mva" => g.kva = value::number(p)? * 1000.0,
        "enabled" => g.enabled = value::boolean(p)?,
        "dispmode" | "dispvalue" | "status" | "vpu" | "maxkvar" | "minkvar" | "pvfactor"
        | "forceon" | "xd" | "xdp" | "xdpp" | "h" | "d" | "shaftmodel" | "shaftdata"
        | "dutystart" | "balanced" | "xrdp" | "usefuel" | "fuelkwh" | "%fuel" | "%reserve"
        | "refuel" | "basefreq" => {}
        other if super::common(other) => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of Generator is not supported"
            )))
        }
    }
    Ok(())
}

pub(crate) fn finish_generator(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    if let Some(st) = ctx.store.generators.get(name) {
        let g = &mut ctx.net.generators[i];
        g.p_kw = st.kw;
        g.q_kvar = st.kvar;
    }
    Ok(())
}

pub(crate) fn create_pv(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    let pv = PvSystem {
        name: name.to_string(),
        bus1: default_bus(name, 1),
        phases: 3,
        conn: Connection::Wye,
        kv: 12.47,
        pmpp_kw: 500.0,
        kva: 500.0,
        irradiance_kw_per_m2: 1.0,
        temperature_c: 25.0,
        pf: 1.0,
        q_kvar: None,
        pct_pmpp: 100.0,
        pct_cutin: 20.0,
        pct_cutout: 20.0,
        eff_curve: None,
        p_t_curve: None,
        kvar_limit: None,
        vmin_pu: 0.9,
        vmax_pu: 1.1,
        yearly: None,
        daily: None,
        duty: None,
        t_yearly: None,
        t_daily: None,
        t_duty: None,
        enabled: true,
    };
    put(&mut ctx.net.pv_systems, existing, pv)
}

fn curve_name(ctx: &Ctx, p: &Param) -> Res<Option<String>> {
    let n = value::name(p);
    if n.is_empty() || n == "none" {
        return Ok(None);
    }
    if !ctx.net.xy_curves.iter().any(|c| c.name == n) {
        return Err(Diagnostic::new(format!("XYcurve.{n} is not defined")).at_column(p.col));
    }
    Ok(Some(n))
}

pub(crate) fn set_pv(ctx: &mut Ctx, i: usize, prop: &str, p: &Param) -> Res<()> {
    match prop {
        "yearly" | "daily" | "duty" => {
            let s = shape_name(ctx, p)?;
            let v = &mut ctx.net.pv_systems[i];
            match prop {
                "yearly" => v.yearly = s,
                "daily" => v.daily = s,
                _ => v.duty = s,
            }
            return Ok(());
        }
        "tyearly" | "tdaily" | "tduty" => {
            let t = t_shape_name(ctx, p)?;
            let v = &mut ctx.net.pv_systems[i];
            match prop {
                "tyearly" => v.t_yearly = t,
                "tdaily" => v.t_daily = t,
                _ => v.t_duty = t,
            }
            return Ok(());
        }
        "effcurve" | "p-tcurve" => {
            let c = curve_name(ctx, p)?;
            let v = &mut ctx.net.pv_systems[i];
            if prop == "effcurve" {
                v.eff_curve = c;
            } else {
                v.p_t_curve = c;
            }
            return Ok(());
        }
        _ => {}
    }
    let v = &mut ctx.net.pv_systems[i];
    match prop {
        "phases" => v.phases = value::count(p, 1, 100)?,
        "bus1" => v.bus1 = value::bus(p)?,
        "kv" => v.kv = value::number(p)?,
        "irradiance" => v.irradiance_kw_per_m2 = value::number(p)?,
        "pmpp" => v.pmpp_kw = value::number(p)?,
        "%pmpp" => v.pct_pmpp = value::number(p)?,
        "temperature" => v.temperature_c = value::number(p)?,
        "pf" => {
            v.pf = value::number(p)?;
            v.q_kvar = None;
        }
        "conn" => v.conn = value::connection(p)?,
        "kvar" => v.q_kvar = Some(value::number(p)?),
        "kva" => v.kva = value::number(p)?,
        "%cutin" => v.pct_cutin = value::number(p)?,
        "%cutout" => v.pct_cutout = value::number(p)?,
        "vminpu" => v.vmin_pu = value::number(p)?,
        "vmaxpu" => v.vmax_pu = value::number(p)?,
        "kvarmax" => v.kvar_limit = Some(value::number(p)?),
        "enabled" => v.enabled = value::boolean(p)?,
        other if super::common(other) => {}
        _ => {}
    }
    Ok(())
}

/// What OpenDSS's storage side effects remember: whether the kVA and the kvar limits were
/// given (a later `kWrated` or `kVA` then leaves them alone).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct StorageState {
    pub kva_set: bool,
    pub kvar_max_set: bool,
    pub kvar_max_abs_set: bool,
}

pub(crate) fn create_storage(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store
        .storages
        .insert(name.to_string(), StorageState::default());
    let s = Storage {
        name: name.to_string(),
        bus1: default_bus(name, 1),
        phases: 3,
        conn: Connection::Wye,
        kv: 12.47,
        kw_rated: 25.0,
        kva: 25.0,
        kwh_rated: 50.0,
        kwh_stored: 50.0,
        pct_reserve: 20.0,
        pct_charge: 100.0,
        pct_discharge: 100.0,
        pct_eff_charge: 90.0,
        pct_eff_discharge: 90.0,
        pct_idling_kw: 1.0,
        state: Mode::Idling,
        dispatch_mode: "default".into(),
        yearly: None,
        daily: None,
        duty: None,
        enabled: true,
        pf: 1.0,
        q_kvar: None,
        kvar_max: 25.0,
        kvar_max_abs: 25.0,
        pct_cutin: 0.0,
        pct_cutout: 0.0,
        pct_kw_rated: 100.0,
        // OpenDSS computes kWhReserve only when kWhrated or %reserve is edited
        kwh_reserve: 0.0,
        vmin_pu: 0.9,
        vmax_pu: 1.1,
        model: 1,
        charge_trigger: 0.0,
        discharge_trigger: 0.0,
        time_charge_trigger_h: 2.0,
    };
    put(&mut ctx.net.storages, existing, s)
}

/// OpenDSS's storage property side effects (`Storage.pas` `PropertySideEffects`, `Set_kW`)
/// are applied in the order the properties are given.
pub(crate) fn set_storage(ctx: &mut Ctx, i: usize, prop: &str, p: &Param) -> Res<()> {
    if matches!(prop, "yearly" | "daily" | "duty") {
        let sh = shape_name(ctx, p)?;
        let s = &mut ctx.net.storages[i];
        match prop {
            "yearly" => s.yearly = sh,
            "daily" => s.daily = sh,
            _ => s.duty = sh,
        }
        return Ok(());
    }
    let name = ctx.net.storages[i].name.clone();
    let st = ctx.store.storages.entry(name).or_default();
    let s = &mut ctx.net.storages[i];
    match prop {
        "phases" => s.phases = value::count(p, 1, 100)?,
        "bus1" => s.bus1 = value::bus(p)?,
        "kv" => s.kv = value::number(p)?,
        "conn" => s.conn = value::connection(p)?,
        "kw" => {
            // Set_kW: the sign picks the state, the size the % of kWrated
            let kw = value::number(p)?;
            if kw > 0.0 {
                s.state = Mode::Discharging;
                s.pct_discharge = kw / s.kw_rated * 100.0;
            } else if kw < 0.0 {
                s.state = Mode::Charging;
                s.pct_charge = kw.abs() / s.kw_rated * 100.0;
            } else {
                s.state = Mode::Idling;
            }
        }
        "kvar" => s.q_kvar = Some(value::number(p)?),
        "pf" => {
            s.pf = value::number(p)?;
            s.q_kvar = None;
        }
        "kva" => {
            s.kva = value::number(p)?;
            st.kva_set = true;
            if !st.kvar_max_set {
                s.kvar_max = s.kva;
                if !st.kvar_max_abs_set {
                    s.kvar_max_abs = s.kva;
                }
            }
        }
        "kvarmax" => {
            s.kvar_max = value::number(p)?.abs();
            st.kvar_max_set = true;
            if !st.kvar_max_abs_set {
                s.kvar_max_abs = s.kvar_max;
            }
        }
        "kvarmaxabs" => {
            s.kvar_max_abs = value::number(p)?.abs();
            st.kvar_max_abs_set = true;
        }
        "%cutin" => s.pct_cutin = value::number(p)?,
        "%cutout" => s.pct_cutout = value::number(p)?,
        "kwrated" => {
            s.kw_rated = value::number(p)?;
            if !st.kva_set {
                s.kva = s.kw_rated;
            }
        }
        "%kwrated" => s.pct_kw_rated = value::number(p)?,
        "kwhrated" => {
            s.kwh_rated = value::number(p)?;
            s.kwh_stored = s.kwh_rated; // assume fully charged
            s.kwh_reserve = s.kwh_rated * s.pct_reserve * 0.01;
        }
        "kwhstored" => s.kwh_stored = value::number(p)?,
        "%stored" => s.kwh_stored = value::number(p)? * 0.01 * s.kwh_rated,
        "%reserve" => {
            s.pct_reserve = value::number(p)?;
            s.kwh_reserve = s.kwh_rated * s.pct_reserve * 0.01;
        }
        "%charge" => s.pct_charge = value::number(p)?,
        "%discharge" => s.pct_discharge = value::number(p)?,
        "%effcharge" => s.pct_eff_charge = value::number(p)?,
        "%effdischarge" => s.pct_eff_discharge = value::number(p)?,
        "%idlingkw" => s.pct_idling_kw = value::number(p)?,
        "vminpu" => s.vmin_pu = value::number(p)?,
        "vmaxpu" => s.vmax_pu = value::number(p)?,
        "model" => s.model = value::count(p, 1, 3)? as u32,
        "chargetrigger" => s.charge_trigger = value::number(p)?,
        "dischargetrigger" => s.discharge_trigger = value::number(p)?,
        "timechargetrig" => s.time_charge_trigger_h = value::number(p)?,
        "state" => {
            let l = p.value.trim().to_ascii_lowercase();
            s.state = if l.starts_with('c') {
                Mode::Charging
            } else if l.starts_with('d') {
                Mode::Discharging
            } else if l.starts_with('i') {
                Mode::Idling
            } else {
                return Err(
                    Diagnostic::new(format!("'{}' is not a storage state", p.value))
                        .with_hint(Some(
                            "OpenDSS accepts: idling, charging, discharging".into(),
                        ))
                        .at_column(p.col),
                );
            };
        }
        "dispmode" => {
            let l = value::name(p);
            s.dispatch_mode = match l.as_str() {
                x if x.starts_with('d') => "default",
                x if x.starts_with('l') => "loadlevel",
                x if x.starts_with('p') => "price",
                x if x.starts_with('e') => "external",
                x if x.starts_with('f') => "follow",
                _ => {
                    return Err(Diagnostic::new(format!(
                        "'{}' is not a storage dispatch mode",
                        p.value
                    ))
                    .with_hint(Some(
                        "OpenDSS accepts: default, loadlevel, price, external, follow".into(),
                    ))
                    .at_column(p.col))
                }
            }
            .to_string();
        }
        "enabled" => s.enabled = value::boolean(p)?,
        other if super::common(other) => {}
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pf_to_kvar() {
        assert!((kvar_from_pf(1.0, 0.95) - 0.328_684_66).abs() < 1e-6);
        assert!(kvar_from_pf(1.0, -0.95) < 0.0);
        assert_eq!(kvar_from_pf(1.0, 1.0), 0.0);
    }
}
