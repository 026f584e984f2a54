//! # Sparse LU for bus admittance matrices: analyse once, refactor many times, solve very many times
//!
//! A power flow solves `Y·V = I` again and again with the same sparsity pattern of `Y`: every
//! iteration re-solves with new currents, and a tap change or a capacitor switch changes a few
//! values of `Y` but never its pattern. This module splits the work accordingly:
//!
//! | step | when | work | radial 8,500-bus three-phase feeder (25,500 unknowns) |
//! |---|---|---|---|
//! | [`SymbolicLu::analyze`] | once per topology | ordering, elimination tree, factor pattern | ≈ 7 ms |
//! | [`NumericLu::factor`] | once | allocates the value arrays, then refactors | ≈ 1.9 ms |
//! | [`NumericLu::refactor`] | when values of `Y` change | flat arrays, no allocation | ≈ 1.7 ms |
//! | [`NumericLu::solve_in_place`] | every iteration | one forward and one backward pass, no allocation | ≈ 0.4 ms |
//!
//! (Criterion means on the project's 2-core machine, `cargo bench -p vgrid-powerflow --bench lu`;
//! KLU needs 5–7, 7–10, 4–5 and 1.0 ms on the same matrix.)
//!
//! ## The idea: a structurally symmetric LU is a Cholesky in disguise
//!
//! `Y` of a network is structurally symmetric: `Y[i][j] ≠ 0` exactly when `Y[j][i] ≠ 0` (nodes `i`
//! and `j` share a branch). Without row exchanges, `A = L·U` with a symmetric pattern has
//! `pattern(U) = pattern(Lᵀ)`, the same pattern a Cholesky factor would have. Diagonal pivots are
//! safe here because every node of a feeder is tied to ground through something (a load, a shunt,
//! the line charging), which makes the admittance matrix (close to) diagonally dominant. So the
//! pattern can be computed once, from the graph of the matrix alone, and every later factorisation
//! is pure arithmetic over precomputed index arrays.
//!
//! **Elimination as a graph game.** Eliminating unknown `k` (Gaussian elimination step `k`)
//! connects all of its not-yet-eliminated neighbours to each other: those new edges are the
//! *fill-in*, entries of `L`/`U` that are zero in `A`. The order of elimination decides how much
//! fill there is. This module orders by *minimum degree*: repeatedly eliminate a node with the
//! fewest remaining neighbours. Nodes with identical neighbourhoods (the phase conductors of a
//! bus) are merged into one weighted *supervariable* first, degrees are exact on the explicit
//! elimination graph, and very dense nodes are postponed to the end, as AMD does.
//!
//! **Elimination tree.** The parent of column `j` is the first row `i > j` with `L[i][j] ≠ 0`.
//! That tree is the dependency graph of the factorisation: column `j` is only needed by its
//! ancestors, and the pattern of row `k` of `L` is the set of nodes on the tree paths from the
//! nonzeros `A[k][i]` (`i < k`) up to `k` (the "row subtree"). Walking those paths for every `k`
//! gives the whole factor pattern in time proportional to its size. The nodes are finally
//! renumbered in a depth-first postorder of the tree, which does not change the fill but keeps
//! each subtree contiguous in memory.
//!
//! **Supernodes.** When column `j + 1` is `j`'s parent and `j`'s pattern is `{j + 1}` plus the
//! pattern of `j + 1` (the three phase nodes of a bus, eliminated one after the other), the
//! columns share their rows below. The solve takes such a run (up to 6 columns) as one block: the
//! small triangle stays in registers and each shared row of the right-hand side is read and
//! written once instead of once per column. After each (re)factorisation the values are copied
//! into a block layout (per supernode: its triangle, then each shared row's values side by
//! side), so a row update is one contiguous read; this cut the solve from 575k to 465k
//! instructions on the European LV feeder (2,721 unknowns, callgrind), 58k to 47k on IEEE 123.
//! Each value `a` of that layout is stored as `[a.re, a.im, −a.im, a.re]`, which turns a
//! complex multiply-subtract into two packed products on the baseline x86-64 target (SSE2)
//! with no shuffle, in the same operation order as the complex product: 465k → 402k
//! instructions (EULV); its re-solve after a load change, dominated by one solve, 55 → 50 µs.
//! Tried and rejected: permuting the right-hand side into elimination order first (contiguous
//! supernode entries, no permutation inside the loops) saved only 2 % of the substitution
//! and cost more in the gather and scatter (EULV re-solve 50 → 54 µs); updating the shared
//! rows as one slice when they are consecutive in the caller's numbering (the phases of the
//! parent bus) cost more instructions than the bounds checks it saved (402k → 460k).
//!
//! **Streams, and a schedule that lets the processor overlap supernodes.** The solve reads
//! everything as streams, in the order it visits the supernodes: one index stream (per
//! supernode, the caller's indices of its columns, then of its shared rows, as `u32`), the
//! forward values (triangle, then rows) and the backward values (inverted pivots, triangle,
//! rows; read from the end). A supernode is then described by its size and row count only; a
//! run of the two commonest shapes (one column with one row, three columns with three rows)
//! takes its part of the streams at once and walks it in fixed-size pieces (no per-supernode
//! bounds checks, unrolled rows), and the triangles and pivots use the split values too, bit
//! for bit the same products. But elimination order is a postorder: nearly every supernode
//! needs the result of the one just before it (806 of the 905 neighbouring pairs on the
//! European LV feeder), so the substitution was one chain of dependent loads, products and
//! stores, about 120 cycles per supernode however few the instructions. The solve now visits
//! the supernodes level by level (`solve_schedule`; 173 levels on EULV), those of one kind
//! together, so that neighbours are independent and the processor overlaps them, and it
//! dispatches on the kind once per run of equal kinds. Levels are as late as possible, which
//! keeps a supernode near the ones that use its results; as soon as possible (leaves first)
//! took 9 % more time on EULV and 4 % on IEEE 123, for fewer mispredictions (33 + 32 on IEEE
//! 123). The backward pass runs the reverse order, which suits it best: with its own index
//! stream in its own as-late-as-possible order it took 30 % more time on EULV, and the forward
//! pass as soon as possible with this backward order gained nothing (EULV 21.9 → 22.4 µs). Every row receives its updates in elimination order, so the answers are the same to
//! the last bit (a test compares them bit for bit with a column-by-column solve in that order;
//! the examples print a checksum of the answer).
//!
//! | feeder (unknowns; supernodes) | instructions per solve | branch misses (conditional + indirect) | solve, min of 7 |
//! |---|---|---|---|
//! | European LV (2,721; 906) | 397k → 282k | 3 + 0 → 3 + 4 | 39.0 → 21.5 µs |
//! | IEEE 123 (278; 134) | 40.3k → 29.5k | 27 + 52 → 70 + 64 | 3.42 → 2.01 µs |
//! | village (936; 643) | 134k → 80k | 11 + 140 → 70 + 70 | 9.86 → 5.42 µs |
//! | bench's radial feeder (25,500; 8,500) | 3.72M → 2.64M | 3 + 0 → 3 + 4 | 430 → 333 µs |
//! | bench's meshed feeder (25,500; 1M fill-in) | 12.3M → 12.2M | 14.1k + 0 → 16.2k + 2.0k | 2.57 → 2.43 ms |
//!
//! (`valgrind --tool=cachegrind --branch-sim=yes` on the `lu_solve_timing` and
//! `lu_solve_synthetic` examples, per solve; wall times A/B in the same minute on the shared
//! 2-core machine, the meshed one within its noise.) Alone, without the level schedule,
//! dispatching per run of equal sizes did not pay (348k → 334k instructions on EULV, but
//! IEEE 123 3.05 → 3.14 µs: short runs, a mispredicted loop exit per run); with it
//! (kinds sorted within a level, ascending and descending on alternate levels so that
//! neighbouring levels join their runs) it saves 6–13 % of the instructions and up to 10 % of
//! the time (village). Tried and not kept: a backward path for three columns with a constant
//! three rows (LLVM's vectoriser then emits scalar code: 335k → 353k instructions; the row
//! count is read from the data instead, see `backward_run`); two copies of the three-column
//! backward path, one per shape (a mispredicted branch per supernode: EULV 2 → 908 misses).
//! Value traffic matters little: with every supernode reading the same values (wrong answers,
//! no value traffic at all), EULV's solve went from 35.6 to 35.3 µs in elimination order,
//! from 25.9 to 24.1 µs with the schedule.
//!
//! **Unknowns eliminated first.** [`SymbolicLu::analyze_eliminating_first`] takes candidate
//! unknowns whose right-hand side will always be zero (no source or load there) and eliminates
//! those that cost no fill before all others (a bus joining two neighbours, or a dead end,
//! repeatedly as the graph shrinks). Their forward substitution is then zero and the rest of the
//! factors is the LU of Kron's reduction of the network onto the kept unknowns:
//! [`NumericLu::solve_kept_in_place`] iterates on those alone and
//! [`NumericLu::recover_eliminated_in_place`] gives the others afterwards, the same answer to the
//! last bit as a full solve. The solve's streams hold the eliminated supernodes first and the
//! kept ones after, each part in its own schedule, so both are plain slices of the streams. The
//! European LV feeder keeps 462 of its 2,721 unknowns (`vgrid_powerflow::solve`, `chains.rs`).
//!
//! **Why a radial feeder has no fill.** A radial feeder's graph is a tree (of buses; each bus
//! is a small clique of its 3 or 4 phase nodes, fully coupled to the nodes of the neighbouring bus).
//! A leaf bus's nodes only see their own bus and their parent bus, which are already all
//! connected to each other, so eliminating them creates no new edge, and what remains is again a
//! radial feeder. Eliminating leaves first (which minimum degree does) therefore has *zero* fill:
//! `L` and `U` have exactly the pattern of `A`, and a solve touches each admittance entry once
//! forward and once backward. A few loops (weak meshing) add a little fill along the loop paths.
//!
//! ## Example
//!
//! A three-node chain `0 – 1 – 2` (series admittance `y`, shunt `g` at every node):
//!
//! ```
//! use std::sync::Arc;
//! use vgrid_powerflow::lu::{NumericLu, SymbolicLu, C64};
//!
//! let (y, g) = (C64::new(1.0, -10.0), C64::new(0.01, 0.0));
//! // Y in compressed sparse columns: column j holds rows row_idx[col_ptr[j]..col_ptr[j + 1]].
//! let col_ptr = [0, 2, 5, 7];
//! let row_idx = [0, 1, /**/ 0, 1, 2, /**/ 1, 2];
//! let values = [y + g, -y, /**/ -y, 2.0 * y + g, -y, /**/ -y, y + g];
//!
//! let symbolic = Arc::new(SymbolicLu::analyze(3, &col_ptr, &row_idx)?);
//! assert_eq!(symbolic.nnz_factors(), 7); // a chain is a tree: no fill-in
//! let mut lu = NumericLu::factor(Arc::clone(&symbolic), &values)?;
//!
//! // Inject 1 A at node 2: b is overwritten with the voltages.
//! let mut v = [C64::new(0.0, 0.0), C64::new(0.0, 0.0), C64::new(1.0, 0.0)];
//! lu.solve_in_place(&mut v);
//! let residual = (-y * v[1] + (y + g) * v[2] - 1.0).norm();
//! assert!(residual < 1e-12);
//!
//! // A tap change: new values, same pattern. No allocation, no new analysis.
//! let values2 = values.map(|a| 1.1 * a);
//! lu.refactor(&values2)?;
//! # Ok::<(), vgrid_powerflow::lu::LuError>(())
//! ```
//!
//! ## Conventions
//!
//! - Input is a square matrix in compressed sparse column (CSC) form. Rows within a column may be
//!   in any order; repeated `(row, column)` entries are summed. The pattern need not be
//!   symmetric: it is symmetrised (missing mirror entries are treated as structural zeros).
//! - No pivoting: a pivot whose magnitude is below `1e-13 ×` the largest magnitude in its
//!   (original) column, or which is zero or not finite, is reported as [`LuError::Singular`] with
//!   the original column index.
//! - All index arithmetic is checked at analysis time; bad input returns [`LuError::Pattern`],
//!   never a panic.

#![forbid(unsafe_code)]

use std::sync::Arc;

/// Complex double, the scalar of every admittance matrix.
pub type C64 = num_complex::Complex64;

/// Marks "no node" in trees and linked lists.
const NONE: usize = usize::MAX;

/// Largest supernode handled as a block by the solve (a three-phase bus with neutral has 4
/// nodes; a Newton 2×2 block on a three-phase bus has 6).
const MAX_SUPERNODE: usize = 6;

/// A pivot smaller than this times the largest magnitude in its column is treated as zero.
const PIVOT_RELATIVE_TOLERANCE: f64 = 1e-13;

/// Why an analysis or a factorisation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LuError {
    /// A pivot vanished (numerically): the matrix is singular, or needs pivoting, which this
    /// solver does not do. `column` is the column index in the caller's numbering.
    #[error("matrix is singular: the pivot of column {column} has magnitude {pivot_magnitude:e}")]
    Singular { column: usize, pivot_magnitude: f64 },
    /// The CSC pattern (or the value array given with it) is malformed.
    #[error("invalid sparse matrix pattern: {0}")]
    Pattern(String),
}

/// The symbolic analysis of a sparsity pattern: fill-reducing ordering, elimination tree and the
/// pattern of the factors. Computed once per topology and shared (through an [`Arc`]) by every
/// [`NumericLu`] with that pattern.
#[derive(Debug, Clone)]
pub struct SymbolicLu {
    n: usize,
    /// Number of entries of the caller's pattern (= length of the value arrays).
    nnz_input: usize,
    /// Entries of the symmetrised pattern, full diagonal included.
    nnz_symmetric: usize,
    /// `perm[k]` = original index of the `k`-th eliminated unknown.
    perm: Vec<usize>,
    /// `pinv[i]` = elimination position of original unknown `i`.
    pinv: Vec<usize>,
    /// Elimination tree in elimination order (`NONE` for roots).
    parent: Vec<usize>,
    /// Columns of the strictly lower factor (elimination order): column `j` occupies positions
    /// `l_col_ptr[j]..l_col_ptr[j + 1]`. `L[i][j]` and `U[j][i]` share a position.
    l_col_ptr: Vec<usize>,
    /// Row of each position in elimination order (ascending within a column).
    l_row: Vec<u32>,
    /// Original index of the row of each position.
    l_row_original: Vec<u32>,
    /// Rows of the strictly lower factor: row `k` lists `row_col[row_ptr[k]..row_ptr[k + 1]]`
    /// (ascending columns, elimination order) stored at positions `row_pos[..]`.
    row_ptr: Vec<usize>,
    row_col: Vec<u32>,
    row_pos: Vec<u32>,
    /// The supernodes in the solve's order ([`solve_schedule`]), as runs of one kind (see
    /// [`Run`]), and the number of shared rows of each. A supernode is a chain of columns of the
    /// elimination tree whose patterns nest (`pattern(j) = {j + 1} ∪ pattern(j + 1)`), like the
    /// phase nodes of one bus; at most [`MAX_SUPERNODE`] columns.
    runs: Vec<Run>,
    block_rows: Vec<u32>,
    /// The solve's index stream, supernode after supernode: the original indices of its
    /// columns, then of its shared rows.
    solve_idx: Vec<u32>,
    /// Sources of the forward value stream [`NumericLu::block_l`]: for each supernode, the
    /// positions (in the factor arrays) of its unit triangle (column by column), then of its
    /// shared rows, `size` values per row.
    l_src: Vec<u32>,
    /// Sources of the backward value stream [`NumericLu::block_u`]: for each supernode its
    /// inverted pivots (encoded as `nnz_l + k` for `diag_inv[k]`), then positions as in `l_src`.
    u_src: Vec<u32>,
    /// The inverse of `l_src` and `u_src`: where each factor position goes in the value
    /// streams ([`NO_SLOT`] if nowhere), so that a partial refactorisation repacks only the
    /// values it recomputed; `None` if a position went to two places (then everything is
    /// repacked).
    stream_slots: Option<StreamSlots>,
    /// Scatter map of the input values, grouped by elimination step.
    scatter: ScatterMap,
    /// Unknowns eliminated first (elimination positions `0..eliminated_first`), see
    /// [`SymbolicLu::analyze_eliminating_first`]; 0 for a plain analysis.
    eliminated_first: usize,
    /// Where the solve's streams pass from the supernodes eliminated first to the kept ones.
    split: StreamSplit,
}

/// Where each factor value goes in the solve's value streams: `l[p]` in
/// [`NumericLu::block_l`] for `l_values[p]`, `u[p]` in [`NumericLu::block_u`] for
/// `u_values[p]` and `u[nnz_l + k]` for `diag_inv[k]`.
#[derive(Debug, Clone)]
struct StreamSlots {
    l: Vec<u32>,
    u: Vec<u32>,
}

/// No place in a value stream ([`StreamSlots`]).
const NO_SLOT: u32 = u32::MAX;

impl StreamSlots {
    /// The inverse of the sources `l_src` (positions `0..nnz_l`) and `u_src` (`0..nnz_l + n`);
    /// `None` if a position is the source of two slots.
    fn invert(l_src: &[u32], u_src: &[u32], nnz_l: usize, n: usize) -> Option<StreamSlots> {
        fn inverse(src: &[u32], len: usize) -> Option<Vec<u32>> {
            let mut dst = vec![NO_SLOT; len];
            for (slot, &p) in src.iter().enumerate() {
                let d = dst.get_mut(p as usize)?;
                if *d != NO_SLOT {
                    return None;
                }
                *d = u32::try_from(slot).ok()?;
            }
            Some(dst)
        }
        Some(StreamSlots {
            l: inverse(l_src, nnz_l)?,
            u: inverse(u_src, nnz_l + n)?,
        })
    }
}

/// Offsets into the solve's streams ([`SymbolicLu::runs`], [`SymbolicLu::block_rows`],
/// [`SymbolicLu::solve_idx`], [`NumericLu::block_l`], [`NumericLu::block_u`]) at the first
/// supernode of the kept unknowns: everything before belongs to the unknowns eliminated first.
#[derive(Debug, Clone, Copy, Default)]
struct StreamSplit {
    runs: usize,
    blocks: usize,
    idx: usize,
    l: usize,
    u: usize,
}

impl SymbolicLu {
    /// Analyses the pattern of an `n × n` matrix given in CSC form (`col_ptr` of length `n + 1`,
    /// row indices of column `j` in `row_idx[col_ptr[j]..col_ptr[j + 1]]`).
    ///
    /// # Errors
    /// [`LuError::Pattern`] if the pattern is malformed (wrong lengths, decreasing column pointers,
    /// a row index `≥ n`) or too large for 32-bit positions.
    pub fn analyze(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<SymbolicLu, LuError> {
        Self::analyze_with(n, col_ptr, row_idx, None)
    }

    /// [`analyze`](Self::analyze), eliminating first the `candidates` (one flag per unknown)
    /// that cost no fill: an unknown whose remaining neighbours weigh at most twice its own
    /// group (the nodes of a bus with two neighbouring buses, a pass-through bus of a cable, or
    /// with one, a dead end), repeatedly, as the graph shrinks.
    ///
    /// Meant for the unknowns whose right-hand side is always zero (no source, no load): their
    /// forward substitution then gives zero and can be skipped, so an iteration needs only
    /// [`NumericLu::solve_kept_in_place`] over the other unknowns, and one
    /// [`NumericLu::recover_eliminated_in_place`] at the end gives the eliminated ones
    /// (Kron's reduction, done by the factorisation itself). [`SymbolicLu::eliminated_first`]
    /// says which candidates were taken.
    ///
    /// # Errors
    /// As [`analyze`](Self::analyze); also if `candidates` does not have `n` flags.
    pub fn analyze_eliminating_first(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        candidates: &[bool],
    ) -> Result<SymbolicLu, LuError> {
        if candidates.len() != n {
            return Err(LuError::Pattern(format!(
                "{} candidate flags for a matrix of order {n}",
                candidates.len()
            )));
        }
        Self::analyze_with(n, col_ptr, row_idx, Some(candidates))
    }

    fn analyze_with(
        n: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        candidates: Option<&[bool]>,
    ) -> Result<SymbolicLu, LuError> {
        validate_pattern(n, col_ptr, row_idx)?;
        let (adj_ptr, adj_idx) = symmetric_adjacency(n, col_ptr, row_idx);
        let nnz_symmetric = n + adj_idx.len();

        // Fill-reducing ordering, then an equivalent postorder of its elimination tree, with
        // the unknowns eliminated first kept in front (a postorder's subsequences stay
        // topological: children before parents, and the first ones' children are first ones).
        let (order, first) = minimum_degree_order(n, &adj_ptr, &adj_idx, candidates);
        let parent = elimination_tree(&order, &inverse(&order), &adj_ptr, &adj_idx);
        let post = postorder(&parent);
        let post: Vec<usize> = post
            .iter()
            .copied()
            .filter(|&k| k < first)
            .chain(post.iter().copied().filter(|&k| k >= first))
            .collect();
        let perm: Vec<usize> = post.iter().map(|&k| order[k]).collect();
        let pinv = inverse(&perm);
        let parent = relabel_tree(&parent, &post);

        let (l_col_ptr, l_rows) = factor_pattern(&perm, &pinv, &parent, &adj_ptr, &adj_idx)?;
        let (row_ptr, row_col, row_pos) = transpose_pattern(n, &l_col_ptr, &l_rows);
        let supernode_ptr = supernodes(&parent, &l_col_ptr, first);
        let l_row_original: Vec<u32> = l_rows.iter().map(|&i| perm[i as usize] as u32).collect();
        let layout = block_layout(
            &supernode_ptr,
            &l_col_ptr,
            &l_rows,
            &perm,
            &l_row_original,
            first,
        )?;
        let scatter = scatter_map(n, col_ptr, row_idx, &pinv);
        let stream_slots = StreamSlots::invert(&layout.l_src, &layout.u_src, l_rows.len(), n);

        Ok(SymbolicLu {
            n,
            nnz_input: row_idx.len(),
            nnz_symmetric,
            pinv: pinv.clone(),
            perm,
            parent,
            l_col_ptr,
            l_row_original,
            l_row: l_rows,
            row_ptr,
            row_col,
            row_pos,
            runs: layout.runs,
            block_rows: layout.block_rows,
            solve_idx: layout.idx,
            l_src: layout.l_src,
            u_src: layout.u_src,
            stream_slots,
            scatter,
            eliminated_first: first,
            split: layout.split,
        })
    }

    /// The unknowns eliminated first (original indices), see
    /// [`analyze_eliminating_first`](Self::analyze_eliminating_first); empty for a plain
    /// analysis.
    pub fn eliminated_first(&self) -> &[usize] {
        &self.perm[..self.eliminated_first]
    }

    /// Order of the matrix.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Entries of `L` and `U` together, the shared diagonal counted once. With no fill-in this
    /// equals the number of entries of the symmetrised pattern (with a full diagonal).
    pub fn nnz_factors(&self) -> usize {
        self.n + 2 * self.l_row_original.len()
    }

    /// Entries of `L` and `U` in the kept unknowns' columns (all of them when none is
    /// eliminated first): the work of [`NumericLu::solve_kept_in_place`].
    pub fn nnz_factors_kept(&self) -> usize {
        let first = self.eliminated_first;
        (self.n - first) + 2 * (self.l_col_ptr[self.n] - self.l_col_ptr[first])
    }

    /// Entries created by the elimination: `nnz_factors()` minus the entries of the symmetrised
    /// pattern with a full diagonal. Zero for a radial network.
    pub fn fill_in(&self) -> usize {
        self.nnz_factors() - self.nnz_symmetric
    }

    /// Number of entries the value arrays passed to [`NumericLu`] must have.
    pub fn nnz_input(&self) -> usize {
        self.nnz_input
    }

    /// Elimination order: `permutation()[k]` is the original index of the `k`-th pivot.
    pub fn permutation(&self) -> &[usize] {
        &self.perm
    }

    /// Elimination tree over elimination positions: `elimination_tree()[k]` is the position of the
    /// parent of the `k`-th pivot, `None` for a root (one root per connected component).
    pub fn elimination_tree(&self) -> Vec<Option<usize>> {
        self.parent
            .iter()
            .map(|&p| (p != NONE).then_some(p))
            .collect()
    }
}

/// The numeric factors `A = L·U` (`L` unit lower triangular, `U` upper triangular, in the
/// elimination order of a [`SymbolicLu`]) with the workspace to refactor without allocating.
///
/// `NumericLu` is `Send + Sync`: solves take `&self` and need no workspace, so one factorisation
/// can serve several threads.
#[derive(Debug, Clone)]
pub struct NumericLu {
    symbolic: Arc<SymbolicLu>,
    /// `L[i][j]` at the positions of column `j` (unit diagonal not stored).
    l_values: Vec<C64>,
    /// `U[j][i]` at the same positions (`U`'s diagonal is in `diag_inv`, inverted).
    u_values: Vec<C64>,
    /// `1 / U[k][k]` in elimination order.
    diag_inv: Vec<C64>,
    /// `L` values in the forward pass's order ([`SymbolicLu::l_src`]), and the inverted pivots
    /// and `U` values in the backward pass's ([`SymbolicLu::u_src`]).
    /// Each value `a` is kept as `[a.re, a.im, −a.im, a.re]`: `a·b` is then
    /// `[a.re, a.im]·b.re + [−a.im, a.re]·b.im`, two packed products without a shuffle.
    block_l: Vec<[f64; 4]>,
    block_u: Vec<[f64; 4]>,
    /// Dense accumulator, interleaved in elimination order: `[2i]` column of `U`, `[2i + 1]` row
    /// of `L`. All zero between factorisations.
    work: Vec<C64>,
    /// Squared largest magnitude of each column (elimination order).
    col_max_sq: Vec<f64>,
    /// Squared magnitude of each pivot (elimination order).
    pivot_sq: Vec<f64>,
    /// Work space of [`NumericLu::refactor_partial`]: the steps to redo, and their marks.
    steps: Vec<usize>,
    redo: Vec<bool>,
    /// `false` after a failed refactorisation: solves then return NaN.
    valid: bool,
}

impl NumericLu {
    /// Factorises the matrix whose values are `values`, in the same CSC order as the pattern given
    /// to [`SymbolicLu::analyze`].
    ///
    /// # Errors
    /// [`LuError::Pattern`] if `values` has the wrong length, [`LuError::Singular`] if a pivot
    /// vanishes.
    pub fn factor(symbolic: Arc<SymbolicLu>, values: &[C64]) -> Result<NumericLu, LuError> {
        let n = symbolic.n;
        let nnz_l = symbolic.l_row_original.len();
        let zero = C64::new(0.0, 0.0);
        let mut lu = NumericLu {
            l_values: vec![zero; nnz_l],
            u_values: vec![zero; nnz_l],
            diag_inv: vec![zero; n],
            block_l: vec![[0.0; 4]; symbolic.l_src.len()],
            block_u: vec![[0.0; 4]; symbolic.u_src.len()],
            work: vec![zero; 2 * n],
            col_max_sq: vec![0.0; n],
            pivot_sq: vec![0.0; n],
            steps: Vec::new(),
            redo: Vec::new(),
            valid: false,
            symbolic,
        };
        lu.refactor(values)?;
        Ok(lu)
    }

    /// The analysis this factorisation is built on.
    pub fn symbolic(&self) -> &Arc<SymbolicLu> {
        &self.symbolic
    }

    /// Recomputes the factors for new values with the same pattern, reusing every array.
    ///
    /// # Errors
    /// [`LuError::Pattern`] if `values` has the wrong length (the previous factors are kept);
    /// [`LuError::Singular`] if a pivot vanishes (the factors are then invalid and solves return
    /// NaN until a successful refactorisation).
    pub fn refactor(&mut self, values: &[C64]) -> Result<(), LuError> {
        let s = &*self.symbolic;
        if values.len() != s.nnz_input {
            return Err(LuError::Pattern(format!(
                "{} values given for a pattern of {} entries",
                values.len(),
                s.nnz_input
            )));
        }
        up_looking_factor(
            s,
            values,
            &mut self.work,
            &mut self.l_values,
            &mut self.u_values,
            &mut self.diag_inv,
            &mut self.col_max_sq,
            &mut self.pivot_sq,
            0..s.n,
        );
        self.check_pivots_and_pack(0..s.n)
    }

    /// Refactor after the values changed only in the rows and columns of the unknowns
    /// `changed` (original indices), e.g. one transformer's tap. Up-looking elimination computes
    /// row `k` of the factors from `A`'s row and column `k` and the finished rows of `k`'s
    /// descendants in the elimination tree, so only the rows of the changed unknowns and of
    /// their ancestors are redone: on a radial feeder, a path to the root instead of every row.
    /// Falls back to a full refactorisation after a failed one.
    pub fn refactor_partial(&mut self, values: &[C64], changed: &[usize]) -> Result<(), LuError> {
        let s = Arc::clone(&self.symbolic);
        if !self.valid {
            return self.refactor(values);
        }
        if values.len() != s.nnz_input {
            return Err(LuError::Pattern(format!(
                "{} values given for a pattern of {} entries",
                values.len(),
                s.nnz_input
            )));
        }
        if let Some(&bad) = changed.iter().find(|&&c| c >= s.n) {
            return Err(LuError::Pattern(format!(
                "changed unknown {bad} is outside a matrix of order {}",
                s.n
            )));
        }
        let mut steps = std::mem::take(&mut self.steps);
        steps.clear();
        self.redo.resize(s.n, false);
        for &c in changed {
            let mut k = s.pinv[c];
            while k != NONE && !self.redo[k] {
                self.redo[k] = true;
                steps.push(k);
                k = s.parent[k];
            }
        }
        steps.sort_unstable();
        for &k in &steps {
            self.redo[k] = false;
        }
        up_looking_factor(
            &s,
            values,
            &mut self.work,
            &mut self.l_values,
            &mut self.u_values,
            &mut self.diag_inv,
            &mut self.col_max_sq,
            &mut self.pivot_sq,
            steps.iter().copied(),
        );
        let r = self.check_pivots_and_pack_steps(&steps);
        self.steps = steps;
        r
    }

    /// [`check_pivots_and_pack`](Self::check_pivots_and_pack) after redoing only `steps`:
    /// repacks only the values those steps wrote (row `k` of `L` and `U`, the pivot `k`).
    /// On IEEE 123 (2,110 factor entries) a tap move redoes a path of a few dozen steps,
    /// and the repack of every value was half of the partial refactorisation's work.
    fn check_pivots_and_pack_steps(&mut self, steps: &[usize]) -> Result<(), LuError> {
        let s = Arc::clone(&self.symbolic);
        let Some(slots) = &s.stream_slots else {
            return self.check_pivots_and_pack(steps.iter().copied());
        };
        let bad = self.first_bad_pivot(steps.iter().copied());
        self.valid = bad.is_none();
        let nnz_l = self.u_values.len();
        for &k in steps {
            for &p in &s.row_pos[s.row_ptr[k]..s.row_ptr[k + 1]] {
                let p = p as usize;
                if let Some(&d) = slots.l.get(p).filter(|&&d| d != NO_SLOT) {
                    self.block_l[d as usize] = split(self.l_values[p]);
                }
                if let Some(&d) = slots.u.get(p).filter(|&&d| d != NO_SLOT) {
                    self.block_u[d as usize] = split(self.u_values[p]);
                }
            }
            if let Some(&d) = slots.u.get(nnz_l + k).filter(|&&d| d != NO_SLOT) {
                self.block_u[d as usize] = split(self.diag_inv[k]);
            }
        }
        self.pivot_error(bad)
    }

    /// The first step of `steps` (in elimination order) whose pivot is too small.
    /// Pivots are checked after the elimination, when every column's largest entry is known;
    /// the first small pivot in elimination order is reported (a vanished pivot only produces
    /// non-finite numbers in later columns, never a panic).
    fn first_bad_pivot(&self, steps: impl Iterator<Item = usize>) -> Option<usize> {
        let tolerance_sq = PIVOT_RELATIVE_TOLERANCE * PIVOT_RELATIVE_TOLERANCE;
        for k in steps {
            let p = self.pivot_sq[k];
            if !(p > 0.0 && p.is_finite() && p >= tolerance_sq * self.col_max_sq[k]) {
                return Some(k);
            }
        }
        None
    }

    fn pivot_error(&self, bad: Option<usize>) -> Result<(), LuError> {
        match bad {
            None => Ok(()),
            Some(k) => Err(LuError::Singular {
                column: self.symbolic.perm[k],
                pivot_magnitude: self.pivot_sq[k].sqrt(),
            }),
        }
    }

    /// Check the pivots of the redone steps, then copy the factors into the solve's layout.
    fn check_pivots_and_pack(&mut self, steps: impl Iterator<Item = usize>) -> Result<(), LuError> {
        let bad = self.first_bad_pivot(steps);
        self.valid = bad.is_none();
        let s = &*self.symbolic;
        for (bl, &p) in self.block_l.iter_mut().zip(&s.l_src) {
            *bl = split(self.l_values[p as usize]);
        }
        let nnz_l = self.u_values.len();
        for (bu, &p) in self.block_u.iter_mut().zip(&s.u_src) {
            let p = p as usize;
            *bu = split(match p.checked_sub(nnz_l) {
                None => self.u_values[p],
                Some(k) => self.diag_inv[k],
            });
        }
        self.pivot_error(bad)
    }

    /// Solves `A·x = b`, overwriting `b` with `x`. Allocates nothing and needs no workspace: the
    /// substitutions run directly in the caller's numbering.
    ///
    /// After a failed [`refactor`](Self::refactor), `b` is filled with NaN.
    ///
    /// # Panics
    /// If `b.len()` differs from the order of the matrix (a programming error, not a data error).
    pub fn solve_in_place(&self, b: &mut [C64]) {
        let s = &*self.symbolic;
        assert_eq!(
            b.len(),
            s.n,
            "right-hand side length must equal the matrix order"
        );
        if !self.valid {
            b.fill(C64::new(f64::NAN, f64::NAN));
            return;
        }
        forward(&s.runs, &s.block_rows, &s.solve_idx, &self.block_l, b);
        backward(&s.runs, &s.block_rows, &s.solve_idx, &self.block_u, b);
    }

    /// Solves for the kept unknowns only, as if `b` were zero at every unknown eliminated
    /// first ([`SymbolicLu::eliminated_first`]): then their forward substitution gives zero and
    /// is skipped, and the kept unknowns' equations are those of the reduced network (Kron's
    /// reduction). Overwrites `b` at the kept unknowns with their solution and leaves the
    /// eliminated ones untouched; [`recover_eliminated_in_place`](Self::recover_eliminated_in_place)
    /// then gives those. Both together equal [`solve_in_place`](Self::solve_in_place) for a
    /// `b` that is zero at the eliminated unknowns.
    ///
    /// # Panics
    /// As [`solve_in_place`](Self::solve_in_place).
    pub fn solve_kept_in_place(&self, b: &mut [C64]) {
        let s = &*self.symbolic;
        assert_eq!(
            b.len(),
            s.n,
            "right-hand side length must equal the matrix order"
        );
        if !self.valid {
            b.fill(C64::new(f64::NAN, f64::NAN));
            return;
        }
        let p = s.split;
        forward(
            &s.runs[p.runs..],
            &s.block_rows[p.blocks..],
            &s.solve_idx[p.idx..],
            &self.block_l[p.l..],
            b,
        );
        backward(
            &s.runs[p.runs..],
            &s.block_rows[p.blocks..],
            &s.solve_idx[p.idx..],
            &self.block_u[p.u..],
            b,
        );
    }

    /// The unknowns eliminated first, from the kept ones: `b` holds the kept unknowns'
    /// solution (from [`solve_kept_in_place`](Self::solve_kept_in_place)) and zero at the
    /// eliminated ones, which this overwrites with their solution (the backward substitution
    /// of their columns).
    ///
    /// # Panics
    /// As [`solve_in_place`](Self::solve_in_place).
    pub fn recover_eliminated_in_place(&self, b: &mut [C64]) {
        let s = &*self.symbolic;
        assert_eq!(
            b.len(),
            s.n,
            "right-hand side length must equal the matrix order"
        );
        if !self.valid {
            b.fill(C64::new(f64::NAN, f64::NAN));
            return;
        }
        let p = s.split;
        backward(
            &s.runs[..p.runs],
            &s.block_rows[..p.blocks],
            &s.solve_idx[..p.idx],
            &self.block_u[..p.u],
            b,
        );
    }

    /// Column-by-column substitution with the supernodal solve's order of operations: forward
    /// by columns, backward by columns with each column's rows outside its supernode first
    /// (then the triangle's). The supernodal solve, in any schedule, must equal it bit for bit.
    #[cfg(test)]
    fn solve_by_columns_in_block_order(&self, b: &mut [C64]) {
        let s = &*self.symbolic;
        let supernode_ptr = supernodes(&s.parent, &s.l_col_ptr, s.eliminated_first);
        let mut block_last = vec![0; s.n];
        for w in supernode_ptr.windows(2) {
            block_last[w[0]..w[1]].fill(w[1] - 1);
        }
        for j in 0..s.n {
            let y_j = b[s.perm[j]];
            let range = s.l_col_ptr[j]..s.l_col_ptr[j + 1];
            for (&i, &l) in s.l_row_original[range.clone()]
                .iter()
                .zip(&self.l_values[range])
            {
                b[i as usize] -= l * y_j;
            }
        }
        for j in (0..s.n).rev() {
            let inside = block_last[j] - j;
            let range = s.l_col_ptr[j]..s.l_col_ptr[j + 1];
            let (rows, u) = (&s.l_row_original[range.clone()], &self.u_values[range]);
            let mut acc = b[s.perm[j]];
            for (&i, &u) in rows[inside..].iter().zip(&u[inside..]) {
                acc -= u * b[i as usize];
            }
            for (&i, &u) in rows[..inside].iter().zip(&u[..inside]) {
                acc -= u * b[i as usize];
            }
            b[s.perm[j]] = acc * self.diag_inv[j];
        }
    }

    /// Column-by-column substitution, the reference for the supernodal solve.
    #[cfg(test)]
    fn solve_by_columns(&self, b: &mut [C64]) {
        let s = &*self.symbolic;
        for j in 0..s.n {
            let y_j = b[s.perm[j]];
            let range = s.l_col_ptr[j]..s.l_col_ptr[j + 1];
            for (&i, &l) in s.l_row_original[range.clone()]
                .iter()
                .zip(&self.l_values[range])
            {
                b[i as usize] -= l * y_j;
            }
        }
        for j in (0..s.n).rev() {
            let range = s.l_col_ptr[j]..s.l_col_ptr[j + 1];
            let mut acc = b[s.perm[j]];
            for (&i, &u) in s.l_row_original[range.clone()]
                .iter()
                .zip(&self.u_values[range])
            {
                acc -= u * b[i as usize];
            }
            b[s.perm[j]] = acc * self.diag_inv[j];
        }
    }
}

/// The forward substitution over the supernodes of `runs` (one dispatch per run of supernodes
/// of one kind, see [`Run`]), reading their indices and values from the front of the streams.
fn forward(runs: &[Run], block_rows: &[u32], idx: &[u32], vals: &[[f64; 4]], b: &mut [C64]) {
    let (mut idx, mut vals, mut block_rows) = (idx, vals, block_rows);
    for run in runs {
        let (rows, rest) = block_rows.split_at(run.blocks as usize);
        block_rows = rest;
        macro_rules! forward {
            ($S:literal) => {
                for &r in rows {
                    forward_block::<$S>(r as usize, &mut idx, &mut vals, b);
                }
            };
        }
        match run.kind {
            kind::ONE_BY_ONE => forward_run::<1, 2, 1>(rows, &mut idx, &mut vals, b),
            kind::THREE_BY_THREE => forward_run::<3, 6, 12>(rows, &mut idx, &mut vals, b),
            1 => forward!(1),
            2 => forward!(2),
            3 => forward!(3),
            4 => forward!(4),
            5 => forward!(5),
            _ => forward!(6),
        }
    }
}

/// The backward substitution over the supernodes of `runs`, last first, reading their
/// indices and values from the back of the streams.
fn backward(runs: &[Run], block_rows: &[u32], idx: &[u32], vals: &[[f64; 4]], b: &mut [C64]) {
    let (mut idx, mut vals, mut block_rows) = (idx, vals, block_rows);
    for run in runs.iter().rev() {
        let (rest, rows) = block_rows.split_at(block_rows.len() - run.blocks as usize);
        block_rows = rest;
        macro_rules! backward {
            ($S:literal) => {
                for &r in rows.iter().rev() {
                    backward_block::<$S>(r as usize, &mut idx, &mut vals, b);
                }
            };
        }
        match run.kind {
            kind::ONE_BY_ONE => backward_run::<1, 2, 2>(rows, &mut idx, &mut vals, b),
            kind::THREE_BY_THREE => backward_run::<3, 6, 15>(rows, &mut idx, &mut vals, b),
            1 => backward!(1),
            2 => backward!(2),
            3 => backward!(3),
            4 => backward!(4),
            5 => backward!(5),
            _ => backward!(6),
        }
    }
}

/// Forward substitution over one supernode of `S` columns with `rows` shared rows, taking its
/// indices and values from the front of the streams.
#[inline(always)]
fn forward_block<const S: usize>(
    rows: usize,
    idx: &mut &[u32],
    vals: &mut &[[f64; 4]],
    b: &mut [C64],
) {
    let (cols, rest) = idx.split_at(S);
    let (row_idx, rest) = rest.split_at(rows);
    *idx = rest;
    let (tri, rest) = vals.split_at(S * (S - 1) / 2);
    let (rect, rest) = rest.split_at(rows * S);
    *vals = rest;
    forward_core::<S>(cols, row_idx, tri, rect, b);
}

/// Forward substitution over a run of supernodes of `S` columns and `R` shared rows each
/// (`I = S + R` indices, `V = S(S − 1)/2 + R·S` values), taken from the front of the streams:
/// one split for the whole run, fixed-size pieces after it. The row count is read from `rows`
/// as in [`backward_run`] (fewer mispredictions, 1–3 % faster than with the constant).
#[inline(always)]
fn forward_run<const S: usize, const I: usize, const V: usize>(
    rows: &[u32],
    idx: &mut &[u32],
    vals: &mut &[[f64; 4]],
    b: &mut [C64],
) {
    let (run_idx, rest) = idx.split_at(rows.len() * I);
    *idx = rest;
    let (run_vals, rest) = vals.split_at(rows.len() * V);
    *vals = rest;
    let tri = S * (S - 1) / 2;
    for ((i, v), &r) in run_idx
        .chunks_exact(I)
        .zip(run_vals.chunks_exact(V))
        .zip(rows)
    {
        let r = (r as usize).min(I - S);
        forward_core::<S>(&i[..S], &i[S..S + r], &v[..tri], &v[tri..tri + S * r], b);
    }
}

/// The forward substitution of one supernode: the small unit triangle in registers, then one
/// update of every shared row below it, whose `S` values are adjacent.
#[inline(always)]
fn forward_core<const S: usize>(
    cols: &[u32],
    row_idx: &[u32],
    tri: &[[f64; 4]],
    rect: &[[f64; 4]],
    b: &mut [C64],
) {
    let mut y = [[0.0; 2]; S];
    for t in 0..S {
        let z = b[cols[t] as usize];
        y[t] = [z.re, z.im];
    }
    let mut k = 0;
    for t in 0..S {
        let [y_re, y_im] = y[t];
        for u in t + 1..S {
            mul_sub(&mut y[u], &tri[k], y_re, y_im);
            k += 1;
        }
    }
    for t in 0..S {
        b[cols[t] as usize] = C64::new(y[t][0], y[t][1]);
    }
    for (l, &i) in rect.chunks_exact(S).zip(row_idx) {
        let z = &mut b[i as usize];
        let mut acc = [z.re, z.im];
        for t in 0..S {
            mul_sub(&mut acc, &l[t], y[t][0], y[t][1]);
        }
        *z = C64::new(acc[0], acc[1]);
    }
}

/// Backward substitution over one supernode of `S` columns with `rows` shared rows, taking its
/// indices and values from the back of the streams.
#[inline(always)]
fn backward_block<const S: usize>(
    rows: usize,
    idx: &mut &[u32],
    vals: &mut &[[f64; 4]],
    b: &mut [C64],
) {
    let (rest, row_idx) = idx.split_at(idx.len() - rows);
    let (rest, cols) = rest.split_at(rest.len() - S);
    *idx = rest;
    let (rest, rect) = vals.split_at(vals.len() - rows * S);
    // (the length restated, so that the chunk count below is known to be `rows`)
    let rect = &rect[..rows * S];
    let (rest, tri) = rest.split_at(rest.len() - S * (S - 1) / 2);
    let (rest, diag_inv) = rest.split_at(rest.len() - S);
    *vals = rest;
    backward_core::<S>(cols, row_idx, diag_inv, tri, rect, b);
}

/// Backward substitution over a run of supernodes of `S` columns and `R` shared rows each
/// (`I = S + R` indices, `V = S + S(S − 1)/2 + R·S` values), taken from the back of the
/// streams: one split for the whole run, fixed-size pieces after it.
///
/// The row count is read from `rows` (where it is `R`) instead of being the constant: with a
/// constant, LLVM unrolls the row loop and its vectoriser then pairs values of different rows,
/// emitting scalar code (EULV 335k → 353k instructions); with a count known to be at most `R`
/// it unrolls with early exits and keeps each row's update packed (EULV 301k → 274k).
#[inline(always)]
fn backward_run<const S: usize, const I: usize, const V: usize>(
    rows: &[u32],
    idx: &mut &[u32],
    vals: &mut &[[f64; 4]],
    b: &mut [C64],
) {
    let (rest, run_idx) = idx.split_at(idx.len() - rows.len() * I);
    *idx = rest;
    let (rest, run_vals) = vals.split_at(vals.len() - rows.len() * V);
    *vals = rest;
    let tri_end = S + S * (S - 1) / 2;
    for ((i, v), &r) in run_idx
        .chunks_exact(I)
        .rev()
        .zip(run_vals.chunks_exact(V).rev())
        .zip(rows.iter().rev())
    {
        let r = (r as usize).min(I - S);
        let (cols, row_idx) = (&i[..S], &i[S..S + r]);
        let (diag_inv, tri, rect) = (&v[..S], &v[S..tri_end], &v[tri_end..tri_end + S * r]);
        backward_core::<S>(cols, row_idx, diag_inv, tri, rect, b);
    }
}

/// The backward substitution of one supernode: one gather of every solved shared row, then
/// the small triangle and the inverted pivots in registers.
#[inline(always)]
fn backward_core<const S: usize>(
    cols: &[u32],
    row_idx: &[u32],
    diag_inv: &[[f64; 4]],
    tri: &[[f64; 4]],
    rect: &[[f64; 4]],
    b: &mut [C64],
) {
    let mut acc = [[0.0; 2]; S];
    for t in 0..S {
        let z = b[cols[t] as usize];
        acc[t] = [z.re, z.im];
    }
    for (u, &i) in rect.chunks_exact(S).zip(row_idx) {
        let x = b[i as usize];
        for t in 0..S {
            mul_sub(&mut acc[t], &u[t], x.re, x.im);
        }
    }
    let mut x = [[0.0; 2]; S];
    for t in (0..S).rev() {
        // column t's triangle entries start after those of columns 0..t
        let start = t * S - t * (t + 1) / 2;
        let mut v = acc[t];
        for u in t + 1..S {
            mul_sub(&mut v, &tri[start + u - t - 1], x[u][0], x[u][1]);
        }
        x[t] = mul(&diag_inv[t], v[0], v[1]);
    }
    for t in 0..S {
        b[cols[t] as usize] = C64::new(x[t][0], x[t][1]);
    }
}

/// The numeric kernel: up-looking LU with a static pattern. Step `k` computes column `k` of `U`
/// (solving `L[..k][..k]·u = A[..k][k]`) and row `k` of `L` (solving `l·U[..k][..k] = A[k][..k]`)
/// together, visiting the row pattern of `L[k]` in ascending order, then the pivot
/// `U[k][k] = A[k][k] − L[k][..k]·U[..k][k]`.
fn up_looking_factor(
    s: &SymbolicLu,
    values: &[C64],
    work: &mut [C64],
    l_values: &mut [C64],
    u_values: &mut [C64],
    diag_inv: &mut [C64],
    col_max_sq: &mut [f64],
    pivot_sq: &mut [f64],
    steps: impl Iterator<Item = usize>,
) {
    let zero = C64::new(0.0, 0.0);
    let map = &s.scatter;
    for k in steps {
        // Column k of A on and above the diagonal; its other entries come in later steps.
        let mut col_max = 0.0;
        for t in map.ptr[k]..map.split[k] {
            let v = values[map.src[t] as usize];
            work[map.dst[t] as usize] += v;
            let m = v.norm_sqr();
            if m > col_max {
                col_max = m;
            }
        }
        col_max_sq[k] = col_max;
        // Row k of A left of the diagonal: entries of earlier columns.
        for t in map.split[k]..map.ptr[k + 1] {
            let v = values[map.src[t] as usize];
            let slot = map.dst[t] as usize;
            work[slot] += v;
            let m = v.norm_sqr();
            if m > col_max_sq[slot >> 1] {
                col_max_sq[slot >> 1] = m;
            }
        }
        let mut pivot = std::mem::replace(&mut work[2 * k], zero);
        for q in s.row_ptr[k]..s.row_ptr[k + 1] {
            let j = s.row_col[q] as usize;
            let p_kj = s.row_pos[q] as usize;
            let u = std::mem::replace(&mut work[2 * j], zero);
            let l = std::mem::replace(&mut work[2 * j + 1], zero) * diag_inv[j];
            // Rows of column j above row k: positions before p_kj (rows ascending).
            let range = s.l_col_ptr[j]..p_kj;
            let rows = &s.l_row[range.clone()];
            for ((&i, &l_ij), &u_ji) in rows
                .iter()
                .zip(&l_values[range.clone()])
                .zip(&u_values[range])
            {
                let i = 2 * i as usize;
                work[i] -= l_ij * u;
                work[i + 1] -= u_ji * l;
            }
            l_values[p_kj] = l;
            u_values[p_kj] = u;
            pivot -= l * u;
        }
        pivot_sq[k] = pivot.norm_sqr();
        diag_inv[k] = pivot.inv();
    }
}

fn validate_pattern(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<(), LuError> {
    let pattern = |msg: String| Err(LuError::Pattern(msg));
    // Positions and doubled indices are stored in 32 bits.
    if n > (u32::MAX / 2) as usize {
        return pattern(format!("order {n} is too large"));
    }
    if row_idx.len() > u32::MAX as usize {
        return pattern(format!("{} entries is too many", row_idx.len()));
    }
    if col_ptr.len() != n + 1 {
        return pattern(format!(
            "col_ptr has length {} but must have n + 1 = {}",
            col_ptr.len(),
            n + 1
        ));
    }
    if col_ptr[0] != 0 {
        return pattern(format!("col_ptr[0] is {} but must be 0", col_ptr[0]));
    }
    if let Some(j) = (0..n).find(|&j| col_ptr[j + 1] < col_ptr[j]) {
        return pattern(format!("col_ptr decreases at column {j}"));
    }
    if col_ptr[n] != row_idx.len() {
        return pattern(format!(
            "col_ptr[n] is {} but row_idx has {} entries",
            col_ptr[n],
            row_idx.len()
        ));
    }
    if let Some(p) = row_idx.iter().position(|&i| i >= n) {
        return pattern(format!(
            "row index {} at entry {p} is out of range 0..{n}",
            row_idx[p]
        ));
    }
    Ok(())
}

/// Adjacency lists of the symmetrised pattern without the diagonal and without duplicates.
fn symmetric_adjacency(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> (Vec<usize>, Vec<u32>) {
    let mut count = vec![0usize; n + 1];
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            if i != j {
                count[i] += 1;
                count[j] += 1;
            }
        }
    }
    let mut ptr = vec![0usize; n + 1];
    for v in 0..n {
        ptr[v + 1] = ptr[v] + count[v];
    }
    let mut next = ptr[..n].to_vec();
    let mut idx = vec![0u32; ptr[n]];
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            if i != j {
                idx[next[i]] = j as u32;
                next[i] += 1;
                idx[next[j]] = i as u32;
                next[j] += 1;
            }
        }
    }
    // Remove duplicates in place (compacting), with a marker per node.
    let mut mark = vec![NONE; n];
    let mut out_ptr = vec![0usize; n + 1];
    let mut write = 0;
    for v in 0..n {
        for p in ptr[v]..ptr[v + 1] {
            let w = idx[p];
            if mark[w as usize] != v {
                mark[w as usize] = v;
                idx[write] = w;
                write += 1;
            }
        }
        out_ptr[v + 1] = write;
    }
    idx.truncate(write);
    (out_ptr, idx)
}

/// Doubly linked lists of nodes by current degree, for minimum-degree selection.
struct DegreeLists {
    head: Vec<usize>,
    next: Vec<usize>,
    prev: Vec<usize>,
}

impl DegreeLists {
    /// Lists for degrees `0..degrees` over `nodes` nodes.
    fn new(degrees: usize, nodes: usize) -> Self {
        DegreeLists {
            head: vec![NONE; degrees],
            next: vec![NONE; nodes],
            prev: vec![NONE; nodes],
        }
    }

    fn insert(&mut self, v: usize, degree: usize) {
        let h = self.head[degree];
        self.next[v] = h;
        self.prev[v] = NONE;
        if h != NONE {
            self.prev[h] = v;
        }
        self.head[degree] = v;
    }

    fn remove(&mut self, v: usize, degree: usize) {
        let (p, q) = (self.prev[v], self.next[v]);
        if p != NONE {
            self.next[p] = q;
        } else {
            self.head[degree] = q;
        }
        if q != NONE {
            self.prev[q] = p;
        }
    }
}

/// Groups indistinguishable nodes: nodes with the same closed neighbourhood (the phase
/// conductors of one bus, the two halves of a Newton 2×2 block). They are eliminated together
/// without changing the fill, so ordering works on the smaller quotient graph. Returns the
/// supervariable of each node and the number of supervariables.
fn supervariables(n: usize, adj_ptr: &[usize], adj_idx: &[u32]) -> (Vec<usize>, usize) {
    let mix = |x: usize| {
        (x as u64 + 1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29)
    };
    let hash: Vec<u64> = (0..n)
        .map(|v| {
            adj_idx[adj_ptr[v]..adj_ptr[v + 1]]
                .iter()
                .fold(mix(v), |h, &w| h.wrapping_add(mix(w as usize)))
        })
        .collect();
    let degree = |v: usize| adj_ptr[v + 1] - adj_ptr[v];
    let mut super_of = vec![NONE; n];
    let mut mark = vec![NONE; n];
    let mut count = 0;
    for v in 0..n {
        if super_of[v] != NONE {
            continue;
        }
        super_of[v] = count;
        let neighbours = &adj_idx[adj_ptr[v]..adj_ptr[v + 1]];
        let mut marked = false;
        for &u in neighbours {
            let u = u as usize;
            if u < v || super_of[u] != NONE || hash[u] != hash[v] || degree(u) != degree(v) {
                continue;
            }
            if !marked {
                mark[v] = v;
                for &w in neighbours {
                    mark[w as usize] = v;
                }
                marked = true;
            }
            // Same size and N[u] ⊆ N[v] (u and v are both in N[v]) means N[u] = N[v].
            if adj_idx[adj_ptr[u]..adj_ptr[u + 1]]
                .iter()
                .all(|&w| mark[w as usize] == v)
            {
                super_of[u] = count;
            }
        }
        count += 1;
    }
    (super_of, count)
}

/// Minimum-degree ordering on the explicit elimination graph of the supervariables (exact
/// external degrees, weighted by supervariable size; all members of a supervariable are
/// eliminated together). Supervariables of very high degree (more than `max(16, 10·√n)`
/// neighbours) are ordered last, as AMD does, so that a hub cannot make the ordering quadratic.
/// Returns `order[k]` = node eliminated `k`-th.
///
/// With `candidates`, a first phase eliminates, as long as there are any, candidate
/// supervariables (all members candidates, not dense) whose neighbours weigh at most twice
/// their own weight: such an elimination adds at most as many edges as it removes (a bus in
/// the middle of a cable joins its two neighbours; a dead end joins nothing). Returns the
/// order and how many nodes that phase eliminated (they come first).
fn minimum_degree_order(
    n: usize,
    adj_ptr: &[usize],
    adj_idx: &[u32],
    candidates: Option<&[bool]>,
) -> (Vec<usize>, usize) {
    let (super_of, m) = supervariables(n, adj_ptr, adj_idx);
    // Members of each supervariable, in increasing node order.
    let mut member_ptr = vec![0usize; m + 1];
    for &sv in &super_of {
        member_ptr[sv + 1] += 1;
    }
    for sv in 0..m {
        member_ptr[sv + 1] += member_ptr[sv];
    }
    let mut members = vec![0usize; n];
    let mut next = member_ptr[..m].to_vec();
    for (v, &sv) in super_of.iter().enumerate() {
        members[next[sv]] = v;
        next[sv] += 1;
    }
    let weight: Vec<usize> = (0..m)
        .map(|sv| member_ptr[sv + 1] - member_ptr[sv])
        .collect();
    let dense_threshold = 16usize.max((10.0 * (n as f64).sqrt()) as usize);
    let is_dense: Vec<bool> = (0..m)
        .map(|sv| {
            let v = members[member_ptr[sv]];
            adj_ptr[v + 1] - adj_ptr[v] > dense_threshold
        })
        .collect();

    // Quotient graph: supervariable adjacency without self-loops, duplicates or dense nodes.
    let mut mark = vec![NONE; m];
    let mut adj: Vec<Vec<u32>> = (0..m)
        .map(|sv| {
            let mut list = Vec::new();
            if is_dense[sv] {
                return list;
            }
            mark[sv] = sv;
            let v = members[member_ptr[sv]];
            for &w in &adj_idx[adj_ptr[v]..adj_ptr[v + 1]] {
                let sw = super_of[w as usize];
                if mark[sw] != sv && !is_dense[sw] {
                    mark[sw] = sv;
                    list.push(sw as u32);
                }
            }
            list
        })
        .collect();
    let mut order = Vec::with_capacity(n);
    let mut stamp = vec![0usize; m];
    let mut clock = 0usize;
    let mut eliminated = vec![false; m];
    if let Some(candidates) = candidates {
        let degree_of = |adj: &[Vec<u32>], sv: usize| -> usize {
            adj[sv].iter().map(|&w| weight[w as usize]).sum()
        };
        let eligible: Vec<bool> = (0..m)
            .map(|sv| {
                !is_dense[sv]
                    && members[member_ptr[sv]..member_ptr[sv + 1]]
                        .iter()
                        .all(|&v| candidates[v])
            })
            .collect();
        let cheap = |adj: &[Vec<u32>], sv: usize| degree_of(adj, sv) <= 2 * weight[sv];
        let mut queued = vec![false; m];
        let mut work: Vec<usize> = (0..m)
            .rev()
            .filter(|&sv| eligible[sv] && cheap(&adj, sv))
            .collect();
        for &sv in &work {
            queued[sv] = true;
        }
        while let Some(sv) = work.pop() {
            queued[sv] = false;
            if eliminated[sv] || !cheap(&adj, sv) {
                continue;
            }
            eliminated[sv] = true;
            order.extend_from_slice(&members[member_ptr[sv]..member_ptr[sv + 1]]);
            let neighbours = std::mem::take(&mut adj[sv]);
            for &u in &neighbours {
                let u = u as usize;
                clock += 1;
                stamp[u] = clock;
                let list = &mut adj[u];
                list.retain(|&w| {
                    let keep = w as usize != sv;
                    if keep {
                        stamp[w as usize] = clock;
                    }
                    keep
                });
                for &w in &neighbours {
                    if w as usize != u && stamp[w as usize] != clock {
                        list.push(w);
                    }
                }
                if eligible[u] && !eliminated[u] && !queued[u] && cheap(&adj, u) {
                    queued[u] = true;
                    work.push(u);
                }
            }
        }
    }
    let first = order.len();

    let mut degree: Vec<usize> = adj
        .iter()
        .map(|list| list.iter().map(|&w| weight[w as usize]).sum())
        .collect();
    let mut lists = DegreeLists::new(n + 1, m);
    let mut remaining = 0;
    for sv in (0..m).rev() {
        if !is_dense[sv] && !eliminated[sv] {
            lists.insert(sv, degree[sv]);
            remaining += 1;
        }
    }

    let mut min_degree = 0;
    while remaining > 0 {
        while lists.head[min_degree] == NONE {
            min_degree += 1;
        }
        let sv = lists.head[min_degree];
        lists.remove(sv, min_degree);
        remaining -= 1;
        order.extend_from_slice(&members[member_ptr[sv]..member_ptr[sv + 1]]);
        // Eliminate sv: its neighbours lose it and become a clique.
        let neighbours = std::mem::take(&mut adj[sv]);
        for &u in &neighbours {
            let u = u as usize;
            clock += 1;
            stamp[u] = clock;
            let list = &mut adj[u];
            let mut d = 0;
            list.retain(|&w| {
                let w = w as usize;
                let keep = w != sv;
                if keep {
                    stamp[w] = clock;
                    d += weight[w];
                }
                keep
            });
            for &w in &neighbours {
                if stamp[w as usize] != clock {
                    list.push(w);
                    d += weight[w as usize];
                }
            }
            if d != degree[u] {
                lists.remove(u, degree[u]);
                degree[u] = d;
                lists.insert(u, d);
            }
            min_degree = min_degree.min(d);
        }
    }
    let mut dense: Vec<usize> = (0..m).filter(|&sv| is_dense[sv]).collect();
    dense.sort_by_key(|&sv| {
        let v = members[member_ptr[sv]];
        adj_ptr[v + 1] - adj_ptr[v]
    });
    for sv in dense {
        order.extend_from_slice(&members[member_ptr[sv]..member_ptr[sv + 1]]);
    }
    (order, first)
}

fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (k, &v) in perm.iter().enumerate() {
        inv[v] = k;
    }
    inv
}

/// Elimination tree of the symmetric pattern in the order `perm` (Liu's algorithm with path
/// compression through "virtual ancestors").
fn elimination_tree(
    perm: &[usize],
    pinv: &[usize],
    adj_ptr: &[usize],
    adj_idx: &[u32],
) -> Vec<usize> {
    let n = perm.len();
    let mut parent = vec![NONE; n];
    let mut ancestor = vec![NONE; n];
    for k in 0..n {
        let v = perm[k];
        for &w in &adj_idx[adj_ptr[v]..adj_ptr[v + 1]] {
            let mut i = pinv[w as usize];
            while i != NONE && i < k {
                let next = ancestor[i];
                ancestor[i] = k;
                if next == NONE {
                    parent[i] = k;
                }
                i = next;
            }
        }
    }
    parent
}

/// The same tree with node `post[k]` renamed `k`.
fn relabel_tree(parent: &[usize], post: &[usize]) -> Vec<usize> {
    let new_name = inverse(post);
    post.iter()
        .map(|&old| match parent[old] {
            NONE => NONE,
            p => new_name[p],
        })
        .collect()
}

/// Depth-first postorder of a forest: `post[k]` is the `k`-th node visited.
fn postorder(parent: &[usize]) -> Vec<usize> {
    let n = parent.len();
    let mut head = vec![NONE; n];
    let mut next = vec![NONE; n];
    for j in (0..n).rev() {
        let p = parent[j];
        if p != NONE {
            next[j] = head[p];
            head[p] = j;
        }
    }
    let mut post = Vec::with_capacity(n);
    let mut stack = Vec::new();
    for root in (0..n).filter(|&j| parent[j] == NONE) {
        stack.push(root);
        while let Some(&p) = stack.last() {
            let child = head[p];
            if child == NONE {
                stack.pop();
                post.push(p);
            } else {
                head[p] = next[child];
                stack.push(child);
            }
        }
    }
    post
}

/// Pattern of the strictly lower factor by columns (elimination order, rows ascending), from the
/// row subtrees of the elimination tree.
fn factor_pattern(
    perm: &[usize],
    pinv: &[usize],
    parent: &[usize],
    adj_ptr: &[usize],
    adj_idx: &[u32],
) -> Result<(Vec<usize>, Vec<u32>), LuError> {
    let n = perm.len();
    let mut mark = vec![NONE; n];
    // Visits row k's pattern: every node on the tree paths from its lower neighbours up to k.
    let mut for_each_in_row = |k: usize, f: &mut dyn FnMut(usize)| {
        mark[k] = k;
        let v = perm[k];
        for &w in &adj_idx[adj_ptr[v]..adj_ptr[v + 1]] {
            let mut j = pinv[w as usize];
            if j > k {
                continue;
            }
            while j != NONE && mark[j] != k {
                mark[j] = k;
                f(j);
                j = parent[j];
            }
        }
    };
    let mut col_count = vec![0usize; n];
    for k in 0..n {
        for_each_in_row(k, &mut |j| col_count[j] += 1);
    }
    let mut col_ptr = vec![0usize; n + 1];
    for j in 0..n {
        col_ptr[j + 1] = col_ptr[j] + col_count[j];
    }
    if col_ptr[n] > u32::MAX as usize {
        return Err(LuError::Pattern(format!(
            "the factors would hold {} entries, too many for this solver",
            col_ptr[n]
        )));
    }
    let mut next = col_ptr[..n].to_vec();
    let mut rows = vec![0u32; col_ptr[n]];
    for k in 0..n {
        for_each_in_row(k, &mut |j| {
            rows[next[j]] = k as u32;
            next[j] += 1;
        });
    }
    Ok((col_ptr, rows))
}

/// Splits the columns into supernodes of at most [`MAX_SUPERNODE`] columns: column `j + 1`
/// joins `j`'s supernode when it is `j`'s parent and `j`'s pattern is `{j + 1}` plus its own,
/// and no supernode straddles `boundary` (the first kept column).
fn supernodes(parent: &[usize], l_col_ptr: &[usize], boundary: usize) -> Vec<usize> {
    let n = parent.len();
    let count = |j: usize| l_col_ptr[j + 1] - l_col_ptr[j];
    let mut ptr = vec![0];
    let mut first = 0;
    for j in 0..n {
        let extends = j + 1 < n
            && j + 1 != boundary
            && j + 1 - first < MAX_SUPERNODE
            && parent[j] == j + 1
            && count(j) == count(j + 1) + 1;
        if !extends {
            ptr.push(j + 1);
            first = j + 1;
        }
    }
    ptr
}

/// `a` as `[a.re, a.im, −a.im, a.re]` (see [`NumericLu::block_l`]).
fn split(a: C64) -> [f64; 4] {
    [a.re, a.im, -a.im, a.re]
}

/// `acc −= a·(b_re + j·b_im)` with `a` split: the same operations, in the same order, as the
/// complex product, laid out as two packed products and no shuffle.
#[inline(always)]
fn mul_sub(acc: &mut [f64; 2], a: &[f64; 4], b_re: f64, b_im: f64) {
    acc[0] -= a[0] * b_re + a[2] * b_im;
    acc[1] -= a[1] * b_re + a[3] * b_im;
}

/// `a·(b_re + j·b_im)` with `a` split, bit for bit the complex product `b·a`.
#[inline(always)]
fn mul(a: &[f64; 4], b_re: f64, b_im: f64) -> [f64; 2] {
    [a[0] * b_re + a[2] * b_im, a[1] * b_re + a[3] * b_im]
}

/// A run of `blocks` supernodes of one [`kind`], consecutive in the solve's order. Their shared
/// rows are counted in [`SymbolicLu::block_rows`]; their indices and values are the next ones
/// in the solve's streams ([`SymbolicLu::solve_idx`], [`NumericLu::block_l`],
/// [`NumericLu::block_u`]).
#[derive(Debug, Clone, Copy)]
struct Run {
    kind: u32,
    blocks: u32,
}

/// Kinds of supernodes: the number of columns (1 to [`MAX_SUPERNODE`]), or one of the shapes
/// with a dedicated solve path over fixed-size pieces of the streams.
mod kind {
    /// One column with one shared row: a single-phase node hanging from one other node.
    pub(super) const ONE_BY_ONE: u32 = 7;
    /// Three columns with three shared rows: a three-phase bus below another one.
    pub(super) const THREE_BY_THREE: u32 = 8;

    /// The kind of a supernode of `size` columns with `rows` shared rows.
    pub(super) fn of(size: usize, rows: usize) -> u32 {
        match (size, rows) {
            (1, 1) => ONE_BY_ONE,
            (3, 3) => THREE_BY_THREE,
            _ => size as u32,
        }
    }
}

/// The solve's streams, built by [`block_layout`].
struct BlockLayout {
    runs: Vec<Run>,
    block_rows: Vec<u32>,
    idx: Vec<u32>,
    l_src: Vec<u32>,
    u_src: Vec<u32>,
    split: StreamSplit,
}

/// The solve's layout of the indices and factor values: per supernode, its columns' and shared
/// rows' original indices; its unit triangle column by column, then each shared row's `size`
/// values side by side (one contiguous load per row update), with the inverted pivots first
/// for the backward pass.
fn block_layout(
    supernode_ptr: &[usize],
    l_col_ptr: &[usize],
    l_rows: &[u32],
    perm: &[usize],
    l_row_original: &[u32],
    boundary: usize,
) -> Result<BlockLayout, LuError> {
    let too_big = || LuError::Pattern("factor too large for 32-bit positions".into());
    let nnz_l = l_row_original.len();
    let n = perm.len();
    if nnz_l + n > u32::MAX as usize {
        return Err(too_big());
    }
    let blocks_count = supernode_ptr.len().saturating_sub(1);
    let mut layout = BlockLayout {
        runs: Vec::new(),
        block_rows: Vec::with_capacity(blocks_count),
        idx: Vec::with_capacity(n + nnz_l),
        l_src: Vec::with_capacity(nnz_l),
        u_src: Vec::with_capacity(nnz_l + n),
        split: StreamSplit::default(),
    };
    // the supernodes eliminated first, then the kept ones, each in the schedule's order
    let schedule = solve_schedule(supernode_ptr, l_col_ptr, l_rows);
    let is_first = |b: &usize| supernode_ptr[*b] < boundary;
    let schedule = schedule
        .iter()
        .copied()
        .filter(is_first)
        .chain(schedule.iter().copied().filter(|b| !is_first(b)));
    let mut in_kept_part = false;
    for b in schedule {
        let (first, size) = (supernode_ptr[b], supernode_ptr[b + 1] - supernode_ptr[b]);
        if first >= boundary && !in_kept_part {
            in_kept_part = true;
            layout.split = StreamSplit {
                runs: layout.runs.len(),
                blocks: layout.block_rows.len(),
                idx: layout.idx.len(),
                l: layout.l_src.len(),
                u: layout.u_src.len(),
            };
        }
        let last = first + size - 1;
        let rows = l_col_ptr[last + 1] - l_col_ptr[last];
        layout
            .block_rows
            .push(u32::try_from(rows).map_err(|_| too_big())?);
        let kind = kind::of(size, rows);
        // a run never straddles the split
        let may_join = !in_kept_part || layout.runs.len() > layout.split.runs;
        match layout.runs.last_mut() {
            Some(run) if run.kind == kind && may_join => run.blocks += 1,
            _ => layout.runs.push(Run { kind, blocks: 1 }),
        }
        layout
            .idx
            .extend(perm[first..first + size].iter().map(|&i| i as u32));
        layout
            .idx
            .extend_from_slice(&l_row_original[l_col_ptr[last]..l_col_ptr[last + 1]]);
        layout
            .u_src
            .extend((first..first + size).map(|k| (nnz_l + k) as u32));
        for t in 0..size {
            for u in t + 1..size {
                let p = (l_col_ptr[first + t] + u - t - 1) as u32;
                layout.l_src.push(p);
                layout.u_src.push(p);
            }
        }
        for r in 0..rows {
            for t in 0..size {
                let p = (l_col_ptr[first + t] + size - 1 - t + r) as u32;
                layout.l_src.push(p);
                layout.u_src.push(p);
            }
        }
    }
    if !in_kept_part {
        // nothing kept: the split is the end of the streams
        layout.split = StreamSplit {
            runs: layout.runs.len(),
            blocks: layout.block_rows.len(),
            idx: layout.idx.len(),
            l: layout.l_src.len(),
            u: layout.u_src.len(),
        };
    }
    Ok(layout)
}

/// The order in which the solve visits the supernodes. Elimination order is a postorder, in
/// which nearly every supernode depends on the one before it (a bus, then its parent bus): the
/// substitutions were one long chain of dependent loads, multiplications and stores. Here the
/// supernodes are visited level by level, those of one kind together: neighbours are then
/// independent, and the processor overlaps their work.
///
/// A supernode must follow, in the forward pass, every supernode that updates one of its
/// columns and, for each of its shared rows, the supernode that updated that row before it in
/// elimination order. Every row thus receives the same updates in the same order as in
/// elimination order, and the solve's result is the same to the last bit. The backward pass
/// visits the supernodes in the reverse order, which puts every row's owner before its readers.
///
/// Levels are as late as possible (counted back from the last level by the longest chain of
/// supernodes that must follow): a supernode then comes shortly before the ones that use its
/// results, while they are still in the nearest cache. As soon as possible (leaves first)
/// needed 9 % more time on EULV, 4 % on IEEE 123.
fn solve_schedule(supernode_ptr: &[usize], l_col_ptr: &[usize], l_rows: &[u32]) -> Vec<usize> {
    let blocks = supernode_ptr.len().saturating_sub(1);
    let n = supernode_ptr.last().copied().unwrap_or(0);
    let rows_of = |b: usize| {
        let end = supernode_ptr[b + 1];
        &l_rows[l_col_ptr[end - 1]..l_col_ptr[end]]
    };
    // The supernodes each one must follow (at most one per column and shared row), in
    // elimination order, which is a valid order: predecessors come first.
    let mut last_update = vec![NONE; n];
    let mut pred_ptr = Vec::with_capacity(blocks + 1);
    let mut pred = Vec::new();
    pred_ptr.push(0);
    for b in 0..blocks {
        let rows = rows_of(b);
        for r in (supernode_ptr[b]..supernode_ptr[b + 1]).chain(rows.iter().map(|&r| r as usize)) {
            if last_update[r] != NONE {
                pred.push(last_update[r]);
            }
        }
        for &r in rows {
            last_update[r as usize] = b;
        }
        pred_ptr.push(pred.len());
    }
    // Longest chain of supernodes that must follow each one.
    let mut height = vec![0usize; blocks];
    for b in (0..blocks).rev() {
        for &p in &pred[pred_ptr[b]..pred_ptr[b + 1]] {
            height[p] = height[p].max(height[b] + 1);
        }
    }
    let last_level = height.iter().copied().max().unwrap_or(0);
    let mut key: Vec<(usize, u32, usize)> = (0..blocks)
        .map(|b| {
            let level = last_level - height[b];
            let kind = kind::of(supernode_ptr[b + 1] - supernode_ptr[b], rows_of(b).len());
            // Kinds ascending on even levels, descending on odd ones: a level ends with the
            // kind the next one starts with.
            let order = if level % 2 == 0 {
                kind
            } else {
                u32::MAX - kind
            };
            (level, order, b)
        })
        .collect();
    key.sort_unstable();
    key.into_iter().map(|(_, _, b)| b).collect()
}

/// Row view of the column pattern: for each row, its columns (ascending) and their positions.
fn transpose_pattern(
    n: usize,
    col_ptr: &[usize],
    rows: &[u32],
) -> (Vec<usize>, Vec<u32>, Vec<u32>) {
    let mut row_ptr = vec![0usize; n + 1];
    for &i in rows {
        row_ptr[i as usize + 1] += 1;
    }
    for k in 0..n {
        row_ptr[k + 1] += row_ptr[k];
    }
    let mut next = row_ptr[..n].to_vec();
    let mut row_col = vec![0u32; rows.len()];
    let mut row_pos = vec![0u32; rows.len()];
    for j in 0..n {
        for p in col_ptr[j]..col_ptr[j + 1] {
            let i = rows[p] as usize;
            row_col[next[i]] = j as u32;
            row_pos[next[i]] = p as u32;
            next[i] += 1;
        }
    }
    (row_ptr, row_col, row_pos)
}

/// Where each input value goes in the dense accumulator (indexed in elimination order), grouped by
/// the elimination step that consumes it: `A[i][j]` belongs to step `max(pinv i, pinv j)`; on or
/// above the diagonal it is an entry of column `j` of `U` (slot `2·pinv i`), below it an entry of
/// row `i` of `L` (slot `2·pinv j + 1`). Within a step, the diagonal and `U` entries (all from the
/// step's own column) come first, up to `split[k]`.
#[derive(Debug, Clone)]
struct ScatterMap {
    ptr: Vec<usize>,
    split: Vec<usize>,
    src: Vec<u32>,
    dst: Vec<u32>,
}

fn scatter_map(n: usize, col_ptr: &[usize], row_idx: &[usize], pinv: &[usize]) -> ScatterMap {
    let (mut upper, mut lower) = (vec![0usize; n], vec![0usize; n]);
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            let (pi, pj) = (pinv[i], pinv[j]);
            if pi <= pj {
                upper[pj] += 1;
            } else {
                lower[pi] += 1;
            }
        }
    }
    let mut ptr = vec![0usize; n + 1];
    let mut split = vec![0usize; n];
    for k in 0..n {
        split[k] = ptr[k] + upper[k];
        ptr[k + 1] = split[k] + lower[k];
    }
    let mut next_upper = ptr[..n].to_vec();
    let mut next_lower = split.clone();
    let mut src = vec![0u32; row_idx.len()];
    let mut dst = vec![0u32; row_idx.len()];
    for j in 0..n {
        for p in col_ptr[j]..col_ptr[j + 1] {
            let (pi, pj) = (pinv[row_idx[p]], pinv[j]);
            let (t, slot) = if pi <= pj {
                next_upper[pj] += 1;
                (next_upper[pj] - 1, 2 * pi)
            } else {
                next_lower[pi] += 1;
                (next_lower[pi] - 1, 2 * pj + 1)
            };
            src[t] = p as u32;
            dst[t] = slot as u32;
        }
    }
    ScatterMap {
        ptr,
        split,
        src,
        dst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny deterministic generator (64-bit LCG, Knuth's constants).
    struct Lcg(u64);

    impl Lcg {
        fn next_u64(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 11
        }
        fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 42) as f64
        }
        fn below(&mut self, m: usize) -> usize {
            (self.next_u64() % m as u64) as usize
        }
        fn complex(&mut self) -> C64 {
            C64::new(2.0 * self.uniform() - 1.0, 2.0 * self.uniform() - 1.0)
        }
    }

    /// A matrix in CSC form.
    #[derive(Clone, Debug)]
    struct Csc {
        n: usize,
        col_ptr: Vec<usize>,
        row_idx: Vec<usize>,
        values: Vec<C64>,
    }

    impl Csc {
        /// Sums duplicates; rows sorted per column.
        fn from_triplets(n: usize, triplets: &[(usize, usize, C64)]) -> Csc {
            let mut t = triplets.to_vec();
            t.sort_by_key(|&(i, j, _)| (j, i));
            let mut col_ptr = vec![0; n + 1];
            let mut row_idx: Vec<usize> = Vec::new();
            let mut values: Vec<C64> = Vec::new();
            let mut last = None;
            for (i, j, v) in t {
                if last == Some((i, j)) {
                    *values.last_mut().unwrap() += v;
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
            Csc {
                n,
                col_ptr,
                row_idx,
                values,
            }
        }

        fn mul(&self, x: &[C64]) -> Vec<C64> {
            let mut y = vec![C64::new(0.0, 0.0); self.n];
            for j in 0..self.n {
                for p in self.col_ptr[j]..self.col_ptr[j + 1] {
                    y[self.row_idx[p]] += self.values[p] * x[j];
                }
            }
            y
        }

        fn analyze(&self) -> Arc<SymbolicLu> {
            Arc::new(SymbolicLu::analyze(self.n, &self.col_ptr, &self.row_idx).unwrap())
        }
    }

    fn norm(v: &[C64]) -> f64 {
        v.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt()
    }

    /// Relative residual ‖A·x − b‖ / ‖b‖ of a solve of `A` for a random `b`.
    fn solve_residual(a: &Csc, lu: &NumericLu, rng: &mut Lcg) -> f64 {
        let b: Vec<C64> = (0..a.n).map(|_| rng.complex()).collect();
        let mut x = b.clone();
        lu.solve_in_place(&mut x);
        let ax = a.mul(&x);
        let r: Vec<C64> = ax.iter().zip(&b).map(|(p, q)| p - q).collect();
        norm(&r) / norm(&b)
    }

    /// Diagonal = sum of the magnitudes in the row plus a shunt: strictly diagonally dominant.
    fn add_dominant_diagonal(n: usize, triplets: &mut Vec<(usize, usize, C64)>, rng: &mut Lcg) {
        let mut row_sum = vec![0.0; n];
        for &(i, _, v) in triplets.iter() {
            row_sum[i] += v.norm();
        }
        for i in 0..n {
            let phase = C64::from_polar(1.0, -1.2 + 0.4 * rng.uniform());
            triplets.push((
                i,
                i,
                phase * (row_sum[i] * (1.0 + 0.1 * rng.uniform()) + 0.01),
            ));
        }
    }

    /// Random structurally symmetric, diagonally dominant matrix (independent values above and
    /// below the diagonal).
    fn random_matrix(n: usize, edges: usize, seed: u64) -> Csc {
        let mut rng = Lcg(seed);
        let mut t = Vec::new();
        for _ in 0..edges {
            let (i, j) = (rng.below(n), rng.below(n));
            if i != j {
                t.push((i, j, rng.complex()));
                t.push((j, i, rng.complex()));
            }
        }
        add_dominant_diagonal(n, &mut t, &mut rng);
        Csc::from_triplets(n, &t)
    }

    /// Radial feeder of `buses` buses with `phases` nodes each: random tree (mostly long chains),
    /// a full `phases × phases` series admittance per branch, diagonal blocks = sum + shunt.
    fn radial_feeder(buses: usize, phases: usize, seed: u64) -> Csc {
        let mut rng = Lcg(seed);
        let mut t = Vec::new();
        for b in 1..buses {
            let from = if rng.uniform() < 0.7 {
                b - 1
            } else {
                rng.below(b)
            };
            // Symmetric series admittance block: self ≈ 1 − 3j, mutual ≈ −0.3 + 1j, perturbed.
            let mut y = vec![C64::new(0.0, 0.0); phases * phases];
            for p in 0..phases {
                for q in p..phases {
                    let base = if p == q {
                        C64::new(1.0, -3.0)
                    } else {
                        C64::new(-0.3, 1.0)
                    };
                    let v = base * (0.5 + rng.uniform());
                    y[p * phases + q] = v;
                    y[q * phases + p] = v;
                }
            }
            for p in 0..phases {
                for q in 0..phases {
                    let v = y[p * phases + q];
                    let (fp, fq, tp, tq) = (
                        from * phases + p,
                        from * phases + q,
                        b * phases + p,
                        b * phases + q,
                    );
                    t.push((fp, fq, v));
                    t.push((tp, tq, v));
                    t.push((fp, tq, -v));
                    t.push((tp, fq, -v));
                }
            }
        }
        for i in 0..buses * phases {
            t.push((i, i, C64::new(0.001, 0.002) * (1.0 + rng.uniform())));
        }
        Csc::from_triplets(buses * phases, &t)
    }

    #[test]
    fn random_matrices_solve_to_tight_residual() {
        for (seed, &(n, edges)) in [(1, 10), (5, 3), (30, 60), (200, 500), (500, 3000)]
            .iter()
            .enumerate()
        {
            let a = random_matrix(n, edges, seed as u64 + 7);
            let symbolic = a.analyze();
            let lu = NumericLu::factor(symbolic, &a.values).unwrap();
            let mut rng = Lcg(seed as u64);
            let r = solve_residual(&a, &lu, &mut rng);
            assert!(r < 1e-12, "n = {n}: residual {r:e}");
        }
    }

    #[test]
    fn partial_refactor_equals_a_full_one() {
        let mut rng = Lcg(0x5eed_0042);
        for (mut a, touched) in [
            (radial_feeder(60, 3, 7), vec![0usize, 1, 2]),
            (radial_feeder(60, 3, 8), vec![90, 91, 92, 150]),
            (random_matrix(80, 160, 9), vec![5, 40]),
        ] {
            let sym = a.analyze();
            let mut lu = NumericLu::factor(sym.clone(), &a.values).unwrap();
            // new values in the rows and columns of the touched unknowns only (a tap change)
            for c in 0..a.n {
                for t in a.col_ptr[c]..a.col_ptr[c + 1] {
                    let r = a.row_idx[t];
                    if touched.contains(&r) || touched.contains(&c) {
                        a.values[t] *= C64::new(1.0 + 0.3 * rng.uniform(), 0.1 * rng.uniform());
                    }
                }
            }
            lu.refactor_partial(&a.values, &touched).unwrap();
            // only the redone steps' values were repacked: the streams are a full factor's
            assert!(sym.stream_slots.is_some());
            let fresh = NumericLu::factor(sym.clone(), &a.values).unwrap();
            assert!(lu.block_l == fresh.block_l && lu.block_u == fresh.block_u);
            let b: Vec<C64> = (0..a.n).map(|_| rng.complex()).collect();
            let (mut x1, mut x2) = (b.clone(), b.clone());
            lu.solve_in_place(&mut x1);
            fresh.solve_in_place(&mut x2);
            let d: f64 = x1
                .iter()
                .zip(&x2)
                .map(|(p, q)| (p - q).norm())
                .fold(0.0, f64::max);
            assert!(
                d <= 1e-12 * norm(&x2),
                "partial and full refactor differ by {d}"
            );
            assert!(solve_residual(&a, &lu, &mut rng) < 1e-12);
        }
    }

    #[test]
    fn partial_refactor_rejects_an_unknown_outside_the_matrix() {
        let a = radial_feeder(5, 3, 1);
        let mut lu = NumericLu::factor(a.analyze(), &a.values).unwrap();
        assert!(matches!(
            lu.refactor_partial(&a.values, &[a.n]),
            Err(LuError::Pattern(_))
        ));
    }

    #[test]
    fn radial_feeders_have_zero_fill() {
        for (buses, phases, seed) in [
            (1, 1, 1),
            (2, 1, 2),
            (50, 1, 3),
            (400, 1, 4),
            (300, 3, 5),
            (200, 4, 6),
        ] {
            let a = radial_feeder(buses, phases, seed);
            let symbolic = a.analyze();
            assert_eq!(
                symbolic.nnz_factors(),
                a.row_idx.len(),
                "{buses} buses × {phases}"
            );
            assert_eq!(symbolic.fill_in(), 0);
            let lu = NumericLu::factor(symbolic, &a.values).unwrap();
            let r = solve_residual(&a, &lu, &mut Lcg(seed));
            assert!(r < 1e-12, "{buses} buses × {phases}: residual {r:e}");
        }
    }

    /// Kept solve + recovery equals the full solve bit for bit when the right-hand side is
    /// zero at the unknowns eliminated first, and eliminating them first adds at most the
    /// blocks joining each eliminated bus's two neighbours.
    #[test]
    fn eliminating_zero_injection_nodes_first_is_exact_with_bounded_fill() {
        for (buses, phases, seed, meshed) in [
            (300, 3, 11, false),
            (400, 1, 12, false),
            (120, 4, 13, false),
            (200, 3, 14, true),
        ] {
            let mut a = radial_feeder(buses, phases, seed);
            if meshed {
                // a few ties between random buses: fill appears, candidates stay exact
                let mut rng = Lcg(seed);
                let mut t = Vec::new();
                for j in 0..a.n {
                    for p in a.col_ptr[j]..a.col_ptr[j + 1] {
                        t.push((a.row_idx[p], j, a.values[p]));
                    }
                }
                for _ in 0..10 {
                    let (x, y) = (rng.below(buses) * phases, rng.below(buses) * phases);
                    if x != y {
                        let v = C64::new(0.5, -2.0);
                        t.extend([(x, x, v), (y, y, v), (x, y, -v), (y, x, -v)]);
                    }
                }
                a = Csc::from_triplets(a.n, &t);
            }
            let plain = a.analyze();
            // every third bus is a "load" bus (kept), the others candidates
            let mut rng = Lcg(seed + 100);
            let candidates: Vec<bool> = (0..a.n)
                .map(|i| i < phases || (i / phases) % 3 != 0 || rng.uniform() < 0.1)
                .map(|load| !load)
                .collect();
            let symbolic = Arc::new(
                SymbolicLu::analyze_eliminating_first(a.n, &a.col_ptr, &a.row_idx, &candidates)
                    .unwrap(),
            );
            let first = symbolic.eliminated_first();
            assert!(
                first.len() > a.n / 10,
                "{buses} × {phases}: only {} of {} eliminated first",
                first.len(),
                a.n
            );
            assert!(first.iter().all(|&i| candidates[i]));
            // each elimination joins at most its two neighbouring buses (one block each way)
            assert!(
                symbolic.nnz_factors() <= plain.nnz_factors() + 2 * phases * first.len(),
                "{buses} × {phases}: {} entries against {}",
                symbolic.nnz_factors(),
                plain.nnz_factors()
            );
            let lu = NumericLu::factor(Arc::clone(&symbolic), &a.values).unwrap();
            let mut rng = Lcg(seed);
            assert!(solve_residual(&a, &lu, &mut rng) < 1e-12);
            let mut b: Vec<C64> = (0..a.n).map(|_| rng.complex()).collect();
            for &i in first {
                b[i] = C64::new(0.0, 0.0);
            }
            let mut full = b.clone();
            lu.solve_in_place(&mut full);
            let mut split = b.clone();
            lu.solve_kept_in_place(&mut split);
            for &i in first {
                assert_eq!(split[i], C64::new(0.0, 0.0), "eliminated entries untouched");
            }
            lu.recover_eliminated_in_place(&mut split);
            for i in 0..a.n {
                assert_eq!(full[i].re.to_bits(), split[i].re.to_bits(), "node {i}");
                assert_eq!(full[i].im.to_bits(), split[i].im.to_bits(), "node {i}");
            }
        }
    }

    #[test]
    fn nothing_to_eliminate_first_keeps_the_plain_analysis() {
        let a = radial_feeder(100, 3, 7);
        let none = vec![false; a.n];
        let s = SymbolicLu::analyze_eliminating_first(a.n, &a.col_ptr, &a.row_idx, &none).unwrap();
        assert!(s.eliminated_first().is_empty());
        assert_eq!(s.permutation(), a.analyze().permutation());
        let lu = NumericLu::factor(Arc::new(s), &a.values).unwrap();
        let mut rng = Lcg(3);
        let b: Vec<C64> = (0..a.n).map(|_| rng.complex()).collect();
        let (mut x, mut y) = (b.clone(), b);
        lu.solve_in_place(&mut x);
        lu.solve_kept_in_place(&mut y);
        lu.recover_eliminated_in_place(&mut y);
        assert_eq!(x, y);
        assert!(
            SymbolicLu::analyze_eliminating_first(a.n, &a.col_ptr, &a.row_idx, &[true]).is_err()
        );
    }

    #[test]
    fn meshed_grid_has_fill_and_solves() {
        // A 12 × 12 grid: a mesh where some fill is unavoidable.
        let side = 12;
        let mut rng = Lcg(99);
        let mut t = Vec::new();
        for r in 0..side {
            for c in 0..side {
                let v = r * side + c;
                let mut link = |w: usize, rng: &mut Lcg| {
                    let y = C64::new(1.0, -4.0) * (0.5 + rng.uniform());
                    t.push((v, w, -y));
                    t.push((w, v, -y));
                };
                if c + 1 < side {
                    link(v + 1, &mut rng);
                }
                if r + 1 < side {
                    link(v + side, &mut rng);
                }
            }
        }
        add_dominant_diagonal(side * side, &mut t, &mut rng);
        let a = Csc::from_triplets(side * side, &t);
        let symbolic = a.analyze();
        assert!(symbolic.fill_in() > 0);
        // Minimum degree keeps a 12 × 12 grid's factors far below dense (20,736 entries).
        assert!(
            symbolic.nnz_factors() < 3000,
            "nnz_factors = {}",
            symbolic.nnz_factors()
        );
        let lu = NumericLu::factor(symbolic, &a.values).unwrap();
        assert!(solve_residual(&a, &lu, &mut rng) < 1e-12);
    }

    #[test]
    fn weakly_meshed_feeder_solves() {
        let mut a = radial_feeder(300, 3, 11);
        // Close three loops between distant buses (phase-by-phase ties).
        let mut t: Vec<(usize, usize, C64)> = Vec::new();
        for j in 0..a.n {
            for p in a.col_ptr[j]..a.col_ptr[j + 1] {
                t.push((a.row_idx[p], j, a.values[p]));
            }
        }
        for &(f, b) in &[(10usize, 250usize), (40, 170), (100, 299)] {
            for ph in 0..3 {
                let (i, j) = (3 * f + ph, 3 * b + ph);
                let y = C64::new(0.5, -2.0);
                t.extend([(i, i, y), (j, j, y), (i, j, -y), (j, i, -y)]);
            }
        }
        a = Csc::from_triplets(a.n, &t);
        let symbolic = a.analyze();
        assert!(symbolic.fill_in() > 0);
        let lu = NumericLu::factor(symbolic, &a.values).unwrap();
        assert!(solve_residual(&a, &lu, &mut Lcg(3)) < 1e-12);
    }

    #[test]
    fn supernodal_solve_matches_column_solve() {
        for a in [
            radial_feeder(200, 3, 1),
            radial_feeder(150, 4, 2),
            random_matrix(300, 900, 3),
        ] {
            let symbolic = a.analyze();
            let lu = NumericLu::factor(symbolic, &a.values).unwrap();
            let mut rng = Lcg(17);
            let b: Vec<C64> = (0..a.n).map(|_| rng.complex()).collect();
            let (mut x1, mut x2) = (b.clone(), b);
            lu.solve_in_place(&mut x1);
            lu.solve_by_columns(&mut x2);
            let diff: Vec<C64> = x1.iter().zip(&x2).map(|(p, q)| p - q).collect();
            assert!(norm(&diff) <= 1e-13 * norm(&x1));
        }
    }

    #[test]
    fn scheduled_solve_is_bit_identical_to_elimination_order() {
        for a in [
            radial_feeder(200, 3, 1),
            radial_feeder(150, 4, 2),
            radial_feeder(100, 1, 4),
            random_matrix(300, 900, 3),
            random_matrix(120, 200, 5),
        ] {
            let lu = NumericLu::factor(a.analyze(), &a.values).unwrap();
            let mut rng = Lcg(23);
            let b: Vec<C64> = (0..a.n).map(|_| rng.complex()).collect();
            let (mut x1, mut x2) = (b.clone(), b);
            lu.solve_in_place(&mut x1);
            lu.solve_by_columns_in_block_order(&mut x2);
            let differing = x1
                .iter()
                .zip(&x2)
                .filter(|(p, q)| {
                    (p.re.to_bits(), p.im.to_bits()) != (q.re.to_bits(), q.im.to_bits())
                })
                .count();
            assert_eq!(differing, 0, "{differing} of {} entries differ", a.n);
        }
    }

    #[test]
    fn refactor_equals_fresh_factor() {
        let a = radial_feeder(120, 3, 21);
        let mut b = a.clone();
        let mut rng = Lcg(8);
        for v in &mut b.values {
            *v *= 1.0 + 0.2 * rng.uniform();
        }
        let symbolic = a.analyze();
        let mut lu = NumericLu::factor(Arc::clone(&symbolic), &a.values).unwrap();
        lu.refactor(&b.values).unwrap();
        let fresh = NumericLu::factor(symbolic, &b.values).unwrap();
        let rhs: Vec<C64> = (0..a.n).map(|_| rng.complex()).collect();
        let (mut x1, mut x2) = (rhs.clone(), rhs.clone());
        lu.solve_in_place(&mut x1);
        fresh.solve_in_place(&mut x2);
        assert_eq!(x1, x2);
        assert!(solve_residual(&b, &lu, &mut rng) < 1e-12);
    }

    #[test]
    fn asymmetric_pattern_is_symmetrised() {
        // Lower triangle plus a few upper entries, unsorted rows and a duplicate entry.
        let mut rng = Lcg(4);
        let n = 40;
        let mut t = Vec::new();
        for _ in 0..80 {
            let (i, j) = (rng.below(n), rng.below(n));
            if i > j {
                t.push((i, j, rng.complex()));
            }
        }
        t.push((3, 17, rng.complex()));
        add_dominant_diagonal(n, &mut t, &mut rng);
        let a = Csc::from_triplets(n, &t);
        let lu = NumericLu::factor(a.analyze(), &a.values).unwrap();
        assert!(solve_residual(&a, &lu, &mut rng) < 1e-12);

        // Same matrix given with rows reversed inside each column and one entry split in two.
        let mut col_ptr = vec![0];
        let (mut rows, mut vals) = (Vec::new(), Vec::new());
        for j in 0..n {
            for p in (a.col_ptr[j]..a.col_ptr[j + 1]).rev() {
                if a.row_idx[p] == j {
                    rows.extend([j, j]);
                    vals.extend([a.values[p] * 0.25, a.values[p] * 0.75]);
                } else {
                    rows.push(a.row_idx[p]);
                    vals.push(a.values[p]);
                }
            }
            col_ptr.push(rows.len());
        }
        let symbolic = Arc::new(SymbolicLu::analyze(n, &col_ptr, &rows).unwrap());
        let lu2 = NumericLu::factor(symbolic, &vals).unwrap();
        let b: Vec<C64> = (0..n).map(|_| rng.complex()).collect();
        let (mut x1, mut x2) = (b.clone(), b);
        lu.solve_in_place(&mut x1);
        lu2.solve_in_place(&mut x2);
        let diff: Vec<C64> = x1.iter().zip(&x2).map(|(p, q)| p - q).collect();
        assert!(norm(&diff) < 1e-12 * norm(&x1));
    }

    #[test]
    fn zero_column_is_reported_with_its_original_index() {
        let mut a = radial_feeder(30, 3, 2);
        let dead = 47;
        for j in 0..a.n {
            for p in a.col_ptr[j]..a.col_ptr[j + 1] {
                if j == dead || a.row_idx[p] == dead {
                    a.values[p] = C64::new(0.0, 0.0);
                }
            }
        }
        let err = NumericLu::factor(a.analyze(), &a.values).unwrap_err();
        assert_eq!(
            err,
            LuError::Singular {
                column: dead,
                pivot_magnitude: 0.0
            }
        );
    }

    #[test]
    fn tiny_pivot_is_singular_and_invalidates_solves() {
        // [[1, 1], [1, 1 + 1e-15]]: the second pivot is 1e-15 < 1e-13 · 1.
        let (col_ptr, row_idx) = ([0, 2, 4], [0, 1, 0, 1]);
        let one = C64::new(1.0, 0.0);
        let good = [C64::new(2.0, 0.0), one, one, C64::new(2.0, 0.0)];
        let bad = [one, one, one, one + 1e-15];
        let symbolic = Arc::new(SymbolicLu::analyze(2, &col_ptr, &row_idx).unwrap());
        let mut lu = NumericLu::factor(Arc::clone(&symbolic), &good).unwrap();
        let err = lu.refactor(&bad).unwrap_err();
        let second = symbolic.permutation()[1];
        match err {
            LuError::Singular {
                column,
                pivot_magnitude,
            } => {
                assert_eq!(column, second);
                assert!(pivot_magnitude < 1e-14 && pivot_magnitude > 0.0);
            }
            other => panic!("unexpected {other:?}"),
        }
        let mut b = [one, one];
        lu.solve_in_place(&mut b);
        assert!(b.iter().all(|z| z.re.is_nan()));
        // A good refactorisation makes it usable again.
        lu.refactor(&good).unwrap();
        let mut b = [one, one];
        lu.solve_in_place(&mut b);
        assert!((b[0] - one / 3.0).norm() < 1e-15 && (b[1] - one / 3.0).norm() < 1e-15);
    }

    #[test]
    fn missing_diagonal_and_nan_are_singular() {
        let symbolic = Arc::new(SymbolicLu::analyze(1, &[0, 0], &[]).unwrap());
        assert_eq!(
            NumericLu::factor(symbolic, &[]).unwrap_err(),
            LuError::Singular {
                column: 0,
                pivot_magnitude: 0.0
            }
        );
        let symbolic = Arc::new(SymbolicLu::analyze(1, &[0, 1], &[0]).unwrap());
        let err = NumericLu::factor(symbolic, &[C64::new(f64::NAN, 0.0)]).unwrap_err();
        assert!(matches!(err, LuError::Singular { column: 0, .. }));
    }

    #[test]
    fn bad_patterns_are_errors_not_panics() {
        let cases: [(usize, &[usize], &[usize]); 6] = [
            (2, &[0, 1], &[0]),       // col_ptr too short
            (2, &[1, 1, 2], &[0, 1]), // col_ptr[0] != 0
            (2, &[0, 2, 1], &[0, 1]), // decreasing
            (2, &[0, 1, 3], &[0, 1]), // col_ptr[n] != nnz
            (2, &[0, 1, 2], &[0, 2]), // row out of range
            (0, &[], &[]),            // col_ptr must be [0]
        ];
        for (n, col_ptr, row_idx) in cases {
            let r = SymbolicLu::analyze(n, col_ptr, row_idx);
            assert!(
                matches!(r, Err(LuError::Pattern(_))),
                "{n} {col_ptr:?} {row_idx:?}"
            );
        }
        // Wrong number of values.
        let symbolic = Arc::new(SymbolicLu::analyze(2, &[0, 1, 2], &[0, 1]).unwrap());
        let one = C64::new(1.0, 0.0);
        assert!(matches!(
            NumericLu::factor(Arc::clone(&symbolic), &[one]),
            Err(LuError::Pattern(_))
        ));
        let mut lu = NumericLu::factor(symbolic, &[one, one]).unwrap();
        assert!(matches!(lu.refactor(&[one; 3]), Err(LuError::Pattern(_))));
        // The previous factors survive a rejected refactorisation.
        let mut b = [one, one];
        lu.solve_in_place(&mut b);
        assert_eq!(b, [one, one]);
    }

    #[test]
    fn empty_matrix_is_fine() {
        let symbolic = Arc::new(SymbolicLu::analyze(0, &[0], &[]).unwrap());
        assert_eq!(symbolic.nnz_factors(), 0);
        let lu = NumericLu::factor(symbolic, &[]).unwrap();
        lu.solve_in_place(&mut []);
    }

    #[test]
    fn hub_node_is_ordered_last() {
        // A star of 2,000 leaves: the hub is "dense" and eliminated last, so there is no fill.
        let n = 2001;
        let mut t = Vec::new();
        for leaf in 1..n {
            t.extend([
                (0, leaf, C64::new(-1.0, 0.5)),
                (leaf, 0, C64::new(-1.0, 0.5)),
            ]);
        }
        let mut rng = Lcg(5);
        add_dominant_diagonal(n, &mut t, &mut rng);
        let a = Csc::from_triplets(n, &t);
        let symbolic = a.analyze();
        assert_eq!(symbolic.fill_in(), 0);
        assert_eq!(symbolic.permutation()[n - 1], 0);
        assert_eq!(symbolic.elimination_tree()[n - 1], None);
        let lu = NumericLu::factor(symbolic, &a.values).unwrap();
        assert!(solve_residual(&a, &lu, &mut rng) < 1e-12);
    }

    #[test]
    fn numeric_lu_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<NumericLu>();
        check::<SymbolicLu>();
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// CSC of a radial feeder (random tree, `phases` nodes per bus, full coupling blocks) with
    /// `loops` extra ties between random buses, from a seed.
    fn feeder(
        buses: usize,
        phases: usize,
        loops: usize,
        seed: u64,
    ) -> (usize, Vec<usize>, Vec<usize>, Vec<C64>) {
        let mut state = seed;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = buses * phases;
        let mut dense = vec![C64::new(0.0, 0.0); n * n];
        let mut branch = |f: usize, t: usize, uniform: &mut dyn FnMut() -> f64| {
            for p in 0..phases {
                for q in 0..phases {
                    let base = if p == q {
                        C64::new(1.0, -3.0)
                    } else {
                        C64::new(-0.3, 1.0)
                    };
                    let y = base * (0.5 + uniform());
                    let (fp, fq, tp, tq) = (
                        f * phases + p,
                        f * phases + q,
                        t * phases + p,
                        t * phases + q,
                    );
                    dense[fp * n + fq] += y;
                    dense[tp * n + tq] += y;
                    dense[fp * n + tq] -= y;
                    dense[tp * n + fq] -= y;
                }
            }
        };
        for b in 1..buses {
            let from = ((uniform() * b as f64) as usize).min(b - 1);
            branch(from, b, &mut uniform);
        }
        for _ in 0..loops {
            let (f, t) = (
                (uniform() * buses as f64) as usize,
                (uniform() * buses as f64) as usize,
            );
            if f != t && f < buses && t < buses {
                branch(f, t, &mut uniform);
            }
        }
        // Shunts make the matrix nonsingular; diagonal dominance per row (sum of the couplings).
        let (mut col_ptr, mut row_idx, mut values) = (vec![0], Vec::new(), Vec::new());
        for j in 0..n {
            let off: f64 = (0..n)
                .filter(|&i| i != j)
                .map(|i| dense[i * n + j].norm())
                .sum();
            for i in 0..n {
                let mut v = dense[i * n + j];
                if i == j {
                    v +=
                        C64::new(0.01, -0.02) * (1.0 + uniform()) + C64::new(0.0, -1.0) * 0.5 * off;
                }
                if v != C64::new(0.0, 0.0) || i == j {
                    row_idx.push(i);
                    values.push(v);
                }
            }
            col_ptr.push(row_idx.len());
        }
        (n, col_ptr, row_idx, values)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn feeders_solve_accurately(
            buses in 1usize..40,
            phases in 1usize..=4,
            loops in 0usize..4,
            seed in any::<u64>(),
        ) {
            let (n, col_ptr, row_idx, values) = feeder(buses, phases, loops, seed);
            let symbolic = Arc::new(SymbolicLu::analyze(n, &col_ptr, &row_idx).unwrap());
            if loops == 0 {
                prop_assert_eq!(symbolic.fill_in(), 0);
            }
            let lu = NumericLu::factor(symbolic, &values).unwrap();
            let b: Vec<C64> = (0..n).map(|i| C64::new(1.0 + i as f64, -(i as f64) * 0.5)).collect();
            let mut x = b.clone();
            lu.solve_in_place(&mut x);
            let mut r2 = 0.0;
            for i in 0..n {
                let mut ax = C64::new(0.0, 0.0);
                for j in 0..n {
                    if let Some(p) = (col_ptr[j]..col_ptr[j + 1]).find(|&p| row_idx[p] == i) {
                        ax += values[p] * x[j];
                    }
                }
                r2 += (ax - b[i]).norm_sqr();
            }
            let b2: f64 = b.iter().map(|z| z.norm_sqr()).sum();
            prop_assert!((r2 / b2).sqrt() < 1e-12, "residual {}", (r2 / b2).sqrt());
        }

        #[test]
        fn arbitrary_input_never_panics(
            counts in proptest::collection::vec(0usize..4, 0..7),
            rows in proptest::collection::vec(0usize..7, 24),
            corrupt in 0usize..4,
            re in proptest::collection::vec(-2.0f64..2.0, 24),
        ) {
            // Mostly well-formed columns with arbitrary (possibly out-of-range or repeated) rows;
            // `corrupt` breaks the pattern in one of three ways.
            let n = counts.len();
            let mut col_ptr = vec![0];
            for c in &counts {
                col_ptr.push(col_ptr.last().unwrap() + c);
            }
            let mut row_idx = rows[..col_ptr[n]].to_vec();
            match corrupt {
                1 => { col_ptr.pop(); }
                2 => row_idx.push(0),
                3 if n > 1 => col_ptr.swap(1, n),
                _ => {}
            }
            match SymbolicLu::analyze(n, &col_ptr, &row_idx) {
                Err(e) => prop_assert!(matches!(e, LuError::Pattern(_))),
                Ok(symbolic) => {
                    let values: Vec<C64> =
                        (0..row_idx.len()).map(|p| C64::new(re[p], re[23 - p])).collect();
                    if let Ok(lu) = NumericLu::factor(Arc::new(symbolic), &values) {
                        let mut b = vec![C64::new(1.0, 0.0); n];
                        lu.solve_in_place(&mut b);
                        prop_assert!(b.iter().all(|z| z.re.is_finite() && z.im.is_finite()));
                    }
                }
            }
        }
    }
}
