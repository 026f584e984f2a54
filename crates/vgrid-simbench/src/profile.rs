//! SimBench profiles: `LoadProfile.csv` and `RESProfile.csv`, a year of relative values at a
//! fixed 15-minute step.
//!
//! ```text
//! time;H0-A_qload;H0-A_pload;...         LoadProfile.csv: <profile>_pload, <profile>_qload
//! 01.01.2016 00:00;-0.067519;0.276685;...
//! time;PV5;PV6;PV8                       RESProfile.csv: one column per profile
//! 01.01.2016 00:00;0;0;0
//! ```
//!
//! The `time` labels are local time (CET/CEST): they skip an hour in March and repeat one in
//! October, so they are not a usable time axis. The row index is: row `k` is `k·15 min` after the
//! first label. Each profile becomes a [`vgrid_model::LoadShape`] with `interval_h = 0.25` and
//! per-unit multipliers (`use_actual = false`) of the element's rated `p`/`q`.
//!
//! In OpenDSS's convention for fixed-interval shapes, point `i` (1-based) lies at hour
//! `i·interval`: row `k` is point `k + 1`, at hour `(k + 1)·0.25`, so a yearly run with a 15-minute
//! step starting at hour 0 solves row `k` at its `(k + 1)`-th step — the same circuit as
//! [`crate::Grid::network_at_step`]`(k)`.
//!
//! Only the columns some element refers to are parsed (a year is 35 136 rows).

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};
use crate::table::{is_null, parse_number, split};

/// Interval between profile rows, hours.
pub const PROFILE_INTERVAL_H: f64 = 0.25;

/// A profile file, its header parsed, its body kept as text until columns are asked for.
#[derive(Debug)]
pub(crate) struct ProfileTable {
    pub(crate) file: PathBuf,
    header: Vec<String>,
    text: String,
    /// Byte offset of the first data line and its 1-based line number.
    body: usize,
    body_line: usize,
}

impl ProfileTable {
    /// Read `dir/name`; `Ok(None)` when there is no such file.
    pub(crate) fn read_optional(dir: &Path, name: &str) -> Result<Option<ProfileTable>, Error> {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(text) => ProfileTable::parse(name, text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::new(ErrorKind::Io(e)).in_file(dir.join(name))),
        }
    }

    pub(crate) fn parse(file: impl Into<PathBuf>, text: String) -> Result<ProfileTable, Error> {
        let file = file.into();
        let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut offset = start;
        let mut line_no = 0;
        let mut header = None;
        for line in text[start..].split_inclusive('\n') {
            offset += line.len();
            line_no += 1;
            if !line.trim().is_empty() {
                header = Some(split(line).map(str::to_string).collect::<Vec<_>>());
                break;
            }
        }
        let header = header.ok_or_else(|| Error::new(ErrorKind::Empty).in_file(&file))?;
        Ok(ProfileTable {
            file,
            header,
            text,
            body: offset,
            body_line: line_no + 1,
        })
    }

    pub(crate) fn has_column(&self, name: &str) -> bool {
        self.header.iter().any(|h| h == name)
    }

    /// Parse the named columns (which must exist: check with [`ProfileTable::has_column`]).
    /// Every cell must be a finite number.
    pub(crate) fn columns(&self, names: &[&str]) -> Result<Vec<Vec<f64>>, Error> {
        let mut wanted = Vec::with_capacity(names.len());
        for name in names {
            let i = self.header.iter().position(|h| h == name).ok_or_else(|| {
                Error::new(ErrorKind::MissingColumn(name.to_string())).in_file(&self.file)
            })?;
            wanted.push(i);
        }
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        let mut cells: Vec<&str> = Vec::with_capacity(self.header.len());
        for (k, line) in self.text[self.body..].lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let line_no = self.body_line + k;
            cells.clear();
            cells.extend(split(line));
            if cells.len() != self.header.len() {
                return Err(Error::new(ErrorKind::FieldCount {
                    expected: self.header.len(),
                    found: cells.len(),
                })
                .in_file(&self.file)
                .at_line(line_no));
            }
            for (c, &i) in wanted.iter().enumerate() {
                let cell = cells[i];
                let located = |kind| {
                    Error::new(kind)
                        .in_file(&self.file)
                        .at_line(line_no)
                        .in_column(&self.header[i])
                };
                if is_null(cell) {
                    return Err(located(ErrorKind::MissingValue(cell.to_string())));
                }
                let v = parse_number(cell)
                    .ok_or_else(|| located(ErrorKind::NotANumber(cell.to_string())))?;
                columns[c].push(v);
            }
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_by_name_with_located_errors() {
        let text =
            "time;A_pload;A_qload;B\n01.01.2016 00:00;0.5;0.1;1\n01.01.2016 00:15;0.25;0.2;2\n";
        let p = ProfileTable::parse("LoadProfile.csv", text.to_string()).unwrap();
        assert!(p.has_column("A_qload") && !p.has_column("C"));
        let cols = p.columns(&["A_pload", "B"]).unwrap();
        assert_eq!(cols, vec![vec![0.5, 0.25], vec![1.0, 2.0]]);

        let bad = "time;A\n01.01.2016 00:00;0.5\n01.01.2016 00:15;x\n";
        let p = ProfileTable::parse("RESProfile.csv", bad.to_string()).unwrap();
        let e = p.columns(&["A"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "RESProfile.csv:3: column `A`: \"x\" is not a number"
        );
        let short = "time;A\n01.01.2016 00:00;0.5;7\n";
        let p = ProfileTable::parse("RESProfile.csv", short.to_string()).unwrap();
        assert!(matches!(
            p.columns(&["A"]).unwrap_err().kind,
            ErrorKind::FieldCount { .. }
        ));
    }
}
