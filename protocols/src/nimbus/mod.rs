//! Nimbus (Z. Li, K. Yang, J. Tan, W. Lu, H. Wu, X. Wang, Y. Yu, D. Zhao, Y. Zheng, M. Guo and
//! J. Leng, NeurIPS 2024, arXiv 2411.15707; code: secretflow/spu,
//! branch `nimbus`): client-side outer-product linear layers (its Fig. 3 and Table 1) and
//! distribution-aware low-degree non-linear layers (its Fig. 4: the inputs' distributions).
//!
//! The non-linear protocols are the shared building blocks with Nimbus's coefficients, piecewise
//! polynomials with secure segment selection: `nimbus.gelu` is 0 | low-degree pieces | x,
//! `nimbus.exp` is 0 below a breakpoint and low-degree pieces above it, on x − max;
//! `nimbus.softmax` subtracts the row maximum, takes that exp, and multiplies by one Goldschmidt
//! reciprocal per row (2 iterations, as SPU).
//! The default coefficients are fitted by `dyad fit` on the recorded MiniLM activations: two
//! quartic GELU pieces (within 0.02 of GELU at every recorded histogram bin) and two cubic exp
//! pieces. Quadratic GELU pieces, as in the public example, cost 13% less online but leave the
//! end-to-end embeddings below cosine 0.999 on some sentences. The public code's example
//! coefficients are registered beside them (`*_example`).

pub mod linear;
pub mod small_ring;

use dyad_reference::approx::CoefficientSet;

use crate::blocks::activation::{ExpMethod, PiecewiseActivation, Softmax, check_tolerance};
use crate::error::ProtocolError;
use small_ring::{SmallRingActivation, SmallRingSoftmax};

use crate::protocol::SmallRingSpec;

const PAPER: &str = "Nimbus (NeurIPS 2024): distribution-aware low-degree approximation";

fn set(name: &str) -> Result<CoefficientSet, ProtocolError> {
    CoefficientSet::builtin(name).map_err(|e| ProtocolError::Config { protocol: "nimbus", reason: e.to_string() })
}

/// `nimbus.gelu`: GELU from the fitted coefficient set.
pub fn gelu() -> Result<PiecewiseActivation, ProtocolError> {
    PiecewiseActivation::new(
        "nimbus.gelu",
        PAPER,
        "GELU as 0 | low-degree pieces | x, coefficients fitted on MiniLM activations",
        set(FITTED_GELU)?,
    )
}

/// `nimbus.gelu_example`: GELU from the public code's example coefficients.
pub fn gelu_example() -> Result<PiecewiseActivation, ProtocolError> {
    PiecewiseActivation::new(
        "nimbus.gelu_example",
        PAPER,
        "GELU with the public Nimbus example coefficients (jumps at 0.5)",
        set("nimbus-gelu-example")?,
    )
}

/// `nimbus.exp`: exp on x − max from the fitted coefficient set.
pub fn exp() -> Result<PiecewiseActivation, ProtocolError> {
    PiecewiseActivation::new(
        "nimbus.exp",
        PAPER,
        "exp(x) for x ≤ 0 as 0 | low-degree pieces, coefficients fitted on MiniLM scores",
        set(FITTED_EXP)?,
    )
}

/// `nimbus.exp_example`: exp from the public code's example coefficients.
pub fn exp_example() -> Result<PiecewiseActivation, ProtocolError> {
    PiecewiseActivation::new(
        "nimbus.exp_example",
        PAPER,
        "exp(x) for x ≤ 0 with the public Nimbus example cubic (0 below −3.9)",
        set("nimbus-exp-example")?,
    )
}

/// Softmax with the exp of `exp_set`: x − max, the piecewise exp, one Goldschmidt reciprocal per
/// row (2 iterations, as SPU).
pub fn softmax_with(
    name: &'static str,
    paper: &'static str,
    computes: &'static str,
    exp_set: &CoefficientSet,
) -> Result<Softmax, ProtocolError> {
    let pw = exp_set.piecewise().map_err(|e| ProtocolError::Config { protocol: name, reason: e.to_string() })?;
    check_tolerance(name, &pw)?;
    Ok(Softmax { name, paper, computes, exp: ExpMethod::Piecewise(pw), recip_iterations: 2 })
}

/// `nimbus.softmax`: Softmax with the fitted exp and one reciprocal per row.
pub fn softmax() -> Result<Softmax, ProtocolError> {
    softmax_with(
        "nimbus.softmax",
        PAPER,
        "Softmax: x − max, fitted low-degree exp, one Goldschmidt reciprocal per row",
        &set(FITTED_EXP)?,
    )
}

/// `nimbus.softmax_example`: Softmax with the example exp.
pub fn softmax_example() -> Result<Softmax, ProtocolError> {
    softmax_with(
        "nimbus.softmax_example",
        PAPER,
        "Softmax with the public Nimbus example exp",
        &set("nimbus-exp-example")?,
    )
}

/// The coefficient set behind `nimbus.gelu`.
pub const FITTED_GELU: &str = "nimbus-gelu-fitted";
/// The coefficient set behind `nimbus.exp` and `nimbus.softmax`.
pub const FITTED_EXP: &str = "nimbus-exp-fitted";

/// The small ring of Nimbus's non-linear layers: Z_2^32, with f′ derived.
pub const SMALL_RING: SmallRingSpec = SmallRingSpec { bits: 32, frac: None };

/// `nimbus.gelu_small`: `nimbus.gelu` in Z_2^32 between the fused conversions.
pub fn gelu_small() -> Result<SmallRingActivation, ProtocolError> {
    Ok(SmallRingActivation::new(
        "nimbus.gelu_small",
        "GELU as nimbus.gelu, computed in a small ring (Z_2^32 unless configured) with the truncation fused into the down-cast",
        gelu()?,
        SMALL_RING,
    ))
}

/// `nimbus.gelu_example_small`: `nimbus.gelu_example` in Z_2^32.
pub fn gelu_example_small() -> Result<SmallRingActivation, ProtocolError> {
    Ok(SmallRingActivation::new(
        "nimbus.gelu_example_small",
        "GELU with the public example coefficients, computed in a small ring (Z_2^32 unless configured)",
        gelu_example()?,
        SMALL_RING,
    ))
}

/// `nimbus.exp_small`: `nimbus.exp` in Z_2^32.
pub fn exp_small() -> Result<SmallRingActivation, ProtocolError> {
    Ok(SmallRingActivation::new(
        "nimbus.exp_small",
        "exp(x) for x ≤ 0 as nimbus.exp, computed in a small ring (Z_2^32 unless configured)",
        exp()?,
        SMALL_RING,
    ))
}

/// `nimbus.exp_example_small`: `nimbus.exp_example` in Z_2^32.
pub fn exp_example_small() -> Result<SmallRingActivation, ProtocolError> {
    Ok(SmallRingActivation::new(
        "nimbus.exp_example_small",
        "exp(x) for x ≤ 0 with the public example cubic, computed in a small ring (Z_2^32 unless configured)",
        exp_example()?,
        SMALL_RING,
    ))
}

/// `nimbus.softmax_small`: `nimbus.softmax` with its row maximum and exp in Z_2^32.
pub fn softmax_small() -> Result<SmallRingSoftmax, ProtocolError> {
    let inner = softmax_with(
        "nimbus.softmax_small",
        PAPER,
        "Softmax as nimbus.softmax, its row maximum and exp computed in a small ring (Z_2^32 unless configured)",
        &set(FITTED_EXP)?,
    )?;
    SmallRingSoftmax::new(inner, SMALL_RING)
}

/// `nimbus.softmax_example_small`: `nimbus.softmax_example` with its row maximum and exp in Z_2^32.
pub fn softmax_example_small() -> Result<SmallRingSoftmax, ProtocolError> {
    let inner = softmax_with(
        "nimbus.softmax_example_small",
        PAPER,
        "Softmax with the public example exp, its row maximum and exp computed in a small ring (Z_2^32 unless configured)",
        &set("nimbus-exp-example")?,
    )?;
    SmallRingSoftmax::new(inner, SMALL_RING)
}
