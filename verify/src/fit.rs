//! Distribution-aware fitting (Nimbus §4.2): choose breakpoints and low-degree polynomials that
//! minimise the error weighted by the recorded input distribution, not a uniform error over an
//! interval.
//!
//! The inputs are weighted points (bin centres and counts of the recorded histograms). For each
//! candidate set of breakpoints on a grid, every fitted piece is the weighted least-squares
//! polynomial of its segment, optionally constrained to meet its neighbours at the breakpoints
//! (solved exactly through the KKT system of the equality-constrained problem); the candidate
//! with the smallest weighted squared error over all points wins.
//!
//! Shapes follow the Nimbus examples: GELU is 0 | p(x) | x with two breakpoints, exp on x − max
//! is 0 | p(x) with one.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::approx::{CoefficientSet, Piecewise, Polynomial, Target};

/// A weighted sample of the input distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightedPoint {
    /// The input.
    pub x: f64,
    /// Its weight (a bin count).
    pub w: f64,
}

/// What to fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitSpec {
    /// The target function.
    pub target: Target,
    /// Degree of the fitted piece (2 or 3 in Nimbus).
    pub degree: usize,
    /// Require the fitted piece to meet the fixed pieces at the breakpoints.
    pub continuous: bool,
    /// Candidate left breakpoints (GELU: below which the output is 0; exp: below which it is 0).
    pub left: Vec<f64>,
    /// Candidate right breakpoints (GELU only: above which the output is x).
    pub right: Vec<f64>,
    /// Fitted segments between the fixed outer pieces (1 or 2); with 2, the inner breakpoint is
    /// searched on a 0.1 grid between the outer ones, and the outer grids are thinned to 0.1.
    #[serde(default = "one")]
    pub segments: usize,
}

fn one() -> usize {
    1
}

impl FitSpec {
    /// The default search: GELU left breakpoints in [−5, −0.5], right in [0, 5]; exp left in
    /// [−12, −1]; steps of 0.05.
    pub fn default_for(target: Target, degree: usize, continuous: bool) -> Self {
        let grid = |lo: f64, hi: f64| -> Vec<f64> {
            (0..=((hi - lo) / 0.05).round() as usize)
                .map(|i| ((lo + 0.05 * i as f64) * 100.0).round() / 100.0)
                .collect()
        };
        match target {
            Target::Gelu => {
                FitSpec { target, degree, continuous, left: grid(-5.0, -0.5), right: grid(0.0, 5.0), segments: 1 }
            }
            Target::Exp => {
                FitSpec { target, degree, continuous, left: grid(-12.0, -1.0), right: Vec::new(), segments: 1 }
            }
        }
    }
}

/// A fit that could not be made.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum FitError {
    /// No points, or no weight.
    #[error("no weighted points to fit")]
    Empty,
    /// Degree outside 1..=6.
    #[error("degree {0} is outside 1..=6")]
    Degree(usize),
    /// Only one or two fitted segments are supported.
    #[error("{0} fitted segments: only 1 or 2 are supported")]
    Segments(usize),
    /// Every candidate was degenerate (too few points in a segment).
    #[error("no breakpoint candidate leaves enough points to fit a degree-{0} piece")]
    NoCandidate(usize),
}

/// The outcome of a fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The fitted approximation.
    pub piecewise: Piecewise,
    /// Its weighted RMS error over the points.
    pub weighted_rms: f64,
}

/// Solves the square system a·x = b by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Weighted least squares of degree `d` on `points` (x, w, y), subject to p(c_x) = c_y for each
/// constraint.
pub fn constrained_least_squares(
    points: &[(f64, f64, f64)],
    d: usize,
    constraints: &[(f64, f64)],
) -> Option<Polynomial> {
    let k = d + 1;
    let c = constraints.len();
    if points.len() < k.saturating_sub(c) || c > k {
        return None;
    }
    let mut a = vec![vec![0.0; k + c]; k + c];
    let mut rhs = vec![0.0; k + c];
    for &(x, w, y) in points {
        let powers: Vec<f64> = (0..k).map(|i| x.powi(i as i32)).collect();
        for i in 0..k {
            rhs[i] += 2.0 * w * powers[i] * y;
            for j in 0..k {
                a[i][j] += 2.0 * w * powers[i] * powers[j];
            }
        }
    }
    for (r, &(cx, cy)) in constraints.iter().enumerate() {
        for (i, row) in a.iter_mut().enumerate().take(k) {
            row[k + r] = cx.powi(i as i32);
        }
        for (i, cell) in a[k + r].iter_mut().enumerate().take(k) {
            *cell = cx.powi(i as i32);
        }
        rhs[k + r] = cy;
    }
    let sol = solve(a, rhs)?;
    Some(Polynomial::new(&sol[..k]))
}

/// Weighted RMS error of `pw` against `target` over `points`.
pub fn weighted_rms(pw: &Piecewise, target: Target, points: &[WeightedPoint]) -> f64 {
    let (mut se, mut sw) = (0.0, 0.0);
    for p in points {
        let e = pw.eval(p.x) - target.ideal(p.x);
        se += p.w * e * e;
        sw += p.w;
    }
    if sw > 0.0 { (se / sw).sqrt() } else { 0.0 }
}

/// Weighted mean absolute error of `pw` against `target` over `points`.
pub fn weighted_mean_abs(pw: &Piecewise, target: Target, points: &[WeightedPoint]) -> f64 {
    let (mut s, mut sw) = (0.0, 0.0);
    for p in points {
        s += p.w * (pw.eval(p.x) - target.ideal(p.x)).abs();
        sw += p.w;
    }
    if sw > 0.0 { s / sw } else { 0.0 }
}

/// Points with their target values, computed once for the whole search.
struct Targeted {
    x: f64,
    w: f64,
    y: f64,
}

fn fit_segment(
    spec: &FitSpec,
    points: &[Targeted],
    lo: f64,
    hi: Option<f64>,
    constraints: &[(f64, f64)],
) -> Option<Polynomial> {
    let inside: Vec<(f64, f64, f64)> =
        points.iter().filter(|p| p.x >= lo && hi.is_none_or(|h| p.x < h)).map(|p| (p.x, p.w, p.y)).collect();
    constrained_least_squares(&inside, spec.degree, constraints)
}

/// The piecewise candidate for outer breakpoints `left` and `right` (GELU) and an optional inner
/// one; continuity, when asked for, holds at the outer breakpoints.
fn candidate(
    spec: &FitSpec,
    points: &[Targeted],
    left: f64,
    inner: Option<f64>,
    right: Option<f64>,
) -> Option<Piecewise> {
    let first_c: Vec<(f64, f64)> = if spec.continuous { vec![(left, 0.0)] } else { vec![] };
    let last_c: Vec<(f64, f64)> = match (spec.continuous, right) {
        (true, Some(r)) => vec![(r, r)],
        _ => vec![],
    };
    let mut breaks = vec![left];
    let mut pieces = vec![Polynomial::new(&[0.0])];
    match inner {
        None => {
            let both: Vec<(f64, f64)> = first_c.iter().chain(&last_c).copied().collect();
            pieces.push(fit_segment(spec, points, left, right, &both)?);
        }
        Some(m) => {
            pieces.push(fit_segment(spec, points, left, Some(m), &first_c)?);
            breaks.push(m);
            pieces.push(fit_segment(spec, points, m, right, &last_c)?);
        }
    }
    if let Some(r) = right {
        breaks.push(r);
        pieces.push(Polynomial::new(&[0.0, 1.0]));
    }
    Piecewise::new(breaks, pieces).ok()
}

/// Searches the breakpoint grid and fits the pieces.
pub fn fit(spec: &FitSpec, points: &[WeightedPoint]) -> Result<Fit, FitError> {
    if points.is_empty() || points.iter().map(|p| p.w).sum::<f64>() <= 0.0 {
        return Err(FitError::Empty);
    }
    if !(1..=6).contains(&spec.degree) {
        return Err(FitError::Degree(spec.degree));
    }
    let rights: Vec<Option<f64>> = match spec.target {
        Target::Gelu => spec.right.iter().copied().map(Some).collect(),
        Target::Exp => vec![None],
    };
    if !(1..=2).contains(&spec.segments) {
        return Err(FitError::Segments(spec.segments));
    }
    let targeted: Vec<Targeted> =
        points.iter().map(|p| Targeted { x: p.x, w: p.w, y: spec.target.ideal(p.x) }).collect();
    let total: f64 = targeted.iter().map(|p| p.w).sum();
    let thin = |v: &[f64]| -> Vec<f64> {
        if spec.segments == 2 { v.iter().step_by(2).copied().collect() } else { v.to_vec() }
    };
    let lefts = thin(&spec.left);
    let rights: Vec<Option<f64>> = rights.iter().copied().step_by(if spec.segments == 2 { 2 } else { 1 }).collect();
    let mut best: Option<Fit> = None;
    for &left in &lefts {
        for &right in &rights {
            if right.is_some_and(|r| r <= left) {
                continue;
            }
            let inners: Vec<Option<f64>> = if spec.segments == 2 {
                let hi = right.unwrap_or(0.0);
                (1..)
                    .map(|i| ((left + 0.1 * f64::from(i)) * 100.0).round() / 100.0)
                    .take_while(|m| *m < hi - 1e-9)
                    .map(Some)
                    .collect()
            } else {
                vec![None]
            };
            for inner in inners {
                let Some(pw) = candidate(spec, &targeted, left, inner, right) else { continue };
                let err = (targeted.iter().map(|p| p.w * (pw.eval(p.x) - p.y).powi(2)).sum::<f64>() / total).sqrt();
                if err.is_finite() && best.as_ref().is_none_or(|b| err < b.weighted_rms) {
                    best = Some(Fit { piecewise: pw, weighted_rms: err });
                }
            }
        }
    }
    best.ok_or(FitError::NoCandidate(spec.degree))
}

/// Wraps a fit as a named coefficient set.
pub fn to_set(name: &str, source: &str, target: Target, fit: &Fit) -> CoefficientSet {
    CoefficientSet {
        name: name.into(),
        function: target,
        source: source.into(),
        breaks: fit.piecewise.breaks.clone(),
        pieces: fit.piecewise.pieces.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian_points(mean: f64, sd: f64) -> Vec<WeightedPoint> {
        (0..2000)
            .map(|i| {
                let x = -10.0 + 20.0 * i as f64 / 1999.0;
                WeightedPoint { x, w: (-(x - mean).powi(2) / (2.0 * sd * sd)).exp() }
            })
            .collect()
    }

    #[test]
    fn least_squares_recovers_a_polynomial_exactly_and_honours_constraints() {
        let pts: Vec<(f64, f64, f64)> =
            (0..50).map(|i| i as f64 / 10.0).map(|x| (x, 1.0, 1.0 - 2.0 * x + 0.5 * x * x)).collect();
        let p = constrained_least_squares(&pts, 2, &[]).unwrap();
        for (got, want) in p.coeffs.iter().zip([1.0, -2.0, 0.5]) {
            assert!((got - want).abs() < 1e-9);
        }
        let q = constrained_least_squares(&pts, 2, &[(0.0, 3.0)]).unwrap();
        assert!((q.eval(0.0) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_distribution_weighted_fit_beats_the_example_where_the_mass_is() {
        let points = gaussian_points(-0.5, 1.0);
        let f = fit(&FitSpec::default_for(Target::Gelu, 2, false), &points).unwrap();
        let example = CoefficientSet::builtin("nimbus-gelu-example").unwrap().piecewise().unwrap();
        assert!(f.weighted_rms < weighted_rms(&example, Target::Gelu, &points), "{} vs example", f.weighted_rms);
        let c = fit(&FitSpec::default_for(Target::Gelu, 2, true), &points).unwrap();
        let b = c.piecewise.breaks.clone();
        assert!((c.piecewise.eval(b[1] - 1e-12) - c.piecewise.eval(b[1])).abs() < 1e-6, "continuous at {}", b[1]);
        let e = fit(
            &FitSpec::default_for(Target::Exp, 3, false),
            &gaussian_points(-3.0, 2.0).into_iter().filter(|p| p.x <= 0.0).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(e.weighted_rms < 0.05);
    }
}
