//! A small dense complex matrix, for primitive admittance matrices (a few conductors each).
//!
//! Primitive matrices are tiny (2 × 3 conductors for a line, 2 × 4 for a transformer), so a
//! plain row-major `Vec` with a Gauss–Jordan inverse is both the simplest and the fastest form.
//!
//! ```
//! use vgrid_network::{CMatrix, C64};
//! let mut a = CMatrix::zeros(2, 2);
//! a[(0, 0)] = C64::new(2.0, 0.0);
//! a[(1, 1)] = C64::new(0.0, 4.0);
//! let inv = a.inverse().unwrap();
//! assert!((inv[(1, 1)] - C64::new(0.0, -0.25)).norm() < 1e-15);
//! ```

use num_complex::Complex64;
use std::ops::{Index, IndexMut};

/// Complex double.
pub type C64 = Complex64;

/// Dense complex matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct CMatrix {
    rows: usize,
    cols: usize,
    data: Vec<C64>,
}

impl CMatrix {
    /// A `rows × cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> CMatrix {
        CMatrix {
            rows,
            cols,
            data: vec![C64::new(0.0, 0.0); rows * cols],
        }
    }

    /// The `n × n` identity.
    pub fn identity(n: usize) -> CMatrix {
        let mut m = CMatrix::zeros(n, n);
        for i in 0..n {
            m[(i, i)] = C64::new(1.0, 0.0);
        }
        m
    }

    /// Build from a row-major slice.
    pub fn from_row_major(rows: usize, cols: usize, data: Vec<C64>) -> CMatrix {
        assert_eq!(
            data.len(),
            rows * cols,
            "CMatrix::from_row_major: wrong length"
        );
        CMatrix { rows, cols, data }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row-major storage.
    pub fn as_slice(&self) -> &[C64] {
        &self.data
    }

    /// Matrix product `self · other`.
    pub fn matmul(&self, other: &CMatrix) -> CMatrix {
        assert_eq!(self.cols, other.rows, "CMatrix::matmul: shape mismatch");
        let mut out = CMatrix::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self[(i, k)];
                if a == C64::new(0.0, 0.0) {
                    continue;
                }
                for j in 0..other.cols {
                    out[(i, j)] += a * other[(k, j)];
                }
            }
        }
        out
    }

    /// Matrix–vector product.
    pub fn mul_vec(&self, x: &[C64]) -> Vec<C64> {
        assert_eq!(self.cols, x.len(), "CMatrix::mul_vec: shape mismatch");
        (0..self.rows)
            .map(|i| {
                self.data[i * self.cols..(i + 1) * self.cols]
                    .iter()
                    .zip(x)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect()
    }

    /// Multiply every entry by `s`.
    pub fn scale(&mut self, s: C64) {
        for v in &mut self.data {
            *v *= s;
        }
    }

    /// Inverse by Gauss–Jordan elimination with partial pivoting; `None` when singular.
    pub fn inverse(&self) -> Option<CMatrix> {
        assert_eq!(self.rows, self.cols, "CMatrix::inverse: not square");
        let n = self.rows;
        let mut a = self.clone();
        let mut inv = CMatrix::identity(n);
        let scale = self.data.iter().map(|v| v.norm()).fold(0.0, f64::max);
        if scale == 0.0 {
            return if n == 0 { Some(inv) } else { None };
        }
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&i, &j| a[(i, col)].norm().total_cmp(&a[(j, col)].norm()))
                .unwrap_or(col);
            if a[(pivot, col)].norm() <= scale * 1e-300 {
                return None;
            }
            if pivot != col {
                for j in 0..n {
                    a.data.swap(pivot * n + j, col * n + j);
                    inv.data.swap(pivot * n + j, col * n + j);
                }
            }
            let d = C64::new(1.0, 0.0) / a[(col, col)];
            for j in 0..n {
                a[(col, j)] *= d;
                inv[(col, j)] *= d;
            }
            for i in 0..n {
                if i == col {
                    continue;
                }
                let f = a[(i, col)];
                if f == C64::new(0.0, 0.0) {
                    continue;
                }
                for j in 0..n {
                    let (ac, ic) = (a[(col, j)], inv[(col, j)]);
                    a[(i, j)] -= f * ac;
                    inv[(i, j)] -= f * ic;
                }
            }
        }
        Some(inv)
    }
}

impl Index<(usize, usize)> for CMatrix {
    type Output = C64;
    fn index(&self, (i, j): (usize, usize)) -> &C64 {
        &self.data[i * self.cols + j]
    }
}

impl IndexMut<(usize, usize)> for CMatrix {
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut C64 {
        &mut self.data[i * self.cols + j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_3x3_round_trips() {
        let m = CMatrix::from_row_major(
            3,
            3,
            vec![
                C64::new(2.0, 1.0),
                C64::new(0.5, 0.0),
                C64::new(0.0, -1.0),
                C64::new(0.5, 0.0),
                C64::new(3.0, 2.0),
                C64::new(0.1, 0.1),
                C64::new(0.0, -1.0),
                C64::new(0.1, 0.1),
                C64::new(1.0, 4.0),
            ],
        );
        let p = m.matmul(&m.inverse().unwrap());
        for i in 0..3 {
            for j in 0..3 {
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((p[(i, j)] - C64::new(e, 0.0)).norm() < 1e-14);
            }
        }
    }

    #[test]
    fn singular_matrix_has_no_inverse() {
        let m = CMatrix::from_row_major(2, 2, vec![C64::new(1.0, 0.0); 4]);
        assert!(m.inverse().is_none());
    }
}
