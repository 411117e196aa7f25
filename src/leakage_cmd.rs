//! `dyad leakage`: whether each party's view depends on the other party's input
//! ([`dyad_verify::leakage`]), and the self-test that shows the audit can tell.

use dyad_model::registry::Registry;
use dyad_protocols::Protocol;
use dyad_protocols::blocks::arith::Mul;
use dyad_protocols::bumblebee::elementwise_triple::{OleParams, PLAIN_PRIME_BITS};
use dyad_protocols::linear::{RlweLinear, Zeros};
use dyad_protocols::nimbus::linear::NimbusLinear;
use dyad_rlwe::keys::ETA;
use dyad_rlwe::params::{RlweContext, RlweParams, he_standard_max_log_q};
use dyad_sim::Ring;
use dyad_sim::table::columns;
use dyad_verify::leakage::fixtures::{Leak, LeakyShare};
use dyad_verify::leakage::he_error::{self, ErrorRow, ErrorSpec};
use dyad_verify::leakage::{DEFAULT_ALPHA, DEFAULT_RUNS, LeakageSpec, ProtocolLeakage, audit};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use crate::args::{Arith, Correlated, Dims, Format, Seed, parse_dims};
use crate::error::CliError;
use crate::output::emit;

/// The largest default dimension the audit uses: views stay small enough to compare bit by bit
/// over hundreds of runs.
const MAX_DIM: usize = 8;

/// Arguments of `dyad leakage`.
#[derive(Debug, clap::Args)]
pub(crate) struct LeakageArgs {
    /// Protocols to audit (every registered one when none is named).
    protocols: Vec<String>,
    /// Runs per setting: each party's view is compared over this many runs with the other
    /// inputs low in their domain and as many with them high.
    #[arg(long, default_value_t = DEFAULT_RUNS)]
    runs: usize,
    /// Dimensions, for the one protocol named (by default each protocol's own, each capped at 8).
    #[arg(long, value_parser = parse_dims)]
    shape: Option<Dims>,
    #[command(flatten)]
    arith: Arith,
    #[command(flatten)]
    seed: Seed,
    #[command(flatten)]
    correlations: Correlated,
    /// Audits four fixtures instead: a sharing masked by a narrow random range, a sharing with a
    /// side channel biased by 0.6 and the COP layer with one encryption of zero shared between
    /// its responses (as the public Nimbus code), which must all be found leaking in the
    /// server's view, and the Beaver product, which must come out clean. Exit 0 only when all
    /// four do.
    #[arg(long, conflicts_with_all = ["protocols", "shape"])]
    self_test: bool,
    /// Prints every RLWE parameter set beside the HE standard's 128-bit bound instead, and
    /// fails (exit 1) if one exceeds it.
    #[arg(long, conflicts_with_all = ["protocols", "shape", "self_test"])]
    params: bool,
    /// Measures only the HE layers' output error instead: whether the offset that decides the
    /// shares' ±1 error depends on the inputs, under the papers' encoding, Dyad's, and Dyad's with
    /// flooding (part of the report when no protocol is named). Fails (exit 1) if a flooded layer's
    /// does.
    #[arg(long, conflicts_with_all = ["protocols", "shape", "self_test", "params"])]
    he_error: bool,
}

/// The self-test's COP fixture shares one encryption of zero between this many responses...
const REUSED_CHUNK: usize = 8;

/// ...at dims (k, n, m) that give it two responses (d0 = 2048, four results to a ciphertext).
const REUSED_DIMS: [usize; 3] = [8, 4, 2048];

/// Products per setting in the HE output-error measurement.
const HE_ERROR_RUNS: usize = 3;

/// The HE layers' output error at the audit's small shape.
fn he_errors(fixed: dyad_sim::FixedPoint, seed: u64) -> Result<Vec<ErrorRow>, CliError> {
    let spec = ErrorSpec { ring: fixed.ring(), dims: (4, 16, 12), runs: HE_ERROR_RUNS, seed, alpha: DEFAULT_ALPHA };
    he_error::measure(&spec).map_err(|e| CliError::Failed(format!("HE output error: {e}")))
}

fn render_he_errors(rows: &[ErrorRow]) -> String {
    let mut table = vec![
        ["LAYER", "ENCODING", "FLOODED", "MEAN |δ| LOW", "HIGH", "MAX |δ| LOW", "HIGH", "WELCH z", "DEPENDS ON INPUTS"]
            .map(String::from)
            .to_vec(),
    ];
    for r in rows {
        table.push(vec![
            r.layer.into(),
            r.encoding.into(),
            if r.flooded { "yes" } else { "no" }.into(),
            format!("{:.1e}", r.low.mean),
            format!("{:.1e}", r.high.mean),
            format!("{:.1e}", r.low.max),
            format!("{:.1e}", r.high.max),
            format!("{:.1}", r.z),
            if r.depends { "yes" } else { "no" }.into(),
        ]);
    }
    "HE output error: δ, the decrypted value's offset from the product before rounding, measured \
     exactly; Pr[err≠0] = mean |δ| (while |δ| < 1/2). LOW: inputs below 2^(ℓ/4); HIGH: over the \
     whole ring. floor: Δ = ⌊Q/2^ℓ⌋ as the papers' code; round: round(Q·m/2^ℓ), what Dyad runs.\n"
        .to_owned()
        + &columns(&table)
}

/// One RLWE parameter set, as `--params` prints it.
#[derive(Debug, Serialize)]
struct ParamRow {
    /// The plaintext ring's width ℓ.
    ring_bits: u32,
    /// The protocols that use the set.
    used_by: &'static str,
    /// The plaintext space: Z_2^ℓ, or BFV's prime moduli t_i.
    plaintext: String,
    /// The ring degree N.
    n: usize,
    /// Bit sizes of the RNS primes (the last one is dropped by the modulus switch).
    prime_bits: Vec<u32>,
    /// log2 Q of all primes.
    log_q: f64,
    /// log2 of the dropped prime.
    log_p: f64,
    /// The secret's distribution.
    secret: &'static str,
    /// The error's distribution.
    error: String,
    /// The standard's largest log2 Q for N at 128-bit classical security (ternary secrets).
    bound: u32,
    /// bound − log2 Q.
    margin: f64,
}

/// Every parameter set the linear layers and the HE triples use, or the error of one the
/// context refuses.
fn params() -> Result<Vec<ParamRow>, CliError> {
    let failed = |ring: Ring, e: &dyn std::fmt::Display| CliError::Failed(format!("ℓ = {}: {e}", ring.bits()));
    let mut sets = Vec::new();
    for ring in [Ring::Z64, Ring::Z32] {
        for params in [RlweParams::for_ring(ring), RlweParams::flooding(ring)] {
            let ctx = RlweContext::new(params.clone()).map_err(|e| failed(ring, &e))?;
            let used_by = if params.flooding { "*.linear_flooded" } else { "nimbus.linear, bumblebee.linear" };
            sets.push((ring, used_by, format!("Z_2^{}", ring.bits()), ctx));
        }
        let ole = OleParams::new(ring).map_err(|e| failed(ring, &e))?;
        let plaintext = format!(
            "{} primes t_i of {} bits (log T = {:.1})",
            ole.plain_primes().len(),
            PLAIN_PRIME_BITS,
            ole.log_plain_product()
        );
        sets.push((ring, "element-wise triples under silent", plaintext, ole.context().clone()));
    }
    sets.into_iter()
        .map(|(ring, used_by, plaintext, ctx)| {
            let params = ctx.params();
            let bound = he_standard_max_log_q(params.n)
                .ok_or_else(|| CliError::Failed(format!("N = {} has no bound in the standard", params.n)))?;
            let last = ctx.moduli().last().map_or(0.0, |m| (m.value() as f64).log2());
            Ok(ParamRow {
                ring_bits: ring.bits(),
                used_by,
                plaintext,
                n: params.n,
                prime_bits: params.prime_bits.clone(),
                log_q: ctx.log_q(),
                log_p: last,
                secret: "uniform ternary",
                error: format!("centred binomial, η = {ETA} (σ = {:.2})", (f64::from(ETA) / 2.0).sqrt()),
                bound,
                margin: f64::from(bound) - ctx.log_q(),
            })
        })
        .collect()
}

fn render_params(rows: &[ParamRow]) -> String {
    let mut table = vec![
        [
            "ℓ",
            "USED BY",
            "PLAINTEXT",
            "N",
            "PRIMES (bits)",
            "log Q",
            "log P (dropped)",
            "SECRET",
            "ERROR",
            "BOUND (128-bit)",
            "MARGIN",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        table.push(vec![
            r.ring_bits.to_string(),
            r.used_by.into(),
            r.plaintext.clone(),
            r.n.to_string(),
            r.prime_bits.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
            format!("{:.1}", r.log_q),
            format!("{:.1}", r.log_p),
            r.secret.into(),
            r.error.clone(),
            r.bound.to_string(),
            format!("{:.1}", r.margin),
        ]);
    }
    columns(&table)
        + "\nBound: HomomorphicEncryption.org security standard (2018), Table 1, classical 128-bit, ternary secrets.\n"
}

/// The report: one entry per protocol.
#[derive(Debug, Serialize)]
struct LeakageReport {
    /// What a clean protocol is wrongly called leaky with, per party, at most.
    false_positive_rate_per_party: f64,
    /// Each protocol's audit.
    protocols: Vec<ProtocolLeakage>,
    /// For `--self-test`: whether all four fixtures came out right.
    #[serde(skip_serializing_if = "Option::is_none")]
    self_test_passed: Option<bool>,
    /// The HE layers' output error, when every protocol is audited or `--he-error` is given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    he_error: Vec<ErrorRow>,
}

/// Runs `dyad leakage`.
pub(crate) fn run_leakage(args: LeakageArgs, registry: &Registry, format: Format) -> Result<u8, CliError> {
    if args.runs < 2 {
        return Err(CliError::Usage(format!("--runs {}: the comparison needs at least 2 runs per setting", args.runs)));
    }
    if args.shape.is_some() && args.protocols.len() != 1 {
        return Err(CliError::Usage("--shape: name exactly one protocol".into()));
    }
    if args.params {
        let rows = params()?;
        emit(format, &rows, || render_params(&rows))?;
        return Ok(u8::from(rows.iter().any(|r| r.margin < 0.0)));
    }
    let fixed = args.arith.fixed()?;
    if args.he_error {
        let rows = he_errors(fixed, args.seed.value)?;
        emit(format, &rows, || render_he_errors(&rows))?;
        return Ok(u8::from(!he_error::flooding_holds(&rows)));
    }
    let spec = LeakageSpec {
        runs: args.runs,
        seed: args.seed.value,
        alpha: DEFAULT_ALPHA,
        fixed,
        correlations: args.correlations.value(),
    };
    let (narrow, biased, mul) = (LeakyShare(Leak::NarrowMask), LeakyShare(Leak::BiasedBit), Mul);
    let reused = RlweLinear(NimbusLinear { zeros: Zeros::PerChunk(REUSED_CHUNK), ..NimbusLinear::default() });
    let chosen: Vec<&dyn Protocol> = if args.self_test {
        vec![&narrow, &biased, &reused, &mul]
    } else if args.protocols.is_empty() {
        registry.all()
    } else {
        args.protocols.iter().map(|n| registry.find(n).map_err(CliError::usage)).collect::<Result<_, _>>()?
    };
    let mut jobs = Vec::new();
    for p in chosen {
        let dims = match &args.shape {
            Some(d) => d.0.clone(),
            None if args.self_test && p.name() == reused.name() => REUSED_DIMS.to_vec(),
            None => small_dims(p, fixed),
        };
        p.inputs(&dims, fixed).map_err(|e| CliError::Usage(format!("{}: {e}", p.name())))?;
        jobs.push((p, dims));
    }
    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} protocols {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // One protocol per core: a run's two parties mostly take turns, so protocols side by side
    // keep both cores busy.
    let results = jobs
        .par_iter()
        .map(|(p, dims)| {
            bar.set_message(p.name());
            let r = audit(*p, Some(dims), &spec).map_err(|e| CliError::Failed(format!("{}: {e}", p.name())));
            bar.inc(1);
            r
        })
        .collect::<Result<Vec<_>, _>>()?;
    bar.finish_and_clear();
    let self_test_passed = args.self_test.then(|| {
        let caught = |r: &ProtocolLeakage| r.parties.iter().map(|r| r.leaks).collect::<Vec<_>>() == [true, false];
        caught(&results[0]) && caught(&results[1]) && caught(&results[2]) && results[3].verdict == "clean"
    });
    let he_error =
        if args.protocols.is_empty() && !args.self_test { he_errors(fixed, args.seed.value)? } else { Vec::new() };
    let report =
        LeakageReport { false_positive_rate_per_party: spec.alpha, protocols: results, self_test_passed, he_error };
    emit(format, &report, || render(&report))?;
    let failed = match report.self_test_passed {
        Some(passed) => !passed,
        None => report.protocols.iter().any(ProtocolLeakage::failed) || !he_error::flooding_holds(&report.he_error),
    };
    Ok(u8::from(failed))
}

/// `p`'s default dimensions, each capped at [`MAX_DIM`], or its defaults where the capped ones
/// are refused.
fn small_dims(p: &dyn Protocol, fixed: dyad_sim::FixedPoint) -> Vec<usize> {
    let capped: Vec<usize> = p.default_dims().iter().map(|&d| d.min(MAX_DIM)).collect();
    if p.inputs(&capped, fixed).is_ok() { capped } else { p.default_dims() }
}

fn render(report: &LeakageReport) -> String {
    let mut rows = vec![
        [
            "PROTOCOL",
            "SHAPE",
            "VIEW OF",
            "MSGS",
            "BYTES",
            "BITS TESTED",
            "MIN p",
            "BONFERRONI p",
            "WORST BIT",
            "FINDS d ≥",
            "VERDICT",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for p in &report.protocols {
        for r in &p.parties {
            let c = &r.comparison;
            let worst = match (&c.worst, c.sizes_differ) {
                (_, true) => "message sizes differ".to_owned(),
                (Some(w), false) => {
                    // Positions past the received messages are the protocol's derived features.
                    let at = match w.message.checked_sub(r.messages) {
                        Some(d) => format!("derived {d}"),
                        None => format!("msg {}", w.message),
                    };
                    format!("{at} byte {} bit {}: {:.2} vs {:.2}", w.byte, w.bit, w.low, w.high)
                }
                (None, false) => "—".to_owned(),
            };
            let verdict = match (p.opens_output, r.leaks) {
                (true, _) => "opens its output",
                (false, true) => "LEAKS",
                (false, false) => "clean",
            };
            rows.push(vec![
                p.protocol.clone(),
                p.shape.iter().map(usize::to_string).collect::<Vec<_>>().join("x"),
                r.party.to_string(),
                r.messages.to_string(),
                r.bytes.to_string(),
                c.positions.to_string(),
                format!("{:.1e}", c.min_p),
                format!("{:.1e}", c.adjusted_p),
                worst,
                format!("{:.2}", r.detectable),
                verdict.into(),
            ]);
        }
    }
    let mut out = columns(&rows);
    out.push_str(&format!(
        "\n{} runs per setting; a party's view leaks when a bit's frequency differs between the other \
         inputs low and high in their domain with Bonferroni p < {:e} (the false-positive rate per \
         protocol and party); FINDS d ≥: the difference in a bit's frequency found with probability 0.9.\n",
        report.protocols.first().map_or(0, |p| p.runs),
        report.false_positive_rate_per_party
    ));
    if let Some(passed) = report.self_test_passed {
        out.push_str(if passed {
            "self-test PASSED: the narrow mask, the biased bit and the shared encryption of zero are \
             caught in the server's view, the Beaver product is clean\n"
        } else {
            "self-test FAILED: the audit did not tell the leaky fixtures from the clean one\n"
        });
    }
    if !report.he_error.is_empty() {
        out.push('\n');
        out.push_str(&render_he_errors(&report.he_error));
    }
    out
}
