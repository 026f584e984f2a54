//! Typed readings of a raw parameter value: numbers (with RPN), integers, booleans, arrays,
//! symmetric matrices, bus names with node lists, connections and length units.
//!
//! ```text
//! kV=4.16                      number
//! XHL=(8 1000 /)               number, RPN because quoted
//! kvs="14.376 14.376"          array (any of [] () "" '' {})
//! rmatrix=(0.34 | 0.15 0.33)   lower-triangle matrix, rows split by |
//! bus1=671.1.2.3               bus 671, nodes [1, 2, 3]
//! ```

use crate::error::Diagnostic;
use crate::lexer::{cells, Param, Token};
use crate::rpn;
use vgrid_model::{BusRef, Connection};

pub(crate) type Res<T> = Result<T, Diagnostic>;

fn err(p: &Param, msg: String) -> Diagnostic {
    Diagnostic::new(msg).at_column(p.col)
}

/// `s.trim()`, returning at once for the usual token that starts and ends with a visible
/// ASCII character (nothing to trim).
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// A number from a token: RPN if quoted.
pub(crate) fn token_number(text: &str, quoted: bool) -> Result<f64, String> {
    if quoted {
        return rpn::eval(text);
    }
    rpn::parse_number(text).ok_or_else(|| format!("'{text}' is not a number"))
}

pub(crate) fn number(p: &Param) -> Res<f64> {
    token_number(p.value, p.quoted).map_err(|m| err(p, m))
}

pub(crate) fn integer(p: &Param) -> Res<i64> {
    let v = number(p)?;
    if v.abs() > 1e15 {
        return Err(err(p, format!("'{}' is out of range", p.value)));
    }
    Ok(v.round() as i64)
}

/// A positive count (phases, windings, steps...), at most `max`.
pub(crate) fn count(p: &Param, min: i64, max: i64) -> Res<usize> {
    let v = integer(p)?;
    if v < min || v > max {
        return Err(err(p, format!("{v} is out of range {min}..={max}")));
    }
    Ok(v as usize)
}

pub(crate) fn boolean(p: &Param) -> Res<bool> {
    parse_bool(p.value).ok_or_else(|| {
        err(p, format!("'{}' is not a yes/no value", p.value)).with_hint(Some(
            "OpenDSS accepts: yes, no, true, false, y, n, t, f".into(),
        ))
    })
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    let t = trim(s);
    if one_of(t, &["y", "yes", "t", "true", "1", "on"]) {
        Some(true)
    } else if one_of(t, &["n", "no", "f", "false", "0", "off"]) {
        Some(false)
    } else {
        None
    }
}

/// `t` is one of the (lower-case) `words`, ignoring letter case.
fn one_of(t: &str, words: &[&str]) -> bool {
    words.iter().any(|w| w.eq_ignore_ascii_case(t))
}

/// A lower-cased name (element reference, shape name...).
pub(crate) fn name(p: &Param) -> String {
    trim(p.value).to_ascii_lowercase()
}

fn tok_number(t: &Token) -> Res<f64> {
    token_number(t.text, t.quoted).map_err(|m| Diagnostic::new(m).at_column(t.col))
}

/// An array of numbers; stops at the first `|` like OpenDSS.
pub(crate) fn array(p: &Param) -> Res<Vec<f64>> {
    cells(p.value, p.col)
        .take_while(|(row, _)| *row == 0)
        .map(|(_, t)| tok_number(&t))
        .collect()
}

/// An array of words (names, connections), borrowed from the value.
pub(crate) fn words<'a>(p: &Param<'a>) -> Vec<&'a str> {
    cells(p.value, p.col).map(|(_, t)| t.text).collect()
}

/// A symmetric `n × n` matrix (row-major) from lower-triangle or full rows split by `|`.
pub(crate) fn sym_matrix(p: &Param, n: usize) -> Res<Vec<f64>> {
    let mut m = vec![0.0; n * n];
    let (mut row, mut j) = (0, 0);
    for (i, t) in cells(p.value, p.col) {
        if i >= n {
            break;
        }
        if i != row {
            (row, j) = (i, 0);
        }
        if j < n {
            let v = tok_number(&t)?;
            m[i * n + j] = v;
            m[j * n + i] = v;
        }
        j += 1;
    }
    Ok(m)
}

/// A bus with optional node list, validated.
pub(crate) fn bus(p: &Param) -> Res<BusRef> {
    parse_bus(p.value).map_err(|m| err(p, m))
}

pub(crate) fn parse_bus(text: &str) -> Result<BusRef, String> {
    let t = trim(text);
    let (bus, mut rest) = split_at_dot(t);
    let bus = trim(bus);
    if bus.is_empty() {
        return Err(format!("'{t}' has no bus name"));
    }
    let dots = rest.map_or(0, |r| r.bytes().filter(|&b| b == b'.').count() + 1);
    let mut nodes = Vec::with_capacity(dots);
    while let Some(r) = rest {
        let (part, next) = split_at_dot(r);
        rest = next;
        let part = trim(part);
        if part.is_empty() {
            continue;
        }
        match node_number(part) {
            Some(n) if n <= 1000 => nodes.push(n),
            _ => return Err(format!("node '{part}' of bus '{t}' is not a node number")),
        }
    }
    Ok(BusRef {
        bus: bus.to_ascii_lowercase(),
        nodes,
    })
}

/// `s` before its first `.`, and what follows the dot (if there is one).
fn split_at_dot(s: &str) -> (&str, Option<&str>) {
    match s.bytes().position(|b| b == b'.') {
        Some(k) => (&s[..k], Some(&s[k + 1..])),
        None => (s, None),
    }
}

/// `part.parse::<u32>().ok()`, with a shortcut for the usual one to three digits.
fn node_number(part: &str) -> Option<u32> {
    match part.as_bytes() {
        digits @ [_, ..] if digits.len() <= 4 && digits.iter().all(u8::is_ascii_digit) => {
            Some(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        }
        _ => part.parse::<u32>().ok(),
    }
}

pub(crate) fn connection(p: &Param) -> Res<Connection> {
    parse_connection(p.value).ok_or_else(|| {
        err(p, format!("'{}' is not a connection", p.value))
            .with_hint(Some("OpenDSS accepts: wye, y, ln, delta, d, ll".into()))
    })
}

pub(crate) fn parse_connection(s: &str) -> Option<Connection> {
    let t = trim(s);
    let first = t.bytes().next().map(|b| b.to_ascii_lowercase());
    if matches!(first, Some(b'y' | b'w')) || one_of(t, &["ln", "star"]) {
        Some(Connection::Wye)
    } else if first == Some(b'd') || one_of(t, &["ll"]) {
        Some(Connection::Delta)
    } else {
        None
    }
}

/// Length units of OpenDSS (`units=`, `runits=`...). `None` means "no conversion"; the reader
/// then treats the numbers as metres, which keeps every product (impedance × length) as OpenDSS
/// computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Units {
    #[default]
    None,
    Mi,
    Kft,
    Km,
    M,
    Ft,
    In,
    Cm,
    Mm,
}

impl Units {
    pub fn parse(s: &str) -> Option<Units> {
        const NAMES: [(&[&str], Units); 9] = [
            (&["none", "no"], Units::None),
            (&["mi", "mile", "miles"], Units::Mi),
            (&["kft"], Units::Kft),
            (&["km"], Units::Km),
            (&["m", "meter", "meters", "metre", "metres"], Units::M),
            (&["ft", "feet", "foot"], Units::Ft),
            (&["in", "inch", "inches"], Units::In),
            (&["cm"], Units::Cm),
            (&["mm"], Units::Mm),
        ];
        let t = trim(s);
        NAMES
            .iter()
            .find(|(names, _)| one_of(t, names))
            .map(|(_, u)| *u)
    }

    /// Metres per unit, OpenDSS's values (a mile is 1609.344 m: 5280 ft exactly).
    pub fn to_m(self) -> f64 {
        match self {
            Units::None | Units::M => 1.0,
            Units::Mi => 1609.344,
            Units::Kft => 304.8,
            Units::Km => 1000.0,
            Units::Ft => 0.3048,
            Units::In => 0.0254,
            Units::Cm => 0.01,
            Units::Mm => 0.001,
        }
    }

    /// OpenDSS's `ConvertLineUnits(from, to)`: 1 if either is none.
    pub fn convert(from: Units, to: Units) -> f64 {
        if from == Units::None || to == Units::None {
            1.0
        } else {
            from.to_m() / to.to_m()
        }
    }
}

pub(crate) fn units(p: &Param) -> Res<Units> {
    Units::parse(p.value).ok_or_else(|| {
        err(p, format!("'{}' is not a length unit", p.value)).with_hint(Some(
            "OpenDSS accepts: none, mi, kft, km, m, ft, in, cm, mm".into(),
        ))
    })
}

/// A duration such as `1h`, `15m`, `900s` or `900` (seconds), in seconds.
pub(crate) fn duration_s(p: &Param) -> Res<f64> {
    let t = p.value.trim().to_ascii_lowercase();
    let (num, mult) = if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t.as_str(), 1.0)
    };
    token_number(num, p.quoted)
        .map(|v| v * mult)
        .map_err(|m| err(p, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(v: &str, quoted: bool) -> Param<'_> {
        Param {
            name: Some("x"),
            name_col: 1,
            value: v,
            col: 3,
            quoted,
        }
    }

    #[test]
    fn numbers_and_arrays() {
        assert_eq!(number(&param("8 1000 /", true)).unwrap(), 0.008);
        assert!(number(&param("abc", false)).is_err());
        assert_eq!(array(&param("1, 2 3", true)).unwrap(), vec![1.0, 2.0, 3.0]);
        assert_eq!(array(&param("1 2 | 3", true)).unwrap(), vec![1.0, 2.0]);
        assert_eq!(words(&param("wye delta", true)), vec!["wye", "delta"]);
    }

    #[test]
    fn matrices() {
        let m = sym_matrix(&param("1 | 2 3", true), 2).unwrap();
        assert_eq!(m, vec![1.0, 2.0, 2.0, 3.0]);
        let m = sym_matrix(&param("1 9 | 2 3", true), 2).unwrap();
        assert_eq!(m, vec![1.0, 2.0, 2.0, 3.0]);
    }

    #[test]
    fn words_any_case() {
        assert_eq!(parse_bool(" YES "), Some(true));
        assert_eq!(parse_bool("Off"), Some(false));
        assert_eq!(parse_bool("yés"), None);
        assert_eq!(parse_connection("Wye"), Some(Connection::Wye));
        assert_eq!(parse_connection("LN"), Some(Connection::Wye));
        assert_eq!(parse_connection("Delta"), Some(Connection::Delta));
        assert_eq!(parse_connection("LL"), Some(Connection::Delta));
        assert_eq!(parse_connection("x"), None);
        assert_eq!(Units::parse("KFT"), Some(Units::Kft));
        assert_eq!(Units::parse(" Metres"), Some(Units::M));
        assert_eq!(Units::parse("No"), Some(Units::None));
        assert_eq!(Units::parse("parsec"), None);
    }

    #[test]
    fn node_numbers_like_std() {
        for t in [
            "0",
            "1",
            "12",
            "123",
            "1000",
            "1001",
            "0001",
            "+3",
            "-1",
            "",
            "1a",
            "٣",
            "99999999999",
        ] {
            assert_eq!(node_number(t), t.parse::<u32>().ok(), "{t:?}");
        }
        let b = parse_bus(" Bus_1 . 1..3. ").unwrap();
        assert_eq!((b.bus.as_str(), b.nodes.as_slice()), ("bus_1", &[1, 3][..]));
        assert!(parse_bus("b.1.x").is_err());
        assert!(parse_bus("b.1001").is_err());
        assert_eq!(parse_bus("b.+2").unwrap().nodes, vec![2]);
    }

    #[test]
    fn trim_like_std() {
        for t in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}a",
            "a\u{3000}",
            "é",
            " é ",
            "\ta\r",
            "ab",
        ] {
            assert_eq!(trim(t), t.trim(), "{t:?}");
        }
    }

    #[test]
    fn buses_units_durations() {
        let b = parse_bus("RG60.1.2.3").unwrap();
        assert_eq!(b.bus, "rg60");
        assert_eq!(b.nodes, vec![1, 2, 3]);
        assert!(parse_bus("a.x").is_err());
        assert!(parse_bus(".1").is_err());
        assert_eq!(Units::convert(Units::Mi, Units::Ft), 1609.344 / 0.3048);
        assert_eq!(Units::convert(Units::None, Units::Ft), 1.0);
        assert_eq!(duration_s(&param("15m", false)).unwrap(), 900.0);
        assert_eq!(duration_s(&param("1h", false)).unwrap(), 3600.0);
        assert_eq!(duration_s(&param("900", false)).unwrap(), 900.0);
    }
}
