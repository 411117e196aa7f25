//! Base OT: the "simplest OT" of Chou and Orlandi, "The Simplest Protocol for Oblivious
//! Transfer" (LATINCRYPT 2015, eprint 2015/267), in its semi-honest random-OT form, on the
//! Ristretto255 group (`curve25519-dalek`).
//!
//! The sender draws a and sends A = a·G. For each OT the receiver draws b and sends
//! B = b·G + c·A for its choice bit c, and keeps k_c = H(i, A, B, b·A). The sender derives
//! k_0 = H(i, A, B, a·B) and k_1 = H(i, A, B, a·(B − A)); since a·(B − c·A) = b·A, the receiver
//! holds exactly the key at its choice. Two messages: 32 bytes to the receiver, then 32 bytes
//! per OT to the sender. H is SHA-256 over the index and the three encoded points, cut to 128
//! bits.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use rand::RngExt as _;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::channel::Channel;
use crate::error::{ChannelError, SimError};

/// Bytes of an encoded Ristretto point.
pub(crate) const POINT_BYTES: usize = 32;

fn random_scalar(rng: &mut ChaCha20Rng) -> Scalar {
    let mut wide = [0u8; 64];
    rng.fill(&mut wide[..]);
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn key(index: usize, a: &[u8], b: &[u8], shared: &RistrettoPoint) -> u128 {
    let mut h = Sha256::new();
    h.update((index as u64).to_le_bytes());
    h.update(a);
    h.update(b);
    h.update(shared.compress().as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(first)
}

fn point(bytes: &[u8]) -> Result<RistrettoPoint, ChannelError> {
    CompressedRistretto::from_slice(bytes)
        .ok()
        .and_then(|c| c.decompress())
        .ok_or_else(|| ChannelError::Invalid { what: "base-OT point", reason: "not a Ristretto255 encoding".into() })
}

/// The sender's side of `n` random base OTs: two random 128-bit keys per OT.
pub(crate) fn send<C: Channel>(ch: &mut C, rng: &mut ChaCha20Rng, n: usize) -> Result<Vec<[u128; 2]>, SimError> {
    let a = random_scalar(rng);
    let big_a = RISTRETTO_BASEPOINT_POINT * a;
    let a_bytes = big_a.compress().to_bytes();
    ch.send_bytes(a_bytes.to_vec())?;
    let bs = ch.recv_bytes()?;
    if bs.len() != n * POINT_BYTES {
        return Err(ChannelError::Malformed { expected: n * POINT_BYTES, got: bs.len() }.into());
    }
    bs.chunks_exact(POINT_BYTES)
        .enumerate()
        .map(|(i, b_bytes)| {
            let b = point(b_bytes)?;
            Ok([key(i, &a_bytes, b_bytes, &(b * a)), key(i, &a_bytes, b_bytes, &((b - big_a) * a))])
        })
        .collect()
}

/// The receiver's side of random base OTs with the given choices: the key at each choice.
pub(crate) fn receive<C: Channel>(ch: &mut C, rng: &mut ChaCha20Rng, choices: &[bool]) -> Result<Vec<u128>, SimError> {
    let a_bytes = ch.recv_bytes()?;
    if a_bytes.len() != POINT_BYTES {
        return Err(ChannelError::Malformed { expected: POINT_BYTES, got: a_bytes.len() }.into());
    }
    let big_a = point(&a_bytes)?;
    let mut bs = Vec::with_capacity(choices.len() * POINT_BYTES);
    let mut keys = Vec::with_capacity(choices.len());
    for (i, &c) in choices.iter().enumerate() {
        let b = random_scalar(rng);
        let mut big_b = RISTRETTO_BASEPOINT_POINT * b;
        if c {
            big_b += big_a;
        }
        let b_bytes = big_b.compress().to_bytes();
        keys.push(key(i, &a_bytes, &b_bytes, &(big_a * b)));
        bs.extend_from_slice(&b_bytes);
    }
    ch.send_bytes(bs)?;
    Ok(keys)
}
