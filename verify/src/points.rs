//! Weighted points from recorded distributions: what the fitter minimises over and what the
//! histogram-weighted error is measured on.

use crate::fit::WeightedPoint;
use dyad_vectors::{Histogram, Kind, VectorSet, VectorsError};

/// Bin centres weighted by their counts (empty bins left out).
pub fn histogram_points(h: &Histogram) -> Vec<WeightedPoint> {
    h.edges
        .windows(2)
        .zip(&h.counts)
        .filter(|(_, c)| **c > 0)
        .map(|(e, &c)| WeightedPoint { x: 0.5 * (e[0] + e[1]), w: c as f64 })
        .collect()
}

/// The histograms of `kind` over the given layers, pooled.
pub fn pooled_points(set: &VectorSet, kind: Kind, layers: &[usize]) -> Result<Vec<WeightedPoint>, VectorsError> {
    let mut points = Vec::new();
    for &l in layers {
        points.extend(histogram_points(&set.histogram(kind, l)?));
    }
    Ok(points)
}

/// A histogram of `values` with bins of `width`, as weighted points.
pub fn binned(values: &[f64], width: f64) -> Vec<WeightedPoint> {
    let mut bins: std::collections::BTreeMap<i64, f64> = std::collections::BTreeMap::new();
    for v in values {
        *bins.entry((v / width).floor() as i64).or_default() += 1.0;
    }
    bins.into_iter().map(|(b, w)| WeightedPoint { x: (b as f64 + 0.5) * width, w }).collect()
}

/// The recorded samples of `kind` over the given layers, split into two halves: the first half
/// of each layer's samples, and the second.
pub fn split_samples(set: &VectorSet, kind: Kind, layers: &[usize]) -> Result<(Vec<f64>, Vec<f64>), VectorsError> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &l in layers {
        let s = set.samples(kind, l)?;
        let (x, y) = s.split_at(s.len() / 2);
        a.extend_from_slice(x);
        b.extend_from_slice(y);
    }
    Ok((a, b))
}
