//! OT extension: Ishai, Kilian, Nissim and Petrank, "Extending Oblivious Transfers
//! Efficiently" (CRYPTO 2003), semi-honest, producing Δ-correlated OTs.
//!
//! Setup (once per direction): 128 base OTs ([`super::simplest`]) with the roles swapped —
//! the extension's receiver sends, holding both keys (k_j⁰, k_j¹) of each column j; the
//! extension's sender receives k_j^{s_j} for the bits s_j of its secret Δ.
//!
//! Extension of m OTs, the receiver holding random choice bits r ∈ {0,1}^m: it expands
//! t_j = G(k_j⁰) and sends u_j = t_j ⊕ G(k_j¹) ⊕ r for every column (128·⌈m/8⌉ bytes, one
//! message, laid out chunk by chunk of 8192 OTs so that each chunk is worked on in cache); the sender computes q_j = G(k_j^{s_j}) ⊕ s_j·u_j = t_j ⊕ s_j·r. Read by rows,
//! q_i = t_i ⊕ r_i·Δ: the sender holds q_i and Δ, the receiver r_i and t_i — a correlated OT.
//! G is AES-128 in counter mode ([`super::fixed_key::Prg`]); each column's stream continues
//! across extensions.

use rand::RngExt as _;
use rand_chacha::ChaCha20Rng;

use super::fixed_key::Prg;
use super::simplest;
use crate::channel::Channel;
use crate::error::{ChannelError, SimError};

/// κ: base OTs, columns, and bits of Δ.
pub(crate) const KAPPA: usize = 128;

/// OTs extended per chunk: each chunk's 128 columns (1 KiB each) are expanded, masked and
/// transposed while they are in cache.
const CHUNK: usize = 64 * KAPPA;
/// 128-bit words of a chunk's column.
const CHUNK_WORDS: usize = CHUNK / KAPPA;

/// Bytes the receiver sends to extend `m` OTs.
pub(crate) fn extension_bytes(m: usize) -> usize {
    KAPPA * m.div_ceil(8)
}

/// The extension's sender: Δ and the base-OT key at each of Δ's bits.
#[derive(Debug)]
pub(crate) struct IknpSender {
    delta: u128,
    columns: Vec<Prg>,
}

/// The extension's receiver: both base-OT keys of every column.
#[derive(Debug)]
pub(crate) struct IknpReceiver {
    columns: Vec<[Prg; 2]>,
}

impl IknpSender {
    /// Runs the base OTs as their receiver, choosing the bits of a random Δ.
    pub(crate) fn setup<C: Channel>(ch: &mut C, rng: &mut ChaCha20Rng) -> Result<Self, SimError> {
        let delta: u128 = rng.random();
        let bits: Vec<bool> = (0..KAPPA).map(|j| delta >> j & 1 == 1).collect();
        let keys = simplest::receive(ch, rng, &bits)?;
        Ok(IknpSender { delta, columns: keys.into_iter().map(Prg::new).collect() })
    }

    /// Δ.
    pub(crate) fn delta(&self) -> u128 {
        self.delta
    }

    /// `m` correlated OTs: q_i, where the receiver holds t_i = q_i ⊕ r_i·Δ.
    pub(crate) fn extend<C: Channel>(&mut self, ch: &mut C, m: usize) -> Result<Vec<u128>, SimError> {
        let u = ch.recv_bytes()?;
        let expected = extension_bytes(m);
        if u.len() != expected {
            return Err(ChannelError::Malformed { expected, got: u.len() }.into());
        }
        let mut out = Vec::with_capacity(m);
        let mut columns = vec![0u128; KAPPA * CHUNK_WORDS];
        let mut offset = 0;
        for start in (0..m).step_by(CHUNK) {
            let mc = CHUNK.min(m - start);
            let (words, per) = (mc.div_ceil(KAPPA), mc.div_ceil(8));
            for (j, (column, prg)) in columns.chunks_exact_mut(words).zip(&mut self.columns).enumerate() {
                prg.fill(column);
                if self.delta >> j & 1 == 1 {
                    for (q, u) in column.iter_mut().zip(from_bytes(&u[offset + j * per..offset + (j + 1) * per], words))
                    {
                        *q ^= u;
                    }
                }
            }
            offset += KAPPA * per;
            rows(&columns[..KAPPA * words], mc, &mut out);
        }
        Ok(out)
    }
}

impl IknpReceiver {
    /// Runs the base OTs as their sender.
    pub(crate) fn setup<C: Channel>(ch: &mut C, rng: &mut ChaCha20Rng) -> Result<Self, SimError> {
        let keys = simplest::send(ch, rng, KAPPA)?;
        Ok(IknpReceiver { columns: keys.into_iter().map(|[k0, k1]| [Prg::new(k0), Prg::new(k1)]).collect() })
    }

    /// Correlated OTs with the given choice bits: t_i = q_i ⊕ r_i·Δ.
    pub(crate) fn extend<C: Channel>(&mut self, ch: &mut C, choices: &[bool]) -> Result<Vec<u128>, SimError> {
        let m = choices.len();
        let mut out = Vec::with_capacity(m);
        let mut u = Vec::with_capacity(extension_bytes(m));
        let mut columns = vec![0u128; KAPPA * CHUNK_WORDS];
        let mut other = [0u128; CHUNK_WORDS];
        let mut r = [0u128; CHUNK_WORDS];
        for chunk in choices.chunks(CHUNK) {
            let mc = chunk.len();
            let (words, per) = (mc.div_ceil(KAPPA), mc.div_ceil(8));
            r.fill(0);
            for (i, _) in chunk.iter().enumerate().filter(|(_, c)| **c) {
                r[i / KAPPA] |= 1 << (i % KAPPA);
            }
            for (column, [g0, g1]) in columns.chunks_exact_mut(words).zip(&mut self.columns) {
                g0.fill(column);
                g1.fill(&mut other[..words]);
                let at = u.len();
                for ((t, g), r) in column.iter().zip(&other).zip(&r) {
                    u.extend_from_slice(&(t ^ g ^ r).to_le_bytes());
                }
                u.truncate(at + per);
            }
            rows(&columns[..KAPPA * words], mc, &mut out);
        }
        ch.send_bytes(u)?;
        Ok(out)
    }
}

/// `words` 128-bit words from up to 16·words little-endian bytes, zero-padded.
fn from_bytes(bytes: &[u8], words: usize) -> impl Iterator<Item = u128> + '_ {
    (0..words).map(move |w| {
        let mut b = [0u8; 16];
        let chunk = bytes.get(w * 16..).unwrap_or_default();
        let take = chunk.len().min(16);
        b[..take].copy_from_slice(&chunk[..take]);
        u128::from_le_bytes(b)
    })
}

/// Appends to `out` the first `m` rows of the 128 × m bit matrix stored column by column
/// (⌈m/128⌉ words each).
fn rows(columns: &[u128], m: usize, out: &mut Vec<u128>) {
    let words = m.div_ceil(KAPPA);
    let mut block = [0u128; KAPPA];
    for w in 0..words {
        for (j, b) in block.iter_mut().enumerate() {
            *b = columns[j * words + w];
        }
        transpose(&mut block);
        out.extend_from_slice(&block[..(m - w * KAPPA).min(KAPPA)]);
    }
}

/// Transposes a 128 × 128 bit matrix in place (row j, bit i ↦ row i, bit j) by swapping ever
/// smaller blocks (Hacker's Delight §7-3, least significant bit first).
fn transpose(a: &mut [u128; KAPPA]) {
    let mut width = KAPPA / 2;
    let mut mask: u128 = u128::from(u64::MAX);
    while width != 0 {
        let mut k = 0;
        while k < KAPPA {
            let t = ((a[k] >> width) ^ a[k + width]) & mask;
            a[k + width] ^= t;
            a[k] ^= t << width;
            k = (k + width + 1) & !width;
        }
        width >>= 1;
        mask ^= mask << width;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_matches_the_definition() {
        let mut a = [0u128; KAPPA];
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834;
        for row in &mut a {
            x = x.wrapping_mul(0x2545_f491_4f6c_dd1d_0000_0000_0000_0001).wrapping_add(1);
            *row = x;
        }
        let before = a;
        transpose(&mut a);
        for (i, row) in a.iter().enumerate() {
            for (j, column) in before.iter().enumerate() {
                assert_eq!(row >> j & 1, column >> i & 1, "row {i} bit {j}");
            }
        }
    }

    #[test]
    fn extended_rows_are_delta_correlated_and_a_wrong_delta_is_caught() {
        use crate::{SimConfig, simulate};
        for m in [1, 127, 128, 129, 1000, CHUNK, CHUNK + 1, 2 * CHUNK + 300] {
            let out = simulate(
                &SimConfig::with_seed(m as u64),
                |p| -> Result<_, SimError> {
                    let mut rng = p.rng().clone();
                    let mut s = IknpSender::setup(p, &mut rng)?;
                    Ok((s.delta(), s.extend(p, m)?))
                },
                |p| -> Result<_, SimError> {
                    let mut rng = p.rng().clone();
                    let mut r = IknpReceiver::setup(p, &mut rng)?;
                    let choices: Vec<bool> = (0..m).map(|i| i % 3 == 0).collect();
                    Ok((choices.clone(), r.extend(p, &choices)?))
                },
            );
            let ((delta, q), (choices, t)) = out.map(|o| (o.server, o.client)).unwrap_or_default();
            assert_eq!((q.len(), t.len()), (m, m));
            for (i, ((q, t), c)) in q.iter().zip(&t).zip(&choices).enumerate() {
                assert_eq!(q ^ t, if *c { delta } else { 0 }, "m = {m}, row {i}");
            }
            let wrong = delta ^ 1 << 7;
            assert!((0..m).filter(|&i| choices[i]).all(|i| q[i] ^ t[i] != wrong));
        }
    }
}
