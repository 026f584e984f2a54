//! The simulation clock, kept as OpenDSS keeps it: a whole hour and the seconds into it.
//!
//! OpenDSS advances time *before* it solves a step (`Increment_time`: `t += h`, carrying
//! whole hours into `intHour`), and samples shapes at `dblHour = intHour + t/3600`. Keeping
//! the seconds apart from the hour makes one-minute steps land exactly on the shape's points
//! after a year of steps (a running `hour += 1/60` would drift).
//!
//! ```
//! use vgrid_timeseries::Clock;
//! let mut c = Clock::new(0.0, 0.0);
//! c.advance(60.0);
//! assert_eq!((c.int_hour(), c.sec()), (0, 60.0));
//! for _ in 0..59 { c.advance(60.0); }
//! assert_eq!((c.int_hour(), c.sec(), c.hour()), (1, 0.0, 1.0));
//! ```

/// Simulation time: whole hours and seconds into the hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    int_hour: i64,
    sec: f64,
}

impl Clock {
    /// A clock at `hour` (may be fractional) plus `sec` seconds (OpenDSS `Set hour=`, `sec=`).
    pub fn new(hour: f64, sec: f64) -> Clock {
        let whole = if hour.is_finite() { hour.floor() } else { 0.0 };
        let frac_s = if hour.is_finite() {
            (hour - whole) * 3600.0
        } else {
            0.0
        };
        let sec = if sec.is_finite() { sec } else { 0.0 };
        let mut c = Clock {
            int_hour: whole as i64,
            sec: sec + frac_s,
        };
        c.carry();
        c
    }

    fn carry(&mut self) {
        while self.sec >= 3600.0 {
            self.int_hour += 1;
            self.sec -= 3600.0;
        }
    }

    /// Advance by `step_s` seconds (OpenDSS `Increment_time`).
    pub fn advance(&mut self, step_s: f64) {
        self.sec += step_s;
        self.carry();
    }

    /// Whole hours.
    pub fn int_hour(&self) -> i64 {
        self.int_hour
    }

    /// Seconds into the present hour.
    pub fn sec(&self) -> f64 {
        self.sec
    }

    /// Hours as one number (OpenDSS `dblHour`), the time at which shapes are sampled.
    pub fn hour(&self) -> f64 {
        self.int_hour as f64 + self.sec / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn fractional_start_and_large_steps() {
        let c = Clock::new(1.5, 0.0);
        assert_eq!((c.int_hour(), c.sec()), (1, 1800.0));
        let mut c = Clock::new(0.0, 0.0);
        c.advance(7200.0 + 30.0);
        assert_eq!((c.int_hour(), c.sec()), (2, 30.0));
        let c = Clock::new(f64::NAN, f64::INFINITY);
        assert_eq!(c.hour(), 0.0);
    }

    #[test]
    fn a_year_of_minutes_stays_exact() {
        let mut c = Clock::new(0.0, 0.0);
        for _ in 0..(8760 * 60) {
            c.advance(60.0);
        }
        assert_eq!((c.int_hour(), c.sec()), (8760, 0.0));
    }
}
