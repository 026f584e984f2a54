//! Load shapes sampled exactly as OpenDSS samples them (`LoadShape.GetMultAtHour`).
//!
//! A [`Shape`] is a checked copy of a [`vgrid_model::LoadShape`]: points at a fixed interval,
//! or at the hours listed in `hours`, with P multipliers and optional Q multipliers.
//! [`Shape::at_hour`] returns the pair `(p, q)` for any simulation hour:
//!
//! - **Fixed interval** (`interval=` h, `sinterval=` s, `minterval=` min): the point
//!   `k = round(hour / interval)` (rounded half to even, as Pascal's `Round`), counted from 1:
//!   hour 1 of an hourly shape is its *first* point, hour 0 its *last*. Beyond the last point
//!   the shape repeats (`k mod npts`), so a 24-point hourly shape serves a whole year, one
//!   identical day after another, and a 1,440-point one-minute shape repeats every 24 h.
//! - **Listed hours** (`hour=[...]`): the hour is first folded into the shape's span
//!   (`hour − trunc(hour / last)·last` when past the last point); within 1e-5 h of a listed
//!   hour that point's value is used, otherwise the value is interpolated linearly between
//!   the neighbouring points.
//! - **Q**: the Q multipliers when the shape has them; otherwise the P multiplier, or 0 when
//!   the shape holds actual kW (`useactual=yes`).
//! - A one-point shape is constant.
//!
//! ```
//! use vgrid_model::LoadShape;
//! use vgrid_timeseries::Shape;
//! let day = LoadShape {
//!     name: "day".into(), interval_h: Some(1.0), hours: vec![],
//!     p_mult: (1..=24).map(|h| h as f64 / 24.0).collect(), q_mult: vec![],
//!     use_actual: false, p_base: 0.0, q_base: 0.0,
//! };
//! let s = Shape::new(&day).unwrap();
//! assert_eq!(s.at_hour(1.0), (1.0 / 24.0, 1.0 / 24.0)); // hour 1 is the first point
//! assert_eq!(s.at_hour(24.0), (1.0, 1.0));
//! assert_eq!(s.at_hour(25.0), s.at_hour(1.0)); // the day repeats
//! assert_eq!(s.at_hour(12.4), s.at_hour(12.0)); // nearest point, no interpolation
//! ```
//!
//! Differences from OpenDSS, all on input OpenDSS would misread: a shape with no points, a
//! non-finite multiplier or hour, hours that decrease, or Q multipliers of another length
//! than the P multipliers are errors ([`ShapeError`], naming the shape and the point) instead
//! of a silent 1.0 or garbage; an hour before the first listed hour takes the first point's
//! value (OpenDSS reads before its array there); a negative hour on a fixed-interval shape
//! wraps backwards.

use vgrid_model::LoadShape;

/// Hours closer than this to a listed hour use that point's value (OpenDSS's 0.00001).
const HOUR_MATCH_H: f64 = 1e-5;

/// A load shape that cannot be sampled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    #[error("LoadShape.{shape}: it has no points (give mult=[...] or mult=(file=...), and npts)")]
    NoPoints { shape: String },
    #[error("LoadShape.{shape}: {what} at point {point} (1-based) is {value}, not a number")]
    NotFinite {
        shape: String,
        what: &'static str,
        point: usize,
        value: f64,
    },
    #[error("LoadShape.{shape}: the interval is {interval_h} h; it must be positive (or 0 with hour=[...])")]
    BadInterval { shape: String, interval_h: f64 },
    #[error("LoadShape.{shape}: {got} {what} for {npts} multipliers (hint: check npts and the file's length)")]
    LengthMismatch {
        shape: String,
        what: &'static str,
        got: usize,
        npts: usize,
    },
    #[error("LoadShape.{shape}: hour {hour_h} at point {point} comes before the previous point's; hours must not decrease")]
    HoursDecrease {
        shape: String,
        point: usize,
        hour_h: f64,
    },
}

/// Where the points of a shape lie in time.
#[derive(Debug, Clone, PartialEq)]
enum Spacing {
    /// One point every `interval_h` hours, the first at `interval_h`.
    Interval { interval_h: f64 },
    /// Point `k` at `hours[k]`.
    Hours(Vec<f64>),
}

/// A checked load shape, ready to be sampled at any hour (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    name: String,
    spacing: Spacing,
    p_mult: Vec<f64>,
    q_mult: Option<Vec<f64>>,
    use_actual: bool,
}

fn check_finite(shape: &str, what: &'static str, v: &[f64]) -> Result<(), ShapeError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(ShapeError::NotFinite {
            shape: shape.to_string(),
            what,
            point: i + 1,
            value: v[i],
        }),
        None => Ok(()),
    }
}

impl Shape {
    /// Check `s` and copy it into a sampler.
    pub fn new(s: &LoadShape) -> Result<Shape, ShapeError> {
        let name = s.name.clone();
        let n = s.p_mult.len();
        if n == 0 {
            return Err(ShapeError::NoPoints { shape: name });
        }
        check_finite(&name, "the P multiplier", &s.p_mult)?;
        let q_mult = if s.q_mult.is_empty() {
            None
        } else {
            if s.q_mult.len() != n {
                return Err(ShapeError::LengthMismatch {
                    shape: name,
                    what: "Q multipliers",
                    got: s.q_mult.len(),
                    npts: n,
                });
            }
            check_finite(&name, "the Q multiplier", &s.q_mult)?;
            Some(s.q_mult.clone())
        };
        let spacing = match s.interval_h {
            Some(h) if h.is_finite() && h > 0.0 => Spacing::Interval { interval_h: h },
            Some(h) if h != 0.0 => {
                return Err(ShapeError::BadInterval {
                    shape: name,
                    interval_h: h,
                })
            }
            _ => {
                if s.hours.len() != n {
                    return Err(ShapeError::LengthMismatch {
                        shape: name,
                        what: "hours",
                        got: s.hours.len(),
                        npts: n,
                    });
                }
                check_finite(&name, "the hour", &s.hours)?;
                if let Some(k) = s.hours.windows(2).position(|w| w[1] < w[0]) {
                    return Err(ShapeError::HoursDecrease {
                        shape: name,
                        point: k + 2,
                        hour_h: s.hours[k + 1],
                    });
                }
                Spacing::Hours(s.hours.clone())
            }
        };
        Ok(Shape {
            name,
            spacing,
            p_mult: s.p_mult.clone(),
            q_mult,
            use_actual: s.use_actual,
        })
    }

    /// The shape's name (lower-case).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.p_mult.len()
    }

    /// Always false: a shape without points is rejected by [`Shape::new`].
    pub fn is_empty(&self) -> bool {
        self.p_mult.is_empty()
    }

    /// Whether the multipliers are actual kW and kvar (`useactual=yes`).
    /// The smallest and largest P multiplier, when the shape has no separate Q multipliers
    /// (its Q follows P, so the P multiplier alone says where the shape is).
    pub fn p_mult_range(&self) -> Option<(f64, f64)> {
        if self.q_mult.is_some() {
            return None;
        }
        let lo = self.p_mult.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self
            .p_mult
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (lo <= hi).then_some((lo, hi))
    }

    pub fn use_actual(&self) -> bool {
        self.use_actual
    }

    /// The value of point `k` (0-based): `(p, q)`.
    fn point(&self, k: usize) -> (f64, f64) {
        let p = self.p_mult[k];
        (p, self.q_of(k, p))
    }

    fn q_of(&self, k: usize, p: f64) -> f64 {
        match &self.q_mult {
            Some(q) => q[k],
            None if self.use_actual => 0.0,
            None => p,
        }
    }

    /// The spacing of a shape of equally spaced points, `(interval_h, points)` (`None`: one
    /// point, or given hours): shapes with the same spacing are at the same point at any hour,
    /// [`interval_point`]`(interval_h, points, hour)`.
    pub(crate) fn interval_spacing(&self) -> Option<(f64, usize)> {
        match self.spacing {
            Spacing::Interval { interval_h } if self.p_mult.len() > 1 => {
                Some((interval_h, self.p_mult.len()))
            }
            _ => None,
        }
    }

    /// The multipliers `(p, q)` of point `k` (0-based; see [`Shape::interval_spacing`]),
    /// `None` beyond the last.
    pub(crate) fn at_point(&self, k: usize) -> Option<(f64, f64)> {
        (k < self.p_mult.len()).then(|| self.point(k))
    }

    /// The multipliers `(p, q)` at simulation hour `hour` (OpenDSS `GetMultAtHour`).
    pub fn at_hour(&self, hour: f64) -> (f64, f64) {
        let n = self.p_mult.len();
        if n == 1 {
            return self.point(0);
        }
        match &self.spacing {
            Spacing::Interval { interval_h } => self.point(interval_point(*interval_h, n, hour)),
            Spacing::Hours(hours) => {
                let last = hours[n - 1];
                let mut hr = hour;
                if hr > last && last > 0.0 {
                    hr -= (hr / last).trunc() * last;
                }
                // the first point within 1e-5 h of `hr` or after it (hours do not decrease)
                let i = hours.partition_point(|&h| h <= hr - HOUR_MATCH_H);
                if i >= n {
                    // OpenDSS falls through to the second-to-last point
                    return self.point(n - 2);
                }
                if (hours[i] - hr).abs() < HOUR_MATCH_H || i == 0 {
                    return self.point(i);
                }
                let f = (hr - hours[i - 1]) / (hours[i] - hours[i - 1]);
                let lerp = |a: f64, b: f64| a + f * (b - a);
                let p = lerp(self.p_mult[i - 1], self.p_mult[i]);
                let q = match &self.q_mult {
                    Some(q) => lerp(q[i - 1], q[i]),
                    None if self.use_actual => 0.0,
                    None => p,
                };
                (p, q)
            }
        }
    }
}

/// The point (0-based) of a shape of `n` points spaced `interval_h` apart at simulation hour
/// `hour`, as OpenDSS's `GetMultAtHour`: the nearest point, wrapping around after the last.
pub(crate) fn interval_point(interval_h: f64, n: usize, hour: f64) -> usize {
    let k = (hour / interval_h).round_ties_even();
    // i in 1..=n: OpenDSS wraps with `mod` above n and maps 0 to n
    let n_i = n as i64;
    let mut i = if k.is_finite() { k as i64 } else { 0 };
    if i > n_i || i < 0 {
        i = i.rem_euclid(n_i);
    }
    if i == 0 {
        i = n_i;
    }
    (i - 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(interval_h: Option<f64>, hours: Vec<f64>, p: Vec<f64>, q: Vec<f64>) -> LoadShape {
        LoadShape {
            name: "s".into(),
            interval_h,
            hours,
            p_mult: p,
            q_mult: q,
            use_actual: false,
            p_base: 0.0,
            q_base: 0.0,
        }
    }

    #[test]
    fn interval_shape_counts_from_one_and_wraps() {
        let s = Shape::new(&shape(Some(1.0), vec![], vec![0.1, 0.2, 0.3], vec![])).unwrap();
        assert_eq!(s.at_hour(1.0).0, 0.1);
        assert_eq!(s.at_hour(3.0).0, 0.3);
        assert_eq!(s.at_hour(0.0).0, 0.3); // 0 maps to the last point
        assert_eq!(s.at_hour(4.0).0, 0.1); // wraps
        assert_eq!(s.at_hour(6.0).0, 0.3); // 6 mod 3 = 0 -> last
        assert_eq!(s.at_hour(1.4).0, 0.1); // nearest
        assert_eq!(s.at_hour(1.6).0, 0.2);
        // half to even: 1.5 -> 2, 2.5 -> 2
        assert_eq!(s.at_hour(1.5).0, 0.2);
        assert_eq!(s.at_hour(2.5).0, 0.2);
        assert_eq!(s.at_hour(-1.0).0, 0.2); // wraps backwards
    }

    #[test]
    fn one_minute_shape_over_a_day() {
        let p: Vec<f64> = (0..1440).map(|k| k as f64).collect();
        let s = Shape::new(&shape(Some(1.0 / 60.0), vec![], p, vec![])).unwrap();
        // the clock's hour after k one-minute steps: int hour + t/3600
        for k in 1..=2880u32 {
            let hour = (k / 60) as f64 + ((k % 60) as f64 * 60.0) / 3600.0;
            let want = ((k - 1) % 1440) as f64;
            assert_eq!(s.at_hour(hour).0, want, "step {k}");
        }
    }

    #[test]
    fn shapes_spaced_alike_share_the_point() {
        let p: Vec<f64> = (0..96).map(|k| k as f64).collect();
        let a = Shape::new(&shape(Some(0.25), vec![], p.clone(), vec![])).unwrap();
        let q: Vec<f64> = p.iter().map(|x| -x).collect();
        let b = Shape::new(&shape(Some(0.25), vec![], p, q)).unwrap();
        assert_eq!(a.interval_spacing(), Some((0.25, 96)));
        assert_eq!(a.interval_spacing(), b.interval_spacing());
        for hour in [0.0, 0.1, 0.25, 0.375, 12.0, 23.9, 24.0, 24.25, 100.0, -1.0] {
            let k = interval_point(0.25, 96, hour);
            assert_eq!(a.at_point(k), Some(a.at_hour(hour)), "{hour}");
            assert_eq!(b.at_point(k), Some(b.at_hour(hour)), "{hour}");
        }
        assert_eq!(a.at_point(96), None);
        let one = Shape::new(&shape(Some(1.0), vec![], vec![0.5], vec![])).unwrap();
        assert_eq!(one.interval_spacing(), None);
    }

    #[test]
    fn q_defaults_to_p_or_zero_when_actual() {
        let mut m = shape(Some(1.0), vec![], vec![2.0, 3.0], vec![]);
        assert_eq!(Shape::new(&m).unwrap().at_hour(2.0), (3.0, 3.0));
        m.use_actual = true;
        assert_eq!(Shape::new(&m).unwrap().at_hour(2.0), (3.0, 0.0));
        m.q_mult = vec![0.5, 0.7];
        assert_eq!(Shape::new(&m).unwrap().at_hour(2.0), (3.0, 0.7));
    }

    #[test]
    fn listed_hours_interpolate_and_fold() {
        let s = Shape::new(&shape(
            None,
            vec![0.0, 6.0, 12.0, 24.0],
            vec![1.0, 2.0, 4.0, 1.0],
            vec![],
        ))
        .unwrap();
        assert_eq!(s.at_hour(6.0), (2.0, 2.0));
        assert_eq!(s.at_hour(3.0).0, 1.5);
        assert_eq!(s.at_hour(9.0).0, 3.0);
        assert!((s.at_hour(18.0).0 - 2.5).abs() < 1e-12);
        assert_eq!(s.at_hour(6.000001).0, 2.0); // within 1e-5 h
        assert_eq!(s.at_hour(30.0).0, 2.0); // folded: 30 - 24 = 6
        assert_eq!(s.at_hour(24.0).0, 1.0);
    }

    #[test]
    fn hour_before_the_first_point_takes_the_first_value() {
        let s = Shape::new(&shape(None, vec![1.0, 2.0], vec![5.0, 7.0], vec![])).unwrap();
        assert_eq!(s.at_hour(0.5).0, 5.0);
    }

    #[test]
    fn single_point_is_constant() {
        let s = Shape::new(&shape(Some(1.0), vec![], vec![0.7], vec![])).unwrap();
        assert_eq!(s.at_hour(123.0), (0.7, 0.7));
    }

    #[test]
    fn bad_shapes_are_errors_naming_the_shape() {
        let e = Shape::new(&shape(Some(1.0), vec![], vec![], vec![])).unwrap_err();
        assert!(e.to_string().contains("LoadShape.s"), "{e}");
        let e = Shape::new(&shape(Some(1.0), vec![], vec![1.0, f64::NAN], vec![])).unwrap_err();
        assert!(matches!(e, ShapeError::NotFinite { point: 2, .. }), "{e}");
        assert!(e.to_string().contains("point 2"), "{e}");
        let e = Shape::new(&shape(Some(1.0), vec![], vec![1.0, 2.0], vec![1.0])).unwrap_err();
        assert!(matches!(
            e,
            ShapeError::LengthMismatch {
                got: 1,
                npts: 2,
                ..
            }
        ));
        let e = Shape::new(&shape(None, vec![0.0, 2.0, 1.0], vec![1.0; 3], vec![])).unwrap_err();
        assert!(matches!(e, ShapeError::HoursDecrease { point: 3, .. }));
        let e = Shape::new(&shape(None, vec![0.0], vec![1.0, 2.0], vec![])).unwrap_err();
        assert!(matches!(
            e,
            ShapeError::LengthMismatch { what: "hours", .. }
        ));
        let e = Shape::new(&shape(Some(-1.0), vec![], vec![1.0], vec![])).unwrap_err();
        assert!(matches!(e, ShapeError::BadInterval { .. }));
    }
}
