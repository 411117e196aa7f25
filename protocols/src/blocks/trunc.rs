//! Truncation: dividing a shared fixed-point value by 2^k after a product.
//!
//! **Probabilistic** (SecureML, Mohassel & Zhang, S&P 2017, §4.1): purely local. The server
//! shifts its share right, the client shifts the negation of its share and negates back. The
//! result is ⌊x/2^k⌋ or ⌊x/2^k⌋ + 1 (±1 ULP), except when the two shares wrap around 2^ℓ
//! differently, which happens with probability exactly |x|/2^ℓ for uniformly random shares; then
//! the result is off by about 2^(ℓ−k), i.e. garbage. At ℓ = 64 and f = 18 a product of two values
//! below 2^8 (|x| < 2^52) fails with probability below 2^−12 per element… and values below 2^4
//! give 2^−20. At ℓ = 32 and f = 13 a product of two values near 1 (|x| ≈ 2^26) already fails
//! with probability 2^−6, which is why ℓ = 32 defaults to faithful truncation.
//!
//! **Faithful**: exactly ⌊x/2^k⌋ for |x| < 2^(ℓ−2), built on the millionaires' comparison
//! (the wrap-and-carry decomposition of CrypTFlow2 §5.2 / SIRNN, with the wrap computed from the
//! shares' top bits as in Cheetah, since a biased x' = x + 2^(ℓ−2) is known to be non-negative).
//! With x' = x0 + x1 − w·2^ℓ:
//! ⌊x'/2^k⌋ = (x0 >> k) + (x1 >> k) + c − w·2^(ℓ−k), where c is the carry out of the low k bits
//! (a k-bit millionaires') and w = msb(x0) ∨ msb(x1) (because msb(x') = 0). The two
//! cross-party products (c0·c1 for the B2A of c, and msb(x0)·msb(x1)) share one batch of OTs.
//! Online per element at ℓ = 64, k = 18: a 18-bit millionaires' plus two 1-out-of-2 OTs.

use dyad_sim::{FixedPoint, Party, Ring, RingTensor, Role, Share};
use dyad_verify::reference::arith as reference;
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

use crate::blocks::cmp::{DEFAULT_RADIX, millionaire};
use crate::blocks::convert::cross_products;
use crate::error::ProtocolError;
use crate::protocol::{InputSpec, Inputs, Protocol, elementwise, shared, take};

/// Which truncation a protocol uses after products.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TruncMode {
    /// SecureML's local truncation: free, ±1 ULP, rarely garbage (see the module docs).
    Probabilistic,
    /// Exact ⌊x/2^k⌋ by comparison, for |x| < 2^(ℓ−2).
    Faithful,
}

impl TruncMode {
    /// The default for a ring: probabilistic at ℓ = 64, faithful below.
    pub fn default_for(ring: Ring) -> Self {
        if ring.bits() >= 64 { TruncMode::Probabilistic } else { TruncMode::Faithful }
    }
}

/// SecureML local truncation of `x` by `k` bits. No communication.
pub fn truncate_probabilistic(role: Role, x: &Share, k: u32) -> Share {
    let r = x.ring();
    let t = x.tensor();
    Share::new(match role {
        Role::Server => t.map(|v| v >> k),
        Role::Client => t.map(|v| r.neg(r.neg(v) >> k)),
    })
}

/// Exact ⌊x/2^k⌋ for |x| < 2^(ℓ−2), 0 < k < ℓ − 2.
pub fn truncate_faithful(p: &mut Party, x: &Share, k: u32) -> Result<Share, ProtocolError> {
    let ring = x.ring();
    let ell = ring.bits();
    if k == 0 || k + 2 >= ell {
        return Err(ProtocolError::Config {
            protocol: "trunc.faithful",
            reason: format!("cannot shift by {k} bits in {ring}"),
        });
    }
    let bias = 1u64 << (ell - 2);
    let shape = x.shape().to_vec();
    let n = x.len();
    let shares = x.add_scalar(p.role(), bias).into_tensor().to_vec();
    let low = (1u64 << k) - 1;
    let mine: Vec<u64> = match p.role() {
        Role::Server => shares.iter().map(|v| low - (v & low)).collect(),
        Role::Client => shares.iter().map(|v| v & low).collect(),
    };
    let carry = millionaire(p, &mine, k, DEFAULT_RADIX)?.into_tensor().to_vec();
    let tops: Vec<u64> = shares.iter().map(|&v| u64::from(ring.msb(v))).collect();
    // One OT batch: c0·c1 (for B2A of the carry) and msb(x0)·msb(x1) (for the wrap).
    let operands: Vec<u64> = carry.iter().chain(&tops).copied().collect();
    let products = cross_products(p, &operands, ring)?.into_tensor().to_vec();
    let (cc, tt) = products.split_at(n);
    let scale_w = 1u64 << (ell - k);
    let out: Vec<u64> = (0..n)
        .map(|i| {
            let c = ring.sub(carry[i], ring.mul(2, cc[i]));
            let w = ring.sub(tops[i], tt[i]);
            let shifted = shares[i] >> k;
            ring.sub(ring.add(shifted, c), ring.mul(w, scale_w))
        })
        .collect();
    let out = Share::new(RingTensor::from_vec(ring, &shape, out)?);
    Ok(out.add_scalar(p.role(), ring.neg(bias >> k)))
}

/// Truncates by `k` bits with `mode`, under the label `trunc`.
pub fn truncate(p: &mut Party, x: &Share, k: u32, mode: TruncMode) -> Result<Share, ProtocolError> {
    p.scope("trunc", |p| match mode {
        TruncMode::Probabilistic => Ok(truncate_probabilistic(p.role(), x, k)),
        TruncMode::Faithful => truncate_faithful(p, x, k),
    })
}

/// `trunc.prob` and `trunc.faithful`: x / 2^k.
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
    fn name(&self) -> &'static str {
        match self.mode {
            TruncMode::Probabilistic => "trunc.prob",
            TruncMode::Faithful => "trunc.faithful",
        }
    }
    fn paper(&self) -> &'static str {
        match self.mode {
            TruncMode::Probabilistic => "SecureML (S&P 2017) §4.1",
            TruncMode::Faithful => "CrypTFlow2 (CCS 2020) §5.2 / Cheetah (USENIX Sec 2022): wrap and carry",
        }
    }
    fn computes(&self) -> &'static str {
        match self.mode {
            TruncMode::Probabilistic => "x / 2^12 by local shifts (±1 ULP; garbage with probability |x|/2^ℓ)",
            TruncMode::Faithful => "x / 2^12 exactly (⌊·⌋), for |x| < 2^(ℓ−2) ULP",
        }
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        // At ℓ = 32 keep |x| small enough that probabilistic truncation rarely fails (|x|/2^ℓ ≤ 2^−14).
        let bound = (fx.max_value() / 2.0).min(((fx.ring().bits() as f64) - 15.0 - fx.frac() as f64).exp2());
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-bound, bound))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        truncate(p, inputs.share(self.name(), 0)?, self.shift, self.mode)
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
    fn tolerance_ulp(&self, _: FixedPoint) -> u64 {
        match self.mode {
            TruncMode::Probabilistic => 1,
            TruncMode::Faithful => 0,
        }
    }
}
