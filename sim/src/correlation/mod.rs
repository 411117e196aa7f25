//! Correlated randomness: what protocols consume and who provides it.
//!
//! As in mpz's ideal functionalities, a [`CorrelationProvider`] is the one interface through
//! which a party obtains its half of a correlation; protocol code never generates the other
//! party's half. Two providers: the seeded [`dealer::Dealer`], the ideal functionality, and
//! [`ot::OtProvider`], which generates the same correlations with real OT over the [`Link`] it
//! is handed, extending its base OTs with IKNP (`ot`) or Ferret's silent OT (`silent`); tests
//! check it against the dealer.
//!
//! What a secret × secret product costs under each:
//!
//! - **dealer**: Beaver triples, square pairs and matrix triples, charged at their size.
//! - **ot**: element-wise triples and square pairs by Gilboa products from correlated OTs, ℓ
//!   COTs and ℓ(ℓ+1)/2 bits of τ per element product each way.
//! - **silent**: silent OT makes the COTs nearly free but not Gilboa's τ (620 of the 630 offline
//!   MB of PUMA's GELU at 128 × 3072), so the parties make triples and square pairs over Z_2^ℓ,
//!   ℓ > 1, with HE above this crate instead, as SPU's CHEETAH does
//!   ([`CorrelationProvider::he_products`], `dyad_protocols::bumblebee::elementwise_triple`).
//! - **ot** and **silent**: matrix triples are made with HE above this crate, as BumbleBee makes its
//!   secret × secret matrix products (`dyad_protocols::bumblebee::matrix_triple`): these
//!   providers refuse [`CorrelationProvider::matrix_triple`]. AND triples take two random OTs
//!   each.

pub mod dealer;
pub mod ot;

use crate::bits::Bits;
use crate::error::{CorrelationError, SimError};
use crate::meter::Link;
use crate::packed::Packed;
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

/// One party's half of a batch of random OTs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RandomOts {
    /// The sender's half: N random messages per instance.
    Sender {
        /// `count × N` messages, instance-major.
        messages: Packed,
    },
    /// The receiver's half: a random choice per instance and the chosen message.
    Receiver {
        /// One choice in [0, N) per instance.
        choices: Packed,
        /// The message at the choice, per instance.
        messages: Packed,
    },
}

impl RandomOts {
    /// The sender's messages; an error when this is the receiver's half.
    pub fn into_sender(self) -> Result<Packed, SimError> {
        match self {
            RandomOts::Sender { messages } => Ok(messages),
            RandomOts::Receiver { .. } => Err(wrong_half("sender")),
        }
    }

    /// The receiver's choices and messages; an error when this is the sender's half.
    pub fn into_receiver(self) -> Result<(Packed, Packed), SimError> {
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

    /// One matrix triple of the given dimensions. Only the ideal dealer serves it: the parties
    /// make theirs with HE, above this crate (`dyad_protocols::bumblebee::matrix_triple`), and
    /// the generating providers refuse it.
    fn matrix_triple(&mut self, link: &mut Link, ring: Ring, dims: MatDims) -> Result<MatrixTriple, SimError>;

    /// True for the ideal functionality (the trusted dealer), false for a provider that the
    /// parties run themselves.
    fn is_ideal(&self) -> bool;

    /// True when the parties make their Beaver triples and square pairs over Z_2^ℓ, ℓ > 1,
    /// with HE above this crate (`dyad_protocols::bumblebee::elementwise_triple`) instead of
    /// asking this provider, as SPU's Cheetah back end does beside its silent OT.
    fn he_products(&self) -> bool {
        false
    }

    /// A batch of random 1-out-of-N OTs.
    fn random_ots(&mut self, link: &mut Link, spec: OtSpec) -> Result<RandomOts, SimError>;

    /// A description of every request served so far, in order.
    fn requests(&self) -> &[String];
}
