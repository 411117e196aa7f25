//! The seeded trusted dealer: an ideal functionality for correlated randomness.
//!
//! Each party holds a `Dealer` built from the same seed. Request number i draws both halves of
//! the correlation from ChaCha8 keyed by the seed on stream i, and returns this party's half,
//! so the two parties' halves match without any traffic between them. ChaCha8, the fastest of
//! the ChaCha family, keeps expansion a small part of a run (#15): the best known attacks reach
//! seven rounds, and eight suffice by Aumasson's "Too Much Crypto" (2019). What a real dealer would send this
//! party is charged as dealer bytes in the offline phase (see [`crate::meter`]): the full half.
//! A real dealer could send the client its half as a seed, since the client's halves are pure
//! randomness drawn first (`client_halves`); the server's depend on them and must travel in
//! full. The charge does not take that saving. Reports always show that a dealer was used.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{BitTriples, CorrelationProvider, MatDims, MatrixTriple, OtSpec, RandomOts, SquarePairs, Triples};
use crate::bits::Bits;
use crate::error::SimError;
use crate::meter::Link;
use crate::packed::Packed;
use crate::ring::Ring;
use crate::role::Role;
use crate::share::Share;
use crate::tensor::RingTensor;
use crate::wire;

/// Bytes the dealer delivers to each party for `n` Beaver triples: its shares of a, b and c.
pub fn triple_bytes(ring: Ring, n: usize) -> usize {
    3 * ring.wire_bytes(n)
}

/// Bytes the dealer delivers to each party for `n` square pairs: its shares of a and a².
pub fn square_bytes(ring: Ring, n: usize) -> usize {
    2 * ring.wire_bytes(n)
}

/// Bytes the dealer delivers to each party for a matrix triple: its shares of A, B and C = A·B.
pub fn matrix_triple_bytes(ring: Ring, dims: MatDims) -> usize {
    let elements = |s: Vec<usize>| s.iter().product::<usize>();
    [dims.a_shape(), dims.b_shape(), dims.c_shape()].into_iter().map(|s| ring.wire_bytes(elements(s))).sum()
}

/// Bytes the dealer delivers to `role` for a batch of random OTs: the sender's N messages per
/// instance; the receiver's choice and chosen message.
pub fn random_ot_bytes(spec: OtSpec, role: Role) -> usize {
    if role == spec.sender {
        wire::packed_len(spec.count * spec.arity(), spec.msg_bits)
    } else {
        wire::packed_len(spec.count, spec.choice_bits) + wire::packed_len(spec.count, spec.msg_bits)
    }
}

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

    fn next_rng(&mut self, link: &mut Link, request: String) -> ChaCha8Rng {
        link.meter_mut().dealer_start();
        let mut rng = ChaCha8Rng::from_seed(self.seed);
        rng.set_stream(self.requests.len() as u64);
        self.requests.push(request);
        rng
    }
}

/// The client's halves of a correlation: fresh randomness, drawn first from the request's stream.
/// The server's halves are the secrets minus these, so only the server's dealer computes the
/// secrets (a product, or a matrix product), and the client's draws nothing more.
fn client_halves<const K: usize>(ring: Ring, shapes: [&[usize]; K], rng: &mut ChaCha8Rng) -> [Share; K] {
    shapes.map(|shape| Share::new(RingTensor::random(ring, shape, rng)))
}

impl CorrelationProvider for Dealer {
    fn name(&self) -> &'static str {
        "dealer"
    }

    fn is_ideal(&self) -> bool {
        true
    }

    fn triples(&mut self, link: &mut Link, ring: Ring, n: usize) -> Result<Triples, SimError> {
        let mut rng = self.next_rng(link, format!("triples {ring} n={n}"));
        link.meter_mut().on_dealer(triple_bytes(ring, n));
        let shape = [n];
        let [a1, b1, c1] = client_halves(ring, [&shape, &shape, &shape], &mut rng);
        if self.role == Role::Client {
            return Ok(Triples { a: a1, b: b1, c: c1 });
        }
        let (a0, b0) = (RingTensor::random(ring, &shape, &mut rng), RingTensor::random(ring, &shape, &mut rng));
        let c = a0.add(a1.tensor())?.mul(&b0.add(b1.tensor())?)?;
        Ok(Triples { a: Share::new(a0), b: Share::new(b0), c: Share::new(c.sub(c1.tensor())?) })
    }

    /// The request and the bits of [`Dealer::triples`] over Z_2, drawn packed.
    fn bit_triples(&mut self, link: &mut Link, n: usize) -> Result<BitTriples, SimError> {
        let mut rng = self.next_rng(link, format!("triples {} n={n}", Ring::Z2));
        link.meter_mut().on_dealer(triple_bytes(Ring::Z2, n));
        let [a1, b1, c1] = [(); 3].map(|()| Bits::random(n, &mut rng));
        if self.role == Role::Client {
            return Ok(BitTriples { a: a1, b: b1, c: c1 });
        }
        let (a0, b0) = (Bits::random(n, &mut rng), Bits::random(n, &mut rng));
        let c = a0.xor(&a1)?.and(&b0.xor(&b1)?)?.xor(&c1)?;
        Ok(BitTriples { a: a0, b: b0, c })
    }

    fn squares(&mut self, link: &mut Link, ring: Ring, n: usize) -> Result<SquarePairs, SimError> {
        let mut rng = self.next_rng(link, format!("squares {ring} n={n}"));
        link.meter_mut().on_dealer(square_bytes(ring, n));
        let shape = [n];
        let [a1, aa1] = client_halves(ring, [&shape, &shape], &mut rng);
        if self.role == Role::Client {
            return Ok(SquarePairs { a: a1, aa: aa1 });
        }
        let a0 = RingTensor::random(ring, &shape, &mut rng);
        let a = a0.add(a1.tensor())?;
        Ok(SquarePairs { a: Share::new(a0), aa: Share::new(a.mul(&a)?.sub(aa1.tensor())?) })
    }

    fn matrix_triple(&mut self, link: &mut Link, ring: Ring, dims: MatDims) -> Result<MatrixTriple, SimError> {
        let mut rng = self.next_rng(link, format!("matrix triple {ring} {dims:?}"));
        let (a_shape, b_shape, c_shape) = (dims.a_shape(), dims.b_shape(), dims.c_shape());
        link.meter_mut().on_dealer(matrix_triple_bytes(ring, dims));
        let [a1, b1, c1] = client_halves(ring, [&a_shape, &b_shape, &c_shape], &mut rng);
        if self.role == Role::Client {
            return Ok(MatrixTriple { a: a1, b: b1, c: c1 });
        }
        let (a0, b0) = (RingTensor::random(ring, &a_shape, &mut rng), RingTensor::random(ring, &b_shape, &mut rng));
        let c = a0.add(a1.tensor())?.matmul(&b0.add(b1.tensor())?)?;
        Ok(MatrixTriple { a: Share::new(a0), b: Share::new(b0), c: Share::new(c.sub(c1.tensor())?) })
    }

    fn random_ots(&mut self, link: &mut Link, spec: OtSpec) -> Result<RandomOts, SimError> {
        let request = format!("random OT {spec:?}");
        spec.check()?;
        let mut rng = self.next_rng(link, request);
        let msg_ring = Ring::new(spec.msg_bits)?;
        let choice_ring = Ring::new(spec.choice_bits)?;
        let arity = spec.arity();
        if self.role == spec.sender {
            let n = spec.count * arity;
            let messages = Packed::from_draws(msg_ring, n, msg_ring.random_draws(n, &mut rng));
            link.meter_mut().on_dealer(random_ot_bytes(spec, self.role));
            return Ok(RandomOts::Sender { messages });
        }
        let draws = msg_ring.random_draws(spec.count * arity, &mut rng);
        let choices = Packed::from_draws(choice_ring, spec.count, choice_ring.random_draws(spec.count, &mut rng));
        let chosen = Packed::from_fn(msg_ring, spec.count, |t| {
            msg_ring.element_of_draws(&draws, t * arity + choices.get(t) as usize)
        });
        link.meter_mut().on_dealer(random_ot_bytes(spec, self.role));
        Ok(RandomOts::Receiver { choices, messages: chosen })
    }

    fn requests(&self) -> &[String] {
        &self.requests
    }
}
