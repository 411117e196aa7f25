//! The encoder in fixed point, in the clear: every protocol's reference in the same order (the
//! `plaintext-fixed` suite).

use dyad_reference::arith;
use dyad_reference::layernorm::layernorm;
use dyad_sim::{FixedPoint, RingTensor};

use super::secure::Encoder;
use super::tile_bias;
use super::weights::{EncoderWeights, LinearWeights, slot};
use dyad_protocols::error::ProtocolError;

fn linear(fx: FixedPoint, x: &RingTensor, l: &LinearWeights) -> Result<RingTensor, ProtocolError> {
    let (k, _) = dyad_protocols::protocol::matrix("encoder.reference", x.shape())?;
    Ok(arith::matmul(fx, x, &l.w)?.add(&tile_bias(&l.b, k, fx.ring())?)?)
}

fn heads(x: &RingTensor, heads: usize) -> Result<RingTensor, ProtocolError> {
    Ok(super::split_heads(&dyad_sim::Share::new(x.clone()), heads)?.into_tensor())
}

/// Every layer's output for the encoded input `x` (`[k, hidden]`).
pub fn forward(
    enc: &Encoder,
    fx: FixedPoint,
    weights: &EncoderWeights,
    x: &RingTensor,
) -> Result<Vec<RingTensor>, ProtocolError> {
    let h = weights.shape.heads;
    let mut hidden = x.clone();
    let mut out = Vec::with_capacity(weights.layers.len());
    let ln = |x: &RingTensor, g: &RingTensor, b: &RingTensor| {
        layernorm(fx, x, g, b, enc.norm())
            .map_err(|e| ProtocolError::Config { protocol: "encoder", reason: e.to_string() })
    };
    for lw in &weights.layers {
        let l = &lw.linears;
        let (q, k, v) = (
            linear(fx, &hidden, &l[slot::QUERY])?,
            linear(fx, &hidden, &l[slot::KEY])?,
            linear(fx, &hidden, &l[slot::VALUE])?,
        );
        let (q, k, v) = (heads(&q, h)?, heads(&k, h)?, heads(&v, h)?);
        let (nh, s, d) = (q.shape()[0], q.shape()[1], q.shape()[2]);
        let raw = arith::matmul(fx, &q, &k.transpose_last()?)?;
        let scores = arith::scale(fx, &raw, fx.encode(1.0 / (d as f64).sqrt())?);
        let a = enc.attention().rows_reference(fx, &scores.reshape(&[nh * s, s])?)?;
        let ctx = arith::matmul(fx, &a.reshape(&[nh, s, s])?, &v)?;
        let merged = super::merge_heads(&dyad_sim::Share::new(ctx))?.into_tensor();
        let attn = linear(fx, &merged, &l[slot::ATTENTION_OUT])?;
        let h1 = ln(&attn.add(&hidden)?, &lw.norms[0].gamma, &lw.norms[0].beta)?;
        let up = linear(fx, &h1, &l[slot::UP])?;
        let g = enc.gelu().reference(fx, std::slice::from_ref(&up))?;
        let down = linear(fx, &g, &l[slot::DOWN])?;
        hidden = ln(&down.add(&h1)?, &lw.norms[1].gamma, &lw.norms[1].beta)?;
        out.push(hidden.clone());
    }
    Ok(out)
}
