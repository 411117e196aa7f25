//! Comparison by the OT-based millionaires' protocol (CrypTFlow2, Rathee et al., CCS 2020, §3.1;
//! as used by Cheetah and BumbleBee).
//!
//! **Millionaires.** The server holds a, the client b, both `bits`-bit. Both split their value into
//! q = ⌈bits/m⌉ chunks of m bits (the most significant chunk may be narrower). For each chunk
//! the server samples random bits and offers, in a 1-out-of-2^m OT with 2-bit messages, the
//! pair (1{a_j < k}, 1{a_j = k}) masked by them, for every possible value k of the client's chunk;
//! the client chooses k = b_j. That gives XOR shares of lt_j = 1{a_j < b_j} and eq_j = 1{a_j = b_j}.
//! An AND tree combines adjacent chunks, high over low: lt = lt_hi ⊕ (eq_hi ∧ lt_lo) and
//! eq = eq_hi ∧ eq_lo (the final level needs no eq). ANDs use Boolean Beaver triples, one round per
//! level, all ANDs of a level batched.
//!
//! **Cost** per comparison, online, with m = 4 and the OTs derandomised from random OTs
//! ([`crate::blocks::ot`]): the client sends m bits per chunk; the server sends 2·2^m bits per
//! chunk; each AND costs 2 bits each way. Rounds: 2 for the OTs plus ⌈log2 q⌉ for the tree.
//! The random OTs and AND triples come from the correlation provider (offline).
//!
//! **MSB and comparisons.** For x = x0 + x1 over Z_2^ℓ, MSB(x) = msb(x0) ⊕ msb(x1) ⊕ carry, where
//! carry = 1{2^(ℓ−1) − 1 − x0' < x1'} on the low ℓ − 1 bits: one (ℓ−1)-bit millionaires'.
//! DReLU(x) = 1 ⊕ MSB(x); x < c is MSB(x − c) and x < y is MSB(x − y), exact while the difference
//! does not wrap, i.e. |x − c| < 2^(ℓ−1).

use dyad_sim::correlation::OtSpec;
use dyad_sim::{Bits, FixedPoint, Formula, Packed, Party, Ring, RingTensor, Role, Share};
use ndarray::ArrayD;

use crate::blocks::beaver::{and_bits, mul_ring_cost};
use crate::blocks::convert::{b2a, b2a_cost};
use crate::blocks::ot::{self, Side, batches_cost};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, OutputEncoding, Protocol, elements, elementwise, shared, take};

/// The chunk width m: SPU's and CrypTFlow2's radix-4 default.
pub const DEFAULT_RADIX: u32 = 4;

/// The widest chunk: its 2^m two-bit leaf messages fill one word.
pub const MAX_RADIX: u32 = 5;

/// The 2^w leaf messages (1{a < k}, 1{a = k}) for k = 0..2^w, two bits each, message k in bits
/// 2k (lt) and 2k + 1 (eq): lt is set above field a, eq at field a.
fn leaf_messages(a: u64, w: u32) -> u64 {
    let above = lt_fields(w) & u64::MAX.checked_shl(2 * (a as u32 + 1)).unwrap_or(0);
    above | 1 << (2 * a + 1)
}

/// The lt bits of the 2^w leaf messages (bit 2k for every k); shifted left by one, the eq bits.
fn lt_fields(w: u32) -> u64 {
    0x5555_5555_5555_5555u64 >> (64 - (2u32 << w))
}

/// A Boolean share of `n` bits.
pub(crate) fn bits_share(values: Vec<u64>) -> Result<Share, ProtocolError> {
    let n = values.len();
    Ok(Share::new(RingTensor::from_vec(Ring::Z2, &[n], values)?))
}

fn chunk_widths(bits: u32, radix: u32) -> Vec<u32> {
    let q = bits.div_ceil(radix);
    (0..q).map(|j| radix.min(bits - j * radix)).collect()
}

/// Chunk widths grouped by width, in order of first appearance: one OT batch per group.
fn chunk_groups(widths: &[u32]) -> Vec<(u32, Vec<usize>)> {
    let mut groups: Vec<(u32, Vec<usize>)> = Vec::new();
    for (j, &w) in widths.iter().enumerate() {
        match groups.iter_mut().find(|(gw, _)| *gw == w) {
            Some((_, js)) => js.push(j),
            None => groups.push((w, vec![j])),
        }
    }
    groups
}

/// XOR shares of 1{a < b} for `bits`-bit values, the server holding `a` and the client `b`
/// (`mine` is this party's value per element). Returns a Boolean share of shape `[n]`.
pub fn millionaire(p: &mut Party, mine: &[u64], bits: u32, radix: u32) -> Result<Share, ProtocolError> {
    if bits == 0 || radix == 0 || radix > MAX_RADIX || bits > 64 {
        return Err(ProtocolError::Config {
            protocol: "millionaire",
            reason: format!("need 1 ≤ bits ≤ 64 and 1 ≤ radix ≤ {MAX_RADIX}, got {bits} and {radix}"),
        });
    }
    p.scope("millionaire", |p| {
        let n = mine.len();
        let widths = chunk_widths(bits, radix);
        let q = widths.len();
        let chunk = |v: u64, j: usize| (v >> (j as u32 * radix)) & ((1u64 << widths[j]) - 1);
        // Chunks of equal width share one batch of OTs: at most two batches (full and narrower).
        // Instance k·n + i of a batch is element i's chunk js[k].
        let groups = chunk_groups(&widths);
        let mut lt = vec![Bits::zeros(n); q];
        let mut eq = vec![Bits::zeros(n); q];
        let mut sides = Vec::new();
        p.scope("leaf_ot", |p| -> Result<(), ProtocolError> {
            for (w, js) in &groups {
                let spec = OtSpec { sender: Role::Server, count: n * js.len(), choice_bits: *w, msg_bits: 2 };
                let ring = Ring::new(*w)?;
                let choices = (p.role() == Role::Client).then(|| {
                    Packed::from_values(ring, js.iter().flat_map(|&j| mine.iter().map(move |&v| chunk(v, j))))
                });
                sides.push(ot::start(p, spec, choices)?);
            }
            for ((w, js), side) in groups.iter().zip(sides) {
                match side {
                    Side::Sender(s) => {
                        for &j in js {
                            lt[j] = Bits::random(n, p.rng());
                            eq[j] = Bits::random(n, p.rng());
                        }
                        let lt_all = lt_fields(*w);
                        let (lt, eq) = (&lt, &eq);
                        // Instances come in order: element i of chunk js[k], i fastest.
                        let (mut k, mut i) = (0, 0);
                        s.respond_words(p, |_| {
                            let j = js.get(k).copied().unwrap_or(0);
                            let a = mine.get(i).map_or(0, |&v| chunk(v, j));
                            let (l0, e0) = (u64::from(lt[j].get(i)), u64::from(eq[j].get(i)));
                            i += 1;
                            if i == n {
                                (k, i) = (k + 1, 0);
                            }
                            leaf_messages(a, *w) ^ (lt_all * l0) ^ ((lt_all << 1) * e0)
                        })?;
                    }
                    Side::Receiver(r) => {
                        let got = r.finish(p)?;
                        if got.len() != n * js.len() {
                            return Err(inconsistent(format!("{} leaf messages for {n}×{}", got.len(), js.len())));
                        }
                        for (k, &j) in js.iter().enumerate() {
                            lt[j] = Bits::from_fn(n, |i| got.get(k * n + i) & 1 == 1);
                            eq[j] = Bits::from_fn(n, |i| got.get(k * n + i) >> 1 == 1);
                        }
                    }
                }
            }
            Ok(())
        })?;
        and_tree(p, n, lt, eq)
    })
}

/// The formula of [`millionaire`] for `n` comparisons: the leaf OTs (one batch per chunk
/// width, two flights), then one AND round per tree level.
pub fn millionaire_cost(f: &mut Formula, n: usize, bits: u32, radix: u32) {
    let widths = chunk_widths(bits, radix);
    let specs: Vec<OtSpec> = chunk_groups(&widths)
        .iter()
        .map(|(w, js)| OtSpec { sender: Role::Server, count: n * js.len(), choice_bits: *w, msg_bits: 2 })
        .collect();
    batches_cost(f, &specs);
    let mut q = widths.len();
    while q > 1 {
        let per = if q.div_ceil(2) == 1 { 1 } else { 2 };
        mul_ring_cost(f, Ring::Z2, n * (q / 2) * per);
        q = q.div_ceil(2);
    }
}

/// The formula of [`msb`], [`drelu`], [`lt_public`] and [`lt`] for `n` values over `ring`.
pub fn msb_cost(f: &mut Formula, ring: Ring, n: usize) {
    millionaire_cost(f, n, ring.bits() - 1, DEFAULT_RADIX);
}

/// A count that does not add up inside the millionaires' protocol: a bug, never bad input.
fn inconsistent(reason: String) -> ProtocolError {
    ProtocolError::Config { protocol: "millionaire", reason }
}

/// Combines per-chunk (lt, eq) shares, chunk 0 least significant, each a packed vector over the
/// `n` comparisons, into the share of lt. A level's ANDs go in one batch, pair by pair: n ANDs
/// eq_hi ∧ lt_lo, then (below the last level) n ANDs eq_hi ∧ eq_lo.
fn and_tree(p: &mut Party, n: usize, mut lt: Vec<Bits>, mut eq: Vec<Bits>) -> Result<Share, ProtocolError> {
    p.scope("and_tree", |p| {
        while lt.len() > 1 {
            let q = lt.len();
            let pairs = q / 2;
            let last = q.div_ceil(2) == 1;
            let (mut left, mut right) = (Bits::default(), Bits::default());
            for t in 0..pairs {
                left.extend(&eq[2 * t + 1]);
                right.extend(&lt[2 * t]);
                if !last {
                    left.extend(&eq[2 * t + 1]);
                    right.extend(&eq[2 * t]);
                }
            }
            let ands = and_bits(p, &left, &right)?;
            let per = if last { 1 } else { 2 };
            if ands.len() != n * pairs * per {
                return Err(inconsistent(format!("{} AND outputs for {n}×{pairs}×{per}", ands.len())));
            }
            let (mut lt_next, mut eq_next) = (Vec::with_capacity(q.div_ceil(2)), Vec::with_capacity(q.div_ceil(2)));
            for t in 0..pairs {
                let mut l = ands.slice(t * per * n, n)?;
                l.xor_assign(&lt[2 * t + 1])?;
                lt_next.push(l);
                if !last {
                    eq_next.push(ands.slice((t * per + 1) * n, n)?);
                }
            }
            if q % 2 == 1 {
                lt_next.push(lt[q - 1].clone());
                eq_next.push(eq[q - 1].clone());
            }
            lt = lt_next;
            eq = eq_next;
        }
        lt.pop().map(|b| b.to_share()).ok_or_else(|| inconsistent("no chunks".into()))
    })
}

/// Boolean share of the most significant bit of a shared value (its sign), shape `[n]`.
pub fn msb(p: &mut Party, x: &Share) -> Result<Share, ProtocolError> {
    let ring = x.ring();
    let low = ring.bits() - 1;
    let low_mask = (1u64 << low) - 1;
    let values = x.tensor().to_vec();
    let mine: Vec<u64> = match p.role() {
        Role::Server => values.iter().map(|v| low_mask - (v & low_mask)).collect(),
        Role::Client => values.iter().map(|v| v & low_mask).collect(),
    };
    let carry = millionaire(p, &mine, low, DEFAULT_RADIX)?;
    let top: Vec<u64> = values.iter().map(|&v| u64::from(ring.msb(v))).collect();
    Ok(carry.add(&bits_share(top)?)?)
}

/// Boolean share of DReLU(x) = 1{x ≥ 0}.
pub fn drelu(p: &mut Party, x: &Share) -> Result<Share, ProtocolError> {
    p.scope("drelu", |p| Ok(msb(p, x)?.add_scalar(p.role(), 1)))
}

/// Boolean share of 1{x < c} for a public ring element c.
pub fn lt_public(p: &mut Party, x: &Share, c: u64) -> Result<Share, ProtocolError> {
    p.scope("lt", |p| msb(p, &x.add_scalar(p.role(), x.ring().neg(c))))
}

/// Boolean share of 1{x < y}.
pub fn lt(p: &mut Party, x: &Share, y: &Share) -> Result<Share, ProtocolError> {
    p.scope("lt", |p| msb(p, &x.sub(y)?))
}

fn flat(x: &Share) -> Result<Share, ProtocolError> {
    Ok(x.reshape(&[x.len()])?)
}

fn bit_output(p: &mut Party, b: &Share, ring: Ring, shape: &[usize]) -> Result<Share, ProtocolError> {
    Ok(b2a(p, b, ring)?.reshape(shape)?)
}

fn indicator(x: &RingTensor, f: impl Fn(i64) -> bool) -> RingTensor {
    let r = x.ring();
    x.map(|v| u64::from(f(r.signed(v))))
}

/// `drelu`: 1{x ≥ 0}, output as an arithmetic 0/1 (millionaires' then B2A).
#[derive(Clone, Copy, Debug, Default)]
pub struct Drelu;

impl Protocol for Drelu {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "drelu"
    }
    fn paper(&self) -> &'static str {
        "CrypTFlow2 (CCS 2020) §3.1: millionaires' with 1-out-of-2^m OT"
    }
    fn computes(&self) -> &'static str {
        "1{x ≥ 0} as an arithmetic 0/1"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-64.0, 64.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name(), 0)?;
        let b = drelu(p, &flat(x)?)?;
        bit_output(p, &b, x.ring(), x.shape())
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        msb_cost(f, fx.ring(), n);
        b2a_cost(f, fx.ring(), n);
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(indicator(x, |v| v >= 0))
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(x.mapv(|v| f64::from(u8::from(v >= 0.0))))
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
    fn output(&self) -> OutputEncoding {
        OutputEncoding::Integer
    }
}

/// `lt.public`: 1{x < c} for a public constant c.
#[derive(Clone, Copy, Debug)]
pub struct LtPublic {
    /// The constant.
    pub c: f64,
}

impl Default for LtPublic {
    fn default() -> Self {
        LtPublic { c: 0.5 }
    }
}

impl Protocol for LtPublic {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "lt.public"
    }
    fn paper(&self) -> &'static str {
        "CrypTFlow2 (CCS 2020) §3: MSB(x − c) by millionaires'"
    }
    fn computes(&self) -> &'static str {
        "1{x < c} for a public c (default 0.5), as an arithmetic 0/1"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-4.0, 4.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name(), 0)?;
        let b = lt_public(p, &flat(x)?, inputs.fixed.encode(self.c)?)?;
        bit_output(p, &b, x.ring(), x.shape())
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        msb_cost(f, fx.ring(), n);
        b2a_cost(f, fx.ring(), n);
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        let c = fx.ring().signed(fx.encode(self.c)?);
        Ok(indicator(x, |v| v < c))
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(x.mapv(|v| f64::from(u8::from(v < self.c))))
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
    fn output(&self) -> OutputEncoding {
        OutputEncoding::Integer
    }
}

/// `lt`: 1{x < y} for two shared values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lt;

impl Protocol for Lt {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "lt"
    }
    fn paper(&self) -> &'static str {
        "CrypTFlow2 (CCS 2020) §3: MSB(x − y) by millionaires'"
    }
    fn computes(&self) -> &'static str {
        "1{x < y} as an arithmetic 0/1"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let shape = elementwise(self.name(), dims)?;
        Ok(vec![shared("x", &shape, (-8.0, 8.0)), shared("y", &shape, (-8.0, 8.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name(), 0)?;
        let y = inputs.share(self.name(), 1)?;
        let b = lt(p, &flat(x)?, &flat(y)?)?;
        bit_output(p, &b, x.ring(), x.shape())
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        msb_cost(f, fx.ring(), n);
        b2a_cost(f, fx.ring(), n);
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        let r = x.ring();
        Ok(x.zip_map(y, "lt", |a, b| u64::from(r.signed(a) < r.signed(b)))?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(ndarray::Zip::from(x).and(y).map_collect(|a, b| f64::from(u8::from(a < b))))
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
    fn output(&self) -> OutputEncoding {
        OutputEncoding::Integer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_messages_are_lt_and_eq_for_every_k() {
        for w in 1..=MAX_RADIX {
            for a in 0..1u64 << w {
                let m = leaf_messages(a, w);
                for k in 0..1u64 << w {
                    let field = (m >> (2 * k)) & 3;
                    assert_eq!(field, u64::from(a < k) | u64::from(a == k) << 1, "w = {w}, a = {a}, k = {k}");
                }
                assert_eq!(m.checked_shr(2 << w).unwrap_or(0), 0, "nothing past the 2^{w} messages");
            }
            assert_eq!(lt_fields(w).count_ones(), 1 << w);
        }
    }
}
