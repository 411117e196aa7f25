//! The negacyclic number-theoretic transform over Z_q[X]/(X^N + 1): Cooley–Tukey forward and
//! Gentleman–Sande inverse with powers of a primitive 2N-th root ψ in bit-reversed order and
//! Shoup multiplication (Longa & Naehrig, CANS 2016, Algorithms 1 and 2).

use super::modulus::Modulus;

/// Precomputed powers of ψ for one prime and one N.
#[derive(Clone, Debug)]
pub struct NttTable {
    m: Modulus,
    n: usize,
    psi: Vec<(u64, u64)>,
    psi_inv: Vec<(u64, u64)>,
    n_inv: (u64, u64),
}

fn bit_reverse(i: usize, bits: u32) -> usize {
    if bits == 0 { 0 } else { i.reverse_bits() >> (usize::BITS - bits) }
}

impl NttTable {
    /// The table for q ≡ 1 (mod 2n), n a power of two; `None` if q has no primitive 2n-th root.
    pub fn new(m: Modulus, n: usize) -> Option<Self> {
        let q = m.value();
        if !n.is_power_of_two() || !(q - 1).is_multiple_of(2 * n as u64) {
            return None;
        }
        let psi = (2..q).map(|g| m.pow(g, (q - 1) / (2 * n as u64))).find(|&r| m.pow(r, n as u64) == q - 1)?;
        let psi_inv_root = m.inv(psi);
        let bits = n.trailing_zeros();
        let table = |root: u64| -> Vec<(u64, u64)> {
            (0..n)
                .map(|i| {
                    let w = m.pow(root, bit_reverse(i, bits) as u64);
                    (w, m.shoup(w))
                })
                .collect()
        };
        let n_inv = m.inv(n as u64);
        Some(NttTable { m, n, psi: table(psi), psi_inv: table(psi_inv_root), n_inv: (n_inv, m.shoup(n_inv)) })
    }

    /// The modulus.
    pub fn modulus(&self) -> &Modulus {
        &self.m
    }

    /// Coefficients (reduced) to evaluations, in place.
    pub fn forward(&self, a: &mut [u64]) {
        let m = &self.m;
        let q2 = 2 * m.value();
        let mut t = self.n;
        let mut h = 1;
        while h < self.n {
            t /= 2;
            for i in 0..h {
                let (w, ws) = self.psi[h + i];
                let (lo, hi) = a[2 * i * t..2 * (i + 1) * t].split_at_mut(t);
                for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                    // Harvey's lazy butterfly: values stay in [0, 4q) between stages.
                    let u = if *x >= q2 { *x - q2 } else { *x };
                    let v = m.mul_shoup_lazy(*y, w, ws);
                    *x = u + v;
                    *y = u + q2 - v;
                }
            }
            h *= 2;
        }
        let q = m.value();
        for x in a.iter_mut() {
            let y = if *x >= q2 { *x - q2 } else { *x };
            *x = if y >= q { y - q } else { y };
        }
    }

    /// Evaluations to coefficients, in place.
    pub fn inverse(&self, a: &mut [u64]) {
        let m = &self.m;
        let q2 = 2 * m.value();
        let mut t = 1;
        let mut h = self.n / 2;
        while h >= 1 {
            for i in 0..h {
                let (w, ws) = self.psi_inv[h + i];
                let (lo, hi) = a[2 * i * t..2 * (i + 1) * t].split_at_mut(t);
                for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                    let (u, v) = (*x, *y);
                    let s = u + v;
                    *x = if s >= q2 { s - q2 } else { s };
                    *y = m.mul_shoup_lazy(u + q2 - v, w, ws);
                }
            }
            t *= 2;
            h /= 2;
        }
        let (ni, nis) = self.n_inv;
        for x in a.iter_mut() {
            *x = m.mul_shoup(*x, ni, nis);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modulus::ntt_prime;
    use rand::{RngExt, SeedableRng};

    fn schoolbook(a: &[u64], b: &[u64], m: &Modulus) -> Vec<u64> {
        let n = a.len();
        let mut c = vec![0u64; n];
        for i in 0..n {
            for j in 0..n {
                let p = m.mul(a[i], b[j]);
                if i + j < n {
                    c[i + j] = m.add(c[i + j], p);
                } else {
                    c[i + j - n] = m.sub(c[i + j - n], p);
                }
            }
        }
        c
    }

    #[test]
    fn ntt_multiplication_is_negacyclic_convolution() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        for (bits, n) in [(59, 64), (37, 128), (49, 16)] {
            let m = Modulus::new(ntt_prime(bits, n, &[]).unwrap());
            let t = NttTable::new(m, n).unwrap();
            let a: Vec<u64> = (0..n).map(|_| rng.random::<u64>() % m.value()).collect();
            let b: Vec<u64> = (0..n).map(|_| rng.random::<u64>() % m.value()).collect();
            let (mut fa, mut fb) = (a.clone(), b.clone());
            t.forward(&mut fa);
            t.forward(&mut fb);
            let mut fc: Vec<u64> = fa.iter().zip(&fb).map(|(x, y)| m.mul(*x, *y)).collect();
            t.inverse(&mut fc);
            assert_eq!(fc, schoolbook(&a, &b, &m));
            t.inverse(&mut fa);
            assert_eq!(fa, a, "inverse undoes forward");
        }
    }
}
