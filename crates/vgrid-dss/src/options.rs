//! `Set` options (and the options `Solve` accepts inline).
//!
//! Options that change the solution go to [`vgrid_model::Settings`] or the network; display
//! and report options are accepted and ignored; options that would change results but are not
//! modelled produce a warning; unknown options are errors (warnings when lenient).
//!
//! ```text
//! Set mode=daily number=1440 stepsize=1m     mode Daily (resets number=24, step=1h), then 1440 × 60 s
//! Set voltagebases=[115, 4.16, .48]
//! Set controlmode=OFF  maxcontroliter=30  tolerance=1e-6
//! ```

use crate::classes::resolve_property;
use crate::error::Diagnostic;
use crate::lexer::Param;
use crate::value::{self, Res};
use vgrid_model::{Algorithm, ControlMode, EarthModel, Network, SolveMode};

/// OpenDSS's option names, in its order (abbreviations match the first in this order).
pub(crate) const OPTIONS: &[&str] = &[
    "type",
    "element",
    "hour",
    "sec",
    "year",
    "frequency",
    "stepsize",
    "mode",
    "random",
    "number",
    "time",
    "class",
    "object",
    "circuit",
    "editor",
    "tolerance",
    "maxiterations",
    "h",
    "loadmodel",
    "loadmult",
    "normvminpu",
    "normvmaxpu",
    "emergvminpu",
    "emergvmaxpu",
    "%mean",
    "%stddev",
    "ldcurve",
    "%growth",
    "genkw",
    "genpf",
    "capkvar",
    "addtype",
    "allowduplicates",
    "zonelock",
    "ueweight",
    "lossweight",
    "ueregs",
    "lossregs",
    "voltagebases",
    "algorithm",
    "trapezoidal",
    "autobuslist",
    "controlmode",
    "tracecontrol",
    "genmult",
    "defaultdaily",
    "defaultyearly",
    "allocationfactors",
    "cktmodel",
    "pricesignal",
    "pricecurve",
    "terminal",
    "basefrequency",
    "harmonics",
    "maxcontroliter",
    "bus",
    "datapath",
    "keeplist",
    "reduceoption",
    "demandinterval",
    "%normal",
    "diverbose",
    "casename",
    "markercode",
    "nodewidth",
    "log",
    "recorder",
    "overloadreport",
    "voltexceptionreport",
    "cfactors",
    "showexport",
    "numallociterations",
    "defaultbasefrequency",
    "markswitches",
    "switchmarkercode",
    "daisysize",
    "marktransformers",
    "transmarkercode",
    "transmarkersize",
    "loadshapeclass",
    "earthmodel",
    "querylog",
    "markcapacitors",
    "markregulators",
    "markpvsystems",
    "markstorage",
    "capmarkercode",
    "regmarkercode",
    "pvmarkercode",
    "storemarkercode",
    "capmarkersize",
    "regmarkersize",
    "pvmarkersize",
    "storemarkersize",
    "neglectloady",
    "markfuses",
    "fusemarkercode",
    "fusemarkersize",
    "markreclosers",
    "reclosermarkercode",
    "reclosermarkersize",
    "registryupdate",
    "markrelays",
    "relaymarkercode",
    "relaymarkersize",
    "processtime",
    "totaltime",
    "steptime",
    "sampleenergymeters",
    "miniterations",
    "dssvisualizationtool",
    "keepload",
    "zmag",
    "seasonrating",
    "seasonsignal",
    "linetypes",
    "eventlogdefault",
    "longlinecorrection",
    "showreports",
    "numcpus",
    "numcores",
    "numactors",
    "activeactor",
    "cpu",
    "actorprogress",
    "parallel",
    "concatenatereports",
    "numanodes",
];

/// What applying an option produced besides a settings change.
pub(crate) enum Outcome {
    Done,
    /// Accepted but not modelled: the message explains what is ignored.
    NotModelled(String),
}

/// Resolve an option name (exact, else first prefix match).
pub(crate) fn resolve(name: &str) -> Option<&'static str> {
    resolve_property(OPTIONS, name).and_then(|i| OPTIONS.get(i).copied())
}

fn mode(p: &Param) -> Res<(SolveMode, Option<String>)> {
    let l = p.value.trim().to_ascii_lowercase();
    let m = if l.starts_with("s") {
        SolveMode::Snapshot
    } else if l.starts_with("dai") {
        SolveMode::Daily
    } else if l.starts_with('y') {
        SolveMode::Yearly
    } else if l.starts_with("du") {
        SolveMode::Duty
    } else if l.starts_with("dir") {
        return Ok((
            SolveMode::Snapshot,
            Some("mode=direct is solved as a snapshot power flow".into()),
        ));
    } else {
        return Err(
            Diagnostic::new(format!("solution mode '{}' is not supported", p.value))
                .with_hint(Some(
                    "vgrid supports: snapshot, daily, yearly, dutycycle (and direct as snapshot)"
                        .into(),
                ))
                .at_column(p.col),
        );
    };
    Ok((m, None))
}

/// OpenDSS's `InterpretEarthModel`: by the first letter, anything else is Carson.
pub(crate) fn earth_model(p: &Param) -> EarthModel {
    let first = p
        .value
        .trim()
        .bytes()
        .next()
        .map(|b| b.to_ascii_lowercase());
    match first {
        Some(b'f') => EarthModel::FullCarson,
        Some(b'd') => EarthModel::Deri,
        _ => EarthModel::Carson,
    }
}

/// Apply one option to the network settings.
pub(crate) fn apply(net: &mut Network, opt: &str, p: &Param) -> Res<Outcome> {
    let s = &mut net.settings;
    match opt {
        "mode" => {
            let (m, note) = mode(p)?;
            s.mode = m;
            match m {
                SolveMode::Snapshot => s.number = 1,
                SolveMode::Daily => {
                    s.number = 24;
                    s.step_size_s = 3600.0;
                    s.hour = 0.0;
                    s.sec = 0.0;
                }
                SolveMode::Yearly => {
                    s.number = 8760;
                    s.step_size_s = 3600.0;
                    s.hour = 0.0;
                    s.sec = 0.0;
                }
                SolveMode::Duty => {
                    s.number = 100;
                    s.step_size_s = 1.0;
                    s.hour = 0.0;
                    s.sec = 0.0;
                }
            }
            if let Some(n) = note {
                return Ok(Outcome::NotModelled(n));
            }
        }
        "controlmode" => {
            let l = p.value.trim().to_ascii_lowercase();
            s.control_mode = if l.starts_with('s') {
                ControlMode::Static
            } else if l.starts_with('e') {
                ControlMode::Event
            } else if l.starts_with('t') {
                ControlMode::Time
            } else if l.starts_with('o') {
                ControlMode::Off
            } else {
                return Err(Diagnostic::new(format!(
                    "control mode '{}' is not supported",
                    p.value
                ))
                .with_hint(Some("OpenDSS accepts: static, event, time, off".into()))
                .at_column(p.col));
            };
        }
        "algorithm" => {
            let l = p.value.trim().to_ascii_lowercase();
            s.algorithm = if l.starts_with("ne") {
                Algorithm::Newton
            } else if l.starts_with("no") || l == "n" {
                Algorithm::FixedPoint
            } else {
                return Err(
                    Diagnostic::new(format!("algorithm '{}' is not supported", p.value))
                        .with_hint(Some("OpenDSS accepts: normal, newton".into()))
                        .at_column(p.col),
                );
            };
        }
        "maxiterations" => s.max_iterations = value::count(p, 1, 1_000_000)? as u32,
        "maxcontroliter" => s.max_control_iterations = value::count(p, 1, 1_000_000)? as u32,
        "tolerance" => s.tolerance_pu = value::number(p)?,
        "loadmult" => s.load_mult = value::number(p)?,
        "number" => s.number = value::count(p, 1, 1_000_000_000)? as u32,
        "stepsize" | "h" => s.step_size_s = value::duration_s(p)?,
        "hour" => s.hour = value::number(p)?,
        "sec" => s.sec = value::number(p)?,
        "time" => {
            let v = value::array(p)?;
            s.hour = v.first().copied().unwrap_or(0.0);
            s.sec = v.get(1).copied().unwrap_or(0.0);
        }
        "defaultdaily" => s.default_daily = Some(value::name(p)).filter(|x| !x.is_empty()),
        "defaultyearly" => s.default_yearly = Some(value::name(p)).filter(|x| !x.is_empty()),
        "defaultbasefrequency" | "basefrequency" => {
            let f = value::number(p)?;
            if f <= 0.0 {
                return Err(Diagnostic::new("base frequency must be positive").at_column(p.col));
            }
            s.default_base_frequency_hz = f;
            net.base_frequency_hz = f;
        }
        "voltagebases" => net.voltage_bases_kv = value::array(p)?,
        "loadmodel" if p.value.trim().to_ascii_lowercase().starts_with('a') => {
            return Ok(Outcome::NotModelled(
                "loadmodel=admittance is not modelled; loads use the power-flow model".into(),
            ));
        }
        "frequency" => {
            let f = value::number(p)?;
            if (f - net.base_frequency_hz).abs() > 1e-9 {
                return Ok(Outcome::NotModelled(format!(
                    "solution frequency {f} Hz is not modelled; vgrid solves at the base frequency"
                )));
            }
        }
        // year 1 (and 0) leave loads at their base values; later years apply load growth
        "year" if value::number(p)? > 1.0 => {
            return Ok(Outcome::NotModelled(
                "load growth for year > 1 is not modelled".into(),
            ));
        }
        "genmult" if value::number(p)? != 1.0 => {
            return Ok(Outcome::NotModelled(
                "genmult is not modelled; generators stay at their base output".into(),
            ));
        }
        "cktmodel" if p.value.trim().to_ascii_lowercase().starts_with('p') => {
            return Ok(Outcome::NotModelled(
                "cktmodel=positive is not modelled; the network stays multiphase".into(),
            ));
        }
        "longlinecorrection" if value::parse_bool(p.value) == Some(true) => {
            return Ok(Outcome::NotModelled(
                "long-line correction is not modelled".into(),
            ));
        }
        // these change loads, generators or line constants in ways vgrid does not reproduce
        "earthmodel" => s.earth_model = earth_model(p),
        "random" | "allocationfactors" | "cfactors" | "harmonics" | "loadshapeclass"
        | "trapezoidal" | "keepload" => {
            return Ok(Outcome::NotModelled(
                "not modelled by vgrid; ignored".into(),
            ));
        }
        _ => {} // display, report and bookkeeping options
    }
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &str) -> Param<'_> {
        Param {
            name: Some("x"),
            name_col: 1,
            value: v,
            col: 1,
            quoted: false,
        }
    }

    #[test]
    fn resolve_and_apply() {
        assert_eq!(resolve("maxcontroliter"), Some("maxcontroliter"));
        assert_eq!(resolve("defaultbase"), Some("defaultbasefrequency"));
        assert_eq!(resolve("voltagebase"), Some("voltagebases"));
        assert_eq!(resolve("nosuchoption"), None);
        let mut n = Network::default();
        apply(&mut n, "mode", &p("yearly")).unwrap();
        assert_eq!(n.settings.number, 8760);
        apply(&mut n, "stepsize", &p("15m")).unwrap();
        assert_eq!(n.settings.step_size_s, 900.0);
        apply(&mut n, "controlmode", &p("OFF")).unwrap();
        assert_eq!(n.settings.control_mode, ControlMode::Off);
        assert!(apply(&mut n, "mode", &p("harmonic")).is_err());
    }
}
