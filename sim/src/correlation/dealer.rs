//! The seeded trusted dealer: an ideal functionality for correlated randomness.
//!
//! Each party holds a `Dealer` built from the same seed. Request number i draws both halves of
//! the correlation from ChaCha20 keyed by the seed on stream i, and returns this party's half,
//! so the two parties' halves match without any traffic between them. What a real dealer would
//! send this party is charged as dealer bytes in the offline phase (see [`crate::meter`]): the
//! full half, with no seed compression. Reports therefore always show that a dealer was used.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::{CorrelationProvider, MatDims, MatrixTriple, OtSpec, RandomOts, SquarePairs, Triples};
use crate::error::{CorrelationError, SimError};
use crate::meter::Link;
use crate::ring::Ring;
use crate::share::{Role, Share};
use crate::tensor::RingTensor;
use crate::wire;

/// Largest OT arity the dealer serves: 1-out-of-2^16.
pub const MAX_CHOICE_BITS: u32 = 16;

/// A seeded dealer, one per party.
#[derive(Debug)]
pub struct Dealer {
    role: Role,
    seed: [u8; 32],
    requests: Vec<String>,
}

impl Dealer {
    /// The dealer for `role`, keyed by `seed` (both parties must use the same seed).
    pub fn new(role: Role, seed: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..14].copy_from_slice(b"dealer");
        Dealer { role, seed: key, requests: Vec::new() }
    }

    fn next_rng(&mut self, link: &mut Link, request: String) -> ChaCha20Rng {
        link.meter_mut().dealer_start();
        let mut rng = ChaCha20Rng::from_seed(self.seed);
        rng.set_stream(self.requests.len() as u64);
        self.requests.push(request);
        rng
    }

    /// Splits `secret` and keeps this party's share.
    fn mine(&self, secret: &RingTensor, rng: &mut ChaCha20Rng) -> Share {
        let (s, c) = Share::split(secret, rng);
        match self.role {
            Role::Server => s,
            Role::Client => c,
        }
    }
}

impl CorrelationProvider for Dealer {
    fn name(&self) -> &'static str {
        "dealer"
    }

    fn triples(&mut self, link: &mut Link, ring: Ring, n: usize) -> Result<Triples, SimError> {
        let mut rng = self.next_rng(link, format!("triples {ring} n={n}"));
        let a = RingTensor::random(ring, &[n], &mut rng);
        let b = RingTensor::random(ring, &[n], &mut rng);
        let c = a.mul(&b)?;
        let out = Triples { a: self.mine(&a, &mut rng), b: self.mine(&b, &mut rng), c: self.mine(&c, &mut rng) };
        link.meter_mut().on_dealer(3 * ring.wire_bytes(n));
        Ok(out)
    }

    fn squares(&mut self, link: &mut Link, ring: Ring, n: usize) -> Result<SquarePairs, SimError> {
        let mut rng = self.next_rng(link, format!("squares {ring} n={n}"));
        let a = RingTensor::random(ring, &[n], &mut rng);
        let aa = a.mul(&a)?;
        let out = SquarePairs { a: self.mine(&a, &mut rng), aa: self.mine(&aa, &mut rng) };
        link.meter_mut().on_dealer(2 * ring.wire_bytes(n));
        Ok(out)
    }

    fn matrix_triple(&mut self, link: &mut Link, ring: Ring, dims: MatDims) -> Result<MatrixTriple, SimError> {
        let mut rng = self.next_rng(link, format!("matrix triple {ring} {dims:?}"));
        let a = RingTensor::random(ring, &dims.a_shape(), &mut rng);
        let b = RingTensor::random(ring, &dims.b_shape(), &mut rng);
        let c = a.matmul(&b)?;
        let bytes = ring.wire_bytes(a.len()) + ring.wire_bytes(b.len()) + ring.wire_bytes(c.len());
        let out = MatrixTriple { a: self.mine(&a, &mut rng), b: self.mine(&b, &mut rng), c: self.mine(&c, &mut rng) };
        link.meter_mut().on_dealer(bytes);
        Ok(out)
    }

    fn random_ots(&mut self, link: &mut Link, spec: OtSpec) -> Result<RandomOts, SimError> {
        let request = format!("random OT {spec:?}");
        if spec.choice_bits == 0 || spec.choice_bits > MAX_CHOICE_BITS || !(1..=64).contains(&spec.msg_bits) {
            return Err(CorrelationError::Unsupported {
                request,
                reason: format!("need 1 ≤ choice bits ≤ {MAX_CHOICE_BITS} and 1 ≤ message bits ≤ 64"),
            }
            .into());
        }
        let mut rng = self.next_rng(link, request);
        let msg_ring = Ring::new(spec.msg_bits)?;
        let choice_ring = Ring::new(spec.choice_bits)?;
        let arity = spec.arity();
        let messages = msg_ring.random_vec(spec.count * arity, &mut rng);
        if self.role == spec.sender {
            link.meter_mut().on_dealer(wire::packed_len(messages.len(), spec.msg_bits));
            return Ok(RandomOts::Sender { messages });
        }
        let choices = choice_ring.random_vec(spec.count, &mut rng);
        let chosen = choices
            .iter()
            .zip(messages.chunks(arity))
            .map(|(&c, row)| row.get(c as usize).copied().unwrap_or_default())
            .collect();
        link.meter_mut()
            .on_dealer(wire::packed_len(spec.count, spec.choice_bits) + wire::packed_len(spec.count, spec.msg_bits));
        Ok(RandomOts::Receiver { choices, messages: chosen })
    }

    fn requests(&self) -> &[String] {
        &self.requests
    }
}
