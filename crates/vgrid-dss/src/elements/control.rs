//! Controls and devices: `RegControl`, `CapControl`, `Fuse`/`Recloser`/`Relay`/`SwtControl`,
//! `EnergyMeter`/`Monitor`.
//!
//! A regulator control names its transformer and the winding it watches; the tap winding
//! defaults to that winding. Settings are on the PT secondary (120 V base):
//!
//! ```text
//! new regcontrol.Reg1 transformer=Reg1 winding=2 vreg=122 band=2 ptratio=20 ctprim=700 R=3 X=9
//! ```
//! Switching devices record their state; an open device (`state=open`, `action=open` or
//! `normal=open`) adds an [`vgrid_model::OpenTerminal`] on the switched element's terminal,
//! closing it removes that entry again.

use super::{element_ref, put, Ctx};
use crate::classes::Class;
use crate::error::Diagnostic;
use crate::lexer::Param;
use crate::value::{self, Res};
use vgrid_model::{
    CapControl, CapControlKind, ElementId, ElementKind, Meter, OpenTerminal, ProtectiveDevice,
    RegControl, StorageChargeMode, StorageController, StorageDischargeMode,
};

fn elem(p: &Param) -> Res<ElementId> {
    element_ref(p.value).map_err(|m| Diagnostic::new(m).at_column(p.col))
}

pub(crate) fn create_capcontrol(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    let c = CapControl {
        name: name.to_string(),
        element: ElementId {
            kind: ElementKind::Line,
            name: String::new(),
        },
        terminal: 1,
        capacitor: String::new(),
        kind: CapControlKind::Current,
        on_setting: 300.0,
        off_setting: 200.0,
        delay_s: 15.0,
        delay_off_s: 15.0,
        dead_time_s: 300.0,
        pt_ratio: 60.0,
        ct_ratio: 60.0,
        pt_phase: 1,
        ct_phase: 1,
        volt_override: false,
        vmin_v: 115.0,
        vmax_v: 126.0,
        enabled: true,
    };
    put(&mut ctx.net.cap_controls, existing, c)
}

/// `1`, `2`... or `avg`/`max`/`min` (codes given by the caller).
fn phase(p: &Param, avg: Option<i32>, max: i32, min: i32) -> Res<i32> {
    let l = p.value.trim().to_ascii_lowercase();
    if l.starts_with("max") {
        return Ok(max);
    }
    if l.starts_with("min") {
        return Ok(min);
    }
    if let (true, Some(a)) = (l.starts_with("av"), avg) {
        return Ok(a);
    }
    let v = value::integer(p)?;
    if !(1..=100).contains(&v) {
        return Err(Diagnostic::new(format!("phase {v} is out of range")).at_column(p.col));
    }
    Ok(v as i32)
}

pub(crate) fn set_capcontrol(ctx: &mut Ctx, i: usize, prop: &str, p: &Param) -> Res<()> {
    let c = &mut ctx.net.cap_controls[i];
    match prop {
        "element" => c.element = elem(p)?,
        "terminal" => c.terminal = value::count(p, 1, 100)?,
        "capacitor" => {
            let n = value::name(p);
            c.capacitor = n.strip_prefix("capacitor.").unwrap_or(&n).to_string();
        }
        "type" => {
            let l = p.value.trim().to_ascii_lowercase();
            c.kind = if l.starts_with("c") {
                CapControlKind::Current
            } else if l.starts_with('v') {
                CapControlKind::Voltage
            } else if l.starts_with('k') {
                CapControlKind::Kvar
            } else if l.starts_with('p') {
                CapControlKind::PowerFactor
            } else if l.starts_with('t') {
                CapControlKind::Time
            } else {
                return Err(
                    Diagnostic::new(format!("'{}' is not a CapControl type", p.value))
                        .with_hint(Some(
                            "OpenDSS accepts: current, voltage, kvar, pf, time".into(),
                        ))
                        .at_column(p.col),
                );
            };
        }
        "ptratio" => c.pt_ratio = value::number(p)?,
        "ctratio" => c.ct_ratio = value::number(p)?,
        "onsetting" => c.on_setting = value::number(p)?,
        "offsetting" => c.off_setting = value::number(p)?,
        "delay" => c.delay_s = value::number(p)?,
        "voltoverride" => c.volt_override = value::boolean(p)?,
        "vmax" => c.vmax_v = value::number(p)?,
        "vmin" => c.vmin_v = value::number(p)?,
        "delayoff" => c.delay_off_s = value::number(p)?,
        "deadtime" => c.dead_time_s = value::number(p)?,
        "ctphase" => c.ct_phase = phase(p, Some(0), -1, -2)?,
        "ptphase" => c.pt_phase = phase(p, Some(0), -1, -2)?,
        "enabled" => c.enabled = value::boolean(p)?,
        "vbus" => {
            ctx.warnings.push(Diagnostic::new(
                "CapControl vbus is not modelled; the monitored terminal is used",
            ));
        }
        _ => {}
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RegState {
    pub tap_winding_set: bool,
    pub tap_num: Option<i64>,
}

pub(crate) fn create_regcontrol(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store
        .regcontrols
        .insert(name.to_string(), RegState::default());
    let r = RegControl::new(name, "");
    put(&mut ctx.net.reg_controls, existing, r)
}

pub(crate) fn set_regcontrol(
    ctx: &mut Ctx,
    i: usize,
    name: &str,
    prop: &str,
    p: &Param,
) -> Res<()> {
    if prop == "transformer" {
        let n = value::name(p);
        let n = n.strip_prefix("transformer.").unwrap_or(&n).to_string();
        if !ctx.net.transformers.iter().any(|t| t.name == n) {
            return Err(Diagnostic::new(format!("Transformer.{n} is not defined"))
                .with_hint(crate::error::did_you_mean(
                    &n,
                    ctx.net.transformers.iter().map(|t| t.name.as_str()),
                ))
                .at_column(p.col));
        }
        ctx.net.reg_controls[i].transformer = n;
        return Ok(());
    }
    let st = ctx.store.regcontrols.entry(name.to_string()).or_default();
    let r = &mut ctx.net.reg_controls[i];
    match prop {
        "winding" => r.winding = value::count(p, 1, 100)?,
        "vreg" => r.vreg_v = value::number(p)?,
        "band" => r.band_v = value::number(p)?,
        "ptratio" => r.pt_ratio = value::number(p)?,
        "ctprim" => r.ct_prim_a = value::number(p)?,
        "r" => r.r_ldc_v = value::number(p)?,
        "x" => r.x_ldc_v = value::number(p)?,
        "bus" => {
            let t = p.value.trim();
            r.bus = if t.is_empty() {
                None
            } else {
                Some(value::bus(p)?)
            };
        }
        "delay" => r.delay_s = value::number(p)?,
        "reversible" => r.reversible = value::boolean(p)?,
        "revvreg" => r.rev_vreg_v = value::number(p)?,
        "revband" => r.rev_band_v = value::number(p)?,
        "revr" => r.rev_r_ldc_v = value::number(p)?,
        "revx" => r.rev_x_ldc_v = value::number(p)?,
        "tapdelay" => r.tap_delay_s = value::number(p)?,
        "maxtapchange" => r.max_tap_change = value::count(p, 0, 1_000_000)? as u32,
        "inversetime" => r.inverse_time = value::boolean(p)?,
        "tapwinding" => {
            r.tap_winding = value::count(p, 1, 100)?;
            st.tap_winding_set = true;
        }
        "vlimit" => r.v_limit_v = value::number(p)?,
        "ptphase" => r.pt_phase = phase(p, None, 0, -1)?,
        "revthreshold" => r.rev_threshold_kw = value::number(p)?,
        "ldc_z" => r.ldc_z_v = value::number(p)?,
        "tapnum" => st.tap_num = Some(value::integer(p)?),
        "enabled" => r.enabled = value::boolean(p)?,
        "cogen" | "rev_z" | "revneutral"
            if value::parse_bool(p.value) == Some(true) || prop == "rev_z" =>
        {
            ctx.warnings.push(Diagnostic::new(format!(
                "RegControl {prop} is not modelled"
            )));
        }
        _ => {}
    }
    Ok(())
}

pub(crate) fn finish_regcontrol(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    let Some(st) = ctx.store.regcontrols.get_mut(name) else {
        return Ok(());
    };
    let r = &mut ctx.net.reg_controls[i];
    if !st.tap_winding_set {
        r.tap_winding = r.winding;
    }
    // `TapNum=` moves the transformer's tap now: tap = 1 + n × (max − min) / numtaps.
    if let Some(n) = st.tap_num.take() {
        let (tname, w) = (r.transformer.clone(), r.tap_winding);
        if let Some(t) = ctx.net.transformers.iter_mut().find(|t| t.name == tname) {
            if let Some(wd) = t.windings.get_mut(w.saturating_sub(1)) {
                let inc = if wd.num_taps > 0 {
                    (wd.max_tap_pu - wd.min_tap_pu) / wd.num_taps as f64
                } else {
                    0.0
                };
                wd.tap_pu = (1.0 + n as f64 * inc).clamp(wd.min_tap_pu, wd.max_tap_pu);
            }
        }
    }
    Ok(())
}

/// The dead-band bookkeeping of a storage controller (OpenDSS keeps the band as a % of the
/// target or as kW, whichever was given last).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StorageControllerState {
    pub pct_band: f64,
    pub pct_band_low: f64,
}

impl Default for StorageControllerState {
    fn default() -> Self {
        StorageControllerState {
            pct_band: 2.0,
            pct_band_low: 2.0,
        }
    }
}

pub(crate) fn create_storage_controller(
    ctx: &mut Ctx,
    name: &str,
    existing: Option<usize>,
) -> usize {
    ctx.store
        .storage_controllers
        .insert(name.to_string(), StorageControllerState::default());
    let c = StorageController {
        name: name.to_string(),
        element: None,
        terminal: 1,
        mon_phase: -2,
        kw_target: 8000.0,
        kw_target_low: 4000.0,
        half_kw_band: 80.0,
        half_kw_band_low: 40.0,
        elements: Vec::new(),
        weights: Vec::new(),
        mode_discharge: StorageDischargeMode::PeakShave,
        mode_charge: StorageChargeMode::Time,
        time_discharge_trigger_h: -1.0,
        time_charge_trigger_h: 2.0,
        pct_rate_kw: 20.0,
        pct_rate_charge: 20.0,
        pct_reserve: 25.0,
        inhibit_time_h: 5,
        disp_factor: 1.0,
        reset_level: 0.8,
        kw_threshold: 6000.0,
        yearly: None,
        daily: None,
        duty: None,
        enabled: true,
    };
    put(&mut ctx.net.storage_controllers, existing, c)
}

/// `StorageController` properties with OpenDSS's side effects (`StorageController.pas`
/// `PropertySideEffects`), in the order given.
pub(crate) fn set_storage_controller(
    ctx: &mut Ctx,
    i: usize,
    name: &str,
    prop: &str,
    p: &Param,
) -> Res<()> {
    let st = ctx
        .store
        .storage_controllers
        .entry(name.to_string())
        .or_default();
    let c = &mut ctx.net.storage_controllers[i];
    let bad = |what: &str, accepted: &str| {
        Diagnostic::new(format!("'{}' is not a StorageController {what}", p.value))
            .with_hint(Some(format!("OpenDSS accepts: {accepted}")))
            .at_column(p.col)
    };
    match prop {
        "element" => c.element = Some(elem(p)?),
        "terminal" => c.terminal = value::count(p, 1, 100)?,
        "monphase" => c.mon_phase = phase(p, Some(-1), -2, -3)?,
        "kwtarget" => {
            c.kw_target = value::number(p)?;
            c.kw_threshold = 0.75 * c.kw_target;
            c.half_kw_band = st.pct_band / 200.0 * c.kw_target;
        }
        "%kwband" => {
            st.pct_band = value::number(p)?;
            c.half_kw_band = st.pct_band / 200.0 * c.kw_target;
        }
        "kwband" => {
            let band = value::number(p)?;
            c.half_kw_band = band / 2.0;
            st.pct_band = band / c.kw_target * 100.0;
        }
        "kwtargetlow" | "%kwbandlow" => {
            if prop == "kwtargetlow" {
                c.kw_target_low = value::number(p)?;
            } else {
                st.pct_band_low = value::number(p)?;
            }
            c.half_kw_band_low = st.pct_band_low / 200.0 * c.kw_target_low;
        }
        "kwbandlow" => {
            let band = value::number(p)?;
            c.half_kw_band_low = band / 2.0;
            // OpenDSS writes this into the high band's percentage
            st.pct_band = band / c.kw_target * 100.0;
        }
        "elementlist" => {
            c.elements = value::words(p)
                .into_iter()
                .map(|w| {
                    let w = w.trim().to_ascii_lowercase();
                    w.strip_prefix("storage.").unwrap_or(&w).to_string()
                })
                .filter(|w| !w.is_empty())
                .collect();
            c.weights = vec![1.0; c.elements.len()];
        }
        "weights" => {
            let w = value::array(p)?;
            for (k, x) in w.into_iter().enumerate().take(c.weights.len()) {
                c.weights[k] = x;
            }
        }
        "modedischarge" => {
            let l = value::name(p);
            c.mode_discharge = match l.as_str() {
                x if x.starts_with("pe") => StorageDischargeMode::PeakShave,
                x if x.starts_with('f') => StorageDischargeMode::Follow,
                x if x.starts_with("su") => StorageDischargeMode::Support,
                x if x.starts_with('l') => StorageDischargeMode::LoadShape,
                x if x.starts_with('t') => StorageDischargeMode::Time,
                x if x.starts_with("sc") => StorageDischargeMode::Schedule,
                x if x.starts_with("i-") => StorageDischargeMode::CurrentPeakShave,
                _ => {
                    return Err(bad(
                        "discharge mode",
                        "peakshave, follow, support, loadshape, time, schedule, i-peakshave",
                    ))
                }
            };
            if c.mode_discharge == StorageDischargeMode::Follow {
                c.time_discharge_trigger_h = 12.0;
            }
        }
        "modecharge" => {
            let l = value::name(p);
            c.mode_charge = match l.as_str() {
                x if x.starts_with('l') => StorageChargeMode::LoadShape,
                x if x.starts_with('t') => StorageChargeMode::Time,
                x if x.starts_with('p') => StorageChargeMode::PeakShaveLow,
                x if x.starts_with("i-") => StorageChargeMode::CurrentPeakShaveLow,
                _ => {
                    return Err(bad(
                        "charge mode",
                        "loadshape, time, peakshavelow, i-peakshavelow",
                    ))
                }
            };
        }
        "timedischargetrigger" => c.time_discharge_trigger_h = value::number(p)?,
        "timechargetrigger" => c.time_charge_trigger_h = value::number(p)?,
        "%ratekw" => c.pct_rate_kw = value::number(p)?,
        "%ratecharge" => c.pct_rate_charge = value::number(p)?,
        "%reserve" => c.pct_reserve = value::number(p)?,
        "inhibittime" => c.inhibit_time_h = value::count(p, 0, 1_000_000)?.max(1) as u32,
        "kwthreshold" => c.kw_threshold = value::number(p)?,
        "dispfactor" => {
            let f = value::number(p)?;
            c.disp_factor = if f <= 0.0 || f > 1.0 { 1.0 } else { f };
        }
        "resetlevel" => c.reset_level = value::number(p)?,
        "yearly" | "daily" | "duty" => {
            let n = value::name(p);
            let n = Some(n).filter(|n| !n.is_empty() && n != "none");
            match prop {
                "yearly" => c.yearly = n,
                "daily" => c.daily = n,
                _ => c.duty = n,
            }
        }
        "enabled" => c.enabled = value::boolean(p)?,
        _ => {}
    }
    Ok(())
}

pub(crate) fn create_device(
    ctx: &mut Ctx,
    class: Class,
    name: &str,
    existing: Option<usize>,
) -> usize {
    let kind = super::element_kind(class).unwrap_or(ElementKind::Fuse);
    let d = ProtectiveDevice {
        kind,
        name: name.to_string(),
        monitored: None,
        monitored_terminal: 1,
        switched: None,
        switched_terminal: 1,
        closed: true,
        enabled: true,
        pickup_a: None,
    };
    put(&mut ctx.net.protective_devices, existing, d)
}

fn open_closed(p: &Param) -> Res<bool> {
    // First word (arrays like [open open open] for fuses use the first phase).
    let words = value::words(p);
    let w = words
        .first()
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    if w.starts_with('o') || w.starts_with('t') {
        Ok(false)
    } else if w.starts_with('c') || w.starts_with('r') {
        Ok(true)
    } else {
        Err(
            Diagnostic::new(format!("'{}' is neither open nor close", p.value))
                .with_hint(Some("OpenDSS accepts: open, close (trip, reset)".into()))
                .at_column(p.col),
        )
    }
}

pub(crate) fn set_device(ctx: &mut Ctx, i: usize, prop: &str, p: &Param) -> Res<()> {
    let d = &mut ctx.net.protective_devices[i];
    match prop {
        "monitoredobj" => {
            d.monitored = Some(elem(p)?);
            if d.switched.is_none() {
                d.switched = d.monitored.clone();
            }
        }
        "monitoredterm" => {
            d.monitored_terminal = value::count(p, 1, 100)?;
            d.switched_terminal = d.monitored_terminal;
        }
        "switchedobj" => d.switched = Some(elem(p)?),
        "switchedterm" => d.switched_terminal = value::count(p, 1, 100)?,
        "action" | "state" | "normal" => d.closed = open_closed(p)?,
        "enabled" => d.enabled = value::boolean(p)?,
        "ratedcurrent" if d.kind == ElementKind::Fuse => d.pickup_a = Some(value::number(p)?),
        "phasetrip" if matches!(d.kind, ElementKind::Recloser | ElementKind::Relay) => {
            d.pickup_a = Some(value::number(p)?)
        }
        "lock" if value::parse_bool(p.value) == Some(true) => {
            ctx.warnings
                .push(Diagnostic::new("SwtControl lock is not modelled"));
        }
        _ => {}
    }
    Ok(())
}

/// Keep `open_terminals` in step with the device state.
pub(crate) fn finish_device(ctx: &mut Ctx, i: usize) -> Res<()> {
    let d = &ctx.net.protective_devices[i];
    let key = (d.kind, d.name.clone());
    let wanted = match &d.switched {
        Some(sw) if !d.closed && d.enabled => Some(OpenTerminal {
            element: sw.clone(),
            terminal: d.switched_terminal,
            conductor: None,
        }),
        _ => None,
    };
    let ot = &mut ctx.net.open_terminals;
    if let Some(prev) = ctx.store.device_open.remove(&key) {
        if let Some(k) = ot.iter().position(|o| *o == prev) {
            ot.remove(k);
        }
    }
    if let Some(w) = wanted {
        if !ot.contains(&w) {
            ot.push(w.clone());
        }
        ctx.store.device_open.insert(key, w);
    }
    Ok(())
}

pub(crate) fn create_meter(
    ctx: &mut Ctx,
    class: Class,
    name: &str,
    existing: Option<usize>,
) -> usize {
    let m = Meter {
        kind: super::element_kind(class).unwrap_or(ElementKind::EnergyMeter),
        name: name.to_string(),
        element: None,
        terminal: 1,
        mode: 0,
        enabled: true,
    };
    put(&mut ctx.net.meters, existing, m)
}

pub(crate) fn set_meter(ctx: &mut Ctx, i: usize, prop: &str, p: &Param) -> Res<()> {
    let m = &mut ctx.net.meters[i];
    match prop {
        "element" => m.element = Some(elem(p)?),
        "terminal" => m.terminal = value::count(p, 1, 100)?,
        "mode" => m.mode = value::integer(p)?,
        "enabled" => m.enabled = value::boolean(p)?,
        _ => {}
    }
    Ok(())
}
