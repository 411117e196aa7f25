//! Error statistics: the one place Dyad measures how far an output is from what it should be.
//! Everywhere (the harness, the audit, the fitter, the end-to-end run) a NaN on either side is
//! an infinite error, never dropped: `f64::max` and a plain sum would silently skip or poison it.

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
    /// RMS error over weighted points (a recorded histogram, bins weighted by their counts);
    /// absent where no weights apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_rms: Option<f64>,
}

/// |got − want|, infinite when either is NaN.
pub fn abs_diff(got: f64, want: f64) -> f64 {
    if got.is_nan() || want.is_nan() { f64::INFINITY } else { (got - want).abs() }
}

/// A running maximum and mean of absolute errors.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AbsErrors {
    max: f64,
    sum: f64,
    count: usize,
}

impl AbsErrors {
    /// Adds one pair.
    pub fn push(&mut self, got: f64, want: f64) {
        let e = abs_diff(got, want);
        self.max = self.max.max(e);
        self.sum += e;
        self.count += 1;
    }

    /// Adds every pair of `got` and `want`, in step.
    pub fn extend<'a>(&mut self, got: impl IntoIterator<Item = &'a f64>, want: impl IntoIterator<Item = &'a f64>) {
        got.into_iter().zip(want).for_each(|(&a, &b)| self.push(a, b));
    }

    /// The largest error so far (0 before any).
    pub fn max(&self) -> f64 {
        self.max
    }

    /// The mean error so far (0 before any).
    pub fn mean(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.sum / self.count as f64 }
    }

    /// Both, as statistics.
    pub fn stats(&self) -> ErrorStats {
        ErrorStats { max_abs: self.max(), mean_abs: self.mean(), ..ErrorStats::default() }
    }
}

/// Absolute errors of `got` against `want`, element by element.
pub fn abs_errors<'a>(got: impl IntoIterator<Item = &'a f64>, want: impl IntoIterator<Item = &'a f64>) -> ErrorStats {
    let mut acc = AbsErrors::default();
    acc.extend(got, want);
    acc.stats()
}

/// Absolute errors of `got` against `want`.
pub fn abs_error(got: &ArrayD<f64>, want: &ArrayD<f64>) -> ErrorStats {
    abs_errors(got.iter(), want.iter())
}

/// Errors over weighted points.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Weighted {
    /// √(Σ w·e² / Σ w).
    pub rms: f64,
    /// Σ w·|e| / Σ w.
    pub mean_abs: f64,
    /// The largest |e| at a positively weighted point.
    pub max_abs: f64,
}

/// Errors of `got − want` over `(got, want, weight)` triples, in one pass. Points of weight 0
/// (or less) are left out; all three are 0 when no weight is positive.
pub fn weighted(points: impl IntoIterator<Item = (f64, f64, f64)>) -> Weighted {
    let (mut squares, mut sum, mut max, mut total) = (0.0, 0.0, 0.0f64, 0.0);
    for (got, want, w) in points {
        if w > 0.0 {
            let e = abs_diff(got, want);
            squares += w * e * e;
            sum += w * e;
            max = max.max(e);
            total += w;
        }
    }
    if total > 0.0 {
        Weighted { rms: (squares / total).sqrt(), mean_abs: sum / total, max_abs: max }
    } else {
        Weighted::default()
    }
}

/// The weighted RMS of [`weighted`].
pub fn weighted_rms(points: impl IntoIterator<Item = (f64, f64, f64)>) -> f64 {
    weighted(points).rms
}

/// The weighted mean absolute error of [`weighted`].
pub fn weighted_mean_abs(points: impl IntoIterator<Item = (f64, f64, f64)>) -> f64 {
    weighted(points).mean_abs
}

/// Largest ring distance between two tensors of the same ring.
pub fn max_ulp(got: &RingTensor, want: &RingTensor) -> u64 {
    ulps(got, want).into_iter().max().unwrap_or(0)
}

/// The ring distance of every element of `got` from `want`, in ULPs.
pub fn ulps(got: &RingTensor, want: &RingTensor) -> Vec<u64> {
    let r = got.ring();
    got.data().iter().zip(want.data().iter()).map(|(&a, &b)| r.distance(a, b)).collect()
}

/// The cosine similarity of `a` and `b`: how close a run's sentence embedding points to the one
/// it should be (the end-to-end run, the distillation's held-out check). Two zero vectors give 0.
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (na * nb).max(1e-300)
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
        let r = Ring::Z32;
        let a = RingTensor::from_vec(r, &[2], vec![0, 5]).unwrap();
        let b = RingTensor::from_vec(r, &[2], vec![r.from_signed(-3), 5]).unwrap();
        assert_eq!(max_ulp(&a, &b), 3);
        // e = 1 with weight 3, e = 3 with weight 1: √((3 + 9)/4) and (3 + 3)/4.
        let points = [(1.0, 0.0, 3.0), (0.0, 3.0, 1.0), (f64::NAN, 0.0, 0.0)];
        assert_eq!((weighted_rms(points), weighted_mean_abs(points)), (3f64.sqrt(), 1.5));
        assert_eq!(weighted(points).max_abs, 3.0);
        assert_eq!(weighted_rms([]), 0.0);
    }

    #[test]
    fn a_nan_on_either_side_is_an_infinite_error_everywhere() {
        for (got, want) in [(f64::NAN, 1.0), (1.0, f64::NAN)] {
            let s = abs_errors(&[got, 2.0], &[want, 2.0]);
            assert_eq!((s.max_abs, s.mean_abs), (f64::INFINITY, f64::INFINITY));
            assert_eq!(weighted_rms([(got, want, 1.0), (2.0, 2.0, 1.0)]), f64::INFINITY);
            assert_eq!(weighted_mean_abs([(got, want, 1.0)]), f64::INFINITY);
        }
        let mut acc = AbsErrors::default();
        acc.push(0.0, 5.0);
        acc.push(f64::NAN, 0.0);
        acc.push(0.0, 1.0);
        assert_eq!(acc.max(), f64::INFINITY);
    }
}
