//! Summary statistics and histograms, and their one-pass accumulators.

use serde::{Deserialize, Serialize};

/// Statistics of a set of scalars.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// How many.
    pub count: u64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// The mean.
    pub mean: f64,
    /// The standard deviation (population: divided by `count`).
    pub std: f64,
}

/// Statistics of a set of rows (Softmax rows or LayerNorm rows), over every row seen, not only
/// the rows kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowStats {
    /// How many rows.
    pub count: u64,
    /// The shortest row's length.
    pub min_len: usize,
    /// The longest row's length.
    pub max_len: usize,
    /// The smallest value in any row.
    pub min: f64,
    /// The largest value in any row.
    pub max: f64,
    /// The smallest population variance of a row (what LayerNorm divides by, before ε).
    pub variance_min: f64,
    /// The largest population variance of a row.
    pub variance_max: f64,
}

/// A histogram: `counts[i]` values fell in `[edges[i], edges[i + 1])`.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Bin edges, increasing, one more than the bins.
    pub edges: Vec<f64>,
    /// Values per bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// The number of values counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Welford's one-pass mean and variance, with the extremes. Deterministic: the same values in
/// the same order give the same bits.
#[derive(Clone, Debug)]
pub(crate) struct Moments {
    count: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Moments {
    pub(crate) fn new() -> Moments {
        Moments { count: 0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }

    pub(crate) fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// The population variance; `None` when no value was pushed.
    fn variance(&self) -> Option<f64> {
        (self.count > 0).then(|| self.m2 / self.count as f64)
    }

    /// The statistics; `None` when no value was pushed.
    pub(crate) fn stats(&self) -> Option<Stats> {
        let variance = self.variance()?;
        Some(Stats { count: self.count, min: self.min, max: self.max, mean: self.mean, std: variance.sqrt() })
    }
}

/// Row statistics, one row at a time.
#[derive(Clone, Debug)]
pub(crate) struct RowMoments {
    count: u64,
    min_len: usize,
    max_len: usize,
    values: Moments,
    variance: Moments,
}

impl RowMoments {
    pub(crate) fn new() -> RowMoments {
        RowMoments { count: 0, min_len: usize::MAX, max_len: 0, values: Moments::new(), variance: Moments::new() }
    }

    pub(crate) fn push(&mut self, row: &[f64]) {
        let mut moments = Moments::new();
        for &x in row {
            moments.push(x);
            self.values.push(x);
        }
        if let Some(variance) = moments.variance() {
            self.count += 1;
            self.min_len = self.min_len.min(row.len());
            self.max_len = self.max_len.max(row.len());
            self.variance.push(variance);
        }
    }

    /// The statistics; `None` when no non-empty row was pushed.
    pub(crate) fn stats(&self) -> Option<RowStats> {
        let (values, variance) = (self.values.stats()?, self.variance.stats()?);
        Some(RowStats {
            count: self.count,
            min_len: self.min_len,
            max_len: self.max_len,
            min: values.min,
            max: values.max,
            variance_min: variance.min,
            variance_max: variance.max,
        })
    }
}

/// A histogram of fixed bin width whose range grows to cover every value: bin k holds
/// `[k·width, (k+1)·width)`. With a power-of-two width the edges are exact.
#[derive(Clone, Debug)]
pub(crate) struct HistogramBuilder {
    width: f64,
    first: i64,
    counts: Vec<u64>,
}

impl HistogramBuilder {
    pub(crate) fn new(width: f64) -> HistogramBuilder {
        HistogramBuilder { width, first: 0, counts: Vec::new() }
    }

    /// Counts a finite `x`.
    pub(crate) fn push(&mut self, x: f64) {
        let k = (x / self.width).floor() as i64;
        if self.counts.is_empty() {
            self.first = k;
        }
        if k < self.first {
            let grow = (self.first - k) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first = k;
        }
        let i = (k - self.first) as usize;
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
    }

    pub(crate) fn finish(self) -> Histogram {
        let edges = (0..=self.counts.len()).map(|i| (self.first + i as i64) as f64 * self.width).collect();
        Histogram { edges, counts: self.counts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_the_two_pass_formulas() {
        let xs = [1.0, -2.0, 4.5, 0.25, 3.0];
        let mut m = Moments::new();
        xs.iter().for_each(|&x| m.push(x));
        let s = m.stats().unwrap_or_else(|| panic!("no stats"));
        let mean = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 5.0;
        assert_eq!((s.count, s.min, s.max), (5, -2.0, 4.5));
        assert!((s.mean - mean).abs() < 1e-15 && (s.std - var.sqrt()).abs() < 1e-15);
        assert!(Moments::new().stats().is_none());
    }

    #[test]
    fn histogram_grows_both_ways_with_exact_edges() {
        let mut h = HistogramBuilder::new(0.25);
        for x in [0.1, -0.6, 1.0, 0.2, -0.5] {
            h.push(x);
        }
        let h = h.finish();
        assert_eq!(h.edges, vec![-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25]);
        assert_eq!(h.counts, vec![1, 1, 0, 2, 0, 0, 0, 1]);
        assert_eq!(h.total(), 5);
    }

    #[test]
    fn row_moments_track_lengths_and_variances() {
        let mut r = RowMoments::new();
        r.push(&[1.0, 3.0]);
        r.push(&[0.0, 0.0, 6.0]);
        r.push(&[]);
        let s = r.stats().unwrap_or_else(|| panic!("no stats"));
        assert_eq!((s.count, s.min_len, s.max_len, s.min, s.max), (2, 2, 3, 0.0, 6.0));
        assert_eq!((s.variance_min, s.variance_max), (1.0, 8.0));
    }
}
