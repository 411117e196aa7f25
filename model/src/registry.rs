//! Every protocol, by its stable name.

use dyad_protocols::blocks::arith::{Add, Mul, Scale, Square};
use dyad_protocols::blocks::cmp::{Drelu, Lt, LtPublic};
use dyad_protocols::blocks::exp::ExpTaylor;
use dyad_protocols::blocks::layernorm::LayerNorm;
use dyad_protocols::blocks::matmul::MatMul;
use dyad_protocols::blocks::max::Max;
use dyad_protocols::blocks::poly::{PiecewiseEval, PolyEval, Schedule};
use dyad_protocols::blocks::recip::{Method, Reciprocal};
use dyad_protocols::blocks::rsqrt::Rsqrt;
use dyad_protocols::blocks::select::{Relu, Select};
use dyad_protocols::blocks::share::{Reveal, ShareInput};
use dyad_protocols::blocks::trunc::{TruncMode, Truncation};
use dyad_protocols::bumblebee::linear::SipLinear;
use std::sync::Arc;

use dyad_reference::approx::{CoefficientSet, Target};

use crate::encoder::Suite;
use crate::encoder::layer::EncoderLayer;
use crate::layers::attention::AttentionBlock;
use crate::layers::ffn::FfnBlock;
use crate::layers::linear::LinearKind;
use dyad_protocols::blocks::activation::{AttentionFunction, PiecewiseActivation};
use dyad_protocols::error::{HarnessError, ProtocolError};
use dyad_protocols::nimbus::linear::NimbusLinear;
use dyad_protocols::protocol::Protocol;
use dyad_protocols::{bumblebee, freediv, nimbus};

/// All registered protocols, in listing order. (The coefficient sets they load are built in and
/// tested to parse; a protocol whose set failed to load would be missing, which
/// `every_protocol_builds` catches.)
pub fn all() -> Vec<Box<dyn Protocol>> {
    let mut all = primitives();
    all.extend(blocks().into_iter().flatten());
    all
}

/// The primitive protocols that blocks and suites are made of: everything but the attention,
/// feed-forward and layer compositions.
pub fn primitives() -> Vec<Box<dyn Protocol>> {
    let mut all: Vec<Box<dyn Protocol>> = vec![
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
    ];
    let activations: Vec<Result<Box<dyn Protocol>, ProtocolError>> = vec![
        nimbus::gelu().map(boxed),
        nimbus::gelu_example().map(boxed),
        bumblebee::gelu().map(boxed),
        nimbus::exp().map(boxed),
        nimbus::exp_example().map(boxed),
        nimbus::softmax().map(boxed),
        nimbus::softmax_example().map(boxed),
        Ok(Box::new(bumblebee::softmax())),
        Ok(Box::new(freediv::softmax_freediv())),
        Ok(Box::new(freediv::quad2_freediv())),
        Ok(Box::new(freediv::quad2_mpcformer())),
        freediv::quad_gelu().map(boxed),
    ];
    all.extend(activations.into_iter().flatten());
    all
}

/// The primitive protocol registered as `name` (what a suite's GELU slot names).
pub fn find_primitive(name: &str) -> Result<Box<dyn Protocol>, HarnessError> {
    primitives().into_iter().find(|p| p.name() == name).ok_or_else(|| HarnessError::Unknown { name: name.into() })
}

/// The attention function registered as `name`, for the attention slot of blocks and suites.
pub fn attention_function(name: &str) -> Option<Arc<dyn AttentionFunction>> {
    let f: Arc<dyn AttentionFunction> = match name {
        "nimbus.softmax" => Arc::new(nimbus::softmax().ok()?),
        "nimbus.softmax_example" => Arc::new(nimbus::softmax_example().ok()?),
        "bumblebee.softmax" => Arc::new(bumblebee::softmax()),
        "freediv.softmax_freediv" => Arc::new(freediv::softmax_freediv()),
        "freediv.quad2_freediv" => Arc::new(freediv::quad2_freediv()),
        "mpcformer.quad2" => Arc::new(freediv::quad2_mpcformer()),
        _ => return None,
    };
    Some(f)
}

/// The attention and feed-forward blocks, one per attention function and per suite.
fn blocks() -> Vec<Result<Box<dyn Protocol>, ProtocolError>> {
    let attention = |name: &'static str,
                     function: Result<Arc<dyn AttentionFunction>, ProtocolError>|
     -> Result<Box<dyn Protocol>, ProtocolError> {
        Ok(Box::new(AttentionBlock { name, function: function? }))
    };
    let layer = |name: &'static str, suite: &str| -> Result<Box<dyn Protocol>, ProtocolError> {
        let suite = Suite::named(suite).map_err(|e| ProtocolError::Config { protocol: name, reason: e.to_string() })?;
        Ok(Box::new(EncoderLayer::new(name, &suite)?))
    };
    let ffn = |name: &'static str,
               linear: LinearKind,
               gelu: Result<Arc<dyn Protocol>, ProtocolError>|
     -> Result<Box<dyn Protocol>, ProtocolError> { Ok(Box::new(FfnBlock { name, linear, gelu: gelu? })) };
    vec![
        attention("attention.bumblebee", Ok(Arc::new(bumblebee::softmax()))),
        attention("attention.nimbus", nimbus::softmax().map(|f| Arc::new(f) as Arc<dyn AttentionFunction>)),
        attention("attention.softmax_freediv", Ok(Arc::new(freediv::softmax_freediv()))),
        attention("attention.quad2_freediv", Ok(Arc::new(freediv::quad2_freediv()))),
        attention("attention.quad2", Ok(Arc::new(freediv::quad2_mpcformer()))),
        ffn("ffn.bumblebee", LinearKind::Sip, bumblebee::gelu().map(|g| Arc::new(g) as Arc<dyn Protocol>)),
        ffn("ffn.nimbus", LinearKind::Cop, nimbus::gelu().map(|g| Arc::new(g) as Arc<dyn Protocol>)),
        ffn("ffn.freediv", LinearKind::Sip, freediv::quad_gelu().map(|g| Arc::new(g) as Arc<dyn Protocol>)),
        layer("layer.nimbus", "nimbus"),
        layer("layer.bumblebee", "bumblebee"),
        layer("layer.freediv_softmax", "freediv-softmax"),
        layer("layer.freediv_2quad", "freediv-2quad"),
    ]
}

fn boxed<P: Protocol + 'static>(p: P) -> Box<dyn Protocol> {
    Box::new(p)
}

/// The protocol registered as `name`.
pub fn find(name: &str) -> Result<Box<dyn Protocol>, HarnessError> {
    all().into_iter().find(|p| p.name() == name).ok_or_else(|| HarnessError::Unknown { name: name.into() })
}

/// What the command line looks protocols up in: the built-in protocols, then any a user adds (a
/// protocol of their own, or those of a coefficient file, see [`from_coefficients`]).
pub struct Registry {
    protocols: Vec<Box<dyn Protocol>>,
}

impl Registry {
    /// The built-in protocols.
    pub fn builtin() -> Self {
        Registry { protocols: all() }
    }

    /// Adds `extra` after the built-in protocols; an error if a name is taken.
    pub fn with(mut self, extra: impl IntoIterator<Item = Box<dyn Protocol>>) -> Result<Self, HarnessError> {
        for p in extra {
            if self.protocols.iter().any(|q| q.name() == p.name()) {
                return Err(HarnessError::Duplicate { name: p.name().into() });
            }
            self.protocols.push(p);
        }
        Ok(self)
    }

    /// Every protocol, in listing order.
    pub fn all(&self) -> Vec<&dyn Protocol> {
        self.protocols.iter().map(AsRef::as_ref).collect()
    }

    /// The protocol named `name`.
    pub fn find(&self, name: &str) -> Result<&dyn Protocol, HarnessError> {
        self.protocols
            .iter()
            .find(|p| p.name() == name)
            .map(AsRef::as_ref)
            .ok_or_else(|| HarnessError::Unknown { name: name.into() })
    }

    /// The protocols named in `names`, in that order.
    pub fn select(&self, names: &[String]) -> Result<Vec<&dyn Protocol>, HarnessError> {
        names.iter().map(|n| self.find(n)).collect()
    }
}

/// The protocols of a coefficient file, named after its set: for a GELU set, `coeffs.NAME` (the
/// piecewise GELU); for an exp set, `coeffs.NAME` (the exp on x − max) and `coeffs.NAME.softmax`
/// (Softmax with that exp and one reciprocal per row, as Nimbus). Any set can so be audited, run
/// and costed against any other without a rebuild. The names are leaked, once per set loaded,
/// because protocol names are `&'static` (a process loads a handful of files).
pub fn from_coefficients(set: CoefficientSet) -> Result<Vec<Box<dyn Protocol>>, ProtocolError> {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let base = leak(format!("coeffs.{}", set.name.to_ascii_lowercase().replace(['-', ' '], "_")));
    const PAPER: &str = "a coefficient file (dyad fit, or written by hand)";
    match set.function {
        Target::Gelu => {
            let gelu = PiecewiseActivation::new(base, PAPER, "GELU as the file's piecewise polynomial", set)?;
            Ok(vec![Box::new(gelu)])
        }
        Target::Exp => {
            let softmax = nimbus::softmax_with(
                leak(format!("{base}.softmax")),
                PAPER,
                "Softmax: x − max, the file's exp, one Goldschmidt reciprocal per row",
                &set,
            )?;
            let exp =
                PiecewiseActivation::new(base, PAPER, "exp(x) for x ≤ 0 as the file's piecewise polynomial", set)?;
            Ok(vec![Box::new(exp), Box::new(softmax)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_protocols::protocol::Activation;

    #[test]
    fn every_protocol_builds() {
        assert!(nimbus::gelu().is_ok() && nimbus::gelu_example().is_ok() && bumblebee::gelu().is_ok());
        assert!(nimbus::exp().is_ok() && nimbus::exp_example().is_ok());
        assert!(nimbus::softmax().is_ok() && nimbus::softmax_example().is_ok());
        assert!(freediv::quad_gelu().is_ok());
        assert!(blocks().iter().all(Result::is_ok));
        assert_eq!(all().len(), 50);
    }

    #[test]
    fn a_registry_takes_user_protocols_and_coefficient_files_but_refuses_a_taken_name() {
        let exp = CoefficientSet::builtin("nimbus-exp-example").unwrap();
        let extra = from_coefficients(exp).unwrap();
        let names: Vec<&str> = extra.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["coeffs.nimbus_exp_example", "coeffs.nimbus_exp_example.softmax"]);
        let registry = Registry::builtin().with(extra).unwrap();
        assert_eq!(registry.all().len(), all().len() + 2);
        assert_eq!(registry.find("coeffs.nimbus_exp_example.softmax").unwrap().activation(), Some(Activation::Softmax));
        let taken = Registry::builtin().with(vec![boxed(Mul)]).err().unwrap();
        assert!(matches!(taken, HarnessError::Duplicate { ref name } if name == "mul"), "{taken}");
        assert!(matches!(registry.select(&["mul".into(), "nope".into()]), Err(HarnessError::Unknown { .. })));
    }

    #[test]
    fn every_softmax_like_protocol_is_an_attention_function() {
        for p in all() {
            if p.activation() == Some(Activation::Softmax) {
                assert!(attention_function(p.name()).is_some(), "{}", p.name());
            }
        }
    }

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
