//! Every protocol, by its stable name.

use crate::blocks::arith::{Add, Mul, Scale, Square};
use crate::blocks::cmp::{Drelu, Lt, LtPublic};
use crate::blocks::exp::ExpTaylor;
use crate::blocks::layernorm::LayerNorm;
use crate::blocks::matmul::MatMul;
use crate::blocks::max::Max;
use crate::blocks::poly::{PiecewiseEval, PolyEval, Schedule};
use crate::blocks::recip::{Method, Reciprocal};
use crate::blocks::rsqrt::Rsqrt;
use crate::blocks::select::{Relu, Select};
use crate::blocks::share::{Reveal, ShareInput};
use crate::blocks::trunc::{TruncMode, Truncation};
use crate::bumblebee::linear::SipLinear;
use crate::error::HarnessError;
use crate::nimbus::linear::NimbusLinear;
use crate::protocol::Protocol;

/// All registered protocols, in listing order.
pub fn all() -> Vec<Box<dyn Protocol>> {
    vec![
        Box::new(ShareInput),
        Box::new(Reveal),
        Box::new(Add),
        Box::new(Mul),
        Box::new(Square),
        Box::new(Scale::default()),
        Box::new(MatMul),
        Box::new(Truncation::new(TruncMode::Probabilistic)),
        Box::new(Truncation::new(TruncMode::OneBit)),
        Box::new(Truncation::new(TruncMode::Faithful)),
        Box::new(Drelu),
        Box::new(LtPublic::default()),
        Box::new(Lt),
        Box::new(Relu),
        Box::new(Select),
        Box::new(PolyEval::new(Schedule::Horner)),
        Box::new(PolyEval::new(Schedule::Powers)),
        Box::new(PiecewiseEval::default()),
        Box::new(Max),
        Box::new(ExpTaylor::default()),
        Box::new(Reciprocal::new(Method::Goldschmidt)),
        Box::new(Reciprocal::new(Method::Newton)),
        Box::new(Rsqrt::default()),
        Box::new(LayerNorm::default()),
        Box::new(NimbusLinear),
        Box::new(SipLinear),
    ]
}

/// The protocol registered as `name`.
pub fn find(name: &str) -> Result<Box<dyn Protocol>, HarnessError> {
    all().into_iter().find(|p| p.name() == name).ok_or_else(|| HarnessError::Unknown { name: name.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_stable_shaped() {
        let names: Vec<&str> = all().iter().map(|p| p.name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "duplicate names in {names:?}");
        for n in names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'), "{n}");
        }
    }
}
