//! A distilled student on disk: a directory that `dyad_model::bert::Model::load` reads like the
//! teacher's, with a manifest of how it was made.
//!
//! - `model.safetensors`: the teacher's checkpoint with every encoder-layer tensor replaced by
//!   the student's (the embedding tables are the teacher's: the client computes them in the
//!   clear, and distillation does not train them);
//! - `config.json`: the teacher's;
//! - `manifest.json`: a [`Manifest`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::encoder::Encoder;
use crate::error::DistillError;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// How a student was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The suite that runs it under 2PC (`freediv-softmax`, `freediv-2quad`).
    pub suite: String,
    /// The sha256 of the teacher's `model.safetensors`.
    pub teacher_sha256: String,
    /// The recipe's stages, in order.
    pub stages: Vec<StageRecord>,
    /// The seed of the sentence choice and order.
    pub seed: u64,
    /// The float type trained in.
    pub dtype: String,
    /// The mean pooled-embedding cosine to the teacher on held-out sentences
    /// ([`crate::recipe::HELD_OUT`]): before training, after stage 1, after stage 2.
    pub held_out_cosine: [f64; 3],
    /// The L2 penalty of the probe the prediction stage matches.
    pub probe_l2: f64,
    /// Whether freeDiv's κ and c were trained, and why not.
    pub constants: String,
    /// The snippets trained on, by id: an evaluation leaves them out.
    pub training_snippets: Vec<u32>,
}

/// One stage of the recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// What its loss compares.
    pub loss: String,
    /// Its steps, one sentence each.
    pub steps: usize,
    /// Its AdamW learning rate.
    pub lr: f64,
    /// The mean loss of its first steps ([`crate::recipe::window`] of them).
    pub initial_loss: f64,
    /// The mean loss of its last steps, as many.
    pub final_loss: f64,
}

impl Manifest {
    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest, DistillError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| DistillError::Io { path: path.clone(), source })?;
        serde_json::from_str(&text).map_err(|e| DistillError::Manifest { path, reason: e.to_string() })
    }
}

/// Writes `student` to `dir` (created if missing) as a checkpoint of `teacher_dir`'s model, with
/// `manifest`, whose `teacher_sha256` is set here from the file the checkpoint is built on.
pub fn save(
    dir: &Path,
    teacher_dir: &Path,
    student: &Encoder,
    mut manifest: Manifest,
) -> Result<Manifest, DistillError> {
    let io = |path: PathBuf| move |source| DistillError::Io { path, source };
    std::fs::create_dir_all(dir).map_err(io(dir.into()))?;
    let teacher_path = teacher_dir.join("model.safetensors");
    let bytes = std::fs::read(&teacher_path).map_err(io(teacher_path.clone()))?;
    manifest.teacher_sha256 = dyad_vectors::sha256_hex(&bytes);
    let mut tensors: HashMap<String, candle_core::Tensor> =
        candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)?.into_iter().collect();
    let prefix = if tensors.keys().any(|n| n.starts_with("bert.")) { "bert." } else { "" };
    for (name, t) in student.checkpoint_tensors()? {
        let name = format!("{prefix}{name}");
        let Some(old) = tensors.get(&name) else {
            return Err(DistillError::Manifest { path: teacher_path, reason: format!("no tensor {name}") });
        };
        if old.dims() != t.dims() {
            return Err(DistillError::Shape(format!(
                "{name}: the student's {:?}, the teacher's {:?}",
                t.dims(),
                old.dims()
            )));
        }
        let t = t.to_dtype(old.dtype())?;
        tensors.insert(name, t);
    }
    let out = dir.join("model.safetensors");
    candle_core::safetensors::save(&tensors, &out)?;
    let config = teacher_dir.join("config.json");
    std::fs::copy(&config, dir.join("config.json")).map_err(io(config))?;
    let path = dir.join(MANIFEST);
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| DistillError::Manifest { path: path.clone(), reason: e.to_string() })?;
    std::fs::write(&path, json + "\n").map_err(io(path))?;
    Ok(manifest)
}
