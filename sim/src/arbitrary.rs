//! quickcheck `Arbitrary` implementations, for users who property-test with quickcheck.

use quickcheck::{Arbitrary, Gen};

use crate::fixed::FixedPoint;
use crate::ring::Ring;
use crate::share::Share;
use crate::tensor::RingTensor;

impl Arbitrary for Ring {
    fn arbitrary(g: &mut Gen) -> Self {
        if bool::arbitrary(g) { Ring::Z64 } else { Ring::Z32 }
    }
}

impl Arbitrary for FixedPoint {
    fn arbitrary(g: &mut Gen) -> Self {
        FixedPoint::default_for(Ring::arbitrary(g))
    }
}

/// A secret real in [−8, 8], its fixed-point encoding and a random sharing of it.
#[derive(Clone, Debug)]
pub struct SharedScalar {
    /// The format.
    pub fixed: FixedPoint,
    /// The real value (on the fixed-point grid).
    pub value: f64,
    /// The server's share.
    pub server: Share,
    /// The client's share.
    pub client: Share,
}

impl Arbitrary for SharedScalar {
    fn arbitrary(g: &mut Gen) -> Self {
        let fixed = FixedPoint::arbitrary(g);
        let ring = fixed.ring();
        let units = i32::arbitrary(g) as i64 % (8i64 << fixed.frac());
        let secret = RingTensor::filled(ring, &[1], ring.from_signed(units));
        let mask = RingTensor::filled(ring, &[1], u64::arbitrary(g));
        let rest = secret.sub(&mask).unwrap_or(secret.clone());
        SharedScalar {
            fixed,
            value: fixed.decode(ring.from_signed(units)),
            server: Share::new(rest),
            client: Share::new(mask),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_scalars_reconstruct() {
        fn prop(s: SharedScalar) -> bool {
            let secret = Share::reconstruct(&s.server, &s.client).unwrap();
            s.fixed.decode(secret.to_vec()[0]) == s.value
        }
        quickcheck::QuickCheck::new().quickcheck(prop as fn(SharedScalar) -> bool);
    }
}
