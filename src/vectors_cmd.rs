//! `dyad vectors`: record BERT activations from real sentences, list a vector set, verify it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Subcommand;
use dyad_model::bert::{Model, Tokenizer, Trace};
use dyad_vectors::{
    DEFAULT_ROWS, DEFAULT_SAMPLES, Kind, LayerActivations, MODEL_NAME, MODEL_PACKAGE, Manifest, ModelInfo, RecordSpec,
    Recorder, SNIPPETS_SOURCE, SentenceSource, VectorSet, VectorsError,
};

use crate::args::{Format, Seed};
use crate::error::CliError;

/// Arguments of `dyad vectors`.
#[derive(Debug, clap::Args)]
pub(crate) struct VectorsArgs {
    #[command(subcommand)]
    command: VectorsCommand,
}

#[derive(Debug, Subcommand)]
enum VectorsCommand {
    /// Runs the plaintext all-MiniLM-L6-v2 on snippets chosen by a seed and records, per layer,
    /// histograms, samples and whole rows of the GELU, Softmax and LayerNorm inputs and of the
    /// hidden states.
    Record(RecordArgs),
    /// Prints a vector set's provenance and per-layer summary statistics (with `--format json`
    /// or `yaml`, the whole manifest).
    List {
        /// The recorded vector set (the same flag as `dyad audit` and `dyad fit`).
        #[arg(long, default_value_os_t = dyad_vectors::bundled_dir())]
        vectors: PathBuf,
    },
    /// Checks a vector set against its manifest: files, checksums, tensor types and shapes,
    /// contents. Exits with 1 when the check fails.
    Verify {
        /// The recorded vector set (the same flag as `dyad audit` and `dyad fit`).
        #[arg(long, default_value_os_t = dyad_vectors::bundled_dir())]
        vectors: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct RecordArgs {
    /// Directory to write the vector set into (created if needed; existing files are replaced).
    /// Required, so that a recording never overwrites the bundled set by accident: to regenerate
    /// it, pass `--out vectors/data/minilm-l6`.
    #[arg(long)]
    out: PathBuf,
    /// Number of snippets to run the model on.
    #[arg(long, default_value_t = 256)]
    sentences: usize,
    #[command(flatten)]
    seed: Seed,
    /// The model directory (config.json, model.safetensors, vocab.txt), from `vectors/fetch.sh`.
    #[arg(long, default_value_os_t = dyad_vectors::model_dir())]
    model: PathBuf,
    /// The snippets file.
    #[arg(long, default_value_os_t = dyad_vectors::bundled_snippets())]
    snippets: PathBuf,
    /// Values sampled per layer and kind.
    #[arg(long, default_value_t = DEFAULT_SAMPLES)]
    samples: usize,
    /// Whole rows kept per layer and kind.
    #[arg(long, default_value_t = DEFAULT_ROWS)]
    rows: usize,
    /// Threads running the model (the output does not depend on it); all cores when omitted.
    #[arg(long)]
    threads: Option<usize>,
}

/// Runs `dyad vectors …`.
pub(crate) fn run(args: VectorsArgs, format: Format) -> Result<u8, CliError> {
    match args.command {
        VectorsCommand::Record(args) => record(&args),
        VectorsCommand::List { vectors } => list(&vectors, format),
        VectorsCommand::Verify { vectors } => verify(&vectors),
    }
}

fn out(text: &str) -> Result<(), CliError> {
    std::io::stdout().write_all(text.as_bytes()).map_err(|e| CliError::Failed(format!("cannot write to stdout: {e}")))
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

fn record(args: &RecordArgs) -> Result<u8, CliError> {
    let start = Instant::now();
    let snippets = dyad_vectors::read_snippets(&args.snippets).map_err(CliError::usage)?;
    let snippets_bytes = std::fs::read(&args.snippets)
        .map_err(|e| CliError::usage(format!("{}: cannot read: {e}", args.snippets.display())))?;
    let positions = dyad_vectors::select(snippets.len(), args.sentences, args.seed.value).map_err(CliError::usage)?;

    let weights = args.model.join("model.safetensors");
    if !weights.exists() {
        return Err(CliError::Usage(format!(
            "{} is absent: run `bash vectors/fetch.sh` first, or give --model DIR",
            weights.display()
        )));
    }
    let bytes =
        std::fs::read(&weights).map_err(|e| CliError::usage(format!("{}: cannot read: {e}", weights.display())))?;
    let weights_sha256 = dyad_vectors::sha256_hex(&bytes);
    let config = dyad_model::bert::Config::load(&args.model.join("config.json")).map_err(CliError::usage)?;
    let model = Model::from_safetensors(config, &bytes, &weights).map_err(CliError::usage)?;
    drop(bytes);
    let tokenizer = Tokenizer::from_file(&args.model.join("vocab.txt")).map_err(CliError::usage)?;

    let spec = RecordSpec { seed: args.seed.value, samples: args.samples, rows: args.rows };
    let c = &model.config;
    let info = ModelInfo {
        name: MODEL_NAME.into(),
        package: MODEL_PACKAGE.into(),
        weights_sha256,
        layers: c.num_hidden_layers,
        hidden: c.hidden_size,
        heads: c.num_attention_heads,
        intermediate: c.intermediate_size,
        layer_norm_eps: c.layer_norm_eps,
    };
    let mut recorder = Recorder::new(spec, info).map_err(CliError::usage)?;
    let threads = match args.threads {
        Some(0) => return Err(CliError::Usage("--threads must be at least 1".into())),
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };

    // Run the model on a batch of sentences in parallel, then record them in order.
    for batch in positions.chunks(threads * 4) {
        let traces = run_batch(&model, &tokenizer, &snippets, batch, threads)?;
        for (&p, trace) in batch.iter().zip(&traces) {
            let layers: Vec<LayerActivations<'_>> = trace
                .layers
                .iter()
                .map(|l| LayerActivations {
                    scores: l.scores.view(),
                    attention_residual: l.attention_residual.view(),
                    gelu_input: l.gelu_input.view(),
                    ffn_residual: l.ffn_residual.view(),
                    hidden: l.output.view(),
                })
                .collect();
            recorder.add(snippets[p].id, &layers, trace.pooled.view()).map_err(failed)?;
        }
    }
    let source = SentenceSource {
        source: SNIPPETS_SOURCE.into(),
        sha256: dyad_vectors::sha256_hex(&snippets_bytes),
        available: snippets.len(),
    };
    let manifest = recorder.finish(&args.out, source).map_err(failed)?;
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    out(&format!(
        "recorded {} sentences ({} tokens) from seed {} in {:.1} s: {} data files, {:.1} MB, in {}\n",
        manifest.sentences.ids.len(),
        manifest.sentences.tokens,
        args.seed.value,
        start.elapsed().as_secs_f64(),
        manifest.files.len(),
        bytes as f64 / 1e6,
        args.out.display()
    ))?;
    Ok(0)
}

/// The traces of the snippets at `positions`, computed by `threads` threads, in order.
fn run_batch(
    model: &Model,
    tokenizer: &Tokenizer,
    snippets: &[dyad_vectors::Snippet],
    positions: &[usize],
    threads: usize,
) -> Result<Vec<Trace>, CliError> {
    let results: Vec<Vec<(usize, Result<Trace, String>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(positions.len()))
            .map(|t| {
                scope.spawn(move || {
                    positions
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, &p)| {
                            let s = &snippets[p];
                            let trace = model
                                .forward(&tokenizer.encode(&s.text))
                                .map_err(|e| format!("snippet {} ({:?}): {e}", s.id, s.text));
                            (i, trace)
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut traces: Vec<Option<Trace>> = (0..positions.len()).map(|_| None).collect();
    for (i, trace) in results.into_iter().flatten() {
        traces[i] = Some(trace.map_err(CliError::Failed)?);
    }
    traces.into_iter().map(|t| t.ok_or_else(|| CliError::Failed("a worker thread panicked".into()))).collect()
}

fn list(dir: &Path, format: Format) -> Result<u8, CliError> {
    let set = VectorSet::open(dir).map_err(CliError::usage)?;
    let m = set.manifest();
    let text = match format {
        Format::Table => table(m),
        Format::Json => serde_json::to_string_pretty(m).map_err(failed)? + "\n",
        Format::Yaml => serde_saphyr::to_string(m).map_err(failed)?,
    };
    out(&text)?;
    Ok(0)
}

/// The provenance, then one line per layer and kind.
fn table(m: &Manifest) -> String {
    let s = &m.sentences;
    let mut t = String::new();
    let _ = writeln!(t, "model      {} ({}), weights sha256 {}", m.model.name, m.model.package, m.model.weights_sha256);
    let _ = writeln!(
        t,
        "sentences  {} of {} ({} tokens, {}…{} per sentence), seed {}",
        s.ids.len(),
        s.available,
        s.tokens,
        s.min_tokens,
        s.max_tokens,
        m.recording.seed
    );
    let _ = writeln!(t, "source     {}", s.source);
    let _ = writeln!(t, "kept       {} samples and {} rows per layer and kind", m.recording.samples, m.recording.rows);
    let _ = writeln!(
        t,
        "\n{:>5}  {:<20} {:>10} {:>10} {:>10} {:>9} {:>8}  {:>21}  {:>19}",
        "layer", "kind", "values", "min", "max", "mean", "std", "row min … max", "row variance"
    );
    for layer in &m.layers {
        for kind in Kind::ALL {
            let Some((_, k)) = m.kind(layer.layer, kind) else { continue };
            let v = &k.values;
            let rows = k.rows.as_ref().map_or((String::new(), String::new()), |r| {
                (format!("{:.2} … {:.2}", r.min, r.max), format!("{:.3} … {:.1}", r.variance_min, r.variance_max))
            });
            let _ = writeln!(
                t,
                "{:>5}  {:<20} {:>10} {:>10.3} {:>10.3} {:>9.3} {:>8.3}  {:>21}  {:>19}",
                layer.layer,
                kind.name(),
                v.count,
                v.min,
                v.max,
                v.mean,
                v.std,
                rows.0,
                rows.1
            );
        }
    }
    let _ = writeln!(t, "\nsoftmax_input values are x − max(row); its rows are the raw scores.");
    t
}

fn verify(dir: &Path) -> Result<u8, CliError> {
    let set = VectorSet::open(dir).map_err(|e| match e {
        VectorsError::MissingFile { .. } | VectorsError::Io { .. } => CliError::usage(e),
        _ => failed(e),
    })?;
    let v = set.verify().map_err(failed)?;
    out(&format!(
        "ok: {} data files, {} tensors, {} bytes match {}\n",
        v.files,
        v.tensors,
        v.bytes,
        dir.join(dyad_vectors::MANIFEST_FILE).display()
    ))?;
    Ok(0)
}
