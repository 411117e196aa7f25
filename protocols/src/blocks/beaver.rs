//! Ring products of shares by Beaver triples (Beaver, CRYPTO 1991): no truncation, any ring
//! (over Z_2 a product is the AND of XOR-shared bits).
//!
//! For x·y the parties hold a triple (a, b, c = a·b) from the correlation provider, open
//! d = x − a and e = y − b together in one round, and compute x·y = c + d·b + e·a + d·e locally
//! (the server adds d·e). Online cost for n elements: one message each way of 2n·ℓ/8 bytes, one
//! round. A square uses a square pair (a, a²) and opens d = x − a alone: half the bytes.
//! [`and_bits`] is the product over Z_2 on packed bits, 64 ANDs to a word operation.
//!
//! Triples and square pairs over Z_2^ℓ, ℓ > 1, come from the provider, or from HE
//! ([`crate::bumblebee::elementwise_triple`]) when the parties make their products so
//! ([`Party::he_products`]: under `silent`).

use dyad_sim::correlation::{SquarePairs, Triples};
use dyad_sim::{Bits, Channel, ChannelError, Formula, Party, Ring, RingTensor, Role, Share};

use crate::blocks::share::{open, open_many, open_many_cost};
use crate::bumblebee::elementwise_triple;
use crate::error::ProtocolError;
use crate::protocol::take;

/// The ring product x·y, element-wise, by Beaver triples (no truncation). Over Z_2 this is the
/// AND of XOR-shared bits. One pass over the elements on each side of the opening.
pub fn mul_ring(p: &mut Party, x: &Share, y: &Share) -> Result<Share, ProtocolError> {
    if x.shape() != y.shape() {
        return Err(
            dyad_sim::TensorError::Shape { op: "mul", left: x.shape().to_vec(), right: y.shape().to_vec() }.into()
        );
    }
    let ring = x.ring();
    if y.ring() != ring {
        return Err(dyad_sim::TensorError::Ring { op: "mul", left: ring, right: y.ring() }.into());
    }
    p.scope("beaver", |p| {
        let t = triples(p, ring, x.len())?;
        let [a, b, c] = [&t.a, &t.b, &t.c].map(|s| s.tensor().to_vec());
        let masked = |v: &Share, mask: &[u64]| -> Result<Share, ProtocolError> {
            let values = v.tensor().to_vec().iter().zip(mask).map(|(&v, &m)| ring.sub(v, m)).collect();
            Ok(Share::new(RingTensor::from_vec(ring, x.shape(), values)?))
        };
        let opened = open_many(p, &[&masked(x, &a)?, &masked(y, &b)?])?;
        let [d, e] = take("mul", &opened)?;
        let (d, e) = (d.to_vec(), e.to_vec());
        let server = p.role() == Role::Server;
        let z = (0..a.len())
            .map(|i| {
                let z = ring.add(c[i], ring.add(ring.mul(d[i], b[i]), ring.mul(e[i], a[i])));
                if server { ring.add(z, ring.mul(d[i], e[i])) } else { z }
            })
            .collect();
        Ok(Share::new(RingTensor::from_vec(ring, x.shape(), z)?))
    })
}

/// The AND x ∧ y of XOR-shared packed bits: [`mul_ring`] over Z_2, with the same triples request
/// and the same message (d then e, one bit each), computed a word at a time.
pub fn and_bits(p: &mut Party, x: &Bits, y: &Bits) -> Result<Bits, ProtocolError> {
    let n = x.len();
    if y.len() != n {
        return Err(dyad_sim::TensorError::Shape { op: "and", left: vec![n], right: vec![y.len()] }.into());
    }
    p.scope("beaver", |p| {
        let t = p.bit_triples(n)?;
        let (mut d, mut e) = (x.xor(&t.a)?, y.xor(&t.b)?);
        let mut payload = d.to_bytes();
        payload.extend(e.to_bytes());
        p.send_bytes(payload)?;
        let bytes = p.recv_bytes()?;
        let half = n.div_ceil(8);
        if bytes.len() != 2 * half {
            return Err(ChannelError::Malformed { expected: 2 * half, got: bytes.len() }.into());
        }
        let (theirs_d, theirs_e) = bytes.split_at(half);
        d.xor_assign(&Bits::from_bytes(theirs_d, n)?)?;
        e.xor_assign(&Bits::from_bytes(theirs_e, n)?)?;
        let server = u64::from(p.role() == Role::Server).wrapping_neg();
        let words = (t.a.words().iter().zip(t.b.words()).zip(t.c.words()))
            .zip(d.words().iter().zip(e.words()))
            .map(|(((&a, &b), &c), (&d, &e))| c ^ (d & b) ^ (e & a) ^ (d & e & server))
            .collect();
        Ok(Bits::from_words(n, words))
    })
}

/// The ring square x², element-wise, by square pairs (a, a²): open d = x − a, then
/// x² = a² + 2·d·a + d². Online: n·ℓ/8 bytes each way, one round.
pub fn square_ring(p: &mut Party, x: &Share) -> Result<Share, ProtocolError> {
    p.scope("square", |p| {
        let shape = x.shape().to_vec();
        let s = squares(p, x.ring(), x.len())?;
        let (a, aa) = (s.a.reshape(&shape)?, s.aa.reshape(&shape)?);
        let d = open(p, &x.sub(&a)?)?;
        let z = aa.add(&a.mul_public(&d)?.scale(2))?;
        Ok(z.add_public(p.role(), &d.mul(&d)?)?)
    })
}

/// x² by a square pair and u·v by a Beaver triple in one opening (d = x − a, then u − b′ and
/// v − c′ in the same message): the batch a power basis needs per round, where x^(2h) is a
/// square and the other powers are products. Online: (|x| + 2|u|)·ℓ/8 bytes each way, one round.
pub fn square_and_mul_ring(p: &mut Party, x: &Share, u: &Share, v: &Share) -> Result<(Share, Share), ProtocolError> {
    if u.shape() != v.shape() {
        return Err(
            dyad_sim::TensorError::Shape { op: "mul", left: u.shape().to_vec(), right: v.shape().to_vec() }.into()
        );
    }
    p.scope("square_and_beaver", |p| {
        let s = squares(p, x.ring(), x.len())?;
        let t = triples(p, u.ring(), u.len())?;
        let (sa, saa) = (s.a.reshape(x.shape())?, s.aa.reshape(x.shape())?);
        let (a, b, c) = (t.a.reshape(u.shape())?, t.b.reshape(u.shape())?, t.c.reshape(u.shape())?);
        let opened = open_many(p, &[&x.sub(&sa)?, &u.sub(&a)?, &v.sub(&b)?])?;
        let [ds, d, e] = take("square_and_mul", &opened)?;
        let sq = saa.add(&sa.mul_public(ds)?.scale(2))?.add_public(p.role(), &ds.mul(ds)?)?;
        let z = c.add(&b.mul_public(d)?)?.add(&a.mul_public(e)?)?;
        Ok((sq, z.add_public(p.role(), &d.mul(e)?)?))
    })
}

/// Whether ring products over `ring` are made with HE: when the parties make them so
/// ([`Party::he_products`]) and ℓ > 1; otherwise they are the provider's.
fn by_he(p: &Party, ring: Ring) -> bool {
    p.he_products() && ring.bits() > 1
}

/// `n` Beaver triples over `ring`, from HE or the provider ([`by_he`]).
fn triples(p: &mut Party, ring: Ring, n: usize) -> Result<Triples, ProtocolError> {
    if by_he(p, ring) { elementwise_triple::triples(p, ring, n) } else { Ok(p.triples(ring, n)?) }
}

/// `n` square pairs over `ring`, from HE or the provider ([`by_he`]).
fn squares(p: &mut Party, ring: Ring, n: usize) -> Result<SquarePairs, ProtocolError> {
    if by_he(p, ring) { elementwise_triple::squares(p, ring, n) } else { Ok(p.squares(ring, n)?) }
}

/// The formula of [`mul_ring`] for `n` elements over `ring`: a triple each, d and e opened.
pub fn mul_ring_cost(f: &mut Formula, ring: Ring, n: usize) {
    f.triples(ring, n);
    open_many_cost(f, ring, &[n, n]);
}

/// The formula of [`square_ring`]: a square pair each, d opened.
pub fn square_ring_cost(f: &mut Formula, ring: Ring, n: usize) {
    f.squares(ring, n);
    open_many_cost(f, ring, &[n]);
}

/// The formula of [`square_and_mul_ring`] for `squares` squares and `products` products.
pub fn square_and_mul_ring_cost(f: &mut Formula, ring: Ring, squares: usize, products: usize) {
    f.squares(ring, squares);
    f.triples(ring, products);
    open_many_cost(f, ring, &[squares, products, products]);
}
