//! Dyad's built-in protocols, registered in listing order: the primitives and activations of
//! `dyad-protocols`, then the attention, feed-forward and encoder-layer blocks composed of them,
//! each block resolving the protocols it names in the registry built so far.

use dyad_protocols::blocks::activation::AttentionFunction;
use dyad_protocols::blocks::arith::{Add, Mul, Scale, Square};
use dyad_protocols::blocks::cast::Cast;
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
use dyad_protocols::blocks::trunc::Truncation;
use dyad_protocols::bumblebee::linear::SipLinear;
use dyad_protocols::error::{HarnessError, ProtocolError};
use dyad_protocols::linear::{Noise, RlweLinear};
use dyad_protocols::nimbus::linear::NimbusLinear;
use dyad_protocols::protocol::{Protocol, TruncMode};
use dyad_protocols::{bumblebee, freediv, nimbus};

use crate::encoder::Suite;
use crate::encoder::layer::EncoderLayer;
use crate::layers::attention::AttentionBlock;
use crate::layers::ffn::FfnBlock;
use crate::layers::linear::LinearKind;
use crate::registry::Registry;

impl Registry {
    /// The built-in protocols, in listing order: the primitives, the activations, then the
    /// attention, feed-forward and encoder-layer blocks composed of them. An error here is a bug
    /// in a built-in protocol (a coefficient set that does not load, a suite naming a missing
    /// protocol), never bad input.
    pub fn builtin() -> Result<Self, HarnessError> {
        let mut r = Registry::default();
        let primitives: Vec<Box<dyn Protocol>> = vec![
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
            Box::new(Cast::RoundTrip),
            Box::new(Cast::SquareSmall),
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
            Box::new(RlweLinear(NimbusLinear::default())),
            Box::new(RlweLinear(SipLinear { noise: Noise::AsIs })),
            Box::new(RlweLinear(NimbusLinear { noise: Noise::Flooded, ..NimbusLinear::default() })),
            Box::new(RlweLinear(SipLinear { noise: Noise::Flooded })),
            Box::new(nimbus::gelu()?),
            Box::new(nimbus::gelu_example()?),
            Box::new(bumblebee::gelu()?),
            Box::new(nimbus::exp()?),
            Box::new(nimbus::exp_example()?),
            Box::new(nimbus::gelu_small()?),
            Box::new(nimbus::gelu_example_small()?),
            Box::new(nimbus::exp_small()?),
            Box::new(nimbus::exp_example_small()?),
        ];
        for p in primitives {
            r.add(p)?;
        }
        let attention: Vec<Box<dyn AttentionFunction>> = vec![
            Box::new(nimbus::softmax()?),
            Box::new(nimbus::softmax_example()?),
            Box::new(nimbus::softmax_small()?),
            Box::new(nimbus::softmax_example_small()?),
            Box::new(bumblebee::softmax()),
            Box::new(freediv::softmax_freediv()),
            Box::new(freediv::quad2_freediv()),
            Box::new(freediv::quad2_mpcformer()),
        ];
        for f in attention {
            r.add_attention(f)?;
        }
        r.add(Box::new(freediv::quad_gelu()?))?;
        for (name, function) in [
            ("attention.bumblebee", "bumblebee.softmax"),
            ("attention.nimbus", "nimbus.softmax"),
            ("attention.softmax_freediv", "freediv.softmax_freediv"),
            ("attention.quad2_freediv", "freediv.quad2_freediv"),
            ("attention.quad2", "mpcformer.quad2"),
        ] {
            let function = r.attention(function)?;
            r.add(Box::new(AttentionBlock { name, function }))?;
        }
        for (name, linear, gelu) in [
            ("ffn.bumblebee", LinearKind::Sip, "bumblebee.gelu"),
            ("ffn.nimbus", LinearKind::Cop, "nimbus.gelu"),
            ("ffn.freediv", LinearKind::Sip, "freediv.quad_gelu"),
        ] {
            let gelu = r.get(gelu)?;
            r.add(Box::new(FfnBlock { name, linear, gelu }))?;
        }
        for (name, suite) in [
            ("layer.nimbus", "nimbus"),
            ("layer.bumblebee", "bumblebee"),
            ("layer.freediv_softmax", "freediv-softmax"),
            ("layer.freediv_2quad", "freediv-2quad"),
        ] {
            let suite =
                Suite::named(suite).map_err(|e| ProtocolError::Config { protocol: name, reason: e.to_string() })?;
            let layer = EncoderLayer::new(name, &suite, &r)?;
            r.add(Box::new(layer))?;
        }
        Ok(r)
    }
}
