//! The kinds of activation recorded per layer.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a recorded value is the input of. Each layer of a set records every kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The GELU input: the output of the feed-forward block's first dense layer
    /// (`intermediate.dense`). Elementwise, so it has a histogram and samples but no rows.
    GeluInput,
    /// The attention scores entering Softmax, Q_h·K_hᵀ/√d plus the additive mask (zero for one
    /// unpadded sentence). Its rows are whole Softmax rows, one per head and query token, of
    /// the sentence's length; its histogram and samples are of x − max(row), the inputs of exp
    /// in a max-subtracted Softmax (always ≤ 0).
    SoftmaxInput,
    /// The input of the LayerNorm after attention: the attention projection plus the residual.
    /// Rows of the hidden size (384).
    LayerNormAttention,
    /// The input of the LayerNorm after the feed-forward block: its output plus the residual.
    /// Rows of the hidden size; holds the outlier dimensions.
    LayerNormFfn,
    /// The layer's output hidden state (the next layer's input; the last layer's is the final
    /// hidden state). Rows of the hidden size.
    Hidden,
}

impl Kind {
    /// Every kind, in the order of the forward pass.
    pub const ALL: [Kind; 5] =
        [Kind::SoftmaxInput, Kind::LayerNormAttention, Kind::GeluInput, Kind::LayerNormFfn, Kind::Hidden];

    /// The name used in manifests and tensor names (`gelu_input`, …).
    pub fn name(self) -> &'static str {
        match self {
            Kind::GeluInput => "gelu_input",
            Kind::SoftmaxInput => "softmax_input",
            Kind::LayerNormAttention => "layer_norm_attention",
            Kind::LayerNormFfn => "layer_norm_ffn",
            Kind::Hidden => "hidden",
        }
    }

    /// Whether whole rows are recorded (all kinds but the elementwise GELU input).
    pub fn has_rows(self) -> bool {
        self != Kind::GeluInput
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
