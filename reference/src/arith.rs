//! References for addition, multiplication and truncation.

use dyad_sim::{FixedPoint, RingTensor, TensorError};

/// ⌊x / 2^k⌋: arithmetic right shift of the signed reading (rounds toward −∞).
pub fn truncate(x: &RingTensor, k: u32) -> RingTensor {
    let r = x.ring();
    x.map(|v| {
        crate::domain::note(r, v);
        r.shr_signed(v, k)
    })
}

/// The fixed-point product: ⌊x·y / 2^f⌋ in the ring.
pub fn mul(fx: FixedPoint, x: &RingTensor, y: &RingTensor) -> Result<RingTensor, TensorError> {
    Ok(truncate(&x.mul(y)?, fx.frac()))
}

/// The fixed-point square: ⌊x² / 2^f⌋.
pub fn square(fx: FixedPoint, x: &RingTensor) -> RingTensor {
    let r = x.ring();
    truncate(&x.map(|v| r.mul(v, v)), fx.frac())
}

/// The fixed-point matrix product: ⌊X·Y / 2^f⌋ (batched when both are 3-D).
pub fn matmul(fx: FixedPoint, x: &RingTensor, y: &RingTensor) -> Result<RingTensor, TensorError> {
    Ok(truncate(&x.matmul(y)?, fx.frac()))
}

/// Multiplication by the public real `c`, encoded in fixed point: ⌊x·enc(c) / 2^f⌋.
pub fn scale(fx: FixedPoint, x: &RingTensor, c: u64) -> RingTensor {
    truncate(&x.scale(c), fx.frac())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_sim::Ring;

    #[test]
    fn products_match_real_arithmetic_on_the_grid() {
        for ring in [Ring::Z32, Ring::Z64] {
            let fx = FixedPoint::default_for(ring);
            let enc = |v: f64| RingTensor::filled(ring, &[1], fx.encode(v).unwrap());
            let got = mul(fx, &enc(1.5), &enc(-2.25)).unwrap();
            assert_eq!(fx.decode(got.to_vec()[0]), -3.375);
            let sq = square(fx, &enc(-0.5));
            assert_eq!(fx.decode(sq.to_vec()[0]), 0.25);
            // Rounds toward −∞: −ulp · 0.5 truncates to −ulp.
            let tiny = mul(fx, &enc(-fx.ulp()), &enc(0.5)).unwrap();
            assert_eq!(fx.decode(tiny.to_vec()[0]), -fx.ulp());
        }
    }
}
