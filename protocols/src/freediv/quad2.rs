//! 2Quad (MPCFormer, ICLR 2023): (S + c)² normalised per row, by its sum (MPCFormer) or, in
//! freeDiv's division-free form (JCRD 2024; inferred, see [`crate::freediv`]), by a public
//! constant.

use dyad_reference::Fx;
use dyad_reference::normalize::ExponentRange;
use dyad_reference::recip::{GoldschmidtConsts, goldschmidt_scalar};
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::{ArrayD, Axis};

use super::BEFORE_DISTILLATION;
use super::rows::{RowScale, rows_dims};
use crate::blocks::activation::{AttentionFunction, softmax_rows};
use crate::blocks::arith::{mul, mul_cost, scale_public, square, square_cost};
use crate::blocks::recip::{goldschmidt, goldschmidt_cost};
use crate::blocks::share::{repeat_last, sum_last};
use crate::blocks::trunc::truncate_cost;
use crate::error::ProtocolError;
use crate::protocol::TruncMode;
use crate::protocol::{Activation, InputSpec, Inputs, ModelShape, Protocol, matrix, row_len, shared, take};

/// How far from −c scores may lie: (x + c)² at scale 2^(2f) must stay below 2^(ℓ−3) (capped at 40).
fn reach(fx: FixedPoint) -> f64 {
    ((fx.ring().bits() as f64 - 3.0 - 2.0 * fx.frac() as f64) / 2.0).exp2().min(40.0)
}

/// 2Quad: (x + c)² then either a public scale (freeDiv) or a division by the row sum
/// (MPCFormer).
#[derive(Clone, Debug)]
pub struct Quad2 {
    /// Registry name.
    pub name: &'static str,
    /// The shift c.
    pub c: f64,
    /// κ for the division-free form; `None` divides by the row sum.
    pub scale: Option<RowScale>,
    /// Goldschmidt iterations when dividing.
    pub recip_iterations: usize,
}

impl Quad2 {
    /// freeDiv's 2Quad: (x + c)²·κ, κ = 1/(n·c²).
    pub fn freediv(c: f64) -> Self {
        Quad2 { name: "freediv.quad2_freediv", c, scale: Some(RowScale::InverseKeysShift), recip_iterations: 2 }
    }

    /// MPCFormer's 2Quad: (x + c)²/Σ(x + c)².
    pub fn mpcformer(c: f64) -> Self {
        Quad2 { name: "mpcformer.quad2", c, scale: None, recip_iterations: 2 }
    }

    /// The range of row sums the reciprocal covers for rows of n: [2^−4, n·(40 + c)²].
    fn sum_range(&self, n: usize) -> ExponentRange {
        let top = n as f64 * (40.0 + self.c).powi(2);
        ExponentRange { kmin: -4, kmax: top.log2().ceil() as i32 }
    }
}

impl AttentionFunction for Quad2 {
    fn rows(&self, p: &mut Party, fx: FixedPoint, x: &Share, trunc: TruncMode) -> Result<Share, ProtocolError> {
        let n = row_len(self.name, x.shape())?;
        p.scope("quad2", |p| {
            let t = x.add_scalar(p.role(), fx.encode(self.c)?);
            let q = square(p, fx, &t, trunc)?;
            match self.scale {
                Some(k) => scale_public(p, fx, &q, k.value(n, self.c), trunc),
                None => {
                    let r = goldschmidt(p, fx, &sum_last(&q)?, &self.sum_range(n), self.recip_iterations, trunc)?;
                    mul(p, fx, &q, &repeat_last(&r, n)?, trunc)
                }
            }
        })
    }
    fn rows_reference(&self, fx: FixedPoint, x: &RingTensor) -> Result<RingTensor, ProtocolError> {
        let n = row_len(self.name, x.shape())?;
        let (f, ring) = (Fx::new(fx), fx.ring());
        let c = fx.encode(self.c)?;
        let mut out = Vec::with_capacity(x.len());
        for row in x.to_vec().chunks(n) {
            let q: Vec<u64> = row
                .iter()
                .map(|&v| {
                    let t = f.add(v, c);
                    f.mul(t, t)
                })
                .collect();
            match self.scale {
                Some(k) => {
                    let k = fx.encode(k.value(n, self.c))?;
                    out.extend(q.iter().map(|&v| f.mul(v, k)));
                }
                None => {
                    let range = self.sum_range(n);
                    let consts = GoldschmidtConsts::new(fx, &range)?;
                    let s = q.iter().fold(0, |a, &v| f.add(a, v));
                    let r = goldschmidt_scalar(f, s, &range, self.recip_iterations, &consts);
                    out.extend(q.iter().map(|&v| f.mul(v, r)));
                }
            }
        }
        Ok(RingTensor::from_vec(ring, x.shape(), out)?)
    }
    fn rows_cost(
        &self,
        f: &mut Formula,
        fx: FixedPoint,
        (rows, n): (usize, usize),
        trunc: TruncMode,
    ) -> Result<(), ProtocolError> {
        square_cost(f, fx, rows * n, trunc);
        match self.scale {
            Some(_) => truncate_cost(f, fx.ring(), rows * n, fx.frac(), trunc),
            None => {
                goldschmidt_cost(f, fx, rows, &self.sum_range(n), self.recip_iterations, trunc)?;
                mul_cost(f, fx, rows * n, trunc);
            }
        }
        Ok(())
    }
    fn rows_float(&self, x: &ArrayD<f64>) -> ArrayD<f64> {
        let mut out = x.clone();
        for mut row in out.lanes_mut(Axis(x.ndim() - 1)) {
            let n = row.len();
            row.mapv_inplace(|v| (v + self.c).powi(2));
            let k = match self.scale {
                Some(k) => k.value(n, self.c),
                None => 1.0 / row.sum(),
            };
            row.mapv_inplace(|v| v * k);
        }
        out
    }
}

impl Protocol for Quad2 {
    fn name(&self) -> &'static str {
        self.name
    }
    fn paper(&self) -> &'static str {
        match self.scale {
            Some(_) => "freeDiv (JCRD 2024): 2Quad freeDiv attention (inferred, see freediv docs)",
            None => "MPCFormer (ICLR 2023): 2Quad attention",
        }
    }
    fn computes(&self) -> &'static str {
        match self.scale {
            Some(_) => "(x + 5)²·κ per row, κ = 1/(25n): 2Quad without the division",
            None => "(x + 5)²/Σ(x + 5)² per row",
        }
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.heads * m.seq, m.seq]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![12, 128]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let n = rows_dims(self.name, dims)?;
        if self.scale.is_none() {
            // The row sums reach n·(40 + c)²: the reciprocal's constants must fit the format.
            GoldschmidtConsts::new(fx, &self.sum_range(n)).map_err(|e| ProtocolError::Config {
                protocol: self.name,
                reason: format!(
                    "row sums up to {:.0} do not fit this format ({e}); use ℓ = 64",
                    self.sum_range(n).bounds().1
                ),
            })?;
        }
        let reach = reach(fx);
        Ok(vec![shared("x", dims, (-self.c - reach, -self.c + reach))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        self.rows(p, inputs.fixed, inputs.share(self.name, 0)?, inputs.trunc)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let shape = matrix(self.name, dims).ok()?;
        self.rows_cost(f, fx, shape, trunc).ok()?;
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        self.rows_reference(fx, x)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        Ok(softmax_rows(x))
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        Ok(self.rows_float(x))
    }
    fn tolerance_ulp(&self, fx: FixedPoint, trunc: TruncMode) -> u64 {
        // freeDiv: the square's ±1 ULP scaled by κ ≤ 1, then the scaling's own. MPCFormer: the
        // reciprocal r = 1/Σq is within about 8 ULPs, and y = q·r multiplies that by q itself,
        // up to reach²; the row sum's errors move r by far less.
        trunc.tolerance(match self.scale {
            Some(_) => 3,
            None => (8.0 * reach(fx).powi(2)).ceil() as u64 + 256,
        })
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        // A replacement, not an approximation: only the trivial bound.
        match self.scale {
            Some(_) => f64::MAX,
            None => 1.0,
        }
    }
    fn activation(&self) -> Option<Activation> {
        Some(Activation::Softmax)
    }
    fn audit_note(&self) -> Option<&'static str> {
        Some(BEFORE_DISTILLATION)
    }
}
