//! Random 1-out-of-N OT, N = 2^k, from k random 1-out-of-2 OTs: Naor and Pinkas, "Efficient
//! Oblivious Transfer Protocols" (SODA 2001). With the 1-out-of-2 pads K_j⁰, K_j¹ of the k OTs
//! of an instance, message x is H(⊕_j K_j^{x_j}); the receiver, holding K_j^{c_j} for its choice
//! bits c, computes message c and nothing else. No message beyond the k OTs' extension.

use super::fixed_key::Tccr;

/// The hash tweak of message x of instance `instance`: bit 127 set (apart from every OT's own
/// tweak), then the tweak of the instance's first OT and x.
fn tweak(first_tweak: u128, instance: usize, k: usize, x: usize) -> u128 {
    (1 << 127) | ((first_tweak + (instance * k) as u128) << 16) | x as u128
}

/// The sender's N messages per instance, instance-major, from its pads `p0` and `p1` (k per
/// instance), cut to the bits of `mask`.
pub(crate) fn sender_messages(
    hash: &Tccr,
    p0: &[u128],
    p1: &[u128],
    k: usize,
    first_tweak: u128,
    mask: u64,
) -> Vec<u64> {
    if k == 1 {
        return p0.iter().zip(p1).flat_map(|(a, b)| [*a as u64 & mask, *b as u64 & mask]).collect();
    }
    let count = p0.len() / k;
    let mut messages = Vec::with_capacity(count << k);
    let mut table = vec![0u128; 1 << k];
    for t in 0..count {
        table[0] = 0;
        for j in 0..k {
            let (k0, k1) = (p0[t * k + j], p1[t * k + j]);
            for x in (0..1usize << j).rev() {
                table[x | 1 << j] = table[x] ^ k1;
                table[x] ^= k0;
            }
        }
        for (x, v) in table.iter().enumerate() {
            messages.push(hash.hash(tweak(first_tweak, t, k, x), *v) as u64 & mask);
        }
    }
    messages
}

/// The receiver's message at each instance's choice, from its pads (k per instance, at its
/// choice bits) and the choices.
pub(crate) fn receiver_messages(
    hash: &Tccr,
    pads: &[u128],
    choices: &[u64],
    k: usize,
    first_tweak: u128,
    mask: u64,
) -> Vec<u64> {
    if k == 1 {
        return pads.iter().map(|v| *v as u64 & mask).collect();
    }
    pads.chunks_exact(k)
        .zip(choices)
        .enumerate()
        .map(|(t, (keys, &x))| {
            let v = keys.iter().fold(0, |acc, key| acc ^ key);
            hash.hash(tweak(first_tweak, t, k, x as usize), v) as u64 & mask
        })
        .collect()
}
