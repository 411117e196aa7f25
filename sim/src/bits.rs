//! Vectors of bits packed 64 to a `u64` word: XOR shares of bits at one bit each, so that an AND
//! tree or a Beaver AND over a million bits touches 16 thousand words instead of a million (#15).
//!
//! Bit i is bit i mod 64 of word i / 64, the order in which [`crate::wire::pack`] puts one-bit
//! values on the wire and [`Ring::random_draws`] draws them over [`Ring::Z2`]: the bytes of a
//! vector are its message, and a vector drawn here equals the Z_2 tensor drawn from the same
//! generator. Bits past the length are always zero.

use rand::Rng;

use crate::error::{ChannelError, TensorError};
use crate::ring::Ring;
use crate::share::Share;
use crate::tensor::RingTensor;

/// A packed vector of bits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bits {
    len: usize,
    words: Vec<u64>,
}

fn mismatch(op: &'static str, left: usize, right: usize) -> TensorError {
    TensorError::Shape { op, left: vec![left], right: vec![right] }
}

impl Bits {
    /// `len` zero bits.
    pub fn zeros(len: usize) -> Self {
        Bits { len, words: vec![0; len.div_ceil(64)] }
    }

    /// `len` uniformly random bits, drawn as [`Ring::random_vec`] draws `len` elements of Z_2.
    pub fn random<R: Rng + ?Sized>(len: usize, rng: &mut R) -> Self {
        Bits::from_words(len, Ring::Z2.random_draws(len, rng))
    }

    /// The first `len` bits of `words`; missing words read as zero, bits past `len` are dropped.
    pub fn from_words(len: usize, mut words: Vec<u64>) -> Self {
        words.resize(len.div_ceil(64), 0);
        let mut bits = Bits { len, words };
        bits.clear_tail();
        bits
    }

    /// The low bit of each value.
    pub fn from_values(values: impl ExactSizeIterator<Item = u64>) -> Self {
        let len = values.len();
        let mut words = vec![0u64; len.div_ceil(64)];
        for (i, v) in values.enumerate() {
            words[i / 64] |= (v & 1) << (i % 64);
        }
        Bits { len, words }
    }

    /// Bit i for i in 0..len.
    pub fn from_fn(len: usize, mut f: impl FnMut(usize) -> bool) -> Self {
        Bits::from_values((0..len).map(|i| u64::from(f(i))))
    }

    /// This party's XOR share of bits as packed bits (the low bit of each element).
    pub fn from_share(share: &Share) -> Self {
        Bits::from_values(share.tensor().data().iter().copied())
    }

    /// A Z_2 share of shape `[len]`, one element per bit.
    pub fn to_share(&self) -> Share {
        Share::new(RingTensor::from_reduced(
            Ring::Z2,
            ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[self.len]), |i| u64::from(self.get(i[0]))),
        ))
    }

    /// How many bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The words, bit i at bit i mod 64 of word i / 64.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Bit `i`; false past the end.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        i < self.len && (self.words[i / 64] >> (i % 64)) & 1 == 1
    }

    /// Sets bit `i` (ignored past the end).
    #[inline]
    pub fn set(&mut self, i: usize, bit: bool) {
        if i < self.len {
            let (w, m) = (i / 64, 1u64 << (i % 64));
            self.words[w] = (self.words[w] & !m) | (u64::from(bit) << (i % 64));
        }
    }

    fn clear_tail(&mut self) {
        let rem = self.len % 64;
        if let (Some(last), true) = (self.words.last_mut(), rem != 0) {
            *last &= (1u64 << rem) - 1;
        }
    }

    /// The word-wise combination `f(self, other)` of two vectors of one length.
    pub fn zip_words(&self, other: &Bits, op: &'static str, f: impl Fn(u64, u64) -> u64) -> Result<Bits, TensorError> {
        if self.len != other.len {
            return Err(mismatch(op, self.len, other.len));
        }
        let words = self.words.iter().zip(&other.words).map(|(&a, &b)| f(a, b)).collect();
        Ok(Bits::from_words(self.len, words))
    }

    /// self ⊕ other.
    pub fn xor(&self, other: &Bits) -> Result<Bits, TensorError> {
        self.zip_words(other, "xor", |a, b| a ^ b)
    }

    /// self ∧ other.
    pub fn and(&self, other: &Bits) -> Result<Bits, TensorError> {
        self.zip_words(other, "and", |a, b| a & b)
    }

    /// self ⊕= other.
    pub fn xor_assign(&mut self, other: &Bits) -> Result<(), TensorError> {
        if self.len != other.len {
            return Err(mismatch("xor", self.len, other.len));
        }
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a ^= b);
        Ok(())
    }

    /// Appends `other`'s bits, whatever the alignment.
    pub fn extend(&mut self, other: &Bits) {
        let shift = (self.len % 64) as u32;
        if shift == 0 {
            self.words.extend_from_slice(&other.words);
        } else {
            for &w in &other.words {
                if let Some(last) = self.words.last_mut() {
                    *last |= w << shift;
                }
                self.words.push(w >> (64 - shift));
            }
        }
        self.len += other.len;
        self.words.truncate(self.len.div_ceil(64));
    }

    /// Bits `start..start + len`, whatever the alignment.
    pub fn slice(&self, start: usize, len: usize) -> Result<Bits, TensorError> {
        if start.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(mismatch("slice", start.saturating_add(len), self.len));
        }
        let (first, shift) = (start / 64, (start % 64) as u32);
        let word = |k: usize| self.words.get(k).copied().unwrap_or(0);
        let words = (first..first + len.div_ceil(64))
            .map(|k| if shift == 0 { word(k) } else { (word(k) >> shift) | (word(k + 1) << (64 - shift)) })
            .collect();
        Ok(Bits::from_words(len, words))
    }

    /// The wire form: ⌈len/8⌉ bytes, as [`crate::wire::pack`] packs `len` one-bit values.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::wire::bytes_of(&self.words, self.len.div_ceil(8))
    }

    /// The inverse of [`Bits::to_bytes`]: exactly ⌈len/8⌉ bytes, bits past `len` ignored.
    pub fn from_bytes(bytes: &[u8], len: usize) -> Result<Bits, ChannelError> {
        let expected = len.div_ceil(8);
        if bytes.len() != expected {
            return Err(ChannelError::Malformed { expected, got: bytes.len() });
        }
        Ok(Bits::from_words(len, crate::wire::words_of(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::config;
    use crate::wire;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn bools(max: usize) -> impl Strategy<Value = Vec<bool>> {
        prop::collection::vec(any::<bool>(), 0..max)
    }

    fn of(b: &[bool]) -> Bits {
        Bits::from_fn(b.len(), |i| b[i])
    }

    fn listed(b: &Bits) -> Vec<bool> {
        (0..b.len()).map(|i| b.get(i)).collect()
    }

    proptest! {
        #![proptest_config(config(0xb175, 256))]

        /// Against a Vec<bool>: concatenation, slices, XOR, AND, and the wire form of one-bit values.
        #[test]
        fn packed_bits_behave_as_a_list_of_bools(x in bools(300), y in bools(300), start in 0usize..300, len in 0usize..300) {
            let mut joined = of(&x);
            joined.extend(&of(&y));
            prop_assert_eq!(listed(&joined), [x.clone(), y.clone()].concat());
            prop_assert_eq!(joined.words().len(), joined.len().div_ceil(64));
            let all = [x.clone(), y.clone()].concat();
            match joined.slice(start, len) {
                Ok(s) => prop_assert_eq!(listed(&s), all[start..start + len].to_vec()),
                Err(_) => prop_assert!(start + len > all.len()),
            }
            let values: Vec<u64> = x.iter().map(|&b| u64::from(b)).collect();
            prop_assert_eq!(of(&x).to_bytes(), wire::pack(&values, 1));
            prop_assert_eq!(Bits::from_bytes(&of(&x).to_bytes(), x.len()).unwrap(), of(&x));
            let z: Vec<bool> = x.iter().zip(y.iter().cycle()).map(|(a, b)| a ^ b).collect();
            if !y.is_empty() {
                let yy: Vec<bool> = (0..x.len()).map(|i| y[i % y.len()]).collect();
                prop_assert_eq!(listed(&of(&x).xor(&of(&yy)).unwrap()), z);
                let w: Vec<bool> = x.iter().zip(&yy).map(|(a, b)| a & b).collect();
                prop_assert_eq!(listed(&of(&x).and(&of(&yy)).unwrap()), w);
            }
        }
    }

    #[test]
    fn random_bits_are_the_z2_tensor_of_the_same_draws() {
        let mut r1 = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let mut r2 = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let bits = Bits::random(333, &mut r1);
        let tensor = RingTensor::random(Ring::Z2, &[333], &mut r2);
        assert_eq!(bits.to_share(), Share::new(tensor));
    }

    #[test]
    fn mismatched_lengths_and_malformed_bytes_are_errors() {
        assert!(Bits::zeros(3).xor(&Bits::zeros(4)).is_err());
        assert!(Bits::zeros(3).slice(2, 2).is_err());
        assert!(Bits::zeros(3).slice(usize::MAX, 2).is_err());
        assert_eq!(Bits::from_bytes(&[0xff, 0xff], 9).unwrap(), Bits::from_fn(9, |_| true));
        assert!(matches!(Bits::from_bytes(&[0], 9), Err(ChannelError::Malformed { expected: 2, got: 1 })));
    }
}
