//! The secure encoder: a BERT/MiniLM encoder layer composed only of registered protocols, stacked
//! into the whole model, with the suite's protocol in each slot.
//!
//! Per layer, for the hidden states H (shared, k × hidden):
//! Q, K, V = H·W + b (the suite's linear protocol; the server adds the biases to its share);
//! the attention block with the suite's attention function; the output projection; the
//! residual; LayerNorm; the FFN up-projection; the suite's GELU; the down-projection; the
//! residual; LayerNorm.
//!
//! The server holds the weights. The client's input is the output of the embedding layer (word,
//! position and token-type embeddings and their LayerNorm), which it computes in the clear and
//! secret-shares: the embedding lookup is outside the secure computation, as in Nimbus's and
//! BumbleBee's evaluations.

pub mod layer;
pub mod reference;
pub mod secure;
pub mod suite;
pub mod weights;

pub use secure::{Encoder, PartyState, Precision};
pub use suite::{Suite, SuiteError};
pub use weights::EncoderWeights;

use dyad_sim::{Ring, RingTensor, Share};

use dyad_protocols::error::ProtocolError;

/// [k, heads·d] → [heads, k, d]: the heads of a projection, as the attention block takes them.
pub fn split_heads(x: &Share, heads: usize) -> Result<Share, ProtocolError> {
    let (k, hd) = match x.shape() {
        [k, hd] => (*k, *hd),
        other => {
            return Err(ProtocolError::Dims { protocol: "encoder", dims: other.to_vec(), expected: "k,hidden".into() });
        }
    };
    let d = hd / heads.max(1);
    let v = x.tensor().to_vec();
    let mut out = Vec::with_capacity(v.len());
    for h in 0..heads {
        for t in 0..k {
            out.extend_from_slice(&v[t * hd + h * d..t * hd + (h + 1) * d]);
        }
    }
    Ok(Share::new(RingTensor::from_vec(x.ring(), &[heads, k, d], out)?))
}

/// [heads, k, d] → [k, heads·d]: the inverse of [`split_heads`].
pub fn merge_heads(x: &Share) -> Result<Share, ProtocolError> {
    let (heads, k, d) = match x.shape() {
        [h, k, d] => (*h, *k, *d),
        other => {
            return Err(ProtocolError::Dims {
                protocol: "encoder",
                dims: other.to_vec(),
                expected: "heads,k,d".into(),
            });
        }
    };
    let v = x.tensor().to_vec();
    let mut out = vec![0u64; v.len()];
    for h in 0..heads {
        for t in 0..k {
            out[t * heads * d + h * d..t * heads * d + (h + 1) * d]
                .copy_from_slice(&v[(h * k + t) * d..(h * k + t + 1) * d]);
        }
    }
    Ok(Share::new(RingTensor::from_vec(x.ring(), &[k, heads * d], out)?))
}

/// A bias `[m]` repeated over k rows, as a ring tensor `[k, m]`.
pub fn tile_bias(b: &RingTensor, k: usize, ring: Ring) -> Result<RingTensor, ProtocolError> {
    let row = b.to_vec();
    Ok(RingTensor::from_vec(ring, &[k, row.len()], (0..k).flat_map(|_| row.iter().copied()).collect())?)
}
