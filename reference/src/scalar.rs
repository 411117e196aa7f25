//! Scalar fixed-point operations on ring elements, the vocabulary of every reference.

use dyad_sim::{FixedError, FixedPoint, Ring};

/// Fixed-point arithmetic on single ring elements in one format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fx {
    /// The format.
    pub fixed: FixedPoint,
}

impl Fx {
    /// Operations in `fixed`.
    pub fn new(fixed: FixedPoint) -> Self {
        Fx { fixed }
    }

    /// The ring.
    pub fn ring(self) -> Ring {
        self.fixed.ring()
    }

    /// f.
    pub fn frac(self) -> u32 {
        self.fixed.frac()
    }

    /// The encoding of a public real.
    pub fn constant(self, c: f64) -> Result<u64, FixedError> {
        self.fixed.encode(c)
    }

    /// a + b.
    pub fn add(self, a: u64, b: u64) -> u64 {
        self.ring().add(a, b)
    }

    /// a − b.
    pub fn sub(self, a: u64, b: u64) -> u64 {
        self.ring().sub(a, b)
    }

    /// The ring product, no truncation.
    pub fn mul_ring(self, a: u64, b: u64) -> u64 {
        self.ring().mul(a, b)
    }

    /// ⌊a / 2^k⌋ on the signed reading.
    pub fn trunc(self, a: u64, k: u32) -> u64 {
        crate::domain::note(self.ring(), a);
        self.ring().shr_signed(a, k)
    }

    /// The fixed-point product ⌊a·b / 2^f⌋.
    pub fn mul(self, a: u64, b: u64) -> u64 {
        self.trunc(self.mul_ring(a, b), self.frac())
    }

    /// a < b on the signed reading.
    pub fn lt(self, a: u64, b: u64) -> bool {
        self.ring().signed(a) < self.ring().signed(b)
    }
}
