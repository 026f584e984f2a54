//! `LoadShape` and `XYcurve`, including their file forms.
//!
//! Multipliers can be inline or read from files relative to the script's directory:
//!
//! ```text
//! mult=[0.3 0.5 0.9]                           inline
//! mult=(file=Daily/load_profile_1.txt)         one value per line (first field of each line)
//! mult=(file=shape.csv col=2 header=yes)       a CSV column, skipping a header line
//! mult=(sngfile=p.sng)  mult=(dblfile=p.dbl)   binary f32 / f64
//! csvfile=shape.csv                            "hour, mult" lines, or "mult" with an interval
//! pqcsvfile=pq.csv                             "p, q" lines
//! ```
//! `interval=` is in hours (`sinterval=` seconds, `minterval=` minutes); `interval=0` means
//! the times come from `hour=`.

use super::{put, Ctx};
use crate::error::Diagnostic;
use crate::files;
use crate::lexer::{split_params, Param};
use crate::rpn::{self, parse_f64_bytes};
use crate::value::{self, Res};
use std::path::Path;
use vgrid_model::{LoadShape, XyCurve};

/// Most points a shape or curve may declare (a year at one-second resolution).
const MAX_POINTS: i64 = 31_622_400;

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ShapeState {
    pub npts: Option<usize>,
    pub interval_h: f64,
}

impl ShapeState {
    /// A shape just created: no `npts` yet, OpenDSS's 1-hour interval.
    pub(crate) const FRESH: ShapeState = ShapeState {
        npts: None,
        interval_h: 1.0,
    };
}

/// A shape with no points yet, OpenDSS's defaults (1-hour interval); `use_actual` as the class
/// has it (LoadShape: multipliers, TShape: actual temperatures).
fn empty_shape(name: &str, use_actual: bool) -> LoadShape {
    LoadShape {
        name: name.to_string(),
        interval_h: Some(1.0),
        hours: Vec::new(),
        p_mult: Vec::new(),
        q_mult: Vec::new(),
        use_actual,
        p_base: 0.0,
        q_base: 0.0,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CurveState {
    pub npts: Option<usize>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub x_shift: f64,
    pub y_shift: f64,
    pub x_scale: f64,
    pub y_scale: f64,
}

impl Default for CurveState {
    fn default() -> Self {
        CurveState {
            npts: None,
            x: Vec::new(),
            y: Vec::new(),
            x_shift: 0.0,
            y_shift: 0.0,
            x_scale: 1.0,
            y_scale: 1.0,
        }
    }
}

pub(crate) fn create_shape(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store.shapes.insert(name.to_string(), ShapeState::FRESH);
    let s = empty_shape(name, false);
    put(&mut ctx.net.load_shapes, existing, s)
}

/// Read numbers from a text file: each line split at commas/blanks/tabs; returns every row.
fn read_rows(path: &Path) -> Res<Vec<Vec<f64>>> {
    let text = files::read_text(path)
        .map_err(|e| Diagnostic::new(format!("cannot read '{}': {e}", path.display())))?;
    let mut rows = Vec::new();
    for line in text.lines() {
        let line = line.split('!').next().unwrap_or("");
        let t = line.trim();
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        let row: Vec<f64> = t
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| crate::rpn::parse_number(s).unwrap_or(f64::NAN))
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

fn read_binary(path: &Path, double: bool) -> Res<Vec<f64>> {
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::new(format!("cannot read '{}': {e}", path.display())))?;
    Ok(if double {
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect()
    } else {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect()
    })
}

/// The fields of one line of a numeric file: runs of bytes between separators (commas and
/// blanks), up to a `!` comment.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let is_sep = |b: &u8| *b == b',' || b.is_ascii_whitespace();
        let start = self.rest.iter().position(|b| !is_sep(b))?;
        let rest = &self.rest[start..];
        if rest[0] == b'!' {
            self.rest = &[];
            return None;
        }
        let len = rest
            .iter()
            .position(|b| is_sep(b) || *b == b'!')
            .unwrap_or(rest.len());
        self.rest = &rest[len..];
        Some(&rest[..len])
    }
}

/// A column (1-based) of a numeric file, optionally skipping a header line (a first line
/// that is not numeric is taken as a header too); `//` starts a comment line. No allocation
/// besides the result (shape files hold tens of thousands of numbers).
fn column(path: &Path, col: usize, header: bool) -> Res<Vec<f64>> {
    let text = files::read_text(path)
        .map_err(|e| Diagnostic::new(format!("cannot read '{}': {e}", path.display())))?;
    let parsed = if col == 1 {
        first_column(&text, header)
    } else {
        nth_column(&text, col, header)
    };
    parsed.map_err(|line| {
        Diagnostic::new(format!(
            "'{}' line {line}: column {col} is not a number",
            path.display()
        ))
    })
}

/// Column `col` of a numeric text, or the (1-based) line where it is not a number.
fn nth_column(text: &str, col: usize, header: bool) -> Result<Vec<f64>, usize> {
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut first = true;
    for (k, line) in text.as_bytes().split(|&b| b == b'\n').enumerate() {
        let mut fields = Fields { rest: line };
        let Some(lead) = fields.next() else {
            continue;
        };
        if lead.starts_with(b"//") {
            continue;
        }
        let field = if col == 1 {
            Some(lead)
        } else {
            fields.nth(col - 2)
        };
        let v = field.and_then(parse_f64_bytes).filter(|v| v.is_finite());
        let is_first = std::mem::replace(&mut first, false);
        if is_first && (header || v.is_none()) {
            continue;
        }
        match v {
            Some(v) => out.push(v),
            None => return Err(k + 1),
        }
    }
    Ok(out)
}

/// [`nth_column`] for the first column, in one pass: the number is read where its field
/// starts, and the rest of the line is skipped.
fn first_column(text: &str, header: bool) -> Result<Vec<f64>, usize> {
    let b = text.as_bytes();
    let is_sep = |c: u8| c == b',' || c.is_ascii_whitespace();
    let ends_field = |c: Option<&u8>| c.is_none_or(|&c| is_sep(c) || c == b'!');
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut first = true;
    let (mut i, mut line) = (0, 0);
    while i < b.len() {
        line += 1;
        // separators before the field (a newline ends the line)
        while i < b.len() && b[i] != b'\n' && is_sep(b[i]) {
            i += 1;
        }
        let field_start = i;
        let v = match b.get(i) {
            None | Some(b'\n' | b'!') => None, // blank or comment-only line
            Some(_) if b[i..].starts_with(b"//") => None,
            Some(_) => Some(match rpn::fast_decimal_prefix(&b[i..]) {
                Some((v, n)) if ends_field(b.get(i + n)) => {
                    i += n;
                    Some(v)
                }
                _ => {
                    while !ends_field(b.get(i)) {
                        i += 1;
                    }
                    parse_f64_bytes(&b[field_start..i]).filter(|v| v.is_finite())
                }
            }),
        };
        // the rest of the line does not matter
        while i < b.len() && b[i] != b'\n' {
            i += 1;
        }
        i += 1;
        let Some(v) = v else {
            continue; // no field on this line
        };
        let is_first = std::mem::replace(&mut first, false);
        if is_first && (header || v.is_none()) {
            continue;
        }
        match v {
            Some(v) => out.push(v),
            None => return Err(line),
        }
    }
    Ok(out)
}

/// Values of an array property: inline numbers or one of the file forms.
pub(crate) fn array_or_file(base: &Path, p: &Param) -> Res<Vec<f64>> {
    let t = p.value.trim();
    let lower = t.to_ascii_lowercase();
    let is_file = ["file=", "file ", "sngfile", "dblfile", "csvfile"]
        .iter()
        .any(|k| lower.starts_with(k));
    if !is_file {
        return value::array(p);
    }
    let params = split_params(t);
    let mut path = None;
    let mut kind = "file";
    let mut col = 1;
    let mut header = false;
    for q in &params {
        let n = q.name.unwrap_or("").to_ascii_lowercase();
        match n.as_str() {
            "file" | "csvfile" | "sngfile" | "dblfile" => {
                kind = match n.as_str() {
                    "sngfile" => "sngfile",
                    "dblfile" => "dblfile",
                    _ => "file",
                };
                path = Some(files::resolve(base, q.value));
            }
            "col" | "column" => col = value::count(q, 1, 1000)?,
            "header" => header = value::boolean(q)?,
            _ => {}
        }
    }
    let Some(path) = path else {
        return Err(Diagnostic::new(format!("no file named in '{t}'")).at_column(p.col));
    };
    let r = match kind {
        "sngfile" => read_binary(&path, false),
        "dblfile" => read_binary(&path, true),
        _ => column(&path, col, header),
    };
    r.map_err(|d| d.at_column(p.col))
}

fn fit(v: &mut Vec<f64>, npts: Option<usize>) {
    if let Some(n) = npts {
        v.resize(n, 0.0);
    }
}

pub(crate) fn set_shape(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let base = ctx.base_dir.to_path_buf();
    let st = ctx
        .store
        .shapes
        .entry(name.to_string())
        .or_insert(ShapeState::FRESH);
    set_fields(&mut ctx.net.load_shapes[i], st, &base, prop, p)
}

/// `TShape`: a shape of temperatures (°C, kept in `p_mult`) with a LoadShape's properties
/// (`temp=` for `mult=`); sampled like a load shape.
pub(crate) fn create_tshape(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store
        .tshapes
        .insert(name.to_string(), ShapeState::FRESH);
    let s = empty_shape(name, true);
    put(&mut ctx.net.t_shapes, existing, s)
}

pub(crate) fn set_tshape(ctx: &mut Ctx, i: usize, name: &str, prop: &str, p: &Param) -> Res<()> {
    let base = ctx.base_dir.to_path_buf();
    let st = ctx
        .store
        .tshapes
        .entry(name.to_string())
        .or_insert(ShapeState::FRESH);
    let prop = match prop {
        "temp" => "mult",
        "action" => return Ok(()),
        p => p,
    };
    set_fields(&mut ctx.net.t_shapes[i], st, &base, prop, p)
}

pub(crate) fn finish_tshape(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    match ctx.store.tshapes.get(name) {
        Some(st) => finish_fields(&mut ctx.net.t_shapes[i], st),
        None => Ok(()),
    }
}

fn set_fields(
    s: &mut LoadShape,
    st: &mut ShapeState,
    base: &Path,
    prop: &str,
    p: &Param,
) -> Res<()> {
    let base = base.to_path_buf();
    match prop {
        "npts" => {
            let n = value::count(p, 0, MAX_POINTS)?;
            st.npts = Some(n);
            for v in [&mut s.p_mult, &mut s.q_mult, &mut s.hours] {
                if !v.is_empty() {
                    v.resize(n, 0.0);
                }
            }
        }
        "interval" => st.interval_h = value::number(p)?,
        "sinterval" => st.interval_h = value::number(p)? / 3600.0,
        "minterval" => st.interval_h = value::number(p)? / 60.0,
        "mult" | "pmult" => {
            s.p_mult = array_or_file(&base, p)?;
            fit(&mut s.p_mult, st.npts);
        }
        "qmult" => {
            s.q_mult = array_or_file(&base, p)?;
            fit(&mut s.q_mult, st.npts);
        }
        "hour" => {
            s.hours = array_or_file(&base, p)?;
            fit(&mut s.hours, st.npts);
        }
        "csvfile" | "sngfile" | "dblfile" => {
            let path = files::resolve(&base, p.value);
            let flat: Vec<f64>;
            let rows: Vec<Vec<f64>> = if prop == "csvfile" {
                read_rows(&path).map_err(|d| d.at_column(p.col))?
            } else {
                flat = read_binary(&path, prop == "dblfile").map_err(|d| d.at_column(p.col))?;
                if st.interval_h == 0.0 {
                    flat.chunks(2).map(|c| c.to_vec()).collect()
                } else {
                    flat.iter().map(|v| vec![*v]).collect()
                }
            };
            if st.interval_h == 0.0 {
                s.hours = rows
                    .iter()
                    .map(|r| r.first().copied().unwrap_or(0.0))
                    .collect();
                s.p_mult = rows
                    .iter()
                    .map(|r| r.get(1).copied().unwrap_or(0.0))
                    .collect();
            } else {
                s.p_mult = rows
                    .iter()
                    .map(|r| r.first().copied().unwrap_or(0.0))
                    .collect();
            }
            fit(&mut s.p_mult, st.npts);
        }
        "pqcsvfile" => {
            let rows =
                read_rows(&files::resolve(&base, p.value)).map_err(|d| d.at_column(p.col))?;
            s.p_mult = rows
                .iter()
                .map(|r| r.first().copied().unwrap_or(0.0))
                .collect();
            s.q_mult = rows
                .iter()
                .map(|r| r.get(1).copied().unwrap_or(0.0))
                .collect();
            fit(&mut s.p_mult, st.npts);
            fit(&mut s.q_mult, st.npts);
        }
        "useactual" => s.use_actual = value::boolean(p)?,
        "pbase" => s.p_base = value::number(p)?,
        "qbase" => s.q_base = value::number(p)?,
        "action" => {
            let a = value::name(p);
            if a.starts_with('n') {
                let max = s.p_mult.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                if max > 0.0 {
                    s.p_mult.iter_mut().for_each(|v| *v /= max);
                }
                let qmax = s.q_mult.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                if qmax > 0.0 {
                    s.q_mult.iter_mut().for_each(|v| *v /= qmax);
                }
            }
        }
        "mean" | "stddev" | "pmax" | "qmax" | "memorymapping" | "interpolation" => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of LoadShape is not supported"
            )))
        }
    }
    Ok(())
}

pub(crate) fn finish_shape(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    let Some(st) = ctx.store.shapes.get(name) else {
        return Ok(());
    };
    finish_fields(&mut ctx.net.load_shapes[i], st)
}

fn finish_fields(s: &mut LoadShape, st: &ShapeState) -> Res<()> {
    if st.interval_h > 0.0 {
        s.interval_h = Some(st.interval_h);
        s.hours.clear();
    } else {
        s.interval_h = None;
    }
    if s.p_mult.iter().any(|v| !v.is_finite()) {
        return Err(Diagnostic::new(
            "multipliers contain a value that is not a number",
        ));
    }
    Ok(())
}

pub(crate) fn create_curve(ctx: &mut Ctx, name: &str, existing: Option<usize>) -> usize {
    ctx.store
        .curves
        .insert(name.to_string(), CurveState::default());
    let c = XyCurve {
        name: name.to_string(),
        x: Vec::new(),
        y: Vec::new(),
    };
    put(&mut ctx.net.xy_curves, existing, c)
}

pub(crate) fn set_curve(ctx: &mut Ctx, name: &str, prop: &str, p: &Param) -> Res<()> {
    let base = ctx.base_dir.to_path_buf();
    let st = ctx.store.curves.entry(name.to_string()).or_default();
    match prop {
        "npts" => {
            let n = value::count(p, 0, MAX_POINTS)?;
            st.npts = Some(n);
            st.x.resize(n, 0.0);
            st.y.resize(n, 0.0);
        }
        "points" => {
            let v = array_or_file(&base, p)?;
            st.x = v.iter().step_by(2).copied().collect();
            st.y = v.iter().skip(1).step_by(2).copied().collect();
        }
        "xarray" => st.x = array_or_file(&base, p)?,
        "yarray" => st.y = array_or_file(&base, p)?,
        "csvfile" | "sngfile" | "dblfile" => {
            let path = files::resolve(&base, p.value);
            let flat = if prop == "csvfile" {
                read_rows(&path).map_err(|d| d.at_column(p.col))?.concat()
            } else {
                read_binary(&path, prop == "dblfile").map_err(|d| d.at_column(p.col))?
            };
            st.x = flat.iter().step_by(2).copied().collect();
            st.y = flat.iter().skip(1).step_by(2).copied().collect();
        }
        "xshift" => st.x_shift = value::number(p)?,
        "yshift" => st.y_shift = value::number(p)?,
        "xscale" => st.x_scale = value::number(p)?,
        "yscale" => st.y_scale = value::number(p)?,
        "x" | "y" => {}
        other => {
            return Err(Diagnostic::new(format!(
                "property '{other}' of XYcurve is not supported"
            )))
        }
    }
    if let Some(n) = st.npts {
        st.x.resize(n, 0.0);
        st.y.resize(n, 0.0);
    }
    Ok(())
}

pub(crate) fn finish_curve(ctx: &mut Ctx, i: usize, name: &str) -> Res<()> {
    if let Some(st) = ctx.store.curves.get(name) {
        let c = &mut ctx.net.xy_curves[i];
        c.x = st.x.iter().map(|x| x * st.x_scale + st.x_shift).collect();
        c.y = st.y.iter().map(|y| y * st.y_scale + st.y_shift).collect();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn first_column_cases() {
        let t = "hour,mult\r\n1, 0.5 ! c\r\n\r\n// x\r\n2,\t0.25e1\r\n 3 , .5\r\n";
        assert_eq!(first_column(t, false), Ok(vec![1.0, 2.0, 3.0]));
        assert_eq!(nth_column(t, 2, true), Ok(vec![0.5, 2.5, 0.5]));
        assert_eq!(
            first_column(" 0.036 \r\n 0.04\n", false),
            Ok(vec![0.036, 0.04])
        );
        assert_eq!(first_column("x\ny\n", false), Err(2));
        assert_eq!(first_column("1\n2x\n", false), Err(2));
        assert_eq!(first_column("1e\n", false), Ok(vec![])); // a header
        assert_eq!(first_column("1\n1e400\n", false), Err(2));
        assert_eq!(first_column("", true), Ok(vec![]));
    }

    proptest! {
        #[test]
        fn first_column_equals_the_general_reader(
            text in "[ ,\t\r\n!/0-9.eE+x-]{0,60}",
            header in any::<bool>(),
        ) {
            prop_assert_eq!(first_column(&text, header), nth_column(&text, 1, header));
        }

        #[test]
        fn first_column_equals_on_numbers(
            rows in proptest::collection::vec("[ \t]{0,2}-?[0-9]{1,18}(\\.[0-9]{0,18})?([eE][+-]?[0-9]{1,3})?[ ,!\r]{0,2}[0-9a-z]{0,2}", 0..8),
        ) {
            let text = rows.join("\n");
            prop_assert_eq!(first_column(&text, false), nth_column(&text, 1, false));
        }
    }
}
