//! Plain-text tables of costs, claims and regression diffs.

use crate::claims::ClaimCheck;
use crate::cost::ProtocolCost;
use crate::regress::Diff;
use dyad_sim::table::columns;

fn mb(bytes: u64) -> String {
    format!("{:.3}", bytes as f64 / 1e6)
}

/// One row per protocol and phase, then one per label of the online phase.
pub fn costs(costs: &[ProtocolCost], labels: bool) -> String {
    let profiles: Vec<String> =
        costs.first().map(|c| c.estimates.iter().map(|e| e.profile.clone()).collect()).unwrap_or_default();
    let mut head: Vec<String> =
        ["PROTOCOL", "DIMS", "PHASE", "LABEL", "MB S→C", "MB C→S", "MSGS", "ROUNDS", "SERVER s", "CLIENT s"]
            .map(String::from)
            .to_vec();
    head.extend(profiles.iter().map(|p| format!("{} s", p.to_uppercase())));
    let mut rows = vec![head];
    for c in costs {
        for ph in &c.cost.phases {
            let mut scopes = vec![(true, "(all)".to_string(), &ph.counts, &ph.compute)];
            if labels {
                scopes.extend(ph.labels.iter().map(|l| (false, l.label.clone(), &l.counts, &l.compute)));
            }
            for (whole, label, k, t) in scopes {
                let mut row = vec![
                    c.protocol.clone(),
                    format!("{:?}", c.dims),
                    ph.phase.to_string(),
                    label,
                    mb(k.bytes_server_to_client),
                    mb(k.bytes_client_to_server),
                    k.messages().to_string(),
                    k.rounds.to_string(),
                    format!("{:.3}", t.server_seconds),
                    format!("{:.3}", t.client_seconds),
                ];
                // The estimates are of the whole online phase: its (all) row only.
                if ph.phase == dyad_sim::Phase::Online && whole {
                    row.extend(c.estimates.iter().map(|e| format!("{:.3}", e.online_seconds)));
                }
                rows.push(row);
            }
        }
    }
    let mut out = columns(&rows);
    if costs.iter().any(|c| c.cost.dealer_used) {
        out.push_str(
            "offline correlated randomness came from a trusted DEALER; estimates cover the online phase only\n",
        );
    }
    if let Some(bad) = costs.iter().find(|c| !c.passed) {
        out.push_str(&format!("WARNING: {} failed its correctness check at these shapes\n", bad.protocol));
    }
    out
}

/// The claims view.
pub fn claims(checks: &[ClaimCheck]) -> String {
    let mut rows = vec![
        ["PAPER", "COMPARISON", "CLAIMED", "BYTES RATIO", "PROFILE", "TIME RATIO", "NETWORK RATIO", "REPRODUCED"]
            .map(String::from)
            .to_vec(),
    ];
    for c in checks {
        let claimed = if c.claim.low == c.claim.high {
            format!("{:.2}×", c.claim.low)
        } else {
            format!("{:.1}–{:.1}×", c.claim.low, c.claim.high)
        };
        for p in &c.profiles {
            rows.push(vec![
                c.claim.paper.clone(),
                c.claim.what.clone(),
                claimed.clone(),
                format!("{:.2}×", c.bytes_ratio),
                p.profile.clone(),
                format!("{:.2}×", p.time_ratio),
                format!("{:.2}×", p.network_ratio),
                if p.reproduced { "yes" } else { "no" }.into(),
            ]);
        }
    }
    let mut out = columns(&rows);
    for c in checks {
        out.push_str(&format!("note on {}: {}\n", c.claim.what, c.claim.caveat));
    }
    out
}

/// The regression diff.
pub fn diff(d: &Diff) -> String {
    let mut out = String::new();
    if d.settings_differ {
        out.push_str("the baseline was measured at other settings (shape, ring or truncation): rerun with --update\n");
        return out;
    }
    for (title, list) in [("INCREASED (the gate fails)", &d.increases), ("decreased", &d.decreases)] {
        if list.is_empty() {
            continue;
        }
        out.push_str(&format!("{title}:\n"));
        let mut rows = vec![["PROTOCOL", "PHASE", "LABEL", "COUNT", "BASELINE", "NOW"].map(String::from).to_vec()];
        rows.extend(list.iter().map(|c| {
            vec![
                c.protocol.clone(),
                c.phase.clone(),
                c.label.clone(),
                c.field.clone(),
                c.before.to_string(),
                c.after.to_string(),
            ]
        }));
        out.push_str(&columns(&rows));
    }
    for (title, list) in [("not in the baseline", &d.new), ("in the baseline but gone", &d.gone)] {
        if !list.is_empty() {
            out.push_str(&format!("{title}: {}\n", list.join(", ")));
        }
    }
    if out.is_empty() {
        out.push_str("every count matches the baseline\n");
    }
    out
}
