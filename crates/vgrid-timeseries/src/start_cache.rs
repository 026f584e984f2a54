//! Start voltages remembered by load level and control state.
//!
//! When every load follows one shape, a step's solution is a function of two things only: the
//! shape's multiplier `x` at that step and the control state (every regulator's tap, every
//! capacitor's steps). A year of hourly steps visits the same region of that space again and
//! again: the IEEE 123 year has 8,760 steps but 153 control states, and the multiplier moves
//! between 0.39 and 1.0. So each converged flow is filed under its control state and the bin of
//! its `x` (1/128 of the shape's range), and a later flow in the same control state starts from
//! the solutions remembered nearest to its `x`, interpolated through up to three of them
//! (Lagrange, quadratic in `x`, from the two nearest filed bins on each side, within 32 bins):
//!
//! ```text
//!   V_start(x) = Σ_i V_i · Π_{j≠i} (x − x_j)/(x_i − x_j)       i, j over the ≤ 3 nearest x_i
//! ```
//!
//! The quadratic is what pays: its error is third order in the distance, ~1e-9 pu at the
//! IEEE 123's spacing, so the first iteration already meets the tolerance, where a linear
//! interpolation (or the step-to-step prediction) leaves ~1e-6 and two or three more
//! iterations. On the IEEE 123 year the flows went from 6.94 to 1.83 fixed-point iterations
//! per step (controls included; 1.5 flows per step, so 1.5 is the floor) for 2,126
//! remembered solutions (9.4 MB). Tried: bins of 1/64, 1/100, 1/160 of the range and reaches
//! of 4 to 100 bins: 1.82–2.08 iterations per step; a linear interpolation: 3.4.
//!
//! ## Why the answers do not change
//! Only where a flow *starts* changes. The fixed point, its tolerance test and the controls'
//! decisions are the same, so every step agrees with a run without the cache to the
//! tolerance (the tests compare both, and the OpenDSS reference runs still match). A stale or
//! poor start costs iterations, never accuracy; the key is therefore kept by watching the
//! control actions (`set_tap`, `set_capacitor_states` of [`Remembering`]), not by reading
//! the whole matrix.
//!
//! ## When it is used
//! Only when the loads span one dimension: one shape drives every load that moves, with no
//! separate `qmult`, and no generator, PV system or storage element follows its own shape or
//! state of charge. With several independent shapes (the European LV feeder's 55 profiles)
//! the nearest remembered solution is no nearer than the last step's, and the simulation keeps
//! its step-to-step prediction alone.
//!
//! ## Memory
//! Bounded, whatever the number of steps: at most [`BUDGET_BYTES`] of voltages (16 bytes per
//! node per solution); once full, bins already filed are refreshed and no new ones are added.
//! A remembered solution is replaced by a later one of the same bin only if the later one met
//! the tolerance at least as tightly (a control loop's 1e-6 flow never overwrites a 1e-9 one).

use std::collections::{BTreeMap, HashMap};

use vgrid_network::C64;
use vgrid_powerflow::control::ControlledSystem;
use vgrid_powerflow::solve::System;

/// The most voltage data the cache keeps (16 MiB).
pub const BUDGET_BYTES: usize = 16 << 20;

/// Bins over the shape's range of multipliers.
const BINS: f64 = 128.0;

/// How far (in bins) a remembered solution may be from the flow's `x` and still be used.
const REACH_BINS: f64 = 32.0;

/// One remembered solution.
#[derive(Debug)]
struct Entry {
    /// The shape multiplier it was solved at.
    x: f64,
    /// The tolerance its flow met (see `System::last_change_bound`).
    bound: f64,
    v: Vec<C64>,
}

/// Solutions filed by control state and load level (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct StartCache {
    x_min: f64,
    bin: f64,
    /// The controlled items (transformer and winding, or capacitor and `usize::MAX`) in the
    /// order they first acted; `key[k]` is item `k`'s state (tap in µpu, or step bits).
    items: Vec<(String, usize)>,
    key: Vec<u64>,
    /// Table of each control state seen, and the present state's (found again only after a
    /// control acted).
    index: HashMap<Vec<u64>, usize>,
    tables: Vec<BTreeMap<i64, Entry>>,
    current: Option<usize>,
    key_changed: bool,
    entries: usize,
    capacity: usize,
    /// The present flow's shape multiplier.
    x: f64,
    /// The interpolated start, exchanged with the system's voltages.
    start: Vec<C64>,
    /// Flows started from remembered solutions, and flows that found none.
    pub hits: u64,
    pub misses: u64,
}

impl StartCache {
    /// A cache for multipliers in `x_min..=x_max` and systems of `nodes` nodes.
    pub(crate) fn new(x_min: f64, x_max: f64, nodes: usize) -> StartCache {
        let span = (x_max - x_min).abs().max(1e-9);
        StartCache {
            x_min,
            bin: span / BINS,
            capacity: BUDGET_BYTES / (16 * nodes.max(1)),
            key_changed: true,
            ..StartCache::default()
        }
    }

    /// The shape multiplier of the flows to come.
    pub(crate) fn set_x(&mut self, x: f64) {
        self.x = x;
    }

    /// Note a tap: `transformer`'s `winding` is at `tap_pu` (at the start, and at each move).
    pub(crate) fn note_tap(&mut self, transformer: &str, winding: usize, tap_pu: f64) {
        // in µpu: a tap reached by different sums of steps is the same tap
        self.note(transformer, winding, (tap_pu * 1e6).round() as i64 as u64);
    }

    /// Note a capacitor's step states (at the start, and at each switching).
    pub(crate) fn note_capacitor(&mut self, capacitor: &str, states: &[bool]) {
        let bits = states
            .iter()
            .enumerate()
            .fold(0u64, |a, (i, &on)| a ^ (u64::from(on) << (i % 64)));
        self.note(capacitor, usize::MAX, bits);
    }

    /// Item `name` (`winding`) is now in `state`.
    fn note(&mut self, name: &str, winding: usize, state: u64) {
        let k = match self
            .items
            .iter()
            .position(|(s, w)| s == name && *w == winding)
        {
            Some(k) => k,
            None => {
                self.items.push((name.to_string(), winding));
                self.key.push(state);
                self.key_changed = true;
                return;
            }
        };
        if self.key[k] != state {
            self.key[k] = state;
            self.key_changed = true;
        }
    }

    /// The present control state's table, if it has one.
    fn table(&mut self) -> Option<usize> {
        if self.key_changed {
            self.current = self.index.get(&self.key).copied();
            self.key_changed = false;
        }
        self.current
    }

    fn bin_of(&self, x: f64) -> i64 {
        ((x - self.x_min) / self.bin).floor() as i64
    }

    /// Interpolate a start for a system of `n` nodes into `self.start`; false when nothing
    /// remembered is near enough.
    pub(crate) fn lookup(&mut self, n: usize) -> bool {
        let found = self.table().is_some_and(|t| {
            let (x, reach) = (self.x, REACH_BINS * self.bin);
            let table = &self.tables[t];
            let b = self.bin_of(x);
            // the two nearest bins filed on each side, then the three nearest of those
            let mut near: [Option<&Entry>; 4] = [None; 4];
            let candidates = table
                .range(..=b)
                .rev()
                .take(2)
                .chain(table.range(b + 1..).take(2));
            for (slot, (_, e)) in near.iter_mut().zip(candidates) {
                *slot = ((e.x - x).abs() <= reach && e.v.len() == n).then_some(e);
            }
            // nearest first, the empty slots last; no allocation per flow
            let distance = |e: &Option<&Entry>| e.map_or(f64::INFINITY, |e| (e.x - x).abs());
            near.sort_by(|a, b| distance(a).total_cmp(&distance(b)));
            let mut points: [(f64, &[C64]); 3] = [(0.0, &[]); 3];
            let mut k = 0;
            for (p, e) in points.iter_mut().zip(near.iter().flatten()) {
                *p = (e.x, e.v.as_slice());
                k += 1;
            }
            interpolate(&points[..k], x, &mut self.start)
        });
        if found {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    /// Start `sys`'s next flow from the remembered solutions, when there are near ones.
    pub(crate) fn start_flow(&mut self, sys: &mut System) {
        if self.lookup(sys.voltages().len()) {
            sys.swap_start_voltages(&mut self.start);
        }
    }

    /// Remember `sys`'s solution if its latest flow converged.
    pub(crate) fn remember(&mut self, sys: &System) {
        if let Some(bound) = sys.last_change_bound() {
            self.store(sys.voltages(), bound);
        }
    }

    /// File `v`, a solution at the present `x` and control state that met tolerance `bound`.
    pub(crate) fn store(&mut self, v: &[C64], bound: f64) {
        let full = self.entries >= self.capacity;
        let t = match self.table() {
            Some(t) => t,
            None if full => return,
            None => {
                self.index.insert(self.key.clone(), self.tables.len());
                self.tables.push(BTreeMap::new());
                self.current = Some(self.tables.len() - 1);
                self.tables.len() - 1
            }
        };
        let (b, x) = (self.bin_of(self.x), self.x);
        match self.tables[t].get_mut(&b) {
            Some(e) => {
                if bound <= e.bound {
                    e.x = x;
                    e.bound = bound;
                    e.v.clear();
                    e.v.extend_from_slice(v);
                }
            }
            None if full => {}
            None => {
                let v = v.to_vec();
                self.tables[t].insert(b, Entry { x, bound, v });
                self.entries += 1;
            }
        }
    }

    /// Solutions remembered, and control states seen.
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.entries, self.tables.len())
    }
}

/// The Lagrange interpolation at `x` through `points` (`(x_i, V_i)`, 1 to 3, all of one
/// length) into `out`; with two equal abscissae, the first point alone. False for no points.
fn interpolate(points: &[(f64, &[C64])], x: f64, out: &mut Vec<C64>) -> bool {
    let mut w = [0.0; 3];
    let m = points.len().min(3);
    for i in 0..m {
        w[i] = (0..m)
            .filter(|&j| j != i)
            .map(|j| (x - points[j].0) / (points[i].0 - points[j].0))
            .product();
    }
    let m = if w[..m].iter().all(|w| w.is_finite()) {
        m
    } else {
        w[0] = 1.0;
        m.min(1)
    };
    out.clear();
    match m {
        0 => return false,
        1 => out.extend_from_slice(points[0].1),
        2 => out.extend(
            points[0]
                .1
                .iter()
                .zip(points[1].1)
                .map(|(&a, &b)| a * w[0] + b * w[1]),
        ),
        _ => out.extend(
            points[0]
                .1
                .iter()
                .zip(points[1].1)
                .zip(points[2].1)
                .map(|((&a, &b), &c)| a * w[0] + b * w[1] + c * w[2]),
        ),
    }
    true
}

/// The power-flow system as the controls see it, with the cache in between: each flow starts
/// from the remembered solutions (when there are near ones) and is remembered once converged;
/// tap moves and capacitor switchings are noted to keep the control state.
pub(crate) struct Remembering<'a> {
    pub sys: &'a mut System,
    pub cache: &'a mut StartCache,
}

impl ControlledSystem for Remembering<'_> {
    fn solve_power_flow(&mut self) -> bool {
        self.cache.start_flow(self.sys);
        let converged = self.sys.solve_power_flow();
        self.cache.remember(self.sys);
        converged
    }
    controlled_reads_from_sys!();
    fn set_tap(&mut self, transformer: &str, winding: usize, tap_pu: f64) {
        self.cache.note_tap(transformer, winding, tap_pu);
        ControlledSystem::set_tap(self.sys, transformer, winding, tap_pu);
    }
    fn set_capacitor_states(&mut self, capacitor: &str, states: &[bool]) {
        self.cache.note_capacitor(capacitor, states);
        ControlledSystem::set_capacitor_states(self.sys, capacitor, states);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(re: f64, im: f64) -> C64 {
        C64::new(re, im)
    }

    /// A node voltage quadratic in x.
    fn v_at(x: f64) -> Vec<C64> {
        vec![
            c(1.0 - 0.05 * x - 0.01 * x * x, -0.02 * x),
            c(0.9 + 0.003 * x * x, 0.1),
        ]
    }

    #[test]
    fn three_points_give_a_quadratic_exactly_two_a_line_one_itself() {
        let (a, b, d) = (v_at(0.4), v_at(0.45), v_at(0.5));
        let mut out = Vec::new();
        let pts = [(0.4, &a[..]), (0.45, &b[..]), (0.5, &d[..])];
        assert!(interpolate(&pts, 0.43, &mut out));
        for (o, e) in out.iter().zip(v_at(0.43)) {
            assert!((o - e).norm() < 1e-15, "{o} vs {e}");
        }
        // a line through two points: exact at both ends, between them the chord
        assert!(interpolate(&pts[..2], 0.45, &mut out));
        assert_eq!(out, b);
        assert!(interpolate(&pts[..1], 0.7, &mut out));
        assert_eq!(out, a);
        assert!(!interpolate(&[], 0.7, &mut out));
        // equal abscissae: the first point alone, not a division by zero
        assert!(interpolate(&[(0.4, &a[..]), (0.4, &b[..])], 0.42, &mut out));
        assert_eq!(out, a);
    }

    #[test]
    fn solutions_are_found_in_their_control_state_near_their_level_only() {
        let mut cache = StartCache::new(0.0, 1.0, 2);
        // bins of 1/128: the two filed bins below 0.47 (0.46, 0.44) and the one above (0.50)
        for x in [0.40, 0.44, 0.46, 0.50] {
            cache.set_x(x);
            cache.store(&v_at(x), 1e-9);
        }
        cache.set_x(0.47);
        assert!(cache.lookup(2));
        for (o, e) in cache.start.iter().zip(v_at(0.47)) {
            assert!((o - e).norm() < 1e-14, "{o} vs {e}");
        }
        // too far from everything remembered (32 bins = 0.25)
        cache.set_x(0.90);
        assert!(!cache.lookup(2));
        // another system size
        cache.set_x(0.47);
        assert!(!cache.lookup(3));
        // another control state: nothing there; back: found again
        cache.note_tap("reg1", 2, 1.0);
        assert!(!cache.lookup(2));
        cache.note_tap("reg1", 2, 1.00625);
        cache.store(&v_at(0.47), 1e-9);
        assert_eq!(cache.size(), (5, 2));
        cache.note_tap("reg1", 2, 1.0);
        cache.note_tap("reg1", 2, 1.00625);
        assert!(cache.lookup(2));
        assert_eq!((cache.hits, cache.misses), (2, 3));
        // the same tap reached by a sum of steps with rounding is the same state
        cache.note_tap("reg1", 2, 1.0 + 0.00625 * 0.1 * 10.0);
        assert!(cache.lookup(2));
    }

    #[test]
    fn a_looser_solution_does_not_replace_a_tighter_one_and_memory_is_bounded() {
        let mut cache = StartCache::new(0.0, 1.0, 2);
        cache.set_x(0.401);
        cache.store(&v_at(0.401), 1e-9);
        cache.set_x(0.402);
        cache.store(&v_at(0.5), 1e-6);
        cache.set_x(0.4015);
        assert!(cache.lookup(2));
        assert_eq!(cache.start, v_at(0.401));
        // a cache with room for one solution keeps one
        let mut small = StartCache::new(0.0, 1.0, BUDGET_BYTES / 16);
        for x in [0.1, 0.5, 0.9] {
            small.set_x(x);
            small.store(&v_at(x), 1e-9);
        }
        assert_eq!(small.size(), (1, 1));
    }
}
