//! The synthetic feeders of the `lu` bench and the `lu_solve_synthetic` example (one copy,
//! included by both with `#[path]`).

use vgrid_powerflow::lu::C64;

/// 64-bit LCG (Knuth's constants): fixed seeds, no dependency.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, m: usize) -> usize {
        ((self.uniform() * m as f64) as usize).min(m - 1)
    }
}

/// CSC matrix of a feeder: a random tree of `buses` buses (mostly long chains, 30 %
/// branching to a random earlier bus) plus `ties` loop-closing branches between random buses, a
/// full 3×3 series admittance on each branch, diagonal = sum of the branch blocks + a small
/// shunt, nodes numbered bus by bus.
pub fn feeder(buses: usize, ties: usize, seed: u64) -> (usize, Vec<usize>, Vec<usize>, Vec<C64>) {
    const PHASES: usize = 3;
    let n = buses * PHASES;
    let mut rng = Lcg(seed);
    let mut triplets: Vec<(usize, usize, C64)> = Vec::with_capacity(n * 12);
    for branch in 1..buses + ties {
        let (from, bus) = if branch < buses {
            let from = if rng.uniform() < 0.7 {
                branch - 1
            } else {
                rng.below(branch)
            };
            (from, branch)
        } else {
            let (a, b) = (rng.below(buses), rng.below(buses));
            if a == b {
                continue;
            }
            (a, b)
        };
        let mut y = [[C64::new(0.0, 0.0); PHASES]; PHASES];
        for p in 0..PHASES {
            for q in p..PHASES {
                let base = if p == q {
                    C64::new(1.0, -3.0)
                } else {
                    C64::new(-0.3, 1.0)
                };
                y[p][q] = base * (0.5 + rng.uniform());
                y[q][p] = y[p][q];
            }
        }
        for p in 0..PHASES {
            for q in 0..PHASES {
                let (f, t) = (from * PHASES, bus * PHASES);
                triplets.push((f + p, f + q, y[p][q]));
                triplets.push((t + p, t + q, y[p][q]));
                triplets.push((f + p, t + q, -y[p][q]));
                triplets.push((t + p, f + q, -y[p][q]));
            }
        }
    }
    for i in 0..n {
        triplets.push((i, i, C64::new(0.001, 0.002) * (1.0 + rng.uniform())));
    }
    triplets.sort_by_key(|&(i, j, _)| (j, i));
    let mut col_ptr = vec![0; n + 1];
    let (mut row_idx, mut values): (Vec<usize>, Vec<C64>) = (Vec::new(), Vec::new());
    let mut last = None;
    for (i, j, v) in triplets {
        if last == Some((i, j)) {
            if let Some(x) = values.last_mut() {
                *x += v;
            }
        } else {
            row_idx.push(i);
            values.push(v);
            col_ptr[j + 1] += 1;
            last = Some((i, j));
        }
    }
    for j in 0..n {
        col_ptr[j + 1] += col_ptr[j];
    }
    (n, col_ptr, row_idx, values)
}
