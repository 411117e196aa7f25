//! Fixed-point encoding: a real x is the ring element round(x·2^f), read as signed
//! two's complement.

use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

use crate::error::FixedError;
use crate::ring::Ring;
use crate::tensor::RingTensor;

/// A fixed-point format: a ring and a number of fraction bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FixedPoint {
    ring: Ring,
    frac: u32,
}

impl FixedPoint {
    /// A format with `frac` fraction bits; at least one integer bit must remain besides the sign.
    pub fn new(ring: Ring, frac: u32) -> Result<Self, FixedError> {
        if frac + 2 > ring.bits() {
            return Err(FixedError::Frac { frac, ring });
        }
        Ok(FixedPoint { ring, frac })
    }

    /// The defaults: f = 18 for ℓ = 64, f = 13 for ℓ = 32 (the Nimbus code's choice), and ℓ/4
    /// otherwise.
    pub fn default_for(ring: Ring) -> Self {
        let frac = match ring.bits() {
            64 => 18,
            32 => 13,
            b => b / 4,
        };
        FixedPoint { ring, frac }
    }

    /// The ring.
    pub const fn ring(self) -> Ring {
        self.ring
    }

    /// f, the number of fraction bits.
    pub const fn frac(self) -> u32 {
        self.frac
    }

    /// 2^−f, the value of one unit in the last place.
    pub fn ulp(self) -> f64 {
        (-(self.frac as f64)).exp2()
    }

    /// The scale 2^f.
    pub fn scale(self) -> f64 {
        (self.frac as f64).exp2()
    }

    /// Smallest representable value, −2^(ℓ−1−f).
    pub fn min_value(self) -> f64 {
        -((self.ring.bits() - 1) as f64).exp2() * self.ulp()
    }

    /// Largest representable value, (2^(ℓ−1) − 1)·2^−f.
    pub fn max_value(self) -> f64 {
        (((self.ring.bits() - 1) as f64).exp2() - 1.0) * self.ulp()
    }

    /// Encodes `x` as round(x·2^f), rounding half away from zero. A value that does not fit is
    /// an error, never a silent wrap.
    pub fn encode(self, x: f64) -> Result<u64, FixedError> {
        if !x.is_finite() {
            return Err(FixedError::NotFinite { value: x });
        }
        let v = (x * self.scale()).round();
        let bound = ((self.ring.bits() - 1) as f64).exp2();
        if v < -bound || v >= bound {
            return Err(FixedError::OutOfRange {
                value: x,
                ring: self.ring,
                frac: self.frac,
                min: self.min_value(),
                max: self.max_value(),
            });
        }
        Ok(self.ring.from_signed(v as i64))
    }

    /// Decodes a ring element to the real it stands for.
    pub fn decode(self, v: u64) -> f64 {
        self.ring.signed(v) as f64 * self.ulp()
    }

    /// Encodes every element of `x`.
    pub fn encode_tensor(self, x: &ArrayD<f64>) -> Result<RingTensor, FixedError> {
        let mut data = ArrayD::<u64>::zeros(x.raw_dim());
        for (d, &v) in data.iter_mut().zip(x.iter()) {
            *d = self.encode(v)?;
        }
        Ok(RingTensor::from_reduced(self.ring, data))
    }

    /// Decodes every element of `t` (read in this format's ring).
    pub fn decode_tensor(self, t: &RingTensor) -> ArrayD<f64> {
        t.data().mapv(|v| self.decode(v))
    }
}

impl std::fmt::Display for FixedPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} with {} fraction bits", self.ring, self.frac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::config;
    use proptest::prelude::*;

    fn format() -> impl Strategy<Value = FixedPoint> {
        prop_oneof![
            Just(FixedPoint::default_for(Ring::Z64)),
            Just(FixedPoint::default_for(Ring::Z32)),
            (0u32..=20).prop_map(|f| FixedPoint::new(Ring::Z64, f).unwrap()),
            (0u32..=12).prop_map(|f| FixedPoint::new(Ring::Z32, f).unwrap()),
        ]
    }

    proptest! {
        #![proptest_config(config(0x4649_5845, 1024))]

        #[test]
        fn encode_decode_round_trips_within_half_an_ulp(fx in format(), u in -1.0f64..1.0) {
            let x = u * fx.max_value();
            let back = fx.decode(fx.encode(x).unwrap());
            prop_assert!((back - x).abs() <= fx.ulp() / 2.0 + x.abs() * f64::EPSILON,
                "x = {x}, back = {back}, ulp = {}", fx.ulp());
        }

        #[test]
        fn encoding_is_additive_on_the_grid(fx in format(), a in -1000i64..1000, b in -1000i64..1000) {
            let (x, y) = (a as f64 * fx.ulp(), b as f64 * fx.ulp());
            let r = fx.ring();
            prop_assert_eq!(r.add(fx.encode(x).unwrap(), fx.encode(y).unwrap()), fx.encode(x + y).unwrap());
        }

        #[test]
        fn values_beyond_the_range_are_errors(fx in format(), excess in 1.0f64..1e6) {
            let above = fx.max_value() + excess * fx.ulp();
            let below = fx.min_value() - excess * fx.ulp();
            let is_out_of_range = |r| matches!(r, Err(FixedError::OutOfRange { .. }));
            prop_assert!(is_out_of_range(fx.encode(above)));
            prop_assert!(is_out_of_range(fx.encode(below)));
        }
    }

    #[test]
    fn defaults_follow_the_papers() {
        assert_eq!(FixedPoint::default_for(Ring::Z64).frac(), 18);
        assert_eq!(FixedPoint::default_for(Ring::Z32).frac(), 13);
        assert!(FixedPoint::new(Ring::Z32, 31).is_err());
    }

    #[test]
    fn extremes_encode_exactly() {
        let fx = FixedPoint::default_for(Ring::Z32);
        assert_eq!(fx.encode(fx.min_value()).unwrap(), 1 << 31);
        assert_eq!(fx.encode(fx.max_value()).unwrap(), (1 << 31) - 1);
        assert!(matches!(fx.encode(f64::NAN), Err(FixedError::NotFinite { .. })));
        assert!(matches!(fx.encode(f64::INFINITY), Err(FixedError::NotFinite { .. })));
    }
}
