//! Reference for the exp baseline (1 + x/2^n)^(2^n), zero below a clipping point.

use dyad_sim::{FixedError, FixedPoint, RingTensor};

use super::Fx;

/// One element: 0 if x < clip, else y = ⌊x/2^n⌋ + 1 squared n times.
pub fn taylor_scalar(fx: Fx, x: u64, n: u32, clip: u64, one: u64) -> u64 {
    if fx.lt(x, clip) {
        return 0;
    }
    let mut y = fx.add(fx.trunc(x, n), one);
    for _ in 0..n {
        y = fx.mul(y, y);
    }
    y
}

/// Every element.
pub fn taylor(fx: FixedPoint, x: &RingTensor, n: u32, clip: f64) -> Result<RingTensor, FixedError> {
    let (c, one) = (fx.encode(clip)?, fx.encode(1.0)?);
    let f = Fx::new(fx);
    Ok(x.map(|v| taylor_scalar(f, v, n, c, one)))
}
