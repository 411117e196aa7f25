//! The attention functions and activations a student computes, on candle tensors, with the
//! constants of the protocols that run them under 2PC ([`dyad_protocols::freediv`]), so that the
//! network distilled is the one the secure run evaluates.

use candle_core::{D, Tensor};
use dyad_protocols::blocks::activation::ExpMethod;
use dyad_protocols::freediv::{Quad2, RowScale, SoftmaxFreeDiv};

use crate::error::DistillError;

/// What turns a head's scores S ([H, n, n]) into its attention weights, row by row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Attention {
    /// Softmax: the teacher's.
    Softmax,
    /// freeDiv's Softmax freeDiv: (1 + (S − max)/2^t)^(2^t), 0 below `clip`, times κ.
    SoftmaxFreeDiv {
        /// t of the Taylor exp (1 + x/2^t)^(2^t).
        taylor: u32,
        /// Scores this far below their row's maximum weigh 0.
        clip: f64,
        /// κ, the public constant in place of 1/Σ.
        scale: RowScale,
    },
    /// freeDiv's 2Quad freeDiv: (S + c)² times κ.
    Quad2FreeDiv {
        /// The shift c.
        c: f64,
        /// κ, the public constant in place of 1/Σ.
        scale: RowScale,
    },
}

impl Attention {
    /// Softmax freeDiv with the constants of `p`; `None` when its exp is not the Taylor one.
    pub fn softmax_freediv(p: &SoftmaxFreeDiv) -> Option<Self> {
        match p.exp {
            ExpMethod::Taylor { n, clip } => Some(Attention::SoftmaxFreeDiv { taylor: n, clip, scale: p.scale }),
            ExpMethod::Piecewise(_) => None,
        }
    }

    /// 2Quad freeDiv with the constants of `p`; `None` for MPCFormer's 2Quad, which divides.
    pub fn quad2_freediv(p: &Quad2) -> Option<Self> {
        p.scale.map(|scale| Attention::Quad2FreeDiv { c: p.c, scale })
    }

    /// The attention weights of `scores`, each row of n keys on its own.
    pub fn apply(&self, scores: &Tensor) -> Result<Tensor, DistillError> {
        let n = scores.dim(D::Minus1)?;
        Ok(match *self {
            Attention::Softmax => {
                let e = scores.broadcast_sub(&scores.max_keepdim(D::Minus1)?)?.exp()?;
                e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?
            }
            Attention::SoftmaxFreeDiv { taylor, clip, scale } => {
                let x = scores.broadcast_sub(&scores.max_keepdim(D::Minus1)?)?;
                let mut e = x.affine(1.0 / f64::from(taylor).exp2(), 1.0)?;
                for _ in 0..taylor {
                    e = e.sqr()?;
                }
                let kept = x.ge(clip)?.where_cond(&e, &e.zeros_like()?)?;
                kept.affine(scale.value(n, 0.0), 0.0)?
            }
            Attention::Quad2FreeDiv { c, scale } => scores.affine(1.0, c)?.sqr()?.affine(scale.value(n, c), 0.0)?,
        })
    }
}

/// The feed-forward block's activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// GELU with the exact erf: the teacher's.
    Gelu,
    /// MPCFormer's Quad, 0.125·x² + 0.25·x + 0.5.
    Quad,
}

impl Activation {
    /// The activation of every element of `x`.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor, DistillError> {
        Ok(match self {
            Activation::Gelu => x.gelu_erf()?,
            Activation::Quad => (x.sqr()?.affine(0.125, 0.0)? + x.affine(0.25, 0.5)?)?,
        })
    }
}
