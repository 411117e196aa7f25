//! Maximum along the last axis as a tree of comparisons (as in SPU and CrypTFlow2's maxpool):
//! each level compares adjacent pairs, max(a, b) = b + DReLU(a − b)·(a − b), halving the row;
//! ⌈log2 n⌉ levels, each one batched comparison and one batched multiplexer.

use dyad_sim::{FixedPoint, Formula, Party, Ring, RingTensor, Share};
use ndarray::{ArrayD, Axis};

use crate::blocks::cmp::{drelu, msb_cost};
use crate::blocks::select::{mux, mux_cost};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, ModelShape, Protocol, matrix, row_len, shared, take};

/// The maximum of each row of `x` (`[.., n]` → `[..]`).
pub fn max_last(p: &mut Party, x: &Share) -> Result<Share, ProtocolError> {
    let shape = x.shape().to_vec();
    let (n, outer) = match shape.split_last() {
        Some((&n, outer)) if n > 0 => (n, outer.to_vec()),
        _ => {
            return Err(ProtocolError::Dims { protocol: "max", dims: shape, expected: "a non-empty last axis".into() });
        }
    };
    let rows: usize = outer.iter().product();
    p.scope("max", |p| {
        let ring = x.ring();
        let mut cur: Vec<Vec<u64>> = x.tensor().to_vec().chunks(n).map(<[u64]>::to_vec).collect();
        let mut width = n;
        while width > 1 {
            let pairs = width / 2;
            let (mut a, mut b) = (Vec::with_capacity(rows * pairs), Vec::with_capacity(rows * pairs));
            for row in &cur {
                for t in 0..pairs {
                    a.push(row[2 * t]);
                    b.push(row[2 * t + 1]);
                }
            }
            let a = Share::new(RingTensor::from_vec(ring, &[a.len()], a)?);
            let b = Share::new(RingTensor::from_vec(ring, &[b.len()], b)?);
            let diff = a.sub(&b)?;
            let ge = drelu(p, &diff)?;
            let m = b.add(&mux(p, &ge, &diff)?)?.into_tensor().to_vec();
            let next_width = width.div_ceil(2);
            cur = cur
                .iter()
                .zip(m.chunks(pairs.max(1)))
                .map(|(row, maxes)| {
                    let mut next = maxes.to_vec();
                    if width % 2 == 1 {
                        next.push(row[width - 1]);
                    }
                    next
                })
                .collect();
            width = next_width;
        }
        let flat: Vec<u64> = cur.into_iter().flatten().collect();
        let out = Share::new(RingTensor::from_vec(ring, &[flat.len()], flat)?);
        Ok(out.reshape(&outer)?)
    })
}

/// The formula of [`max_last`] for `rows` rows of `n`: per level, one comparison and one
/// multiplexer over the rows' pairs.
pub fn max_cost(f: &mut Formula, ring: Ring, rows: usize, n: usize) {
    let mut width = n;
    while width > 1 {
        msb_cost(f, ring, rows * (width / 2));
        mux_cost(f, ring, rows * (width / 2));
        width = width.div_ceil(2);
    }
}

/// `max`: the maximum of each row (dims rows,n).
#[derive(Clone, Copy, Debug, Default)]
pub struct Max;

impl Protocol for Max {
    fn independence(&self) -> Independence {
        Independence::Rows
    }
    fn name(&self) -> &'static str {
        "max"
    }
    fn paper(&self) -> &'static str {
        "tree of millionaires' comparisons and multiplexers (CrypTFlow2 maxpool; SPU)"
    }
    fn computes(&self) -> &'static str {
        "the maximum along the last axis (dims rows,n)"
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.heads * m.seq, m.seq]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![16, 128]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        match dims {
            [rows, n] if *rows > 0 && *n > 0 => Ok(vec![shared("x", dims, (-50.0, 50.0))]),
            _ => Err(ProtocolError::Dims { protocol: self.name(), dims: dims.to_vec(), expected: "rows,n".into() }),
        }
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        max_last(p, inputs.share(self.name(), 0)?)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        let (rows, n) = matrix(self.name(), dims).ok()?;
        max_cost(f, fx.ring(), rows, n);
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        let r = x.ring();
        let n = row_len(self.name(), x.shape())?;
        let maxes: Vec<u64> =
            x.to_vec().chunks(n).map(|row| row.iter().copied().max_by_key(|&v| r.signed(v)).unwrap_or(0)).collect();
        Ok(RingTensor::from_vec(r, &x.shape()[..x.shape().len() - 1], maxes)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        let last = Axis(x.ndim().saturating_sub(1));
        Ok(x.fold_axis(last, f64::NEG_INFINITY, |a, b| a.max(*b)))
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
}
