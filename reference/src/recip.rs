//! References for the reciprocal: Goldschmidt with normalisation (SPU) and Newton (CrypTen).

use dyad_sim::{FixedError, FixedPoint, RingTensor};

use super::Fx;
use super::exp::taylor_scalar;
use super::normalize::ExponentRange;

/// Goldschmidt's initial approximation 1/x ≈ 2.9142 − 2x on [0.5, 1) (SPU).
pub const GOLDSCHMIDT_INIT: f64 = 2.9142;

/// The integer normaliser F = 2^(kmax − j) of the reciprocal.
pub fn goldschmidt_scale(range: &ExponentRange, ring: dyad_sim::Ring) -> (u64, Vec<u64>) {
    range.step(ring, |j| 1i64 << (range.kmax - j))
}

/// One element of the Goldschmidt reciprocal.
pub fn goldschmidt_scalar(fx: Fx, x: u64, range: &ExponentRange, iterations: usize, consts: &GoldschmidtConsts) -> u64 {
    let shift = (range.kmax + 1) as u32;
    let scale = range.eval_step(fx, x, &consts.thresholds, &consts.scale);
    let xn = fx.trunc(fx.mul_ring(x, scale), shift);
    let mut r = fx.sub(consts.init, fx.mul_ring(xn, 2));
    let mut e = fx.sub(consts.one, fx.mul(xn, r));
    for i in 0..iterations {
        let next_r = fx.mul(r, fx.add(consts.one, e));
        if i + 1 < iterations {
            e = fx.mul(e, e);
        }
        r = next_r;
    }
    fx.trunc(fx.mul_ring(r, scale), shift)
}

/// The encoded constants of the Goldschmidt reciprocal.
#[derive(Clone, Debug)]
pub struct GoldschmidtConsts {
    /// Encoded thresholds 2^k.
    pub thresholds: Vec<u64>,
    /// The normaliser's step function.
    pub scale: (u64, Vec<u64>),
    /// Encoded 2.9142.
    pub init: u64,
    /// Encoded 1.
    pub one: u64,
}

impl GoldschmidtConsts {
    /// Encodes the constants for `range` in `fx`.
    pub fn new(fx: FixedPoint, range: &ExponentRange) -> Result<Self, FixedError> {
        Ok(GoldschmidtConsts {
            thresholds: range.encoded_thresholds(fx)?,
            scale: goldschmidt_scale(range, fx.ring()),
            init: fx.encode(GOLDSCHMIDT_INIT)?,
            one: fx.encode(1.0)?,
        })
    }
}

/// Every element, Goldschmidt.
pub fn goldschmidt(
    fx: FixedPoint,
    x: &RingTensor,
    range: &ExponentRange,
    iterations: usize,
) -> Result<RingTensor, FixedError> {
    let c = GoldschmidtConsts::new(fx, range)?;
    let f = Fx::new(fx);
    Ok(x.map(|v| goldschmidt_scalar(f, v, range, iterations, &c)))
}

/// CrypTen's initial guess y0 = 3·exp(1 − 2x) + 0.003, with the exp baseline.
pub const NEWTON_OFFSET: f64 = 0.003;

/// One element of the Newton reciprocal: y ← y·(2 − x·y), `iterations` times.
pub fn newton_scalar(fx: Fx, x: u64, iterations: usize, exp_n: u32, clip: u64, consts: &[u64; 3]) -> u64 {
    let [one, two, offset] = *consts;
    let t = fx.sub(one, fx.mul_ring(x, 2));
    let ex = taylor_scalar(fx, t, exp_n, clip, one);
    let mut y = fx.add(fx.mul_ring(ex, 3), offset);
    for _ in 0..iterations {
        y = fx.mul(y, fx.sub(two, fx.mul(x, y)));
    }
    y
}

/// Every element, Newton.
pub fn newton(
    fx: FixedPoint,
    x: &RingTensor,
    iterations: usize,
    exp_n: u32,
    clip: f64,
) -> Result<RingTensor, FixedError> {
    let consts = [fx.encode(1.0)?, fx.encode(2.0)?, fx.encode(NEWTON_OFFSET)?];
    let c = fx.encode(clip)?;
    let f = Fx::new(fx);
    Ok(x.map(|v| newton_scalar(f, v, iterations, exp_n, c, &consts)))
}
