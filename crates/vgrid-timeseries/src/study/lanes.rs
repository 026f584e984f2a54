//! Values of a few items side by side ("lanes"), so that one formula evaluated on all of them
//! is one vector instruction per operation.
//!
//! `L` holds one `f64` per lane; `+ − ×` and the selection act lane by lane with exactly the
//! IEEE operation of the scalar formula, so a result is bit for bit what the scalar code gives
//! for that item. Two lanes fill an SSE2 register (every x86-64 has one; wider registers need
//! a CPU check the workspace's `forbid(unsafe_code)` rules out):
//!
//! ```text
//! let s = a * b + c;   // on L: [a0·b0 + c0, a1·b1 + c1], the same bits as each scalar
//! ```

/// Items evaluated side by side.
pub(super) const LANES: usize = 2;

/// One value per item of a chunk; the operators work lane by lane (and vectorise). Aligned
/// to its size, so that an operand in memory is read by the arithmetic instruction itself
/// (SSE2 folds only aligned loads) rather than by a separate load.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
pub(super) struct L(pub(super) [f64; LANES]);

impl L {
    pub(super) const ZERO: L = L([0.0; LANES]);

    #[inline(always)]
    pub(super) fn map2(self, o: L, f: impl Fn(f64, f64) -> f64) -> L {
        L(std::array::from_fn(|l| f(self.0[l], o.0[l])))
    }

    /// `(self > o) ? a : b`, lane by lane.
    #[inline(always)]
    pub(super) fn gt_select(self, o: L, a: L, b: L) -> L {
        L(std::array::from_fn(|l| {
            if self.0[l] > o.0[l] {
                a.0[l]
            } else {
                b.0[l]
            }
        }))
    }
}

impl std::ops::Add for L {
    type Output = L;
    #[inline(always)]
    fn add(self, o: L) -> L {
        self.map2(o, |a, b| a + b)
    }
}

impl std::ops::Sub for L {
    type Output = L;
    #[inline(always)]
    fn sub(self, o: L) -> L {
        self.map2(o, |a, b| a - b)
    }
}

impl std::ops::Mul for L {
    type Output = L;
    #[inline(always)]
    fn mul(self, o: L) -> L {
        self.map2(o, |a, b| a * b)
    }
}

impl std::ops::Neg for L {
    type Output = L;
    #[inline(always)]
    fn neg(self) -> L {
        L(self.0.map(|a| -a))
    }
}

impl L {
    /// Every lane's `x` is in `[lo, hi]` (NaN is in no range). Compares of both lanes at once
    /// and one test (a mask per lane made of plain compares is formed lane by lane).
    #[inline(always)]
    pub(super) fn all_within(self, lo: L, hi: L) -> bool {
        let one = |c: bool| if c { 1.0 } else { 0.0 };
        let a = L(std::array::from_fn(|l| one(self.0[l] >= lo.0[l])));
        let b = L(std::array::from_fn(|l| one(self.0[l] <= hi.0[l])));
        (a * b).0.iter().sum::<f64>() == LANES as f64
    }

    /// Every lane's `x` is at or below `hi` (NaN is not).
    #[inline(always)]
    pub(super) fn all_at_most(self, hi: L) -> bool {
        let one = |c: bool| if c { 1.0 } else { 0.0 };
        let a = L(std::array::from_fn(|l| one(self.0[l] <= hi.0[l])));
        a.0.iter().sum::<f64>() == LANES as f64
    }

    /// Some lane's `x` is above `o` (NaN is not).
    #[inline(always)]
    pub(super) fn any_above(self, o: L) -> bool {
        let one = |c: bool| if c { 1.0 } else { 0.0 };
        let a = L(std::array::from_fn(|l| one(self.0[l] > o.0[l])));
        a.0.iter().sum::<f64>() > 0.0
    }

    /// `|x|`, lane by lane.
    #[inline(always)]
    pub(super) fn abs(self) -> L {
        L(self.0.map(f64::abs))
    }

    /// Every lane `x`.
    #[inline(always)]
    pub(super) const fn splat(x: f64) -> L {
        L([x; LANES])
    }
}

impl std::ops::Div for L {
    type Output = L;
    #[inline(always)]
    fn div(self, o: L) -> L {
        self.map2(o, |a, b| a / b)
    }
}
