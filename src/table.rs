//! Plain-text tables.

use dyad_protocols::harness::RunReport;
use dyad_sim::CostReport;
use dyad_sim::table::columns;
use serde::Serialize;

/// One line of `dyad list`.
#[derive(Debug, Serialize)]
pub(crate) struct ListEntry {
    /// Stable name.
    pub name: String,
    /// Where it comes from.
    pub paper: String,
    /// What it computes.
    pub computes: String,
}

/// `dyad list`.
pub(crate) fn list(entries: &[ListEntry]) -> String {
    let mut rows = vec![vec!["NAME".to_string(), "COMPUTES".into(), "FROM".into()]];
    rows.extend(entries.iter().map(|e| vec![e.name.clone(), e.computes.clone(), e.paper.clone()]));
    columns(&rows)
}

/// The cost report as a table: one row per phase and label.
pub(crate) fn cost(c: &CostReport) -> String {
    let mut rows = vec![
        [
            "PHASE",
            "LABEL",
            "BYTES S→C",
            "BYTES C→S",
            "MSGS",
            "ROUNDS",
            "DEALER→S",
            "DEALER→C",
            "SERVER ms",
            "CLIENT ms",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for p in &c.phases {
        let line = |label: &str, k: &dyad_sim::Counts, t: &dyad_sim::report::ComputeTime| {
            vec![
                p.phase.to_string(),
                label.to_string(),
                k.bytes_server_to_client.to_string(),
                k.bytes_client_to_server.to_string(),
                k.messages().to_string(),
                k.rounds.to_string(),
                k.dealer_bytes_to_server.to_string(),
                k.dealer_bytes_to_client.to_string(),
                format!("{:.3}", t.server_seconds * 1e3),
                format!("{:.3}", t.client_seconds * 1e3),
            ]
        };
        rows.push(line("(all)", &p.counts, &p.compute));
        rows.extend(p.labels.iter().map(|l| line(&l.label, &l.counts, &l.compute)));
    }
    let mut out = columns(&rows);
    if c.dealer_used {
        out.push_str("correlated randomness: from a trusted DEALER (offline bytes are what it hands each party)\n");
    }
    out
}

/// `dyad run`.
pub(crate) fn run_report(r: &RunReport) -> String {
    let e = &r.error;
    let mut out = format!(
        "protocol {}  shape {:?}  ring Z_2^{}  frac {}  truncation {}  seed {}\n",
        r.protocol,
        r.shape,
        r.ring_bits,
        r.frac_bits,
        r.trunc.name(),
        r.seed
    );
    out.push_str(&format!(
        "vs reference: max {} ulp (tolerance {}), max abs {:.3e}, mean abs {:.3e}\n",
        e.vs_reference.max_ulp.unwrap_or(0),
        r.tolerance_ulp,
        e.vs_reference.max_abs,
        e.vs_reference.mean_abs
    ));
    out.push_str(&format!("vs ideal:     max abs {:.3e}, mean abs {:.3e}\n", e.vs_ideal.max_abs, e.vs_ideal.mean_abs));
    out.push_str(&format!(
        "approximation (reference vs ideal): max abs {:.3e}, mean abs {:.3e}\n\n",
        e.reference_vs_ideal.max_abs, e.reference_vs_ideal.mean_abs
    ));
    out.push_str(&cost(&r.cost));
    out.push_str(if r.passed { "\nPASS\n" } else { "\nFAIL: the secure output is outside the tolerance\n" });
    out
}
