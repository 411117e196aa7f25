//! Elements of a narrow ring Z_2^ℓ at their bit width: ⌊64/ℓ⌋ to a `u64` word, as
//! [`Ring::random_vec`] draws them (#15: a 2-bit OT message takes 2 bits, a 4-bit OT choice 4,
//! not a `u64` each). When ℓ divides 64 the words hold one unbroken LSB-first bit stream, the
//! one [`crate::wire::pack`] sends, so a vector goes to and from the wire without unpacking.

use crate::error::ChannelError;
use crate::ring::Ring;
use crate::wire;

/// A vector of elements of a ring, packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed {
    ring: Ring,
    len: usize,
    words: Vec<u64>,
    /// log2 of the elements per word when ℓ divides 64 (indexing is then by shifts).
    log_per: Option<u32>,
}

fn log_per(ring: Ring) -> Option<u32> {
    (64 % ring.bits() == 0).then(|| (64 / ring.bits()).trailing_zeros())
}

impl Packed {
    /// `len` elements of `ring` as the words [`Ring::random_draws`] gives.
    pub fn from_draws(ring: Ring, len: usize, mut words: Vec<u64>) -> Self {
        words.resize(len.div_ceil(ring.per_draw()), 0);
        let mut packed = Packed { ring, len, words, log_per: log_per(ring) };
        packed.clear_unused();
        packed
    }

    /// The elements `values`, each reduced into the ring.
    pub fn from_values(ring: Ring, values: impl IntoIterator<Item = u64>) -> Self {
        let (bits, per) = (ring.bits(), ring.per_draw() as u32);
        let values = values.into_iter();
        let mut words = Vec::with_capacity(values.size_hint().0.div_ceil(per as usize));
        let (mut len, mut slot, mut word) = (0usize, 0u32, 0u64);
        for v in values {
            word |= (v & ring.mask()) << (slot * bits);
            len += 1;
            slot += 1;
            if slot == per {
                words.push(word);
                (word, slot) = (0, 0);
            }
        }
        if slot != 0 {
            words.push(word);
        }
        Packed { ring, len, words, log_per: log_per(ring) }
    }

    /// Element i = f(i) for i in 0..len.
    pub fn from_fn(ring: Ring, len: usize, f: impl FnMut(usize) -> u64) -> Self {
        Packed::from_values(ring, (0..len).map(f))
    }

    /// `len` elements as [`crate::wire::pack`] sends them: exactly ⌈len·ℓ/8⌉ bytes.
    pub fn from_wire(ring: Ring, len: usize, bytes: &[u8]) -> Result<Self, ChannelError> {
        let expected = wire::packed_len(len, ring.bits());
        if bytes.len() != expected {
            return Err(ChannelError::Malformed { expected, got: bytes.len() });
        }
        if log_per(ring).is_none() {
            return Ok(Packed::from_values(ring, wire::unpack(bytes, len, ring.bits())?));
        }
        Ok(Packed::from_draws(ring, len, wire::words_of(bytes)))
    }

    /// The wire form of [`crate::wire::pack`].
    pub fn to_wire(&self) -> Vec<u8> {
        if self.log_per.is_none() {
            return wire::pack(&self.to_vec(), self.ring.bits());
        }
        wire::bytes_of(&self.words, wire::packed_len(self.len, self.ring.bits()))
    }

    /// Zeroes the bits past the last element, so that equal vectors have equal words.
    fn clear_unused(&mut self) {
        let per = self.ring.per_draw();
        let used = (self.len % per) as u32 * self.ring.bits();
        if let (Some(last), true) = (self.words.last_mut(), used != 0) {
            *last &= (1u64 << used) - 1;
        }
        if per == 1 || self.log_per.is_none() {
            let mask = self.ring.mask();
            for (k, w) in self.words.iter_mut().enumerate() {
                if per == 1 {
                    *w &= mask;
                } else {
                    let full = per.min(self.len - k * per) as u32 * self.ring.bits();
                    *w &= u64::MAX.checked_shr(64 - full).unwrap_or(0);
                }
            }
        }
    }

    /// The ring.
    pub fn ring(&self) -> Ring {
        self.ring
    }

    /// Element `i` (zero past the end).
    #[inline]
    pub fn get(&self, i: usize) -> u64 {
        if i >= self.len {
            return 0;
        }
        match self.log_per {
            Some(lp) => {
                let shift = (i & ((1 << lp) - 1)) as u32 * self.ring.bits();
                self.words[i >> lp].checked_shr(shift).unwrap_or(0) & self.ring.mask()
            }
            None => self.ring.element_of_draws(&self.words, i),
        }
    }

    /// Elements `start..start + count` as one value, element `start` in the low bits, when they
    /// lie in one word with no gap (ℓ divides 64); `None` otherwise.
    pub fn run(&self, start: usize, count: usize) -> Option<u64> {
        let bits = self.ring.bits() as usize;
        let (first, width) = (start * bits, count * bits);
        let fits = self.log_per.is_some() && (1..=64).contains(&width) && first / 64 == (first + width - 1) / 64;
        if !fits || start + count > self.len {
            return None;
        }
        let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
        Some((self.words[first / 64] >> (first % 64)) & mask)
    }

    /// How many elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements in order, one per u64: a word at a time, without the division that
    /// [`Packed::get`] takes when ℓ does not divide 64.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (bits, mask) = (self.ring.bits(), self.ring.mask());
        let per = self.ring.per_draw() as u32;
        self.words
            .iter()
            .flat_map(move |&w| (0..per).map(move |s| w.checked_shr(s * bits).unwrap_or(0) & mask))
            .take(self.len)
    }

    /// All elements, one per u64.
    pub fn to_vec(&self) -> Vec<u64> {
        self.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::config;
    use proptest::prelude::*;
    use rand::SeedableRng;

    proptest! {
        #![proptest_config(config(0x9ac4, 256))]

        /// Against a Vec<u64>: elements, runs, the wire form both ways, and the dealer's draws.
        #[test]
        fn packed_values_behave_as_a_vec(bits in 1u32..=64, raw in prop::collection::vec(any::<u64>(), 0..150), seed: u64) {
            let ring = Ring::new(bits).unwrap();
            let values: Vec<u64> = raw.iter().map(|&v| ring.reduce(v)).collect();
            let packed = Packed::from_values(ring, raw.iter().copied());
            prop_assert_eq!(packed.len(), values.len());
            prop_assert_eq!(packed.to_vec(), values.clone());
            prop_assert_eq!(packed.to_wire(), wire::pack(&values, bits));
            prop_assert_eq!(Packed::from_wire(ring, values.len(), &wire::pack(&values, bits)).unwrap(), packed.clone());
            if 64 % bits == 0 && bits <= 16 && values.len() >= 4 {
                let want = values[..4].iter().rev().fold(0u64, |acc, &v| acc << bits | v);
                prop_assert_eq!(packed.run(0, 4), Some(want));
            }
            let mut r1 = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let drawn = Packed::from_draws(ring, values.len(), ring.random_draws(values.len(), &mut r1));
            prop_assert_eq!(drawn.to_vec(), ring.random_vec(values.len(), &mut r2));
        }
    }

    #[test]
    fn bytes_of_the_wrong_length_are_malformed() {
        let ring = Ring::new(3).unwrap_or(Ring::Z2);
        assert_eq!(Packed::from_wire(ring, 3, &[0]), Err(ChannelError::Malformed { expected: 2, got: 1 }));
        assert_eq!(Packed::from_values(ring, [7, 8, 9]).run(0, 2), None, "3 bits do not divide 64");
    }
}
