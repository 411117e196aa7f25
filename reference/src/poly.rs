//! References for polynomial evaluation: Horner, the low-depth power basis, and piecewise
//! polynomials with segment selection.

use dyad_sim::{FixedError, FixedPoint, RingTensor};

use super::Fx;
use crate::approx::{Piecewise, Polynomial};
use crate::domain;

/// The encoded coefficients of `p`.
pub fn encode(fx: FixedPoint, p: &Polynomial) -> Result<Vec<u64>, FixedError> {
    p.coeffs.iter().map(|&c| fx.encode(c)).collect()
}

/// A coefficient of x^i (i ≥ 1) as the power-basis evaluation uses it: a small integer multiplies
/// x^i exactly, with no truncation; any other real is encoded (at f fraction bits unless
/// [`coeffs_at`] says otherwise) and its product truncated. The constant term is always encoded
/// at f.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coeff {
    /// An integer coefficient (0 and 1 included: they cost nothing).
    Int(i64),
    /// An encoded real coefficient.
    Fixed(u64),
}

/// The coefficients of `p` for [`combine_scalar`]: the constant term encoded, the others as
/// [`Coeff`]s at f fraction bits.
pub fn coeffs(fx: FixedPoint, p: &Polynomial) -> Result<Vec<Coeff>, FixedError> {
    coeffs_at(fx, fx.frac(), p)
}

/// The same with the real coefficients of x^i (i ≥ 1) at `coeff_frac` fraction bits: their
/// products are at scale 2^(f + coeff_frac) and truncated by `coeff_frac`. More bits than f keep
/// a small ring's coefficients precise where |x|^i is large.
pub fn coeffs_at(fx: FixedPoint, coeff_frac: u32, p: &Polynomial) -> Result<Vec<Coeff>, FixedError> {
    let wide = FixedPoint::new(fx.ring(), coeff_frac)?;
    p.coeffs
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i > 0 && c.fract() == 0.0 && c.abs() <= 1048576.0 {
                Ok(Coeff::Int(c as i64))
            } else if i == 0 {
                fx.encode(c).map(Coeff::Fixed)
            } else {
                wide.encode(c).map(Coeff::Fixed)
            }
        })
        .collect()
}

/// True when some coefficient of x^i, i ≥ 1, needs a truncation.
pub fn has_fraction(a: &[Coeff]) -> bool {
    a.iter().skip(1).any(|c| matches!(c, Coeff::Fixed(_)))
}

/// Horner's rule: y = a_d·x + a_{d−1}, then y = y·x + a_i, truncating after every product.
pub fn horner_scalar(fx: Fx, x: u64, a: &[u64]) -> u64 {
    let d = a.len().saturating_sub(1);
    match a {
        [] => 0,
        [a0] => *a0,
        _ => {
            let mut y = fx.add(fx.mul(x, a[d]), a[d - 1]);
            for i in (0..d - 1).rev() {
                y = fx.add(fx.mul(y, x), a[i]);
            }
            y
        }
    }
}

/// For 2 ≤ i: x^i is computed as x^h · x^(i−h) with h the largest power of two below i, so all
/// powers in (2^(r−1), 2^r] come in round r.
pub fn power_split(i: usize) -> (usize, usize) {
    let h = 1usize << (usize::BITS - 1 - (i - 1).leading_zeros());
    (h, i - h)
}

/// x^1 … x^d (index 0 holds x^1) by the low-depth schedule of [`power_split`].
pub fn powers_scalar(fx: Fx, x: u64, d: usize) -> Vec<u64> {
    let mut pows = vec![x];
    for i in 2..=d {
        let (h, l) = power_split(i);
        pows.push(fx.mul(pows[h - 1], pows[l - 1]));
    }
    pows
}

/// Σ a_i·x^i for i ≥ 1 — real coefficients (at `coeff_frac` bits) summed at scale
/// 2^(f + coeff_frac) and truncated once by `coeff_frac`, integer ones at scale 2^f — plus a_0.
pub fn combine_scalar(fx: Fx, coeff_frac: u32, pows: &[u64], a: &[Coeff]) -> u64 {
    let r = fx.ring();
    let (mut wide, mut narrow) = (0u64, 0u64);
    for (p, c) in pows.iter().zip(a.iter().skip(1)) {
        match *c {
            Coeff::Int(k) => narrow = fx.add(narrow, fx.mul_ring(*p, r.from_signed(k))),
            Coeff::Fixed(e) => wide = fx.add(wide, fx.mul_ring(*p, e)),
        }
    }
    let wide = if has_fraction(a) { fx.trunc(wide, coeff_frac) } else { 0 };
    let a0 = match a.first() {
        Some(Coeff::Fixed(e)) => *e,
        Some(Coeff::Int(k)) => r.from_signed(*k),
        None => 0,
    };
    fx.add(fx.add(wide, narrow), a0)
}

/// The piecewise polynomial: every piece evaluated from shared powers, then
/// v_0 + Σ_i 1{x ≥ b_i}·(v_i − v_{i−1}).
pub fn piecewise_scalar(fx: Fx, coeff_frac: u32, x: u64, breaks: &[u64], pieces: &[Vec<Coeff>]) -> u64 {
    let d = pieces.iter().map(|a| a.len().saturating_sub(1)).max().unwrap_or(0);
    let values: Vec<u64> = domain::uncounted(|| {
        let pows = powers_scalar(fx, x, d.max(1));
        pieces.iter().map(|a| combine_scalar(fx, coeff_frac, &pows, a)).collect()
    });
    let mut out = values.first().copied().unwrap_or(0);
    let mut selected = 0;
    for (i, b) in breaks.iter().enumerate() {
        if !fx.lt(x, *b) {
            out = fx.add(out, fx.sub(values[i + 1], values[i]));
            selected = i + 1;
        }
    }
    // Only the selected piece's truncations reach the output: count those.
    if let Some(a) = pieces.get(selected) {
        combine_scalar(fx, coeff_frac, &powers_scalar(fx, x, a.len().saturating_sub(1).max(1)), a);
    }
    out
}

/// Horner on every element.
pub fn horner(fx: FixedPoint, x: &RingTensor, p: &Polynomial) -> Result<RingTensor, FixedError> {
    let a = encode(fx, p)?;
    Ok(x.map(|v| horner_scalar(Fx::new(fx), v, &a)))
}

/// The power-basis evaluation on every element.
pub fn power_basis(fx: FixedPoint, x: &RingTensor, p: &Polynomial) -> Result<RingTensor, FixedError> {
    let a = coeffs(fx, p)?;
    let f = Fx::new(fx);
    Ok(x.map(|v| combine_scalar(f, fx.frac(), &powers_scalar(f, v, p.degree()), &a)))
}

/// The piecewise polynomial on every element.
pub fn piecewise(fx: FixedPoint, x: &RingTensor, pw: &Piecewise) -> Result<RingTensor, FixedError> {
    piecewise_at(fx, fx.frac(), x, pw)
}

/// The same with the real coefficients at `coeff_frac` fraction bits ([`coeffs_at`]).
pub fn piecewise_at(fx: FixedPoint, coeff_frac: u32, x: &RingTensor, pw: &Piecewise) -> Result<RingTensor, FixedError> {
    let breaks: Vec<u64> = pw.breaks.iter().map(|&b| fx.encode(b)).collect::<Result<_, _>>()?;
    let pieces: Vec<Vec<Coeff>> = pw.pieces.iter().map(|p| coeffs_at(fx, coeff_frac, p)).collect::<Result<_, _>>()?;
    let f = Fx::new(fx);
    Ok(x.map(|v| piecewise_scalar(f, coeff_frac, v, &breaks, &pieces)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_power_schedule_has_logarithmic_depth() {
        assert_eq!(power_split(2), (1, 1));
        assert_eq!(power_split(3), (2, 1));
        assert_eq!(power_split(4), (2, 2));
        assert_eq!(power_split(5), (4, 1));
        assert_eq!(power_split(6), (4, 2));
        assert_eq!(power_split(8), (4, 4));
        assert_eq!(power_split(9), (8, 1));
    }
}
