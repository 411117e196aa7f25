//! Distribution-aware fitting (Nimbus, NeurIPS 2024): choose breakpoints and low-degree polynomials that
//! minimise the error weighted by the recorded input distribution, not a uniform error over an
//! interval.
//!
//! The inputs are weighted points (bin centres and counts of the recorded histograms). For each
//! candidate set of breakpoints on a grid, the fitted pieces (each of its own degree) are the
//! joint weighted least-squares polynomials of their segments, optionally constrained to meet
//! each other and the fixed outer pieces at every breakpoint (solved exactly through the KKT
//! system of the equality-constrained problem); the candidate with the smallest weighted squared
//! error over all points wins, among those whose largest error at any point of positive weight
//! stays within an optional bound.
//!
//! Shapes follow the Nimbus examples: GELU is 0 | fitted pieces | x, exp on x − max is
//! 0 | fitted pieces, with one or two fitted pieces between the fixed outer ones.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use dyad_reference::approx::{CoefficientSet, Piecewise, Polynomial, Target};
use dyad_reference::metrics;

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
    /// The degree of each fitted segment between the fixed outer pieces (2 or 3 in Nimbus), one
    /// or two segments; with two, the inner breakpoint is searched on a 0.1 grid between the
    /// outer ones, and the outer grids are thinned to 0.1.
    pub degrees: Vec<usize>,
    /// Require the pieces to meet at every breakpoint.
    pub continuous: bool,
    /// Candidate left breakpoints (GELU: below which the output is 0; exp: below which it is 0).
    pub left: Vec<f64>,
    /// Candidate right breakpoints (GELU only: above which the output is x).
    pub right: Vec<f64>,
    /// The largest absolute error allowed at any point of positive weight: candidates above it are
    /// rejected, however small their weighted error.
    pub max_error: Option<f64>,
}

impl FitSpec {
    /// The default search for fitted segments of `degrees`: GELU left breakpoints in [−5, −0.5],
    /// right in [0, 5]; exp left in [−12, −1]; steps of 0.05.
    pub fn default_for(target: Target, degrees: &[usize], continuous: bool) -> Self {
        let degrees = degrees.to_vec();
        let grid = |lo: f64, hi: f64| -> Vec<f64> {
            (0..=((hi - lo) / 0.05).round() as usize)
                .map(|i| ((lo + 0.05 * i as f64) * 100.0).round() / 100.0)
                .collect()
        };
        match target {
            Target::Gelu => {
                FitSpec { target, degrees, continuous, left: grid(-5.0, -0.5), right: grid(0.0, 5.0), max_error: None }
            }
            Target::Exp => {
                FitSpec { target, degrees, continuous, left: grid(-12.0, -1.0), right: Vec::new(), max_error: None }
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
    #[error("no breakpoint candidate leaves enough points to fit pieces of degrees {0:?}")]
    NoCandidate(Vec<usize>),
    /// The error bound is not a positive number.
    #[error("the error bound {0} is not a positive number")]
    BadBound(f64),
    /// No candidate stays within the error bound.
    #[error("no candidate with pieces of degrees {degrees:?} stays within {bound:e} (the closest reaches {closest:e})")]
    Unbounded {
        /// The degrees asked for.
        degrees: Vec<usize>,
        /// The bound asked for.
        bound: f64,
        /// The smallest maximum error any candidate reached.
        closest: f64,
    },
}

/// The outcome of a fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The fitted approximation.
    pub piecewise: Piecewise,
    /// Its weighted RMS error over the points.
    pub weighted_rms: f64,
    /// Its largest absolute error at any point of positive weight.
    pub max_abs: f64,
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

/// A linear condition on the pieces of a joint fit: Σ sign·p_segment(x) = value over its terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// (segment, x, sign) terms.
    pub terms: Vec<(usize, f64, f64)>,
    /// The value the sum must take.
    pub value: f64,
}

/// The points of one segment of a joint fit, (x, w, y) each, and the degree of its polynomial.
pub type Segment<'a> = (&'a [(f64, f64, f64)], usize);

/// Weighted least squares of several polynomials at once: segment `s` has degree `degrees[s]`
/// and is fitted to its own points (x, w, y), all subject to `conditions` (continuity between
/// neighbours, a value at a breakpoint). Solved exactly through the KKT system of the
/// equality-constrained problem; `None` when it is singular (too few points for a degree).
pub fn joint_least_squares(segments: &[Segment<'_>], conditions: &[Condition]) -> Option<Vec<Polynomial>> {
    let offsets: Vec<usize> = segments
        .iter()
        .scan(0, |o, (_, d)| {
            let at = *o;
            *o += d + 1;
            Some(at)
        })
        .collect();
    let k: usize = segments.iter().map(|(_, d)| d + 1).sum();
    let n = k + conditions.len();
    let mut a = vec![vec![0.0; n]; n];
    let mut rhs = vec![0.0; n];
    for ((points, d), &o) in segments.iter().zip(&offsets) {
        for &(x, w, y) in points.iter() {
            let powers: Vec<f64> = (0..=*d).map(|i| x.powi(i as i32)).collect();
            for i in 0..=*d {
                rhs[o + i] += 2.0 * w * powers[i] * y;
                for j in 0..=*d {
                    a[o + i][o + j] += 2.0 * w * powers[i] * powers[j];
                }
            }
        }
    }
    for (r, c) in conditions.iter().enumerate() {
        for &(seg, x, sign) in &c.terms {
            let (o, d) = (*offsets.get(seg)?, segments.get(seg)?.1);
            for i in 0..=d {
                a[o + i][k + r] += sign * x.powi(i as i32);
                a[k + r][o + i] += sign * x.powi(i as i32);
            }
        }
        rhs[k + r] = c.value;
    }
    let sol = solve(a, rhs)?;
    Some(segments.iter().zip(&offsets).map(|((_, d), &o)| Polynomial::new(&sol[o..=o + d])).collect())
}

/// Weighted RMS error of `pw` against `target` over `points`.
pub fn weighted_rms(pw: &Piecewise, target: Target, points: &[WeightedPoint]) -> f64 {
    metrics::weighted_rms(points.iter().map(|p| (pw.eval(p.x), target.ideal(p.x), p.w)))
}

/// Weighted mean absolute error of `pw` against `target` over `points`.
pub fn weighted_mean_abs(pw: &Piecewise, target: Target, points: &[WeightedPoint]) -> f64 {
    metrics::weighted_mean_abs(points.iter().map(|p| (pw.eval(p.x), target.ideal(p.x), p.w)))
}

/// Points with their target values, computed once for the whole search.
struct Targeted {
    x: f64,
    w: f64,
    y: f64,
}

/// The piecewise candidate for outer breakpoints `left` and `right` (GELU) and an optional inner
/// one. With continuity asked for, the fitted pieces meet the fixed outer pieces and each other
/// at every breakpoint.
fn candidate(
    spec: &FitSpec,
    points: &[Targeted],
    left: f64,
    inner: Option<f64>,
    right: Option<f64>,
) -> Option<Piecewise> {
    let mut edges = vec![left];
    edges.extend(inner);
    let fitted = edges.len();
    let inside: Vec<Vec<(f64, f64, f64)>> = (0..fitted)
        .map(|s| {
            let lo = edges[s];
            let hi = edges.get(s + 1).copied().or(right);
            points.iter().filter(|p| p.x >= lo && hi.is_none_or(|h| p.x < h)).map(|p| (p.x, p.w, p.y)).collect()
        })
        .collect();
    let segments: Vec<Segment<'_>> = inside.iter().zip(&spec.degrees).map(|(pts, &d)| (pts.as_slice(), d)).collect();
    let mut conditions = Vec::new();
    if spec.continuous {
        conditions.push(Condition { terms: vec![(0, left, 1.0)], value: 0.0 });
        for (s, &m) in edges.iter().enumerate().skip(1) {
            conditions.push(Condition { terms: vec![(s - 1, m, 1.0), (s, m, -1.0)], value: 0.0 });
        }
        if let Some(r) = right {
            conditions.push(Condition { terms: vec![(fitted - 1, r, 1.0)], value: r });
        }
    }
    // Each piece needs enough of its own points for its free coefficients.
    if segments.iter().any(|(pts, d)| pts.len() <= *d) {
        return None;
    }
    let mut pieces = vec![Polynomial::new(&[0.0])];
    pieces.extend(joint_least_squares(&segments, &conditions)?);
    let mut breaks = edges;
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
    if let Some(&d) = spec.degrees.iter().find(|d| !(1..=6).contains(*d)) {
        return Err(FitError::Degree(d));
    }
    if let Some(b) = spec.max_error.filter(|b| !(*b > 0.0 && b.is_finite())) {
        return Err(FitError::BadBound(b));
    }
    let rights: Vec<Option<f64>> = match spec.target {
        Target::Gelu => spec.right.iter().copied().map(Some).collect(),
        Target::Exp => vec![None],
    };
    let two = match spec.degrees.len() {
        1 => false,
        2 => true,
        n => return Err(FitError::Segments(n)),
    };
    let targeted: Vec<Targeted> =
        points.iter().map(|p| Targeted { x: p.x, w: p.w, y: spec.target.ideal(p.x) }).collect();
    let thin = |v: &[f64]| -> Vec<f64> { if two { v.iter().step_by(2).copied().collect() } else { v.to_vec() } };
    let lefts = thin(&spec.left);
    let rights: Vec<Option<f64>> = rights.iter().copied().step_by(if two { 2 } else { 1 }).collect();
    let mut best: Option<Fit> = None;
    let mut closest = f64::INFINITY;
    for &left in &lefts {
        for &right in &rights {
            if right.is_some_and(|r| r <= left) {
                continue;
            }
            let inners: Vec<Option<f64>> = if two {
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
                let errors = metrics::weighted(targeted.iter().map(|p| (pw.eval(p.x), p.y, p.w)));
                let (err, max_abs) = (errors.rms, errors.max_abs);
                closest = closest.min(max_abs);
                let within = spec.max_error.is_none_or(|b| max_abs <= b);
                if err.is_finite() && within && best.as_ref().is_none_or(|b| err < b.weighted_rms) {
                    best = Some(Fit { piecewise: pw, weighted_rms: err, max_abs });
                }
            }
        }
    }
    best.ok_or_else(|| match spec.max_error {
        Some(bound) if closest.is_finite() => FitError::Unbounded { degrees: spec.degrees.clone(), bound, closest },
        _ => FitError::NoCandidate(spec.degrees.clone()),
    })
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

    fn continuous_everywhere(pw: &Piecewise) {
        for &b in &pw.breaks {
            let jump = (pw.eval(b - 1e-9) - pw.eval(b)).abs();
            assert!(jump < 1e-6, "jumps by {jump:e} at {b} ({:?})", pw.breaks);
        }
    }

    #[test]
    fn joint_least_squares_recovers_polynomials_and_honours_conditions() {
        let quad = |x: f64| 1.0 - 2.0 * x + 0.5 * x * x;
        let cubic = |x: f64| 0.25 * x * x * x - x;
        let left: Vec<(f64, f64, f64)> = (0..50).map(|i| i as f64 / 10.0).map(|x| (x, 1.0, quad(x))).collect();
        let right: Vec<(f64, f64, f64)> = (50..100).map(|i| i as f64 / 10.0).map(|x| (x, 1.0, cubic(x))).collect();
        let free = joint_least_squares(&[(&left, 2), (&right, 3)], &[]).unwrap();
        for (got, want) in free[0].coeffs.iter().zip([1.0, -2.0, 0.5]) {
            assert!((got - want).abs() < 1e-9, "{:?}", free[0].coeffs);
        }
        for (got, want) in free[1].coeffs.iter().zip([0.0, -1.0, 0.0, 0.25]) {
            assert!((got - want).abs() < 1e-6, "{:?}", free[1].coeffs);
        }
        let pinned =
            joint_least_squares(&[(&left, 2)], &[Condition { terms: vec![(0, 0.0, 1.0)], value: 3.0 }]).unwrap();
        assert!((pinned[0].eval(0.0) - 3.0).abs() < 1e-9);
        let meet = Condition { terms: vec![(0, 5.0, 1.0), (1, 5.0, -1.0)], value: 0.0 };
        let joined = joint_least_squares(&[(&left, 2), (&right, 3)], &[meet]).unwrap();
        assert!((joined[0].eval(5.0) - joined[1].eval(5.0)).abs() < 1e-9);
    }

    #[test]
    fn a_distribution_weighted_fit_beats_the_example_where_the_mass_is() {
        let points = gaussian_points(-0.5, 1.0);
        let f = fit(&FitSpec::default_for(Target::Gelu, &[2], false), &points).unwrap();
        let example = CoefficientSet::builtin("nimbus-gelu-example").unwrap().piecewise().unwrap();
        assert!(f.weighted_rms < weighted_rms(&example, Target::Gelu, &points), "{} vs example", f.weighted_rms);
        let e = fit(
            &FitSpec::default_for(Target::Exp, &[3], false),
            &gaussian_points(-3.0, 2.0).into_iter().filter(|p| p.x <= 0.0).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(e.weighted_rms < 0.05);
    }

    #[test]
    fn continuous_fits_meet_at_every_breakpoint_with_one_or_two_segments() {
        let gelu = gaussian_points(-0.5, 1.0);
        let exp: Vec<WeightedPoint> = gaussian_points(-3.0, 2.0).into_iter().filter(|p| p.x <= 0.0).collect();
        for (target, points, degrees) in [
            (Target::Gelu, &gelu, vec![2]),
            (Target::Gelu, &gelu, vec![2, 3]),
            (Target::Exp, &exp, vec![3]),
            (Target::Exp, &exp, vec![2, 2]),
        ] {
            let free = fit(&FitSpec::default_for(target, &degrees, false), points).unwrap();
            let c = fit(&FitSpec::default_for(target, &degrees, true), points).unwrap();
            assert_eq!(c.piecewise.pieces.len(), degrees.len() + 1 + usize::from(target == Target::Gelu));
            for (piece, d) in c.piecewise.pieces[1..].iter().zip(&degrees) {
                assert!(piece.degree() <= *d);
            }
            continuous_everywhere(&c.piecewise);
            // Constraints can only cost accuracy.
            assert!(c.weighted_rms >= free.weighted_rms - 1e-12, "{target:?} {degrees:?}");
        }
    }

    #[test]
    fn an_error_bound_trades_weighted_error_for_a_smaller_worst_case() {
        let points = gaussian_points(-0.5, 1.0);
        let free = fit(&FitSpec::default_for(Target::Gelu, &[2], true), &points).unwrap();
        // A bound under the weighted optimum's own worst case forces another candidate.
        let bound = 0.9 * free.max_abs;
        let spec = FitSpec { max_error: Some(bound), ..FitSpec::default_for(Target::Gelu, &[2], true) };
        let bounded = fit(&spec, &points).unwrap();
        let worst =
            points.iter().map(|p| (bounded.piecewise.eval(p.x) - Target::Gelu.ideal(p.x)).abs()).fold(0.0, f64::max);
        assert!((worst - bounded.max_abs).abs() < 1e-12 && worst <= bound, "{worst:e} against the bound {bound:e}");
        // The unbounded fit is the weighted optimum, so the bound can only cost weighted error.
        assert!(bounded.weighted_rms > free.weighted_rms, "{} <= {}", bounded.weighted_rms, free.weighted_rms);
        assert_ne!(bounded.piecewise.breaks, free.piecewise.breaks);
        let spec = FitSpec { max_error: Some(1e-9), ..FitSpec::default_for(Target::Gelu, &[2], true) };
        match fit(&spec, &points) {
            Err(FitError::Unbounded { bound, closest, .. }) => assert!(bound == 1e-9 && closest > bound),
            other => panic!("a bound no quadratic meets gave {other:?}"),
        }
    }

    #[test]
    fn bad_specs_are_typed_errors() {
        let points = gaussian_points(0.0, 1.0);
        assert_eq!(fit(&FitSpec::default_for(Target::Gelu, &[7], false), &points), Err(FitError::Degree(7)));
        assert_eq!(fit(&FitSpec::default_for(Target::Gelu, &[2, 2, 2], false), &points), Err(FitError::Segments(3)));
        assert_eq!(fit(&FitSpec::default_for(Target::Gelu, &[2], false), &[]), Err(FitError::Empty));
        for bad in [0.0, -1.0, f64::INFINITY] {
            let spec = FitSpec { max_error: Some(bad), ..FitSpec::default_for(Target::Gelu, &[2], false) };
            assert_eq!(fit(&spec, &points), Err(FitError::BadBound(bad)));
        }
    }
}
