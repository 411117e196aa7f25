//! Proptest strategies for fixed-point tensors and their shares, for users' own property tests.

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

use crate::fixed::FixedPoint;
use crate::ring::Ring;
use crate::share::Share;
use crate::tensor::RingTensor;

/// The two default formats: ℓ = 64 with f = 18 and ℓ = 32 with f = 13.
pub fn default_formats() -> impl Strategy<Value = FixedPoint> {
    prop_oneof![Just(FixedPoint::default_for(Ring::Z64)), Just(FixedPoint::default_for(Ring::Z32))]
}

/// Real tensors of `shape` with elements uniform in [lo, hi].
pub fn reals(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = ArrayD<f64>> {
    let n: usize = shape.iter().product();
    prop::collection::vec(lo..=hi, n).prop_map(move |v| ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap_or_default())
}

/// Fixed-point encodings of real tensors in [lo, hi] (which must fit the format).
pub fn fixed_tensor(fx: FixedPoint, shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = RingTensor> {
    reals(shape, lo, hi).prop_filter_map("value does not fit the format", move |x| fx.encode_tensor(&x).ok())
}

/// A secret fixed-point tensor and a uniformly random sharing of it.
#[derive(Clone, Debug)]
pub struct Shared {
    /// The secret.
    pub secret: RingTensor,
    /// The server's share.
    pub server: Share,
    /// The client's share.
    pub client: Share,
}

/// Secret fixed-point tensors in [lo, hi] with random shares.
pub fn shared(fx: FixedPoint, shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = Shared> {
    let n: usize = shape.iter().product();
    let ring = fx.ring();
    (fixed_tensor(fx, shape.clone(), lo, hi), prop::collection::vec(any::<u64>(), n)).prop_map(move |(secret, mask)| {
        let mask = RingTensor::from_vec(ring, &shape, mask).unwrap_or_else(|_| RingTensor::zeros(ring, &shape));
        let rest = secret.sub(&mask).unwrap_or_else(|_| secret.clone());
        Shared { secret, server: Share::new(rest), client: Share::new(mask) }
    })
}

/// Byte edits for fuzzing a file of `len` bytes: 1 to `most` − 1 of (position, delete | replace |
/// insert, byte).
pub fn byte_edits(len: usize, most: usize) -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((0..len.max(1), 0u8..3, any::<u8>()), 1..most.max(2))
}

/// `bytes` with `edits` applied in order (positions past the end clamp to the last byte; an
/// empty buffer only takes insertions).
pub fn mutate(bytes: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, op, byte) in edits {
        let at = at.min(out.len().saturating_sub(1));
        match op {
            0 if !out.is_empty() => {
                out.remove(at);
            }
            1 if !out.is_empty() => out[at] = byte,
            _ => out.insert(at, byte),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::config;

    proptest! {
        #![proptest_config(config(0x5354_5241, 64))]

        #[test]
        fn shares_reconstruct_to_a_value_in_range(fx in default_formats(), s in default_formats().prop_flat_map(|fx| shared(fx, vec![3, 2], -4.0, 4.0))) {
            let _ = fx;
            let secret = Share::reconstruct(&s.server, &s.client).unwrap();
            prop_assert_eq!(&secret, &s.secret);
            let decoded = FixedPoint::default_for(secret.ring()).decode_tensor(&secret);
            prop_assert!(decoded.iter().all(|v| (-4.0..=4.0).contains(v)));
        }
    }
}
