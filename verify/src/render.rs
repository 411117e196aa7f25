//! The audit as a table.

use dyad_reference::metrics::ErrorStats;
use dyad_sim::table::columns;

use crate::audit::AuditReport;

fn e(x: f64) -> String {
    format!("{x:.2e}")
}

/// The first 12 hex digits of a digest, enough to tell sets apart in a header.
fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn rms(e: &ErrorStats) -> String {
    e.weighted_rms.map_or_else(|| "-".into(), |v| format!("{v:.2e}"))
}

/// One line per protocol, layer and kind: total, approximation and fixed-point error; Softmax
/// KL and mean per-row largest error; bytes per element and rounds per call.
pub fn table(r: &AuditReport) -> String {
    let v = &r.provenance;
    let mut out = format!(
        "accuracy audit on {} activations of {} sentences ({}, sha256 {}), vectors {} (model weights sha256 {}, \
         recording seed {}), seed {}\n\
         ring Z_2^{}, {} fraction bits, {} truncation, LayerNorm ε {:e} (the model's), correlations from {}\n\
         errors against the float ideal: TOTAL = secure vs ideal, APPROX = float approximation vs ideal, FIXED = secure vs float approximation\n\
         max/mean over recorded samples or row entries; wRMS over the recorded histogram\n\n",
        v.model,
        v.sentences,
        v.sentence_source,
        short(&v.sentence_source_sha256),
        v.vectors,
        short(&v.weights_sha256),
        v.recording_seed,
        r.seed,
        r.ring_bits,
        r.frac_bits,
        r.trunc.name(),
        v.layer_norm_eps,
        match r.correlations.as_str() {
            "dealer" => "a trusted DEALER",
            "silent" => "silent OT (Ferret) between the parties",
            _ => "OT between the parties",
        }
    );
    let mut rows = vec![
        [
            "PROTOCOL",
            "LAYER",
            "KIND",
            "TOTAL max",
            "TOTAL mean",
            "TOTAL wRMS",
            "APPROX max",
            "APPROX wRMS",
            "FIXED max",
            "KL mean",
            "ROW max mean",
            "JUMP",
            "OUT-OF-DOMAIN",
            "B/ELEM",
            "ROUNDS",
            "VERDICT",
            "NOTE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for x in &r.entries {
        let er = &x.errors;
        rows.push(vec![
            x.protocol.clone(),
            x.layer.to_string(),
            x.kind.clone(),
            e(er.total.max_abs),
            e(er.total.mean_abs),
            rms(&er.total),
            e(er.approximation.max_abs),
            rms(&er.approximation),
            e(er.fixed_point.max_abs),
            x.softmax.as_ref().map_or_else(|| "-".into(), |s| e(s.kl_mean)),
            x.softmax.as_ref().map_or_else(|| "-".into(), |s| e(s.row_max_abs_mean)),
            x.jump
                .as_ref()
                .filter(|j| j.size > 1e-6)
                .map_or_else(|| "-".into(), |j| format!("{:.3} at {}", j.size, j.at)),
            format!("{:.2}%", 100.0 * x.outside_domain),
            format!("{:.1}", x.cost.bytes_per_element),
            x.cost.rounds.to_string(),
            if x.verdict.passed { "ok".into() } else { "FAIL".into() },
            x.note.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&columns(&rows));
    if r.entries.iter().any(|x| x.cost.dealer) {
        out.push_str("\ncorrelated randomness came from a trusted DEALER; bytes are online traffic only\n");
    }
    for why in &r.not_audited {
        out.push_str(&format!("not audited: {why}\n"));
    }
    out.push_str(
        "VERDICT: on the inputs inside the documented domain, the secure output within the protocol's tolerance \
         of its fixed-point reference, and within its documented accuracy (plus that tolerance) of the ideal; \
         no more inputs outside that domain, and no more truncations at or beyond 2^(ℓ−2) in the reference, than \
         --max-outside allows (none by default)\n",
    );
    for x in r.entries.iter().filter(|x| !x.verdict.passed) {
        let v = &x.verdict;
        out.push_str(&format!(
            "FAIL {} layer {} {}: on {} inputs in [{:.3}, {:.3}], {} ULPs from the reference (tolerance {}), \
             {:.3e} from the ideal (bound {:.3e}); {:.2}% of the inputs outside that domain, {} truncations at or \
             beyond 2^{} in the reference\n",
            x.protocol,
            x.layer,
            x.kind,
            v.inputs_in_domain,
            v.domain.0,
            v.domain.1,
            v.max_ulp,
            v.tolerance_ulp,
            v.max_abs,
            v.bound,
            100.0 * x.outside_domain,
            v.beyond_truncation_domain,
            r.ring_bits - 2
        ));
    }
    out
}
