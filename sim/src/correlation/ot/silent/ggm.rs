//! The GGM tree (Goldreich, Goldwasser and Micali, "How to Construct Random Functions", J. ACM
//! 1986) as a puncturable PRF: a seed expands level by level into 2^h leaves, and whoever holds
//! every sibling of one leaf's path — here only their sums per level, as in Boyle et al. (CCS
//! 2019, §4) and Ferret (Yang et al., CCS 2020, §3.1) — recomputes every leaf but that one.
//!
//! The length-doubling PRG is G(s) = (π₀(s) ⊕ s, π₁(s) ⊕ s), π_b AES-128 under two fixed public
//! keys: the Matyas–Meyer–Oseas construction that Ferret and emp-ot use for their trees.

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};

type Block = Array<u8, aes::cipher::consts::U16>;

/// Parents expanded per call to the ciphers.
const BATCH: usize = 64;

/// The length-doubling PRG of the tree.
#[derive(Clone)]
pub(crate) struct Doubler {
    left: Aes128,
    right: Aes128,
}

impl std::fmt::Debug for Doubler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Doubler")
    }
}

impl Doubler {
    /// The PRG under its two fixed keys.
    pub(crate) fn new() -> Self {
        Doubler {
            left: Aes128::new(&Array::from(*b"dyad: GGM left  ")),
            right: Aes128::new(&Array::from(*b"dyad: GGM right ")),
        }
    }

    /// Replaces the first `parents` nodes of `level` by their `2·parents` children, node i's at
    /// 2i and 2i + 1.
    pub(crate) fn expand(&self, level: &mut [u128], parents: usize) {
        let mut left = [Block::default(); BATCH];
        let mut right = [Block::default(); BATCH];
        // From the end, so that children never overwrite a parent not yet expanded.
        let mut end = parents;
        while end > 0 {
            let start = end.saturating_sub(BATCH);
            let (left, right) = (&mut left[..end - start], &mut right[..end - start]);
            for ((l, r), s) in left.iter_mut().zip(right.iter_mut()).zip(&level[start..end]) {
                *l = Array::from(s.to_le_bytes());
                *r = *l;
            }
            self.left.encrypt_blocks(left);
            self.right.encrypt_blocks(right);
            for i in (0..end - start).rev() {
                let s = level[start + i];
                level[2 * (start + i)] = value(&left[i]) ^ s;
                level[2 * (start + i) + 1] = value(&right[i]) ^ s;
            }
            end = start;
        }
    }
}

fn value(b: &Block) -> u128 {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(b.as_slice());
    u128::from_le_bytes(bytes)
}

/// The sums of a level's left (even) and right (odd) children.
fn sums(level: &[u128]) -> [u128; 2] {
    level.chunks_exact(2).fold([0, 0], |[l, r], pair| [l ^ pair[0], r ^ pair[1]])
}

/// Expands `seed` into the 2^h leaves of a tree, h = `sums.len()`, written to `leaves`; `sums[i]`
/// gets the sums of the left and right nodes of level i + 1.
pub(crate) fn expand(g: &Doubler, seed: u128, leaves: &mut [u128], sums: &mut [[u128; 2]]) {
    debug_assert_eq!(leaves.len(), 1 << sums.len());
    leaves[0] = seed;
    for (i, sum) in sums.iter_mut().enumerate() {
        g.expand(leaves, 1 << i);
        *sum = self::sums(&leaves[..2 << i]);
    }
}

/// The leaves of a tree punctured at `alpha`, from the sum of the siblings' side at each level:
/// `siblings[i]` is the sum of level i + 1's nodes on the side the path to `alpha` does not take
/// (its bit h − 1 − i). Every leaf but `alpha` is the sender's; `leaves[alpha]` is left 0.
pub(crate) fn punctured(g: &Doubler, alpha: usize, siblings: &[u128], leaves: &mut [u128]) {
    let h = siblings.len();
    debug_assert_eq!(leaves.len(), 1 << h);
    debug_assert!(alpha < leaves.len());
    leaves[0] = 0;
    let mut path = 0;
    for (i, &sibling) in siblings.iter().enumerate() {
        // The path's node of the level above expands to garbage; both its children are set here.
        g.expand(leaves, 1 << i);
        let bit = alpha >> (h - 1 - i) & 1;
        let (on, off) = (2 * path + bit, 2 * path + (1 - bit));
        // `side` includes the garbage at `off`, which the XOR into it cancels.
        let side = leaves[..2 << i].iter().skip(1 - bit).step_by(2).fold(0, |acc, v| acc ^ v);
        leaves[off] ^= sibling ^ side;
        leaves[on] = 0;
        path = on;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_punctured_tree_has_every_leaf_but_the_punctured_one() {
        let g = Doubler::new();
        for h in [1, 2, 5, 9] {
            let mut leaves = vec![0u128; 1 << h];
            let mut sums = vec![[0u128; 2]; h];
            expand(&g, 0x0123_4567_89ab_cdef_u128 * (h as u128 + 1), &mut leaves, &mut sums);
            let distinct: std::collections::BTreeSet<u128> = leaves.iter().copied().collect();
            assert_eq!(distinct.len(), leaves.len(), "h = {h}: leaves collide");
            for alpha in [0, 1, (1 << h) - 1, (1 << h) / 3] {
                let siblings: Vec<u128> =
                    sums.iter().enumerate().map(|(i, s)| s[1 - (alpha >> (h - 1 - i) & 1)]).collect();
                let mut got = vec![0u128; 1 << h];
                punctured(&g, alpha, &siblings, &mut got);
                for (j, (a, b)) in leaves.iter().zip(&got).enumerate() {
                    if j == alpha {
                        assert_eq!(*b, 0, "h = {h}, α = {alpha}: the punctured leaf");
                        assert_ne!(*a, 0);
                    } else {
                        assert_eq!(a, b, "h = {h}, α = {alpha}, leaf {j}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_doubler_matches_its_formula_on_one_seed() {
        let g = Doubler::new();
        let s = 42u128;
        let mut level = [s, 0];
        g.expand(&mut level, 1);
        let mut l = Array::from(s.to_le_bytes());
        let mut r = l;
        Aes128::new(&Array::from(*b"dyad: GGM left  ")).encrypt_block(&mut l);
        Aes128::new(&Array::from(*b"dyad: GGM right ")).encrypt_block(&mut r);
        assert_eq!(level, [value(&l) ^ s, value(&r) ^ s]);
    }
}
