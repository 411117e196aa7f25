//! Secret × secret matrix products by matrix Beaver triples (Mohassel & Zhang, SecureML, S&P 2017,
//! "Vectorization in the Shared Setting"),
//! as the attention products Q·Kᵀ and A·V need. The dealer hands out the triples; when the
//! parties generate their correlations, they make them with HE as BumbleBee does
//! ([`crate::bumblebee::matrix_triple`]).

use dyad_reference as reference;
use dyad_sim::correlation::MatDims;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Role, Share};
use ndarray::{ArrayD, Axis};

use crate::blocks::arith::product_bound;
use crate::bumblebee::matrix_triple;

use crate::blocks::share::{open_many, open_many_cost};
use crate::blocks::trunc::{truncate, truncate_cost};
use crate::error::ProtocolError;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, ModelShape, Protocol, shared, take};

/// The ring matrix product X·Y (`[m, k]·[k, n]`, or batched `[b, m, k]·[b, k, n]`) by a matrix
/// triple: open D = X − A and E = Y − B, then X·Y = C + D·B + A·E + D·E. Online:
/// (m·k + k·n)·ℓ/8 bytes each way (times b), one round.
pub fn matmul_ring(p: &mut Party, x: &Share, y: &Share) -> Result<Share, ProtocolError> {
    let dims = match (x.shape(), y.shape()) {
        ([m, k], [k2, n]) if k == k2 => MatDims { batch: None, m: *m, k: *k, n: *n },
        ([b, m, k], [b2, k2, n]) if b == b2 && k == k2 => MatDims { batch: Some(*b), m: *m, k: *k, n: *n },
        _ => {
            return Err(dyad_sim::TensorError::Shape {
                op: "matmul",
                left: x.shape().to_vec(),
                right: y.shape().to_vec(),
            }
            .into());
        }
    };
    p.scope("matmul", |p| {
        let t = if p.ideal_correlations() {
            p.matrix_triple(x.ring(), dims)?
        } else {
            matrix_triple::matrix_triple(p, x.ring(), dims)?
        };
        let opened = open_many(p, &[&x.sub(&t.a)?, &y.sub(&t.b)?])?;
        let [d, e] = take("matmul", &opened)?;
        // The server's d·e is folded into its d·(b + e): two local products per party, not three.
        let d_times_b = match p.role() {
            Role::Server => d.matmul(&t.b.tensor().add(e)?)?,
            Role::Client => d.matmul(t.b.tensor())?,
        };
        Ok(Share::new(t.c.tensor().add(&d_times_b)?.add(&t.a.tensor().matmul(e)?)?))
    })
}

/// The fixed-point matrix product ⌊X·Y / 2^f⌋.
pub fn matmul(p: &mut Party, fx: FixedPoint, x: &Share, y: &Share, mode: TruncMode) -> Result<Share, ProtocolError> {
    let z = matmul_ring(p, x, y)?;
    truncate(p, &z, fx.frac(), mode)
}

/// The formula of [`matmul`]: a matrix triple, D and E opened in one round, the truncation of the
/// b·m·n outputs.
pub fn matmul_cost(f: &mut Formula, fx: FixedPoint, dims: MatDims, mode: TruncMode) {
    let b = dims.batch.unwrap_or(1);
    f.matrix_triple(fx.ring(), dims);
    open_many_cost(f, fx.ring(), &[b * dims.m * dims.k, b * dims.k * dims.n]);
    truncate_cost(f, fx.ring(), b * dims.m * dims.n, fx.frac(), mode);
}

/// `matmul`: X·Y for two shared matrices (dims `b,m,k,n` or `m,k,n`), then truncation.
#[derive(Clone, Copy, Debug, Default)]
pub struct MatMul;

impl Protocol for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }
    fn paper(&self) -> &'static str {
        "matrix Beaver triples (SecureML, S&P 2017: vectorization in the shared setting)"
    }
    fn computes(&self) -> &'static str {
        "X·Y for shared X [b,m,k] and Y [b,k,n] (dims b,m,k,n or m,k,n)"
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.heads, m.seq, m.head_dim(), m.seq]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![2, 16, 8, 16]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let (xs, ys) = match dims {
            [m, k, n] => (vec![*m, *k], vec![*k, *n]),
            [b, m, k, n] => (vec![*b, *m, *k], vec![*b, *k, *n]),
            _ => {
                return Err(ProtocolError::Dims {
                    protocol: self.name(),
                    dims: dims.to_vec(),
                    expected: "m,k,n or b,m,k,n".into(),
                });
            }
        };
        if dims.contains(&0) {
            return Err(ProtocolError::Dims {
                protocol: self.name(),
                dims: dims.to_vec(),
                expected: "non-zero dimensions".into(),
            });
        }
        let k = xs.last().copied().unwrap_or(1) as f64;
        let b = product_bound(fx, 4.0) / k.sqrt();
        Ok(vec![shared("x", &xs, (-b, b)), shared("y", &ys, (-b, b))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        matmul(p, inputs.fixed, inputs.share(self.name(), 0)?, inputs.share(self.name(), 1)?, mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let dims = match *dims {
            [m, k, n] => MatDims { batch: None, m, k, n },
            [b, m, k, n] => MatDims { batch: Some(b), m, k, n },
            _ => return None,
        };
        matmul_cost(f, fx, dims, trunc);
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(reference::arith::matmul(fx, x, y)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        let as2 = |a: &ArrayD<f64>| a.view().into_dimensionality::<ndarray::Ix2>().map(|v| v.to_owned());
        let as3 = |a: &ArrayD<f64>| a.view().into_dimensionality::<ndarray::Ix3>().map(|v| v.to_owned());
        let bad =
            || ProtocolError::Dims { protocol: "matmul", dims: x.shape().to_vec(), expected: "2-D or 3-D".into() };
        match (as2(x), as2(y)) {
            (Ok(a), Ok(b)) => Ok(a.dot(&b).into_dyn()),
            _ => {
                let (a, b) = (as3(x).map_err(|_| bad())?, as3(y).map_err(|_| bad())?);
                let slices: Vec<_> = a.outer_iter().zip(b.outer_iter()).map(|(ai, bi)| ai.dot(&bi)).collect();
                let views: Vec<_> = slices.iter().map(|s| s.view()).collect();
                Ok(ndarray::stack(Axis(0), &views).map_err(|_| bad())?.into_dyn())
            }
        }
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(1)
    }
    fn generated_tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        // The HE triple's ±2 before the truncation moves its result by at most one more.
        trunc.tolerance(1) + 1
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fx.ulp()
    }
}
