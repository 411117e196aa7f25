//! The papers' claimed speed-ups next to the ratios measured here for the same pairs.
//!
//! A ratio is the baseline's estimated time over the proposal's, under each network profile (see
//! [`crate::network`]), and also the ratio of bytes and of network time alone (rounds and bytes,
//! without this implementation's compute).
//!
//! Under a dealer only the online phase is compared: the offline material is a dealer's, not
//! traffic between the parties. Under a provider the parties run themselves (`ot`), the offline
//! phase is what each query pays before its input arrives, and the comparison is per query,
//! offline plus online: Nimbus's and BumbleBee's measured times include generating their OTs.
//! A claim counts as reproduced under a profile when the time ratio on that basis reaches the
//! low end of the claimed range.

use serde::{Deserialize, Serialize};

use dyad_sim::Phase;

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

/// A protocol the correlation provider could not serve at the shapes measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The protocol.
    pub protocol: String,
    /// Why (the provider's own message).
    pub reason: String,
}

/// A claim left unchecked because one of its protocols was refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unchecked {
    /// The claim.
    pub claim: Claim,
    /// The refusal that leaves it unchecked (the first, if several).
    pub refused: Refusal,
}

/// The claims that `refused` leaves unchecked.
pub fn unchecked(refused: &[Refusal]) -> Vec<Unchecked> {
    claims()
        .into_iter()
        .filter_map(|claim| {
            let refused = refused
                .iter()
                .find(|r| claim.proposal.iter().chain(&claim.baseline).any(|n| *n == r.protocol))?
                .clone();
            Some(Unchecked { claim, refused })
        })
        .collect()
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
    /// The correlation provider both sides ran under.
    pub correlations: String,
    /// What [`ProfileCheck::reproduced`] judges: `online` under a dealer, `per query` (offline
    /// plus online) otherwise.
    pub basis: Basis,
    /// Baseline online bytes over the proposal's.
    pub bytes_ratio: f64,
    /// Baseline offline plus online bytes over the proposal's (absent under a dealer).
    pub per_query_bytes_ratio: Option<f64>,
    /// Per profile.
    pub profiles: Vec<ProfileCheck>,
}

/// The phases a claim's verdict compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The online phase alone.
    Online,
    /// The offline phase and the online one.
    PerQuery,
}

impl Basis {
    /// The name the views print.
    pub const fn name(self) -> &'static str {
        match self {
            Basis::Online => "online",
            Basis::PerQuery => "per query (offline + online)",
        }
    }
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
    /// Baseline estimated offline plus online time over the proposal's (absent under a dealer).
    pub per_query_time_ratio: Option<f64>,
    /// The same ratio of network time alone.
    pub per_query_network_ratio: Option<f64>,
    /// Whether the time ratio on the claim's [`Basis`] reaches the claim's low end.
    pub reproduced: bool,
}

fn total<'a>(costs: &'a [ProtocolCost], names: &[String]) -> Option<Vec<&'a ProtocolCost>> {
    names.iter().map(|n| costs.iter().find(|c| &c.protocol == n)).collect()
}

/// The baseline's sum over the proposal's.
fn ratio(baseline: &[&ProtocolCost], proposal: &[&ProtocolCost], of: impl Fn(&ProtocolCost) -> f64) -> f64 {
    let sum = |cs: &[&ProtocolCost]| cs.iter().map(|c| of(c)).sum::<f64>();
    sum(baseline) / sum(proposal).max(1e-12)
}

/// Both sides' ratio of an optional figure, when every protocol has it.
fn ratio_of_all(
    baseline: &[&ProtocolCost],
    proposal: &[&ProtocolCost],
    of: impl Fn(&ProtocolCost) -> Option<f64>,
) -> Option<f64> {
    let all = |cs: &[&ProtocolCost]| cs.iter().map(|c| of(c)).sum::<Option<f64>>();
    Some(all(baseline)? / all(proposal)?.max(1e-12))
}

/// Checks every claim whose protocols were measured.
pub fn check(costs: &[ProtocolCost]) -> Vec<ClaimCheck> {
    let mut out = Vec::new();
    for claim in claims() {
        let (Some(ours), Some(theirs)) = (total(costs, &claim.proposal), total(costs, &claim.baseline)) else {
            continue;
        };
        let sides = || ours.iter().chain(&theirs);
        let dealer_used = sides().any(|c| c.cost.dealer_used);
        let mut providers: Vec<&str> = sides().map(|c| c.cost.correlations.as_str()).collect();
        providers.dedup();
        let correlations = providers.join("+");
        let online_bytes = |c: &ProtocolCost| c.cost.phase_counts(Phase::Online).bytes() as f64;
        let per_query_bytes = |c: &ProtocolCost| online_bytes(c) + c.cost.phase_counts(Phase::Offline).bytes() as f64;
        let bytes_ratio = ratio(&theirs, &ours, online_bytes);
        let per_query_bytes_ratio = (!dealer_used).then(|| ratio(&theirs, &ours, per_query_bytes));
        let basis = if dealer_used { Basis::Online } else { Basis::PerQuery };
        let profiles = ours
            .first()
            .map(|c| c.estimates.iter().map(|e| e.profile.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|profile| {
                let estimate = |c: &ProtocolCost| c.estimates.iter().find(|e| e.profile == profile).cloned();
                let of = |f: fn(&Estimate) -> f64| move |c: &ProtocolCost| estimate(c).map_or(0.0, |e| f(&e));
                let of_all = |f: fn(&Estimate) -> Option<f64>| move |c: &ProtocolCost| estimate(c).and_then(|e| f(&e));
                let time_ratio = ratio(&theirs, &ours, of(|e| e.online_seconds));
                let network_ratio = ratio(&theirs, &ours, of(|e| e.network_seconds));
                let per_query_time_ratio =
                    (!dealer_used).then(|| ratio_of_all(&theirs, &ours, of_all(|e| e.per_query_seconds))).flatten();
                let per_query_network_ratio = (!dealer_used)
                    .then(|| ratio_of_all(&theirs, &ours, of_all(|e| e.per_query_network_seconds)))
                    .flatten();
                let judged = match basis {
                    Basis::Online => Some(time_ratio),
                    Basis::PerQuery => per_query_time_ratio,
                };
                ProfileCheck {
                    profile,
                    time_ratio,
                    network_ratio,
                    per_query_time_ratio,
                    per_query_network_ratio,
                    reproduced: judged.is_some_and(|r| r >= claim.low),
                }
            })
            .collect();
        out.push(ClaimCheck { claim, correlations, basis, bytes_ratio, per_query_bytes_ratio, profiles });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_protocol_leaves_exactly_its_claims_unchecked() {
        let refusal = |p: &str| Refusal { protocol: p.into(), reason: "too large".into() };
        let proposals = |p: &str| -> Vec<String> {
            unchecked(&[refusal(p)]).into_iter().map(|u| u.claim.proposal.join(" + ")).collect()
        };
        // Counted by hand from the list above: PUMA's GELU is the baseline of four designs,
        // BumbleBee's layer of two freeDiv claims.
        assert_eq!(
            proposals("bumblebee.gelu"),
            ["nimbus.gelu_example", "nimbus.gelu_example_small", "nimbus.gelu", "nimbus.gelu_small"]
        );
        assert_eq!(proposals("layer.bumblebee"), ["layer.freediv_softmax", "layer.freediv_2quad"]);
        assert_eq!(proposals("layer.freediv_softmax"), ["layer.freediv_softmax"]);
        assert!(proposals("matmul").is_empty(), "no claim compares matmul");
        let both = unchecked(&[refusal("layer.freediv_2quad"), refusal("layer.bumblebee")]);
        assert_eq!(both.len(), 2);
        assert_eq!(both[1].refused.protocol, "layer.freediv_2quad", "the first listed refusal the claim involves");
    }
}
