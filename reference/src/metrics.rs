//! Error statistics.

use dyad_sim::RingTensor;
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

/// How far an output is from what it should be.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorStats {
    /// Largest absolute error.
    pub max_abs: f64,
    /// Mean absolute error.
    pub mean_abs: f64,
    /// Largest error in units in the last place (ring distance); absent for float comparisons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ulp: Option<u64>,
}

/// Absolute errors of `got` against `want`.
pub fn abs_error(got: &ArrayD<f64>, want: &ArrayD<f64>) -> ErrorStats {
    let n = got.len().max(1) as f64;
    let (mut max, mut sum) = (0.0f64, 0.0f64);
    for (a, b) in got.iter().zip(want.iter()) {
        // A NaN on either side is an infinite error, which `f64::max` would otherwise drop.
        let e = if a.is_nan() || b.is_nan() { f64::INFINITY } else { (a - b).abs() };
        max = max.max(e);
        sum += e;
    }
    ErrorStats { max_abs: max, mean_abs: sum / n, max_ulp: None }
}

/// Largest ring distance between two tensors of the same ring.
pub fn max_ulp(got: &RingTensor, want: &RingTensor) -> u64 {
    let r = got.ring();
    got.data().iter().zip(want.data().iter()).map(|(&a, &b)| r.distance(a, b)).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_sim::Ring;
    use ndarray::arr1;

    #[test]
    fn statistics_are_hand_checked() {
        let s = abs_error(&arr1(&[1.0, 2.0, 4.0]).into_dyn(), &arr1(&[1.5, 2.0, 3.0]).into_dyn());
        assert_eq!((s.max_abs, s.mean_abs), (1.0, 0.5));
        let nan = abs_error(&arr1(&[f64::NAN, 2.0]).into_dyn(), &arr1(&[1.0, 2.0]).into_dyn());
        assert_eq!(nan.max_abs, f64::INFINITY);
        let r = Ring::Z32;
        let a = RingTensor::from_vec(r, &[2], vec![0, 5]).unwrap();
        let b = RingTensor::from_vec(r, &[2], vec![r.from_signed(-3), 5]).unwrap();
        assert_eq!(max_ulp(&a, &b), 3);
    }
}
