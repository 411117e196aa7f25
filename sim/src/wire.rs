//! Packing of small integers into bytes: what a message costs on the wire.
//!
//! Values of `width` bits are packed LSB-first into a bit stream, so n values cost exactly
//! ⌈n·width/8⌉ bytes. Byte-aligned widths (8, 16, 32, 64) are little-endian.

use crate::error::ChannelError;

/// Bytes that `n` values of `width` bits occupy.
pub const fn packed_len(n: usize, width: u32) -> usize {
    (n * width as usize).div_ceil(8)
}

/// Packs the low `width` bits (1..=64) of each value.
pub fn pack(values: &[u64], width: u32) -> Vec<u8> {
    debug_assert!((1..=64).contains(&width));
    if width.is_multiple_of(8) {
        let b = (width / 8) as usize;
        let mut out = Vec::with_capacity(values.len() * b);
        for v in values {
            out.extend_from_slice(&v.to_le_bytes()[..b]);
        }
        return out;
    }
    let mut packer = Packer::new(values.len(), width);
    for &v in values {
        packer.push(v);
    }
    packer.finish()
}

/// Packs values one at a time into the same bit stream as [`pack`], so a sender can build a
/// large message without first holding it as a `Vec<u64>`.
#[derive(Debug)]
pub struct Packer {
    out: Vec<u8>,
    mask: u64,
    width: u32,
    acc: u128,
    filled: u32,
}

impl Packer {
    /// A packer for `n` values of `width` bits (1..=64); `n` only sizes the buffer.
    pub fn new(n: usize, width: u32) -> Self {
        debug_assert!((1..=64).contains(&width));
        let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
        Packer { out: Vec::with_capacity(packed_len(n, width)), mask, width, acc: 0, filled: 0 }
    }

    /// Appends the low `width` bits of `v`.
    #[inline]
    pub fn push(&mut self, v: u64) {
        if self.filled == 0 && self.width.is_multiple_of(8) {
            self.out.extend_from_slice(&(v & self.mask).to_le_bytes()[..self.width as usize / 8]);
            return;
        }
        self.acc |= u128::from(v & self.mask) << self.filled;
        self.filled += self.width;
        while self.filled >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.filled -= 8;
        }
    }

    /// The packed bytes, the last one zero-padded.
    pub fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// Little-endian bytes as 64-bit words, the last one zero-padded: the words of a packed stream
/// whose width divides 64.
pub fn words_of(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(8)
        .map(|c| {
            let mut le = [0u8; 8];
            le[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(le)
        })
        .collect()
}

/// The first `len` little-endian bytes of `words`: the inverse of [`words_of`].
pub fn bytes_of(words: &[u64], len: usize) -> Vec<u8> {
    let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    out.truncate(len);
    out
}

/// The value at `index` of a stream of `width`-bit values packed by [`pack`], read without
/// unpacking the rest; bits past the end of `bytes` read as zero.
pub fn get(bytes: &[u8], index: usize, width: u32) -> u64 {
    let bit = index * width as usize;
    let (first, shift) = (bit / 8, (bit % 8) as u32);
    let mut acc: u128 = 0;
    for (k, b) in bytes.iter().skip(first).take((shift + width).div_ceil(8) as usize).enumerate() {
        acc |= u128::from(*b) << (8 * k);
    }
    let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
    (acc >> shift) as u64 & mask
}

/// Unpacks `n` values of `width` bits; the byte count must be exactly [`packed_len`].
pub fn unpack(bytes: &[u8], n: usize, width: u32) -> Result<Vec<u64>, ChannelError> {
    let expected = packed_len(n, width);
    if bytes.len() != expected {
        return Err(ChannelError::Malformed { expected, got: bytes.len() });
    }
    let mut out = Vec::with_capacity(n);
    if width.is_multiple_of(8) {
        let b = (width / 8) as usize;
        for chunk in bytes.chunks_exact(b) {
            let mut le = [0u8; 8];
            le[..b].copy_from_slice(chunk);
            out.push(u64::from_le_bytes(le));
        }
        return Ok(out);
    }
    let mask = (1u64 << width) - 1;
    let mut acc: u128 = 0;
    let mut filled = 0u32;
    let mut iter = bytes.iter();
    for _ in 0..n {
        while filled < width {
            acc |= (*iter.next().unwrap_or(&0) as u128) << filled;
            filled += 8;
        }
        out.push(acc as u64 & mask);
        acc >>= width;
        filled -= width;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::config;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(config(0x5749_5245, 512))]

        #[test]
        fn pack_unpack_round_trips(width in 1u32..=64, raw in prop::collection::vec(any::<u64>(), 0..70)) {
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            let values: Vec<u64> = raw.iter().map(|v| v & mask).collect();
            let bytes = pack(&values, width);
            prop_assert_eq!(bytes.len(), packed_len(values.len(), width));
            prop_assert_eq!(unpack(&bytes, values.len(), width).unwrap(), values.clone());
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(get(&bytes, i, width), *v);
            }
        }
    }

    /// The decoders of peer messages (packed values, ring tensors) on arbitrary bytes and any
    /// claimed count, width, ring and shape: a value or `ChannelError::Malformed`, never a panic.
    #[test]
    fn fuzz_peer_messages_decode_or_are_malformed() {
        let mut runner = proptest::test_runner::TestRunner::new(crate::testkit::fuzz_config(0x5eed_0401, 4096));
        let cases = (
            prop::collection::vec(any::<u8>(), 0..96),
            0usize..200,
            0u32..=70,
            prop::collection::vec(0usize..12, 0..4),
        );
        runner
            .run(&cases, |(bytes, n, width, shape)| {
                if (1..=64).contains(&width) {
                    match unpack(&bytes, n, width) {
                        Ok(v) => prop_assert_eq!(v.len(), n),
                        Err(e) => {
                            let malformed = matches!(e, ChannelError::Malformed { .. });
                            prop_assert!(malformed, "{}", e);
                        }
                    }
                    let ring = crate::Ring::new(width).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    if let Ok(t) = crate::RingTensor::from_bytes(ring, &shape, &bytes) {
                        prop_assert_eq!(t.shape(), shape.as_slice());
                    }
                }
                let _ = get(&bytes, n, width.clamp(1, 64));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn sizes_are_exact() {
        assert_eq!(pack(&[1, 0, 1], 1), vec![0b101]);
        assert_eq!(pack(&[3; 9], 2).len(), 3);
        assert_eq!(pack(&[7; 3], 32).len(), 12);
        assert_eq!(unpack(&[0; 5], 3, 16), Err(ChannelError::Malformed { expected: 6, got: 5 }));
    }
}
