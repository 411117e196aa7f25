//! A logistic-regression sentiment probe on sentence embeddings: trained on plaintext embeddings,
//! then asked about plaintext and secure embeddings of held-out sentences.

use serde::{Deserialize, Serialize};

/// A linear classifier on standardised features.
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
    /// size `rate`, on features standardised with the training set's mean and deviation.
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
        let scale: Vec<f64> = scale.iter().map(|v| if *v > 0.0 { 1.0 / v.sqrt() } else { 1.0 }).collect();
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

    /// The predicted label (true for positive).
    pub fn predict(&self, row: &[f64]) -> bool {
        self.logit_standardised(&self.standardise(row)) > 0.0
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

    #[test]
    fn separable_data_is_learned() {
        let x: Vec<Vec<f64>> = (0..200).map(|i| vec![i as f64 / 100.0 - 1.0, ((i * 7) % 13) as f64]).collect();
        let y: Vec<bool> = x.iter().map(|r| r[0] > 0.0).collect();
        let p = Probe::train(&x, &y, 1e-4, 1.0, 500);
        assert!(p.accuracy(&x, &y) > 0.97);
    }
}
