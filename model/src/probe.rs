//! A logistic-regression sentiment probe on sentence embeddings: trained on plaintext embeddings,
//! then asked about plaintext and secure embeddings of held-out sentences.
//!
//! Features are centred per dimension but scaled by one global deviation, not per dimension:
//! MiniLM's pooled embeddings have near-constant dimensions, and dividing by their tiny
//! deviations made the probe read a fixed-point error of a few hundredths there as many
//! deviations, shifting every secure logit by the same large amount (48% of labels flipped at a
//! pooled cosine of 0.9996). The L2 penalty is chosen on a validation split of the training set.

use serde::{Deserialize, Serialize};

/// The L2 penalties [`Probe::fit`] chooses from.
pub const PENALTIES: [f64; 4] = [1e-4, 1e-3, 1e-2, 1e-1];

/// A linear classifier on centred, globally scaled features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    mean: Vec<f64>,
    scale: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Probe {
    /// Full-batch gradient descent on the logistic loss with L2 penalty `l2`, `epochs` steps of
    /// size `rate`, on features centred with the training set's mean and scaled by its root mean
    /// variance over all dimensions.
    pub fn train(x: &[Vec<f64>], y: &[bool], l2: f64, rate: f64, epochs: usize) -> Probe {
        let d = x.first().map_or(0, Vec::len);
        let n = x.len().max(1) as f64;
        let mut mean = vec![0.0; d];
        for row in x {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v / n;
            }
        }
        let mut scale = vec![0.0; d];
        for row in x {
            for ((s, v), m) in scale.iter_mut().zip(row).zip(&mean) {
                *s += (v - m).powi(2) / n;
            }
        }
        let global = (scale.iter().sum::<f64>() / d.max(1) as f64).sqrt();
        let scale = vec![if global > 0.0 { 1.0 / global } else { 1.0 }; d];
        let mut p = Probe { mean, scale, weights: vec![0.0; d], bias: 0.0 };
        let z: Vec<Vec<f64>> = x.iter().map(|row| p.standardise(row)).collect();
        for _ in 0..epochs {
            let mut gw = vec![0.0; d];
            let mut gb = 0.0;
            for (row, &label) in z.iter().zip(y) {
                let err = sigmoid(p.logit_standardised(row)) - f64::from(u8::from(label));
                for (g, v) in gw.iter_mut().zip(row) {
                    *g += err * v / n;
                }
                gb += err / n;
            }
            for (w, g) in p.weights.iter_mut().zip(&gw) {
                *w -= rate * (g + l2 * *w);
            }
            p.bias -= rate * gb;
        }
        p
    }

    fn standardise(&self, row: &[f64]) -> Vec<f64> {
        row.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| (v - m) * s).collect()
    }

    fn logit_standardised(&self, z: &[f64]) -> f64 {
        self.bias + z.iter().zip(&self.weights).map(|(a, b)| a * b).sum::<f64>()
    }

    /// Trains with each penalty of `penalties` on the first 80% of the data, keeps the one with the
    /// best accuracy on the last 20% (the smallest on ties), and retrains with it on all of it.
    /// Returns the probe and the chosen penalty.
    pub fn train_validated(x: &[Vec<f64>], y: &[bool], penalties: &[f64], rate: f64, epochs: usize) -> (Probe, f64) {
        let cut = x.len() * 4 / 5;
        let mut best = (f64::NEG_INFINITY, penalties.first().copied().unwrap_or(0.0));
        for &l2 in penalties {
            let acc = Probe::train(&x[..cut], &y[..cut], l2, rate, epochs).accuracy(&x[cut..], &y[cut..]);
            if acc > best.0 {
                best = (acc, l2);
            }
        }
        (Probe::train(x, y, best.1, rate, epochs), best.1)
    }

    /// Dyad's probe on sentence embeddings: [`Probe::train_validated`] over [`PENALTIES`], 300
    /// steps of size 0.5. Returns the probe and the chosen penalty.
    pub fn fit(x: &[Vec<f64>], y: &[bool]) -> (Probe, f64) {
        Probe::train_validated(x, y, &PENALTIES, 0.5, 300)
    }

    /// The logit of `row`: positive for a positive prediction.
    pub fn logit(&self, row: &[f64]) -> f64 {
        self.logit_standardised(&self.standardise(row))
    }

    /// The logit as one affine map of the raw features, (w, b) with logit(x) = w·x + b: what a
    /// network computes to be trained against it.
    pub fn affine(&self) -> (Vec<f64>, f64) {
        let w: Vec<f64> = self.weights.iter().zip(&self.scale).map(|(w, s)| w * s).collect();
        let b = self.bias - w.iter().zip(&self.mean).map(|(w, m)| w * m).sum::<f64>();
        (w, b)
    }

    /// The predicted label (true for positive).
    pub fn predict(&self, row: &[f64]) -> bool {
        self.logit(row) > 0.0
    }

    /// The fraction of `x` predicted as `y`.
    pub fn accuracy(&self, x: &[Vec<f64>], y: &[bool]) -> f64 {
        let right = x.iter().zip(y).filter(|(row, label)| self.predict(row) == **label).count();
        right as f64 / x.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dimension that barely varies in training moves a per-dimension-standardised probe by its
    /// error over its tiny deviation; the global scale keeps the same shift small.
    #[test]
    fn a_shift_in_a_near_constant_dimension_does_not_flip_predictions() {
        let x: Vec<Vec<f64>> =
            (0..200).map(|i| vec![i as f64 / 100.0 - 1.0, 3.0 + 1e-4 * ((i * 7) % 5) as f64]).collect();
        let y: Vec<bool> = x.iter().map(|r| r[0] > 0.0).collect();
        let p = Probe::train(&x, &y, 1e-3, 1.0, 500);
        let shifted: Vec<Vec<f64>> = x.iter().map(|r| vec![r[0], r[1] + 0.05]).collect();
        let flips = x.iter().zip(&shifted).filter(|(a, b)| p.predict(a) != p.predict(b)).count();
        assert!(flips <= 4, "{flips} of 200 predictions flip for a 0.05 shift of a constant dimension");
    }

    #[test]
    fn validation_picks_a_penalty_from_the_grid_and_learns() {
        let x: Vec<Vec<f64>> = (0..200).map(|i| vec![i as f64 / 100.0 - 1.0, ((i * 7) % 13) as f64]).collect();
        let y: Vec<bool> = x.iter().map(|r| r[0] > 0.0).collect();
        let grid = [1e-4, 1e-2, 1.0];
        let (p, l2) = Probe::train_validated(&x, &y, &grid, 1.0, 500);
        assert!(grid.contains(&l2));
        assert!(p.accuracy(&x, &y) > 0.9);
    }

    #[test]
    fn the_affine_form_is_the_logit() {
        let x: Vec<Vec<f64>> = (0..50).map(|i| vec![i as f64 / 10.0 - 2.0, ((i * 7) % 13) as f64 + 4.0]).collect();
        let y: Vec<bool> = x.iter().map(|r| r[0] + 0.1 * r[1] > 0.5).collect();
        let p = Probe::train(&x, &y, 1e-3, 1.0, 200);
        let (w, b) = p.affine();
        for row in &x {
            // Centred and scaled by hand, as `train` defines them.
            let z: Vec<f64> = row.iter().zip(&p.mean).zip(&p.scale).map(|((v, m), s)| (v - m) * s).collect();
            let by_definition = p.bias + z.iter().zip(&p.weights).map(|(a, b)| a * b).sum::<f64>();
            let affine = b + row.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
            assert!((by_definition - affine).abs() < 1e-9, "{by_definition} vs {affine}");
        }
    }

    #[test]
    fn separable_data_is_learned() {
        let x: Vec<Vec<f64>> = (0..200).map(|i| vec![i as f64 / 100.0 - 1.0, ((i * 7) % 13) as f64]).collect();
        let y: Vec<bool> = x.iter().map(|r| r[0] > 0.0).collect();
        let p = Probe::train(&x, &y, 1e-4, 1.0, 500);
        assert!(p.accuracy(&x, &y) > 0.97);
    }
}
