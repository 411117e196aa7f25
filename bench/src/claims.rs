//! The papers' claimed speed-ups next to the ratios measured here for the same pairs.
//!
//! A ratio is the baseline's estimated online time over the proposal's, under each network
//! profile (see [`crate::network`]), and also the ratio of online bytes and of network time
//! alone (rounds and bytes, without this implementation's compute). A claim counts as
//! reproduced under a profile when the measured time ratio reaches the low end of the claimed
//! range.

use serde::{Deserialize, Serialize};

use crate::cost::{Estimate, ProtocolCost};

/// One claim of a paper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// Who claims it.
    pub paper: String,
    /// What is compared.
    pub what: String,
    /// The proposal's protocols (their times add up).
    pub proposal: Vec<String>,
    /// The baseline's protocols.
    pub baseline: Vec<String>,
    /// Claimed speed-up, low end.
    pub low: f64,
    /// Claimed speed-up, high end.
    pub high: f64,
    /// How the measured pair differs from what the paper measured.
    pub caveat: String,
}

/// The claims checked by `dyad cost --claims`.
pub fn claims() -> Vec<Claim> {
    let c = |paper: &str, what: &str, proposal: &[&str], baseline: &[&str], low: f64, high: f64, caveat: &str| Claim {
        paper: paper.into(),
        what: what.into(),
        proposal: proposal.iter().map(|s| s.to_string()).collect(),
        baseline: baseline.iter().map(|s| s.to_string()).collect(),
        low,
        high,
        caveat: caveat.into(),
    };
    let nimbus_design = |what: &str, design: &str, proposal: &str, baseline: &str| {
        [
            c(
                "Nimbus (NeurIPS 2024)",
                what,
                &[proposal],
                &[baseline],
                2.9,
                4.0,
                &format!("{design}; everything in the run's ring, without Nimbus's small ring"),
            ),
            c(
                "Nimbus (NeurIPS 2024)",
                what,
                &[&format!("{proposal}_small")],
                &[baseline],
                2.9,
                4.0,
                &format!(
                    "{design}; in Nimbus's small ring Z_2^32 with the truncation fused into the down-cast, \
                     the baseline in the run's ring"
                ),
            ),
        ]
    };
    let mut out = vec![c(
        "Nimbus (NeurIPS 2024)",
        "linear layer, COP vs SIP",
        &["nimbus.linear"],
        &["bumblebee.linear"],
        2.9,
        12.5,
        "both over the same RLWE parameters; the SIP response is packed with Galois keys as in BumbleBee",
    )];
    out.extend(nimbus_design(
        "GELU vs PUMA/BumbleBee",
        "public example coefficients (0 | quadratic | x, 2 comparisons)",
        "nimbus.gelu_example",
        "bumblebee.gelu",
    ));
    out.extend(nimbus_design(
        "GELU vs PUMA/BumbleBee",
        "Dyad's refit on MiniLM (0 | quartic | quartic | x, 3 comparisons)",
        "nimbus.gelu",
        "bumblebee.gelu",
    ));
    out.extend(nimbus_design(
        "Softmax vs BumbleBee",
        "public example exp (0 | cubic, 1 comparison per score); one reciprocal per row in both",
        "nimbus.softmax_example",
        "bumblebee.softmax",
    ));
    out.extend(nimbus_design(
        "Softmax vs BumbleBee",
        "Dyad's refit exp on MiniLM (0 | cubic | cubic, 2 comparisons per score); one reciprocal per row in both",
        "nimbus.softmax",
        "bumblebee.softmax",
    ));
    out.extend([
        c(
            "freeDiv (JCRD 2024)",
            "encoder layer: Softmax freeDiv attention + Quad GeLU vs Softmax attention + PUMA GELU",
            &["layer.freediv_softmax"],
            &["layer.bumblebee"],
            2.26,
            2.26,
            "one encoder layer (the paper's 2.26× is 12 of them end to end, on SPU over LAN); both with SIP linear layers",
        ),
        c(
            "freeDiv (JCRD 2024)",
            "encoder layer: 2Quad freeDiv attention + Quad GeLU vs Softmax attention + PUMA GELU",
            &["layer.freediv_2quad"],
            &["layer.bumblebee"],
            2.26,
            2.26,
            "one encoder layer (the paper's 2.26× is 12 of them end to end, on SPU over LAN); both with SIP linear layers",
        ),
        c(
            "freeDiv (JCRD 2024)",
            "attention block + FFN block: Softmax freeDiv attention + Quad GeLU FFN vs Softmax attention + PUMA GELU FFN",
            &["attention.softmax_freediv", "ffn.freediv"],
            &["attention.bumblebee", "ffn.bumblebee"],
            2.26,
            2.26,
            "one attention block plus one FFN block; the linear layers of the FFN are included, those of attention are not",
        ),
    ]);
    out
}

/// A claim against the measurements.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimCheck {
    /// The claim.
    pub claim: Claim,
    /// Baseline online bytes over the proposal's.
    pub bytes_ratio: f64,
    /// Per profile.
    pub profiles: Vec<ProfileCheck>,
}

/// A claim under one profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileCheck {
    /// Profile name.
    pub profile: String,
    /// Baseline estimated online time over the proposal's.
    pub time_ratio: f64,
    /// The same ratio of network time alone (rounds and bytes, no compute).
    pub network_ratio: f64,
    /// Whether the time ratio reaches the claim's low end.
    pub reproduced: bool,
}

fn total<'a>(costs: &'a [ProtocolCost], names: &[String]) -> Option<Vec<&'a ProtocolCost>> {
    names.iter().map(|n| costs.iter().find(|c| &c.protocol == n)).collect()
}

/// Checks every claim whose protocols were measured.
pub fn check(costs: &[ProtocolCost]) -> Vec<ClaimCheck> {
    let mut out = Vec::new();
    for claim in claims() {
        let (Some(ours), Some(theirs)) = (total(costs, &claim.proposal), total(costs, &claim.baseline)) else {
            continue;
        };
        let bytes = |cs: &[&ProtocolCost]| {
            cs.iter().map(|c| c.cost.phase_counts(dyad_sim::Phase::Online).bytes() as f64).sum::<f64>()
        };
        let bytes_ratio = bytes(&theirs) / bytes(&ours).max(1.0);
        let profiles = ours
            .first()
            .map(|c| c.estimates.iter().map(|e| e.profile.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|profile| {
                let sum = |cs: &[&ProtocolCost], of: fn(&Estimate) -> f64| {
                    cs.iter().flat_map(|c| c.estimates.iter().filter(|e| e.profile == profile).map(of)).sum::<f64>()
                };
                let ratio = |of: fn(&Estimate) -> f64| sum(&theirs, of) / sum(&ours, of).max(1e-12);
                let time_ratio = ratio(|e| e.online_seconds);
                let network_ratio = ratio(|e| e.network_seconds);
                ProfileCheck { profile, time_ratio, network_ratio, reproduced: time_ratio >= claim.low }
            })
            .collect();
        out.push(ClaimCheck { claim, bytes_ratio, profiles });
    }
    out
}
