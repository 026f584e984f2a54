//! The sparse bus admittance matrix, assembled from stamped blocks.
//!
//! Each element contributes a small dense block (its primitive matrix) at the node indices of its
//! conductors. The *pattern* of `Y` depends only on which nodes each element touches, so it is
//! computed once ([`YBusBuilder::finish`]); afterwards a tap change or a switched capacitor only
//! re-stamps numbers into the fixed pattern ([`YBus::stamp`]), and the sparse LU can reuse its
//! symbolic analysis.
//!
//! ```
//! use vgrid_network::{CMatrix, YBusBuilder, C64};
//! // a 1-ohm branch between node 0 and node 1, and a 1-ohm shunt at node 1
//! let mut b = YBusBuilder::new(2);
//! let branch = b.add_block(&[Some(0), Some(1)]);
//! let shunt = b.add_block(&[Some(1), None]); // second conductor on ground
//! let mut y = b.finish();
//! let one = C64::new(1.0, 0.0);
//! let yb = CMatrix::from_row_major(2, 2, vec![one, -one, -one, one]);
//! y.stamp(branch, &yb, 1.0);
//! y.stamp(shunt, &yb, 1.0);
//! assert_eq!(y.get(1, 1), C64::new(2.0, 0.0));
//! assert_eq!(y.get(0, 1), -one);
//! ```

use crate::{CMatrix, C64};

/// Handle of a stamped block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockId(pub usize);

/// Collects the blocks; [`YBusBuilder::finish`] fixes the pattern.
#[derive(Debug, Clone, Default)]
pub struct YBusBuilder {
    n: usize,
    blocks: Vec<Vec<Option<usize>>>,
}

impl YBusBuilder {
    /// A builder for `n` node unknowns.
    pub fn new(n: usize) -> YBusBuilder {
        YBusBuilder {
            n,
            blocks: Vec::new(),
        }
    }

    /// Register a block over these nodes (`None` = ground or disconnected: row and column
    /// dropped).
    pub fn add_block(&mut self, nodes: &[Option<usize>]) -> BlockId {
        self.blocks.push(nodes.to_vec());
        BlockId(self.blocks.len() - 1)
    }

    /// Fix the pattern (every diagonal is structurally present) in compressed-column form.
    pub fn finish(self) -> YBus {
        let n = self.n;
        // count, fill and sort each column in one flat array (no vector per column)
        let mut count = vec![1usize; n]; // the diagonal
        for nodes in &self.blocks {
            let k = nodes.iter().flatten().count();
            for &b in nodes.iter().flatten() {
                count[b] += k;
            }
        }
        let mut start = Vec::with_capacity(n + 1);
        start.push(0);
        for c in &count {
            start.push(start[start.len() - 1] + c);
        }
        let mut fill = start[..n].to_vec();
        let mut rows = vec![0usize; start[n]];
        for (j, f) in fill.iter_mut().enumerate() {
            rows[*f] = j;
            *f += 1;
        }
        for nodes in &self.blocks {
            for &b in nodes.iter().flatten() {
                for &a in nodes.iter().flatten() {
                    rows[fill[b]] = a;
                    fill[b] += 1;
                }
            }
        }
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::with_capacity(rows.len());
        col_ptr.push(0);
        for j in 0..n {
            let c = &mut rows[start[j]..start[j + 1]];
            c.sort_unstable();
            let mut last = usize::MAX;
            for &r in c.iter() {
                if r != last {
                    row_idx.push(r);
                    last = r;
                }
            }
            col_ptr.push(row_idx.len());
        }
        let position = |r: usize, c: usize| -> usize {
            let s = &row_idx[col_ptr[c]..col_ptr[c + 1]];
            col_ptr[c]
                + s.binary_search(&r)
                    .unwrap_or_else(|_| unreachable!("pattern holds it"))
        };
        let blocks = self
            .blocks
            .iter()
            .map(|nodes| {
                let m = nodes.len();
                let mut pos = Vec::with_capacity(m * m);
                for i in 0..m {
                    for j in 0..m {
                        pos.push(match (nodes[i], nodes[j]) {
                            (Some(a), Some(b)) => position(a, b),
                            _ => usize::MAX,
                        });
                    }
                }
                Block { m, pos }
            })
            .collect();
        let nnz = row_idx.len();
        YBus {
            n,
            col_ptr,
            row_idx,
            values: vec![C64::new(0.0, 0.0); nnz],
            blocks,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Block {
    m: usize,
    /// Position in `values` of entry (i, j) of the block, row-major; `usize::MAX` = dropped.
    pos: Vec<usize>,
}

/// Sparse `Y` (compressed columns) with the positions of every stamped block.
#[derive(Debug, Clone, PartialEq)]
pub struct YBus {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<C64>,
    blocks: Vec<Block>,
}

impl YBus {
    pub fn n(&self) -> usize {
        self.n
    }
    pub fn col_ptr(&self) -> &[usize] {
        &self.col_ptr
    }
    pub fn row_idx(&self) -> &[usize] {
        &self.row_idx
    }
    pub fn values(&self) -> &[C64] {
        &self.values
    }

    /// Zero every value (the pattern stays).
    pub fn clear(&mut self) {
        self.values.iter_mut().for_each(|v| *v = C64::new(0.0, 0.0));
    }

    /// Add `sign · m` at the block's positions (`sign = -1` removes an earlier stamp).
    pub fn stamp(&mut self, block: BlockId, m: &CMatrix, sign: f64) {
        let b = &self.blocks[block.0];
        debug_assert_eq!(b.m, m.rows(), "block size");
        for (k, &p) in b.pos.iter().enumerate() {
            if p != usize::MAX {
                self.values[p] += m.as_slice()[k] * sign;
            }
        }
    }

    /// Entry `(row, col)` (zero outside the pattern).
    pub fn get(&self, row: usize, col: usize) -> C64 {
        let s = &self.row_idx[self.col_ptr[col]..self.col_ptr[col + 1]];
        match s.binary_search(&row) {
            Ok(k) => self.values[self.col_ptr[col] + k],
            Err(_) => C64::new(0.0, 0.0),
        }
    }

    /// `out = Y · v`.
    pub fn mul_vec(&self, v: &[C64], out: &mut [C64]) {
        out.iter_mut().for_each(|x| *x = C64::new(0.0, 0.0));
        for c in 0..self.n {
            let vc = v[c];
            for k in self.col_ptr[c]..self.col_ptr[c + 1] {
                out[self.row_idx[k]] += self.values[k] * vc;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restamping_replaces_a_block() {
        let mut b = YBusBuilder::new(3);
        let a = b.add_block(&[Some(0), Some(2)]);
        let s = b.add_block(&[Some(1)]);
        let mut y = b.finish();
        let m = CMatrix::from_row_major(
            2,
            2,
            vec![
                C64::new(1.0, 1.0),
                C64::new(-1.0, -1.0),
                C64::new(-1.0, -1.0),
                C64::new(1.0, 1.0),
            ],
        );
        y.stamp(a, &m, 1.0);
        y.stamp(s, &CMatrix::identity(1), 1.0);
        assert_eq!(y.get(2, 0), C64::new(-1.0, -1.0));
        y.stamp(a, &m, -1.0);
        assert_eq!(y.get(2, 0), C64::new(0.0, 0.0));
        assert_eq!(y.get(1, 1), C64::new(1.0, 0.0));
        // pattern: 3 diagonals + 2 off-diagonals
        assert_eq!(y.row_idx().len(), 5);
    }
}
