//! Correlated randomness: what protocols consume and who provides it.
//!
//! As in mpz's ideal functionalities, a [`CorrelationProvider`] is the one interface through
//! which a party obtains its half of a correlation; protocol code never generates the other
//! party's half. Two providers: the seeded [`dealer::Dealer`], the ideal functionality, and
//! [`ot::OtProvider`], which generates the same correlations with real OT over the [`Link`] it
//! is handed; tests check the second against the first.

pub mod dealer;
pub mod ot;

use crate::bits::Bits;
use crate::error::{CorrelationError, SimError};
use crate::meter::Link;
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Share;
/// Element-wise Beaver triples: shares of a, b and c = a·b, each of shape `[n]`. Over
/// [`Ring::Z2`] these are AND triples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triples {
    /// Share of a.
    pub a: Share,
    /// Share of b.
    pub b: Share,
    /// Share of c = a·b.
    pub c: Share,
}

/// AND triples with their bits packed ([`Bits`]): XOR shares of a, b and c = a ∧ b. The same
/// correlation as [`Triples`] over [`Ring::Z2`], at one bit per element in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitTriples {
    /// Share of a.
    pub a: Bits,
    /// Share of b.
    pub b: Bits,
    /// Share of c = a ∧ b.
    pub c: Bits,
}

/// Square pairs: shares of a and a², each of shape `[n]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SquarePairs {
    /// Share of a.
    pub a: Share,
    /// Share of a².
    pub aa: Share,
}

/// The shape of a (possibly batched) matrix product `[b?, m, k] · [b?, k, n]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatDims {
    /// Number of independent products, or `None` for one unbatched product.
    pub batch: Option<usize>,
    /// Rows of the left factor.
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Columns of the right factor.
    pub n: usize,
}

impl MatDims {
    fn shape(&self, rows: usize, cols: usize) -> Vec<usize> {
        match self.batch {
            Some(b) => vec![b, rows, cols],
            None => vec![rows, cols],
        }
    }

    /// Shape of the left factor.
    pub fn a_shape(&self) -> Vec<usize> {
        self.shape(self.m, self.k)
    }

    /// Shape of the right factor.
    pub fn b_shape(&self) -> Vec<usize> {
        self.shape(self.k, self.n)
    }

    /// Shape of the product.
    pub fn c_shape(&self) -> Vec<usize> {
        self.shape(self.m, self.n)
    }
}

/// A matrix Beaver triple: shares of A, B and C = A·B.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixTriple {
    /// Share of A.
    pub a: Share,
    /// Share of B.
    pub b: Share,
    /// Share of C = A·B.
    pub c: Share,
}

/// A batch of random 1-out-of-N OTs, N = 2^`choice_bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtSpec {
    /// Who plays the OT sender.
    pub sender: Role,
    /// Number of OT instances.
    pub count: usize,
    /// log2 of the number of messages per instance.
    pub choice_bits: u32,
    /// Bits per message (1..=64).
    pub msg_bits: u32,
}

/// Largest OT arity a provider serves: 1-out-of-2^16.
pub const MAX_CHOICE_BITS: u32 = 16;

impl OtSpec {
    /// N, the number of messages per instance.
    pub fn arity(&self) -> usize {
        1 << self.choice_bits
    }

    /// The request refused when it asks for more than a provider serves: 1 ≤ choice bits ≤
    /// [`MAX_CHOICE_BITS`] and 1 ≤ message bits ≤ 64.
    pub fn check(&self) -> Result<(), CorrelationError> {
        if self.choice_bits == 0 || self.choice_bits > MAX_CHOICE_BITS || !(1..=64).contains(&self.msg_bits) {
            return Err(CorrelationError::Unsupported {
                request: format!("random OT {self:?}"),
                reason: format!("need 1 ≤ choice bits ≤ {MAX_CHOICE_BITS} and 1 ≤ message bits ≤ 64"),
            });
        }
        Ok(())
    }
}

/// The sender's random OT messages at their bit width: ⌊64/ℓ⌋ to a word, as
/// [`Ring::random_vec`] draws them (#15: 2-bit messages take 2 bits,
/// not a u64 each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtMessages {
    ring: Ring,
    len: usize,
    words: Vec<u64>,
}

impl OtMessages {
    /// `len` messages over `ring` as the words [`Ring::random_draws`]
    /// gives.
    pub fn from_draws(ring: Ring, len: usize, words: Vec<u64>) -> Self {
        OtMessages { ring, len, words }
    }

    /// The messages `values` (each below 2^ℓ), packed.
    pub fn from_values(ring: Ring, values: &[u64]) -> Self {
        let per = (64 / ring.bits()).max(1) as usize;
        let words = values
            .chunks(per)
            .map(|chunk| {
                chunk.iter().enumerate().fold(0u64, |w, (k, &v)| w | (v & ring.mask()) << (k as u32 * ring.bits()))
            })
            .collect();
        OtMessages { ring, len: values.len(), words }
    }

    /// Message `i` (zero past the end).
    pub fn get(&self, i: usize) -> u64 {
        if i < self.len { self.ring.element_of_draws(&self.words, i) } else { 0 }
    }

    /// Messages `start..start + count` as one value, message `start` in the low bits, when they
    /// lie in one word with no gap (ℓ divides 64); `None` otherwise.
    pub fn run(&self, start: usize, count: usize) -> Option<u64> {
        let bits = self.ring.bits() as usize;
        let (first, width) = (start * bits, count * bits);
        let fits = 64 % bits == 0 && (1..=64).contains(&width) && first / 64 == (first + width - 1) / 64;
        if !fits || start + count > self.len {
            return None;
        }
        let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
        Some((self.words[first / 64] >> (first % 64)) & mask)
    }

    /// How many messages.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// All messages, one per u64.
    pub fn to_vec(&self) -> Vec<u64> {
        (0..self.len).map(|i| self.get(i)).collect()
    }
}

/// One party's half of a batch of random OTs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RandomOts {
    /// The sender's half: N random messages per instance.
    Sender {
        /// `count × N` messages, instance-major.
        messages: OtMessages,
    },
    /// The receiver's half: a random choice per instance and the chosen message.
    Receiver {
        /// One choice in [0, N) per instance.
        choices: Vec<u64>,
        /// The message at the choice, per instance.
        messages: Vec<u64>,
    },
}

impl RandomOts {
    /// The sender's messages; an error when this is the receiver's half.
    pub fn into_sender(self) -> Result<OtMessages, SimError> {
        match self {
            RandomOts::Sender { messages } => Ok(messages),
            RandomOts::Receiver { .. } => Err(wrong_half("sender")),
        }
    }

    /// The receiver's choices and messages; an error when this is the sender's half.
    pub fn into_receiver(self) -> Result<(Vec<u64>, Vec<u64>), SimError> {
        match self {
            RandomOts::Receiver { choices, messages } => Ok((choices, messages)),
            RandomOts::Sender { .. } => Err(wrong_half("receiver")),
        }
    }
}

fn wrong_half(wanted: &str) -> SimError {
    CorrelationError::Unsupported {
        request: "random OT".into(),
        reason: format!("this party does not hold the {wanted}'s half"),
    }
    .into()
}

/// Hands a party its half of correlated randomness. Both parties must make the same requests in
/// the same order; [`CorrelationProvider::requests`] lets the runner check that they did.
pub trait CorrelationProvider: Send {
    /// The name shown in reports.
    fn name(&self) -> &'static str;

    /// `n` element-wise Beaver triples over `ring`.
    fn triples(&mut self, link: &mut Link, ring: Ring, n: usize) -> Result<Triples, SimError>;

    /// `n` AND triples, packed: the request `triples(Z2, n)` makes, served without a `u64` per
    /// bit where the provider can (the default packs [`CorrelationProvider::triples`]).
    fn bit_triples(&mut self, link: &mut Link, n: usize) -> Result<BitTriples, SimError> {
        let t = self.triples(link, Ring::Z2, n)?;
        Ok(BitTriples { a: Bits::from_share(&t.a), b: Bits::from_share(&t.b), c: Bits::from_share(&t.c) })
    }

    /// `n` square pairs over `ring`.
    fn squares(&mut self, link: &mut Link, ring: Ring, n: usize) -> Result<SquarePairs, SimError>;

    /// One matrix triple of the given dimensions.
    fn matrix_triple(&mut self, link: &mut Link, ring: Ring, dims: MatDims) -> Result<MatrixTriple, SimError>;

    /// A batch of random 1-out-of-N OTs.
    fn random_ots(&mut self, link: &mut Link, spec: OtSpec) -> Result<RandomOts, SimError>;

    /// A description of every request served so far, in order.
    fn requests(&self) -> &[String];
}
