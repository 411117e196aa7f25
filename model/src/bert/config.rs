//! The hyper-parameters of a BERT encoder, read from its `config.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::BertError;

/// The hyper-parameters this implementation reads from a Hugging Face `config.json`. Other fields
/// of the file (dropout rates, initialiser range, …) do not affect inference and are ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Width of the hidden state (384 for MiniLM-L6).
    pub hidden_size: usize,
    /// Number of encoder layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads; each has `hidden_size / num_attention_heads` dimensions.
    pub num_attention_heads: usize,
    /// Width of the feed-forward block's hidden layer.
    pub intermediate_size: usize,
    /// The ε added to the variance in every LayerNorm.
    pub layer_norm_eps: f64,
    /// Number of position embeddings: the longest input.
    pub max_position_embeddings: usize,
    /// Number of token ids.
    pub vocab_size: usize,
    /// Number of token types (segments).
    pub type_vocab_size: usize,
    /// The activation of the feed-forward block; only `gelu` (exact, with erf) is supported.
    pub hidden_act: String,
    /// The position encoding; only `absolute` is supported (the default when absent).
    #[serde(default = "absolute")]
    pub position_embedding_type: String,
}

fn absolute() -> String {
    "absolute".into()
}

impl Config {
    /// Reads and checks `path` (a `config.json`).
    pub fn load(path: &Path) -> Result<Config, BertError> {
        let text = std::fs::read_to_string(path).map_err(|source| BertError::Io { path: path.into(), source })?;
        Config::parse(&text, path)
    }

    /// Parses and checks the text of a `config.json`; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, BertError> {
        let config: Config = serde_json::from_str(text)
            .map_err(|e| BertError::ConfigSyntax { path: path.into(), message: e.to_string() })?;
        config.check(path)?;
        Ok(config)
    }

    /// Dimensions of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    fn check(&self, path: &Path) -> Result<(), BertError> {
        let field = |field: &'static str, expected: &str, got: String| BertError::ConfigField {
            path: path.into(),
            field,
            expected: expected.into(),
            got,
        };
        if self.hidden_act != "gelu" {
            return Err(field("hidden_act", "\"gelu\" (exact erf GELU)", format!("{:?}", self.hidden_act)));
        }
        if self.position_embedding_type != "absolute" {
            return Err(field(
                "position_embedding_type",
                "\"absolute\"",
                format!("{:?}", self.position_embedding_type),
            ));
        }
        for (name, value) in [
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("vocab_size", self.vocab_size),
            ("type_vocab_size", self.type_vocab_size),
        ] {
            if value == 0 {
                return Err(field(name, "a positive integer", "0".into()));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(field(
                "num_attention_heads",
                &format!("a divisor of hidden_size = {}", self.hidden_size),
                self.num_attention_heads.to_string(),
            ));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return Err(field("layer_norm_eps", "a positive number", self.layer_norm_eps.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
        "intermediate_size": 1536, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
        "vocab_size": 30522, "type_vocab_size": 2, "hidden_act": "gelu", "model_type": "bert"}"#;

    #[test]
    fn reads_minilm_and_defaults_the_position_encoding() -> Result<(), BertError> {
        let c = Config::parse(MINILM, Path::new("config.json"))?;
        assert_eq!((c.hidden_size, c.head_dim(), c.position_embedding_type.as_str()), (384, 32, "absolute"));
        Ok(())
    }

    #[test]
    fn unsupported_values_name_the_field() {
        let path = Path::new("config.json");
        let tanh = MINILM.replace("\"gelu\"", "\"gelu_new\"");
        let e = Config::parse(&tanh, path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("config.json") && e.contains("hidden_act"), "{e}");
        let heads = MINILM.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 7");
        let e = Config::parse(&heads, path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("num_attention_heads"), "{e}");
        let missing = MINILM.replace("\"vocab_size\": 30522,", "");
        let e = Config::parse(&missing, path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("vocab_size"), "{e}");
    }
}
