//! Ring conversions between the linear layers' ring Z_2^ℓ and a smaller ring Z_2^ℓ' (ℓ' < ℓ)
//! for the non-linear layers, and the truncations fused with them, as Nimbus (Li et al.,
//! NeurIPS 2024, arXiv 2411.15707) computes its activations in a small ring and converts for
//! (almost) nothing.
//!
//! Shares are x₀ + x₁ = x mod 2^ℓ of a signed value v.
//!
//! - **Truncate by t and down-cast** ([`truncate_downcast`]), for ℓ' + t ≤ ℓ: each party keeps
//!   (x_i >> t) mod 2^ℓ' (logical shifts). As integers x₀ + x₁ = x_u + w·2^ℓ (x_u the unsigned
//!   reading, w the wrap), so (x₀ >> t) + (x₁ >> t) = ⌊x_u/2^t⌋ + w·2^(ℓ−t) − c with c ∈ {0, 1}
//!   the carry of the dropped low bits, and 2^(ℓ−t) vanishes modulo 2^ℓ'. Since
//!   ⌊x_u/2^t⌋ ≡ ⌊v/2^t⌋ (mod 2^(ℓ−t)), the result is ⌊v/2^t⌋ − c in Z_2^ℓ': floor or one
//!   less, never garbage, with no communication — unlike SecureML's local truncation within one
//!   ring, the wrap term leaves with the down-cast. Correct as a signed value when
//!   |⌊v/2^t⌋| + 1 ≤ 2^(ℓ'−1). With t = 0 it is the plain down-cast, exact.
//! - **Up-cast, truncating by t or rescaling by 2^s** ([`upcast`]): with the known-MSB bias
//!   x' = x + 2^(ℓ'−2) ∈ [0, 2^(ℓ'−1)) for |v| < 2^(ℓ'−2) (SecureQ8's bias, as in Cheetah's
//!   truncation), the wrap of the shares is w = a ∨ b = a + b − a·b with a, b the top bits of
//!   x₀', x₁'. Each party lifts (x_i' >> t)·2^s into Z_2^ℓ and subtracts its share of
//!   w·2^(ℓ'−t+s), and the server the bias 2^(ℓ'−2−t+s): the sum is (⌊v/2^t⌋ − c)·2^s, exact
//!   when t = 0. a·b needs shares modulo 2^(ℓ−ℓ'+t−s) only: one correlated OT of that width per
//!   element ([`crate::blocks::cot`]), 1 bit up and ℓ − ℓ' + t − s bits down, two rounds; none
//!   when the width is 0. Needs 3 ≤ ℓ', t ≤ ℓ' − 2 and ℓ' − t + s ≤ ℓ.
//!
//! So a mixed-ring activation pays one correlated OT per element for both conversions, far less
//! than a comparison (about 700 bits at ℓ = 64).

use dyad_reference::cast as reference;
use dyad_sim::{FixedPoint, Formula, Party, Ring, RingTensor, Share};
use ndarray::ArrayD;

use crate::blocks::beaver::{square_ring, square_ring_cost};
use crate::blocks::convert::{b2a_cost, cross_products};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::{InputSpec, Inputs, Protocol, TruncMode, elements, elementwise, shared, take};

fn config(protocol: &'static str, reason: String) -> ProtocolError {
    ProtocolError::Config { protocol, reason }
}

/// ⌊v/2^t⌋ or one less, in `to`, with no communication; needs ℓ' + t ≤ ℓ.
pub fn truncate_downcast(x: &Share, t: u32, to: Ring) -> Result<Share, ProtocolError> {
    let from = x.ring();
    if to.bits() + t > from.bits() {
        return Err(config("cast", format!("cannot truncate by {t} into {to} from {from}: need ℓ' + t ≤ ℓ")));
    }
    Ok(Share::new(RingTensor::new(to, x.tensor().data().mapv(|v| v >> t))))
}

/// The width of the correlated OT of [`upcast`] from `from` to `to` with shifts `t` and `s`.
fn upcast_width(from: Ring, to: Ring, t: u32, s: u32) -> Result<u32, ProtocolError> {
    let (lp, l) = (from.bits(), to.bits());
    if lp < 3 || t + 2 > lp || lp - t + s > l {
        return Err(config(
            "cast",
            format!(
                "cannot up-cast {from} → {to} truncating by {t} and scaling by 2^{s}: need 3 ≤ ℓ', t ≤ ℓ' − 2, ℓ' − t + s ≤ ℓ"
            ),
        ));
    }
    Ok(l - (lp - t + s))
}

/// (⌊v/2^t⌋ − c)·2^s in `to` for |v| < 2^(ℓ'−2), c ∈ {0, 1} (c = 0 when t = 0).
pub fn upcast(p: &mut Party, x: &Share, t: u32, s: u32, to: Ring) -> Result<Share, ProtocolError> {
    let from = x.ring();
    let width = upcast_width(from, to, t, s)?;
    p.scope("upcast", |p| {
        let lp = from.bits();
        let biased = x.add_scalar(p.role(), 1 << (lp - 2)).into_tensor().to_vec();
        let tops: Vec<u64> = biased.iter().map(|&v| u64::from(from.msb(v))).collect();
        let n = biased.len();
        let products =
            if width == 0 { vec![0; n] } else { cross_products(p, &tops, Ring::new(width)?)?.into_tensor().to_vec() };
        let wrap_at = lp - t + s;
        let out: Vec<u64> = (0..n)
            .map(|i| {
                let lifted = to.reduce((biased[i] >> t) << s);
                let wrap = to.sub(tops[i], products[i]);
                to.sub(lifted, to.reduce(wrap.wrapping_shl(wrap_at)))
            })
            .collect();
        let out = Share::new(RingTensor::from_vec(to, x.shape(), out)?);
        Ok(out.add_scalar(p.role(), to.neg(1 << (lp - 2 - t + s))))
    })
}

/// The formula of [`upcast`] for `n` elements.
pub fn upcast_cost(f: &mut Formula, from: Ring, to: Ring, t: u32, s: u32, n: usize) -> Option<()> {
    let width = upcast_width(from, to, t, s).ok()?;
    if width > 0 {
        b2a_cost(f, Ring::new(width).ok()?, n);
    }
    Some(())
}

/// The small ring and the truncation into it that the cast protocols use at ring `ring`
/// with f fraction bits: (Z_2^32, 6) at ℓ = 64, (Z_2^24, 5) at ℓ = 32.
fn small(fx: FixedPoint) -> Result<(Ring, u32), ProtocolError> {
    let (bits, t) = if fx.ring().bits() >= 64 { (32, 6) } else { (24, 5) };
    if t >= fx.frac() {
        return Err(config("cast", format!("{} fraction bits leave none in the small ring", fx.frac())));
    }
    Ok((Ring::new(bits)?, t))
}

/// `cast.round_trip` and `cast.square_small`: the conversions as Nimbus uses them around an
/// activation, with the small ring of [`small`].
#[derive(Clone, Copy, Debug)]
pub enum Cast {
    /// Truncate by t into the small ring (f − t fraction bits), up-cast rescaling by 2^t.
    RoundTrip,
    /// Truncate by t into the small ring, square there, then truncate by f − 2t while
    /// up-casting: x² at f fraction bits, the pattern of a small-ring activation.
    SquareSmall,
}

impl Protocol for Cast {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        match self {
            Cast::RoundTrip => "cast.round_trip",
            Cast::SquareSmall => "cast.square_small",
        }
    }
    fn paper(&self) -> &'static str {
        "Nimbus (NeurIPS 2024): small-ring non-linear layers with fused truncation and ring conversion"
    }
    fn computes(&self) -> &'static str {
        match self {
            Cast::RoundTrip => "x down to the small ring (truncated by t) and back: x with its low t bits floored",
            Cast::SquareSmall => "x² computed in the small ring, up-cast with the truncation fused",
        }
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        small(fx)?;
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-4.0, 4.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name(), 0)?;
        let fx = inputs.fixed;
        let (ring, t) = small(fx)?;
        let down = truncate_downcast(x, t, ring)?;
        match self {
            Cast::RoundTrip => upcast(p, &down, 0, t, fx.ring()),
            Cast::SquareSmall => {
                let squared = square_ring(p, &down)?;
                upcast(p, &squared, fx.frac() - 2 * t, 0, fx.ring())
            }
        }
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        let (ring, t) = small(fx).ok()?;
        match self {
            Cast::RoundTrip => upcast_cost(f, ring, fx.ring(), 0, t, n),
            Cast::SquareSmall => {
                square_ring_cost(f, ring, n);
                upcast_cost(f, ring, fx.ring(), fx.frac().checked_sub(2 * t)?, 0, n)
            }
        }
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        let (ring, t) = small(fx)?;
        let down = reference::truncate_into(x, t, ring);
        Ok(match self {
            Cast::RoundTrip => reference::scale_into(&down, t, fx.ring()),
            Cast::SquareSmall => reference::truncate_into(&down.mul(&down)?, fx.frac() - 2 * t, fx.ring()),
        })
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(match self {
            Cast::RoundTrip => x.clone(),
            Cast::SquareSmall => x.mapv(|v| v * v),
        })
    }
    fn tolerance_ulp(&self, fx: FixedPoint, _: TruncMode) -> u64 {
        let Ok((_, t)) = small(fx) else { return 0 };
        match self {
            // The down-cast's carry: one unit at f − t fraction bits.
            Cast::RoundTrip => 1 << t,
            // That unit changes v² (v < 4·2^(f−t) units) by at most 2|v| + 1 units at 2(f − t),
            // which the up-cast's truncation by f − 2t divides down; plus its own carry.
            Cast::SquareSmall => (2 * (4u64 << (fx.frac() - t)) + 1).div_ceil(1 << (fx.frac() - 2 * t)) + 1,
        }
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        let Ok((_, t)) = small(fx) else { return 0.0 };
        // The floor to f − t fraction bits: below one unit there (2^−(f−t)); the square of
        // x ± that unit moves by under 2·4·2^−(f−t) + 2^−2(f−t), and the final floor one ULP.
        let unit = f64::from(fx.frac() - t).exp2().recip();
        match self {
            Cast::RoundTrip => unit,
            Cast::SquareSmall => 8.0 * unit + unit * unit + fx.ulp(),
        }
    }
}
