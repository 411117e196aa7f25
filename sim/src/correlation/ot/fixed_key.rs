//! The hash and the PRG of OT extension, both from AES-128.
//!
//! - [`Tccr`]: the tweakable circular correlation-robust hash from a fixed-key block cipher of
//!   Guo, Katz, Wang and Yu, "Efficient and Secure Multiparty Computation from Fixed-Key Block
//!   Ciphers" (IEEE S&P 2020, eprint 2019/074): H(i, x) = π(π(x) ⊕ i) ⊕ π(x), with π AES-128
//!   under a fixed public key. It breaks the correlation x, x ⊕ Δ of IKNP's rows.
//! - [`Prg`]: AES-128 in counter mode under a secret seed, which stretches IKNP's base-OT keys
//!   into columns.
//!
//! The `aes` crate detects AES-NI at run time and falls back to a constant-time software
//! implementation.

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};

/// The fixed, public key of π. Any constant will do; security rests on AES as a random
/// permutation, not on this key being secret.
const FIXED_KEY: [u8; 16] = *b"dyad: fixed key.";

type Block = Array<u8, aes::cipher::consts::U16>;

/// Blocks encrypted per call to the cipher: enough for its pipelined (VAES) path, small enough
/// to stay on the stack.
const BATCH: usize = 64;

fn block(x: u128) -> Block {
    Array::from(x.to_le_bytes())
}

fn value(b: &Block) -> u128 {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(b.as_slice());
    u128::from_le_bytes(bytes)
}

/// The tweakable correlation-robust hash H(i, x) = π(π(x) ⊕ i) ⊕ π(x).
#[derive(Clone)]
pub(crate) struct Tccr {
    pi: Aes128,
}

impl std::fmt::Debug for Tccr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tccr")
    }
}

impl Tccr {
    /// The hash under the fixed key.
    pub(crate) fn new() -> Self {
        Tccr { pi: Aes128::new(&Array::from(FIXED_KEY)) }
    }

    /// Replaces each `xs[k]` by H(first_tweak + k, xs[k]).
    pub(crate) fn hash_in_place(&self, first_tweak: u128, xs: &mut [u128]) {
        let mut px = [Block::default(); BATCH];
        let mut again = [Block::default(); BATCH];
        for (c, chunk) in xs.chunks_mut(BATCH).enumerate() {
            let (px, again) = (&mut px[..chunk.len()], &mut again[..chunk.len()]);
            for (b, x) in px.iter_mut().zip(chunk.iter()) {
                *b = block(*x);
            }
            self.pi.encrypt_blocks(px);
            let first = first_tweak + (c * BATCH) as u128;
            for ((a, p), tweak) in again.iter_mut().zip(px.iter()).zip(first..) {
                *a = block(value(p) ^ tweak);
            }
            self.pi.encrypt_blocks(again);
            for ((x, p), q) in chunk.iter_mut().zip(px.iter()).zip(again.iter()) {
                *x = value(q) ^ value(p);
            }
        }
    }

    /// H(tweak, x).
    pub(crate) fn hash(&self, tweak: u128, x: u128) -> u128 {
        let mut one = [x];
        self.hash_in_place(tweak, &mut one);
        one[0]
    }
}

/// AES-128 in counter mode: a stream of 128-bit blocks from a 128-bit seed.
#[derive(Clone)]
pub(crate) struct Prg {
    cipher: Aes128,
    counter: u128,
}

impl std::fmt::Debug for Prg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prg").field("counter", &self.counter).finish_non_exhaustive()
    }
}

impl Prg {
    /// The stream of `seed`, from its start.
    pub(crate) fn new(seed: u128) -> Self {
        Prg { cipher: Aes128::new(&block(seed)), counter: 0 }
    }

    /// Fills `out` with the next blocks of the stream.
    pub(crate) fn fill(&mut self, out: &mut [u128]) {
        let mut blocks = [Block::default(); BATCH];
        for chunk in out.chunks_mut(BATCH) {
            let blocks = &mut blocks[..chunk.len()];
            for (b, counter) in blocks.iter_mut().zip(self.counter..) {
                *b = block(counter);
            }
            self.counter += chunk.len() as u128;
            self.cipher.encrypt_blocks(blocks);
            for (o, b) in chunk.iter_mut().zip(blocks.iter()) {
                *o = value(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_matches_the_fips_197_example() {
        // FIPS-197 Appendix C.1: key 000102…0f, plaintext 00112233…ff.
        let key: [u8; 16] = std::array::from_fn(|i| i as u8);
        let plain: [u8; 16] = std::array::from_fn(|i| (i as u8) * 0x11);
        let mut b = Array::from(plain);
        Aes128::new(&Array::from(key)).encrypt_block(&mut b);
        let want = [0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a];
        assert_eq!(b.as_slice(), want);
    }

    #[test]
    fn the_hash_is_the_tccr_formula_and_depends_on_tweak_and_input() {
        let h = Tccr::new();
        let pi = |x: u128| {
            let mut b = block(x);
            h.pi.encrypt_block(&mut b);
            value(&b)
        };
        let x = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        assert_eq!(h.hash(5, x), pi(pi(x) ^ 5) ^ pi(x));
        assert_ne!(h.hash(5, x), h.hash(6, x));
        assert_ne!(h.hash(5, x), h.hash(5, x ^ 1));
        let mut batch = [x, x ^ 1, x];
        h.hash_in_place(5, &mut batch);
        assert_eq!(batch, [h.hash(5, x), h.hash(6, x ^ 1), h.hash(7, x)]);
    }

    #[test]
    fn the_prg_continues_its_stream_across_calls() {
        let (mut a, mut b) = (Prg::new(9), Prg::new(9));
        let mut whole = [0u128; 5];
        a.fill(&mut whole);
        let (mut first, mut rest) = ([0u128; 2], [0u128; 3]);
        b.fill(&mut first);
        b.fill(&mut rest);
        assert_eq!(whole[..2], first);
        assert_eq!(whole[2..], rest);
        assert_ne!(whole[0], whole[1]);
        let mut other = [0u128; 1];
        Prg::new(10).fill(&mut other);
        assert_ne!(other[0], whole[0]);
    }
}
