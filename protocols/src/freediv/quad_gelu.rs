//! Quad GeLU (MPCFormer, ICLR 2023; freeDiv's GeLU replacement): 0.125·x² + 0.25·x + 0.5 in
//! place of GELU, a piecewise activation of one piece.

use dyad_reference::approx::CoefficientSet;

use super::BEFORE_DISTILLATION;
use crate::blocks::activation::PiecewiseActivation;
use crate::error::ProtocolError;

/// `freediv.quad_gelu`: MPCFormer's Quad in place of GELU.
pub fn quad_gelu() -> Result<PiecewiseActivation, ProtocolError> {
    let set = CoefficientSet::builtin("mpcformer-quad-gelu")
        .map_err(|e| ProtocolError::Config { protocol: "freediv.quad_gelu", reason: e.to_string() })?;
    let mut p = PiecewiseActivation::new(
        "freediv.quad_gelu",
        "freeDiv (JCRD 2024) / MPCFormer (ICLR 2023): Quad GeLU replacement",
        "0.125·x² + 0.25·x + 0.5 in place of GELU",
        set,
    )?;
    p.note = Some(BEFORE_DISTILLATION);
    Ok(p)
}
