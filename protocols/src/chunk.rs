//! Running a large element-wise or row-wise protocol piece by piece, so that its working set —
//! the correlations and messages of a step, the intermediate shares — is bounded by the piece
//! and not by the tensor (#15).
//!
//! A protocol says how its work splits ([`Protocol::independence`]): element by element, or row
//! by row along the last axis. [`run`] and [`cost`] then cut its tensors into pieces of at most
//! [`CHUNK_ELEMENTS`] elements (whole rows, at least one) and run the protocol on each piece in
//! turn, both parties in the same order. A tensor that fits in one piece runs whole, exactly as
//! the protocol alone would. Over several pieces the counts are those of the pieces one after
//! another: the bytes of the whole plus a few bytes of packing per piece, a message pattern
//! per piece, and rounds that add up. A deployment that overlaps the pieces would keep the
//! rounds of one; Dyad counts what it runs.

use std::borrow::Cow;
use std::ops::Range;

use dyad_sim::{FixedPoint, Formula, Party, Ring, RingTensor, Share};

use crate::error::ProtocolError;
use crate::protocol::{Independence, Input, Inputs, Protocol, TruncMode};

/// The elements of one piece: 2^20, so that the activations of BERT-base (at most 128 × 3072 =
/// 393 216 elements per call) run whole, while a piece's working set stays near 1 GB for the
/// costliest activation (about 1 KB per element for PUMA's GELU).
pub const CHUNK_ELEMENTS: usize = 1 << 20;

/// One piece of a protocol's tensors: its elements in the flattened inputs, and the dimensions
/// the protocol runs it at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The piece's elements of each input, in row-major order.
    pub elements: Range<usize>,
    /// The dimensions of the piece.
    pub dims: Vec<usize>,
}

/// The pieces of tensors of shape `dims` under `independence`, at most `chunk` elements each (a
/// row-wise piece holds at least one row). One piece, at `dims` itself, when they fit.
pub fn pieces(independence: Independence, dims: &[usize], chunk: usize) -> Vec<Piece> {
    let n: usize = dims.iter().product();
    let whole = || vec![Piece { elements: 0..n, dims: dims.to_vec() }];
    if n <= chunk {
        return whole();
    }
    match (independence, dims.last()) {
        (Independence::Elements, _) => cut(n, chunk.max(1), |len| vec![len]),
        (Independence::Rows, Some(&width)) if width > 0 && dims.len() > 1 => {
            let rows = (chunk / width).max(1);
            cut(n, rows * width, |len| vec![len / width, width])
        }
        _ => whole(),
    }
}

/// `0..n` in pieces of `size`, the last one shorter.
fn cut(n: usize, size: usize, dims: impl Fn(usize) -> Vec<usize>) -> Vec<Piece> {
    (0..n)
        .step_by(size)
        .map(|start| {
            let end = (start + size).min(n);
            Piece { elements: start..end, dims: dims(end - start) }
        })
        .collect()
}

/// Runs `p` on this party's `inputs`, piece by piece when they hold more than `chunk` elements
/// ([`CHUNK_ELEMENTS`] in every run Dyad makes but tests of the pieces themselves). The peer
/// must make the same call.
pub fn run(p: &dyn Protocol, party: &mut Party, inputs: &Inputs, chunk: usize) -> Result<Share, ProtocolError> {
    let independence = p.independence();
    let dims = match inputs.values.first() {
        Some(_) => inputs.shape(p.name(), 0)?.to_vec(),
        None => return p.run(party, inputs),
    };
    let pieces = pieces(independence, &dims, chunk);
    if pieces.len() == 1 {
        return p.run(party, inputs);
    }
    // Inputs of another shape than the first are parameters every row shares (LayerNorm's γ and
    // β): each piece gets them whole. An element-wise protocol has none.
    let mut parts = Vec::with_capacity(inputs.values.len());
    for (index, value) in inputs.values.iter().enumerate() {
        let cut = inputs.shape(p.name(), index)? == dims.as_slice();
        if !cut && independence == Independence::Elements {
            return Err(ProtocolError::Input {
                protocol: p.name(),
                index,
                expected: format!("the shape {dims:?} of input 0, to run it in pieces"),
            });
        }
        parts.push(match value {
            _ if !cut => Part::Whole(value),
            Input::Share(s) => Part::Cut(Some((flatten(s.tensor()), s.ring(), true))),
            Input::Plain(t) => Part::Cut(Some((flatten(t), t.ring(), false))),
            Input::Absent { .. } => Part::Cut(None),
        });
    }
    let mut out: Vec<u64> = Vec::new();
    let mut piece_shape = Vec::new();
    let mut ring = inputs.fixed.ring();
    for piece in &pieces {
        let values = parts
            .iter()
            .map(|part| {
                Ok(match part {
                    Part::Whole(value) => (*value).clone(),
                    Part::Cut(None) => Input::Absent { shape: piece.dims.clone() },
                    Part::Cut(Some((data, ring, shared))) => {
                        let t = RingTensor::from_vec(*ring, &piece.dims, data[piece.elements.clone()].to_vec())?;
                        if *shared { Input::Share(Share::new(t)) } else { Input::Plain(t) }
                    }
                })
            })
            .collect::<Result<Vec<_>, ProtocolError>>()?;
        let share = p.run(party, &Inputs { fixed: inputs.fixed, trunc: inputs.trunc, values })?;
        if independence == Independence::Elements && share.len() != piece.elements.len() {
            return Err(ProtocolError::Config {
                protocol: p.name(),
                reason: format!(
                    "an element-wise piece of {} elements gave {} output elements",
                    piece.elements.len(),
                    share.len()
                ),
            });
        }
        piece_shape = share.shape().to_vec();
        ring = share.ring();
        out.extend(share.tensor().data().iter());
    }
    let shape = match independence {
        Independence::Rows => {
            let mut shape = dims[..dims.len() - 1].to_vec();
            shape.extend(piece_shape.iter().skip(1));
            shape
        }
        Independence::Elements | Independence::Whole => dims,
    };
    Ok(Share::new(RingTensor::from_vec(ring, &shape, out)?))
}

/// How one of a party's inputs goes to the pieces.
enum Part<'a> {
    /// Whole, to every piece.
    Whole(&'a Input),
    /// Cut into the pieces: its elements, ring and whether it is a share, or `None` where the
    /// peer holds it.
    Cut(Option<(Cow<'a, [u64]>, Ring, bool)>),
}

/// A tensor's elements in row-major order, borrowed when they already lie so in memory.
fn flatten(t: &RingTensor) -> Cow<'_, [u64]> {
    match t.data().as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(t.to_vec()),
    }
}

/// The formula of [`run`]: `p`'s formula for each piece of `dims` in turn; `None` when `p` has
/// no formula there.
pub fn cost(
    p: &dyn Protocol,
    f: &mut Formula,
    dims: &[usize],
    fixed: FixedPoint,
    trunc: TruncMode,
    chunk: usize,
) -> Option<()> {
    for piece in pieces(p.independence(), dims, chunk) {
        p.cost(f, &piece.dims, fixed, trunc)?;
    }
    Some(())
}
