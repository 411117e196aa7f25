//! `dyad distill`: trains a freeDiv student of all-MiniLM-L6-v2 against the plaintext teacher
//! and writes it where `dyad e2e --weights` reads it.

use std::path::PathBuf;
use std::time::Instant;

use dyad_distill::output::save;
use dyad_distill::{Recipe, Student, distill, recipe};
use dyad_model::bert::{Model, Tokenizer};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{Format, Seed};
use crate::error::CliError;
use crate::output::emit;

/// Arguments of `dyad distill`.
#[derive(Debug, clap::Args)]
pub(crate) struct DistillArgs {
    /// The student: freediv-softmax or freediv-2quad.
    #[arg(long)]
    suite: String,
    /// Steps of the layer-wise stage, one sentence per step.
    #[arg(long, default_value_t = recipe::LAYERWISE_STEPS)]
    steps: usize,
    /// Steps of the prediction stage.
    #[arg(long, default_value_t = recipe::PREDICTION_STEPS)]
    prediction_steps: usize,
    /// Training sentences, chosen from the snippets by the seed.
    #[arg(long, default_value_t = recipe::SENTENCES)]
    sentences: usize,
    /// The layer-wise stage's learning rate.
    #[arg(long, default_value_t = recipe::LAYERWISE_LR)]
    layerwise_lr: f64,
    /// The prediction stage's learning rate.
    #[arg(long, default_value_t = recipe::PREDICTION_LR)]
    prediction_lr: f64,
    #[command(flatten)]
    seed: Seed,
    /// Where to write the student (model.safetensors, config.json, manifest.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The fetched teacher (see vectors/fetch.sh).
    #[arg(long, default_value_os_t = dyad_vectors::model_dir())]
    model: PathBuf,
}

/// Runs `dyad distill`.
pub(crate) fn run_distill(args: DistillArgs, format: Format) -> Result<u8, CliError> {
    let student = Student::named(&args.suite).ok_or_else(|| {
        let names: Vec<&str> = Student::ALL.iter().map(|s| s.name()).collect();
        CliError::Usage(format!("--suite {}: a distilled student is one of {}", args.suite, names.join(", ")))
    })?;
    let prediction_steps = args.prediction_steps;
    if args.steps == 0 || prediction_steps == 0 || args.sentences == 0 {
        return Err(CliError::Usage(
            "--steps, --prediction-steps and --sentences: a distillation needs at least one of each".into(),
        ));
    }
    for (flag, lr) in [("--layerwise-lr", args.layerwise_lr), ("--prediction-lr", args.prediction_lr)] {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(CliError::Usage(format!("{flag} {lr}: a learning rate is a positive number")));
        }
    }
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("distilled").join(student.name()));
    std::fs::create_dir_all(&out).map_err(|e| CliError::Usage(format!("--out {}: {e}", out.display())))?;
    let model = Model::load(&args.model)
        .map_err(|e| CliError::usage(format!("{e} (run `bash vectors/fetch.sh` to fetch the model)")))?;
    let tok = Tokenizer::from_file(&args.model.join("vocab.txt")).map_err(CliError::usage)?;
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).map_err(CliError::usage)?;
    let recipe = Recipe {
        layerwise_steps: args.steps,
        prediction_steps,
        sentences: args.sentences,
        seed: args.seed.value,
        layerwise_lr: args.layerwise_lr,
        prediction_lr: args.prediction_lr,
    };

    let bar = ProgressBar::new((args.steps + prediction_steps) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps {elapsed}/{duration} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut mean = 0.0;
    let start = Instant::now();
    let distilled = distill(&model, &tok, &snippets, student, &recipe, &mut |p| {
        // A running mean over about the last 50 steps: one sentence's loss is noisy.
        mean = if p.step == 1 { p.loss } else { mean + (p.loss - mean) / 50.0 };
        bar.set_position((if p.stage == 1 { p.step } else { args.steps + p.step }) as u64);
        bar.set_message(format!("stage {} loss {mean:.4}", p.stage));
    })
    .map_err(|e| CliError::Failed(e.to_string()))?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    let manifest =
        save(&out, &args.model, &distilled.student, distilled.manifest).map_err(|e| CliError::Failed(e.to_string()))?;
    emit(format, &manifest, || {
        let mut text = format!(
            "distilled {} in {:.0} s over {} sentences (seed {}), written to {}\n",
            manifest.suite,
            seconds,
            manifest.training_snippets.len(),
            manifest.seed,
            out.display()
        );
        let c = manifest.held_out_cosine;
        text.push_str(&format!(
            "  held-out pooled cosine to the teacher: {:.4} undistilled, {:.4} after stage 1, {:.4} after stage 2\n",
            c[0], c[1], c[2]
        ));
        for (i, s) in manifest.stages.iter().enumerate() {
            text.push_str(&format!(
                "  stage {}: {} steps at lr {:e}, loss {:.4} → {:.4} ({})\n",
                i + 1,
                s.steps,
                s.lr,
                s.initial_loss,
                s.final_loss,
                s.loss
            ));
        }
        text
    })?;
    Ok(0)
}
