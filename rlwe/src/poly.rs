//! Polynomials of R_Q = Z_Q[X]/(X^N + 1) in RNS form: one residue polynomial per prime, stored
//! contiguously (limb i occupies `data[i·N .. (i+1)·N]`), in coefficient or NTT representation.

use rand::Rng;

use super::params::RlweContext;

/// A polynomial at some level (its number of limbs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RnsPoly {
    n: usize,
    data: Vec<u64>,
    ntt: bool,
}

impl RnsPoly {
    /// The zero polynomial with `limbs` limbs, in coefficient form.
    pub fn zero(n: usize, limbs: usize) -> Self {
        RnsPoly { n, data: vec![0; n * limbs], ntt: false }
    }

    /// A polynomial from its limbs' data (coefficient form).
    pub fn from_data(n: usize, data: Vec<u64>) -> Self {
        RnsPoly { n, data, ntt: false }
    }

    /// The level: the number of limbs.
    pub fn limbs(&self) -> usize {
        self.data.len() / self.n.max(1)
    }

    /// N.
    pub fn degree(&self) -> usize {
        self.n
    }

    /// Limb i.
    pub fn limb(&self, i: usize) -> &[u64] {
        &self.data[i * self.n..(i + 1) * self.n]
    }

    /// Limb i, mutably.
    pub fn limb_mut(&mut self, i: usize) -> &mut [u64] {
        &mut self.data[i * self.n..(i + 1) * self.n]
    }

    /// All limbs, contiguous.
    pub fn data(&self) -> &[u64] {
        &self.data
    }

    /// The first `limbs` limbs, in the same representation.
    pub fn truncated(&self, limbs: usize) -> RnsPoly {
        RnsPoly { n: self.n, data: self.data[..limbs * self.n].to_vec(), ntt: self.ntt }
    }

    /// A polynomial with small signed coefficients, at `limbs` limbs.
    pub fn from_signed(ctx: &RlweContext, limbs: usize, coeffs: &[i64]) -> Self {
        let n = ctx.n();
        let mut p = RnsPoly::zero(n, limbs);
        for i in 0..limbs {
            let m = ctx.moduli()[i];
            for (d, &c) in p.limb_mut(i).iter_mut().zip(coeffs) {
                *d = m.from_i64(c);
            }
        }
        p
    }

    /// A uniformly random polynomial (rejection sampling per residue).
    pub fn uniform<R: Rng + ?Sized>(ctx: &RlweContext, limbs: usize, rng: &mut R) -> Self {
        let n = ctx.n();
        let mut p = RnsPoly::zero(n, limbs);
        for i in 0..limbs {
            let m = ctx.moduli()[i];
            let mask = (1u64 << m.bits()) - 1;
            for d in p.limb_mut(i) {
                *d = loop {
                    let v = rng.next_u64() & mask;
                    if v < m.value() {
                        break v;
                    }
                };
            }
        }
        p
    }

    /// self += other (same representation and level).
    pub fn add_assign(&mut self, ctx: &RlweContext, other: &RnsPoly) {
        debug_assert_eq!(self.ntt, other.ntt);
        let n = self.n;
        for i in 0..self.limbs().min(other.limbs()) {
            let m = ctx.moduli()[i];
            for (a, b) in self.data[i * n..(i + 1) * n].iter_mut().zip(other.limb(i)) {
                *a = m.add(*a, *b);
            }
        }
    }

    /// self −= other (same representation and level).
    pub fn sub_assign(&mut self, ctx: &RlweContext, other: &RnsPoly) {
        debug_assert_eq!(self.ntt, other.ntt);
        let n = self.n;
        for i in 0..self.limbs().min(other.limbs()) {
            let m = ctx.moduli()[i];
            for (a, b) in self.data[i * n..(i + 1) * n].iter_mut().zip(other.limb(i)) {
                *a = m.sub(*a, *b);
            }
        }
    }

    /// −self.
    pub fn negate(&mut self, ctx: &RlweContext) {
        let n = self.n;
        for i in 0..self.limbs() {
            let m = ctx.moduli()[i];
            for a in &mut self.data[i * n..(i + 1) * n] {
                *a = m.neg(*a);
            }
        }
    }

    /// To NTT representation.
    pub fn to_ntt(&mut self, ctx: &RlweContext) {
        if !self.ntt {
            for i in 0..self.limbs() {
                let n = self.n;
                ctx.ntt(i).forward(&mut self.data[i * n..(i + 1) * n]);
            }
            self.ntt = true;
        }
    }

    /// To coefficient representation.
    pub fn from_ntt(&mut self, ctx: &RlweContext) {
        if self.ntt {
            for i in 0..self.limbs() {
                let n = self.n;
                ctx.ntt(i).inverse(&mut self.data[i * n..(i + 1) * n]);
            }
            self.ntt = false;
        }
    }

    /// self ⊙= other, pointwise (both in NTT representation).
    pub fn mul_assign(&mut self, ctx: &RlweContext, other: &RnsPoly) {
        debug_assert!(self.ntt && other.ntt);
        let n = self.n;
        for i in 0..self.limbs().min(other.limbs()) {
            let m = ctx.moduli()[i];
            for (a, b) in self.data[i * n..(i + 1) * n].iter_mut().zip(other.limb(i)) {
                *a = m.mul(*a, *b);
            }
        }
    }

    /// acc += a ⊙ b pointwise (all NTT), at acc's level.
    pub fn mul_add_assign(&mut self, ctx: &RlweContext, a: &RnsPoly, b: &RnsPoly) {
        let n = self.n;
        for i in 0..self.limbs() {
            let m = ctx.moduli()[i];
            let (la, lb) = (a.limb(i), b.limb(i));
            for ((acc, x), y) in self.data[i * n..(i + 1) * n].iter_mut().zip(la).zip(lb) {
                *acc = m.add(*acc, m.mul(*x, *y));
            }
        }
    }

    /// Σ_i a_i ⊙ b_i pointwise (all NTT, at the level of the first a), summing 128-bit products
    /// lazily and reducing once per coefficient (at most 2^(128 − 2·62) = 16 terms for the largest
    /// primes; more for smaller ones).
    pub fn dot(ctx: &RlweContext, pairs: &[(&RnsPoly, &RnsPoly)]) -> RnsPoly {
        let Some((first, _)) = pairs.first() else { return RnsPoly::zero(ctx.n(), 0) };
        let (n, limbs) = (first.n, first.limbs());
        let mut out = RnsPoly { n, data: vec![0; n * limbs], ntt: true };
        let mut acc = vec![0u128; n];
        for i in 0..limbs {
            let m = ctx.moduli()[i];
            let room = 1usize << (128 - 2 * m.bits()).min(20);
            acc.fill(0);
            for (count, (a, b)) in pairs.iter().enumerate() {
                for ((s, x), y) in acc.iter_mut().zip(a.limb(i)).zip(b.limb(i)) {
                    *s += *x as u128 * *y as u128;
                }
                if (count + 1) % room == 0 {
                    for s in acc.iter_mut() {
                        *s = m.reduce_u128(*s) as u128;
                    }
                }
            }
            for (d, s) in out.data[i * n..(i + 1) * n].iter_mut().zip(&acc) {
                *d = m.reduce_u128(*s);
            }
        }
        out
    }

    /// Multiplies every limb by its residue of one scalar (`scalar[i]` for limb i).
    pub fn scale_assign(&mut self, ctx: &RlweContext, scalar: &[u64]) {
        let n = self.n;
        for (i, &c) in scalar.iter().enumerate().take(self.limbs()) {
            let m = ctx.moduli()[i];
            let cs = m.shoup(c);
            for a in &mut self.data[i * n..(i + 1) * n] {
                *a = m.mul_shoup(*a, c, cs);
            }
        }
    }

    /// X^k · self for 0 ≤ k < 2N (coefficient representation; X^N = −1): a negacyclic shift, so
    /// X^(2N − s) is X^−s.
    pub fn shifted(&self, ctx: &RlweContext, k: usize) -> RnsPoly {
        debug_assert!(!self.ntt);
        let n = self.n;
        let mut out = RnsPoly::zero(n, self.limbs());
        for i in 0..self.limbs() {
            let m = ctx.moduli()[i];
            let src = self.limb(i);
            let dst = out.limb_mut(i);
            for (j, &c) in src.iter().enumerate() {
                let t = (j + k) % (2 * n);
                if t < n {
                    dst[t] = c;
                } else {
                    dst[t - n] = m.neg(c);
                }
            }
        }
        out
    }

    /// Divides by the last prime q_L and rounds, dropping the last limb: the modulus switch from
    /// Q to Q/q_L (coefficient representation).
    pub fn drop_last_limb(&mut self, ctx: &RlweContext) {
        debug_assert!(!self.ntt);
        let l = self.limbs();
        let n = self.n;
        let last = ctx.moduli()[l - 1];
        let half = last.value() / 2;
        let (head, tail) = self.data.split_at_mut((l - 1) * n);
        for i in 0..l - 1 {
            let m = ctx.moduli()[i];
            let inv = m.inv(m.reduce(last.value()));
            let inv_s = m.shoup(inv);
            for (a, &r) in head[i * n..(i + 1) * n].iter_mut().zip(tail.iter()) {
                // Centre the last residue so that the division rounds to nearest.
                let r_i = if r > half { m.sub(m.reduce(r), m.reduce(last.value())) } else { m.reduce(r) };
                *a = m.mul_shoup(m.sub(*a, r_i), inv, inv_s);
            }
        }
        self.data.truncate((l - 1) * n);
    }
}
