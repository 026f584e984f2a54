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

/// One value per item of a chunk; the operators work lane by lane (and vectorise).
#[derive(Debug, Clone, Copy, PartialEq)]
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
