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
    RegControl,
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
