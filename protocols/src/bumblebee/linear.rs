//! `bumblebee.linear`: the server-side inner-product (SIP) linear layer of Cheetah and
//! BumbleBee, the baseline of Nimbus's linear layer.
//!
//! Y = X·W for X shared (k × n) and the server's W (n × m). The client encrypts its share every
//! query with Cheetah's polynomial encoding: blocks of d2 tokens × d1 inputs become
//! X̂(Y) = Σ X[t, j]·Y^(t·d0·d1 + j), weight blocks of d1 inputs × d0 outputs become
//! Ŵ(Y) = Σ W[j, r]·Y^(r·d1 + d1 − 1 − j), and the coefficient t·d0·d1 + r·d1 + d1 − 1 of X̂·Ŵ is
//! Σ_j X[t, j]·W[j, r] (no wrap-around while d0·d1·d2 ≤ N).
//!
//! - **Setup**: the client sends its public key (for the server's re-randomisation) and the
//!   Galois keys for packing up to [`MAX_PACK`] blocks, once for every layer.
//! - **Online**: the client sends ⌈n/d1⌉·⌈k/d2⌉ seeded ciphertexts; the server encodes its weight
//!   blocks (a row at a time, every query, as BumbleBee does), multiplies the queries by them in
//!   the NTT domain, sums over input blocks, switches the modulus down
//!   and multiplies by Y^−(d1−1), which puts every result at a multiple of d1. It then packs g
//!   output blocks into one ciphertext ([`dyad_rlwe::galois::pack_strided`], BumbleBee's
//!   PackLWEs step: block j's results land at d1·i + j), re-randomises with a fresh encryption of
//!   zero (and floods, in `bumblebee.linear_flooded`), subtracts a uniform mask and returns ⌈⌈m/d0⌉/g⌉·⌈k/d2⌉ ciphertexts; the client
//!   decrypts. Two messages, one each way.
//! - (d0, d1, d2, g) are the powers of two, g ≤ min(d1, [`MAX_PACK`]), that minimise the bytes
//!   sent online.

use dyad_sim::{Channel, ChannelError, Formula, Party, Phase, Ring, RingTensor, Role, Share};
use rayon::prelude::*;

use crate::error::{ProtocolError, from_peer};
use crate::linear::{HeLinear, Noise, fresh_term, rerandomise, switched_noise};
use crate::protocol::matrix;
use dyad_rlwe::cipher::{
    Ciphertext, Mask, centred, decode_scaled, decrypt, encrypt_sk, encrypt_zero_pk, poly_from_bytes, poly_to_bytes,
    residue,
};
use dyad_rlwe::galois::{GaloisKeys, decomposition, pack_strided, packing_elements};
use dyad_rlwe::keys::{PublicKey, SecretKey};
use dyad_rlwe::{RlweContext, RnsPoly};

/// The most output blocks packed into one response: log2 of it Galois keys go to the server.
pub const MAX_PACK: usize = 64;

/// Cheetah's block sizes, the packing factor and the ciphertext counts they give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipLayout {
    /// Tokens.
    pub k: usize,
    /// Inputs.
    pub n: usize,
    /// Outputs.
    pub m: usize,
    /// Outputs per block.
    pub d0: usize,
    /// Inputs per block.
    pub d1: usize,
    /// Tokens per block.
    pub d2: usize,
    /// Output blocks packed into one response ciphertext.
    pub pack: usize,
}

impl SipLayout {
    /// Ciphertexts the client sends: ⌈n/d1⌉·⌈k/d2⌉.
    pub fn inputs(&self) -> usize {
        self.n.div_ceil(self.d1) * self.k.div_ceil(self.d2)
    }

    /// Ciphertexts the server returns: ⌈⌈m/d0⌉/g⌉·⌈k/d2⌉.
    pub fn outputs(&self) -> usize {
        self.m.div_ceil(self.d0).div_ceil(self.pack) * self.k.div_ceil(self.d2)
    }

    /// Bytes of both online messages.
    pub fn bytes(&self, ctx: &RlweContext) -> usize {
        self.inputs() * Ciphertext::wire_bytes(ctx, ctx.top_level(), true)
            + self.outputs() * Ciphertext::wire_bytes(ctx, ctx.top_level() - 1, false)
    }

    /// Response groups: ⌈⌈m/d0⌉/g⌉.
    pub fn groups(&self) -> usize {
        self.m.div_ceil(self.d0).div_ceil(self.pack)
    }

    /// The results response (`group`, `b2`) carries: (coefficient, index in the row-major k × m
    /// output) for each output block b0 of the group and each (token, output) of the block.
    pub fn slots(&self, group: usize, b2: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let nb0 = self.m.div_ceil(self.d0);
        (group * self.pack..nb0.min((group + 1) * self.pack)).flat_map(move |b0| {
            (0..self.d2.min(self.k - b2 * self.d2)).flat_map(move |t| {
                (0..self.d0.min(self.m - b0 * self.d0)).map(move |r| {
                    (self.d1 * (t * self.d0 + r) + b0 % self.pack, (b2 * self.d2 + t) * self.m + b0 * self.d0 + r)
                })
            })
        })
    }

    /// A bound on a response's noise before re-randomisation, all of it known to the decrypting
    /// client or shaped by the server's W: each product coefficient sums at most d0·d1 terms
    /// w·(e + ε) per input block ([`fresh_term`]), then the modulus switch ([`switched_noise`]);
    /// the packing keeps those coefficients and adds each key switch's noise, doubled once per
    /// level above it: Σ_t 4^t = (4^L − 1)/3 switches' worth for g = 2^L, each at most
    /// parts·N·digit·η/P plus its rounding.
    pub fn noise_bound(&self, ctx: &RlweContext) -> u128 {
        let big = ctx.n() as u128;
        let terms = (self.d0 * self.d1 * self.n.div_ceil(self.d1)) as u128;
        let products = switched_noise(ctx, terms.saturating_mul(fresh_term(ctx)));
        let (w, parts) = decomposition(ctx, ctx.top_level() - 1);
        let digit = 1u128 << w.min(64);
        let special = u128::from(ctx.moduli()[ctx.top_level() - 1].value());
        let digits = (parts.len() as u128 * big).saturating_mul(digit).saturating_mul(u128::from(dyad_rlwe::keys::ETA));
        let switch = digits.div_ceil(special).saturating_add((big + 1).div_ceil(2));
        let switches = ((1u128 << (2 * self.pack.trailing_zeros())) - 1) / 3;
        products.saturating_add(switch.saturating_mul(switches))
    }

    /// The powers of two with d0·d1·d2 ≤ N and g ≤ min(d1, `max_pack`, ⌈m/d0⌉ rounded up) that
    /// minimise the online bytes (ties: fewer ciphertexts, then fewer Galois keys).
    pub fn choose(ctx: &RlweContext, k: usize, n: usize, m: usize, max_pack: usize) -> Self {
        let big = ctx.n();
        let pow2 =
            |cap: usize| (0..=big.trailing_zeros()).map(|e| 1usize << e).filter(move |&d| d <= cap.next_power_of_two());
        let mut best: Option<SipLayout> = None;
        for d2 in pow2(k) {
            for d1 in pow2(n) {
                for d0 in pow2(m) {
                    if d0 * d1 * d2 > big {
                        continue;
                    }
                    let pack = d1.min(max_pack.max(1)).min(m.div_ceil(d0).next_power_of_two());
                    let pack = 1 << pack.ilog2();
                    let l = SipLayout { k, n, m, d0, d1, d2, pack };
                    let key = |l: &SipLayout| (l.bytes(ctx), l.inputs() + l.outputs(), l.pack);
                    if best.is_none_or(|b| key(&l) < key(&b)) {
                        best = Some(l);
                    }
                }
            }
        }
        best.unwrap_or(SipLayout { k, n, m, d0: 1, d1: 1, d2: 1, pack: 1 })
    }
}

/// The client's keys, set up once and used by every SIP layer and query.
#[derive(Clone, Debug)]
pub enum SipKeys {
    /// The server: the client's public key (for re-randomising) and Galois keys (for packing).
    Server {
        /// The client's public key.
        pk: PublicKey,
        /// The client's Galois keys for packing up to [`MAX_PACK`] blocks.
        galois: GaloisKeys,
    },
    /// The client's secret key.
    Client(SecretKey),
}

/// The server's weight block Ŵ[b0][b1] for layout `l`, in NTT form: coefficient r·d1 + d1 − 1 − j
/// holds W[b1·d1 + j][b0·d0 + r] (`w` is W, row-major `[n, m]`). Built when a response needs it,
/// as BumbleBee's server encodes its weights per query: caching every block would hold m·n·d2
/// residues per limb, 22 GB for one BERT-base layer at d2 = 128.
pub fn weight_block(ctx: &RlweContext, l: &SipLayout, w: &[u64], b0: usize, b1: usize) -> RnsPoly {
    let (bits, limbs) = (ctx.params().plain_bits, ctx.top_level());
    let mut poly = RnsPoly::zero(ctx.n(), limbs);
    for r in 0..l.d0.min(l.m.saturating_sub(b0 * l.d0)) {
        for j in 0..l.d1.min(l.n.saturating_sub(b1 * l.d1)) {
            let v = w.get((b1 * l.d1 + j) * l.m + b0 * l.d0 + r).map_or(0, |&v| centred(v, bits));
            if v != 0 {
                for (i, modulus) in ctx.moduli()[..limbs].iter().enumerate() {
                    poly.limb_mut(i)[r * l.d1 + l.d1 - 1 - j] = residue(modulus, v);
                }
            }
        }
    }
    poly.to_ntt(ctx);
    poly
}

/// The key setup: the client sends its public key and the Galois keys for packing up to
/// [`MAX_PACK`] blocks, which serve every layout.
pub fn keys(p: &mut Party, ctx: &RlweContext) -> Result<SipKeys, ProtocolError> {
    let low = ctx.top_level() - 1;
    let elements = packing_elements(ctx.n(), MAX_PACK);
    p.in_phase(Phase::Setup, |p| {
        p.scope("keys", |p| match p.role() {
            Role::Client => {
                let sk = SecretKey::generate(ctx, p.rng());
                let pk = PublicKey::generate(ctx, &sk, low, p.rng());
                let galois = GaloisKeys::generate(ctx, &sk, low, &elements, p.rng());
                let mut msg = poly_to_bytes(ctx, &pk.b);
                msg.extend_from_slice(&pk.seed);
                msg.extend(galois.to_bytes(ctx));
                p.send_bytes(msg)?;
                Ok(SipKeys::Client(sk))
            }
            Role::Server => {
                let bytes = p.recv_bytes()?;
                let pk_len = ctx.poly_bytes(low) + 32;
                let expected = pk_len + GaloisKeys::wire_bytes(ctx, low, elements.len());
                if bytes.len() != expected {
                    return Err(ChannelError::Malformed { expected, got: bytes.len() }.into());
                }
                let b = poly_from_bytes(ctx, low, &bytes[..pk_len - 32]).map_err(|e| from_peer("public key", e))?;
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&bytes[pk_len - 32..pk_len]);
                let galois = GaloisKeys::from_bytes(ctx, low, &elements, &bytes[pk_len..])
                    .map_err(|e| from_peer("Galois keys", e))?;
                Ok(SipKeys::Server { pk: PublicKey { b, seed }, galois })
            }
        })
    })
}

/// The formula of [`keys`]: the public key and the Galois keys, one message from the client
/// (setup phase).
pub fn keys_cost(f: &mut Formula, ctx: &RlweContext) {
    let low = ctx.top_level() - 1;
    f.in_phase(Phase::Setup, |f| {
        let galois = GaloisKeys::wire_bytes(ctx, low, packing_elements(ctx.n(), MAX_PACK).len());
        f.send(Role::Client, ctx.poly_bytes(low) + 32 + galois);
        f.recv(Role::Server);
    });
}

/// The formula of [`online`]: the client's seeded input ciphertexts, then the server's packed
/// responses at the switched-down level.
pub fn online_cost(f: &mut Formula, ctx: &RlweContext, l: &SipLayout) {
    f.send(Role::Client, l.inputs() * Ciphertext::wire_bytes(ctx, ctx.top_level(), true));
    f.recv(Role::Server);
    f.send(Role::Server, l.outputs() * Ciphertext::wire_bytes(ctx, ctx.top_level() - 1, false));
    f.recv(Role::Client);
}

/// Online: shares of X·W at scale 2^(2f), shape `[k, m]`. The server passes W.
pub fn online(
    p: &mut Party,
    ctx: &RlweContext,
    l: &SipLayout,
    keys: &SipKeys,
    server: Option<&RingTensor>,
    x: &Share,
) -> Result<Share, ProtocolError> {
    match keys {
        SipKeys::Client(sk) => {
            let msg = ask(p, ctx, l, sk, x);
            p.send_bytes(msg)?;
            let bytes = p.recv_bytes()?;
            read_answers(p, ctx, l, sk, x.ring(), &bytes)
        }
        SipKeys::Server { .. } => {
            let bytes = p.recv_bytes()?;
            let (msg, share) = answer(p, ctx, l, keys, server, x, &bytes)?;
            p.send_bytes(msg)?;
            Ok(share)
        }
    }
}

/// The client's query message for its share `x`: [`SipLayout::inputs`] seeded ciphertexts.
pub fn ask(p: &mut Party, ctx: &RlweContext, l: &SipLayout, sk: &SecretKey, x: &Share) -> Vec<u8> {
    p.scope("encrypt_input", |p| {
        let mut msg = Vec::with_capacity(l.inputs() * Ciphertext::wire_bytes(ctx, ctx.top_level(), true));
        for ct in queries(ctx, l, sk, &x.tensor().to_vec(), p.rng()) {
            msg.extend(ct.to_bytes(ctx));
        }
        msg
    })
}

/// The server's answer to the client's query `bytes`, with W and its share `x` of X: the
/// message of [`SipLayout::outputs`] masked responses, and its share of X·W.
fn answer(
    p: &mut Party,
    ctx: &RlweContext,
    l: &SipLayout,
    keys: &SipKeys,
    server: Option<&RingTensor>,
    x: &Share,
    bytes: &[u8],
) -> Result<(Vec<u8>, Share), ProtocolError> {
    let SipKeys::Server { pk, galois } = keys else {
        return Err(ProtocolError::Config { protocol: "bumblebee.linear", reason: "the server answers".into() });
    };
    let w =
        server.ok_or(ProtocolError::Config { protocol: "bumblebee.linear", reason: "the server holds W".into() })?;
    let mut share = p.scope("plain_matmul", |_| x.tensor().matmul(w))?;
    let responses = p.scope("inner_product_and_pack", |_| unmasked(ctx, l, galois, w, bytes))?;
    let msg = p.scope("mask", |p| mask(p, ctx, l, pk, responses, &mut share))?;
    Ok((msg, Share::new(share)))
}

/// The server's responses to the client's query `bytes` with W, before re-randomisation and
/// mask ([`respond`]); the query checked first.
pub fn unmasked(
    ctx: &RlweContext,
    l: &SipLayout,
    galois: &GaloisKeys,
    w: &RingTensor,
    bytes: &[u8],
) -> Result<Vec<Ciphertext>, ProtocolError> {
    let top = ctx.top_level();
    let in_len = Ciphertext::wire_bytes(ctx, top, true);
    if bytes.len() != l.inputs() * in_len {
        return Err(ChannelError::Malformed { expected: l.inputs() * in_len, got: bytes.len() }.into());
    }
    let cts = bytes
        .chunks_exact(in_len)
        .map(|c| Ciphertext::from_bytes(ctx, top, true, c).map_err(|e| from_peer("SIP query", e)))
        .collect::<Result<Vec<_>, ProtocolError>>()?;
    respond(ctx, l, galois, &w.to_vec(), &ntt_queries(ctx, &cts))
}

/// Re-randomises `responses` with fresh encryptions of zero under the client's `pk`, subtracts
/// a uniform mask from each and adds the mask's decoding to the server's `share` of the `[k, m]`
/// product: the message for the client.
pub fn mask(
    p: &mut Party,
    ctx: &RlweContext,
    l: &SipLayout,
    pk: &PublicKey,
    responses: Vec<Ciphertext>,
    share: &mut RingTensor,
) -> Result<Vec<u8>, ProtocolError> {
    let (ring, nb2, top) = (share.ring(), l.k.div_ceil(l.d2), ctx.top_level());
    let mut values = share.to_vec();
    let mut msg = Vec::with_capacity(l.outputs() * Ciphertext::wire_bytes(ctx, top - 1, false));
    let noise = l.noise_bound(ctx);
    for (idx, mut ct) in responses.into_iter().enumerate() {
        let zero = encrypt_zero_pk(ctx, pk, p.rng());
        rerandomise(ctx, &mut ct, &zero, noise, p.rng())?;
        let rho = RnsPoly::uniform(ctx, top - 1, p.rng());
        ct.c0.sub_assign(ctx, &rho);
        let mine = decode_scaled(ctx, &rho);
        for (coeff, i) in l.slots(idx / nb2, idx % nb2) {
            values[i] = ring.add(values[i], mine[coeff]);
        }
        msg.extend(ct.to_bytes(ctx));
    }
    *share = RingTensor::from_vec(ring, share.shape(), values)?;
    Ok(msg)
}

/// The client's share of X·W over `ring` from the server's answer `bytes`.
pub fn read_answers(
    p: &mut Party,
    ctx: &RlweContext,
    l: &SipLayout,
    sk: &SecretKey,
    ring: Ring,
    bytes: &[u8],
) -> Result<Share, ProtocolError> {
    let (k, m, nb2, top) = (l.k, l.m, l.k.div_ceil(l.d2), ctx.top_level());
    let out_len = Ciphertext::wire_bytes(ctx, top - 1, false);
    if bytes.len() != l.outputs() * out_len {
        return Err(ChannelError::Malformed { expected: l.outputs() * out_len, got: bytes.len() }.into());
    }
    let mut share = vec![0u64; k * m];
    p.scope("decrypt", |_| -> Result<(), ProtocolError> {
        for (idx, chunk) in bytes.chunks_exact(out_len).enumerate() {
            let ct = Ciphertext::from_bytes(ctx, top - 1, false, chunk).map_err(|e| from_peer("SIP response", e))?;
            let plain = decrypt(ctx, sk, &ct);
            for (coeff, i) in l.slots(idx / nb2, idx % nb2) {
                share[i] = plain[coeff];
            }
        }
        Ok(())
    })?;
    Ok(Share::new(RingTensor::from_vec(ring, &[k, m], share)?))
}

/// The client's query for its share `xs` (row-major k × n): one seeded ciphertext per input
/// block b1 and token block b2, index b1·⌈k/d2⌉ + b2, X̂ as in the module docs.
pub fn queries<R: rand::Rng + ?Sized>(
    ctx: &RlweContext,
    l: &SipLayout,
    sk: &SecretKey,
    xs: &[u64],
    rng: &mut R,
) -> Vec<Ciphertext> {
    let (k, n) = (l.k, l.n);
    let mut out = Vec::with_capacity(l.inputs());
    for b1 in 0..n.div_ceil(l.d1) {
        for b2 in 0..k.div_ceil(l.d2) {
            let mut plain = vec![0u64; ctx.n()];
            for t in 0..l.d2.min(k - b2 * l.d2) {
                for j in 0..l.d1.min(n - b1 * l.d1) {
                    plain[t * l.d0 * l.d1 + j] = xs[(b2 * l.d2 + t) * n + b1 * l.d1 + j];
                }
            }
            out.push(encrypt_sk(ctx, sk, &plain, rng));
        }
    }
    out
}

/// A query's ciphertexts with both halves in NTT form, as [`respond`] takes them.
pub fn ntt_queries(ctx: &RlweContext, cts: &[Ciphertext]) -> Vec<(RnsPoly, RnsPoly)> {
    cts.iter()
        .map(|ct| {
            let (mut c0, mut c1) = (ct.c0.clone(), ct.c1_poly(ctx));
            c0.to_ntt(ctx);
            c1.to_ntt(ctx);
            (c0, c1)
        })
        .collect()
}

/// The server's responses before re-randomisation and mask, index group·⌈k/d2⌉ + b2: each the
/// inner products of its group's output blocks with token block b2, switched down one prime,
/// aligned and packed. The responses are split between two threads.
pub fn respond(
    ctx: &RlweContext,
    l: &SipLayout,
    galois: &GaloisKeys,
    w: &[u64],
    inputs: &[(RnsPoly, RnsPoly)],
) -> Result<Vec<Ciphertext>, ProtocolError> {
    let (nb0, nb1, nb2) = (l.m.div_ceil(l.d0), l.n.div_ceil(l.d1), l.k.div_ceil(l.d2));
    // Y^−(d1−1) = Y^(2N − d1 + 1): moves each result to a multiple of d1.
    let align = 2 * ctx.n() - (l.d1 - 1);
    // Row b0's blocks are built for each of the nb2 token blocks (one, once d2 ≥ k).
    let product = |b0: usize, b2: usize| {
        let row: Vec<RnsPoly> = (0..nb1).map(|b1| weight_block(ctx, l, w, b0, b1)).collect();
        let terms0: Vec<(&RnsPoly, &RnsPoly)> = (0..nb1).map(|b1| (&inputs[b1 * nb2 + b2].0, &row[b1])).collect();
        let terms1: Vec<(&RnsPoly, &RnsPoly)> = (0..nb1).map(|b1| (&inputs[b1 * nb2 + b2].1, &row[b1])).collect();
        let mut acc0 = RnsPoly::dot(ctx, &terms0);
        let mut acc1 = RnsPoly::dot(ctx, &terms1);
        acc0.from_ntt(ctx);
        acc1.from_ntt(ctx);
        let mut ct = Ciphertext { c0: acc0, c1: Mask::Poly(acc1) };
        ct.mod_switch(ctx);
        ct.shifted(ctx, align)
    };
    let pairs: Vec<(usize, usize)> = (0..l.groups()).flat_map(|g| (0..nb2).map(move |b2| (g, b2))).collect();
    pairs
        .par_iter()
        .map(|&(group, b2)| {
            let products: Vec<Option<Ciphertext>> =
                (group * l.pack..(group + 1) * l.pack).map(|b0| (b0 < nb0).then(|| product(b0, b2))).collect();
            pack_strided(ctx, &products, galois)?.ok_or(ProtocolError::Config {
                protocol: "bumblebee.linear",
                reason: "an output group without blocks".into(),
            })
        })
        .collect()
}

/// `bumblebee.linear`: Y = X·W with Cheetah/BumbleBee's server-side inner product (dims k,n,m);
/// `bumblebee.linear_flooded` with its responses flooded.
#[derive(Clone, Copy, Debug, Default)]
pub struct SipLinear {
    /// What the server does to its responses' noise.
    pub noise: Noise,
}

impl HeLinear for SipLinear {
    fn name(&self) -> &'static str {
        match self.noise {
            Noise::AsIs => "bumblebee.linear",
            Noise::Flooded => "bumblebee.linear_flooded",
        }
    }
    fn paper(&self) -> &'static str {
        "Cheetah (USENIX Sec 2022) §3 / BumbleBee (NDSS 2025): server-side inner product over RLWE"
    }
    fn computes(&self) -> &'static str {
        match self.noise {
            Noise::AsIs => {
                "X·W for shared X [k,n] and the server's W [n,m] (dims k,n,m); responses packed with Galois keys"
            }
            Noise::Flooded => "X·W as bumblebee.linear, each response flooded with 40 statistical bits (wider Q)",
        }
    }
    fn noise(&self) -> Noise {
        self.noise
    }
    fn responses(&self, ctx: &RlweContext, (k, n, m): (usize, usize, usize), observer: Role) -> Option<usize> {
        (observer == Role::Client).then(|| SipLayout::choose(ctx, k, n, m, MAX_PACK).outputs())
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
        let layout = SipLayout::choose(ctx, k, n, m, MAX_PACK);
        let keys = keys(p, ctx)?;
        online(p, ctx, &layout, &keys, w, x)
    }
    fn product_cost(&self, f: &mut Formula, ctx: &RlweContext, k: usize, n: usize, m: usize) {
        keys_cost(f, ctx);
        online_cost(f, ctx, &SipLayout::choose(ctx, k, n, m, MAX_PACK));
    }
}
