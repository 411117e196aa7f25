//! What the two RLWE linear-layer protocols share: Y = X·W for X shared (k × n: tokens × inputs)
//! and W the server's weights (n × m), at scale 2^(2f), then one truncation by f. Nimbus's
//! client-side outer product ([`crate::nimbus::linear`]) and the Cheetah/BumbleBee server-side
//! inner product ([`crate::bumblebee::linear`]) differ only in how they compute the product's
//! shares ([`HeLinear::product`]); the dimensions, inputs, weight bound, reference, ideal and
//! tolerance are the same, and live here once, as [`RlweLinear`]'s [`Protocol`] implementation.

use dyad_reference::arith as reference;
use dyad_rlwe::cipher::{Ciphertext, poly_to_bytes};
use dyad_rlwe::flood::flood;
use dyad_rlwe::keys::ETA;
use dyad_rlwe::{RlweContext, RlweError, RlweParams};
use dyad_sim::{FixedPoint, Formula, Party, Ring, RingTensor, Role, Share};
use ndarray::ArrayD;
use rand::Rng;

use crate::blocks::trunc::{truncate, truncate_cost};
use crate::error::ProtocolError;
use crate::protocol::{Holder, InputSpec, Inputs, ModelShape, Protocol, TruncMode, shared, take};

/// One RLWE linear-layer protocol: how it computes the shares of X·W.
pub trait HeLinear: Send + Sync + std::fmt::Debug {
    /// The stable registry name.
    fn name(&self) -> &'static str;
    /// Where it comes from.
    fn paper(&self) -> &'static str;
    /// What it computes, in one line.
    fn computes(&self) -> &'static str;
    /// What it does to its responses' noise.
    fn noise(&self) -> Noise;
    /// How many response ciphertexts `observer` receives and decrypts at dims (k, n, m) under
    /// `ctx`, if it is the decrypting party.
    fn responses(&self, ctx: &RlweContext, dims: (usize, usize, usize), observer: Role) -> Option<usize>;
    /// Shares of X·W at scale 2^(2f), ±1 in the last place, setup included, under `ctx`: `w` is
    /// the server's weights (`None` on the client), `x` this party's share of X (`[k, n]`; an
    /// error naming the protocol otherwise), `m` the outputs.
    fn product(
        &self,
        p: &mut Party,
        ctx: &RlweContext,
        w: Option<&RingTensor>,
        x: &Share,
        m: usize,
    ) -> Result<Share, ProtocolError>;
    /// The formula of [`HeLinear::product`] for `k` tokens, `n` inputs and `m` outputs, setup
    /// included.
    fn product_cost(&self, f: &mut Formula, ctx: &RlweContext, k: usize, n: usize, m: usize);
}

/// What a layer does to its responses' noise before the decryptor sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Noise {
    /// Re-randomised with a fresh public-key encryption of zero, as in the papers: the noise
    /// that remains depends on the computing party's inputs.
    #[default]
    AsIs,
    /// Also flooded with [`dyad_rlwe::flood::STATISTICAL_BITS`] statistical bits per ciphertext,
    /// under the wider [`RlweParams::flooding`] set.
    Flooded,
}

/// The RLWE context for a ring and a noise treatment.
pub fn context(ring: Ring, noise: Noise) -> Result<RlweContext, ProtocolError> {
    let params = match noise {
        Noise::AsIs => RlweParams::for_ring(ring),
        Noise::Flooded => RlweParams::flooding(ring),
    };
    RlweContext::new(params).map_err(|e| RlweError::from(e).into())
}

/// A bound on |x·(e + ε)| for a plaintext scalar |x| ≤ 2^(ℓ−1) and a fresh encryption's noise
/// e (|e| ≤ η) and encoding rounding ε (|ε| ≤ 1/2): 2^(ℓ−2)·(2η + 1).
pub fn fresh_term(ctx: &RlweContext) -> u128 {
    (1u128 << (ctx.params().plain_bits - 2)) * u128::from(2 * ETA + 1)
}

/// A bound on the noise after the modulus switch of noise at most `top`: ⌈top/P⌉ for the
/// dropped prime P, plus the rounding's (1 + ‖s‖₁)/2 ≤ (N + 1)/2 for a ternary s. The bounds
/// saturate rather than wrap, so that an impossible one makes flooding refuse.
pub fn switched_noise(ctx: &RlweContext, top: u128) -> u128 {
    let p = ctx.moduli()[ctx.top_level() - 1].value();
    top.div_ceil(u128::from(p)).saturating_add((ctx.n() as u128 + 1).div_ceil(2))
}

/// How many responses share one re-randomising encryption of zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Zeros {
    /// Each response its own, as the Nimbus paper describes; what every registered protocol does.
    #[default]
    Fresh,
    /// One for every `n` consecutive responses, as the public Nimbus code does. The differences
    /// of those responses' `a` halves then cancel it and leave Σ_j (x_j − x′_j)·a_j, a linear
    /// function of the client's share whose coefficients a_j (its own weight ciphertexts) the
    /// server knows. Insecure; kept so that the leakage audit shows it catches it.
    PerChunk(usize),
}

impl Zeros {
    /// How many consecutive responses share one encryption of zero (at least one).
    pub fn chunk(self) -> usize {
        match self {
            Zeros::Fresh => 1,
            Zeros::PerChunk(n) => n.max(1),
        }
    }
}

/// Re-randomises a response with an encryption of zero and, when the context floods, floods it
/// for noise of magnitude at most `noise`.
pub fn rerandomise<R: Rng + ?Sized>(
    ctx: &RlweContext,
    ct: &mut Ciphertext,
    zero: &Ciphertext,
    noise: u128,
    rng: &mut R,
) -> Result<(), ProtocolError> {
    ct.add_assign(ctx, zero);
    if ctx.params().flooding {
        flood(ctx, ct, noise, rng)?;
    }
    Ok(())
}

/// The fixed-point layer with `l`: the product's shares, then truncation by f.
pub fn linear(
    l: &dyn HeLinear,
    p: &mut Party,
    fx: FixedPoint,
    trunc: TruncMode,
    w: Option<&RingTensor>,
    x: &Share,
    m: usize,
) -> Result<Share, ProtocolError> {
    let y = l.product(p, &context(x.ring(), l.noise())?, w, x, m)?;
    truncate(p, &y, fx.frac(), trunc)
}

/// The formula of [`linear`] for dims (k, n, m): the product's, then the truncation of k·m outputs.
pub fn linear_cost(
    l: &dyn HeLinear,
    f: &mut Formula,
    fx: FixedPoint,
    trunc: TruncMode,
    (k, n, m): (usize, usize, usize),
) -> Result<(), ProtocolError> {
    l.product_cost(f, &context(fx.ring(), l.noise())?, k, n, m);
    truncate_cost(f, fx.ring(), k * m, fx.frac(), trunc);
    Ok(())
}

/// The bound on |X| and |W| entries the tests draw from: X in [−1, 1] and W small enough that
/// every inner product stays below 2^(ℓ−3) at scale 2^(2f).
pub fn weight_bound(fx: FixedPoint, n: usize) -> f64 {
    let bits = fx.ring().bits() as f64 - 3.0 - 2.0 * fx.frac() as f64;
    (bits.exp2() / n as f64).min(1.0)
}

/// The tolerance of the RLWE linear layers: ±1 from the rounding of the two decrypted halves at
/// scale 2^(2f) moves the truncated result by at most one, on top of the truncation's own error.
pub fn tolerance(trunc: TruncMode) -> u64 {
    match trunc {
        TruncMode::Faithful => 1,
        TruncMode::OneBit | TruncMode::Probabilistic => 2,
    }
}

fn dims(protocol: &'static str, dims: &[usize]) -> Result<(usize, usize, usize), ProtocolError> {
    match dims {
        [k, n, m] if *k > 0 && *n > 0 && *m > 0 => Ok((*k, *n, *m)),
        _ => Err(ProtocolError::Dims {
            protocol,
            dims: dims.to_vec(),
            expected: "k,n,m (tokens, inputs, outputs), all positive".into(),
        }),
    }
}

/// An RLWE linear layer as a registered protocol (dims k,n,m).
#[derive(Clone, Copy, Debug, Default)]
pub struct RlweLinear<L>(pub L);

impl<L: HeLinear> Protocol for RlweLinear<L> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn paper(&self) -> &'static str {
        self.0.paper()
    }
    fn computes(&self) -> &'static str {
        self.0.computes()
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.seq, m.hidden, m.hidden]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![8, 32, 24]
    }
    fn inputs(&self, d: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let (k, n, m) = dims(self.name(), d)?;
        let b = weight_bound(fx, n);
        Ok(vec![
            shared("x", &[k, n], (-1.0, 1.0)),
            InputSpec { name: "w".into(), shape: vec![n, m], holder: Holder::Server, range: (-b, b) },
        ])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name(), 0)?;
        let &[_, m] = inputs.shape(self.name(), 1)? else {
            return Err(ProtocolError::Input { protocol: self.name(), index: 1, expected: "W as n,m".into() });
        };
        linear(&self.0, p, inputs.fixed, inputs.trunc, inputs.plain(self.name(), 1)?, x, m)
    }
    fn cost(&self, f: &mut Formula, d: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let dims = dims(self.name(), d).ok()?;
        linear_cost(&self.0, f, fx, trunc, dims).ok()?;
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, w] = take(self.name(), inputs)?;
        Ok(reference::matmul(fx, x, w)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, w] = take(self.name(), inputs)?;
        let bad =
            || ProtocolError::Dims { protocol: self.name(), dims: x.shape().to_vec(), expected: "2-D operands".into() };
        let x2 = x.view().into_dimensionality::<ndarray::Ix2>().map_err(|_| bad())?;
        let w2 = w.view().into_dimensionality::<ndarray::Ix2>().map_err(|_| bad())?;
        Ok(x2.dot(&w2).into_dyn())
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        tolerance(trunc)
    }
    fn view_features(&self, d: &[usize], fixed: FixedPoint, observer: Role, view: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let (Ok(dims), Ok(ctx)) = (dims(self.name(), d), context(fixed.ring(), self.0.noise())) else {
            return Vec::new();
        };
        let Some(count) = self.0.responses(&ctx, dims, observer) else { return Vec::new() };
        let low = ctx.top_level() - 1;
        let len = Ciphertext::wire_bytes(&ctx, low, false);
        let mut sized = view.iter().filter(|m| m.len() == count * len);
        let (Some(message), None) = (sized.next(), sized.next()) else { return Vec::new() };
        let Ok(halves) = message
            .chunks_exact(len)
            .map(|c| Ciphertext::from_bytes(&ctx, low, false, c).map(|ct| ct.c1_poly(&ctx)))
            .collect::<Result<Vec<_>, _>>()
        else {
            return Vec::new();
        };
        halves
            .windows(2)
            .map(|pair| {
                let mut d = pair[1].clone();
                d.sub_assign(&ctx, &pair[0]);
                poly_to_bytes(&ctx, &d)
            })
            .collect()
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fx.ulp()
    }
}
