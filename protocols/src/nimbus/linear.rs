//! `nimbus.linear`: the Client-side Outer Product (COP) linear layer of Nimbus (NeurIPS 2024, its
//! Fig. 3 and Table 1).
//!
//! Y = X·W for X shared (k × n: tokens × inputs) and W the server's weights (n × m).
//!
//! - **Setup** (once per model): the server encrypts each input row W[j, ·] of its weights under
//!   its own key, in blocks of d0 = min(N, nextpow2(m)) outputs per ciphertext (coefficients
//!   0..d0), so there are ⌈m/d0⌉·n ciphertexts; their `a` halves are seeds, so each costs one
//!   polynomial and 32 bytes. It sends them with a public key (at the switched-down level) in one
//!   message.
//! - **Online**: the server computes X_s·W in the clear. The client computes, for every token t
//!   and block, Σ_j X_c[t, j]·Enc(W[j, block]) (scalar products, no NTT; [`kernel`]), packs
//!   N/d0 results per ciphertext by negacyclic shifts (X^(u·d0), no Galois keys), switches the
//!   modulus down one prime, re-randomises each ciphertext with a fresh public-key encryption of
//!   zero (and floods it, in `nimbus.linear_flooded`), subtracts a uniform mask ρ drawn from the
//!   whole of R_Q′, and sends all ciphertexts in one message. Nothing travels server → client. The server decrypts: its share is
//!   X_s·W + round(2^ℓ·Dec/Q′); the client's is round(2^ℓ·ρ/Q′). The two add up to X·W within
//!   ±1 in the last place (the rounding of the two halves).
//! - The product carries 2f fraction bits and is truncated by f with the run's truncation
//!   ([`crate::linear`], which both RLWE linear layers share).
//!
//! Online traffic: ⌈⌈m/d0⌉·k·d0/N⌉ ciphertexts at Q′, whatever n is. At BERT-base (k = 128,
//! m = 768, N = 8192, d0 = 1024): 16 ciphertexts of 233,472 bytes, 3.7 MB.
//!
//! [`kernel`]: dyad_rlwe::kernel

use dyad_sim::{Channel, ChannelError, Formula, Party, Phase, RingTensor, Role, Share};

use crate::error::{ProtocolError, from_peer};
use crate::linear::{HeLinear, Noise, Zeros, fresh_term, rerandomise, switched_noise};
use crate::protocol::matrix;
use dyad_rlwe::cipher::{
    Ciphertext, Mask, decode_scaled, decrypt, encrypt_sk, encrypt_zero_pk, lift, poly_from_bytes, poly_to_bytes,
};
use dyad_rlwe::kernel::{Scalars, accumulate};
use dyad_rlwe::keys::{PublicKey, SecretKey};
use dyad_rlwe::{RlweContext, RnsPoly};

/// How the outputs are laid out in ciphertexts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopLayout {
    /// Tokens.
    pub k: usize,
    /// Inputs.
    pub n: usize,
    /// Outputs.
    pub m: usize,
    /// Outputs per weight ciphertext, d0 = min(N, nextpow2(m)).
    pub d0: usize,
    /// ⌈m/d0⌉.
    pub blocks: usize,
    /// Results packed per response ciphertext, N/d0.
    pub per_ct: usize,
    /// Response ciphertexts, ⌈blocks·k/per_ct⌉.
    pub responses: usize,
}

impl CopLayout {
    /// The layout of a k × n by n × m product under ring degree `ring_n`.
    pub fn new(ring_n: usize, k: usize, n: usize, m: usize) -> Self {
        let d0 = m.next_power_of_two().min(ring_n);
        let blocks = m.div_ceil(d0);
        let per_ct = ring_n / d0;
        CopLayout { k, n, m, d0, blocks, per_ct, responses: (blocks * k).div_ceil(per_ct) }
    }

    /// A bound on a response's noise before re-randomisation: each coefficient sums n products
    /// of a scalar |x| ≤ 2^(ℓ−1) with a weight ciphertext's noise and rounding ([`fresh_term`])
    /// for each result packed (at most min(N/d0, k·blocks)), then the modulus switch
    /// ([`switched_noise`]). All of it depends on the inputs: the decryptor knows the weights'
    /// noise, and the client's share multiplies it.
    pub fn noise_bound(&self, ctx: &RlweContext) -> u128 {
        let packed = self.per_ct.min(self.k * self.blocks);
        switched_noise(ctx, ((packed * self.n) as u128).saturating_mul(fresh_term(ctx)))
    }
}

/// What each party keeps after the setup.
#[derive(Clone, Debug)]
pub enum CopState {
    /// The server's secret key.
    Server(SecretKey),
    /// The client's copy of the encrypted weights (c0 and seed of ciphertext j·blocks + r) and the
    /// server's public key.
    Client {
        /// Public key at the switched-down level.
        pk: PublicKey,
        /// The weight ciphertexts.
        weights: Vec<Ciphertext>,
    },
}

/// Setup: the server encrypts W (`[n, m]`, its plaintext) and sends it with its public key.
pub fn setup(
    p: &mut Party,
    ctx: &RlweContext,
    layout: &CopLayout,
    w: Option<&RingTensor>,
) -> Result<CopState, ProtocolError> {
    p.in_phase(Phase::Setup, |p| {
        p.scope("encrypt_weights", |p| match p.role() {
            Role::Server => {
                let w =
                    w.ok_or(ProtocolError::Config { protocol: "nimbus.linear", reason: "the server holds W".into() })?;
                let sk = SecretKey::generate(ctx, p.rng());
                let pk = PublicKey::generate(ctx, &sk, ctx.top_level() - 1, p.rng());
                let mut msg = poly_to_bytes(ctx, &pk.b);
                msg.extend_from_slice(&pk.seed);
                for ct in encrypt_weights(ctx, layout, &sk, &w.to_vec(), p.rng()) {
                    msg.extend(ct.to_bytes(ctx));
                }
                p.send_bytes(msg)?;
                Ok(CopState::Server(sk))
            }
            Role::Client => {
                let bytes = p.recv_bytes()?;
                let low = ctx.top_level() - 1;
                let pk_len = ctx.poly_bytes(low);
                let ct_len = Ciphertext::wire_bytes(ctx, ctx.top_level(), true);
                let expected = pk_len + 32 + layout.n * layout.blocks * ct_len;
                if bytes.len() != expected {
                    return Err(ChannelError::Malformed { expected, got: bytes.len() }.into());
                }
                let b = poly_from_bytes(ctx, low, &bytes[..pk_len]).map_err(|e| from_peer("public key", e))?;
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&bytes[pk_len..pk_len + 32]);
                let weights = bytes[pk_len + 32..]
                    .chunks_exact(ct_len)
                    .map(|c| Ciphertext::from_bytes(ctx, ctx.top_level(), true, c))
                    .collect::<Result<_, _>>()
                    .map_err(|e| from_peer("encrypted weights", e))?;
                Ok(CopState::Client { pk: PublicKey { b, seed }, weights })
            }
        })
    })
}

/// The server's encrypted weights: row j, output block r at index j·blocks + r, for W's values
/// (row-major n × m).
pub fn encrypt_weights<R: rand::Rng + ?Sized>(
    ctx: &RlweContext,
    layout: &CopLayout,
    sk: &SecretKey,
    w: &[u64],
    rng: &mut R,
) -> Vec<Ciphertext> {
    let mut out = Vec::with_capacity(layout.n * layout.blocks);
    for j in 0..layout.n {
        for r in 0..layout.blocks {
            let lo = r * layout.d0;
            let hi = (lo + layout.d0).min(layout.m);
            out.push(encrypt_sk(ctx, sk, &w[j * layout.m + lo..j * layout.m + hi], rng));
        }
    }
    out
}

/// Online: shares of X·W at scale 2^(2f) (before truncation), shape `[k, m]`; the client
/// re-randomises its responses as `zeros` says.
pub fn online(
    p: &mut Party,
    ctx: &RlweContext,
    layout: &CopLayout,
    state: &CopState,
    zeros: Zeros,
    w: Option<&RingTensor>,
    x: &Share,
) -> Result<Share, ProtocolError> {
    let ring = x.ring();
    let (k, m) = (layout.k, layout.m);
    let low = ctx.top_level() - 1;
    let ct_len = Ciphertext::wire_bytes(ctx, low, false);
    match state {
        CopState::Server(sk) => {
            let w =
                w.ok_or(ProtocolError::Config { protocol: "nimbus.linear", reason: "the server holds W".into() })?;
            let mut out = p.scope("plain_matmul", |_| x.tensor().matmul(w))?.to_vec();
            let bytes = p.recv_bytes()?;
            let expected = layout.responses * ct_len;
            if bytes.len() != expected {
                return Err(ChannelError::Malformed { expected, got: bytes.len() }.into());
            }
            p.scope("decrypt", |_| -> Result<(), ProtocolError> {
                for (g, chunk) in bytes.chunks_exact(ct_len).enumerate() {
                    let ct =
                        Ciphertext::from_bytes(ctx, low, false, chunk).map_err(|e| from_peer("COP response", e))?;
                    scatter(layout, g, &decrypt(ctx, sk, &ct), |t, c, v| out[t * m + c] = ring.add(out[t * m + c], v));
                }
                Ok(())
            })?;
            Ok(Share::new(RingTensor::from_vec(ring, &[k, m], out)?))
        }
        CopState::Client { pk, weights } => {
            let results = p.scope("outer_product", |_| outer_products(ctx, layout, weights, &x.tensor().to_vec()));
            let mut msg = Vec::with_capacity(layout.responses * ct_len);
            let mut share = vec![0u64; k * m];
            let noise = layout.noise_bound(ctx);
            p.scope("pack_and_mask", |p| -> Result<(), ProtocolError> {
                let mut zero = None;
                for g in 0..layout.responses {
                    let mut ct = packed(ctx, layout, &results, g)?;
                    if g % zeros.chunk() == 0 {
                        zero = Some(encrypt_zero_pk(ctx, pk, p.rng()));
                    }
                    if let Some(zero) = &zero {
                        rerandomise(ctx, &mut ct, zero, noise, p.rng())?;
                    }
                    let rho = RnsPoly::uniform(ctx, low, p.rng());
                    ct.c0.sub_assign(ctx, &rho);
                    scatter(layout, g, &decode_scaled(ctx, &rho), |t, c, v| share[t * m + c] = v);
                    msg.extend(ct.to_bytes(ctx));
                }
                Ok(())
            })?;
            p.send_bytes(msg)?;
            Ok(Share::new(RingTensor::from_vec(ring, &[k, m], share)?))
        }
    }
}

/// The client's outer products: for every token t and output block r, Σ_j X_c[t, j]·Enc(W[j, r])
/// (c0 and c1 at the top level, index t·blocks + r), for its share `xs` (row-major k × n).
pub fn outer_products(
    ctx: &RlweContext,
    layout: &CopLayout,
    weights: &[Ciphertext],
    xs: &[u64],
) -> Vec<(RnsPoly, RnsPoly)> {
    let top = ctx.top_level();
    let scalars = Scalars::new(top, layout.n, layout.k, |j, t| lift(ctx, xs[t * layout.n + j], top));
    let mut results = vec![(RnsPoly::zero(ctx.n(), 0), RnsPoly::zero(ctx.n(), 0)); layout.k * layout.blocks];
    for r in 0..layout.blocks {
        let block: Vec<&Ciphertext> = (0..layout.n).map(|j| &weights[j * layout.blocks + r]).collect();
        let c0s: Vec<&RnsPoly> = block.iter().map(|c| &c.c0).collect();
        let c1s: Vec<RnsPoly> = block.iter().map(|c| c.c1_poly(ctx)).collect();
        let c1_refs: Vec<&RnsPoly> = c1s.iter().collect();
        let acc0 = accumulate(ctx, &c0s, &scalars);
        let acc1 = accumulate(ctx, &c1_refs, &scalars);
        for (t, (a0, a1)) in acc0.into_iter().zip(acc1).enumerate() {
            results[t * layout.blocks + r] = (a0, a1);
        }
    }
    results
}

/// Response `g` before re-randomisation and mask: its per_ct results shifted into place and
/// summed, then switched down one prime.
pub fn packed(
    ctx: &RlweContext,
    layout: &CopLayout,
    results: &[(RnsPoly, RnsPoly)],
    g: usize,
) -> Result<Ciphertext, ProtocolError> {
    let mut packed: Option<Ciphertext> = None;
    for (u, (c0, c1)) in results.iter().skip(g * layout.per_ct).take(layout.per_ct).enumerate() {
        let ct = Ciphertext { c0: c0.clone(), c1: Mask::Poly(c1.clone()) }.shifted(ctx, u * layout.d0);
        match packed.as_mut() {
            Some(acc) => acc.add_assign(ctx, &ct),
            None => packed = Some(ct),
        }
    }
    let mut ct = packed.ok_or(ProtocolError::Config {
        protocol: "nimbus.linear",
        reason: format!("response {g} of {} has no results", layout.responses),
    })?;
    ct.mod_switch(ctx);
    Ok(ct)
}

/// The formula of [`setup`]: the public key at the switched-down level and n·⌈m/d0⌉ seeded
/// weight ciphertexts, in one message from the server (setup phase).
pub fn setup_cost(f: &mut Formula, ctx: &RlweContext, layout: &CopLayout) {
    f.in_phase(Phase::Setup, |f| {
        let weights = layout.n * layout.blocks * Ciphertext::wire_bytes(ctx, ctx.top_level(), true);
        f.send(Role::Server, ctx.poly_bytes(ctx.top_level() - 1) + 32 + weights);
        f.recv(Role::Client);
    });
}

/// The formula of [`online`]: the packed responses at the switched-down level, in one message
/// from the client.
pub fn online_cost(f: &mut Formula, ctx: &RlweContext, layout: &CopLayout) {
    f.send(Role::Client, layout.responses * Ciphertext::wire_bytes(ctx, ctx.top_level() - 1, false));
    f.recv(Role::Server);
}

/// Calls `put(t, c, v)` for every result coefficient of response ciphertext `g`.
pub fn scatter<T: Copy>(layout: &CopLayout, g: usize, coeffs: &[T], mut put: impl FnMut(usize, usize, T)) {
    for u in 0..layout.per_ct {
        let o = g * layout.per_ct + u;
        if o >= layout.k * layout.blocks {
            break;
        }
        let (t, r) = (o / layout.blocks, o % layout.blocks);
        for i in 0..layout.d0 {
            let c = r * layout.d0 + i;
            if c < layout.m {
                put(t, c, coeffs[u * layout.d0 + i]);
            }
        }
    }
}

/// `nimbus.linear`: Y = X·W with Nimbus's client-side outer product (dims k,n,m);
/// `nimbus.linear_flooded` with its responses flooded; `nimbus.linear_reused_zero` (not
/// registered) with the public code's shared encryptions of zero.
#[derive(Clone, Copy, Debug, Default)]
pub struct NimbusLinear {
    /// What the client does to its responses' noise.
    pub noise: Noise,
    /// How many responses share an encryption of zero.
    pub zeros: Zeros,
}

impl HeLinear for NimbusLinear {
    fn name(&self) -> &'static str {
        match (self.noise, self.zeros) {
            (Noise::AsIs, Zeros::PerChunk(_)) => "nimbus.linear_reused_zero",
            (Noise::Flooded, Zeros::PerChunk(_)) => "nimbus.linear_flooded_reused_zero",
            (Noise::AsIs, Zeros::Fresh) => "nimbus.linear",
            (Noise::Flooded, Zeros::Fresh) => "nimbus.linear_flooded",
        }
    }
    fn paper(&self) -> &'static str {
        "Nimbus (NeurIPS 2024): client-side outer product over RLWE"
    }
    fn computes(&self) -> &'static str {
        match (self.noise, self.zeros) {
            (_, Zeros::PerChunk(_)) => "X·W as nimbus.linear, one encryption of zero per chunk of responses (insecure)",
            (Noise::AsIs, Zeros::Fresh) => "X·W for shared X [k,n] and the server's W [n,m] (dims k,n,m)",
            (Noise::Flooded, Zeros::Fresh) => {
                "X·W as nimbus.linear, each response flooded with 40 statistical bits (wider Q)"
            }
        }
    }
    fn noise(&self) -> Noise {
        self.noise
    }
    fn responses(&self, ctx: &RlweContext, (k, n, m): (usize, usize, usize), observer: Role) -> Option<usize> {
        (observer == Role::Server).then(|| CopLayout::new(ctx.n(), k, n, m).responses)
    }
    fn product(
        &self,
        p: &mut Party,
        ctx: &RlweContext,
        w: Option<&RingTensor>,
        x: &Share,
        m: usize,
    ) -> Result<Share, ProtocolError> {
        let (k, n) = matrix(self.name(), x.shape())?;
        let layout = CopLayout::new(ctx.n(), k, n, m);
        let state = setup(p, ctx, &layout, w)?;
        online(p, ctx, &layout, &state, self.zeros, w, x)
    }
    fn product_cost(&self, f: &mut Formula, ctx: &RlweContext, k: usize, n: usize, m: usize) {
        let layout = CopLayout::new(ctx.n(), k, n, m);
        setup_cost(f, ctx, &layout);
        online_cost(f, ctx, &layout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bert_base_layout_matches_the_paper_code() {
        let l = CopLayout::new(8192, 128, 768, 768);
        assert_eq!((l.d0, l.blocks, l.per_ct, l.responses), (1024, 1, 8, 16));
        let l = CopLayout::new(8192, 128, 768, 3072);
        assert_eq!((l.d0, l.blocks, l.per_ct, l.responses), (4096, 1, 2, 64));
        let l = CopLayout::new(8192, 128, 3072, 768);
        assert_eq!(l.responses, 16, "input size does not change the online traffic");
    }
}
