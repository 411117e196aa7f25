//! The public code of primal LPN: Ferret's local linear code (Yang et al., CCS 2020, §5.1),
//! where each of the n outputs is the sum of [`D`] inputs out of k, at positions drawn from a
//! public seed. Both parties derive the same positions, so the code costs no communication.
//!
//! Positions come from AES-128 in counter mode under the seed, four 32-bit words per block,
//! each mapped into [0, k) by a multiply-shift (Lemire); the bias, below k/2^32, only perturbs
//! which public code is drawn.

use super::super::fixed_key::Prg;

/// Inputs summed per output: Ferret's d = 10.
pub(crate) const D: usize = 10;

/// Outputs whose positions are drawn per call to the PRG.
const ROWS: usize = 64;
/// Blocks of positions per row: ⌈D / 4⌉.
const BLOCKS_PER_ROW: usize = D.div_ceil(4);

/// A local linear code from F^k to F^n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LocalCode {
    /// Inputs.
    pub(crate) k: usize,
    /// Outputs.
    pub(crate) n: usize,
    /// The public seed of the positions.
    pub(crate) seed: u128,
}

impl LocalCode {
    /// Adds A·x to `out` (n blocks) for the k blocks `x`, and, when given, A·b to the bits `out_bits`
    /// for the k bits `b`: the same positions for both.
    pub(crate) fn encode(&self, x: &[u128], out: &mut [u128], bits: Option<(&[bool], &mut [bool])>) {
        debug_assert_eq!((x.len(), out.len()), (self.k, self.n));
        let mut prg = Prg::new(self.seed);
        let mut words = [0u128; ROWS * BLOCKS_PER_ROW];
        let k = self.k as u64;
        let position = |w: u128, lane: usize| ((((w >> (32 * lane)) as u32 as u64) * k) >> 32) as usize;
        let mut bits = bits;
        for (chunk, rows) in out.chunks_mut(ROWS).enumerate() {
            prg.fill(&mut words[..rows.len() * BLOCKS_PER_ROW]);
            for (r, o) in rows.iter_mut().enumerate() {
                let row = &words[r * BLOCKS_PER_ROW..(r + 1) * BLOCKS_PER_ROW];
                let mut acc = 0u128;
                let mut bit = false;
                for j in 0..D {
                    let p = position(row[j / 4], j % 4);
                    acc ^= x[p];
                    if let Some((b, _)) = &bits {
                        bit ^= b[p];
                    }
                }
                *o ^= acc;
                if let Some((_, out_bits)) = &mut bits {
                    out_bits[chunk * ROWS + r] ^= bit;
                }
            }
        }
    }

    /// The positions of output `j`, for tests.
    #[cfg(test)]
    fn positions(&self, j: usize) -> Vec<usize> {
        let mut prg = Prg::new(self.seed);
        let mut words = vec![0u128; (j / ROWS + 1) * ROWS * BLOCKS_PER_ROW];
        prg.fill(&mut words);
        let row = &words[j * BLOCKS_PER_ROW..];
        (0..D).map(|i| ((((row[i / 4] >> (32 * (i % 4))) as u32 as u64) * self.k as u64) >> 32) as usize).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_output_sums_its_d_positions_and_the_code_is_linear() {
        let code = LocalCode { k: 1000, n: 300, seed: 7 };
        let x: Vec<u128> = (0..code.k as u128).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i << 64).collect();
        let y: Vec<u128> = (0..code.k as u128).map(|i| i * i + 3).collect();
        let b: Vec<bool> = (0..code.k).map(|i| i % 7 < 3).collect();
        let mut out = vec![0u128; code.n];
        let mut out_bits = vec![false; code.n];
        code.encode(&x, &mut out, Some((&b, &mut out_bits)));
        for j in [0, 1, 63, 64, 299] {
            let p = code.positions(j);
            assert!(p.iter().all(|&i| i < code.k));
            assert_eq!(out[j], p.iter().fold(0, |acc, &i| acc ^ x[i]), "output {j}");
            assert_eq!(out_bits[j], p.iter().fold(false, |acc, &i| acc ^ b[i]), "bit {j}");
        }
        let (mut ax, mut ay, mut axy) = (vec![0; code.n], vec![0; code.n], vec![0; code.n]);
        code.encode(&x, &mut ax, None);
        code.encode(&y, &mut ay, None);
        let xy: Vec<u128> = x.iter().zip(&y).map(|(a, b)| a ^ b).collect();
        code.encode(&xy, &mut axy, None);
        assert!(ax.iter().zip(&ay).zip(&axy).all(|((a, b), c)| a ^ b == *c));
        let mut other = vec![0u128; code.n];
        LocalCode { seed: 8, ..code }.encode(&x, &mut other, None);
        assert_ne!(other, ax, "another seed, another code");
    }
}
