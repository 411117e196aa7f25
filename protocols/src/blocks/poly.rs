//! Polynomial evaluation on shares, two schedules, and piecewise polynomials with secure
//! segment selection.
//!
//! - **Horner**: y = a_d·x + a_{d−1}, then y ← y·x + a_i. The first product is by a public
//!   constant; each later one is a secret product: d − 1 sequential Beaver rounds.
//! - **Power basis, low depth**: the powers up to x^d that a non-zero coefficient needs, every
//!   power in (2^(r−1), 2^r] computed in round r as x^h·x^(i−h) (h = 2^(r−1)); at most ⌈log2 d⌉
//!   Beaver rounds, then Σ a_i·x^i locally at scale 2^(2f) and one truncation.
//! - **Piecewise**: the k − 1 comparisons 1{x ≥ b_i} in one batched millionaires', the powers up to
//!   the largest degree that some piece needs, every piece combined locally, then
//!   v_0 + Σ_i 1{x ≥ b_i}·(v_i − v_{i−1}) with one batched multiplexer. Each piece is evaluated on
//!   every input; the telescoping sum keeps exactly the selected one, so a piece that overflows
//!   the ring outside its segment does no harm.
//!
//! Every product must stay below 2^(ℓ−2) before truncation (the truncations' domain), and
//! [`degree_bound`] keeps one more bit for the sums of terms: |x|^d·2^(2f) < 2^(ℓ−3). At ℓ = 32
//! and f = 13 a degree-6 piece is then only safe for |x| < 1.4, which is why PUMA's GELU needs
//! ℓ = 64.
//! Rounds are reported by `dyad run poly.horner` and `dyad run poly.powers`.

use dyad_reference::approx::{Piecewise, Polynomial};
use dyad_reference::poly::{self as reference, Coeff};
use dyad_sim::{FixedPoint, Formula, Party, Ring, RingTensor, Share};
use ndarray::ArrayD;

use crate::blocks::arith::{mul, mul_cost};

use crate::blocks::beaver::{
    mul_ring, mul_ring_cost, square_and_mul_ring, square_and_mul_ring_cost, square_ring, square_ring_cost,
};

use crate::blocks::cmp::{msb, msb_cost};
use crate::blocks::select::{mux, mux_cost};
use crate::blocks::share::{concat, split};
use crate::blocks::trunc::{truncate, truncate_cost};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, ModelShape, Protocol, elements, elementwise, shared, take};

fn encode(fx: FixedPoint, p: &Polynomial) -> Result<Vec<u64>, ProtocolError> {
    Ok(reference::encode(fx, p)?)
}

/// Horner's rule on shares.
pub fn horner(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    poly: &Polynomial,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let a = encode(fx, poly)?;
    p.scope("horner", |p| {
        let d = poly.degree();
        match a.as_slice() {
            [] => Ok(Share::zeros(x.ring(), x.shape())),
            [a0] => Ok(Share::public(p.role(), &RingTensor::filled(x.ring(), x.shape(), *a0))),
            _ => {
                let mut y = truncate(p, &x.scale(a[d]), fx.frac(), mode)?.add_scalar(p.role(), a[d - 1]);
                for i in (0..d - 1).rev() {
                    y = mul(p, fx, &y, x, mode)?.add_scalar(p.role(), a[i]);
                }
                Ok(y)
            }
        }
    })
}

/// Which of x^0 … x^d the coefficient lists need (index i for x^i): x, the powers with a
/// non-zero coefficient in some list and, recursively, the factors [`reference::power_split`]
/// builds them from. PUMA's degree-6 GELU piece has no x^3 or x^5 term, so neither is computed.
pub fn needed_powers(d: usize, lists: &[&[Coeff]]) -> Vec<bool> {
    let mut need = vec![false; d + 1];
    if d >= 1 {
        need[1] = true;
    }
    for a in lists {
        for (i, c) in a.iter().enumerate().skip(1).take(d) {
            need[i] |= !matches!(c, Coeff::Int(0) | Coeff::Fixed(0));
        }
    }
    for i in (2..=d).rev() {
        if need[i] {
            let (h, l) = reference::power_split(i);
            need[h] = true;
            need[l] = true;
        }
    }
    need
}

/// The powers x^1 … x^d that `need` marks (entry i − 1 holds x^i, `None` where not needed):
/// every needed power in (2^(r−1), 2^r] is computed in round r, one batched product per round.
pub fn powers(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    need: &[bool],
    mode: TruncMode,
) -> Result<Vec<Option<Share>>, ProtocolError> {
    let d = need.len().saturating_sub(1);
    p.scope("powers", |p| {
        let mut pows: Vec<Option<Share>> = vec![Some(x.clone())];
        let mut lo = 2;
        while lo <= d {
            let hi = (2 * (lo - 1)).min(d);
            // x^(2h) (h = lo − 1) is a square pair's job; the other powers are Beaver products.
            let wanted: Vec<usize> = (lo..=hi).filter(|&i| need[i]).collect();
            let factor = |i: usize, j: usize| {
                pows[j - 1].as_ref().ok_or(ProtocolError::Config {
                    protocol: "poly.powers",
                    reason: format!("x^{j} is needed for x^{i} but was not computed"),
                })
            };
            let (mut left, mut right, mut square) = (Vec::new(), Vec::new(), None);
            for &i in &wanted {
                match reference::power_split(i) {
                    (h, l) if h == l => square = Some(factor(i, h)?),
                    (h, l) => {
                        left.push(factor(i, h)?);
                        right.push(factor(i, l)?);
                    }
                }
            }
            let products = match (square, left.is_empty()) {
                (None, true) => None,
                (Some(s), true) => Some(square_ring(p, s)?),
                (None, false) => Some(mul_ring(p, &concat(&left)?, &concat(&right)?)?),
                (Some(s), false) => {
                    // The square, x^(2(lo − 1)), is the round's highest power: it goes last.
                    let (sq, prod) = square_and_mul_ring(p, s, &concat(&left)?, &concat(&right)?)?;
                    Some(concat(&[&prod, &sq])?)
                }
            };
            let mut computed = match products {
                None => Vec::new(),
                Some(prod) => {
                    let prod = truncate(p, &prod, fx.frac(), mode)?;
                    split(&prod, &vec![x.shape().to_vec(); wanted.len()])?
                }
            }
            .into_iter();
            pows.extend(need[lo..=hi].iter().map(|&needed| if needed { computed.next() } else { None }));
            lo = hi + 1;
        }
        Ok(pows)
    })
}

/// The local part of Σ a_i·x^i: (terms with real coefficients at scale 2^(2f), still to be
/// truncated — `None` when there are none; integer terms plus a_0 at scale 2^f).
fn accumulate(
    role: dyad_sim::Role,
    ring: Ring,
    pows: &[Option<Share>],
    a: &[Coeff],
) -> Result<(Option<Share>, Share), ProtocolError> {
    let shape = pows.iter().flatten().next().map(|s| s.shape().to_vec()).unwrap_or_default();
    let mut wide = Share::zeros(ring, &shape);
    let mut narrow = Share::zeros(ring, &shape);
    for (i, (pw, c)) in pows.iter().zip(a.iter().skip(1)).enumerate() {
        let pw = || {
            pw.as_ref().ok_or(ProtocolError::Config {
                protocol: "poly",
                reason: format!("x^{} has a coefficient but was not computed", i + 1),
            })
        };
        match *c {
            Coeff::Int(0) | Coeff::Fixed(0) => {}
            Coeff::Int(k) => narrow = narrow.add(&pw()?.scale(ring.from_signed(k)))?,
            Coeff::Fixed(e) => wide = wide.add(&pw()?.scale(e))?,
        }
    }
    let a0 = match a.first() {
        Some(Coeff::Fixed(e)) => *e,
        Some(Coeff::Int(k)) => ring.from_signed(*k),
        None => 0,
    };
    Ok((reference::has_fraction(a).then_some(wide), narrow.add_scalar(role, a0)))
}

/// Σ a_i·x^i from precomputed powers (`pows[i − 1]` = x^i, `None` where a_i = 0), with one
/// truncation if any coefficient is not an integer.
pub fn combine(
    p: &mut Party,
    fx: FixedPoint,
    pows: &[Option<Share>],
    a: &[Coeff],
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let ring = pows.iter().flatten().next().map_or(fx.ring(), |s| s.ring());
    let (wide, narrow) = accumulate(p.role(), ring, pows, a)?;
    match wide {
        Some(w) => Ok(truncate(p, &w, fx.frac(), mode)?.add(&narrow)?),
        None => Ok(narrow),
    }
}

/// The low-depth power-basis evaluation.
pub fn power_basis(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    poly: &Polynomial,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let a = reference::coeffs(fx, poly)?;
    let pows = powers(p, fx, x, &needed_powers(poly.degree(), &[&a]), mode)?;
    combine(p, fx, &pows, &a, mode)
}

/// The piecewise polynomial with secure segment selection.
pub fn piecewise(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    pw: &Piecewise,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    piecewise_at(p, fx, fx.frac(), x, pw, mode)
}

/// The same with the real coefficients of x^i (i ≥ 1) at `coeff_frac` fraction bits
/// ([`reference::coeffs_at`]): the pieces' truncation shifts by `coeff_frac` instead of f.
pub fn piecewise_at(
    p: &mut Party,
    fx: FixedPoint,
    coeff_frac: u32,
    x: &Share,
    pw: &Piecewise,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    pw.validate().map_err(|e| ProtocolError::Config { protocol: "piecewise", reason: e.to_string() })?;
    let breaks: Vec<u64> = pw.breaks.iter().map(|&b| fx.encode(b)).collect::<Result<_, _>>()?;
    let coeffs: Vec<Vec<Coeff>> =
        pw.pieces.iter().map(|q| reference::coeffs_at(fx, coeff_frac, q)).collect::<Result<_, _>>()?;
    p.scope("piecewise", |p| {
        let ring = x.ring();
        let shape = x.shape().to_vec();
        let n = x.len();
        let flat = x.reshape(&[n])?;
        // 1{x ≥ b_i} = 1 ⊕ MSB(x − b_i), all breakpoints in one comparison.
        let shifted: Vec<Share> = breaks.iter().map(|&b| flat.add_scalar(p.role(), ring.neg(b))).collect();
        let ge = if shifted.is_empty() {
            None
        } else {
            Some(p.scope("select", |p| -> Result<Share, ProtocolError> {
                let refs: Vec<&Share> = shifted.iter().collect();
                Ok(msb(p, &concat(&refs)?)?.add_scalar(p.role(), 1))
            })?)
        };
        let lists: Vec<&[Coeff]> = coeffs.iter().map(Vec::as_slice).collect();
        let pows = powers(p, fx, &flat, &needed_powers(pw.max_degree().max(1), &lists), mode)?;
        let parts: Vec<(Option<Share>, Share)> =
            coeffs.iter().map(|a| accumulate(p.role(), ring, &pows, a)).collect::<Result<_, _>>()?;
        // One batched truncation for every piece with real coefficients.
        let wides: Vec<&Share> = parts.iter().filter_map(|(w, _)| w.as_ref()).collect();
        let mut truncated = if wides.is_empty() {
            Vec::new()
        } else {
            let t = truncate(p, &concat(&wides)?, coeff_frac, mode)?;
            split(&t, &vec![vec![n]; wides.len()])?
        }
        .into_iter();
        let mut values = Vec::with_capacity(parts.len());
        for (wide, narrow) in &parts {
            values.push(match wide {
                Some(_) => truncated.next().unwrap_or_else(|| Share::zeros(ring, &[n])).add(narrow)?,
                None => narrow.clone(),
            });
        }
        let mut out = values.first().cloned().unwrap_or_else(|| Share::zeros(ring, &[n]));
        if let Some(ge) = ge {
            let diffs: Vec<Share> = values.windows(2).map(|w| w[1].sub(&w[0])).collect::<Result<_, _>>()?;
            let refs: Vec<&Share> = diffs.iter().collect();
            let picked = p.scope("select", |p| mux(p, &ge, &concat(&refs)?))?;
            for d in split(&picked, &vec![vec![n]; diffs.len()])? {
                out = out.add(&d)?;
            }
        }
        Ok(out.reshape(&shape)?)
    })
}

/// The formula of [`horner`] for `n` elements: a truncation after the public first product,
/// then d − 1 fixed-point products.
pub fn horner_cost(f: &mut Formula, fx: FixedPoint, n: usize, poly: &Polynomial, mode: TruncMode) {
    if poly.coeffs.len() >= 2 {
        truncate_cost(f, fx.ring(), n, fx.frac(), mode);
        f.repeat(poly.degree() - 1, |f| mul_cost(f, fx, n, mode));
    }
}

/// The formula of [`powers`] for `n` elements: per round, the square and the products batched
/// in one opening, then one truncation of every power of the round.
pub fn powers_cost(f: &mut Formula, fx: FixedPoint, n: usize, need: &[bool], mode: TruncMode) {
    let d = need.len().saturating_sub(1);
    let ring = fx.ring();
    let mut lo = 2;
    while lo <= d {
        let hi = (2 * (lo - 1)).min(d);
        let wanted: Vec<usize> = (lo..=hi).filter(|&i| need[i]).collect();
        let square = wanted.iter().any(|&i| matches!(reference::power_split(i), (h, l) if h == l));
        let products = wanted.len() - usize::from(square);
        match (square, products) {
            (false, 0) => {}
            (true, 0) => square_ring_cost(f, ring, n),
            (false, k) => mul_ring_cost(f, ring, k * n),
            (true, k) => square_and_mul_ring_cost(f, ring, n, k * n),
        }
        if !wanted.is_empty() {
            truncate_cost(f, ring, wanted.len() * n, fx.frac(), mode);
        }
        lo = hi + 1;
    }
}

/// The formula of [`power_basis`] for `n` elements.
pub fn power_basis_cost(
    f: &mut Formula,
    fx: FixedPoint,
    n: usize,
    poly: &Polynomial,
    mode: TruncMode,
) -> Result<(), ProtocolError> {
    let a = reference::coeffs(fx, poly)?;
    powers_cost(f, fx, n, &needed_powers(poly.degree(), &[&a]), mode);
    combine_cost(f, fx, n, &a, mode);
    Ok(())
}

/// The formula of [`combine`] for `n` elements: one truncation if a coefficient is not an integer.
pub fn combine_cost(f: &mut Formula, fx: FixedPoint, n: usize, a: &[Coeff], mode: TruncMode) {
    if reference::has_fraction(a) {
        truncate_cost(f, fx.ring(), n, fx.frac(), mode);
    }
}

/// The formula of [`piecewise`] for `n` elements: every breakpoint's comparison in one
/// millionaires', the powers, one truncation for the pieces with real coefficients, one
/// multiplexer over the k − 1 differences.
pub fn piecewise_cost(
    f: &mut Formula,
    fx: FixedPoint,
    n: usize,
    pw: &Piecewise,
    mode: TruncMode,
) -> Result<(), ProtocolError> {
    piecewise_cost_at(f, fx, fx.frac(), n, pw, mode)
}

/// The formula of [`piecewise_at`] for `n` elements.
pub fn piecewise_cost_at(
    f: &mut Formula,
    fx: FixedPoint,
    coeff_frac: u32,
    n: usize,
    pw: &Piecewise,
    mode: TruncMode,
) -> Result<(), ProtocolError> {
    pw.validate().map_err(|e| ProtocolError::Config { protocol: "piecewise", reason: e.to_string() })?;
    let coeffs: Vec<Vec<Coeff>> =
        pw.pieces.iter().map(|q| reference::coeffs_at(fx, coeff_frac, q)).collect::<Result<_, _>>()?;
    let selects = pw.breaks.len() * n;
    if selects > 0 {
        msb_cost(f, fx.ring(), selects);
    }
    let lists: Vec<&[Coeff]> = coeffs.iter().map(Vec::as_slice).collect();
    powers_cost(f, fx, n, &needed_powers(pw.max_degree().max(1), &lists), mode);
    let wides = coeffs.iter().filter(|a| reference::has_fraction(a)).count();
    if wides > 0 {
        truncate_cost(f, fx.ring(), wides * n, coeff_frac, mode);
    }
    if selects > 0 {
        mux_cost(f, fx.ring(), (pw.pieces.len() - 1) * n);
    }
    Ok(())
}

/// |x| below which every product of a degree-`d` evaluation stays in the faithful truncation's
/// domain (|x|^d·2^(2f) < 2^(ℓ−3)), capped at `cap`.
pub fn degree_bound(fx: FixedPoint, d: usize, cap: f64) -> f64 {
    let bits = fx.ring().bits() as f64 - 3.0 - 2.0 * fx.frac() as f64;
    (bits / d.max(1) as f64).exp2().min(cap)
}

/// PUMA's degree-6 GELU segment on [−1.95, 3] (PUMA, Dong et al. 2023), the polynomial the
/// `poly.*` blocks evaluate by default.
pub fn puma_gelu_segment() -> Polynomial {
    Polynomial::new(&[
        0.008_526_321_541_038_084,
        0.5,
        0.360_329_269_278_962_9,
        0.0,
        -0.037_688_200_365_904_236,
        0.0,
        0.001_806_746_260_614_118_7,
    ])
}

/// Which schedule a [`PolyEval`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Horner's rule.
    Horner,
    /// The low-depth power basis.
    Powers,
}

/// `poly.horner` and `poly.powers`: one polynomial, two schedules.
#[derive(Clone, Debug)]
pub struct PolyEval {
    /// The schedule.
    pub schedule: Schedule,
    /// The polynomial.
    pub poly: Polynomial,
    /// The domain tested and documented.
    pub domain: (f64, f64),
}

impl PolyEval {
    /// PUMA's degree-6 GELU segment on [−1.95, 3] with `schedule`.
    pub fn new(schedule: Schedule) -> Self {
        PolyEval { schedule, poly: puma_gelu_segment(), domain: (-1.95, 3.0) }
    }
}

impl Protocol for PolyEval {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        match self.schedule {
            Schedule::Horner => "poly.horner",
            Schedule::Powers => "poly.powers",
        }
    }
    fn paper(&self) -> &'static str {
        "polynomial evaluation on shares (PUMA 2023 / BumbleBee NDSS 2025 use the power basis)"
    }
    fn computes(&self) -> &'static str {
        match self.schedule {
            Schedule::Horner => "a polynomial by Horner's rule (default PUMA's degree-6 GELU segment)",
            Schedule::Powers => "a polynomial from a low-depth power basis (default PUMA's degree-6 GELU segment)",
        }
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.seq, m.ffn]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let b = degree_bound(fx, self.poly.degree(), f64::INFINITY);
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (self.domain.0.max(-b), self.domain.1.min(b)))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        let x = inputs.share(self.name(), 0)?;
        match self.schedule {
            Schedule::Horner => horner(p, inputs.fixed, x, &self.poly, mode),
            Schedule::Powers => power_basis(p, inputs.fixed, x, &self.poly, mode),
        }
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        match self.schedule {
            Schedule::Horner => horner_cost(f, fx, n, &self.poly, trunc),
            Schedule::Powers => power_basis_cost(f, fx, n, &self.poly, trunc).ok()?,
        }
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(match self.schedule {
            Schedule::Horner => reference::horner(fx, x, &self.poly)?,
            Schedule::Powers => reference::power_basis(fx, x, &self.poly)?,
        })
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(x.mapv(|v| self.poly.eval(v)))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(poly_tolerance(&self.poly, self.domain))
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fixed_point_error(&self.poly, self.domain, fx)
    }
}

/// A bound on the ULP error that probabilistic truncation (±1 per truncation) adds to an
/// evaluation of `poly` on |x| ≤ R: a power computed from powers with errors e_h, e_l carries
/// e_h·R^l + e_l·R^h + 1, and the combination Σ |a_i|·e_i + 1. Horner's accumulated error is no
/// larger for the polynomials used here (checked by the property tests).
pub fn poly_tolerance(poly: &Polynomial, domain: (f64, f64)) -> u64 {
    let r = domain.0.abs().max(domain.1.abs()).max(1.0);
    let d = poly.degree();
    let mut err = vec![0.0f64; d + 1];
    for i in 2..=d {
        let (h, l) = reference::power_split(i);
        err[i] = err[h] * r.powi(l as i32) + err[l] * r.powi(h as i32) + 1.0;
    }
    let horner: f64 = (1..=d).map(|i| r.powi(i as i32 - 1)).sum::<f64>();
    let combined: f64 = poly.coeffs.iter().zip(&err).map(|(a, e)| a.abs() * e).sum::<f64>() + 1.0;
    let coeff_max = poly.coeffs.iter().fold(0.0f64, |m, a| m.max(a.abs())).max(1.0);
    (combined.max(horner * coeff_max) + 2.0).ceil() as u64
}

/// A bound on the fixed-point error of evaluating `poly` on `domain` with floor truncation: the
/// truncation errors of [`poly_tolerance`] plus half an ULP per coefficient times |x|^i.
pub fn fixed_point_error(poly: &Polynomial, domain: (f64, f64), fx: FixedPoint) -> f64 {
    let r = domain.0.abs().max(domain.1.abs()).max(1.0);
    let quantisation: f64 = (0..=poly.degree()).map(|i| r.powi(i as i32) / 2.0).sum();
    (poly_tolerance(poly, domain) as f64 + quantisation) * fx.ulp()
}

/// `poly.piecewise`: PUMA's piecewise GELU (0 below −4, cubic on [−4, −1.95), degree 6 on
/// [−1.95, 3], x above 3), with the comparisons selecting the piece.
#[derive(Clone, Debug)]
pub struct PiecewiseEval {
    /// The piecewise polynomial.
    pub pw: Piecewise,
}

/// PUMA's GELU (PUMA, Dong et al. 2023; BumbleBee's baseline).
pub fn puma_gelu() -> Piecewise {
    Piecewise {
        breaks: vec![-4.0, -1.95, 3.0],
        pieces: vec![
            Polynomial::new(&[0.0]),
            Polynomial::new(&[
                -0.505_403_119_970_817_4,
                -0.422_265_811_519_838_66,
                -0.118_076_129_511_819_53,
                -0.011_034_134_030_615_728,
            ]),
            puma_gelu_segment(),
            Polynomial::new(&[0.0, 1.0]),
        ],
    }
}

impl Default for PiecewiseEval {
    fn default() -> Self {
        PiecewiseEval { pw: puma_gelu() }
    }
}

impl Protocol for PiecewiseEval {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "poly.piecewise"
    }
    fn paper(&self) -> &'static str {
        "piecewise polynomial with secure segment selection (PUMA 2023 §4.2)"
    }
    fn computes(&self) -> &'static str {
        "a piecewise polynomial (default PUMA's GELU), comparisons select the piece"
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.seq, m.ffn]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let b = degree_bound(fx, self.pw.max_degree(), 6.0);
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-b, b))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        piecewise(p, inputs.fixed, inputs.share(self.name(), 0)?, &self.pw, mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        piecewise_cost(f, fx, n, &self.pw, trunc).ok()?;
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(reference::piecewise(fx, x, &self.pw)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(x.mapv(|v| self.pw.eval(v)))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        let worst = self.pw.pieces.iter().map(|q| poly_tolerance(q, (-6.0, 6.0))).max().unwrap_or(0);
        trunc.tolerance(worst)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        self.pw.pieces.iter().map(|q| fixed_point_error(q, (-6.0, 6.0), fx)).fold(0.0, f64::max)
    }
}
