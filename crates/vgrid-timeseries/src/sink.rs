//! Where per-step results go: a [`StepSink`] receives each step's [`StepReport`] as soon as
//! the step is solved, so a run never holds its history in memory.
//!
//! [`CsvSink`] writes the columns of OpenDSS reference runs (`per_step.csv`):
//!
//! ```text
//! step,hour,converged,iterations,control_iterations,p_source_kw,q_source_kvar,losses_kw,losses_kvar,vpu_min,vpu_max,tap_<regcontrol>...
//! ```
//!
//! Any `FnMut(&StepReport)` closure is a sink too:
//!
//! ```
//! use vgrid_timeseries::{StepReport, StepSink};
//! let mut peak_kw = 0.0f64;
//! let mut sink = |r: &StepReport| peak_kw = peak_kw.max(r.p_source_kw);
//! let r = StepReport { p_source_kw: 42.0, ..StepReport::default() };
//! sink.step(&r).unwrap();
//! assert_eq!(peak_kw, 42.0);
//! ```

use std::io::Write;

/// Results of one time step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepReport {
    /// 1-based step number within the run.
    pub step: u64,
    /// Simulation time at which the step was solved, hours (OpenDSS `dblHour`).
    pub hour: f64,
    /// The power flow converged (by the script's tolerance and iteration limit).
    pub converged: bool,
    /// Power-flow iterations, summed over the control iterations.
    pub iterations: u32,
    /// Power flows of the control loop (1 without controls).
    pub control_iterations: u32,
    /// Power delivered by all sources, kW and kvar.
    pub p_source_kw: f64,
    pub q_source_kvar: f64,
    /// Losses in series elements (lines, transformers, series capacitors and reactors).
    pub losses_kw: f64,
    pub losses_kvar: f64,
    /// Smallest and largest per-unit voltage among energised nodes with a voltage base
    /// (nodes below 0.05 pu, such as neutrals, are left out); NaN when there is none.
    pub vpu_min: f64,
    pub vpu_max: f64,
    /// OpenDSS `TapNum` of each regulator control after the step, in the order of
    /// [`RunHeader::regulators`].
    pub tap_numbers: Vec<i32>,
}

/// What a sink learns before the first step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunHeader {
    /// Names of the regulator controls whose taps [`StepReport::tap_numbers`] lists.
    pub regulators: Vec<String>,
    /// Steps the run will solve.
    pub steps: u64,
    /// Step size, seconds.
    pub step_size_s: f64,
}

/// A sink could not take a step's results.
#[derive(Debug, thiserror::Error)]
#[error("writing step results: {0}")]
pub struct SinkError(#[from] pub std::io::Error);

/// Receives a run's results step by step.
pub trait StepSink {
    /// Called once before the first step.
    fn begin(&mut self, header: &RunHeader) -> Result<(), SinkError> {
        let _ = header;
        Ok(())
    }
    /// Called after each step.
    fn step(&mut self, report: &StepReport) -> Result<(), SinkError>;
    /// Called once after the last step.
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

impl<F: FnMut(&StepReport)> StepSink for F {
    fn step(&mut self, report: &StepReport) -> Result<(), SinkError> {
        self(report);
        Ok(())
    }
}

/// Writes one CSV row per step (the columns of OpenDSS's reference `per_step.csv`).
pub struct CsvSink<W: Write> {
    out: W,
}

impl<W: Write> CsvSink<W> {
    /// Write to `out` (wrap a file in a `BufWriter`).
    pub fn new(out: W) -> CsvSink<W> {
        CsvSink { out }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> StepSink for CsvSink<W> {
    fn begin(&mut self, header: &RunHeader) -> Result<(), SinkError> {
        write!(
            self.out,
            "step,hour,converged,iterations,control_iterations,p_source_kw,q_source_kvar,\
             losses_kw,losses_kvar,vpu_min,vpu_max"
        )?;
        for r in &header.regulators {
            write!(self.out, ",tap_{r}")?;
        }
        writeln!(self.out)?;
        Ok(())
    }

    fn step(&mut self, r: &StepReport) -> Result<(), SinkError> {
        write!(
            self.out,
            "{},{:.6},{},{},{},{:.9},{:.9},{:.9},{:.9},{:.10},{:.10}",
            r.step,
            r.hour,
            u8::from(r.converged),
            r.iterations,
            r.control_iterations,
            r.p_source_kw,
            r.q_source_kvar,
            r.losses_kw,
            r.losses_kvar,
            r.vpu_min,
            r.vpu_max
        )?;
        for t in &r.tap_numbers {
            write!(self.out, ",{t}")?;
        }
        writeln!(self.out)?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_the_reference_columns() {
        let mut s = CsvSink::new(Vec::new());
        s.begin(&RunHeader {
            regulators: vec!["creg1a".into()],
            steps: 1,
            step_size_s: 3600.0,
        })
        .unwrap();
        s.step(&StepReport {
            step: 1,
            hour: 1.0,
            converged: true,
            iterations: 7,
            control_iterations: 2,
            p_source_kw: 1.5,
            q_source_kvar: -0.5,
            losses_kw: 0.1,
            losses_kvar: 0.2,
            vpu_min: 0.95,
            vpu_max: 1.05,
            tap_numbers: vec![-3],
        })
        .unwrap();
        s.finish().unwrap();
        let text = String::from_utf8(s.into_inner()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "step,hour,converged,iterations,control_iterations,p_source_kw,q_source_kvar,losses_kw,losses_kvar,vpu_min,vpu_max,tap_creg1a"
        );
        assert_eq!(
            lines[1],
            "1,1.000000,1,7,2,1.500000000,-0.500000000,0.100000000,0.200000000,0.9500000000,1.0500000000,-3"
        );
    }
}
