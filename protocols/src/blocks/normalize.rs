//! Normalisation by binary exponent on shares, for the reciprocal and rsqrt: all comparisons
//! 1{x ≥ 2^k} in one batched millionaires', their B2A in one batch of OTs, then any step
//! function of the exponent as a local linear combination (see
//! [`dyad_reference::normalize`]).

use dyad_reference::normalize::ExponentRange;
use dyad_sim::{FixedPoint, Formula, Party, Share};

use crate::blocks::cmp::{msb, msb_cost};
use crate::blocks::convert::{b2a, b2a_cost};
use crate::blocks::share::{concat, split};
use crate::error::ProtocolError;

/// Arithmetic shares of c_k = 1{x ≥ 2^k} for every threshold of `range`, one `[n]` share each.
pub fn exponent_bits(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    range: &ExponentRange,
) -> Result<Vec<Share>, ProtocolError> {
    let thresholds = range.encoded_thresholds(fx)?;
    if thresholds.is_empty() {
        return Ok(Vec::new());
    }
    p.scope("normalize", |p| {
        let ring = x.ring();
        let flat = x.reshape(&[x.len()])?;
        let shifted: Vec<Share> = thresholds.iter().map(|&t| flat.add_scalar(p.role(), ring.neg(t))).collect();
        let refs: Vec<&Share> = shifted.iter().collect();
        let ge = msb(p, &concat(&refs)?)?.add_scalar(p.role(), 1);
        let ge = b2a(p, &ge, ring)?;
        split(&ge, &vec![vec![flat.len()]; thresholds.len()])
    })
}

/// The formula of [`exponent_bits`] for `n` values: one millionaires' and one B2A over every
/// threshold's comparison.
pub fn exponent_bits_cost(
    f: &mut Formula,
    fx: FixedPoint,
    n: usize,
    range: &ExponentRange,
) -> Result<(), ProtocolError> {
    let t = range.encoded_thresholds(fx)?.len();
    if t > 0 {
        msb_cost(f, fx.ring(), t * n);
        b2a_cost(f, fx.ring(), t * n);
    }
    Ok(())
}

/// The step function base + Σ_k c_k·delta_k, locally.
pub fn step(
    role: dyad_sim::Role,
    bits: &[Share],
    step: &(u64, Vec<u64>),
    n: usize,
    ring: dyad_sim::Ring,
) -> Result<Share, ProtocolError> {
    let mut h = Share::zeros(ring, &[n]).add_scalar(role, step.0);
    for (c, d) in bits.iter().zip(&step.1) {
        h = h.add(&c.scale(*d))?;
    }
    Ok(h)
}
