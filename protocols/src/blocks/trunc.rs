//! Truncation: dividing a shared fixed-point value by 2^k after a product. Three kinds.
//!
//! **Probabilistic** (SecureML, Mohassel & Zhang, S&P 2017, "Arithmetic Operations on Shared
//! Decimal Numbers"): purely local. The server
//! shifts its share right, the client shifts the negation of its share and negates back. The
//! result is ⌊x/2^k⌋ or ⌊x/2^k⌋ + 1, except when the two shares wrap around 2^ℓ differently,
//! which happens with probability exactly |x|/2^ℓ (x read in ULPs of the 2^(2f) scale) for
//! uniformly random shares; the result is then off by about 2^(ℓ−k): garbage. At ℓ = 64, f = 18,
//! a product of two values near 16 (|x| ≈ 2^44) fails with probability 2^−20 per element; a
//! LayerNorm variance near 2^10 with 2^(2f) scaling, 2^−10. At ℓ = 32, f = 13 a product of two
//! values near 1 (|x| ≈ 2^26) already fails with probability 2^−6. Never the default.
//!
//! **One-bit error** (Cheetah, Huang et al., USENIX Security 2022, eprint 2022/207; what SPU's
//! cheetah backend and BumbleBee use): for |x| < 2^(ℓ−2), the biased x' = x + 2^(ℓ−2) is
//! non-negative (the large positive bias that makes the MSB known is SecureQ8's, Dalskov,
//! Escudero and Keller, PETS 2020, as SPU and OpenCheetah credit it), so its wrap across 2^ℓ is w = msb(x0') ∨ msb(x1'), computable from the shares' top bits with
//! one correlated OT over Z_2^k ([`crate::blocks::cot`]). Then (x0' >> k) + (x1' >> k) −
//! w·2^(ℓ−k) is ⌊x'/2^k⌋ or one less (the dropped carry of the low k bits): ±1 ULP, never
//! garbage. Online per element: 1 bit client→server, k bits server→client, two rounds. The
//! default at both rings.
//!
//! **Faithful**: exactly ⌊x/2^k⌋ for |x| < 2^(ℓ−2): the one-bit-error construction plus the carry
//! c of the low k bits from a k-bit millionaires' (CrypTFlow2, CCS 2020, §3.1), converted to
//! arithmetic in the same flight of OTs as the wrap.

use dyad_reference::arith as reference;
use dyad_sim::{FixedPoint, Formula, Party, Ring, RingTensor, Role, Share};
use ndarray::ArrayD;

use crate::blocks::cmp::{DEFAULT_RADIX, millionaire, millionaire_cost};
use crate::blocks::cot::{self, CotSide};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::{InputSpec, Inputs, Protocol, TruncMode, elements, elementwise, shared, take};

/// SecureML local truncation of `x` by `k` bits. No communication.
pub fn truncate_probabilistic(role: Role, x: &Share, k: u32) -> Share {
    let r = x.ring();
    let t = x.tensor();
    Share::new(match role {
        Role::Server => t.map(|v| v >> k),
        Role::Client => t.map(|v| r.neg(r.neg(v) >> k)),
    })
}

/// Runs correlated-OT batches that all go server → client in the same flights; `batches` holds,
/// per batch, this party's operands (the server's values or the client's bits) and the width.
/// Returns per batch the shares of value·bit over Z_2^width.
fn cross_batches(p: &mut Party, batches: &[(&[u64], u32)]) -> Result<Vec<Vec<u64>>, ProtocolError> {
    let mut sides = Vec::new();
    for (mine, bits) in batches {
        let choices = (p.role() == Role::Client).then(|| mine.iter().map(|b| b & 1).collect());
        sides.push(cot::start(p, Role::Server, mine.len(), *bits, choices)?);
    }
    let mut out = Vec::new();
    for ((mine, _), side) in batches.iter().zip(sides) {
        out.push(match side {
            CotSide::Sender(s) => s.respond(p, mine)?,
            CotSide::Receiver(r) => r.finish(p)?,
        });
    }
    Ok(out)
}

/// The biased shares x + 2^(ℓ−2) and their top bits.
fn biased(p: &Party, x: &Share) -> (Vec<u64>, Vec<u64>) {
    let ring = x.ring();
    let shares = x.add_scalar(p.role(), 1u64 << (ring.bits() - 2)).into_tensor().to_vec();
    let tops = shares.iter().map(|&v| u64::from(ring.msb(v))).collect();
    (shares, tops)
}

fn check_shift(x: &Share, k: u32, protocol: &'static str) -> Result<(), ProtocolError> {
    if k == 0 || k + 2 >= x.ring().bits() {
        return Err(ProtocolError::Config { protocol, reason: format!("cannot shift by {k} bits in {}", x.ring()) });
    }
    Ok(())
}

/// Assembles (x0' >> k) + c − w·2^(ℓ−k) − 2^(ℓ−2−k) per element, from the biased shares, shares
/// of the carry c over Z_2^ℓ and shares of msb(x0')·msb(x1') over Z_2^k.
fn assemble(
    p: &Party,
    x: &Share,
    k: u32,
    shares: &[u64],
    tops: &[u64],
    carry: Option<&[u64]>,
    top_products: &[u64],
) -> Result<Share, ProtocolError> {
    let ring = x.ring();
    let ell = ring.bits();
    let scale_w = 1u64 << (ell - k);
    let out: Vec<u64> = (0..shares.len())
        .map(|i| {
            // w = a ∨ b = a + b − a·b; this party holds its own top bit and a share of a·b.
            let w = ring.sub(tops[i], top_products[i]);
            let c = carry.map_or(0, |c| c[i]);
            ring.sub(ring.add(shares[i] >> k, c), ring.mul(w, scale_w))
        })
        .collect();
    let out = Share::new(RingTensor::from_vec(ring, x.shape(), out)?);
    Ok(out.add_scalar(p.role(), ring.neg(1u64 << (ell - 2 - k))))
}

/// Cheetah's truncation: ⌊x/2^k⌋ or one less, for |x| < 2^(ℓ−2).
pub fn truncate_one_bit(p: &mut Party, x: &Share, k: u32) -> Result<Share, ProtocolError> {
    check_shift(x, k, "trunc.one_bit")?;
    let (shares, tops) = biased(p, x);
    let batches = cross_batches(p, &[(&tops, k)])?;
    let [products] = take("trunc.one_bit", &batches)?;
    assemble(p, x, k, &shares, &tops, None, products)
}

/// Exact ⌊x/2^k⌋ for |x| < 2^(ℓ−2).
pub fn truncate_faithful(p: &mut Party, x: &Share, k: u32) -> Result<Share, ProtocolError> {
    check_shift(x, k, "trunc.faithful")?;
    let ring = x.ring();
    let (shares, tops) = biased(p, x);
    let low = (1u64 << k) - 1;
    let mine: Vec<u64> = match p.role() {
        Role::Server => shares.iter().map(|v| low - (v & low)).collect(),
        Role::Client => shares.iter().map(|v| v & low).collect(),
    };
    let carry_bits = millionaire(p, &mine, k, DEFAULT_RADIX)?.into_tensor().to_vec();
    let batches = cross_batches(p, &[(&carry_bits, ring.bits()), (&tops, k)])?;
    let [cc, tt] = take("trunc.faithful", &batches)?;
    // B2A of the carry: c = c0 + c1 − 2·c0·c1.
    let carry: Vec<u64> = carry_bits.iter().zip(cc).map(|(&c, &m)| ring.sub(c, ring.mul(2, m))).collect();
    assemble(p, x, k, &shares, &tops, Some(&carry), tt)
}

/// Truncates by `k` bits with `mode`, under the label `trunc`.
pub fn truncate(p: &mut Party, x: &Share, k: u32, mode: TruncMode) -> Result<Share, ProtocolError> {
    p.scope("trunc", |p| match mode {
        TruncMode::Probabilistic => Ok(truncate_probabilistic(p.role(), x, k)),
        TruncMode::OneBit => truncate_one_bit(p, x, k),
        TruncMode::Faithful => truncate_faithful(p, x, k),
    })
}

/// The formula of [`truncate`] by `k` bits for `n` elements over `ring`: nothing when
/// probabilistic; one OT batch (the wrap) when one-bit; a k-bit millionaires', then the carry's
/// B2A and the wrap in one flight of OTs when faithful.
pub fn truncate_cost(f: &mut Formula, ring: Ring, n: usize, k: u32, mode: TruncMode) {
    match mode {
        TruncMode::Probabilistic => {}
        TruncMode::OneBit => cot::batches_cost(f, &[(Role::Server, n, k)]),
        TruncMode::Faithful => {
            millionaire_cost(f, n, k, DEFAULT_RADIX);
            cot::batches_cost(f, &[(Role::Server, n, ring.bits()), (Role::Server, n, k)]);
        }
    }
}

/// `trunc.prob`, `trunc.one_bit` and `trunc.faithful`: x / 2^k, whatever the run's mode.
#[derive(Clone, Copy, Debug)]
pub struct Truncation {
    /// Which truncation.
    pub mode: TruncMode,
    /// Bits to shift (12 when registered).
    pub shift: u32,
}

impl Truncation {
    /// The registered instance for `mode`, shifting by 12 bits.
    pub fn new(mode: TruncMode) -> Self {
        Truncation { mode, shift: 12 }
    }
}

impl Protocol for Truncation {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        match self.mode {
            TruncMode::Probabilistic => "trunc.prob",
            TruncMode::OneBit => "trunc.one_bit",
            TruncMode::Faithful => "trunc.faithful",
        }
    }
    fn paper(&self) -> &'static str {
        match self.mode {
            TruncMode::Probabilistic => "SecureML (S&P 2017): local truncation",
            TruncMode::OneBit => "Cheetah (USENIX Security 2022): wrap from the top bits",
            TruncMode::Faithful => "CrypTFlow2 (CCS 2020) §3.1 carry with Cheetah's wrap",
        }
    }
    fn computes(&self) -> &'static str {
        match self.mode {
            TruncMode::Probabilistic => "x / 2^12 by local shifts (±1 ULP; garbage with probability |x|/2^ℓ)",
            TruncMode::OneBit => "x / 2^12 with one OT (±1 ULP, no large errors)",
            TruncMode::Faithful => "x / 2^12 exactly (⌊·⌋)",
        }
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        // Probabilistic: keep the failure probability |x|/2^ℓ below 2^−30.
        let bits = match self.mode {
            TruncMode::Probabilistic => fx.ring().bits() as f64 - 30.0,
            TruncMode::OneBit | TruncMode::Faithful => fx.ring().bits() as f64 - 3.0,
        };
        let bound = (bits - fx.frac() as f64).exp2();
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-bound, bound))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        truncate(p, inputs.share(self.name(), 0)?, self.shift, self.mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        truncate_cost(f, fx.ring(), n, self.shift, self.mode);
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(reference::truncate(x, self.shift))
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        let scale = f64::from(self.shift).exp2();
        Ok(x.mapv(|v| v / scale))
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        self.mode.tolerance(1)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fx.ulp()
    }
}
