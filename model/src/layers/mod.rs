//! Transformer blocks composed of registered protocols: the attention block with any attention
//! function, the feed-forward block with any GELU, and the choice of linear-layer protocol.

pub mod attention;
pub mod ffn;
pub mod linear;
