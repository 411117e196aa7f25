//! Approximations as data: polynomials and piecewise polynomials, evaluated in float64.
//!
//! The same values drive the secure protocols (which encode the coefficients in fixed point), the
//! fixed-point references and the float evaluation that separates approximation error (float
//! polynomial against the ideal) from fixed-point error (secure output against the float
//! polynomial).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// a0 + a1·x + … + ad·x^d.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Polynomial {
    /// Coefficients, constant term first.
    pub coeffs: Vec<f64>,
}

impl Polynomial {
    /// The polynomial with these coefficients (constant first).
    pub fn new(coeffs: &[f64]) -> Self {
        Polynomial { coeffs: coeffs.to_vec() }
    }

    /// The degree (0 for a constant, including the zero polynomial).
    pub fn degree(&self) -> usize {
        self.coeffs.len().saturating_sub(1)
    }

    /// Evaluates in float64.
    pub fn eval(&self, x: f64) -> f64 {
        self.coeffs.iter().rev().fold(0.0, |acc, c| acc * x + c)
    }
}

/// Pieces separated by breakpoints: `pieces[0]` below `breaks[0]`, `pieces[i]` on
/// [`breaks[i−1]`, `breaks[i]`), the last piece from the last breakpoint up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Piecewise {
    /// Increasing breakpoints.
    pub breaks: Vec<f64>,
    /// One more piece than breakpoints.
    pub pieces: Vec<Polynomial>,
}

/// A malformed piecewise polynomial.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum PiecewiseError {
    /// Pieces and breakpoints do not match.
    #[error("{pieces} pieces need {} breakpoints, got {breaks}", pieces.saturating_sub(1))]
    Count {
        /// Number of pieces.
        pieces: usize,
        /// Number of breakpoints.
        breaks: usize,
    },
    /// Breakpoints not strictly increasing, or not finite.
    #[error("breakpoints must be finite and strictly increasing: {0:?}")]
    Order(Vec<f64>),
    /// A piece without coefficients.
    #[error("piece {0} has no coefficients")]
    Empty(usize),
}

impl Piecewise {
    /// Checks the shape of the definition.
    pub fn new(breaks: Vec<f64>, pieces: Vec<Polynomial>) -> Result<Self, PiecewiseError> {
        let pw = Piecewise { breaks, pieces };
        pw.validate()?;
        Ok(pw)
    }

    /// Checks that pieces and breakpoints fit together.
    pub fn validate(&self) -> Result<(), PiecewiseError> {
        if self.pieces.len() != self.breaks.len() + 1 {
            return Err(PiecewiseError::Count { pieces: self.pieces.len(), breaks: self.breaks.len() });
        }
        if self.breaks.iter().any(|b| !b.is_finite()) || self.breaks.windows(2).any(|w| w[0] >= w[1]) {
            return Err(PiecewiseError::Order(self.breaks.clone()));
        }
        if let Some(i) = self.pieces.iter().position(|p| p.coeffs.is_empty()) {
            return Err(PiecewiseError::Empty(i));
        }
        Ok(())
    }

    /// The index of the piece that covers `x`.
    pub fn piece_at(&self, x: f64) -> usize {
        self.breaks.iter().take_while(|&&b| x >= b).count()
    }

    /// Evaluates in float64.
    pub fn eval(&self, x: f64) -> f64 {
        self.pieces.get(self.piece_at(x)).map_or(0.0, |p| p.eval(x))
    }

    /// The largest degree of any piece.
    pub fn max_degree(&self) -> usize {
        self.pieces.iter().map(Polynomial::degree).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_picks_the_right_piece() {
        let pw = Piecewise::new(
            vec![0.0, 1.0],
            vec![Polynomial::new(&[0.0]), Polynomial::new(&[0.0, 2.0]), Polynomial::new(&[5.0])],
        )
        .unwrap();
        assert_eq!(pw.eval(-1.0), 0.0);
        assert_eq!(pw.eval(0.0), 0.0);
        assert_eq!(pw.eval(0.5), 1.0);
        assert_eq!(pw.eval(1.0), 5.0);
        assert!(Piecewise::new(vec![1.0, 0.0], vec![Polynomial::new(&[0.0]); 3]).is_err());
        assert!(Piecewise::new(vec![1.0], vec![Polynomial::new(&[0.0])]).is_err());
        assert_eq!(Polynomial::new(&[1.0, 2.0, 3.0]).eval(2.0), 17.0);
    }
}
