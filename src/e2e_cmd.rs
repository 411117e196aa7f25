//! `dyad e2e`: secure inference of the whole MiniLM on real sentences with a protocol suite.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::ValueEnum;
use dyad_distill::Manifest;
use dyad_model::bert::{Model, Tokenizer};
use dyad_model::encoder::Suite;
use dyad_model::layers::linear::LinearKind;
use dyad_model::registry::Registry;
use dyad_sim::Role;
use dyad_verify::e2e::apart::run_apart;
use dyad_verify::e2e::{E2eError, E2eSpec, render, run};
use indicatif::{ProgressBar, ProgressStyle};

use crate::apart::ApartArgs;
use crate::args::{Arith, Correlated, Format, Private, Seed, Timeout};
use crate::error::CliError;
use crate::output::emit;

/// Which linear layers to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum LinearChoice {
    /// The suite's own RLWE protocol (COP for nimbus, SIP otherwise): real homomorphic encryption.
    He,
    /// Matrix triples from the trusted dealer: the same ±1-ULP products, fast enough for hundreds
    /// of sentences.
    Dealer,
}

/// Arguments of `dyad e2e`.
#[derive(Debug, clap::Args)]
pub(crate) struct E2eArgs {
    /// Suite: nimbus, bumblebee, freediv-softmax, freediv-2quad, plaintext-fixed, or a YAML file.
    #[arg(long, default_value = "nimbus")]
    suite: String,
    /// Test sentences to run securely.
    #[arg(long, default_value_t = 20)]
    sentences: usize,
    /// Training sentences for the sentiment probe (plaintext).
    #[arg(long, default_value_t = 1000)]
    train: usize,
    /// Linear layers.
    #[arg(long, value_enum, default_value_t = LinearChoice::Dealer)]
    linear: LinearChoice,
    #[command(flatten)]
    arith: Arith,
    #[command(flatten)]
    seed: Seed,
    #[command(flatten)]
    correlations: Correlated,
    #[command(flatten)]
    private: Private,
    /// The fetched model (see vectors/fetch.sh): the teacher when --weights is given.
    #[arg(long, default_value_os_t = dyad_vectors::model_dir())]
    model: PathBuf,
    /// A distilled student written by `dyad distill` for this suite: the secure run uses its
    /// weights, leaves its training sentences out, and is compared with the plaintext student
    /// and the teacher.
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    apart: ApartArgs,
    #[command(flatten)]
    timeout: Timeout,
}

/// Runs `dyad e2e`, the suite's slots filled from `registry`.
pub(crate) fn run_e2e(args: E2eArgs, registry: &Registry, format: Format) -> Result<u8, CliError> {
    if args.sentences == 0 {
        return Err(CliError::Usage("--sentences 0: the run needs at least one test sentence".into()));
    }
    let suite = Suite::named(&args.suite).map_err(CliError::usage)?;
    let slots = suite.resolve(registry).map_err(CliError::usage)?;
    let fixed = args.arith.fixed()?;
    // A slot that cannot compute at this format (a small ring as wide as the run's, an f′ its
    // pieces overflow) says so before the model loads.
    let gelu: &dyn dyad_protocols::Protocol = slots.gelu.as_ref();
    for p in [slots.attention.as_ref() as &dyn dyad_protocols::Protocol, gelu] {
        p.inputs(&p.default_dims(), fixed).map_err(CliError::usage)?;
    }
    let endpoint = args.apart.endpoint()?;
    let role = endpoint.as_ref().map(|e| e.role);
    if role.is_some() && suite.reference {
        return Err(CliError::Usage(format!("--party: suite {} runs in the clear, with no second party", suite.name)));
    }
    // A student's manifest and teacher are checked before the model loads.
    let manifest = match &args.weights {
        Some(dir) => Some(student_manifest(dir, &suite.name, &args.model)?),
        None => None,
    };
    // The client of a run apart holds its input's embeddings, never the encoder's weights.
    let load = if role == Some(Role::Client) { Model::load_embeddings } else { Model::load };
    let model = load(&args.model)
        .map_err(|e| CliError::usage(format!("{e} (run `bash vectors/fetch.sh` to fetch the model)")))?;
    let tok = Tokenizer::from_file(&args.model.join("vocab.txt")).map_err(CliError::usage)?;
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).map_err(CliError::usage)?;
    let (student, exclude) = match (&args.weights, manifest) {
        // The client of a run apart needs only the training sentences, to leave them out.
        (Some(dir), Some(m)) if role != Some(Role::Client) => {
            (Some(Arc::new(Model::load(dir).map_err(CliError::usage)?)), m.training_snippets)
        }
        (_, Some(m)) => (None, m.training_snippets),
        (_, None) => (None, Vec::new()),
    };
    let spec = E2eSpec {
        suite,
        linear: match args.linear {
            LinearChoice::He => None,
            LinearChoice::Dealer => Some(LinearKind::Dealer),
        },
        sentences: args.sentences,
        train: args.train,
        fixed,
        trunc: args.arith.trunc(),
        seed: args.seed.value,
        correlations: args.correlations.value(),
        secrets: args.private.value(),
        // 600 s apart too: the server checks the model in the clear and trains the probe while
        // the client waits for the report.
        recv_timeout: Some(args.timeout.value(false)),
        student,
        exclude,
    };
    let bar = ProgressBar::new(args.sentences as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} sentences {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut progress = |done: usize, _: usize| bar.set_position(done as u64);
    let report = match endpoint {
        Some(endpoint) => {
            let transport = endpoint.connect(spec.recv_timeout.unwrap_or_default())?;
            run_apart(endpoint.role, transport, &model, &tok, &snippets, &spec, registry, &mut progress)
        }
        None => run(&model, &tok, &snippets, &spec, registry, &mut progress),
    }
    .map_err(|e| match e {
        E2eError::Sentences { .. } | E2eError::Domain { .. } => CliError::usage(e),
        E2eError::Apart(e) => e.into(),
        other => CliError::Failed(other.to_string()),
    })?;
    bar.finish_and_clear();
    emit(format, &report, || render(&report))?;
    Ok(0)
}

/// The manifest of the student in `dir`, checked to be of `suite` and distilled from the teacher
/// in `model`.
fn student_manifest(dir: &Path, suite: &str, model: &Path) -> Result<Manifest, CliError> {
    let manifest = Manifest::read(dir).map_err(|e| CliError::Usage(format!("--weights: {e}")))?;
    if manifest.suite != suite {
        return Err(CliError::Usage(format!(
            "--weights {}: a student of suite {}, not of --suite {suite}",
            dir.display(),
            manifest.suite
        )));
    }
    let teacher = model.join("model.safetensors");
    let bytes = std::fs::read(&teacher).map_err(|e| CliError::Usage(format!("{}: {e}", teacher.display())))?;
    if dyad_vectors::sha256_hex(&bytes) != manifest.teacher_sha256 {
        return Err(CliError::Usage(format!(
            "--weights {}: distilled from a teacher whose sha256 is {}, not {}",
            dir.display(),
            manifest.teacher_sha256,
            teacher.display()
        )));
    }
    Ok(manifest)
}
