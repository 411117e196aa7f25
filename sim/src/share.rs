//! Additive secret shares.

use rand::Rng;

use crate::error::TensorError;
use crate::ring::Ring;
use crate::role::Role;
use crate::tensor::RingTensor;

/// One party's additive share of a secret tensor: the secret is the sum of both parties' shares
/// in the ring. Over [`Ring::Z2`] this is a boolean (XOR) share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share(RingTensor);

impl Share {
    /// Treats `t` as this party's share.
    pub fn new(t: RingTensor) -> Self {
        Share(t)
    }

    /// The trivial sharing of a public tensor: the server's share is `t`, the client's is zero.
    pub fn public(role: Role, t: &RingTensor) -> Self {
        match role {
            Role::Server => Share(t.clone()),
            Role::Client => Share(RingTensor::zeros(t.ring(), t.shape())),
        }
    }

    /// Zero shares of a given shape.
    pub fn zeros(ring: Ring, shape: &[usize]) -> Self {
        Share(RingTensor::zeros(ring, shape))
    }

    /// Splits a secret into a uniformly random pair (server share, client share).
    pub fn split<R: Rng + ?Sized>(secret: &RingTensor, rng: &mut R) -> (Share, Share) {
        let ring = secret.ring();
        let mask = RingTensor::random(ring, secret.shape(), rng);
        let mut rest = secret.data().clone();
        rest.zip_mut_with(mask.data(), |a, &m| *a = ring.sub(*a, m));
        (Share(RingTensor::from_reduced(ring, rest)), Share(mask))
    }

    /// The secret behind the two shares.
    pub fn reconstruct(a: &Share, b: &Share) -> Result<RingTensor, TensorError> {
        a.0.add(&b.0)
    }

    /// The share's elements.
    pub fn tensor(&self) -> &RingTensor {
        &self.0
    }

    /// The share's elements, by value.
    pub fn into_tensor(self) -> RingTensor {
        self.0
    }

    /// The ring.
    pub fn ring(&self) -> Ring {
        self.0.ring()
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.0.shape()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the share has no elements.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Share of the sum.
    pub fn add(&self, other: &Share) -> Result<Share, TensorError> {
        Ok(Share(self.0.add(&other.0)?))
    }

    /// Share of the difference.
    pub fn sub(&self, other: &Share) -> Result<Share, TensorError> {
        Ok(Share(self.0.sub(&other.0)?))
    }

    /// Share of the negation.
    pub fn neg(&self) -> Share {
        Share(self.0.neg())
    }

    /// Share of the secret times the public ring element `c`.
    pub fn scale(&self, c: u64) -> Share {
        Share(self.0.scale(c))
    }

    /// Share of the secret times a public tensor, element-wise.
    pub fn mul_public(&self, t: &RingTensor) -> Result<Share, TensorError> {
        Ok(Share(self.0.mul(t)?))
    }

    /// Share of the secret plus a public tensor (only the server adds it).
    pub fn add_public(&self, role: Role, t: &RingTensor) -> Result<Share, TensorError> {
        match role {
            Role::Server => Ok(Share(self.0.add(t)?)),
            Role::Client => Ok(Share(self.0.zip_map(t, "add_public", |mine, _| mine)?)),
        }
    }

    /// Share of the secret plus the public ring element `c` (only the server adds it).
    pub fn add_scalar(&self, role: Role, c: u64) -> Share {
        match role {
            Role::Server => Share(self.0.offset(c)),
            Role::Client => self.clone(),
        }
    }

    /// The same elements under another shape.
    pub fn reshape(&self, shape: &[usize]) -> Result<Share, TensorError> {
        Ok(Share(self.0.reshape(shape)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::config;
    use proptest::prelude::*;
    use rand::SeedableRng;

    proptest! {
        #![proptest_config(config(0x5348_4152, 256))]

        #[test]
        fn split_then_reconstruct_is_identity(seed in any::<u64>(), values in prop::collection::vec(any::<u64>(), 1..32), wide in any::<bool>()) {
            let ring = if wide { Ring::Z64 } else { Ring::Z32 };
            let secret = RingTensor::from_vec(ring, &[values.len()], values).unwrap();
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
            let (s, c) = Share::split(&secret, &mut rng);
            prop_assert_eq!(Share::reconstruct(&s, &c).unwrap(), secret.clone());
            let shifted_s = s.add_scalar(Role::Server, 5);
            let shifted_c = c.add_scalar(Role::Client, 5);
            prop_assert_eq!(Share::reconstruct(&shifted_s, &shifted_c).unwrap(), secret.offset(5));
        }
    }
}
