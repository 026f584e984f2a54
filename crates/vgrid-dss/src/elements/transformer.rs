//! `Transformer` (and `XfmrCode`, replayed onto transformers).
//!
//! Winding properties (`bus conn kv kva tap %r rneut xneut maxtap mintap numtaps`) apply to the
//! active winding chosen with `wdg=`; the array forms (`buses= conns= kvs= kvas= taps= %rs=`)
//! set every winding in order. OpenDSS's coupled defaults are kept:
//!
//! ```text
//! kva on winding 1      -> every winding's kva, normhkva = 1.1 kva, emerghkva = 1.5 kva
//! kva on winding 2 (2-winding) -> winding 1 too
//! %loadloss=x           -> %r of windings 1 and 2 = x / 2
//! XHL=0                 -> 7 (zero is trapped to the default, like XHT 35 and XLT 30)
//! windings=n            -> every winding back to defaults (12.47 kV, 1000 kVA, 0.2 %r ...)
//! ```
//! Reactances are % on winding 1's kVA; `x_sc_pct` in the model is `[XHL]`, `[XHL, XHT, XLT]`
//! or OpenDSS's `XscArray` for more windings.

use super::{default_bus, put, Ctx};
use crate::error::{did_you_mean, Diagnostic};
use crate::lexer::Param;
use crate::value::{self, Res};
use vgrid_model::{Connection, Transformer, Winding};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct XfState {
    pub active: usize,
    pub xhl: f64,
    pub xht: f64,
    pub xlt: f64,
    pub xsc: Vec<f64>,
    pub xhl_changed: bool,
}

fn default_winding(name: &str, k: usize) -> Winding {
    Winding {
        bus: default_bus(name, k),
        conn: Connection::Wye,
        kv: 12.47,
        kva: 1000.0,
        pct_r: 0.2,
        r_neutral_ohm: -1.0,
        x_neutral_ohm: 0.0,
        tap_pu: 1.0,
        min_tap_pu: 0.9,
        max_tap_pu: 1.1,
        num_taps: 32,
    }
}

pub(crate) fn create(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store.transformers.insert(
        name.to_string(),
        XfState {
            active: 1,
            xhl: 7.0,
            xht: 35.0,
            xlt: 30.0,
            xsc: vec![7.0],
            xhl_changed: false,
        },
    );
    let t = Transformer {
        name: name.to_string(),
        phases: 3,
        windings: vec![default_winding(name, 1), default_winding(name, 2)],
        x_sc_pct: vec![7.0],
        pct_noload_loss: 0.0,
        pct_imag: 0.0,
        ppm_antifloat: 1.0,
        norm_hkva: 1100.0,
        emerg_hkva: 1500.0,
        bank: None,
        is_substation: false,
        enabled: true,
    };
    put(&mut ctx.net.transformers, existing, t)
}

fn fresh_state() -> XfState {
    XfState {
        active: 1,
        xhl: 7.0,
        xht: 35.0,
        xlt: 30.0,
        xsc: vec![7.0],
        xhl_changed: false,
    }
}

pub(crate) fn set(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let mut st = ctx
        .store
        .transformers
        .remove(name)
        .unwrap_or_else(fresh_state);
    let r = set_inner(ctx, i, &mut st, prop, p);
    ctx.store.transformers.insert(name.to_string(), st);
    r.map_err(|d| d.at_column(p.col))
}

/// Apply one property; also used to replay an `XfmrCode`.
fn set_inner(ctx: &mut Ctx, i: usize, st: &mut XfState, prop: &str, p: &Param) -> Res<()> {
    if prop == "xfmrcode" {
        let code = value::name(p);
        let Some(props) = ctx.store.xfmrcodes.get(&code).cloned() else {
            return Err(
                Diagnostic::new(format!("XfmrCode.{code} is not defined")).with_hint(did_you_mean(
                    &code,
                    ctx.store.xfmrcode_order.iter().map(String::as_str),
                )),
            );
        };
        for (prop, p) in &props {
            set_inner(ctx, i, st, prop, &p.as_param())?;
        }
        return Ok(());
    }
    let t = &mut ctx.net.transformers[i];
    if t.windings.is_empty() {
        // only possible if the host emptied the table; restore OpenDSS's two windings
        t.windings = vec![default_winding(&t.name, 1), default_winding(&t.name, 2)];
    }
    let nw = t.windings.len();
    let w = st.active.clamp(1, nw) - 1;
    let percent_x = |p: &Param, dflt: f64| -> Res<f64> {
        let v = value::number(p)?;
        Ok(if v == 0.0 { dflt } else { v })
    };
    match prop {
        "phases" => t.phases = value::count(p, 1, 100)?,
        "windings" => {
            let n = value::count(p, 2, 100)?;
            let old = nw;
            t.windings = (1..=n).map(|k| default_winding(&t.name, k)).collect();
            let size = n * (n - 1) / 2;
            let _ = old;
            st.xsc.resize(size, 30.0);
            st.active = 1;
        }
        "wdg" => {
            let k = value::count(p, 1, 100)?;
            if k > nw {
                return Err(Diagnostic::new(format!(
                    "winding {k} does not exist (windings={nw})"
                )));
            }
            st.active = k;
        }
        "bus" => t.windings[w].bus = value::bus(p)?,
        "conn" => t.windings[w].conn = value::connection(p)?,
        "kv" => t.windings[w].kv = value::number(p)?,
        "kva" => {
            let v = value::number(p)?;
            t.windings[w].kva = v;
            if w == 0 {
                for x in t.windings.iter_mut() {
                    x.kva = v;
                }
                t.norm_hkva = 1.1 * v;
                t.emerg_hkva = 1.5 * v;
            } else if nw == 2 {
                t.windings[0].kva = v;
            }
        }
        "tap" => t.windings[w].tap_pu = value::number(p)?,
        "%r" => t.windings[w].pct_r = value::number(p)?,
        "rneut" => t.windings[w].r_neutral_ohm = value::number(p)?,
        "xneut" => t.windings[w].x_neutral_ohm = value::number(p)?,
        "maxtap" => t.windings[w].max_tap_pu = value::number(p)?,
        "mintap" => t.windings[w].min_tap_pu = value::number(p)?,
        "numtaps" => t.windings[w].num_taps = value::count(p, 0, 100_000)? as u32,
        "buses" => {
            let words = value::words(p);
            check_len(words.len(), nw)?;
            for (k, b) in words.iter().enumerate().take(nw) {
                t.windings[k].bus = value::parse_bus(b).map_err(Diagnostic::new)?;
            }
        }
        "conns" => {
            let words = value::words(p);
            check_len(words.len(), nw)?;
            for (k, c) in words.iter().enumerate().take(nw) {
                t.windings[k].conn = value::parse_connection(c)
                    .ok_or_else(|| Diagnostic::new(format!("'{c}' is not a connection")))?;
            }
        }
        "kvs" | "kvas" | "taps" | "%rs" => {
            let v = value::array(p)?;
            check_len(v.len(), nw)?;
            for (k, x) in v.iter().enumerate().take(nw) {
                let wd = &mut t.windings[k];
                match prop {
                    "kvs" => wd.kv = *x,
                    "kvas" => wd.kva = *x,
                    "taps" => wd.tap_pu = *x,
                    _ => wd.pct_r = *x,
                }
            }
            if prop == "kvas" {
                if let Some(k1) = t.windings.first().map(|w| w.kva) {
                    t.norm_hkva = 1.1 * k1;
                    t.emerg_hkva = 1.5 * k1;
                }
            }
        }
        "xhl" | "x12" => {
            st.xhl = percent_x(p, 7.0)?;
            st.xhl_changed = true;
        }
        "xht" | "x13" => {
            st.xht = percent_x(p, 35.0)?;
            st.xhl_changed = true;
        }
        "xlt" | "x23" => {
            st.xlt = percent_x(p, 30.0)?;
            st.xhl_changed = true;
        }
        "xscarray" => {
            let v = value::array(p)?;
            let size = nw * (nw - 1) / 2;
            st.xsc.resize(size, 30.0);
            for (k, x) in v.iter().enumerate().take(size) {
                st.xsc[k] = *x;
            }
        }
        "%loadloss" => {
            let v = value::number(p)?;
            for wd in t.windings.iter_mut().take(2) {
                wd.pct_r = v / 2.0;
            }
        }
        "%noloadloss" => t.pct_noload_loss = value::number(p)?,
        "%imag" => t.pct_imag = value::number(p)?,
        "ppm_antifloat" => t.ppm_antifloat = value::number(p)?,
        "normhkva" => t.norm_hkva = value::number(p)?,
        "emerghkva" => t.emerg_hkva = value::number(p)?,
        "sub" => t.is_substation = value::boolean(p)?,
        "bank" => t.bank = Some(p.value.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()),
        "enabled" => t.enabled = value::boolean(p)?,
        "thermal" | "n" | "m" | "flrise" | "hsrise" | "subname" | "xrconst" | "leadlag"
        | "wdgcurrents" | "core" | "rdcohms" | "normamps" | "emergamps" | "basefreq" => {}
        other if super::common(other) => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of Transformer is not supported"
            )))
        }
    }
    Ok(())
}

fn check_len(given: usize, windings: usize) -> Res<()> {
    if given > windings {
        return Err(Diagnostic::new(format!(
            "{given} values given for {windings} windings (set windings= first)"
        )));
    }
    Ok(())
}

pub(crate) fn finish(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    let Some(st) = ctx.store.transformers.get_mut(name) else {
        return Ok(());
    };
    let t = &mut ctx.net.transformers[i];
    let nw = t.windings.len();
    let size = nw * nw.saturating_sub(1) / 2;
    st.xsc.resize(size, 30.0);
    if st.xhl_changed && nw <= 3 {
        let src = [st.xhl, st.xht, st.xlt];
        for (k, x) in st.xsc.iter_mut().enumerate() {
            *x = src[k];
        }
    }
    st.xhl_changed = false;
    t.x_sc_pct = st.xsc.clone();
    Ok(())
}
