//! Timing of the LU solve shared by the `lu_solve_timing` and `lu_solve_synthetic` examples
//! (included by both with `#[path]`).

use std::time::Instant;

use vgrid_powerflow::lu::{NumericLu, C64};

/// Seconds per solve of `b`, 7 timings of `reps` solves each, sorted; and the last answer.
pub fn time_solves(lu: &NumericLu, b: &[C64], reps: usize) -> (Vec<f64>, Vec<C64>) {
    let mut x = b.to_vec();
    let mut times = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..reps {
            x.copy_from_slice(b);
            lu.solve_in_place(&mut x);
            std::hint::black_box(&mut x);
        }
        times.push(t.elapsed().as_secs_f64() / reps.max(1) as f64);
    }
    times.sort_by(f64::total_cmp);
    (times, x)
}

/// FNV-1a over the bits of the answer: equal checksums mean bit-identical solves, to compare
/// two builds of the solve (an A/B of a layout change must not change the operation order).
pub fn checksum(x: &[C64]) -> u64 {
    x.iter()
        .flat_map(|z| [z.re.to_bits(), z.im.to_bits()])
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, w| {
            (h ^ w).wrapping_mul(0x0000_0100_0000_01b3)
        })
}
