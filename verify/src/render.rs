//! The audit as a table.

use dyad_reference::metrics::ErrorStats;
use dyad_sim::table::columns;

use crate::audit::AuditReport;

fn e(x: f64) -> String {
    format!("{x:.2e}")
}

fn rms(e: &ErrorStats) -> String {
    e.weighted_rms.map_or_else(|| "-".into(), |v| format!("{v:.2e}"))
}

/// One line per protocol, layer and kind: total, approximation and fixed-point error; Softmax
/// KL and mean per-row largest error; bytes per element and rounds per call.
pub fn table(r: &AuditReport) -> String {
    let mut out = format!(
        "accuracy audit on {} activations of {} sentences, ring Z_2^{}, {} fraction bits, {} truncation\n\
         errors against the float ideal: TOTAL = secure vs ideal, APPROX = float approximation vs ideal, FIXED = secure vs float approximation\n\
         max/mean over recorded samples or row entries; wRMS over the recorded histogram\n\n",
        r.model,
        r.sentences,
        r.ring_bits,
        r.frac_bits,
        r.trunc.name()
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
            x.note.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&columns(&rows));
    if r.entries.iter().any(|x| x.cost.dealer) {
        out.push_str("\ncorrelated randomness came from a trusted DEALER; bytes are online traffic only\n");
    }
    out
}
