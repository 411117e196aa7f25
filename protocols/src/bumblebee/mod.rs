//! The baselines Nimbus compares against: BumbleBee (Lu et al., NDSS 2025; SecretFlow SPU's
//! cheetah backend) and its predecessor Cheetah (Huang et al., USENIX Security 2022), with PUMA's
//! non-linear approximations (Dong et al., 2023).
//!
//! `bumblebee.gelu` is PUMA's piecewise GELU (cubic on [−4, −1.95), degree 6 on [−1.95, 3]);
//! `bumblebee.exp` is (1 + x/2^8)^(2^8) clipped below −14 (the blocks' `exp` baseline);
//! `bumblebee.softmax` subtracts the row maximum, takes that exp and multiplies by one reciprocal
//! per row — SPU's faster variant (the one that spends 314 MB at 12×128×128 rather than 808 MB).

pub mod elementwise_triple;
pub mod linear;
pub mod matrix_triple;

use dyad_reference::approx::CoefficientSet;

use crate::blocks::activation::{ExpMethod, PiecewiseActivation, Softmax};
use crate::error::ProtocolError;

/// `bumblebee.gelu`: PUMA's GELU.
pub fn gelu() -> Result<PiecewiseActivation, ProtocolError> {
    let set = CoefficientSet::builtin("puma-gelu")
        .map_err(|e| ProtocolError::Config { protocol: "bumblebee.gelu", reason: e.to_string() })?;
    PiecewiseActivation::new(
        "bumblebee.gelu",
        "PUMA (2023) §4.2 / BumbleBee (NDSS 2025): piecewise GELU",
        "GELU as 0 | cubic | degree 6 | x (PUMA)",
        set,
    )
}

/// `bumblebee.softmax`: Taylor exp, one reciprocal per row.
pub fn softmax() -> Softmax {
    Softmax {
        name: "bumblebee.softmax",
        paper: "BumbleBee (NDSS 2025) / SPU: Softmax with (1+x/256)^256 and one reciprocal per row",
        computes: "Softmax: x − max, Taylor exp clipped at −14, one Goldschmidt reciprocal per row",
        exp: ExpMethod::Taylor { n: 8, clip: -14.0 },
        recip_iterations: 2,
    }
}
