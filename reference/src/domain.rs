//! Counting the values a fixed-point reference truncates at or beyond 2^(ℓ−2) in magnitude.
//! The secure truncations Dyad defaults to (Cheetah's one-bit-error truncation, Huang et al.,
//! USENIX Security 2022, and the faithful one built on it) are correct only below that bound,
//! where the known-MSB bias keeps the biased value non-negative; a reference that truncates such a
//! value describes a result the secure protocol does not compute.
//!
//! Every truncation of [`crate::arith::truncate`] and of the scalar vocabulary counts, on the
//! calling thread, except those of values the computation discards (the pieces a piecewise
//! polynomial does not select): [`counted`] runs a computation and returns how many it met.

use std::cell::Cell;

use dyad_sim::Ring;

thread_local! {
    static BEYOND: Cell<u64> = const { Cell::new(0) };
}

/// Notes `v` about to be truncated in `ring`.
pub(crate) fn note(ring: Ring, v: u64) {
    if ring.signed(v).unsigned_abs() >= 1u64 << (ring.bits() - 2) {
        BEYOND.with(|c| c.set(c.get() + 1));
    }
}

/// Runs `f` and returns its result with the number of values it truncated at or beyond
/// 2^(ℓ−2) on this thread.
pub fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = BEYOND.with(Cell::get);
    let out = f();
    (out, BEYOND.with(Cell::get) - before)
}

/// Runs `f` without counting its truncations: for values the computation evaluates and then
/// discards, as a piecewise polynomial does with every piece but the selected one.
pub(crate) fn uncounted<T>(f: impl FnOnce() -> T) -> T {
    let before = BEYOND.with(Cell::get);
    let out = f();
    BEYOND.with(|c| c.set(before));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::truncate;
    use dyad_sim::RingTensor;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn truncations_at_or_beyond_a_quarter_of_the_ring_are_counted() {
        let ring = Ring::Z32;
        let values = [0i64, (1 << 30) - 1, 1 << 30, -(1 << 30), -(1 << 30) + 1, i64::from(i32::MIN)];
        let x = RingTensor::new(
            ring,
            ArrayD::from_shape_vec(IxDyn(&[values.len()]), values.iter().map(|&v| ring.from_signed(v)).collect())
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let (_, beyond) = counted(|| truncate(&x, 4));
        assert_eq!(beyond, 3, "2^30, −2^30 and −2^31 are at or beyond 2^30; 2^30 − 1 and −2^30 + 1 are not");
        let (_, none) = counted(|| ());
        assert_eq!(none, 0);
    }
}
