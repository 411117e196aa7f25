//! Matrix triples made with HE, for the providers the parties run themselves: BumbleBee's
//! secret × secret matrix products (Lu et al., NDSS 2025, eprint 2023/1678), made ahead of the
//! query as Beaver triples over Cheetah's server-side inner product ([`super::linear`]).
//!
//! Each party draws its shares A_i and B_i uniformly, and C = A·B is
//! A_s·B_s + A_c·B_c + A_c·B_s + A_s·B_c. Each party multiplies its own shares; the two cross
//! terms are SIP products in which the client encrypts and the server multiplies by its plaintext
//! share: A_c·B_s directly, and A_s·B_c as (B_cᵀ·A_sᵀ)ᵀ, so that only the client has keys.
//!
//! - **Setup**, at a run's first triple over a ring: the client's public key and Galois keys
//!   ([`super::linear::keys`]), kept for the rest of the run ([`Party::keep`]).
//! - **Offline**, on the correlation stream under `he`: one message each way, the client's
//!   queries for every batch entry and cross term, then the server's packed, re-randomised and
//!   masked responses, at the layouts [`SipLayout::choose`] picks.
//!
//! Like every SIP product, a cross term is exact up to ±1 in the last place where the
//! decryptor's rounding meets the server's mask (with probability about |δ| per entry, see
//! [`dyad_rlwe::cipher::offsets`]): C is A·B up to ±2 per entry, and a product made from the
//! triple carries that error into its truncation.

use std::sync::Arc;

use dyad_rlwe::RlweContext;
use dyad_rlwe::cipher::Ciphertext;
use dyad_sim::correlation::{MatDims, MatrixTriple};
use dyad_sim::{Channel, Party, Ring, RingTensor, Share};
use rayon::prelude::*;

use super::linear::{MAX_PACK, SipKeys, SipLayout, ask, keys, mask, read_answers, unmasked};
use crate::error::{ProtocolError, expect_len};
use crate::linear::{Noise, context};

/// The label of the triples' traffic.
pub const LABEL: &str = "he";

/// The RLWE context and the client's keys of each ring a run has made triples over.
#[derive(Debug, Default)]
struct Kept(Vec<(Ring, Arc<(RlweContext, SipKeys)>)>);

/// The context and keys for `ring`: set up at the first request over it, then kept.
fn setup(p: &mut Party, ring: Ring) -> Result<Arc<(RlweContext, SipKeys)>, ProtocolError> {
    let kept = p.kept::<Kept>().unwrap_or_default();
    if let Some((_, found)) = kept.0.iter().find(|(r, _)| *r == ring) {
        return Ok(Arc::clone(found));
    }
    let ctx = context(ring, Noise::AsIs)?;
    let keys = keys(p, &ctx)?;
    let made = Arc::new((ctx, keys));
    let mut all = kept.0.clone();
    all.push((ring, Arc::clone(&made)));
    p.keep(Arc::new(Kept(all)));
    Ok(made)
}

/// This party's half of a matrix triple of `dims` over `ring`, made with HE.
pub fn matrix_triple(p: &mut Party, ring: Ring, dims: MatDims) -> Result<MatrixTriple, ProtocolError> {
    p.correlation_protocol(LABEL, |p| {
        let made = setup(p, ring)?;
        let (ctx, keys) = (&made.0, &made.1);
        let (batch, m, k, n) = (dims.batch.unwrap_or(1), dims.m, dims.k, dims.n);
        let a = ring.random_vec(batch * m * k, p.rng());
        let b = ring.random_vec(batch * k * n, p.rng());
        // Per batch entry, the SIP products A_c·B_s (the client's query is its A, the server's
        // plaintext its B) and B_cᵀ·A_sᵀ (its Bᵀ against the server's Aᵀ).
        let layouts = [SipLayout::choose(ctx, m, k, n, MAX_PACK), SipLayout::choose(ctx, n, k, m, MAX_PACK)];
        let factors = |beta: usize| -> Result<[RingTensor; 2], ProtocolError> {
            let a = RingTensor::from_vec(ring, &[m, k], a[beta * m * k..(beta + 1) * m * k].to_vec())?;
            let b = RingTensor::from_vec(ring, &[k, n], b[beta * k * n..(beta + 1) * k * n].to_vec())?;
            Ok([a, b])
        };
        let mut cross: Vec<Share> = Vec::with_capacity(2 * batch);
        match keys {
            SipKeys::Client(sk) => {
                let mut msg = Vec::new();
                for beta in 0..batch {
                    let [a, b] = factors(beta)?;
                    msg.extend(ask(p, ctx, &layouts[0], sk, &Share::new(a)));
                    msg.extend(ask(p, ctx, &layouts[1], sk, &Share::new(b.transpose_last()?)));
                }
                p.send_bytes(msg)?;
                let bytes = p.recv_bytes()?;
                let lens = layouts.map(|l| l.outputs() * Ciphertext::wire_bytes(ctx, ctx.top_level() - 1, false));
                expect_len(&bytes, batch * (lens[0] + lens[1]))?;
                let mut at = 0;
                for i in 0..2 * batch {
                    let len = lens[i % 2];
                    cross.push(read_answers(p, ctx, &layouts[i % 2], sk, ring, &bytes[at..at + len])?);
                    at += len;
                }
            }
            SipKeys::Server { pk, galois } => {
                let bytes = p.recv_bytes()?;
                let lens = layouts.map(|l| l.inputs() * Ciphertext::wire_bytes(ctx, ctx.top_level(), true));
                expect_len(&bytes, batch * (lens[0] + lens[1]))?;
                // Every product's plaintext and query: its B, then its Aᵀ, per batch entry.
                let mut jobs = Vec::with_capacity(2 * batch);
                let mut at = 0;
                for beta in 0..batch {
                    let [a, b] = factors(beta)?;
                    for (i, plain) in [b, a.transpose_last()?].into_iter().enumerate() {
                        jobs.push((i, plain, &bytes[at..at + lens[i]]));
                        at += lens[i];
                    }
                }
                let responses = p.scope("inner_product_and_pack", |_| {
                    jobs.par_iter()
                        .map(|(i, plain, query)| unmasked(ctx, &layouts[*i], galois, plain, query))
                        .collect::<Result<Vec<_>, _>>()
                })?;
                let mut msg = Vec::new();
                p.scope("mask", |p| -> Result<(), ProtocolError> {
                    for ((i, _, _), r) in jobs.iter().zip(responses) {
                        let shape = if *i == 0 { [m, n] } else { [n, m] };
                        let mut share = RingTensor::zeros(ring, &shape);
                        msg.extend(mask(p, ctx, &layouts[*i], pk, r, &mut share)?);
                        cross.push(Share::new(share));
                    }
                    Ok(())
                })?;
                p.send_bytes(msg)?;
            }
        }
        let mut c = Vec::with_capacity(batch * m * n);
        for (beta, pair) in cross.chunks_exact(2).enumerate() {
            let [a, b] = factors(beta)?;
            let sum = a.matmul(&b)?.add(pair[0].tensor())?.add(&pair[1].tensor().transpose_last()?)?;
            c.extend(sum.to_vec());
        }
        Ok(MatrixTriple {
            a: Share::new(RingTensor::from_vec(ring, &dims.a_shape(), a)?),
            b: Share::new(RingTensor::from_vec(ring, &dims.b_shape(), b)?),
            c: Share::new(RingTensor::from_vec(ring, &dims.c_shape(), c)?),
        })
    })
}
