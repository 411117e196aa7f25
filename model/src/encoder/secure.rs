//! The encoder under 2PC: one setup per model, then one forward pass per sentence.

use std::sync::Arc;

use dyad_reference::layernorm::LayerNormParams;
use dyad_sim::correlation::MatDims;
use dyad_sim::{FixedPoint, Formula, Party, Phase, RingTensor, Role, Share};

use super::suite::{Slots, Suite, SuiteError};
use super::weights::{EncoderWeights, slot};
use super::{merge_heads, split_heads, tile_bias};
use crate::layers::attention::{attention, attention_cost};
use crate::layers::ffn::apply;
use crate::layers::linear::LinearKind;
use crate::registry::Registry;
use dyad_protocols::TruncMode;
use dyad_protocols::blocks::activation::AttentionFunction;
use dyad_protocols::blocks::layernorm::{AffineShares, layernorm, layernorm_cost, share_affine, share_affine_cost};
use dyad_protocols::blocks::matmul::{matmul, matmul_cost};
use dyad_protocols::blocks::rsqrt::{DEFAULT_ITERATIONS, DEFAULT_RANGE};
use dyad_protocols::blocks::share::{share_input, share_input_cost};
use dyad_protocols::blocks::trunc::{truncate, truncate_cost};
use dyad_protocols::bumblebee::linear::{self as sip, SipKeys, SipLayout};
use dyad_protocols::chunk::{self, CHUNK_ELEMENTS};
use dyad_protocols::error::ProtocolError;
use dyad_protocols::nimbus::linear::{self as cop, CopLayout, CopState};
use dyad_protocols::protocol::Protocol;
use dyad_rlwe::RlweContext;

/// The fixed-point format and truncation of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Precision {
    /// The format.
    pub fixed: FixedPoint,
    /// The truncation after products.
    pub trunc: TruncMode,
}

/// One linear layer to apply: its state, the server's weights, its output width.
struct LinearCall<'a> {
    state: &'a LinearState,
    weights: Option<&'a super::weights::LinearWeights>,
    m: usize,
}

/// The longest sentence the COP layouts of the setup serve.
pub const MAX_TOKENS: usize = 128;

/// One linear layer's state after the setup.
#[derive(Clone, Debug)]
pub enum LinearState {
    /// Nimbus COP: the server's key, or the client's encrypted weights.
    Cop(CopState),
    /// SIP: nothing kept; the server encodes its weights per query.
    Sip,
    /// Dealer: this party's share of W.
    Dealer(Share),
}

/// What one party keeps from the setup.
#[derive(Clone, Debug)]
pub struct PartyState {
    ctx: Option<RlweContext>,
    sip: Option<SipKeys>,
    linears: Vec<Vec<LinearState>>,
    norms: Vec<[AffineShares; 2]>,
}

/// An encoder with its suite's protocols resolved.
#[derive(Clone)]
pub struct Encoder {
    /// The suite.
    pub suite: Suite,
    attention: Arc<dyn AttentionFunction>,
    gelu: Arc<dyn Protocol>,
    norm: LayerNormParams,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("suite", &self.suite)
            .field("attention", &self.attention.definition())
            .field("gelu", &self.gelu.definition())
            .field("norm", &self.norm)
            .finish()
    }
}

impl Encoder {
    /// Resolves the suite's slots to protocols of `registry`.
    pub fn new(suite: &Suite, eps: f64, registry: &Registry) -> Result<Self, SuiteError> {
        let Slots { attention, gelu } = suite.resolve(registry)?;
        Ok(Encoder {
            suite: suite.clone(),
            attention,
            gelu,
            norm: LayerNormParams { eps, range: DEFAULT_RANGE, iterations: DEFAULT_ITERATIONS },
        })
    }

    /// The attention function.
    pub fn attention(&self) -> &dyn AttentionFunction {
        self.attention.as_ref()
    }

    /// The GELU.
    pub fn gelu(&self) -> &dyn Protocol {
        self.gelu.as_ref()
    }

    /// LayerNorm's parameters.
    pub fn norm(&self) -> &LayerNormParams {
        &self.norm
    }

    /// The setup, once per model: the linear layers' keys and weights (as the suite's linear
    /// protocol needs them) and the LayerNorms' γ and β shared. `weights` is the server's.
    pub fn setup(
        &self,
        p: &mut Party,
        fx: FixedPoint,
        weights: Option<&EncoderWeights>,
        shape: &dyad_protocols::protocol::ModelShape,
        layers: usize,
    ) -> Result<PartyState, ProtocolError> {
        let ring = fx.ring();
        let ctx = match self.suite.linear {
            LinearKind::Cop | LinearKind::Sip => {
                Some(dyad_protocols::linear::context(ring, dyad_protocols::linear::Noise::AsIs)?)
            }
            LinearKind::Dealer => None,
        };
        let sip = match (self.suite.linear, &ctx) {
            (LinearKind::Sip, Some(c)) => Some(p.scope("sip", |p| sip::keys(p, c))?),
            _ => None,
        };
        let (h, f) = (shape.hidden, shape.ffn);
        let dims = [(h, h), (h, h), (h, h), (h, h), (h, f), (f, h)];
        let mut linears = Vec::with_capacity(layers);
        let mut norms = Vec::with_capacity(layers);
        for layer in 0..layers {
            let lw = weights.and_then(|w| w.layers.get(layer));
            let mut states = Vec::with_capacity(6);
            for (i, &(n, m)) in dims.iter().enumerate() {
                let w = lw.map(|l| &l.linears[i].w);
                let state = p.scope(&format!("layer{layer}/linear{i}"), |p| -> Result<LinearState, ProtocolError> {
                    Ok(match (self.suite.linear, &ctx) {
                        (LinearKind::Cop, Some(c)) => {
                            LinearState::Cop(cop::setup(p, c, &CopLayout::new(c.n(), MAX_TOKENS, n, m), w)?)
                        }
                        (LinearKind::Sip, Some(_)) => LinearState::Sip,
                        _ => LinearState::Dealer(
                            p.in_phase(Phase::Setup, |p| share_input(p, Role::Server, w, ring, &[n, m]))?,
                        ),
                    })
                })?;
                states.push(state);
            }
            linears.push(states);
            let norm = |i: usize, p: &mut Party| {
                share_affine(p, lw.map(|l| &l.norms[i].gamma), lw.map(|l| &l.norms[i].beta), ring, h)
            };
            norms.push([
                p.scope(&format!("layer{layer}/ln1"), |p| norm(0, p))?,
                p.scope(&format!("layer{layer}/ln2"), |p| norm(1, p))?,
            ]);
        }
        Ok(PartyState { ctx, sip, linears, norms })
    }

    /// The formula of [`Encoder::setup`] for `layers` layers, then of one [`Encoder::forward`] of
    /// `shape.seq` tokens.
    pub fn cost(
        &self,
        f: &mut Formula,
        prec: Precision,
        shape: &dyad_protocols::protocol::ModelShape,
        layers: usize,
    ) -> Result<(), ProtocolError> {
        let (fx, trunc) = (prec.fixed, prec.trunc);
        let ring = fx.ring();
        let kind = self.suite.linear;
        let ctx = match kind {
            LinearKind::Cop | LinearKind::Sip => {
                Some(dyad_protocols::linear::context(ring, dyad_protocols::linear::Noise::AsIs)?)
            }
            LinearKind::Dealer => None,
        };
        let (k, h, width, heads) = (shape.seq, shape.hidden, shape.ffn, shape.heads);
        let dims = [(h, h), (h, h), (h, h), (h, h), (h, width), (width, h)];
        if let (LinearKind::Sip, Some(c)) = (kind, &ctx) {
            sip::keys_cost(f, c);
        }
        for _ in 0..layers {
            for &(n, m) in &dims {
                match (kind, &ctx) {
                    (LinearKind::Cop, Some(c)) => cop::setup_cost(f, c, &CopLayout::new(c.n(), MAX_TOKENS, n, m)),
                    (LinearKind::Sip, _) => {}
                    _ => f.in_phase(Phase::Setup, |f| share_input_cost(f, Role::Server, ring, n * m)),
                }
            }
            f.repeat(2, |f| share_affine_cost(f, ring, h));
        }
        let linear = |f: &mut Formula, n: usize, m: usize| match (kind, &ctx) {
            (LinearKind::Cop, Some(c)) => {
                cop::online_cost(f, c, &CopLayout::new(c.n(), k, n, m));
                truncate_cost(f, ring, k * m, fx.frac(), trunc);
            }
            (LinearKind::Sip, Some(c)) => {
                sip::online_cost(f, c, &SipLayout::choose(c, k, n, m, sip::MAX_PACK));
                truncate_cost(f, ring, k * m, fx.frac(), trunc);
            }
            _ => matmul_cost(f, fx, MatDims { batch: None, m: k, k: n, n: m }, trunc),
        };
        for _ in 0..layers {
            f.repeat(3, |f| linear(f, h, h));
            attention_cost(f, fx, trunc, self.attention.as_ref(), (heads, k, h / heads))?;
            linear(f, h, h);
            layernorm_cost(f, fx, (k, h), &self.norm, trunc)?;
            linear(f, h, width);
            chunk::cost(self.gelu.as_ref(), f, &[k, width], fx, trunc, CHUNK_ELEMENTS).ok_or(
                ProtocolError::Config {
                    protocol: "encoder",
                    reason: format!("{} states no cost formula", self.gelu.name()),
                },
            )?;
            linear(f, width, h);
            layernorm_cost(f, fx, (k, h), &self.norm, trunc)?;
        }
        Ok(())
    }

    fn linear(
        &self,
        p: &mut Party,
        state: &PartyState,
        prec: Precision,
        call: LinearCall<'_>,
        x: &Share,
    ) -> Result<Share, ProtocolError> {
        let (fx, trunc, m) = (prec.fixed, prec.trunc, call.m);
        let (k, n) = dyad_protocols::protocol::matrix("encoder.linear", x.shape())?;
        let w = call.weights.map(|l| &l.w);
        let y = match (call.state, &state.ctx) {
            (LinearState::Cop(s), Some(c)) => {
                let raw =
                    cop::online(p, c, &CopLayout::new(c.n(), k, n, m), s, dyad_protocols::linear::Zeros::Fresh, w, x)?;
                truncate(p, &raw, fx.frac(), trunc)?
            }
            (LinearState::Sip, Some(c)) => {
                let keys = state.sip.as_ref().ok_or(ProtocolError::Config {
                    protocol: "encoder",
                    reason: "SIP layers without the SIP key setup".into(),
                })?;
                let l = SipLayout::choose(c, k, n, m, sip::MAX_PACK);
                let raw = sip::online(p, c, &l, keys, w, x)?;
                truncate(p, &raw, fx.frac(), trunc)?
            }
            (LinearState::Dealer(ws), _) => matmul(p, fx, x, ws, trunc)?,
            _ => {
                return Err(ProtocolError::Config {
                    protocol: "encoder",
                    reason: "linear state and RLWE context do not match".into(),
                });
            }
        };
        match call.weights {
            Some(l) => Ok(y.add_public(p.role(), &tile_bias(&l.b, k, fx.ring())?)?),
            None => Ok(y.add_public(p.role(), &RingTensor::zeros(fx.ring(), &[k, m]))?),
        }
    }

    /// One sentence: shares of every layer's output for the shared input `x` (`[k, hidden]`).
    pub fn forward(
        &self,
        p: &mut Party,
        prec: Precision,
        state: &PartyState,
        weights: Option<&EncoderWeights>,
        shape: &dyad_protocols::protocol::ModelShape,
        x: &Share,
    ) -> Result<Vec<Share>, ProtocolError> {
        let (h, f, heads) = (shape.hidden, shape.ffn, shape.heads);
        let (fx, trunc) = (prec.fixed, prec.trunc);
        let mut hidden = x.clone();
        let mut outputs = Vec::with_capacity(state.linears.len());
        for (layer, (lin, norms)) in state.linears.iter().zip(&state.norms).enumerate() {
            let lw = weights.and_then(|w| w.layers.get(layer));
            let call = |i: usize, m: usize| LinearCall { state: &lin[i], weights: lw.map(|l| &l.linears[i]), m };
            hidden = p.scope(&format!("layer{layer}"), |p| -> Result<Share, ProtocolError> {
                let q = p.scope("query", |p| self.linear(p, state, prec, call(slot::QUERY, h), &hidden))?;
                let k = p.scope("key", |p| self.linear(p, state, prec, call(slot::KEY, h), &hidden))?;
                let v = p.scope("value", |p| self.linear(p, state, prec, call(slot::VALUE, h), &hidden))?;
                let ctx = attention(
                    p,
                    fx,
                    trunc,
                    self.attention.as_ref(),
                    &split_heads(&q, heads)?,
                    &split_heads(&k, heads)?,
                    &split_heads(&v, heads)?,
                )?;
                let attn = p.scope("attention_output", |p| {
                    self.linear(p, state, prec, call(slot::ATTENTION_OUT, h), &merge_heads(&ctx)?)
                })?;
                let h1 = p.scope("ln1", |p| layernorm(p, fx, &attn.add(&hidden)?, &norms[0], &self.norm, trunc))?;
                let up = p.scope("ffn_up", |p| self.linear(p, state, prec, call(slot::UP, f), &h1))?;
                let g = p.scope("gelu", |p| apply(p, self.gelu.as_ref(), fx, trunc, &up))?;
                let down = p.scope("ffn_down", |p| self.linear(p, state, prec, call(slot::DOWN, h), &g))?;
                p.scope("ln2", |p| layernorm(p, fx, &down.add(&h1)?, &norms[1], &self.norm, trunc))
            })?;
            outputs.push(hidden.clone());
        }
        Ok(outputs)
    }
}
