//! freeDiv (Liu, Guan, Huo, Ding, Guo, Li, J. Computer Research and Development 2024(5),
//! 1218–1229): division-free attention for secure BERT inference, plus MPCFormer's GeLU
//! replacement, recovered by knowledge distillation.
//!
//! The paper's body was not available; these definitions are inferred from its abstract and the
//! MPCFormer line it builds on (Li et al., ICLR 2023), and every constant is configurable:
//! - `freediv.softmax_freediv`: A = exp(S − max)·κ, the secret row-sum division replaced by a
//!   public constant, κ = 1/n for n keys by default (inferred). The exp is the blocks' Taylor
//!   baseline by default (configurable).
//! - `freediv.quad2_freediv`: A = (S + c)²·κ with c = 5 (MPCFormer's 2Quad) and κ = 1/(n·c²) by
//!   default (inferred: the row sum of (S + c)² is n·c² when the scores are 0).
//! - `freediv.quad_gelu`: 0.125·x² + 0.25·x + 0.5 in place of GELU (MPCFormer's Quad).
//! - `mpcformer.quad2`: MPCFormer's 2Quad with the division, (S + c)²/Σ(S + c)², for comparison.
//!
//! These replace the function rather than approximate it; the audit reports their error against
//! the original Softmax or GELU, labelled as before distillation.
//!
//! Rows are never padded in Dyad: a row holds one query's scores against a sentence's real keys
//! (the encoder runs one sentence at a time; the audit makes one call per row length). So n is
//! the number of unmasked keys, and no position needs masking. A padded batch would need a
//! public mask: for 2Quad, setting a masked score to −c (a local operation on shares) forces its
//! output to 0.

pub mod quad2;
pub mod quad_gelu;
pub mod rows;
pub mod softmax_freediv;

use crate::blocks::activation::ExpMethod;

pub use quad_gelu::quad_gelu;
pub use quad2::Quad2;
pub use rows::RowScale;
pub use softmax_freediv::SoftmaxFreeDiv;

/// The audit's caveat for every freeDiv replacement.
pub const BEFORE_DISTILLATION: &str = "before distillation";

/// `freediv.softmax_freediv` with its defaults.
pub fn softmax_freediv() -> SoftmaxFreeDiv {
    SoftmaxFreeDiv {
        name: "freediv.softmax_freediv",
        exp: ExpMethod::Taylor { n: 8, clip: -14.0 },
        scale: RowScale::InverseKeys,
    }
}

/// `freediv.quad2_freediv` with its defaults.
pub fn quad2_freediv() -> Quad2 {
    Quad2::freediv(5.0)
}

/// `mpcformer.quad2` with its defaults.
pub fn quad2_mpcformer() -> Quad2 {
    Quad2::mpcformer(5.0)
}
